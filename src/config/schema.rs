//! The scenario schema as the user writes it in TOML.
//!
//! Every field has a default, documented where it is defined with its source or the
//! assumption behind it, so a scenario file only says what differs. Unknown keys are
//! refused (`deny_unknown_fields`), so a misspelt key is an error and never silently
//! ignored. Values are checked later, in [`super::resolve`].

use serde::{Deserialize, Serialize};

/// One scenario, as written (after variant and `--set` overrides are merged in).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScenarioSpec {
    /// The run's seed; every random stream derives from it. Default 1.
    pub seed: u64,
    pub clients: ClientsSpec,
    pub balancer: BalancerSpec,
    pub connection_servers: ConnectionServersSpec,
    pub registry: RegistrySpec,
    pub redis: RedisSpec,
    pub network: NetworkSpec,
    pub messages: MessagesSpec,
    pub run: RunSpec,
    /// Faults at declared instants. Default: none.
    pub faults: super::faults::FaultsSpec,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientsSpec {
    /// Clients in the storm. Default 1M; MODEL.md's storm is 500M.
    pub count: i64,
    /// Arrival profile: `uniform` (evenly spaced), `poisson` (homogeneous, random),
    /// `peak` (normal around `peak_at_s` with `spread_s`, cut to the window) or
    /// `piecewise` (a rate curve through `rate_points`).
    pub profile: String,
    /// Length of the storm in seconds; every client arrives within it. Default 60 s, the
    /// "spread over a 60-second storm" case of MODEL.md.
    pub window_s: f64,
    /// Centre of a `peak` profile, in seconds from the start. Default: mid-window.
    pub peak_at_s: Option<f64>,
    /// Standard deviation of a `peak` profile, in seconds. Default: a sixth of the window,
    /// so that ±3 spreads cover it.
    pub spread_s: Option<f64>,
    /// `[time_s, relative_rate]` points of a `piecewise` profile, linear in between; only
    /// the curve's shape matters, as `count` fixes the total.
    pub rate_points: Vec<[f64; 2]>,
    /// Seconds a client waits for its connection (handshake, and the registry write under
    /// `sync`) before it gives up and, if its retry policy allows, tries again. Absent:
    /// clients wait for ever.
    pub connect_timeout_s: Option<f64>,
    /// What a client does after a rejection or a timeout.
    pub retry: super::retry::RetrySpec,
    /// Connections that drop on their own soon after they are established.
    pub churn: super::churn::ChurnSpec,
}

