//! How the score field view looks: one arrow glyph per lattice point over the scatter panel,
//! pointing the way the field does, brighter where it is stronger.
//!
//! **Where.** An arrow every [`SPACING`] cells, the lattice centred in the plot area. Terminal
//! cells are about twice as tall as wide, so 4 columns by 2 rows is a square on screen, like
//! the plot's units. Each arrow stands for the field at its own cell's centre
//! ([`PlotTransform::cell_centre`]).
//!
//! **Over the points.** An arrow replaces the braille dots of its cell: one cell in eight.
//! Drawn only in cells without points instead, the field would vanish where the particles
//! are, i.e. everywhere before they have settled; the seven cells in eight left to the points
//! keep the data and the particles readable.
//!
//! **Direction**: the nearest of eight, by angle ([`glyph`]). Plot y points up (the canvas
//! flips it for the screen), so a score with a positive y component is drawn `↑`.
//!
//! **Magnitude**: five shades on a log scale, ×3 apart, in units of 1/σ ([`shade`]). 1/σ is
//! a score's natural size at noise σ (DSM regresses onto ε/σ); a point a distance d from the
//! data feels about d/σ² of pull, so the shades step at d ≈ σ/3, σ, 3σ, 9σ. A log scale keeps
//! the pull far from the data (hundreds) from washing out the field near it (a few units),
//! and a scale fixed by σ rather than by the values shown makes the three views, and one view
//! over time, comparable: as training goes on the difference fades shade by shade. The
//! weakest is a dot: the direction of a near-zero vector says nothing.
//!
//! **Without colour** (`NO_COLOR`) the shades fall back on weight: dim, plain, bold.

use std::f64::consts::FRAC_PI_4;

use ratatui::buffer::Buffer;
use ratatui::text::Line;

use crate::eval::score_field::{Field, FieldKind, Lattice};
use crate::shown::format_sig;
use crate::ui::scatter::PlotTransform;
use crate::ui::theme;

/// Cells from one arrow to the next, across and down.
pub const SPACING: [u16; 2] = [4, 2];

/// Thresholds of ‖v‖·σ for shades 1–4 (below the first: shade 0, a dot).
pub const SHADE_STEPS: [f64; 4] = [1.0 / 3.0, 1.0, 3.0, 9.0];

/// The arrows' first cell in the plot area (column, row) and how many there are across and
/// down: as many as fit [`SPACING`] apart, centred.
fn arrow_cells(width: u16, height: u16) -> ([u16; 2], [usize; 2]) {
    let axis = |len: u16, step: u16| {
        let count = len / step;
        let span = (count.max(1) - 1) * step + 1;
        (len.saturating_sub(span) / 2, usize::from(count))
    };
    let ((col, cols), (row, rows)) = (axis(width, SPACING[0]), axis(height, SPACING[1]));
    ([col, row], [cols, rows])
}

/// The lattice of plane points under the arrows of the scatter panel `transform` describes,
/// row 0 at the top; `None` when no arrow fits.
pub fn lattice(transform: &PlotTransform) -> Option<Lattice> {
    let ([col, row], [cols, rows]) = arrow_cells(transform.area.width, transform.area.height);
    if cols == 0 || rows == 0 {
        return None;
    }
    let first = transform.cell_centre(col, row);
    let next = transform.cell_centre(col + SPACING[0], row + SPACING[1]);
    Some(Lattice { x0: first[0], dx: next[0] - first[0], cols, y0: first[1], dy: next[1] - first[1], rows })
}

/// The arrow nearest in direction to `v` (x right, y up).
pub fn glyph(v: [f32; 2]) -> char {
    const ARROWS: [char; 8] = ['→', '↗', '↑', '↖', '←', '↙', '↓', '↘'];
    let eighths = (f64::from(v[1]).atan2(f64::from(v[0])) / FRAC_PI_4).round();
    ARROWS[eighths.rem_euclid(8.0) as usize]
}

/// The shade, 0–4, of a vector of length `magnitude` at noise `sigma` (see the module doc);
/// `None` for a non-finite one (a diverged network), which gets no arrow.
pub fn shade(magnitude: f32, sigma: f64) -> Option<usize> {
    let scaled = f64::from(magnitude) * sigma;
    scaled.is_finite().then(|| SHADE_STEPS.iter().filter(|&&step| scaled >= step).count())
}

fn length(v: [f32; 2]) -> f32 {
    v[0].hypot(v[1])
}

