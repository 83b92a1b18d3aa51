//! The page every chart is drawn on, and the pieces all charts share: the bundled font,
//! the colours, the title and footer, a legend strip above the plot, and axes whose tick
//! labels go through [`super::format`].
//!
//! A chart is written twice from the same drawing code, as PNG (for the README and the
//! HTML report) and as SVG (for slides), each rendered in memory and written atomically.
//! Text is drawn with DejaVu Sans, compiled into the binary, so a machine without any
//! system font still renders every label.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context, Result, ensure};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::glyphs::SharpText;
use crate::report::write_atomically;

/// The family name the bundled font is registered under; plotters' default family, so
/// every text style finds it.
pub const FONT: &str = "sans-serif";

static FONT_REGULAR: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
static FONT_BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");

/// Text and axes.
pub const INK: RGBColor = RGBColor(33, 37, 41);
/// The footer, notes and reference lines.
pub const MUTED: RGBColor = RGBColor(108, 117, 125);
/// Arrivals, drawn behind everything else.
pub const BACKDROP: RGBColor = RGBColor(150, 150, 150);
/// A limit the data should stay under (100% utilization, an SLO).
pub const LIMIT: RGBColor = RGBColor(200, 30, 30);

/// Variant colours: the Okabe–Ito palette, told apart by colour-blind readers too. A
/// variant keeps its colour in every chart of a run.
const VARIANT_COLORS: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(213, 94, 0),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(120, 120, 40),
];

pub fn variant_color(index: usize) -> RGBColor {
    VARIANT_COLORS[index % VARIANT_COLORS.len()]
}

/// Registers the bundled font with plotters, once per process.
pub fn register_fonts() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let registered = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_REGULAR).is_ok()
            && plotters::style::register_font(FONT, FontStyle::Bold, FONT_BOLD).is_ok()
    });
    ensure!(registered, "the bundled font DejaVu Sans cannot be loaded");
    Ok(())
}

/// Something that draws itself into the body of a page, whatever the backend.
pub trait Figure {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static;
}

/// A chart's file name, title and pixel size.
#[derive(Debug, Clone)]
pub struct Page {
    /// File stem: `<directory>/<name>.png` and `.svg`.
    pub name: String,
    pub title: String,
    pub width_px: u32,
    pub height_px: u32,
}

/// Draws `figure` on `page` and writes it as PNG and SVG into `directory`.
pub fn render(
    directory: &Path,
    page: &Page,
    footer: &str,
    figure: &impl Figure,
) -> Result<[PathBuf; 2]> {
    register_fonts()?;
    let size = (page.width_px, page.height_px);

    let mut pixels = vec![0u8; page.width_px as usize * page.height_px as usize * 3];
    {
        let backend = SharpText::new(
            BitMapBackend::with_buffer(&mut pixels, size),
            FONT_REGULAR,
            FONT_BOLD,
        )
        .context("the bundled font DejaVu Sans cannot be loaded")?;
        let root = backend.into_drawing_area();
        compose(&root, page, footer, figure)?;
        root.present()?;
    }
    let png_path = directory.join(format!("{}.png", page.name));
    write_atomically(&png_path, &encode_png(pixels, size)?)?;

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        compose(&root, page, footer, figure)?;
        root.present()?;
    }
    let svg_path = directory.join(format!("{}.svg", page.name));
    write_atomically(&svg_path, svg.as_bytes())?;
    Ok([png_path, svg_path])
}

fn encode_png(pixels: Vec<u8>, (width, height): (u32, u32)) -> Result<Vec<u8>> {
    let image = image::RgbImage::from_raw(width, height, pixels)
        .context("the chart's pixel buffer does not match its size")?;
    let mut bytes = Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, image::ImageFormat::Png)
        .context("cannot encode the chart as PNG")?;
    Ok(bytes.into_inner())
}

/// Title on top, provenance at the bottom, the figure in between.
fn compose<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    page: &Page,
    footer: &str,
    figure: &impl Figure,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let (head, rest) = root.split_vertically(48);
    head.draw(&Text::new(
        page.title.as_str(),
        (18, 24),
        text_style(22, FontStyle::Bold, INK).pos(Pos::new(HPos::Left, VPos::Center)),
    ))?;

    let rest_height = rest.dim_in_pixel().1;
    let (body, foot) = rest.split_vertically(rest_height.saturating_sub(28));
    foot.draw(&PathElement::new(
        vec![(18, 2), (page.width_px as i32 - 18, 2)],
        MUTED.mix(0.3),
    ))?;
    foot.draw(&Text::new(
        footer,
        (18, 15),
        text_style(12, FontStyle::Normal, MUTED).pos(Pos::new(HPos::Left, VPos::Center)),
    ))?;
    figure.draw(&body.margin(0, 4, 8, 18))
}

pub fn text_style(size_px: u32, style: FontStyle, color: RGBColor) -> TextStyle<'static> {
    (FONT, size_px, style).into_font().color(&color)
}

/// How a legend entry is drawn.
#[derive(Debug, Clone, Copy)]
pub enum Swatch {
    Line(RGBColor),
    Dashed(RGBColor),
    /// A filled area, such as the miss window between two curves.
    Band(RGBColor),
    /// A thin reference line, such as a capacity limit.
    Reference(RGBColor),
}

