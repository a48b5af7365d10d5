//! The scatter panel: the training data and the Langevin particles, in one of three views
//! (`v`): the data shaded under the particles' braille ([`shading`]), the particles' density
//! as a heatmap ([`heatmap`]), or both as braille points, the particles drawn last (a braille
//! cell holds one colour, so a particle hides the data in its cell). The title names the
//! view. The bounds are fixed per data set ([`Source::bounds`]) so the picture does not
//! jump; at draw time the shorter side is widened so one unit is as long across as down
//! (braille dots are about square). Particles outside the bounds ("escaped") or non-finite
//! are counted in the title and not drawn.
//!
//! [`Source::bounds`]: crate::data::Source::bounds
//! [`shading`]: crate::ui::shading
//! [`heatmap`]: crate::ui::heatmap

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::canvas::{Canvas, Line as CanvasLine, Painter, Shape};
use ratatui::widgets::{Block, Widget};

use crate::app::density::Grid;
use crate::app::drawing::Region;
use crate::app::samples::Samples;
use crate::app::view::{DensityOverlay, FieldOverlay, View};
use crate::data::Bounds;
use crate::trainer::protocol::Paths;
use crate::ui::shading::DATA_GLYPHS;
use crate::ui::{field, heatmap, log_density, shading, theme};

/// `bounds` widened on one side so that a canvas of `cols` × `rows` cells (2 × 4 braille
/// dots each) draws one unit as long across as down.
pub fn with_square_dots(bounds: Bounds, cols: u16, rows: u16) -> Bounds {
    let (width, height) = (bounds.x[1] - bounds.x[0], bounds.y[1] - bounds.y[0]);
    let (dots_x, dots_y) = (2.0 * f64::from(cols.max(1)), 4.0 * f64::from(rows.max(1)));
    let per_dot = (width / dots_x).max(height / dots_y);
    let widen = |[lo, hi]: [f64; 2], dots: f64| {
        let extra = (per_dot * dots - (hi - lo)) / 2.0;
        [lo - extra, hi + extra]
    };
    Bounds { x: widen(bounds.x, dots_x), y: widen(bounds.y, dots_y) }
}

/// Where the canvas puts the plane: the plot area (the panel inside its border) and the
/// bounds widened to square dots. ratatui's braille painter (`Painter::get_point`) maps x to
/// dot round((x − left)·(2W − 1)/(right − left)) of the 2W across, and dot d to cell d/2 (y
/// likewise from the top, 4 dots a row); [`PlotTransform::cell_centre`] inverts that at the
/// middle of a cell, so a score evaluated there is the one for the points drawn in it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlotTransform {
    pub area: Rect,
    pub bounds: Bounds,
}

impl PlotTransform {
    /// The transform of the scatter panel drawn in `panel`, showing `bounds`.
    pub fn new(panel: Rect, bounds: Bounds) -> Self {
        let area = Block::bordered().inner(panel);
        Self { area, bounds: with_square_dots(bounds, area.width, area.height) }
    }

    /// The point of the plane at the middle of cell (`col`, `row`) of the plot area: dot
    /// 2·col + ½ across and 4·row + 1½ down.
    pub fn cell_centre(&self, col: u16, row: u16) -> [f64; 2] {
        let (dots_x, dots_y) = (2.0 * f64::from(self.area.width), 4.0 * f64::from(self.area.height));
        let ([left, right], [bottom, top]) = (self.bounds.x, self.bounds.y);
        let x = left + (2.0 * f64::from(col) + 0.5) * (right - left) / (dots_x - 1.0);
        let y = top - (4.0 * f64::from(row) + 1.5) * (top - bottom) / (dots_y - 1.0);
        [x, y]
    }

    /// The rectangle of the plane that the cell at terminal position (`column`, `row`) shows
    /// (its 2 × 4 braille dots, each half a dot's spacing either side of where it is drawn,
    /// within the bounds), if the position is inside the plot area.
    pub fn region_at(&self, column: u16, row: u16) -> Option<Region> {
        let (col, row) = (column.checked_sub(self.area.x)?, row.checked_sub(self.area.y)?);
        if col >= self.area.width || row >= self.area.height {
            return None;
        }
        let (dots_x, dots_y) = (2.0 * f64::from(self.area.width), 4.0 * f64::from(self.area.height));
        let ([left, right], [bottom, top]) = (self.bounds.x, self.bounds.y);
        let (dx, dy) = ((right - left) / (dots_x - 1.0), (top - bottom) / (dots_y - 1.0));
        // The outer cells' outer half dots lie beyond the bounds, where nothing is drawn.
        let x = [left + (2.0 * f64::from(col) - 0.5) * dx, left + (2.0 * f64::from(col) + 1.5) * dx];
        let y = [top - (4.0 * f64::from(row) + 3.5) * dy, top - (4.0 * f64::from(row) - 0.5) * dy];
        let (x, y) = ([x[0].max(left), x[1].min(right)], [y[0].max(bottom), y[1].min(top)]);
        Some(Region { min: [x[0], y[0]], size: [x[1] - x[0], y[1] - y[0]] })
    }