/// Draws the arrows of `kind` from `field` over the plot area of `transform`.
pub fn draw_arrows(transform: &PlotTransform, field: &Field, kind: FieldKind, buf: &mut Buffer) {
    let ([col, row], [cols, _]) = arrow_cells(transform.area.width, transform.area.height);
    for (k, v) in field.vectors(kind).into_iter().enumerate() {
        let Some(shade) = shade(length(v), field.sigma) else { continue };
        let (i, j) = ((k % cols) as u16, (k / cols) as u16);
        let (x, y) = (transform.area.x + col + i * SPACING[0], transform.area.y + row + j * SPACING[1]);
        let cell = &mut buf[(x, y)];
        cell.reset();
        cell.set_char(if shade == 0 { '·' } else { glyph(v) }).set_style(theme::FIELD_SHADES[shade]);
    }
}

/// The panel's title with the view of `kind` on, at `sigma` once known, after the name of
/// the scatter's `view` when there is room for both: the longest form that fits in `room`
/// columns.
pub fn title(kind: FieldKind, sigma: Option<f64>, room: usize, view: &str) -> String {
    let (long, short) = match kind {
        FieldKind::Learned => ("learned s_θ", "learned"),
        FieldKind::Exact => ("exact ∇log q_σ", "exact"),
        FieldKind::Difference => ("learned − exact", "difference"),
    };
    let at = sigma.map_or(String::new(), |s| format!(", σ {}", sigma_text(s)));
    let forms = [format!("score field: {long}{at}"), format!("{long}{at}"), format!("{short}{at}")];
    let with_view = forms.iter().map(|f| format!(" {view} · {f} "));
    let alone = forms.iter().map(|f| format!(" {f} "));
    with_view.chain(alone).find(|f| f.chars().count() <= room).unwrap_or_else(|| format!(" {short} "))
}

/// σ as given when that is short (0.1, 0.01, 1), else to three figures (an annealed level
/// such as 0.01^(2/9) = 0.359…).
fn sigma_text(sigma: f64) -> String {
    let plain = sigma.to_string();
    if plain.chars().count() <= 5 { plain } else { format_sig(sigma) }
}

/// The longest vector the view of `kind` shows, for the legend.
pub fn largest(kind: FieldKind, field: &Field) -> Line<'static> {
    let max = field.vectors(kind).into_iter().map(length).filter(|m| m.is_finite()).fold(0.0, f32::max);
    let what = if kind == FieldKind::Difference { "‖Δs‖" } else { "‖s‖" };
    Line::styled(format!(" max {what} {} ", format_sig(f64::from(max))), theme::DIM)
}

#[cfg(test)]
mod tests {
    use ratatui::layout::Rect;
    use ratatui::style::Color;

    use super::*;
    use crate::data::Bounds;

    #[test]
    fn eight_directions_with_up_drawn_up() {
        let s = std::f32::consts::FRAC_1_SQRT_2;
        let cases = [
            ([1.0, 0.0], '→'),
            ([s, s], '↗'),
            ([0.0, 1.0], '↑'),
            ([-s, s], '↖'),
            ([-1.0, 0.0], '←'),
            ([-s, -s], '↙'),
            ([0.0, -1.0], '↓'),
            ([s, -s], '↘'),
        ];
        for (v, arrow) in cases {
            assert_eq!(glyph(v), arrow, "{v:?}");
            // Each owns the 45° around it: 20° either side is still the same arrow.
            for turn in [-20f32, 20.0] {
                let (sin, cos) = turn.to_radians().sin_cos();
                let turned = [v[0] * cos - v[1] * sin, v[0] * sin + v[1] * cos];
                assert_eq!(glyph(turned), arrow, "{v:?} turned {turn}°");
            }
        }
        assert_eq!(glyph([3.0, 0.9]), '→', "17° above the x axis");
        assert_eq!(glyph([3.0, 1.5]), '↗', "27° above it");
    }

    #[test]
    fn an_upward_score_points_up_on_screen() {
        // Plot y up, screen y down: a field pulling towards the top of the plot must show ↑
        // in the cell, and the cell above is nearer the top of the plot.
        let t = PlotTransform::new(Rect::new(0, 0, 42, 22), Bounds { x: [-1.0, 1.0], y: [-1.0, 1.0] });
        assert!(t.cell_centre(5, 3)[1] > t.cell_centre(5, 4)[1]);
        assert_eq!(glyph([0.0, 2.0]), '↑');
    }

