//! The world: every component wired together, and the event loop that drives them.
//!
//! # The life of one client
//!
//! 1. `Arrival` (or `Retry`): the balancer picks a server; the server admits the client
//!    (its handshake start and end are fixed at once, see [`super::server`]) or rejects it.
//!    A rejected client, or one whose handshake would end after its connect timeout, fails
//!    this attempt and, if its retry policy allows, schedules a `Retry` after a back-off.
//! 2. `HandshakeDone`: under `sync` the registry write goes straight to the user's shard
//!    and the connection is established when it completes, unless that is past the
//!    client's timeout: then the client has given up, and the write, still applied, is
//!    wasted work and leaves a stale entry. Under `async` the connection is established now
//!    and the write joins the server's registry queue. Under `placement` and `lazy`
//!    nothing is written: the connection is established now and the user is reachable
//!    at once (under `placement` the balancer was the ring the router computes; under
//!    `lazy` the client's first message, drawn now, triggers a broadcast).
//! 3. `WriterFree` (async only): a writer whose write completed takes the next queued
//!    write to its shard. Under `async-batched` the write joins its shard's open batch
//!    instead, a writer's pipeline takes a closed batch, and `LingerEnd` closes a batch
//!    that did not fill in time (see `world/pipelined.rs`).
//! 4. `Abandon`: a client that gave up closes its connection, so its server's count drops.
//! 5. `Crash`: a server dies; the writes still queued on it are lost and their clients
//!    reconnect. Clients whose handshake or write was under way learnt their fate when it
//!    was scheduled, and connected clients when their life on the server was laid out:
//!    the crash instant is part of the scenario.
//! 6. `ConnectionDropped`: a flaky connection, scheduled to drop when it was established,
//!    drops; its server deletes the entry and the client reconnects. A write of it still
//!    queued is outdated: `async` and `async-batched` send it anyway, `coalesced` drops
//!    it (see `world/writes.rs`).
//!
//! The registry's write paths live in `world/writes.rs`, `async-batched`'s pipelines in
//! `world/pipelined.rs`, and crashes and outages in `world/faults.rs`.
//!
//! # Event order
//!
//! Events run in time order; events at the same nanosecond run in the order they were
//! scheduled (see [`crate::engine::EventQueue`]). The arrival stream keeps exactly one
//! `Arrival` scheduled, so arrivals obey the same rule.
//! Message lookups at a shard are served before a write that arrives at the same instant.
//! Events at or after the horizon are not run; what they would have done is counted as in
//! progress.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand_distr::{Distribution, Exp1};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::config::{RateBasis, RegistryStrategy, Scenario};
use crate::engine::{EventQueue, RandomStreams, SimTime, Stream, Trajectory};
use crate::metrics::{Buckets, LatencyHistogram, RunOutcome, SeriesColumns, Tally, TimeSeries};

use super::arrivals::Arrivals;
use super::balancer::Balancer;
use super::churn::Churn;
use super::fifo::RisingInstants;
use super::keys::ShardMap;
use super::messages::MessageLedger;
use super::pipeline::{PipelineQueue, QueuedWrite};
use super::retry::Backoff;
use super::ring::Ring;
use super::server::{ConnectionServer, Rejection};
use super::service::ServiceSampler;
use super::shard::Shard;
use super::timeline::{DroppingLife, History};

mod faults;
mod pipelined;
mod writes;

use faults::windows_of;

/// Stream numbers of the components (see [`RandomStreams`]). Never reuse or renumber
/// one: that would change every run's results.
mod stream {
    pub const ARRIVALS: u32 = 0;
    pub const BALANCER: u32 = 1;
    pub const HANDSHAKE: u32 = 2;
    pub const SHARD_SERVICE: u32 = 3;
    pub const LOOKUPS: u32 = 4;
    pub const MESSAGE_MISSES: u32 = 5;
    pub const MESSAGE_COUNTS: u32 = 6;
    pub const RETRIES: u32 = 7;
    pub const FIRST_MESSAGES: u32 = 8;
    pub const NETWORK: u32 = 9;
}

#[derive(Debug, Clone, Copy)]
enum Event {
    Arrival,
    Retry {
        client: u32,
    },
    HandshakeDone {
        client: u32,
        server: u32,
        attempt_start: SimTime,
    },
    WriterFree {
        server: u32,
    },
    Abandon {
        server: u32,
    },
    /// The linger of `server`'s batch number `batch` to `shard` ran out (async-batched).
    LingerEnd {
        server: u32,
        shard: u32,
        batch: u64,
    },
    Crash {
        server: u32,
    },
    /// The connection `client` established on `server` at `connected_at` drops on its own
    /// (`clients.churn`).
    ConnectionDropped {
        client: u32,
        server: u32,
        connected_at: SimTime,
    },
}

