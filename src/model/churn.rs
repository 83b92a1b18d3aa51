//! When a flaky connection drops on its own (`clients.churn`).
//!
//! A connection's drop is a pure function of the run's seed, the client and the instant
//! its connection was established. Every part of the world that needs a connection's end
//! (its establishment, a writer deciding whether a queued write is still wanted, a crash or
//! the horizon sweeping a queue) computes it again, so nothing is stored per connection
//! and a queued write stays 12 bytes. A client has one connection at a time, so the pair
//! names a connection, and its draws are independent of every other connection's.
//!
//! The two uniforms (flaky or not, and the life) come from a 64-bit mix of those numbers:
//! the SplitMix64 output function (Steele, Lea and Flood, "Fast splittable pseudorandom
//! number generators", OOPSLA 2014), which passes BigCrush on a counter, applied to the
//! counter `key ^ client ^ connected_at` mixed in turn. This is not a cryptographic
//! generator; it only needs to be uniform, independent across connections, and cheap.

use crate::config::ChurnPolicy;
use crate::engine::SimTime;

/// Draws the drop of each connection.
#[derive(Debug, Clone, Copy)]
pub struct Churn {
    flaky_share: f64,
    mean_connected_ns: f64,
    key: u64,
}

impl Churn {
    pub fn new(policy: ChurnPolicy, seed: u64) -> Self {
        Self {
            flaky_share: policy.flaky_share,
            mean_connected_ns: policy.mean_connected_ns,
            // Apart from the seed's other uses (each ChaCha stream is keyed by the seed).
            key: mix(seed ^ 0x6368_7572_6e00_0000),
        }
    }

    /// When the connection `client` established at `connected_at` drops, if it is flaky;
    /// at least a nanosecond after it was established.
    pub fn drops_at(&self, client: u32, connected_at: SimTime) -> Option<SimTime> {
        let first = mix(self.key ^ mix(u64::from(client) ^ mix(connected_at)));
        if unit(first) >= self.flaky_share {
            return None;
        }
        let second = mix(first);
        // Exponential by inversion; 1 - u is in (0, 1], so the logarithm is finite.
        let life_ns = -self.mean_connected_ns * (1.0 - unit(second)).ln();
        Some(connected_at.saturating_add((life_ns.round() as SimTime).max(1)))
    }
}

/// The SplitMix64 output function: a bijection of 64-bit words that spreads every input
/// bit over every output bit.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A word's top 53 bits as a uniform number in [0, 1).
fn unit(word: u64) -> f64 {
    (word >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn churn(share: f64, mean_s: f64) -> Churn {
        let policy = ChurnPolicy {
            flaky_share: share,
            mean_connected_ns: mean_s * 1e9,
        };
        Churn::new(policy, 7)
    }

    #[test]
    fn the_flaky_share_and_the_mean_life_are_as_configured() {
        let churn = churn(0.2, 3.0);
        let n = 1_000_000u32;
        let lives: Vec<f64> = (0..n)
            .filter_map(|client| {
                let at = u64::from(client) * 1_000;
                churn.drops_at(client, at).map(|d| (d - at) as f64 / 1e9)
            })
            .collect();
        let share = lives.len() as f64 / f64::from(n);
        // Binomial: σ = sqrt(0.2 × 0.8 / 1M) = 0.0004; 5σ = 0.002.
        assert!((share - 0.2).abs() < 0.002, "{share}");
        // Exponential: σ of the mean = 3 s / sqrt(200K) = 0.0067 s; 5σ = 0.034 s.
        let mean = lives.iter().sum::<f64>() / lives.len() as f64;
        assert!((mean - 3.0).abs() < 0.034, "{mean}");
        // P(life > mean) = e^-1 for an exponential.
        let above = lives.iter().filter(|&&l| l > 3.0).count() as f64 / lives.len() as f64;
        assert!((above - (-1.0f64).exp()).abs() < 0.006, "{above}");
    }

    #[test]
    fn a_connection_draws_the_same_drop_every_time_and_others_differ() {
        let churn = churn(1.0, 1.0);
        let a = churn.drops_at(5, 1_000);
        assert_eq!(a, churn.drops_at(5, 1_000));
        assert_ne!(a, churn.drops_at(5, 1_001));
        assert_ne!(a, churn.drops_at(6, 1_000));
        assert!(a.unwrap() > 1_000);
    }

    #[test]
    fn no_flaky_share_never_drops() {
        let churn = churn(1e-12, 1.0);
        assert!((0..100_000).all(|c| churn.drops_at(c, 0).is_none()));
    }
}
