//! Configuration errors: each one names the key, the value and what is allowed.

use thiserror::Error;

/// Why an experiment file or an override was refused. All of these are the user's to fix;
/// none is a bug in stormsim.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read file '{path}': {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },

    /// The file is not valid TOML.
    #[error("file '{path}' is not valid TOML: {message}")]
    Syntax { path: String, message: String },

    /// A key is unknown, misspelt or of the wrong type.
    #[error("key '{key}': {message}")]
    Key { key: String, message: String },

    /// A value is of the right type but outside what the model allows.
    #[error("key '{key}' = {value}: {allowed}")]
    OutOfRange {
        key: String,
        value: String,
        allowed: String,
    },

    /// A `--set` argument is not of the form `key=value`.
    #[error("override '{text}': {reason}")]
    Override { text: String, reason: String },

    /// `--variant` names a variant the experiment does not have.
    #[error("variant '{name}' is not in the experiment; it has: {available}")]
    UnknownVariant { name: String, available: String },
}

impl ConfigError {
    pub(crate) fn out_of_range(
        key: &str,
        value: impl std::fmt::Display,
        allowed: impl Into<String>,
    ) -> Self {
        Self::OutOfRange {
            key: key.to_string(),
            value: value.to_string(),
            allowed: allowed.into(),
        }
    }
}
