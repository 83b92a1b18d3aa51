//! A client's timeline across failed attempts, disconnects and reconnects, as the message
//! router sees it.
//!
//! A client that connects once and stays connected hands its whole timeline to the
//! [`MessageLedger`] in one call, and keeps no state. A client whose attempt failed, or
//! whose server crashed under it, keeps a [`History`] until the horizon or until its
//! timeline is settled again: what has been handed to the ledger so far, the stale entries
//! the registry holds for it (entries naming a server that no longer holds the user), and
//! the miss windows whose messages wait for the user's next registration to be delivered.
//!
//! Each of the client's lives (connected at `c`, entry applied at `r`, connection ended at
//! `e`) is then laid out on the router's view:
//!
//! - before `c` the user is not connected: its messages are offline, unless a stale entry
//!   sends them to a dead or wrong server, which makes them stale misses;
//! - from `c` to `r` it is connected without an entry of its own: missing-entry misses, or
//!   stale misses where a stale entry is still there;
//! - from `r` to `e` its messages are routed.
//!
//! Misses are delivered by the fallback when the user's entry is next applied, which may
//! be in a later life.

use crate::engine::SimTime;

use super::messages::{MessageLedger, MissKind};

/// What is remembered of a client whose timeline is not settled in one call.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Start of the current connection episode: the first attempt, or the disconnect that
    /// sent the client back to connecting. Connect latency is measured from it.
    pub episode_start: SimTime,
    /// Failed attempts in the current episode.
    pub failed_attempts: u32,
    /// The back-off drawn before the last retry (decorrelated jitter needs it).
    pub previous_backoff: SimTime,
    /// Whether the episode is a reconnect after a disconnect.
    pub reconnecting: bool,
    /// A life laid out to the instant its connection drops on its own, whose disconnect
    /// (the delete of its entry, the reconnect) waits for that instant.
    pub dropping: Option<DroppingLife>,
    /// The connection instant of the newest connection whose entry was written: an older
    /// connection's write that reaches the primary later does not replace it.
    pub newest_entry_of: Option<SimTime>,
    /// The client's time before this instant has been handed to the ledger.
    reported_until: SimTime,
    /// `[since, until)` of each stale entry, in the order they were written; `until` is
    /// `SimTime::MAX` for an entry that lasts until the user's next write replaces it.
    stale: Vec<(SimTime, SimTime)>,
    /// Miss windows whose messages are delivered at the next registration.
    held: Vec<(SimTime, SimTime, MissKind)>,
}

/// A connection that will drop on its own, whose life is already laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DroppingLife {
    pub connected_at: SimTime,
    /// When its entry was applied, if before the horizon.
    pub entry_applied_at: Option<SimTime>,
}

impl History {
    /// A client whose first attempt started at `attempt_start`.
    pub fn first_episode(attempt_start: SimTime) -> Self {
        Self {
            episode_start: attempt_start,
            ..Self::default()
        }
    }

    /// The registry holds an entry for the user, written at `since`, that names a server
    /// which does not hold it, until `until` (`SimTime::MAX`: until rewritten).
    pub fn stale_entry(&mut self, since: SimTime, until: SimTime) {
        if since < until {
            self.stale.push((since, until));
        }
    }

    /// Whether a stale entry was ever recorded and not yet settled.
    pub fn has_stale_entry(&self) -> bool {
        !self.stale.is_empty()
    }

    /// Starts a new connection episode at `at`, after a disconnect.
    pub fn reconnect_from(&mut self, at: SimTime) {
        self.episode_start = at;
        self.failed_attempts = 0;
        self.previous_backoff = 0;
        self.reconnecting = true;
    }

