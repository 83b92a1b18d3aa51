//! The pending-event set, ordered by time and then by scheduling order.
//!
//! Two events scheduled for the same nanosecond are dispatched in the order in which they
//! were scheduled (first in, first out). Every scheduled event gets a sequence number from
//! a counter that only grows, and the queue orders by `(time, sequence)`; as no two events
//! share a sequence number, the order is total and a run never depends on how the queue
//! happens to break ties.

use super::SimTime;
use super::radix::RadixHeap;

/// An event waiting in the queue: when it is due, and what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scheduled<E> {
    pub time: SimTime,
    pub event: E,
}

/// The order of an event: its time, then its scheduling sequence, in one integer.
#[inline]
fn key(time: SimTime, sequence: u64) -> u128 {
    (u128::from(time) << 64) | u128::from(sequence)
}

#[inline]
fn time_of(key: u128) -> SimTime {
    (key >> 64) as SimTime
}

/// A priority queue of future events with a deterministic order for simultaneous ones.
///
/// Besides the heap it has one slot for a *streamed* event: the next event of a source that
/// produces its events in time order and keeps exactly one pending (the storm's arrivals).
/// The slot takes part in the same `(time, sequence)` order as the heap, so it changes no
/// dispatch order; it only saves a heap push and pop for every event of the stream.
pub struct EventQueue<E> {
    heap: RadixHeap<E>,
    streamed: Option<(u128, E)>,
    next_sequence: u64,
    now: SimTime,
    dispatched: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        Self {
            heap: RadixHeap::default(),
            streamed: None,
            next_sequence: 0,
            now: 0,
            dispatched: 0,
        }
    }

    /// Schedules `event` at `time`.
    ///
    /// # Panics
    ///
    /// Scheduling into the past is a model bug that would silently reorder history, so it
    /// panics rather than being clamped.
    #[inline]
    pub fn schedule(&mut self, time: SimTime, event: E) {
        let key = self.next_key(time);
        self.heap.push(key, event);
    }

    /// Schedules the next event of the stream (see the type's documentation).
    ///
    /// # Panics
    ///
    /// If the previous streamed event has not been dispatched yet: a stream keeps exactly
    /// one event pending.
    #[inline]
    pub fn schedule_streamed(&mut self, time: SimTime, event: E) {
        assert!(
            self.streamed.is_none(),
            "a streamed event is already pending"
        );
        self.streamed = Some((self.next_key(time), event));
    }

    #[inline]
    fn next_key(&mut self, time: SimTime) -> u128 {
        assert!(
            time >= self.now,
            "event scheduled at {time} ns, before the current time {} ns",
            self.now
        );
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        key(time, sequence)
    }

    /// Removes and returns the next event if it is due strictly before `horizon`, and
    /// advances the clock to it. Events at or after the horizon stay queued, so the caller
    /// can count them as work still in progress.
    #[inline]
    pub fn pop_before(&mut self, horizon: SimTime) -> Option<Scheduled<E>> {
        let heap_key = self.heap.min_key();
        let streamed_key = self.streamed.as_ref().map(|(key, _)| *key);
        let from_stream = match (heap_key, streamed_key) {
            (Some(heap), Some(streamed)) => streamed < heap,
            (None, Some(_)) => true,
            (Some(_), None) => false,
            (None, None) => return None,
        };
        let next_key = if from_stream { streamed_key } else { heap_key }?;
        if time_of(next_key) >= horizon {
            return None;
        }

        let (key, event) = if from_stream {
            self.streamed.take()?
        } else {
            self.heap.pop()?
        };
        self.now = time_of(key);
        self.dispatched += 1;
        Some(Scheduled {
            time: self.now,
            event,
        })
    }

    /// The time of the last dispatched event.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// How many events have been dispatched so far.
    pub fn dispatched(&self) -> u64 {
        self.dispatched
    }

    pub fn len(&self) -> usize {
        self.heap.len() + usize::from(self.streamed.is_some())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Empties the queue, handing over what was still pending, in dispatch order.
    pub fn drain_pending(&mut self) -> Vec<Scheduled<E>> {
        let mut entries = self.heap.drain_unordered();
        entries.extend(self.streamed.take());
        entries.sort_by_key(|(key, _)| *key);
        entries
            .into_iter()
            .map(|(key, event)| Scheduled {
                time: time_of(key),
                event,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dispatch_all(queue: &mut EventQueue<&'static str>) -> Vec<(SimTime, &'static str)> {
        let mut order = Vec::new();
        while let Some(next) = queue.pop_before(SimTime::MAX) {
            order.push((next.time, next.event));
        }
        order
    }

    #[test]
    fn simultaneous_events_run_in_scheduling_order() {
        let mut queue = EventQueue::new();
        queue.schedule(5, "first at 5");
        queue.schedule(3, "only at 3");
        queue.schedule(5, "second at 5");
        queue.schedule(5, "third at 5");

        assert_eq!(
            dispatch_all(&mut queue),
            vec![
                (3, "only at 3"),
                (5, "first at 5"),
                (5, "second at 5"),
                (5, "third at 5"),
            ]
        );
    }

    #[test]
    fn events_scheduled_during_dispatch_at_the_same_instant_run_after_earlier_ones() {
        let mut queue = EventQueue::new();
        queue.schedule(10, "a");
        queue.schedule(10, "b");

        let first = queue.pop_before(SimTime::MAX).unwrap();
        assert_eq!(first.event, "a");
        queue.schedule(10, "c, scheduled while dispatching a");

        assert_eq!(
            dispatch_all(&mut queue),
            vec![(10, "b"), (10, "c, scheduled while dispatching a")]
        );
    }

    #[test]
    fn events_at_or_after_the_horizon_stay_pending() {
        let mut queue = EventQueue::new();
        queue.schedule(99, "before");
        queue.schedule(100, "at");
        queue.schedule(101, "after");

        assert_eq!(queue.pop_before(100).map(|s| s.event), Some("before"));
        assert!(queue.pop_before(100).is_none());
        assert_eq!(queue.dispatched(), 1);

        let pending: Vec<_> = queue.drain_pending().into_iter().map(|s| s.event).collect();
        assert_eq!(pending, vec!["at", "after"]);
    }

    #[test]
    fn streamed_events_keep_the_scheduling_order() {
        let mut queue = EventQueue::new();
        queue.schedule(5, "heap, scheduled first");
        queue.schedule_streamed(5, "streamed, scheduled second");
        queue.schedule(5, "heap, scheduled third");
        queue.schedule(2, "heap at 2");

        assert_eq!(
            queue.pop_before(SimTime::MAX).map(|s| s.event),
            Some("heap at 2")
        );
        assert_eq!(
            queue.pop_before(SimTime::MAX).map(|s| s.event),
            Some("heap, scheduled first")
        );
        assert_eq!(
            queue.pop_before(SimTime::MAX).map(|s| s.event),
            Some("streamed, scheduled second")
        );
        queue.schedule_streamed(7, "streamed at 7");
        assert_eq!(
            queue.pop_before(6).map(|s| s.event),
            Some("heap, scheduled third")
        );
        assert!(queue.pop_before(6).is_none());
        assert_eq!(queue.len(), 1);
        assert_eq!(
            queue.pop_before(SimTime::MAX).map(|s| s.event),
            Some("streamed at 7")
        );
    }

    #[test]
    #[should_panic(expected = "before the current time")]
    fn scheduling_into_the_past_panics() {
        let mut queue = EventQueue::new();
        queue.schedule(10, ());
        queue.pop_before(SimTime::MAX);
        queue.schedule(9, ());
    }
}
