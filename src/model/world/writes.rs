//! Registry writes in the world: the sync strategy's write on the connect path, the async
//! strategy's queue and writers, and every operation's trip to its primary over the
//! network.
//!
//! A round trip (`network.rtt`) is split in two halves of equal mean. The way there is
//! constant, so operations reach a primary in the order they were sent and its queue
//! stays first in, first out with each completion fixed on arrival; the way back carries
//! the draw (the configured family and coefficient of variation, at half the mean). A
//! round trip's mean is the configured one; its spread is the way back's alone.

use crate::config::{OnDisconnect, RegistryStrategy};
use crate::engine::SimTime;
use crate::model::pipeline::QueuedWrite;
use crate::model::service::ServiceSampler;
use crate::model::shard::Failed;

use super::{Event, World, episode};

/// A registry operation's outcome: applied at the primary, then known to its sender one
/// network leg later.
#[derive(Debug, Clone, Copy)]
pub(super) struct Reply {
    pub(super) applied_at: SimTime,
    pub(super) acked_at: SimTime,
}

impl Reply {
    /// An operation that would reach its primary at `arrival`, at or after the horizon: it
    /// is not served, and stays pending.
    fn beyond_the_horizon(arrival: SimTime, response: SimTime) -> Self {
        Self {
            applied_at: arrival,
            acked_at: arrival.saturating_add(response),
        }
    }

    /// What the sender learns of an operation `served` by a primary, `response` later.
    fn after(served: Result<SimTime, Failed>, response: SimTime) -> Result<Self, Failed> {
        match served {
            Ok(applied_at) => Ok(Self {
                applied_at,
                acked_at: applied_at.saturating_add(response),
            }),
            Err(failed) => Err(Failed {
                at: failed.at.saturating_add(response),
                ..failed
            }),
        }
    }
}

