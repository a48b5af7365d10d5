//! The scatter's density view: the particles as a heatmap, so the moons look like moons and
//! not like a thick braille "S".
//!
//! Each cell is two square pixels, its upper and lower half: '▀' in the upper pixel's colour
//! on the lower one's background ('▄' when only the lower pixel has particles, so an empty
//! half keeps the terminal's own background). The density is the particles spread
//! bilinearly and blurred once ([`Density::smooth`]), drawn in the steps of
//! [`theme::DENSITY_RAMP`]. It is binned at each draw: the particles move with every
//! snapshot, and 5000 of them bin faster than the braille canvas draws them.
//!
//! Without colour a cell is one glyph of [`DENSITY_GLYPHS`], by the denser of its halves.

use ratatui::buffer::Buffer;

use crate::app::density::{Density, Grid};
use crate::ui::scatter::PlotTransform;
use crate::ui::theme;

/// The ramp without colour, empty to dense.
pub const DENSITY_GLYPHS: [char; 5] = [' ', '░', '▒', '▓', '█'];

/// Draws `points` as a heatmap over the plot area of `transform`.
pub fn draw(points: &[[f32; 2]], transform: &PlotTransform, colour: bool, buf: &mut Buffer) {
    let area = transform.area;
    let pixels = Grid { rows: 2 * usize::from(area.height), ..transform.grid() };
    let density = Density::smooth(points, pixels);
    let ramp = theme::DENSITY_RAMP;
    for row in 0..area.height {
        for col in 0..area.width {
            let (c, r) = (usize::from(col), 2 * usize::from(row));
            let cell = &mut buf[(area.x + col, area.y + row)];
            if !colour {
                let step = density.step_at(c, r, 4).max(density.step_at(c, r + 1, 4));
                cell.set_char(DENSITY_GLYPHS[step]);
                continue;
            }
            match (density.step_at(c, r, ramp.len()), density.step_at(c, r + 1, ramp.len())) {
                (0, 0) => {}
                (0, lower) => {
                    cell.set_char('▄').set_fg(ramp[lower - 1]);
                }
                (upper, 0) => {
                    cell.set_char('▀').set_fg(ramp[upper - 1]);
                }
                (upper, lower) => {
                    cell.set_char('▀').set_fg(ramp[upper - 1]).set_bg(ramp[lower - 1]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use ratatui::layout::Rect;
    use ratatui::style::Color;

    use super::*;
    use crate::data::Bounds;

    /// A plot one cell wide and three high over x ∈ [0, 1], y ∈ [0, 3]: six pixels ½ high,
    /// pixel k centred at y = 2.75 − k/2. The blur spreads a pixel's points a quarter into
    /// each neighbour.
    fn column(points: &[[f32; 2]], colour: bool) -> Vec<(String, Color, Color)> {
        let transform = PlotTransform { area: Rect::new(0, 0, 1, 3), bounds: Bounds { x: [0.0, 1.0], y: [0.0, 3.0] } };
        let mut buf = Buffer::empty(transform.area);
        draw(points, &transform, colour, &mut buf);
        buf.content().iter().map(|c| (c.symbol().to_string(), c.fg, c.bg)).collect()
    }

    fn cell(symbol: &str, fg: Color, bg: Color) -> (String, Color, Color) {
        (symbol.to_string(), fg, bg)
    }

    #[test]
    fn each_half_of_a_cell_is_a_pixel_and_an_empty_half_keeps_the_background() {
        let blank = cell(" ", Color::Reset, Color::Reset);
        let ramp = theme::DENSITY_RAMP;
        assert_eq!(column(&[], true), [blank.clone(), blank.clone(), blank.clone()]);
        // In pixel 2 (the upper half of the middle cell): ½ there, ¼ in pixels 1 and 3, at
        // √½ of the top: step 5 of 6.
        let expected = [cell("▄", ramp[4], Color::Reset), cell("▀", ramp[5], ramp[4]), blank.clone()];
        assert_eq!(column(&[[0.5, 1.75]], true), expected);
        // In pixel 3: the last cell's upper half gets a quarter, its lower half nothing.
        assert_eq!(column(&[[0.5, 1.25]], true)[2], cell("▀", ramp[4], Color::Reset));
    }

    #[test]
    fn without_colour_a_cell_is_a_glyph_of_its_denser_half() {
        let glyphs: Vec<String> = column(&[[0.5, 1.75]], false).into_iter().map(|c| c.0).collect();
        assert_eq!(glyphs, ["▓", "█", " "], "√½ of the top is step 3 of 4");
        assert!(column(&[[0.5, 1.75]], false).iter().all(|c| (c.1, c.2) == (Color::Reset, Color::Reset)));
    }
}