impl Event {
    /// The kind folded into the trajectory fingerprint.
    fn kind(&self) -> u8 {
        match self {
            Self::Arrival => 0,
            Self::HandshakeDone { .. } => 1,
            Self::WriterFree { .. } => 2,
            Self::Retry { .. } => 3,
            Self::Abandon { .. } => 4,
            Self::LingerEnd { .. } => 5,
            Self::Crash { .. } => 6,
            Self::ConnectionDropped { .. } => 7,
        }
    }
}

/// Receives the run's progress now and then; `now` is virtual time.
pub trait Progress {
    fn update(&mut self, now: SimTime, events: u64);
}

impl Progress for () {
    fn update(&mut self, _: SimTime, _: u64) {}
}

/// How often, in dispatched events, progress is reported.
const PROGRESS_EVERY: u64 = 1 << 20;

/// A server's queue of registry writes waiting for a writer (async strategy).
#[derive(Default)]
struct RegistryQueue {
    idle_writers: u32,
    /// The waiting writes, oldest first: each client with the instant its connection was
    /// established, which never decreases along the queue.
    backlog: RisingInstants<u32>,
}

impl RegistryQueue {
    fn push(&mut self, write: QueuedWrite) {
        self.backlog.push_back(write.established_at, write.client);
    }

    fn pop(&mut self) -> Option<QueuedWrite> {
        self.backlog.pop_front().map(queued_write)
    }

    /// Empties the queue, handing over its writes, oldest first.
    fn take_all(&mut self) -> impl Iterator<Item = QueuedWrite> + use<> {
        self.backlog.take_all().map(queued_write)
    }
}

fn queued_write((established_at, client): (SimTime, u32)) -> QueuedWrite {
    QueuedWrite {
        established_at,
        client,
    }
}

struct World<'a> {
    scenario: &'a Scenario,
    queue: EventQueue<Event>,
    trajectory: Trajectory,
    arrivals: Arrivals,
    next_client: u32,
    balancer: Balancer,
    /// The consistent-hash ring that places users under `placement`, in place of the
    /// balancer's policy.
    ring: Option<Ring>,
    servers: Vec<ConnectionServer>,
    registry_queues: Vec<RegistryQueue>,
    /// Each server's batches and writers under `async-batched`; empty otherwise.
    pipelines: Vec<PipelineQueue>,
    shards: Vec<Shard>,
    /// Each primary's `[down, failover)` windows, when any primary has an outage (empty
    /// otherwise): the router cannot look a user up on a primary that is down.
    outage_windows: Vec<Vec<(SimTime, SimTime)>>,
    shard_map: ShardMap,
    handshake_service: ServiceSampler,
    shard_service: ServiceSampler,
    /// Round trips between servers and primaries, when there is a network delay.
    network: Option<Network>,
    backoff: Backoff,
    /// When flaky connections drop, if any does.
    churn: Option<Churn>,
    /// Connections whose drop was scheduled but that were cut first, by a write that
    /// failed at a primary that was down: their drop does nothing.
    cancelled_drops: FxHashSet<(u32, SimTime)>,
    /// Clients that failed an attempt or were disconnected (see [`History`]). Only they
    /// have an entry, so a storm without failures keeps no per-client state at all.
    /// Keyed with FxHash: a client id needs no protection against crafted keys, and the
    /// map is probed for every client, so SipHash's cost would show. Its iteration order
    /// never reaches a result.
    histories: FxHashMap<u32, History>,
    series: TimeSeries,
    messages: MessageLedger,
    /// Draws each `lazy` client's first message after its connection.
    first_message_rng: Stream,
    connect_latency: LatencyHistogram,
    reconnect_latency: LatencyHistogram,
    registry_lag: LatencyHistogram,
    tally: Tally,
    counts: Counts,
    registry_backlog: u64,
    /// Under a per-connected-user message rate, the instants at which sync connections
    /// counted in `tally.clients_connected` ahead of time (when their write was sent) are
    /// established: the share of clients connected that thins lookups leaves them out
    /// until then. Empty otherwise.
    not_yet_connected: BinaryHeap<Reverse<SimTime>>,
    /// When the last user became reachable: its write applied, or, without a registry,
    /// its connection established.
    last_write_applied_at: SimTime,
}

