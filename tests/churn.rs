//! Flaky connections (`clients.churn`) and the `coalesced` strategy.
//!
//! A connection that drops on its own sends its client back to connecting; under the
//! async strategies its registry write may still be queued then, and is outdated: `async`
//! sends it anyway (wasted work), `coalesced` drops it.

mod common;

use stormsim::config::ChurnPolicy;
use stormsim::metrics::RunOutcome;
use stormsim::model::churn::Churn;

/// 20K clients over 10 s, evenly spaced, on four servers; one primary, fast enough for
/// the storm, and a retry back-off of exactly 100 ms.
const STORM: &str = r#"
seed = 5
[clients]
count = 20_000
profile = "uniform"
window_s = 10
[clients.retry]
jitter = "none"
initial_backoff_s = 0.1
[balancer]
policy = "round-robin"
[connection_servers]
count = 4
handshake = { distribution = "deterministic", mean_us = 100 }
[redis]
shards = 1
[messages]
rate_per_s = 2_000
[run]
horizon_s = 60
"#;

/// An overloaded registry, small: 60K clients in 3 s (35K/s at the peak) at a primary of
/// 10K operations/s, a fifth of it taken by lookups, so writes queue for seconds on the
/// servers; and 30% of the connections drop, after a second on average.
const OVERLOADED: &str = r#"
seed = 9
[clients]
count = 60_000
profile = "peak"
window_s = 3
[clients.churn]
flaky_share = 0.3
mean_connected_s = 1
[connection_servers]
count = 8
[redis]
shards = 1
service = { distribution = "exponential", mean_us = 100 }
[messages]
rate_per_s = 2_000
[run]
horizon_s = 30
"#;

fn run(text: &str, overrides: &[&str]) -> RunOutcome {
    common::run(text, overrides)
}

#[test]
fn drops_follow_the_flaky_share() {
    let outcome = run(
        STORM,
        &[
            "registry.strategy=placement",
            "clients.churn.flaky_share=0.2",
            "clients.churn.mean_connected_s=0.5",
        ],
    );

    // Each connection drops with probability 0.2 and its client reconnects, so a client
    // drops a geometric number of times, 0.25 on average (variance 0.3125): 5,000 drops
    // for 20K clients, σ = 79. A chain still running at the horizon is unlikely: lives
    // are 0.5 s long and the horizon is 50 s after the last arrival.
    let dropped = outcome.connections_dropped as f64;
    assert!((dropped - 5_000.0).abs() < 5.0 * 79.0, "{dropped}");
    assert_eq!(outcome.disconnections, outcome.connections_dropped);
    assert_eq!(outcome.attempts, 20_000 + outcome.connections_dropped);
    assert_eq!(outcome.tally.clients_connected, 20_000);
}

#[test]
fn a_flaky_client_reconnects_after_each_drop_as_computed_by_hand() {
    // One client, every connection flaky: it arrives at 5 s (the middle of the window),
    // connects a handshake later, drops, waits 100 ms, connects again, and so on.
    let outcome = run(
        STORM,
        &[
            "clients.count=1",
            "registry.strategy=placement",
            "clients.churn.flaky_share=1",
            "clients.churn.mean_connected_s=2",
        ],
    );

    let policy = ChurnPolicy {
        flaky_share: 1.0,
        mean_connected_ns: 2e9,
    };
    let churn = Churn::new(policy, 5);
    let (handshake, backoff, horizon) = (100_000, 100_000_000, 60_000_000_000);
    let mut connected_at = 5_000_000_000 + handshake;
    let (mut drops, mut reconnects) = (0, 0);
    while let Some(drop) = churn.drops_at(0, connected_at).filter(|&d| d < horizon) {
        drops += 1;
        connected_at = drop + backoff + handshake;
        if connected_at >= horizon {
            break;
        }
        reconnects += 1;
    }
    assert!(drops > 10, "{drops}");
    assert_eq!(outcome.connections_dropped, drops);
    // A retry that would start after the horizon is not made.
    assert!(outcome.attempts == 1 + drops || outcome.attempts == drops);
    assert_eq!(outcome.reconnect_latency.count(), reconnects);
    // Back-off and handshake, to the histogram's three significant digits.
    let slowest = outcome.reconnect_latency.max_ms();
    assert!((slowest - 100.1).abs() < 0.2, "{slowest}");
}

#[test]
fn without_churn_coalesced_is_async_event_for_event() {
    // Crashes, an outage and timeouts, but no connection drops on its own: nothing is
    // ever outdated, so `coalesced` drops nothing.
    let faults = [
        "faults.server_crashes=[{ server = 1, at_s = 2 }]",
        "faults.shard_outages=[{ shard = 0, at_s = 1.5, duration_s = 1 }]",
        "redis.outage_mode=fail",
        "clients.retry.max_attempts=4",
    ];
    let with = |strategy: &str| {
        let mut overrides = vec![strategy];
        overrides.extend(faults);
        run(
            OVERLOADED,
            &[&overrides[..], &["clients.churn.flaky_share=0"]].concat(),
        )
    };
    let asynchronous = with("registry.strategy=async");
    let coalesced = with("registry.strategy=coalesced");
    assert_eq!(coalesced.fingerprint, asynchronous.fingerprint);
    assert_eq!(coalesced.tally, asynchronous.tally);
    assert_eq!(coalesced.tally.writes_coalesced, 0);
    assert!(asynchronous.disconnections > 0);
}