    /// The plot's cells as bins of the plane.
    pub fn grid(&self) -> Grid {
        Grid { cols: usize::from(self.area.width), rows: usize::from(self.area.height), bounds: self.bounds }
    }
}

/// Points given as `[x, y]` in `f32`, drawn without converting the whole set first.
pub struct Cloud<'a> {
    pub points: &'a [[f32; 2]],
    pub color: Color,
}

impl Shape for Cloud<'_> {
    fn draw(&self, painter: &mut Painter) {
        for p in self.points {
            if let Some((x, y)) = painter.get_point(f64::from(p[0]), f64::from(p[1])) {
                painter.paint(x, y, self.color);
            }
        }
    }
}

pub struct Scatter<'a> {
    pub samples: &'a Samples,
    pub view: View,
    /// `false` under `NO_COLOR`: glyphs stand in for the shades.
    pub colour: bool,
    pub field: Option<FieldOverlay<'a>>,
    /// Particles outside the view are not lost: the mouse zoomed or panned it, or they are
    /// annealing's, which start from the wide prior of its first level ("off view" then,
    /// not "escaped").
    pub off_view: bool,
    /// A few particles' paths through the sampler, drawn over the samples (`j`).
    pub paths: Option<PathOverlay<'a>>,
    /// The log-density view (`g`): the cells shaded under the particles.
    pub density: Option<DensityOverlay<'a>>,
}

/// The paths view's traces and how they were taken.
#[derive(Clone, Copy)]
pub struct PathOverlay<'a> {
    pub paths: &'a Paths,
    /// A point per annealing level, not per step (`sampling::paths`).
    pub by_level: bool,
}

/// Paths as braille lines, each from its start to its end.
struct PathLines<'a> {
    paths: &'a Paths,
}

impl Shape for PathLines<'_> {
    fn draw(&self, painter: &mut Painter) {
        for path in self.paths {
            for pair in path.windows(2) {
                let [[x1, y1], [x2, y2]] = [pair[0], pair[1]].map(|p| p.map(f64::from));
                // A non-finite point would draw a line to nowhere.
                if [x1, y1, x2, y2].iter().all(|v| v.is_finite()) {
                    CanvasLine { x1, y1, x2, y2, color: theme::PATHS }.draw(painter);
                }
            }
        }
    }
}

/// The view's name: long, and short for a narrow panel.
fn view_name(view: View) -> (&'static str, &'static str) {
    match view {
        View::Shaded => ("shaded data + particles", "shaded"),
        View::Density => ("particle density", "density"),
        View::Points => ("data + particle points", "points"),
    }
}

/// The panel's title, naming `view`: the longest form that fits in `room` columns.
fn view_title(view: View, room: usize) -> String {
    let (long, short) = view_name(view);
    [format!(" Samples · {long} "), format!(" Samples · {short} ")]
        .into_iter()
        .find(|t| t.chars().count() <= room)
        .unwrap_or_else(|| format!(" {short} "))
}

/// What the view draws, and with what: the legend under the panel.
fn legend(samples: &Samples, view: View, colour: bool) -> Line<'static> {
    let entry = |mark: String, colour: Color, what: String| {
        [Span::styled(format!(" {mark} "), colour), Span::styled(format!("{what} "), theme::DIM)]
    };
    let data = format!("data {}", samples.data().len());
    let particles = format!("particles {}", samples.particles().len());
    let spans: Vec<Span> = match view {
        View::Shaded => {
            [entry(DATA_GLYPHS[1].to_string(), theme::DATA, data), entry("●".into(), theme::PARTICLES, particles)]
                .concat()
        }
        View::Density => {
            let ramp: Vec<Span> = if colour {
                theme::DENSITY_RAMP.iter().map(|&c| Span::styled("█", c)).collect()
            } else {
                vec![Span::raw(heatmap::DENSITY_GLYPHS[1..].iter().collect::<String>())]
            };
            [
                vec![Span::styled(format!(" {particles}: sparse "), theme::DIM)],
                ramp,
                vec![Span::styled(" dense ", theme::DIM)],
            ]
            .concat()
        }
        View::Points => [entry("●".into(), theme::DATA, data), entry("●".into(), theme::PARTICLES, particles)].concat(),
    };
    Line::from(spans)
}