    /// Hands one life to the ledger: connected at `connected_at`, entry applied at
    /// `registered_at` (`None`: not by the horizon), connection ended at `ends_at` (the
    /// horizon, or the crash of its server); the router cannot read the entry during
    /// `outages` (see [`MessageLedger::routed_through`]).
    pub fn life(
        &mut self,
        ledger: &mut MessageLedger,
        (connected_at, registered_at, ends_at): (SimTime, Option<SimTime>, SimTime),
        outages: &[(SimTime, SimTime)],
    ) {
        let delivered_at = registered_at.filter(|&r| r < ends_at);

        // Not connected: offline, or stale misses where a stale entry stands.
        self.lay_out(
            ledger,
            self.reported_until,
            connected_at,
            None,
            delivered_at,
        );

        // Connected without an entry of its own.
        let window_end = registered_at.map_or(ends_at, |r| r.min(ends_at));
        self.lay_out(
            ledger,
            connected_at,
            window_end,
            Some(MissKind::NoEntry),
            delivered_at,
        );

        // Registered: routed, and every miss waiting for this entry is delivered. The new
        // entry replaces any stale one (writes of one key reach its shard in order, so no
        // older write lands after it).
        if let Some(registered) = delivered_at {
            ledger.routed_through(registered, ends_at, outages);
            for (start, end, kind) in self.held.drain(..) {
                ledger.miss_window(start, end, Some(registered), kind);
            }
            self.stale.clear();
        }
        self.stale.retain(|&(_, until)| until > ends_at);
        self.reported_until = ends_at;
    }

    /// Hands one life of a `lazy` client to the ledger: connected during `[connected_at,
    /// ends_at)`, its first message in it placed by `unit` (see
    /// [`MessageLedger::lazy_life`]). Nothing is written under `lazy`, so no stale entry
    /// or held miss stands: the time before is offline.
    pub fn lazy_life(
        &mut self,
        ledger: &mut MessageLedger,
        connected_at: SimTime,
        ends_at: SimTime,
        unit: f64,
    ) {
        self.lay_out(ledger, self.reported_until, connected_at, None, None);
        ledger.lazy_life(connected_at, ends_at, unit);
        self.reported_until = ends_at;
    }

    /// Hands the rest of the timeline, up to the horizon, to the ledger for a client that
    /// does not connect again: offline, or stale misses never delivered.
    pub fn close(mut self, ledger: &mut MessageLedger, horizon: SimTime) {
        self.lay_out(ledger, self.reported_until, horizon, None, None);
        for (start, end, kind) in self.held.drain(..) {
            ledger.miss_window(start, end, None, kind);
        }
    }

    /// Lays `[from, to)` out on the ledger: stale misses where a stale entry stands, and
    /// `otherwise` elsewhere (`None`: offline). Misses are delivered at `delivered_at`, or
    /// held for the next registration.
    fn lay_out(
        &mut self,
        ledger: &mut MessageLedger,
        from: SimTime,
        to: SimTime,
        otherwise: Option<MissKind>,
        delivered_at: Option<SimTime>,
    ) {
        let mut cursor = from;
        while cursor < to {
            let stale_until = self
                .stale
                .iter()
                .filter(|&&(since, until)| since <= cursor && cursor < until)
                .map(|&(_, until)| until)
                .max();
            let (end, kind) = match stale_until {
                Some(until) => (until.min(to), Some(MissKind::Stale)),
                None => {
                    let next_stale = self
                        .stale
                        .iter()
                        .map(|&(since, _)| since)
                        .filter(|&since| since > cursor)
                        .min()
                        .unwrap_or(to);
                    (next_stale.min(to), otherwise)
                }
            };
            match kind {
                None => ledger.offline(cursor, end),
                Some(kind) => self.miss(ledger, cursor, end, kind, delivered_at),
            }
            cursor = end;
        }
    }

    fn miss(
        &mut self,
        ledger: &mut MessageLedger,
        start: SimTime,
        end: SimTime,
        kind: MissKind,
        delivered_at: Option<SimTime>,
    ) {
        match delivered_at {
            Some(_) => ledger.miss_window(start, end, delivered_at, kind),
            None => self.held.push((start, end, kind)),
        }
    }
}
