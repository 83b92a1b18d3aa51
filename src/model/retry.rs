//! The retry back-off: how long a client waits before its next attempt.

use rand::Rng;

use crate::config::{Jitter, RetryPolicy};
use crate::engine::{SimTime, Stream, round_to_nanos};

/// Draws back-off delays for one policy from the retries' own stream.
pub struct Backoff {
    policy: RetryPolicy,
    rng: Stream,
}

impl Backoff {
    pub fn new(policy: RetryPolicy, rng: Stream) -> Self {
        Self { policy, rng }
    }

    pub fn max_attempts(&self) -> u32 {
        self.policy.max_attempts
    }

    /// The delay after failed attempt number `failed` (1 for the first attempt);
    /// `previous` is the delay drawn before it (0 if none), which only the decorrelated
    /// mode uses.
    pub fn delay(&mut self, failed: u32, previous: SimTime) -> SimTime {
        let policy = &self.policy;
        let cap = policy.max_backoff_ns as f64;
        let exponential =
            (policy.initial_backoff_ns as f64 * policy.multiplier.powi(failed as i32 - 1)).min(cap);
        let delay = match policy.jitter {
            Jitter::None => exponential,
            Jitter::Full => self.rng.random::<f64>() * exponential,
            Jitter::Equal => exponential / 2.0 + self.rng.random::<f64>() * exponential / 2.0,
            Jitter::Decorrelated => {
                let low = policy.initial_backoff_ns as f64;
                let high = (previous as f64 * 3.0).max(low);
                (low + self.rng.random::<f64>() * (high - low)).min(cap)
            }
        };
        round_to_nanos(delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::retry::RetrySpec;
    use crate::engine::RandomStreams;

    fn backoff(jitter: &str) -> Backoff {
        let spec = RetrySpec {
            jitter: jitter.into(),
            max_attempts: 10,
            ..RetrySpec::default()
        };
        Backoff::new(
            RetryPolicy::resolve(&spec).unwrap(),
            RandomStreams::new(1).stream(0, 0),
        )
    }

    #[test]
    fn no_jitter_grows_geometrically_to_the_cap() {
        let mut backoff = backoff("none");
        assert_eq!(backoff.delay(1, 0), 1_000_000_000);
        assert_eq!(backoff.delay(2, 0), 1_600_000_000);
        assert_eq!(backoff.delay(30, 0), 120_000_000_000);
    }

    #[test]
    fn jitter_modes_stay_in_their_ranges() {
        let (mut full, mut equal, mut decorrelated) =
            (backoff("full"), backoff("equal"), backoff("decorrelated"));
        for _ in 0..1_000 {
            assert!(full.delay(3, 0) <= 2_560_000_000);
            assert!((1_280_000_000..=2_560_000_000).contains(&equal.delay(3, 0)));
            let next = decorrelated.delay(3, 2_000_000_000);
            assert!((1_000_000_000..=6_000_000_000).contains(&next));
        }
    }
}
