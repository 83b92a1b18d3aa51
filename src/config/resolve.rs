//! The resolved scenario: defaults applied, units in nanoseconds, every range checked.
//!
//! [`Scenario::resolve`] is the only way to build a [`Scenario`], and the model accepts
//! nothing else, so the model never has to re-check a value.

use serde::Serialize;

use super::ConfigError;
use super::schema::{ScenarioSpec, ServiceSpec};
use crate::engine::{NANOS_PER_MS, NANOS_PER_US, SimTime, seconds};

/// A validated scenario, ready to simulate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scenario {
    pub seed: u64,
    pub clients: u32,
    pub profile: ArrivalProfile,
    pub window_ns: SimTime,
    pub connect_timeout_ns: Option<SimTime>,
    pub retry: super::RetryPolicy,
    /// Flaky connections; `None`: no connection drops on its own.
    pub churn: Option<super::ChurnPolicy>,
    pub balancer: BalancerPolicy,
    /// Points per server on the ring of the `placement` strategy.
    pub virtual_nodes: u32,
    pub servers: u32,
    pub max_connections: u32,
    pub handshake_workers: u32,
    pub accept_queue: u32,
    pub handshake: ServiceTime,
    pub strategy: RegistryStrategy,
    pub writers: u32,
    pub batching: Batching,
    pub key_layout: KeyLayout,
    pub on_disconnect: OnDisconnect,
    pub shards: u32,
    pub shard_service: ServiceTime,
    /// Round trip between a connection server and a primary; `None`: none.
    pub network_rtt: Option<ServiceTime>,
    pub message_rate_per_s: f64,
    pub message_rate_basis: RateBasis,
    pub lookups_load_shards: bool,
    pub horizon_ns: SimTime,
    pub bucket_ns: SimTime,
    /// Connection server crashes, in the order the file lists them.
    pub server_crashes: Vec<super::ServerCrash>,
    /// Redis primary outages, by primary and then time.
    pub shard_outages: Vec<super::ShardOutage>,
    /// What an operation meets at a primary that is down.
    pub outage_mode: OutageMode,
}

/// What an operation sent to a Redis primary that is down meets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutageMode {
    /// It waits, and is served by the promoted replica at the failover; an operation in
    /// service when the primary went down is served again, whole. Writers and sync clients
    /// stay blocked on it meanwhile.
    Wait,
    /// It fails at once: a sync client's attempt fails (it retries after its back-off); an
    /// async writer sets the write aside, sends it again at the failover, and goes on with
    /// other writes; a lookup fails, and its message goes to the fallback.
    Fail,
}

/// What becomes of a user's registry entry when its connection closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum OnDisconnect {
    /// The server deletes the entry (one shard operation).
    Delete,
    /// The entry outlives the connection by its TTL.
    Expire { ttl_ns: SimTime },
}

/// What the message rate counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RateBasis {
    /// All users together: a constant stream.
    Total,
    /// Each connected user: the stream grows with the connected count.
    PerConnectedUser,
}

impl RateBasis {
    /// Messages per second, all users together, when `connected` users are connected.
    pub fn total_rate(self, rate_per_s: f64, connected: f64) -> f64 {
        match self {
            Self::Total => rate_per_s,
            Self::PerConnectedUser => rate_per_s * connected,
        }
    }
}