/// Counters that no conservation law speaks of.
#[derive(Default)]
struct Counts {
    attempts: u64,
    rejected_server_full: u64,
    rejected_queue_full: u64,
    wasted_handshakes: u64,
    wasted_writes: u64,
    handshakes_waited: u64,
    peak_registry_backlog: u64,
    peak_handshake_queue: u64,
    disconnections: u64,
    connections_dropped: u64,
    deletes: u64,
    pipelines_sent: u64,
    pipelined_writes: u64,
    /// Writes (sync, async or in a pipeline) that failed at a primary that was down.
    writes_failed: u64,
}

/// When a client's current connection episode began, and whether it is a reconnect.
fn episode(history: Option<&History>, attempt_start: SimTime) -> (SimTime, bool) {
    history.map_or((attempt_start, false), |h| {
        (h.episode_start, h.reconnecting)
    })
}

/// The network between servers and primaries (see `world/writes.rs`).
struct Network {
    /// The way to a primary: half the mean round trip, constant.
    request_ns: SimTime,
    /// The way back: the round trip's family at half its mean.
    reply: ServiceSampler,
    rng: Stream,
}

/// Simulates one scenario to its horizon.
pub fn simulate(scenario: &Scenario, progress: &mut dyn Progress) -> RunOutcome {
    let mut world = World::new(scenario);
    world.run(progress);
    world.finish()
}

impl<'a> World<'a> {
    fn new(scenario: &'a Scenario) -> Self {
        let streams = RandomStreams::new(scenario.seed);
        let buckets = Buckets::new(scenario.bucket_ns, scenario.horizon_ns);
        let shard_map = ShardMap::new(scenario.key_layout, scenario.shards);
        let outage_windows = Self::outage_windows(scenario);
        let shards = Self::shards(scenario, &shard_map, &streams, &outage_windows);
        let mut servers: Vec<ConnectionServer> = (0..scenario.servers)
            .map(|s| {
                let rng = streams.stream(stream::HANDSHAKE, s);
                ConnectionServer::new(scenario.handshake_workers, rng)
            })
            .collect();
        for crash in &scenario.server_crashes {
            servers[crash.server as usize].crashes_at = crash.at_ns;
        }
        let registry_queues = (0..scenario.servers)
            .map(|_| RegistryQueue {
                idle_writers: scenario.writers,
                backlog: RisingInstants::default(),
            })
            .collect();

        // The arrival stream keeps exactly one arrival scheduled at a time.
        let arrivals_rng = streams.stream(stream::ARRIVALS, 0);
        let mut arrivals = Arrivals::new(
            &scenario.profile,
            scenario.clients,
            scenario.window_ns,
            arrivals_rng,
        );
        let mut queue = EventQueue::new();
        // Crashes are scheduled before anything else, so a crash runs before every other
        // event of its instant: whatever was due then on the server is lost.
        for crash in &scenario.server_crashes {
            queue.schedule(
                crash.at_ns,
                Event::Crash {
                    server: crash.server,
                },
            );
        }
        if let Some(first) = arrivals.next() {
            queue.schedule(first, Event::Arrival);
        }

        Self {
            scenario,
            queue,
            trajectory: Trajectory::default(),
            arrivals,
            next_client: 0,
            balancer: Balancer::new(
                scenario.balancer,
                scenario.servers,
                streams.stream(stream::BALANCER, 0),
            ),
            ring: (scenario.strategy == RegistryStrategy::Placement)
                .then(|| Ring::new(scenario.servers, scenario.virtual_nodes)),
            servers,
            registry_queues,
            pipelines: Self::pipeline_queues(scenario),
            shards,
            outage_windows,
            shard_map,
            handshake_service: ServiceSampler::new(&scenario.handshake),
            shard_service: ServiceSampler::new(&scenario.shard_service),
            network: scenario.network_rtt.map(|rtt| {
                let half_ns = rtt.mean_ns() / 2.0;
                Network {
                    request_ns: half_ns.round() as SimTime,
                    reply: ServiceSampler::new(&rtt.with_mean(half_ns)),
                    rng: streams.stream(stream::NETWORK, 0),
                }
            }),
            backoff: Backoff::new(scenario.retry, streams.stream(stream::RETRIES, 0)),
            churn: scenario
                .churn
                .map(|policy| Churn::new(policy, scenario.seed)),
            cancelled_drops: FxHashSet::default(),
            histories: FxHashMap::default(),
            series: TimeSeries::new(buckets),
            messages: MessageLedger::new(
                scenario.message_rate_per_s,
                scenario.message_rate_basis,
                scenario.clients,
                buckets,
                streams.stream(stream::MESSAGE_MISSES, 0),
                streams.stream(stream::MESSAGE_COUNTS, 0),
            ),
            first_message_rng: streams.stream(stream::FIRST_MESSAGES, 0),
            connect_latency: LatencyHistogram::default(),
            reconnect_latency: LatencyHistogram::default(),
            registry_lag: LatencyHistogram::default(),
            tally: Tally::default(),
            counts: Counts::default(),
            registry_backlog: 0,
            not_yet_connected: BinaryHeap::new(),
            last_write_applied_at: 0,
        }
    }

