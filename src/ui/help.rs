//! The keys: the footer's one-line hints (as many as fit), or a notice in their place for a
//! while (where a save went, why a key does nothing in this mode), and the `?` overlay that lists every key and says what the
//! screen shows.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget};

use crate::app::loss_history::RECENT_STEPS;
use crate::app::notice::{Message, Notice};
use crate::config::Mode;
use crate::trainer::budget::SAMPLING_SHARE;
use crate::trainer::figures::{AVERAGED, FIGURE_PARTICLES, FIGURES_EVERY};
use crate::ui::theme;

/// Footer hints, most useful first: narrow terminals drop them from the end.
const HINTS: [(&str, &str); 23] = [
    ("?", "help"),
    ("q", "quit"),
    ("Space", "pause"),
    ("t", "pace"),
    ("r", "resample"),
    ("n", "new run"),
    ("o", "objective"),
    ("d", "data set"),
    ("e", "draw"),
    ("a", "annealed"),
    ("f", "field"),
    ("w", "save"),
    ("+/-", "η"),
    ("[/]", "steps/frame"),
    ("l", "log/linear"),
    ("h", "history"),
    ("i", "Fisher"),
    ("x", "clear runs"),
    ("v", "view"),
    ("p", "hold"),
    (".", "step"),
    (">", "100 steps"),
    ("j", "paths"),
];

/// Annealed mode's: stepping and comparing come first, `o` has nothing to switch to, and
/// `+`/`-` change c.
const ANNEALED_HINTS: [(&str, &str); 25] = [
    ("?", "help"),
    ("q", "quit"),
    ("Space", "pause"),
    ("p", "hold"),
    (".", "step"),
    (">", "level"),
    ("c", "compare"),
    ("s", "sampler"),
    ("f", "field"),
    ("t", "pace"),
    ("r", "restart"),
    ("j", "paths"),
    ("g", "log q"),
    ("n", "new run"),
    ("d", "data set"),
    ("e", "draw"),
    ("a", "single-σ"),
    ("w", "save"),
    ("+/-", "c"),
    ("[/]", "steps/frame"),
    ("l", "log/linear"),
    ("h", "history"),
    ("i", "Fisher"),
    ("x", "clear runs"),
    ("v", "view"),
];

/// The compare view's (annealed mode): only keys that change what it shows. `f`, `l`, `h`
/// and `i` concern panels it hides; `r` and `+`/`-` act on the particles behind it.
const COMPARE_HINTS: [(&str, &str); 16] = [
    ("?", "help"),
    ("q", "quit"),
    ("c", "back"),
    ("b", "left"),
    ("s", "right"),
    ("Space", "pause"),
    ("t", "pace"),
    ("p", "hold"),
    (".", "step"),
    (">", "level"),
    ("v", "view"),
    ("[/]", "steps/frame"),
    ("n", "new run"),
    ("d", "data set"),
    ("a", "single-σ"),
    ("w", "save"),
];

/// Draw mode's: the mouse first, then the keys that edit and leave.
const DRAW_HINTS: [(&str, &str); 8] = [
    ("drag", "draw"),
    ("right-drag", "erase"),
    ("Enter", "train on it"),
    ("Esc", "cancel"),
    ("u", "undo"),
    ("x", "clear"),
    ("+/-", "brush"),
    ("q", "quit"),
];

/// The one-line key hints under the panels, or the notice.
pub struct Footer<'a> {
    pub notice: Option<&'a Notice>,
    /// Draw mode is on: its own hints.
    pub drawing: bool,
    pub mode: Mode,
    /// The compare view is on: its own hints.
    pub comparing: bool,
    /// Training is paused: Space resumes it.
    pub paused: bool,
}

impl Footer<'_> {
    /// The hints that fit `width` columns, most useful first, each with the column it starts
    /// at: " key what  key what  …".
    fn hints_laid_out(&self, width: u16) -> Vec<(usize, &'static str, &'static str)> {
        let hints: &[(&'static str, &'static str)] = match (self.mode, self.comparing) {
            _ if self.drawing => &DRAW_HINTS,
            (Mode::Single, _) => &HINTS,
            (Mode::Annealed, false) => &ANNEALED_HINTS,
            (Mode::Annealed, true) => &COMPARE_HINTS,
        };
        let mut laid_out = Vec::new();
        let mut used = 1;
        for &(key, what) in hints {
            let needed = key.chars().count() + 1 + what.chars().count() + 2;
            if used + needed > usize::from(width) {
                break;
            }
            laid_out.push((used, key, what));
            used += needed;
        }
        laid_out
    }

    /// The hint under `column` (from the footer's left edge) of a footer `width` wide, and
    /// where in its key the column falls (0 past the key): a click there acts as the key.
    /// None while a notice stands in place of the hints.
    pub fn hint_at(&self, width: u16, column: u16) -> Option<(&'static str, usize)> {
        if self.notice.is_some() {
            return None;
        }
        let column = usize::from(column);
        self.hints_laid_out(width).into_iter().find_map(|(start, key, what)| {
            let (key_len, end) = (key.chars().count(), start + key.chars().count() + 1 + what.chars().count());
            (start..end).contains(&column).then(|| (key, if column - start < key_len { column - start } else { 0 }))
        })
    }
}

