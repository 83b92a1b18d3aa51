//! A Redis shard alone, as M/M/1, M/D/1 and M/G/1 with log-normal service
//! (`experiments/validation/shard-queue.toml`).
//!
//! Poisson arrivals, a deterministic handshake with idle workers (so the writes reach the
//! shard as the same Poisson stream, shifted), synchronous writes and no lookups: the
//! connect latency is the handshake, the shard's wait and its service. The mean wait comes
//! from the connect-latency histogram, which covers every client including the first few
//! milliseconds of start-up; a queue at utilization 0.8 relaxes in about a millisecond
//! (`E[S] / (1 − √ρ)²`), a few hundred-thousandths of the 6.25 s window, so that bias is
//! far inside the interval. The queue length and utilization come from the time series,
//! skipping a warm-up and the drain after the window.

use stormsim::config::Scenario;
use stormsim::metrics::RunOutcome;

use super::replicate::{
    HISTOGRAM_RESOLUTION, arrival_rate_per_s, load_variant, ns_to_s, replicate, service_cv,
    steady_average,
};
use super::report::{Estimate, Report};
use super::theory::mg1_mean_wait_s;

const FILE: &str = "shard-queue.toml";
const REPLICATIONS: u64 = 20;
const WARMUP_S: f64 = 0.1;

/// What one replication measured.
struct Measured {
    mean_wait_s: f64,
    connect_mean_s: f64,
    mean_queue: f64,
    utilization: f64,
}

fn measure(scenario: &Scenario, outcome: &RunOutcome) -> Measured {
    let connect_mean_s = outcome.connect_latency.mean_ms() / 1e3;
    let handshake_s = ns_to_s(scenario.handshake.mean_ns());
    let service_s = ns_to_s(scenario.shard_service.mean_ns());
    Measured {
        mean_wait_s: connect_mean_s - handshake_s - service_s,
        connect_mean_s,
        mean_queue: steady_average(&outcome.series.shard_queue, scenario, WARMUP_S),
        utilization: steady_average(&outcome.series.shard_utilization, scenario, WARMUP_S),
    }
}

/// Replicates one variant and compares wait, queue and utilization with M/G/1 theory.
fn validate(report: &mut Report, variant: &str) {
    let scenario = load_variant(FILE, variant);
    assert_eq!(scenario.shards, 1);
    let lambda = arrival_rate_per_s(&scenario);
    let service_s = ns_to_s(scenario.shard_service.mean_ns());
    let rho = lambda * service_s;
    let wait_s = mg1_mean_wait_s(lambda, service_s, service_cv(&scenario.shard_service));

    let runs = replicate(&scenario, REPLICATIONS, |outcome| {
        measure(&scenario, outcome)
    });
    let column = |f: fn(&Measured) -> f64| runs.iter().map(f).collect::<Vec<f64>>();
    let connect_mean_s = column(|m| m.connect_mean_s).iter().sum::<f64>() / runs.len() as f64;

    let case = format!("{variant} ρ={rho:.2}");
    let waits = Estimate::from_replications(&column(|m| m.mean_wait_s))
        .widened(connect_mean_s * HISTOGRAM_RESOLUTION);
    report.compare(&case, "mean wait W_q (µs)", wait_s * 1e6, waits.scaled(1e6));
    report.compare(
        &case,
        "mean queue L_q",
        lambda * wait_s,
        Estimate::from_replications(&column(|m| m.mean_queue)),
    );
    report.compare(
        &case,
        "utilization ρ",
        rho,
        Estimate::from_replications(&column(|m| m.utilization)),
    );
}

#[test]
fn a_shard_is_an_mg1_queue() {
    let mut report = Report::new("Redis shard: M/M/1, M/D/1, M/G/1 (Pollaczek–Khinchine)");
    validate(&mut report, "mm1");
    validate(&mut report, "md1");
    validate(&mut report, "mg1");
    report.finish();
}
