//! The charts of a sweep and of a plan.
//!
//! - `sweep-headlines`: p99 connect latency, p99 registry lag, miss rate and time until
//!   all registered against the first swept parameter, a line per variant (and per value
//!   of any other parameter), with the 95% confidence band across replications.
//! - `sweep-bands`: the course of the storm at a few points of the sweep, as the mean over
//!   replications with its confidence band, bucket by bucket.
//! - `plan`: the values the planner visited, the figure it tested at each, and the SLO.
//!
//! An axis turns logarithmic where its values span two decades or more. It is drawn as a
//! linear axis over the values' logarithms, ticked at whole decades only, so that every
//! label reads as a plain number (`100`, `1K`, `10 ms`).

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::batch::{BatchTable, Row};
use super::canvas::{
    Axes, Figure, INK, LIMIT, LegendEntry, MUTED, Swatch, draw_axes, legend, linear_chart,
    text_style, variant_color,
};
use super::format;

/// How values map onto an axis: as they are, or by their logarithm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    pub log: bool,
    /// The axis range, in axis units (logarithms when `log`).
    pub low: f64,
    pub high: f64,
}

impl Scale {
    /// A scale for `values`: logarithmic when they are all positive and span two decades or
    /// more, otherwise linear from zero.
    pub fn fit(values: &[f64]) -> Self {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let low = finite.iter().copied().fold(f64::INFINITY, f64::min);
        let high = finite.iter().copied().fold(0.0, f64::max);
        if low > 0.0 && high / low >= 100.0 {
            let (bottom, top) = format::decades(low, high);
            Self {
                log: true,
                low: bottom.log10(),
                high: top.log10(),
            }
        } else {
            Self {
                log: false,
                low: 0.0,
                high: format::round_up(high),
            }
        }
    }

    /// A value in axis units; `None` where a logarithmic axis cannot show it.
    pub fn place(&self, value: f64) -> Option<f64> {
        match (self.log, value.is_finite()) {
            (_, false) => None,
            (true, _) if value <= 0.0 => None,
            (true, _) => Some(value.log10().max(self.low)),
            (false, _) => Some(value),
        }
    }

    /// The label of a tick at `position` (axis units): blank between decades on a
    /// logarithmic axis, so only round numbers are labelled.
    pub fn label(&self, position: f64, format: fn(f64) -> String) -> String {
        if !self.log {
            return format(position);
        }
        if (position - position.round()).abs() > 1e-6 {
            return String::new();
        }
        format(10f64.powf(position.round()))
    }

    /// How many ticks to ask for: one per decade on a logarithmic axis.
    pub fn ticks(&self) -> usize {
        if self.log {
            (self.high - self.low).round() as usize + 1
        } else {
            7
        }
    }
}

/// A headline figure of `sweep.csv`, with its title and tick format.
struct Headline {
    figure: &'static str,
    title: &'static str,
    /// The quantity on the y axis, with its unit where the ticks do not carry one.
    axis: &'static str,
    ticks: fn(f64) -> String,
}

const HEADLINES: [Headline; 4] = [
    Headline {
        figure: "connect_p99_ms",
        title: "p99 connect latency",
        axis: "connect latency, p99",
        ticks: format::duration_ms,
    },
    Headline {
        figure: "registry_lag_p99_ms",
        title: "p99 registry lag",
        axis: "registry lag, p99",
        ticks: format::duration_ms,
    },
    Headline {
        figure: "miss_rate",
        title: "miss rate (messages missed / sent)",
        axis: "messages missed",
        ticks: format::percent,
    },
    Headline {
        figure: "all_registered_at_s",
        title: "time until all are registered",
        axis: "last write applied",
        ticks: seconds_with_unit,
    },
];

fn seconds_with_unit(value_s: f64) -> String {
    format::duration_ms(value_s * 1e3)
}

/// One line of a sweep chart: a variant at fixed values of the other parameters.
struct Series {
    label: String,
    color: RGBColor,
    rows: Vec<Row>,
}