impl Widget for Footer<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if let Some(Notice { message: Message::Unavailable(why), .. }) = self.notice {
            Line::styled(format!(" {why}"), theme::NOTICE).render(area, buf);
            return;
        }
        if let Some(Notice { message: Message::Changed(what) | Message::Advice(what), .. }) = self.notice {
            Line::styled(format!(" {what}"), theme::NOTICE).render(area, buf);
            return;
        }
        if let Some(Notice { message: Message::Saved(saved), .. }) = self.notice {
            let (what, why, style) = match &saved.error {
                None if saved.replaced => ("replaced", String::new(), theme::NOTICE),
                None => ("saved", String::new(), theme::NOTICE),
                Some(error) => ("not saved to", format!(": {error}"), theme::ERROR),
            };
            // What happened and why stay whole; a long path gives way from its start.
            let room = usize::from(area.width).saturating_sub(what.chars().count() + why.chars().count() + 2);
            let path = keep_end(&crate::shown::path(&saved.path), room);
            Line::styled(format!(" {what} {path}{why}"), style).render(area, buf);
            return;
        }
        let mut spans = vec![Span::raw(" ")];
        for (_, key, what) in self.hints_laid_out(area.width) {
            let what = if key == "Space" && self.paused { "resume" } else { what };
            spans.extend([Span::styled(key, theme::KEY), Span::styled(format!(" {what}  "), theme::DIM)]);
        }
        Line::from(spans).render(area, buf);
    }
}

/// `text`, or its last `width` − 1 characters after an ellipsis (of a path, the file name
/// matters most).
pub(crate) fn keep_end(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        return text.to_string();
    }
    let tail: String = text.chars().skip(count + 1 - width.max(1)).collect();
    format!("…{tail}")
}

/// The `?` overlay, centred over `area`: the keys of the run's mode and what the screen
/// shows. At most 22 lines, so that it fits 80×24.
pub struct Help {
    pub mode: Mode,
}

impl Help {
    fn lines(&self) -> Vec<Line<'static>> {
        let key = |k: &'static str, what: String| {
            Line::from(vec![Span::styled(format!("  {k:<12}"), theme::KEY), Span::raw(what)])
        };
        let note = |text: &str| Line::from(Span::styled(format!("  {text}"), theme::DIM));
        let annealed = self.mode == Mode::Annealed;
        let mut lines = vec![
            key("Space / t", "pause training (particles flow on) / its pace: full…20 steps/s".into()),
            key("p", "hold the particles / let them flow; held, . and > move them".into()),
        ];
        if annealed {
            lines.extend([
                key(". / >", "one Langevin step / to the end of the level (holds them)".into()),
                key("s / c / b", "next sampler · c: side by side, s on the right, b the left".into()),
                key("r", "fresh particles from N(mean, σ₁²I), the schedule from level 1".into()),
            ]);
        } else {
            lines.extend([
                key(". / >", "one Langevin step / 100 steps (holds the particles)".into()),
                key("r", "resample the particles from U[-1,1]²; their count restarts".into()),
            ]);
        }
        lines.push(key("n", "new run: fresh weights and data (next seed), same settings".into()));
        if !annealed {
            lines.push(key("o", "new run with the other objective: DSM / ISM".into()));
        }
        lines.extend([
            key("d / e", "new run on the next data set / draw your own with the mouse".into()),
            key("a / x", "new run single-σ ⇄ annealed / clear the earlier runs' curves".into()),
            key("w", "save a checkpoint (to --save FILE, or a new file here)".into()),
            if annealed {
                key("+ / -", "c in the step size α = c·σᵢ² ×1.5 / ÷1.5".into())
            } else {
                key("+ / -", "Langevin step size η ×1.5 / ÷1.5".into())
            },
            key("[ / ]", "fewer / more Langevin steps per frame; 0 stops them".into()),
            key("l / h / i", format!("loss panel: log/linear · all/last {RECENT_STEPS} steps · Fisher curve")),
            key("v / 0", "samples: shaded / density / points · 0 undoes the panels' zoom".into()),
            if annealed {
                key("f / j / g", "score field · a dozen paths · log q: model (ODE) / exact".into())
            } else {
                key("f / j", "score field: off / learned / exact / difference · j: 12 paths".into())
            },
            key("? q Esc ^C", "this help (Esc or ? closes it) / quit".into()),
            Line::raw(""),
        ]);
        let share = 100.0 * SAMPLING_SHARE;
        if annealed {
            lines.extend([
                note("Particles: x ← x + α·s(x, σᵢ) + √(2α)·z, α = c·σᵢ², T steps at each σᵢ,"),
                note(&format!("then x + σ_L²·s(x, σ_L); {share:.0}% of the time unless paced (t).")),
            ]);
        } else {
            lines.push(note(&format!(
                "Particles: x ← x + (η/2)·s(x) + √η·z; {share:.0}% of the time unless paced (t)."
            )));
        }
        lines.extend([
            note("Held: SNR = √(α/2)·mean‖s‖ / E‖z‖, E‖z‖ = √(π/2): drift over noise."),
            if annealed {
                note("Arrows at the particles' σᵢ; exact = ∇log q_σᵢ; brighter ×3 in ‖s‖·σᵢ.")
            } else {
                note("Arrows: exact = ∇log q_σ, DSM's target; brighter ×3 in ‖s‖·σ, · under ⅓.")
            },
            note("Fisher: ½E‖s − ∇log q_σ‖², what DSM minimises; ÷k: k× lower than at start."),
            note(&format!(
                "Energy distance: ≤{FIGURE_PARTICLES} particles, every {}s; steady chain: mean of {AVERAGED}.",
                FIGURES_EVERY.as_secs()
            )),
        ]);
        if !annealed {
            lines.push(note("Escaped: outside the plotted area; counted, not drawn."));
        }
        lines
    }
}

