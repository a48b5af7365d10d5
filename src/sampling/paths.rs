//! A few particles' paths through a whole chain, for the samples panel's paths view (`j`):
//! what the sampler does to each particle on its way, not only where the particles end.
//! The probability-flow ODE moves each along a smooth curve; reverse diffusion and Langevin
//! add noise at every step, and their paths are jagged.
//!
//! Annealed Langevin's paths are drawn level by level, a point at the end of each level:
//! at its first levels each step moves a particle by about √(2c)·σ₁ (1.5 on the moons), so
//! step by step a dozen paths cover the whole panel, and what they show is the walk inside
//! a level, not the annealing from one to the next.
//!
//! The particles are [`PATH_COUNT`] of their own, drawn from the chain's start on a stream
//! the shown particles never use ([`PATH_RESTART`]), and taken through a fresh copy of the
//! chain under the weights of the moment: they trace the sampler, not the particles on
//! screen (which may be halfway through it).

use crate::nn::Mlp;
use crate::sampling::chain::Chain;
use crate::sampling::start::Start;

/// Particles traced.
///
/// A dozen: reverse diffusion's and Langevin's jagged paths already cross one another
/// everywhere at that many (thirty filled the panel), and the ODE's curves read at a glance.
pub const PATH_COUNT: usize = 12;

/// The most points a path keeps: every step of a long chain would be more than a braille
/// panel can show.
pub const MOST_POINTS: usize = 400;

/// The particle streams of the traced particles: far from the numbers `r` gives the shown
/// ones (1, 2, …).
pub const PATH_RESTART: u64 = u64::MAX - 1;

/// Positions of [`PATH_COUNT`] particles from `start` (on `seed`'s streams) along `chain`
/// under `model`, to its end, or for `endless_steps` steps when it has none: per particle,
/// its start, then its position after every step (every k-th of a long chain, so at most
/// [`MOST_POINTS`]; annealed Langevin's after every level), the last step's always.
pub fn trace(mut chain: Chain, start: Start, seed: u64, model: &Mlp<f32>, endless_steps: usize) -> Vec<Vec<[f32; 2]>> {
    let mut particles = start.particles(PATH_COUNT, seed, PATH_RESTART);
    let steps = chain.remaining(&particles).map_or(endless_steps, |left| left as usize);
    let every = match &chain {
        Chain::Annealed(sampler) => sampler.steps_per_level,
        _ => steps.div_ceil(MOST_POINTS - 1),
    }
    .max(1);
    let mut paths: Vec<Vec<[f32; 2]>> = (0..PATH_COUNT).map(|_| Vec::with_capacity(steps / every + 2)).collect();
    let mut record = |particles: &crate::sampling::langevin::Particles| {
        let mut i = 0;
        particles.for_each(|x, y| {
            paths[i].push([x, y]);
            i += 1;
        });
    };
    record(&particles);
    let mut taken = 0;
    while taken < steps {
        let stride = every.min(steps - taken);
        chain.advance(&mut particles, model, stride);
        taken += stride;
        record(&particles);
    }
    paths
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::Xoshiro256PlusPlus;

    use super::*;
    use crate::config::{Config, Mode, Sampler};
    use crate::nn::Activation;

    fn model() -> Mlp<f32> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        Mlp::init_conditional(16, 2, Activation::Silu, &mut rng)
    }

    /// Each path starts where its particle is drawn and ends where the chain run on those
    /// particles in one go puts it, with at most MOST_POINTS points.
    #[test]
    fn a_path_runs_from_the_start_to_where_the_whole_chain_ends() {
        let config = Config { mode: Mode::Annealed, ..Config::default() }.with_levels_from_data();
        let model = model();
        for sampler in [Sampler::Annealed, Sampler::OdeHeun, Sampler::ReverseDiffusion] {
            let config = Config { sampler, nfe: sampler.default_nfe(), ..config.clone() };
            let start = Start::for_run(&config, config.dataset().train());
            let paths = trace(Chain::for_run(&config), start, 7, &model, 0);
            assert_eq!(paths.len(), PATH_COUNT);
            let mut whole = start.particles(PATH_COUNT, 7, PATH_RESTART);
            let first = whole.positions();
            let mut chain = Chain::for_run(&config);
            let steps = chain.remaining(&whole).unwrap() as usize;
            chain.advance(&mut whole, &model, steps);
            let last = whole.positions();
            for (i, path) in paths.iter().enumerate() {
                assert!(path.len() <= MOST_POINTS && path.len() >= 2, "{sampler:?}: {} points", path.len());
                if sampler == Sampler::Annealed {
                    assert_eq!(path.len(), 1 + config.levels.len() + 1, "the start, each level's end, denoised");
                }
                assert_eq!(path[0], [first[[i, 0]], first[[i, 1]]], "{sampler:?}");
                assert_eq!(*path.last().unwrap(), [last[[i, 0]], last[[i, 1]]], "{sampler:?}: the same bits");
            }
        }
    }
}
