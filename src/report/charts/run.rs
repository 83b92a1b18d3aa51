//! The charts of one run: every variant overlaid wherever they share axes.
//!
//! - `storm`: arrivals per second behind the cumulative connected and registered curves;
//!   the shaded gap between a variant's two curves is its miss window.
//! - `queues`: handshake, registry and shard queues, one panel each.
//! - `utilization`: the busiest shard and the mean over shards, against the 100% line.
//! - `latency-cdf`: connect latency and registry lag, on a logarithmic time axis.
//! - `messages`: messages sent and missed per second.
//!
//! The time axis stops a little after the last connection, registration or queued item of
//! any variant, rather than at the horizon, so the storm fills the chart; the captions say
//! how long the run simulated.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::canvas::{
    Axes, BACKDROP, Figure, INK, LIMIT, LegendEntry, MUTED, Swatch, draw_axes, legend,
    linear_chart, text_style, variant_color, variant_stroke,
};
use super::data::{RunData, VariantData};
use super::format;
use crate::report::tables::SeriesRow;

const TIME_TITLE: &str = "time since the storm began (s)";

/// The cumulative arrivals line: darker than the arrivals area behind it.
const ARRIVED: RGBColor = RGBColor(90, 90, 90);

/// The time span a run's charts show, and the bucket width that turns counts into rates.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub until_s: f64,
    pub horizon_s: f64,
    pub bucket_s: f64,
}

impl Window {
    pub fn of(run: &RunData) -> Self {
        let bucket_s = run.bucket_s();
        let horizon_s = run
            .variants
            .iter()
            .map(|v| v.series.len() as f64 * bucket_s)
            .fold(bucket_s, f64::max);
        let last_active_s = run
            .variants
            .iter()
            .flat_map(|v| v.series.iter())
            .filter(|row| is_active(row))
            .map(|row| row.time_s + bucket_s)
            .fold(0.0, f64::max);
        let until_s = format::round_up(last_active_s * 1.1)
            .min(horizon_s)
            .max(bucket_s);
        Self {
            until_s,
            horizon_s,
            bucket_s,
        }
    }

    fn shows(&self, row: &SeriesRow) -> bool {
        row.time_s < self.until_s
    }

    fn x_range(&self) -> (f64, f64) {
        (0.0, self.until_s)
    }
}

/// A bucket where the storm is still going on for some client.
fn is_active(row: &SeriesRow) -> bool {
    row.arrivals + row.rejected + row.connected + row.registered > 0
        || row.handshake_queue > 0.0
        || row.registry_queue > 0.0
}

/// The points of one per-bucket value, at the middle of each shown bucket.
fn bucket_points(
    variant: &VariantData,
    window: &Window,
    value: impl Fn(&SeriesRow) -> f64,
) -> Vec<(f64, f64)> {
    variant
        .series
        .iter()
        .filter(|row| window.shows(row))
        .map(|row| (row.time_s + window.bucket_s / 2.0, value(row)))
        .collect()
}

/// The points of a cumulative count: zero at the start, then the total at each bucket's end.
fn cumulative_points(
    variant: &VariantData,
    window: &Window,
    mut total: impl FnMut(&SeriesRow) -> u64,
) -> Vec<(f64, f64)> {
    std::iter::once((0.0, 0.0))
        .chain(
            variant
                .series
                .iter()
                .filter(|row| window.shows(row))
                .map(|row| (row.time_s + window.bucket_s, total(row) as f64)),
        )
        .collect()
}

/// The points of the running total of a per-bucket count, as [`cumulative_points`].
fn running_total(
    variant: &VariantData,
    window: &Window,
    count: impl Fn(&SeriesRow) -> u64,
) -> Vec<(f64, f64)> {
    let mut total = 0;
    cumulative_points(variant, window, |row| {
        total += count(row);
        total
    })
}

fn peak(points: &[(f64, f64)]) -> f64 {
    points.iter().map(|p| p.1).fold(0.0, f64::max)
}

