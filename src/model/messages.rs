//! Message traffic and the message-miss window.
//!
//! Messages are sent at a total rate with recipients uniform over all clients. Splitting a
//! Poisson stream by a uniform choice of recipient gives an independent Poisson stream per
//! client at `rate / clients`, so each client's messages can be classified against that
//! client's own timeline, without a global per-client state array:
//!
//! - before it connects (or for ever, if rejected or still connecting at the horizon) a
//!   message finds it *offline*;
//! - between its connection and its registry write it is *missed*: the router finds no
//!   entry, the message goes to store-and-forward and is delivered when the entry is
//!   applied;
//! - after the write it is *routed*;
//! - while an entry written by an earlier, abandoned attempt still points to a server that
//!   no longer holds the user, a message is routed there and fails: a *stale miss*,
//!   counted among the misses and also on its own.
//!
//! Missed messages need their send instants (for the delivery delay), so they are drawn
//! one by one: a Poisson process over the concatenation of all clients' miss windows, in
//! the order windows close. Offline and routed messages only need counts per bucket, and a
//! sum of independent Poisson counts is Poisson with the summed mean, so they are drawn
//! once per bucket at the end from the time integrals. Both are exact in distribution.
//!
//! When the rate is per connected user, a client's messages arrive at `rate × C(t) / N`
//! with `C(t)` users connected out of `N`: a Poisson process in a changed time, whose
//! clock runs at that intensity. Each bucket's intensity is set by the mean connected count
//! over the bucket (piecewise constant: an approximation within a bucket, exact in its
//! mean), and is known once the event loop has passed the bucket's end. Miss windows that
//! close before that wait in a short queue (the windows closed in the last bucket) and are
//! drawn in the order they closed; offline and routed counts use each bucket's intensity
//! at the end. Connected users are counted from their connection to its end as known when
//! it is established (its server's crash, its own drop, or the horizon), and taken off
//! again from the instant a failed write cuts it short.
//!
//! TODO: variants share the storm but not the messages: the counts are drawn from each
//! variant's own timelines and the misses from a stream consumed in the order windows
//! close, so two variants send statistically equal but not identical messages. Drawing
//! the per-bucket counts by inverse CDF from common uniforms would couple them and sharpen
//! paired comparisons of miss rates.

use std::collections::VecDeque;

use rand_distr::{Distribution, Exp1, Poisson};

use crate::config::RateBasis;
use crate::engine::{NANOS_PER_S, SimTime, Stream};
use crate::metrics::{Buckets, IntervalAccumulator, LatencyHistogram};

/// Why a message missed: no entry yet, or an entry pointing to the wrong server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissKind {
    NoEntry,
    Stale,
    /// The entry's primary is down.
    Outage,
}

pub struct MessageLedger {
    /// Messages per nanosecond addressed to one given client (at a constant rate).
    rate_per_client_ns: f64,
    /// The intensity that follows the connected count, when the rate is per connected
    /// user; gaps between misses are then in units of that intensity, not nanoseconds.
    following: Option<Box<FollowsConnected>>,
    basis: RateBasis,
    horizon_ns: SimTime,
    buckets: Buckets,
    miss_rng: Stream,
    count_rng: Stream,
    /// Miss-window time still to cover before the next missed message.
    gap_to_next_miss_ns: f64,
    offline: IntervalAccumulator,
    routed: IntervalAccumulator,
    missed_per_bucket: Vec<u64>,
    missed_undelivered: u64,
    missed_stale: u64,
    missed_outage: u64,
    miss_delay: LatencyHistogram,
    covered_ns: u128,
    /// First messages of `lazy` clients (each triggered a broadcast), per bucket.
    first_messages_per_bucket: Vec<u64>,
    /// `lazy` lives whose first message waits for the intensity of the buckets after
    /// their connection (per connected user only; resolved at the end).
    ///
    /// TODO: this keeps 24 bytes per connected client to the end of the run (12 GB for
    /// 500M); resolving each draw as soon as the buckets up to its first message are
    /// settled, with a heap keyed by the cumulative level it waits for, would keep only
    /// the clients still waiting for one.
    deferred_first: Vec<LazyLife>,
}

/// A life of a `lazy` client whose first message is placed once the intensity is known.
#[derive(Debug, Clone, Copy)]
struct LazyLife {
    connected_at: SimTime,
    /// The end of the life, clipped to the horizon.
    end: SimTime,
    /// The unit exponential draw that places the first message.
    unit: f64,
}

