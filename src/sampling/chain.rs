//! The sampler the particles follow, bound to its parameters and advanced in pieces of any
//! size: `--once` runs it in blocks (for its progress bar and Ctrl-C), the dashboard a few
//! steps a frame, or one step or one level at a time, with the same bits as one run (each
//! particle chunk's noise stream simply continues).
//!
//! - [`Chain::Single`]: the course's chain on the single-σ model, x ← x + (η/2)·s(x) + √η·z;
//! - [`Chain::AtSigma`]: that chain on the noise-conditional model read at one σ (the
//!   single-σ side of `--compare`);
//! - [`Chain::Annealed`]: annealed Langevin over the noise levels ([`AnnealedSampler`]);
//! - [`Chain::Diffusion`]: reverse diffusion or the probability-flow ODE down a grid of σ
//!   ([`DiffusionSampler`]), `--once` only for now.
//!
//! Every step is x ← x + α·s(x, σ) + √(2α)·z: the single chains have α = η/2 at a fixed σ,
//! the annealed one αᵢ = c·σᵢ² at level i, and its last step is the noise-free x + σ_L²·s.
//!
//! **Step-through readout** ([`Chain::readout`]; Song & Ermon 2019 use this ratio to choose
//! αᵢ ∝ σᵢ²): for the next step, the mean score norm over the particles where they are, and
//! the signal-to-noise ratio, the mean length of the step's drift over that of its noise:
//!
//! SNR = α·mean‖s‖ / (√(2α)·E‖z‖) = √(α/2)·mean‖s‖ / E‖z‖,   E‖z‖ = √(π/2) ≈ 1.2533.
//!
//! E‖z‖ is the expectation for z ~ N(0, I₂) (‖z‖ is Rayleigh-distributed), not the z drawn:
//! the figure then describes the particles and the step, not one draw's luck. (√2 is
//! √E‖z‖², the root-mean-square length, not the mean.) On a Gaussian of variance σ² with its
//! exact score, mean‖s‖ → E‖x‖/σ² = √(π/2)/σ, so SNR = √(c/2) at every level: scaling αᵢ
//! with σᵢ² keeps the ratio of drift to noise the same all the way down.

use crate::config::{Config, Mode, Sampler};
use crate::nn::Mlp;
use crate::sampling::diffusion::{DiffusionSampler, Step};
use crate::sampling::langevin::ConditionalScore;
pub use crate::sampling::langevin::MEAN_NOISE_NORM;
use crate::sampling::langevin::{AnnealedPosition, AnnealedSampler, AtLevel, Particles};

/// √(α/2)·mean‖s‖ / E‖z‖: see the module's documentation.
pub fn signal_to_noise(alpha: f64, mean_score: f64) -> f64 {
    (alpha / 2.0).sqrt() * mean_score / MEAN_NOISE_NORM
}

pub enum Chain {
    /// The course's chain on a single-σ model (trained at `sigma`), for `limit` steps or
    /// without end.
    Single {
        eta: f64,
        sigma: f64,
        limit: Option<u64>,
    },
    /// The course's chain on a noise-conditional model read at `sigma`.
    AtSigma {
        eta: f64,
        sigma: f64,
        limit: Option<u64>,
    },
    Annealed(AnnealedSampler),
    Diffusion(DiffusionSampler),
}

/// The step a chain takes next: x ← x + α·s(x, σ) + √(2α)·z, without the noise term when
/// `noise` is false (the denoising step).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NextStep {
    pub sigma: f64,
    pub alpha: f64,
    pub noise: bool,
}

/// Where a [`Chain::Diffusion`] is: steps down the grid (the denoising step the last) and
/// network evaluations, each taken and in all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GridProgress {
    pub steps_taken: usize,
    pub steps: usize,
    pub evaluations_spent: usize,
    pub evaluations: usize,
}

/// The next step's figures over the particles where they are (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Readout {
    /// Mean ‖s(x, σ)‖ over the particles with a finite score; `None` if none has one.
    pub mean_score: Option<f64>,
    /// `None` for a step without noise, or without a mean score.
    pub signal_to_noise: Option<f64>,
}

