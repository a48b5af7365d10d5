//! `--frame`: the dashboard's final screen of a plain `--once` run, as text.

use crate::app::App;
use crate::headless::pipeline::Finished;
use crate::trainer::worker::{Figures, Snapshot};
use crate::ui;

/// The dashboard's screen at the end of `finished`, `width` × `height`, as text: the same
/// widgets, drawn into an off-screen buffer. The quality figures are those of the summary
/// (every particle), not the dashboard's subsample.
pub fn render(finished: &Finished, width: u16, height: u16) -> String {
    let q = &finished.summary.samples;
    let figures = Figures {
        energy_distance: q.energy_distance,
        upper_moon_share: q.upper_moon_share,
        langevin_steps: finished.particles.steps_taken(),
    };
    let mut app = App::new(finished.summary.config.clone());
    app.apply(Snapshot {
        figures: Some(figures),
        ..Snapshot::capture(&finished.session, &finished.particles, &finished.chain, 0, 0, true)
    });
    ui::render_text(&app, width, height)
}
