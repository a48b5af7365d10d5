//! The dashboard's screen, drawn from a borrowed [`App`] and nothing else:
//!
//! ```text
//! ┌ Loss ─────────────────────┐┌ Samples ──────────────────────────┐
//! │ loss: EMA, raw, test      ││ braille scatter: data, particles, │
//! │ Fisher divergence (key i) ││ score field arrows (key f)        │
//! └───────────────────────────┘└───────────────────────────────────┘
//! ┌ state ────────────────────────────────────────── run · seed ────┐
//! │ training · Langevin · quality and speed                         │
//! └─────────────────────────────────────────────────────────────────┘
//!  key hints
//! ```
//!
//! In the compare view (`c`) two scatter panels, single-σ and annealed Langevin, take the
//! place of the loss and sample panels; the status panel grows a line in annealed mode and
//! while the particles are held.
//!
//! Below [`MIN_WIDTH`] × [`MIN_HEIGHT`] a centred message replaces the layout. [`render_text`]
//! draws the same screen into an off-screen buffer and returns it as text.

pub mod compare;
pub mod draw_canvas;
pub mod field;
pub mod heatmap;
pub mod help;
pub mod log_density;
pub mod loss_chart;
mod loss_legend;
pub mod scatter;
pub mod shading;
pub mod status;
pub mod theme;
pub mod ticks;

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Widget, Wrap};

use crate::app::App;
use crate::app::loss_pointer::LossTarget;
use crate::app::view::PlotGrids;
use crate::config::{Mode, Sampler};
use crate::eval::score_field::Lattice;
use crate::trainer::protocol::TrainerState;
use compare::ComparePanels;
use draw_canvas::DrawCanvas;
use help::{Footer, Help};
use loss_chart::LossChart;
use scatter::{PathOverlay, PlotTransform, Scatter};
use status::Status;

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
        self.render_screen(area, buf);
        if !self.colour() {
            theme::strip_colours(area, buf);
        }
    }
}

/// Where the parts of the screen go. In the compare view `loss` and `samples` are empty and
/// `compare` holds both; otherwise the reverse.
struct Areas {
    loss: Rect,
    samples: Rect,
    compare: Rect,
    status: Rect,
    footer: Rect,
}

/// The layout of `app`'s screen on `area` (the status panel's height depends on its mode and
/// on whether the particles are held); `None` below [`MIN_WIDTH`] × [`MIN_HEIGHT`].
fn areas(app: &App, area: Rect) -> Option<Areas> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return None;
    }
    let [panels, status, footer] = area.layout(&Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(status::height(app)),
        Constraint::Length(1),
    ]));
    if app.comparing() {
        return Some(Areas { loss: Rect::ZERO, samples: Rect::ZERO, compare: panels, status, footer });
    }
    let [loss, samples] = panels.layout(&Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]));
    Some(Areas { loss, samples, compare: Rect::ZERO, status, footer })
}

/// The scatter panel's place on `app`'s screen of `area`: `None` if the screen cannot hold
/// the layout, or while the compare view takes the panel's place.
pub fn samples_panel(app: &App, area: Rect) -> Option<Rect> {
    areas(app, area).map(|a| a.samples).filter(|samples| !samples.is_empty())
}

/// How the scatter panel maps the plane onto `app`'s screen of `area`, while it is shown: the
/// dashboard turns a mouse position into the region of the plane under it with this.
/// The loss panel, when it is on screen (not in the compare view).
pub fn loss_panel(app: &App, area: Rect) -> Option<Rect> {
    areas(app, area).map(|a| a.loss).filter(|loss| !loss.is_empty())
}

/// What is under (`column`, `row`) in the loss panel: a graph's step or a legend entry.
pub fn loss_target_at(app: &App, area: Rect, column: u16, row: u16) -> Option<LossTarget> {
    let panel = loss_panel(app, area)?;
    loss_chart::target_at(app.plot(), app.reading(), panel, column, row)
}

pub fn samples_transform(app: &App, area: Rect) -> Option<PlotTransform> {
    samples_panel(app, area).map(|panel| PlotTransform::new(panel, app.samples().bounds()))
}

/// Where the score field's arrows go on `app`'s screen of `area`, while its field view is
/// on and the scatter panel is shown: the lattice the trainer evaluates the fields on.
pub fn field_lattice(app: &App, area: Rect) -> Option<Lattice> {
    app.field_overlay()?;
    let panel = samples_panel(app, area)?;
    field::lattice(&PlotTransform::new(panel, app.samples().bounds()))
}

/// The cells of the samples panel on `app`'s screen of `area`, while its log-density view is
/// on and the scatter panel is shown: the lattice the trainer maps the log density on.
pub fn density_lattice(app: &App, area: Rect) -> Option<Lattice> {
    app.density_overlay()?;
    let panel = samples_panel(app, area)?;
    log_density::lattice(&PlotTransform::new(panel, app.samples().bounds()))
}

