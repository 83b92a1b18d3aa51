//! An estimate of a run's events and memory, made before it starts.
//!
//! The event count is exact but for the async writers (one `WriterFree` per write, or per
//! pipeline plus at most one `LingerEnd` under `async-batched`) and for churn, whose
//! reconnects are estimated from the flaky share and the length of a drop-and-reconnect
//! cycle. The
//! memory estimate adds the fixed structures (histograms, time series, per-server and
//! per-shard state) to the peak backlog that a fluid model of the storm predicts: arrivals
//! follow the profile's curve, the shards drain at their capacity net of lookups, and the
//! difference piles up either at the shards (sync) or in the registry queues (async).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::{ArrivalProfile, RateBasis, RegistryStrategy, Scenario};
use crate::engine::{NANOS_PER_S, to_seconds};
use crate::model::fifo::BLOCK;

/// Bytes per queued registry write: a packed `QueuedWrite`.
const REGISTRY_ENTRY_BYTES: f64 = 12.0;
/// Bytes per operation in a shard's in-system record: the gap to the previous completion.
const SHARD_ENTRY_BYTES: f64 = 4.0;
/// Both are kept in blocks ([`crate::model::fifo::BlockFifo`]), so a queue takes its content's peak and at
/// most two blocks more (the one being read and the one being filled).
const QUEUE_SLACK_BLOCKS: f64 = 2.0;
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
            RegistryStrategy::Async
            | RegistryStrategy::AsyncBatched
            | RegistryStrategy::Coalesced => REGISTRY_ENTRY_BYTES,
            RegistryStrategy::Placement | RegistryStrategy::Lazy => 0.0,
        };
        let buckets = scenario.buckets() as f64;
        let fixed = BASELINE_BYTES
            + 3.0 * HISTOGRAM_BYTES
            + buckets * 8.0 * 26.0
            + f64::from(scenario.servers)
                * (f64::from(scenario.handshake_workers) * 8.0
                    + 512.0
                    + queue_slack(REGISTRY_ENTRY_BYTES))
            + f64::from(scenario.shards) * (512.0 + queue_slack(SHARD_ENTRY_BYTES))
            + strategy_bytes(scenario)
            + scenario.churn.map_or(0.0, |churn| {
                let held = if scenario.strategy.has_registry() {
                    drops * HELD_WINDOW_BYTES
                } else {
                    0.0
                };
                f64::from(scenario.clients) * churn.flaky_share * (FLAKY_CLIENT_BYTES + held)
            })
            + retry_storm_bytes(scenario);
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

/// The blocks a queue of `entry_bytes` entries may hold beyond its content.
fn queue_slack(entry_bytes: f64) -> f64 {
    QUEUE_SLACK_BLOCKS * BLOCK as f64 * entry_bytes
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
/// storm predicts. Writes are drained at the unpipelined rate even under `async-batched`,
/// whose pipelines drain faster, so its backlog (and memory) is overestimated. Shards with the same share of users fill alike, so each distinct share
/// is modelled once and weighted by how many shards have it.
fn fluid_peak_backlog(scenario: &Scenario) -> f64 {
    let mean_service_s = scenario.shard_service.mean_ns() / NANOS_PER_S as f64;
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
}
