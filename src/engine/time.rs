//! Virtual time: an integer count of nanoseconds since the storm began.
//!
//! A `u64` of nanoseconds spans 584 years, far beyond any horizon, and integer time means
//! that adding a million service times gives exactly the same instant on every machine.
//! Floating point appears only at the edges: when a duration is drawn from a continuous
//! distribution (rounded to the nearest nanosecond) and when a result is printed.

/// An instant or a duration in virtual time, in nanoseconds.
pub type SimTime = u64;

pub const NANOS_PER_US: SimTime = 1_000;
pub const NANOS_PER_MS: SimTime = 1_000_000;
pub const NANOS_PER_S: SimTime = 1_000_000_000;

/// Converts seconds to virtual time, rounding to the nearest nanosecond.
///
/// Negative and NaN inputs are rejected by configuration validation before they get here;
/// the saturating cast keeps a stray one from wrapping around.
pub fn seconds(s: f64) -> SimTime {
    (s * NANOS_PER_S as f64).round() as SimTime
}

/// Rounds a non-negative duration in nanoseconds to the nearest nanosecond, halves up.
///
/// `f64::round` is a library call on the default x86-64 target, and this runs for every
/// drawn service time; adding one half and truncating is the same for the non-negative
/// values drawn here, and inlines to two instructions. Negative and NaN inputs give 0.
#[inline]
pub fn round_to_nanos(nanos: f64) -> SimTime {
    (nanos + 0.5) as SimTime
}

/// Converts virtual time to seconds, for reports.
pub fn to_seconds(t: SimTime) -> f64 {
    t as f64 / NANOS_PER_S as f64
}

/// Converts virtual time to milliseconds, for reports.
pub fn to_ms(t: SimTime) -> f64 {
    t as f64 / NANOS_PER_MS as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_round_trip() {
        assert_eq!(seconds(1.5), 1_500_000_000);
        assert_eq!(seconds(1e-9), 1);
        assert_eq!(to_seconds(seconds(60.0)), 60.0);
        assert_eq!(to_ms(2 * NANOS_PER_MS), 2.0);
        assert_eq!(round_to_nanos(2.5), 3);
        assert_eq!(round_to_nanos(2.49), 2);
        assert_eq!(round_to_nanos(-1.0), 0);
    }
}
