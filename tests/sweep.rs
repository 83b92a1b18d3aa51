//! Sweeps, shards, merging and the capacity planner, through the real binary.
//!
//! Every scenario here is a storm of a few thousand clients, so each run takes
//! milliseconds and the whole file a few seconds; what is tested is the batch machinery
//! (determinism, resume, partitions) and one planner answer that can be worked out by hand.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;

/// Two variants × three points × three replications of a small storm: 18 runs.
const SMALL_SWEEP: &str = r#"
seed = 3
[clients]
count = 4000
window_s = 1
profile = "peak"
[connection_servers]
count = 4
[redis]
shards = 2
[messages]
rate_per_s = 2000
[run]
horizon_s = 4
[variants.sync]
registry.strategy = "sync"
[variants.async]
registry.strategy = "async"
[sweep]
replications = 3
[sweep.parameters]
"redis.shards" = { log = [1, 8], points = 3 }
"#;

const TABLES: [&str; 4] = [
    "sweep.csv",
    "sweep-runs.csv",
    "sweep-paired.csv",
    "timeseries-bands.csv",
];

fn stormsim() -> Command {
    Command::cargo_bin("stormsim").unwrap()
}

/// Writes `text` as `<directory>/<name>.toml` and returns its path.
fn experiment(directory: &Path, name: &str, text: &str) -> PathBuf {
    let path = directory.join(format!("{name}.toml"));
    fs::write(&path, text).unwrap();
    path
}

fn sweep(file: &Path, out: &Path, extra: &[&str]) -> String {
    let output = stormsim()
        .arg("sweep")
        .arg(file)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .args(extra)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(output).unwrap()
}

fn read(directory: &Path, name: &str) -> Vec<u8> {
    fs::read(directory.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn assert_same_tables(a: &Path, b: &Path) {
    for table in TABLES {
        assert!(read(a, table) == read(b, table), "{table} differs");
    }
}

fn stored_runs(experiment_directory: &Path) -> usize {
    fs::read_dir(experiment_directory.join("runs")).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
            .count()
    })
}

mod determinism {
    use super::*;

    #[test]
    fn one_thread_and_eight_give_the_same_bytes() {
        let directory = tempfile::tempdir().unwrap();
        let file = experiment(directory.path(), "small", SMALL_SWEEP);
        let one = directory.path().join("one");
        let eight = directory.path().join("eight");
        let said = sweep(&file, &one, &["--jobs", "1"]);
        sweep(&file, &eight, &["--jobs", "8"]);

        assert!(said.contains("18 runs in the sweep"), "{said}");
        assert_same_tables(&one.join("small"), &eight.join("small"));
    }

    #[test]
    fn tables_have_one_row_per_point_and_variant_with_confidence_columns() {
        let directory = tempfile::tempdir().unwrap();
        let file = experiment(directory.path(), "small", SMALL_SWEEP);
        let out = directory.path().join("out");
        sweep(&file, &out, &["--jobs", "2"]);
        let results = out.join("small");

        let table = String::from_utf8(read(&results, "sweep.csv")).unwrap();
        let mut lines = table.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        assert_eq!(header[..3], ["variant", "redis.shards", "replications"]);
        for column in [
            "connect_p99_ms_mean",
            "connect_p99_ms_sd",
            "connect_p99_ms_ci95",
        ] {
            assert!(header.contains(&column), "{column} missing");
        }
        let keys: Vec<String> = lines
            .map(|line| line.split(',').take(3).collect::<Vec<_>>().join(","))
            .collect();
        assert_eq!(
            keys,
            [
                "sync,1,3",
                "async,1,3",
                "sync,3,3",
                "async,3,3",
                "sync,8,3",
                "async,8,3"
            ]
        );

        let runs = String::from_utf8(read(&results, "sweep-runs.csv")).unwrap();
        assert_eq!(runs.lines().count(), 1 + 18);
        let paired = String::from_utf8(read(&results, "sweep-paired.csv")).unwrap();
        assert!(
            paired.starts_with("variant,baseline,redis.shards,metric,replications,difference_mean")
        );
        assert!(paired.contains("\nasync,sync,8,connect_p99_ms,3,"));
    }
}

