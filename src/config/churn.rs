//! Flaky connections: clients that drop a connection on their own and reconnect.
//!
//! A storm's clients are mostly phones, and at midnight on New Year's Eve many of them are
//! on crowded cells, so some connections drop within seconds of being established and the
//! client connects again. The model keeps it to two numbers: the share of connections that
//! are flaky, and how long a flaky connection lives (exponential, so a drop is equally
//! likely at every instant of its life). Each new connection is flaky or not on its own,
//! so a client can drop several times. The default is no churn.

use serde::{Deserialize, Serialize};

use super::ConfigError;
use crate::engine::{NANOS_PER_S, SimTime};

/// The `[clients.churn]` table as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChurnSpec {
    /// Share of established connections that drop on their own, from 0 to 1. Default 0: no
    /// connection drops unless a fault cuts it.
    pub flaky_share: f64,
    /// Mean life of a flaky connection, in seconds, exponential. Default 5 s: an
    /// assumption, a connection lost on a crowded cell soon after it came up.
    pub mean_connected_s: f64,
}

impl Default for ChurnSpec {
    fn default() -> Self {
        Self {
            flaky_share: 0.0,
            mean_connected_s: 5.0,
        }
    }
}

/// A validated churn: `None` when no connection is flaky.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ChurnPolicy {
    pub flaky_share: f64,
    pub mean_connected_ns: f64,
}

impl ChurnPolicy {
    pub fn resolve(spec: &ChurnSpec) -> Result<Option<Self>, ConfigError> {
        let share = spec.flaky_share;
        if !(share.is_finite() && (0.0..=1.0).contains(&share)) {
            return Err(ConfigError::out_of_range(
                "clients.churn.flaky_share",
                share,
                "a number from 0 to 1",
            ));
        }
        let mean_s = spec.mean_connected_s;
        if !(mean_s.is_finite() && mean_s > 0.0 && mean_s <= 86_400.0) {
            return Err(ConfigError::out_of_range(
                "clients.churn.mean_connected_s",
                mean_s,
                "a number of seconds greater than 0 and at most 86400",
            ));
        }
        Ok((share > 0.0).then_some(Self {
            flaky_share: share,
            mean_connected_ns: mean_s * NANOS_PER_S as f64,
        }))
    }

    /// The mean life of a flaky connection, in whole nanoseconds (for estimates).
    pub fn mean_connected(&self) -> SimTime {
        self.mean_connected_ns.round() as SimTime
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_share_is_no_churn() {
        assert_eq!(ChurnPolicy::resolve(&ChurnSpec::default()).unwrap(), None);
        let spec = ChurnSpec {
            flaky_share: 0.25,
            mean_connected_s: 2.0,
        };
        let policy = ChurnPolicy::resolve(&spec).unwrap().unwrap();
        assert_eq!(policy.mean_connected(), 2_000_000_000);
    }

    #[test]
    fn bad_values_name_the_key() {
        let spec = ChurnSpec {
            flaky_share: 1.5,
            ..ChurnSpec::default()
        };
        assert_eq!(
            ChurnPolicy::resolve(&spec).unwrap_err().to_string(),
            "key 'clients.churn.flaky_share' = 1.5: a number from 0 to 1"
        );
        let spec = ChurnSpec {
            flaky_share: 0.1,
            mean_connected_s: 0.0,
        };
        assert_eq!(
            ChurnPolicy::resolve(&spec).unwrap_err().to_string(),
            "key 'clients.churn.mean_connected_s' = 0: a number of seconds greater than 0 and \
             at most 86400"
        );
    }
}
