//! Drawing service times from a configured distribution.

use rand_distr::{Distribution, Exp1, StandardNormal};

use crate::config::ServiceTime;
use crate::engine::{SimTime, Stream, round_to_nanos};

/// A service-time distribution prepared for fast sampling.
#[derive(Debug, Clone, Copy)]
pub enum ServiceSampler {
    Deterministic(SimTime),
    Exponential {
        mean_ns: f64,
    },
    /// `exp(mu + sigma * Z)`, with `mu` and `sigma` chosen to give the configured mean and
    /// coefficient of variation: `sigma² = ln(1 + cv²)`, `mu = ln(mean) - sigma² / 2`.
    LogNormal {
        mu: f64,
        sigma: f64,
    },
}

impl ServiceSampler {
    pub fn new(service: &ServiceTime) -> Self {
        match *service {
            ServiceTime::Deterministic { mean_ns } => {
                Self::Deterministic(mean_ns.round() as SimTime)
            }
            ServiceTime::Exponential { mean_ns } => Self::Exponential { mean_ns },
            ServiceTime::LogNormal { mean_ns, cv } => {
                let sigma_squared = (1.0 + cv * cv).ln();
                Self::LogNormal {
                    mu: mean_ns.ln() - sigma_squared / 2.0,
                    sigma: sigma_squared.sqrt(),
                }
            }
        }
    }

    /// One service time, rounded to the nearest nanosecond. A deterministic service draws
    /// nothing, so its stream stays untouched.
    #[inline]
    pub fn sample(&self, rng: &mut Stream) -> SimTime {
        let nanos = match *self {
            Self::Deterministic(nanos) => return nanos,
            Self::Exponential { mean_ns } => {
                let unit: f64 = Exp1.sample(rng);
                unit * mean_ns
            }
            Self::LogNormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                (mu + sigma * z).exp()
            }
        };
        round_to_nanos(nanos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RandomStreams;

    fn sample_mean_and_cv(service: ServiceTime) -> (f64, f64) {
        let sampler = ServiceSampler::new(&service);
        let mut rng = RandomStreams::new(3).stream(0, 0);
        let samples: Vec<f64> = (0..200_000)
            .map(|_| sampler.sample(&mut rng) as f64)
            .collect();
        let mean = samples.iter().sum::<f64>() / samples.len() as f64;
        let variance =
            samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / samples.len() as f64;
        (mean, variance.sqrt() / mean)
    }

    #[test]
    fn moments_match_the_configuration() {
        let (mean, cv) = sample_mean_and_cv(ServiceTime::Exponential { mean_ns: 10_000.0 });
        assert!((mean - 10_000.0).abs() < 100.0, "{mean}");
        assert!((cv - 1.0).abs() < 0.02, "{cv}");

        let (mean, cv) = sample_mean_and_cv(ServiceTime::LogNormal {
            mean_ns: 250_000.0,
            cv: 0.5,
        });
        assert!((mean - 250_000.0).abs() < 1_500.0, "{mean}");
        assert!((cv - 0.5).abs() < 0.02, "{cv}");

        let (mean, cv) = sample_mean_and_cv(ServiceTime::Deterministic { mean_ns: 7.4 });
        assert_eq!((mean, cv), (7.0, 0.0));
    }
}
