//! Draw mode (`e`): the user's own data set, sprayed with the mouse over the samples panel.
//!
//! The dashboard hands over each mouse event as the plane region under the pointer (one
//! cell of the panel, [`Region`]), so nothing here knows the screen. A stroke is a press, the
//! drags that follow and the release: drawing sprays points uniformly over the brush's disc
//! around the pointer (a few per event, more the longer the button is held still), erasing
//! removes the points inside it. Each stroke can be undone, the last first.

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use std::time::{Duration, Instant};

/// Fewest points a drawing may train on: enough for the 80/20 split to leave a shape in
/// each part, and for a score to be learned from more than a handful of dots.
pub const MIN_DRAWN_POINTS: usize = 50;
/// Most points a drawing holds: a minute of spraying, far more than a shape needs.
pub const MAX_DRAWN_POINTS: usize = 20_000;
/// The brushes `+` and `-` step through: the disc's radius in cells around the pointer's.
pub const BRUSH_RADII: [u32; 4] = [0, 1, 2, 4];
/// Points a drawing event sprays per cell of the brush's width.
const POINTS_PER_EVENT_PER_CELL: usize = 3;
/// Points a second a button held still keeps spraying.
const HOLD_RATE: f64 = 40.0;
/// Strokes that can be undone.
const UNDO_DEPTH: usize = 100;

/// A rectangle of the plane: the part of the panel one cell shows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Region {
    /// Lower-left corner.
    pub min: [f64; 2],
    /// Width and height.
    pub size: [f64; 2],
}

impl Region {
    fn centre(&self) -> [f64; 2] {
        [self.min[0] + self.size[0] / 2.0, self.min[1] + self.size[1] / 2.0]
    }
}

/// What a stroke does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stroke {
    Draw,
    Erase,
}

/// A mouse event, as draw mode sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pointer {
    /// A button went down over `Region`: a stroke starts.
    Press(Stroke, Region),
    /// The pointer moved with a button down.
    Drag(Region),
    /// The button came up (anywhere).
    Release,
}

/// The stroke in progress.
#[derive(Clone, Copy, Debug)]
struct Held {
    stroke: Stroke,
    at: Region,
    /// When the held button last sprayed.
    since: Instant,
}

#[derive(Clone, Debug)]
pub struct Drawing {
    points: Vec<[f32; 2]>,
    /// The points as they were before each stroke, the latest last.
    undo: Vec<Vec<[f32; 2]>>,
    brush: usize,
    held: Option<Held>,
    rng: Xoshiro256PlusPlus,
}

impl Drawing {
    /// An empty canvas; `seed` makes its jitter reproducible.
    pub fn new(seed: u64) -> Self {
        Self {
            points: Vec::new(),
            undo: Vec::new(),
            brush: 1,
            held: None,
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
        }
    }

    pub fn points(&self) -> &[[f32; 2]] {
        &self.points
    }

    /// The brush's radius in cells (0: the pointer's cell alone).
    pub fn brush_radius(&self) -> u32 {
        BRUSH_RADII[self.brush]
    }

    /// The brush as the status names it: its width in cells.
    pub fn brush_label(&self) -> String {
        let width = 2 * self.brush_radius() + 1;
        format!("{width}×{width}")
    }

    /// `+` (`larger`) or `-`: the next brush, if there is one.
    pub fn resize_brush(&mut self, larger: bool) -> bool {
        let next = if larger { self.brush + 1 } else { self.brush.wrapping_sub(1) };
        let changed = next < BRUSH_RADII.len();
        if changed {
            self.brush = next;
        }
        changed
    }

