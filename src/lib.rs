//! # stormsim
//!
//! A deterministic discrete-event simulator of a chat system's connection storm: hundreds
//! of millions of clients reconnecting at once, each connection causing a write to the
//! connection registry (Redis) that the message router needs. stormsim compares registry
//! strategies client by client, in virtual time, and measures connect latency, registry
//! lag, queue depths and message misses.
//!
//! ## The layers
//!
//! ```text
//! cli ──► experiment (run, estimate) ──► model ──► engine
//!  │            │                          │
//!  │            └──► report (csv, manifest) └──► metrics
//!  └──► config (schema, resolution, overrides)
//! ```
//!
//! - [`engine`]: virtual time in integer nanoseconds, the event queue, random streams.
//!   Knows nothing of the domain.
//! - [`model`]: the architecture: arrivals, balancer, connection servers, registry, Redis
//!   shards, messages, and the [`model::world`] that wires them.
//! - [`metrics`]: histograms, time series and conservation laws the model records into.
//! - [`config`]: the TOML schema, its defaults and their sources, validation.
//! - [`experiment`]: runs every variant of an experiment file.
//! - [`report`]: CSV files and manifests, written atomically.
//!
//! ## The life of one client
//!
//! A client arrives at an instant drawn from the storm's profile. The balancer sends it to
//! a connection server, which rejects it (server full, accept queue full) or queues it for
//! a handshake worker. When the handshake ends, the `sync` strategy writes the registry
//! entry to the user's Redis shard and only then counts the client as connected; `async`
//! counts it connected at once and queues the write for the server's registry writers;
//! `async-batched` does the same but groups the queued writes into per-shard pipelines.
//! Between connection and registration, messages to the user miss. `placement` and
//! `lazy` write nothing: under `placement` the balancer is a consistent-hash ring the
//! router can compute, under `lazy` the router asks every server on the user's first
//! message; neither misses.
//!
//! Clients may time out and retry with a back-off; connection servers may crash and Redis
//! primaries go down until their replica is promoted, at instants the scenario declares;
//! a network round trip may separate servers from primaries. Each of these can feed the
//! storm: retries, reconnects and stuck writers add load where it already hurts.
//!
//! ## Determinism
//!
//! Events at the same nanosecond run in scheduling order; every component draws from its
//! own ChaCha stream derived from the run's seed. The same scenario and seed give
//! byte-identical CSV output on any machine and with any number of threads.
//!
//! ## Example
//!
//! ```
//! use stormsim::config::Experiment;
//! use stormsim::model::simulate;
//!
//! let text = r#"
//!     [clients]
//!     count = 2000
//!     window_s = 1
//!     [connection_servers]
//!     count = 4
//!     [redis]
//!     shards = 2
//!     [run]
//!     horizon_s = 5
//! "#;
//! let experiment = Experiment::parse("example", "example.toml", text, &[]).unwrap();
//! let outcome = simulate(&experiment.variants[0].scenario, &mut ());
//! outcome.tally.check().unwrap();
//! assert_eq!(outcome.tally.clients_connected, 2000);
//! ```

pub mod cli;
pub mod config;
pub mod engine;
pub mod experiment;
pub mod metrics;
pub mod model;
pub mod report;
