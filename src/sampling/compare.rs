//! Single-σ against annealed Langevin on one noise-conditional model, from the same starting
//! particles with the same noise streams. `--once --compare` and the dashboard's `c` both
//! build their two samplers here, so for the same weights and seed they show the same
//! figures.

use crate::config::Config;
use crate::sampling::chain::Chain;
use crate::sampling::langevin::Particles;

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
/// σ = `--sigma`) and the annealed side (`--sigmas`, `--level-steps`, `--step-scale`), both
/// from the first U[−1, 1]² draw of `config.seed`, which is where `--once`'s own chain
/// starts too.
pub fn sides(config: &Config) -> [Side; 2] {
    let start = || Particles::uniform(config.particles, config.seed, 0);
    let single = Chain::AtSigma { eta: config.eta, sigma: config.sigma, limit: Some(config.steps as u64) };
    [
        Side { name: SINGLE, chain: single, particles: start() },
        Side { name: ANNEALED, chain: Chain::annealed(config), particles: start() },
    ]
}
