//! The scatter panel's points as they arrive from the trainer: the run's data and the
//! particles, those inside the bounds shown (the data set's, or a zoomed view of them) kept
//! for drawing and the others counted; and the data's shading for the grid of cells it is
//! drawn on, binned when the data or the grid changes rather than at every frame.

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
    /// Every finite particle, so that a zoom out shows those it had counted as escaped.
    finite: Vec<[f32; 2]>,
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
        let (finite, particles) = (Vec::new(), Vec::new());
        Self { data: Vec::new(), bounds, finite, particles, escaped: 0, nonfinite: 0, data_shading: None }
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
        self.finite.clear();
        self.finite.extend(all.iter().filter(|p| p[0].is_finite() && p[1].is_finite()));
        self.nonfinite = all.len() - self.finite.len();
        self.select_particles();
    }

    /// Shows `bounds` instead (a zoom or a pan): the particles are chosen again, and the data
    /// is shaded again for the next grid.
    pub fn set_bounds(&mut self, bounds: Bounds) {
        self.bounds = bounds;
        self.select_particles();
    }

    fn select_particles(&mut self) {
        self.particles.clear();
        self.particles.extend(self.finite.iter().filter(|&&p| contains(&self.bounds, p)));
        self.escaped = self.finite.len() - self.particles.len();
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
