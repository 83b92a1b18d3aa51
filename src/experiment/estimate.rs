//! An estimate of a run's events and memory, made before it starts.
//!
//! The event count is exact but for the async writers (one `WriterFree` per write, or per
//! pipeline plus at most one `LingerEnd` under `async-batched`) and for churn, whose
//! reconnects are estimated from the flaky share and the length of a drop-and-reconnect
//! cycle.
//!
//! The memory estimate adds the fixed structures (histograms, time series, per-server and
//! per-shard state) to the peak backlog that a fluid model of the storm predicts: arrivals
//! follow the profile's curve, the shards drain at their capacity net of lookups, and the
//! difference piles up either at the shards (sync) or in the registry queues (async). On
//! top come the queues' unused blocks and what reconnecting clients keep (churn, retry
//! storms, crashes). On the storm benchmark it is within 2% of the measured peak; where a
//! part is only bounded, it errs high, so that a sweep never starts more than fits.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::{ArrivalProfile, RateBasis, RegistryStrategy, Scenario};
use crate::engine::{NANOS_PER_S, to_seconds};
use crate::model::fifo::BLOCK;

/// Bytes per queued registry write under `async` and `coalesced`: a client and the gap
/// from the previous write's instant ([`crate::model::fifo::RisingInstants`]).
const REGISTRY_ENTRY_BYTES: f64 = 8.0;
/// Bytes per write in an `async-batched` batch: a packed `QueuedWrite`.
const BATCHED_WRITE_BYTES: f64 = 12.0;
/// Bytes per operation in a shard's in-system record: the gap to the previous completion.
const SHARD_ENTRY_BYTES: f64 = 4.0;
/// Under `async` and `coalesced` the registry backlogs, and under every strategy the
/// shards' records, are chains of blocks ([`crate::model::fifo::BlockFifo`]): a queue takes
/// its content's peak and at most two blocks more (the one being read and the one being
/// filled), whose pages are only touched as entries pass through.
const QUEUE_SLACK_BLOCKS: f64 = 2.0;
/// Under `async-batched` a waiting write sits in a batch instead: a 32-byte `Batch` in a
/// `VecDeque` that grows by doubling, holding a `Vec` of writes of its own. What a write
/// costs there depends on how full batches are ([`batched_write_bytes`]).
const BATCH_BYTES: f64 = 32.0;
/// A `Vec` grows by doubling, so on average it holds about 1.5 times its content.
const GROWTH_SLACK: f64 = 1.5;
/// Memory of the process besides the run's queues, histograms and series: binary,
/// allocator, thread stacks. Measured: a 1,000-client run peaks at 7.4 MiB, its three
/// histograms (counted below) included.
const BASELINE_BYTES: f64 = 5.0 * 1024.0 * 1024.0;
/// What a client with a flaky connection keeps while it is connected: its history (about
/// 136 bytes in a hash map that may be twice the size it needs), its pending drop, and
/// the miss windows and stale entries it holds. Measured: 345 bytes per flaky client at a
/// flaky share of 0.2, 308 at 0.5 and 539 at 1 (`placement`, 1M clients).
const FLAKY_CLIENT_BYTES: f64 = 400.0;
/// With a registry, what a flaky client holds more per drop: the miss window of each life
/// that ended unregistered, kept (24 bytes, in a vector that grows by doubling) until an
/// entry of the user is applied. Measured at a flaky share of 1 with a 2 s life (12
/// drops per client): 1.17 GB under `async` and 0.92 GB under `coalesced` for 1M clients.
const HELD_WINDOW_BYTES: f64 = 48.0;
/// One HdrHistogram from 1 ns to a day at three significant digits.
const HISTOGRAM_BYTES: f64 = 800.0 * 1024.0;

#[derive(Debug, Clone, Serialize)]
pub struct Estimate {
    pub events: u64,
    pub peak_backlog: u64,
    pub memory_bytes: u64,
}

