//! Charts for design reviews, drawn with plotters from the files a run wrote.
//!
//! [`draw_run_charts`] reads `output/<experiment>/` back (so `stormsim charts` can redraw a
//! run without simulating it again) and writes each chart as PNG and SVG under its
//! `charts/` directory. Every chart has a title, axis titles with units, a legend, tick
//! labels such as `500M` or `250 µs`, and a footer with its provenance; degenerate data
//! (one bucket, no misses, a variant with zero of something) draws an honest, empty-looking
//! chart rather than failing.

pub mod batch;
pub mod canvas;
pub mod data;
pub mod format;
mod glyphs;
pub mod provenance;
pub mod run;
pub mod sweep;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use batch::BatchTable;
use canvas::{Figure, Page, render};
pub use data::RunData;
pub use provenance::Provenance;
use run::{LatencyCdf, Messages, Queues, Storm, Utilization, Window};
use sweep::{Level, PlanVisits, SweepBands, SweepHeadlines};

/// Full-size charts, for the report and for slides.
pub const FULL_SIZE: (u32, u32) = (1200, 720);
/// Charts of stacked panels get more height so each panel stays readable.
pub const TALL_SIZE: (u32, u32) = (1200, 960);

/// One chart written to disk.
#[derive(Debug, Clone)]
pub struct ChartFile {
    /// File stem, such as `storm`.
    pub name: String,
    pub title: String,
    /// One line saying what the chart shows, for the report.
    pub caption: String,
    pub png: PathBuf,
    pub svg: PathBuf,
    pub size_px: (u32, u32),
}

/// Redraws every chart of the run in `directory` into `directory/charts/`.
pub fn draw_run_charts(directory: &Path) -> Result<Vec<ChartFile>> {
    let run = RunData::load(directory)?;
    draw_run(&run, &directory.join("charts"), 1.0)
}

/// Draws the run's charts into `charts_directory`, scaled by `scale` (1 for full size;
/// smaller for the thumbnails a README shows).
pub fn draw_run(run: &RunData, charts_directory: &Path, scale: f64) -> Result<Vec<ChartFile>> {
    let footer = Provenance::of_run(run).footer();
    let window = Window::of(run);
    let simulated = format!(
        "Shown: the first {} s of {} s simulated.",
        format::seconds(window.until_s),
        format::seconds(window.horizon_s)
    );
    let sized = |(width, height): (u32, u32)| {
        (
            (f64::from(width) * scale).round() as u32,
            (f64::from(height) * scale).round() as u32,
        )
    };
    let mut files = Vec::new();
    let mut draw = |name: &str, title: &str, caption: String, size, figure: &dyn Drawable| {
        let page = Page {
            name: name.to_string(),
            title: format!("{}: {title}", run.experiment),
            width_px: sized(size).0,
            height_px: sized(size).1,
        };
        let [png, svg] = figure
            .render_into(charts_directory, &page, &footer)
            .with_context(|| format!("cannot draw chart '{name}'"))?;
        files.push(ChartFile {
            name: name.to_string(),
            title: title.to_string(),
            caption,
            png,
            svg,
            size_px: (page.width_px, page.height_px),
        });
        anyhow::Ok(())
    };

    draw(
        "storm",
        "the storm, connections and registrations",
        format!(
            "Arrivals per second (grey, right axis) and clients connected and registered \
             (cumulative): the shaded gap between a variant's two curves is its miss window. \
             {simulated}"
        ),
        FULL_SIZE,
        &Storm { run, window },
    )?;
    draw(
        "queues",
        "queue depths",
        format!(
            "Where the backlog waits: time-averaged handshake, registry and shard queues, \
             summed over servers or shards. {simulated}"
        ),
        TALL_SIZE,
        &Queues { run, window },
    )?;
    draw(
        "utilization",
        "Redis shard utilization",
        format!(
            "Busy share of the busiest shard and the mean over shards, per time bucket; a \
             shard at 100% is the bottleneck. {simulated}"
        ),
        FULL_SIZE,
        &Utilization { run, window },
    )?;
    draw(
        "latency-cdf",
        "connect latency and registry lag",
        "Share of clients connected (left) and registered (right) within a given time; \
         the further left a curve, the faster."
            .to_string(),
        FULL_SIZE,
        &LatencyCdf { run },
    )?;
    draw(
        "messages",
        "messages sent and missed",
        format!(
            "Messages sent and missed per second; a message misses when its recipient is \
             connected but not yet in the registry. {simulated}"
        ),
        TALL_SIZE,
        &Messages { run, window },
    )?;
    Ok(files)
}