impl Widget for Help {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let lines = self.lines();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::App;
    use crate::config::Config;
    use crate::trainer::protocol::{ChainStatus, Saved, Snapshot, TrainerState, TrainerStatus};
    use crate::ui::buffer_text;

    #[test]
    fn the_help_fits_80x24_in_either_mode() {
        for mode in [Mode::Single, Mode::Annealed] {
            let lines = Help { mode }.lines();
            assert!(lines.len() + 2 <= 24, "{mode:?}: {} lines", lines.len());
            assert!(lines.iter().all(|l| l.width() + 4 <= 80), "{mode:?}: a line too wide");
        }
    }

    #[test]
    fn a_long_notice_keeps_its_end() {
        assert_eq!(keep_end("saved /a/b.st", 20), "saved /a/b.st");
        assert_eq!(keep_end("saved /tmp/deep/dir/run.safetensors", 20), "…dir/run.safetensors");
        assert_eq!(keep_end("saved /tmp/deep/dir/run.safetensors", 20).chars().count(), 20);
    }

    #[test]
    fn the_notice_replaces_the_hints_until_it_expires() {
        let mut app = App::new(Config::default());
        let saved =
            Saved { path: "/tmp/x/dsm-tui-moons-dsm-run1-step90.safetensors".into(), error: None, replaced: false };
        app.apply(Snapshot {
            run_id: 0,
            status: TrainerStatus {
                seed: 0,
                state: TrainerState::Training,
                epoch: 1,
                step: 90,
                lr: 0.01,
                langevin_steps: 0,
                chain: ChainStatus::fresh(&Config::default(), crate::config::Sampler::Annealed),
                figures: None,
                energy_floor: None,
                trained_for: std::time::Duration::from_secs(3),
                steps_per_second: None,
                langevin_per_second: None,
                flowing: true,
            },
            train_from: 1,
            train_span: 1,
            train: Vec::new(),
            test: Vec::new(),
            fisher: Vec::new(),
            data: None,
            particles: Vec::new(),
            saved: Some(saved),
            compare: None,
            field: None,
            paths: None,
            density: None,
        });
        let area = Rect::new(0, 0, 60, 1);
        let footer = |app: &App, area: Rect| {
            let mut buf = Buffer::empty(area);
            Footer { notice: app.notice(), drawing: false, mode: Mode::Single, comparing: false, paused: false }
                .render(area, &mut buf);
            buffer_text(&buf)
        };
        assert_eq!(footer(&app, area), " saved /tmp/x/dsm-tui-moons-dsm-run1-step90.safetensors\n");
        let start = std::time::Instant::now();
        app.tick(start);
        app.tick(start + crate::app::notice::NOTICE_TIME);
        assert!(footer(&app, area).starts_with(" ? help  q quit"));
    }

