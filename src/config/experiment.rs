//! Experiment files: a base scenario, named variants that override keys, a description.
//!
//! ```toml
//! description = "Does an async registry keep connect latency flat?"
//! seed = 7
//! [redis]
//! shards = 64
//! [variants.sync]
//! registry.strategy = "sync"
//! [variants.async]
//! registry.strategy = "async"
//! ```
//!
//! Variants run in the order the file lists them. A file without variants has one, named
//! `base`. Overrides given on the command line apply to every variant, after the variant's
//! own keys.

use std::path::Path;

use serde::Serialize;
use toml::{Table, Value};

use super::overrides::{Override, merge};
use super::schema::ScenarioSpec;
use super::{ConfigError, Scenario};

/// A parsed, validated experiment: every variant already resolved.
#[derive(Debug, Clone, Serialize)]
pub struct Experiment {
    /// The file's stem, which names its output directory.
    pub name: String,
    pub description: String,
    pub variants: Vec<Variant>,
    /// The `[sweep]` table, kept raw for the sweep runner to interpret.
    #[serde(skip)]
    pub sweep: Option<Table>,
    /// The base table with command-line overrides applied, before any variant's keys.
    #[serde(skip)]
    pub base: Table,
    #[serde(skip)]
    pub variant_tables: Vec<(String, Table)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Variant {
    pub name: String,
    pub scenario: Scenario,
    /// The scenario in the file's own keys and units, every default filled in: what
    /// `stormsim check` shows, so that any line of it can be pasted into a file.
    #[serde(skip)]
    pub keys: Table,
}

impl Experiment {
    /// Reads and validates an experiment file, applying `overrides` to every variant.
    pub fn load(path: &Path, overrides: &[Override]) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|reason| ConfigError::Read {
            path: path.display().to_string(),
            reason,
        })?;
        let name = path
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_else(|| "experiment".into());
        Self::parse(&name, &path.display().to_string(), &text, overrides)
    }

    /// Parses experiment text; `origin` names it in error messages.
    pub fn parse(
        name: &str,
        origin: &str,
        text: &str,
        overrides: &[Override],
    ) -> Result<Self, ConfigError> {
        let mut base: Table = text
            .parse()
            .map_err(|error| ConfigError::syntax(origin, text, &error))?;

        let description = match base.remove("description") {
            None => String::new(),
            Some(Value::String(text)) => text,
            Some(other) => return Err(wrong_type("description", "a string", &other)),
        };
        let sweep = match base.remove("sweep") {
            None => None,
            Some(Value::Table(table)) => Some(table),
            Some(other) => return Err(wrong_type("sweep", "a table", &other)),
        };
        let variant_tables = take_variants(&mut base)?;
        for item in overrides {
            item.apply(&mut base)?;
        }

        let variants = variant_tables
            .iter()
            .map(|(variant_name, table)| {
                let runs = variant_table(&base, table, overrides)?;
                let (scenario, keys) = resolve_table_with_keys(&runs)
                    .map_err(|error| blame_variant(error, variant_name, table, overrides))?;
                Ok(Variant {
                    name: variant_name.clone(),
                    scenario,
                    keys,
                })
            })
            .collect::<Result<Vec<_>, ConfigError>>()?;

        Ok(Self {
            name: name.to_string(),
            description,
            variants,
            sweep,
            base,
            variant_tables,
        })
    }

    /// Keeps only the variant called `name`.
    pub fn select_variant(&mut self, name: &str) -> Result<(), ConfigError> {
        if !self.variants.iter().any(|v| v.name == name) {
            let available: Vec<&str> = self.variants.iter().map(|v| v.name.as_str()).collect();
            return Err(ConfigError::UnknownVariant {
                name: name.to_string(),
                available: available.join(", "),
            });
        }
        self.variants.retain(|v| v.name == name);
        self.variant_tables.retain(|(n, _)| n == name);
        Ok(())
    }
}

/// The table a variant runs: the base, the variant's keys, then the overrides again so the
/// command line wins over the file.
pub fn variant_table(
    base: &Table,
    variant: &Table,
    overrides: &[Override],
) -> Result<Table, ConfigError> {
    let mut table = base.clone();
    merge(&mut table, variant);
    for item in overrides {
        item.apply(&mut table)?;
    }
    Ok(table)
}

/// Deserializes a scenario table (unknown keys and wrong types are refused with the key's
/// full path) and resolves it.
///
/// The table is laid over the defaults first, so that a partial nested table (say
/// `redis.service.mean_us` alone) keeps the defaults of its other keys.
pub fn resolve_table(table: &Table) -> Result<Scenario, ConfigError> {
    resolve_table_with_keys(table).map(|(scenario, _)| scenario)
}

/// [`resolve_table`], with every key of the scenario as read: the defaults of optional
/// tables the file sets (a `cv` left out of `network.rtt`, say) filled in too.
fn resolve_table_with_keys(table: &Table) -> Result<(Scenario, Table), ConfigError> {
    let full = with_defaults(table);
    let spec: ScenarioSpec =
        serde_path_to_error::deserialize(Value::Table(full)).map_err(|error| {
            ConfigError::refused_key(error.path().to_string(), error.inner().message())
        })?;
    let scenario = Scenario::resolve(&spec)?;
    let keys = Table::try_from(&spec).expect("a scenario read from TOML is representable in TOML");
    Ok((scenario, keys))
}

