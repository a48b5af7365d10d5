//! Every colour and text style of the dashboard, in one place, and what replaces the colours
//! when the user has asked for none.
//!
//! **Light and dark backgrounds.** The 16 basic colours are whatever the user's palette makes
//! them: the bright ones (yellow, light cyan) vanish on a white background and the dark ones
//! sink into a black one. The colours here come from xterm's 256-colour cube and gray ramp
//! instead, whose RGB values xterm-compatible terminals (xterm, VTE, iTerm2, kitty, Windows
//! Terminal, tmux) fix, and all are mid-tones: each has a relative luminance between 0.1 and
//! 0.3, hence a contrast of at least 3:1, WCAG's minimum for graphics, against black and
//! against white alike (`every_colour_reads_on_black_and_on_white`). Values are drawn bold in
//! the terminal's own foreground colour, which reads on any background.
//!
//! **`NO_COLOR`** (<https://no-color.org>): when it is set and not empty, [`strip_colours`]
//! takes every colour off the finished screen and puts a weight where the colour told things
//! apart: the data faint under bold particles, the raw loss, the epoch marks, labels and
//! borders faint, the Fisher curve bold. The score field's two gray shades both become faint,
//! leaving its arrows three weights: faint, plain, bold.

use std::ffi::OsStr;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};

/// #0087d7
const BLUE: Color = Color::Indexed(32);
/// #d75f00
const ORANGE: Color = Color::Indexed(166);
/// #008787
const TEAL: Color = Color::Indexed(30);
/// #af5faf
const MAGENTA: Color = Color::Indexed(133);
/// #5f8700
const OLIVE: Color = Color::Indexed(64);
/// #af8700
const GOLD: Color = Color::Indexed(136);
/// #d70000
const RED: Color = Color::Indexed(160);
/// #767676: as far from black as from white.
const GRAY: Color = Color::Indexed(243);

/// Training data in the scatter, and the Langevin particles drawn over it: blue and orange,
/// a pair that colour-blind eyes also tell apart.
pub const DATA: Color = BLUE;
pub const PARTICLES: Color = ORANGE;
/// A few particles' paths over them (`j`): a third hue apart from both.
pub const PATHS: Color = MAGENTA;

/// The data's shading in the scatter's default view, sparse to dense: backgrounds from
/// xterm's darkest blues (#00005f, #000087, #0000af), under orange particles that keep at
/// least 3.4:1 against each (`the_particles_read_on_every_data_shade`). Dim on a black
/// terminal, as a background should be; on a white one, dark patches where the data is.
pub const DATA_SHADES: [Color; 3] = [Color::Indexed(17), Color::Indexed(18), Color::Indexed(19)];

/// The particles' density in the heatmap view, sparse to dense: blue, violet, purple,
/// magenta, red, gold (#005faf, #5f5faf, #875faf, #af5faf, #d75f5f, #af8700), a ramp like
/// matplotlib's plasma whose luminance rises step by step (0.11 to 0.26), so the order reads
/// without the hues, and stays between 0.1 and 0.3, so each step reads on black and on white.
pub const DENSITY_RAMP: [Color; 6] = [
    Color::Indexed(25),
    Color::Indexed(61),
    Color::Indexed(97),
    Color::Indexed(133),
    Color::Indexed(167),
    Color::Indexed(136),
];

/// Train loss per step, neutral behind its moving average.
pub const TRAIN_RAW: Color = GRAY;
pub const TRAIN_SMOOTH: Color = TEAL;
pub const TEST: Color = MAGENTA;
pub const FISHER: Color = OLIVE;
pub const EPOCH_MARK: Color = GRAY;
/// Earlier runs' curves and their numbers: faint, as the raw loss (their glyph, `·`, tells
/// them apart from it; `ui::loss_chart` draws them over cells of this colour only).
pub const PAST_RUN: Color = GRAY;

