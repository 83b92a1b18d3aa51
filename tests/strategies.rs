//! The registry-less strategies: `placement` (a consistent-hash ring places each user, the
//! router computes its server) and `lazy` (no write; a broadcast on a user's first
//! message).
//!
//! The storm is evenly spaced (the `uniform` profile) with deterministic handshakes on
//! idle workers, so every client's connection instant is known by hand: client `i` of `n`
//! arrives at `(2i + 1) W / 2n` and is connected one handshake later. That makes the
//! expected number of broadcasts computable client by client.

mod common;

use stormsim::config::Experiment;
use stormsim::metrics::RunOutcome;
use stormsim::model::ring::Ring;

const CLIENTS: u32 = 20_000;
const SERVERS: u32 = 10;
const WINDOW_S: f64 = 10.0;
const HORIZON_S: f64 = 30.0;
const HANDSHAKE_S: f64 = 100e-6;

/// 20K clients over 10 s on 10 servers of 32 workers: a server sees a client every 5 ms
/// on average and a handshake takes 100 µs, so nobody waits and nobody is rejected.
const STORM: &str = r#"
seed = 11
[clients]
count = 20_000
profile = "uniform"
window_s = 10
[balancer]
policy = "round-robin"
[connection_servers]
count = 10
workers = 32
handshake = { distribution = "deterministic", mean_us = 100 }
[redis]
shards = 2
[messages]
rate_per_s = 600
[run]
horizon_s = 30
"#;

fn parse(overrides: &[&str]) -> Result<Experiment, String> {
    common::parse(STORM, overrides)
}

fn run(overrides: &[&str]) -> RunOutcome {
    common::run(STORM, overrides)
}

/// When client `i` is connected, in seconds.
fn connected_at_s(client: u32) -> f64 {
    let arrival = f64::from(2 * client + 1) * WINDOW_S / f64::from(2 * CLIENTS);
    arrival + HANDSHAKE_S
}

/// The largest server count of the ring's spread of every client, over the mean.
fn ring_imbalance(virtual_nodes: u32) -> (u64, f64) {
    let ring = Ring::new(SERVERS, virtual_nodes);
    let mut counts = vec![0u64; SERVERS as usize];
    for client in 0..CLIENTS {
        counts[ring.server_of(client) as usize] += 1;
    }
    let most = *counts.iter().max().unwrap();
    (most, most as f64 * f64::from(SERVERS) / f64::from(CLIENTS))
}

/// A count is within five standard deviations of a sum of independent Bernoullis.
fn near_bernoulli_sum(count: u64, probabilities: impl Iterator<Item = f64>) -> (bool, f64) {
    let (mean, variance) = probabilities.fold((0.0, 0.0), |(m, v), p| (m + p, v + p * (1.0 - p)));
    ((count as f64 - mean).abs() < 5.0 * variance.sqrt(), mean)
}

#[test]
fn placement_writes_nothing_and_misses_nothing() {
    let outcome = run(&["registry.strategy=placement"]);
    let tally = &outcome.tally;
    assert_eq!(tally.clients_connected, u64::from(CLIENTS));
    assert_eq!(tally.writes_issued, 0);
    assert_eq!(tally.writes_applied + tally.writes_pending, 0);
    assert_eq!(tally.messages_missed, 0);
    assert!(tally.messages_routed > 0);
    // No registry to read: lookups load no shard.
    assert_eq!(outcome.lookups, 0);
    assert_eq!(outcome.shard_utilization_peak, 0.0);
    // Reachable at once: zero lag, every user "registered" when connected.
    assert_eq!(outcome.registry_lag.max_ms(), 0.0);
    assert_eq!(
        outcome.series.registered.iter().sum::<u64>(),
        u64::from(CLIENTS)
    );
    assert_eq!(outcome.broadcast_queries, 0);
}

#[test]
fn placement_spreads_users_as_the_ring_does() {
    let placement = run(&["registry.strategy=placement"]);
    let round_robin = run(&["registry.strategy=async"]);

    // Nobody is rejected, so each server holds exactly the ring's share of the clients.
    let (most, imbalance) = ring_imbalance(160);
    assert_eq!(placement.server_connections_max, most);
    assert!((placement.server_load_imbalance - imbalance).abs() < 1e-12);

    // Round-robin over 10 servers of 20K clients is exact.
    assert_eq!(round_robin.server_connections_max, 2_000);
    assert_eq!(round_robin.server_load_imbalance, 1.0);

    // A server's share varies by about 1/√V of the mean for V points per server (7.9%
    // for 160), plus the users' binomial noise √(N/U) (2.2% here): the busiest of 10 is
    // above the mean, and beyond four standard deviations only with probability 3e-4.
    let sigma = (1.0 / 160.0 + f64::from(SERVERS) / f64::from(CLIENTS)).sqrt();
    assert!(placement.server_load_imbalance > round_robin.server_load_imbalance);
    assert!(
        placement.server_load_imbalance < 1.0 + 4.0 * sigma,
        "{}",
        placement.server_load_imbalance
    );

    // Fewer points spread worse: 4 per server is a relative deviation of 1/2.
    let coarse = run(&["registry.strategy=placement", "balancer.virtual_nodes=4"]);
    assert_eq!(coarse.server_connections_max, ring_imbalance(4).0);
    assert!(coarse.server_load_imbalance > placement.server_load_imbalance);
}

