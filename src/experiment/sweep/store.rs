//! Where a sweep keeps its finished runs: one small file per run, named by the run's key.
//!
//! A run's key is a SHA-256 of everything that decides its result: the resolved scenario
//! (which holds the seed), the seed again, the crate version, the record format and a
//! digest of the running executable. A changed configuration, a new release or a rebuilt
//! binary (the model may have changed without a new version number) therefore gives a new
//! key and never reuses a stale result, while re-running an unchanged sweep with the same
//! binary finds every finished run where it left it. Each record is written atomically,
//! so a sweep killed at any instant leaves complete records and nothing else; the tables
//! are rebuilt from the records alone.
//!
//! ```text
//! output/<experiment>/
//!   sweep-index.json       the runs of the sweep: points, variants, replications, keys
//!   runs/<key>.json        one finished run: its summary row and time series, as CSV
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Scenario;
use crate::report::write_atomically;

/// Bumped whenever the layout of a [`RunRecord`] changes, so that records of an older
/// layout are run again rather than misread.
pub const RECORD_FORMAT: u32 = 1;

/// The name of a sweep's index file in its experiment directory.
pub const INDEX_FILE: &str = "sweep-index.json";

/// The key of a run: hex SHA-256 of its scenario, seed, crate version, record format and
/// the binary's digest.
pub fn run_key(scenario: &Scenario) -> String {
    let scenario_json = serde_json::to_string(scenario).expect("a scenario always serializes");
    let mut hasher = Sha256::new();
    hasher.update(format!(
        "stormsim {}\nbinary {}\nrecord format {RECORD_FORMAT}\nseed {}\n",
        env!("CARGO_PKG_VERSION"),
        binary_digest(),
        scenario.seed
    ));
    hasher.update(scenario_json.as_bytes());
    hex(&hasher.finalize())
}

/// The first 16 hex digits of the SHA-256 of the running executable, read once per
/// process (about 0.1 s for a release build), or `unknown` where it cannot be read.
///
/// Shards of one sweep must therefore run the same binary (one container image, or one
/// file on a shared file system): two builds of the same source on different machines
/// differ in embedded paths, so their runs are not mixed.
pub fn binary_digest() -> &'static str {
    static DIGEST: OnceLock<String> = OnceLock::new();
    DIGEST.get_or_init(|| {
        let bytes = std::env::current_exe().and_then(std::fs::read);
        match bytes {
            Ok(bytes) => hex(&Sha256::digest(&bytes))[..16].to_string(),
            Err(error) => {
                tracing::warn!(%error, "cannot read the running binary; run keys omit it");
                "unknown".to_string()
            }
        }
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// One finished run, as stored in `runs/<key>.json`.
///
/// The summary and the time series are kept as the CSV text a plain run writes, so that
/// every number in a sweep's tables is read back from exactly the same characters, on any
/// machine and whether the run was made now, resumed or merged from another machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub format: u32,
    pub key: String,
    pub crate_version: String,
    pub seed: u64,
    /// The resolved scenario, for whoever wants to know what ran.
    pub scenario: serde_json::Value,
    /// `summary.csv` of the run: a header and one row.
    pub summary_csv: String,
    /// `timeseries.csv` of the run.
    pub series_csv: String,
    /// Wall time of the run on the machine that made it. Never reaches a table.
    pub wall_s: f64,
}

/// One run of a sweep as listed in its index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexedRun {
    pub point: usize,
    pub variant: usize,
    pub replication: u32,
    pub seed: u64,
    pub key: String,
}

/// Everything needed to rebuild a sweep's tables from its run records, stored as
/// `sweep-index.json`. It is the same for every shard of a sweep, which is how `merge`
/// knows that partitions belong together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepIndex {
    pub experiment: String,
    pub crate_version: String,
    /// [`binary_digest`] of the binary that listed the runs.
    pub binary: String,
    /// The swept keys; they head the tables' parameter columns.
    pub parameters: Vec<String>,
    /// Each point's values as table cells, one per parameter.
    pub points: Vec<Vec<String>>,
    pub variants: Vec<String>,
    pub replications: u32,
    /// Every run, by point, then variant, then replication.
    pub runs: Vec<IndexedRun>,
}

impl SweepIndex {
    /// The runs of point `point` and variant `variant`, by replication.
    pub fn runs_of(&self, point: usize, variant: usize) -> impl Iterator<Item = &IndexedRun> {
        self.runs
            .iter()
            .filter(move |run| run.point == point && run.variant == variant)
    }

