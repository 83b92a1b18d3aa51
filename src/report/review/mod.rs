//! The one-page design-review report of a run: `report.md` and `report.html`.
//!
//! In order: the question the experiment asks (its `description`), the scenario in a
//! short table, the variants side by side, then every chart with a one-line caption. The
//! HTML page carries its images inline, so it opens anywhere, even sent by mail; the
//! Markdown page links the PNG files next to it.
//!
//! The question is kept in `experiment.json` next to the results when the run is made, so
//! [`publish`] can redraw charts and report later from the output directory alone.

mod html;
mod markdown;
mod scenario;

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use super::SummaryRow;
use super::charts::data::{RunData, read_json};
use super::charts::format::{decimal, duration_ms, grouped, percent};
use super::charts::{ChartFile, Provenance, draw_plan, draw_run, draw_sweep};
use super::write_atomically;

/// What `experiment.json` records: the experiment as its file described it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExperimentNote {
    pub experiment: String,
    /// The question the experiment asks, from its file's `description`.
    pub description: String,
    /// The experiment file, as given on the command line.
    pub file: String,
    /// The service level a plan tested, such as `connect_p99_ms <= 50`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo: Option<String>,
}

impl ExperimentNote {
    /// Writes the note into an experiment's output directory.
    pub fn write(&self, directory: &Path) -> Result<()> {
        let mut bytes = serde_json::to_vec_pretty(self)?;
        bytes.push(b'\n');
        write_atomically(&directory.join("experiment.json"), &bytes)
    }

    /// Reads the note of an output directory, if the run left one.
    pub fn read(directory: &Path) -> Result<Option<Self>> {
        let Some(value) = read_json(&directory.join("experiment.json"))? else {
            return Ok(None);
        };
        Ok(Some(serde_json::from_value(value)?))
    }
}

/// A table of text cells; the first column holds row labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Everything the report says, before it is written as Markdown or HTML.
#[derive(Debug, Clone)]
pub struct Review {
    pub title: String,
    pub question: Option<String>,
    pub scenario: Option<Table>,
    /// The variants side by side, for a run.
    pub summary: Option<Table>,
    pub charts: Vec<ChartFile>,
    pub provenance: String,
    pub redraw_command: String,
}

/// The files [`publish`] wrote.
#[derive(Debug, Clone)]
pub struct Published {
    pub charts: Vec<ChartFile>,
    pub markdown: PathBuf,
    pub html: PathBuf,
}

/// Draws every chart of the results in `directory` (a run's, a sweep's, a plan's, or
/// several of them) and writes the report next to them.
pub fn publish(directory: &Path) -> Result<Published> {
    let note = ExperimentNote::read(directory)?;
    let charts_directory = directory.join("charts");
    let has = |file: &str| directory.join(file).exists();
    if !has("summary.csv") && !has("sweep.csv") && !has("plan.csv") {
        bail!(
            "directory '{}' holds no summary.csv, sweep.csv or plan.csv: nothing to draw",
            directory.display()
        );
    }

    let run = has("summary.csv")
        .then(|| RunData::load(directory))
        .transpose()?;
    let experiment = run
        .as_ref()
        .map(|r| r.experiment.clone())
        .or_else(|| note.as_ref().map(|n| n.experiment.clone()))
        .unwrap_or_else(|| directory_name(directory));
    let mut charts = Vec::new();
    if let Some(run) = &run {
        charts.extend(draw_run(run, &charts_directory, 1.0)?);
    }
    if has("sweep.csv") {
        charts.extend(draw_sweep(directory, &charts_directory, &experiment)?);
    }
    if has("plan.csv") {
        let slo = note.as_ref().and_then(|n| n.slo.as_deref());
        charts.push(draw_plan(directory, &charts_directory, &experiment, slo)?);
    }

    let provenance = match &run {
        Some(run) => Provenance::of_run(run),
        None => Provenance::of_batch(directory, &experiment),
    };
    let review = Review {
        title: format!("{experiment}: design review"),
        question: note
            .map(|n| n.description.trim().to_string())
            .filter(|d| !d.is_empty()),
        scenario: run.as_ref().and_then(scenario::scenario_table),
        summary: run
            .as_ref()
            .map(|run| summary_table(&run.variants.iter().map(|v| &v.summary).collect::<Vec<_>>())),
        charts,
        provenance: provenance.footer(),
        redraw_command: format!("stormsim charts {}", directory.display()),
    };
    write_review(directory, review)
}

