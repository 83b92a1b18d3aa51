//! The `[sweep]` table of an experiment file: which keys vary, over which values, and how
//! many replications each point gets.
//!
//! ```toml
//! [sweep]
//! replications = 5
//! [sweep.parameters]
//! "redis.shards" = { log = [10, 5000], points = 8 }
//! "registry.writers" = [1, 2, 4, 8]
//! "clients.window_s" = { linear = [1, 10], points = 4 }
//! ```
//!
//! Parameters combine as a full grid, the first one listed varying slowest. A list gives
//! its values as they are; `linear` and `log` give `points` evenly spaced values from the
//! first to the last bound, inclusive. When both bounds are integers the values are rounded
//! to integers and repeats dropped, so `{ log = [1, 10], points = 20 }` is 1 to 10 once
//! each.
//!
//! Replication `r` runs with [`replication_seed`]`(seed, r)`: it depends on the base seed
//! and `r` only, never on the point or the variant, so every point and every variant of a
//! replication sees the same storm (common random numbers), and differences between points
//! or variants are not drowned in storm-to-storm noise.

use toml::{Table, Value};

use crate::config::ConfigError;

/// The most values one parameter may take, and the most points a grid may have: far more
/// than a sweep can run, small enough that a typo (`points = 1e9`) is caught at once.
const MAX_POINTS: usize = 100_000;
/// The most replications of one point.
const MAX_REPLICATIONS: i64 = 10_000;

/// A validated `[sweep]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepSpec {
    /// The swept keys in the order the file lists them.
    pub parameters: Vec<Parameter>,
    pub replications: u32,
}

/// One swept key and its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    /// A dotted scenario key, such as `redis.shards`.
    pub key: String,
    pub values: Vec<Value>,
}

impl SweepSpec {
    /// Reads the raw `[sweep]` table kept by [`crate::config::Experiment`].
    pub fn from_table(table: &Table) -> Result<Self, ConfigError> {
        if let Some(key) = table
            .keys()
            .find(|k| !["replications", "parameters"].contains(&k.as_str()))
        {
            return Err(ConfigError::Key {
                key: format!("sweep.{key}"),
                message: "unknown key; [sweep] allows 'replications' and 'parameters'".into(),
            });
        }

        let replications = parse_replications(table.get("replications"))?;
        let parameters = match table.get("parameters") {
            None => Vec::new(),
            Some(Value::Table(parameters)) => parameters
                .iter()
                .map(|(key, value)| parse_parameter(key, value))
                .collect::<Result<_, _>>()?,
            Some(other) => {
                return Err(ConfigError::Key {
                    key: "sweep.parameters".into(),
                    message: format!(
                        "expected a table of \"key\" = values, found {}",
                        other.type_str()
                    ),
                });
            }
        };

        let spec = Self {
            parameters,
            replications,
        };
        spec.check_grid_size()?;
        Ok(spec)
    }

    /// Every point of the grid, each a value per parameter, the first parameter varying
    /// slowest. A sweep without parameters has one point, the experiment as written.
    pub fn points(&self) -> Vec<Vec<Value>> {
        self.parameters
            .iter()
            .fold(vec![Vec::new()], |points, parameter| {
                points
                    .iter()
                    .flat_map(|point| {
                        parameter.values.iter().map(move |value| {
                            let mut extended = point.clone();
                            extended.push(value.clone());
                            extended
                        })
                    })
                    .collect()
            })
    }

    /// The swept keys, in order.
    pub fn keys(&self) -> Vec<String> {
        self.parameters.iter().map(|p| p.key.clone()).collect()
    }

    fn check_grid_size(&self) -> Result<(), ConfigError> {
        let points = self
            .parameters
            .iter()
            .try_fold(1usize, |product, p| product.checked_mul(p.values.len()));
        match points {
            Some(points) if points <= MAX_POINTS => Ok(()),
            _ => Err(ConfigError::out_of_range(
                "sweep.parameters",
                "a grid of more points than can be counted",
                format!("at most {MAX_POINTS} points in all (the product of the value counts)"),
            )),
        }
    }
}

