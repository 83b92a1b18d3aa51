//! Charts and the design-review report, through the real binary: every chart of a normal
//! run and of a degenerate one (a single client, a single time bucket, no message at all)
//! is a valid PNG and SVG of the expected size, the report names its parts, and
//! `stormsim charts` redraws everything from the CSV files alone.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::str::contains;
use stormsim::report::charts::{FULL_SIZE, TALL_SIZE};

/// A storm of a few thousand clients on one overloaded shard: queues, a miss window and
/// misses in the async variant, none of them in the sync one.
const NORMAL: &str = r#"
description = "Does a small storm draw?"
seed = 11
[clients]
count = 6000
window_s = 1
profile = "peak"
[connection_servers]
count = 4
[redis]
shards = 1
[messages]
rate_per_s = 5000
[run]
horizon_s = 3
[variants.sync]
registry.strategy = "sync"
[variants.async]
registry.strategy = "async"
"#;

/// One client, one bucket, no messages: every series is a single point or all zeros.
const DEGENERATE: &str = r#"
seed = 1
[clients]
count = 1
window_s = 1
[connection_servers]
count = 1
[redis]
shards = 1
[messages]
rate_per_s = 0
[run]
horizon_s = 1
bucket_ms = 1000
[variants.sync]
registry.strategy = "sync"
[variants.async]
registry.strategy = "async"
"#;

/// Every chart of a run and its size in pixels.
const CHARTS: [(&str, (u32, u32)); 5] = [
    ("storm", FULL_SIZE),
    ("queues", TALL_SIZE),
    ("utilization", FULL_SIZE),
    ("latency-cdf", FULL_SIZE),
    ("messages", TALL_SIZE),
];

fn stormsim() -> Command {
    Command::cargo_bin("stormsim").expect("the binary is built")
}

/// Runs `experiment` (TOML text) named `name` into `out` and returns its output directory.
fn run(out: &Path, name: &str, experiment: &str, extra: &[&str]) -> std::path::PathBuf {
    let file = out.join(format!("{name}.toml"));
    fs::write(&file, experiment).unwrap();
    stormsim()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .args(extra)
        .assert()
        .success();
    out.join(name)
}

/// Checks that every chart exists as a decodable PNG of its size, with more than a blank
/// page on it, and as an SVG of the same size.
fn assert_charts(directory: &Path) {
    for (name, (width, height)) in CHARTS {
        let png = directory.join("charts").join(format!("{name}.png"));
        let image = image::open(&png)
            .unwrap_or_else(|e| panic!("{} is not a readable PNG: {e}", png.display()))
            .to_rgb8();
        assert_eq!(image.dimensions(), (width, height), "size of {name}.png");
        let inked = image.pixels().filter(|p| p.0 != [255, 255, 255]).count();
        let share = inked as f64 / f64::from(width * height);
        assert!(
            share > 0.01,
            "{name}.png is nearly blank ({share:.4} inked)"
        );

        let svg = fs::read_to_string(directory.join("charts").join(format!("{name}.svg")))
            .unwrap_or_else(|e| panic!("{name}.svg cannot be read: {e}"));
        assert!(svg.starts_with("<svg"), "{name}.svg starts with <svg");
        assert!(svg.contains(&format!("width=\"{width}\" height=\"{height}\"")));
        assert!(svg.trim_end().ends_with("</svg>"), "{name}.svg is complete");
        assert!(svg.contains("<text"), "{name}.svg has text");
    }
}

#[test]
fn a_normal_run_draws_every_chart_and_a_report() {
    let out = tempfile::tempdir().unwrap();
    let directory = run(out.path(), "small", NORMAL, &[]);
    assert_charts(&directory);

    let markdown = fs::read_to_string(directory.join("report.md")).unwrap();
    for part in [
        "# small: design review",
        "## The question\n\n> Does a small storm draw?",
        "## The scenario",
        "| registry | sync: sync, keys per-user; async: async, 8 writers per server",
        "## The variants side by side",
        "| connect latency p99 |",
        "## Charts",
        "seed 11",
        "stormsim 0.1.0",
    ] {
        assert!(
            markdown.contains(part),
            "report.md lacks {part:?}:\n{markdown}"
        );
    }
    for (name, _) in CHARTS {
        assert!(markdown.contains(&format!("](charts/{name}.png)")));
    }

    let html = fs::read_to_string(directory.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<h2>The question</h2>"));
    assert_eq!(
        html.matches("src=\"data:image/png;base64,").count(),
        CHARTS.len()
    );
}

#[test]
fn a_degenerate_run_still_draws_every_chart() {
    let out = tempfile::tempdir().unwrap();
    let directory = run(out.path(), "tiny", DEGENERATE, &[]);
    assert_charts(&directory);
    let markdown = fs::read_to_string(directory.join("report.md")).unwrap();
    assert!(
        !markdown.contains("## The question"),
        "no description, no question"
    );
}

#[test]
fn charts_are_redrawn_from_the_csv_files_alone() {
    let out = tempfile::tempdir().unwrap();
    let directory = run(out.path(), "small", NORMAL, &["--no-charts"]);
    assert!(
        !directory.join("charts").exists(),
        "--no-charts draws nothing"
    );
    assert!(
        !directory.join("report.md").exists(),
        "--no-charts writes no report"
    );
    for variant in ["sync", "async"] {
        fs::remove_file(directory.join(variant).join("manifest.json")).unwrap();
    }

    stormsim()
        .arg("charts")
        .arg(&directory)
        .assert()
        .success()
        .stdout(contains("5 charts"));
    assert_charts(&directory);
    let markdown = fs::read_to_string(directory.join("report.md")).unwrap();
    assert!(markdown.contains("scenario hash unknown (no manifest.json)"));
    assert!(!markdown.contains("## The scenario"));
}

#[test]
fn charts_of_a_missing_directory_fail_with_its_name() {
    let out = tempfile::tempdir().unwrap();
    stormsim()
        .arg("charts")
        .arg(out.path().join("nothing-here"))
        .assert()
        .code(2)
        .stderr(contains("stormsim: error: directory"))
        .stderr(contains("holds no summary.csv, sweep.csv or plan.csv"))
        .stderr(contains("nothing-here"));
}
