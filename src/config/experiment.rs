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
}

impl Experiment {
    /// Reads and validates an experiment file, applying `overrides` to every variant.
    pub fn load(path: &Path, overrides: &[Override]) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
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
        let mut base: Table =
            text.parse()
                .map_err(|error: toml::de::Error| ConfigError::Syntax {
                    path: origin.to_string(),
                    message: error.message().to_string(),
                })?;

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
                Ok(Variant {
                    name: variant_name.clone(),
                    scenario: resolve_table(&variant_table(&base, table, overrides)?)?,
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
pub fn resolve_table(table: &Table) -> Result<Scenario, ConfigError> {
    let value = Value::Table(table.clone());
    let spec: ScenarioSpec = serde_path_to_error::deserialize(value).map_err(|error| {
        let key = error.path().to_string();
        let message = error.inner().to_string();
        let message = message.lines().next().unwrap_or_default().to_string();
        ConfigError::Key { key, message }
    })?;
    Scenario::resolve(&spec)
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
