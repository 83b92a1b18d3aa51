//! Experiments: running every variant of an experiment file and writing its results, and
//! estimating a run's cost before it starts. Sweeps run a grid of points with
//! replications ([`sweep`]), shards of one are combined by [`merge`], and [`plan`] searches
//! for the smallest resource meeting a service level.

pub mod estimate;
pub mod merge;
pub mod plan;
pub mod run;
pub mod sweep;

pub use estimate::Estimate;
pub use run::{RunOptions, VariantResult, run_experiment};