/// True when every variant has the same values of `value` in every bucket.
fn same_in_all(run: &RunData, value: impl Fn(&SeriesRow) -> f64) -> bool {
    let first = &run.variants[0].series;
    run.variants.iter().all(|variant| {
        variant.series.len() == first.len()
            && variant
                .series
                .iter()
                .zip(first)
                .all(|(a, b)| value(a) == value(b))
    })
}

/// One legend entry per variant, in its colour.
fn variant_entries(run: &RunData) -> Vec<LegendEntry> {
    run.variants
        .iter()
        .enumerate()
        .map(|(index, v)| LegendEntry::new(Swatch::Line(variant_color(index)), v.name()))
        .collect()
}

/// `sync and async`, `a, b and c`.
fn names(variants: &[&VariantData]) -> String {
    let names: Vec<&str> = variants.iter().map(|v| v.name()).collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The storm: arrivals per second (right axis) behind connected and registered clients.
pub struct Storm<'a> {
    pub run: &'a RunData,
    pub window: Window,
}

impl Storm<'_> {
    fn entries(&self) -> Vec<LegendEntry> {
        let mut entries = vec![
            LegendEntry::new(Swatch::Band(BACKDROP), "arrivals per second (right axis)"),
            LegendEntry::new(Swatch::Dashed(ARRIVED), "arrived (cumulative)"),
        ];
        for (index, variant) in self.run.variants.iter().enumerate() {
            let color = variant_color(index);
            let name = variant.name();
            if has_miss_window(variant) {
                entries.push(LegendEntry::new(
                    Swatch::Line(color),
                    format!("{name} connected"),
                ));
                entries.push(LegendEntry::new(
                    Swatch::Dashed(color),
                    format!("{name} registered"),
                ));
                entries.push(LegendEntry::new(
                    Swatch::Band(color),
                    format!("{name} miss window"),
                ));
            } else {
                entries.push(LegendEntry::new(
                    Swatch::Line(color),
                    format!("{name} connected = registered"),
                ));
            }
        }
        entries
    }
}

/// True when some client of `variant` was connected before it was registered.
fn has_miss_window(variant: &VariantData) -> bool {
    variant
        .series
        .iter()
        .any(|row| row.connected_total != row.registered_total)
}

impl Figure for Storm<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let area = legend(area, &self.entries())?;
        let window = &self.window;
        let arrivals: Vec<Vec<(f64, f64)>> = self
            .run
            .variants
            .iter()
            .map(|v| bucket_points(v, window, |row| row.arrivals as f64 / window.bucket_s))
            .collect();
        let connected: Vec<_> = self
            .run
            .variants
            .iter()
            .map(|v| cumulative_points(v, window, |row| row.connected_total))
            .collect();
        let registered: Vec<_> = self
            .run
            .variants
            .iter()
            .map(|v| cumulative_points(v, window, |row| row.registered_total))
            .collect();

        let clients_max = self
            .run
            .variants
            .iter()
            .map(|v| v.summary.clients as f64)
            .chain(connected.iter().map(|points| peak(points)))
            .fold(0.0, f64::max);
        let arrivals_max = arrivals.iter().map(|p| peak(p)).fold(0.0, f64::max);
        let mut chart = ChartBuilder::on(&area)
            .margin_top(6)
            .x_label_area_size(48)
            .y_label_area_size(84)
            .right_y_label_area_size(96)
            .build_cartesian_2d(0.0..window.until_s, 0.0..format::round_up(clients_max))?
            .set_secondary_coord(0.0..window.until_s, 0.0..format::round_up(arrivals_max));
        draw_axes(
            &mut chart,
            &Axes {
                x_title: TIME_TITLE,
                y_title: "clients (cumulative)",
                x_ticks: &format::seconds,
                y_ticks: &format::count,
                y_tick_count: 7,
                x_light_lines: 1,
            },
        )?;
        chart
            .configure_secondary_axes()
            .y_desc("arrivals per second")
            .y_labels(7)
            .y_label_formatter(&|value| format::rate_per_s(*value))
            .label_style(text_style(13, FontStyle::Normal, INK))
            .axis_desc_style(text_style(14, FontStyle::Normal, INK))
            .axis_style(MUTED)
            .draw()?;

        // The storms of variants are usually identical (common random numbers): draw once.
        let distinct = if same_in_all(self.run, |row| row.arrivals as f64) {
            &arrivals[..1]
        } else {
            &arrivals[..]
        };
        for points in distinct {
            chart.draw_secondary_series(
                AreaSeries::new(points.iter().copied(), 0.0, BACKDROP.mix(0.3))
                    .border_style(BACKDROP.mix(0.8)),
            )?;
        }

        // Clients that arrived: the gap down to a variant's connected curve is the clients
        // still waiting to connect.
        let arrived = running_total(&self.run.variants[0], window, |row| row.arrivals);
        chart.draw_series(DashedLineSeries::new(
            arrived,
            6,
            4,
            ARRIVED.stroke_width(2),
        ))?;

        for (index, variant) in self.run.variants.iter().enumerate() {
            if has_miss_window(variant) {
                let band: Vec<(f64, f64)> = connected[index]
                    .iter()
                    .chain(registered[index].iter().rev())
                    .copied()
                    .collect();
                chart.draw_series(std::iter::once(Polygon::new(
                    band,
                    variant_color(index).mix(0.18),
                )))?;
            }
        }
        for (index, variant) in self.run.variants.iter().enumerate() {
            let width = variant_stroke(index, self.run.variants.len());
            let color = variant_color(index).stroke_width(width);
            chart.draw_series(LineSeries::new(connected[index].iter().copied(), color))?;
            if has_miss_window(variant) {
                let registered = registered[index].iter().copied();
                chart.draw_series(DashedLineSeries::new(registered, 10, 6, color))?;
            }
        }
        Ok(())
    }
}

