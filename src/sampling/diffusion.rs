//! Samplers of the score-SDE family on the noise-conditional model (Song et al. 2021), for
//! the variance-exploding process whose marginals are the data blurred by N(0, σ² I), stepped
//! down a grid of σ from σ_max to σ_min and ended, as annealed Langevin is, with Tweedie's
//! noise-free step x + σ_min²·s(x, σ_min):
//!
//! - **reverse diffusion** (the reverse SDE's ancestral step; `docs/theory.md` 4b derives it
//!   from the reversed Markov chain): x ← x + (σᵢ² − σᵢ₊₁²)·s(x, σᵢ) + √(σᵢ² − σᵢ₊₁²)·z;
//! - **probability-flow ODE, Euler**: dx/dσ = −σ·s(x, σ), one Euler step from σᵢ to σᵢ₊₁:
//!   x ← x + (σᵢ − σᵢ₊₁)·σᵢ·s(x, σᵢ), no noise: the same marginals, deterministically;
//! - **the ODE, Heun** (Karras et al. 2022): the Euler step to a trial point x′, then
//!   x ← x + (σᵢ₊₁ − σᵢ)·(d(x, σᵢ) + d(x′, σᵢ₊₁))/2 with d = −σ·s: second order, two
//!   evaluations a step;
//! - **predictor–corrector** (Song et al. 2021, Algorithms 2 and 4): at each σᵢ a Langevin
//!   corrector step whose size is set by the signal-to-noise ratio r (`--snr`,
//!   [`Particles::predict_correct`]), then the reverse-diffusion step: two evaluations a step.
//!
//! **The grid** is EDM's (Karras et al. 2022) with ρ = 7:
//! σᵢ = (σ_max^{1/ρ} + i/(N−1)·(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ, i = 0 … N−1, which spends its
//! steps where the score changes fastest, at small σ. **The budget** is in network
//! evaluations (`--nfe`): a grid of N points takes N − 1 steps of one evaluation each and the
//! denoising step, N in all; Heun's steps take two, so its grid has (N − 1)/2 + 1 points
//! (rounded down: an even budget leaves one evaluation unspent).
//!
//! Every step is x ← x + drift·s(x, σ) + diffusion·z ([`Particles::drift_diffuse`]), so the
//! particles' chunks and noise streams are those of the Langevin samplers: the same bits on
//! any number of threads.

use crate::noise_levels::NoiseLevels;
use crate::sampling::langevin::{AtLevel, ConditionalScoreField, Particles, PcStep, PlannedStep};

/// EDM's ρ: the grid's curvature (ρ = 1 is evenly spaced in σ, ρ → ∞ geometric).
pub const RHO: f64 = 7.0;

/// The fewest network evaluations a run may take: one step and the denoising step.
pub const MIN_NFE: usize = 2;

/// The fewest evaluations a run of two-evaluation steps (Heun, predictor–corrector) may
/// take: one step and the denoising step.
pub const MIN_TWO_EVALUATION_NFE: usize = 3;

/// Which step [`DiffusionSampler`] takes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Step {
    ReverseDiffusion,
    OdeEuler,
    OdeHeun,
    /// Reverse diffusion after a Langevin corrector step of signal-to-noise ratio `snr`.
    PredictorCorrector {
        snr: f64,
    },
}

impl Step {
    /// Network evaluations a step down the grid takes.
    pub fn evaluations(self) -> usize {
        match self {
            Step::ReverseDiffusion | Step::OdeEuler => 1,
            Step::OdeHeun | Step::PredictorCorrector { .. } => 2,
        }
    }
}

/// `points` values of σ from `max` down to `min` on EDM's ρ = 7 grid (the ends exact).
pub fn edm_grid(max: f64, min: f64, points: usize) -> Vec<f64> {
    let (a, b) = (max.powf(1.0 / RHO), min.powf(1.0 / RHO));
    (0..points)
        .map(|i| match i {
            0 => max,
            i if i + 1 == points => min,
            i => (a + i as f64 / (points - 1) as f64 * (b - a)).powf(RHO),
        })
        .collect()
}

