//! Dotted-key overrides: `--set redis.shards=64`, and the keys a variant overrides.
//!
//! Both work on the TOML table before it is deserialized, so an override goes through
//! exactly the same checks as a value written in the file.

use toml::{Table, Value};

use super::ConfigError;

/// One `key=value` override. The value is read as a TOML value (`64`, `1e6`, `true`,
/// `"text"`, `[[0, 1], [5, 2]]`); a bare word that is not valid TOML is taken as a string,
/// so `--set registry.strategy=sync` needs no quotes.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub key: String,
    pub value: Value,
}

impl Override {
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let bad = |reason: &str| ConfigError::Override {
            text: text.to_string(),
            reason: reason.to_string(),
        };
        let (key, raw_value) = text
            .split_once('=')
            .ok_or_else(|| bad("expected key=value, for example redis.shards=64"))?;
        let key = key.trim();
        let valid_key = !key.is_empty()
            && key.split('.').all(|part| {
                !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
        if !valid_key {
            return Err(bad(
                "the key must be dotted words, for example redis.shards",
            ));
        }
        let raw_value = raw_value.trim();
        let value = match format!("v = {raw_value}").parse::<Table>() {
            Ok(mut table) => table.remove("v").expect("the parsed table holds v"),
            Err(_) => Value::String(raw_value.to_string()),
        };
        Ok(Self {
            key: key.to_string(),
            value,
        })
    }

    /// Writes the value into `table` at the dotted key, creating tables on the way.
    pub fn apply(&self, table: &mut Table) -> Result<(), ConfigError> {
        let mut parts: Vec<&str> = self.key.split('.').collect();
        let last = parts.pop().expect("a key has at least one part");
        let mut current = table;
        let mut path = String::new();
        for part in parts {
            path = if path.is_empty() {
                part.to_string()
            } else {
                format!("{path}.{part}")
            };
            let entry = current
                .entry(part.to_string())
                .or_insert_with(|| Value::Table(Table::new()));
            current = entry.as_table_mut().ok_or_else(|| ConfigError::Key {
                key: path.clone(),
                message: format!("is a value, so '{}' cannot be set below it", self.key),
            })?;
        }
        current.insert(last.to_string(), self.value.clone());
        Ok(())
    }
}

/// Merges `overlay` into `base`: tables merge key by key, any other value replaces.
pub fn merge(base: &mut Table, overlay: &Table) {
    for (key, value) in overlay {
        match (base.get_mut(key), value) {
            (Some(Value::Table(inner)), Value::Table(overlay_inner)) => merge(inner, overlay_inner),
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_numbers_words_and_arrays() {
        assert_eq!(
            Override::parse("redis.shards=64").unwrap().value,
            Value::Integer(64)
        );
        assert_eq!(
            Override::parse("registry.strategy=sync").unwrap().value,
            Value::String("sync".into())
        );
        let points = Override::parse("clients.rate_points=[[0, 1], [5, 2]]").unwrap();
        assert!(points.value.is_array());
    }

    #[test]
    fn refuses_text_without_equals_or_with_a_bad_key() {
        assert!(Override::parse("redis.shards").is_err());
        assert!(Override::parse("redis..shards=3").is_err());
        assert!(Override::parse("=3").is_err());
    }

    #[test]
    fn apply_creates_tables_and_merge_keeps_siblings() {
        let mut table: Table = "[redis]\nshards = 4\n[redis.service]\nmean_us = 10"
            .parse()
            .unwrap();
        Override::parse("redis.service.distribution=deterministic")
            .unwrap()
            .apply(&mut table)
            .unwrap();
        let overlay: Table = "[redis]\nshards = 8".parse().unwrap();
        merge(&mut table, &overlay);
        assert_eq!(table["redis"]["shards"].as_integer(), Some(8));
        assert_eq!(table["redis"]["service"]["mean_us"].as_integer(), Some(10));
        assert_eq!(
            table["redis"]["service"]["distribution"].as_str(),
            Some("deterministic")
        );
    }

    #[test]
    fn setting_below_a_value_is_an_error() {
        let mut table: Table = "seed = 3".parse().unwrap();
        let error = Override::parse("seed.x=1")
            .unwrap()
            .apply(&mut table)
            .unwrap_err();
        assert!(error.to_string().starts_with("key 'seed'"));
    }
}