/// A time-series panel: one line per variant of one column of `timeseries.csv`.
struct Panel<'a> {
    caption: String,
    y_title: &'a str,
    y_ticks: fn(f64) -> String,
    show_x_title: bool,
    value: &'a dyn Fn(&SeriesRow) -> f64,
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    run: &RunData,
    window: &Window,
    panel: &Panel<'_>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let lines: Vec<Vec<(f64, f64)>> = run
        .variants
        .iter()
        .map(|v| bucket_points(v, window, panel.value))
        .collect();
    let highest = lines.iter().map(|p| peak(p)).fold(0.0, f64::max);
    let y_range = (0.0, format::round_up(highest));
    let mut chart = linear_chart(area, Some(&panel.caption), window.x_range(), y_range)?;
    draw_axes(
        &mut chart,
        &Axes {
            x_title: if panel.show_x_title { TIME_TITLE } else { "" },
            y_title: panel.y_title,
            x_ticks: &format::seconds,
            y_ticks: &panel.y_ticks,
            y_tick_count: if highest > 0.0 { 7 } else { 2 },
            x_light_lines: 1,
        },
    )?;
    for (index, points) in lines.iter().enumerate() {
        let width = variant_stroke(index, lines.len());
        chart.draw_series(LineSeries::new(
            points.iter().copied(),
            variant_color(index).stroke_width(width),
        ))?;
    }
    Ok(())
}

/// Adds which variants stay at zero throughout, so a flat line is not read as missing data.
fn with_zero_note(caption: &str, run: &RunData, value: &dyn Fn(&SeriesRow) -> f64) -> String {
    let zero: Vec<&VariantData> = run
        .variants
        .iter()
        .filter(|v| v.series.iter().all(|row| value(row) == 0.0))
        .collect();
    match zero.len() {
        0 => caption.to_string(),
        n if n == run.variants.len() && n > 1 => format!("{caption}  (zero throughout in all)"),
        _ => format!("{caption}  (zero throughout: {})", names(&zero)),
    }
}

/// Queue depths: handshake, registry and shard queues stacked, sharing the time axis.
pub struct Queues<'a> {
    pub run: &'a RunData,
    pub window: Window,
}

