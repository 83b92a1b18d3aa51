//! Fixed virtual-time buckets: counts of what happened in each, and integrals of depths.

use super::IntervalAccumulator;
use crate::engine::SimTime;

/// Per-bucket counts and time-averaged depths of one run.
#[derive(Debug, Clone)]
pub struct TimeSeries {
    pub bucket_ns: SimTime,
    pub horizon_ns: SimTime,
    pub arrivals: Vec<u64>,
    pub rejected: Vec<u64>,
    pub connected: Vec<u64>,
    pub registered: Vec<u64>,
    pub handshake_waiting: IntervalAccumulator,
    pub registry_waiting: IntervalAccumulator,
    pub shard_waiting: IntervalAccumulator,
    pub shard_busy: IntervalAccumulator,
    /// The busiest shard's utilization in each bucket.
    pub busiest_shard: BucketMax,
}

impl TimeSeries {
    pub fn new(bucket_ns: SimTime, horizon_ns: SimTime) -> Self {
        let buckets = horizon_ns.div_ceil(bucket_ns) as usize;
        let accumulator = IntervalAccumulator::new(bucket_ns, horizon_ns);
        Self {
            bucket_ns,
            horizon_ns,
            arrivals: vec![0; buckets],
            rejected: vec![0; buckets],
            connected: vec![0; buckets],
            registered: vec![0; buckets],
            handshake_waiting: accumulator.clone(),
            registry_waiting: accumulator.clone(),
            shard_waiting: accumulator.clone(),
            shard_busy: accumulator,
            busiest_shard: BucketMax::new(buckets),
        }
    }

    pub fn buckets(&self) -> usize {
        self.arrivals.len()
    }

    /// The bucket holding instant `t`, or `None` at or past the horizon.
    #[inline]
    pub fn bucket_of(&self, t: SimTime) -> Option<usize> {
        (t < self.horizon_ns).then(|| (t / self.bucket_ns) as usize)
    }

    #[inline]
    pub fn count(series: &mut [u64], bucket: Option<usize>) {
        if let Some(bucket) = bucket {
            series[bucket] += 1;
        }
    }
}

/// The maximum of a value per bucket, fed in any order.
#[derive(Debug, Clone)]
pub struct BucketMax {
    values: Vec<f64>,
}

impl BucketMax {
    pub fn new(buckets: usize) -> Self {
        Self {
            values: vec![0.0; buckets],
        }
    }

    pub fn offer(&mut self, bucket: usize, value: f64) {
        if let Some(slot) = self.values.get_mut(bucket) {
            *slot = slot.max(value);
        }
    }

    pub fn values(&self) -> &[f64] {
        &self.values
    }
}
