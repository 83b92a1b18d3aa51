//! A finite accept queue as M/M/c/K (`experiments/validation/accept-queue-mmck.toml`).
//!
//! One server, `c` workers with exponential handshakes and `accept_queue = K − c` places
//! to wait: by PASTA, the share of Poisson arrivals that find all `K` places taken, and
//! are rejected, is the stationary probability `p_K`. These stations relax within a few
//! handshakes (milliseconds), against windows of 20 to 50 s, so counting every client
//! from the start costs no visible bias.

use stormsim::config::ServiceTime;

use super::replicate::{arrival_rate_per_s, load_variant, ns_to_s, replicate};
use super::report::{Estimate, Report};
use super::theory::mmck_blocking;

const FILE: &str = "accept-queue-mmck.toml";
const REPLICATIONS: u64 = 20;

fn validate(report: &mut Report, variant: &str) {
    let scenario = load_variant(FILE, variant);
    assert_eq!(scenario.servers, 1);
    assert!(matches!(
        scenario.handshake,
        ServiceTime::Exponential { .. }
    ));
    assert!(scenario.max_connections >= scenario.clients);
    let offered = arrival_rate_per_s(&scenario) * ns_to_s(scenario.handshake.mean_ns());
    let workers = scenario.handshake_workers;
    let capacity = workers + scenario.accept_queue;

    let rejected_shares = replicate(&scenario, REPLICATIONS, |outcome| {
        assert_eq!(outcome.rejected_server_full, 0);
        outcome.tally.clients_rejected as f64 / outcome.tally.clients_arrived as f64
    });
    report.compare(
        &format!("{variant} c={workers} K={capacity} a={offered:.1}"),
        "P(rejected) = p_K",
        mmck_blocking(offered, workers, capacity),
        Estimate::from_replications(&rejected_shares),
    );
}

#[test]
fn a_finite_accept_queue_blocks_as_mmck() {
    let mut report = Report::new("Accept queue: M/M/c/K blocking");
    for variant in ["erlang-b", "finite-queue", "overloaded"] {
        validate(&mut report, variant);
    }
    report.finish();
}