/// How arrival instants are spread over the storm window.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ArrivalProfile {
    /// Evenly spaced, deterministic.
    Uniform,
    /// A homogeneous Poisson process conditioned on the client count.
    Poisson,
    /// Normal around `at_s` with standard deviation `spread_s`, cut to the window.
    Peak { at_s: f64, spread_s: f64 },
    /// A rate curve through `(time_s, relative_rate)` points, linear in between.
    Piecewise { points: Vec<(f64, f64)> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BalancerPolicy {
    Random,
    RoundRobin,
    LeastConnections,
    PowerOfTwo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RegistryStrategy {
    Sync,
    Async,
    /// As `Async`, with the queued writes sent as pipelines (see [`Batching`]).
    AsyncBatched,
    /// As `Async`, but a writer drops a queued write whose connection closed before the
    /// writer reached it (the user's next connection writes a newer entry).
    Coalesced,
    /// No registry: a consistent hash of the user id names the user's server.
    Placement,
    /// No registry write: the router broadcasts on a user's first message.
    Lazy,
}

impl RegistryStrategy {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sync => "sync",
            Self::Async => "async",
            Self::AsyncBatched => "async-batched",
            Self::Coalesced => "coalesced",
            Self::Placement => "placement",
            Self::Lazy => "lazy",
        }
    }

    /// Whether connections write registry entries and messages look them up.
    pub fn has_registry(self) -> bool {
        !matches!(self, Self::Placement | Self::Lazy)
    }
}

/// How the `async-batched` strategy groups writes into pipelines and what a pipeline
/// costs. Resolved (and checked) whatever the strategy; only `async-batched` reads it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Batching {
    /// Writes at which a batch is closed.
    pub batch_size: u32,
    /// How long a batch stays open after its first write joined; 0 closes it at once.
    pub linger_ns: SimTime,
    /// Mean cost of a pipeline whatever its size.
    pub overhead_ns: f64,
    /// Mean cost each write adds to a pipeline.
    pub per_op_ns: f64,
}

impl Batching {
    /// The mean service time of a pipeline of `writes` writes.
    pub fn pipeline_mean_ns(&self, writes: usize) -> f64 {
        self.overhead_ns + writes as f64 * self.per_op_ns
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum KeyLayout {
    PerUser,
    Bucketed { buckets: u32 },
    SingleHash,
}

/// A service-time distribution, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ServiceTime {
    Deterministic { mean_ns: f64 },
    Exponential { mean_ns: f64 },
    LogNormal { mean_ns: f64, cv: f64 },
}

impl ServiceTime {
    pub fn mean_ns(&self) -> f64 {
        match *self {
            Self::Deterministic { mean_ns }
            | Self::Exponential { mean_ns }
            | Self::LogNormal { mean_ns, .. } => mean_ns,
        }
    }