impl Chain {
    /// `--once`'s chain for `config.mode`: `--steps` steps of the course's chain, or the
    /// whole annealed schedule.
    pub fn for_run(config: &Config) -> Self {
        match config.mode {
            Mode::Single => Chain::Single { eta: config.eta, sigma: config.sigma, limit: Some(config.steps as u64) },
            Mode::Annealed => Chain::of_sampler(config, config.sampler, config.nfe),
        }
    }

    /// `sampler` on `config`'s noise-conditional model, with a budget of `nfe` evaluations
    /// (annealed Langevin's is `config`'s levels and steps).
    fn of_sampler(config: &Config, sampler: Sampler, nfe: usize) -> Self {
        let diffusion = |step| Chain::Diffusion(DiffusionSampler::new(step, &config.levels, nfe));
        match sampler {
            Sampler::Annealed => Chain::annealed(config),
            Sampler::ReverseDiffusion => diffusion(Step::ReverseDiffusion),
            Sampler::OdeEuler => diffusion(Step::OdeEuler),
            Sampler::OdeHeun => diffusion(Step::OdeHeun),
            Sampler::Pc => diffusion(Step::PredictorCorrector { snr: config.snr }),
        }
    }

    /// The dashboard's chain: the course's chain without end, or in annealed mode `sampler`
    /// (the `s` key's), at `config`'s budget when it is `config`'s sampler and at its own
    /// default otherwise.
    pub fn for_dashboard(config: &Config, sampler: Sampler) -> Self {
        match config.mode {
            Mode::Single => Chain::Single { eta: config.eta, sigma: config.sigma, limit: None },
            Mode::Annealed => {
                let nfe = if sampler == config.sampler { config.nfe } else { sampler.default_nfe() };
                Chain::of_sampler(config, sampler, nfe)
            }
        }
    }

    pub fn annealed(config: &Config) -> Self {
        Chain::Annealed(AnnealedSampler::new(config.levels.clone(), config.level_steps, config.step_scale))
    }

    /// Network evaluations of the whole chain (a Langevin step is one, Heun's and PC's two);
    /// `None` for a chain without end.
    pub fn evaluations(&self) -> Option<usize> {
        match self {
            Chain::Single { limit, .. } | Chain::AtSigma { limit, .. } => limit.map(|l| l as usize),
            Chain::Annealed(sampler) => Some(sampler.levels.len() * sampler.steps_per_level + 1),
            Chain::Diffusion(sampler) => Some(sampler.evaluations()),
        }
    }

    /// Steps left, counting the denoising step; `None` for a chain without end.
    pub fn remaining(&self, particles: &Particles) -> Option<u64> {
        match self {
            Chain::Single { limit, .. } | Chain::AtSigma { limit, .. } => {
                limit.map(|l| l.saturating_sub(particles.steps_taken()))
            }
            Chain::Annealed(sampler) => Some(sampler.remaining() as u64),
            Chain::Diffusion(sampler) => Some(sampler.remaining() as u64),
        }
    }

    pub fn is_done(&self, particles: &Particles) -> bool {
        self.remaining(particles) == Some(0)
    }

    /// Up to `steps` steps under `model`, stopping at the chain's end.
    pub fn advance(&mut self, particles: &mut Particles, model: &Mlp<f32>, steps: usize) {
        let steps = self.remaining(particles).map_or(steps, |left| steps.min(left as usize));
        match self {
            Chain::Single { eta, .. } => particles.langevin(model, *eta as f32, steps),
            Chain::AtSigma { eta, sigma, .. } => {
                let field = AtLevel { field: &ConditionalScore { model }, sigma: *sigma as f32 };
                particles.langevin(&field, *eta as f32, steps);
            }
            Chain::Annealed(sampler) => sampler.advance(particles, &ConditionalScore { model }, steps),
            Chain::Diffusion(sampler) => sampler.advance(particles, &ConditionalScore { model }, steps),
        }
    }