/// A miss window that closed before its intensity was known.
#[derive(Debug, Clone, Copy)]
struct PendingWindow {
    start: SimTime,
    end: SimTime,
    delivered_at: Option<SimTime>,
    kind: MissKind,
}

/// The per-client message intensity when each connected user sends at a rate.
struct FollowsConnected {
    /// Messages per nanosecond that one connected user sends.
    per_sender_ns: f64,
    clients: f64,
    /// Client-time connected, per bucket.
    connected: IntervalAccumulator,
    covering: i64,
    /// Per-client intensity (messages per nanosecond) of each settled bucket.
    rates: Vec<f64>,
    /// Expected messages per client from time zero to the start of each settled bucket,
    /// and to the end of the last settled one.
    cumulative: Vec<f64>,
    /// Buckets before this instant are settled.
    settled_until: SimTime,
    pending: VecDeque<PendingWindow>,
}

impl FollowsConnected {
    /// Settles every bucket that ends at or before `now`.
    fn settle_until(&mut self, now: SimTime, buckets: &Buckets) {
        while self.rates.len() < buckets.count() {
            let bucket = self.rates.len();
            let end = buckets.start(bucket) + buckets.len_of(bucket);
            if end > now {
                break;
            }
            let length = buckets.len_of(bucket) as f64;
            let client_ns = self.connected.settle(bucket, &mut self.covering) as f64;
            let rate = self.per_sender_ns * (client_ns / length) / self.clients;
            let so_far = self.cumulative[bucket];
            self.rates.push(rate);
            self.cumulative.push(so_far + rate * length);
            self.settled_until = end;
        }
    }

    /// Expected messages per client from time zero to `at`, at most `settled_until`.
    fn cumulative_at(&self, at: SimTime, buckets: &Buckets) -> f64 {
        if at >= self.settled_until {
            // Only the end of the last settled bucket (or the horizon) is asked for here.
            return self.cumulative[self.rates.len()];
        }
        let bucket = buckets.index(at);
        self.cumulative[bucket] + self.rates[bucket] * (at - buckets.start(bucket)) as f64
    }

    /// The instant at which the expected messages per client reach `cumulative`.
    fn time_at(&self, cumulative: f64, buckets: &Buckets) -> SimTime {
        let settled = &self.cumulative[..self.rates.len()];
        let bucket = settled
            .partition_point(|&c| c <= cumulative)
            .saturating_sub(1);
        let rate = self.rates[bucket];
        let into = if rate > 0.0 {
            (cumulative - self.cumulative[bucket]) / rate
        } else {
            0.0
        };
        buckets.start(bucket) + into as SimTime
    }
}

/// Messages of a whole run, per bucket and in total.
#[derive(Debug, Clone, Default)]
pub struct MessageTotals {
    pub sent_per_bucket: Vec<u64>,
    pub missed_per_bucket: Vec<u64>,
    pub routed: u64,
    pub missed: u64,
    pub offline: u64,
    /// Missed messages whose recipient was still unregistered at the horizon.
    pub missed_undelivered: u64,
    /// Misses routed to a stale entry (included in `missed`).
    pub missed_stale: u64,
    /// Misses whose entry's primary was down (included in `missed`).
    pub missed_outage: u64,
    /// Client time accounted for (offline + miss windows + reachable), for the
    /// conservation check.
    pub covered_ns: u128,
    /// First messages of `lazy` clients, each of which triggered a broadcast query
    /// (included in `routed` and in `sent_per_bucket`), per bucket.
    pub first_messages_per_bucket: Vec<u64>,
}

impl MessageLedger {
    pub fn new(
        rate_per_s: f64,
        basis: RateBasis,
        clients: u32,
        buckets: Buckets,
        miss_rng: Stream,
        count_rng: Stream,
    ) -> Self {
        let rate_per_client_ns = rate_per_s / f64::from(clients) / NANOS_PER_S as f64;
        let accumulator = IntervalAccumulator::new(buckets);
        let following = (basis == RateBasis::PerConnectedUser).then(|| {
            Box::new(FollowsConnected {
                per_sender_ns: rate_per_s / NANOS_PER_S as f64,
                clients: f64::from(clients),
                connected: accumulator.clone(),
                covering: 0,
                rates: Vec::with_capacity(buckets.count()),
                cumulative: vec![0.0],
                settled_until: 0,
                pending: VecDeque::new(),
            })
        });
        let mut ledger = Self {
            rate_per_client_ns,
            following,
            basis,
            horizon_ns: buckets.horizon_ns(),
            buckets,
            miss_rng,
            count_rng,
            gap_to_next_miss_ns: f64::INFINITY,
            offline: accumulator.clone(),
            routed: accumulator,
            missed_per_bucket: vec![0; buckets.count()],
            missed_undelivered: 0,
            missed_stale: 0,
            missed_outage: 0,
            miss_delay: LatencyHistogram::default(),
            covered_ns: 0,
            first_messages_per_bucket: vec![0; buckets.count()],
            deferred_first: Vec::new(),
        };
        ledger.gap_to_next_miss_ns = ledger.draw_gap();
        ledger
    }

