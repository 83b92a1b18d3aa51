//! The fluid limit of an overloaded shard (`experiments/validation/shard-overload-fluid.toml`).
//!
//! Arrivals at `λ` for a window `W` against a shard of capacity `μ < λ`: in the fluid
//! limit the backlog grows as `(λ − μ) t`, the `k`-th write is applied at `k/μ`, the last
//! at `λW/μ`, and the write of a client established at `t` waits `t (λ − μ)/μ`, so the
//! mean registry lag is `(λ − μ) W / (2μ)`. The lag is measured from the moment the
//! connection is established, the end of its handshake; the handshake is a constant, so it
//! shifts establishment and arrival alike and drops out.
//!
//! The fluid values ignore terms of the order of one service time (the first write cannot
//! finish before `1/μ`; the exact mean lag is larger by `1/(2μ)`), 10 µs here, while the
//! replications' intervals, set by the √N fluctuations of a Poisson storm, are about
//! half a millisecond wide: the fluid limit is inside them or it is wrong. The service is
//! near-deterministic (cv 0.1) so that the last write's time still varies between seeds
//! and has an interval at all.

use stormsim::config::Scenario;
use stormsim::engine::to_seconds;
use stormsim::metrics::RunOutcome;

use super::replicate::{
    HISTOGRAM_RESOLUTION, arrival_rate_per_s, load_variant, ns_to_s, replicate,
};
use super::report::{Estimate, Report};
use super::theory::{fluid_last_departure_s, fluid_mean_delay_s};

const FILE: &str = "shard-overload-fluid.toml";
const REPLICATIONS: u64 = 20;

struct Measured {
    backlog_slope_per_s: f64,
    last_write_s: f64,
    mean_lag_s: f64,
}

/// The least-squares slope of the backlog of unapplied writes (queued at the server,
/// queued at the shard, or in service) over the buckets wholly inside the window. A bucket
/// holds the time average of a backlog that grows linearly, which is its value at the
/// bucket's middle.
fn backlog_slope_per_s(scenario: &Scenario, outcome: &RunOutcome) -> f64 {
    let series = &outcome.series;
    let bucket_s = to_seconds(scenario.bucket_ns);
    let buckets = (scenario.window_ns / scenario.bucket_ns) as usize;
    let points: Vec<(f64, f64)> = (0..buckets)
        .map(|b| {
            let backlog = series.registry_queue[b]
                + series.shard_queue[b]
                + series.shard_utilization[b] * f64::from(scenario.shards);
            ((b as f64 + 0.5) * bucket_s, backlog)
        })
        .collect();

    let n = points.len() as f64;
    let mean_t = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_backlog = points.iter().map(|p| p.1).sum::<f64>() / n;
    let covariance: f64 = points
        .iter()
        .map(|(t, x)| (t - mean_t) * (x - mean_backlog))
        .sum();
    let variance: f64 = points.iter().map(|(t, _)| (t - mean_t).powi(2)).sum();
    covariance / variance
}

fn measure(scenario: &Scenario, outcome: &RunOutcome) -> Measured {
    let last_write = outcome
        .all_registered_at
        .expect("every write is applied before the horizon");
    Measured {
        backlog_slope_per_s: backlog_slope_per_s(scenario, outcome),
        last_write_s: to_seconds(last_write),
        mean_lag_s: outcome.registry_lag.mean_ms() / 1e3,
    }
}

#[test]
fn an_overloaded_shard_follows_its_fluid_limit() {
    let scenario = load_variant(FILE, "base");
    assert_eq!((scenario.servers, scenario.shards), (1, 1));
    let lambda = arrival_rate_per_s(&scenario);
    let mu = 1.0 / ns_to_s(scenario.shard_service.mean_ns());
    let window_s = to_seconds(scenario.window_ns);
    assert!(lambda > mu, "the shard must be overloaded");

    let runs = replicate(&scenario, REPLICATIONS, |outcome| {
        measure(&scenario, outcome)
    });
    let column = |f: fn(&Measured) -> f64| runs.iter().map(f).collect::<Vec<f64>>();
    let mean_lag_s = column(|m| m.mean_lag_s).iter().sum::<f64>() / runs.len() as f64;

    let case = format!("λ/μ={:.1} W={window_s}s", lambda / mu);
    let mut report = Report::new("Overloaded shard: fluid limit");
    report.compare(
        &case,
        "backlog slope λ−μ (writes/s)",
        lambda - mu,
        Estimate::from_replications(&column(|m| m.backlog_slope_per_s)),
    );
    report.compare(
        &case,
        "last write λW/μ (s)",
        fluid_last_departure_s(lambda, mu, window_s),
        Estimate::from_replications(&column(|m| m.last_write_s)),
    );
    report.compare(
        &case,
        "mean lag (λ−μ)W/2μ (s)",
        fluid_mean_delay_s(lambda, mu, window_s),
        Estimate::from_replications(&column(|m| m.mean_lag_s))
            .widened(mean_lag_s * HISTOGRAM_RESOLUTION),
    );
    report.finish();
}