    /// The next `chunks` chunks' part of the next step, unless the chain has ended (see
    /// [`Particles::drift_diffuse_part`]): the same update per particle as [`Chain::advance`].
    pub fn advance_part(&mut self, particles: &mut Particles, model: &Mlp<f32>, chunks: usize) {
        if self.is_done(particles) {
            return;
        }
        match self {
            Chain::Single { eta, .. } => {
                particles.langevin_part(model, *eta as f32, chunks);
            }
            Chain::AtSigma { eta, sigma, .. } => {
                let field = AtLevel { field: &ConditionalScore { model }, sigma: *sigma as f32 };
                particles.langevin_part(&field, *eta as f32, chunks);
            }
            Chain::Annealed(sampler) => sampler.advance_part(particles, &ConditionalScore { model }, chunks),
            Chain::Diffusion(sampler) => sampler.advance_part(particles, &ConditionalScore { model }, chunks),
        }
    }

    /// To the end of the current level (or the denoising step, when it is next); a chain
    /// without levels takes `steps_without_levels` steps.
    pub fn advance_level(&mut self, particles: &mut Particles, model: &Mlp<f32>, steps_without_levels: usize) {
        match self {
            Chain::Annealed(sampler) => sampler.advance_level(particles, &ConditionalScore { model }),
            _ => self.advance(particles, model, steps_without_levels),
        }
    }

    /// The step taken next (after the end: the last one taken).
    pub fn next_step(&self) -> NextStep {
        match self {
            Chain::Single { eta, sigma, .. } | Chain::AtSigma { eta, sigma, .. } => {
                NextStep { sigma: *sigma, alpha: eta / 2.0, noise: true }
            }
            Chain::Annealed(sampler) if sampler.position.level == sampler.levels.len() || sampler.is_done() => {
                let sigma = sampler.levels.smallest();
                NextStep { sigma, alpha: sigma * sigma, noise: false }
            }
            Chain::Annealed(sampler) => NextStep { sigma: sampler.sigma(), alpha: sampler.alpha(), noise: true },
            // α is the drift's factor; the noise's is √α for reverse diffusion (not √(2α)).
            Chain::Diffusion(sampler) => {
                let (drift, diffusion) = sampler.factors();
                NextStep { sigma: sampler.sigma(), alpha: drift, noise: diffusion > 0.0 }
            }
        }
    }

    /// The chain's parameters in a few words, for a panel's title: "σ 0.1 · η 0.01" or
    /// "σ 1→0.01 ×10 · c 0.1".
    pub fn summary(&self) -> String {
        match self {
            Chain::Single { eta, sigma, .. } | Chain::AtSigma { eta, sigma, .. } => format!("σ {sigma} · η {eta}"),
            Chain::Annealed(s) => {
                format!("σ {}→{} ×{} · c {}", s.levels.max, s.levels.min, s.levels.len(), s.step_scale)
            }
            Chain::Diffusion(s) => {
                let name = match s.step {
                    Step::ReverseDiffusion => "reverse diffusion".to_string(),
                    Step::OdeEuler => "ODE Euler".to_string(),
                    Step::OdeHeun => "ODE Heun".to_string(),
                    Step::PredictorCorrector { snr } => format!("PC r {snr}"),
                };
                let (max, min) = (s.grid[0], s.grid[s.grid.len() - 1]);
                format!("{name} · σ {max}→{min} · {} NFE", s.evaluations())
            }
        }
    }

    /// Where an annealed chain is in its schedule.
    pub fn position(&self) -> Option<AnnealedPosition> {
        match self {
            Chain::Annealed(sampler) => Some(sampler.position),
            _ => None,
        }
    }

    /// The chain follows the probability-flow ODE (Euler or Heun): its particles carry a
    /// density the likelihood can follow.
    pub fn is_ode(&self) -> bool {
        matches!(self, Chain::Diffusion(s) if matches!(s.step, Step::OdeEuler | Step::OdeHeun))
    }

    /// Where a reverse-diffusion or ODE chain is down its grid.
    pub fn progress(&self) -> Option<GridProgress> {
        match self {
            Chain::Diffusion(sampler) => Some(GridProgress {
                steps_taken: sampler.taken,
                steps: sampler.grid.len(),
                evaluations_spent: sampler.evaluations_spent(),
                evaluations: sampler.evaluations(),
            }),
            _ => None,
        }
    }

