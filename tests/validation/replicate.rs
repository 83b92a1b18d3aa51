//! Running a validation scenario: loading it from `experiments/validation/`, replicating it
//! over seeds, and reading steady-state averages out of its time series.
//!
//! The experiment files are the single source of each case's parameters: the tests read
//! the arrival rate, service rates and worker counts from the resolved scenario, so a
//! file and its theoretical values can never drift apart.

use std::path::Path;

use rayon::prelude::*;
use stormsim::config::{Experiment, Scenario, ServiceTime};
use stormsim::engine::{NANOS_PER_S, to_seconds};
use stormsim::metrics::RunOutcome;
use stormsim::model::simulate;

/// The latency histogram keeps three significant digits: 2048 sub-buckets per power of
/// two, each value reported at its sub-bucket's middle, so a value, and hence a mean, read
/// from it is within 1/2048 of the truth. Intervals of histogram means are widened by this.
pub const HISTOGRAM_RESOLUTION: f64 = 1.0 / 2048.0;

/// The resolved scenario of `variant` in `experiments/validation/<file>`.
pub fn load_variant(file: &str, variant: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("experiments/validation")
        .join(file);
    let experiment = Experiment::load(&path, &[])
        .unwrap_or_else(|error| panic!("cannot load {}: {error}", path.display()));
    experiment
        .variants
        .into_iter()
        .find(|v| v.name == variant)
        .unwrap_or_else(|| panic!("{file} has no variant '{variant}'"))
        .scenario
}

/// Runs `replications` copies of `scenario` with seeds `seed, seed + 1, ...` (in parallel,
/// results in seed order) and keeps what `measure` takes from each.
pub fn replicate<T: Send>(
    scenario: &Scenario,
    replications: u64,
    measure: impl Fn(&RunOutcome) -> T + Sync,
) -> Vec<T> {
    (0..replications)
        .into_par_iter()
        .map(|index| {
            let mut copy = scenario.clone();
            copy.seed = scenario.seed.wrapping_add(index);
            let outcome = simulate(&copy, &mut ());
            outcome.tally.check().expect("conservation laws hold");
            measure(&outcome)
        })
        .collect()
}

/// Clients per second over the storm window.
pub fn arrival_rate_per_s(scenario: &Scenario) -> f64 {
    f64::from(scenario.clients) / to_seconds(scenario.window_ns)
}

/// Seconds, from a configured mean in nanoseconds.
pub fn ns_to_s(nanos: f64) -> f64 {
    nanos / NANOS_PER_S as f64
}

/// The coefficient of variation of a service-time distribution.
pub fn service_cv(service: &ServiceTime) -> f64 {
    match *service {
        ServiceTime::Deterministic { .. } => 0.0,
        ServiceTime::Exponential { .. } => 1.0,
        ServiceTime::LogNormal { cv, .. } => cv,
    }
}

/// The time average of a per-bucket series over the buckets that lie wholly inside
/// `[warmup_s, window)`: after the start-up transient and before arrivals stop.
pub fn steady_average(series: &[f64], scenario: &Scenario, warmup_s: f64) -> f64 {
    let bucket_ns = scenario.bucket_ns;
    let first = (warmup_s * NANOS_PER_S as f64 / bucket_ns as f64).ceil() as usize;
    let last = (scenario.window_ns / bucket_ns) as usize;
    assert!(
        first < last,
        "no whole bucket between the warm-up and the end of the window"
    );
    series[first..last].iter().sum::<f64>() / (last - first) as f64
}

/// The time average of a per-bucket series over the whole horizon.
pub fn horizon_average(series: &[f64], scenario: &Scenario) -> f64 {
    let bucket_ns = scenario.bucket_ns as f64;
    let integral: f64 = series
        .iter()
        .enumerate()
        .map(|(bucket, mean)| {
            let start = bucket as f64 * bucket_ns;
            let length = (scenario.horizon_ns as f64 - start).min(bucket_ns);
            mean * length
        })
        .sum();
    integral / scenario.horizon_ns as f64
}