#[test]
fn placement_ignores_the_balancer_policy() {
    let random = run(&["registry.strategy=placement", "balancer.policy=random"]);
    let two = run(&[
        "registry.strategy=placement",
        "balancer.policy=power-of-two",
    ]);
    assert_eq!(random.fingerprint, two.fingerprint);
    assert_eq!(random.tally, two.tally);
}

#[test]
fn placement_retries_go_back_to_the_same_server() {
    // One worker, no accept queue and a 1 ms handshake: clients arriving at a busy server
    // are rejected and retry (up to 20 times, within 0.1 to 0.5 s). If a retry went
    // elsewhere, the final spread would differ from the ring's.
    let outcome = run(&[
        "registry.strategy=placement",
        "connection_servers.workers=1",
        "connection_servers.accept_queue=0",
        "connection_servers.handshake.mean_us=1000",
        "clients.retry.max_attempts=20",
        "clients.retry.initial_backoff_s=0.1",
        "clients.retry.max_backoff_s=0.5",
    ]);
    assert!(
        outcome.tally.clients_rejected > 100,
        "{}",
        outcome.tally.clients_rejected
    );
    assert_eq!(outcome.tally.clients_connected, u64::from(CLIENTS));
    assert_eq!(outcome.server_connections_max, ring_imbalance(160).0);
}

#[test]
fn lazy_broadcasts_once_per_user_that_receives_a_message() {
    let outcome = run(&["registry.strategy=lazy"]);
    let tally = &outcome.tally;
    assert_eq!(tally.clients_connected, u64::from(CLIENTS));
    assert_eq!(tally.writes_issued, 0);
    assert_eq!(tally.messages_missed, 0);
    assert_eq!(outcome.lookups, 0);

    // 600 messages/s over 20K clients: 0.03/s each. A client connected at c receives a
    // first message before the horizon H with probability 1 − exp(−0.03 (H − c)).
    let rate_per_client = 600.0 / f64::from(CLIENTS);
    let probabilities =
        (0..CLIENTS).map(|c| 1.0 - (-rate_per_client * (HORIZON_S - connected_at_s(c))).exp());
    let (near, expected) = near_bernoulli_sum(outcome.broadcast_queries, probabilities);
    assert!(
        near,
        "{} broadcasts, {expected} expected",
        outcome.broadcast_queries
    );

    assert_eq!(
        outcome.broadcast_messages,
        outcome.broadcast_queries * u64::from(SERVERS)
    );
    assert_eq!(
        outcome.series.broadcast_queries.iter().sum::<u64>(),
        outcome.broadcast_queries
    );
    // Every broadcast's message is routed, and the first one comes after the connection.
    assert!(tally.messages_routed >= outcome.broadcast_queries);
    assert_eq!(outcome.series.broadcast_queries[0], 0);
}

#[test]
fn lazy_broadcasts_follow_the_connected_count_per_connected_user() {
    // Each connected user sends 0.03/s to recipients uniform over all 20K clients, so a
    // client receives 0.03 × C(t)/N per second: 0.03 (t − h)/W while the storm connects
    // users evenly, 0.03 after. From connection at c to H the expected count is
    // 0.03 [(W² − (c − h)²)/2W + (H − h − W)].
    let outcome = run(&[
        "registry.strategy=lazy",
        "messages.rate_basis=per-connected-user",
        "messages.rate_per_s=0.03",
    ]);
    let expected_count = |client: u32| {
        let since_first = connected_at_s(client) - HANDSHAKE_S;
        let storm = (WINDOW_S * WINDOW_S - since_first * since_first) / (2.0 * WINDOW_S);
        0.03 * (storm + HORIZON_S - HANDSHAKE_S - WINDOW_S)
    };
    let probabilities = (0..CLIENTS).map(|c| 1.0 - (-expected_count(c)).exp());
    let (near, expected) = near_bernoulli_sum(outcome.broadcast_queries, probabilities);
    assert!(
        near,
        "{} broadcasts, {expected} expected",
        outcome.broadcast_queries
    );
    assert_eq!(outcome.tally.messages_missed, 0);
}

#[test]
fn lazy_at_a_high_rate_broadcasts_for_every_connected_user() {
    // 5,000 messages/s per client and at least 20 s connected: no client is left without
    // a first message but with probability exp(−100,000).
    for basis in [
        &["messages.rate_per_s=1e8"][..],
        &[
            "messages.rate_basis=per-connected-user",
            "messages.rate_per_s=5000",
        ],
    ] {
        let mut overrides = vec!["registry.strategy=lazy"];
        overrides.extend_from_slice(basis);
        let outcome = run(&overrides);
        assert_eq!(outcome.broadcast_queries, u64::from(CLIENTS), "{basis:?}");
        assert_eq!(outcome.tally.messages_missed, 0);
    }
}