    /// One shard per primary; message lookups load each in proportion to its users.
    fn shards(
        scenario: &Scenario,
        map: &ShardMap,
        streams: &RandomStreams,
        outage_windows: &[Vec<(SimTime, SimTime)>],
    ) -> Vec<Shard> {
        // Per connected user, the stream is drawn at its rate with every client connected
        // and thinned as they connect.
        let follows_connected = scenario.message_rate_basis == RateBasis::PerConnectedUser;
        // Without a registry there is nothing to look up.
        let lookup_rate = if scenario.lookups_load_shards && scenario.strategy.has_registry() {
            let everyone = f64::from(scenario.clients);
            scenario
                .message_rate_basis
                .total_rate(scenario.message_rate_per_s, everyone)
        } else {
            0.0
        };
        map.user_shares(scenario.shards)
            .into_iter()
            .enumerate()
            .map(|(index, share)| {
                let index = index as u32;
                Shard::new(
                    streams.stream(stream::SHARD_SERVICE, index),
                    lookup_rate * share,
                    streams.stream(stream::LOOKUPS, index),
                    follows_connected,
                )
                .with_outages(
                    outage_windows
                        .get(index as usize)
                        .cloned()
                        .unwrap_or_default(),
                    scenario.outage_mode,
                )
            })
            .collect()
    }

    fn run(&mut self, progress: &mut dyn Progress) {
        let horizon = self.scenario.horizon_ns;
        while let Some(next) = self.queue.pop_before(horizon) {
            let now = next.time;
            self.trajectory.fold(now, next.event.kind());
            self.messages.advance(now);
            match next.event {
                Event::Arrival => self.arrive(now),
                Event::Retry { client } => self.attempt(now, client),
                Event::HandshakeDone {
                    client,
                    server,
                    attempt_start,
                } => self.handshake_done(now, client, server, attempt_start),
                Event::WriterFree { server } => self.writer_free(now, server),
                Event::Abandon { server } => self.abandon(server),
                Event::Crash { server } => self.crash(now, server),
                Event::ConnectionDropped {
                    client,
                    server,
                    connected_at,
                } => self.connection_dropped(now, client, server, connected_at),
                Event::LingerEnd {
                    server,
                    shard,
                    batch,
                } => self.linger_end(now, server, shard, batch),
            }
            if self.queue.dispatched() % PROGRESS_EVERY == 0 {
                progress.update(now, self.queue.dispatched());
            }
        }
        progress.update(horizon, self.queue.dispatched());
    }

    fn arrive(&mut self, now: SimTime) {
        let client = self.next_client;
        self.next_client += 1;
        self.tally.clients_arrived += 1;
        let bucket = self.series.bucket_of(now);
        TimeSeries::count(&mut self.series.arrivals, bucket);

        self.attempt(now, client);

        if let Some(next) = self.arrivals.next() {
            self.queue.schedule(next, Event::Arrival);
        }
    }

    /// One connection attempt of `client`, its first or a retry.
    fn attempt(&mut self, now: SimTime, client: u32) {
        self.counts.attempts += 1;
        let bucket = self.series.bucket_of(now);
        if self.histories.contains_key(&client) {
            TimeSeries::count(&mut self.series.retries, bucket);
        }

        let server = self.choose_server(now, client);
        let scenario = self.scenario;
        let admission = self.servers[server as usize].admit(
            now,
            scenario.max_connections,
            scenario.accept_queue,
            &self.handshake_service,
        );
        let handshake = match admission {
            Ok(handshake) => handshake,
            Err(reason) => {
                match reason {
                    Rejection::ServerFull => self.counts.rejected_server_full += 1,
                    Rejection::QueueFull => self.counts.rejected_queue_full += 1,
                }
                self.tally.clients_rejected += 1;
                TimeSeries::count(&mut self.series.rejected, bucket);
                self.attempt_failed(now, now, client, None, None);
                return;
            }
        };

        let connections = self.servers[server as usize].connections;
        self.balancer.count_changed(server, connections);
        let waiting = self.servers[server as usize].waiting() as u64;
        self.counts.peak_handshake_queue = self.counts.peak_handshake_queue.max(waiting);
        self.series.handshake_waiting.add(now, handshake.start);
        if handshake.start > now {
            self.counts.handshakes_waited += 1;
        }

        // The client gives up at its deadline, or loses the connection when its server
        // crashes, whichever comes first before the handshake ends.
        let crashes_at = self.servers[server as usize].crashes_at;
        match self.deadline(now) {
            Some(deadline) if handshake.done > deadline && deadline < crashes_at => {
                self.counts.wasted_handshakes += 1;
                self.attempt_failed(deadline, now, client, Some(server), None);
            }
            _ if handshake.done >= crashes_at => {
                self.attempt_failed(crashes_at, now, client, None, None);
            }
            _ => self.queue.schedule(
                handshake.done,
                Event::HandshakeDone {
                    client,
                    server,
                    attempt_start: now,
                },
            ),
        }
    }

