//! The whole-run benchmark: the midnight storm at several sizes, one process per run.
//!
//! Each run is the real `stormsim` binary on `experiments/midnight-storm.toml` with one
//! variant and one thread, so its manifest's peak memory is that run's own. The storm is
//! scaled with the client count so that the load per component stays that of the full
//! storm: one connection server per million clients, one Redis primary per five million,
//! and 1M messages/s per 500M clients. One CSV row per run goes to
//! `output/bench/storm.csv`:
//! `clients, variant, events, wall_s, events_per_s, peak_rss_bytes, bytes_per_client`,
//! and `estimated_bytes` with `estimate_error` (estimate over measured, minus one): how
//! far `stormsim check`'s memory estimate was from the measured peak.
//!
//! ```sh
//! cargo bench --bench storm                                  # 10M, 100M and 500M
//! STORMSIM_BENCH_CLIENTS=1000000,10000000 cargo bench --bench storm
//! ```

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const DEFAULT_CLIENTS: &str = "10000000,100000000,500000000";
const VARIANTS: [&str; 2] = ["sync", "async"];

fn main() {
    let sizes = std::env::var("STORMSIM_BENCH_CLIENTS").unwrap_or_else(|_| DEFAULT_CLIENTS.into());
    let sizes: Vec<u64> = sizes
        .split(',')
        .map(|s| {
            s.trim()
                .replace('_', "")
                .parse()
                .expect("STORMSIM_BENCH_CLIENTS: comma-separated client counts")
        })
        .collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = std::env::temp_dir().join(format!("stormsim-bench-{}", std::process::id()));

    let mut csv = String::from(
        "clients,variant,events,wall_s,events_per_s,peak_rss_bytes,bytes_per_client,estimated_bytes,estimate_error\n",
    );
    for &clients in &sizes {
        for variant in VARIANTS {
            let row = run_one(root, &scratch, clients, variant);
            eprintln!("{row}");
            csv.push_str(&row);
            csv.push('\n');
        }
    }

    let out = root.join("output/bench/storm.csv");
    fs::create_dir_all(out.parent().expect("a parent directory"))
        .expect("cannot create output/bench");
    fs::write(&out, csv).expect("cannot write output/bench/storm.csv");
    fs::remove_dir_all(&scratch).ok();
    eprintln!("wrote {}", out.display());
}

/// Runs one variant at one size and returns its CSV row.
fn run_one(root: &Path, scratch: &Path, clients: u64, variant: &str) -> String {
    let servers = (clients / 1_000_000).max(1);
    let shards = (clients / 5_000_000).max(1);
    let message_rate = clients as f64 / 500.0;
    let status = Command::new(env!("CARGO_BIN_EXE_stormsim"))
        .current_dir(root)
        .args([
            "run",
            "experiments/midnight-storm.toml",
            "--quiet",
            "--jobs",
            "1",
            "--variant",
            variant,
        ])
        .args(["--set", &format!("clients.count={clients}")])
        .args(["--set", &format!("connection_servers.count={servers}")])
        .args(["--set", &format!("redis.shards={shards}")])
        .args(["--set", &format!("messages.rate_per_s={message_rate}")])
        .arg("--out")
        .arg(scratch)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("cannot start stormsim");
    assert!(
        status.success(),
        "stormsim failed at {clients} clients, variant {variant}"
    );

    let manifest: PathBuf = scratch
        .join("midnight-storm")
        .join(variant)
        .join("manifest.json");
    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&manifest).expect("a manifest"))
            .expect("valid JSON");
    let events = manifest["events"].as_u64().unwrap_or(0);
    let wall_s = manifest["wall_s"].as_f64().unwrap_or(0.0);
    let peak_rss = manifest["peak_rss_bytes"].as_u64().unwrap_or(0);
    let estimated = manifest["estimated_memory_bytes"].as_u64().unwrap_or(0);
    format!(
        "{clients},{variant},{events},{wall_s:.3},{:.0},{peak_rss},{:.2},{estimated},{:+.3}",
        events as f64 / wall_s.max(1e-9),
        peak_rss as f64 / clients as f64,
        estimated as f64 / peak_rss.max(1) as f64 - 1.0
    )
}
