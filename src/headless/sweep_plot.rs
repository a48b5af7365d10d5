//! `--sampler-sweep --plot FILE`: energy distance against network evaluations, log–log, one
//! line per sampler, with the floor (fresh data) as a dashed line: where each sampler's
//! curve meets the others', and where it stops improving.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::config::Sampler;
use crate::headless::plot::{
    CHART_MARGIN, DrawResult, Drawable, X_LABEL_AREA, Y_LABEL_AREA, format_loss, house_legend, house_style, log_ticks,
    panel_title,
};
use crate::headless::sweep::{SAMPLERS, Sweep};

/// One colour per sampler (colour-blind-safe: Okabe and Ito's palette).
fn colour(sampler: Sampler) -> RGBColor {
    match sampler {
        Sampler::Annealed => RGBColor(0x00, 0x00, 0x00),
        Sampler::ReverseDiffusion => RGBColor(0xe6, 0x9f, 0x00),
        Sampler::Pc => RGBColor(0xd5, 0x5e, 0x00),
        Sampler::OdeEuler => RGBColor(0x56, 0xb4, 0xe9),
        Sampler::OdeHeun => RGBColor(0x00, 0x72, 0xb2),
    }
}

/// The sweep with the line above it.
pub struct SweepFigure<'a> {
    pub title: String,
    pub sweep: &'a Sweep,
}

impl Drawable for SweepFigure<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let root = root.margin(14, 4, 4, 4);
        let root = root.titled(&self.title, ("sans-serif", 24).into_font().style(FontStyle::Bold).color(&BLACK))?;
        let area = panel_title(&root, "Energy distance to the test split against network evaluations")?;
        let sweep = self.sweep;
        let distances = sweep.rows.iter().map(|r| r.samples.energy_distance).chain([sweep.floor_energy_distance]);
        let positive: Vec<f64> = distances.filter(|d| d.is_finite() && *d > 0.0).collect();
        let (lo, hi) = positive.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &d| (lo.min(d), hi.max(d)));
        let (lo, hi) = if lo < hi { (lo / 1.3, hi * 1.3) } else { (1e-4, 1e-1) };
        let most = sweep.rows.iter().map(|r| r.nfe).max().unwrap_or(1000) as f64;
        let (x_lo, x_hi) = (4.0, most * 1.2);
        let mut chart = ChartBuilder::on(&area)
            .margin(CHART_MARGIN)
            .x_label_area_size(X_LABEL_AREA)
            .y_label_area_size(Y_LABEL_AREA)
            .build_cartesian_2d(
                (x_lo..x_hi).log_scale().with_key_points(log_ticks(x_lo, x_hi)),
                (lo..hi).log_scale().with_key_points(log_ticks(lo, hi)),
            )?;
        house_style(&mut chart.configure_mesh())
            .x_desc("network evaluations (NFE, log scale)")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_desc("energy distance (log scale)")
            .y_label_formatter(&|v| format_loss(*v))
            .draw()?;
        for sampler in SAMPLERS {
            let points: Vec<(f64, f64)> = sweep
                .rows
                .iter()
                .filter(|r| r.sampler == sampler && r.samples.energy_distance > 0.0)
                .map(|r| (r.nfe as f64, r.samples.energy_distance))
                .collect();
            let style = colour(sampler).stroke_width(2);
            chart
                .draw_series(LineSeries::new(points, style).point_size(4))?
                .label(sampler.title())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
        }
        let floor = sweep.floor_energy_distance;
        let dashes = DashedLineSeries::new([(x_lo, floor), (x_hi, floor)], 8, 6, RGBColor(0x80, 0x80, 0x80).into());
        chart
            .draw_series(dashes)?
            .label("floor: fresh data")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RGBColor(0x80, 0x80, 0x80)));
        house_legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}