impl Estimate {
    pub fn of(scenario: &Scenario) -> Self {
        let clients = u64::from(scenario.clients);
        let per_client = match scenario.strategy {
            RegistryStrategy::Sync | RegistryStrategy::Placement | RegistryStrategy::Lazy => 2,
            RegistryStrategy::Async | RegistryStrategy::Coalesced => 3,
            // A pipeline costs a `WriterFree` and at most one `LingerEnd`: at most one
            // event per write once batches hold two writes or more.
            RegistryStrategy::AsyncBatched => 3,
        };
        let drops = drops_per_client(scenario);
        // Without a registry nothing waits for a write. Reconnects write again; the fluid
        // model takes their writes as if they came with the storm (an overestimate).
        let peak_backlog = if scenario.strategy.has_registry() {
            fluid_peak_backlog(scenario) * (1.0 + drops)
        } else {
            0.0
        };
        let entry_bytes = match scenario.strategy {
            RegistryStrategy::Sync => SHARD_ENTRY_BYTES,
            RegistryStrategy::Async | RegistryStrategy::Coalesced => REGISTRY_ENTRY_BYTES,
            RegistryStrategy::AsyncBatched => batched_write_bytes(mean_batch_fill(scenario)),
            RegistryStrategy::Placement | RegistryStrategy::Lazy => 0.0,
        };

        // The block queues' slack, for the queues the strategy uses.
        let writes = f64::from(scenario.clients) * (1.0 + drops);
        let servers = f64::from(scenario.servers);
        let registry_slack = match scenario.strategy {
            RegistryStrategy::Async | RegistryStrategy::Coalesced => {
                let peak = peak_backlog / servers;
                let through = if peak > 0.0 { writes / servers } else { 0.0 };
                servers * queue_slack(peak, through, REGISTRY_ENTRY_BYTES)
            }
            _ => 0.0,
        };
        let lookups = if scenario.lookups_load_shards {
            scenario.message_rate_per_s * to_seconds(scenario.horizon_ns)
        } else {
            0.0
        };
        let (shard_peak, shard_operations) = match scenario.strategy {
            RegistryStrategy::Sync => (peak_backlog, writes + lookups),
            _ if scenario.strategy.has_registry() => (0.0, writes + lookups),
            _ => (0.0, lookups),
        };
        let shards = f64::from(scenario.shards);
        let shard_slack = shards
            * queue_slack(
                shard_peak / shards,
                shard_operations / shards,
                SHARD_ENTRY_BYTES,
            );

        let buckets = scenario.buckets() as f64;
        let fixed = BASELINE_BYTES
            + 3.0 * HISTOGRAM_BYTES
            + buckets * 8.0 * 26.0
            + servers * (f64::from(scenario.handshake_workers) * 8.0 + 512.0)
            + registry_slack
            + shards * 512.0
            + shard_slack
            + strategy_bytes(scenario)
            + scenario.churn.map_or(0.0, |churn| {
                let held = if scenario.strategy.has_registry() {
                    drops * HELD_WINDOW_BYTES
                } else {
                    0.0
                };
                f64::from(scenario.clients) * churn.flaky_share * (FLAKY_CLIENT_BYTES + held)
            })
            + retry_storm_bytes(scenario)
            + crash_bytes(scenario);
        // Each drop is one more event, and its reconnect costs what a first connection does.
        // Clients that time out may retry: at most every attempt, each with one more event.
        let attempts = f64::from(retry_storm_attempts(scenario));
        let events = clients as f64
            * ((per_client as f64 + 1.0) * attempts - 1.0 + (per_client as f64 + 1.0) * drops);
        Self {
            events: events.round() as u64,
            peak_backlog: peak_backlog as u64,
            memory_bytes: (fixed + peak_backlog * entry_bytes) as u64,
        }
    }
}

/// What a block queue of `entry_bytes` entries may take beyond its content, when it
/// peaks at `peak` entries and `through` entries pass through it: the blocks that hold
/// its peak, and at least one block's worth if that many entries pass (each fills the
/// block being written, whose pages are touched as it fills), but never more than two
/// blocks (the one being read and the one being filled).
fn queue_slack(peak: f64, through: f64, entry_bytes: f64) -> f64 {
    let block = BLOCK as f64;
    let holding_peak = (peak / block).ceil() * block;
    holding_peak
        .max(through.min(block))
        .min(QUEUE_SLACK_BLOCKS * block)
        * entry_bytes
}