    #[test]
    fn the_compare_view_lists_its_own_keys_and_not_the_hidden_panels() {
        let area = Rect::new(0, 0, 200, 1);
        let render = |comparing| {
            let mut buf = Buffer::empty(area);
            Footer { notice: None, drawing: false, mode: Mode::Annealed, comparing, paused: false }
                .render(area, &mut buf);
            buffer_text(&buf)
        };
        let (annealed, comparing) = (render(false), render(true));
        assert!(annealed.contains("c compare") && annealed.contains("f field"), "{annealed}");
        assert!(comparing.starts_with(" ? help  q quit  c back"), "{comparing}");
        for hidden in ["f field", "l log", "h history", "i Fisher", "r restart", "+/- c"] {
            assert!(!comparing.contains(hidden), "{hidden:?} in {comparing}");
        }
    }

    #[test]
    fn a_failed_save_keeps_its_reason_and_shortens_the_path() {
        let saved = Saved {
            path: "/tmp/a/rather/deep/directory/run.safetensors".into(),
            error: Some("No such file or directory (os error 2)".into()),
            replaced: false,
        };
        let notice = Notice::new(Message::Saved(saved));
        let area = Rect::new(0, 0, 80, 1);
        let mut buf = Buffer::empty(area);
        Footer { notice: Some(&notice), drawing: false, mode: Mode::Single, comparing: false, paused: false }
            .render(area, &mut buf);
        assert_eq!(
            buffer_text(&buf),
            " not saved to …directory/run.safetensors: No such file or directory (os error 2)\n"
        );
        assert_eq!(Some(buf[(1, 0)].fg), theme::ERROR.fg);
    }

    #[test]
    fn a_click_falls_on_the_hint_drawn_under_it() {
        let footer = Footer { notice: None, drawing: false, mode: Mode::Single, comparing: false, paused: false };
        let mut buf = Buffer::empty(Rect::new(0, 0, 100, 1));
        footer.render(buf.area, &mut buf);
        let text: String = buf.content().iter().map(|c| c.symbol()).collect();
        let footer = Footer { notice: None, drawing: false, mode: Mode::Single, comparing: false, paused: false };
        // Every column of every hint as drawn maps back to that hint.
        for (key, what) in [("?", "help"), ("Space", "pause"), ("d", "data set"), ("e", "draw")] {
            let start = text.find(&format!("{key} {what}")).expect("drawn") as u16;
            let start = text[..usize::from(start)].chars().count() as u16;
            for offset in 0..(key.chars().count() + 1 + what.chars().count()) as u16 {
                let at = usize::from(offset).min(key.chars().count());
                let want = (key, if at < key.chars().count() { at } else { 0 });
                assert_eq!(footer.hint_at(100, start + offset), Some(want), "{key} + {offset}");
            }
        }
        assert_eq!(footer.hint_at(100, 0), None, "the margin");
        let two_spaces = text.find("help  ").unwrap() as u16 + 5;
        assert_eq!(footer.hint_at(100, two_spaces), None, "between hints");
        // The pair's halves.
        let plus = text.chars().collect::<Vec<_>>().windows(3).position(|w| w == ['+', '/', '-']);
        if let Some(plus) = plus {
            assert_eq!(footer.hint_at(100, plus as u16), Some(("+/-", 0)));
            assert_eq!(footer.hint_at(100, plus as u16 + 2), Some(("+/-", 2)));
        }
        let notice = Notice::new(Message::Unavailable("why"));
        let with_notice = Footer { notice: Some(&notice), ..footer };
        assert_eq!(with_notice.hint_at(100, 3), None, "a notice has no hints");
    }

    #[test]
    fn the_space_hint_says_resume_while_paused() {
        let area = Rect::new(0, 0, 80, 1);
        let hints = |paused| {
            let mut buf = Buffer::empty(area);
            Footer { notice: None, drawing: false, mode: Mode::Single, comparing: false, paused }
                .render(area, &mut buf);
            buffer_text(&buf)
        };
        assert!(hints(false).contains("Space pause"), "{}", hints(false));
        assert!(hints(true).contains("Space resume"), "{}", hints(true));
    }

    #[test]
    fn a_save_over_an_existing_file_says_it_replaced_it() {
        let saved = Saved { path: "/tmp/model.safetensors".into(), error: None, replaced: true };
        let notice = Notice::new(Message::Saved(saved));
        let area = Rect::new(0, 0, 80, 1);
        let mut buf = Buffer::empty(area);
        Footer { notice: Some(&notice), drawing: false, mode: Mode::Single, comparing: false, paused: false }
            .render(area, &mut buf);
        assert_eq!(buffer_text(&buf), " replaced /tmp/model.safetensors\n");
    }
}
