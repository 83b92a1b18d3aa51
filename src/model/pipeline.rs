//! A connection server's registry writes grouped into pipelines (`async-batched`).
//!
//! Redis Cluster clients pipeline per node, so a server keeps one open batch per shard,
//! and a queued write joins the open batch of its user's shard. A batch is closed when it
//! holds `batch_size` writes or when its linger, started by its first write, runs out,
//! whichever comes first. Closed batches wait first come, first served for one of the
//! server's writers; a writer has one pipeline in flight. A closed batch never grows: a
//! write for its shard opens a new batch.
//!
//! This file keeps the bookkeeping only; the world decides when lingers end (an event)
//! and sends the pipelines to the shards.

use std::collections::{BTreeMap, VecDeque};

use crate::engine::SimTime;

/// A registry write waiting for a writer, alone (`async`) or in a batch (`async-batched`).
///
/// Packed to 12 bytes instead of 16: in batches, millions of writes may wait, and four
/// bytes of padding each would add a third. (The `async` backlogs, hundreds of millions
/// long at the full storm, keep their writes in 8 bytes instead, as a client and the gap
/// from the previous write: see [`crate::model::fifo::RisingInstants`].) Its fields are
/// read by value (a reference to a packed field is refused by the compiler).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C, packed(4))]
pub struct QueuedWrite {
    pub established_at: SimTime,
    pub client: u32,
}

/// A closed batch: the writes of one pipeline to `shard`, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub shard: u32,
    pub writes: Vec<QueuedWrite>,
}

/// What joining a write did to its shard's open batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Joined {
    /// The write opened batch `batch` (numbered per server), which is still open: its
    /// linger starts now.
    Opened { batch: u64 },
    /// The write joined a batch that is still open.
    Joined,
    /// The write filled its batch, which is now closed.
    Filled,
}

/// A batch still taking writes.
struct OpenBatch {
    number: u64,
    writes: Vec<QueuedWrite>,
}

/// One server's batches and writers.
pub struct PipelineQueue {
    batch_size: usize,
    idle_writers: u32,
    /// Open batches by shard. A `BTreeMap` so that draining them at the horizon goes in
    /// shard order, never in a hash map's.
    open: BTreeMap<u32, OpenBatch>,
    /// Closed batches waiting for a writer, oldest first.
    closed: VecDeque<Batch>,
    batches_opened: u64,
}

impl PipelineQueue {
    pub fn new(batch_size: u32, writers: u32) -> Self {
        Self {
            batch_size: batch_size as usize,
            idle_writers: writers,
            open: BTreeMap::new(),
            closed: VecDeque::new(),
            batches_opened: 0,
        }
    }

    /// Adds `write` to the open batch of `shard`, opening one if there is none, and
    /// closes that batch if the write fills it.
    pub fn join(&mut self, shard: u32, write: QueuedWrite) -> Joined {
        let opened = (!self.open.contains_key(&shard)).then(|| {
            let number = self.batches_opened;
            self.batches_opened += 1;
            self.open.insert(
                shard,
                OpenBatch {
                    number,
                    writes: Vec::new(),
                },
            );
            number
        });
        let batch = self.open.get_mut(&shard).expect("opened above if absent");
        batch.writes.push(write);

        if batch.writes.len() >= self.batch_size {
            self.close(shard);
            return Joined::Filled;
        }
        match opened {
            Some(batch) => Joined::Opened { batch },
            None => Joined::Joined,
        }
    }

    /// Moves `shard`'s open batch to the back of the closed ones.
    fn close(&mut self, shard: u32) {
        let open = self
            .open
            .remove(&shard)
            .expect("the shard has an open batch");
        self.closed.push_back(Batch {
            shard,
            writes: open.writes,
        });
    }

    /// Closes batch `batch` of `shard` because its linger ran out, unless it has already
    /// been closed by filling up (then `shard`'s open batch, if any, is a later one).
    pub fn linger_ended(&mut self, shard: u32, batch: u64) {
        if self
            .open
            .get(&shard)
            .is_some_and(|open| open.number == batch)
        {
            self.close(shard);
        }
    }

