//! The fixed virtual-time buckets every time series shares.
//!
//! Finding an instant's bucket is a division, done several times per client in the hot
//! loop; the bucket width is fixed for a run, so the division is strength-reduced to a
//! multiplication once, at construction.

use strength_reduce::StrengthReducedU64;

use crate::engine::SimTime;

#[derive(Debug, Clone, Copy)]
pub struct Buckets {
    width: StrengthReducedU64,
    width_ns: SimTime,
    horizon_ns: SimTime,
    count: usize,
}

impl Buckets {
    /// Buckets of `width_ns` covering `[0, horizon_ns)`; the last may be shorter.
    pub fn new(width_ns: SimTime, horizon_ns: SimTime) -> Self {
        Self {
            width: StrengthReducedU64::new(width_ns),
            width_ns,
            horizon_ns,
            count: horizon_ns.div_ceil(width_ns) as usize,
        }
    }

    /// The bucket holding instant `t`; `t` must be before the horizon.
    #[inline]
    pub fn index(&self, t: SimTime) -> usize {
        (t / self.width) as usize
    }

    /// The bucket holding `t`, or `None` at or past the horizon.
    #[inline]
    pub fn get(&self, t: SimTime) -> Option<usize> {
        (t < self.horizon_ns).then(|| self.index(t))
    }

    pub fn start(&self, bucket: usize) -> SimTime {
        bucket as SimTime * self.width_ns
    }

    /// The bucket's length: the width, except for a last bucket cut by the horizon.
    pub fn len_of(&self, bucket: usize) -> SimTime {
        let start = self.start(bucket);
        (start + self.width_ns).min(self.horizon_ns) - start
    }

    pub fn width_ns(&self) -> SimTime {
        self.width_ns
    }

    pub fn horizon_ns(&self) -> SimTime {
        self.horizon_ns
    }

    pub fn count(&self) -> usize {
        self.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_and_lengths() {
        let buckets = Buckets::new(10, 95);
        assert_eq!(buckets.count(), 10);
        assert_eq!(buckets.index(0), 0);
        assert_eq!(buckets.index(9), 0);
        assert_eq!(buckets.index(10), 1);
        assert_eq!(buckets.get(94), Some(9));
        assert_eq!(buckets.get(95), None);
        assert_eq!(buckets.len_of(9), 5);
    }
}
