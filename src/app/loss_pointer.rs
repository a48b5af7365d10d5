//! The loss panel under the mouse, as users of bottom or lazygit expect: pointing at the graph
//! (a click, or a hover where the terminal reports motion) puts a crosshair there and the
//! headers read each curve's value at that step; the wheel zooms the step range about the
//! step under the pointer; a double click or `0` shows every step again; a click on a legend
//! entry hides its curve, another shows it.

use std::time::Instant;

use crate::app::App;
use crate::app::crosshair::Reading;
use crate::app::view::{Curve, StepZoom};
use crate::app::zoom::ZOOM_STEP;

/// What is under the pointer in the loss panel.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LossTarget {
    /// A graph (the loss's or the Fisher divergence's), over this step.
    Graph { step: f64 },
    /// A legend entry.
    Legend(Curve),
}

/// A mouse event as the loss panel takes it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LossPointer {
    /// The pointer is over `step` (moved there, or dragged with the left button).
    Point { step: f64 },
    /// The left button went down over `step`, in the terminal cell `cell`.
    Press { step: f64, cell: (u16, u16) },
    /// The wheel turned over `step`: `closer` zooms in.
    Wheel { closer: bool, step: f64 },
    /// A click on a legend entry.
    Toggle(Curve),
    /// The pointer moved, or was pressed, off the graphs: the crosshair goes.
    Leave,
}

impl App {
    /// A mouse event over the loss panel; whether the screen changed.
    pub fn loss_pointer(&mut self, event: LossPointer, now: Instant) -> bool {
        match event {
            LossPointer::Point { step } => self.point_at(step),
            LossPointer::Press { step, cell } => {
                if self.double_click(cell, now) {
                    self.reset_steps();
                    return true;
                }
                self.point_at(step)
            }
            LossPointer::Wheel { closer, step } => {
                let factor = if closer { 1.0 / ZOOM_STEP } else { ZOOM_STEP };
                let next = self.loss_view.steps.scaled_about(self.plot.whole, step, factor);
                let changed = next != self.loss_view.steps;
                self.loss_view.steps = next;
                if changed {
                    self.replot();
                }
                let moved = self.point_at(step);
                moved || changed
            }
            LossPointer::Toggle(curve) => {
                if !self.loss_view.hidden.remove(&curve) {
                    self.loss_view.hidden.insert(curve);
                }
                self.replot();
                true
            }
            LossPointer::Leave => self.reading.take().is_some(),
        }
    }

    /// The crosshair at `step`; whether it moved.
    fn point_at(&mut self, step: f64) -> bool {
        if self.reading.as_ref().is_some_and(|r| r.step == step) {
            return false;
        }
        self.reading = Some(Reading::at(step, &self.losses, &self.past_runs, &self.loss_view.hidden));
        true
    }

    /// Every step of the window again; whether the range changed.
    pub(super) fn reset_steps(&mut self) -> bool {
        let zoomed = self.loss_view.steps != StepZoom::Whole;
        self.loss_view.steps = StepZoom::Whole;
        if zoomed {
            self.replot();
        }
        zoomed
    }

    /// The crosshair's readout, while the pointer is on a graph.
    pub fn reading(&self) -> Option<&Reading> {
        self.reading.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::keys::Action;
    use crate::app::tests::snapshot;
    use crate::config::Config;
    use crate::trainer::protocol::TrainerState;

    /// An app whose run has reached step 1000, one loss a step.
    fn trained() -> App {
        let mut app = App::new(Config::default());
        let mut s = snapshot(0, TrainerState::Training, 1000);
        s.train = (1..=1000).map(|step| 200.0 - step as f32 / 100.0).collect();
        app.apply(s);
        app
    }

    #[test]
    fn the_wheel_zooms_the_steps_about_the_pointer_and_a_double_click_undoes_it() {
        let mut app = trained();
        let t = Instant::now();
        assert_eq!(app.plot().x_bounds, [0.0, 1000.0]);
        assert!(app.loss_pointer(LossPointer::Wheel { closer: true, step: 250.0 }, t));
        assert_eq!(app.plot().x_bounds, [50.0, 850.0], "250 stays where it was, a quarter of the way");
        assert!(app.plot().zoomed());
        assert_eq!(app.reading().map(|r| r.step), Some(250.0), "the crosshair follows the wheel");
        assert!(app.plot().raw.iter().all(|&(x, _)| (50.0..=850.0).contains(&x)), "only the steps shown");
        // Out again: the whole range, not wider.
        assert!(app.loss_pointer(LossPointer::Wheel { closer: false, step: 250.0 }, t));
        assert!(!app.plot().zoomed());
        assert!(!app.loss_pointer(LossPointer::Wheel { closer: false, step: 250.0 }, t), "no wider than all");
        // In twice at the newest step: the range follows training.
        for _ in 0..2 {
            app.loss_pointer(LossPointer::Wheel { closer: true, step: 1000.0 }, t);
        }
        assert_eq!(app.plot().x_bounds, [360.0, 1000.0]);
        let mut s = snapshot(0, TrainerState::Training, 1100);
        (s.train_from, s.train, s.test, s.fisher) = (1001, vec![190.0; 100], vec![], vec![]);
        app.apply(s);
        assert_eq!(app.plot().x_bounds, [460.0, 1100.0], "640 steps, ending at the newest");
        // A double click on one cell shows every step; `0` does too.
        app.loss_pointer(LossPointer::Press { step: 700.0, cell: (9, 9) }, t);
        assert!(app.loss_pointer(LossPointer::Press { step: 700.0, cell: (9, 9) }, t));
        assert!(!app.plot().zoomed());
        app.loss_pointer(LossPointer::Wheel { closer: true, step: 700.0 }, t);
        app.update(Action::ResetView);
        assert!(!app.plot().zoomed());
    }

    #[test]
    fn the_crosshair_reads_the_step_and_leaves_with_the_pointer() {
        let mut app = trained();
        let t = Instant::now();
        assert!(app.loss_pointer(LossPointer::Point { step: 500.0 }, t));
        let reading = app.reading().expect("on the graph");
        assert_eq!(reading.raw, Some(f64::from(200.0f32 - 5.0)));
        assert!(!app.loss_pointer(LossPointer::Point { step: 500.0 }, t), "same step, nothing to draw");
        assert!(app.loss_pointer(LossPointer::Leave, t));
        assert!(app.reading().is_none());
        assert!(!app.loss_pointer(LossPointer::Leave, t));
    }

    #[test]
    fn a_legend_click_hides_its_curve_and_another_shows_it() {
        let mut app = trained();
        let t = Instant::now();
        assert!(!app.plot().raw.is_empty());
        assert!(app.loss_pointer(LossPointer::Toggle(Curve::Raw), t));
        assert!(app.plot().raw.is_empty() && app.plot().hidden.contains(&Curve::Raw));
        assert!(!app.plot().smooth.is_empty(), "the others stay");
        app.loss_pointer(LossPointer::Point { step: 500.0 }, t);
        assert_eq!(app.reading().map(|r| r.raw), Some(None), "a hidden curve is not read");
        assert!(app.loss_pointer(LossPointer::Toggle(Curve::Raw), t));
        assert!(!app.plot().raw.is_empty());
        assert!(app.reading().is_some_and(|r| r.raw.is_some()), "the readout follows");
    }
}
