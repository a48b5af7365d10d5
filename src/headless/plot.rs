//! `--plot FILE.png|FILE.svg`: a figure of a headless run for reports, drawn with plotters.
//! Left, the Langevin samples over the data set, in the data set's fixed bounds (the
//! dashboard's, [`Source::bounds`](crate::data::Source::bounds)) widened to equal aspect, so
//! figures of different runs compare at a glance and samples that escaped are counted, not
//! allowed to rescale the view. Right, the loss curves: the
//! train loss of every step (faint) and its running mean over one epoch, the test loss after
//! each epoch; log y when every loss is positive (DSM), linear otherwise (ISM's loss is
//! negative once trained).
//!
//! Text is set in DejaVu Sans, compiled in from the `dejavu` crate and rasterised by
//! `ab_glyph`: plotters' default `ttf` feature looks fonts up through fontconfig, which
//! needs system libraries and fonts that a fresh machine may lack, and would make the
//! pixels depend on the machine. The PNG is rendered into memory and encoded with `png`;
//! both formats are written atomically.

use std::io;
use std::path::Path;
use std::sync::OnceLock;

use ndarray::ArrayView2;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, register_font};

use crate::data::Bounds;
use crate::trainer::History;

/// Pixel size of the figure (PNG) or its view box (SVG): two panels side by side.
const SIZE: (u32, u32) = (1600, 680);

const DATA_COLOUR: RGBColor = RGBColor(0x2b, 0x4c, 0x8c);
const SAMPLE_COLOUR: RGBColor = RGBColor(0xe3, 0x6c, 0x09);
const TRAIN_COLOUR: RGBColor = RGBColor(0x1f, 0x5f, 0xa8);
const TEST_COLOUR: RGBColor = RGBColor(0xd6, 0x3a, 0x1e);
const GRID_COLOUR: RGBColor = RGBColor(0xe4, 0xe4, 0xe4);
const AXIS_COLOUR: RGBColor = RGBColor(0x60, 0x60, 0x60);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlotFormat {
    Png,
    Svg,
}

impl PlotFormat {
    /// What `--plot` accepts, for its error message.
    pub const ACCEPTED: &'static str = "a file name ending in .png or .svg";

    /// The format a file name asks for, by its extension (any case).
    pub fn from_path(path: &Path) -> Option<Self> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "png" => Some(Self::Png),
            "svg" => Some(Self::Svg),
            _ => None,
        }
    }
}

/// What the figure shows.
pub struct Figure<'a> {
    /// One line above both panels (the run's configuration).
    pub title: String,
    /// `[n, 2]`: the whole data set.
    pub data: ArrayView2<'a, f32>,
    /// `[m, 2]`: the final particles.
    pub samples: ArrayView2<'a, f32>,
    /// The region the scatter panel must show (widened to equal aspect).
    pub bounds: Bounds,
    pub history: &'a History,
    /// The window of the train loss's running mean.
    pub steps_per_epoch: usize,
}

/// A figure `--plot` can write: it draws itself on any of plotters' backends.
pub trait Drawable {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

impl Drawable for Figure<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        draw(root, self)
    }
}

/// Draws `figure` in `format` and returns the file's bytes.
pub fn render(figure: &impl Drawable, format: PlotFormat) -> io::Result<Vec<u8>> {
    register_fonts()?;
    let (width, height) = SIZE;
    match format {
        PlotFormat::Png => {
            let mut rgb = vec![0u8; width as usize * height as usize * 3];
            {
                let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
                figure.draw(&root).map_err(drawing_error)?;
                root.present().map_err(drawing_error)?;
            }
            let mut bytes = Vec::new();
            let mut encoder = png::Encoder::new(&mut bytes, width, height);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder.write_header().map_err(io::Error::other)?;
            writer.write_image_data(&rgb).map_err(io::Error::other)?;
            writer.finish().map_err(io::Error::other)?;
            Ok(bytes)
        }
        PlotFormat::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
                figure.draw(&root).map_err(drawing_error)?;
                root.present().map_err(drawing_error)?;
            }
            Ok(svg.into_bytes())
        }
    }
}

/// Renders `figure` in the format `path`'s extension names.
pub fn render_for(path: &Path, figure: &impl Drawable) -> io::Result<Vec<u8>> {
    let format =
        PlotFormat::from_path(path).ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, PlotFormat::ACCEPTED))?;
    render(figure, format)
}

fn drawing_error(e: impl std::error::Error) -> io::Error {
    io::Error::other(format!("drawing the figure: {e}"))
}