impl Widget for Scatter<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let Scatter { samples, view, colour, field: overlay, off_view, paths, density } = self;
        let transform = PlotTransform::new(area, samples.bounds());
        // A field evaluated for another lattice (the panel was just resized) is not drawn.
        let drawn = overlay.and_then(|o| o.field).filter(|f| Some(f.lattice) == field::lattice(&transform));
        let mut legend = match &density {
            Some(d) => log_density::legend(d, colour),
            None => legend(samples, view, colour),
        };
        if let Some(overlay) = paths {
            let by_level = if overlay.by_level { ", by level" } else { "" };
            legend.spans.extend([
                Span::styled(" ╱ ", theme::PATHS),
                Span::styled(format!("{} paths{by_level} ", overlay.paths.len()), theme::DIM),
            ]);
        }
        let outside = if off_view { "off view" } else { "escaped" };
        let lost =
            Line::styled(format!(" {outside} {} · non-finite {} ", samples.escaped(), samples.nonfinite()), theme::DIM);
        // Room left of the right-hand title, and right of the legend (a title drawn later
        // overwrites one it meets).
        let width = usize::from(transform.area.width);
        let room = width.saturating_sub(lost.width() + 1);
        let title = match (overlay, &density) {
            (Some(o), _) => field::title(o.kind, drawn.map(|f| f.sigma), room, view_name(view).1),
            (None, Some(d)) => log_density::title(d),
            (None, None) => view_title(view, room),
        };
        let mut block = Block::bordered()
            .border_style(theme::BORDER)
            .title(Span::styled(title, theme::TITLE))
            .title(lost.right_aligned())
            .title_bottom(legend.clone().left_aligned());
        // Bottom right: the field's scale when arrows are drawn, else the plane's ranges.
        let corner = match (overlay, drawn) {
            (Some(o), Some(f)) => field::largest(o.kind, f),
            _ => Line::styled(ranges(transform.bounds), theme::DIM),
        };
        if corner.width() < width.saturating_sub(legend.width()) {
            block = block.title_bottom(corner.right_aligned());
        }
        plot(samples, view, colour, block, area, buf);
        if let Some(d) = &density {
            log_density::draw(d, &transform, colour, buf);
        }
        if let Some(PathOverlay { paths, .. }) = paths {
            Canvas::default()
                .marker(Marker::Braille)
                .x_bounds(transform.bounds.x)
                .y_bounds(transform.bounds.y)
                .paint(|ctx| ctx.draw(&PathLines { paths }))
                .render(transform.area, buf);
        }
        if let (Some(o), Some(f)) = (overlay, drawn) {
            field::draw_arrows(&transform, f, o.kind, buf);
        }
    }
}

/// The plane region a plot shows, " x −1.61…2.61 · y −1.21…1.61 ", to the hundredth of its
/// width: more decimals as a zoom narrows it.
pub fn ranges(bounds: Bounds) -> String {
    let axis = |[lo, hi]: [f64; 2]| {
        let decimals = (2 - (hi - lo).log10().floor() as i32).clamp(0, 9) as usize;
        format!("{lo:.decimals$}…{hi:.decimals$}")
    };
    format!(" x {} · y {} ", axis(bounds.x), axis(bounds.y))
}

/// `samples` in `block` as `view` says. The compare view draws its panels with this too.
pub fn plot(samples: &Samples, view: View, colour: bool, block: Block, area: Rect, buf: &mut Buffer) {
    let inner = block.inner(area);
    block.render(area, buf);
    let transform =
        PlotTransform { area: inner, bounds: with_square_dots(samples.bounds(), inner.width, inner.height) };
    let particles = Cloud { points: samples.particles(), color: theme::PARTICLES };
    match view {
        View::Shaded => {
            braille(&transform, &[particles], buf);
            // Shaded for this panel before the draw (`App::shade_data`); never binned here.
            if let Some(shading) = samples.data_shading(transform.grid()) {
                shading::shade_cells(shading, inner, colour, buf);
            }
        }
        View::Density => heatmap::draw(samples.particles(), &transform, colour, buf),
        View::Points => braille(&transform, &[Cloud { points: samples.data(), color: theme::DATA }, particles], buf),
    }
}

