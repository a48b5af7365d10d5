//! The validated configuration of a run: what to train, how, and how to sample. Built once
//! from the command line by `cli`, then trusted everywhere else.

use std::fmt;

use serde::Serialize;

use crate::data::{Builtin, Dataset, Source};
use crate::nn::{Activation, Precision};
use crate::noise_levels::NoiseLevels;
use crate::objective::Objective;
use crate::seeds::{Stream, stream_rng};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Config {
    /// Where the points come from: a built-in set or the user's file.
    pub source: Source,
    /// Points in the data set (80% train, 20% test); for a file, the points loaded.
    pub count: usize,
    /// Standard deviation of the Gaussian noise on a built-in set's clean shape.
    pub noise: f64,
    pub batch_size: usize,
    pub epochs: usize,
    /// Adam's learning rate in the first epoch.
    pub lr: f64,
    /// Per-epoch learning-rate decay factor.
    pub lr_gamma: f64,
    /// Width H of each hidden layer.
    pub hidden: usize,
    /// Number of hidden layers.
    pub depth: usize,
    pub activation: Activation,
    pub objective: Objective,
    /// DSM noise level σ (also the noise of the Fisher divergence readout's target).
    pub sigma: f64,
    /// Langevin particles.
    pub particles: usize,
    /// Langevin steps of the headless run.
    pub steps: usize,
    /// Langevin step size η.
    pub eta: f64,
    /// The course's single-σ model and sampler, or the noise-conditional one with annealing.
    pub mode: Mode,
    /// Annealed mode: the noise levels σ₁ > … > σ_L.
    pub levels: NoiseLevels,
    /// The levels were chosen from the data ([`Config::with_levels_from_data`]), not given
    /// with `--sigmas`: a new run on other data chooses them again.
    pub levels_from_data: bool,
    /// Annealed mode: Langevin steps T at each level.
    pub level_steps: usize,
    /// Annealed mode: c in the step size αᵢ = c·σᵢ².
    pub step_scale: f64,
    /// Annealed mode: the sampler of the noise-conditional model.
    pub sampler: Sampler,
    /// Reverse diffusion and the ODE: network evaluations (`sampling::diffusion`).
    pub nfe: usize,
    /// Predictor–corrector: the corrector's signal-to-noise ratio r.
    pub snr: f64,
    /// `--once` in annealed mode: also measure the test split's log-likelihood through the
    /// probability-flow ODE, with this many network evaluations per point (`eval::likelihood`).
    pub likelihood: Option<usize>,
    /// The arithmetic of sampling's H → H products (`--sample-precision`); training is f32.
    pub sample_precision: Precision,
    pub seed: u64,
}

impl Default for Config {
    /// The configuration measured to work with the reference notebook
    /// (`shared/reference/README.md`); it meets the course's constraints
    /// (epochs > 50, lr > 1e-3, width > 32, 0.01 < σ < 1).
    fn default() -> Self {
        Self {
            source: Source::Builtin(Builtin::Moons),
            count: 5000,
            noise: 0.1,
            batch_size: 64,
            epochs: 100,
            lr: 1e-2,
            lr_gamma: 0.95,
            hidden: 128,
            depth: 2,
            activation: Activation::Silu,
            objective: Objective::Dsm,
            sigma: 0.1,
            particles: 5000,
            steps: 1000,
            eta: 1e-2,
            mode: Mode::Single,
            levels: NoiseLevels::default(),
            levels_from_data: false,
            level_steps: 100,
            step_scale: 0.1,
            sampler: Sampler::Annealed,
            nfe: Sampler::Annealed.default_nfe(),
            snr: 0.16,
            likelihood: None,
            sample_precision: Precision::F32,
            seed: 0,
        }
    }
}

impl Config {
    /// The default configuration on another built-in set, with that set's noise and σ.
    pub fn for_builtin(builtin: Builtin) -> Self {
        Self {
            source: Source::Builtin(builtin),
            noise: builtin.default_noise(),
            sigma: builtin.default_sigma(),
            ..Self::default()
        }
    }

    /// The noise-conditional model's training defaults, which `--mode annealed` starts from.
    /// One network covers ten noise levels, and with the course's 2×128 net trained for 100
    /// epochs 6–8% of the annealed samples ended farther than 0.3 from both moons (the
    /// learned score at σ ≤ 0.13 is too smooth: with the exact score it is 0.2%). Four
    /// hidden layers of 64 and eight times the epochs with a slower decay cut that to
    /// 0.1–0.4%, as few as a perfect sampler leaves, and the energy distance to 20,000
    /// fresh points beyond a perfect sampler's from 3.1e-4 (three layers, 400 epochs) to
    /// 1.1e-4 (seeds 0–19, docs/annealed.md). A step of the 4×64 net costs less than one
    /// of the course's 2×128, so sampling stays within the course chain's time; training
    /// takes ~4 s.
    pub fn with_annealed_training(self) -> Self {
        Self { hidden: 64, depth: 4, epochs: 800, lr_gamma: 0.9925, ..self }
    }

