//! The `async-batched` strategy in the world: writes join per-shard batches, batches go
//! to Redis as pipelines.
//!
//! The connection is established at the end of the handshake, as under `async`. The
//! write joins its server's open batch for the user's shard ([`PipelineQueue`]); a
//! `LingerEnd` event closes a batch that did not fill within `registry.linger_ms`. A free
//! writer sends the oldest closed batch as one pipeline: one operation on the shard, of
//! mean `overhead + n * per_op`, at whose completion all `n` writes are applied and the
//! writer is free again (`WriterFree`, as under `async`).
//!
//! With batches of one write, this is `async` event for event: the same writer order,
//! the same draws from each shard's stream (an exponential or deterministic pipeline of
//! mean equal to `redis.service` draws exactly what a plain write does), the same events.

use crate::config::{RegistryStrategy, Scenario};
use crate::engine::SimTime;
use crate::model::pipeline::{Batch, Joined, PipelineQueue, QueuedWrite};
use crate::model::service::ServiceSampler;

use super::{Event, World};

impl World<'_> {
    /// One queue per server under `async-batched`, none otherwise.
    pub(super) fn pipeline_queues(scenario: &Scenario) -> Vec<PipelineQueue> {
        if scenario.strategy != RegistryStrategy::AsyncBatched {
            return Vec::new();
        }
        (0..scenario.servers)
            .map(|_| PipelineQueue::new(scenario.batching.batch_size, scenario.writers))
            .collect()
    }

    /// `client`'s write, queued at `now` on `server`, joins its shard's open batch; a
    /// batch that opens starts its linger, and a batch that closes is sent if a writer
    /// is idle.
    pub(super) fn join_batch(&mut self, now: SimTime, client: u32, server: u32) {
        let shard = self.shard_map.shard_of(client);
        let write = QueuedWrite {
            established_at: now,
            client,
        };
        let linger_ns = self.scenario.batching.linger_ns;
        let queue = &mut self.pipelines[server as usize];
        match queue.join(shard, write) {
            Joined::Opened { batch } if linger_ns == 0 => queue.linger_ended(shard, batch),
            Joined::Opened { batch } => self.queue.schedule(
                now + linger_ns,
                Event::LingerEnd {
                    server,
                    shard,
                    batch,
                },
            ),
            Joined::Joined | Joined::Filled => {}
        }
        self.registry_backlog += 1;

        self.send_if_a_writer_is_idle(now, server);
        self.counts.peak_registry_backlog =
            self.counts.peak_registry_backlog.max(self.registry_backlog);
    }

    /// Batch `batch` of `server` to `shard` has lingered its time: closed, unless it
    /// filled up first.
    pub(super) fn linger_end(&mut self, now: SimTime, server: u32, shard: u32, batch: u64) {
        self.pipelines[server as usize].linger_ended(shard, batch);
        self.send_if_a_writer_is_idle(now, server);
    }

    /// A writer of `server` finished its pipeline: it sends the oldest closed batch, if
    /// there is one.
    pub(super) fn pipeline_done(&mut self, now: SimTime, server: u32) {
        if let Some(batch) = self.pipelines[server as usize].writer_freed() {
            self.send_pipeline(now, server, batch);
        }
    }

    fn send_if_a_writer_is_idle(&mut self, now: SimTime, server: u32) {
        if let Some(batch) = self.pipelines[server as usize].next_to_send() {
            self.send_pipeline(now, server, batch);
        }
    }

    /// A writer of `server` sends `batch` at `now` as one pipeline and stays busy until
    /// the shard has applied it.
    fn send_pipeline(&mut self, now: SimTime, server: u32, batch: Batch) {
        let writes = batch.writes.len();
        self.counts.pipelines_sent += 1;
        self.counts.pipelined_writes += writes as u64;
        self.registry_backlog -= writes as u64;

        // The pipeline's service is a draw of the shard's family, scaled to its mean.
        let mean_ns = self.scenario.batching.pipeline_mean_ns(writes);
        let pipeline = ServiceSampler::new(&self.scenario.shard_service.with_mean(mean_ns));
        let served = self.send_to_shard(now, batch.shard as usize, &pipeline);

        for &write in &batch.writes {
            self.series.registry_waiting.add(write.established_at, now);
            if self.has_dropped(server, write, now) {
                self.outdated_write_served(write, now, served);
                continue;
            }
            match served {
                Ok(reply) => {
                    self.settle_write(write.client, server, write.established_at, reply.applied_at)
                }
                Err(failed) => {
                    self.write_failed(failed, write.client, server, write.established_at)
                }
            }
        }
        let free_at = served.map_or_else(|failed| failed.at, |reply| reply.acked_at);
        self.queue.schedule(free_at, Event::WriterFree { server });
    }

    /// Counts the writes still in open or closed batches at the horizon as pending; they
    /// waited in the registry queue until then.
    pub(super) fn drain_pipelines(&mut self) {
        let horizon = self.scenario.horizon_ns;
        for server in 0..self.pipelines.len() {
            for write in self.pipelines[server].drain() {
                self.tally.writes_pending += 1;
                self.series
                    .registry_waiting
                    .add(write.established_at, horizon);
                // A write whose connection dropped: its life was laid out at the drop.
                if self.has_dropped(server as u32, write, horizon) {
                    continue;
                }
                let history = self.histories.remove(&write.client);
                self.live(
                    write.client,
                    history,
                    write.established_at,
                    None,
                    server as u32,
                );
            }
        }
    }
}
