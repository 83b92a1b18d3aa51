//! Connection server crashes: disconnects, reconnects, lost writes and stale entries.
//!
//! A small storm (40K clients in 2 s) on four servers, round-robin, with shards fast
//! enough that nothing queues for long; server 0 dies at 5 s, after the storm, so each
//! strategy's reaction to the crash is seen on its own.

mod common;

use stormsim::metrics::RunOutcome;

const STORM: &str = r#"
seed = 11
[clients]
count = 40_000
profile = "uniform"
window_s = 2
[clients.retry]
max_attempts = 5
jitter = "none"
[balancer]
policy = "round-robin"
[connection_servers]
count = 4
[redis]
shards = 8
[messages]
rate_per_s = 40_000
[run]
horizon_s = 20
[[faults.server_crashes]]
server = 0
at_s = 5
"#;

fn run(overrides: &[&str]) -> RunOutcome {
    common::run(STORM, overrides)
}

#[test]
fn a_crash_disconnects_its_clients_and_they_reconnect_elsewhere() {
    for strategy in ["sync", "async"] {
        let outcome = run(&[&format!("registry.strategy={strategy}")]);

        // Round-robin put exactly a quarter of the clients on server 0.
        assert_eq!(outcome.disconnections, 10_000, "{strategy}");
        assert_eq!(outcome.attempts, 50_000, "{strategy}");
        assert_eq!(outcome.tally.clients_connected, 40_000, "{strategy}");
        assert_eq!(outcome.tally.writes_applied, 50_000, "{strategy}");

        // Without jitter every client reconnects 1 s after the crash; the handshakes of
        // 10,000 clients on three servers of 32 workers queue, about 26 ms at most.
        let p50 = outcome.reconnect_latency.quantile_ms(0.5);
        assert!((1_000.0..1_030.0).contains(&p50), "{strategy}: {p50}");
    }
}

#[test]
fn stale_entries_miss_until_the_new_entry_is_written() {
    let outcome = run(&["registry.strategy=sync"]);

    // 10,000 users, each 1 messages/s, stale for the reconnect's 1 s (plus the handshake
    // queue): about 10,000 stale misses, a Poisson count (sd 100).
    let stale = outcome.messages_missed_stale as f64;
    assert!((9_500.0..10_800.0).contains(&stale), "{stale}");
    assert_eq!(outcome.messages_missed_stale, outcome.tally.messages_missed);

    // They vanish once the entries are rewritten, and are all delivered then.
    let missed = &outcome.series.messages_missed;
    let after_reconnect = 62; // buckets of 100 ms: from 6.2 s on
    assert!(missed[after_reconnect..].iter().all(|&m| m == 0));
    assert_eq!(outcome.messages_missed_undelivered, 0);
    let p99 = outcome.miss_delay.quantile_ms(0.99);
    assert!(p99 <= 1_030.0, "{p99}");
}

#[test]
fn entries_that_expire_stop_misdirecting_messages() {
    let delete = run(&["registry.strategy=sync"]);
    let expire = run(&[
        "registry.strategy=sync",
        "registry.on_disconnect=expire",
        "registry.entry_ttl_s=0.25",
    ]);

    // A crashed server deletes nothing: under `delete` the entries stay stale until
    // rewritten (1 s); with a 250 ms TTL they are stale for a quarter of that, and the
    // messages of the rest of the gap find no entry: offline.
    let ratio = expire.messages_missed_stale as f64 / delete.messages_missed_stale as f64;
    assert!((0.2..0.3).contains(&ratio), "{ratio}");
    assert!(expire.tally.messages_offline > delete.tally.messages_offline);
}

#[test]
fn queued_async_writes_die_with_their_server() {
    // One slow shard (5K writes/s, or 6.4K/s in pipelines of 16): at 5 s the backlog is
    // deep, and server 0's share is lost, whether it waits in a plain queue or in batches.
    for strategy in ["async", "async-batched"] {
        let outcome = run(&[
            &format!("registry.strategy={strategy}"),
            "redis.shards=1",
            "redis.service.mean_us=200",
            "redis.pipeline.overhead_us=100",
            "redis.pipeline.per_op_us=150",
            "messages.lookups_load_shards=false",
        ]);
        let lost = outcome.tally.writes_lost;
        assert!(lost > 1_000, "{strategy}: {lost}");

        // Every user is registered again by the horizon: lost writes are rewritten on
        // reconnect.
        assert_eq!(outcome.tally.writes_pending, 0, "{strategy}");
        assert_eq!(outcome.tally.clients_connected, 40_000, "{strategy}");
        assert_eq!(
            outcome.tally.writes_issued,
            outcome.tally.writes_applied + lost,
            "{strategy}"
        );
    }
}

#[test]
fn handshakes_under_way_at_the_crash_fail_and_retry() {
    // A crash inside the storm cuts off clients still in their handshake: they retry at
    // once-plus-back-off, without having been connected.
    let outcome = run(&[
        "registry.strategy=async",
        "faults.server_crashes=[{ server = 0, at_s = 1 }]",
        "connection_servers.handshake.mean_us=5000",
    ]);
    assert!(outcome.attempts > 40_000 + outcome.disconnections);
    assert_eq!(outcome.tally.clients_connected, 40_000);
}
