//! Fixed virtual-time buckets: counts of what happened in each, and integrals of depths.

use super::{Buckets, IntervalAccumulator};
use crate::engine::SimTime;

/// Per-bucket counts and time-averaged depths of one run.
#[derive(Debug, Clone)]
pub struct TimeSeries {
    pub buckets: Buckets,
    pub arrivals: Vec<u64>,
    /// Retry attempts started in the bucket.
    pub retries: Vec<u64>,
    pub rejected: Vec<u64>,
    pub connected: Vec<u64>,
    pub registered: Vec<u64>,
    /// Connected clients cut off by their server's crash.
    pub disconnected: Vec<u64>,
    /// Registered clients cut off by their server's crash, whose entry then names a dead
    /// server.
    pub deregistered: Vec<u64>,
    pub handshake_waiting: IntervalAccumulator,
    pub registry_waiting: IntervalAccumulator,
    pub shard_waiting: IntervalAccumulator,
    pub shard_busy: IntervalAccumulator,
    /// The busiest shard's utilization in each bucket.
    pub busiest_shard: BucketMax,
}

impl TimeSeries {
    pub fn new(buckets: Buckets) -> Self {
        let accumulator = IntervalAccumulator::new(buckets);
        let count = buckets.count();
        Self {
            buckets,
            arrivals: vec![0; count],
            retries: vec![0; count],
            rejected: vec![0; count],
            connected: vec![0; count],
            registered: vec![0; count],
            disconnected: vec![0; count],
            deregistered: vec![0; count],
            handshake_waiting: accumulator.clone(),
            registry_waiting: accumulator.clone(),
            shard_waiting: accumulator.clone(),
            shard_busy: accumulator,
            busiest_shard: BucketMax::new(count),
        }
    }

    /// The bucket holding instant `t`, or `None` at or past the horizon.
    #[inline]
    pub fn bucket_of(&self, t: SimTime) -> Option<usize> {
        self.buckets.get(t)
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