/// plotters with `ab_glyph` knows no font until one is registered (once per process).
fn register_fonts() -> io::Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular()).is_ok()
            && register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold()).is_ok()
    });
    if ok { Ok(()) } else { Err(io::Error::other("the built-in font DejaVu Sans could not be parsed")) }
}

pub type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, figure: &Figure) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let root = root.margin(14, 4, 4, 4);
    let root = root.titled(&figure.title, ("sans-serif", 24).into_font().style(FontStyle::Bold).color(&BLACK))?;
    let (width, _) = root.dim_in_pixel();
    let (left, right) = root.split_horizontally(width * 52 / 100);
    draw_samples(&left, figure)?;
    draw_losses(&right, figure)
}

pub(super) fn panel_title<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
) -> Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
    area.titled(title, ("sans-serif", 20).into_font().color(&BLACK))
}

pub(super) fn label_font() -> TextStyle<'static> {
    ("sans-serif", 16).into_font().color(&AXIS_COLOUR)
}

pub(super) fn legend_font() -> TextStyle<'static> {
    ("sans-serif", 16).into_font().color(&BLACK)
}

/// Label areas of both charts (pixels): wide enough for "1e-2"-style tick labels and the
/// axis description.
pub(super) const X_LABEL_AREA: u32 = 56;
pub(super) const Y_LABEL_AREA: u32 = 76;
pub(super) const CHART_MARGIN: u32 = 16;

fn draw_samples<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, figure: &Figure) -> DrawResult<DB> {
    let area = panel_title(area, "Langevin samples over the data")?;
    let (w, h) = area.dim_in_pixel();
    let plot_px = (
        f64::from(w.saturating_sub(2 * CHART_MARGIN + Y_LABEL_AREA).max(1)),
        f64::from(h.saturating_sub(2 * CHART_MARGIN + X_LABEL_AREA).max(1)),
    );
    let (xs, ys) = equal_aspect_view(figure.bounds, plot_px);
    let mut chart = ChartBuilder::on(&area)
        .margin(CHART_MARGIN)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(xs.0..xs.1, ys.0..ys.1)?;
    house_style(&mut chart.configure_mesh()).x_desc("x₁").y_desc("x₂").draw()?;

    let inside = |x: f64, y: f64| (xs.0..=xs.1).contains(&x) && (ys.0..=ys.1).contains(&y);
    let points = |cloud: ArrayView2<'_, f32>| -> Vec<(f64, f64)> {
        cloud.rows().into_iter().map(|r| (f64::from(r[0]), f64::from(r[1]))).filter(|&(x, y)| inside(x, y)).collect()
    };
    let data = points(figure.data);
    let samples = points(figure.samples);
    let outside = figure.samples.nrows() - samples.len();

    let data_style = DATA_COLOUR.mix(0.45).filled();
    chart
        .draw_series(data.iter().map(|&p| Circle::new(p, 2, data_style)))?
        .label(format!("data ({} points)", figure.data.nrows()))
        .legend(|(x, y)| Circle::new((x + 8, y), 5, DATA_COLOUR.filled()));
    let sample_style = SAMPLE_COLOUR.mix(0.4).filled();
    let sample_label = match outside {
        0 => format!("samples ({})", figure.samples.nrows()),
        n => format!("samples ({}; {n} outside this view)", figure.samples.nrows()),
    };
    chart
        .draw_series(samples.iter().map(|&p| Circle::new(p, 2, sample_style)))?
        .label(sample_label)
        .legend(|(x, y)| Circle::new((x + 8, y), 5, SAMPLE_COLOUR.filled()));
    house_legend(&mut chart, emptiest_corner(&data, &samples, xs, ys))
}

/// Every chart's legend, at `position`.
pub(super) fn house_legend<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> DrawResult<DB>
where
    DB: DrawingBackend + 'a,
    CT: plotters::coord::CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(position)
        .label_font(legend_font())
        .background_style(WHITE.mix(0.85))
        .border_style(AXIS_COLOUR)
        .margin(12)
        .draw()
}