/// The seed of replication `replication` of a run whose scenario has seed `base_seed`.
///
/// Replication 0 keeps the base seed, so a sweep's first replication is exactly what
/// `stormsim run` gives for the same point. Later ones take the `replication`-th output of
/// a SplitMix64 generator started at the base seed: a fixed, documented mixing function, so
/// that seeds of neighbouring replications share no visible pattern.
pub fn replication_seed(base_seed: u64, replication: u32) -> u64 {
    if replication == 0 {
        return base_seed;
    }
    let mut z = base_seed.wrapping_add(u64::from(replication).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// How a swept value is written in a table column: integers and floats as numbers, strings
/// without quotes, anything else as inline TOML.
pub fn display_value(value: &Value) -> String {
    match value {
        Value::Integer(integer) => integer.to_string(),
        Value::Float(float) => float.to_string(),
        Value::String(text) => text.clone(),
        Value::Boolean(flag) => flag.to_string(),
        other => other.to_string(),
    }
}

fn parse_replications(value: Option<&Value>) -> Result<u32, ConfigError> {
    match value {
        None => Ok(1),
        Some(Value::Integer(count)) if (1..=MAX_REPLICATIONS).contains(count) => Ok(*count as u32),
        Some(other) => Err(ConfigError::out_of_range(
            "sweep.replications",
            other,
            format!("a whole number from 1 to {MAX_REPLICATIONS}"),
        )),
    }
}

fn parse_parameter(key: &str, value: &Value) -> Result<Parameter, ConfigError> {
    let name = format!("sweep.parameters.{key}");
    let allowed = "a list of values, { linear = [FROM, TO], points = N } \
                   or { log = [FROM, TO], points = N } with N from 2 to 100000";
    let bad = || ConfigError::out_of_range(&name, value, allowed);
    let valid_key = !key.is_empty()
        && key.split('.').all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
    if !valid_key {
        return Err(ConfigError::Key {
            key: name,
            message: "the key must be a dotted scenario key, for example \"redis.shards\"".into(),
        });
    }

    let values = match value {
        Value::Array(values) if !values.is_empty() && values.len() <= MAX_POINTS => values.clone(),
        Value::Table(range) => range_values(&name, value, range)?.ok_or_else(bad)?,
        _ => return Err(bad()),
    };
    Ok(Parameter {
        key: key.to_string(),
        values,
    })
}

/// The values of a `linear` or `log` range, `None` when the table is not one of them.
fn range_values(
    name: &str,
    shown: &Value,
    range: &Table,
) -> Result<Option<Vec<Value>>, ConfigError> {
    let (logarithmic, bounds) = match (range.get("linear"), range.get("log"), range.len()) {
        (Some(bounds), None, 2) => (false, bounds),
        (None, Some(bounds), 2) => (true, bounds),
        _ => return Ok(None),
    };
    let Some(points) = range.get("points").and_then(Value::as_integer) else {
        return Ok(None);
    };
    let Some([from, to]) = bounds
        .as_array()
        .map(Vec::as_slice)
        .and_then(|b| <&[Value; 2]>::try_from(b).ok())
    else {
        return Ok(None);
    };
    let (Some(low), Some(high)) = (as_number(from), as_number(to)) else {
        return Ok(None);
    };
    if !(2..=MAX_POINTS as i64).contains(&points) || !low.is_finite() || !high.is_finite() {
        return Ok(None);
    }
    if logarithmic && (low <= 0.0 || high <= 0.0) {
        return Err(ConfigError::out_of_range(
            name,
            shown,
            "log bounds greater than 0",
        ));
    }

    let integers = from.is_integer() && to.is_integer();
    Ok(Some(spaced(
        low,
        high,
        points as usize,
        logarithmic,
        integers,
    )))
}

/// `points` values from `low` to `high`, evenly spaced on a linear or logarithmic scale.
fn spaced(low: f64, high: f64, points: usize, logarithmic: bool, integers: bool) -> Vec<Value> {
    let last = (points - 1) as f64;
    let at = |i: usize| {
        let fraction = i as f64 / last;
        match (i, logarithmic) {
            (0, _) => low,
            (i, _) if i + 1 == points => high,
            (_, true) => (low.ln() + fraction * (high.ln() - low.ln())).exp(),
            (_, false) => low + fraction * (high - low),
        }
    };

    let mut values: Vec<Value> = Vec::with_capacity(points);
    for i in 0..points {
        let value = if integers {
            Value::Integer(at(i).round() as i64)
        } else {
            Value::Float(at(i))
        };
        if !values.contains(&value) {
            values.push(value);
        }
    }
    values
}

fn as_number(value: &Value) -> Option<f64> {
    match value {
        Value::Integer(integer) => Some(*integer as f64),
        Value::Float(float) => Some(*float),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> Result<SweepSpec, ConfigError> {
        let table: Table = text.parse().unwrap();
        SweepSpec::from_table(&table)
    }

    fn integers(parameter: &Parameter) -> Vec<i64> {
        parameter
            .values
            .iter()
            .map(|v| v.as_integer().unwrap())
            .collect()
    }

    #[test]
    fn log_ranges_of_integers_are_rounded_and_keep_their_bounds() {
        let spec =
            spec("[parameters]\n\"redis.shards\" = { log = [10, 5000], points = 8 }").unwrap();
        assert_eq!(
            integers(&spec.parameters[0]),
            [10, 24, 59, 143, 349, 847, 2058, 5000]
        );
        assert_eq!(spec.replications, 1);

        let spec = spec_points("{ log = [1, 10], points = 20 }");
        assert_eq!(integers(&spec.parameters[0]), (1..=10).collect::<Vec<_>>());
    }

    fn spec_points(range: &str) -> SweepSpec {
        spec(&format!("[parameters]\n\"redis.shards\" = {range}")).unwrap()
    }

    #[test]
    fn linear_ranges_of_floats_stay_floats() {
        let spec = spec_points("{ linear = [1.0, 2.0], points = 3 }");
        assert_eq!(
            spec.parameters[0].values,
            [Value::Float(1.0), Value::Float(1.5), Value::Float(2.0)]
        );
    }

    #[test]
    fn the_grid_varies_the_first_parameter_slowest() {
        let spec = spec(
            "replications = 3\n[parameters]\n\"a.b\" = [1, 2]\n\"c.d\" = [\"x\", \"y\", \"z\"]",
        )
        .unwrap();
        let points: Vec<String> = spec
            .points()
            .iter()
            .map(|p| p.iter().map(display_value).collect::<Vec<_>>().join(","))
            .collect();
        assert_eq!(points, ["1,x", "1,y", "1,z", "2,x", "2,y", "2,z"]);
        assert_eq!(spec.replications, 3);
        assert_eq!(spec.keys(), ["a.b", "c.d"]);
    }

    #[test]
    fn a_sweep_without_parameters_has_one_point() {
        let spec = spec("replications = 2").unwrap();
        assert_eq!(spec.points(), vec![Vec::<Value>::new()]);
    }

    #[test]
    fn errors_name_the_key_the_value_and_what_is_allowed() {
        let message = |text: &str| spec(text).unwrap_err().to_string();
        assert_eq!(
            message("replications = 0"),
            "key 'sweep.replications' = 0: a whole number from 1 to 10000"
        );
        assert_eq!(
            message("[parameters]\n\"redis.shards\" = { log = [0, 10], points = 3 }"),
            "key 'sweep.parameters.redis.shards' = { log = [0, 10], points = 3 }: \
             log bounds greater than 0"
        );
        assert!(
            message("[parameters]\n\"redis.shards\" = { log = [1, 10] }").starts_with(
                "key 'sweep.parameters.redis.shards' = { log = [1, 10] }: a list of values"
            )
        );
        assert!(message("[parameters]\n\"redis.shards\" = []").contains("a list of values"));
        assert!(message("replicas = 3").starts_with("key 'sweep.replicas': unknown key"));
        assert!(message("[parameters]\n\"redis..shards\" = [1]").contains("dotted scenario key"));
    }

    #[test]
    fn replication_seeds_keep_the_base_first_and_never_depend_on_anything_else() {
        assert_eq!(replication_seed(7, 0), 7);
        let seeds: Vec<u64> = (0..5).map(|r| replication_seed(7, r)).collect();
        let mut unique = seeds.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), 5);
        assert_eq!(replication_seed(7, 3), seeds[3]);
        assert_ne!(replication_seed(8, 3), seeds[3]);
    }
}