    /// A run described for people: its point, variant and replication.
    pub fn describe(&self, run: &IndexedRun) -> String {
        let point: Vec<String> = self
            .parameters
            .iter()
            .zip(&self.points[run.point])
            .map(|(key, value)| format!("{key}={value}"))
            .collect();
        let point = if point.is_empty() {
            String::new()
        } else {
            format!("{} ", point.join(" "))
        };
        format!(
            "{point}variant '{}' replication {}",
            self.variants[run.variant], run.replication
        )
    }

    pub fn write(&self, directory: &Path) -> Result<()> {
        let mut bytes =
            serde_json::to_vec_pretty(self).context("cannot serialize a sweep index")?;
        bytes.push(b'\n');
        write_atomically(&directory.join(INDEX_FILE), &bytes)
    }

    pub fn read(directory: &Path) -> Result<Self> {
        let path = directory.join(INDEX_FILE);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read file '{}'", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("file '{}' is not a sweep index", path.display()))
    }
}

/// The `runs/` directory of an experiment directory.
pub fn runs_directory(experiment_directory: &Path) -> PathBuf {
    experiment_directory.join("runs")
}

fn record_path(runs_directory: &Path, key: &str) -> PathBuf {
    runs_directory.join(format!("{key}.json"))
}

/// Stores a finished run atomically.
pub fn store(runs_directory: &Path, record: &RunRecord) -> Result<()> {
    let bytes = serde_json::to_vec(record).context("cannot serialize a run record")?;
    write_atomically(&record_path(runs_directory, &record.key), &bytes)
}

/// The stored record of `key`, if there is a complete one of the current format. A file
/// that does not read back as such (an older format, someone's edit) counts as missing,
/// so the run is made again and the file replaced.
pub fn load(runs_directory: &Path, key: &str) -> Option<RunRecord> {
    let path = record_path(runs_directory, key);
    let text = std::fs::read_to_string(&path).ok()?;
    match serde_json::from_str::<RunRecord>(&text) {
        Ok(record) if record.key == key && record.format == RECORD_FORMAT => Some(record),
        _ => {
            tracing::warn!(path = %path.display(), "stored run is unreadable or stale; it runs again");
            None
        }
    }
}

/// The records of every run of `index` found in `runs_directory`, by key, and the runs
/// that have none.
pub fn load_all(
    runs_directory: &Path,
    index: &SweepIndex,
) -> (BTreeMap<String, RunRecord>, Vec<IndexedRun>) {
    let mut records = BTreeMap::new();
    let mut missing = Vec::new();
    for run in &index.runs {
        if records.contains_key(&run.key) {
            continue;
        }
        match load(runs_directory, &run.key) {
            Some(record) => {
                records.insert(run.key.clone(), record);
            }
            None => missing.push(run.clone()),
        }
    }
    (records, missing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Experiment;

    fn scenario(text: &str) -> Scenario {
        Experiment::parse("x", "x.toml", text, &[])
            .unwrap()
            .variants[0]
            .scenario
            .clone()
    }

    #[test]
    fn keys_change_with_the_scenario_and_the_seed_only() {
        let base = scenario("seed = 3\n[redis]\nshards = 4");
        assert_eq!(run_key(&base), run_key(&base.clone()));
        assert_eq!(run_key(&base).len(), 64);
        assert_eq!(binary_digest().len(), 16);

        let mut other_seed = base.clone();
        other_seed.seed = 4;
        assert_ne!(run_key(&base), run_key(&other_seed));
        assert_ne!(
            run_key(&base),
            run_key(&scenario("seed = 3\n[redis]\nshards = 5"))
        );
    }

    #[test]
    fn records_round_trip_and_stale_ones_count_as_missing() {
        let directory = tempfile::tempdir().unwrap();
        let record = RunRecord {
            format: RECORD_FORMAT,
            key: "abc".into(),
            crate_version: "0".into(),
            seed: 1,
            scenario: serde_json::json!({}),
            summary_csv: "a,b\n1,2\n".into(),
            series_csv: "t\n0.0\n".into(),
            wall_s: 0.5,
        };
        store(directory.path(), &record).unwrap();
        assert_eq!(load(directory.path(), "abc"), Some(record.clone()));

        let stale = RunRecord {
            format: RECORD_FORMAT + 1,
            ..record
        };
        store(directory.path(), &stale).unwrap();
        assert_eq!(load(directory.path(), "abc"), None);
        assert_eq!(load(directory.path(), "absent"), None);
    }
}