/// A scenario table laid over the defaults: every key, as a scenario file would write it.
/// Optional keys left unset (a timeout of "for ever", say) stay absent.
pub fn with_defaults(table: &Table) -> Table {
    let mut full = Table::try_from(ScenarioSpec::default())
        .expect("the default scenario is representable in TOML");
    merge(&mut full, table);
    full
}

/// Names a refused key as `variants.NAME.KEY` when the variant's own table set it (and no
/// command-line override replaced it), so the message points at the line to fix.
fn blame_variant(
    error: ConfigError,
    variant: &str,
    table: &Table,
    overrides: &[Override],
) -> ConfigError {
    let blamed = |key: String| {
        let overridden = overrides
            .iter()
            .any(|item| key == item.key || key.starts_with(&format!("{}.", item.key)));
        if !overridden && sets_key(table, &key) {
            format!("variants.{variant}.{key}")
        } else {
            key
        }
    };
    match error {
        ConfigError::Key { key, message } => ConfigError::Key {
            key: blamed(key),
            message,
        },
        ConfigError::OutOfRange {
            key,
            value,
            allowed,
        } => ConfigError::OutOfRange {
            key: blamed(key),
            value,
            allowed,
        },
        other => other,
    }
}

/// Whether `table` holds the dotted `key` (array indices such as `[0]` ignored).
fn sets_key(table: &Table, key: &str) -> bool {
    let mut parts = key
        .split('.')
        .map(|part| part.split('[').next().unwrap_or(part));
    let Some(first) = parts.next() else {
        return false;
    };
    let mut current = table.get(first);
    for part in parts {
        current = current
            .and_then(Value::as_table)
            .and_then(|inner| inner.get(part));
    }
    current.is_some()
}

fn take_variants(base: &mut Table) -> Result<Vec<(String, Table)>, ConfigError> {
    match base.remove("variants") {
        None => Ok(vec![("base".to_string(), Table::new())]),
        Some(Value::Table(variants)) if variants.is_empty() => Err(ConfigError::out_of_range(
            "variants",
            "{}",
            "at least one [variants.NAME] table",
        )),
        Some(Value::Table(variants)) => variants
            .into_iter()
            .map(|(name, value)| match value {
                Value::Table(table) if valid_name(&name) => Ok((name, table)),
                Value::Table(_) => Err(ConfigError::out_of_range(
                    "variants",
                    format!("'{name}'"),
                    "variant names of letters, digits, '-' and '_' (they name directories)",
                )),
                other => Err(wrong_type(&format!("variants.{name}"), "a table", &other)),
            })
            .collect(),
        Some(other) => Err(wrong_type(
            "variants",
            "a table of [variants.NAME] tables",
            &other,
        )),
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn wrong_type(key: &str, expected: &str, found: &Value) -> ConfigError {
    ConfigError::Key {
        key: key.to_string(),
        message: format!("expected {expected}, found {}", found.type_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
description = "a question"
seed = 5
[redis]
shards = 4
[variants.sync]
registry.strategy = "sync"
[variants.async]
registry.strategy = "async"
"#;

    #[test]
    fn variants_keep_file_order_and_inherit_the_base() {
        let experiment = Experiment::parse("x", "x.toml", FILE, &[]).unwrap();
        let names: Vec<&str> = experiment
            .variants
            .iter()
            .map(|v| v.name.as_str())
            .collect();
        assert_eq!(names, ["sync", "async"]);
        assert!(
            experiment
                .variants
                .iter()
                .all(|v| v.scenario.shards == 4 && v.scenario.seed == 5)
        );
        assert_eq!(experiment.description, "a question");
    }

    #[test]
    fn command_line_overrides_beat_variant_keys() {
        let set = [Override::parse("registry.strategy=sync").unwrap()];
        let experiment = Experiment::parse("x", "x.toml", FILE, &set).unwrap();
        assert!(
            experiment
                .variants
                .iter()
                .all(|v| v.scenario.strategy.name() == "sync")
        );
    }

    #[test]
    fn a_partial_nested_table_keeps_the_other_defaults() {
        let text = "[connection_servers.handshake]\nmean_us = 400";
        let experiment = Experiment::parse("x", "x.toml", text, &[]).unwrap();
        assert_eq!(
            experiment.variants[0].scenario.handshake,
            crate::config::ServiceTime::LogNormal {
                mean_ns: 400_000.0,
                cv: 0.5
            }
        );
    }

    #[test]
    fn keys_a_variant_sets_are_named_in_the_variant() {
        let text = "[variants.wide]\nredis.shards = 0\n[variants.narrow]";
        let error = Experiment::parse("x", "x.toml", text, &[]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "key 'variants.wide.redis.shards' = 0: a whole number from 1 to 16384"
        );

        let set = [Override::parse("redis.shards=0").unwrap()];
        let error = Experiment::parse("x", "x.toml", text, &set).unwrap_err();
        assert!(
            error.to_string().starts_with("key 'redis.shards' = 0"),
            "{error}"
        );
    }

    #[test]
    fn unknown_keys_are_named_with_their_path() {
        let error = Experiment::parse("x", "x.toml", "[redis]\nshardz = 3", &[]).unwrap_err();
        let message = error.to_string();
        assert!(
            message.starts_with("key 'redis.shardz': unknown field `shardz`"),
            "{message}"
        );

        let error =
            Experiment::parse("x", "x.toml", "[redis]\nshards = \"many\"", &[]).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("key 'redis.shards': invalid type"),
            "{error}"
        );
    }
}
