//! The scatter panel's points as they arrive from the trainer: the run's data and the
//! particles inside the data set's fixed bounds, with those outside counted, not kept; and
//! the data's shading for the grid of cells it is drawn on, binned when the data or the grid
//! changes rather than at every frame.

use crate::app::density::{Density, Grid};
use crate::data::Bounds;

fn contains(bounds: &Bounds, p: [f32; 2]) -> bool {
    let (x, y) = (f64::from(p[0]), f64::from(p[1]));
    (bounds.x[0]..=bounds.x[1]).contains(&x) && (bounds.y[0]..=bounds.y[1]).contains(&y)
}

/// The points of the scatter as they arrive from the trainer, sorted for drawing.
#[derive(Clone, Debug, PartialEq)]
pub struct Samples {
    data: Vec<[f32; 2]>,
    bounds: Bounds,
    particles: Vec<[f32; 2]>,
    escaped: usize,
    nonfinite: usize,
    /// The data counted per cell of the grid last asked for ([`Samples::shade_data`]).
    data_shading: Option<Density>,
}

impl Samples {
    /// No points yet, in the fixed `bounds` of the data set (see [`Source::bounds`]).
    ///
    /// [`Source::bounds`]: crate::data::Source::bounds
    pub fn new(bounds: Bounds) -> Self {
        Self { data: Vec::new(), bounds, particles: Vec::new(), escaped: 0, nonfinite: 0, data_shading: None }
    }

    /// The training data that is drawn.
    pub fn data(&self) -> &[[f32; 2]] {
        &self.data
    }

    /// A run's training data.
    pub fn set_data(&mut self, data: Vec<[f32; 2]>) {
        self.data = data;
        self.data_shading = None;
    }

    /// Counts the data per bin of `grid` (the plot's cells) unless it already is: the
    /// dashboard calls this before each draw with the grid of the panel on screen.
    pub fn shade_data(&mut self, grid: Grid) {
        if self.data_shading.as_ref().is_none_or(|d| d.grid != grid) {
            self.data_shading = Some(Density::count(&self.data, grid));
        }
    }

    /// The data counted per bin of `grid`, if [`Samples::shade_data`] was last asked for it.
    pub fn data_shading(&self, grid: Grid) -> Option<&Density> {
        self.data_shading.as_ref().filter(|d| d.grid == grid)
    }

    /// Keeps the particles inside the bounds and counts the others.
    pub fn set_particles(&mut self, all: &[[f32; 2]]) {
        self.particles.clear();
        self.escaped = 0;
        self.nonfinite = 0;
        for &p in all {
            if !(p[0].is_finite() && p[1].is_finite()) {
                self.nonfinite += 1;
            } else if contains(&self.bounds, p) {
                self.particles.push(p);
            } else {
                self.escaped += 1;
            }
        }
    }

    /// The plane region shown (before it is widened to square dots).
    pub fn bounds(&self) -> Bounds {
        self.bounds
    }

    /// The particles that are drawn.
    pub fn particles(&self) -> &[[f32; 2]] {
        &self.particles
    }

    pub fn escaped(&self) -> usize {
        self.escaped
    }

    pub fn nonfinite(&self) -> usize {
        self.nonfinite
    }
}