    /// The same family (and, for a log-normal, the same coefficient of variation) with
    /// another mean: a sample of it is a sample of `self` scaled by the ratio of the means.
    pub fn with_mean(&self, mean_ns: f64) -> Self {
        match *self {
            Self::Deterministic { .. } => Self::Deterministic { mean_ns },
            Self::Exponential { .. } => Self::Exponential { mean_ns },
            Self::LogNormal { cv, .. } => Self::LogNormal { mean_ns, cv },
        }
    }
}

/// The longest storm window or horizon, in seconds (about 11.6 days). Virtual time is a
/// `u64` of nanoseconds; this keeps every instant of a run (the horizon plus the longest
/// service times allowed below) far inside its range, so no sum can overflow.
const MAX_SPAN_S: f64 = 1e6;

/// The longest mean service time, in microseconds (1000 s): a thousand times longer than
/// any handshake or Redis operation worth simulating, and small enough that even a
/// heavy-tailed draw stays far inside virtual time's range.
const MAX_MEAN_US: f64 = 1e9;

/// The largest coefficient of variation of a log-normal service time.
const MAX_CV: f64 = 100.0;

/// The largest message rate: one per nanosecond, beyond which virtual time cannot tell
/// consecutive messages apart.
const MAX_MESSAGE_RATE_PER_S: f64 = 1e9;

/// The largest batch of `async-batched`: far past the depth where pipelining stops
/// paying (redis.io's benchmark uses 16), and small enough that a batch's buffer stays
/// modest.
const MAX_BATCH_SIZE: i64 = 65_536;

/// The longest linger of a batch, in milliseconds (one minute): a batch held longer is a
/// bulk load, not a pipeline.
const MAX_LINGER_MS: f64 = 60_000.0;

/// The largest pipeline overhead or per-write cost, in microseconds (10 ms, a thousand
/// times the unpipelined operation): even the largest batch's mean then stays under
/// [`MAX_MEAN_US`], inside virtual time's range.
const MAX_PIPELINE_COST_US: f64 = 10_000.0;

/// How a value is shown in an error message.
trait Shown: Copy {
    fn shown(self) -> String;
}

impl Shown for i64 {
    fn shown(self) -> String {
        self.to_string()
    }
}

impl Shown for f64 {
    /// Very large or very small numbers in scientific notation, so `1e300` is not printed
    /// as three hundred digits.
    fn shown(self) -> String {
        let magnitude = self.abs();
        if self.is_finite() && magnitude != 0.0 && !(1e-4..1e7).contains(&magnitude) {
            format!("{self:e}")
        } else {
            self.to_string()
        }
    }
}

/// Checks `value` with `ok`, or names the key, the value and what is allowed.
fn check<T: Shown>(
    key: &str,
    value: T,
    ok: impl Fn(T) -> bool,
    allowed: &str,
) -> Result<T, ConfigError> {
    if ok(value) {
        Ok(value)
    } else {
        Err(ConfigError::out_of_range(key, value.shown(), allowed))
    }
}

fn positive_finite(key: &str, value: f64) -> Result<f64, ConfigError> {
    check(
        key,
        value,
        |v| v.is_finite() && v > 0.0,
        "a finite number greater than 0",
    )
}

/// A number greater than 0 and at most `max`.
fn positive_at_most(key: &str, value: f64, max: f64) -> Result<f64, ConfigError> {
    let allowed = format!("a number greater than 0 and at most {}", max.shown());
    check(key, value, |v| v > 0.0 && v <= max, &allowed)
}

fn count_u32(key: &str, value: i64, min: i64, max: i64) -> Result<u32, ConfigError> {
    let allowed = format!("a whole number from {min} to {max}");
    check(key, value, |v| (min..=max).contains(&v), &allowed).map(|v| v as u32)
}

/// Picks the variant named `value` from `choices`, or lists them.
fn choose<T: Copy>(key: &str, value: &str, choices: &[(&str, T)]) -> Result<T, ConfigError> {
    choices
        .iter()
        .find(|(name, _)| *name == value)
        .map(|(_, choice)| *choice)
        .ok_or_else(|| {
            let names: Vec<String> = choices.iter().map(|(n, _)| format!("'{n}'")).collect();
            ConfigError::out_of_range(
                key,
                format!("'{value}'"),
                format!("one of {}", names.join(", ")),
            )
        })
}

fn resolve_service(key: &str, spec: &ServiceSpec) -> Result<ServiceTime, ConfigError> {
    let mean_us = positive_at_most(&format!("{key}.mean_us"), spec.mean_us, MAX_MEAN_US)?;
    let mean_ns = mean_us * NANOS_PER_US as f64;
    let kinds = [("deterministic", 0), ("exponential", 1), ("lognormal", 2)];
    match choose(&format!("{key}.distribution"), &spec.distribution, &kinds)? {
        0 => Ok(ServiceTime::Deterministic { mean_ns }),
        1 => Ok(ServiceTime::Exponential { mean_ns }),
        _ => {
            let cv = positive_at_most(&format!("{key}.cv"), spec.cv, MAX_CV)?;
            Ok(ServiceTime::LogNormal { mean_ns, cv })
        }
    }
}

fn resolve_batching(spec: &ScenarioSpec) -> Result<Batching, ConfigError> {
    let registry = &spec.registry;
    let pipeline = &spec.redis.pipeline;
    let batch_size = count_u32(
        "registry.batch_size",
        registry.batch_size,
        1,
        MAX_BATCH_SIZE,
    )?;
    let linger_ms = check(
        "registry.linger_ms",
        registry.linger_ms,
        |v| (0.0..=MAX_LINGER_MS).contains(&v),
        &format!("a number from 0 to {}", MAX_LINGER_MS.shown()),
    )?;
    let cost_us = |key: &str, value: f64| positive_at_most(key, value, MAX_PIPELINE_COST_US);
    let overhead_us = cost_us("redis.pipeline.overhead_us", pipeline.overhead_us)?;
    let per_op_us = cost_us("redis.pipeline.per_op_us", pipeline.per_op_us)?;
    Ok(Batching {
        batch_size,
        linger_ns: (linger_ms * NANOS_PER_MS as f64).round() as SimTime,
        overhead_ns: overhead_us * NANOS_PER_US as f64,
        per_op_ns: per_op_us * NANOS_PER_US as f64,
    })
}

impl Scenario {
    /// Validates a scenario as written and resolves it.
    pub fn resolve(spec: &ScenarioSpec) -> Result<Self, ConfigError> {
        let window_s = positive_at_most("clients.window_s", spec.clients.window_s, MAX_SPAN_S)?;
        let horizon_s = positive_at_most("run.horizon_s", spec.run.horizon_s, MAX_SPAN_S)?;
        if horizon_s < window_s {
            return Err(ConfigError::out_of_range(
                "run.horizon_s",
                horizon_s.shown(),
                format!(
                    "at least clients.window_s ({}), so every client arrives",
                    window_s.shown()
                ),
            ));
        }
        let horizon_ns = seconds(horizon_s);
        let bucket_ns = resolve_bucket(spec.run.bucket_ms, horizon_ns)?;
        let servers = count_u32(
            "connection_servers.count",
            spec.connection_servers.count,
            1,
            65_535,
        )?;

        let message_rate_basis = choose(
            "messages.rate_basis",
            &spec.messages.rate_basis,
            &[
                ("total", RateBasis::Total),
                ("per-connected-user", RateBasis::PerConnectedUser),
            ],
        )?;
        let message_rate_per_s = spec.messages.rate_per_s;
        let clients = spec.clients.count.max(1) as f64;
        let largest = MAX_MESSAGE_RATE_PER_S / message_rate_basis.total_rate(1.0, clients);
        check(
            "messages.rate_per_s",
            message_rate_per_s,
            |v| (0.0..=largest).contains(&v),
            &format!(
                "a number from 0 to {} (one message per nanosecond, all users together)",
                largest.shown()
            ),
        )?;
        let shards = count_u32("redis.shards", spec.redis.shards, 1, 16_384)?;

        Ok(Self {
            seed: spec.seed,
            clients: count_u32("clients.count", spec.clients.count, 1, i64::from(u32::MAX))?,
            profile: resolve_profile(spec, window_s)?,
            window_ns: seconds(window_s),
            connect_timeout_ns: super::retry::resolve_timeout(spec.clients.connect_timeout_s)?,
            retry: super::RetryPolicy::resolve(&spec.clients.retry)?,
            churn: super::ChurnPolicy::resolve(&spec.clients.churn)?,
            balancer: resolve_balancer(&spec.balancer.policy)?,
            virtual_nodes: count_u32(
                "balancer.virtual_nodes",
                spec.balancer.virtual_nodes,
                1,
                4096,
            )?,
            servers,
            max_connections: count_u32(
                "connection_servers.max_connections",
                spec.connection_servers.max_connections,
                1,
                i64::from(u32::MAX),
            )?,
            handshake_workers: count_u32(
                "connection_servers.workers",
                spec.connection_servers.workers,
                1,
                4096,
            )?,
            accept_queue: count_u32(
                "connection_servers.accept_queue",
                spec.connection_servers.accept_queue,
                0,
                i64::from(u32::MAX),
            )?,
            handshake: resolve_service(
                "connection_servers.handshake",
                &spec.connection_servers.handshake,
            )?,
            strategy: choose(
                "registry.strategy",
                &spec.registry.strategy,
                &[
                    ("sync", RegistryStrategy::Sync),
                    ("async", RegistryStrategy::Async),
                    ("async-batched", RegistryStrategy::AsyncBatched),
                    ("coalesced", RegistryStrategy::Coalesced),
                    ("placement", RegistryStrategy::Placement),
                    ("lazy", RegistryStrategy::Lazy),
                ],
            )?,
            writers: count_u32("registry.writers", spec.registry.writers, 1, 65_535)?,
            batching: resolve_batching(spec)?,
            key_layout: resolve_key_layout(spec)?,
            on_disconnect: resolve_on_disconnect(spec)?,
            shards,
            shard_service: resolve_service("redis.service", &spec.redis.service)?,
            network_rtt: spec
                .network
                .rtt
                .as_ref()
                .map(|rtt| resolve_service("network.rtt", rtt))
                .transpose()?,
            message_rate_per_s,
            message_rate_basis,
            lookups_load_shards: spec.messages.lookups_load_shards,
            horizon_ns,
            bucket_ns,
            server_crashes: super::faults::resolve_crashes(&spec.faults, servers, horizon_ns)?,
            shard_outages: super::faults::resolve_outages(&spec.faults, shards, horizon_ns)?,
            outage_mode: choose(
                "redis.outage_mode",
                &spec.redis.outage_mode,
                &[("wait", OutageMode::Wait), ("fail", OutageMode::Fail)],
            )?,
        })
    }

