//! A fingerprint of a run's event trajectory.
//!
//! Every dispatched event's time and kind is folded into a 64-bit hash. Two runs with the
//! same fingerprint dispatched the same events at the same instants in the same order, so
//! a change to the model's behaviour shows up without comparing output files.
//!
//! The fold runs once per event, a billion times in a full storm, so it takes the event
//! as one word (the time rotated by a byte, the kind in the freed low byte: distinct for
//! every time below 2^56 ns, two years) and mixes it in with one multiplication by an odd
//! constant and one xor-shift, whose chain is a few cycles long; byte-wise FNV-1a, used
//! before, chained nine multiplications per event. Both steps are bijections of the
//! running hash, so an event that differs in time, kind or position changes the
//! fingerprint, except by a 64-bit coincidence.

use super::SimTime;

/// The starting hash (FNV-1a's offset basis, any non-zero constant would do).
const START: u64 = 0xcbf2_9ce4_8422_2325;
/// An odd multiplier with well-spread bits (the golden ratio's 64-bit fraction, rounded
/// to odd).
const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trajectory {
    hash: u64,
}

impl Default for Trajectory {
    fn default() -> Self {
        Self { hash: START }
    }
}

impl Trajectory {
    /// Folds one dispatched event into the fingerprint.
    #[inline]
    pub fn fold(&mut self, time: SimTime, kind: u8) {
        let event = time.rotate_left(8) ^ u64::from(kind);
        let hash = (self.hash ^ event).wrapping_mul(MULTIPLIER);
        self.hash = hash ^ (hash >> 29);
    }

    pub fn value(&self) -> u64 {
        self.hash
    }

    /// The fingerprint as 16 hexadecimal digits, as written in manifests.
    pub fn hex(&self) -> String {
        format!("{:016x}", self.hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_time_both_matter() {
        let mut a = Trajectory::default();
        a.fold(1, 0);
        a.fold(2, 1);

        let mut b = Trajectory::default();
        b.fold(2, 1);
        b.fold(1, 0);

        let mut c = Trajectory::default();
        c.fold(1, 0);
        c.fold(3, 1);

        assert_ne!(a, b);
        assert_ne!(a, c);

        // The kind counts apart from the time.
        let mut d = Trajectory::default();
        d.fold(1, 0);
        d.fold(2, 2);
        assert_ne!(a, d);
    }
}
