//! Everything one run measured, ready for the report layer.

use super::{LatencyHistogram, Tally};
use crate::engine::SimTime;

/// The results of one simulated run. Every field is a pure function of the scenario and
/// its seed.
pub struct RunOutcome {
    pub tally: Tally,
    pub connect_latency: LatencyHistogram,
    /// From a disconnect (a crash, a failed write or a drop) to the connection
    /// re-established.
    pub reconnect_latency: LatencyHistogram,
    pub registry_lag: LatencyHistogram,
    pub miss_delay: LatencyHistogram,
    pub messages_missed_undelivered: u64,
    /// Misses routed to a stale entry; included in the tally's missed messages.
    pub messages_missed_stale: u64,
    /// Misses whose entry's primary was down (included in `tally.messages_missed`).
    pub messages_missed_outage: u64,
    /// Writes that failed at a primary that was down (`redis.outage_mode = "fail"`),
    /// included in `tally.writes_lost`.
    pub writes_failed: u64,
    /// Connection attempts, first tries and retries.
    pub attempts: u64,
    pub rejected_server_full: u64,
    pub rejected_queue_full: u64,
    /// Handshakes that ended after their client had given up.
    pub wasted_handshakes: u64,
    /// Registry writes applied (or still pending) for a client that had given up.
    pub wasted_writes: u64,
    /// Admitted attempts that had to wait for a handshake worker.
    pub handshakes_waited: u64,
    /// Pipelines sent to the shards (`async-batched`; 0 otherwise).
    pub pipelines_sent: u64,
    /// Registry writes those pipelines carried.
    pub pipelined_writes: u64,
    pub lookups: u64,
    /// Connections that ended before the horizon: by a server crash, a failed write, or
    /// a drop of their own (`clients.churn`).
    pub disconnections: u64,
    /// Connections that dropped on their own (`clients.churn`), included in
    /// `disconnections`.
    pub connections_dropped: u64,
    /// Registry entries deleted by a server when a connection closed.
    pub deletes: u64,
    pub peak_handshake_queue: u64,
    pub peak_registry_queue: u64,
    pub peak_shard_queue: u64,
    pub shard_utilization_peak: f64,
    /// When the last registry write was applied, if every connected client was registered
    /// by the horizon.
    pub all_registered_at: Option<SimTime>,
    pub events: u64,
    pub fingerprint: String,
    pub series: SeriesColumns,
    /// The most connections one server held at the horizon (admitted clients, waiting,
    /// in a handshake or connected, less those that gave up).
    pub server_connections_max: u64,
    /// That maximum over the mean per server (0 when no server holds any): 1 is a
    /// perfect spread.
    pub server_load_imbalance: f64,
    /// Under `lazy`, first messages whose recipient's location the router did not know,
    /// each a broadcast query to every server.
    pub broadcast_queries: u64,
    /// The queries' messages: one per server per query.
    pub broadcast_messages: u64,
}

/// The time series as finished columns, one entry per bucket.
#[derive(Debug, Clone, Default)]
pub struct SeriesColumns {
    pub bucket_ns: SimTime,
    pub arrivals: Vec<u64>,
    pub retries: Vec<u64>,
    pub rejected: Vec<u64>,
    pub connected: Vec<u64>,
    pub registered: Vec<u64>,
    pub handshake_queue: Vec<f64>,
    pub registry_queue: Vec<f64>,
    pub shard_queue: Vec<f64>,
    pub shard_utilization: Vec<f64>,
    pub busiest_shard_utilization: Vec<f64>,
    pub messages_sent: Vec<u64>,
    pub messages_missed: Vec<u64>,
    pub disconnected: Vec<u64>,
    pub deregistered: Vec<u64>,
    /// Broadcast queries (`lazy`) started in the bucket.
    pub broadcast_queries: Vec<u64>,
}
