//! What a run measures: counters, latency histograms, time series and the conservation
//! laws that every run checks before it reports.
//!
//! The model records into these types and never prints; the report layer reads them.

mod buckets;
mod conservation;
mod histogram;
mod intervals;
mod outcome;
mod timeseries;

pub use buckets::Buckets;
pub use conservation::{ConservationError, Tally};
pub use histogram::{LatencyHistogram, reported_quantiles};
pub use intervals::IntervalAccumulator;
pub use outcome::{RunOutcome, SeriesColumns};
pub use timeseries::{BucketMax, TimeSeries};
