//! Reading a run's results back from `output/<experiment>/` for the charts and the report.
//!
//! Everything drawn comes from the files a run wrote: `summary.csv` gives the variants and
//! their order, each variant's `timeseries.csv` and `latency.csv` the curves, and its
//! `manifest.json` the provenance. The manifest is optional, so charts can still be drawn
//! from the CSV files alone (the footer then says what it could not find).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::de::DeserializeOwned;

use crate::report::SummaryRow;
use crate::report::tables::{LatencyRow, SeriesRow};

/// One variant of a run, as its files describe it.
#[derive(Debug, Clone)]
pub struct VariantData {
    pub summary: SummaryRow,
    pub series: Vec<SeriesRow>,
    pub latency: Vec<LatencyRow>,
    /// `manifest.json`, when it was found.
    pub manifest: Option<serde_json::Value>,
}

/// A run of every variant of one experiment.
#[derive(Debug, Clone)]
pub struct RunData {
    pub experiment: String,
    pub directory: PathBuf,
    pub variants: Vec<VariantData>,
}

impl RunData {
    /// Reads `directory` (an `output/<experiment>/` directory written by `run`).
    pub fn load(directory: &Path) -> Result<Self> {
        let summaries: Vec<SummaryRow> = read_csv(&directory.join("summary.csv"))?;
        if summaries.is_empty() {
            bail!(
                "file '{}' lists no variant; run the experiment again",
                directory.join("summary.csv").display()
            );
        }
        let variants = summaries
            .into_iter()
            .map(|summary| load_variant(directory, summary))
            .collect::<Result<Vec<_>>>()?;
        let experiment = variants
            .iter()
            .find_map(|v| v.manifest.as_ref()?.get("experiment")?.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| directory_name(directory));
        Ok(Self {
            experiment,
            directory: directory.to_path_buf(),
            variants,
        })
    }

    /// The width of a time-series bucket in seconds, the same for every variant.
    pub fn bucket_s(&self) -> f64 {
        self.variants
            .iter()
            .find_map(VariantData::bucket_s)
            .unwrap_or(1.0)
    }
}

impl VariantData {
    pub fn name(&self) -> &str {
        &self.summary.variant
    }

    /// The bucket width from the manifest, else from the spacing of the first two rows.
    pub fn bucket_s(&self) -> Option<f64> {
        let from_manifest = self
            .manifest
            .as_ref()
            .and_then(|m| m.pointer("/scenario/bucket_ns")?.as_f64())
            .map(|ns| ns / 1e9);
        let from_rows = match self.series.as_slice() {
            [first, second, ..] if second.time_s > first.time_s => {
                Some(second.time_s - first.time_s)
            }
            _ => None,
        };
        from_manifest.or(from_rows)
    }

    /// The CDF points of one distribution (`connect`, `registry_lag`, `miss_delay`).
    pub fn cdf(&self, metric: &str) -> Vec<(f64, f64)> {
        self.latency
            .iter()
            .filter(|row| row.metric == metric)
            .map(|row| (row.value_ms, row.quantile))
            .collect()
    }
}

fn load_variant(directory: &Path, summary: SummaryRow) -> Result<VariantData> {
    let variant_directory = directory.join(&summary.variant);
    let series = read_csv(&variant_directory.join("timeseries.csv"))?;
    let latency = read_csv(&variant_directory.join("latency.csv"))?;
    let manifest = read_json(&variant_directory.join("manifest.json"))?;
    Ok(VariantData {
        summary,
        series,
        latency,
        manifest,
    })
}

/// Reads a CSV file into rows; columns the row type does not know are ignored.
pub fn read_csv<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    let mut reader = csv::Reader::from_path(path)
        .with_context(|| format!("cannot read file '{}'", path.display()))?;
    reader
        .deserialize()
        .enumerate()
        .map(|(index, row)| {
            row.with_context(|| {
                format!(
                    "file '{}', row {}: columns do not match what stormsim writes",
                    path.display(),
                    index + 1
                )
            })
        })
        .collect()
}

/// Reads a JSON file, or `None` when there is none.
pub fn read_json(path: &Path) -> Result<Option<serde_json::Value>> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .with_context(|| format!("file '{}' is not valid JSON", path.display())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error).with_context(|| format!("cannot read file '{}'", path.display())),
    }
}

fn directory_name(directory: &Path) -> String {
    directory
        .canonicalize()
        .unwrap_or_else(|_| directory.to_path_buf())
        .file_name()
        .map_or_else(|| "experiment".into(), |n| n.to_string_lossy().into_owned())
}