    /// Number of time-series buckets covering the horizon.
    pub fn buckets(&self) -> usize {
        self.horizon_ns.div_ceil(self.bucket_ns) as usize
    }
}

/// The time-series bucket in nanoseconds: at least 1 ns, and at most 10 million buckets
/// over the horizon, which bounds the memory of the time series.
fn resolve_bucket(bucket_ms: f64, horizon_ns: SimTime) -> Result<SimTime, ConfigError> {
    const MAX_BUCKETS: u64 = 10_000_000;
    let bucket_ms = positive_finite("run.bucket_ms", bucket_ms)?;
    let bucket_ns = (bucket_ms * NANOS_PER_MS as f64).round() as SimTime;
    let shortest_ms = (horizon_ns.div_ceil(MAX_BUCKETS) as f64 / NANOS_PER_MS as f64).max(1e-6);
    let allowed = format!(
        "at least {} ms, so that the horizon has at most 10 million buckets",
        shortest_ms.shown()
    );
    check(
        "run.bucket_ms",
        bucket_ms,
        |_| bucket_ns >= 1 && horizon_ns / bucket_ns <= MAX_BUCKETS,
        &allowed,
    )?;
    Ok(bucket_ns)
}

fn resolve_balancer(policy: &str) -> Result<BalancerPolicy, ConfigError> {
    choose(
        "balancer.policy",
        policy,
        &[
            ("random", BalancerPolicy::Random),
            ("round-robin", BalancerPolicy::RoundRobin),
            ("least-connections", BalancerPolicy::LeastConnections),
            ("power-of-two", BalancerPolicy::PowerOfTwo),
        ],
    )
}

fn resolve_key_layout(spec: &ScenarioSpec) -> Result<KeyLayout, ConfigError> {
    let layouts = [("per-user", 0), ("bucketed", 1), ("single-hash", 2)];
    Ok(
        match choose("registry.key_layout", &spec.registry.key_layout, &layouts)? {
            0 => KeyLayout::PerUser,
            1 => KeyLayout::Bucketed {
                buckets: count_u32("registry.buckets", spec.registry.buckets, 1, 1 << 24)?,
            },
            _ => KeyLayout::SingleHash,
        },
    )
}

fn resolve_on_disconnect(spec: &ScenarioSpec) -> Result<OnDisconnect, ConfigError> {
    let policies = [("delete", false), ("expire", true)];
    if !choose(
        "registry.on_disconnect",
        &spec.registry.on_disconnect,
        &policies,
    )? {
        return Ok(OnDisconnect::Delete);
    }
    let ttl_s = positive_at_most(
        "registry.entry_ttl_s",
        spec.registry.entry_ttl_s,
        MAX_SPAN_S,
    )?;
    Ok(OnDisconnect::Expire {
        ttl_ns: seconds(ttl_s),
    })
}

fn resolve_profile(spec: &ScenarioSpec, window_s: f64) -> Result<ArrivalProfile, ConfigError> {
    let clients = &spec.clients;
    let kinds = [
        ("uniform", 0),
        ("poisson", 1),
        ("peak", 2),
        ("piecewise", 3),
    ];
    match choose("clients.profile", &clients.profile, &kinds)? {
        0 => Ok(ArrivalProfile::Uniform),
        1 => Ok(ArrivalProfile::Poisson),
        2 => {
            let at_s = clients.peak_at_s.unwrap_or(window_s / 2.0);
            check(
                "clients.peak_at_s",
                at_s,
                |v| v.is_finite() && (0.0..=window_s).contains(&v),
                "a number of seconds within the window, from 0 to clients.window_s",
            )?;
            let spread_s = positive_finite(
                "clients.spread_s",
                clients.spread_s.unwrap_or(window_s / 6.0),
            )?;
            Ok(ArrivalProfile::Peak { at_s, spread_s })
        }
        _ => resolve_rate_points(&clients.rate_points, window_s),
    }
}

fn resolve_rate_points(points: &[[f64; 2]], window_s: f64) -> Result<ArrivalProfile, ConfigError> {
    let key = "clients.rate_points";
    let shown = format!("{points:?}");
    if points.len() < 2 {
        return Err(ConfigError::out_of_range(
            key,
            shown,
            "at least two [time_s, rate] points",
        ));
    }
    let in_window = points
        .iter()
        .all(|[t, r]| t.is_finite() && r.is_finite() && (0.0..=window_s).contains(t) && *r >= 0.0);
    let increasing = points.windows(2).all(|pair| pair[0][0] < pair[1][0]);
    let some_rate = points.iter().any(|[_, r]| *r > 0.0);
    if !(in_window && increasing && some_rate) {
        return Err(ConfigError::out_of_range(
            key,
            shown,
            "points with times increasing within [0, clients.window_s], rates of at least 0, and some rate above 0",
        ));
    }
    Ok(ArrivalProfile::Piecewise {
        points: points.iter().map(|[t, r]| (*t, *r)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_resolve() {
        let scenario = Scenario::resolve(&ScenarioSpec::default()).unwrap();
        assert_eq!(scenario.servers, 500);
        assert_eq!(
            scenario.shard_service,
            ServiceTime::Exponential { mean_ns: 10_000.0 }
        );
        assert_eq!(scenario.buckets(), 6000);
    }

    #[test]
    fn errors_name_key_value_and_allowed_range() {
        let mut spec = ScenarioSpec::default();
        spec.redis.shards = 0;
        let message = Scenario::resolve(&spec).unwrap_err().to_string();
        assert_eq!(
            message,
            "key 'redis.shards' = 0: a whole number from 1 to 16384"
        );

        let mut spec = ScenarioSpec::default();
        spec.messages.rate_per_s = f64::NAN;
        let message = Scenario::resolve(&spec).unwrap_err().to_string();
        assert!(
            message.starts_with("key 'messages.rate_per_s' = NaN"),
            "{message}"
        );

        let mut spec = ScenarioSpec::default();
        spec.registry.strategy = "eventual".into();
        let message = Scenario::resolve(&spec).unwrap_err().to_string();
        assert_eq!(
            message,
            "key 'registry.strategy' = 'eventual': one of 'sync', 'async', 'async-batched', \
             'coalesced', 'placement', 'lazy'"
        );

        let mut spec = ScenarioSpec::default();
        spec.messages.rate_basis = "per-user".into();
        let message = Scenario::resolve(&spec).unwrap_err().to_string();
        assert_eq!(
            message,
            "key 'messages.rate_basis' = 'per-user': one of 'total', 'per-connected-user'"
        );

        // Per connected user, the bound applies to all users together.
        let mut spec = ScenarioSpec::default();
        spec.messages.rate_basis = "per-connected-user".into();
        spec.messages.rate_per_s = 2_000.0;
        let message = Scenario::resolve(&spec).unwrap_err().to_string();
        assert!(
            message.starts_with("key 'messages.rate_per_s' = 2000: a number from 0 to 1000"),
            "{message}"
        );
    }

    #[test]
    fn strategy_keys_have_ranges() {
        let mut spec = ScenarioSpec::default();
        spec.balancer.virtual_nodes = 0;
        let message = Scenario::resolve(&spec).unwrap_err().to_string();
        assert_eq!(
            message,
            "key 'balancer.virtual_nodes' = 0: a whole number from 1 to 4096"
        );

        let mut spec = ScenarioSpec::default();
        spec.balancer.virtual_nodes = 4097;
        assert!(Scenario::resolve(&spec).is_err());

        spec.balancer.virtual_nodes = 40;
        spec.registry.strategy = "placement".into();
        let scenario = Scenario::resolve(&spec).unwrap();
        assert_eq!(scenario.virtual_nodes, 40);
    }

    #[test]
    fn values_beyond_virtual_time_are_refused() {
        let mut spec = ScenarioSpec::default();
        spec.run.horizon_s = 1e12;
        let message = Scenario::resolve(&spec).unwrap_err().to_string();
        assert_eq!(
            message,
            "key 'run.horizon_s' = 1e12: a number greater than 0 and at most 1000000"
        );

        let mut spec = ScenarioSpec::default();
        spec.redis.service.mean_us = 1e300;
        let message = Scenario::resolve(&spec).unwrap_err().to_string();
        assert_eq!(
            message,
            "key 'redis.service.mean_us' = 1e300: a number greater than 0 and at most 1e9"
        );

        let mut spec = ScenarioSpec::default();
        spec.messages.rate_per_s = 2e9;
        assert!(Scenario::resolve(&spec).is_err());
    }

    #[test]
    fn default_pipelines_match_the_published_rates() {
        let scenario = Scenario::resolve(&ScenarioSpec::default()).unwrap();
        let batching = scenario.batching;
        assert_eq!((batching.batch_size, batching.linger_ns), (16, 1_000_000));

        // One write costs an unpipelined operation; 16 run at 400K ops/s.
        assert_eq!(
            batching.pipeline_mean_ns(1),
            scenario.shard_service.mean_ns()
        );
        assert_eq!(batching.pipeline_mean_ns(16), 40_000.0);
    }

    #[test]
    fn a_linger_of_zero_is_allowed_and_a_batch_of_zero_is_not() {
        let mut spec = ScenarioSpec::default();
        spec.registry.linger_ms = 0.0;
        assert_eq!(Scenario::resolve(&spec).unwrap().batching.linger_ns, 0);

        spec.registry.batch_size = 0;
        let message = Scenario::resolve(&spec).unwrap_err().to_string();
        assert_eq!(
            message,
            "key 'registry.batch_size' = 0: a whole number from 1 to 65536"
        );
    }

    #[test]
    fn another_mean_keeps_the_family() {
        let lognormal = ServiceTime::LogNormal {
            mean_ns: 10.0,
            cv: 0.5,
        };
        assert_eq!(
            lognormal.with_mean(40.0),
            ServiceTime::LogNormal {
                mean_ns: 40.0,
                cv: 0.5
            }
        );
        let exponential = ServiceTime::Exponential { mean_ns: 10.0 };
        assert_eq!(exponential.with_mean(10.0), exponential);
    }

    #[test]
    fn piecewise_points_must_increase_within_the_window() {
        let mut spec = ScenarioSpec::default();
        spec.clients.profile = "piecewise".into();
        spec.clients.rate_points = vec![[0.0, 1.0], [70.0, 0.0]];
        assert!(Scenario::resolve(&spec).is_err());
        spec.clients.rate_points = vec![[0.0, 1.0], [30.0, 5.0], [60.0, 0.0]];
        assert!(Scenario::resolve(&spec).is_ok());
    }
}