    /// The next step's mean score norm and signal-to-noise ratio, the score read under
    /// `model` where the particles are now.
    pub fn readout(&self, particles: &Particles, model: &Mlp<f32>) -> Readout {
        let step = self.next_step();
        let mean_score = match self {
            Chain::Single { .. } => particles.mean_score_norm(model),
            Chain::AtSigma { .. } | Chain::Annealed(_) | Chain::Diffusion(_) => {
                particles.mean_score_norm(&AtLevel { field: &ConditionalScore { model }, sigma: step.sigma as f32 })
            }
        };
        let signal_to_noise = mean_score.filter(|_| step.noise).map(|m| match self {
            // Drift α·m over noise √α·E‖z‖.
            Chain::Diffusion(_) => step.alpha.sqrt() * m / MEAN_NOISE_NORM,
            _ => signal_to_noise(step.alpha, m),
        });
        Readout { mean_score, signal_to_noise }
    }

    /// The course's chain's step size η (not the annealed chain's: its steps follow c).
    pub fn set_eta(&mut self, new: f64) {
        if let Chain::Single { eta, .. } | Chain::AtSigma { eta, .. } = self {
            *eta = new;
        }
    }

    /// c in the annealed chain's αᵢ = c·σᵢ², from its next step on.
    pub fn set_step_scale(&mut self, c: f64) {
        if let Chain::Annealed(sampler) = self {
            sampler.step_scale = c;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mean_noise_norm_is_that_of_a_rayleigh_variable() {
        assert!((MEAN_NOISE_NORM - (std::f64::consts::PI / 2.0).sqrt()).abs() < 1e-15);
        assert!((signal_to_noise(0.02, 10.0) - 0.1 * 10.0 / MEAN_NOISE_NORM).abs() < 1e-12);
    }

    #[test]
    fn the_annealed_chain_ends_with_a_noise_free_step_at_the_smallest_sigma() {
        let config = Config { mode: Mode::Annealed, level_steps: 2, ..Config::default() };
        let Chain::Annealed(mut sampler) = Chain::annealed(&config) else { unreachable!() };
        sampler.position = AnnealedPosition { level: config.levels.len(), step: 0, denoised: false };
        let chain = Chain::Annealed(sampler);
        assert_eq!(chain.next_step(), NextStep { sigma: 0.01, alpha: 1e-4, noise: false });
        let first = Chain::annealed(&config).next_step();
        assert_eq!(first, NextStep { sigma: 1.0, alpha: 0.1, noise: true });
    }

    /// The course's chains step by α = η/2 with noise; the panel titles read their parameters.
    #[test]
    fn the_single_chains_step_by_half_eta_and_name_their_parameters() {
        for chain in [
            Chain::Single { eta: 0.02, sigma: 0.1, limit: None },
            Chain::AtSigma { eta: 0.02, sigma: 0.1, limit: Some(5) },
        ] {
            assert_eq!(chain.next_step(), NextStep { sigma: 0.1, alpha: 0.01, noise: true });
            assert_eq!(chain.summary(), "σ 0.1 · η 0.02");
        }
        let config = Config {
            mode: Mode::Annealed,
            levels: crate::noise_levels::NoiseLevels::geometric(1.0, 0.01, 10),
            step_scale: 0.1,
            ..Config::default()
        };
        assert_eq!(Chain::annealed(&config).summary(), "σ 1→0.01 ×10 · c 0.1");
    }

    /// The dashboard's keys: η reaches the course's chains only, c the annealed one only.
    #[test]
    fn eta_and_step_scale_reach_their_own_chains() {
        let mut single = Chain::Single { eta: 0.02, sigma: 0.1, limit: None };
        single.set_eta(0.5);
        single.set_step_scale(3.0);
        assert_eq!(single.next_step(), NextStep { sigma: 0.1, alpha: 0.25, noise: true });
        let config = Config { mode: Mode::Annealed, ..Config::default() };
        let mut annealed = Chain::annealed(&config);
        annealed.set_eta(0.5);
        annealed.set_step_scale(0.2);
        // At σ₁ = 1: α = c·σ₁² = 0.2.
        assert_eq!(annealed.next_step(), NextStep { sigma: 1.0, alpha: 0.2, noise: true });
    }
}