/// The score field's arrows, weakest to strongest (`ui::field`): gray and faint, gray, then
/// the terminal's own foreground, plain and bold, so the strong ones stand out on any
/// background. The cell is reset first, so no colour of the points under it remains.
pub const FIELD_SHADES: [Style; 5] = [
    Style::new().fg(GRAY).add_modifier(Modifier::DIM),
    Style::new().fg(GRAY).add_modifier(Modifier::DIM),
    Style::new().fg(GRAY),
    Style::new(),
    Style::new().add_modifier(Modifier::BOLD),
];

pub const BORDER: Style = Style::new().fg(GRAY);
pub const TITLE: Style = Style::new().add_modifier(Modifier::BOLD);
pub const AXIS: Style = Style::new().fg(GRAY);
/// Labels and secondary text.
pub const DIM: Style = Style::new().fg(GRAY);
/// The loss panel's crosshair: as faint as the axes, under the curves.
pub const CROSSHAIR: Style = Style::new().fg(GRAY);
pub const VALUE: Style = Style::new().add_modifier(Modifier::BOLD);
pub const KEY: Style = Style::new().fg(ORANGE).add_modifier(Modifier::BOLD);

pub const TRAINING: Style = Style::new().fg(OLIVE).add_modifier(Modifier::BOLD);
pub const PAUSED: Style = Style::new().fg(GOLD).add_modifier(Modifier::BOLD);
pub const FINISHED: Style = Style::new().fg(TEAL).add_modifier(Modifier::BOLD);
pub const DIVERGED: Style = Style::new().fg(RED).add_modifier(Modifier::BOLD);
pub const STARTING: Style = Style::new().fg(GRAY).add_modifier(Modifier::BOLD);
/// Where a save went, and why it did not.
pub const NOTICE: Style = Style::new().fg(OLIVE).add_modifier(Modifier::BOLD);
pub const ERROR: Style = Style::new().fg(RED).add_modifier(Modifier::BOLD);

/// Whether the screen may have colours, given the value of `NO_COLOR`: not when it is set
/// and not empty.
pub fn colour_allowed(no_color: Option<&OsStr>) -> bool {
    no_color.is_none_or(OsStr::is_empty)
}

/// The weight that stands in for `colour` without colours.
fn weight(colour: Color) -> Modifier {
    match colour {
        GRAY | BLUE => Modifier::DIM,
        ORANGE | OLIVE => Modifier::BOLD,
        _ => Modifier::empty(),
    }
}