/// The share of full size at which gallery charts are drawn: small enough for a README,
/// large enough that every label stays readable.
const GALLERY_SCALE: f64 = 0.75;

/// Draws the run in `directory` into `gallery` as small PNG files named after the
/// experiment (`<experiment>-storm.png`, ...), with a `<experiment>-report.md` beside them
/// that links those files: the pictures a README shows and links.
pub fn publish_gallery(directory: &Path, gallery: &Path) -> Result<Vec<PathBuf>> {
    let run = RunData::load(directory)?;
    let drawing = gallery.join(format!(".{}-drawing", run.experiment));
    let drawn = draw_run(&run, &drawing, GALLERY_SCALE)?;

    let mut charts = Vec::new();
    for chart in drawn {
        let png = gallery.join(format!("{}-{}.png", run.experiment, chart.name));
        let bytes = std::fs::read(&chart.png)?;
        write_atomically(&png, &bytes)?;
        charts.push(ChartFile { png, ..chart });
    }
    std::fs::remove_dir_all(&drawing)?;

    let note = ExperimentNote::read(directory)?;
    let review = Review {
        title: format!("{}: design review", run.experiment),
        question: note
            .map(|n| n.description.trim().to_string())
            .filter(|d| !d.is_empty()),
        scenario: scenario::scenario_table(&run),
        summary: Some(summary_table(
            &run.variants.iter().map(|v| &v.summary).collect::<Vec<_>>(),
        )),
        provenance: Provenance::of_run(&run).footer(),
        redraw_command: format!(
            "stormsim charts {} --gallery {}",
            directory.display(),
            gallery.display()
        ),
        charts,
    };
    let report = gallery.join(format!("{}-report.md", run.experiment));
    write_atomically(&report, markdown::render(&review, gallery).as_bytes())?;
    let mut written: Vec<PathBuf> = review.charts.into_iter().map(|c| c.png).collect();
    written.push(report);
    Ok(written)
}

fn write_review(directory: &Path, review: Review) -> Result<Published> {
    let markdown = directory.join("report.md");
    write_atomically(&markdown, markdown::render(&review, directory).as_bytes())?;
    let html = directory.join("report.html");
    write_atomically(&html, html::render(&review)?.as_bytes())?;
    Ok(Published {
        charts: review.charts,
        markdown,
        html,
    })
}

fn directory_name(directory: &Path) -> String {
    directory
        .canonicalize()
        .unwrap_or_else(|_| directory.to_path_buf())
        .file_name()
        .map_or_else(|| "experiment".into(), |n| n.to_string_lossy().into_owned())
}

