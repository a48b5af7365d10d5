//! The samples panel's view under the mouse: the wheel zooms about the point under the
//! pointer, a left drag pans (the point grabbed stays under the pointer), and `0` or a double
//! click goes back to the data set's bounds. The view is the scatter's bounds
//! ([`Samples::set_bounds`]), so the particles, the shading and the score field's lattice all
//! follow it. A new run starts at its data set's bounds again.
//!
//! [`Samples::set_bounds`]: crate::app::samples::Samples::set_bounds

use std::time::{Duration, Instant};

use crate::app::App;
use crate::data::Bounds;

/// One notch of the wheel scales the view by this.
pub const ZOOM_STEP: f64 = 1.25;
/// How far in and out the view goes, in widths of the data set's bounds.
const NARROWEST: f64 = 1.0 / 64.0;
const WIDEST: f64 = 8.0;
/// Two presses on one cell this close together are a double click.
const DOUBLE_CLICK: Duration = Duration::from_millis(400);

/// A mouse event over the samples panel's plot, outside draw mode.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ViewPointer {
    /// The wheel turned towards the user's screen (`closer`: zoom in) or away, over `at`.
    Wheel {
        closer: bool,
        at: [f64; 2],
    },
    /// The left button went down over `at`, in the terminal cell `cell`.
    Press {
        at: [f64; 2],
        cell: (u16, u16),
    },
    /// The pointer moved with the left button down; `at` is the point under it now.
    Drag {
        at: [f64; 2],
    },
    Release,
}

/// A drag in progress: the point that was grabbed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Grab {
    at: [f64; 2],
}

/// The last press, for double clicks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Click {
    when: Instant,
    cell: (u16, u16),
}

/// `bounds` scaled by `factor` about `at` (which stays where it is on screen).
pub fn scaled_about(bounds: Bounds, at: [f64; 2], factor: f64) -> Bounds {
    let scale = |[lo, hi]: [f64; 2], c: f64| [c + (lo - c) * factor, c + (hi - c) * factor];
    Bounds { x: scale(bounds.x, at[0]), y: scale(bounds.y, at[1]) }
}

/// `bounds` moved by `by`.
pub fn moved(bounds: Bounds, by: [f64; 2]) -> Bounds {
    Bounds { x: [bounds.x[0] + by[0], bounds.x[1] + by[0]], y: [bounds.y[0] + by[1], bounds.y[1] + by[1]] }
}

impl App {
    /// A mouse event over the plot; whether the view changed. Only the main view zooms: the
    /// compare view's panels keep the data set's bounds.
    pub fn view_pointer(&mut self, event: ViewPointer, now: Instant) -> bool {
        if self.comparing || self.drawing.is_some() {
            return false;
        }
        match event {
            ViewPointer::Wheel { closer, at } => {
                let factor = if closer { 1.0 / ZOOM_STEP } else { ZOOM_STEP };
                let next = scaled_about(self.samples.bounds(), at, factor);
                let home = self.config.source.bounds();
                let ratio = (next.x[1] - next.x[0]) / (home.x[1] - home.x[0]);
                let allowed = (NARROWEST..=WIDEST).contains(&ratio);
                if allowed {
                    self.samples.set_bounds(next);
                }
                allowed
            }
            ViewPointer::Press { at, cell } => {
                if self.double_click(cell, now) {
                    self.grab = None;
                    return self.reset_view();
                }
                self.grab = Some(Grab { at });
                false
            }
            ViewPointer::Drag { at } => {
                let Some(grab) = self.grab else { return false };
                let by = [grab.at[0] - at[0], grab.at[1] - at[1]];
                if by == [0.0, 0.0] {
                    return false;
                }
                self.samples.set_bounds(moved(self.samples.bounds(), by));
                true
            }
            ViewPointer::Release => {
                self.grab = None;
                false
            }
        }
    }

    /// A press on `cell` at `now` is the second of a double click (on either panel); a third
    /// starts the next.
    pub(super) fn double_click(&mut self, cell: (u16, u16), now: Instant) -> bool {
        let double = self.last_click.is_some_and(|c| c.cell == cell && now.duration_since(c.when) <= DOUBLE_CLICK);
        self.last_click = (!double).then_some(Click { when: now, cell });
        double
    }

