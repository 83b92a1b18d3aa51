//! Client patience: the connect timeout and the retry back-off.
//!
//! Defaults follow gRPC's connection back-off specification (initial 1 s, multiplier 1.6,
//! cap 120 s) with the jitter modes of the AWS Architecture Blog, "Exponential Backoff And
//! Jitter" (2015). The default is one attempt and no timeout, so a scenario only retries
//! when it says so.

use serde::{Deserialize, Serialize};

use super::ConfigError;
use crate::engine::{SimTime, seconds};

/// The `[clients.retry]` table as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetrySpec {
    /// Attempts per client, the first included, before it gives up for good. Default 1.
    pub max_attempts: i64,
    /// Back-off before the second attempt, in seconds. Default 1 s (gRPC).
    pub initial_backoff_s: f64,
    /// Growth of the back-off per attempt. Default 1.6 (gRPC).
    pub multiplier: f64,
    /// Longest back-off, in seconds. Default 120 s (gRPC).
    pub max_backoff_s: f64,
    /// `none`, `full`, `equal` or `decorrelated`. Default `full`, the AWS recommendation.
    pub jitter: String,
}

impl Default for RetrySpec {
    fn default() -> Self {
        Self {
            max_attempts: 1,
            initial_backoff_s: 1.0,
            multiplier: 1.6,
            max_backoff_s: 120.0,
            jitter: "full".into(),
        }
    }
}

/// How the back-off is randomized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Jitter {
    /// Exactly the exponential back-off.
    None,
    /// Uniform between zero and the exponential back-off.
    Full,
    /// Half the exponential back-off, plus uniform up to the other half.
    Equal,
    /// Uniform between the initial back-off and three times the previous one, capped.
    Decorrelated,
}

/// A validated retry policy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub initial_backoff_ns: SimTime,
    pub multiplier: f64,
    pub max_backoff_ns: SimTime,
    pub jitter: Jitter,
}

impl RetryPolicy {
    pub fn resolve(spec: &RetrySpec) -> Result<Self, ConfigError> {
        let range = |key: &str, value: f64, ok: bool, allowed: &str| {
            if ok && value.is_finite() {
                Ok(value)
            } else {
                Err(ConfigError::out_of_range(key, value, allowed))
            }
        };
        if !(1..=1_000).contains(&spec.max_attempts) {
            return Err(ConfigError::out_of_range(
                "clients.retry.max_attempts",
                spec.max_attempts,
                "a whole number from 1 to 1000",
            ));
        }
        let initial = range(
            "clients.retry.initial_backoff_s",
            spec.initial_backoff_s,
            spec.initial_backoff_s > 0.0 && spec.initial_backoff_s <= 86_400.0,
            "a number of seconds greater than 0 and at most 86400",
        )?;
        let multiplier = range(
            "clients.retry.multiplier",
            spec.multiplier,
            (1.0..=100.0).contains(&spec.multiplier),
            "a number from 1 to 100",
        )?;
        let max_backoff = range(
            "clients.retry.max_backoff_s",
            spec.max_backoff_s,
            spec.max_backoff_s >= initial && spec.max_backoff_s <= 86_400.0,
            "a number of seconds from clients.retry.initial_backoff_s to 86400",
        )?;
        let jitter = match spec.jitter.as_str() {
            "none" => Jitter::None,
            "full" => Jitter::Full,
            "equal" => Jitter::Equal,
            "decorrelated" => Jitter::Decorrelated,
            other => {
                return Err(ConfigError::out_of_range(
                    "clients.retry.jitter",
                    format!("'{other}'"),
                    "one of 'none', 'full', 'equal', 'decorrelated'",
                ));
            }
        };
        Ok(Self {
            max_attempts: spec.max_attempts as u32,
            initial_backoff_ns: seconds(initial),
            multiplier,
            max_backoff_ns: seconds(max_backoff),
            jitter,
        })
    }
}

/// Resolves `clients.connect_timeout_s`: absent means clients wait for ever.
pub fn resolve_timeout(timeout_s: Option<f64>) -> Result<Option<SimTime>, ConfigError> {
    match timeout_s {
        None => Ok(None),
        Some(t) if t.is_finite() && t > 0.0 && t <= 86_400.0 => Ok(Some(seconds(t))),
        Some(t) => Err(ConfigError::out_of_range(
            "clients.connect_timeout_s",
            t,
            "a number of seconds greater than 0 and at most 86400 (leave it out for no timeout)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_one_attempt_with_grpc_backoff() {
        let policy = RetryPolicy::resolve(&RetrySpec::default()).unwrap();
        assert_eq!(policy.max_attempts, 1);
        assert_eq!(policy.initial_backoff_ns, 1_000_000_000);
        assert_eq!(policy.jitter, Jitter::Full);
    }

    #[test]
    fn bad_values_name_the_key() {
        let spec = RetrySpec {
            multiplier: 0.5,
            ..RetrySpec::default()
        };
        let message = RetryPolicy::resolve(&spec).unwrap_err().to_string();
        assert_eq!(
            message,
            "key 'clients.retry.multiplier' = 0.5: a number from 1 to 100"
        );
        assert!(resolve_timeout(Some(-1.0)).is_err());
        assert_eq!(resolve_timeout(None).unwrap(), None);
    }
}