    /// Takes in a mouse event at `now`; whether the points changed.
    pub fn pointer(&mut self, event: Pointer, now: Instant) -> bool {
        match event {
            Pointer::Press(stroke, at) => {
                self.undo.push(self.points.clone());
                if self.undo.len() > UNDO_DEPTH {
                    self.undo.remove(0);
                }
                self.held = Some(Held { stroke, at, since: now });
                self.apply(stroke, at, self.points_per_event())
            }
            Pointer::Drag(at) => {
                let Some(held) = self.held.as_mut() else { return false };
                held.at = at;
                held.since = now;
                let stroke = held.stroke;
                self.apply(stroke, at, self.points_per_event())
            }
            Pointer::Release => {
                self.held = None;
                false
            }
        }
    }

    /// Keeps a button held still spraying, [`HOLD_RATE`] points a second; whether the points
    /// changed.
    pub fn tick(&mut self, now: Instant) -> bool {
        let Some(held) = self.held.as_mut() else { return false };
        if held.stroke != Stroke::Draw {
            return false;
        }
        let due = (now.saturating_duration_since(held.since).as_secs_f64() * HOLD_RATE) as usize;
        if due == 0 {
            return false;
        }
        held.since += Duration::from_secs_f64(due as f64 / HOLD_RATE);
        let at = held.at;
        self.apply(Stroke::Draw, at, due)
    }

    /// Whether a button is down: the dashboard keeps its frames coming to show the spray.
    pub fn stroke_in_progress(&self) -> bool {
        self.held.is_some()
    }

    /// `u`: back to before the last stroke; `false` if there is none.
    pub fn undo(&mut self) -> bool {
        let Some(before) = self.undo.pop() else { return false };
        self.points = before;
        self.held = None;
        true
    }

    /// `x`: no points (an undoable stroke of its own); `false` if there were none.
    pub fn clear(&mut self) -> bool {
        if self.points.is_empty() {
            return false;
        }
        self.undo.push(std::mem::take(&mut self.points));
        self.held = None;
        true
    }

    fn points_per_event(&self) -> usize {
        POINTS_PER_EVENT_PER_CELL * (2 * self.brush_radius() as usize + 1)
    }

