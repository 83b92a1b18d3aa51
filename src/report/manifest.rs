//! `manifest.json`: what ran, so that any result can be reproduced and checked.
//!
//! The resolved scenario, seed, crate version and command line reproduce the run; the
//! trajectory fingerprint proves two runs identical without comparing files. Wall time,
//! events per second and peak memory describe this execution only, which is why they live
//! here and nowhere else: every other output file is a pure function of scenario and seed.

use serde::Serialize;

use crate::config::Scenario;

#[derive(Debug, Clone, Serialize)]
pub struct Manifest<'a> {
    pub experiment: &'a str,
    pub variant: &'a str,
    pub crate_version: &'static str,
    pub command_line: &'a str,
    pub seed: u64,
    pub scenario: &'a Scenario,
    pub events: u64,
    pub trajectory_fingerprint: &'a str,
    pub wall_s: f64,
    pub events_per_s: f64,
    /// Peak resident memory of the whole process so far, in bytes (Linux `VmHWM`); when
    /// variants run in parallel it covers all of them.
    pub peak_rss_bytes: Option<u64>,
    /// What `stormsim check` estimated this run's peak memory to be, in bytes: kept next to
    /// the measured peak so that the estimate's error is visible in every run.
    pub estimated_memory_bytes: u64,
}

impl Manifest<'_> {
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("a manifest always serializes");
        bytes.push(b'\n');
        bytes
    }
}

/// The process's peak resident set size, where the platform reports it.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
