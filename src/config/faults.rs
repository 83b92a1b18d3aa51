//! Faults declared in the scenario, at virtual times: connection server crashes and Redis
//! primary outages.
//!
//! A fault is part of the scenario, not of chance: it happens at the instant the file
//! names, in every variant and replication alike, so that a comparison of strategies under
//! a crash compares their reaction to the same crash.

use serde::{Deserialize, Serialize};

use super::ConfigError;
use crate::engine::{SimTime, seconds};

/// The `[faults]` table as written.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultsSpec {
    /// `[[faults.server_crashes]]`: connection servers that die during the run.
    pub server_crashes: Vec<ServerCrashSpec>,
    /// `[[faults.shard_outages]]`: Redis primaries that go down for a while, until a
    /// replica is promoted.
    pub shard_outages: Vec<ShardOutageSpec>,
}

/// One `[[faults.shard_outages]]` entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardOutageSpec {
    /// Index of the primary, from 0.
    pub shard: i64,
    /// When it goes down, in seconds of virtual time.
    pub at_s: f64,
    /// How long until its replica is promoted and serves in its place (the failover), in
    /// seconds. Redis Cluster promotes a replica once the primary has been unreachable for
    /// `cluster-node-timeout` (15 s by default in redis.conf) plus an election of about a
    /// second, so 15 to 20 s is typical.
    pub duration_s: f64,
}

/// One `[[faults.server_crashes]]` entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerCrashSpec {
    /// Index of the connection server, from 0.
    pub server: i64,
    /// When it dies, in seconds of virtual time. It stays down for the rest of the run:
    /// the balancer sends no one there, and its clients reconnect elsewhere.
    pub at_s: f64,
}

/// A validated server crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ServerCrash {
    pub server: u32,
    pub at_ns: SimTime,
}

/// A validated primary outage: down during `[start_ns, end_ns)`, served again by its
/// promoted replica from `end_ns`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ShardOutage {
    pub shard: u32,
    pub start_ns: SimTime,
    pub end_ns: SimTime,
}

/// Validates the outages against the cluster and the horizon. Outages of one primary may
/// not overlap (a primary that is down cannot go down again).
pub fn resolve_outages(
    spec: &FaultsSpec,
    shards: u32,
    horizon_ns: SimTime,
) -> Result<Vec<ShardOutage>, ConfigError> {
    let mut outages: Vec<ShardOutage> = Vec::with_capacity(spec.shard_outages.len());
    for (index, outage) in spec.shard_outages.iter().enumerate() {
        let key = |field: &str| format!("faults.shard_outages[{index}].{field}");
        if !(0..i64::from(shards)).contains(&outage.shard) {
            return Err(ConfigError::out_of_range(
                &key("shard"),
                outage.shard,
                format!(
                    "a primary index from 0 to {} (redis.shards - 1)",
                    shards - 1
                ),
            ));
        }
        let horizon_s = horizon_ns as f64 / 1e9;
        if !(outage.at_s.is_finite() && outage.at_s >= 0.0 && seconds(outage.at_s) < horizon_ns) {
            return Err(ConfigError::out_of_range(
                &key("at_s"),
                outage.at_s,
                format!("a number of seconds from 0 to below run.horizon_s ({horizon_s})"),
            ));
        }
        if !(outage.duration_s.is_finite() && seconds(outage.duration_s) > 0) {
            return Err(ConfigError::out_of_range(
                &key("duration_s"),
                outage.duration_s,
                "a number of seconds greater than 0",
            ));
        }
        // A failover after the horizon is never seen: the primary is down to the end.
        let start_ns = seconds(outage.at_s);
        let resolved = ShardOutage {
            shard: outage.shard as u32,
            start_ns,
            end_ns: start_ns
                .saturating_add(seconds(outage.duration_s))
                .min(horizon_ns),
        };
        let overlaps = outages.iter().any(|o| {
            o.shard == resolved.shard
                && o.start_ns < resolved.end_ns
                && resolved.start_ns < o.end_ns
        });
        if overlaps {
            return Err(ConfigError::out_of_range(
                &key("at_s"),
                outage.at_s,
                "a time outside the earlier outages of the same primary",
            ));
        }
        outages.push(resolved);
    }
    outages.sort_by_key(|o| (o.shard, o.start_ns));
    Ok(outages)
}

