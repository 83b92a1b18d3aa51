//! A first-in, first-out queue in fixed-size blocks, for the model's long queues.
//!
//! At the full storm a few queues hold hundreds of millions of entries at their peak: the
//! async registry backlogs (279M queued writes over 500 servers) and, under `sync`, the
//! shards' records of operations in the system. A `VecDeque` grows by doubling, so it
//! holds about 1.5 times its content on average, copies everything it holds at each
//! doubling, and touches fresh pages that the kernel must clear each time. This queue
//! instead chains blocks of [`BLOCK`] entries: memory follows the content's peak to within
//! two blocks, and nothing is ever copied. A block emptied at the front is kept for the back
//! to fill again, never freed: handing blocks back to the allocator let it return the top
//! of its heap to the kernel and fault it in again as the queues refilled, which cost 8%
//! of the 100M-client async storm's time.
//!
//! [`RisingInstants`] is such a queue for instants that never decrease (a shard's
//! completion times, a server's queued writes): it keeps the gaps between them in 4 bytes
//! each, half what the instants take.

use std::collections::VecDeque;

use crate::engine::SimTime;

/// Entries per block: a few tens of kilobytes, small next to the queues that need this
/// type and well under the allocator's threshold for mapping memory separately.
pub const BLOCK: usize = 4096;

#[derive(Debug)]
pub struct BlockFifo<T> {
    /// The block being read, from `next_read` on.
    read_block: Vec<T>,
    next_read: usize,
    /// Full blocks between the one being read and the one being filled, oldest first.
    full_blocks: VecDeque<Vec<T>>,
    /// The block being filled. Both ends work on a plain vector, so a push or a pop is as
    /// cheap as in a `VecDeque`; blocks only move when one end crosses into another.
    write_block: Vec<T>,
    len: usize,
    /// Emptied blocks, kept to be filled again.
    spare_blocks: Vec<Vec<T>>,
    /// Blocks taken from the allocator, for the tests: reuse keeps it at a few.
    #[cfg(test)]
    blocks_allocated: usize,
}

impl<T> Default for BlockFifo<T> {
    fn default() -> Self {
        Self {
            read_block: Vec::new(),
            next_read: 0,
            full_blocks: VecDeque::new(),
            write_block: Vec::new(),
            len: 0,
            spare_blocks: Vec::new(),
            #[cfg(test)]
            blocks_allocated: 0,
        }
    }
}

impl<T: Copy> BlockFifo<T> {
    #[inline]
    pub fn push_back(&mut self, value: T) {
        if self.write_block.len() == self.write_block.capacity() {
            self.start_write_block();
        }
        self.write_block.push(value);
        self.len += 1;
    }

    /// The block being filled is full (or was never allocated): it joins the blocks to
    /// read and a fresh one takes its place.
    #[cold]
    fn start_write_block(&mut self) {
        let fresh = self.spare_blocks.pop().unwrap_or_else(|| {
            #[cfg(test)]
            {
                self.blocks_allocated += 1;
            }
            Vec::with_capacity(BLOCK)
        });
        let full = std::mem::replace(&mut self.write_block, fresh);
        if full.capacity() > 0 {
            self.full_blocks.push_back(full);
        }
    }

    #[inline]
    pub fn front(&self) -> Option<&T> {
        match self.read_block.get(self.next_read) {
            Some(value) => Some(value),
            None => self
                .full_blocks
                .front()
                .or(Some(&self.write_block))?
                .first(),
        }
    }

    #[inline]
    pub fn pop_front(&mut self) -> Option<T> {
        if self.next_read == self.read_block.len() && !self.next_read_block() {
            return None;
        }
        let value = self.read_block[self.next_read];
        self.next_read += 1;
        self.len -= 1;
        Some(value)
    }