/// Draws the charts of the sweep in `directory` (`sweep.csv`, and `timeseries-bands.csv`
/// when present) into `charts_directory`.
pub fn draw_sweep(
    directory: &Path,
    charts_directory: &Path,
    experiment: &str,
) -> Result<Vec<ChartFile>> {
    let table = BatchTable::load(&directory.join("sweep.csv"), &["replications"])?;
    let footer = Provenance::of_batch(directory, experiment).footer();
    let mut files = vec![draw_one(
        charts_directory,
        &footer,
        ChartText {
            name: "sweep-headlines",
            title: format!("{experiment}: headline figures across the sweep"),
            caption: format!(
                "Mean over replications of each headline figure against {}, one line per \
                 variant, with its 95% confidence band.",
                table
                    .parameters
                    .first()
                    .map_or("the swept parameter", String::as_str)
            ),
            size_px: TALL_SIZE,
        },
        &SweepHeadlines { table: &table },
    )?];

    let bands_path = directory.join("timeseries-bands.csv");
    if bands_path.exists() {
        let bands = BatchTable::load(&bands_path, &["time_s"])?;
        let figure = SweepBands { bands: &bands };
        let shown = figure.shown_points().len();
        files.push(draw_one(
            charts_directory,
            &footer,
            ChartText {
                name: "sweep-bands",
                title: format!("{experiment}: the storm across replications"),
                caption: format!(
                    "Mean over replications (line) and 95% confidence band, bucket by \
                     bucket, at {shown} of the {} points of the sweep.",
                    bands.points().len()
                ),
                size_px: TALL_SIZE,
            },
            &figure,
        )?);
    }
    Ok(files)
}

/// Draws the chart of the plan in `directory` (`plan.csv`) into `charts_directory`; `slo`
/// is the service level it tested, as written on the command line.
pub fn draw_plan(
    directory: &Path,
    charts_directory: &Path,
    experiment: &str,
    slo: Option<&str>,
) -> Result<ChartFile> {
    let plan = BatchTable::load(&directory.join("plan.csv"), &["step"])?;
    let footer = Provenance::of_batch(directory, experiment).footer();
    let level = slo.and_then(Level::parse);
    let caption = match &level {
        Some(level) => format!(
            "Each value the planner visited (numbered in order), the figure it measured \
             there and the service level {}.",
            level.text
        ),
        None => "Each value the planner visited (numbered in order) and the figure it \
                 measured there."
            .to_string(),
    };
    draw_one(
        charts_directory,
        &footer,
        ChartText {
            name: "plan",
            title: format!("{experiment}: capacity plan"),
            caption,
            size_px: FULL_SIZE,
        },
        &PlanVisits { plan: &plan, level },
    )
}

/// The words and size of one chart.
struct ChartText {
    name: &'static str,
    title: String,
    caption: String,
    size_px: (u32, u32),
}

fn draw_one(
    charts_directory: &Path,
    footer: &str,
    text: ChartText,
    figure: &impl Figure,
) -> Result<ChartFile> {
    let page = Page {
        name: text.name.to_string(),
        title: text.title.clone(),
        width_px: text.size_px.0,
        height_px: text.size_px.1,
    };
    let [png, svg] = render(charts_directory, &page, footer, figure)
        .with_context(|| format!("cannot draw chart '{}'", text.name))?;
    let title = text
        .title
        .split_once(": ")
        .map_or(text.title.clone(), |(_, t)| t.to_string());
    Ok(ChartFile {
        name: text.name.to_string(),
        title,
        caption: text.caption,
        png,
        svg,
        size_px: text.size_px,
    })
}

/// A figure behind a trait object: [`Figure::draw`] is generic over the backend, so the
/// list of charts above goes through this instead.
trait Drawable {
    fn render_into(&self, directory: &Path, page: &Page, footer: &str) -> Result<[PathBuf; 2]>;
}

impl<F: Figure> Drawable for F {
    fn render_into(&self, directory: &Path, page: &Page, footer: &str) -> Result<[PathBuf; 2]> {
        render(directory, page, footer, self)
    }
}
