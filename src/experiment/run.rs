//! Running an experiment: every variant, in parallel, each written as soon as it finishes.
//!
//! Variants are independent runs with their own seeds' streams, so running them on several
//! threads changes nothing in their results. Each variant's files are written atomically
//! the moment it finishes, so an interrupted experiment keeps every variant that had
//! finished; the side-by-side `summary.csv` is written last.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use rayon::prelude::*;

use crate::config::{Experiment, Scenario};
use crate::experiment::Estimate;
use crate::model::{Progress, simulate};
use crate::report::manifest::peak_rss_bytes;
use crate::report::tables::{latency_csv, summary_csv, timeseries_csv};
use crate::report::{Manifest, SummaryRow, write_atomically};

/// How to run an experiment.
pub struct RunOptions {
    /// Results go to `<out_root>/<experiment name>/`.
    pub out_root: PathBuf,
    /// Variants run at once; 0 lets rayon choose (one per core).
    pub jobs: usize,
    /// Recorded in each manifest so a result can be reproduced.
    pub command_line: String,
}

/// What one variant produced.
pub struct VariantResult {
    pub summary: SummaryRow,
    pub wall_s: f64,
    pub events_per_s: f64,
    pub directory: PathBuf,
}

/// Runs every variant of `experiment` and writes its results; `progress_for` gives each
/// variant a progress sink.
pub fn run_experiment(
    experiment: &Experiment,
    options: &RunOptions,
    progress_for: &(dyn Fn(&str, &Scenario) -> Box<dyn Progress + Send> + Sync),
) -> Result<Vec<VariantResult>> {
    let directory = options.out_root.join(&experiment.name);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs)
        .build()
        .context("cannot start the worker threads")?;

    let results: Vec<VariantResult> = pool.install(|| {
        experiment
            .variants
            .par_iter()
            .map(|variant| {
                let mut progress = progress_for(&variant.name, &variant.scenario);
                run_variant(
                    experiment,
                    &variant.name,
                    &variant.scenario,
                    &directory,
                    options,
                    progress.as_mut(),
                )
            })
            .collect::<Result<Vec<_>>>()
    })?;

    let rows: Vec<SummaryRow> = results.iter().map(|r| r.summary.clone()).collect();
    write_atomically(&directory.join("summary.csv"), &summary_csv(&rows)?)?;
    Ok(results)
}

fn run_variant(
    experiment: &Experiment,
    variant: &str,
    scenario: &Scenario,
    experiment_directory: &Path,
    options: &RunOptions,
    progress: &mut dyn Progress,
) -> Result<VariantResult> {
    tracing::info!(experiment = %experiment.name, variant, seed = scenario.seed, clients = scenario.clients, "run starts");
    let started = Instant::now();
    let outcome = simulate(scenario, progress);
    let wall_s = started.elapsed().as_secs_f64();
    outcome
        .tally
        .check()
        .with_context(|| format!("variant '{variant}' of experiment '{}'", experiment.name))?;

    let directory = experiment_directory.join(variant);
    let summary = SummaryRow::new(variant, scenario, &outcome);
    let events_per_s = outcome.events as f64 / wall_s.max(1e-9);
    let manifest = Manifest {
        experiment: &experiment.name,
        variant,
        crate_version: env!("CARGO_PKG_VERSION"),
        command_line: &options.command_line,
        seed: scenario.seed,
        scenario,
        events: outcome.events,
        trajectory_fingerprint: &outcome.fingerprint,
        wall_s,
        events_per_s,
        peak_rss_bytes: peak_rss_bytes(),
        estimated_memory_bytes: Estimate::of(scenario).memory_bytes,
    };
    write_atomically(
        &directory.join("summary.csv"),
        &summary_csv(std::slice::from_ref(&summary))?,
    )?;
    write_atomically(
        &directory.join("timeseries.csv"),
        &timeseries_csv(&outcome)?,
    )?;
    write_atomically(&directory.join("latency.csv"), &latency_csv(&outcome)?)?;
    write_atomically(&directory.join("manifest.json"), &manifest.to_json())?;
    tracing::info!(variant, wall_s, events = outcome.events, directory = %directory.display(), "run ends");

    Ok(VariantResult {
        summary,
        wall_s,
        events_per_s,
        directory,
    })
}