    /// `0` or a double click: the data set's own bounds; whether the view changed.
    pub(super) fn reset_view(&mut self) -> bool {
        let home = self.config.source.bounds();
        let changed = self.samples.bounds() != home;
        self.samples.set_bounds(home);
        changed
    }

    /// The view differs from the data set's bounds.
    pub fn zoomed(&self) -> bool {
        self.samples.bounds() != self.config.source.bounds()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::keys::Action;
    use crate::config::Config;

    fn close(a: Bounds, b: Bounds) -> bool {
        a.x.iter().chain(&a.y).zip(b.x.iter().chain(&b.y)).all(|(p, q)| (p - q).abs() < 1e-12)
    }

    #[test]
    fn zooming_keeps_the_point_under_the_pointer_and_in_then_out_is_where_it_began() {
        let b = Bounds { x: [-2.0, 2.0], y: [-1.0, 1.0] };
        let z = scaled_about(b, [1.0, 0.5], 0.5);
        assert_eq!(z, Bounds { x: [-0.5, 1.5], y: [-0.25, 0.75] });
        assert!(close(scaled_about(z, [1.0, 0.5], 2.0), b));
        assert_eq!(moved(b, [0.5, -1.0]), Bounds { x: [-1.5, 2.5], y: [-2.0, 0.0] });
    }

    #[test]
    fn wheel_drag_and_double_click_move_the_view_and_0_brings_it_home() {
        let mut app = App::new(Config::default());
        let (home, t) = (app.samples().bounds(), Instant::now());
        assert!(app.view_pointer(ViewPointer::Wheel { closer: true, at: [0.0, 0.0] }, t));
        let z = app.samples().bounds();
        assert!((z.x[1] - z.x[0]) < (home.x[1] - home.x[0]) && app.zoomed());
        // Grab (0.5, 0.5) and move the pointer to where (0.0, 0.5) is: the view moves right by 0.5.
        assert!(!app.view_pointer(ViewPointer::Press { at: [0.5, 0.5], cell: (10, 5) }, t));
        assert!(app.view_pointer(ViewPointer::Drag { at: [0.0, 0.5] }, t));
        assert!(close(app.samples().bounds(), moved(z, [0.5, 0.0])));
        app.view_pointer(ViewPointer::Release, t);
        assert!(!app.view_pointer(ViewPointer::Drag { at: [9.0, 9.0] }, t), "released: no pan");
        // A double click on one cell goes home; two presses far apart in time do not.
        let later = t + Duration::from_secs(2);
        app.view_pointer(ViewPointer::Press { at: [0.0, 0.0], cell: (3, 3) }, later);
        assert!(app.view_pointer(ViewPointer::Press { at: [0.0, 0.0], cell: (3, 3) }, later + DOUBLE_CLICK / 2));
        assert_eq!(app.samples().bounds(), home);
        app.view_pointer(ViewPointer::Wheel { closer: false, at: [0.0, 0.0] }, later);
        assert!(app.zoomed());
        app.update(Action::ResetView);
        assert_eq!(app.samples().bounds(), home);
    }

    #[test]
    fn the_view_stops_at_its_limits() {
        let mut app = App::new(Config::default());
        let t = Instant::now();
        let ins =
            (0..100).take_while(|_| app.view_pointer(ViewPointer::Wheel { closer: true, at: [0.5, 0.0] }, t)).count();
        assert_eq!(ins, 18, "1.25¹⁸ ≈ 56 < 64 < 1.25¹⁹");
        app.update(Action::ResetView);
        let outs =
            (0..100).take_while(|_| app.view_pointer(ViewPointer::Wheel { closer: false, at: [0.5, 0.0] }, t)).count();
        assert_eq!(outs, 9, "1.25⁹ ≈ 7.5 < 8 < 1.25¹⁰");
    }

    #[test]
    fn particles_outside_a_zoomed_view_come_back_when_it_widens() {
        let mut app = App::new(Config::default());
        app.samples.set_particles(&[[0.0, 0.0], [2.0, 1.0]]);
        let t = Instant::now();
        for _ in 0..4 {
            app.view_pointer(ViewPointer::Wheel { closer: true, at: [0.0, 0.0] }, t);
        }
        assert_eq!((app.samples().particles().len(), app.samples().escaped()), (1, 1));
        app.update(Action::ResetView);
        assert_eq!((app.samples().particles().len(), app.samples().escaped()), (2, 0));
    }
}
