//! The particles' sample-quality [`Figures`] as the dashboard shows them, one definition for
//! the status line, the compare view's titles and the floor beside them:
//!
//! - a **reading** is the energy distance to the test split of the finite particles, evenly
//!   strided down to at most [`FIGURE_PARTICLES`] (O(n²) distances, so the stride keeps a
//!   reading near 60 ms at any count); up to that count it is every particle, the figure
//!   `--once` prints;
//! - on a chain without end under fixed weights and η the particles are stationary, and one
//!   reading of 5000 still wanders ±18% (0.00189 … 0.00268 on the default run), so the figure
//!   shown is the mean of the last [`AVERAGED`] readings taken since any of those changed
//!   ([`Steady`]); a chain with an end (annealed, the comparison's sides) changes distribution
//!   every step, so its figure is the latest reading alone;
//! - the **floor** is the same reading of a fresh draw of the data ([`floor`]).
//!
//! Readings are taken at most every [`FIGURES_EVERY`].

use std::collections::VecDeque;
use std::time::Duration;

use ndarray::ArrayView2;

use crate::eval::metrics::{Point, distance_to_lower_arc, distance_to_upper_arc, energy_distance};
use crate::sampling::langevin::Particles;
use crate::trainer::protocol::Figures;

/// Time between readings of the live figures.
pub const FIGURES_EVERY: Duration = Duration::from_secs(1);
/// At most this many particles in a reading: the dashboard's default count, so that by
/// default a reading is over every particle.
pub const FIGURE_PARTICLES: usize = 5000;
/// Readings averaged on a stationary chain: five 5000-particle readings keep the figure within
/// ±15% from one second to the next on a fixed model (tests/steady_figures.rs), and a change
/// shows in full within five seconds.
pub const AVERAGED: usize = 5;

/// Keeps every `stride`-th of `len` points so that at most [`FIGURE_PARTICLES`] remain.
fn stride(len: usize) -> usize {
    len.div_ceil(FIGURE_PARTICLES).max(1)
}

/// One reading of `particles` against `test`, and, for the moons, the upper-moon share of all
/// finite particles.
pub fn reading(particles: &Particles, test: &[Point], moons: bool) -> Figures {
    let stride = stride(particles.len());
    let mut subsample = Vec::with_capacity(particles.len().min(FIGURE_PARTICLES));
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

/// The reading of `fresh`, a fresh draw of the data ([`crate::trainer::Session::fresh_data`]):
/// what a perfect sampler would score. Up to [`FIGURE_PARTICLES`] points it is the floor
/// `--once` prints.
pub fn floor(fresh: ArrayView2<f32>, test: &[Point]) -> f64 {
    let points: Vec<Point> =
        fresh.rows().into_iter().step_by(stride(fresh.nrows())).map(|r| [f64::from(r[0]), f64::from(r[1])]).collect();
    energy_distance(&points, test)
}

/// What a stationary chain's readings must share to be averaged: the weights (training
/// step), the particles' draw, and the step size.
pub type SteadyKey = (u64, u64, u64);

/// The last readings of a stationary chain, averaged.
#[derive(Debug, Default)]
pub struct Steady {
    key: Option<SteadyKey>,
    readings: VecDeque<Figures>,
}

impl Steady {
    /// Takes in `reading`; `key` is `None` for a chain with an end (nothing is averaged).
    /// Returns the figures to show: the mean of the last [`AVERAGED`] readings under `key`,
    /// with the latest reading's step count.
    pub fn show(&mut self, reading: Figures, key: Option<SteadyKey>) -> Figures {
        if key.is_none() || key != self.key {
            self.readings.clear();
        }
        self.key = key;
        if self.readings.len() == AVERAGED {
            self.readings.pop_front();
        }
        self.readings.push_back(reading);
        let n = self.readings.len() as f64;
        let energy_distance = self.readings.iter().map(|f| f.energy_distance).sum::<f64>() / n;
        let shares: Option<Vec<f64>> = self.readings.iter().map(|f| f.upper_moon_share).collect();
        Figures {
            energy_distance,
            upper_moon_share: shares.map(|s| s.iter().sum::<f64>() / n),
            langevin_steps: reading.langevin_steps,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(energy_distance: f64, steps: u64) -> Figures {
        Figures { energy_distance, upper_moon_share: Some(energy_distance), langevin_steps: steps }
    }

    #[test]
    fn a_stationary_chain_shows_the_mean_of_its_last_readings_and_starts_again_on_a_change() {
        let mut steady = Steady::default();
        let key = Some((10, 0, 7));
        assert_eq!(steady.show(figures(1.0, 1), key), figures(1.0, 1));
        assert_eq!(steady.show(figures(3.0, 2), key), figures(2.0, 2));
        for steps in 3..=AVERAGED as u64 + 1 {
            steady.show(figures(3.0, steps), key);
        }
        assert_eq!(steady.show(figures(3.0, 9), key), figures(3.0, 9), "the first reading has left the window");
        assert_eq!(steady.show(figures(5.0, 10), Some((11, 0, 7))), figures(5.0, 10), "new weights");
        assert_eq!(steady.show(figures(1.0, 11), None), figures(1.0, 11), "a chain with an end");
        assert_eq!(steady.show(figures(3.0, 12), None), figures(3.0, 12));
    }
}
