//! The architecture under study, one file per component, wired together by [`world`].
//!
//! ```text
//!  arrivals ──► balancer ──► connection server ──► registry ──► Redis shard
//!  (storm)      (policy)     (accept queue,        (sync: on the    (FIFO, one op
//!                             handshake workers)    connect path;    at a time)
//!                                                   async: queued,
//!                                                   writer workers;
//!                                                   async-batched:
//!                                                   pipelines per
//!                                                   shard)
//!  messages: classified against each client's offline / miss-window / routed timeline;
//!  their lookups load the shards as Poisson read streams.
//! ```
//!
//! What is deliberately left out for now: disconnects of connected clients, network
//! latency between servers and shards, faults (server crashes, shard outages), the
//! registry strategies beyond `sync`, `async` and `async-batched`, and, within a
//! pipeline, writes applied one by one (all complete together) and lookups served between
//! them. A timeout here never cancels work: a
//! client that gives up leaves its handshake or registry write to run to the end (wasted
//! work, counted). So nothing can change a job's fate once it is queued, which is what
//! lets the stations compute each job's completion on arrival (see [`server`] and
//! [`shard`]) and makes every run exact without a general event path. The one
//! exception is a batch's linger under `async-batched`: a batch may close before it
//! ends (when it fills), so its end is an event that checks (see [`pipeline`]).

pub mod arrivals;
pub mod balancer;
pub mod keys;
pub mod messages;
pub mod pipeline;
pub mod retry;
pub mod server;
pub mod service;
pub mod shard;
pub mod world;

pub use world::{Progress, simulate};
