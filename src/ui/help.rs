//! The keys: the footer's one-line hints (as many as fit) and the `?` overlay that lists
//! every key and says what the screen shows.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget};

use crate::trainer::worker::{FIGURE_PARTICLES, FIGURES_EVERY, SAMPLING_SHARE};
use crate::ui::loss_history::RECENT_STEPS;
use crate::ui::theme;

/// Footer hints, most useful first: narrow terminals drop them from the end.
const HINTS: [(&str, &str); 10] = [
    ("?", "help"),
    ("q", "quit"),
    ("Space", "pause"),
    ("r", "resample"),
    ("n", "new run"),
    ("+/-", "η"),
    ("[/]", "steps/frame"),
    ("l", "log/linear"),
    ("w", "window"),
    ("v", "view"),
];

/// The one-line key hints under the panels.
pub struct Footer;

impl Widget for Footer {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let mut spans = vec![Span::raw(" ")];
        let mut width = 1;
        for (key, what) in HINTS {
            let needed = key.chars().count() + 1 + what.chars().count() + 2;
            if width + needed > usize::from(area.width) {
                break;
            }
            width += needed;
            spans.extend([Span::styled(key, theme::KEY), Span::styled(format!(" {what}  "), theme::DIM)]);
        }
        Line::from(spans).render(area, buf);
    }
}

/// The `?` overlay, centred over `area`.
pub struct Help;

impl Help {
    fn lines() -> Vec<Line<'static>> {
        let key = |k: &'static str, what: String| {
            Line::from(vec![Span::styled(format!("  {k:<12}"), theme::KEY), Span::raw(what)])
        };
        let note = |text: &str| Line::from(Span::styled(format!("  {text}"), theme::DIM));
        vec![
            key("Space", "pause / resume training (the particles keep flowing)".into()),
            key("r", "resample the particles from U[-1,1]²; their count restarts".into()),
            key("n", "new run: fresh weights and data (next seed), same settings".into()),
            key("+ / -", "Langevin step size η ×1.5 / ÷1.5".into()),
            key("[ / ]", "fewer / more Langevin steps per frame; 0 stops them".into()),
            key("l", "loss axis: log / linear".into()),
            key("w", format!("loss window: all steps / the last {RECENT_STEPS}")),
            key("v", "samples: data + particles / particles / data".into()),
            key("?", "this help; Esc or ? closes it".into()),
            key("q Esc ^C", "quit".into()),
            Line::raw(""),
            note("Particles follow x ← x + (η/2)·s(x) + √η·z, s the latest network."),
            note(&format!(
                "While training they get {:.0}% of the time; paused or done, all of it.",
                100.0 * SAMPLING_SHARE
            )),
            note("Escaped: outside the plotted area; counted, not drawn."),
            note(&format!(
                "Energy distance: {FIGURE_PARTICLES} particles to the test split, every {}s.",
                FIGURES_EVERY.as_secs()
            )),
        ]
    }
}

impl Widget for Help {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let lines = Self::lines();
        let width = lines.iter().map(Line::width).max().unwrap_or(0) as u16 + 4;
        let height = lines.len() as u16 + 2;
        let popup =
            area.centered(Constraint::Length(width.min(area.width)), Constraint::Length(height.min(area.height)));
        Clear.render(popup, buf);
        let block = Block::bordered()
            .border_style(theme::KEY)
            .title(Span::styled(" Keys ", theme::TITLE))
            .title_bottom(Line::from(Span::styled(" ? or Esc closes ", theme::DIM)).right_aligned());
        Paragraph::new(lines).block(block).render(popup, buf);
    }
}
