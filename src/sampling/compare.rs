//! Single-σ against annealed Langevin on one noise-conditional model, each from its start
//! (`sampling::start`) on the same particle streams. `--once --compare` and the dashboard's `c` both
//! build their two samplers here, so for the same weights and seed they show the same
//! figures.

use crate::config::Config;
use crate::sampling::chain::Chain;
use crate::sampling::langevin::Particles;
use crate::sampling::start::Start;

/// The sides' names, as tables and panels show them.
pub const SINGLE: &str = "single-σ";
pub const ANNEALED: &str = "annealed";

/// One sampler of the comparison and its particles.
pub struct Side {
    /// [`SINGLE`] or [`ANNEALED`].
    pub name: &'static str,
    pub chain: Chain,
    pub particles: Particles,
}

/// The single-σ side (the course's chain, `--steps` steps of `--eta`, on the model read at
/// σ = `--sigma`, from U[−1, 1]²) and the annealed side (`--sigmas`, `--level-steps`,
/// `--step-scale`, from the prior `annealed_start`), both on the first particle streams of
/// `config.seed`, where `--once`'s own chain starts too.
pub fn sides(config: &Config, annealed_start: Start) -> [Side; 2] {
    let single = Chain::AtSigma { eta: config.eta, sigma: config.sigma, limit: Some(config.steps as u64) };
    [
        Side { name: SINGLE, chain: single, particles: Start::Uniform.particles(config.particles, config.seed, 0) },
        Side {
            name: ANNEALED,
            chain: Chain::annealed(config),
            particles: annealed_start.particles(config.particles, config.seed, 0),
        },
    ]
}
