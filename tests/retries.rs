//! Timeouts and retries: the storm that feeds itself under `sync`, and not under `async`.
//!
//! A small storm (100K clients in about 1.2 s) against one Redis primary of 50K ops/s:
//! the primary is six times too slow at the peak, so under `sync` clients time out, and
//! their abandoned writes keep it saturated long after the storm: a metastable failure.

mod common;

use stormsim::metrics::RunOutcome;

const STORM: &str = r#"
seed = 7
[clients]
count = 100_000
profile = "peak"
window_s = 1.2
peak_at_s = 0.3
spread_s = 0.12
connect_timeout_s = 0.5
[clients.retry]
max_attempts = 8
initial_backoff_s = 0.2
max_backoff_s = 5
[connection_servers]
count = 2
[redis]
shards = 1
service = { distribution = "exponential", mean_us = 20 }
[messages]
rate_per_s = 20_000
[run]
horizon_s = 30
bucket_ms = 50
"#;

fn run(overrides: &[&str]) -> RunOutcome {
    common::run(STORM, overrides)
}

fn attempts_per_client(outcome: &RunOutcome) -> f64 {
    outcome.attempts as f64 / outcome.tally.clients_arrived as f64
}

#[test]
fn sync_enters_a_retry_storm_that_async_does_not() {
    let sync = run(&["registry.strategy=sync"]);
    let asynchronous = run(&["registry.strategy=async"]);

    assert!(
        attempts_per_client(&sync) > 2.0,
        "sync: {}",
        attempts_per_client(&sync)
    );
    assert!(
        sync.wasted_writes > 50_000,
        "sync wasted {}",
        sync.wasted_writes
    );
    assert!(sync.tally.writes_issued > sync.tally.clients_arrived);

    // Async clients only retry the rare rejection at a full accept queue.
    assert!(attempts_per_client(&asynchronous) < 1.01);
    assert_eq!(asynchronous.wasted_writes, 0);
    assert_eq!(asynchronous.tally.clients_connected, 100_000);
}

#[test]
fn longer_patience_means_fewer_attempts() {
    let impatient = run(&["registry.strategy=sync"]);
    let patient = run(&["registry.strategy=sync", "clients.connect_timeout_s=5"]);
    assert!(attempts_per_client(&patient) < attempts_per_client(&impatient));
    assert_eq!(patient.wasted_writes, 0);
}

#[test]
fn jitter_spreads_the_retries() {
    let waves = run(&["registry.strategy=sync", "clients.retry.jitter=none"]);
    let spread = run(&["registry.strategy=sync", "clients.retry.jitter=full"]);

    let peak = |outcome: &RunOutcome| {
        let series = &outcome.series;
        (0..series.arrivals.len())
            .skip(30)
            .map(|b| series.arrivals[b] + series.retries[b])
            .max()
            .unwrap()
    };
    // Past the first storm (1.5 s), the attempt rate's peak is a retry wave.
    assert!(
        peak(&spread) * 3 < peak(&waves) * 2,
        "{} vs {}",
        peak(&spread),
        peak(&waves)
    );
}

#[test]
fn abandoned_writes_leave_stale_entries_that_rewrites_clear() {
    // Patient enough (1 s, 30 attempts) that every client connects in the end; entries
    // outlive their connection by far longer than the run, so only a rewrite clears them.
    let sync = run(&[
        "registry.strategy=sync",
        "clients.connect_timeout_s=1",
        "clients.retry.max_attempts=30",
        "registry.on_disconnect=expire",
        "registry.entry_ttl_s=1000",
    ]);
    assert_eq!(sync.deletes, 0);
    assert!(sync.wasted_writes > 0);
    assert!(sync.messages_missed_stale > 0);
    assert!(sync.messages_missed_stale <= sync.tally.messages_missed);

    // Once every client has reconnected and its entry is rewritten, nothing misses.
    assert_eq!(sync.tally.clients_connected, 100_000);
    assert!(
        sync.all_registered_at.is_some(),
        "the storm drains within the horizon"
    );
    let missed = &sync.series.messages_missed;
    assert!(missed[missed.len() - 20..].iter().all(|&m| m == 0));

    let asynchronous = run(&["registry.strategy=async"]);
    assert_eq!(asynchronous.messages_missed_stale, 0);
}

#[test]
fn deleting_abandoned_entries_trades_stale_misses_for_shard_load() {
    let patient = [
        "registry.strategy=sync",
        "clients.connect_timeout_s=1",
        "clients.retry.max_attempts=30",
    ];
    let expire = run(&[&patient[..], &["registry.on_disconnect=expire"]].concat());
    let delete = run(&[&patient[..], &["registry.on_disconnect=delete"]].concat());

    // Every abandoned write that was applied is deleted right behind it, by one more
    // operation on the shard, so an entry is stale for one service time only.
    assert_eq!(
        delete.deletes,
        delete.wasted_writes - delete.tally.writes_pending
    );
    assert!(
        delete.messages_missed_stale * 100 < expire.messages_missed_stale,
        "delete {} vs expire {}",
        delete.messages_missed_stale,
        expire.messages_missed_stale
    );
    // The deletes are extra work for the overloaded shard: the storm feeds itself harder.
    assert!(attempts_per_client(&delete) > attempts_per_client(&expire));
}

#[test]
fn clients_that_exhaust_their_attempts_are_counted_as_given_up() {
    let outcome = run(&["registry.strategy=sync", "clients.retry.max_attempts=1"]);
    assert!(outcome.tally.clients_gave_up > 0);
    assert_eq!(attempts_per_client(&outcome), 1.0);
    assert_eq!(
        outcome.tally.clients_connected
            + outcome.tally.clients_gave_up
            + outcome.tally.clients_in_progress,
        100_000
    );
}
