//! Validation against queueing theory: degenerate scenarios that isolate one component of
//! the model, compared with the closed forms of queueing theory under intervals derived
//! from replications. Run `cargo test --test validation -- --nocapture` to see each
//! case's table: the theoretical value, the simulated one and its interval.
//!
//! The scenarios live in `experiments/validation/`, where `stormsim run` runs them too.
//! A module per theme:
//!
//! - [`shard`]: a Redis shard as M/M/1 and M/D/1;
//! - [`handshake`]: a connection server's handshake workers as M/M/c (Erlang C);
//! - [`accept_queue`]: a finite accept queue as M/M/c/K;
//! - [`little`]: Little's law on every queue of a small storm;
//! - [`fluid`]: the fluid limit of an overloaded shard.
//!
//! [`theory`] holds the reference formulas with their sources, [`replicate`] runs the
//! scenarios over seeds, and [`report`] turns replications into intervals and tables.

#[path = "validation/accept_queue.rs"]
mod accept_queue;
#[path = "validation/fluid.rs"]
mod fluid;
#[path = "validation/handshake.rs"]
mod handshake;
#[path = "validation/little.rs"]
mod little;
#[path = "validation/replicate.rs"]
mod replicate;
#[path = "validation/report.rs"]
mod report;
#[path = "validation/shard.rs"]
mod shard;
#[path = "validation/theory.rs"]
mod theory;
