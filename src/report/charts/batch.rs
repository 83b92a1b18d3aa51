//! Reading a sweep's and a plan's tables back for their charts.
//!
//! The tables are read by column name, not through the sweep's own types, so that the
//! charts depend only on what the files say: `sweep.csv` (a row per point and variant,
//! `<figure>_mean`, `_sd` and `_ci95` per headline figure), `timeseries-bands.csv` (a row
//! per point, variant and bucket, `<column>_mean` and `_ci95`) and `plan.csv` (a row per
//! value the planner visited). The swept parameters are the columns between `variant`
//! and the first column that is not a parameter.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};

/// One row of a table: its variant, the values of the swept parameters, and every other
/// numeric cell by column name (an empty cell, such as a drain time that never came, is
/// simply absent).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub variant: String,
    pub point: Vec<f64>,
    pub cells: BTreeMap<String, f64>,
    /// Cells that are not numbers, such as `holds_on_mean`.
    pub words: BTreeMap<String, String>,
}

impl Row {
    pub fn get(&self, column: &str) -> Option<f64> {
        self.cells.get(column).copied()
    }

    /// The mean of `figure` and its 95% confidence half-width (zero when not given).
    pub fn mean_ci(&self, figure: &str) -> Option<(f64, f64)> {
        let mean = self.get(&format!("{figure}_mean"))?;
        let ci95 = self.get(&format!("{figure}_ci95")).unwrap_or(0.0);
        Some((mean, ci95))
    }
}

/// A table of a sweep or a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchTable {
    pub parameters: Vec<String>,
    pub rows: Vec<Row>,
}

impl BatchTable {
    /// Reads `path`; the parameters are the columns after `variant` up to (not including)
    /// the first of `after_parameters`.
    pub fn load(path: &Path, after_parameters: &[&str]) -> Result<Self> {
        let mut reader = csv::Reader::from_path(path)
            .with_context(|| format!("cannot read file '{}'", path.display()))?;
        let header: Vec<String> = reader.headers()?.iter().map(str::to_string).collect();
        if header.first().map(String::as_str) != Some("variant") {
            bail!(
                "file '{}' does not start with a 'variant' column",
                path.display()
            );
        }
        let end = header
            .iter()
            .position(|name| after_parameters.contains(&name.as_str()))
            .with_context(|| {
                format!(
                    "file '{}' has none of the columns {after_parameters:?}",
                    path.display()
                )
            })?;
        let parameters = header[1..end].to_vec();

        let mut rows = Vec::new();
        for (index, record) in reader.records().enumerate() {
            let record = record.with_context(|| format!("file '{}'", path.display()))?;
            rows.push(
                parse_row(&header, end, &record)
                    .with_context(|| format!("file '{}', row {}", path.display(), index + 1))?,
            );
        }
        Ok(Self { parameters, rows })
    }

    /// The variants in the order they first appear.
    pub fn variants(&self) -> Vec<String> {
        let mut variants: Vec<String> = Vec::new();
        for row in &self.rows {
            if !variants.contains(&row.variant) {
                variants.push(row.variant.clone());
            }
        }
        variants
    }

    /// The distinct points, in the order they first appear.
    pub fn points(&self) -> Vec<Vec<f64>> {
        let mut points: Vec<Vec<f64>> = Vec::new();
        for row in &self.rows {
            if !points.contains(&row.point) {
                points.push(row.point.clone());
            }
        }
        points
    }

    /// `redis.shards = 100, registry.writers = 8`.
    pub fn describe_point(&self, point: &[f64]) -> String {
        let parts: Vec<String> = self
            .parameters
            .iter()
            .zip(point)
            .map(|(name, value)| format!("{name} = {}", super::format::count(*value)))
            .collect();
        parts.join(", ")
    }
}

fn parse_row(header: &[String], end: usize, record: &csv::StringRecord) -> Result<Row> {
    let cell = |index: usize| record.get(index).unwrap_or("");
    let point = (1..end)
        .map(|index| {
            cell(index).parse::<f64>().with_context(|| {
                format!(
                    "parameter '{}' is not a number: '{}'",
                    header[index],
                    cell(index)
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;

    let mut cells = BTreeMap::new();
    let mut words = BTreeMap::new();
    for (index, name) in header.iter().enumerate().skip(end) {
        let text = cell(index);
        match text.parse::<f64>() {
            Ok(value) if value.is_finite() => {
                cells.insert(name.clone(), value);
            }
            _ if !text.is_empty() => {
                words.insert(name.clone(), text.to_string());
            }
            _ => {}
        }
    }
    Ok(Row {
        variant: cell(0).to_string(),
        point,
        cells,
        words,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_sit_between_variant_and_the_figures() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("sweep.csv");
        std::fs::write(
            &path,
            "variant,redis.shards,replications,miss_rate_mean,miss_rate_ci95,\
             all_registered_at_s_mean\nsync,10,3,0.5,0.1,\nasync,10,3,0.25,,12\n",
        )
        .unwrap();
        let table = BatchTable::load(&path, &["replications"]).unwrap();
        assert_eq!(table.parameters, vec!["redis.shards".to_string()]);
        assert_eq!(table.variants(), vec!["sync", "async"]);
        assert_eq!(table.points(), vec![vec![10.0]]);
        assert_eq!(table.rows[0].mean_ci("miss_rate"), Some((0.5, 0.1)));
        assert_eq!(table.rows[1].mean_ci("miss_rate"), Some((0.25, 0.0)));
        assert_eq!(table.rows[0].get("all_registered_at_s_mean"), None);
        assert_eq!(table.describe_point(&[1000.0]), "redis.shards = 1K");
    }

    #[test]
    fn a_table_without_the_expected_columns_is_refused() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("sweep.csv");
        std::fs::write(&path, "variant,x\nsync,1\n").unwrap();
        let error = BatchTable::load(&path, &["replications"]).unwrap_err();
        assert!(error.to_string().contains("has none of the columns"));
    }
}
