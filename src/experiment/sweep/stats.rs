//! Means, standard deviations and Student-t confidence intervals across replications.
//!
//! Replications of a point are independent runs (distinct seeds), so their headline
//! figures are independent samples and the classic t interval applies: mean ± t(0.975,
//! n−1)·s/√n. Paired differences between variants use the same interval on the
//! per-replication differences, which is valid because both variants of a replication
//! share a seed.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// The two-sided confidence level of every interval stormsim reports.
pub const CONFIDENCE: f64 = 0.95;

/// The mean of a sample, its standard deviation, and the half-width of the 95%
/// confidence interval of the mean. With one value the last two are `NaN`: one run says
/// nothing about the spread.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    pub count: usize,
    pub mean: f64,
    pub sd: f64,
    pub ci95: f64,
}

impl Stats {
    /// Describes `values`, all of which must be finite.
    ///
    /// Sums are taken of the distances from the first value, which keeps the rounding
    /// error small when the spread is small next to the values, and makes the mean of
    /// identical values exactly that value (deterministic runs replicate exactly).
    pub fn of(values: &[f64]) -> Self {
        let count = values.len();
        let origin = values.first().copied().unwrap_or(0.0);
        let offset = values.iter().map(|v| v - origin).sum::<f64>() / count as f64;
        let mean = origin + offset;
        if count < 2 {
            return Self {
                count,
                mean,
                sd: f64::NAN,
                ci95: f64::NAN,
            };
        }

        let squares: f64 = values.iter().map(|v| (v - origin - offset).powi(2)).sum();
        let sd = (squares / (count - 1) as f64).sqrt();
        Self {
            count,
            mean,
            sd,
            ci95: t_quantile(count - 1) * sd / (count as f64).sqrt(),
        }
    }
}

/// The `(1 + CONFIDENCE) / 2` quantile of Student's t with `freedom` degrees of freedom.
pub fn t_quantile(freedom: usize) -> f64 {
    StudentsT::new(0.0, 1.0, freedom as f64)
        .expect("one or more degrees of freedom make a valid distribution")
        .inverse_cdf(0.5 + CONFIDENCE / 2.0)
}

/// A number as a table cell: the shortest text that reads back to the same `f64`, and
/// an empty cell for `NaN` (not measurable, such as the spread of one run).
pub fn cell(value: f64) -> String {
    if value.is_nan() {
        String::new()
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_the_printed_tables() {
        // Two-sided 95% critical values from any t table.
        for (freedom, expected) in [(1, 12.706), (4, 2.776), (9, 2.262), (30, 2.042)] {
            let t = t_quantile(freedom);
            assert!((t - expected).abs() < 5e-4, "t({freedom}) = {t}");
        }
    }

    #[test]
    fn describes_a_known_sample() {
        let stats = Stats::of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(stats.count, 8);
        assert_eq!(stats.mean, 5.0);
        // Sample variance 32 / 7.
        assert!((stats.sd - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        let expected = t_quantile(7) * stats.sd / 8f64.sqrt();
        assert!((stats.ci95 - expected).abs() < 1e-12);
    }

    #[test]
    fn identical_values_have_exactly_their_mean_and_no_spread() {
        let stats = Stats::of(&[14.352383; 3]);
        assert_eq!(stats.mean, 14.352383);
        assert_eq!(stats.sd, 0.0);
        assert_eq!(stats.ci95, 0.0);
    }

    #[test]
    fn one_value_has_no_spread() {
        let stats = Stats::of(&[3.5]);
        assert_eq!(stats.mean, 3.5);
        assert!(stats.sd.is_nan() && stats.ci95.is_nan());
        assert_eq!(cell(stats.sd), "");
        assert_eq!(cell(0.25), "0.25");
    }

    #[test]
    fn the_interval_covers_the_true_mean_about_95_times_in_100() {
        // 2,000 samples of 5 draws from a uniform distribution on [0, 1) (mean 0.5) from a
        // fixed-seed generator. Coverage is binomial(2000, 0.95): standard deviation 0.0049,
        // so 0.95 ± 0.02 is four standard deviations wide.
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let covered = (0..2000)
            .filter(|_| {
                let sample: Vec<f64> = (0..5).map(|_| rng.random::<f64>()).collect();
                let stats = Stats::of(&sample);
                (stats.mean - 0.5).abs() <= stats.ci95
            })
            .count();
        let coverage = covered as f64 / 2000.0;
        assert!((coverage - 0.95).abs() < 0.02, "coverage {coverage}");
    }
}
