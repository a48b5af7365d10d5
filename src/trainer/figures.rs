//! The particles' sample-quality [`Figures`] as the dashboard measures them live: the
//! energy distance on an evenly strided subsample (O(n·test) distances, so a subsample keeps
//! it at a few milliseconds), refreshed at most every [`FIGURES_EVERY`].

use std::time::Duration;

use crate::eval::metrics::{Point, distance_to_lower_arc, distance_to_upper_arc, energy_distance};
use crate::sampling::langevin::Particles;
use crate::trainer::protocol::Figures;

/// Time between refreshes of the live figures.
pub const FIGURES_EVERY: Duration = Duration::from_secs(1);
/// Particles the live energy distance uses.
pub const FIGURE_PARTICLES: usize = 1000;

/// Energy distance of an evenly strided subsample of the finite particles to `test`, and, for
/// the moons, the upper-moon share of all finite particles.
pub fn live(particles: &Particles, test: &[Point], moons: bool) -> Figures {
    let stride = particles.len().div_ceil(FIGURE_PARTICLES).max(1);
    let mut subsample = Vec::with_capacity(FIGURE_PARTICLES);
    let (mut index, mut finite, mut upper) = (0usize, 0usize, 0usize);
    particles.for_each(|x, y| {
        let p = [f64::from(x), f64::from(y)];
        if p[0].is_finite() && p[1].is_finite() {
            finite += 1;
            upper += usize::from(moons && distance_to_upper_arc(p) < distance_to_lower_arc(p));
            if index % stride == 0 {
                subsample.push(p);
            }
        }
        index += 1;
    });
    Figures {
        energy_distance: energy_distance(&subsample, test),
        upper_moon_share: (moons && finite > 0).then(|| upper as f64 / finite as f64),
        langevin_steps: particles.steps_taken(),
    }
}
