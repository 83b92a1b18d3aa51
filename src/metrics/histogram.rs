//! Latency distributions with a bounded relative error, whatever the number of samples.
//!
//! Backed by HdrHistogram with three significant digits (0.1% relative error) from 1 ns
//! to about one day, so memory stays constant (a few hundred KiB) at 500M samples.

use hdrhistogram::Histogram;

use crate::engine::{NANOS_PER_S, SimTime, to_ms};

/// The quantiles written to `latency.csv`, in increasing order: every percent, so a CDF
/// drawn through them has no straight segment longer than one percent of the clients,
/// and the tails resolved down to one in a million at both ends.
pub fn reported_quantiles() -> Vec<f64> {
    const LOW_TAIL: [f64; 3] = [0.000001, 0.0001, 0.001];
    const HIGH_TAIL: [f64; 6] = [0.995, 0.999, 0.9995, 0.9999, 0.99999, 0.999999];
    let percents = (0..=99).map(|p| f64::from(p) / 100.0);
    let mut quantiles: Vec<f64> = percents.chain(LOW_TAIL).chain(HIGH_TAIL).collect();
    quantiles.push(1.0);
    quantiles.sort_by(f64::total_cmp);
    quantiles
}

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

    /// `(quantile, milliseconds)` pairs at [`reported_quantiles`], sorted by quantile.
    pub fn cdf_points(&self) -> Vec<(f64, f64)> {
        reported_quantiles()
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
