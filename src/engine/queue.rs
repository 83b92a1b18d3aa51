//! The pending-event set, ordered by time and then by scheduling order.
//!
//! Two events scheduled for the same nanosecond are dispatched in the order in which they
//! were scheduled (first in, first out), so the order is total and a run never depends on
//! how the queue happens to break ties. The radix heap underneath keeps equal times in
//! the order they were pushed (see `radix.rs`), so no sequence number is needed.

use super::SimTime;
use super::radix::RadixHeap;

/// An event waiting in the queue: when it is due, and what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scheduled<E> {
    pub time: SimTime,
    pub event: E,
}

/// A priority queue of future events with a deterministic order for simultaneous ones.
///
/// Events are small plain values (`Copy`) because the radix heap reads its lowest bucket in
/// place, by index, so that events scheduled at the current instant can join the back of
/// that bucket while it is consumed: an event is copied out, never moved.
pub struct EventQueue<E> {
    heap: RadixHeap<E>,
    now: SimTime,
    dispatched: u64,
}

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> EventQueue<E> {
    pub fn new() -> Self {
        Self {
            heap: RadixHeap::default(),
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
        assert!(
            time >= self.now,
            "event scheduled at {time} ns, before the current time {} ns",
            self.now
        );
        self.heap.push(time, event);
    }

    /// Removes and returns the next event if it is due strictly before `horizon`, and
    /// advances the clock to it. Events at or after the horizon stay queued, so the caller
    /// can count them as work still in progress.
    #[inline]
    pub fn pop_before(&mut self, horizon: SimTime) -> Option<Scheduled<E>> {
        if self.heap.min_time()? >= horizon {
            return None;
        }
        let (time, event) = self.heap.pop()?;
        self.now = time;
        self.dispatched += 1;
        Some(Scheduled { time, event })
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
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Empties the queue, handing over what was still pending, in dispatch order.
    pub fn drain_pending(&mut self) -> Vec<Scheduled<E>> {
        self.heap
            .drain_in_order()
            .into_iter()
            .map(|(time, event)| Scheduled { time, event })
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
    #[should_panic(expected = "before the current time")]
    fn scheduling_into_the_past_panics() {
        let mut queue = EventQueue::new();
        queue.schedule(10, ());
        queue.pop_before(SimTime::MAX);
        queue.schedule(9, ());
    }
}