/// Groups rows into lines: by variant and by the values of every parameter but the first.
fn series_of(table: &BatchTable) -> Vec<Series> {
    let variants = table.variants();
    let mut lines: Vec<Series> = Vec::new();
    for row in &table.rows {
        let rest = &row.point[1.min(row.point.len())..];
        let index = variants.iter().position(|v| *v == row.variant).unwrap_or(0);
        let label = if rest.is_empty() {
            row.variant.clone()
        } else {
            let others = BatchTable {
                parameters: table.parameters[1..].to_vec(),
                rows: Vec::new(),
            };
            format!("{}, {}", row.variant, others.describe_point(rest))
        };
        match lines.iter_mut().find(|line| line.label == label) {
            Some(line) => line.rows.push(row.clone()),
            None => lines.push(Series {
                label,
                color: variant_color(index),
                rows: vec![row.clone()],
            }),
        }
    }
    let same_variant_lines = lines.len() > variants.len();
    for (index, line) in lines.iter_mut().enumerate() {
        if same_variant_lines {
            line.color = variant_color(index);
        }
        line.rows.sort_by(|a, b| a.point[0].total_cmp(&b.point[0]));
    }
    lines
}

/// The headline figures against the first swept parameter, in a 2 × 2 grid.
pub struct SweepHeadlines<'a> {
    pub table: &'a BatchTable,
}

impl Figure for SweepHeadlines<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let lines = series_of(self.table);
        let mut entries: Vec<LegendEntry> = lines
            .iter()
            .map(|l| LegendEntry::new(Swatch::Line(l.color), l.label.clone()))
            .collect();
        entries.push(LegendEntry::new(
            Swatch::Band(MUTED),
            "95% confidence band over replications",
        ));
        let area = legend(area, &entries)?;
        let parameter = self.table.parameters.first().cloned().unwrap_or_default();
        for (panel, headline) in area.split_evenly((2, 2)).iter().zip(&HEADLINES) {
            draw_headline(panel, &lines, &parameter, headline)?;
        }
        Ok(())
    }
}

fn draw_headline<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    lines: &[Series],
    parameter: &str,
    headline: &Headline,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let xs: Vec<f64> = lines
        .iter()
        .flat_map(|l| l.rows.iter())
        .map(|r| r.point[0])
        .collect();
    let bands: Vec<Vec<(f64, f64, f64)>> = lines
        .iter()
        .map(|line| {
            line.rows
                .iter()
                .filter_map(|row| {
                    let (mean, ci95) = row.mean_ci(headline.figure)?;
                    Some((row.point[0], mean, ci95))
                })
                .collect()
        })
        .collect();
    let ys: Vec<f64> = bands
        .iter()
        .flatten()
        .flat_map(|(_, mean, ci)| [*mean, mean + ci])
        .collect();
    let x_scale = Scale::fit(&xs);

    // A figure that is zero for one variant (sync's registry lag) and spans decades for
    // another still gets a logarithmic axis; the zero line is named in the caption.
    let positive: Vec<f64> = ys.iter().copied().filter(|&y| y > 0.0).collect();
    let y_scale = match Scale::fit(&positive) {
        scale if scale.log => scale,
        _ => Scale::fit(&ys),
    };
    let all_zero: Vec<&str> = lines
        .iter()
        .zip(&bands)
        .filter(|(_, band)| !band.is_empty() && band.iter().all(|&(_, mean, _)| mean <= 0.0))
        .map(|(line, _)| line.label.as_str())
        .collect();

    let caption = if ys.is_empty() {
        format!("{}  (not measured)", headline.title)
    } else if y_scale.log && !all_zero.is_empty() {
        format!(
            "{}  (zero throughout: {})",
            headline.title,
            all_zero.join(", ")
        )
    } else {
        headline.title.to_string()
    };
    let y_title = if y_scale.log {
        format!("{} (logarithmic)", headline.axis)
    } else {
        headline.axis.to_string()
    };
    let x_ticks = |v: f64| x_scale.label(v, format::count);
    let y_ticks = |v: f64| y_scale.label(v, headline.ticks);
    let mut chart = linear_chart(
        area,
        Some(&caption),
        (x_scale.low, x_scale.high.max(x_scale.low + 1e-9)),
        (y_scale.low, y_scale.high),
    )?;
    draw_axes(
        &mut chart,
        &Axes {
            x_title: parameter,
            y_title: &y_title,
            x_ticks: &x_ticks,
            y_ticks: &y_ticks,
            y_tick_count: y_scale.ticks(),
            x_light_lines: 1,
        },
    )?;

    for (line, band) in lines.iter().zip(&bands) {
        let place = |(x, y): (f64, f64)| Some((x_scale.place(x)?, y_scale.place(y)?));
        let upper: Vec<(f64, f64)> = band
            .iter()
            .filter_map(|p| place((p.0, p.1 + p.2)))
            .collect();
        let lower: Vec<(f64, f64)> = band
            .iter()
            .rev()
            .filter_map(|p| place((p.0, (p.1 - p.2).max(if y_scale.log { 1e-300 } else { 0.0 }))))
            .collect();
        let polygon: Vec<(f64, f64)> = upper.into_iter().chain(lower).collect();
        chart.draw_series(std::iter::once(Polygon::new(polygon, line.color.mix(0.15))))?;
        let means: Vec<(f64, f64)> = band.iter().filter_map(|p| place((p.0, p.1))).collect();
        chart.draw_series(LineSeries::new(means.clone(), line.color.stroke_width(2)))?;
        chart.draw_series(
            means
                .into_iter()
                .map(|p| Circle::new(p, 4, line.color.filled())),
        )?;
    }
    Ok(())
}