#[test]
fn lazy_does_not_move_other_draws() {
    // The first messages come from a stream of their own, so the storm is unchanged.
    let lazy = run(&["registry.strategy=lazy"]);
    let placement = run(&["registry.strategy=placement", "balancer.policy=round-robin"]);
    let asynchronous = run(&["registry.strategy=async"]);
    assert_eq!(
        lazy.connect_latency.max_ms(),
        asynchronous.connect_latency.max_ms()
    );
    assert_eq!(
        lazy.tally.messages_offline,
        asynchronous.tally.messages_offline
    );
    assert_eq!(
        lazy.tally.messages_offline,
        placement.tally.messages_offline
    );
}

#[test]
fn bad_strategy_keys_are_refused_on_one_line() {
    let cases = [
        (
            "balancer.virtual_nodes=0",
            "key 'balancer.virtual_nodes' = 0: a whole number from 1 to 4096",
        ),
        (
            "balancer.virtual_nodes=5000",
            "key 'balancer.virtual_nodes' = 5000: a whole number from 1 to 4096",
        ),
        (
            "registry.strategy=gossip",
            "key 'registry.strategy' = 'gossip': one of 'sync', 'async', 'async-batched', 'coalesced', \
             'placement', 'lazy'",
        ),
    ];
    for (set, expected) in cases {
        let message = parse(&[set]).unwrap_err();
        assert!(message.ends_with(expected), "{set}: {message}");
        assert!(!message.contains('\n'), "{message}");
    }
}

#[test]
fn placement_moves_a_crashed_servers_users_to_the_rings_next_points() {
    // Server 3 dies 5 s into the 10 s storm: its users, connected or still to come, go to
    // the server of the next live point on the ring, so at the horizon every client is
    // where the ring without server 3 puts it. Nothing is written, so nothing is stale.
    let outcome = run(&[
        "registry.strategy=placement",
        "faults.server_crashes=[{ server = 3, at_s = 5 }]",
    ]);
    let mut ring = Ring::new(SERVERS, 160);
    ring.set_down(3);
    let mut counts = vec![0u64; SERVERS as usize];
    for client in 0..CLIENTS {
        counts[ring.server_of(client) as usize] += 1;
    }
    assert_eq!(outcome.tally.clients_connected, u64::from(CLIENTS));
    assert_eq!(
        outcome.server_connections_max,
        *counts.iter().max().unwrap()
    );
    assert!(outcome.disconnections > 500, "{}", outcome.disconnections);
    assert_eq!(outcome.tally.messages_missed, 0);
    assert_eq!(outcome.messages_missed_stale, 0);
    assert_eq!(outcome.tally.writes_issued, 0);
}

#[test]
fn lazy_broadcasts_again_after_a_crash() {
    // At 1e8 messages/s every life has a first message at once: one broadcast per client,
    // and one more per client whose server crashed under it (its cached location failed).
    let outcome = run(&[
        "registry.strategy=lazy",
        "messages.rate_per_s=1e8",
        "faults.server_crashes=[{ server = 3, at_s = 5 }]",
    ]);
    assert!(outcome.disconnections > 500, "{}", outcome.disconnections);
    assert_eq!(outcome.tally.clients_connected, u64::from(CLIENTS));
    assert_eq!(
        outcome.broadcast_queries,
        u64::from(CLIENTS) + outcome.disconnections
    );
    assert_eq!(outcome.tally.messages_missed, 0);
}

#[test]
fn batched_writes_still_reach_the_registry() {
    // `async-batched` has a registry like `async`: every connection writes and lookups
    // load the shards.
    let outcome = run(&["registry.strategy=async-batched"]);
    assert_eq!(outcome.tally.writes_issued, u64::from(CLIENTS));
    assert_eq!(outcome.tally.writes_applied, u64::from(CLIENTS));
    assert!(outcome.lookups > 0);
    assert_eq!(outcome.broadcast_queries, 0);
}

#[test]
fn the_load_spread_counts_only_the_servers_still_up() {
    // Nine of the ten servers die one after another: at the horizon the last one holds
    // everybody, which is a perfect spread over the servers that are left.
    let crashes: Vec<String> = (0..9)
        .map(|s| format!("{{ server = {s}, at_s = {} }}", 1 + s))
        .collect();
    let set = format!("faults.server_crashes=[{}]", crashes.join(", "));
    let outcome = run(&["registry.strategy=placement", &set]);
    assert!(outcome.tally.clients_connected > u64::from(CLIENTS) * 99 / 100);
    assert_eq!(
        outcome.server_connections_max,
        outcome.tally.clients_connected
    );
    assert_eq!(outcome.server_load_imbalance, 1.0);
}