#[test]
fn coalesced_drops_outdated_writes_that_async_sends() {
    let asynchronous = run(OVERLOADED, &["registry.strategy=async"]);
    let coalesced = run(OVERLOADED, &["registry.strategy=coalesced"]);

    // The storm is the same, and so are the drops before the first outdated write.
    assert!(asynchronous.connections_dropped > 10_000);

    // Async sends every outdated write: wasted work, which delays everyone's entry.
    assert_eq!(asynchronous.tally.writes_coalesced, 0);
    assert!(
        asynchronous.wasted_writes > 5_000,
        "{}",
        asynchronous.wasted_writes
    );

    // Coalesced sends none of them.
    assert_eq!(coalesced.wasted_writes, 0);
    assert!(coalesced.tally.writes_coalesced > 5_000);
    assert!(
        coalesced.tally.writes_applied + coalesced.tally.writes_coalesced
            <= asynchronous.tally.writes_applied + asynchronous.tally.writes_coalesced + 2_000
    );

    // Fewer writes, so shorter lag and a smaller queue.
    let lag = |o: &RunOutcome| o.registry_lag.quantile_ms(0.99);
    assert!(
        lag(&coalesced) < 0.9 * lag(&asynchronous),
        "coalesced {} ms, async {} ms",
        lag(&coalesced),
        lag(&asynchronous)
    );
    assert!(coalesced.peak_registry_queue < asynchronous.peak_registry_queue);
    assert!(coalesced.tally.messages_missed < asynchronous.tally.messages_missed);
}

#[test]
fn a_dropped_connection_entry_is_deleted_or_expires() {
    // Each user receives a message a second; a fifth of the connections drop.
    let churn = [
        "registry.strategy=sync",
        "messages.rate_per_s=20_000",
        "clients.churn.flaky_share=0.2",
    ];

    // Under sync every dropped connection had its entry: the server deletes it, and the
    // idle primary applies the delete within microseconds.
    let delete = run(STORM, &churn);
    assert_eq!(delete.deletes, delete.connections_dropped);
    assert!(
        delete.messages_missed_stale < 5,
        "{}",
        delete.messages_missed_stale
    );

    // Or it lives on, sending the user's messages to a server that no longer holds it,
    // until the user's next entry replaces it: the 100 ms back-off plus a handshake.
    let expire = run(
        STORM,
        &[&churn[..], &["registry.on_disconnect=expire"]].concat(),
    );
    assert_eq!(expire.deletes, 0);
    let expected = expire.connections_dropped as f64 * 0.1001;
    let stale = expire.messages_missed_stale as f64;
    assert!(
        (stale - expected).abs() < 5.0 * expected.sqrt(),
        "{stale} stale misses, {expected} expected"
    );
    assert_eq!(expire.messages_missed_stale, expire.tally.messages_missed);
}

#[test]
fn every_strategy_keeps_the_conservation_laws_under_churn_and_faults() {
    let strategies = [
        "sync",
        "async",
        "coalesced",
        "async-batched",
        "placement",
        "lazy",
    ];
    let mixes: [&[&str]; 3] = [
        &[],
        &[
            "faults.server_crashes=[{ server = 2, at_s = 1.5 }]",
            "faults.shard_outages=[{ shard = 0, at_s = 1, duration_s = 2 }]",
            "redis.outage_mode=fail",
            "clients.connect_timeout_s=2",
            "clients.retry.max_attempts=3",
        ],
        &[
            "network.rtt={ distribution = \"lognormal\", mean_us = 500, cv = 1 }",
            "registry.on_disconnect=expire",
            "messages.rate_basis=per-connected-user",
            "messages.rate_per_s=0.5",
            "faults.shard_outages=[{ shard = 0, at_s = 2, duration_s = 1 }]",
        ],
    ];
    for strategy in strategies {
        for mix in mixes {
            let mut overrides = vec![format!("registry.strategy={strategy}")];
            overrides.extend(mix.iter().map(|o| o.to_string()));
            let overrides: Vec<&str> = overrides.iter().map(String::as_str).collect();
            // `run` checks the laws.
            let outcome = run(OVERLOADED, &overrides);
            assert!(outcome.connections_dropped > 0, "{strategy} {mix:?}");
        }
    }
}

#[test]
fn the_time_series_totals_follow_the_drops() {
    for strategy in ["sync", "async", "coalesced", "placement", "lazy"] {
        let outcome = run(
            OVERLOADED,
            &[
                &format!("registry.strategy={strategy}"),
                "faults.server_crashes=[{ server = 3, at_s = 2 }]",
            ],
        );
        let series = &outcome.series;
        let total = |column: &[u64]| column.iter().sum::<u64>();
        let connected = total(&series.connected) - total(&series.disconnected);
        assert_eq!(connected, outcome.tally.clients_connected, "{strategy}");
        // Reachable users are a subset of those connected.
        let registered = total(&series.registered) - total(&series.deregistered);
        assert!(
            registered <= connected,
            "{strategy}: {registered} > {connected}"
        );
    }
}

#[test]
fn writes_still_queued_at_the_horizon_stay_in_the_registry_queue() {
    // Every connection drops within about 10 ms, so outdated writes pile up faster than
    // the primary drains them, and the queue is full at the horizon.
    let outcome = run(
        OVERLOADED,
        &[
            "registry.strategy=async",
            "clients.churn.flaky_share=1",
            "clients.churn.mean_connected_s=0.01",
            "run.horizon_s=5",
        ],
    );
    let pending = outcome.tally.writes_pending as f64;
    let last = *outcome.series.registry_queue.last().unwrap();
    // The queue grows during the last 100 ms bucket, so its mean there is a little below
    // the count at the horizon (which also holds the writes in flight, 64 at most).
    assert!(pending > 100_000.0, "{pending}");
    assert!(
        last > 0.95 * pending && last <= pending,
        "{last} queued in the last bucket, {pending} pending"
    );
}