    /// The server `client` is sent to among those still up at `now`: under `placement` the
    /// one the ring names (so a retry goes back to the same server, and a crashed server's
    /// users to the next live point's), else the balancer's choice.
    fn choose_server(&mut self, now: SimTime, client: u32) -> u32 {
        if let Some(ring) = &self.ring {
            return ring.server_of(client);
        }
        let servers = &self.servers;
        if self.scenario.server_crashes.is_empty() {
            return self.balancer.choose(|s| servers[s as usize].connections);
        }
        // A crashed server looks infinitely loaded, and a choice that lands on one anyway
        // is drawn again; validation keeps one server up, so this ends.
        let load = |s: u32| {
            let server = &servers[s as usize];
            if server.crashes_at <= now {
                u32::MAX
            } else {
                server.connections
            }
        };
        loop {
            let server = self.balancer.choose(load);
            if servers[server as usize].crashes_at > now {
                return server;
            }
        }
    }

    /// When a client that started an attempt at `attempt_start` gives up on it.
    fn deadline(&self, attempt_start: SimTime) -> Option<SimTime> {
        self.scenario
            .connect_timeout_ns
            .map(|timeout| attempt_start + timeout)
    }

    /// `client` gave up the attempt it started at `attempt_start`, at `given_up_at`
    /// (closing its connection to `server`, if it had one and the server is up); `stale`
    /// is the `[since, until)` of the entry that attempt's registry write left, if it was
    /// applied. Retries after a back-off, or gives up for good.
    fn attempt_failed(
        &mut self,
        given_up_at: SimTime,
        attempt_start: SimTime,
        client: u32,
        server: Option<u32>,
        stale: Option<(SimTime, SimTime)>,
    ) {
        if let Some(server) = server {
            self.queue.schedule(given_up_at, Event::Abandon { server });
        }
        let history = self
            .histories
            .entry(client)
            .or_insert_with(|| History::first_episode(attempt_start));
        history.failed_attempts += 1;
        if let Some((since, until)) = stale {
            history.stale_entry(since, until);
        }

        // A client still waiting out its timeout at the horizon is in progress there.
        let still_waiting = given_up_at >= self.scenario.horizon_ns;
        if !still_waiting && history.failed_attempts >= self.backoff.max_attempts() {
            let history = self.histories.remove(&client).expect("just inserted");
            self.tally.clients_gave_up += 1;
            history.close(&mut self.messages, self.scenario.horizon_ns);
            return;
        }
        let delay = if still_waiting {
            0
        } else {
            self.backoff
                .delay(history.failed_attempts, history.previous_backoff)
        };
        history.previous_backoff = delay;
        self.queue
            .schedule(given_up_at + delay, Event::Retry { client });
    }

    fn abandon(&mut self, server: u32) {
        let server_state = &mut self.servers[server as usize];
        server_state.abandon();
        let connections = server_state.connections;
        self.balancer.count_changed(server, connections);
    }

    fn handshake_done(&mut self, now: SimTime, client: u32, server: u32, attempt_start: SimTime) {
        if !self.scenario.strategy.has_registry() {
            self.connected_without_registry(now, client, server, attempt_start);
            return;
        }
        self.tally.writes_issued += 1;
        match self.scenario.strategy {
            RegistryStrategy::Sync => self.write_synchronously(now, client, server, attempt_start),
            RegistryStrategy::Async
            | RegistryStrategy::AsyncBatched
            | RegistryStrategy::Coalesced => {
                let episode = episode(self.histories.get(&client), attempt_start);
                self.established(now, episode, client, server);
                if self.scenario.strategy == RegistryStrategy::AsyncBatched {
                    self.join_batch(now, client, server);
                } else {
                    self.queue_write(now, client, server);
                }
            }
            RegistryStrategy::Placement | RegistryStrategy::Lazy => {
                unreachable!("strategies without a registry return above")
            }
        }
    }

