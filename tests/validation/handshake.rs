//! A connection server's handshake stage as M/M/c, Erlang C
//! (`experiments/validation/handshake-erlang-c.toml`).
//!
//! One server, `c` workers, exponential handshakes, an asynchronous registry on a 1 ns
//! shard: the connect latency is the wait for a worker plus the handshake. Three things
//! are compared with theory, each measured differently:
//!
//! - the mean wait, from the connect-latency histogram (mean minus the mean handshake);
//! - the mean queue, from the time-averaged handshake queue of the time series;
//! - the probability of waiting. The model keeps no count of clients that waited, so it
//!   is read off the connect-latency distribution near zero: a client that did not wait
//!   connects within `t` with probability `F_S(t)` (its handshake alone), one that waited
//!   with the hypoexponential `G(t)`, so `P(T ≤ t) = (1 − C) F_S(t) + C G(t)` and
//!   `C = (F_S(t) − P(T ≤ t)) / (F_S(t) − G(t))`, taken at `t` = half a mean handshake.
//!
//! The heaviest point relaxes in about 12 ms (`1 / (cμ (1 − √ρ)²)`); the time series
//! skip a 0.2 s warm-up, and the histogram's start-up bias is a few tenths of a percent
//! of a 5 s window, inside the interval.

use stormsim::config::{Scenario, ServiceTime};
use stormsim::metrics::{LatencyHistogram, RunOutcome};

use super::replicate::{
    HISTOGRAM_RESOLUTION, arrival_rate_per_s, load_variant, ns_to_s, replicate, steady_average,
};
use super::report::{Estimate, Report};
use super::theory::{erlang_c, mmc_mean_wait_s, mmc_waited_sojourn_cdf};

const FILE: &str = "handshake-erlang-c.toml";
const REPLICATIONS: u64 = 20;
const WARMUP_S: f64 = 0.2;

/// The M/M/c parameters of a scenario, read from it.
struct Station {
    arrival_rate_per_s: f64,
    service_rate_per_s: f64,
    workers: u32,
}

impl Station {
    fn of(scenario: &Scenario) -> Self {
        assert_eq!(scenario.servers, 1);
        assert!(matches!(
            scenario.handshake,
            ServiceTime::Exponential { .. }
        ));
        Self {
            arrival_rate_per_s: arrival_rate_per_s(scenario),
            service_rate_per_s: 1.0 / ns_to_s(scenario.handshake.mean_ns()),
            workers: scenario.handshake_workers,
        }
    }

    fn offered_erlangs(&self) -> f64 {
        self.arrival_rate_per_s / self.service_rate_per_s
    }

    /// `C` estimated from the share of connections that took at most `t_s`.
    fn waiting_probability_from(&self, share_within: f64, t_s: f64) -> f64 {
        let unwaited = 1.0 - (-self.service_rate_per_s * t_s).exp();
        let waited = mmc_waited_sojourn_cdf(
            self.arrival_rate_per_s,
            self.service_rate_per_s,
            self.workers,
            t_s,
        );
        (unwaited - share_within) / (unwaited - waited)
    }
}

/// The share of recorded values at most `t_ms`, by bisection over the histogram's
/// quantiles (it offers quantiles, not a CDF).
fn share_at_most(histogram: &LatencyHistogram, t_ms: f64) -> f64 {
    let total = histogram.count();
    let (mut below, mut above) = (0u64, total + 1);
    while above - below > 1 {
        let middle = (below + above) / 2;
        // The quantile whose rank rounds up to `middle`: the `middle`-th smallest value.
        let q = (middle as f64 - 0.5) / total as f64;
        if histogram.quantile_ms(q) <= t_ms {
            below = middle;
        } else {
            above = middle;
        }
    }
    below as f64 / total as f64
}

struct Measured {
    mean_wait_s: f64,
    connect_mean_s: f64,
    mean_queue: f64,
    waiting_probability: f64,
}

fn measure(scenario: &Scenario, station: &Station, outcome: &RunOutcome) -> Measured {
    let service_s = 1.0 / station.service_rate_per_s;
    let connect_mean_s = outcome.connect_latency.mean_ms() / 1e3;
    let t_s = service_s / 2.0;
    let share = share_at_most(&outcome.connect_latency, t_s * 1e3);
    Measured {
        mean_wait_s: connect_mean_s - service_s,
        connect_mean_s,
        mean_queue: steady_average(&outcome.series.handshake_queue, scenario, WARMUP_S),
        waiting_probability: station.waiting_probability_from(share, t_s),
    }
}

fn validate(report: &mut Report, variant: &str) {
    let scenario = load_variant(FILE, variant);
    let station = Station::of(&scenario);
    let waiting = erlang_c(station.workers, station.offered_erlangs());
    let wait_s = mmc_mean_wait_s(
        station.arrival_rate_per_s,
        station.service_rate_per_s,
        station.workers,
    );

    let runs = replicate(&scenario, REPLICATIONS, |outcome| {
        measure(&scenario, &station, outcome)
    });
    let column = |f: fn(&Measured) -> f64| runs.iter().map(f).collect::<Vec<f64>>();
    let connect_mean_s = column(|m| m.connect_mean_s).iter().sum::<f64>() / runs.len() as f64;

    let rho = station.offered_erlangs() / f64::from(station.workers);
    let case = format!("{variant} c={} ρ={rho:.2}", station.workers);
    report.compare(
        &case,
        "P(wait) (Erlang C)",
        waiting,
        Estimate::from_replications(&column(|m| m.waiting_probability)),
    );
    let waits = Estimate::from_replications(&column(|m| m.mean_wait_s))
        .widened(connect_mean_s * HISTOGRAM_RESOLUTION);
    report.compare(&case, "mean wait W_q (µs)", wait_s * 1e6, waits.scaled(1e6));
    report.compare(
        &case,
        "mean queue L_q",
        station.arrival_rate_per_s * wait_s,
        Estimate::from_replications(&column(|m| m.mean_queue)),
    );
}

#[test]
fn handshake_workers_are_an_mmc_queue() {
    let mut report = Report::new("Handshake stage: M/M/c (Erlang C)");
    for variant in ["light", "medium", "heavy"] {
        validate(&mut report, variant);
    }
    report.finish();
}
