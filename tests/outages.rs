//! Redis primary outages and their failover: operations that wait for the promoted
//! replica, or fail and make their clients try again, and messages whose lookups meet a
//! primary that is down.
//!
//! A small storm (40K clients evenly spread over 2 s) on four servers and one primary of
//! 200K ops/s (a load of 0.1 at most), so that nothing queues but what the outage holds
//! back. Primary 0 goes down at 0.5 s, in the middle of the storm, for one second.

mod common;

use stormsim::metrics::RunOutcome;

const STORM: &str = r#"
seed = 5
[clients]
count = 40_000
profile = "uniform"
window_s = 2
[clients.retry]
max_attempts = 30
initial_backoff_s = 0.2
max_backoff_s = 0.5
jitter = "full"
[balancer]
policy = "round-robin"
[connection_servers]
count = 4
handshake = { distribution = "deterministic", mean_us = 100 }
[redis]
shards = 1
service = { distribution = "deterministic", mean_us = 5 }
[messages]
rate_per_s = 20_000
lookups_load_shards = false
[run]
horizon_s = 10
[[faults.shard_outages]]
shard = 0
at_s = 0.5
duration_s = 1
"#;

const CLIENTS: u64 = 40_000;

fn run(overrides: &[&str]) -> RunOutcome {
    common::run(STORM, overrides)
}

#[test]
fn waiting_writes_are_applied_at_the_failover() {
    // Clients whose handshake ends during the outage (half of the storm, 20,000) wait for
    // the replica: under sync their connection, under async their entry. Those before
    // the outage (10,000) and after the replica has caught up (about 8,000, since it
    // serves the 20,000 waiting writes in 0.1 s) do not wait at all.
    let sync = run(&["registry.strategy=sync"]);
    assert_eq!(sync.tally.clients_connected, CLIENTS);
    assert_eq!(sync.writes_failed, 0);
    assert_eq!(sync.attempts, CLIENTS);
    let connect_max = sync.connect_latency.max_ms();
    assert!((999.0..1_001.0).contains(&connect_max), "{connect_max}");
    assert!(sync.connect_latency.quantile_ms(0.4) < 1.0);
    assert!(sync.connect_latency.quantile_ms(0.5) > 50.0);
    assert_eq!(sync.peak_shard_queue, 20_000);

    let asynchronous = run(&["registry.strategy=async"]);
    assert_eq!(asynchronous.tally.writes_applied, CLIENTS);
    assert_eq!(asynchronous.writes_failed, 0);
    let lag_max = asynchronous.registry_lag.max_ms();
    assert!((999.0..1_001.0).contains(&lag_max), "{lag_max}");
    let connect_max = asynchronous.connect_latency.max_ms();
    assert!(connect_max < 1.0, "{connect_max}");
}

#[test]
fn failing_sync_writes_fail_their_attempts_and_clients_retry() {
    let outcome = run(&["registry.strategy=sync", "redis.outage_mode=fail"]);

    // Every client whose handshake ends in the outage fails at least once, and retries
    // that land in it fail again.
    assert!(outcome.writes_failed >= 20_000, "{}", outcome.writes_failed);
    assert_eq!(outcome.attempts, CLIENTS + outcome.writes_failed);
    assert_eq!(outcome.tally.writes_lost, outcome.writes_failed);
    assert_eq!(outcome.tally.clients_connected, CLIENTS);
    assert_eq!(outcome.tally.clients_gave_up, 0);

    // Nobody waits for the replica: a client is connected before the outage, or after
    // it by a retry, whose back-off (at most 0.5 s) ends within 0.5 s of the failover.
    let connect_max = outcome.connect_latency.max_ms();
    assert!((1_000.0..1_600.0).contains(&connect_max), "{connect_max}");
}