    /// `placement` and `lazy`: the connection is established at the end of the handshake
    /// and nothing is written. The user is reachable at once (the router computes its
    /// server, or finds it by a broadcast), so it counts as registered with a lag of zero.
    fn connected_without_registry(
        &mut self,
        now: SimTime,
        client: u32,
        server: u32,
        attempt_start: SimTime,
    ) {
        let history = self.histories.remove(&client);
        let episode = episode(history.as_ref(), attempt_start);
        self.established(now, episode, client, server);
        self.reachable(now, now);
        self.live(client, history, now, Some(now), server);
    }

    /// Under `lazy`, the unit exponential draw that places the first message of a user's
    /// life (see [`MessageLedger::lazy_life`]); `None` under every other strategy.
    fn lazy_first_message(&mut self) -> Option<f64> {
        (self.scenario.strategy == RegistryStrategy::Lazy)
            .then(|| Exp1.sample(&mut self.first_message_rng))
    }

    /// When the connection `client` established on `server` at `connected_at` ends: its
    /// server's crash, its own drop, or the horizon.
    fn connection_ends_at(&self, server: u32, client: u32, connected_at: SimTime) -> SimTime {
        self.drops_at(server, client, connected_at)
            .unwrap_or_else(|| self.server_ends_at(server))
    }

    /// When that connection drops on its own, if it does before its server crashes and
    /// before the horizon (see [`Churn`]).
    fn drops_at(&self, server: u32, client: u32, connected_at: SimTime) -> Option<SimTime> {
        self.churn
            .as_ref()?
            .drops_at(client, connected_at)
            .filter(|&drop| drop < self.server_ends_at(server))
    }

    /// When every connection to `server` ends: its crash, or the horizon.
    fn server_ends_at(&self, server: u32) -> SimTime {
        self.servers[server as usize]
            .crashes_at
            .min(self.scenario.horizon_ns)
    }

    /// Hands one life of `client` (connected at `connected_at`, registered at
    /// `registered_at`) on `server` to the ledger, and schedules its reconnect if the server
    /// crashes under it.
    fn live(
        &mut self,
        client: u32,
        history: Option<History>,
        connected_at: SimTime,
        registered_at: Option<SimTime>,
        server: u32,
    ) {
        let horizon = self.scenario.horizon_ns;
        let ends_at = self.connection_ends_at(server, client, connected_at);
        let lazy_first_message = self.lazy_first_message();
        let Some(mut history) = history.or_else(|| (ends_at < horizon).then(History::default))
        else {
            // The common case: connected for good, no past to account for.
            let outages = self.outages_of(client);
            match lazy_first_message {
                Some(unit) => self.messages.lazy_timeline(connected_at, unit),
                None => self.messages.client_timeline(
                    connected_at,
                    registered_at,
                    None,
                    windows_of(&self.outage_windows, outages),
                ),
            }
            return;
        };
        let outages = self.outages_of(client);
        let life = (connected_at, registered_at, ends_at);
        match lazy_first_message {
            Some(unit) => history.lazy_life(&mut self.messages, connected_at, ends_at, unit),
            None => history.life(
                &mut self.messages,
                life,
                windows_of(&self.outage_windows, outages),
            ),
        }
        if ends_at >= horizon {
            history.close(&mut self.messages, horizon);
            return;
        }
        // The user was reachable until the connection ended (through its entry, or at once
        // without a registry) and is no longer: deregistered, for the time series.
        if registered_at.is_some_and(|r| r < ends_at) {
            let bucket = self.series.bucket_of(ends_at);
            TimeSeries::count(&mut self.series.deregistered, bucket);
        }
        let entry = registered_at.filter(|&r| r < horizon && self.scenario.strategy.has_registry());
        if entry.is_some() {
            history.newest_entry_of = Some(connected_at);
        }

        // The connection drops on its own, its server still up: the server deletes the
        // entry and the client reconnects when it drops (see `connection_dropped`).
        if self.drops_at(server, client, connected_at).is_some() {
            history.dropping = Some(DroppingLife {
                connected_at,
                entry_applied_at: entry,
            });
            self.histories.insert(client, history);
            return;
        }

        // The server crashed under a connected client: its entry, applied before the crash
        // or after it, now names a dead server, and the client reconnects after a back-off.
        // Without a registry there is no entry: the ring skips the dead server, and under
        // `lazy` the router's cached location fails and the next message broadcasts again.
        if let Some(applied) = entry {
            let since = applied.max(ends_at);
            let (since, until) = self.orphaned_entry(client, since, false);
            history.stale_entry(since, until);
        }
        self.disconnected(ends_at, client, history);
    }

    /// The share of clients connected now, which sets the lookup rate when messages are
    /// sent per connected user.
    fn connected_share(&mut self) -> f64 {
        self.connected_share_at(self.queue.now())
    }