    /// The block being read is read to its end: it is emptied and kept, and the next block
    /// with entries is read. Returns whether there is one.
    #[cold]
    fn next_read_block(&mut self) -> bool {
        if self.len == 0 {
            return false;
        }
        let mut read = std::mem::take(&mut self.read_block);
        read.clear();
        self.next_read = 0;
        match self.full_blocks.pop_front() {
            Some(block) => {
                self.read_block = block;
                if read.capacity() > 0 {
                    self.spare_blocks.push(read);
                }
            }
            // The rest is in the block being filled: read it, and fill the emptied one instead.
            None => self.read_block = std::mem::replace(&mut self.write_block, read),
        }
        true
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Empties the queue, handing over its entries, oldest first.
    pub fn take_all(&mut self) -> impl Iterator<Item = T> + use<T> {
        let read = std::mem::take(&mut self.read_block);
        let next_read = std::mem::take(&mut self.next_read);
        let full = std::mem::take(&mut self.full_blocks);
        let write = std::mem::take(&mut self.write_block);
        self.len = 0;
        read.into_iter()
            .skip(next_read)
            .chain(full.into_iter().flatten())
            .chain(write)
    }
}

/// A first-in, first-out queue of nondecreasing instants, each with a small payload, kept
/// as the gaps between the instants.
///
/// Two of the model's long queues are ordered in time: a shard's completion times never
/// decrease (each operation starts once the previous one is done), and a server's
/// registry writes are queued in the order their connections were established. Under
/// load two neighbours are microseconds apart, far below the 4.3 s that 32 bits of
/// nanoseconds hold, so a gap takes 4 bytes where an instant takes 8: the shards'
/// in-system records shrink by half and a queued write from 12 bytes to 8. A gap too long
/// for 32 bits (the first entry, or one after an idle spell or an outage) is marked and
/// kept whole in a side queue, so every instant comes back exactly.
#[derive(Debug)]
pub struct RisingInstants<P = ()> {
    gaps: BlockFifo<(u32, P)>,
    long_gaps: VecDeque<SimTime>,
    /// The last instant taken out, or 0: the front's instant is this plus the front gap.
    last_popped: SimTime,
    /// The last instant put in, or 0: the next gap is measured from it.
    last_pushed: SimTime,
}

impl<P> Default for RisingInstants<P> {
    fn default() -> Self {
        Self {
            gaps: BlockFifo::default(),
            long_gaps: VecDeque::new(),
            last_popped: 0,
            last_pushed: 0,
        }
    }
}

/// Marks a gap kept whole in `long_gaps`.
const LONG_GAP: u32 = u32::MAX;

/// The length of a gap stored as `stored`, taken whole from `long_gap` if it is marked.
#[inline]
fn gap_length(stored: u32, long_gap: impl FnOnce() -> Option<SimTime>) -> SimTime {
    match stored {
        LONG_GAP => long_gap().expect("a long gap for each mark"),
        short => SimTime::from(short),
    }
}

impl<P: Copy> RisingInstants<P> {
    /// Appends `instant` with `payload`; `instant` must not be earlier than the last one
    /// appended.
    #[inline]
    pub fn push_back(&mut self, instant: SimTime, payload: P) {
        // Checked in release builds too: a wrapped gap would silently corrupt every later
        // instant, and the check is one well-predicted branch.
        let gap = instant
            .checked_sub(self.last_pushed)
            .expect("instants must not decrease");
        self.last_pushed = instant;
        match u32::try_from(gap) {
            Ok(short) if short != LONG_GAP => self.gaps.push_back((short, payload)),
            _ => {
                self.gaps.push_back((LONG_GAP, payload));
                self.long_gaps.push_back(gap);
            }
        }
    }

    /// The earliest instant still queued.
    #[inline]
    pub fn front_instant(&self) -> Option<SimTime> {
        let gap = gap_length(self.gaps.front()?.0, || self.long_gaps.front().copied());
        Some(self.last_popped + gap)
    }

    #[inline]
    pub fn pop_front(&mut self) -> Option<(SimTime, P)> {
        let (gap, payload) = self.gaps.pop_front()?;
        self.last_popped += gap_length(gap, || self.long_gaps.pop_front());
        Some((self.last_popped, payload))
    }

    /// Removes every entry at or before `instant`.
    #[inline]
    pub fn pop_through(&mut self, instant: SimTime) {
        while self.front_instant().is_some_and(|front| front <= instant) {
            self.pop_front();
        }
    }

    /// Empties the queue, handing over its entries, oldest first.
    pub fn take_all(&mut self) -> impl Iterator<Item = (SimTime, P)> + use<P> {
        let mut long_gaps = std::mem::take(&mut self.long_gaps);
        let mut at = self.last_popped;
        self.last_popped = self.last_pushed;
        self.gaps.take_all().map(move |(gap, payload)| {
            at += gap_length(gap, || long_gaps.pop_front());
            (at, payload)
        })
    }