    /// Sprays `count` points over the brush's disc at `at`, or erases the points inside it.
    fn apply(&mut self, stroke: Stroke, at: Region, count: usize) -> bool {
        let [cx, cy] = at.centre();
        // The disc's semi-axes: half a cell more than the radius, so radius 0 fills one cell.
        let reach = f64::from(self.brush_radius()) + 0.5;
        let (rx, ry) = (reach * at.size[0], reach * at.size[1]);
        let inside = |x: f64, y: f64| ((x - cx) / rx).powi(2) + ((y - cy) / ry).powi(2) <= 1.0;
        match stroke {
            Stroke::Erase => {
                let before = self.points.len();
                self.points.retain(|p| !inside(f64::from(p[0]), f64::from(p[1])));
                self.points.len() != before
            }
            Stroke::Draw => {
                let room = MAX_DRAWN_POINTS - self.points.len();
                for _ in 0..count.min(room) {
                    // Uniform over the disc: a uniform angle, and a radius whose square is uniform.
                    let (angle, r) =
                        (self.rng.random::<f64>() * std::f64::consts::TAU, self.rng.random::<f64>().sqrt());
                    let p = [cx + rx * r * angle.cos(), cy + ry * r * angle.sin()];
                    self.points.push([p[0] as f32, p[1] as f32]);
                }
                room > 0 && count > 0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cell of 0.1 × 0.2 with its lower-left corner at (x, y).
    fn cell(x: f64, y: f64) -> Region {
        Region { min: [x, y], size: [0.1, 0.2] }
    }

    #[test]
    fn a_stroke_sprays_inside_the_brush_and_undo_takes_it_back() {
        let (mut drawing, t) = (Drawing::new(1), Instant::now());
        assert_eq!(drawing.brush_radius(), 1);
        assert!(drawing.pointer(Pointer::Press(Stroke::Draw, cell(0.0, 0.0)), t));
        assert!(drawing.pointer(Pointer::Drag(cell(1.0, 0.0)), t));
        assert!(!drawing.pointer(Pointer::Release, t));
        let per_event = POINTS_PER_EVENT_PER_CELL * 3;
        assert_eq!(drawing.points().len(), 2 * per_event);
        // Each point within 1.5 cells of its event's centre (the disc's semi-axes).
        let (first, second) = drawing.points().split_at(per_event);
        for (points, cx) in [(first, 0.05), (second, 1.05)] {
            for p in points {
                let (dx, dy) = ((f64::from(p[0]) - cx) / 0.15, (f64::from(p[1]) - 0.1) / 0.3);
                assert!(dx * dx + dy * dy <= 1.0 + 1e-6, "{p:?} outside the brush at {cx}");
            }
        }
        assert!(drawing.undo());
        assert!(drawing.points().is_empty());
        assert!(!drawing.undo(), "nothing left to undo");
    }

    #[test]
    fn a_drag_without_a_press_does_nothing() {
        let mut drawing = Drawing::new(1);
        assert!(!drawing.pointer(Pointer::Drag(cell(0.0, 0.0)), Instant::now()));
        assert!(drawing.points().is_empty());
    }

    #[test]
    fn erasing_removes_the_points_under_the_brush_only() {
        let (mut drawing, t) = (Drawing::new(2), Instant::now());
        drawing.pointer(Pointer::Press(Stroke::Draw, cell(0.0, 0.0)), t);
        drawing.pointer(Pointer::Drag(cell(2.0, 0.0)), t);
        drawing.pointer(Pointer::Release, t);
        let all = drawing.points().len();
        assert!(drawing.pointer(Pointer::Press(Stroke::Erase, cell(0.0, 0.0)), t));
        drawing.pointer(Pointer::Release, t);
        assert_eq!(drawing.points().len(), all / 2, "the points near x = 2 stay");
        assert!(drawing.points().iter().all(|p| p[0] > 1.5));
        assert!(drawing.undo());
        assert_eq!(drawing.points().len(), all, "undo brings the erased points back");
    }

    #[test]
    fn a_held_button_keeps_spraying_at_its_rate() {
        let (mut drawing, t) = (Drawing::new(3), Instant::now());
        drawing.pointer(Pointer::Press(Stroke::Draw, cell(0.0, 0.0)), t);
        let pressed = drawing.points().len();
        assert!(!drawing.tick(t + Duration::from_millis(10)), "less than one point's worth");
        assert!(drawing.tick(t + Duration::from_millis(500)));
        assert_eq!(drawing.points().len(), pressed + 20, "40 a second for half a second");
        assert!(drawing.tick(t + Duration::from_millis(1000)));
        assert_eq!(drawing.points().len(), pressed + 40);
        drawing.pointer(Pointer::Release, t);
        assert!(!drawing.tick(t + Duration::from_secs(5)), "released: no more");
    }

    #[test]
    fn clear_is_undoable_and_brushes_step_within_their_range() {
        let (mut drawing, t) = (Drawing::new(4), Instant::now());
        assert!(!drawing.clear(), "nothing to clear");
        drawing.pointer(Pointer::Press(Stroke::Draw, cell(0.0, 0.0)), t);
        let n = drawing.points().len();
        assert!(drawing.clear());
        assert!(drawing.points().is_empty());
        assert!(drawing.undo());
        assert_eq!(drawing.points().len(), n);
        assert!(drawing.resize_brush(false));
        assert_eq!(drawing.brush_label(), "1×1");
        assert!(!drawing.resize_brush(false), "the smallest brush");
        while drawing.resize_brush(true) {}
        assert_eq!(drawing.brush_label(), "9×9");
    }

    #[test]
    fn a_drawing_stops_at_its_cap() {
        let (mut drawing, t) = (Drawing::new(5), Instant::now());
        drawing.pointer(Pointer::Press(Stroke::Draw, cell(0.0, 0.0)), t);
        drawing.tick(t + Duration::from_secs(3600));
        assert_eq!(drawing.points().len(), MAX_DRAWN_POINTS);
        assert!(!drawing.tick(t + Duration::from_secs(7200)), "full: nothing changes");
    }
}
