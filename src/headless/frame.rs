//! `--frame`: the dashboard's final screen of a plain `--once` run, as text.

use crate::app::App;
use crate::headless::pipeline::Finished;
use crate::trainer::protocol::{Figures, Snapshot};
use crate::ui;

/// The dashboard's screen at the end of `finished`, `width` × `height`, as text: the same
/// widgets, drawn into an off-screen buffer from the snapshot the trainer would send of the
/// finished run. The quality figures are those of the summary (every particle), not the
/// dashboard's subsample.
pub fn render(finished: &Finished, width: u16, height: u16) -> String {
    let mut snapshot = Snapshot::capture(&finished.session, &finished.particles, &finished.chain, 0, true);
    snapshot.status.figures = Some(Figures::of(&finished.summary.samples, finished.particles.steps_taken()));
    snapshot.status.energy_floor = Some(finished.summary.floor_energy_distance);
    snapshot.status.trained_for = std::time::Duration::from_secs_f64(finished.summary.train_seconds);
    let mut app = App::new(finished.summary.config.clone());
    app.apply(snapshot);
    ui::render_text(&app, width, height)
}
