//! Two samplers side by side on one noise-conditional model, each from its start
//! (`sampling::start`) on the same particle streams: single-σ against annealed Langevin
//! ([`sides`]), or any two of them and the score-SDE samplers ([`sides_for`], the dashboard's
//! `c` with `b` and `s`). `--once --compare` and the dashboard's `c`
//! both build their two samplers here, so for the same weights and seed they show the same
//! figures.

use crate::config::{Config, Sampler};
use crate::sampling::chain::Chain;
use crate::sampling::langevin::Particles;
use crate::sampling::start::Start;

/// The sides' names, as tables and panels show them.
pub const SINGLE: &str = "single-σ";
pub const ANNEALED: &str = "annealed";

/// One sampler of the comparison and its particles.
pub struct Side {
    /// [`SINGLE`], [`ANNEALED`] or the other sampler's title.
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
        Side {
            name: SINGLE,
            chain: single,
            particles: Start::Uniform.particles(config.particles, config.seed, 0).in_precision(config.sample_precision),
        },
        Side {
            name: ANNEALED,
            chain: Chain::annealed(config),
            particles: annealed_start.particles(config.particles, config.seed, 0).in_precision(config.sample_precision),
        },
    ]
}

/// The comparison the dashboard's `c` shows: on the left `beside` (`b`; `None`: the
/// course's single-σ chain from U[−1, 1]², as [`sides`]), on the right `sampler` (`s`), each
/// of the noise-conditional model's samplers at its dashboard budget
/// ([`Chain::for_dashboard`]) from the prior `annealed_start`, all on the same streams.
pub fn sides_for(config: &Config, annealed_start: Start, beside: Option<Sampler>, sampler: Sampler) -> [Side; 2] {
    let side = |sampler: Sampler| Side {
        name: if sampler == Sampler::Annealed { ANNEALED } else { sampler.title() },
        chain: Chain::for_dashboard(config, sampler),
        particles: annealed_start.particles(config.particles, config.seed, 0).in_precision(config.sample_precision),
    };
    let [single, _] = sides(config, annealed_start);
    [beside.map_or(single, side), side(sampler)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Mode;

    /// By default single-σ against annealed Langevin, as `--once --compare`; any two samplers
    /// otherwise, the noise-conditional ones from the prior on the same streams.
    #[test]
    fn the_sides_are_the_samplers_chosen() {
        let config = Config { mode: Mode::Annealed, particles: 300, ..Config::default() }.with_levels_from_data();
        let start = Start::Prior { centre: [0.5, 0.25], sigma: 3.0 };
        let names = |sides: &[Side; 2]| sides.each_ref().map(|s| s.name);
        assert_eq!(names(&sides_for(&config, start, None, Sampler::Annealed)), [SINGLE, ANNEALED]);
        assert_eq!(names(&sides_for(&config, start, None, Sampler::Pc)), [SINGLE, "predictor–corrector"]);
        let [euler, pc] = sides_for(&config, start, Some(Sampler::OdeEuler), Sampler::Pc);
        assert_eq!([euler.name, pc.name], ["ODE, Euler", "predictor–corrector"]);
        let [annealed, heun] = sides_for(&config, start, Some(Sampler::Annealed), Sampler::OdeHeun);
        assert_eq!([annealed.name, heun.name], [ANNEALED, "ODE, Heun"]);
        assert!(matches!(annealed.chain, Chain::Annealed(_)));
        assert!(matches!(&heun.chain, Chain::Diffusion(s) if s.evaluations() == 49), "Heun's default budget");
        assert_eq!(annealed.particles.positions(), heun.particles.positions(), "the same start");
    }
}
