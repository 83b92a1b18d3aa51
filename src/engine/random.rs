//! Seeded random streams, one per model component.
//!
//! A run has one seed. Every component (the arrivals, the balancer, each connection
//! server's handshake times, each shard's service times, the messages, ...) gets its own
//! ChaCha8 stream: the key comes from the seed and the stream number from the component's
//! identity, never from a thread or from the order in which components ask. So variants
//! that differ only in, say, the registry strategy see the very same storm (common random
//! numbers), and a component's draws never shift because another one drew more or less.
//!
//! ChaCha8 is used because its output is specified and portable across platforms and
//! releases of `rand_chacha`, unlike `StdRng`, and because it is fast enough for the hot
//! path (a few nanoseconds per draw).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The generator every component draws from.
pub type Stream = ChaCha8Rng;

/// Hands out independent streams derived from one run seed.
#[derive(Debug, Clone, Copy)]
pub struct RandomStreams {
    seed: u64,
}

impl RandomStreams {
    pub fn new(seed: u64) -> Self {
        Self { seed }
    }

    /// The stream of component `component` (a small constant naming the kind of component)
    /// and instance `index` (which server, which shard). Distinct `(component, index)`
    /// pairs give independent streams.
    pub fn stream(&self, component: u32, index: u32) -> Stream {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream((u64::from(component) << 32) | u64::from(index));
        rng
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn same_seed_and_identity_give_the_same_draws() {
        let streams = RandomStreams::new(7);
        let a: Vec<u64> = (0..4).map(|_| streams.stream(1, 2).random()).collect();
        let b: Vec<u64> = (0..4).map(|_| streams.stream(1, 2).random()).collect();
        assert_eq!(a, b);
    }

    #[test]
    fn different_components_and_indices_differ() {
        let streams = RandomStreams::new(7);
        let x: u64 = streams.stream(1, 2).random();
        let y: u64 = streams.stream(1, 3).random();
        let z: u64 = streams.stream(2, 2).random();
        assert_ne!(x, y);
        assert_ne!(x, z);
        assert_ne!(y, z);
    }

    #[test]
    fn pinned_value_for_a_fixed_seed() {
        // ChaCha8 output is specified, so this value may only change deliberately (a new
        // derivation scheme), never by a dependency update.
        let first: u64 = RandomStreams::new(42).stream(0, 0).random();
        assert_eq!(first, PINNED_FIRST_DRAW);
    }

    const PINNED_FIRST_DRAW: u64 = 12_578_764_544_318_200_737;
}