mod resume {
    use super::*;

    /// A storm big enough (tens of milliseconds a run) for a kill to land mid-sweep.
    fn slower_sweep() -> String {
        SMALL_SWEEP
            .replace("count = 4000", "count = 60000")
            .replace("replications = 3", "replications = 4")
    }

    #[test]
    fn a_killed_sweep_loses_no_finished_run_and_duplicates_none() {
        let directory = tempfile::tempdir().unwrap();
        let file = experiment(directory.path(), "slower", &slower_sweep());
        let out = directory.path().join("out");
        let results = out.join("slower");

        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("stormsim"))
            .arg("sweep")
            .arg(&file)
            .args(["--jobs", "1", "--quiet", "--out"])
            .arg(&out)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while stored_runs(&results) < 3 && started.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let kept = stored_runs(&results);
        assert!(
            (3..24).contains(&kept),
            "the kill came after {kept} of 24 runs"
        );
        assert!(!results.join("sweep.csv").exists());

        let said = sweep(&file, &out, &["--jobs", "2"]);
        let expected = format!("{} made now, {kept} found from before", 24 - kept);
        assert!(said.contains(&expected), "{said}");
        assert_eq!(stored_runs(&results), 24);

        let fresh = directory.path().join("fresh");
        sweep(&file, &fresh, &["--jobs", "2"]);
        assert_same_tables(&results, &fresh.join("slower"));
    }

    #[test]
    fn a_changed_setting_runs_again_and_an_unchanged_one_does_not() {
        let directory = tempfile::tempdir().unwrap();
        let file = experiment(directory.path(), "small", SMALL_SWEEP);
        let out = directory.path().join("out");
        sweep(&file, &out, &[]);

        let again = sweep(&file, &out, &[]);
        assert!(
            again.contains("0 made now, 18 found from before"),
            "{again}"
        );
        let changed = sweep(&file, &out, &["--set", "clients.count=3000"]);
        assert!(
            changed.contains("18 made now, 0 found from before"),
            "{changed}"
        );
    }
}

mod shards {
    use super::*;

    #[test]
    fn merged_shards_equal_the_single_machine_sweep() {
        let directory = tempfile::tempdir().unwrap();
        let file = experiment(directory.path(), "small", SMALL_SWEEP);
        let single = directory.path().join("single");
        sweep(&file, &single, &[]);

        let parts: Vec<PathBuf> = (0..3)
            .map(|shard| {
                let out = directory.path().join(format!("shard-{shard}"));
                let said = sweep(&file, &out, &["--shard", &format!("{shard}/3")]);
                assert!(said.contains("6 in this shard"), "{said}");
                assert!(said.contains("stormsim merge"), "{said}");
                out
            })
            .collect();

        let merged = directory.path().join("merged");
        stormsim()
            .arg("merge")
            .args(&parts)
            .arg("--out")
            .arg(&merged)
            .assert()
            .success()
            .stdout(contains("sweep 'small': 18 runs (18 copied)"));
        assert_same_tables(&merged.join("small"), &single.join("small"));
    }

    #[test]
    fn merging_without_every_shard_is_refused() {
        let directory = tempfile::tempdir().unwrap();
        let file = experiment(directory.path(), "small", SMALL_SWEEP);
        let out = directory.path().join("shard-0");
        sweep(&file, &out, &["--shard", "0/2"]);
        stormsim()
            .arg("merge")
            .arg(&out)
            .arg("--out")
            .arg(directory.path().join("merged"))
            .assert()
            .code(2)
            .stderr(contains(
                "sweep 'small' is incomplete: 9 of its runs are in no input",
            ));
        // Nothing is written for a merge that cannot be done.
        assert!(!directory.path().join("merged").exists());
    }