/// A reverse-diffusion or probability-flow run down the grid, advanced in pieces of any size.
#[derive(Clone, Debug, PartialEq)]
pub struct DiffusionSampler {
    pub step: Step,
    /// σ₀ = σ_max > … > σ_{N−1} = σ_min.
    pub grid: Vec<f64>,
    /// Steps taken, the denoising step included: N when done.
    pub taken: usize,
}

impl DiffusionSampler {
    /// A run of at most `nfe` network evaluations (at least one step and the denoising
    /// step) between `levels`' ends.
    pub fn new(step: Step, levels: &NoiseLevels, nfe: usize) -> Self {
        let points = (nfe.saturating_sub(1) / step.evaluations()).max(1) + 1;
        Self { step, grid: edm_grid(levels.max, levels.min, points), taken: 0 }
    }

    /// Network evaluations of the whole run.
    pub fn evaluations(&self) -> usize {
        (self.grid.len() - 1) * self.step.evaluations() + 1
    }

    /// Network evaluations of the steps taken so far.
    pub fn evaluations_spent(&self) -> usize {
        let down = self.taken.min(self.grid.len() - 1);
        down * self.step.evaluations() + usize::from(self.is_done())
    }

    pub fn remaining(&self) -> usize {
        self.grid.len() - self.taken
    }

    pub fn is_done(&self) -> bool {
        self.remaining() == 0
    }

    /// σ of the next step's evaluation.
    pub fn sigma(&self) -> f64 {
        self.grid[self.taken.min(self.grid.len() - 1)]
    }

    /// The next step's drift and diffusion factors in x ← x + drift·s(x, σ) + diffusion·z.
    pub fn factors(&self) -> (f64, f64) {
        self.factors_at(self.taken.min(self.grid.len() - 1))
    }

    /// Those factors for the step after `taken` steps.
    fn factors_at(&self, taken: usize) -> (f64, f64) {
        let sigma = self.grid[taken];
        match self.grid.get(taken + 1) {
            // The last step: Tweedie's denoiser.
            None => (sigma * sigma, 0.0),
            Some(&next) => match self.step {
                Step::ReverseDiffusion | Step::PredictorCorrector { .. } => {
                    let gap = sigma * sigma - next * next;
                    (gap, gap.sqrt())
                }
                Step::OdeEuler | Step::OdeHeun => ((sigma - next) * sigma, 0.0),
            },
        }
    }

    /// The step after `taken` steps, for a sampler whose particles move each on its own (all
    /// but predictor–corrector, whose corrector averages over every particle).
    fn planned(&self, taken: usize) -> PlannedStep {
        let sigma = self.grid[taken];
        match (self.step, self.grid.get(taken + 1)) {
            (Step::OdeHeun, Some(&next)) => PlannedStep::Heun { from: sigma as f32, to: next as f32 },
            _ => {
                let (drift, diffusion) = self.factors_at(taken);
                PlannedStep::DriftDiffuse { sigma: sigma as f32, drift: drift as f32, diffusion: diffusion as f32 }
            }
        }
    }

    /// Up to `steps` steps under `field`, stopping at the end. Without a corrector the whole
    /// stretch is one plan that each chunk follows with one set of buffers
    /// ([`Particles::follow`]); with one, a plan the chunks take a pass at a time, on one set
    /// of buffers per thread ([`Particles::predict_correct`]): no allocation per step.
    pub fn advance(&mut self, particles: &mut Particles, field: &impl ConditionalScoreField, steps: usize) {
        let steps = steps.min(self.remaining());
        if let Step::PredictorCorrector { snr } = self.step {
            let plan: Vec<PcStep> = (self.taken..self.taken + steps)
                .map(|taken| {
                    let (drift, diffusion) = self.factors_at(taken);
                    PcStep {
                        sigma: self.grid[taken] as f32,
                        // The denoising step has no corrector.
                        snr: (taken + 1 < self.grid.len()).then_some(snr),
                        drift: drift as f32,
                        diffusion: diffusion as f32,
                    }
                })
                .collect();
            particles.predict_correct(field, &plan);
            self.taken += steps;
            return;
        }
        let plan: Vec<PlannedStep> = (self.taken..self.taken + steps).map(|taken| self.planned(taken)).collect();
        particles.follow(field, &plan);
        self.taken += steps;
    }

