//! The load balancer in front of the connection servers.
//!
//! A server's connection count is what the balancer can see: clients it admitted, whether
//! still waiting for a handshake worker, in the handshake, or connected, less those that
//! gave up. Connected clients never disconnect in this model, so in a storm without
//! timeouts `least-connections` behaves as a round-robin that skips servers which rejected,
//! which is what a real balancer does in a storm too.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::Rng;

use crate::config::BalancerPolicy;
use crate::engine::Stream;

pub struct Balancer {
    policy: BalancerPolicy,
    servers: u32,
    rng: Stream,
    next_round_robin: u32,
    /// `(connections, server)` for `least-connections`, the smallest on top; ties go to the
    /// lowest server number so the choice never depends on heap internals. An entry whose
    /// count is no longer the server's is stale and dropped when it reaches the top (lazy
    /// deletion), so a change of count costs one push.
    least_loaded: BinaryHeap<Reverse<(u32, u32)>>,
}

impl Balancer {
    pub fn new(policy: BalancerPolicy, servers: u32, rng: Stream) -> Self {
        let least_loaded = match policy {
            BalancerPolicy::LeastConnections => (0..servers).map(|s| Reverse((0, s))).collect(),
            _ => BinaryHeap::new(),
        };
        Self {
            policy,
            servers,
            rng,
            next_round_robin: 0,
            least_loaded,
        }
    }

    /// Picks the server for the next client; `connections(s)` is server `s`'s count.
    #[inline]
    pub fn choose(&mut self, connections: impl Fn(u32) -> u32) -> u32 {
        match self.policy {
            BalancerPolicy::Random => self.rng.random_range(0..self.servers),
            BalancerPolicy::RoundRobin => {
                let server = self.next_round_robin;
                self.next_round_robin = (server + 1) % self.servers;
                server
            }
            BalancerPolicy::LeastConnections => loop {
                let Reverse((count, server)) = *self
                    .least_loaded
                    .peek()
                    .expect("every server has a current entry");
                if count == connections(server) {
                    break server;
                }
                self.least_loaded.pop();
            },
            BalancerPolicy::PowerOfTwo => {
                let first = self.rng.random_range(0..self.servers);
                let second = self.rng.random_range(0..self.servers);
                let first_key = (connections(first), first);
                let second_key = (connections(second), second);
                first_key.min(second_key).1
            }
        }
    }

    /// Tells the balancer that `server` now holds `connections_now` connections.
    #[inline]
    pub fn count_changed(&mut self, server: u32, connections_now: u32) {
        if self.policy == BalancerPolicy::LeastConnections {
            self.least_loaded.push(Reverse((connections_now, server)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RandomStreams;

    fn spread(policy: BalancerPolicy, clients: usize) -> Vec<u32> {
        let mut connections = vec![0u32; 4];
        let mut balancer = Balancer::new(policy, 4, RandomStreams::new(1).stream(0, 0));
        for _ in 0..clients {
            let server = balancer.choose(|s| connections[s as usize]) as usize;
            connections[server] += 1;
            balancer.count_changed(server as u32, connections[server]);
        }
        connections
    }

    #[test]
    fn deterministic_policies_spread_evenly() {
        assert_eq!(spread(BalancerPolicy::RoundRobin, 10), vec![3, 3, 2, 2]);
        assert_eq!(
            spread(BalancerPolicy::LeastConnections, 10),
            vec![3, 3, 2, 2]
        );
    }

    #[test]
    fn power_of_two_is_tighter_than_random() {
        let imbalance =
            |counts: Vec<u32>| counts.iter().max().unwrap() - counts.iter().min().unwrap();
        let random = imbalance(spread(BalancerPolicy::Random, 100_000));
        let two_choices = imbalance(spread(BalancerPolicy::PowerOfTwo, 100_000));
        assert!(two_choices < random, "{two_choices} vs {random}");
        assert!(two_choices <= 2);
    }
}
