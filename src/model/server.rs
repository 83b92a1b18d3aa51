//! A connection server: an accept queue in front of a pool of handshake workers.
//!
//! Handshakes are served first come, first served by `workers` identical workers, so a
//! client's start and end are fixed the moment it is admitted: it starts when it arrives
//! or when the earliest worker frees up, whichever is later (the Kiefer-Wolfowitz
//! recursion of a multi-server FIFO queue). Nothing can change a handshake's fate once it
//! is admitted in this model, which is what makes computing it ahead exact and saves a
//! queue and an event per client.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use crate::engine::{SimTime, Stream};

use super::service::ServiceSampler;

/// Why a client was turned away at the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// The server already holds `max_connections`.
    ServerFull,
    /// `accept_queue` clients were already waiting for a worker.
    QueueFull,
}

/// When an admitted client's handshake runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handshake {
    pub start: SimTime,
    pub done: SimTime,
}

pub struct ConnectionServer {
    /// When each worker finishes its current handshake, earliest on top. Workers are
    /// identical, so which one serves a client changes nothing: only the earliest free
    /// time matters. The heap reads it at once and puts the worker's next free time back
    /// in a logarithmic number of steps (five for the default 32 workers), where a scan
    /// reads every worker.
    worker_free_at: BinaryHeap<Reverse<SimTime>>,
    /// Start times of admitted clients still waiting for a worker; FIFO service makes start
    /// times non-decreasing, so the ones that have started are always at the front.
    waiting: VecDeque<SimTime>,
    /// Clients admitted so far (waiting, in handshake or connected).
    pub connections: u32,
    /// When the server crashes (`SimTime::MAX`: never). It is known from the start, so a
    /// handshake or write can learn on admission whether the crash will cut it off.
    pub crashes_at: SimTime,
    rng: Stream,
}

impl ConnectionServer {
    pub fn new(workers: u32, rng: Stream) -> Self {
        Self {
            worker_free_at: std::iter::repeat_n(Reverse(0), workers as usize).collect(),
            waiting: VecDeque::new(),
            connections: 0,
            crashes_at: SimTime::MAX,
            rng,
        }
    }

    /// Admits or rejects a client arriving at `now`.
    #[inline]
    pub fn admit(
        &mut self,
        now: SimTime,
        max_connections: u32,
        accept_queue: u32,
        service: &ServiceSampler,
    ) -> Result<Handshake, Rejection> {
        while self.waiting.front().is_some_and(|&start| start <= now) {
            self.waiting.pop_front();
        }
        if self.connections >= max_connections {
            return Err(Rejection::ServerFull);
        }

        let Some(mut earliest) = self.worker_free_at.peek_mut() else {
            unreachable!("validation keeps at least one handshake worker")
        };
        let start = earliest.0.max(now);
        if start > now && self.waiting.len() >= accept_queue as usize {
            return Err(Rejection::QueueFull);
        }

        let done = start.saturating_add(service.sample(&mut self.rng));
        *earliest = Reverse(done);
        drop(earliest);
        if start > now {
            self.waiting.push_back(start);
        }
        self.connections += 1;
        Ok(Handshake { start, done })
    }

    /// A client that was admitted gave up; its connection closes.
    pub fn abandon(&mut self) {
        self.connections -= 1;
    }

    /// Clients waiting for a worker as of the last admission.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RandomStreams;
    use rand::Rng;

    fn server(workers: u32) -> (ConnectionServer, ServiceSampler) {
        let rng = RandomStreams::new(1).stream(0, 0);
        (
            ConnectionServer::new(workers, rng),
            ServiceSampler::Deterministic(10),
        )
    }

    #[test]
    fn two_workers_serve_in_arrival_order() {
        let (mut server, service) = server(2);
        let outcomes: Vec<_> = [0, 0, 0, 5]
            .iter()
            .map(|&t| server.admit(t, 100, 100, &service).unwrap())
            .collect();
        assert_eq!(
            outcomes,
            vec![
                Handshake { start: 0, done: 10 },
                Handshake { start: 0, done: 10 },
                Handshake {
                    start: 10,
                    done: 20
                },
                Handshake {
                    start: 10,
                    done: 20
                },
            ]
        );
    }

    #[test]
    fn full_queue_and_full_server_reject() {
        let (mut server, service) = server(1);
        assert!(server.admit(0, 100, 1, &service).is_ok());
        assert!(server.admit(0, 100, 1, &service).is_ok());
        assert_eq!(server.admit(1, 100, 1, &service), Err(Rejection::QueueFull));
        // At 10 the waiting client starts, so the queue has room again.
        assert!(server.admit(10, 100, 1, &service).is_ok());
        assert_eq!(server.admit(30, 3, 1, &service), Err(Rejection::ServerFull));
    }

    #[test]
    fn the_heap_starts_each_handshake_when_a_scan_of_the_workers_would() {
        // The reference: each client starts at the earliest time any worker is free (a
        // scan of all of them), or on arrival if later; service times from the same stream.
        for workers in [1, 2, 3, 7, 32] {
            let streams = RandomStreams::new(u64::from(workers));
            let service = ServiceSampler::Exponential { mean_ns: 150.0 };
            let mut server = ConnectionServer::new(workers, streams.stream(0, 0));
            let mut reference_rng = streams.stream(0, 0);
            let mut free_at = vec![0; workers as usize];
            let mut arrivals = streams.stream(1, 0);
            let mut now = 0;
            for _ in 0..20_000 {
                now += arrivals.random_range(0..40 / workers as u64 + 1);
                let earliest = (0..free_at.len()).min_by_key(|&w| free_at[w]).unwrap();
                let start = free_at[earliest].max(now);
                let done = start + service.sample(&mut reference_rng);
                free_at[earliest] = done;
                assert_eq!(
                    server.admit(now, u32::MAX, u32::MAX, &service),
                    Ok(Handshake { start, done }),
                    "{workers} workers"
                );
            }
        }
    }
}
