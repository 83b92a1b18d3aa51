//! Running many independent runs at once without running out of memory.
//!
//! Runs go to a rayon pool, largest first (by estimated events), so that the long ones do
//! not start last and leave the other cores idle at the end. A run starts only while the
//! estimated memory of the runs in flight, its own included, fits in the memory the machine
//! had available when the batch began ([`crate::experiment::Estimate`]); a run that could
//! not fit even alone is refused before anything starts, with its estimate in the error.
//! Each finished run is stored at once ([`super::store`]), so an interrupted batch keeps
//! everything that had finished.

use std::path::Path;
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use rayon::prelude::*;

use super::store::{RECORD_FORMAT, RunRecord, store};
use crate::config::Scenario;
use crate::experiment::Estimate;
use crate::model::simulate;
use crate::report::SummaryRow;
use crate::report::tables::{summary_csv, timeseries_csv};

/// One run to make: its key, a description for messages, and what to simulate.
pub struct Job {
    pub key: String,
    pub label: String,
    pub variant: String,
    pub scenario: Scenario,
}

/// Told about runs as they start and finish, to show progress. Called from worker threads.
pub trait BatchProgress: Sync {
    /// Before the first run: how many will run, and how many were found already done.
    fn begin(&self, _pending: u64, _reused: u64) {}
    fn run_started(&self) {}
    fn run_finished(&self) {}
}

impl BatchProgress for () {}

/// Runs `jobs` on `threads` threads (0: one per core) within `memory_budget_bytes` of
/// estimated memory, storing each result in `runs_directory`.
pub fn execute(
    jobs: Vec<Job>,
    runs_directory: &Path,
    threads: usize,
    memory_budget_bytes: u64,
    progress: &dyn BatchProgress,
) -> Result<()> {
    let mut sized: Vec<(Estimate, Job)> = jobs
        .into_iter()
        .map(|job| (Estimate::of(&job.scenario), job))
        .collect();
    refuse_oversized(&sized, memory_budget_bytes)?;
    sized.sort_by(|(a, ja), (b, jb)| b.events.cmp(&a.events).then_with(|| ja.key.cmp(&jb.key)));

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start the worker threads")?;
    let gate = MemoryGate::new(memory_budget_bytes);
    pool.install(|| {
        sized
            .into_iter()
            .par_bridge()
            .try_for_each(|(estimate, job)| {
                let _admitted = gate.admit(estimate.memory_bytes);
                progress.run_started();
                let record = run(&job)?;
                store(runs_directory, &record)?;
                progress.run_finished();
                Ok(())
            })
    })
}

/// The memory a batch may use: what the kernel says is available (Linux `MemAvailable`),
/// or no limit where that is not known.
pub fn available_memory_bytes() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/meminfo") else {
        return u64::MAX;
    };
    text.lines()
        .find(|line| line.starts_with("MemAvailable:"))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kib| kib.parse::<u64>().ok())
        .map_or(u64::MAX, |kib| kib * 1024)
}

fn refuse_oversized(sized: &[(Estimate, Job)], budget_bytes: u64) -> Result<()> {
    let Some((estimate, job)) = sized
        .iter()
        .find(|(estimate, _)| estimate.memory_bytes > budget_bytes)
    else {
        return Ok(());
    };
    bail!(
        "run {} needs about {:.0} MiB by its estimate, more than the {:.0} MiB of memory available; \
         nothing was run (shrink it, for example with --set clients.count=...)",
        job.label,
        mebibytes(estimate.memory_bytes),
        mebibytes(budget_bytes)
    )
}

fn mebibytes(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Simulates one job and packs its results as a record.
fn run(job: &Job) -> Result<RunRecord> {
    tracing::info!(run = %job.label, seed = job.scenario.seed, "run starts");
    let started = Instant::now();
    let outcome = simulate(&job.scenario, &mut ());
    let wall_s = started.elapsed().as_secs_f64();
    outcome
        .tally
        .check()
        .with_context(|| format!("run {}", job.label))?;

    let summary = SummaryRow::new(&job.variant, &job.scenario, &outcome);
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).expect("CSV of numbers is UTF-8");
    tracing::info!(run = %job.label, wall_s, events = outcome.events, "run ends");
    Ok(RunRecord {
        format: RECORD_FORMAT,
        key: job.key.clone(),
        crate_version: env!("CARGO_PKG_VERSION").to_string(),
        seed: job.scenario.seed,
        scenario: serde_json::to_value(&job.scenario)?,
        summary_csv: text(summary_csv(std::slice::from_ref(&summary))?),
        series_csv: text(timeseries_csv(&outcome)?),
        wall_s,
    })
}