/// Validates the crashes against the fleet and the horizon.
pub fn resolve_crashes(
    spec: &FaultsSpec,
    servers: u32,
    horizon_ns: SimTime,
) -> Result<Vec<ServerCrash>, ConfigError> {
    let mut crashes = Vec::with_capacity(spec.server_crashes.len());
    for (index, crash) in spec.server_crashes.iter().enumerate() {
        let key = |field: &str| format!("faults.server_crashes[{index}].{field}");
        if !(0..i64::from(servers)).contains(&crash.server) {
            return Err(ConfigError::out_of_range(
                &key("server"),
                crash.server,
                format!(
                    "a server index from 0 to {} (connection_servers.count - 1)",
                    servers - 1
                ),
            ));
        }
        let horizon_s = horizon_ns as f64 / 1e9;
        if !(crash.at_s.is_finite() && crash.at_s >= 0.0 && seconds(crash.at_s) < horizon_ns) {
            return Err(ConfigError::out_of_range(
                &key("at_s"),
                crash.at_s,
                format!("a number of seconds from 0 to below run.horizon_s ({horizon_s})"),
            ));
        }
        let server = crash.server as u32;
        if crashes.iter().any(|c: &ServerCrash| c.server == server) {
            return Err(ConfigError::out_of_range(
                &key("server"),
                crash.server,
                "a server not already crashed by an earlier entry (a crashed server stays down)",
            ));
        }
        crashes.push(ServerCrash {
            server,
            at_ns: seconds(crash.at_s),
        });
    }
    if !crashes.is_empty() && crashes.len() == servers as usize {
        return Err(ConfigError::out_of_range(
            "faults.server_crashes",
            format!("{} crashes", crashes.len()),
            format!("fewer crashes than servers ({servers}): one must stay up to reconnect to"),
        ));
    }
    Ok(crashes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(crashes: &[(i64, f64)]) -> FaultsSpec {
        FaultsSpec {
            server_crashes: crashes
                .iter()
                .map(|&(server, at_s)| ServerCrashSpec { server, at_s })
                .collect(),
            shard_outages: Vec::new(),
        }
    }

    fn outages(outages: &[(i64, f64, f64)]) -> FaultsSpec {
        FaultsSpec {
            server_crashes: Vec::new(),
            shard_outages: outages
                .iter()
                .map(|&(shard, at_s, duration_s)| ShardOutageSpec {
                    shard,
                    at_s,
                    duration_s,
                })
                .collect(),
        }
    }

    #[test]
    fn outages_resolve_sorted_by_primary_and_time() {
        let spec = outages(&[(1, 5.0, 2.0), (0, 3.0, 15.0), (1, 1.0, 1.0)]);
        let resolved = resolve_outages(&spec, 2, seconds(10.0)).unwrap();
        let windows: Vec<_> = resolved
            .iter()
            .map(|o| (o.shard, o.start_ns, o.end_ns))
            .collect();
        assert_eq!(
            windows,
            vec![
                // Its failover would come after the 10 s horizon.
                (0, 3_000_000_000, 10_000_000_000),
                (1, 1_000_000_000, 2_000_000_000),
                (1, 5_000_000_000, 7_000_000_000),
            ]
        );
    }

    #[test]
    fn impossible_outages_name_the_key() {
        let horizon = seconds(10.0);
        let message =
            |spec: FaultsSpec| resolve_outages(&spec, 4, horizon).unwrap_err().to_string();
        assert_eq!(
            message(outages(&[(4, 1.0, 1.0)])),
            "key 'faults.shard_outages[0].shard' = 4: a primary index from 0 to 3 \
             (redis.shards - 1)"
        );
        assert_eq!(
            message(outages(&[(0, 1.0, 0.0)])),
            "key 'faults.shard_outages[0].duration_s' = 0: a number of seconds greater than 0"
        );
        assert_eq!(
            message(outages(&[(0, 1.0, 5.0), (0, 3.0, 1.0)])),
            "key 'faults.shard_outages[1].at_s' = 3: a time outside the earlier outages of \
             the same primary"
        );
        assert!(message(outages(&[(0, 10.0, 1.0)])).contains("at_s"));
        assert!(message(outages(&[(0, f64::NAN, 1.0)])).contains("at_s"));
    }

    #[test]
    fn crashes_resolve_to_nanoseconds() {
        let crashes = resolve_crashes(&spec(&[(1, 2.5)]), 4, seconds(10.0)).unwrap();
        assert_eq!(
            crashes,
            vec![ServerCrash {
                server: 1,
                at_ns: 2_500_000_000
            }]
        );
    }

    #[test]
    fn impossible_crashes_name_the_key() {
        let horizon = seconds(10.0);
        let message = resolve_crashes(&spec(&[(4, 1.0)]), 4, horizon)
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "key 'faults.server_crashes[0].server' = 4: a server index from 0 to 3 \
             (connection_servers.count - 1)"
        );
        let message = resolve_crashes(&spec(&[(0, 10.0)]), 4, horizon)
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with("key 'faults.server_crashes[0].at_s' = 10:"),
            "{message}"
        );
        assert!(resolve_crashes(&spec(&[(0, 1.0), (0, 2.0)]), 4, horizon).is_err());
        assert!(resolve_crashes(&spec(&[(0, 1.0), (1, 2.0)]), 2, horizon).is_err());
    }
}
