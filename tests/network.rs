//! The network between connection servers and Redis primaries: a round trip added to every
//! registry operation, half before the primary and half after.
//!
//! An evenly spread storm with deterministic handshakes and service, and lookups that do
//! not load the primaries, so that with idle workers and primaries every latency is known
//! by hand.

mod common;

use stormsim::metrics::RunOutcome;

const STORM: &str = r#"
seed = 3
[clients]
count = 40_000
profile = "uniform"
window_s = 2
[balancer]
policy = "round-robin"
[connection_servers]
count = 4
handshake = { distribution = "deterministic", mean_us = 100 }
[registry]
writers = 64
[redis]
shards = 4
service = { distribution = "deterministic", mean_us = 5 }
[messages]
rate_per_s = 1_000
lookups_load_shards = false
[run]
horizon_s = 30
"#;

const CLIENTS: u64 = 40_000;

fn run(overrides: &[&str]) -> RunOutcome {
    common::run(STORM, overrides)
}

const ONE_MS_RTT: &str = "network.rtt={ distribution = \"deterministic\", mean_us = 1000 }";

/// A latency in milliseconds, within the histogram's three significant digits.
fn near(value_ms: f64, expected_ms: f64) -> bool {
    (value_ms - expected_ms).abs() <= expected_ms * 1e-3
}

#[test]
fn sync_connections_wait_for_the_whole_round_trip() {
    // Handshake 100 µs, then the write's 1 ms round trip and its 5 µs of service.
    let outcome = run(&["registry.strategy=sync", ONE_MS_RTT]);
    for q in [0.0, 0.5, 1.0] {
        let latency = outcome.connect_latency.quantile_ms(q);
        assert!(near(latency, 1.105), "p{q}: {latency}");
    }
    assert_eq!(outcome.tally.clients_connected, CLIENTS);
}

#[test]
fn async_entries_are_applied_half_a_round_trip_after_they_are_sent() {
    let outcome = run(&["registry.strategy=async", ONE_MS_RTT]);
    for q in [0.0, 0.5, 1.0] {
        let lag = outcome.registry_lag.quantile_ms(q);
        assert!(near(lag, 0.505), "p{q}: {lag}");
        let connect = outcome.connect_latency.quantile_ms(q);
        assert!(near(connect, 0.1), "p{q}: {connect}");
    }
}

#[test]
fn a_round_trip_bounds_what_one_writer_can_send() {
    // One writer per server waits 1.005 ms per write: 995 writes/s per server, while the
    // storm brings 5,000/s to each for 2 s. Each writer's 10,000 writes go one after the
    // other from the first arrival, the last applied 9,999 × 1.005 ms + 0.505 ms after
    // the first was sent (about 10.05 s).
    let outcome = run(&["registry.strategy=async", "registry.writers=1", ONE_MS_RTT]);
    let first_sent_s = 2.0 / (2.0 * CLIENTS as f64) + 100e-6;
    let expected_s = first_sent_s + 9_999.0 * 1.005e-3 + 0.505e-3;
    let last_s = outcome.all_registered_at.unwrap() as f64 / 1e9;
    assert!(
        (last_s - expected_s).abs() < 1e-3,
        "{last_s} against {expected_s}"
    );
    assert_eq!(outcome.tally.writes_applied, CLIENTS);

    // Without the round trip the same writer keeps up.
    let direct = run(&["registry.strategy=async", "registry.writers=1"]);
    assert!(direct.all_registered_at.unwrap() < 2_001_000_000);
}

#[test]
fn random_round_trips_are_random_on_the_way_back() {
    // Log-normal round trips of mean 1 ms and cv 0.2: the way there is 0.5 ms, always, so
    // each primary serves writes in the order they were sent and every entry is applied
    // 0.5 ms + 5 µs after it was sent; the way back is log-normal of mean 0.5 ms and cv
    // 0.2 (median 0.5/√1.04 = 0.4903 ms), which the sync client waits for.
    let lognormal = "network.rtt={ distribution = \"lognormal\", mean_us = 1000, cv = 0.2 }";
    let asynchronous = run(&["registry.strategy=async", lognormal]);
    assert_eq!(asynchronous.tally.writes_applied, CLIENTS);
    for q in [0.0, 0.5, 1.0] {
        let lag = asynchronous.registry_lag.quantile_ms(q);
        assert!(near(lag, 0.505), "p{q}: {lag}");
    }

    let sync = run(&["registry.strategy=sync", lognormal]);
    let p50 = sync.connect_latency.quantile_ms(0.5);
    let expected = 0.1 + 0.505 + 0.5 / 1.04f64.sqrt();
    assert!((p50 - expected).abs() < 0.01, "{p50} against {expected}");
    let spread = sync.connect_latency.quantile_ms(0.99) - sync.connect_latency.quantile_ms(0.01);
    assert!(spread > 0.3, "{spread}");
}

#[test]
fn writes_that_reach_their_primary_after_the_horizon_stay_pending() {
    // A 1,000 s round trip: no write reaches a primary within the 30 s run, and the
    // lookups the primaries serve stop at the horizon.
    let outcome = run(&[
        "registry.strategy=sync",
        "messages.lookups_load_shards=true",
        "network.rtt={ distribution = \"deterministic\", mean_us = 1e9 }",
    ]);
    assert_eq!(outcome.tally.writes_pending, CLIENTS);
    assert_eq!(outcome.tally.clients_connected, 0);
    let lookups = outcome.lookups as f64;
    // 1,000 lookups a second for 30 s: a Poisson count of mean 30,000.
    assert!(
        (lookups - 30_000.0).abs() < 5.0 * 30_000f64.sqrt(),
        "{lookups}"
    );
}

#[test]
fn without_a_round_trip_nothing_moves() {
    let zero = run(&["registry.strategy=async"]);
    let again = run(&["registry.strategy=async", "network={}"]);
    assert_eq!(zero.fingerprint, again.fingerprint);
    assert_eq!(zero.tally, again.tally);
}

#[test]
fn a_bad_round_trip_is_refused_on_one_line() {
    let set = "network.rtt={ distribution = \"gamma\", mean_us = 1 }";
    let message = common::parse(STORM, &[set]).err().unwrap_or_default();
    assert!(
        message.ends_with(
            "key 'network.rtt.distribution' = 'gamma': one of 'deterministic', \
             'exponential', 'lognormal'"
        ),
        "{message}"
    );
}