/// How many writes a batch holds when it closes, at the storm's peak: the one that opens
/// it and those a server sends to the same shard during its linger, at most a full
/// batch. Connections are taken at the profile's peak arrival rate, or at the handshake
/// workers' capacity if that is lower, and spread evenly over servers and shards.
fn mean_batch_fill(scenario: &Scenario) -> f64 {
    let window_s = to_seconds(scenario.window_ns);
    let steps = 1_000;
    let step_s = window_s / f64::from(steps);
    let peak_mass = (0..steps)
        .map(|step| profile_mass(&scenario.profile, window_s, step, step_s))
        .fold(0.0, f64::max);
    let arrival_rate = f64::from(scenario.clients) * peak_mass / step_s;
    let handshake_capacity = f64::from(scenario.servers) * f64::from(scenario.handshake_workers)
        / (scenario.handshake.mean_ns() / NANOS_PER_S as f64);
    let per_server_and_shard = arrival_rate.min(handshake_capacity)
        / f64::from(scenario.servers)
        / f64::from(scenario.shards);
    (1.0 + per_server_and_shard * to_seconds(scenario.batching.linger_ns))
        .clamp(1.0, f64::from(scenario.batching.batch_size))
}

/// Bytes per waiting write under `async-batched` when batches hold `fill` writes: the
/// batch's share of its `VecDeque` slot (half again for the deque's doubling) and of its
/// vector of writes. That vector grows from 4 entries by doubling, and the allocator adds
/// an 8-byte header and rounds to 16 bytes, with 32 at least. Measured at 10M clients on one
/// shard with a linger of 0 (batches of one write): 755 MiB, 112 bytes a write.
fn batched_write_bytes(fill: f64) -> f64 {
    let writes = fill.round().max(1.0) as u64;
    let capacity = writes.next_power_of_two().max(4) as f64;
    let allocation = ((capacity * BATCHED_WRITE_BYTES + 8.0) / 16.0).ceil() * 16.0;
    (BATCH_BYTES * GROWTH_SLACK + allocation.max(32.0)) / fill.max(1.0)
}

/// The attempts a client may make when a retry storm can build: under `sync`, with a
/// connect timeout (which covers the registry write) and retries. The estimate takes the
/// bound, every client using every attempt, since nothing short of running the storm
/// tells how far it feeds itself. Under the other strategies the timeout only covers the
/// handshake, which the storm rarely overruns.
fn retry_storm_attempts(scenario: &Scenario) -> u32 {
    match scenario.connect_timeout_ns {
        Some(_) if scenario.strategy == RegistryStrategy::Sync => scenario.retry.max_attempts,
        _ => 1,
    }
}

/// What clients keep while they retry in a possible retry storm: a history each, at
/// most (`experiments/retry-storm.toml`, sync: 557 MiB measured for 1M clients, most of
/// them retrying at once).
fn retry_storm_bytes(scenario: &Scenario) -> f64 {
    if retry_storm_attempts(scenario) > 1 {
        f64::from(scenario.clients) * FLAKY_CLIENT_BYTES
    } else {
        0.0
    }
}

/// What the clients of crashed servers keep while they reconnect: a history each, for
/// at most every client the server holds (`experiments/reconnect-after-crash.toml`: 40 MiB
/// measured against 9 MiB without the crash, one of 10 servers crashing with up to 100K
/// clients). Not estimated: the clients cut off by a write that fails at a primary that is
/// down (`redis.outage_mode = "fail"`), which keep histories too (`shard-outage.toml`:
/// 27 to 32 MiB measured, 8 MiB estimated).
fn crash_bytes(scenario: &Scenario) -> f64 {
    let clients_per_server = f64::from(scenario.clients) / f64::from(scenario.servers);
    scenario.server_crashes.len() as f64 * clients_per_server * FLAKY_CLIENT_BYTES
}