    /// A client connected from `at` to `until` sends, when messages are sent per connected
    /// user. Must be told no later than the event loop reaches `at`.
    #[inline]
    pub fn client_connected(&mut self, at: SimTime, until: SimTime) {
        if let Some(following) = &mut self.following {
            following.connected.add(at, until);
        }
    }

    /// A client told as connected until `until` (see [`Self::client_connected`]) lost its
    /// connection at `at` instead. Must be told no later than the event loop reaches `at`.
    pub fn client_disconnected(&mut self, at: SimTime, until: SimTime) {
        if let Some(following) = &mut self.following {
            following.connected.remove(at, until);
        }
    }

    /// The event loop has reached `now`: buckets that ended are settled and the miss
    /// windows waiting for them are drawn.
    #[inline]
    pub fn advance(&mut self, now: SimTime) {
        let Some(following) = &self.following else {
            return;
        };
        let next = following.rates.len();
        if next < self.buckets.count()
            && self.buckets.start(next) + self.buckets.len_of(next) <= now
        {
            self.settle_and_draw(now);
        }
    }

    fn settle_and_draw(&mut self, now: SimTime) {
        let Some(mut following) = self.following.take() else {
            return;
        };
        following.settle_until(now, &self.buckets);
        while let Some(window) = following.pending.front().copied() {
            if window.end > following.settled_until {
                break;
            }
            following.pending.pop_front();
            self.draw_followed(&following, window);
        }
        self.following = Some(following);
    }

    /// A client that is unreachable from the start until `until` (clipped to the horizon).
    #[inline]
    pub fn offline_until(&mut self, until: SimTime) {
        self.offline(0, until);
    }

    /// A client that is unreachable, with no entry, during `[from, to)`.
    #[inline]
    pub fn offline(&mut self, from: SimTime, to: SimTime) {
        let to = to.min(self.horizon_ns);
        if from < to {
            self.offline.add(from, to);
            self.covered_ns += u128::from(to - from);
        }
    }

    /// A client whose messages are routed to it during `[from, to)`.
    #[inline]
    pub fn routed(&mut self, from: SimTime, to: SimTime) {
        let to = to.min(self.horizon_ns);
        if from < to {
            self.routed.add(from, to);
            self.covered_ns += u128::from(to - from);
        }
    }

    /// A client that never connected by the horizon; an entry an abandoned attempt wrote
    /// at `stale_since` makes its messages stale misses from then on.
    #[inline]
    pub fn never_connected(&mut self, stale_since: Option<SimTime>) {
        match stale_since {
            Some(since) if since < self.horizon_ns => {
                self.offline_until(since);
                self.miss_window(since, self.horizon_ns, None, MissKind::Stale);
            }
            _ => self.offline_until(SimTime::MAX),
        }
    }

    /// A client connected at `connected_at` whose entry is applied at `registered_at`
    /// (`None`: not by the horizon): offline before, missed in between, routed after. A
    /// stale entry written at `stale_since` by an abandoned attempt turns the offline time
    /// after it into stale misses, delivered when the new entry is applied.
    #[inline]
    pub fn client_timeline(
        &mut self,
        connected_at: SimTime,
        registered_at: Option<SimTime>,
        stale_since: Option<SimTime>,
        outages: &[(SimTime, SimTime)],
    ) {
        let delivered_at = registered_at.filter(|&r| r < self.horizon_ns);
        let offline_end = stale_since.map_or(connected_at, |s| s.min(connected_at));
        self.offline_until(offline_end);
        self.miss_window(offline_end, connected_at, delivered_at, MissKind::Stale);

        let window_end = registered_at
            .unwrap_or(self.horizon_ns)
            .min(self.horizon_ns);
        let kind = if stale_since.is_some() {
            MissKind::Stale
        } else {
            MissKind::NoEntry
        };
        self.miss_window(connected_at, window_end, delivered_at, kind);
        self.routed_through(window_end, self.horizon_ns, outages);
    }

