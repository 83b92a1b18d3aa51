//! Sweeps: every point of a parameter grid × every variant × every replication, run in
//! parallel, resumable, and divisible among machines.
//!
//! 1. [`grid`] reads the experiment's `[sweep]` table and expands the grid.
//! 2. [`points`] resolves the scenario of every run and lists the runs in an index.
//! 3. [`schedule`] runs those not stored yet, within the machine's memory, and [`store`]
//!    keeps each one as soon as it finishes.
//! 4. [`tables`] rebuilds `sweep.csv` and its companions from the stored runs once all
//!    are there.
//!
//! `--shard I/N` keeps the runs whose position in the index is `I` modulo `N`: every
//! shard lists the same index, runs its share, and [`crate::experiment::merge`] (or a
//! shard that finds every run stored, when shards share a directory) writes the tables.

pub mod grid;
pub mod points;
pub mod progress;
pub mod schedule;
pub mod stats;
pub mod store;
pub mod tables;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::str::FromStr;

use anyhow::{Result, anyhow};

use crate::config::Experiment;
use crate::config::overrides::Override;
use grid::SweepSpec;
use points::plan_sweep;
use schedule::{BatchProgress, Job, available_memory_bytes, execute};
use store::{load, load_all, runs_directory};
use tables::write_sweep_tables;

/// How to run a sweep.
pub struct SweepOptions {
    /// Results go to `<out_root>/<experiment name>/`.
    pub out_root: PathBuf,
    /// Runs at once; 0 lets rayon choose (one per core). Results do not depend on it.
    pub jobs: usize,
    /// Only this partition of the runs.
    pub shard: Option<Shard>,
    /// Estimated memory the runs in flight may use; `None` for what the machine has
    /// available.
    pub memory_budget_bytes: Option<u64>,
}

/// Partition `index` of `count` (`--shard I/N`, `I` counted from 0, as Slurm array task
/// ids and Kubernetes completion indexes are).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Whether the run at `position` in the index belongs to this shard. Taking every
    /// `count`-th run spreads the heavy points of a grid evenly over the shards.
    pub fn includes(&self, position: usize) -> bool {
        position % self.count as usize == self.index as usize
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || format!("shard '{text}': expected I/N with 0 <= I < N, for example 0/4");
        let (index, count) = text.split_once('/').ok_or_else(bad)?;
        let index: u32 = index.trim().parse().map_err(|_| bad())?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        if index >= count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

/// What a sweep did.
#[derive(Debug, Clone)]
pub struct SweepOutcome {
    pub directory: PathBuf,
    /// Runs in the whole sweep, and in this shard.
    pub total_runs: usize,
    pub shard_runs: usize,
    /// Runs of this shard found stored from an earlier attempt, and runs made now.
    pub reused: usize,
    pub executed: usize,
    /// Runs of the whole sweep not stored in the directory yet (other shards' share).
    pub missing: usize,
}

impl SweepOutcome {
    /// Whether every run is stored and the tables were written.
    pub fn complete(&self) -> bool {
        self.missing == 0
    }

    /// A few lines for people: what ran and where the results are.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "{} runs in the sweep, {} in this shard: {} made now, {} found from before\n",
            self.total_runs, self.shard_runs, self.executed, self.reused
        );
        if self.complete() {
            text.push_str(&format!(
                "results: {}\n",
                self.directory.join("sweep.csv").display()
            ));
        } else {
            text.push_str(&format!(
                "{} runs of other shards are not in {} yet; when every shard is done, combine \
                 them with: stormsim merge <their output directories> --out DIR\n",
                self.missing,
                self.directory.display()
            ));
        }
        text
    }
}

/// The `[sweep]` declaration of `experiment`, validated.
pub fn declared_sweep(experiment: &Experiment) -> Result<SweepSpec> {
    let table = experiment.sweep.as_ref().ok_or_else(|| {
        anyhow!(
            "experiment '{}' declares no sweep: add a [sweep] table with replications = N \
             and [sweep.parameters] such as \"redis.shards\" = [10, 100]",
            experiment.name
        )
    })?;
    Ok(SweepSpec::from_table(table)?)
}

/// Runs the sweep declared by `experiment` (this shard's share of it), skipping runs
/// already stored, and writes the tables if every run of the sweep is then stored.
pub fn run_sweep(
    experiment: &Experiment,
    overrides: &[Override],
    options: &SweepOptions,
    progress: &dyn BatchProgress,
) -> Result<SweepOutcome> {
    let spec = declared_sweep(experiment)?;
    let planned = plan_sweep(experiment, overrides, &spec)?;
    let directory = options.out_root.join(&experiment.name);
    let runs_directory = runs_directory(&directory);
    planned.index.write(&directory)?;

    let shard = options.shard.unwrap_or(Shard { index: 0, count: 1 });
    let mut seen = BTreeSet::new();
    let mut jobs = Vec::new();
    let mut shard_runs = 0;
    for (position, (run, scenario)) in planned
        .index
        .runs
        .iter()
        .zip(&planned.scenarios)
        .enumerate()
    {
        if !shard.includes(position) {
            continue;
        }
        shard_runs += 1;
        if seen.insert(run.key.clone()) && load(&runs_directory, &run.key).is_none() {
            jobs.push(Job {
                key: run.key.clone(),
                label: planned.index.describe(run),
                variant: planned.index.variants[run.variant].clone(),
                scenario: scenario.clone(),
            });
        }
    }

    let executed = jobs.len();
    let reused = shard_runs - executed;
    progress.begin(executed as u64, reused as u64);
    let budget = options
        .memory_budget_bytes
        .unwrap_or_else(available_memory_bytes);
    execute(jobs, &runs_directory, options.jobs, budget, progress)?;

    let (records, missing) = load_all(&runs_directory, &planned.index);
    if missing.is_empty() {
        write_sweep_tables(&directory, &planned.index, &records)?;
    }
    Ok(SweepOutcome {
        directory,
        total_runs: planned.index.runs.len(),
        shard_runs,
        reused,
        executed,
        missing: missing.len(),
    })
}
