//! The one-row summary of a run: the headline figures a design review compares.

use serde::{Deserialize, Serialize};

use crate::config::Scenario;
use crate::engine::to_seconds;
use crate::metrics::RunOutcome;

/// One row of `summary.csv`. Times are in milliseconds unless the name says otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    pub variant: String,
    pub strategy: String,
    pub seed: u64,
    pub clients: u64,
    pub connected: u64,
    /// Connection attempts rejected at the door (server full or accept queue full).
    pub rejected: u64,
    /// Clients that stopped trying for good.
    pub clients_gave_up: u64,
    pub in_progress: u64,
    /// Attempts (first tries and retries) per client.
    pub attempts_per_client: f64,
    pub connect_p50_ms: f64,
    pub connect_p99_ms: f64,
    pub connect_p999_ms: f64,
    pub connect_max_ms: f64,
    /// From a connection's establishment to its entry applied, over the connections still
    /// open when their entry was applied: one that dropped or was cut off first never
    /// became reachable, and its misses count in `messages_missed` instead.
    pub registry_lag_p50_ms: f64,
    pub registry_lag_p99_ms: f64,
    pub registry_lag_max_ms: f64,
    pub miss_delay_p50_ms: f64,
    pub miss_delay_p99_ms: f64,
    pub messages_sent: u64,
    pub messages_routed: u64,
    pub messages_missed: u64,
    pub messages_offline: u64,
    pub messages_missed_undelivered: u64,
    /// Misses routed to a stale entry (included in `messages_missed`).
    pub messages_missed_stale: u64,
    pub miss_rate: f64,
    pub writes_issued: u64,
    pub writes_applied: u64,
    pub writes_pending: u64,
    /// Registry writes for clients that had already given up (sync).
    pub wasted_writes: u64,
    /// Handshakes that ended after their client had given up.
    pub wasted_handshakes: u64,
    pub lookups: u64,
    pub peak_handshake_queue: u64,
    pub peak_registry_queue: u64,
    pub peak_shard_queue: u64,
    pub shard_utilization_peak: f64,
    /// Empty when some connected client was still unregistered at the horizon.
    pub all_registered_at_s: Option<f64>,
    pub events: u64,
    /// Pipelines of registry writes sent (`async-batched`; 0 otherwise).
    pub pipelines: u64,
    /// Writes per pipeline sent; empty when none was.
    pub pipeline_mean_size: Option<f64>,
    /// Connections cut off before the horizon by a server crash, a failed write or a drop
    /// of their own (a client may be cut off more than once).
    pub clients_disconnected: u64,
    /// From a disconnect (a crash, a failed write or a drop) to the connection
    /// re-established.
    pub reconnect_p50_ms: f64,
    pub reconnect_p99_ms: f64,
    /// Writes still queued on a server when it crashed, never sent, and writes that
    /// failed at a primary that was down (`writes_failed`).
    pub writes_lost: u64,
    /// Entries deleted by a server when a connection closed (`registry.on_disconnect`).
    pub registry_deletes: u64,
    /// The most connections one server held at the horizon.
    pub server_connections_max: u64,
    /// `server_connections_max` over the mean connections per server, at the horizon.
    pub server_load_imbalance: f64,
    /// First messages (`lazy`) that made the router broadcast "who holds this user?".
    pub broadcast_queries: u64,
    /// Those queries' messages: one to each connection server per query.
    pub broadcast_messages: u64,
    /// Misses whose entry's primary was down (included in `messages_missed`).
    pub messages_missed_outage: u64,
    /// Writes that failed at a primary that was down (`redis.outage_mode = "fail"`).
    pub writes_failed: u64,
    /// Connections that dropped on their own (`clients.churn`; included in
    /// `clients_disconnected`).
    pub connections_dropped: u64,
    /// Queued writes a `coalesced` writer dropped unsent because their connection had
    /// closed (not in `writes_applied`, `writes_pending` or `writes_lost`).
    pub writes_coalesced: u64,
}

impl SummaryRow {
    pub fn new(variant: &str, scenario: &Scenario, outcome: &RunOutcome) -> Self {
        let tally = &outcome.tally;
        let miss_rate = if tally.messages_sent == 0 {
            0.0
        } else {
            tally.messages_missed as f64 / tally.messages_sent as f64
        };
        Self {
            variant: variant.to_string(),
            strategy: scenario.strategy.name().to_string(),
            seed: scenario.seed,
            clients: u64::from(scenario.clients),
            connected: tally.clients_connected,
            rejected: tally.clients_rejected,
            clients_gave_up: tally.clients_gave_up,
            in_progress: tally.clients_in_progress,
            attempts_per_client: outcome.attempts as f64 / f64::from(scenario.clients),
            connect_p50_ms: outcome.connect_latency.quantile_ms(0.5),
            connect_p99_ms: outcome.connect_latency.quantile_ms(0.99),
            connect_p999_ms: outcome.connect_latency.quantile_ms(0.999),
            connect_max_ms: outcome.connect_latency.max_ms(),
            registry_lag_p50_ms: outcome.registry_lag.quantile_ms(0.5),
            registry_lag_p99_ms: outcome.registry_lag.quantile_ms(0.99),
            registry_lag_max_ms: outcome.registry_lag.max_ms(),
            miss_delay_p50_ms: outcome.miss_delay.quantile_ms(0.5),
            miss_delay_p99_ms: outcome.miss_delay.quantile_ms(0.99),
            messages_sent: tally.messages_sent,
            messages_routed: tally.messages_routed,
            messages_missed: tally.messages_missed,
            messages_offline: tally.messages_offline,
            messages_missed_undelivered: outcome.messages_missed_undelivered,
            messages_missed_stale: outcome.messages_missed_stale,
            miss_rate,
            writes_issued: tally.writes_issued,
            writes_applied: tally.writes_applied,
            writes_pending: tally.writes_pending,
            wasted_writes: outcome.wasted_writes,
            wasted_handshakes: outcome.wasted_handshakes,
            lookups: outcome.lookups,
            peak_handshake_queue: outcome.peak_handshake_queue,
            peak_registry_queue: outcome.peak_registry_queue,
            peak_shard_queue: outcome.peak_shard_queue,
            shard_utilization_peak: outcome.shard_utilization_peak,
            all_registered_at_s: outcome.all_registered_at.map(to_seconds),
            events: outcome.events,
            pipelines: outcome.pipelines_sent,
            pipeline_mean_size: (outcome.pipelines_sent > 0)
                .then(|| outcome.pipelined_writes as f64 / outcome.pipelines_sent as f64),
            clients_disconnected: outcome.disconnections,
            reconnect_p50_ms: outcome.reconnect_latency.quantile_ms(0.5),
            reconnect_p99_ms: outcome.reconnect_latency.quantile_ms(0.99),
            writes_lost: tally.writes_lost,
            registry_deletes: outcome.deletes,
            server_connections_max: outcome.server_connections_max,
            server_load_imbalance: outcome.server_load_imbalance,
            broadcast_queries: outcome.broadcast_queries,
            broadcast_messages: outcome.broadcast_messages,
            messages_missed_outage: outcome.messages_missed_outage,
            writes_failed: outcome.writes_failed,
            connections_dropped: outcome.connections_dropped,
            writes_coalesced: tally.writes_coalesced,
        }
    }
}