    #[test]
    fn shades_step_by_three_in_units_of_one_over_sigma() {
        let sigma = 0.1;
        let cases = [(0.0, 0), (3.0, 0), (3.4, 1), (9.9, 1), (10.0, 2), (29.0, 2), (31.0, 3), (90.0, 4), (1e6, 4)];
        for (magnitude, expected) in cases {
            assert_eq!(shade(magnitude, sigma), Some(expected), "‖s‖ = {magnitude}");
        }
        assert_eq!(shade(f32::NAN, sigma), None);
        assert_eq!(shade(f32::INFINITY, sigma), None);
        assert_eq!(shade(10.0, 1.0), Some(4), "the same vector is strong at a wide σ");
    }

    #[test]
    fn the_lattice_is_centred_and_square_on_screen() {
        assert_eq!(arrow_cells(53, 21), ([2, 1], [13, 10]));
        assert_eq!(arrow_cells(86, 36), ([2, 0], [21, 18]));
        assert_eq!(arrow_cells(3, 1), ([1, 0], [0, 0]));
        let t = PlotTransform::new(Rect::new(0, 0, 55, 23), Bounds { x: [-1.5, 2.5], y: [-1.0, 1.5] });
        let lattice = lattice(&t).expect("arrows fit");
        assert_eq!((lattice.cols, lattice.rows), (13, 10));
        assert_eq!([lattice.x0, lattice.y0], t.cell_centre(2, 1));
        assert!(lattice.dx > 0.0 && lattice.dy < 0.0, "rows go down the plot");
        // Square dots: 4 columns (8 dots) and 2 rows (8 dots) span the same distance.
        assert!((lattice.dx + lattice.dy).abs() < 0.02 * lattice.dx, "{} vs {}", lattice.dx, lattice.dy);
        let last = t.cell_centre(2 + 12 * 4, 1 + 9 * 2);
        assert!((lattice.x0 + 12.0 * lattice.dx - last[0]).abs() < 1e-9);
        assert!((lattice.y0 + 9.0 * lattice.dy - last[1]).abs() < 1e-9);
        assert_eq!(super::lattice(&PlotTransform::new(Rect::new(0, 0, 5, 2), t.bounds)), None);
    }

    #[test]
    fn arrows_go_in_their_cells_over_the_points() {
        let t = PlotTransform::new(Rect::new(0, 0, 11, 6), Bounds { x: [-1.0, 1.0], y: [-1.0, 1.0] });
        let lattice = lattice(&t).expect("arrows fit");
        assert_eq!((lattice.cols, lattice.rows), (2, 2));
        let learned = vec![[50.0, 0.0], [0.0, 1.0], [0.0, -5.0], [f32::NAN, 0.0]];
        let field = Field { lattice, sigma: 0.1, learned, exact: vec![[0.0, 0.0]; 4] };
        let mut buf = Buffer::empty(Rect::new(0, 0, 11, 6));
        buf[(3, 1)].set_char('⣿').set_fg(theme::PARTICLES);
        draw_arrows(&t, &field, FieldKind::Learned, &mut buf);
        let text = crate::ui::buffer_text(&buf);
        assert_eq!(text, "\n   →   ·\n\n   ↓\n\n\n", "the NaN gets no arrow");
        let looks = |x, y| (buf[(x, y)].fg, buf[(x, y)].modifier);
        let shade = |n: usize| (theme::FIELD_SHADES[n].fg.unwrap_or(Color::Reset), theme::FIELD_SHADES[n].add_modifier);
        assert_eq!(looks(3, 1), shade(3), "the particle's colour is gone");
        assert_eq!(looks(7, 1), shade(0));
        assert_eq!(looks(3, 3), shade(1));
    }

    #[test]
    fn the_title_shortens_to_fit_and_names_the_view_first() {
        let t = |kind, room| title(kind, Some(0.1), room, "density");
        assert_eq!(t(FieldKind::Learned, 60), " density · score field: learned s_θ, σ 0.1 ");
        assert_eq!(t(FieldKind::Learned, 30), " density · learned s_θ, σ 0.1 ");
        assert_eq!(t(FieldKind::Exact, 26), " density · exact, σ 0.1 ");
        assert_eq!(t(FieldKind::Learned, 25), " learned s_θ, σ 0.1 ", "no room for the view's name");
        assert_eq!(t(FieldKind::Difference, 26), " learned − exact, σ 0.1 ");
        assert_eq!(t(FieldKind::Difference, 15), " difference ");
        assert_eq!(title(FieldKind::Exact, None, 40, "shaded"), " shaded · score field: exact ∇log q_σ ");
        let level = 0.01f64.powf(2.0 / 9.0);
        assert_eq!(title(FieldKind::Learned, Some(level), 31, "shaded"), " shaded · learned s_θ, σ 0.359 ");
        assert_eq!(title(FieldKind::Learned, Some(0.01), 30, "points"), " points · learned s_θ, σ 0.01 ");
    }
}
