//! Latency distributions with a bounded relative error, whatever the number of samples.
//!
//! Backed by HdrHistogram with three significant digits (0.1% relative error) from 1 ns
//! to about one day, so memory stays constant (a few hundred KiB) at 500M samples.

use hdrhistogram::Histogram;

use crate::engine::{NANOS_PER_S, SimTime, to_ms};

/// The quantiles written to `latency.csv`: dense enough for a smooth CDF, with the tail
/// resolved down to one in a million.
pub const REPORTED_QUANTILES: [f64; 27] = [
    0.0, 0.01, 0.05, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 0.95, 0.97, 0.98,
    0.99, 0.995, 0.999, 0.9995, 0.9999, 0.99999, 0.999999, 1.0, 0.15, 0.35,
];

/// Largest value kept exactly; larger ones are clamped to it (and counted as such by the
/// underlying histogram's saturation).
const HIGHEST_NS: u64 = 86_400 * NANOS_PER_S;

pub struct LatencyHistogram {
    histogram: Histogram<u64>,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self {
            histogram: Histogram::new_with_bounds(1, HIGHEST_NS, 3)
                .expect("the bounds are valid constants"),
        }
    }
}

impl LatencyHistogram {
    #[inline]
    pub fn record(&mut self, value: SimTime) {
        self.histogram.saturating_record(value);
    }

    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    /// The value at quantile `q` in milliseconds, or 0 when nothing was recorded.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.histogram.is_empty() {
            return 0.0;
        }
        to_ms(self.histogram.value_at_quantile(q))
    }

    pub fn max_ms(&self) -> f64 {
        if self.histogram.is_empty() {
            return 0.0;
        }
        to_ms(self.histogram.max())
    }

    pub fn mean_ms(&self) -> f64 {
        if self.histogram.is_empty() {
            return 0.0;
        }
        self.histogram.mean() / 1e6
    }

    /// `(quantile, milliseconds)` pairs at [`REPORTED_QUANTILES`], sorted by quantile.
    pub fn cdf_points(&self) -> Vec<(f64, f64)> {
        let mut quantiles = REPORTED_QUANTILES.to_vec();
        quantiles.sort_by(f64::total_cmp);
        quantiles
            .into_iter()
            .map(|q| (q, self.quantile_ms(q)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_within_a_tenth_of_a_percent() {
        let mut histogram = LatencyHistogram::default();
        for value in 1..=1_000_000u64 {
            histogram.record(value * 1_000);
        }
        let p50 = histogram.quantile_ms(0.5);
        assert!((p50 - 500.0).abs() / 500.0 < 1e-3, "{p50}");
        assert!((histogram.max_ms() - 1000.0).abs() / 1000.0 < 1e-3);
    }

    #[test]
    fn empty_histogram_reports_zero() {
        let histogram = LatencyHistogram::default();
        assert_eq!(histogram.quantile_ms(0.99), 0.0);
        assert_eq!(histogram.count(), 0);
    }
}
