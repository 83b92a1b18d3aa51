//! The architecture under study, one file per component, wired together by [`world`].
//!
//! ```text
//!  arrivals ──► balancer ──► connection server ──► registry ──► Redis shard
//!  (storm)      (policy)     (accept queue,        (sync: on the    (FIFO, one op
//!                             handshake workers)    connect path;    at a time)
//!                                                   async: queued,
//!                                                   writer workers)
//!  messages: classified against each client's offline / miss-window / routed timeline;
//!  their lookups load the shards as Poisson read streams.
//! ```
//!
//! What is deliberately left out for now: disconnects and reconnects, connect timeouts and
//! retries, network latency between servers and shards, and faults. Without timeouts
//! nothing can change a job's fate once it is queued, which is what lets the stations
//! compute each job's completion on arrival (see [`server`] and [`shard`]).

pub mod arrivals;
pub mod balancer;
pub mod keys;
pub mod messages;
pub mod server;
pub mod service;
pub mod shard;
pub mod world;

pub use world::{Progress, simulate};
