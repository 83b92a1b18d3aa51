//! The storm's arrival instants, generated in increasing order, one client at a time.
//!
//! For the random profiles, the `count` arrival instants are the order statistics of
//! `count` independent draws from the profile's density: the exact law of an
//! inhomogeneous Poisson process conditioned on `count` arrivals in the window. They are
//! generated in increasing order without storing or sorting them: if `E_1 ... E_{n+1}` are
//! independent unit exponentials and `S_k` their partial sums, then `S_k / S_{n+1}` are the
//! sorted uniforms, and the profile's inverse CDF maps them to instants. `S_{n+1}` is found
//! by a first pass over a clone of the stream, so memory stays constant at any count.

use rand_distr::{Distribution, Exp1};
use statrs::distribution::{ContinuousCDF, Normal};

use crate::config::ArrivalProfile;
use crate::engine::{NANOS_PER_S, SimTime, Stream};

/// Yields the arrival instants of every client, in increasing order.
pub struct Arrivals {
    count: u64,
    next_index: u64,
    window_ns: SimTime,
    shape: Shape,
    rng: Stream,
    /// `S_{n+1}`: the normalizer of the sorted uniforms.
    total: f64,
    /// `S_k` of the last generated arrival.
    partial_sum: f64,
}

/// The profile's inverse CDF, prepared.
enum Shape {
    Uniform,
    Poisson,
    Peak {
        normal: Normal,
        at_s: f64,
        spread_s: f64,
        cdf_start: f64,
        cdf_width: f64,
    },
    Piecewise(PiecewiseRate),
}

impl Arrivals {
    pub fn new(profile: &ArrivalProfile, count: u32, window_ns: SimTime, rng: Stream) -> Self {
        let window_s = window_ns as f64 / NANOS_PER_S as f64;
        let shape = match profile {
            ArrivalProfile::Uniform => Shape::Uniform,
            ArrivalProfile::Poisson => Shape::Poisson,
            ArrivalProfile::Peak { at_s, spread_s } => {
                let normal = Normal::new(0.0, 1.0).expect("the standard normal is valid");
                let cdf_start = normal.cdf(-at_s / spread_s);
                let cdf_end = normal.cdf((window_s - at_s) / spread_s);
                Shape::Peak {
                    normal,
                    at_s: *at_s,
                    spread_s: *spread_s,
                    cdf_start,
                    cdf_width: cdf_end - cdf_start,
                }
            }
            ArrivalProfile::Piecewise { points } => Shape::Piecewise(PiecewiseRate::new(points)),
        };
        let total = match shape {
            Shape::Uniform => 0.0,
            _ => sum_of_exponentials(&mut rng.clone(), u64::from(count) + 1),
        };
        Self {
            count: u64::from(count),
            next_index: 0,
            window_ns,
            shape,
            rng,
            total,
            partial_sum: 0.0,
        }
    }

    /// The next sorted uniform in `[0, 1)`.
    #[inline]
    fn next_uniform(&mut self) -> f64 {
        let unit: f64 = Exp1.sample(&mut self.rng);
        self.partial_sum += unit;
        (self.partial_sum / self.total).min(1.0 - f64::EPSILON)
    }

    /// Maps a fraction of the window (or a sorted uniform) to an instant.
    #[inline]
    fn to_instant(&self, fraction_of_window: f64) -> SimTime {
        let t = (fraction_of_window * self.window_ns as f64) as SimTime;
        t.min(self.window_ns - 1)
    }
}

fn sum_of_exponentials(rng: &mut Stream, n: u64) -> f64 {
    let mut sum = 0.0;
    for _ in 0..n {
        let unit: f64 = Exp1.sample(rng);
        sum += unit;
    }
    sum
}

impl Iterator for Arrivals {
    type Item = SimTime;

    fn next(&mut self) -> Option<SimTime> {
        if self.next_index == self.count {
            return None;
        }
        let index = self.next_index;
        self.next_index += 1;

        let window_s = self.window_ns as f64 / NANOS_PER_S as f64;
        let instant = match &self.shape {
            Shape::Uniform => {
                // The midpoints of `count` equal slices: (2i + 1) W / 2n, in integers.
                let numerator = (2 * u128::from(index) + 1) * u128::from(self.window_ns);
                return Some((numerator / (2 * u128::from(self.count))) as SimTime);
            }
            Shape::Poisson => {
                let u = self.next_uniform();
                self.to_instant(u)
            }
            Shape::Peak { .. } => {
                let u = self.next_uniform();
                let Shape::Peak {
                    normal,
                    at_s,
                    spread_s,
                    cdf_start,
                    cdf_width,
                } = &self.shape
                else {
                    unreachable!()
                };
                let z = normal.inverse_cdf(cdf_start + u * cdf_width);
                self.to_instant((at_s + spread_s * z) / window_s)
            }
            Shape::Piecewise(_) => {
                let u = self.next_uniform();
                let Shape::Piecewise(rate) = &mut self.shape else {
                    unreachable!()
                };
                let t_s = rate.inverse_cdf(u);
                self.to_instant(t_s / window_s)
            }
        };
        Some(instant)
    }
}