    /// The share of clients connected at `at`, no earlier than any instant asked before.
    fn connected_share_at(&mut self, at: SimTime) -> f64 {
        while self
            .not_yet_connected
            .peek()
            .is_some_and(|&Reverse(established)| established <= at)
        {
            self.not_yet_connected.pop();
        }
        let connected = self
            .tally
            .clients_connected
            .saturating_sub(self.not_yet_connected.len() as u64);
        connected as f64 / f64::from(self.scenario.clients)
    }

    /// `client` is connected to `server` at `at`, in an `episode` that began at its first
    /// instant (and is a reconnect if its flag says so), until the connection ends; a
    /// connection that drops on its own has its drop scheduled.
    fn established(&mut self, at: SimTime, episode: (SimTime, bool), client: u32, server: u32) {
        let drop = self.drops_at(server, client, at);
        let until = drop.unwrap_or_else(|| self.server_ends_at(server));
        if let Some(drop) = drop {
            self.queue.schedule(
                drop,
                Event::ConnectionDropped {
                    client,
                    server,
                    connected_at: at,
                },
            );
        }
        let (episode_start, reconnecting) = episode;
        self.tally.clients_connected += 1;
        let follows_connected = self.scenario.message_rate_basis == RateBasis::PerConnectedUser;
        if follows_connected && at > self.queue.now() {
            self.not_yet_connected.push(Reverse(at));
        }
        self.messages.client_connected(at, until);
        if reconnecting {
            self.reconnect_latency.record(at - episode_start);
        } else {
            self.connect_latency.record(at - episode_start);
        }
        let bucket = self.series.bucket_of(at);
        TimeSeries::count(&mut self.series.connected, bucket);
    }

    /// A write applied at `applied_at` for a connection established at `established_at`;
    /// `still_connected` is false when its server crashed first, so it names a dead server
    /// and ends no registry lag.
    fn registered(&mut self, applied_at: SimTime, established_at: SimTime, still_connected: bool) {
        self.tally.writes_applied += 1;
        if !still_connected {
            self.last_write_applied_at = self.last_write_applied_at.max(applied_at);
            return;
        }
        self.reachable(applied_at, established_at);
    }

    /// The router can reach a user connected at `established_at` from `reachable_at` on
    /// (when its write is applied, or at once without a registry).
    fn reachable(&mut self, reachable_at: SimTime, established_at: SimTime) {
        self.registry_lag.record(reachable_at - established_at);
        self.last_write_applied_at = self.last_write_applied_at.max(reachable_at);
        let bucket = self.series.bucket_of(reachable_at);
        TimeSeries::count(&mut self.series.registered, bucket);
    }

    /// Counts what is still in progress at the horizon.
    fn count_in_progress(&mut self) {
        let horizon = self.scenario.horizon_ns;
        for pending in self.queue.drain_pending() {
            match pending.event {
                Event::HandshakeDone { client, .. } | Event::Retry { client } => {
                    self.tally.clients_in_progress += 1;
                    match self.histories.remove(&client) {
                        Some(history) => history.close(&mut self.messages, horizon),
                        None => self.messages.never_connected(None),
                    }
                }
                Event::Arrival => {
                    unreachable!("every client arrives within the window, before the horizon")
                }
                Event::WriterFree { .. }
                | Event::Abandon { .. }
                | Event::LingerEnd { .. }
                | Event::Crash { .. }
                | Event::ConnectionDropped { .. } => {}
            }
        }
        for server in 0..self.registry_queues.len() {
            let server = server as u32;
            let backlog = self.registry_queues[server as usize].take_all();
            for write in backlog {
                self.tally.writes_pending += 1;
                self.series
                    .registry_waiting
                    .add(write.established_at, horizon);
                // A write whose connection dropped: its life was laid out at the drop.
                if self.has_dropped(server, write, horizon) {
                    continue;
                }
                let history = self.histories.remove(&write.client);
                self.live(write.client, history, write.established_at, None, server);
            }
        }
        self.drain_pipelines();
    }