impl Default for ClientsSpec {
    fn default() -> Self {
        Self {
            count: 1_000_000,
            profile: "poisson".into(),
            window_s: 60.0,
            peak_at_s: None,
            spread_s: None,
            rate_points: Vec::new(),
            connect_timeout_s: None,
            retry: super::retry::RetrySpec::default(),
            churn: super::churn::ChurnSpec::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BalancerSpec {
    /// `random`, `round-robin`, `least-connections` or `power-of-two`. Default `random`,
    /// what a DNS- or ECMP-spread fleet approximates. Ignored (but still checked) under
    /// `registry.strategy = "placement"`, whose balancer is the consistent-hash ring.
    pub policy: String,
    /// Points per server on the consistent-hash ring of `registry.strategy =
    /// "placement"`. Default 160, the points per server of the common ketama
    /// implementations (libketama: 40 MD5 digests of 4 points each).
    pub virtual_nodes: i64,
}

impl Default for BalancerSpec {
    fn default() -> Self {
        Self {
            policy: "random".into(),
            virtual_nodes: 160,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectionServersSpec {
    /// Connection servers. Default 500 (MODEL.md: 500M clients at ~1M each).
    pub count: i64,
    /// Concurrent connections a server holds before it rejects. Default 1,000,000
    /// (MODEL.md; WhatsApp and Phoenix reports of 1-2M per box).
    pub max_connections: i64,
    /// Handshake workers (cores) per server. Default 32, a common large instance.
    pub workers: i64,
    /// Clients that may wait for a worker before new ones are rejected. Default 4096,
    /// Linux's `net.core.somaxconn` default since kernel 5.4.
    pub accept_queue: i64,
    /// CPU time of one handshake (TCP + TLS + WebSocket upgrade + token check). Default
    /// log-normal, mean 250 µs, cv 0.5: an assumption built from `openssl speed` (ECDSA
    /// P-256 sign ≈ 30 µs, ECDHE ≈ 60-100 µs) plus a token verification of similar cost.
    pub handshake: ServiceSpec,
}

impl Default for ConnectionServersSpec {
    fn default() -> Self {
        Self {
            count: 500,
            max_connections: 1_000_000,
            workers: 32,
            accept_queue: 4096,
            handshake: ServiceSpec {
                distribution: "lognormal".into(),
                mean_us: 250.0,
                cv: 0.5,
            },
        }
    }
}

/// A service-time distribution.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// `deterministic`, `exponential` or `lognormal`.
    pub distribution: String,
    /// Mean service time in microseconds.
    pub mean_us: f64,
    /// Coefficient of variation (standard deviation over mean); used by `lognormal` only.
    #[serde(default = "default_cv")]
    pub cv: f64,
}

fn default_cv() -> f64 {
    1.0
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistrySpec {
    /// `sync` (the connection is established when its registry write completes),
    /// `async` (established at the end of the handshake, the write queued),
    /// `async-batched` (as `async`, the queued writes sent to Redis as pipelines, one open
    /// batch per shard), `coalesced` (as `async`, but a writer drops a queued write whose
    /// connection already closed: the user's next connection writes a newer entry),
    /// `placement` (no registry: the balancer places each user on the
    /// server a consistent hash of its id names, which the router computes) or `lazy` (no
    /// write: the router broadcasts "who holds this user?" to every server on a user's
    /// first message and caches the answer). Default `async`.
    pub strategy: String,
    /// Writer workers draining each server's registry queue under `async` and
    /// `async-batched`; each has one write (or one pipeline) in flight at a time. Default
    /// 8, a small connection pool per server.
    pub writers: i64,
    /// Under `async-batched`, the writes a batch holds before it is closed and sent.
    /// Default 16, the depth of redis.io's pipelining benchmark (`redis-benchmark -P 16`),
    /// past which the gain per extra command is small.
    pub batch_size: i64,
    /// Under `async-batched`, the milliseconds a batch stays open after its first write
    /// joined, if it does not fill first; 0 closes each batch at once (so every batch holds
    /// one write). Default 1 ms, an assumption: a hundred times a write's 10 µs service,
    /// so a busy server fills its batches before they linger out (16 writes per ms to
    /// one shard is 16K/s), yet short against the seconds of registry lag an undersized
    /// registry builds up, so lingering adds little to a lag that matters.
    pub linger_ms: f64,
    /// How user entries map to Redis keys: `per-user` (`registry:user:<id>`),
    /// `bucketed` (`HSET registry:{<id mod buckets>} user:<id>`) or `single-hash`
    /// (`HSET registry user:<id>`, one key). Default `per-user`.
    pub key_layout: String,
    /// Hash keys of the `bucketed` layout. Default 16384, one per cluster slot at best.
    pub buckets: i64,
    /// What happens to a user's entry when its connection closes: `delete` (the server
    /// deletes it, one shard operation that costs like a write) or `expire` (entries carry
    /// a TTL that the server refreshes while the connection lives, so a closed
    /// connection's entry lives on until it runs out). Default `delete`, what a server that
    /// closes a connection cleanly does. A crashed server deletes nothing, so under either
    /// policy its entries stay stale until rewritten or expired.
    pub on_disconnect: String,
    /// Lifetime of an entry after its last refresh, in seconds, under `expire`. Default
    /// 60 s: an assumption, twice a 30 s refresh interval, so one lost refresh does not
    /// drop a live entry.
    pub entry_ttl_s: f64,
}

impl Default for RegistrySpec {
    fn default() -> Self {
        Self {
            strategy: "async".into(),
            writers: 8,
            batch_size: 16,
            linger_ms: 1.0,
            key_layout: "per-user".into(),
            buckets: 16_384,
            on_disconnect: "delete".into(),
            entry_ttl_s: 60.0,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisSpec {
    /// Redis Cluster primaries. Default 100.
    pub shards: i64,
    /// Service time of one operation on a primary. Default exponential with mean 10 µs,
    /// i.e. 100K ops/s (MODEL.md; redis.io benchmarks give 70-120K unpipelined).
    /// Exponential rather than deterministic is an assumption: network and system-call
    /// jitter dominate the command's own cost.
    pub service: ServiceSpec,
    /// The cost of a pipeline of writes (`async-batched`).
    pub pipeline: PipelineSpec,
    /// What an operation sent to a primary that is down (`faults.shard_outages`) meets:
    /// `wait` (it is served by the promoted replica at the failover: what a client that
    /// retries on a `CLUSTERDOWN` or a timeout sees; the default) or `fail` (it fails at
    /// once: sync clients fail their attempt, async writers send the write again at the
    /// failover, lookups fail).
    pub outage_mode: String,
}

impl Default for RedisSpec {
    fn default() -> Self {
        Self {
            shards: 100,
            service: ServiceSpec {
                distribution: "exponential".into(),
                mean_us: 10.0,
                cv: 1.0,
            },
            pipeline: PipelineSpec::default(),
            outage_mode: "wait".into(),
        }
    }
}

/// What a pipeline of `n` registry writes costs a primary: one service time, drawn from
/// the family of `redis.service` and scaled to the mean `overhead_us + n * per_op_us`.
///
/// The defaults come from two published figures (MODEL.md, "Pipelining"; the redis.io
/// benchmark documentation, "Using pipelining", and `redis-benchmark -P 16`): about 100K
/// ops/s unpipelined (70-120K), and 300-700K ops/s with 16 or more commands per round
/// trip. Two equations fix the two parameters:
///
/// - one write alone costs what an unpipelined operation does, the 10 µs mean of
///   `redis.service`: `overhead + per_op = 10 µs`;
/// - a 16-write pipeline runs at about 400K ops/s, near the low end of the published
///   range (so the gain is not overstated): `overhead + 16 per_op = 16 / 400K/s = 40 µs`.
///
/// Subtracting, `15 per_op = 30 µs`, so `per_op = 2 µs` and `overhead = 8 µs`: most of an
/// unpipelined operation's cost is the round trip and system calls, not the command, as
/// MODEL.md says. The pipeline's rate rises with its size towards `1 / per_op` = 500K
/// ops/s (n = 64 gives 136 µs, 470K ops/s), inside the published range.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineSpec {
    /// Microseconds a pipeline costs whatever its size: the round trip's system calls
    /// and network. Default 8 µs (derived above).
    pub overhead_us: f64,
    /// Microseconds each write adds to a pipeline: the command itself. Default 2 µs
    /// (derived above).
    pub per_op_us: f64,
}

impl Default for PipelineSpec {
    fn default() -> Self {
        Self {
            overhead_us: 8.0,
            per_op_us: 2.0,
        }
    }
}

/// The network between the connection servers and the Redis primaries.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkSpec {
    /// Round trip of a registry operation between a connection server and a primary,
    /// `{ distribution, mean_us, cv }`: the way there is half the mean, constant, and the
    /// way back is drawn from the distribution at half the mean (see `world/writes.rs`).
    /// Default none (`redis.service` already holds a same-rack round trip); set it for a
    /// registry in another zone or region, where a round trip is 0.5 to 2 ms within a
    /// region and tens of ms across regions (an assumption, from cloud providers'
    /// published inter-zone figures).
    pub rtt: Option<ServiceSpec>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MessagesSpec {
    /// Messages sent per second, all users together, recipients uniform over all clients.
    /// Default 1,000,000/s: WhatsApp's reported 100 billion messages a day (2020) is
    /// 1.16M/s on average.
    pub rate_per_s: f64,
    /// What `rate_per_s` counts: `total`, all users together (the default), or
    /// `per-connected-user`, each connected user sending that many per second, so traffic
    /// grows as the storm connects users (WhatsApp's 100 billion a day over its 2 billion
    /// users is about 0.0006/s per user).
    pub rate_basis: String,
    /// Whether each message's registry lookup is a read that loads the recipient's shard.
    /// Default true.
    pub lookups_load_shards: bool,
}

impl Default for MessagesSpec {
    fn default() -> Self {
        Self {
            rate_per_s: 1_000_000.0,
            rate_basis: "total".into(),
            lookups_load_shards: true,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunSpec {
    /// Virtual time the run lasts, in seconds. Default 600 s, long enough for the default
    /// storm to drain.
    pub horizon_s: f64,
    /// Width of a time-series bucket, in milliseconds. Default 100 ms.
    pub bucket_ms: f64,
}

impl Default for RunSpec {
    fn default() -> Self {
        Self {
            horizon_s: 600.0,
            bucket_ms: 100.0,
        }
    }
}