/// `clouds` on a braille canvas over the plot area of `transform`, each later one over the
/// earlier ones.
fn braille(transform: &PlotTransform, clouds: &[Cloud], buf: &mut Buffer) {
    Canvas::default()
        .marker(Marker::Braille)
        .x_bounds(transform.bounds.x)
        .y_bounds(transform.bounds.y)
        .paint(|ctx| {
            for cloud in clouds {
                ctx.draw(cloud);
                ctx.layer();
            }
        })
        .render(transform.area, buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_dots_widen_the_short_side_only() {
        let b = Bounds { x: [0.0, 4.0], y: [0.0, 2.0] };
        // 40 × 10 cells = 80 × 40 dots: 0.05 per dot across, so 2 units down become 40 dots.
        assert_eq!(with_square_dots(b, 40, 10), b);
        let tall = with_square_dots(b, 40, 20); // 80 × 80 dots: y widens to 4 units
        assert_eq!(tall.x, [0.0, 4.0]);
        assert_eq!(tall.y, [-1.0, 3.0]);
    }

    /// The inverse must agree with ratatui's own mapping, cell for cell: a point at each cell's
    /// centre, painted through a real canvas, lands in that cell.
    #[test]
    fn cell_centres_land_in_their_cells() {
        let bounds = Bounds { x: [-1.5, 2.5], y: [-1.0, 1.5] };
        for (w, h) in [(53u16, 21u16), (86, 36), (40, 15), (7, 3)] {
            let panel = Rect::new(3, 2, w + 2, h + 2);
            let t = PlotTransform::new(panel, bounds);
            for row in 0..h {
                for col in 0..w {
                    let painted = painted_cells(&t, t.cell_centre(col, row));
                    assert_eq!(painted, [(t.area.x + col, t.area.y + row)], "{w}×{h}: cell ({col}, {row})");
                }
            }
        }
    }

    /// The cells a point is painted in through a real braille canvas on `t` (one, or none
    /// outside the bounds).
    fn painted_cells(t: &PlotTransform, [x, y]: [f64; 2]) -> Vec<(u16, u16)> {
        let mut buf = Buffer::empty(Rect::new(0, 0, t.area.right() + 1, t.area.bottom() + 1));
        Canvas::default()
            .marker(Marker::Braille)
            .x_bounds(t.bounds.x)
            .y_bounds(t.bounds.y)
            .paint(|ctx| ctx.draw(&Cloud { points: &[[x as f32, y as f32]], color: Color::Red }))
            .render(t.area, &mut buf);
        let width = buf.area.width;
        let red = buf.content().iter().enumerate().filter(|(_, c)| c.fg == Color::Red);
        red.map(|(i, _)| (i as u16 % width, i as u16 / width)).collect()
    }

    /// The region under a terminal cell is what that cell draws: points near each of its
    /// corners (2% of a cell inside) land in it through ratatui's own canvas; positions on the
    /// border or beyond have none.
    #[test]
    fn the_region_at_a_cell_is_what_the_cell_draws() {
        let bounds = Bounds { x: [-1.5, 2.5], y: [-1.0, 1.5] };
        for (w, h) in [(53u16, 21u16), (12, 5)] {
            let t = PlotTransform::new(Rect::new(3, 2, w + 2, h + 2), bounds);
            for row in t.area.y..t.area.bottom() {
                for column in t.area.x..t.area.right() {
                    let r = t.region_at(column, row).expect("inside the plot");
                    for (fx, fy) in [(0.02, 0.02), (0.98, 0.02), (0.02, 0.98), (0.98, 0.98)] {
                        let p = [r.min[0] + fx * r.size[0], r.min[1] + fy * r.size[1]];
                        assert_eq!(painted_cells(&t, p), [(column, row)], "{w}×{h}: ({column}, {row}) at {fx}, {fy}");
                    }
                }
            }
            for (column, row) in [(3, 5), (t.area.right(), 5), (10, 2), (10, t.area.bottom()), (0, 0)] {
                assert_eq!(t.region_at(column, row), None, "({column}, {row}) is outside the plot");
            }
        }
    }

    #[test]
    fn ranges_carry_decimals_for_the_width_shown() {
        assert_eq!(ranges(Bounds { x: [-1.612, 2.612], y: [-1.2, 1.6] }), " x -1.61…2.61 · y -1.20…1.60 ");
        assert_eq!(ranges(Bounds { x: [0.1234, 0.1534], y: [10.0, 250.0] }), " x 0.1234…0.1534 · y 10…250 ");
    }

    #[test]
    fn escaped_and_nonfinite_particles_are_counted_not_kept() {
        let mut s = Samples::new(Bounds { x: [-1.0, 1.0], y: [-1.0, 1.0] });
        s.set_particles(&[[0.5, 0.5], [9.0, 0.0], [f32::NAN, 1.0], [0.0, f32::INFINITY]]);
        assert_eq!(s.particles(), &[[0.5, 0.5]]);
        assert_eq!((s.escaped(), s.nonfinite()), (1, 2));
    }

    /// A path is drawn from its start to its end in the paths' colour, over the particles,
    /// and the legend counts the paths.
    #[test]
    fn paths_are_drawn_over_the_particles_and_counted_in_the_legend() {
        let mut s = Samples::new(Bounds { x: [-1.0, 1.0], y: [-1.0, 1.0] });
        s.set_particles(&[[0.9, 0.9]]);
        let area = Rect::new(0, 0, 60, 12);
        let paths: Paths = vec![vec![[-0.9, -0.9], [0.0, 0.0], [0.9, 0.9]], vec![[0.5, -0.5], [f32::NAN, 0.0]]];
        let overlay = PathOverlay { paths: &paths, by_level: false };
        let mut buf = Buffer::empty(area);
        let scatter = Scatter {
            samples: &s,
            view: View::Points,
            colour: true,
            field: None,
            off_view: false,
            paths: Some(overlay),
            density: None,
        };
        scatter.render(area, &mut buf);
        let transform = PlotTransform::new(area, s.bounds());
        let inner = transform.area;
        // Every column the diagonal crosses has a path cell, and no other column has one.
        let has_path =
            |x: u16| (inner.top()..inner.bottom()).any(|y| buf[(x, y)].fg == theme::PATHS && is_braille(&buf[(x, y)]));
        for x in inner.left()..inner.right() {
            let centre = transform.cell_centre(x - inner.left(), 0)[0];
            if centre.abs() < 0.85 {
                assert!(has_path(x), "column {x} at x = {centre:.2}");
            } else if centre.abs() > 1.0 {
                assert!(!has_path(x), "column {x} at x = {centre:.2}");
            }
        }
        let bottom: String = (0..area.width).map(|x| buf[(x, area.bottom() - 1)].symbol().to_string()).collect();
        assert!(bottom.contains("2 paths"), "{bottom}");
    }

    fn is_braille(cell: &ratatui::buffer::Cell) -> bool {
        cell.symbol().starts_with(|ch| ('\u{2801}'..='\u{28ff}').contains(&ch))
    }

    /// Two data points and a particle on one of them, drawn in `view` on a 60 × 10 panel,
    /// the data shaded for it first as the dashboard does.
    fn drawn(view: View) -> Buffer {
        let mut s = Samples::new(Bounds { x: [-1.0, 1.0], y: [-1.0, 1.0] });
        s.set_data(vec![[0.0, 0.0], [1.0, 1.0]]);
        s.set_particles(&[[0.0, 0.0]]);
        let area = Rect::new(0, 0, 60, 10);
        s.shade_data(PlotTransform::new(area, s.bounds()).grid());
        let mut buf = Buffer::empty(area);
        Scatter { samples: &s, view, colour: true, field: None, off_view: false, paths: None, density: None }
            .render(area, &mut buf);
        buf
    }

    #[test]
    fn the_points_view_draws_the_particles_over_the_data() {
        let buf = drawn(View::Points);
        let painted: Vec<Color> = buf.content().iter().filter(|c| is_braille(c)).map(|c| c.fg).collect();
        assert_eq!(painted.len(), 2, "one cell per point");
        assert!(painted.contains(&theme::PARTICLES) && painted.contains(&theme::DATA));
    }

    #[test]
    fn the_shaded_view_shows_the_data_under_the_particle_in_the_same_cell() {
        let buf = drawn(View::Shaded);
        let shaded: Vec<&ratatui::buffer::Cell> =
            buf.content().iter().filter(|c| theme::DATA_SHADES.contains(&c.bg)).collect();
        assert_eq!(shaded.len(), 2, "a shade under each data point's cell");
        let particle: Vec<&&ratatui::buffer::Cell> = shaded.iter().filter(|c| is_braille(c)).collect();
        assert_eq!(particle.len(), 1, "the particle's cell keeps its shade");
        assert_eq!(particle[0].fg, theme::PARTICLES);
        assert!(buf.content().iter().filter(|c| is_braille(c)).all(|c| c.fg == theme::PARTICLES), "no data dots");
    }

    #[test]
    fn the_title_names_the_view_in_the_room_there_is() {
        assert_eq!(view_title(View::Shaded, 40), " Samples · shaded data + particles ");
        assert_eq!(view_title(View::Density, 20), " Samples · density ");
        assert_eq!(view_title(View::Points, 10), " points ");
        let top = |view| crate::ui::buffer_text(&drawn(view)).lines().next().unwrap_or_default().to_string();
        assert!(top(View::Points).starts_with("┌ Samples · points ─"), "{}", top(View::Points));
    }
}
