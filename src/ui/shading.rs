//! The scatter's default view: the data as a shaded background under the particles' braille
//! dots, so that every cell shows both (in the points view a cell holds one colour, and 5000
//! particles over 4000 data points hide most of the data).
//!
//! Each cell's background is one of [`theme::DATA_SHADES`], by how much data falls in it
//! (binned by [`Samples::shade_data`] when the data or the panel changes, not at every
//! frame). Without colour a background cannot show: a cell the particles leave empty gets a
//! shading glyph instead, faint, and cells with particles show their braille, bold.
//!
//! [`Samples::shade_data`]: crate::app::samples::Samples::shade_data

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use crate::app::density::Density;
use crate::ui::theme;

/// The glyphs standing in for [`theme::DATA_SHADES`] without colour, sparse to dense.
pub const DATA_GLYPHS: [char; 3] = ['░', '▒', '▓'];

/// Shades each cell of `area` by `shading`, over what is drawn there already: the
/// background in colour, else a glyph in a cell left blank.
pub fn shade_cells(shading: &Density, area: Rect, colour: bool, buf: &mut Buffer) {
    let steps = theme::DATA_SHADES.len();
    for row in 0..area.height {
        for col in 0..area.width {
            let step = shading.step_at(usize::from(col), usize::from(row), steps);
            if step == 0 {
                continue;
            }
            let cell = &mut buf[(area.x + col, area.y + row)];
            if colour {
                cell.set_bg(theme::DATA_SHADES[step - 1]);
            } else if cell.symbol() == " " {
                cell.set_char(DATA_GLYPHS[step - 1]).set_fg(theme::DATA);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use ratatui::style::Color;

    use super::*;
    use crate::app::density::Grid;
    use crate::data::Bounds;

    #[test]
    fn cells_take_the_shade_of_their_data_and_keep_their_particles() {
        // 3 × 1 cells: no data, one point, four points.
        let grid = Grid { cols: 3, rows: 1, bounds: Bounds { x: [0.0, 3.0], y: [0.0, 1.0] } };
        let shading = Density::count(&[[1.5, 0.5], [2.5, 0.5], [2.5, 0.5], [2.5, 0.4], [2.2, 0.1]], grid);
        let area = Rect::new(1, 0, 3, 1);
        let draw = |colour| {
            let mut buf = Buffer::empty(Rect::new(0, 0, 4, 1));
            buf[(3, 0)].set_char('⠁').set_fg(theme::PARTICLES);
            shade_cells(&shading, area, colour, &mut buf);
            buf
        };
        let coloured = draw(true);
        let bgs: Vec<Color> = coloured.content().iter().map(|c| c.bg).collect();
        // √(1/4) of the top: step 2 of 3.
        assert_eq!(bgs, [Color::Reset, Color::Reset, theme::DATA_SHADES[1], theme::DATA_SHADES[2]]);
        assert_eq!(crate::ui::buffer_text(&coloured), "   ⠁\n", "the particle stays over its shade");
        let plain = draw(false);
        assert_eq!(crate::ui::buffer_text(&plain), "  ▒⠁\n", "a glyph where no particle is");
    }
}