/// The corner of the view whose legend-sized box (40% wide, 20% high) covers the fewest
/// points: the data sets fill different parts of their bounds (the swiss roll reaches the top
/// right, the moons leave it empty).
fn emptiest_corner(data: &[(f64, f64)], samples: &[(f64, f64)], xs: (f64, f64), ys: (f64, f64)) -> SeriesLabelPosition {
    let (w, h) = (0.4 * (xs.1 - xs.0), 0.2 * (ys.1 - ys.0));
    let corners = [
        (SeriesLabelPosition::UpperRight, xs.1 - w..xs.1, ys.1 - h..ys.1),
        (SeriesLabelPosition::UpperLeft, xs.0..xs.0 + w, ys.1 - h..ys.1),
        (SeriesLabelPosition::LowerRight, xs.1 - w..xs.1, ys.0..ys.0 + h),
        (SeriesLabelPosition::LowerLeft, xs.0..xs.0 + w, ys.0..ys.0 + h),
    ];
    let covered = |x: &std::ops::Range<f64>, y: &std::ops::Range<f64>| {
        data.iter().chain(samples).filter(|(px, py)| x.contains(px) && y.contains(py)).count()
    };
    // min_by_key keeps the first of equals: upper right when several are empty.
    corners.into_iter().min_by_key(|(_, x, y)| covered(x, y)).map_or(SeriesLabelPosition::UpperRight, |c| c.0)
}

/// `bounds` widened along one axis to the pixel aspect of the plotting area, so that a unit is
/// as long across as up.
fn equal_aspect_view(bounds: Bounds, (px_w, px_h): (f64, f64)) -> ((f64, f64), (f64, f64)) {
    let centre = [0.5 * (bounds.x[0] + bounds.x[1]), 0.5 * (bounds.y[0] + bounds.y[1])];
    let half = [0.5 * (bounds.x[1] - bounds.x[0]), 0.5 * (bounds.y[1] - bounds.y[0])];
    // Units per pixel: the larger of the two, so both extents fit.
    let scale = (half[0] / px_w).max(half[1] / px_h);
    let (hx, hy) = (scale * px_w, scale * px_h);
    ((centre[0] - hx, centre[0] + hx), (centre[1] - hy, centre[1] + hy))
}

fn draw_losses<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, figure: &Figure) -> DrawResult<DB> {
    let area = panel_title(area, "Loss")?;
    let history = figure.history;
    if history.train.is_empty() {
        // --load with --epochs 0: nothing to plot but the starting test loss.
        let note = match history.test.first() {
            Some(p) => format!("no training in this run; test loss {}", format_loss(f64::from(p.loss))),
            None => "no training in this run".to_string(),
        };
        let (w, h) = area.dim_in_pixel();
        let style = legend_font().pos(Pos::new(HPos::Center, VPos::Center));
        return area.draw_text(&note, &style, (w as i32 / 2, h as i32 / 2));
    }
    let raw: Vec<(f64, f64)> = history.train.points().map(|(step, l)| (step as f64, f64::from(l))).collect();
    // One epoch of values; a value covers `span` steps once a long run's history merged.
    let span = history.train.span();
    let window = (figure.steps_per_epoch as u64 / span).max(1) as usize;
    let smooth = running_mean(history.train.values(), window, span);
    let test: Vec<(f64, f64)> = history.test.iter().map(|p| (p.step as f64, f64::from(p.loss))).collect();

    let all = || raw.iter().chain(&test).map(|&(_, l)| l).filter(|l| l.is_finite());
    let (mut lo, mut hi) = all().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), l| (lo.min(l), hi.max(l)));
    if lo > hi {
        (lo, hi) = (1.0, 10.0);
    }
    let x_max = (history.train.values().len() as u64 * span) as f64;
    let mut chart = ChartBuilder::on(&area);
    chart.margin(CHART_MARGIN).x_label_area_size(X_LABEL_AREA).y_label_area_size(Y_LABEL_AREA);
    if lo > 0.0 {
        let (lo, hi) = (lo / 1.25, hi * 1.25);
        let y = (lo..hi).log_scale().with_key_points(log_ticks(lo, hi));
        let mut chart = chart.build_cartesian_2d(0.0..x_max, y)?;
        loss_series(&mut chart, "loss (log scale)", &raw, &smooth, &test)
    } else {
        let pad = 0.08 * (hi - lo).max(1e-6);
        let mut chart = chart.build_cartesian_2d(0.0..x_max, (lo - pad)..(hi + pad))?;
        loss_series(&mut chart, "loss", &raw, &smooth, &test)
    }
}

/// Both charts' grid, axes and fonts.
pub(super) fn house_style<'a, 'b, 'c, X, Y, DB>(
    mesh: &'c mut plotters::chart::MeshStyle<'a, 'b, X, Y, DB>,
) -> &'c mut plotters::chart::MeshStyle<'a, 'b, X, Y, DB>
where
    X: Ranged,
    Y: Ranged,
    DB: DrawingBackend,
{
    mesh.light_line_style(TRANSPARENT)
        .bold_line_style(GRID_COLOUR)
        .axis_style(AXIS_COLOUR)
        .label_style(label_font())
        .axis_desc_style(label_font())
}