/// Most points whose time series are drawn in one chart; more would be unreadable.
const MOST_BANDED_POINTS: usize = 4;

/// The time series at a few points of the sweep, as bands over replications.
pub struct SweepBands<'a> {
    pub bands: &'a BatchTable,
}

impl SweepBands<'_> {
    /// The points drawn: all of them, or an even spread including the first and last.
    pub fn shown_points(&self) -> Vec<Vec<f64>> {
        let points = self.bands.points();
        if points.len() <= MOST_BANDED_POINTS {
            return points;
        }
        (0..MOST_BANDED_POINTS)
            .map(|i| points[i * (points.len() - 1) / (MOST_BANDED_POINTS - 1)].clone())
            .collect()
    }

    /// Lines of one column: a (variant, point) pair each, lighter for earlier points.
    fn lines(&self, column: &str, until_s: f64) -> Vec<BandLine> {
        let variants = self.bands.variants();
        let points = self.shown_points();
        let mut lines = Vec::new();
        for (v, variant) in variants.iter().enumerate() {
            for (p, point) in points.iter().enumerate() {
                let color = shade_of(variant_color(v), p, points.len());
                let values: Vec<(f64, f64, f64)> = self
                    .bands
                    .rows
                    .iter()
                    .filter(|r| &r.variant == variant && &r.point == point)
                    .filter_map(|r| {
                        let time_s = r.get("time_s")?;
                        let (mean, ci95) = r.mean_ci(column)?;
                        (time_s < until_s).then_some((time_s, mean, ci95))
                    })
                    .collect();
                let label = format!("{variant}, {}", self.bands.describe_point(point));
                lines.push(BandLine {
                    label,
                    color,
                    values,
                });
            }
        }
        lines
    }

    /// Up to a little after the last bucket where some write or queue is still pending.
    fn until_s(&self) -> f64 {
        let last = self
            .bands
            .rows
            .iter()
            .filter(|r| {
                ["registered", "registry_queue", "shard_queue", "arrivals"]
                    .iter()
                    .any(|c| r.mean_ci(c).is_some_and(|(mean, _)| mean > 0.0))
            })
            .filter_map(|r| r.get("time_s"))
            .fold(0.0, f64::max);
        let end = self
            .bands
            .rows
            .iter()
            .filter_map(|r| r.get("time_s"))
            .fold(0.0, f64::max);
        format::round_up(last * 1.1).min(end.max(1e-3))
    }
}

/// One (variant, point) of a bands chart: `(time_s, mean, ci95)` per bucket.
struct BandLine {
    label: String,
    color: RGBColor,
    values: Vec<(f64, f64, f64)>,
}

/// The shade of a variant's hue for point `index` of `count`: from pale to the hue itself
/// over the first half of the points, then darker, so that neighbouring points stay
/// apart even when there are several.
fn shade_of(base: RGBColor, index: usize, count: usize) -> RGBColor {
    let t = if count > 1 {
        index as f64 / (count - 1) as f64
    } else {
        1.0
    };
    if t <= 0.5 {
        mix_with_white(base, 0.4 + 1.2 * t)
    } else {
        let keep = 1.0 - 0.9 * (t - 0.5);
        let darken = |c: u8| (f64::from(c) * keep).round() as u8;
        RGBColor(darken(base.0), darken(base.1), darken(base.2))
    }
}

fn mix_with_white(color: RGBColor, strength: f64) -> RGBColor {
    let blend = |c: u8| (255.0 - (255.0 - f64::from(c)) * strength).round() as u8;
    RGBColor(blend(color.0), blend(color.1), blend(color.2))
}

