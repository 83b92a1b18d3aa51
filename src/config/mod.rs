//! Scenarios: what the user writes, and what the model is allowed to see.
//!
//! Configuration has two layers. [`schema`] holds the TOML schema as the user writes it:
//! every key optional, every default written down with its source. [`resolve`] turns it
//! into a [`Scenario`]: defaults applied, units converted to nanoseconds, every range
//! checked. The model only ever accepts a `Scenario`, so a value it sees is a value that
//! was validated.
//!
//! An experiment file ([`experiment`]) is a base scenario plus named variants that
//! override keys; `--set key=value` overrides apply on top of every variant.

pub mod churn;
pub mod error;
pub mod experiment;
pub mod faults;
pub mod overrides;
pub mod resolve;
pub mod retry;
pub mod schema;

pub use churn::ChurnPolicy;
pub use error::ConfigError;
pub use experiment::{Experiment, Variant};
pub use faults::{ServerCrash, ShardOutage};
pub use resolve::{
    ArrivalProfile, BalancerPolicy, Batching, KeyLayout, OnDisconnect, OutageMode, RateBasis,
    RegistryStrategy, Scenario, ServiceTime,
};
pub use retry::{Jitter, RetryPolicy};
