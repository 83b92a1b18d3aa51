//! From a sweep declaration to the list of runs: the scenario of every point × variant ×
//! replication, and the index that names them.
//!
//! A point's scenario is built like a variant's, with the point's values applied after the
//! variant's keys and the command line's `--set`s, so every run has exactly the values its
//! point names. A swept key may therefore not also be set by a variant or by `--set`: one
//! of them would silently lose, so both are refused.

use toml::{Table, Value};

use super::grid::{SweepSpec, display_value, replication_seed};
use super::store::{IndexedRun, SweepIndex, binary_digest, run_key};
use crate::config::experiment::{resolve_table, variant_table};
use crate::config::overrides::Override;
use crate::config::{ConfigError, Experiment, Scenario};

/// A sweep's index and, run by run in the same order, what each run simulates.
pub struct PlannedSweep {
    pub index: SweepIndex,
    pub scenarios: Vec<Scenario>,
}

/// Lists every run of `spec` over `experiment`, with `overrides` (the command line's) in
/// every run.
pub fn plan_sweep(
    experiment: &Experiment,
    overrides: &[Override],
    spec: &SweepSpec,
) -> Result<PlannedSweep, ConfigError> {
    for key in spec.keys() {
        check_not_set_elsewhere(experiment, overrides, &key)?;
    }
    let points = spec.points();
    let mut runs = Vec::new();
    let mut scenarios = Vec::new();
    for (point, values) in points.iter().enumerate() {
        let assignments: Vec<(String, Value)> =
            spec.keys().into_iter().zip(values.clone()).collect();
        for variant in 0..experiment.variant_tables.len() {
            let base = point_scenario(experiment, overrides, variant, &assignments)?;
            for (replication, scenario) in replications(&base, spec.replications)
                .into_iter()
                .enumerate()
            {
                runs.push(IndexedRun {
                    point,
                    variant,
                    replication: replication as u32,
                    seed: scenario.seed,
                    key: run_key(&scenario),
                });
                scenarios.push(scenario);
            }
        }
    }

    let index = SweepIndex {
        experiment: experiment.name.clone(),
        crate_version: env!("CARGO_PKG_VERSION").to_string(),
        binary: binary_digest().to_string(),
        parameters: spec.keys(),
        points: points
            .iter()
            .map(|values| values.iter().map(display_value).collect())
            .collect(),
        variants: experiment
            .variant_tables
            .iter()
            .map(|(name, _)| name.clone())
            .collect(),
        replications: spec.replications,
        runs,
    };
    Ok(PlannedSweep { index, scenarios })
}

/// The scenario of variant number `variant` at the point where each `(key, value)` of
/// `assignments` holds, with the file's seed.
pub fn point_scenario(
    experiment: &Experiment,
    overrides: &[Override],
    variant: usize,
    assignments: &[(String, Value)],
) -> Result<Scenario, ConfigError> {
    let mut all = overrides.to_vec();
    all.extend(assignments.iter().map(|(key, value)| Override {
        key: key.clone(),
        value: value.clone(),
    }));
    let (_, variant_keys) = &experiment.variant_tables[variant];
    resolve_table(&variant_table(&experiment.base, variant_keys, &all)?)
}

/// The scenarios of `replications` replications of `base`: the same but for the seed.
pub fn replications(base: &Scenario, replications: u32) -> Vec<Scenario> {
    (0..replications)
        .map(|replication| Scenario {
            seed: replication_seed(base.seed, replication),
            ..base.clone()
        })
        .collect()
}

/// Refuses a swept (or searched) key that a variant or a `--set` also sets.
pub fn check_not_set_elsewhere(
    experiment: &Experiment,
    overrides: &[Override],
    key: &str,
) -> Result<(), ConfigError> {
    let overlaps = |other: &str| {
        other == key
            || other.starts_with(&format!("{key}."))
            || key.starts_with(&format!("{other}."))
    };
    if let Some(item) = overrides.iter().find(|item| overlaps(&item.key)) {
        return Err(ConfigError::Key {
            key: key.to_string(),
            message: format!(
                "is varied by the sweep, so --set {}=... cannot also set it",
                item.key
            ),
        });
    }
    if let Some((name, _)) = experiment
        .variant_tables
        .iter()
        .find(|(_, table)| sets(table, key))
    {
        return Err(ConfigError::Key {
            key: key.to_string(),
            message: format!(
                "is varied by the sweep, so variant '{name}' cannot also set it; \
                 set it in the base scenario instead"
            ),
        });
    }
    Ok(())
}

/// Whether merging `table` into a scenario would touch the dotted `key`.
fn sets(table: &Table, key: &str) -> bool {
    let mut current = table;
    for part in key.split('.') {
        match current.get(part) {
            None => return false,
            Some(Value::Table(inner)) => current = inner,
            Some(_) => return true,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
seed = 9
[clients]
count = 1000
[redis]
shards = 4
[variants.sync]
registry.strategy = "sync"
[variants.async]
registry.strategy = "async"
[sweep]
replications = 3
[sweep.parameters]
"redis.shards" = [2, 8]
"#;

    fn planned(overrides: &[Override]) -> Result<PlannedSweep, ConfigError> {
        let experiment = Experiment::parse("x", "x.toml", FILE, overrides)?;
        let spec = SweepSpec::from_table(experiment.sweep.as_ref().unwrap())?;
        plan_sweep(&experiment, overrides, &spec)
    }

    #[test]
    fn runs_are_listed_by_point_variant_and_replication_with_shared_seeds() {
        let planned = planned(&[]).unwrap();
        let index = &planned.index;
        assert_eq!(index.runs.len(), 2 * 2 * 3);
        assert_eq!(index.points, [["2"], ["8"]]);
        assert_eq!(index.variants, ["sync", "async"]);

        let shards: Vec<u32> = planned.scenarios.iter().map(|s| s.shards).collect();
        assert_eq!(shards, [2, 2, 2, 2, 2, 2, 8, 8, 8, 8, 8, 8]);
        let seeds_of = |point, variant| -> Vec<u64> {
            index.runs_of(point, variant).map(|run| run.seed).collect()
        };
        assert_eq!(seeds_of(0, 0)[0], 9);
        assert_eq!(seeds_of(0, 0), seeds_of(1, 1));

        let mut keys: Vec<&str> = index.runs.iter().map(|run| run.key.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), 12);
    }

    #[test]
    fn overrides_apply_to_every_run_but_may_not_touch_a_swept_key() {
        let set = [Override::parse("clients.count=500").unwrap()];
        assert!(
            planned(&set)
                .unwrap()
                .scenarios
                .iter()
                .all(|s| s.clients == 500)
        );

        let set = [Override::parse("redis.shards=3").unwrap()];
        let message = planned(&set).err().unwrap().to_string();
        assert_eq!(
            message,
            "key 'redis.shards': is varied by the sweep, so --set redis.shards=... cannot also set it"
        );
    }

    #[test]
    fn a_variant_may_not_set_a_swept_key() {
        let text = FILE.replace("[variants.async]", "[variants.async]\nredis.shards = 3");
        let experiment = Experiment::parse("x", "x.toml", &text, &[]).unwrap();
        let spec = SweepSpec::from_table(experiment.sweep.as_ref().unwrap()).unwrap();
        let message = plan_sweep(&experiment, &[], &spec)
            .err()
            .unwrap()
            .to_string();
        assert!(
            message.contains("variant 'async' cannot also set it"),
            "{message}"
        );
    }
}