impl Figure for SweepBands<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let until_s = self.until_s();
        let entries: Vec<LegendEntry> = self
            .lines("registered_total", until_s)
            .into_iter()
            .map(|line| LegendEntry::new(Swatch::Line(line.color), line.label))
            .collect();
        let area = legend(area, &entries)?;
        let panels = [
            (
                "registered_total",
                "Clients registered (cumulative)",
                "clients",
            ),
            (
                "registry_queue",
                "Registry queues: writes waiting for a writer",
                "writes",
            ),
            (
                "shard_queue",
                "Shard queues: operations waiting at Redis",
                "operations",
            ),
        ];
        let count = panels.len();
        for (index, (panel, (column, caption, unit))) in
            area.split_evenly((count, 1)).iter().zip(panels).enumerate()
        {
            let lines = self.lines(column, until_s);
            let top = lines
                .iter()
                .flat_map(|l| l.values.iter())
                .map(|p| p.1 + p.2)
                .fold(0.0, f64::max);
            let mut chart = linear_chart(
                panel,
                Some(caption),
                (0.0, until_s),
                (0.0, format::round_up(top)),
            )?;
            let last = index + 1 == count;
            draw_axes(
                &mut chart,
                &Axes {
                    x_title: if last {
                        "time since the storm began (s)"
                    } else {
                        ""
                    },
                    y_title: unit,
                    x_ticks: &format::seconds,
                    y_ticks: &format::count,
                    y_tick_count: if top > 0.0 { 6 } else { 2 },
                    x_light_lines: 1,
                },
            )?;
            for BandLine { color, values, .. } in &lines {
                let upper = values.iter().map(|p| (p.0, p.1 + p.2));
                let lower = values.iter().rev().map(|p| (p.0, (p.1 - p.2).max(0.0)));
                let band: Vec<(f64, f64)> = upper.chain(lower).collect();
                chart.draw_series(std::iter::once(Polygon::new(band, color.mix(0.18))))?;
                let means = values.iter().map(|p| (p.0, p.1));
                chart.draw_series(LineSeries::new(means, color.stroke_width(2)))?;
            }
        }
        Ok(())
    }
}

/// The service level a plan tested: `connect_p99_ms <= 50` split into its parts.
#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    pub text: String,
    pub threshold: f64,
}

impl Level {
    /// Reads the threshold from the end of the SLO's text; `None` if there is none.
    pub fn parse(text: &str) -> Option<Self> {
        let threshold = text.split_whitespace().last()?.parse().ok()?;
        Some(Self {
            text: text.trim().to_string(),
            threshold,
        })
    }
}

/// The values a plan visited, the figure at each with its confidence interval, and the SLO.
pub struct PlanVisits<'a> {
    pub plan: &'a BatchTable,
    pub level: Option<Level>,
}

impl PlanVisits<'_> {
    /// The figure the plan tested: the one column ending in `_mean`.
    pub fn figure(&self) -> Option<String> {
        self.plan
            .rows
            .iter()
            .flat_map(|row| row.cells.keys())
            .find_map(|name| name.strip_suffix("_mean").map(str::to_string))
    }
}

