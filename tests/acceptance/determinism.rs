//! Reproducibility: the same scenario and seed give the same bytes, whatever the number
//! of threads; and variants see the same storm (common random numbers).

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use stormsim::config::Experiment;
use stormsim::config::overrides::Override;
use stormsim::model::simulate;

use super::common::{QUICK_STORM, SHRUNK, Scratch, files_under, run_ok, series};

/// The manifest fields that describe one execution rather than the result.
const EXECUTION_FIELDS: [&str; 4] = ["wall_s", "events_per_s", "peak_rss_bytes", "command_line"];

/// Runs the shrunk quick storm (20,000 clients) into a new scratch directory.
fn run_storm(args: &[&str]) -> Scratch {
    let scratch = Scratch::empty();
    let shrunk = [&SHRUNK[..], &["--set", "clients.count=20000"], args].concat();
    run_ok(QUICK_STORM.as_ref(), &scratch.out(), &shrunk);
    scratch
}

/// The CSV files of a run, relative to its output directory.
fn csv_files(scratch: &Scratch) -> Vec<PathBuf> {
    files_under(&scratch.out())
        .into_iter()
        .filter(|path| path.extension().is_some_and(|e| e == "csv"))
        .collect()
}

fn manifest(scratch: &Scratch, variant: &str) -> Value {
    let path = scratch
        .out()
        .join("quick-storm")
        .join(variant)
        .join("manifest.json");
    serde_json::from_slice(&fs::read(path).expect("manifest.json exists")).expect("valid JSON")
}

/// Asserts that two runs wrote the same result, byte for byte but for the execution
/// fields of their manifests.
fn assert_same_results(a: &Scratch, b: &Scratch) {
    let files = csv_files(a);
    let expected: Vec<PathBuf> = [
        "quick-storm/async/latency.csv",
        "quick-storm/async/summary.csv",
        "quick-storm/async/timeseries.csv",
        "quick-storm/summary.csv",
        "quick-storm/sync/latency.csv",
        "quick-storm/sync/summary.csv",
        "quick-storm/sync/timeseries.csv",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    assert_eq!(files, expected);
    assert_eq!(csv_files(b), files);
    for file in &files {
        let read = |scratch: &Scratch| fs::read(scratch.out().join(file)).unwrap();
        assert!(read(a) == read(b), "{} differs", file.display());
    }

    for variant in ["sync", "async"] {
        let [mut left, mut right] = [manifest(a, variant), manifest(b, variant)];
        let fingerprint = left["trajectory_fingerprint"].as_str().unwrap_or_default();
        assert!(fingerprint.len() >= 16, "fingerprint '{fingerprint}'");
        for field in EXECUTION_FIELDS {
            left.as_object_mut().unwrap().remove(field);
            right.as_object_mut().unwrap().remove(field);
        }
        assert_eq!(left, right, "{variant}/manifest.json differs");
    }
}

#[test]
fn the_same_seed_gives_the_same_bytes_on_one_thread_or_two() {
    let first = run_storm(&["--jobs", "1"]);
    let again = run_storm(&["--jobs", "1"]);
    let two_threads = run_storm(&["--jobs", "2"]);

    assert_same_results(&first, &again);
    assert_same_results(&first, &two_threads);
}

#[test]
fn another_seed_gives_another_trajectory() {
    // Without this, identical fingerprints could mean a fingerprint that sees nothing.
    let first = run_storm(&["--variant", "sync"]);
    let reseeded = run_storm(&["--variant", "sync", "--seed", "8"]);
    let fingerprint =
        |scratch: &Scratch| manifest(scratch, "sync")["trajectory_fingerprint"].clone();
    assert_ne!(fingerprint(&first), fingerprint(&reseeded));
}

/// The `arrivals` column of a variant's time series.
fn arrivals(experiment_directory: &Path, variant: &str) -> Vec<u64> {
    series(&experiment_directory.join(variant))
        .iter()
        .map(|row| row.arrivals)
        .collect()
}

#[test]
fn sync_and_async_see_the_same_arrivals() {
    // 0.1 ms buckets: 6,000 over the storm's 0.6 s, a few clients each at the peak.
    let fine = ["--set", "run.bucket_ms=0.1"];
    let scratch = run_storm(&fine);
    let directory = scratch.out().join("quick-storm");
    let sync = arrivals(&directory, "sync");
    assert_eq!(sync, arrivals(&directory, "async"));

    // The comparison has teeth: another seed moves clients between buckets.
    let reseeded = run_storm(&[&fine[..], &["--seed", "8", "--variant", "sync"]].concat());
    let other = arrivals(&reseeded.out().join("quick-storm"), "sync");
    assert_eq!(other.iter().sum::<u64>(), sync.iter().sum::<u64>());
    let moved = sync.iter().zip(&other).filter(|(a, b)| a != b).count();
    assert!(moved > 1000, "only {moved} buckets differ");
}

#[test]
#[ignore = "model: offline and routed message counts are drawn per bucket from each \
            variant's own timelines, so the two variants are sent different messages"]
fn sync_and_async_send_the_same_messages() {
    // Messages draw from their own streams, so the strategy should not change how many
    // are sent, or when; only what becomes of them.
    let scratch = run_storm(&[]);
    let directory = scratch.out().join("quick-storm");
    let sent = |variant: &str| -> Vec<u64> {
        series(&directory.join(variant))
            .iter()
            .map(|row| row.messages_sent)
            .collect()
    };
    assert_eq!(sent("sync"), sent("async"));
}

#[test]
fn other_components_parameters_do_not_shift_the_arrivals() {
    // Through the library, on the quick storm: balancer, handshakes, shards and registry
    // strategy each draw from their own stream, so changing them leaves arrivals alone.
    let text = fs::read_to_string(QUICK_STORM).unwrap();
    let arrivals_with = |sets: &[&str]| {
        let overrides: Vec<Override> = [
            "clients.count=20000",
            "clients.window_s=0.6",
            "clients.peak_at_s=0.15",
            "clients.spread_s=0.06",
            "run.horizon_s=1",
            "run.bucket_ms=0.1",
            "messages.rate_per_s=0",
        ]
        .iter()
        .chain(sets)
        .map(|text| Override::parse(text).unwrap())
        .collect();
        let experiment = Experiment::parse("quick-storm", QUICK_STORM, &text, &overrides).unwrap();
        simulate(&experiment.variants[0].scenario, &mut ())
            .series
            .arrivals
    };

    let reference = arrivals_with(&[]);
    for changed in [
        "balancer.policy=round-robin",
        "connection_servers.count=3",
        "connection_servers.handshake.mean_us=900",
        "redis.shards=7",
        "redis.service.distribution=deterministic",
        "registry.strategy=async",
    ] {
        assert_eq!(arrivals_with(&[changed]), reference, "{changed}");
    }
}
