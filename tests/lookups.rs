//! Lookups follow the messages when messages are sent per connected user: the primaries
//! serve one lookup per message sent, whatever the strategy, and a client cut off by a
//! failed write stops sending.
//!
//! 20K clients evenly over 10 s on 4 servers and one primary, each connected user sending
//! 20 messages a second (5 under the fault).

mod common;

use stormsim::metrics::RunOutcome;

const STORM: &str = r#"
seed = 7
[clients]
count = 20_000
profile = "uniform"
window_s = 10
[connection_servers]
count = 4
[redis]
shards = 1
[messages]
rate_basis = "per-connected-user"
rate_per_s = 20
[run]
horizon_s = 20
"#;

fn run(overrides: &[&str]) -> RunOutcome {
    common::run(STORM, overrides)
}

/// Two counts with the same expected value, within five standard deviations of their
/// difference (each about Poisson).
fn alike(a: u64, b: u64) -> bool {
    let (a, b) = (a as f64, b as f64);
    (a - b).abs() < 5.0 * (a + b).sqrt()
}

#[test]
fn each_message_is_one_lookup() {
    // Under sync the primary's queue holds connections back for seconds: lookups must
    // follow the users connected, not those whose write was merely sent.
    for strategy in ["sync", "async"] {
        let outcome = run(&[&format!("registry.strategy={strategy}")]);
        let (lookups, sent) = (outcome.lookups, outcome.tally.messages_sent);
        assert!(
            alike(lookups, sent),
            "{strategy}: {lookups} lookups, {sent} sent"
        );
    }
}

#[test]
fn a_client_cut_off_by_a_failed_write_stops_sending() {
    // Under `fail` every write to the dead primary cuts its client off, who reconnects
    // and fails again until the failover: fewer users are connected than without the
    // outage, so fewer messages are sent, never more.
    let calm = run(&["registry.strategy=async", "messages.rate_per_s=5"]);
    let outage = run(&[
        "registry.strategy=async",
        "messages.rate_per_s=5",
        "redis.outage_mode=fail",
        "faults.shard_outages=[{ shard = 0, at_s = 3, duration_s = 4 }]",
    ]);
    assert!(outage.writes_failed > 1_000, "{}", outage.writes_failed);
    let (calm_sent, outage_sent) = (calm.tally.messages_sent, outage.tally.messages_sent);
    assert!(outage_sent < calm_sent, "{outage_sent} against {calm_sent}");
    // 20K users at 5 a second for 20 s is the most there could be.
    assert!(outage_sent < 2_000_000);
}
