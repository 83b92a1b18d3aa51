//! What the acceptance tests share: running the binary on a scratch experiment, reading
//! the CSV files it wrote, and the checks every successful run must pass.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use stormsim::report::SummaryRow;
use stormsim::report::tables::SeriesRow;
use tempfile::TempDir;

/// The quick storm shipped with the crate.
pub const QUICK_STORM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/experiments/quick-storm.toml");

/// Shrinks the quick storm twenty times in clients and in time (window 0.6 s, peak at
/// 0.15 s, spread 0.06 s), which keeps its one Redis primary's peak load, about 330K
/// writes/s against 100K ops/s: the shards stay undersized, at a run of a second.
pub const SHRUNK: [&str; 10] = [
    "--set",
    "clients.count=50000",
    "--set",
    "clients.window_s=0.6",
    "--set",
    "clients.peak_at_s=0.15",
    "--set",
    "clients.spread_s=0.06",
    "--set",
    "run.horizon_s=2",
];

/// The `stormsim` binary this test build goes with.
pub fn stormsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_stormsim"))
}

/// A temporary directory with an experiment file in it; results go to its `out/`.
pub struct Scratch {
    directory: TempDir,
    experiment: PathBuf,
}

impl Scratch {
    /// Writes `text` as `<name>.toml` in a new temporary directory.
    pub fn new(name: &str, text: &str) -> Self {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let experiment = directory.path().join(format!("{name}.toml"));
        fs::write(&experiment, text).expect("the experiment file is written");
        Self {
            directory,
            experiment,
        }
    }

    /// A scratch directory for a run of an experiment file that lives elsewhere.
    pub fn empty() -> Self {
        Self::new("unused", "")
    }

    pub fn experiment(&self) -> &Path {
        &self.experiment
    }

    pub fn path(&self) -> &Path {
        self.directory.path()
    }

    pub fn out(&self) -> PathBuf {
        self.directory.path().join("out")
    }
}

/// Runs `stormsim run <experiment> --out <out> --quiet <args>`, expects success, checks
/// every variant's output and returns the run's stdout.
pub fn run_ok(experiment: &Path, out: &Path, args: &[&str]) -> String {
    let output = stormsim()
        .arg("run")
        .arg(experiment)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .args(args)
        .output()
        .expect("stormsim starts");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "stormsim failed: {stderr}");
    assert!(stderr.is_empty(), "a quiet run printed on stderr: {stderr}");

    let stem = experiment.file_stem().unwrap().to_string_lossy();
    check_run(&out.join(stem.as_ref()));
    String::from_utf8(output.stdout).expect("stdout is UTF-8")
}

/// The rows of the experiment's side-by-side `summary.csv`, one per variant.
pub fn summaries(experiment_directory: &Path) -> Vec<SummaryRow> {
    read_csv(&experiment_directory.join("summary.csv"))
}

/// The one row of a variant's own `summary.csv`.
pub fn summary(variant_directory: &Path) -> SummaryRow {
    let mut rows: Vec<SummaryRow> = read_csv(&variant_directory.join("summary.csv"));
    assert_eq!(rows.len(), 1, "{}", variant_directory.display());
    rows.remove(0)
}

pub fn series(variant_directory: &Path) -> Vec<SeriesRow> {
    read_csv(&variant_directory.join("timeseries.csv"))
}

pub fn read_csv<T: serde::de::DeserializeOwned>(path: &Path) -> Vec<T> {
    let mut reader = csv::Reader::from_path(path)
        .unwrap_or_else(|error| panic!("cannot open {}: {error}", path.display()));
    reader
        .deserialize()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|error| panic!("cannot parse {}: {error}", path.display()))
}

/// Every file under `directory`, as paths relative to it, sorted.
pub fn files_under(directory: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![directory.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path.strip_prefix(directory).unwrap().to_path_buf());
            }
        }
    }
    files.sort();
    files
}

/// The checks every finished run must pass: no temporary file left behind, each
/// variant's totals conserved and consistent with its time series, and the side-by-side
/// summary equal to the variants' own.
fn check_run(experiment_directory: &Path) {
    let leftovers: Vec<PathBuf> = files_under(experiment_directory)
        .into_iter()
        .filter(|path| path.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    let rows = summaries(experiment_directory);
    assert!(!rows.is_empty());
    for row in &rows {
        let directory = experiment_directory.join(&row.variant);
        assert_eq!(&summary(&directory), row, "{}", directory.display());
        check_conservation(row, &series(&directory));
    }
}

/// The conservation laws, on the totals of `summary.csv` and across to `timeseries.csv`.
pub fn check_conservation(row: &SummaryRow, series: &[SeriesRow]) {
    let variant = &row.variant;
    assert_eq!(
        row.connected + row.rejected + row.in_progress,
        row.clients,
        "{variant}: clients"
    );
    assert_eq!(
        row.writes_applied + row.writes_pending,
        row.writes_issued,
        "{variant}: registry writes"
    );
    assert_eq!(
        row.messages_routed + row.messages_missed + row.messages_offline,
        row.messages_sent,
        "{variant}: messages"
    );

    let total = |column: fn(&SeriesRow) -> u64| series.iter().map(column).sum::<u64>();
    assert_eq!(total(|r| r.arrivals), row.clients, "{variant}: arrivals");
    assert_eq!(
        total(|r| r.connected),
        row.connected,
        "{variant}: connected"
    );
    assert_eq!(total(|r| r.rejected), row.rejected, "{variant}: rejected");
    assert_eq!(
        total(|r| r.registered),
        row.writes_applied,
        "{variant}: registered"
    );
    assert_eq!(
        total(|r| r.messages_sent),
        row.messages_sent,
        "{variant}: sent"
    );
    assert_eq!(
        total(|r| r.messages_missed),
        row.messages_missed,
        "{variant}: missed"
    );
}
