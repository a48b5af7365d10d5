//! The log-density view (`g`): the samples panel's cells shaded by log q_{σ_min}, the model's
//! through the probability-flow ODE or the training split blurred by σ_min in closed form
//! (`eval::likelihood`), one point per cell, under the particles.
//!
//! Both use one scale so that they compare: the [`SPAN`] nats below the exact map's highest
//! value, in the steps of [`theme::DENSITY_RAMP`]; lower values are not shaded. A cell's
//! background carries the shade, so the particles' braille stays on top. Without colour an
//! empty cell gets a glyph of the density ramp.

use ratatui::buffer::Buffer;
use ratatui::style::Color;
use ratatui::text::{Line, Span};

use crate::app::view::{DensityKind, DensityOverlay};
use crate::eval::likelihood::LogDensityMap;
use crate::eval::score_field::Lattice;
use crate::ui::heatmap::DENSITY_GLYPHS;
use crate::ui::scatter::PlotTransform;
use crate::ui::theme;

/// Nats below the highest exact value that the ramp covers, in six steps of 1⅓ nats.
pub const SPAN: f64 = 8.0;

/// A point per cell of the plot area of `transform`, at the cells' centres, row by row from
/// the top: the lattice the trainer maps the log density on.
pub fn lattice(transform: &PlotTransform) -> Option<Lattice> {
    let (cols, rows) = (transform.area.width, transform.area.height);
    if cols < 2 || rows < 2 {
        return None;
    }
    let first = transform.cell_centre(0, 0);
    let next = transform.cell_centre(1, 1);
    let (cols, rows) = (usize::from(cols), usize::from(rows));
    Some(Lattice { x0: first[0], dx: next[0] - first[0], cols, y0: first[1], dy: next[1] - first[1], rows })
}

/// The values `kind` shades with, if the map has them.
fn values(map: &LogDensityMap, kind: DensityKind) -> Option<&[f32]> {
    match kind {
        DensityKind::Learned => map.learned.as_deref(),
        DensityKind::Exact => Some(&map.exact),
    }
}

/// The ramp's top: the highest finite exact value.
fn top(map: &LogDensityMap) -> Option<f64> {
    map.exact.iter().map(|&v| f64::from(v)).filter(|v| v.is_finite()).reduce(f64::max)
}

/// The ramp step, 1–`steps`, of `value` on the scale topped at `top`; 0 below it.
fn step(value: f64, top: f64, steps: usize) -> usize {
    if !value.is_finite() || value < top - SPAN {
        return 0;
    }
    let t = ((value - (top - SPAN)) / SPAN).clamp(0.0, 1.0);
    ((t * steps as f64).floor() as usize).min(steps - 1) + 1
}

/// Shades the cells of `transform`'s plot area under `overlay`, when its map is for this
/// lattice; returns whether it drew.
pub fn draw(overlay: &DensityOverlay, transform: &PlotTransform, colour: bool, buf: &mut Buffer) -> bool {
    let Some(map) = overlay.map.filter(|m| Some(m.lattice) == lattice(transform)) else { return false };
    let (Some(values), Some(top)) = (values(map, overlay.kind), top(map)) else { return false };
    let area = transform.area;
    let cols = usize::from(area.width);
    for (k, &value) in values.iter().enumerate() {
        let (col, row) = ((k % cols) as u16, (k / cols) as u16);
        let cell = &mut buf[(area.x + col, area.y + row)];
        if colour {
            let ramp = theme::DENSITY_RAMP;
            // Below the ramp, no shade: not the data's shading either, which would read as density.
            let shade = step(f64::from(value), top, ramp.len()).checked_sub(1);
            cell.set_bg(shade.map_or(Color::Reset, |s| ramp[s]));
        } else if cell.symbol() == " " {
            // Where no particle is drawn.
            cell.set_char(DENSITY_GLYPHS[step(f64::from(value), top, DENSITY_GLYPHS.len() - 1)]);
        }
    }
    true
}

