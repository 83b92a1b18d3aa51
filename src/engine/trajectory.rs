//! A fingerprint of a run's event trajectory.
//!
//! Every dispatched event's time and kind is folded into a 64-bit hash. Two runs with the
//! same fingerprint dispatched the same events at the same instants in the same order, so
//! a change to the model's behaviour shows up without comparing output files. The fold is
//! FNV-1a over the 8 bytes of the time and the 1 byte of the kind: simple, portable and
//! cheap enough for the hot loop.

use super::SimTime;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trajectory {
    hash: u64,
}

impl Default for Trajectory {
    fn default() -> Self {
        Self { hash: FNV_OFFSET }
    }
}

impl Trajectory {
    /// Folds one dispatched event into the fingerprint.
    #[inline]
    pub fn fold(&mut self, time: SimTime, kind: u8) {
        let mut hash = self.hash;
        for byte in time.to_le_bytes() {
            hash = (hash ^ u64::from(byte)).wrapping_mul(FNV_PRIME);
        }
        self.hash = (hash ^ u64::from(kind)).wrapping_mul(FNV_PRIME);
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
    }
}
