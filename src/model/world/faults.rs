//! Faults in the world: connection server crashes, Redis primary outages and connections
//! that drop on their own (`clients.churn`), and the disconnects they cause.
//!
//! Both are declared in the scenario, so their instants are known from the start: a
//! handshake or a write learns when it is scheduled whether a crash will cut it off, and
//! a primary's outage windows decide each operation's fate when it reaches the primary
//! (see [`crate::model::shard`]). Only the writes still queued on a server when it crashes
//! need the crash event. A client cut off before its entry was written, by a crash or by a
//! write that failed at a primary that was down, reconnects after a back-off.

use crate::config::Scenario;
use crate::engine::SimTime;
use crate::metrics::TimeSeries;
use crate::model::shard::Failed;
use crate::model::timeline::History;

use super::{Event, World};

/// The outage windows of `shard` (see [`World::outages_of`]).
pub(super) fn windows_of(
    windows: &[Vec<(SimTime, SimTime)>],
    shard: Option<usize>,
) -> &[(SimTime, SimTime)] {
    shard.map_or(&[], |shard| &windows[shard])
}

impl World<'_> {
    /// `server` dies at `now`: the registry writes still queued on it are lost, and their
    /// clients, connected but never registered, reconnect. Clients whose handshake or write
    /// was under way learnt their fate when it was scheduled (see [`Self::attempt`] and
    /// [`Self::live`]), since the crash's instant is known from the start.
    pub(super) fn crash(&mut self, now: SimTime, server: u32) {
        self.balancer.count_changed(server, u32::MAX);
        if let Some(ring) = &mut self.ring {
            ring.set_down(server);
        }
        let mut lost: Vec<_> = self.registry_queues[server as usize].take_all().collect();
        if let Some(batches) = self.pipelines.get_mut(server as usize) {
            lost.extend(batches.drain());
        }
        for write in lost {
            if self.has_dropped(server, write, now) {
                // Its connection dropped before the crash, which laid its life out.
                self.registry_backlog -= 1;
                self.tally.writes_lost += 1;
            } else {
                self.write_lost(now, write.client, write.established_at);
            }
        }
    }

    /// `client`'s write, queued on `server` for a connection established at
    /// `established_at`, was never sent: the server crashed at `now`.
    pub(super) fn write_lost(&mut self, now: SimTime, client: u32, established_at: SimTime) {
        self.registry_backlog -= 1;
        self.tally.writes_lost += 1;
        self.cut_before_registration(now, client, established_at);
    }

    /// `client`'s write, sent by `server` for a connection established at
    /// `established_at`, failed at a primary that was down: the server cannot register
    /// the user, so it closes the connection, and the client reconnects after a back-off
    /// (its next write succeeds once the replica is promoted). A crash of the server
    /// first cuts the connection instead.
    pub(super) fn write_failed(
        &mut self,
        failed: Failed,
        client: u32,
        server: u32,
        established_at: SimTime,
    ) {
        if failed.at >= self.scenario.horizon_ns {
            // The server learns of the failure after the horizon: pending until then.
            self.settle_write(client, server, established_at, failed.at);
            return;
        }
        self.counts.writes_failed += 1;
        self.tally.writes_lost += 1;
        let drops_at = self.drops_at(server, client, established_at);
        if drops_at.is_some_and(|drop| drop <= failed.at) {
            // The connection drops on its own before the server learns of the failure:
            // the drop cuts it (see `connection_dropped`).
            return;
        }
        let crashes_at = self.servers[server as usize].crashes_at;
        if failed.at < crashes_at {
            self.queue.schedule(failed.at, Event::Abandon { server });
            // It was told as a sender until its connection's end when it connected.
            let told_until = self.connection_ends_at(server, client, established_at);
            self.messages.client_disconnected(failed.at, told_until);
            if drops_at.is_some() {
                self.cancelled_drops.insert((client, established_at));
            }
        }
        self.cut_before_registration(failed.at.min(crashes_at), client, established_at);
    }

    /// Under `sync`, `client`'s write failed at a primary that was down: its attempt
    /// fails when the server learns so, unless the client gave up or lost its server
    /// first.
    pub(super) fn sync_write_failed(
        &mut self,
        failed: Failed,
        client: u32,
        server: u32,
        start: SimTime,
    ) {
        // A failure the server learns of after the horizon leaves the write pending then.
        if failed.at >= self.scenario.horizon_ns {
            self.tally.writes_pending += 1;
        } else {
            self.counts.writes_failed += 1;
            self.tally.writes_lost += 1;
        }
        let gave_up_at = self.deadline(start).unwrap_or(SimTime::MAX);
        let at = failed.at.min(gave_up_at);
        let crashes_at = self.servers[server as usize].crashes_at;
        if crashes_at <= at {
            self.attempt_failed(crashes_at, start, client, None, None);
        } else {
            self.attempt_failed(at, start, client, Some(server), None);
        }
    }

    /// The connection `client` established on `server` at `connected_at` drops on its own
    /// at `now`, its server still up, unless a failed write cut it first. If its life is
    /// laid out (its write was sent, or it needs none), the server deletes its entry
    /// (under `delete`) and the client reconnects; if its write is still queued, the user
    /// was never registered in this life, and the write stays queued (it is outdated, see
    /// `outdated_write_served`; `coalesced` drops it).
    pub(super) fn connection_dropped(
        &mut self,
        now: SimTime,
        client: u32,
        server: u32,
        connected_at: SimTime,
    ) {
        if self.cancelled_drops.remove(&(client, connected_at)) {
            return;
        }
        self.counts.connections_dropped += 1;
        self.abandon(server);

        let laid_out = self
            .histories
            .get(&client)
            .and_then(|history| history.dropping)
            .filter(|dropping| dropping.connected_at == connected_at);
        let Some(dropping) = laid_out else {
            self.cut_before_registration(now, client, connected_at);
            return;
        };
        let mut history = self.histories.remove(&client).expect("looked up above");
        history.dropping = None;
        if let Some(applied) = dropping.entry_applied_at {
            let (since, until) = self.orphaned_entry(client, applied.max(now), true);
            history.stale_entry(since, until);
        }
        self.disconnected(now, client, history);
    }

    /// `client`, connected at `established_at` but never registered, loses its connection
    /// at `at` and reconnects after a back-off.
    pub(super) fn cut_before_registration(
        &mut self,
        at: SimTime,
        client: u32,
        established_at: SimTime,
    ) {
        let mut history = self.histories.remove(&client).unwrap_or_default();
        let outages = self.outages_of(client);
        history.life(
            &mut self.messages,
            (established_at, None, at),
            windows_of(&self.outage_windows, outages),
        );
        self.disconnected(at, client, history);
    }

    /// `client` lost its connection at `at` (its server crashed, or closed it when its
    /// write failed) and reconnects after a back-off.
    pub(super) fn disconnected(&mut self, at: SimTime, client: u32, mut history: History) {
        self.counts.disconnections += 1;
        self.tally.clients_connected -= 1;
        let bucket = self.series.bucket_of(at);
        TimeSeries::count(&mut self.series.disconnected, bucket);

        history.reconnect_from(at);
        let delay = self.backoff.delay(1, 0);
        history.previous_backoff = delay;
        self.histories.insert(client, history);
        self.queue.schedule(at + delay, Event::Retry { client });
    }

    /// The primary whose outages the router meets when it looks `client` up: `None` when
    /// no primary has an outage, or there is no registry to look up.
    pub(super) fn outages_of(&self, client: u32) -> Option<usize> {
        if self.outage_windows.is_empty() || !self.scenario.strategy.has_registry() {
            return None;
        }
        Some(self.shard_map.shard_of(client) as usize)
    }

    /// Each primary's outage windows, or none at all when no primary has one.
    pub(super) fn outage_windows(scenario: &Scenario) -> Vec<Vec<(SimTime, SimTime)>> {
        if scenario.shard_outages.is_empty() {
            return Vec::new();
        }
        let mut windows = vec![Vec::new(); scenario.shards as usize];
        for outage in &scenario.shard_outages {
            windows[outage.shard as usize].push((outage.start_ns, outage.end_ns));
        }
        windows
    }
}
