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
//! whenever the connected count is changing; after the last operation the world serves
//! the rest bucket by bucket, each at the share at its end.
//!
//! A primary may be down for declared windows (`faults.shard_outages`), until its replica
//! is promoted. The windows are part of the scenario, so an operation's fate is still
//! fixed on arrival. Under [`OutageMode::Wait`] an operation that would start while the
//! primary is down, or that was in service when it went down, starts again, whole, at
//! the failover (the promoted replica has every write applied before; asynchronous
//! replication's loss of the last writes is left out). Under [`OutageMode::Fail`] an
//! operation that arrives while it is down fails at once, and one queued or in service
//! when it goes down fails then; failed operations leave the primary's queue, which the
//! replica takes over empty.

use rand::Rng;
use rand_distr::{Distribution, Exp1};

use crate::config::OutageMode;
use crate::engine::{SimTime, Stream, round_to_nanos};
use crate::metrics::TimeSeries;

use super::fifo::RisingInstants;
use super::service::ServiceSampler;

pub struct Shard {
    free_at: SimTime,
    /// Completion times of operations not yet complete at the last arrival, oldest first,
    /// so the queue length at an arrival is known exactly.
    in_system: RisingInstants,
    pub peak_in_system: usize,
    pub operations: u64,
    rng: Stream,
    lookups: Option<LookupStream>,
    utilization: UtilizationTracker,
    /// `[down, failover)` windows, in time order.
    outages: Vec<(SimTime, SimTime)>,
    outage_mode: OutageMode,
}

