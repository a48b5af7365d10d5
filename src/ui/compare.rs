//! The compare view (`c`, annealed mode): single-σ and annealed Langevin side by side in
//! place of the loss and sample panels, each a scatter over the data with its energy distance
//! and (moons) upper-moon share in the title, and its progress underneath.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget};

use crate::app::ComparedSide;
use crate::app::view::View;
use crate::shown::energy_distance;
use crate::ui::{format_count, scatter, theme};

pub struct ComparePanels<'a> {
    /// `None` until the trainer's first snapshot of the comparison.
    pub sides: Option<&'a [ComparedSide; 2]>,
    pub view: View,
    /// `false` under `NO_COLOR`.
    pub colour: bool,
}

/// Where the two sides go in `area`: left and right halves.
pub fn panels(area: Rect) -> [Rect; 2] {
    area.layout(&Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]))
}

impl Widget for ComparePanels<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let [left, right] = panels(area);
        let Some(sides) = self.sides else {
            let block = Block::bordered().border_style(theme::BORDER).title(Span::styled(" Compare ", theme::TITLE));
            let inner = block.inner(area);
            block.render(area, buf);
            let middle = inner.centered_vertically(Constraint::Length(1));
            Paragraph::new(Line::styled("starting both samplers from the same particles…", theme::DIM))
                .centered()
                .render(middle, buf);
            return;
        };
        for (side, area) in sides.iter().zip([left, right]) {
            let block = Block::bordered()
                .border_style(theme::BORDER)
                .title(title(side, area.width.saturating_sub(2)))
                .title_bottom(progress(side, area.width.saturating_sub(2)));
            scatter::plot(&side.samples, self.view, self.colour, block, area, buf);
        }
    }
}

/// " name · energy distance E · upper moon U " in as much room as `width` gives: the long
/// labels when they fit, "ED" and "upper" when not.
fn title(side: &ComparedSide, width: u16) -> Line<'static> {
    let Some(figures) = side.figures else {
        return Line::from(Span::styled(format!(" {} ", side.name), theme::TITLE));
    };
    // As the status line shows its own (`trainer::figures` measures both alike).
    let ed = energy_distance(figures.energy_distance);
    let upper = figures.upper_moon_share.map(|u| format!("{:.1}%", 100.0 * u));
    let text = |ed_label: &str, upper_label: &str| {
        let upper = upper.as_ref().map_or(String::new(), |u| format!(" · {upper_label} {u}"));
        format!(" · {ed_label} {ed}{upper} ")
    };
    let long = text("energy distance", "upper moon");
    let figures = if side.name.chars().count() + 2 + long.chars().count() <= usize::from(width) {
        long
    } else {
        text("ED", "upper")
    };
    Line::from(vec![Span::styled(format!(" {}", side.name), theme::TITLE), Span::styled(figures, theme::VALUE)])
}

/// The side's sampler and how far it has gone, in as much room as `width` gives: how far
/// it has gone in fewer words when the whole does not fit, then without the sampler.
fn progress(side: &ComparedSide, width: u16) -> Line<'static> {
    let done = side.steps == side.total;
    let (state, short) = if done {
        (format!("{} steps, done", format_count(side.total)), "done".to_string())
    } else {
        (format!("step {}/{}", side.steps, side.total), format!("{}/{}", side.steps, side.total))
    };
    let sampler = &side.sampler;
    let shortest = format!(" {short} ");
    let text = [format!(" {sampler} · {state} "), format!(" {sampler} · {short} "), format!(" {state} ")]
        .into_iter()
        .find(|text| text.chars().count() <= usize::from(width))
        .unwrap_or(shortest);
    Line::from(Span::styled(text, theme::DIM))
}
