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
//!                                                   shard;
//!                                                   coalesced: as
//!                                                   async, outdated
//!                                                   writes dropped;
//!                                                   placement: none, a
//!                                                   hash ring places users;
//!                                                   lazy: none, broadcast
//!                                                   on a first message)
//!  messages: classified against each client's offline / miss-window / routed timeline;
//!  their lookups load the shards as Poisson read streams.
//! ```
//!
//! Connections end by a server crash, by a registry write that failed at a primary that
//! was down, or on their own (`clients.churn`, see [`churn`]). What is deliberately left
//! out for now: a client that closes its connection for good (every drop reconnects),
//! operations overtaking each other on the network to a primary, the capacity of the servers
//! answering `lazy`'s broadcast queries, the invalidation of the router's cache under
//! `lazy` other than by a crash, and, within a pipeline, writes applied one by one (all
//! complete together) and lookups served between them. A timeout here never cancels work:
//! a client that gives up leaves its handshake or registry write to run to the end
//! (wasted work, counted). Server crashes and primary outages do change fates, but their
//! instants are declared in the scenario, and a connection's drop is a function of the
//! connection (see [`churn`]), so a job learns on admission whether one will cut it off
//! or hold it back. So nothing changes a job's fate in a way unknown
//! when it is queued, which is what lets the stations compute each job's completion on
//! arrival (see [`server`] and [`shard`]) and makes every run exact without a general
//! event path. The exceptions are a batch's linger under `async-batched`, since a batch
//! may close before it ends (when it fills), so its end is an event that checks (see
//! [`pipeline`]), the writes queued on a server when it crashes, and a connection's drop,
//! whose disconnect (the delete of its entry, the reconnect) is an event. A client whose
//! timeline is not settled in one go (a failed attempt, a disconnect) keeps a
//! [`timeline::History`].

pub mod arrivals;
pub mod balancer;
pub mod churn;
pub mod fifo;
pub mod keys;
pub mod messages;
pub mod pipeline;
pub mod retry;
pub mod ring;
pub mod server;
pub mod service;
pub mod shard;
pub mod timeline;
pub mod world;

pub use world::{Progress, simulate};