/// How often a client's connection drops on average. Its connections drop one after
/// another with the flaky share's probability, so share / (1 - share) times, unless the
/// horizon ends the chain first: a cycle lasts at least a mean life and a mean back-off
/// (half the first back-off under full jitter, taken for all).
fn drops_per_client(scenario: &Scenario) -> f64 {
    let Some(churn) = scenario.churn else {
        return 0.0;
    };
    let cycle_ns = churn.mean_connected_ns + scenario.retry.initial_backoff_ns as f64 / 2.0;
    let cycles = scenario.horizon_ns as f64 / cycle_ns;
    let share = churn.flaky_share;
    if share >= 1.0 {
        return cycles;
    }
    (share / (1.0 - share)).min(cycles)
}

/// What the registry-less strategies keep: the ring's points (16 bytes each) under
/// `placement`; under `lazy` with a rate per connected user, each connected client's
/// pending first-message draw (24 bytes), resolved at the end.
fn strategy_bytes(scenario: &Scenario) -> f64 {
    match scenario.strategy {
        RegistryStrategy::Placement => {
            f64::from(scenario.servers) * f64::from(scenario.virtual_nodes) * 16.0
        }
        RegistryStrategy::Lazy if scenario.message_rate_basis == RateBasis::PerConnectedUser => {
            f64::from(scenario.clients) * 24.0 * GROWTH_SLACK
        }
        _ => 0.0,
    }
}

/// The largest backlog of registry writes, summed over shards, that a fluid model of the
/// storm predicts. Under `async-batched` the shards drain pipelines of the size that
/// [`mean_batch_fill`] expects. Shards with the same share of users fill alike, so each
/// distinct share is modelled once and weighted by how many shards have it.
fn fluid_peak_backlog(scenario: &Scenario) -> f64 {
    let mean_service_ns = match scenario.strategy {
        RegistryStrategy::AsyncBatched => {
            let fill = mean_batch_fill(scenario);
            scenario.batching.overhead_ns / fill + scenario.batching.per_op_ns
        }
        _ => scenario.shard_service.mean_ns(),
    };
    let mean_service_s = mean_service_ns / NANOS_PER_S as f64;
    let lookup_rate = if scenario.lookups_load_shards {
        scenario.message_rate_per_s
    } else {
        0.0
    };
    let map = crate::model::keys::ShardMap::new(scenario.key_layout, scenario.shards);
    let mut shares: BTreeMap<u64, u32> = BTreeMap::new();
    for share in map.user_shares(scenario.shards) {
        *shares.entry(share.to_bits()).or_default() += 1;
    }

    let window_s = to_seconds(scenario.window_ns);
    let steps = 10_000;
    let step_s = window_s / f64::from(steps);
    let masses: Vec<f64> = (0..steps)
        .map(|step| profile_mass(&scenario.profile, window_s, step, step_s))
        .collect();
    let clients = f64::from(scenario.clients);
    shares
        .into_iter()
        .filter(|(bits, _)| f64::from_bits(*bits) > 0.0)
        .map(|(bits, shards)| {
            let share = f64::from_bits(bits);
            let capacity = (1.0 / mean_service_s - lookup_rate * share).max(0.0);
            let (mut backlog, mut peak) = (0.0f64, 0.0f64);
            for mass in &masses {
                backlog = (backlog + clients * share * mass - capacity * step_s).max(0.0);
                peak = peak.max(backlog);
            }
            peak * f64::from(shards)
        })
        .sum()
}