impl Figure for Queues<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let area = legend(area, &variant_entries(self.run))?;
        let handshake = |row: &SeriesRow| row.handshake_queue;
        let registry = |row: &SeriesRow| row.registry_queue;
        let shard = |row: &SeriesRow| row.shard_queue;
        let panels = [
            Panel {
                caption: with_zero_note(
                    "Handshake queues: clients waiting for a worker, all servers",
                    self.run,
                    &handshake,
                ),
                y_title: "clients waiting",
                y_ticks: format::count,
                show_x_title: false,
                value: &handshake,
            },
            Panel {
                caption: with_zero_note(
                    "Registry queues (async): writes waiting for a writer, all servers",
                    self.run,
                    &registry,
                ),
                y_title: "writes waiting",
                y_ticks: format::count,
                show_x_title: false,
                value: &registry,
            },
            Panel {
                caption: with_zero_note(
                    "Shard queues: operations waiting at Redis, all shards",
                    self.run,
                    &shard,
                ),
                y_title: "operations waiting",
                y_ticks: format::count,
                show_x_title: true,
                value: &shard,
            },
        ];
        for (panel_area, panel) in area.split_evenly((3, 1)).iter().zip(&panels) {
            draw_panel(panel_area, self.run, &self.window, panel)?;
        }
        Ok(())
    }
}

/// Shard utilization: the busiest shard and the mean, against 100%.
pub struct Utilization<'a> {
    pub run: &'a RunData,
    pub window: Window,
}

impl Figure for Utilization<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let mut entries = Vec::new();
        for (index, variant) in self.run.variants.iter().enumerate() {
            let color = variant_color(index);
            let name = variant.name();
            if busiest_is_mean(variant) {
                entries.push(LegendEntry::new(
                    Swatch::Line(color),
                    format!("{name} (busiest shard = mean)"),
                ));
            } else {
                entries.push(LegendEntry::new(
                    Swatch::Line(color),
                    format!("{name} busiest shard"),
                ));
                entries.push(LegendEntry::new(
                    Swatch::Dashed(color),
                    format!("{name} mean over shards"),
                ));
            }
        }
        entries.push(LegendEntry::new(
            Swatch::Reference(LIMIT),
            "capacity (100%)",
        ));
        let area = legend(area, &entries)?;

        let mut chart = linear_chart(&area, None, self.window.x_range(), (0.0, 1.1))?;
        draw_axes(
            &mut chart,
            &Axes {
                x_title: TIME_TITLE,
                y_title: "shard utilization (busy share of each bucket)",
                x_ticks: &format::seconds,
                y_ticks: &format::percent,
                y_tick_count: 7,
                x_light_lines: 1,
            },
        )?;
        chart.draw_series(LineSeries::new(
            [(0.0, 1.0), (self.window.until_s, 1.0)],
            LIMIT.stroke_width(1),
        ))?;
        for (index, variant) in self.run.variants.iter().enumerate() {
            let width = variant_stroke(index, self.run.variants.len());
            let color = variant_color(index).stroke_width(width);
            let busiest = bucket_points(variant, &self.window, |r| r.busiest_shard_utilization);
            chart.draw_series(LineSeries::new(busiest, color))?;
            if !busiest_is_mean(variant) {
                let mean = bucket_points(variant, &self.window, |r| r.shard_utilization);
                chart.draw_series(DashedLineSeries::new(mean, 10, 6, color))?;
            }
        }
        Ok(())
    }
}

fn busiest_is_mean(variant: &VariantData) -> bool {
    variant
        .series
        .iter()
        .all(|row| (row.busiest_shard_utilization - row.shard_utilization).abs() < 1e-9)
}

/// Connect latency and registry lag CDFs, side by side, on logarithmic time axes.
pub struct LatencyCdf<'a> {
    pub run: &'a RunData,
}

impl Figure for LatencyCdf<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let area = legend(area, &variant_entries(self.run))?;
        let panels = [
            ("connect", "Connect latency: arrival to connected"),
            ("registry_lag", "Registry lag: connected to registered"),
        ];
        for (panel_area, (metric, caption)) in area.split_evenly((1, 2)).iter().zip(panels) {
            draw_cdf(panel_area, self.run, metric, caption)?;
        }
        Ok(())
    }
}

