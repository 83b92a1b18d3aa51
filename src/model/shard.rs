//! A Redis primary: one FIFO queue, one operation at a time.
//!
//! Redis executes commands on one thread, so a primary is a single-server FIFO station.
//! Operations reach it in time order (the event loop hands them over in order), so each
//! one's completion is fixed on arrival: it starts when the previous one completes or when
//! it arrives, whichever is later (Lindley's recursion).
//!
//! Message lookups, when they load the shard, form a Poisson stream of reads at the
//! shard's share of the message rate. They are generated lazily: before an operation
//! arriving at `t` is served, every lookup due at or before `t` is served first, so
//! lookups win ties.
//!
//! When messages are sent per connected user, the lookup rate follows the connected
//! count. The stream is then drawn at its largest rate (every client connected) and each
//! lookup is kept with the share of clients connected when the stream is caught up
//! (thinning). That share is the one at the next operation's arrival, not at each lookup's
//! own instant: an approximation, close while operations arrive often, which they do
//! whenever the connected count is changing.

use std::collections::VecDeque;

use rand::Rng;
use rand_distr::{Distribution, Exp1};

use crate::engine::{SimTime, Stream, round_to_nanos};
use crate::metrics::TimeSeries;

use super::service::ServiceSampler;

pub struct Shard {
    free_at: SimTime,
    /// Completion times of operations not yet complete at the last arrival, oldest first,
    /// so the queue length at an arrival is known exactly.
    in_system: VecDeque<SimTime>,
    pub peak_in_system: usize,
    pub operations: u64,
    rng: Stream,
    lookups: Option<LookupStream>,
    utilization: UtilizationTracker,
}

/// The Poisson stream of message lookups that read from this shard.
struct LookupStream {
    rng: Stream,
    mean_gap_ns: f64,
    next_at: SimTime,
    served: u64,
    /// The share of lookups kept (the share of clients connected), when the stream is
    /// thinned; `None` for a constant stream.
    kept_share: Option<f64>,
}

impl Shard {
    /// A shard; `lookup_rate_per_s` of zero means lookups do not load it. With
    /// `follows_connected`, that rate is the largest one, thinned by
    /// [`Self::set_connected_share`].
    pub fn new(
        rng: Stream,
        lookup_rate_per_s: f64,
        mut lookup_rng: Stream,
        follows_connected: bool,
    ) -> Self {
        let lookups = (lookup_rate_per_s > 0.0).then(|| {
            let mean_gap_ns = 1e9 / lookup_rate_per_s;
            let first_gap: f64 = Exp1.sample(&mut lookup_rng);
            LookupStream {
                next_at: round_to_nanos(first_gap * mean_gap_ns),
                rng: lookup_rng,
                mean_gap_ns,
                served: 0,
                kept_share: follows_connected.then_some(0.0),
            }
        });
        Self {
            free_at: 0,
            in_system: VecDeque::new(),
            peak_in_system: 0,
            operations: 0,
            rng,
            lookups,
            utilization: UtilizationTracker::default(),
        }
    }

    /// Serves a registry write (or delete) arriving at `arrival`; returns its completion.
    #[inline]
    pub fn serve_write(
        &mut self,
        arrival: SimTime,
        service: &ServiceSampler,
        series: &mut TimeSeries,
    ) -> SimTime {
        self.serve_lookups_until(arrival, service, series);
        self.serve(arrival, service, series)
    }

    /// Serves a pipeline of registry writes arriving at `arrival` as one operation drawn
    /// from `pipeline`; the lookups due by then are served first, drawn from `lookup`.
    /// Returns the pipeline's completion, when all its writes are applied.
    pub fn serve_pipeline(
        &mut self,
        arrival: SimTime,
        lookup: &ServiceSampler,
        pipeline: &ServiceSampler,
        series: &mut TimeSeries,
    ) -> SimTime {
        self.serve_lookups_until(arrival, lookup, series);
        self.serve(arrival, pipeline, series)
    }

    /// Sets the share of clients connected, which thins a stream that follows it.
    #[inline]
    pub fn set_connected_share(&mut self, share: f64) {
        if let Some(LookupStream {
            kept_share: Some(kept),
            ..
        }) = &mut self.lookups
        {
            *kept = share;
        }
    }