/// The grids of cells the scatters on `app`'s screen of `area` are drawn on: the data is
/// shaded for these before the draw ([`App::shade_data`]).
pub fn plot_grids(app: &App, area: Rect) -> PlotGrids {
    let Some(areas) = areas(app, area) else { return PlotGrids::None };
    let bounds = app.samples().bounds();
    let grid = |panel| PlotTransform::new(panel, bounds).grid();
    if app.comparing() {
        PlotGrids::Compare(compare::panels(areas.compare).map(grid))
    } else {
        PlotGrids::Samples(grid(areas.samples))
    }
}

impl App {
    fn render_screen(&self, area: Rect, buf: &mut Buffer) {
        let Some(Areas { loss, samples, compare, status, footer }) = areas(self, area) else {
            TooSmall.render(area, buf);
            return;
        };
        if self.comparing() {
            ComparePanels { sides: self.compared(), view: self.view(), colour: self.colour() }.render(compare, buf);
        } else {
            let steps_per_epoch = self.config().steps_per_epoch() as u64;
            LossChart { plot: self.plot(), steps_per_epoch, reading: self.reading() }.render(loss, buf);
            match self.drawing() {
                Some(drawing) => DrawCanvas { drawing, bounds: self.samples().bounds() }.render(samples, buf),
                None => Scatter {
                    samples: self.samples(),
                    view: self.view(),
                    colour: self.colour(),
                    field: self.field_overlay(),
                    off_view: self.zoomed() || self.config().mode == Mode::Annealed,
                    density: self.density_overlay(),
                    paths: self.paths().map(|paths| PathOverlay {
                        paths,
                        by_level: self.config().mode == Mode::Annealed && self.settings().sampler == Sampler::Annealed,
                    }),
                }
                .render(samples, buf),
            }
        }
        Status { app: self }.render(status, buf);
        footer_of(self).render(footer, buf);
        if self.help_open() {
            Help { mode: self.config().mode }.render(area, buf);
        }
    }
}

/// The footer as `app` shows it.
fn footer_of(app: &App) -> Footer<'_> {
    let paused = app.state() == Some(TrainerState::Paused);
    let drawing = app.drawing().is_some();
    Footer { notice: app.notice(), drawing, mode: app.config().mode, comparing: app.comparing(), paused }
}

/// The key hint a click at (`column`, `row`) of `app`'s screen of `area` falls on, if any,
/// and where in the key (see [`Footer::hint_at`]). The help overlay hides the footer.
pub fn footer_hint_at(app: &App, area: Rect, column: u16, row: u16) -> Option<(&'static str, usize)> {
    let footer = areas(app, area)?.footer;
    if app.help_open() || row != footer.y || column < footer.x {
        return None;
    }
    footer_of(app).hint_at(footer.width, column - footer.x)
}

/// What shows instead of the layout on a terminal that cannot hold it.
struct TooSmall;

impl Widget for TooSmall {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let lines = vec![
            Line::styled(format!("terminal too small (need {MIN_WIDTH}×{MIN_HEIGHT})"), theme::VALUE),
            Line::styled(format!("now {}×{} · q quits", area.width, area.height), theme::DIM),
        ];
        let middle = area.centered_vertically(Constraint::Length(2));
        Paragraph::new(lines).centered().wrap(Wrap { trim: true }).render(middle, buf);
    }
}

/// The screen `app` shows on a `width` × `height` terminal, as text (one line per row,
/// trailing spaces dropped), its data shaded for that screen first.
pub fn render_text(app: &App, width: u16, height: u16) -> String {
    let mut buf = Buffer::empty(Rect::new(0, 0, width, height));
    let mut app = app.clone();
    app.shade_data(plot_grids(&app, buf.area));
    app.render(buf.area, &mut buf);
    buffer_text(&buf)
}