fn draw_cdf<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    run: &RunData,
    metric: &str,
    caption: &str,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let curves: Vec<Vec<(f64, f64)>> = run.variants.iter().map(|v| v.cdf(metric)).collect();
    let positive = || curves.iter().flatten().map(|p| p.0).filter(|v| *v > 0.0);
    let (low, high) = format::decades(
        positive().fold(f64::INFINITY, f64::min),
        positive().fold(0.0, f64::max),
    );

    // A log axis has no zero: say which variants sit at zero instead of drawing nothing.
    let all_zero: Vec<&VariantData> = run
        .variants
        .iter()
        .zip(&curves)
        .filter(|(_, curve)| curve.iter().all(|p| p.0 <= 0.0))
        .map(|(v, _)| v)
        .collect();
    let caption = if all_zero.is_empty() {
        caption.to_string()
    } else {
        format!("{caption}  ({}: 0 for every client)", names(&all_zero))
    };

    let mut builder = ChartBuilder::on(area);
    builder
        .margin_top(6)
        .margin_right(16)
        .x_label_area_size(48)
        .y_label_area_size(84)
        .caption(caption, text_style(15, FontStyle::Normal, INK));
    let mut chart = builder.build_cartesian_2d((low..high).log_scale(), 0.0..1.0)?;
    draw_axes(
        &mut chart,
        &Axes {
            x_title: "time (logarithmic)",
            y_title: "share of clients within that time",
            x_ticks: &format::duration_ms,
            y_ticks: &format::percent,
            y_tick_count: 6,
            x_light_lines: 8,
        },
    )?;
    for (quantile, label) in [(0.5, "p50"), (0.99, "p99")] {
        chart.draw_series(DashedLineSeries::new(
            [(low, quantile), (high, quantile)],
            4,
            4,
            MUTED.stroke_width(1),
        ))?;
        chart.draw_series(std::iter::once(Text::new(
            label,
            (low * 1.15, quantile - 0.015),
            text_style(12, FontStyle::Normal, MUTED),
        )))?;
    }
    for (index, curve) in curves.iter().enumerate() {
        let points = curve.iter().filter(|p| p.0 > 0.0).copied();
        chart.draw_series(LineSeries::new(
            points,
            variant_color(index).stroke_width(variant_stroke(index, curves.len())),
        ))?;
    }
    Ok(())
}

/// Messages sent and missed per second, in two panels.
pub struct Messages<'a> {
    pub run: &'a RunData,
    pub window: Window,
}

impl Figure for Messages<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let entries: Vec<LegendEntry> = self
            .run
            .variants
            .iter()
            .enumerate()
            .map(|(index, v)| LegendEntry::new(Swatch::Line(variant_color(index)), totals(v)))
            .collect();
        let area = legend(area, &entries)?;
        let bucket_s = self.window.bucket_s;
        let sent = move |row: &SeriesRow| row.messages_sent as f64 / bucket_s;
        let missed = move |row: &SeriesRow| row.messages_missed as f64 / bucket_s;
        let sent_caption = if same_in_all(self.run, sent) && self.run.variants.len() > 1 {
            "Messages sent per second (the same in all variants)"
        } else {
            "Messages sent per second"
        };
        let panels = [
            Panel {
                caption: sent_caption.to_string(),
                y_title: "messages per second",
                y_ticks: format::rate_per_s,
                show_x_title: false,
                value: &sent,
            },
            Panel {
                caption: with_zero_note(
                    "Messages missed per second: recipient connected but not reachable by its entry",
                    self.run,
                    &missed,
                ),
                y_title: "messages per second",
                y_ticks: format::rate_per_s,
                show_x_title: true,
                value: &missed,
            },
        ];
        for (panel_area, panel) in area.split_evenly((2, 1)).iter().zip(&panels) {
            draw_panel(panel_area, self.run, &self.window, panel)?;
        }
        Ok(())
    }
}

/// A variant's routed / missed / offline totals over the run, which the time series does
/// not split.
fn totals(variant: &VariantData) -> String {
    let s = &variant.summary;
    format!(
        "{}: {} routed, {} missed, {} offline over the run",
        s.variant,
        format::count(s.messages_routed as f64),
        format::count(s.messages_missed as f64),
        format::count(s.messages_offline as f64)
    )
}