#[derive(Debug, Clone)]
pub struct LegendEntry {
    pub swatch: Swatch,
    pub label: String,
}

impl LegendEntry {
    pub fn new(swatch: Swatch, label: impl Into<String>) -> Self {
        Self {
            swatch,
            label: label.into(),
        }
    }
}

const LEGEND_ROW_PX: i32 = 24;
const SWATCH_PX: i32 = 30;

/// Draws the entries in rows across the top of `area`, outside any plot so that they never
/// hide data, and returns the area below them.
pub fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[LegendEntry],
) -> Result<DrawingArea<DB, Shift>>
where
    DB::ErrorType: 'static,
{
    let style = text_style(14, FontStyle::Normal, INK);
    let width = area.dim_in_pixel().0 as i32;
    let mut placed = Vec::new();
    let (mut x, mut row) = (72, 0);
    for entry in entries {
        let text_px = area.estimate_text_size(&entry.label, &style)?.0 as i32;
        let entry_px = SWATCH_PX + 8 + text_px;
        if x + entry_px > width && x > 72 {
            (x, row) = (72, row + 1);
        }
        placed.push((entry, x, row * LEGEND_ROW_PX + LEGEND_ROW_PX / 2));
        x += entry_px + 26;
    }

    let rows = if entries.is_empty() { 0 } else { row + 1 };
    let (strip, rest) = area.split_vertically(rows * LEGEND_ROW_PX + 6);
    for (entry, x, y) in placed {
        draw_swatch(&strip, entry.swatch, x, y)?;
        strip.draw(&Text::new(
            entry.label.as_str(),
            (x + SWATCH_PX + 8, y),
            style.pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    Ok(rest)
}

fn draw_swatch<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    swatch: Swatch,
    x: i32,
    y: i32,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    match swatch {
        Swatch::Line(color) => {
            area.draw(&PathElement::new(
                vec![(x, y), (x + SWATCH_PX, y)],
                color.stroke_width(3),
            ))?;
        }
        Swatch::Dashed(color) => {
            for start in [0, 12, 24] {
                area.draw(&PathElement::new(
                    vec![(x + start, y), (x + start + 7, y)],
                    color.stroke_width(3),
                ))?;
            }
        }
        Swatch::Band(color) => {
            area.draw(&Rectangle::new(
                [(x, y - 7), (x + SWATCH_PX, y + 7)],
                color.mix(0.3).filled(),
            ))?;
        }
        Swatch::Reference(color) => {
            area.draw(&PathElement::new(
                vec![(x, y), (x + SWATCH_PX, y)],
                color.stroke_width(2),
            ))?;
        }
    }
    Ok(())
}

/// Axis titles (with units) and tick formatters of one plot.
pub struct Axes<'a> {
    pub x_title: &'a str,
    pub y_title: &'a str,
    pub x_ticks: &'a dyn Fn(f64) -> String,
    pub y_ticks: &'a dyn Fn(f64) -> String,
    /// How many y ticks to aim for: fewer on an axis with nothing to show.
    pub y_tick_count: usize,
    /// Faint grid lines between two x ticks: one on a linear axis, more on a logarithmic
    /// one, where they mark 2, 3, ... 9 within each decade.
    pub x_light_lines: usize,
}

/// Stroke width of variant `index` of `count`: earlier variants are drawn wider, so a
/// later one drawn on top of an identical curve leaves its outline visible.
pub fn variant_stroke(index: usize, count: usize) -> u32 {
    2 + (count.saturating_sub(index + 1)).min(2) as u32
}

/// A plot with linear axes on both sides.
pub type LinearChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Builds a plot in `area` with an optional caption above it.
pub fn linear_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    caption: Option<&str>,
    x_range: (f64, f64),
    y_range: (f64, f64),
) -> Result<LinearChart<'a, DB>>
where
    DB::ErrorType: 'static,
{
    let mut builder = ChartBuilder::on(area);
    builder
        .margin_top(6)
        .margin_right(12)
        .x_label_area_size(48)
        .y_label_area_size(84);
    if let Some(caption) = caption {
        builder.caption(caption, text_style(16, FontStyle::Normal, INK));
    }
    Ok(builder.build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)?)
}

/// Draws grid, ticks and axis titles with stormsim's formatting.
pub fn draw_axes<DB, X, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    axes: &Axes<'_>,
) -> Result<()>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let x_ticks = axes.x_ticks;
    let y_ticks = axes.y_ticks;
    chart
        .configure_mesh()
        .x_desc(axes.x_title)
        .y_desc(axes.y_title)
        .x_labels(9)
        .y_labels(axes.y_tick_count)
        .x_label_formatter(&|value| x_ticks(*value))
        .y_label_formatter(&|value| y_ticks(*value))
        .label_style(text_style(13, FontStyle::Normal, INK))
        .axis_desc_style(text_style(14, FontStyle::Normal, INK))
        .bold_line_style(RGBColor(215, 215, 215))
        .light_line_style(RGBColor(243, 243, 243))
        .x_max_light_lines(axes.x_light_lines)
        .y_max_light_lines(1)
        .axis_style(MUTED)
        .draw()?;
    Ok(())
}