    /// A client whose messages are routed to it during `[from, to)`, but for the
    /// `[down, failover)` windows of `outages`, in which its entry's primary is down: the
    /// lookup fails (or waits), and the message goes to the fallback, which delivers it at
    /// the failover. Those are outage misses.
    #[inline]
    pub fn routed_through(&mut self, from: SimTime, to: SimTime, outages: &[(SimTime, SimTime)]) {
        let mut cursor = from;
        for &(down, failover) in outages {
            if failover <= cursor {
                continue;
            }
            if down >= to {
                break;
            }
            let end = failover.min(to);
            self.routed(cursor, down.max(cursor));
            let delivered_at = (failover < self.horizon_ns).then_some(failover);
            self.miss_window(down.max(cursor), end, delivered_at, MissKind::Outage);
            cursor = end;
        }
        self.routed(cursor, to);
    }

    /// A client of the `lazy` strategy connected at `connected_at` for good: offline
    /// before, never missed after (see [`Self::lazy_life`]).
    #[inline]
    pub fn lazy_timeline(&mut self, connected_at: SimTime, unit: f64) {
        self.offline_until(connected_at);
        self.lazy_life(connected_at, self.horizon_ns, unit);
    }

    /// A life of a `lazy` client, connected during `[connected_at, ends_at)`. Its first
    /// message in that life, if any comes before the life ends, finds no cached location
    /// (or one that failed with a crashed server) and triggers a broadcast; it is at the
    /// first arrival of the client's own Poisson stream after `connected_at`, which
    /// `unit`, a unit exponential draw, fixes exactly (in expected messages per client: a
    /// time change when the rate follows the connected count). By memorylessness the
    /// messages after it are an independent Poisson stream, routed through the cached
    /// location.
    pub fn lazy_life(&mut self, connected_at: SimTime, ends_at: SimTime, unit: f64) {
        let end = ends_at.min(self.horizon_ns);
        if connected_at >= end {
            return;
        }
        self.covered_ns += u128::from(end - connected_at);
        if self.following.is_some() {
            self.deferred_first.push(LazyLife {
                connected_at,
                end,
                unit,
            });
            return;
        }

        // A rate of zero makes the gap infinite, and then there is no first message.
        let gap_ns = unit / self.rate_per_client_ns;
        if (connected_at as f64 + gap_ns) < end as f64 {
            let at = connected_at.saturating_add(gap_ns as SimTime);
            self.first_message(at.min(end - 1), end);
        }
    }

    /// Counts a `lazy` client's first message, sent at `at`; the rest of its messages,
    /// from `at` to the end of its life `end`, are routed.
    fn first_message(&mut self, at: SimTime, end: SimTime) {
        self.first_messages_per_bucket[self.buckets.index(at)] += 1;
        self.routed.add(at, end);
    }

    /// Finds the first messages of `lazy` lives that waited for the whole run's intensity
    /// (per connected user), once every bucket is settled.
    fn resolve_deferred_first(&mut self) {
        let Some(following) = self.following.take() else {
            return;
        };
        for life in std::mem::take(&mut self.deferred_first) {
            let by_end = following.cumulative_at(life.end, &self.buckets);
            let level = following.cumulative_at(life.connected_at, &self.buckets) + life.unit;
            if level < by_end {
                let at = following.time_at(level, &self.buckets);
                self.first_message(at.clamp(life.connected_at, life.end - 1), life.end);
            }
        }
        self.following = Some(following);
    }

    /// Draws the messages sent to one client during `[start, end)`, a window in which they
    /// miss for `kind` and are delivered at `delivered_at` (`None`: not by the horizon).
    #[inline]
    pub fn miss_window(
        &mut self,
        start: SimTime,
        end: SimTime,
        delivered_at: Option<SimTime>,
        kind: MissKind,
    ) {
        let end = end.min(self.horizon_ns);
        if start >= end {
            return;
        }
        self.covered_ns += u128::from(end - start);
        if let Some(following) = &mut self.following {
            following.pending.push_back(PendingWindow {
                start,
                end,
                delivered_at,
                kind,
            });
            return;
        }

        let length = (end - start) as f64;
        let mut offset = 0.0;
        while offset + self.gap_to_next_miss_ns < length {
            offset += self.gap_to_next_miss_ns;
            let sent_at = (start + offset as SimTime).min(end - 1);
            self.missed(sent_at, delivered_at, kind);
        }
        self.gap_to_next_miss_ns -= length - offset;
    }

