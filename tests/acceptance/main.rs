//! Acceptance tests: the simulator as a user meets it, through the real `stormsim` binary
//! wherever the behaviour is visible from the command line.
//!
//! One integration binary, one module per theme. Every scenario is small (at most tens of
//! thousands of clients), so the whole binary runs in seconds; every run it makes is also
//! checked for the conservation laws and for leftover temporary files (see [`common`]).

mod bad_input;
mod commands;
mod common;
mod determinism;
mod interruption;
mod storm;
mod tie_rules;