/// Replaces every colour in `area` of `buf` by the terminal's default and the weight that
/// stands in for it.
pub fn strip_colours(area: Rect, buf: &mut Buffer) {
    let area = area.intersection(buf.area);
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            let cell = &mut buf[(x, y)];
            cell.modifier.insert(weight(cell.fg));
            cell.fg = Color::Reset;
            cell.bg = Color::Reset;
            cell.underline_color = Color::Reset;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PALETTE: [Color; 8] = [BLUE, ORANGE, TEAL, MAGENTA, OLIVE, GOLD, RED, GRAY];

    /// The RGB xterm gives colour `n` of its 256: the 6×6×6 cube from 16, the gray ramp from
    /// 232 (xterm's `256colres.pl`).
    fn xterm_rgb(n: u8) -> [u8; 3] {
        let level = |v: u8| if v == 0 { 0 } else { 55 + 40 * v };
        match n {
            16..=231 => {
                let i = n - 16;
                [level(i / 36), level(i / 6 % 6), level(i % 6)]
            }
            232..=255 => [8 + 10 * (n - 232); 3],
            _ => panic!("a basic colour: its RGB is the user's palette's"),
        }
    }

    /// WCAG 2's relative luminance of an sRGB colour.
    fn luminance(rgb: [u8; 3]) -> f64 {
        let linear = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * linear(rgb[0]) + 0.7152 * linear(rgb[1]) + 0.0722 * linear(rgb[2])
    }

    #[test]
    fn every_colour_reads_on_black_and_on_white() {
        for colour in PALETTE {
            let Color::Indexed(n) = colour else { panic!("{colour:?} is not from the 256") };
            let l = luminance(xterm_rgb(n));
            let (on_black, on_white) = ((l + 0.05) / 0.05, 1.05 / (l + 0.05));
            assert!(
                on_black >= 3.0 && on_white >= 3.0,
                "{colour:?}: {on_black:.2}:1 on black, {on_white:.2}:1 on white"
            );
        }
        // The doc comments' hex values are the ones checked.
        assert_eq!(xterm_rgb(32), [0x00, 0x87, 0xd7]);
        assert_eq!(xterm_rgb(243), [0x76, 0x76, 0x76]);
        let roles = [DATA, PARTICLES, PATHS, TRAIN_RAW, TRAIN_SMOOTH, TEST, FISHER, EPOCH_MARK, PAST_RUN];
        let styles = [
            FIELD_SHADES[0],
            FIELD_SHADES[2],
            BORDER,
            AXIS,
            DIM,
            KEY,
            TRAINING,
            PAUSED,
            FINISHED,
            DIVERGED,
            STARTING,
            NOTICE,
            ERROR,
        ];
        for colour in roles.into_iter().chain(styles.iter().filter_map(|s| s.fg)) {
            assert!(PALETTE.contains(&colour), "{colour:?} is not in the palette");
        }
    }

    fn indexed_luminance(colour: Color) -> f64 {
        let Color::Indexed(n) = colour else { panic!("{colour:?} is not from the 256") };
        luminance(xterm_rgb(n))
    }

    fn contrast(a: f64, b: f64) -> f64 {
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }

    #[test]
    fn the_particles_read_on_every_data_shade() {
        let particles = indexed_luminance(PARTICLES);
        for shade in DATA_SHADES {
            let ratio = contrast(particles, indexed_luminance(shade));
            assert!(ratio >= 3.0, "{shade:?}: {ratio:.2}:1 under the particles");
        }
        let luminances: Vec<f64> = DATA_SHADES.into_iter().map(indexed_luminance).collect();
        assert!(luminances.windows(2).all(|w| w[0] < w[1]), "sparse to dense: {luminances:?}");
    }

    #[test]
    fn the_density_ramp_rises_and_reads_on_black_and_on_white() {
        let luminances: Vec<f64> = DENSITY_RAMP.into_iter().map(indexed_luminance).collect();
        assert!(luminances.windows(2).all(|w| w[0] < w[1]), "lighter step by step: {luminances:?}");
        for l in luminances {
            assert!(contrast(l, 0.0) >= 3.0 && contrast(l, 1.0) >= 3.0, "luminance {l:.3}");
        }
    }

    #[test]
    fn no_color_counts_when_set_and_not_empty() {
        assert!(colour_allowed(None));
        assert!(colour_allowed(Some(OsStr::new(""))), "set but empty: colours stay (no-color.org)");
        assert!(!colour_allowed(Some(OsStr::new("1"))));
        assert!(!colour_allowed(Some(OsStr::new("0"))), "any value counts, even 0");
    }

    #[test]
    fn stripping_leaves_weights_where_colours_were() {
        let area = Rect::new(0, 0, 3, 1);
        let mut buf = Buffer::empty(area);
        buf[(0, 0)].set_fg(DATA);
        buf[(1, 0)].set_fg(PARTICLES).set_bg(BLUE);
        buf[(2, 0)].set_style(PAUSED);
        strip_colours(area, &mut buf);
        let modifiers: Vec<Modifier> = buf.content().iter().map(|c| c.modifier).collect();
        assert_eq!(modifiers, [Modifier::DIM, Modifier::BOLD, Modifier::BOLD]);
        assert!(buf.content().iter().all(|c| c.fg == Color::Reset && c.bg == Color::Reset));
    }
}
