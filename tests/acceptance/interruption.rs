//! An interrupted run keeps every variant that had finished: each file is written under a
//! temporary name and renamed, each variant as soon as it ends.

use std::fs;
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::common::{Scratch, check_conservation, files_under, series, summary};

/// A small variant that finishes at once, then one that takes many seconds.
const SHORT_THEN_LONG: &str = r#"
seed = 3

[clients]
count = 2000
window_s = 1

[connection_servers]
count = 4

[redis]
shards = 4

[messages]
rate_per_s = 1000

[run]
horizon_s = 2

[variants.short]
registry.strategy = "sync"

[variants.long]
registry.strategy = "async"
clients.count = 20_000_000
clients.window_s = 60
connection_servers.count = 40
redis.shards = 400
run.horizon_s = 120
"#;

/// The run under test, killed when the test ends however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

#[test]
fn a_killed_run_keeps_the_variants_it_finished() {
    let scratch = Scratch::new("interrupted", SHORT_THEN_LONG);
    let child = Command::new(env!("CARGO_BIN_EXE_stormsim"))
        .arg("run")
        .arg(scratch.experiment())
        .arg("--out")
        .arg(scratch.out())
        .args(["--quiet", "--jobs", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("stormsim starts");
    let mut run = Running(child);

    // The manifest is a variant's last file: once it is there, kill the run outright.
    let experiment = scratch.out().join("interrupted");
    let last_file = experiment.join("short/manifest.json");
    let started = Instant::now();
    while !last_file.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the short variant never ended"
        );
        assert!(
            run.0.try_wait().unwrap().is_none(),
            "the run ended on its own"
        );
        sleep(Duration::from_millis(5));
    }
    drop(run);

    // The finished variant is whole; the run as a whole is not reported as finished.
    let short = experiment.join("short");
    let row = summary(&short);
    assert_eq!(row.clients, 2000);
    check_conservation(&row, &series(&short));
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(&last_file).unwrap()).expect("a whole manifest");
    assert_eq!(manifest["variant"], "short");
    assert!(!experiment.join("summary.csv").exists());
    let unfinished: Vec<_> = files_under(&experiment)
        .into_iter()
        .filter(|path| !path.starts_with("short"))
        .collect();
    assert!(unfinished.is_empty(), "{unfinished:?}");
}