/// The share of clients arriving in step `step` of the window.
fn profile_mass(profile: &ArrivalProfile, window_s: f64, step: u32, step_s: f64) -> f64 {
    let start = f64::from(step) * step_s;
    let end = start + step_s;
    match profile {
        ArrivalProfile::Uniform | ArrivalProfile::Poisson => step_s / window_s,
        ArrivalProfile::Peak { at_s, spread_s } => {
            let cdf = |t: f64| {
                0.5 * (1.0 + statrs::function::erf::erf((t - at_s) / (spread_s * 2f64.sqrt())))
            };
            (cdf(end) - cdf(start)) / (cdf(window_s) - cdf(0.0))
        }
        ArrivalProfile::Piecewise { points } => {
            let rate_at = |t: f64| {
                points
                    .windows(2)
                    .find(|p| p[0].0 <= t && t <= p[1].0)
                    .map_or(0.0, |p| {
                        let ((t0, r0), (t1, r1)) = (p[0], p[1]);
                        r0 + (r1 - r0) * (t - t0) / (t1 - t0)
                    })
            };
            let total: f64 = points
                .windows(2)
                .map(|p| (p[0].1 + p[1].1) / 2.0 * (p[1].0 - p[0].0))
                .sum();
            (rate_at(start) + rate_at(end)) / 2.0 * step_s / total
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ChurnPolicy;
    use crate::config::schema::ScenarioSpec;

    fn scenario(flaky_share: f64) -> Scenario {
        let mut spec = ScenarioSpec::default();
        spec.clients.window_s = 10.0;
        spec.run.horizon_s = 30.0;
        spec.clients.churn.flaky_share = flaky_share;
        spec.clients.churn.mean_connected_s = 2.0;
        Scenario::resolve(&spec).unwrap()
    }

    #[test]
    fn drops_follow_the_share_until_the_horizon_cuts_the_chain() {
        assert_eq!(drops_per_client(&scenario(0.0)), 0.0);
        assert!((drops_per_client(&scenario(0.2)) - 0.25).abs() < 1e-12);
        // Every connection flaky: 30 s of cycles of a 2 s life and a 0.5 s back-off.
        assert!((drops_per_client(&scenario(1.0)) - 12.0).abs() < 1e-12);
        assert_eq!(
            scenario(1.0).churn,
            Some(ChurnPolicy {
                flaky_share: 1.0,
                mean_connected_ns: 2e9
            })
        );
    }

    #[test]
    fn churn_adds_events_and_memory() {
        let calm = Estimate::of(&scenario(0.0));
        let flaky = Estimate::of(&scenario(0.2));
        // Async: three events per connection and one per drop, 0.25 drops per client.
        assert_eq!(flaky.events, (1_000_000.0 * (3.0 * 1.25 + 0.25)) as u64);
        assert_eq!(calm.events, 3_000_000);
        assert!(flaky.memory_bytes > calm.memory_bytes + 80_000_000);
    }

    #[test]
    fn a_possible_retry_storm_takes_its_bound() {
        let mut spec = ScenarioSpec::default();
        spec.clients.window_s = 10.0;
        spec.clients.connect_timeout_s = Some(3.0);
        spec.clients.retry.max_attempts = 10;
        spec.registry.strategy = "sync".into();
        let storm = Estimate::of(&Scenario::resolve(&spec).unwrap());
        // Sync: two events per attempt and one retry between attempts, ten attempts.
        assert_eq!(storm.events, 29_000_000);
        assert!(storm.memory_bytes > 400_000_000);

        // Async's timeout covers only the handshake: no storm is assumed.
        spec.registry.strategy = "async".into();
        assert_eq!(
            Estimate::of(&Scenario::resolve(&spec).unwrap()).events,
            3_000_000
        );
    }

    #[test]
    fn queues_that_never_back_up_are_charged_no_blocks() {
        // Few clients on many servers and primaries: nothing waits, so the estimate is the
        // fixed structures alone (a 2M-client storm on 500 servers peaked at 8.5 MiB).
        let mut spec = ScenarioSpec::default();
        spec.clients.count = 200_000;
        spec.clients.window_s = 10.0;
        spec.connection_servers.count = 500;
        spec.redis.shards = 50;
        let calm = Estimate::of(&Scenario::resolve(&spec).unwrap());
        assert_eq!(calm.peak_backlog, 0);
        assert!(calm.memory_bytes < 12 << 20, "{}", calm.memory_bytes);
    }

    #[test]
    fn a_batched_write_costs_its_share_of_its_batch() {
        // One write a batch: 48 bytes of deque slot and a 64-byte allocation for 4 writes.
        assert_eq!(batched_write_bytes(1.0), 112.0);
        // Full batches of 16: the slot and a 208-byte allocation shared by 16 writes.
        assert_eq!(batched_write_bytes(16.0), 16.0);
    }
}