    #[test]
    fn shards_of_different_sweeps_are_not_merged() {
        let directory = tempfile::tempdir().unwrap();
        let file = experiment(directory.path(), "small", SMALL_SWEEP);
        let first = directory.path().join("shard-0");
        let second = directory.path().join("shard-1");
        sweep(&file, &first, &["--shard", "0/2"]);
        sweep(
            &file,
            &second,
            &["--shard", "1/2", "--set", "clients.count=3000"],
        );
        stormsim()
            .arg("merge")
            .args([&first, &second])
            .arg("--out")
            .arg(directory.path().join("merged"))
            .assert()
            .code(2)
            .stderr(contains("differ (another grid, seed, --set or version)"));
    }

    #[test]
    fn shards_sharing_a_directory_write_the_tables_when_the_last_one_ends() {
        let directory = tempfile::tempdir().unwrap();
        let file = experiment(directory.path(), "small", SMALL_SWEEP);
        let shared = directory.path().join("shared");
        sweep(&file, &shared, &["--shard", "1/2"]);
        assert!(!shared.join("small/sweep.csv").exists());
        let said = sweep(&file, &shared, &["--shard", "0/2"]);
        assert!(said.contains("results:"), "{said}");

        let single = directory.path().join("single");
        sweep(&file, &single, &[]);
        assert_same_tables(&shared.join("small"), &single.join("small"));
    }
}

mod refusals {
    use super::*;

    fn refused(file: &Path, extra: &[&str], message: &str) {
        let directory = tempfile::tempdir().unwrap();
        stormsim()
            .arg("sweep")
            .arg(file)
            .arg("--out")
            .arg(directory.path())
            .arg("--quiet")
            .args(extra)
            .assert()
            .code(2)
            .stderr(contains(message));
    }

    #[test]
    fn bad_declarations_and_flags_are_named() {
        let directory = tempfile::tempdir().unwrap();
        let typo = experiment(
            directory.path(),
            "typo",
            &SMALL_SWEEP.replace("replications = 3", "replication = 3"),
        );
        refused(&typo, &[], "key 'sweep.replication': unknown key");

        let file = experiment(directory.path(), "small", SMALL_SWEEP);
        refused(
            &file,
            &["--shard", "3/3"],
            "shard '3/3': expected I/N with 0 <= I < N",
        );
        refused(
            &file,
            &["--set", "redis.shards=4"],
            "key 'redis.shards': is varied by the sweep",
        );

        let plain = experiment(directory.path(), "plain", "[clients]\ncount = 100");
        refused(&plain, &[], "experiment 'plain' declares no sweep");
    }

    #[test]
    fn a_run_too_big_for_the_memory_is_refused_before_any_starts() {
        // Four billion asynchronous writes on one shard: a backlog of billions of 8-byte
        // queued writes, tens of GiB by the estimate, more than any machine that runs
        // these tests has free.
        let directory = tempfile::tempdir().unwrap();
        let file = experiment(directory.path(), "small", SMALL_SWEEP);
        let out = directory.path().join("out");
        stormsim()
            .arg("sweep")
            .arg(&file)
            .args([
                "--quiet",
                "--variant",
                "async",
                "--set",
                "clients.count=4000000000",
            ])
            .arg("--out")
            .arg(&out)
            .assert()
            .code(2)
            .stderr(contains("needs about").and(contains("MiB of memory available")));
        assert_eq!(stored_runs(&out.join("small")), 0);
    }
}

mod planner {
    use super::*;

    /// The hand-computable case. A storm of W = 20,000 clients arriving evenly over one
    /// second, each causing one synchronous registry write; primaries that take exactly
    /// 1 ms a write (K = 1,000 ops/s); handshakes of exactly 5 ms on servers with workers
    /// to spare; no message lookups. The service level: connect p99 within four handshake
    /// times, 20 ms.
    ///
    /// Below W/K = 20 primaries, each receives W/S > K writes a second for the whole
    /// storm, so its queue grows at W/S − K a second and the client arriving at t waits
    /// t·(W/(S·K) − 1) seconds: already at S = 19 the 99th percentile client (t ≈ 0.99 s)
    /// waits about 52 ms. From 10% above W/K (S = 22) even the busiest primary gets fewer
    /// writes than it can serve (hashed keys give each 909 ± 30 of the 20,000, and the
    /// largest of 22 such shares is about 970 < 1,000), so a write waits a few service
    /// times at most and connecting takes 5 + 1 + a few ms. The answer is therefore 20, 21
    /// or 22: W/K up to 10% more.
    const HAND_CASE: &str = r#"
seed = 1
[clients]
count = 20000
profile = "uniform"
window_s = 1
[connection_servers]
count = 8
handshake = { distribution = "deterministic", mean_us = 5000 }
[registry]
strategy = "sync"
[redis]
service = { distribution = "deterministic", mean_us = 1000 }
[messages]
rate_per_s = 0
[run]
horizon_s = 3
"#;