impl Figure for PlanVisits<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let variants = self.plan.variants();
        let figure = self.figure().unwrap_or_default();
        let mut entries: Vec<LegendEntry> = variants
            .iter()
            .enumerate()
            .map(|(i, v)| LegendEntry::new(Swatch::Line(variant_color(i)), format!("{v} visits")))
            .collect();
        let level_label = self.level.as_ref().map_or_else(
            || "SLO (not recorded)".to_string(),
            |level| format!("SLO: {}", level.text),
        );
        entries.push(LegendEntry::new(Swatch::Reference(LIMIT), level_label));
        let area = legend(area, &entries)?;

        let xs: Vec<f64> = self.plan.rows.iter().map(|r| r.point[0]).collect();
        let mut ys: Vec<f64> = self
            .plan
            .rows
            .iter()
            .filter_map(|r| r.mean_ci(&figure).map(|(m, ci)| m + ci))
            .collect();
        ys.extend(self.level.as_ref().map(|l| l.threshold * 1.2));
        let x_scale = Scale::fit(&xs);
        let y_scale = Scale::fit(&ys);
        let x_ticks = |v: f64| x_scale.label(v, format::count);
        let y_ticks = |v: f64| y_scale.label(v, format::count);
        let mut chart = linear_chart(
            &area,
            Some(
                "Numbers: the order of the visits. Filled: the SLO holds on the mean; hollow: \
                 it does not. Bars: 95% confidence",
            ),
            (x_scale.low, x_scale.high.max(x_scale.low + 1e-9)),
            (y_scale.low, y_scale.high),
        )?;
        let parameter = self.plan.parameters.first().cloned().unwrap_or_default();
        draw_axes(
            &mut chart,
            &Axes {
                x_title: &parameter,
                y_title: &if y_scale.log {
                    format!("{figure} (logarithmic)")
                } else {
                    figure.clone()
                },
                x_ticks: &x_ticks,
                y_ticks: &y_ticks,
                y_tick_count: y_scale.ticks(),
                x_light_lines: 1,
            },
        )?;

        let threshold = self.level.as_ref().and_then(|l| y_scale.place(l.threshold));
        if let Some(y) = threshold {
            chart.draw_series(LineSeries::new(
                [(x_scale.low, y), (x_scale.high, y)],
                LIMIT.stroke_width(2),
            ))?;
        }
        for (index, variant) in variants.iter().enumerate() {
            let color = variant_color(index);
            for row in self.plan.rows.iter().filter(|r| &r.variant == variant) {
                draw_visit(&mut chart, row, &figure, (x_scale, y_scale), color)?;
            }
        }
        Ok(())
    }
}

/// One visited value: its error bar, a marker filled when the SLO held on the mean, and
/// the step at which the planner visited it.
fn draw_visit<DB: DrawingBackend>(
    chart: &mut super::canvas::LinearChart<'_, DB>,
    row: &Row,
    figure: &str,
    (x_scale, y_scale): (Scale, Scale),
    color: RGBColor,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let Some((mean, ci95)) = row.mean_ci(figure) else {
        return Ok(());
    };
    let (Some(x), Some(y)) = (x_scale.place(row.point[0]), y_scale.place(mean)) else {
        return Ok(());
    };
    let low = y_scale
        .place((mean - ci95).max(1e-300))
        .unwrap_or(y_scale.low);
    let high = y_scale.place(mean + ci95).unwrap_or(y);
    chart.draw_series(LineSeries::new(
        [(x, low), (x, high)],
        color.stroke_width(2),
    ))?;
    let holds = row.words.get("holds_on_mean").map(String::as_str) == Some("true");
    let style = if holds {
        color.filled()
    } else {
        color.stroke_width(2)
    };
    chart.draw_series(std::iter::once(Circle::new((x, y), 6, style)))?;
    if let Some(step) = row.get("step") {
        // Offset up and right of the marker, in pixels, so the number never covers it.
        let label = EmptyElement::at((x, y))
            + Text::new(
                format!("{}", step as u64),
                (8, -8),
                text_style(12, FontStyle::Normal, INK).pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Left,
                    plotters::style::text_anchor::VPos::Bottom,
                )),
            );
        chart.draw_series(std::iter::once(label))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_go_logarithmic_only_over_decades() {
        let log = Scale::fit(&[10.0, 100.0, 5000.0]);
        assert!(log.log);
        assert_eq!((log.low, log.high), (1.0, 4.0));
        assert_eq!(log.ticks(), 4);
        assert_eq!(log.label(3.0, format::count), "1K");
        assert_eq!(log.label(2.5, format::count), "");
        assert_eq!(log.place(0.0), None);

        let linear = Scale::fit(&[0.0, 3.0, 9.0]);
        assert!(!linear.log);
        assert_eq!((linear.low, linear.high), (0.0, 10.0));
        assert_eq!(linear.place(0.0), Some(0.0));
        assert_eq!(Scale::fit(&[]).high, 1.0);
    }

    #[test]
    fn the_threshold_is_read_from_the_slo() {
        let level = Level::parse("connect_p99_ms <= 50").unwrap();
        assert_eq!(level.threshold, 50.0);
        assert_eq!(Level::parse("nonsense"), None);
    }

    #[test]
    fn shades_fade_towards_white() {
        assert_eq!(
            mix_with_white(RGBColor(0, 100, 200), 1.0),
            RGBColor(0, 100, 200)
        );
        assert_eq!(
            mix_with_white(RGBColor(0, 100, 200), 0.0),
            RGBColor(255, 255, 255)
        );
    }
}
