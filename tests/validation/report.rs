//! Estimates with their intervals, and the table each validation prints and asserts.
//!
//! A replicated quantity is estimated by the mean of independent replications with a
//! Student-t interval at [`CONFIDENCE`]; the replications are independent because each
//! has its own seed, and each replication's value is an average over a long run, so the
//! t interval is accurate even when single observations are far from normal. The
//! confidence is 99.9% rather than 95% because a suite makes a few dozen comparisons:
//! at 99.9% the chance that any true value falls outside its interval at design time is a
//! few percent, while at 95% some case would be expected to fail.

use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

/// Two-sided confidence of every interval in the suite.
pub const CONFIDENCE: f64 = 0.999;

/// A simulated value and the interval the true value must lie in.
#[derive(Debug, Clone, Copy)]
pub struct Estimate {
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

impl Estimate {
    /// The mean of `samples` with its Student-t interval at [`CONFIDENCE`].
    pub fn from_replications(samples: &[f64]) -> Self {
        let n = samples.len() as f64;
        assert!(samples.len() >= 2, "an interval needs two replications");
        let mean = samples.iter().sum::<f64>() / n;
        let variance = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let t = StudentsT::new(0.0, 1.0, n - 1.0)
            .expect("degrees of freedom are positive")
            .inverse_cdf(0.5 + CONFIDENCE / 2.0);
        Self::around(mean, t * (variance / n).sqrt())
    }

    /// A normally distributed `value` with its interval at [`CONFIDENCE`].
    pub fn normal(value: f64, standard_error: f64) -> Self {
        let z = Normal::new(0.0, 1.0)
            .expect("the standard normal is valid")
            .inverse_cdf(0.5 + CONFIDENCE / 2.0);
        Self::around(value, z * standard_error)
    }

    /// `value ± half_width`.
    pub fn around(value: f64, half_width: f64) -> Self {
        Self {
            value,
            low: value - half_width,
            high: value + half_width,
        }
    }

    /// The same interval widened on both sides by a bounded measurement error (such as a
    /// histogram's resolution) that replication cannot average away.
    pub fn widened(self, by: f64) -> Self {
        Self {
            low: self.low - by,
            high: self.high + by,
            ..self
        }
    }

    /// The same estimate in other units.
    pub fn scaled(self, factor: f64) -> Self {
        Self {
            value: self.value * factor,
            low: self.low * factor,
            high: self.high * factor,
        }
    }

    pub fn contains(&self, x: f64) -> bool {
        self.low <= x && x <= self.high
    }
}

/// One comparison: what theory says and what the simulator gave.
struct Row {
    case: String,
    quantity: String,
    theory: f64,
    simulated: Estimate,
}

/// The rows of one validation, printed as a table and then asserted together, so a
/// failure still shows every case.
pub struct Report {
    title: String,
    rows: Vec<Row>,
}

impl Report {
    pub fn new(title: &str) -> Self {
        Self {
            title: title.to_string(),
            rows: Vec::new(),
        }
    }

    pub fn compare(&mut self, case: &str, quantity: &str, theory: f64, simulated: Estimate) {
        self.rows.push(Row {
            case: case.to_string(),
            quantity: quantity.to_string(),
            theory,
            simulated,
        });
    }

    /// Prints the table (one write, so parallel tests do not interleave it) and fails if
    /// any theoretical value lies outside its interval.
    pub fn finish(self) {
        let mut table = format!(
            "\n{}\n{:<28} {:<30} {:>12} {:>12} {:>27}  ok\n",
            self.title, "case", "quantity", "theory", "simulated", "interval"
        );
        for row in &self.rows {
            let ok = if row.simulated.contains(row.theory) {
                "yes"
            } else {
                "NO"
            };
            table += &format!(
                "{:<28} {:<30} {:>12} {:>12} [{:>12}, {:>12}]  {ok}\n",
                row.case,
                row.quantity,
                significant(row.theory),
                significant(row.simulated.value),
                significant(row.simulated.low),
                significant(row.simulated.high),
            );
        }
        println!("{table}");

        let failures: Vec<String> = self
            .rows
            .iter()
            .filter(|row| !row.simulated.contains(row.theory))
            .map(|row| format!("{} {}", row.case, row.quantity))
            .collect();
        assert!(failures.is_empty(), "outside the interval: {failures:?}");
    }
}

/// Six significant digits, in plain or scientific notation as the magnitude suits.
fn significant(x: f64) -> String {
    if x != 0.0 && (x.abs() >= 1e6 || x.abs() < 1e-3) {
        format!("{x:.5e}")
    } else {
        let decimals = (5 - x.abs().log10().floor().max(0.0) as i32).max(0) as usize;
        format!("{x:.decimals$}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn student_interval_matches_a_hand_computation() {
        // Mean 2, sample standard deviation 1, n = 4: t(0.9995, 3) = 12.924.
        let estimate = Estimate::from_replications(&[1.0, 2.0, 3.0, 2.0]);
        let half_width = 12.924 * (2.0f64 / 3.0).sqrt() / 2.0;
        assert!((estimate.value - 2.0).abs() < 1e-12);
        assert!(
            (estimate.high - 2.0 - half_width).abs() < 1e-3,
            "{estimate:?}"
        );
        assert!(estimate.contains(2.0 + 0.99 * half_width));
        assert!(!estimate.contains(2.0 + 1.01 * half_width));
    }
}