    fn plan(file: &Path, out: &Path, min: &str, max: &str) -> String {
        let output = stormsim()
            .arg("plan")
            .arg(file)
            .args(["--param", "redis.shards", "--min", min, "--max", max])
            .args([
                "--slo",
                "connect_p99_ms <= 20",
                "--replications",
                "3",
                "--quiet",
            ])
            .arg("--out")
            .arg(out)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        String::from_utf8(output).unwrap()
    }

    /// The two answers (on the mean, on the bound) from the planner's report.
    fn answers(said: &str) -> (String, String) {
        let line = said
            .lines()
            .find(|l| l.starts_with("variant 'base': "))
            .unwrap();
        let words: Vec<&str> = line.split_whitespace().collect();
        (words[2].to_string(), words[6].to_string())
    }

    #[test]
    fn the_answer_is_near_the_write_rate_over_a_primary_s_capacity() {
        let directory = tempfile::tempdir().unwrap();
        let file = experiment(directory.path(), "hand", HAND_CASE);
        let out = directory.path().join("out");
        let said = plan(&file, &out, "5", "80");

        let (on_mean, on_bound) = answers(&said);
        for answer in [&on_mean, &on_bound] {
            let shards: u32 = answer.parse().unwrap_or_else(|_| panic!("{said}"));
            assert!((20..=22).contains(&shards), "{said}");
        }
        assert!(!said.contains("not monotone"), "{said}");

        // Bisection over 5..=80 needs the two ends and about log2(75) ≈ 6 more values.
        let table = fs::read_to_string(out.join("hand/plan.csv")).unwrap();
        let rows: Vec<Vec<&str>> = table
            .lines()
            .skip(1)
            .map(|l| l.split(',').collect())
            .collect();
        assert!((4..=10).contains(&rows.len()), "{table}");
        let values: Vec<u32> = rows.iter().map(|r| r[1].parse().unwrap()).collect();
        assert!(
            values.windows(2).all(|w| w[0] < w[1]),
            "rows sorted by value: {table}"
        );
        assert!(values.contains(&on_mean.parse().unwrap()));
        let first_holding = rows.iter().position(|r| r[8] == "true").unwrap();
        assert!(
            rows[first_holding..].iter().all(|r| r[8] == "true"),
            "{table}"
        );
        assert!(said.contains(&format!("{} runs", rows.len() * 3)), "{said}");
    }

    #[test]
    fn a_range_that_always_or_never_holds_says_so() {
        let directory = tempfile::tempdir().unwrap();
        let file = experiment(directory.path(), "hand", HAND_CASE);
        let out = directory.path().join("out");

        let (on_mean, _) = answers(&plan(&file, &out, "30", "40"));
        assert_eq!(on_mean, "30");
        let said = plan(&file, &out, "5", "10");
        assert!(said.contains("none up to 10 on the mean"), "{said}");
    }

    #[test]
    fn a_service_level_must_name_a_summary_column() {
        let directory = tempfile::tempdir().unwrap();
        let file = experiment(directory.path(), "hand", HAND_CASE);
        stormsim()
            .arg("plan")
            .arg(&file)
            .args(["--param", "redis.shards", "--min", "1", "--max", "4"])
            .args(["--slo", "p99 <= 20"])
            .assert()
            .code(2)
            .stderr(contains(
                "service level 'p99 <= 20': the figure must be a column",
            ));
    }
}