    /// Assembles the outcome of the run.
    fn finish(mut self) -> RunOutcome {
        let horizon = self.scenario.horizon_ns;
        self.count_in_progress();
        self.serve_last_lookups();
        for shard in &mut self.shards {
            shard.finish(horizon, &self.shard_service, &mut self.series);
        }

        let (server_connections_max, server_load_imbalance) = self.load_imbalance();
        let (mut messages, miss_delay) = self.messages.finish();
        let broadcasts_per_bucket = std::mem::take(&mut messages.first_messages_per_bucket);
        let broadcast_queries: u64 = broadcasts_per_bucket.iter().sum();
        self.tally.messages_sent = messages.sent_per_bucket.iter().sum();
        self.tally.messages_routed = messages.routed;
        self.tally.messages_missed = messages.missed;
        self.tally.messages_offline = messages.offline;
        self.tally.timeline_expected_ns = u128::from(self.scenario.clients) * u128::from(horizon);
        self.tally.timeline_covered_ns = messages.covered_ns;

        let shards = f64::from(self.scenario.shards);
        let series = SeriesColumns {
            bucket_ns: self.scenario.bucket_ns,
            handshake_queue: self.series.handshake_waiting.means(),
            registry_queue: self.series.registry_waiting.means(),
            shard_queue: self.series.shard_waiting.means(),
            shard_utilization: self
                .series
                .shard_busy
                .means()
                .iter()
                .map(|busy| busy / shards)
                .collect(),
            busiest_shard_utilization: self.series.busiest_shard.values().to_vec(),
            messages_sent: messages.sent_per_bucket,
            messages_missed: messages.missed_per_bucket,
            arrivals: self.series.arrivals,
            retries: self.series.retries,
            rejected: self.series.rejected,
            connected: self.series.connected,
            registered: self.series.registered,
            disconnected: self.series.disconnected,
            deregistered: self.series.deregistered,
            broadcast_queries: broadcasts_per_bucket,
        };
        // Nobody is registered when nobody ever connected.
        let all_registered = self.tally.writes_pending == 0
            && self.tally.clients_in_progress == 0
            && self.last_write_applied_at > 0;
        let counts = self.counts;
        RunOutcome {
            tally: self.tally,
            connect_latency: self.connect_latency,
            reconnect_latency: self.reconnect_latency,
            registry_lag: self.registry_lag,
            miss_delay,
            messages_missed_undelivered: messages.missed_undelivered,
            messages_missed_stale: messages.missed_stale,
            messages_missed_outage: messages.missed_outage,
            writes_failed: counts.writes_failed,
            attempts: counts.attempts,
            rejected_server_full: counts.rejected_server_full,
            rejected_queue_full: counts.rejected_queue_full,
            wasted_handshakes: counts.wasted_handshakes,
            wasted_writes: counts.wasted_writes,
            handshakes_waited: counts.handshakes_waited,
            pipelines_sent: counts.pipelines_sent,
            pipelined_writes: counts.pipelined_writes,
            lookups: self.shards.iter().map(Shard::lookups_served).sum(),
            disconnections: counts.disconnections,
            connections_dropped: counts.connections_dropped,
            deletes: counts.deletes,
            peak_handshake_queue: counts.peak_handshake_queue,
            peak_registry_queue: counts.peak_registry_backlog,
            peak_shard_queue: self
                .shards
                .iter()
                .map(|s| s.peak_in_system as u64)
                .max()
                .unwrap_or(0),
            shard_utilization_peak: series
                .busiest_shard_utilization
                .iter()
                .copied()
                .fold(0.0, f64::max),
            all_registered_at: all_registered.then_some(self.last_write_applied_at),
            events: self.queue.dispatched(),
            fingerprint: self.trajectory.hex(),
            series,
            server_connections_max,
            server_load_imbalance,
            broadcast_queries,
            broadcast_messages: broadcast_queries * u64::from(self.scenario.servers),
        }
    }

    /// The most connections one server holds at the horizon, and that over the mean.
    /// Serves the lookups due after the last registry operation, when messages are sent
    /// per connected user: bucket by bucket, each bucket's at the share of clients
    /// connected by its end (sync connections keep coming while the shards drain).
    fn serve_last_lookups(&mut self) {
        if self.scenario.message_rate_basis != RateBasis::PerConnectedUser {
            return;
        }
        let buckets = self.series.buckets;
        let horizon = self.scenario.horizon_ns;
        for bucket in buckets.index(self.queue.now())..buckets.count() {
            let end = buckets.start(bucket + 1).min(horizon);
            let share = self.connected_share_at(end);
            for shard in &mut self.shards {
                shard.set_connected_share(share);
                shard.serve_lookups_until(end - 1, &self.shard_service, &mut self.series);
            }
        }
    }

    /// Over the servers still up at the horizon: a crashed server holds nobody, whatever
    /// count it had when it died.
    fn load_imbalance(&self) -> (u64, f64) {
        let horizon = self.scenario.horizon_ns;
        let counts: Vec<u64> = self
            .servers
            .iter()
            .filter(|server| server.crashes_at >= horizon)
            .map(|server| u64::from(server.connections))
            .collect();
        let most = counts.iter().copied().max().unwrap_or(0);
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return (0, 0.0);
        }
        let mean = total as f64 / counts.len() as f64;
        (most, most as f64 / mean)
    }
}