#[test]
fn failing_async_writes_cut_their_connections_and_clients_reconnect() {
    let outcome = run(&["registry.strategy=async", "redis.outage_mode=fail"]);

    // Each failed write cost its client its connection.
    assert!(outcome.writes_failed >= 20_000, "{}", outcome.writes_failed);
    assert_eq!(outcome.disconnections, outcome.writes_failed);
    assert_eq!(
        outcome.tally.writes_issued,
        outcome.tally.writes_applied + outcome.writes_failed
    );
    assert_eq!(outcome.tally.clients_connected, CLIENTS);
    assert_eq!(outcome.tally.writes_applied, CLIENTS);

    // The 10,000 users registered before the outage miss during it: 20,000 messages a
    // second to a quarter of the users for a second, a Poisson count of mean 5,000
    // (standard deviation 71). A failed write is known at once, so its user is cut
    // off, not left connected without an entry.
    let outage_misses = outcome.messages_missed_outage as f64;
    assert!(
        (outage_misses - 5_000.0).abs() < 5.0 * 71.0,
        "{outage_misses}"
    );
}

#[test]
fn lookups_during_an_outage_miss_until_the_failover() {
    // The outage comes after the storm: every user is registered, so every message in
    // the outage misses, and is delivered at the failover. 20,000 messages a second for
    // a second is a Poisson count of mean 20,000 (standard deviation 141).
    for mode in ["wait", "fail"] {
        let outcome = run(&[
            "registry.strategy=async",
            &format!("redis.outage_mode={mode}"),
            "faults.shard_outages=[{ shard = 0, at_s = 5, duration_s = 1 }]",
        ]);
        let missed = outcome.messages_missed_outage as f64;
        assert!((missed - 20_000.0).abs() < 5.0 * 141.0, "{mode}: {missed}");
        assert_eq!(
            outcome.tally.messages_missed,
            outcome.messages_missed_outage
        );
        assert_eq!(outcome.messages_missed_undelivered, 0);
        let delay_max = outcome.miss_delay.max_ms();
        // The histogram keeps three significant digits.
        assert!((990.0..1_001.0).contains(&delay_max), "{mode}: {delay_max}");
        assert_eq!(outcome.writes_failed, 0);
    }
}

#[test]
fn without_a_registry_an_outage_changes_nothing() {
    let quiet = |strategy: &str, outages: &str| {
        run(&[
            &format!("registry.strategy={strategy}"),
            &format!("faults.shard_outages={outages}"),
        ])
    };
    for strategy in ["placement", "lazy"] {
        let with = quiet(strategy, "[{ shard = 0, at_s = 0.5, duration_s = 1 }]");
        let without = quiet(strategy, "[]");
        assert_eq!(with.fingerprint, without.fingerprint, "{strategy}");
        assert_eq!(with.tally, without.tally, "{strategy}");
    }
}

#[test]
fn bad_outages_are_refused_on_one_line() {
    let parse = |set: &str| common::parse(STORM, &[set]).err().unwrap_or_default();
    let cases = [
        (
            "faults.shard_outages=[{ shard = 1, at_s = 1, duration_s = 1 }]",
            "key 'faults.shard_outages[0].shard' = 1: a primary index from 0 to 0 \
             (redis.shards - 1)",
        ),
        (
            "faults.shard_outages=[{ shard = 0, at_s = 1, duration_s = -1 }]",
            "key 'faults.shard_outages[0].duration_s' = -1: a number of seconds greater than 0",
        ),
        (
            "redis.outage_mode=retry",
            "key 'redis.outage_mode' = 'retry': one of 'wait', 'fail'",
        ),
    ];
    for (set, expected) in cases {
        let message = parse(set);
        assert!(message.ends_with(expected), "{set}: {message}");
        assert!(!message.contains('\n'), "{message}");
    }
}

#[test]
fn the_queue_left_by_one_outage_waits_through_the_next() {
    // The replica serves the 20,000 writes held by the first outage from 1.5 s to about
    // 1.6 s, and goes down itself at 1.55 s: nobody connects again before 2.05 s (but a
    // write that completes at 1.55 s exactly, as the primary goes down).
    let outcome = run(&[
        "registry.strategy=sync",
        "run.bucket_ms=10",
        "faults.shard_outages=[{ shard = 0, at_s = 0.5, duration_s = 1 }, \
         { shard = 0, at_s = 1.55, duration_s = 0.5 }]",
    ]);
    let connected = &outcome.series.connected;
    assert!(connected[150..155].iter().sum::<u64>() > 5_000);
    assert!(connected[155] <= 1);
    assert_eq!(connected[156..205].iter().sum::<u64>(), 0);
    assert!(connected[205] > 0);
    assert_eq!(outcome.tally.clients_connected, CLIENTS);
}