/// An operation that failed at a primary that was down (`OutageMode::Fail`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failed {
    /// When the sender learns of the failure.
    pub at: SimTime,
    /// When the promoted replica serves again.
    pub failover_at: SimTime,
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
            in_system: RisingInstants::default(),
            peak_in_system: 0,
            operations: 0,
            rng,
            lookups,
            utilization: UtilizationTracker::default(),
            outages: Vec::new(),
            outage_mode: OutageMode::Wait,
        }
    }

    /// The same shard, down during each of `outages` (`[down, failover)`, in time order)
    /// and meeting them as `mode` says.
    pub fn with_outages(mut self, outages: Vec<(SimTime, SimTime)>, mode: OutageMode) -> Self {
        self.outages = outages;
        self.outage_mode = mode;
        self
    }

    /// Serves a registry operation (a write, a delete or a pipeline of writes) arriving at
    /// `arrival`, drawn from `operation`; the lookups due by then are served first, drawn
    /// from `lookup`. Returns its completion, when all its writes are applied, or its
    /// failure at a primary that is down.
    pub fn serve_operation(
        &mut self,
        arrival: SimTime,
        lookup: &ServiceSampler,
        operation: &ServiceSampler,
        series: &mut TimeSeries,
    ) -> Result<SimTime, Failed> {
        self.serve_lookups_until(arrival, lookup, series);
        self.serve(arrival, operation, series)
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
            // A lookup that fails at a primary that is down loads nothing; its message's
            // fate is the ledger's (see `MessageLedger::routed_through`).
            if self.serve(at, service, series).is_ok() {
                self.lookups.as_mut().expect("a lookup stream").served += 1;
            }
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
    ) -> Result<SimTime, Failed> {
        self.in_system.pop_through(arrival);
        let mut start = self.free_at.max(arrival);
        let service_ns = service.sample(&mut self.rng);
        if !self.outages.is_empty() {
            start = self.meet_outages(arrival, start, service_ns)?;
        }
        let done = start.saturating_add(service_ns);
        self.free_at = done;
        self.in_system.push_back(done, ());
        self.peak_in_system = self.peak_in_system.max(self.in_system.len());
        self.operations += 1;

        series.shard_waiting.add(arrival, start);
        series.shard_busy.add(start, done);
        self.utilization.busy(start, done, series);
        Ok(done)
    }

    /// The start of an operation that arrived at `arrival`, would start at `start` and
    /// takes `service_ns`, once the outages are met: later under `Wait`, a failure under
    /// `Fail`. Outages over by `arrival` are dropped for good, since arrivals only grow.
    fn meet_outages(
        &mut self,
        arrival: SimTime,
        mut start: SimTime,
        service_ns: SimTime,
    ) -> Result<SimTime, Failed> {
        let passed = self
            .outages
            .partition_point(|&(_, failover)| failover <= arrival);
        self.outages.drain(..passed);
        for &(down, failover) in &self.outages {
            // Done before this outage, so before every later one too.
            if start.saturating_add(service_ns) <= down {
                break;
            }
            match self.outage_mode {
                // Still to run (or running) when the primary goes down: again, whole, at the
                // failover; an operation that starts after the failover is untouched here
                // and meets the next outage, if any.
                OutageMode::Wait => start = start.max(failover),
                // Sent before the failover and still to run when the primary goes down: the
                // queue it waited in is lost with the primary, so it fails.
                OutageMode::Fail => {
                    return Err(Failed {
                        at: arrival.max(down),
                        failover_at: failover,
                    });
                }
            }
        }
        Ok(start)
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

    /// A shard without lookups, down during `outages`, and a series of 100 ns buckets.
    fn shard_with_outages(
        outages: Vec<(SimTime, SimTime)>,
        mode: OutageMode,
    ) -> (Shard, TimeSeries) {
        let streams = RandomStreams::new(1);
        let shard = Shard::new(streams.stream(0, 0), 0.0, streams.stream(1, 0), false)
            .with_outages(outages, mode);
        (shard, TimeSeries::new(Buckets::new(100, 1_000)))
    }

    /// Serves one operation of 10 ns arriving at each of `arrivals`, in order.
    fn serve_each(
        shard: &mut Shard,
        series: &mut TimeSeries,
        arrivals: &[SimTime],
    ) -> Vec<Result<SimTime, Failed>> {
        let service = ServiceSampler::Deterministic(10);
        arrivals
            .iter()
            .map(|&t| shard.serve_operation(t, &service, &service, series))
            .collect()
    }

    /// The completions of operations that none of the shard's outages fails.
    fn completions(
        shard: &mut Shard,
        series: &mut TimeSeries,
        arrivals: &[SimTime],
    ) -> Vec<SimTime> {
        serve_each(shard, series, arrivals)
            .into_iter()
            .map(|served| served.expect("served"))
            .collect()
    }

    #[test]
    fn fifo_single_server_with_queue_depth() {
        let (mut shard, mut series) = shard_with_outages(Vec::new(), OutageMode::Wait);
        let service = ServiceSampler::Deterministic(10);

        let done = completions(&mut shard, &mut series, &[0, 0, 5, 50]);
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

    #[test]
    fn waiting_operations_start_again_at_the_failover() {
        let (mut shard, mut series) = shard_with_outages(vec![(100, 200)], OutageMode::Wait);
        // 80 ends before the outage; 95 is in service when it begins and starts again,
        // whole, at 200; 150 arrives during it and queues behind; 300 is untouched.
        let done = completions(&mut shard, &mut series, &[80, 95, 150, 300]);
        assert_eq!(done, vec![90, 210, 220, 310]);
    }

    #[test]
    fn failing_operations_leave_the_queue_to_the_replica_empty() {
        let (mut shard, mut series) = shard_with_outages(vec![(100, 200)], OutageMode::Fail);
        let served = serve_each(&mut shard, &mut series, &[80, 95, 96, 150, 199, 200]);
        let failed = |at| {
            Err(Failed {
                at,
                failover_at: 200,
            })
        };
        // 95 is in service at 100, and 96 queued behind it: both fail when the primary
        // goes down; 150 and 199 fail on arrival; 200 is served by the replica at once.
        assert_eq!(
            served,
            vec![
                Ok(90),
                failed(100),
                failed(100),
                failed(150),
                failed(199),
                Ok(210)
            ]
        );
    }

    #[test]
    fn a_queue_left_by_one_outage_waits_again_through_the_next() {
        let (mut shard, mut series) =
            shard_with_outages(vec![(100, 200), (205, 300)], OutageMode::Wait);
        // Both arrive in the first outage; the first is served from 200 to 210 and cut by
        // the second outage at 205, so both start again at 300.
        let done = completions(&mut shard, &mut series, &[150, 160, 310]);
        assert_eq!(done, vec![310, 320, 330]);
    }
}
