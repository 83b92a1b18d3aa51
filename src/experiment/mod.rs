//! Experiments: running every variant of an experiment file and writing its results, and
//! estimating a run's cost before it starts.

pub mod estimate;
pub mod run;

pub use estimate::Estimate;
pub use run::{RunOptions, VariantResult, run_experiment};