/// The symbols of `buf`, row by row.
pub fn buffer_text(buf: &Buffer) -> String {
    let mut text = String::new();
    for row in buf.content().chunks(usize::from(buf.area.width.max(1))) {
        let line: String = row.iter().map(|cell| cell.symbol()).collect();
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// A count in at most six characters: 63000, 630k, 63M.
pub fn format_count(n: u64) -> String {
    match n {
        0..100_000 => n.to_string(),
        100_000..100_000_000 => format!("{}k", (n + 500) / 1000),
        _ => format!("{}M", (n + 500_000) / 1_000_000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::keys::Action;
    use crate::app::tests::{snapshot, still};
    use crate::config::Config;
    use crate::eval::score_field::{Field, FieldKind};
    use crate::trainer::protocol::{Command, Snapshot, TrainerState};

    /// What the dashboard does before each draw on a `screen` of that size.
    fn sync(app: &mut App, screen: Rect) -> Option<Command> {
        let lattice = field_lattice(app, screen);
        app.sync_field(lattice)
    }

    fn field_for(lattice: Lattice) -> Field {
        let vectors = vec![[1.0, 0.0]; lattice.len()];
        Field { lattice, sigma: 0.1, learned: vectors.clone(), exact: vectors }
    }

    #[test]
    fn f_cycles_the_field_view_and_the_trainer_hears_of_the_lattice() {
        let mut app = App::new(Config::default());
        let screen = Rect::new(0, 0, 100, 30);
        assert_eq!(sync(&mut app, screen), None, "off: nothing to ask");
        assert!(app.field_overlay().is_none());

        assert_eq!(app.update(Action::CycleField), None, "the screen's size decides the lattice");
        let Some(Command::ShowField(Some(lattice))) = sync(&mut app, screen) else { panic!("ask for the field") };
        assert_eq!((lattice.cols, lattice.rows), (13, 10), "a 53 × 21 plot, an arrow every 4 × 2 cells");
        assert_eq!(sync(&mut app, screen), None, "asked once");
        let mut kinds = vec![app.field_overlay().map(|o| o.kind)];
        for _ in 0..3 {
            app.update(Action::CycleField);
            // The three kinds share a lattice; only turning the view off tells the trainer.
            assert_eq!(sync(&mut app, screen).is_some(), app.field_overlay().is_none());
            kinds.push(app.field_overlay().map(|o| o.kind));
        }
        assert_eq!(kinds, [Some(FieldKind::Learned), Some(FieldKind::Exact), Some(FieldKind::Difference), None]);
        assert_eq!(app.field_lattice(), None, "off again: the trainer was told to stop");

        // A resize asks for a new lattice; a field for the old one is not drawn.
        app.update(Action::CycleField);
        let Some(Command::ShowField(Some(small))) = sync(&mut app, Rect::new(0, 0, 80, 24)) else { panic!() };
        let Some(Command::ShowField(Some(large))) = sync(&mut app, Rect::new(0, 0, 160, 45)) else { panic!() };
        assert!(large.len() > small.len());
        app.apply(Snapshot { field: Some(field_for(small)), ..snapshot(0, TrainerState::Training, 3) });
        assert!(app.field_overlay().unwrap().field.is_none(), "a stale lattice's field");
        app.apply(Snapshot { field: Some(field_for(large)), ..snapshot(0, TrainerState::Training, 4) });
        assert_eq!(app.field_overlay().unwrap().field.map(|f| f.lattice), Some(large));
        let no_news = snapshot(0, TrainerState::Training, 5);
        app.apply(no_news);
        assert!(app.field_overlay().unwrap().field.is_some(), "kept until a newer one comes");
        assert_eq!(sync(&mut app, Rect::new(0, 0, 60, 20)), Some(Command::ShowField(None)), "too small: no panel");
    }

    #[test]
    fn a_new_data_set_moves_the_lattice_and_drops_the_old_field() {
        let mut app = App::new(Config::default());
        let screen = Rect::new(0, 0, 100, 30);
        app.update(Action::CycleField);
        let Some(Command::ShowField(Some(moons))) = sync(&mut app, screen) else { panic!() };
        app.apply(Snapshot { field: Some(field_for(moons)), ..snapshot(0, TrainerState::Training, 3) });
        app.update(Action::NewRun);
        assert!(app.field_overlay().unwrap().field.is_none(), "the old run's field goes with it");
        assert_eq!(sync(&mut app, screen), None, "same data set, same bounds, same lattice");
        app.update(Action::CycleDataset);
        let Some(Command::ShowField(Some(circles))) = sync(&mut app, screen) else { panic!("the circles' bounds") };
        assert_ne!(circles, moons);
    }

    /// Held and finished, nothing moves: the UI may poll slowly, but not while the answer to
    /// a step (or to the field view's request) is on its way.
    #[test]
    fn a_command_sent_expects_its_answer() {
        let mut app = App::new(Config::default());
        app.update(Action::ToggleHold);
        app.apply(still(snapshot(0, TrainerState::Finished, 5)));
        assert!(!app.expects_snapshots(), "held and finished: a slow poll");
        assert!(app.update(Action::AdvanceStep).is_some());
        assert!(app.expects_snapshots(), "the step's snapshot is coming");
        app.apply(still(snapshot(0, TrainerState::Finished, 5)));
        assert!(!app.expects_snapshots());
        app.update(Action::CycleField);
        assert!(sync(&mut app, Rect::new(0, 0, 100, 30)).is_some());
        assert!(app.expects_snapshots(), "the field is coming");
        app.apply(still(snapshot(0, TrainerState::Finished, 5)));
        assert!(!app.expects_snapshots());
        app.update(Action::ToggleScale);
        assert!(!app.expects_snapshots(), "nothing asked of the trainer");
    }

    #[test]
    fn counts_are_short() {
        assert_eq!(format_count(6300), "6300");
        assert_eq!(format_count(630_000), "630k");
        assert_eq!(format_count(630_000_000), "630M");
    }

    #[test]
    fn a_small_terminal_gets_a_centred_message_not_a_layout() {
        let app = App::new(crate::config::Config::default());
        let text = render_text(&app, 60, 20);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 20);
        let row = lines.iter().position(|l| l.contains("terminal too small (need 80×24)")).unwrap();
        assert!((8..=10).contains(&row), "row {row}");
        assert!(lines[row + 1].contains("now 60×20"));
        // Any size, however small, draws without panicking.
        for (w, h) in [(0, 0), (1, 1), (10, 3), (79, 24), (80, 23), (80, 24), (300, 100)] {
            render_text(&app, w, h);
        }
    }
}
