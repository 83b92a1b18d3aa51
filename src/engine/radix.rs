//! A radix heap: the priority queue behind [`super::EventQueue`].
//!
//! A discrete-event simulation only ever schedules events at or after the one being
//! dispatched, so its keys are *monotone*: no key pushed is smaller than the last one
//! popped. A radix heap exploits that. Each entry sits in the bucket numbered by the
//! highest bit in which its key differs from the last popped key; pushing is a bit scan and
//! a `Vec` push, and popping, when the lowest bucket is empty, redistributes one bucket
//! into lower ones, so each entry moves only a few times in its life. On the storm model
//! this beats a binary heap, whose sift-down pays a mispredicted branch per level.
//!
//! Keys are unique (time and scheduling sequence), so the order is total and never
//! depends on where an entry happens to sit.

/// Bucket 0 holds the key equal to the last popped one; bucket `i` holds keys whose
/// highest bit differing from it is bit `i - 1`.
const BUCKETS: usize = 129;

pub struct RadixHeap<T> {
    last: u128,
    buckets: Vec<Vec<(u128, T)>>,
    /// The smallest key in each bucket, valid while the bucket is not empty.
    bucket_min: Vec<u128>,
    /// Bit `i - 1` is set when bucket `i` (1 to 128) is not empty.
    occupied: u128,
    len: usize,
}

impl<T> Default for RadixHeap<T> {
    fn default() -> Self {
        Self {
            last: 0,
            buckets: (0..BUCKETS).map(|_| Vec::new()).collect(),
            bucket_min: vec![u128::MAX; BUCKETS],
            occupied: 0,
            len: 0,
        }
    }
}

impl<T> RadixHeap<T> {
    #[inline]
    fn bucket_of(&self, key: u128) -> usize {
        (128 - (key ^ self.last).leading_zeros()) as usize
    }

    /// Adds an entry. `key` must not be below the last popped key.
    #[inline]
    pub fn push(&mut self, key: u128, value: T) {
        debug_assert!(key >= self.last, "radix heap keys must be monotone");
        let bucket = self.bucket_of(key);
        self.place(bucket, key, value);
        self.len += 1;
    }

    #[inline]
    fn place(&mut self, bucket: usize, key: u128, value: T) {
        self.buckets[bucket].push((key, value));
        if bucket > 0 {
            self.bucket_min[bucket] = self.bucket_min[bucket].min(key);
            self.occupied |= 1 << (bucket - 1);
        }
    }

    /// The smallest key, without changing anything.
    #[inline]
    pub fn min_key(&self) -> Option<u128> {
        if let Some((key, _)) = self.buckets[0].first() {
            return Some(*key);
        }
        (self.occupied != 0).then(|| self.bucket_min[self.lowest_occupied()])
    }

    /// Removes and returns the entry with the smallest key.
    #[inline]
    pub fn pop(&mut self) -> Option<(u128, T)> {
        if self.buckets[0].is_empty() {
            if self.occupied == 0 {
                return None;
            }
            self.redistribute(self.lowest_occupied());
        }
        self.len -= 1;
        self.buckets[0].pop()
    }

    /// Makes the smallest key of `bucket` the new reference and spreads the bucket's
    /// entries over lower buckets; the smallest lands alone in bucket 0.
    fn redistribute(&mut self, bucket: usize) {
        self.last = self.bucket_min[bucket];
        self.bucket_min[bucket] = u128::MAX;
        self.occupied &= !(1 << (bucket - 1));
        let mut entries = std::mem::take(&mut self.buckets[bucket]);
        for (key, value) in entries.drain(..) {
            let target = self.bucket_of(key);
            self.place(target, key, value);
        }
        // Hand the emptied vector back so its capacity is reused.
        self.buckets[bucket] = entries;
    }

    #[inline]
    fn lowest_occupied(&self) -> usize {
        self.occupied.trailing_zeros() as usize + 1
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Takes every entry out, in no particular order.
    pub fn drain_unordered(&mut self) -> Vec<(u128, T)> {
        let mut all = Vec::with_capacity(self.len);
        for bucket in &mut self.buckets {
            all.append(bucket);
        }
        self.bucket_min.fill(u128::MAX);
        self.occupied = 0;
        self.len = 0;
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn pops_in_key_order_under_monotone_use() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let mut heap = RadixHeap::default();
        let mut reference = std::collections::BTreeSet::new();
        let mut last = 0u128;
        for step in 0..20_000u128 {
            // Keys are unique: a random time past the last pop, then the step number.
            let key = ((last >> 32) + rng.random_range(0..1_000u128)) << 32 | step;
            heap.push(key, step);
            reference.insert(key);
            if rng.random_bool(0.45) {
                assert_eq!(heap.min_key(), reference.first().copied());
                let (key, _) = heap.pop().unwrap();
                assert_eq!(Some(key), reference.pop_first());
                last = key;
            }
        }
        while let Some((key, _)) = heap.pop() {
            assert_eq!(Some(key), reference.pop_first());
        }
        assert!(reference.is_empty() && heap.len() == 0);
    }
}