/// A row of the summary table: its label and how to format that figure of a variant.
type Line = (&'static str, fn(&SummaryRow) -> String);

/// A figure of the summary table shown only when some variant has it: its label, whether
/// a variant has it, and how to format it.
type Occasional = (
    &'static str,
    fn(&SummaryRow) -> bool,
    fn(&SummaryRow) -> String,
);

/// An occasional figure that is a count, shown when some variant's is not zero.
macro_rules! counted {
    ($label:expr, $field:ident) => {
        (
            $label,
            |r: &SummaryRow| r.$field > 0,
            |r: &SummaryRow| grouped(r.$field as f64),
        )
    };
}

/// The headline figures of each variant, formatted for people. Figures of retries, faults
/// and churn follow when some variant has them.
pub fn summary_table(rows: &[&SummaryRow]) -> Table {
    let lines: [Line; 17] = [
        ("strategy", |r| r.strategy.clone()),
        ("clients connected at the horizon", |r| {
            format!(
                "{} of {}",
                grouped(r.connected as f64),
                grouped(r.clients as f64)
            )
        }),
        ("clients rejected", |r| grouped(r.rejected as f64)),
        ("connect latency p50", |r| duration_ms(r.connect_p50_ms)),
        ("connect latency p99", |r| duration_ms(r.connect_p99_ms)),
        ("connect latency p99.9", |r| duration_ms(r.connect_p999_ms)),
        ("registry lag p50", |r| duration_ms(r.registry_lag_p50_ms)),
        ("registry lag p99", |r| duration_ms(r.registry_lag_p99_ms)),
        ("registry lag max", |r| duration_ms(r.registry_lag_max_ms)),
        ("messages missed", |r| {
            format!(
                "{} ({} of those sent)",
                grouped(r.messages_missed as f64),
                miss_share(r.miss_rate)
            )
        }),
        ("extra delay of a missed message, p50", |r| {
            duration_ms(r.miss_delay_p50_ms)
        }),
        ("extra delay of a missed message, p99", |r| {
            duration_ms(r.miss_delay_p99_ms)
        }),
        ("peak handshake queue", |r| {
            grouped(r.peak_handshake_queue as f64)
        }),
        ("peak registry queue", |r| {
            grouped(r.peak_registry_queue as f64)
        }),
        ("peak shard queue", |r| grouped(r.peak_shard_queue as f64)),
        ("busiest shard, peak utilization", |r| {
            percent(r.shard_utilization_peak)
        }),
        ("all registered after", |r| {
            r.all_registered_at_s
                .map_or("not by the horizon".into(), |s| duration_ms(s * 1e3))
        }),
    ];
    let occasional: [Occasional; 13] = [
        (
            "attempts per client",
            |r| r.attempts_per_client > 1.0,
            |r| decimal(r.attempts_per_client, 3),
        ),
        counted!("clients that gave up for good", clients_gave_up),
        counted!(
            "stale misses (entry naming the wrong server)",
            messages_missed_stale
        ),
        counted!(
            "outage misses (entry's primary down)",
            messages_missed_outage
        ),
        counted!(
            "connections cut off (crash, failed write, drop)",
            clients_disconnected
        ),
        (
            "reconnect latency p99",
            |r| r.clients_disconnected > 0,
            |r| duration_ms(r.reconnect_p99_ms),
        ),
        counted!("connections that dropped on their own", connections_dropped),
        counted!("wasted writes (client or connection gone)", wasted_writes),
        counted!(
            "outdated writes dropped unsent (coalesced)",
            writes_coalesced
        ),
        counted!("writes lost (crash) or failed (primary down)", writes_lost),
        (
            "load imbalance (busiest server over the mean)",
            |r| r.strategy == "placement",
            |r| decimal(r.server_load_imbalance, 3),
        ),
        counted!("broadcast queries (lazy)", broadcast_queries),
        counted!("pipelines sent (async-batched)", pipelines),
    ];
    let mut header = vec![String::new()];
    header.extend(rows.iter().map(|r| r.variant.clone()));
    let mut table: Vec<Vec<String>> = lines
        .iter()
        .map(|(label, cell)| {
            let mut line = vec![label.to_string()];
            line.extend(rows.iter().map(|r| cell(r)));
            line
        })
        .collect();
    for (label, shown, cell) in occasional {
        if rows.iter().any(|r| shown(r)) {
            let mut line = vec![label.to_string()];
            line.extend(rows.iter().map(|r| cell(r)));
            table.push(line);
        }
    }
    Table {
        header,
        rows: table,
    }
}

/// A miss rate with enough digits to tell 0.004% from nothing.
fn miss_share(rate: f64) -> String {
    if rate > 0.0 && rate < 1e-4 {
        format!("{:.2e}", rate)
    } else {
        percent(rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_miss_rates_stay_visible() {
        assert_eq!(miss_share(0.0), "0%");
        assert_eq!(miss_share(0.1012), "10.12%");
        assert_eq!(miss_share(0.000_012), "1.20e-5");
    }

    #[test]
    fn experiment_note_round_trips() {
        let directory = tempfile::tempdir().unwrap();
        assert_eq!(ExperimentNote::read(directory.path()).unwrap(), None);
        let note = ExperimentNote {
            experiment: "x".into(),
            description: "Why?".into(),
            file: "x.toml".into(),
            slo: Some("connect_p99_ms <= 50".into()),
        };
        note.write(directory.path()).unwrap();
        assert_eq!(ExperimentNote::read(directory.path()).unwrap(), Some(note));
    }
}