    /// Serves every lookup due at or before `until`.
    pub fn serve_lookups_until(
        &mut self,
        until: SimTime,
        service: &ServiceSampler,
        series: &mut TimeSeries,
    ) {
        while let Some(lookups) = &mut self.lookups {
            let at = lookups.next_at;
            if at > until {
                break;
            }
            let gap: f64 = Exp1.sample(&mut lookups.rng);
            lookups.next_at = at + round_to_nanos(gap * lookups.mean_gap_ns);
            if let Some(share) = lookups.kept_share
                && lookups.rng.random::<f64>() >= share
            {
                continue;
            }
            lookups.served += 1;
            self.serve(at, service, series);
        }
    }

    pub fn lookups_served(&self) -> u64 {
        self.lookups.as_ref().map_or(0, |l| l.served)
    }

    #[inline]
    fn serve(
        &mut self,
        arrival: SimTime,
        service: &ServiceSampler,
        series: &mut TimeSeries,
    ) -> SimTime {
        while self.in_system.front().is_some_and(|&done| done <= arrival) {
            self.in_system.pop_front();
        }
        let start = self.free_at.max(arrival);
        let done = start.saturating_add(service.sample(&mut self.rng));
        self.free_at = done;
        self.in_system.push_back(done);
        self.peak_in_system = self.peak_in_system.max(self.in_system.len());
        self.operations += 1;

        series.shard_waiting.add(arrival, start);
        series.shard_busy.add(start, done);
        self.utilization.busy(start, done, series);
        done
    }

    /// Serves the lookups up to the horizon and closes the utilization record.
    pub fn finish(&mut self, horizon: SimTime, service: &ServiceSampler, series: &mut TimeSeries) {
        self.serve_lookups_until(horizon.saturating_sub(1), service, series);
        self.utilization.close(series);
    }
}

/// Follows one shard's busy periods, which come in time order, bucket by bucket, to find
/// the busiest shard of each bucket without a per-shard array of buckets.
#[derive(Default)]
struct UtilizationTracker {
    bucket: usize,
    busy_ns: u64,
}

impl UtilizationTracker {
    fn busy(&mut self, mut start: SimTime, end: SimTime, series: &mut TimeSeries) {
        let buckets = series.buckets;
        let end = end.min(buckets.horizon_ns());
        while start < end {
            let bucket = buckets.index(start);
            if bucket != self.bucket {
                self.close(series);
                self.bucket = bucket;
            }
            let bucket_end = buckets.start(bucket + 1);
            let piece_end = end.min(bucket_end);
            self.busy_ns += piece_end - start;
            start = piece_end;
        }
    }

    fn close(&mut self, series: &mut TimeSeries) {
        if self.busy_ns > 0 {
            let bucket_len = series.buckets.len_of(self.bucket);
            series
                .busiest_shard
                .offer(self.bucket, self.busy_ns as f64 / bucket_len as f64);
        }
        self.busy_ns = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RandomStreams;
    use crate::metrics::Buckets;

    #[test]
    fn fifo_single_server_with_queue_depth() {
        let streams = RandomStreams::new(1);
        let mut shard = Shard::new(streams.stream(0, 0), 0.0, streams.stream(1, 0), false);
        let mut series = TimeSeries::new(Buckets::new(100, 1_000));
        let service = ServiceSampler::Deterministic(10);

        let done: Vec<_> = [0, 0, 5, 50]
            .iter()
            .map(|&t| shard.serve_write(t, &service, &mut series))
            .collect();
        assert_eq!(done, vec![10, 20, 30, 60]);
        assert_eq!(shard.peak_in_system, 3);
        shard.finish(1_000, &service, &mut series);
        assert_eq!(series.busiest_shard.values()[0], 0.4);
    }

    #[test]
    fn lookups_load_the_shard_at_their_rate() {
        let streams = RandomStreams::new(1);
        let mut shard = Shard::new(streams.stream(0, 0), 1_000.0, streams.stream(1, 0), false);
        let mut series = TimeSeries::new(Buckets::new(1_000_000_000, 100_000_000_000));
        let service = ServiceSampler::Deterministic(1_000);
        shard.finish(100_000_000_000, &service, &mut series);
        let served = shard.lookups_served() as f64;
        // Poisson count with mean 100,000: five standard deviations is about 1,600.
        assert!((served - 100_000.0).abs() < 1_600.0, "{served}");
    }
}
