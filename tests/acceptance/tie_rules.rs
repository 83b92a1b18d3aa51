//! The rules for simultaneous instants, seen from outside: evenly spaced arrivals and
//! deterministic service times make events coincide to the nanosecond, so the outcome
//! can be worked out by hand and differs sharply if a rule changes.
//!
//! One server with one handshake worker and no accept queue receives 1000 clients over
//! one second, one every millisecond (at 0.5 ms, 1.5 ms, ...): a client is connected only
//! if the worker is free at the instant it arrives.

use super::common::{Scratch, run_ok, summary};

const TIES: &str = r#"
seed = 5

[clients]
count = 1000
profile = "uniform"
window_s = 1

[connection_servers]
count = 1
workers = 1
accept_queue = 0
handshake = { distribution = "deterministic", mean_us = 1000 }

[registry]
strategy = "sync"

[redis]
shards = 1
service = { distribution = "deterministic", mean_us = 100 }

[messages]
rate_per_s = 0

[run]
horizon_s = 2
"#;

/// Runs the scenario with `args` and returns its summary row.
fn run_ties(args: &[&str]) -> stormsim::report::SummaryRow {
    let scratch = Scratch::new("ties", TIES);
    run_ok(scratch.experiment(), &scratch.out(), args);
    summary(&scratch.out().join("ties/base"))
}

#[test]
fn a_worker_freed_at_an_arrival_instant_serves_that_arrival() {
    // Each handshake ends at the very nanosecond the next client arrives.
    let row = run_ties(&[]);
    assert_eq!((row.connected, row.rejected), (1000, 0));

    // One nanosecond longer and every second client finds the worker busy.
    let row = run_ties(&["--set", "connection_servers.handshake.mean_us=1000.001"]);
    assert_eq!((row.connected, row.rejected), (500, 500));
}

#[test]
fn an_event_exactly_at_the_horizon_does_not_run() {
    // The last client arrives at 999.5 ms; its handshake ends at 999.9 ms and, under
    // sync, its registry write is applied at 1000 ms: the horizon itself.
    let horizon = [
        "--set",
        "run.horizon_s=1",
        "--set",
        "connection_servers.handshake.mean_us=400",
    ];
    let row = run_ties(&horizon);
    assert_eq!((row.connected, row.in_progress), (999, 1));
    assert_eq!((row.writes_applied, row.writes_pending), (999, 1));
    assert_eq!(row.all_registered_at_s, None);

    let just_before = [&horizon[..], &["--set", "redis.service.mean_us=99.999"]].concat();
    let row = run_ties(&just_before);
    assert_eq!((row.connected, row.in_progress), (1000, 0));

    // Under async the handshake's own end is the event: at 1000 ms it does not run either.
    let row = run_ties(&[
        "--set",
        "registry.strategy=async",
        "--set",
        "run.horizon_s=1",
        "--set",
        "connection_servers.handshake.mean_us=500",
    ]);
    assert_eq!((row.connected, row.in_progress), (999, 1));
    assert_eq!(row.writes_issued, 999);
}

#[test]
fn the_side_by_side_table_shows_the_worked_out_figures() {
    // Every client: a 1 ms handshake, then a 0.1 ms write on an idle shard. Latencies are
    // kept to three significant digits (1.1 ms shows as 1.101).
    let scratch = Scratch::new("ties", TIES);
    let stdout = run_ok(scratch.experiment(), &scratch.out(), &[]);
    let expected = format!(
        "                          base
strategy                  sync
connected                1,000
rejected                     0
connect p50 (ms)         1.101
connect p99 (ms)         1.101
registry lag p99 (ms)    0.000
messages missed              0
miss rate              0.0000%
peak registry queue          0
peak shard queue             1
all registered at (s)    1.001
events                   2,000

results: {}
",
        scratch.out().join("ties").display()
    );
    // Charts and reports, when written, are announced after the table: not tested here.
    assert!(stdout.starts_with(&expected), "{stdout}");
}