    /// The next `chunks` chunks' part of the next step (see [`Particles::drift_diffuse_part`]);
    /// a Heun or predictor–corrector step is taken whole.
    pub fn advance_part(&mut self, particles: &mut Particles, field: &impl ConditionalScoreField, chunks: usize) {
        if self.is_done() {
            return;
        }
        if self.step.evaluations() == 2 && self.taken + 1 < self.grid.len() {
            self.advance(particles, field, 1);
            return;
        }
        let (drift, diffusion) = self.factors();
        let at = AtLevel { field, sigma: self.sigma() as f32 };
        if particles.drift_diffuse_part(&at, drift as f32, diffusion as f32, chunks) {
            self.taken += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_runs_from_max_to_min_denser_at_small_sigma() {
        let grid = edm_grid(80.0, 0.002, 18);
        assert_eq!((grid[0], grid[17]), (80.0, 0.002));
        assert!(grid.windows(2).all(|w| w[0] > w[1]), "{grid:?}");
        let ratios: Vec<f64> = grid.windows(2).map(|w| w[1] / w[0]).collect();
        assert!(ratios.windows(2).all(|r| r[1] < r[0]), "each step a larger fraction of σ: {ratios:?}");
        // EDM's own example (their Table 1 ends, ρ = 7): the middle point of 3.
        let middle = edm_grid(80.0, 0.002, 3)[1];
        let want = ((80f64.powf(1.0 / 7.0) + 0.002f64.powf(1.0 / 7.0)) / 2.0).powi(7);
        assert!((middle - want).abs() < 1e-12 * want);
    }

    #[test]
    fn each_step_has_its_factors_and_the_last_denoises() {
        let levels = NoiseLevels::geometric(4.0, 0.01, 10);
        let mut rd = DiffusionSampler::new(Step::ReverseDiffusion, &levels, 3);
        let next = rd.grid[1];
        assert_eq!(rd.factors(), (16.0 - next * next, (16.0 - next * next).sqrt()));
        rd.taken = 2;
        assert_eq!(rd.factors(), (1e-4, 0.0), "Tweedie: σ_min², no noise");
        let ode = DiffusionSampler::new(Step::OdeEuler, &levels, 3);
        assert_eq!(ode.factors(), ((4.0 - next) * 4.0, 0.0));
        assert_eq!(DiffusionSampler::new(Step::OdeEuler, &levels, 0).remaining(), MIN_NFE);
        // Heun: two evaluations a step, one for the denoising step.
        for (nfe, points, used) in [(3, 2, 3), (4, 2, 3), (5, 3, 5), (51, 26, 51), (1, 2, 3)] {
            let heun = DiffusionSampler::new(Step::OdeHeun, &levels, nfe);
            assert_eq!((heun.grid.len(), heun.evaluations()), (points, used), "budget {nfe}");
        }
        assert_eq!(DiffusionSampler::new(Step::ReverseDiffusion, &levels, 50).evaluations(), 50);
    }

    #[test]
    fn the_evaluations_spent_count_up_to_the_whole_budget() {
        let levels = NoiseLevels::geometric(4.0, 0.01, 10);
        let mut heun = DiffusionSampler::new(Step::OdeHeun, &levels, 7);
        let spent: Vec<usize> = (0..=heun.grid.len())
            .map(|taken| {
                heun.taken = taken;
                heun.evaluations_spent()
            })
            .collect();
        assert_eq!(spent, [0, 2, 4, 6, 7], "three Heun steps of two, then the denoising step");
        assert_eq!(heun.evaluations(), 7);
    }
}
