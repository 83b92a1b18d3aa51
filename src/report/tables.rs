//! The CSV tables of a run: `summary.csv`, `timeseries.csv` and `latency.csv`.

use anyhow::Result;
use serde::Serialize;

use super::SummaryRow;
use crate::engine::to_seconds;
use crate::metrics::RunOutcome;

/// Serializes rows to CSV bytes with a header.
pub fn csv_bytes<T: Serialize>(rows: &[T]) -> Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer.serialize(row)?;
    }
    Ok(writer.into_inner()?)
}

pub fn summary_csv(rows: &[SummaryRow]) -> Result<Vec<u8>> {
    csv_bytes(rows)
}

/// One row of `timeseries.csv`: one bucket of virtual time.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct SeriesRow {
    /// Start of the bucket, seconds since the storm began.
    pub time_s: f64,
    /// First attempts: clients arriving in the storm.
    pub arrivals: u64,
    /// Retry attempts started in the bucket.
    pub retries: u64,
    pub rejected: u64,
    pub connected: u64,
    pub registered: u64,
    pub connected_total: u64,
    pub registered_total: u64,
    /// Clients waiting for a handshake worker, all servers, time-averaged over the bucket.
    pub handshake_queue: f64,
    /// Writes waiting for a writer, all servers, time-averaged.
    pub registry_queue: f64,
    /// Operations waiting at shards (not in service), all shards, time-averaged.
    pub shard_queue: f64,
    /// Mean utilization of the shards.
    pub shard_utilization: f64,
    /// Utilization of the busiest shard in this bucket.
    pub busiest_shard_utilization: f64,
    pub messages_sent: u64,
    pub messages_missed: u64,
    /// Connected clients cut off by a server crash in the bucket.
    pub disconnected: u64,
    /// Registered clients among them, whose entries now name a dead server.
    pub deregistered: u64,
    /// Broadcast queries (`lazy`) sent in the bucket, each to every connection server.
    pub broadcast_queries: u64,
}

pub fn timeseries_csv(outcome: &RunOutcome) -> Result<Vec<u8>> {
    let series = &outcome.series;
    let mut connected_total = 0;
    let mut registered_total = 0;
    let rows: Vec<SeriesRow> = (0..series.arrivals.len())
        .map(|b| {
            connected_total += series.connected[b];
            connected_total -= series.disconnected[b];
            registered_total += series.registered[b];
            registered_total -= series.deregistered[b];
            SeriesRow {
                time_s: to_seconds(b as u64 * series.bucket_ns),
                arrivals: series.arrivals[b],
                retries: series.retries[b],
                rejected: series.rejected[b],
                connected: series.connected[b],
                registered: series.registered[b],
                connected_total,
                registered_total,
                handshake_queue: series.handshake_queue[b],
                registry_queue: series.registry_queue[b],
                shard_queue: series.shard_queue[b],
                shard_utilization: series.shard_utilization[b],
                busiest_shard_utilization: series.busiest_shard_utilization[b],
                messages_sent: series.messages_sent[b],
                messages_missed: series.messages_missed[b],
                disconnected: series.disconnected[b],
                deregistered: series.deregistered[b],
                broadcast_queries: series.broadcast_queries[b],
            }
        })
        .collect();
    csv_bytes(&rows)
}

/// One row of `latency.csv`: a point of a distribution's CDF.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct LatencyRow {
    /// `connect`, `registry_lag` or `miss_delay`.
    pub metric: String,
    pub quantile: f64,
    pub value_ms: f64,
}

pub fn latency_csv(outcome: &RunOutcome) -> Result<Vec<u8>> {
    let distributions = [
        ("connect", &outcome.connect_latency),
        ("registry_lag", &outcome.registry_lag),
        ("miss_delay", &outcome.miss_delay),
    ];
    let rows: Vec<LatencyRow> = distributions
        .iter()
        .flat_map(|(metric, histogram)| {
            histogram
                .cdf_points()
                .into_iter()
                .map(move |(quantile, value_ms)| LatencyRow {
                    metric: metric.to_string(),
                    quantile,
                    value_ms,
                })
        })
        .collect();
    csv_bytes(&rows)
}