impl World<'_> {
    /// The sync strategy: the connection is established when the write is applied, if
    /// the client is still waiting and its server still up by then.
    pub(super) fn write_synchronously(
        &mut self,
        now: SimTime,
        client: u32,
        server: u32,
        start: SimTime,
    ) {
        // The client learns of its connection when the reply comes back; the router is
        // told of the entry from then on too (a message sent between the write and the
        // reply counts as offline).
        let (written_at, applied_at) = match self.write_to_shard(now, client) {
            Ok(reply) => (reply.applied_at, reply.acked_at),
            Err(failed) => return self.sync_write_failed(failed, client, server, start),
        };
        let horizon = self.scenario.horizon_ns;
        let crashes_at = self.servers[server as usize].crashes_at;

        let timed_out = self
            .deadline(start)
            .filter(|&d| applied_at > d && d < crashes_at);
        if timed_out.is_some() || applied_at >= crashes_at {
            self.counts.wasted_writes += 1;
            let stale = if applied_at < horizon {
                self.tally.writes_applied += 1;
                Some(self.orphaned_entry(client, written_at, applied_at < crashes_at))
            } else {
                self.tally.writes_pending += 1;
                None
            };
            match timed_out {
                Some(deadline) => self.attempt_failed(deadline, start, client, Some(server), stale),
                None => self.attempt_failed(crashes_at, start, client, None, stale),
            }
            return;
        }

        let history = self.histories.remove(&client);
        if applied_at >= horizon {
            self.tally.clients_in_progress += 1;
            self.tally.writes_pending += 1;
            match history {
                Some(history) => history.close(&mut self.messages, horizon),
                None => self.messages.never_connected(None),
            }
            return;
        }
        let episode = episode(history.as_ref(), start);
        self.established(applied_at, episode, client, server);
        self.registered(applied_at, applied_at, true);
        self.live(client, history, applied_at, Some(applied_at), server);
    }

    /// The async strategy: the write waits for one of the server's writers.
    pub(super) fn queue_write(&mut self, now: SimTime, client: u32, server: u32) {
        let queue = &mut self.registry_queues[server as usize];
        if queue.idle_writers > 0 {
            queue.idle_writers -= 1;
            self.dispatch_write(now, server, client, now);
        } else {
            queue.push(QueuedWrite {
                established_at: now,
                client,
            });
            self.registry_backlog += 1;
            self.counts.peak_registry_backlog =
                self.counts.peak_registry_backlog.max(self.registry_backlog);
        }
    }

    /// A writer of `server` is free at `now`: it sends the oldest queued write, or idles.
    /// Under `coalesced` it first drops every write at the head of the queue whose
    /// connection has closed, since the user's next connection writes a newer entry.
    pub(super) fn writer_free(&mut self, now: SimTime, server: u32) {
        if self.servers[server as usize].crashes_at <= now {
            return;
        }
        if self.scenario.strategy == RegistryStrategy::AsyncBatched {
            self.pipeline_done(now, server);
            return;
        }
        let coalescing = self.scenario.strategy == RegistryStrategy::Coalesced;
        loop {
            let queue = &mut self.registry_queues[server as usize];
            let Some(write) = queue.pop() else {
                queue.idle_writers += 1;
                return;
            };
            self.registry_backlog -= 1;
            if coalescing && self.has_dropped(server, write, now) {
                self.tally.writes_coalesced += 1;
                self.series.registry_waiting.add(write.established_at, now);
                continue;
            }
            self.dispatch_write(now, server, write.client, write.established_at);
            return;
        }
    }

    /// Whether the connection `write` registers dropped on its own at or before `now`.
    pub(super) fn has_dropped(&self, server: u32, write: QueuedWrite, now: SimTime) -> bool {
        self.drops_at(server, write.client, write.established_at)
            .is_some_and(|drop| drop <= now)
    }

    /// A writer of `server` sends `client`'s write at `now` and stays busy until it is
    /// applied.
    pub(super) fn dispatch_write(
        &mut self,
        now: SimTime,
        server: u32,
        client: u32,
        established_at: SimTime,
    ) {
        self.series.registry_waiting.add(established_at, now);
        let write = QueuedWrite {
            established_at,
            client,
        };
        if self.has_dropped(server, write, now) {
            let served = self.write_to_shard(now, client);
            self.outdated_write_served(write, now, served);
            let free_at = served.map_or_else(|failed| failed.at, |reply| reply.acked_at);
            self.queue.schedule(free_at, Event::WriterFree { server });
            return;
        }
        let free_at = match self.write_to_shard(now, client) {
            Ok(reply) => {
                self.settle_write(client, server, established_at, reply.applied_at);
                reply.acked_at
            }
            Err(failed) => {
                self.write_failed(failed, client, server, established_at);
                failed.at
            }
        };
        self.queue.schedule(free_at, Event::WriterFree { server });
    }

    /// `client`'s write, sent by `server` for a connection established at
    /// `established_at`, is applied at `applied_at` (or later than the horizon): the
    /// client's life on the server is settled.
    pub(super) fn settle_write(
        &mut self,
        client: u32,
        server: u32,
        established_at: SimTime,
        applied_at: SimTime,
    ) {
        let ends_at = self.connection_ends_at(server, client, established_at);
        let history = self.histories.remove(&client);
        if applied_at < self.scenario.horizon_ns {
            self.registered(applied_at, established_at, applied_at < ends_at);
            self.live(client, history, established_at, Some(applied_at), server);
        } else {
            self.tally.writes_pending += 1;
            self.live(client, history, established_at, None, server);
        }
    }

    /// A write sent at `now` for a connection that had already dropped (under `async` and
    /// `async-batched`, which do not coalesce): wasted work. Applied before the user's
    /// next entry, it names a server that no longer holds the user, so the server deletes
    /// it right behind (or it expires). Entries are versioned by their connection's
    /// instant, so applied after the user's next entry it replaces nothing.
    ///
    /// A client that gave up for good before its outdated write was applied keeps no
    /// history, so that entry's stale misses count as offline.
    pub(super) fn outdated_write_served(
        &mut self,
        write: QueuedWrite,
        now: SimTime,
        served: Result<Reply, Failed>,
    ) {
        self.counts.wasted_writes += 1;
        let horizon = self.scenario.horizon_ns;
        let applied_at = match served {
            Ok(reply) if reply.applied_at < horizon => reply.applied_at,
            Ok(_) => {
                self.tally.writes_pending += 1;
                return;
            }
            Err(failed) if failed.at < horizon => {
                self.counts.writes_failed += 1;
                self.tally.writes_lost += 1;
                return;
            }
            Err(_) => {
                self.tally.writes_pending += 1;
                return;
            }
        };
        self.tally.writes_applied += 1;
        self.last_write_applied_at = self.last_write_applied_at.max(applied_at);

        // The user's newer entry was written first if its history says so, or if it keeps
        // none after having dropped before `now` (its next life is settled). A drop at
        // `now` itself has not run yet: that life is the user's newest.
        let client = write.client;
        let dropped_before_now = self
            .churn
            .and_then(|churn| churn.drops_at(client, write.established_at))
            .is_some_and(|drop| drop < now);
        let newer_first = match self.histories.get(&client) {
            Some(history) => history
                .newest_entry_of
                .is_some_and(|newest| newest > write.established_at),
            None => dropped_before_now,
        };
        if newer_first {
            return;
        }
        let (since, until) = self.orphaned_entry(client, applied_at, true);
        self.histories
            .entry(client)
            .or_default()
            .stale_entry(since, until);
    }

    /// Sends `client`'s registry write to its shard at `now`; returns when it is applied
    /// and when the sender learns so, or its failure at a primary that is down.
    pub(super) fn write_to_shard(&mut self, now: SimTime, client: u32) -> Result<Reply, Failed> {
        let shard = self.shard_map.shard_of(client) as usize;
        let write = self.shard_service;
        self.send_to_shard(now, shard, &write)
    }

    /// Sends one operation (a write, a delete or a pipeline) of service `operation` to
    /// `shard` at `now`, over the network: the lookups due by its arrival are served
    /// first, and one that would arrive at or after the horizon is left pending.
    pub(super) fn send_to_shard(
        &mut self,
        now: SimTime,
        shard: usize,
        operation: &ServiceSampler,
    ) -> Result<Reply, Failed> {
        let (request, response) = self.network_legs();
        let arrival = now + request;
        if arrival >= self.scenario.horizon_ns {
            return Ok(Reply::beyond_the_horizon(arrival, response));
        }
        let connected_share = self.connected_share();
        let shard = &mut self.shards[shard];
        shard.set_connected_share(connected_share);
        let served =
            shard.serve_operation(arrival, &self.shard_service, operation, &mut self.series);
        Reply::after(served, response)
    }

    /// The two halves of one round trip to a primary: to it, and back (zero without a
    /// network delay).
    pub(super) fn network_legs(&mut self) -> (SimTime, SimTime) {
        match &mut self.network {
            Some(network) => (network.request_ns, network.reply.sample(&mut network.rng)),
            None => (0, 0),
        }
    }

    /// The `[since, until)` of an entry applied at `since` for a connection that is gone.
    /// A server that is up (`server_up`) deletes it at once under `delete`: the delete is
    /// served right behind the write, as if pipelined with it, which puts it slightly ahead
    /// of operations that reached the shard in between. A crashed server deletes nothing.
    pub(super) fn orphaned_entry(
        &mut self,
        client: u32,
        since: SimTime,
        server_up: bool,
    ) -> (SimTime, SimTime) {
        match self.scenario.on_disconnect {
            OnDisconnect::Expire { ttl_ns } => (since, since.saturating_add(ttl_ns)),
            OnDisconnect::Delete if server_up => {
                self.counts.deletes += 1;
                let now = self.queue.now();
                // A delete that fails at a primary that is down leaves the entry until the
                // user's next write replaces it.
                let deleted_at = self
                    .write_to_shard(now, client)
                    .map_or(SimTime::MAX, |reply| reply.applied_at);
                (since, deleted_at)
            }
            OnDisconnect::Delete => (since, SimTime::MAX),
        }
    }
}