/// A piecewise-linear rate curve and the inverse of its normalized cumulative integral.
struct PiecewiseRate {
    points: Vec<(f64, f64)>,
    /// Cumulative mass at each point, normalized so the last is 1.
    cumulative: Vec<f64>,
    /// Area under the curve, in rate × seconds.
    total_mass: f64,
    /// Segment of the previous lookup: sorted uniforms only move forward.
    cursor: usize,
}

impl PiecewiseRate {
    fn new(points: &[(f64, f64)]) -> Self {
        let mut cumulative = vec![0.0];
        for pair in points.windows(2) {
            let ((t0, r0), (t1, r1)) = (pair[0], pair[1]);
            let last = *cumulative.last().expect("starts with one entry");
            cumulative.push(last + (r0 + r1) / 2.0 * (t1 - t0));
        }
        let total = *cumulative.last().expect("at least two points");
        cumulative.iter_mut().for_each(|c| *c /= total);
        Self {
            points: points.to_vec(),
            cumulative,
            total_mass: total,
            cursor: 0,
        }
    }

    /// The instant (seconds) where the normalized cumulative rate reaches `u`.
    fn inverse_cdf(&mut self, u: f64) -> f64 {
        while self.cursor + 2 < self.cumulative.len() && self.cumulative[self.cursor + 1] <= u {
            self.cursor += 1;
        }
        let segment = self.cursor;
        let (t0, r0) = self.points[segment];
        let (t1, r1) = self.points[segment + 1];

        // Mass still to cover inside this segment, in rate × seconds.
        let remaining = (u - self.cumulative[segment]) * self.total_mass;
        let slope = (r1 - r0) / (t1 - t0);
        // Solve r0 x + slope x² / 2 = remaining for x, in the form that stays accurate
        // when the slope is near zero.
        let root = (r0 * r0 + 2.0 * slope * remaining).max(0.0).sqrt();
        let x = if r0 + root > 0.0 {
            2.0 * remaining / (r0 + root)
        } else {
            0.0
        };
        (t0 + x).min(t1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{RandomStreams, seconds};

    fn collect(profile: ArrivalProfile, count: u32) -> Vec<SimTime> {
        let rng = RandomStreams::new(11).stream(0, 0);
        Arrivals::new(&profile, count, seconds(60.0), rng).collect()
    }

    #[test]
    fn every_profile_gives_count_sorted_instants_within_the_window() {
        let profiles = [
            ArrivalProfile::Uniform,
            ArrivalProfile::Poisson,
            ArrivalProfile::Peak {
                at_s: 10.0,
                spread_s: 5.0,
            },
            ArrivalProfile::Piecewise {
                points: vec![(0.0, 0.0), (20.0, 4.0), (60.0, 0.0)],
            },
        ];
        for profile in profiles {
            let instants = collect(profile.clone(), 10_000);
            assert_eq!(instants.len(), 10_000, "{profile:?}");
            assert!(instants.windows(2).all(|p| p[0] <= p[1]), "{profile:?}");
            assert!(*instants.last().unwrap() < seconds(60.0), "{profile:?}");
        }
    }

    #[test]
    fn uniform_is_evenly_spaced() {
        let instants = collect(ArrivalProfile::Uniform, 4);
        assert_eq!(
            instants,
            vec![seconds(7.5), seconds(22.5), seconds(37.5), seconds(52.5)]
        );
    }

    #[test]
    fn shapes_put_their_mass_where_expected() {
        let share_before = |instants: &[SimTime], t: f64| {
            instants.iter().filter(|&&x| x < seconds(t)).count() as f64 / instants.len() as f64
        };
        let poisson = collect(ArrivalProfile::Poisson, 100_000);
        assert!((share_before(&poisson, 30.0) - 0.5).abs() < 0.01);

        let peak = collect(
            ArrivalProfile::Peak {
                at_s: 30.0,
                spread_s: 5.0,
            },
            100_000,
        );
        assert!((share_before(&peak, 25.0) - 0.1587).abs() < 0.01);

        // A triangle rising to 20 s then falling to 60 s holds 1/3 of its mass before 20 s.
        let triangle = ArrivalProfile::Piecewise {
            points: vec![(0.0, 0.0), (20.0, 4.0), (60.0, 0.0)],
        };
        let instants = collect(triangle, 100_000);
        assert!((share_before(&instants, 20.0) - 1.0 / 3.0).abs() < 0.01);
    }
}