/// The panel's title for `overlay` (σ_min is in the legend: the title shares its row with
/// the count of particles off view).
pub fn title(overlay: &DensityOverlay) -> String {
    match (overlay.kind, overlay.map.and_then(|m| m.learned.as_ref())) {
        (DensityKind::Learned, None) => " log q: model (ODE) … ".to_string(),
        (DensityKind::Learned, Some(_)) => " log q: model (ODE) ".to_string(),
        (DensityKind::Exact, _) => " log q: exact ".to_string(),
    }
}

/// The legend: the ramp with its ends in nats.
pub fn legend(overlay: &DensityOverlay, colour: bool) -> Line<'static> {
    let Some(top) = overlay.map.and_then(top) else { return Line::default() };
    let sigma = overlay.map.map_or_else(String::new, |m| format!(" at σ {}", crate::shown::number(m.sigma_min)));
    let mut spans = vec![Span::styled(format!(" log q{sigma}: {:.1} ", top - SPAN), theme::DIM)];
    if colour {
        spans.extend(theme::DENSITY_RAMP.iter().map(|&c| Span::styled("█", c)));
    } else {
        spans.push(Span::raw(DENSITY_GLYPHS[1..].iter().collect::<String>()));
    }
    spans.push(Span::styled(format!(" {top:.1} nats "), theme::DIM));
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use ratatui::layout::Rect;

    use super::*;
    use crate::data::Bounds;

    /// The lattice is a point per cell at the cells' centres, and a map on it shades each cell
    /// by its own value: the top cell the last step, one far below not at all.
    #[test]
    fn each_cell_is_shaded_by_its_own_point() {
        let transform = PlotTransform::new(Rect::new(0, 0, 12, 6), Bounds { x: [-1.0, 1.0], y: [-1.0, 1.0] });
        let lattice = lattice(&transform).expect("a lattice");
        assert_eq!((lattice.cols, lattice.rows), (10, 4));
        assert_eq!([lattice.x0, lattice.y0], transform.cell_centre(0, 0));
        let points = lattice.points();
        let last = points.nrows() - 1;
        let expected = transform.cell_centre(9, 3).map(|v| v as f32);
        assert_eq!([points[[last, 0]], points[[last, 1]]], expected);

        let mut exact = vec![-100.0f32; lattice.len()];
        exact[0] = 2.0;
        exact[11] = (2.0 - SPAN / 2.0) as f32;
        let map = LogDensityMap { lattice, sigma_min: 0.01, learned: None, exact };
        let mut buf = Buffer::empty(Rect::new(0, 0, 12, 6));
        let overlay = DensityOverlay { kind: DensityKind::Exact, map: Some(&map) };
        assert!(draw(&overlay, &transform, true, &mut buf));
        let ramp = theme::DENSITY_RAMP;
        let area = transform.area;
        assert_eq!(buf[(area.x, area.y)].bg, ramp[ramp.len() - 1]);
        assert_eq!(buf[(area.x + 1, area.y + 1)].bg, ramp[ramp.len() / 2]);
        assert_eq!(buf[(area.x + 5, area.y + 2)].bg, Color::Reset);
        // The model's map has not come: nothing drawn.
        let learned = DensityOverlay { kind: DensityKind::Learned, map: Some(&map) };
        assert!(!draw(&learned, &transform, true, &mut Buffer::empty(Rect::new(0, 0, 12, 6))));
    }

    #[test]
    fn the_ramp_covers_span_nats_below_the_top() {
        let steps = theme::DENSITY_RAMP.len();
        assert_eq!(step(0.5, 0.5, steps), steps, "the top: the last step");
        assert_eq!(step(0.5 - SPAN, 0.5, steps), 1, "the bottom: the first");
        assert_eq!(step(0.5 - SPAN - 0.01, 0.5, steps), 0, "below: unshaded");
        assert_eq!(step(f64::NAN, 0.5, steps), 0);
        assert_eq!(step(0.5 - SPAN / 2.0, 0.5, steps), steps / 2 + 1, "the middle");
    }
}
