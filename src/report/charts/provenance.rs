//! The footer every chart carries, so that a picture pasted into a design document still
//! says where it came from: experiment, seed(s), a short hash of each resolved scenario,
//! and the version of stormsim that produced the numbers.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use super::data::RunData;

/// CRC-32 is plenty to tell scenarios apart at a glance; it is not a security measure.
const SCENARIO_HASH: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// Where a chart's numbers came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Provenance {
    pub experiment: String,
    pub seeds: BTreeSet<u64>,
    /// `(variant, short hash of its resolved scenario)`, in the run's variant order.
    pub scenarios: Vec<(String, String)>,
    pub crate_version: Option<String>,
}

impl Provenance {
    /// The provenance of a run, from its summaries and manifests.
    pub fn of_run(run: &RunData) -> Self {
        let scenarios = run
            .variants
            .iter()
            .filter_map(|variant| {
                let scenario = variant.manifest.as_ref()?.get("scenario")?;
                Some((variant.name().to_string(), scenario_hash(scenario)))
            })
            .collect();
        let crate_version = run
            .variants
            .iter()
            .find_map(|v| v.manifest.as_ref()?.get("crate_version")?.as_str())
            .map(str::to_string);
        Self {
            experiment: run.experiment.clone(),
            seeds: run.variants.iter().map(|v| v.summary.seed).collect(),
            scenarios,
            crate_version,
        }
    }

    /// The provenance of a sweep or a plan in `directory`: the seeds of `sweep-runs.csv`
    /// and a hash of `sweep-index.json`, which lists the key of every run, each a hash of
    /// its resolved scenario. A plan has no index: its seeds and keys are read from the
    /// stored runs themselves (`runs/<key>.json`).
    pub fn of_batch(directory: &Path, experiment: &str) -> Self {
        let mut seeds: BTreeSet<u64> =
            super::data::read_csv::<SeedOnly>(&directory.join("sweep-runs.csv"))
                .map(|rows| rows.into_iter().map(|row| row.seed).collect())
                .unwrap_or_default();
        let mut scenarios: Vec<(String, String)> =
            std::fs::read(directory.join("sweep-index.json"))
                .map(|bytes| {
                    let hash = format!("{:08x}", SCENARIO_HASH.checksum(&bytes));
                    vec![("index".to_string(), hash)]
                })
                .unwrap_or_default();
        if scenarios.is_empty() {
            let (run_seeds, keys_hash) = stored_runs(&directory.join("runs"));
            if seeds.is_empty() {
                seeds = run_seeds;
            }
            scenarios.extend(keys_hash.map(|hash| ("runs".to_string(), hash)));
        }
        Self {
            experiment: experiment.to_string(),
            seeds,
            scenarios,
            crate_version: Some(env!("CARGO_PKG_VERSION").to_string()),
        }
    }

    /// One line: `quick-storm · seed 7 · scenario sync 1a2b3c4d, async 5e6f7a8b · stormsim 0.1.0`.
    pub fn footer(&self) -> String {
        let mut parts = vec![self.experiment.clone(), seeds_text(&self.seeds)];
        if self.scenarios.is_empty() {
            parts.push("scenario hash unknown (no manifest.json)".to_string());
        } else {
            let hashes: Vec<String> = self
                .scenarios
                .iter()
                .map(|(variant, hash)| format!("{variant} {hash}"))
                .collect();
            parts.push(format!("scenario {}", hashes.join(", ")));
        }
        parts.push(match &self.crate_version {
            Some(version) => format!("stormsim {version}"),
            None => "stormsim version unknown".to_string(),
        });
        parts.join("  ·  ")
    }
}

/// The distinct seeds of the runs stored in `runs`, and a hash of their keys (each key a
/// hash of its resolved scenario, seed and binary), in key order.
fn stored_runs(runs: &Path) -> (BTreeSet<u64>, Option<String>) {
    let Ok(entries) = std::fs::read_dir(runs) else {
        return (BTreeSet::new(), None);
    };
    let mut files: Vec<_> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    if files.is_empty() {
        return (BTreeSet::new(), None);
    }
    files.sort();

    let mut digest = SCENARIO_HASH.digest();
    let mut seeds = BTreeSet::new();
    for file in &files {
        if let Some(stem) = file.file_stem() {
            digest.update(stem.as_encoded_bytes());
        }
        let seed = std::fs::read(file)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<SeedOnly>(&bytes).ok());
        if let Some(SeedOnly { seed }) = seed {
            seeds.insert(seed);
        }
    }
    (seeds, Some(format!("{:08x}", digest.finalize())))
}

/// The one field of a `sweep-runs.csv` row or a stored run that the footer needs.
#[derive(serde::Deserialize)]
struct SeedOnly {
    seed: u64,
}

/// Eight hex digits of a CRC-32 over the scenario's JSON with its keys sorted, so that the
/// hash depends on the scenario only, not on the order a serializer chose.
pub fn scenario_hash(scenario: &Value) -> String {
    let canonical = canonical_json(scenario);
    format!("{:08x}", SCENARIO_HASH.checksum(canonical.as_bytes()))
}

fn canonical_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .into_iter()
                .map(|key| {
                    format!(
                        "{}:{}",
                        Value::from(key.as_str()),
                        canonical_json(&map[key])
                    )
                })
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(canonical_json).collect();
            format!("[{}]", items.join(","))
        }
        other => other.to_string(),
    }
}

/// `seed 7`, `seeds 1, 2, 3`, or `seeds 1 … 30 (30)` when there are many.
fn seeds_text(seeds: &BTreeSet<u64>) -> String {
    let listed: Vec<String> = seeds.iter().map(u64::to_string).collect();
    match listed.as_slice() {
        [] => "seed unknown".to_string(),
        [one] => format!("seed {one}"),
        few if few.len() <= 4 => format!("seeds {}", few.join(", ")),
        many => format!(
            "seeds {} … {} ({})",
            many[0],
            many[many.len() - 1],
            many.len()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_ignores_key_order_but_not_values() {
        let one: Value = serde_json::from_str(r#"{"a": 1, "b": {"c": [1, 2]}}"#).unwrap();
        let same: Value = serde_json::from_str(r#"{"b": {"c": [1, 2]}, "a": 1}"#).unwrap();
        let other: Value = serde_json::from_str(r#"{"a": 2, "b": {"c": [1, 2]}}"#).unwrap();
        assert_eq!(scenario_hash(&one), scenario_hash(&same));
        assert_ne!(scenario_hash(&one), scenario_hash(&other));
        assert_eq!(scenario_hash(&one).len(), 8);
    }

    #[test]
    fn footer_names_everything() {
        let provenance = Provenance {
            experiment: "quick-storm".into(),
            seeds: [7].into(),
            scenarios: vec![("sync".into(), "0badcafe".into())],
            crate_version: Some("0.1.0".into()),
        };
        assert_eq!(
            provenance.footer(),
            "quick-storm  ·  seed 7  ·  scenario sync 0badcafe  ·  stormsim 0.1.0"
        );
    }

    #[test]
    fn many_seeds_are_summarized() {
        let seeds: BTreeSet<u64> = (1..=30).collect();
        assert_eq!(seeds_text(&seeds), "seeds 1 … 30 (30)");
        assert_eq!(seeds_text(&[1, 2].into()), "seeds 1, 2");
        assert_eq!(seeds_text(&BTreeSet::new()), "seed unknown");
    }
}