    /// Draws the messages of a window whose intensity is now known; gaps are measured in
    /// expected messages per client, so the window's length is its expected count.
    fn draw_followed(&mut self, following: &FollowsConnected, window: PendingWindow) {
        let from = following.cumulative_at(window.start, &self.buckets);
        let length = following.cumulative_at(window.end, &self.buckets) - from;
        let mut offset = 0.0;
        while offset + self.gap_to_next_miss_ns < length {
            offset += self.gap_to_next_miss_ns;
            let sent_at = following
                .time_at(from + offset, &self.buckets)
                .clamp(window.start, window.end - 1);
            self.missed(sent_at, window.delivered_at, window.kind);
        }
        self.gap_to_next_miss_ns -= length - offset;
    }

    /// Counts one missed message sent at `sent_at` and draws the gap to the next.
    #[inline]
    fn missed(&mut self, sent_at: SimTime, delivered_at: Option<SimTime>, kind: MissKind) {
        self.missed_per_bucket[self.buckets.index(sent_at)] += 1;
        match delivered_at {
            Some(at) => self.miss_delay.record(at - sent_at),
            None => self.missed_undelivered += 1,
        }
        match kind {
            MissKind::Stale => self.missed_stale += 1,
            MissKind::Outage => self.missed_outage += 1,
            MissKind::NoEntry => {}
        }
        self.gap_to_next_miss_ns = self.draw_gap();
    }

    fn draw_gap(&mut self) -> f64 {
        if self.rate_per_client_ns <= 0.0 {
            return f64::INFINITY;
        }
        let unit: f64 = Exp1.sample(&mut self.miss_rng);
        if self.basis == RateBasis::PerConnectedUser {
            return unit;
        }
        unit / self.rate_per_client_ns
    }

    /// Draws the offline and routed counts per bucket and totals everything.
    pub fn finish(mut self) -> (MessageTotals, LatencyHistogram) {
        self.settle_and_draw(SimTime::MAX);
        self.resolve_deferred_first();
        let rates: Vec<f64> = match &self.following {
            Some(following) => following.rates.clone(),
            None => vec![self.rate_per_client_ns; self.buckets.count()],
        };
        let offline = self.draw_counts(&self.offline.integrals(), &rates);
        let routed = self.draw_counts(&self.routed.integrals(), &rates);
        let first = &self.first_messages_per_bucket;
        let sent_per_bucket = (0..self.missed_per_bucket.len())
            .map(|b| offline[b] + routed[b] + first[b] + self.missed_per_bucket[b])
            .collect();
        let totals = MessageTotals {
            sent_per_bucket,
            routed: routed.iter().sum::<u64>() + first.iter().sum::<u64>(),
            missed: self.missed_per_bucket.iter().sum(),
            offline: offline.iter().sum(),
            missed_per_bucket: self.missed_per_bucket,
            missed_undelivered: self.missed_undelivered,
            missed_stale: self.missed_stale,
            missed_outage: self.missed_outage,
            covered_ns: self.covered_ns,
            first_messages_per_bucket: self.first_messages_per_bucket,
        };
        (totals, self.miss_delay)
    }

