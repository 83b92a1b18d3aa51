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
//! TODO: variants share the storm but not the messages: the counts are drawn from each
//! variant's own timelines and the misses from a stream consumed in the order windows
//! close, so two variants send statistically equal but not identical messages. Drawing
//! the per-bucket counts by inverse CDF from common uniforms would couple them and sharpen
//! paired comparisons of miss rates.

use rand_distr::{Distribution, Exp1, Poisson};

use crate::engine::{NANOS_PER_S, SimTime, Stream};
use crate::metrics::{Buckets, IntervalAccumulator, LatencyHistogram};

/// Why a message missed: no entry yet, or an entry pointing to the wrong server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MissKind {
    NoEntry,
    Stale,
}

pub struct MessageLedger {
    /// Messages per nanosecond addressed to one given client.
    rate_per_client_ns: f64,
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
    miss_delay: LatencyHistogram,
    covered_ns: u128,
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
    /// Client time accounted for (offline + miss windows + reachable), for the
    /// conservation check.
    pub covered_ns: u128,
}

impl MessageLedger {
    pub fn new(
        rate_per_s: f64,
        clients: u32,
        buckets: Buckets,
        miss_rng: Stream,
        count_rng: Stream,
    ) -> Self {
        let rate_per_client_ns = rate_per_s / f64::from(clients) / NANOS_PER_S as f64;
        let accumulator = IntervalAccumulator::new(buckets);
        let mut ledger = Self {
            rate_per_client_ns,
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
            miss_delay: LatencyHistogram::default(),
            covered_ns: 0,
        };
        ledger.gap_to_next_miss_ns = ledger.draw_gap();
        ledger
    }

    /// A client that is unreachable from the start until `until` (clipped to the horizon).
    #[inline]
    pub fn offline_until(&mut self, until: SimTime) {
        let until = until.min(self.horizon_ns);
        self.offline.add(0, until);
        self.covered_ns += u128::from(until);
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
        if window_end < self.horizon_ns {
            self.routed.add(window_end, self.horizon_ns);
            self.covered_ns += u128::from(self.horizon_ns - window_end);
        }
    }

    /// Draws the messages sent to one client during `[start, end)`.
    #[inline]
    fn miss_window(
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
        let length = (end - start) as f64;
        self.covered_ns += u128::from(end - start);
        let mut offset = 0.0;
        while offset + self.gap_to_next_miss_ns < length {
            offset += self.gap_to_next_miss_ns;
            let sent_at = (start + offset as SimTime).min(end - 1);
            self.missed_per_bucket[self.buckets.index(sent_at)] += 1;
            match delivered_at {
                Some(at) => self.miss_delay.record(at - sent_at),
                None => self.missed_undelivered += 1,
            }
            if kind == MissKind::Stale {
                self.missed_stale += 1;
            }
            self.gap_to_next_miss_ns = self.draw_gap();
        }
        self.gap_to_next_miss_ns -= length - offset;
    }

    fn draw_gap(&mut self) -> f64 {
        if self.rate_per_client_ns <= 0.0 {
            return f64::INFINITY;
        }
        let unit: f64 = Exp1.sample(&mut self.miss_rng);
        unit / self.rate_per_client_ns
    }

    /// Draws the offline and routed counts per bucket and totals everything.
    pub fn finish(mut self) -> (MessageTotals, LatencyHistogram) {
        let offline = self.draw_counts(&self.offline.integrals());
        let routed = self.draw_counts(&self.routed.integrals());
        let sent_per_bucket = (0..self.missed_per_bucket.len())
            .map(|b| offline[b] + routed[b] + self.missed_per_bucket[b])
            .collect();
        let totals = MessageTotals {
            sent_per_bucket,
            routed: routed.iter().sum(),
            missed: self.missed_per_bucket.iter().sum(),
            offline: offline.iter().sum(),
            missed_per_bucket: self.missed_per_bucket,
            missed_undelivered: self.missed_undelivered,
            missed_stale: self.missed_stale,
            covered_ns: self.covered_ns,
        };
        (totals, self.miss_delay)
    }

    fn draw_counts(&mut self, integrals: &[u64]) -> Vec<u64> {
        integrals
            .iter()
            .map(|&client_ns| {
                let mean = client_ns as f64 * self.rate_per_client_ns;
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
            ledger.client_timeline(5 * NANOS_PER_S, Some(15 * NANOS_PER_S), None);
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

    #[test]
    fn no_rate_means_no_messages_but_full_timelines() {
        let mut ledger = ledger(0.0, 10);
        ledger.client_timeline(NANOS_PER_S, None, None);
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
            ledger.client_timeline(connected, Some(connected), Some(10 * NANOS_PER_S));
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