    /// The run's data set: generated (or the file's points shuffled) from its seed, as the
    /// session that trains on it draws it.
    pub fn dataset(&self) -> Dataset {
        self.source.dataset(self.count, self.noise, &mut stream_rng(self.seed, Stream::Data))
    }

    /// This configuration with its noise levels chosen from its training split
    /// ([`NoiseLevels::from_data`]), as runs without `--sigmas` have them.
    pub fn with_levels_from_data(self) -> Self {
        let levels = NoiseLevels::from_data(self.dataset().train());
        Self { levels, levels_from_data: true, ..self }
    }

    pub fn train_len(&self) -> usize {
        crate::data::train_len(self.count)
    }

    /// Training steps per epoch: the last batch of an epoch may be short (no point dropped).
    pub fn steps_per_epoch(&self) -> usize {
        self.train_len().div_ceil(self.batch_size)
    }

    pub fn total_steps(&self) -> u64 {
        (self.steps_per_epoch() * self.epochs) as u64
    }
}

/// Which score model and sampler a run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The course's: one σ, s(x) ≈ ∇log q_σ, Langevin x ← x + (η/2)s + √η·z
    Single,
    /// Noise-conditional s(x, σ) over a schedule of σ, annealed Langevin (Song & Ermon 2019)
    Annealed,
}

/// How annealed mode samples its noise-conditional model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sampler {
    /// Annealed Langevin: --level-steps steps at each of the --sigmas levels (Song & Ermon 2019)
    Annealed,
    /// The reverse SDE's ancestral step down EDM's ρ = 7 grid of --nfe σ (Song et al. 2021)
    ReverseDiffusion,
    /// The probability-flow ODE dx/dσ = −σ·s(x, σ), Euler steps down the same grid
    OdeEuler,
    /// The same ODE, Heun's steps (two evaluations each; Karras et al. 2022)
    OdeHeun,
    /// Predictor–corrector: a Langevin corrector step of signal-to-noise ratio --snr, then
    /// reverse diffusion (two evaluations a step; Song et al. 2021)
    Pc,
}

impl Sampler {
    /// The sampler after this one in `--sampler`'s list, the last followed by the first: the
    /// dashboard's `s`.
    pub fn next(self) -> Self {
        let all = <Sampler as clap::ValueEnum>::value_variants();
        let at = all.iter().position(|&s| s == self).unwrap_or(0);
        all[(at + 1) % all.len()]
    }

    /// The compare view's left side after `side` (`None`: single-σ): single-σ, then every
    /// sampler in `--sampler`'s order, then single-σ again (the dashboard's `b`).
    pub fn next_beside(side: Option<Sampler>) -> Option<Sampler> {
        let first = <Sampler as clap::ValueEnum>::value_variants()[0];
        match side {
            None => Some(first),
            Some(s) if s.next() == first => None,
            Some(s) => Some(s.next()),
        }
    }

    /// The name the dashboard shows.
    pub fn title(self) -> &'static str {
        match self {
            Sampler::Annealed => "annealed Langevin",
            Sampler::ReverseDiffusion => "reverse diffusion",
            Sampler::Pc => "predictor–corrector",
            Sampler::OdeEuler => "ODE, Euler",
            Sampler::OdeHeun => "ODE, Heun",
        }
    }

    /// The budget `--nfe` defaults to: from `scripts/sampler_sweep.py` on seeds 0–4
    /// (`docs/samplers.md`), where each sampler reaches the quality it keeps at ten times
    /// the budget. Annealed Langevin's is its levels × `--level-steps` + 1, not this.
    pub fn default_nfe(self) -> usize {
        match self {
            Sampler::ReverseDiffusion | Sampler::Pc | Sampler::OdeEuler => 200,
            Sampler::OdeHeun => 50,
            Sampler::Annealed => 1000,
        }
    }
}

/// A flag whose value is outside its accepted range.
#[derive(Debug, Clone, PartialEq)]
pub struct InputError {
    pub flag: String,
    pub value: String,
    pub accepted: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid value '{}' for {}: accepted {}", self.value, self.flag, self.accepted)
    }
}

impl std::error::Error for InputError {}
