//! Time integrals of piecewise-constant quantities, per time-series bucket, in O(1) per
//! interval.
//!
//! A queue's depth is the number of jobs whose waiting interval covers the instant, so the
//! integral of the depth over a bucket is the sum of the waiting intervals' overlaps with
//! it. Adding an interval touches only its first and last bucket plus two entries of a
//! difference array for the whole buckets in between; the sums are finished once, at the
//! end. This gives exact time-averaged depths (what Little's law speaks of) without
//! sampling and without a per-event cost that grows with the interval's length.

use super::Buckets;
use crate::engine::SimTime;

#[derive(Debug, Clone)]
pub struct IntervalAccumulator {
    buckets: Buckets,
    /// Nanoseconds covered in partially covered buckets; signed, since an interval taken
    /// back may be counted partial where it was added whole.
    partial_ns: Vec<i64>,
    /// Difference array of the count of intervals covering a bucket whole.
    whole: Vec<i64>,
}

impl IntervalAccumulator {
    pub fn new(buckets: Buckets) -> Self {
        Self {
            buckets,
            partial_ns: vec![0; buckets.count()],
            whole: vec![0; buckets.count() + 1],
        }
    }

    /// Adds the interval `[start, end)`, clipped to the horizon.
    #[inline]
    pub fn add(&mut self, start: SimTime, end: SimTime) {
        self.count(start, end, 1);
    }

    /// Takes back `[start, end)`, which must lie within an interval added before: a
    /// quantity that turned out to end earlier than it was told.
    pub fn remove(&mut self, start: SimTime, end: SimTime) {
        self.count(start, end, -1);
    }

    #[inline]
    fn count(&mut self, start: SimTime, end: SimTime, sign: i64) {
        let end = end.min(self.buckets.horizon_ns());
        if start >= end {
            return;
        }
        let first = self.buckets.index(start);
        let last = self.buckets.index(end - 1);
        if first == last {
            self.partial_ns[first] += sign * (end - start) as i64;
            return;
        }
        self.partial_ns[first] += sign * (self.buckets.start(first + 1) - start) as i64;
        self.partial_ns[last] += sign * (end - self.buckets.start(last)) as i64;
        self.whole[first + 1] += sign;
        self.whole[last] -= sign;
    }

    /// The final integral over `bucket`, for reading buckets one at a time, in order,
    /// while intervals are still being added to later ones: `covering` carries the count of
    /// intervals covering whole buckets from one call to the next, and starts at zero.
    /// Valid only once no interval starting in or before `bucket` will be added.
    pub fn settle(&self, bucket: usize, covering: &mut i64) -> u64 {
        *covering += self.whole[bucket];
        self.total(bucket, *covering)
    }

    /// A bucket's integral from its partial nanoseconds and the intervals covering it whole.
    fn total(&self, bucket: usize, covering: i64) -> u64 {
        let length = self.buckets.len_of(bucket) as i64;
        let total = self.partial_ns[bucket] + covering * length;
        debug_assert!(total >= 0, "more taken back than added in bucket {bucket}");
        total.max(0) as u64
    }

    /// The integral over each bucket, in nanoseconds (depth × time).
    pub fn integrals(&self) -> Vec<u64> {
        let mut covering = 0i64;
        self.partial_ns
            .iter()
            .enumerate()
            .map(|(bucket, _)| {
                covering += self.whole[bucket];
                self.total(bucket, covering)
            })
            .collect()
    }

    /// The time-averaged value in each bucket.
    pub fn means(&self) -> Vec<f64> {
        self.integrals()
            .iter()
            .enumerate()
            .map(|(bucket, integral)| *integral as f64 / self.buckets.len_of(bucket) as f64)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrals_match_a_direct_count() {
        let mut accumulator = IntervalAccumulator::new(Buckets::new(10, 95));
        let intervals = [
            (0, 95),
            (3, 7),
            (5, 27),
            (10, 20),
            (19, 61),
            (90, 200),
            (50, 50),
        ];
        for (start, end) in intervals {
            accumulator.add(start, end);
        }

        let mut direct = vec![0u64; 10];
        for t in 0..95u64 {
            let depth = intervals.iter().filter(|(s, e)| *s <= t && t < *e).count() as u64;
            direct[(t / 10) as usize] += depth;
        }
        assert_eq!(accumulator.integrals(), direct);

        let mut covering = 0;
        let settled: Vec<u64> = (0..10)
            .map(|bucket| accumulator.settle(bucket, &mut covering))
            .collect();
        assert_eq!(settled, direct);
        assert_eq!(accumulator.means()[9], direct[9] as f64 / 5.0);
    }

    #[test]
    fn an_interval_taken_back_leaves_what_remains() {
        let mut accumulator = IntervalAccumulator::new(Buckets::new(10, 100));
        accumulator.add(3, 95);
        accumulator.remove(47, 95);
        let mut shorter = IntervalAccumulator::new(Buckets::new(10, 100));
        shorter.add(3, 47);
        assert_eq!(accumulator.integrals(), shorter.integrals());
    }
}