    /// The oldest closed batch, if a writer is idle to send it; that writer is then busy.
    pub fn next_to_send(&mut self) -> Option<Batch> {
        if self.idle_writers == 0 {
            return None;
        }
        let batch = self.closed.pop_front()?;
        self.idle_writers -= 1;
        Some(batch)
    }

    /// A writer's pipeline completed: the writer takes the oldest closed batch, if any,
    /// or goes idle.
    pub fn writer_freed(&mut self) -> Option<Batch> {
        let batch = self.closed.pop_front();
        if batch.is_none() {
            self.idle_writers += 1;
        }
        batch
    }

    /// Takes every write still waiting, in open or closed batches: open batches in shard
    /// order, then closed batches oldest first.
    pub fn drain(&mut self) -> Vec<QueuedWrite> {
        let open = std::mem::take(&mut self.open);
        let closed = std::mem::take(&mut self.closed);
        open.into_values()
            .flat_map(|batch| batch.writes)
            .chain(closed.into_iter().flat_map(|batch| batch.writes))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queued_write_takes_twelve_bytes() {
        assert_eq!(std::mem::size_of::<QueuedWrite>(), 12);
    }

    fn write(client: u32) -> QueuedWrite {
        QueuedWrite {
            established_at: u64::from(client) * 10,
            client,
        }
    }

    fn clients(batch: &Batch) -> Vec<u32> {
        batch.writes.iter().map(|w| w.client).collect()
    }

    #[test]
    fn a_batch_closes_when_full_and_a_closed_batch_does_not_grow() {
        let mut queue = PipelineQueue::new(2, 1);
        assert_eq!(queue.join(0, write(0)), Joined::Opened { batch: 0 });
        assert_eq!(queue.join(1, write(1)), Joined::Opened { batch: 1 });
        assert_eq!(queue.join(0, write(2)), Joined::Filled);
        // Shard 0's batch is closed: the next write opens batch 2.
        assert_eq!(queue.join(0, write(3)), Joined::Opened { batch: 2 });

        let sent = queue.next_to_send().unwrap();
        assert_eq!((sent.shard, clients(&sent)), (0, vec![0, 2]));
        // The only writer is busy.
        assert_eq!(queue.join(1, write(4)), Joined::Filled);
        assert_eq!(queue.next_to_send(), None);

        let next = queue.writer_freed().unwrap();
        assert_eq!((next.shard, clients(&next)), (1, vec![1, 4]));
        assert_eq!(queue.writer_freed(), None);
        assert_eq!(queue.drain(), vec![write(3)]);
    }

    #[test]
    fn a_linger_closes_only_its_own_batch() {
        let mut queue = PipelineQueue::new(2, 1);
        assert_eq!(queue.join(5, write(0)), Joined::Opened { batch: 0 });
        assert_eq!(queue.join(5, write(1)), Joined::Filled);
        assert_eq!(queue.join(5, write(2)), Joined::Opened { batch: 1 });

        // Batch 0 filled up; its linger must leave batch 1 open.
        queue.linger_ended(5, 0);
        assert_eq!(clients(&queue.next_to_send().unwrap()), vec![0, 1]);
        assert_eq!(queue.writer_freed(), None);
        assert_eq!(queue.next_to_send(), None);

        queue.linger_ended(5, 1);
        assert_eq!(clients(&queue.next_to_send().unwrap()), vec![2]);
    }

    #[test]
    fn a_batch_of_one_closes_at_once() {
        let mut queue = PipelineQueue::new(1, 2);
        assert_eq!(queue.join(0, write(0)), Joined::Filled);
        assert_eq!(queue.join(0, write(1)), Joined::Filled);
        assert_eq!(queue.join(0, write(2)), Joined::Filled);
        assert_eq!(clients(&queue.next_to_send().unwrap()), vec![0]);
        assert_eq!(clients(&queue.next_to_send().unwrap()), vec![1]);
        assert_eq!(queue.next_to_send(), None);
        assert_eq!(queue.drain(), vec![write(2)]);
    }
}
