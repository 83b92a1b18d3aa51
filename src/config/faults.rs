//! Faults declared in the scenario, at virtual times: connection server crashes.
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
}

/// One `[[faults.server_crashes]]` entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerCrashSpec {
    /// Index of the connection server, from 0.
    pub server: u64,
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

/// Validates the crashes against the fleet and the horizon.
pub fn resolve_crashes(
    spec: &FaultsSpec,
    servers: u32,
    horizon_ns: SimTime,
) -> Result<Vec<ServerCrash>, ConfigError> {
    let mut crashes = Vec::with_capacity(spec.server_crashes.len());
    for (index, crash) in spec.server_crashes.iter().enumerate() {
        let key = |field: &str| format!("faults.server_crashes[{index}].{field}");
        if crash.server >= u64::from(servers) {
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

    fn spec(crashes: &[(u64, f64)]) -> FaultsSpec {
        FaultsSpec {
            server_crashes: crashes
                .iter()
                .map(|&(server, at_s)| ServerCrashSpec { server, at_s })
                .collect(),
        }
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