/// The mesh, the three loss series and the legend, on either kind of y axis.
fn loss_series<'a, DB, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>,
    y_desc: &str,
    raw: &[(f64, f64)],
    smooth: &[(f64, f64)],
    test: &[(f64, f64)],
) -> DrawResult<DB>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
{
    house_style(&mut chart.configure_mesh())
        .x_desc("training step")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_desc(y_desc)
        .y_label_formatter(&|v| format_loss(*v))
        .draw()?;
    chart.draw_series(LineSeries::new(raw.iter().copied(), TRAIN_COLOUR.mix(0.12).stroke_width(1)))?;
    chart
        .draw_series(LineSeries::new(smooth.iter().copied(), TRAIN_COLOUR.stroke_width(2)))?
        .label("train: every step (faint), running mean over one epoch")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], TRAIN_COLOUR.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(test.iter().copied(), TEST_COLOUR.stroke_width(2)).point_size(3))?
        .label("test: after each epoch (fixed noise)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], TEST_COLOUR.stroke_width(2)));
    house_legend(chart, SeriesLabelPosition::UpperRight)
}

/// The ticks of a log axis over [lo, hi] (0 < lo < hi). plotters' own are the powers of ten
/// only, so a loss that moves less than a decade got no label at all. The sparsest set giving
/// at least two: the powers of ten, then 1-2-5 in each decade, then evenly spaced round
/// values (steps of 1, 0.5, 0.2 or 0.1 times the power of ten below the range's width).
pub(super) fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let decades = lo.log10().floor() as i32..=hi.log10().ceil() as i32;
    let inside = |mantissas: &[f64]| -> Vec<f64> {
        decades
            .clone()
            .flat_map(|e| mantissas.iter().map(move |m| m * 10f64.powi(e)))
            .filter(|v| (lo..=hi).contains(v))
            .collect()
    };
    let sets: [&[f64]; 2] = [&[1.0], &[1.0, 2.0, 5.0]];
    if let Some(ticks) = sets.into_iter().map(inside).find(|ticks| ticks.len() >= 2) {
        return ticks;
    }
    let unit = 10f64.powf((hi - lo).log10().floor());
    let evenly = |step: f64| -> Vec<f64> {
        let first = (lo / step).ceil() as i64;
        (first..).map(|k| k as f64 * step).take_while(|&v| v <= hi).collect()
    };
    // A step of unit / 10 fits ten or more in the range: the last one always gives two.
    [1.0, 0.5, 0.2, 0.1].into_iter().map(|f| evenly(f * unit)).find(|ticks| ticks.len() >= 2).unwrap_or_default()
}

/// Tick labels short enough for the label area: 3 significant digits.
pub(super) fn format_loss(v: f64) -> String {
    if v != 0.0 && (v.abs() >= 1e4 || v.abs() < 1e-2) {
        format!("{v:.1e}")
    } else {
        format!("{:.3}", v).trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// (step, mean of the last `window` values up to it), each value covering `span` steps.
fn running_mean(losses: &[f32], window: usize, span: u64) -> Vec<(f64, f64)> {
    let mut sum = 0.0f64;
    losses
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            sum += f64::from(l);
            if i >= window {
                sum -= f64::from(losses[i - window]);
            }
            (((i + 1) as u64 * span) as f64, sum / (i + 1).min(window) as f64)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// At least two ticks, all inside the range, whatever its width.
    #[test]
    fn a_log_axis_gets_two_ticks_or_more_even_under_a_decade() {
        for (lo, hi) in
            [(0.8, 1.5), (0.64, 1.875), (1.2, 1.9), (133.9, 297.7), (0.05, 500.0), (3e-5, 4e-5), (700.0, 7e6)]
        {
            let ticks = log_ticks(lo, hi);
            assert!(ticks.len() >= 2, "{lo}..{hi}: {ticks:?}");
            assert!(ticks.iter().all(|t| (lo..=hi).contains(t)), "{lo}..{hi}: {ticks:?}");
            let labels: Vec<String> = ticks.iter().map(|&t| format_loss(t)).collect();
            assert!(labels.windows(2).all(|w| w[0] != w[1]), "{lo}..{hi}: labels {labels:?}");
        }
        // Many decades: the powers of ten only, not a crowd.
        assert_eq!(log_ticks(0.05, 500.0).len(), 4);
    }
}