    /// Draws a Poisson count per bucket: client-time times that bucket's rate per client.
    fn draw_counts(&mut self, integrals: &[u64], rates: &[f64]) -> Vec<u64> {
        integrals
            .iter()
            .zip(rates)
            .map(|(&client_ns, &rate)| {
                let mean = client_ns as f64 * rate;
                match Poisson::new(mean) {
                    Ok(poisson) => poisson.sample(&mut self.count_rng) as u64,
                    Err(_) => 0,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RandomStreams;

    fn ledger(rate_per_s: f64, clients: u32) -> MessageLedger {
        let streams = RandomStreams::new(5);
        let buckets = Buckets::new(NANOS_PER_S, 100 * NANOS_PER_S);
        MessageLedger::new(
            rate_per_s,
            RateBasis::Total,
            clients,
            buckets,
            streams.stream(0, 0),
            streams.stream(1, 0),
        )
    }

    #[test]
    fn misses_follow_the_window_length() {
        // 1,000 clients each with a 10 s miss window, 10 messages/s per client: about
        // 100,000 misses (Poisson, standard deviation about 316).
        let mut ledger = ledger(10_000.0, 1_000);
        for _ in 0..1_000 {
            ledger.client_timeline(5 * NANOS_PER_S, Some(15 * NANOS_PER_S), None, &[]);
        }
        let (totals, delays) = ledger.finish();
        assert!(
            (totals.missed as f64 - 100_000.0).abs() < 1_600.0,
            "{}",
            totals.missed
        );
        // A miss sent uniformly in a 10 s window waits 5 s on average.
        assert!(
            (delays.mean_ms() - 5_000.0).abs() < 50.0,
            "{}",
            delays.mean_ms()
        );
        assert_eq!(totals.missed_per_bucket[..5].iter().sum::<u64>(), 0);
        assert_eq!(totals.covered_ns, 1_000 * 100 * u128::from(NANOS_PER_S));
        assert_eq!(totals.missed_undelivered, 0);
    }

    fn per_connected_user(rate_per_s: f64, clients: u32) -> MessageLedger {
        let streams = RandomStreams::new(5);
        let buckets = Buckets::new(NANOS_PER_S, 100 * NANOS_PER_S);
        MessageLedger::new(
            rate_per_s,
            RateBasis::PerConnectedUser,
            clients,
            buckets,
            streams.stream(0, 0),
            streams.stream(1, 0),
        )
    }

    #[test]
    fn per_user_rates_follow_the_connected_count() {
        // 1,000 clients: half connect at 5 s and are registered at 15 s, half never
        // connect. Each connected user sends 20 messages/s, to recipients uniform over all
        // 1,000: from 5 s on, each client receives 10/s. Misses: 500 clients × 10 s × 10/s
        // = 50,000. Routed: 500 × 85 s × 10/s = 425,000. Offline: the 500 unconnected
        // clients from 5 s on (475,000) and nothing before 5 s, when nobody sends.
        let mut ledger = per_connected_user(20.0, 1_000);
        for second in 0..100 {
            if second == 5 {
                for _ in 0..500 {
                    ledger.client_connected(5 * NANOS_PER_S, 100 * NANOS_PER_S);
                }
            }
            if second == 15 {
                for _ in 0..500 {
                    ledger.client_timeline(5 * NANOS_PER_S, Some(15 * NANOS_PER_S), None, &[]);
                }
            }
            // At 15 s the windows closing at 15 s are drawn as soon as the bucket
            // ending there is settled.
            ledger.advance(second * NANOS_PER_S);
        }
        for _ in 0..500 {
            ledger.never_connected(None);
        }
        let (totals, delays) = ledger.finish();

        let near =
            |value: u64, expected: f64| (value as f64 - expected).abs() < 5.0 * expected.sqrt();
        assert!(near(totals.missed, 50_000.0), "missed {}", totals.missed);
        assert!(near(totals.routed, 425_000.0), "routed {}", totals.routed);
        assert!(
            near(totals.offline, 475_000.0),
            "offline {}",
            totals.offline
        );
        assert_eq!(totals.sent_per_bucket[..5].iter().sum::<u64>(), 0);
        assert!(
            (delays.mean_ms() - 5_000.0).abs() < 100.0,
            "{}",
            delays.mean_ms()
        );
    }

    #[test]
    fn no_rate_means_no_messages_but_full_timelines() {
        let mut ledger = ledger(0.0, 10);
        ledger.client_timeline(NANOS_PER_S, None, None, &[]);
        ledger.offline_until(u64::MAX);
        let (totals, _) = ledger.finish();
        assert_eq!(totals.sent_per_bucket.iter().sum::<u64>(), 0);
        assert_eq!(totals.covered_ns, 2 * 100 * u128::from(NANOS_PER_S));
    }

    #[test]
    fn stale_entries_turn_offline_time_into_stale_misses() {
        // 1,000 clients with a stale entry for the 10 s before they connect, at 10 messages/s
        // each, then registered at once (sync): about 100,000 misses, all stale.
        let mut ledger = ledger(10_000.0, 1_000);
        for _ in 0..1_000 {
            let connected = 20 * NANOS_PER_S;
            ledger.client_timeline(connected, Some(connected), Some(10 * NANOS_PER_S), &[]);
        }
        ledger.never_connected(Some(90 * NANOS_PER_S));
        let (totals, _) = ledger.finish();
        assert!(
            (totals.missed as f64 - 100_000.0).abs() < 1_600.0,
            "{}",
            totals.missed
        );
        assert_eq!(totals.missed_stale, totals.missed);
        assert_eq!(totals.covered_ns, 1_001 * 100 * u128::from(NANOS_PER_S));
    }
}