    pub fn len(&self) -> usize {
        self.gaps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.gaps.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_first_in_first_out_across_blocks() {
        let mut fifo = BlockFifo::default();
        let mut expected = VecDeque::new();
        let mut next = 0u64;
        // Grow over several blocks, drain part way, grow again, drain to empty, twice.
        for (pushes, pops) in [(3 * BLOCK + 7, BLOCK + 3), (BLOCK, 3 * BLOCK + 4), (5, 5)] {
            for _ in 0..pushes {
                fifo.push_back(next);
                expected.push_back(next);
                next += 1;
            }
            assert_eq!(fifo.front(), expected.front());
            for _ in 0..pops {
                assert_eq!(fifo.pop_front(), expected.pop_front());
            }
            assert_eq!(fifo.len(), expected.len());
        }
        assert!(fifo.is_empty());
        assert_eq!(fifo.pop_front(), None);
        assert_eq!(fifo.front(), None);
    }

    #[test]
    fn agrees_with_a_vecdeque_under_random_use() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut fifo = BlockFifo::default();
        let mut reference = VecDeque::new();
        for step in 0..200_000u32 {
            // Phases that mostly fill, then mostly drain, crossing many blocks.
            let fill = (step / 20_000) % 2 == 0;
            if rng.random_bool(if fill { 0.7 } else { 0.3 }) {
                fifo.push_back(step);
                reference.push_back(step);
            } else {
                assert_eq!(fifo.pop_front(), reference.pop_front());
            }
            assert_eq!(fifo.front(), reference.front());
            assert_eq!(fifo.len(), reference.len());
        }
        assert!(fifo.take_all().eq(reference.into_iter()));
    }

    #[test]
    fn a_queue_that_drains_as_it_fills_reuses_its_blocks() {
        // Short queues (one block) and queues over a block long, where emptied blocks go
        // through the spare list.
        for lag in [100, BLOCK as u32 + 100] {
            let mut fifo = BlockFifo::default();
            for value in 0..20 * BLOCK as u32 {
                fifo.push_back(value);
                if value >= lag {
                    assert_eq!(fifo.pop_front(), Some(value - lag));
                }
            }
            // The blocks that hold the content, the one being filled and at most one spare:
            // no memory beyond that was ever taken, though twenty blocks passed through.
            let holding = lag as usize / BLOCK + 2;
            assert!(
                fifo.blocks_allocated <= holding + 1,
                "lag {lag}: {} blocks",
                fifo.blocks_allocated
            );
            assert_eq!(fifo.len(), lag as usize);
        }
    }

    #[test]
    fn taking_everything_gives_the_rest_in_order() {
        let mut fifo = BlockFifo::default();
        for value in 0..2 * BLOCK as u32 + 10 {
            fifo.push_back(value);
        }
        for _ in 0..BLOCK + 5 {
            fifo.pop_front();
        }
        let rest: Vec<u32> = fifo.take_all().collect();
        assert_eq!(
            rest,
            (BLOCK as u32 + 5..2 * BLOCK as u32 + 10).collect::<Vec<_>>()
        );
        assert!(fifo.is_empty());
        fifo.push_back(7);
        assert_eq!(fifo.pop_front(), Some(7));
    }

    #[test]
    fn rising_instants_come_back_exactly_across_short_and_long_gaps() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let mut instants = RisingInstants::default();
        let mut reference = VecDeque::new();
        let mut now: SimTime = 0;
        for step in 0..100_000u32 {
            if rng.random_bool(if (step / 10_000) % 2 == 0 { 0.7 } else { 0.3 }) {
                // Mostly service-time gaps, with equal instants, a gap of exactly the
                // mark's value, and gaps past 32 bits mixed in.
                now += match rng.random_range(0..100) {
                    0 => 0,
                    1 => u64::from(LONG_GAP),
                    2 => 1 << 40,
                    _ => rng.random_range(1..200_000),
                };
                instants.push_back(now, step);
                reference.push_back((now, step));
            } else {
                assert_eq!(instants.pop_front(), reference.pop_front());
            }
            assert_eq!(instants.front_instant(), reference.front().map(|e| e.0));
            assert_eq!(instants.len(), reference.len());
        }

        let cut = reference[reference.len() / 2].0;
        instants.pop_through(cut);
        reference.retain(|&(instant, _)| instant > cut);
        assert_eq!(instants.len(), reference.len());
        assert_eq!(instants.front_instant(), reference.front().map(|e| e.0));

        // Taking what is left gives it back exactly, and the queue goes on from there.
        assert!(instants.take_all().eq(reference.drain(..)));
        assert!(instants.is_empty());
        instants.push_back(now + 5, 7);
        assert_eq!(instants.pop_front(), Some((now + 5, 7)));
    }

    #[test]
    fn the_first_instant_may_be_far_from_zero() {
        let mut instants = RisingInstants::default();
        instants.push_back(SimTime::MAX - 1, ());
        instants.push_back(SimTime::MAX, ());
        assert_eq!(instants.front_instant(), Some(SimTime::MAX - 1));
        assert_eq!(instants.pop_front(), Some((SimTime::MAX - 1, ())));
        assert_eq!(instants.pop_front(), Some((SimTime::MAX, ())));
        assert!(instants.is_empty());
        assert_eq!(instants.pop_front(), None);
    }

    #[test]
    #[should_panic(expected = "instants must not decrease")]
    fn an_instant_earlier_than_the_last_is_refused() {
        let mut instants = RisingInstants::default();
        instants.push_back(10, ());
        instants.push_back(9, ());
    }
}
