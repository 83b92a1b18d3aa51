//! The contrast the simulator exists to show: with undersized Redis shards, `sync` makes
//! clients wait for their registry write, while `async` connects them at once and pays in
//! missed messages.

use super::common::{QUICK_STORM, SHRUNK, Scratch, run_ok, series, summaries};

#[test]
fn undersized_shards_slow_sync_connects_and_make_async_miss_messages() {
    let scratch = Scratch::empty();
    run_ok(QUICK_STORM.as_ref(), &scratch.out(), &SHRUNK);
    let rows = summaries(&scratch.out().join("quick-storm"));
    let [sync, async_] = [&rows[0], &rows[1]];
    assert_eq!(
        (sync.variant.as_str(), async_.variant.as_str()),
        ("sync", "async")
    );

    // Everyone connects and registers within the horizon, under both strategies.
    for row in [sync, async_] {
        assert_eq!(row.connected, 50_000, "{}", row.variant);
        assert!(row.all_registered_at_s.is_some(), "{}", row.variant);
    }

    // sync: the shard's queue is on the connect path; half the clients wait longer for
    // it than all but one in a hundred wait for an async handshake.
    assert!(
        sync.connect_p50_ms > 10.0 * async_.connect_p99_ms,
        "sync p50 {} ms, async p99 {} ms",
        sync.connect_p50_ms,
        async_.connect_p99_ms
    );
    assert!(sync.peak_shard_queue > 1000, "{}", sync.peak_shard_queue);

    // async: the queue moves to the registry writers, and messages fall in the gap.
    assert!(
        async_.peak_registry_queue > 1000,
        "{}",
        async_.peak_registry_queue
    );
    assert!(
        async_.registry_lag_p99_ms > 10.0,
        "{}",
        async_.registry_lag_p99_ms
    );
    assert!(async_.messages_missed > 100, "{}", async_.messages_missed);

    // sync never has a connected client without an entry, so it never misses.
    assert_eq!((sync.messages_missed, sync.registry_lag_max_ms), (0, 0.0));
}

#[test]
fn enough_shards_remove_the_contrast() {
    // The control: the same storm on 64 primaries. sync's connect latency collapses to
    // the handshake's, and async's miss window to a write's service time.
    let scratch = Scratch::empty();
    let args = [&SHRUNK[..], &["--set", "redis.shards=64"]].concat();
    run_ok(QUICK_STORM.as_ref(), &scratch.out(), &args);
    let rows = summaries(&scratch.out().join("quick-storm"));
    let [sync, async_] = [&rows[0], &rows[1]];

    assert!(sync.connect_p99_ms < 2.0, "{}", sync.connect_p99_ms);
    assert!(
        async_.registry_lag_p99_ms < 2.0,
        "{}",
        async_.registry_lag_p99_ms
    );
    assert!(async_.messages_missed < 10, "{}", async_.messages_missed);
}

#[test]
fn messages_sent_per_connected_user_grow_with_the_connected_count() {
    // Each connected user sends 2 messages/s. Before anyone connects nothing is sent;
    // once all 50,000 are connected, 100,000/s are sent: 10,000 per 100 ms bucket.
    let scratch = Scratch::empty();
    let args = [
        &SHRUNK[..],
        &[
            "--set",
            "messages.rate_basis=per-connected-user",
            "--set",
            "messages.rate_per_s=2",
        ],
    ]
    .concat();
    run_ok(QUICK_STORM.as_ref(), &scratch.out(), &args);

    for variant in ["sync", "async"] {
        let directory = scratch.out().join("quick-storm").join(variant);
        let series = series(&directory);
        let first_connected = series
            .iter()
            .position(|bucket| bucket.connected_total > 0)
            .expect("clients connect");
        let before: u64 = series[..first_connected]
            .iter()
            .map(|bucket| bucket.messages_sent)
            .sum();
        assert_eq!(before, 0, "{variant}: messages before anyone connected");

        // The last second: everyone connected for all of it.
        let tail = &series[series.len() - 10..];
        assert!(tail.iter().all(|bucket| bucket.connected_total == 50_000));
        let sent: u64 = tail.iter().map(|bucket| bucket.messages_sent).sum();
        let expected = 100_000.0;
        assert!(
            (sent as f64 - expected).abs() < 5.0 * expected.sqrt(),
            "{variant}: {sent} sent in the last second, expected about {expected}"
        );
    }

    let rows = summaries(&scratch.out().join("quick-storm"));
    assert_eq!(rows[0].messages_missed, 0, "sync never misses");
    assert!(rows[1].messages_missed > 100, "{}", rows[1].messages_missed);
}