/// Admits runs while their estimated memory fits the budget. A run is always admitted when
/// nothing else is in flight (oversized runs were refused before the batch started), so a
/// waiting thread is always waiting for a run that is making progress.
struct MemoryGate {
    budget_bytes: u64,
    in_flight_bytes: Mutex<u64>,
    released: Condvar,
}

/// A run's claim on the budget, given back when dropped (also when the run fails).
struct Admission<'a> {
    gate: &'a MemoryGate,
    bytes: u64,
}

impl MemoryGate {
    fn new(budget_bytes: u64) -> Self {
        Self {
            budget_bytes,
            in_flight_bytes: Mutex::new(0),
            released: Condvar::new(),
        }
    }

    fn admit(&self, bytes: u64) -> Admission<'_> {
        let mut in_flight = self
            .in_flight_bytes
            .lock()
            .expect("the gate is never poisoned");
        while *in_flight > 0 && in_flight.saturating_add(bytes) > self.budget_bytes {
            in_flight = self
                .released
                .wait(in_flight)
                .expect("the gate is never poisoned");
        }
        *in_flight += bytes;
        Admission { gate: self, bytes }
    }
}

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        let mut in_flight = self
            .gate
            .in_flight_bytes
            .lock()
            .expect("the gate is never poisoned");
        *in_flight -= self.bytes;
        self.gate.released.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Experiment;
    use std::sync::atomic::{AtomicU64, Ordering};

    fn job(key: &str, clients: u32) -> Job {
        let text = format!(
            "[clients]\ncount = {clients}\nwindow_s = 1\n[connection_servers]\ncount = 2\n\
             [redis]\nshards = 2\n[messages]\nrate_per_s = 100\n[run]\nhorizon_s = 3"
        );
        let scenario = Experiment::parse("x", "x.toml", &text, &[])
            .unwrap()
            .variants[0]
            .scenario
            .clone();
        Job {
            key: key.into(),
            label: format!("'{key}'"),
            variant: "base".into(),
            scenario,
        }
    }

    #[test]
    fn the_gate_never_admits_beyond_the_budget_but_always_admits_one() {
        let gate = MemoryGate::new(100);
        let peak = AtomicU64::new(0);
        let current = AtomicU64::new(0);
        std::thread::scope(|scope| {
            for bytes in [60, 60, 30, 150] {
                let (gate, peak, current) = (&gate, &peak, &current);
                scope.spawn(move || {
                    let _admitted = gate.admit(bytes);
                    let now = current.fetch_add(bytes, Ordering::SeqCst) + bytes;
                    peak.fetch_max(if bytes > 100 { 0 } else { now }, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    current.fetch_sub(bytes, Ordering::SeqCst);
                });
            }
        });
        assert!(peak.load(Ordering::SeqCst) <= 100);
    }

    #[test]
    fn runs_are_stored_and_oversized_ones_refused_before_any_starts() {
        let directory = tempfile::tempdir().unwrap();
        execute(
            vec![job("a", 500), job("b", 800)],
            directory.path(),
            2,
            u64::MAX,
            &(),
        )
        .unwrap();
        assert!(directory.path().join("a.json").exists());
        assert!(directory.path().join("b.json").exists());

        let refused = tempfile::tempdir().unwrap();
        let error = execute(vec![job("c", 500)], refused.path(), 2, 1024, &()).unwrap_err();
        let message = error.to_string();
        assert!(
            message.starts_with("run 'c' needs about")
                && message.contains("MiB of memory available"),
            "{message}"
        );
        assert_eq!(std::fs::read_dir(refused.path()).unwrap().count(), 0);
    }

    #[test]
    fn available_memory_is_known_on_linux() {
        if cfg!(target_os = "linux") {
            let bytes = available_memory_bytes();
            assert!(bytes > 0 && bytes < u64::MAX);
        }
    }
}
