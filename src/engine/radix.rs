//! A radix heap: the pending-event set behind [`super::EventQueue`].
//!
//! A discrete-event simulation only ever schedules events at or after the one being
//! dispatched, so its times are *monotone*: no time pushed is earlier than the last one
//! popped. A radix heap exploits that. Each entry sits in the bucket numbered by the
//! highest bit in which its time differs from the last popped time; pushing is a bit scan
//! and a `Vec` push, and popping, when the lowest bucket is empty, spreads the earliest
//! bucket over lower ones, so each entry moves only a few times in its life. On the storm
//! model this beats a binary heap, whose sift-down pays a mispredicted branch per level.
//!
//! Entries of equal time always share a bucket and keep the order they were pushed in, so
//! equal times come out first in, first out with no sequence number in the key. When the
//! last popped time moves to the earliest time of the lowest non-empty bucket, the new
//! time agrees with the old one on every bit above that bucket's, so entries in higher
//! buckets keep their bucket; and the lowest bucket is spread, in order, over the buckets
//! below it, which are all empty.

/// Bucket 0 holds entries at the last popped time; bucket `i` holds times whose highest
/// bit differing from it is bit `i - 1`.
const BUCKETS: usize = 65;

pub struct RadixHeap<T> {
    last_popped: u64,
    buckets: Vec<Vec<(u64, T)>>,
    /// The earliest time in each bucket, valid while the bucket is not empty.
    bucket_min: [u64; BUCKETS],
    /// Bit `i - 1` is set when bucket `i` (1 to 64) is not empty.
    occupied: u64,
    /// How many entries of bucket 0 were already popped: it is consumed from its front,
    /// as entries pushed at the current instant join its back.
    popped_from_bucket0: usize,
    len: usize,
}

impl<T> Default for RadixHeap<T> {
    fn default() -> Self {
        Self {
            last_popped: 0,
            buckets: (0..BUCKETS).map(|_| Vec::new()).collect(),
            bucket_min: [u64::MAX; BUCKETS],
            occupied: 0,
            popped_from_bucket0: 0,
            len: 0,
        }
    }
}

impl<T: Copy> RadixHeap<T> {
    #[inline]
    fn bucket_of(&self, time: u64) -> usize {
        (64 - (time ^ self.last_popped).leading_zeros()) as usize
    }

    /// Adds an entry. `time` must not be before the last popped time.
    #[inline]
    pub fn push(&mut self, time: u64, value: T) {
        debug_assert!(
            time >= self.last_popped,
            "radix heap times must be monotone"
        );
        let bucket = self.bucket_of(time);
        self.place(bucket, time, value);
        self.len += 1;
    }

    #[inline]
    fn place(&mut self, bucket: usize, time: u64, value: T) {
        self.buckets[bucket].push((time, value));
        if bucket > 0 {
            self.bucket_min[bucket] = self.bucket_min[bucket].min(time);
            self.occupied |= 1 << (bucket - 1);
        }
    }

    /// The earliest time, without changing anything.
    #[inline]
    pub fn min_time(&self) -> Option<u64> {
        if self.popped_from_bucket0 < self.buckets[0].len() {
            return Some(self.last_popped);
        }
        (self.occupied != 0).then(|| self.bucket_min[self.lowest_occupied()])
    }

    /// Removes and returns the earliest entry; of entries at the same time, the one pushed
    /// first.
    #[inline]
    pub fn pop(&mut self) -> Option<(u64, T)> {
        if self.popped_from_bucket0 == self.buckets[0].len() {
            if self.occupied == 0 {
                return None;
            }
            self.buckets[0].clear();
            self.popped_from_bucket0 = 0;
            self.redistribute(self.lowest_occupied());
        }
        let entry = self.buckets[0][self.popped_from_bucket0];
        self.popped_from_bucket0 += 1;
        self.len -= 1;
        Some(entry)
    }

    /// Makes the earliest time of `bucket` the new reference and spreads the bucket's
    /// entries, in their order, over lower buckets; the earliest land in bucket 0.
    fn redistribute(&mut self, bucket: usize) {
        self.last_popped = self.bucket_min[bucket];
        self.bucket_min[bucket] = u64::MAX;
        self.occupied &= !(1 << (bucket - 1));
        let mut entries = std::mem::take(&mut self.buckets[bucket]);
        for &(time, value) in &entries {
            let target = self.bucket_of(time);
            self.place(target, time, value);
        }
        // Hand the emptied vector back so its capacity is reused.
        entries.clear();
        self.buckets[bucket] = entries;
    }

    #[inline]
    fn lowest_occupied(&self) -> usize {
        self.occupied.trailing_zeros() as usize + 1
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Takes every entry out, in time order, equal times first in, first out.
    pub fn drain_in_order(&mut self) -> Vec<(u64, T)> {
        let mut all = Vec::with_capacity(self.len);
        all.extend(self.buckets[0].drain(..).skip(self.popped_from_bucket0));
        for bucket in &mut self.buckets[1..] {
            all.append(bucket);
        }
        // Stable: equal times share a bucket, in the order they were pushed.
        all.sort_by_key(|&(time, _)| time);
        self.bucket_min = [u64::MAX; BUCKETS];
        self.occupied = 0;
        self.popped_from_bucket0 = 0;
        self.len = 0;
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use std::collections::BTreeMap;

    /// Drives the heap and a reference ordered by (time, push number) with the same
    /// operations, and checks that they agree at every pop.
    fn agrees_with_reference(seed: u64, max_delay: u64, steps: u64) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut heap = RadixHeap::default();
        let mut reference = BTreeMap::new();
        let mut now = 0u64;
        for pushed in 0..steps {
            // Many ties: delays are often zero or a few nanoseconds.
            let delay = match rng.random_range(0..4) {
                0 => 0,
                1 => rng.random_range(0..4),
                _ => rng.random_range(0..max_delay),
            };
            let time = now.saturating_add(delay);
            heap.push(time, pushed);
            reference.insert((time, pushed), pushed);
            if rng.random_bool(0.5) {
                assert_eq!(heap.min_time(), reference.keys().next().map(|k| k.0));
                let (time, value) = heap.pop().unwrap();
                let ((expected_time, _), expected) = reference.pop_first().unwrap();
                assert_eq!((time, value), (expected_time, expected));
                now = time;
            }
        }
        let rest = heap.drain_in_order();
        let expected: Vec<_> = reference.into_iter().map(|((t, _), v)| (t, v)).collect();
        assert_eq!(rest, expected);
        assert_eq!(heap.len(), 0);
        assert!(heap.pop().is_none());
    }

    #[test]
    fn pops_in_time_then_push_order() {
        agrees_with_reference(1, 1_000, 50_000);
        agrees_with_reference(2, 300_000, 50_000);
        agrees_with_reference(3, u64::MAX / 4, 20_000);
    }

    #[test]
    fn the_largest_times_are_kept() {
        let mut heap = RadixHeap::default();
        heap.push(u64::MAX, 1);
        heap.push(u64::MAX - 1, 2);
        heap.push(u64::MAX, 3);
        let order: Vec<_> = std::iter::from_fn(|| heap.pop()).collect();
        assert_eq!(order, vec![(u64::MAX - 1, 2), (u64::MAX, 1), (u64::MAX, 3)]);
    }
}
