//! A step taken in parts, a few chunks of particles at a time (the dashboard's frames at
//! 100 000 particles), is the same step: the particles are the same bits as after whole steps,
//! whatever the sizes of the parts, mixed with whole steps, on any chain.

use dsm_tui::config::{Config, Mode};
use dsm_tui::noise_levels::NoiseLevels;
use dsm_tui::sampling::chain::Chain;
use dsm_tui::sampling::langevin::Particles;
use dsm_tui::trainer::Session;

/// 1000 particles: three full chunks and a short one.
fn config(mode: Mode) -> Config {
    Config { particles: 1000, mode, levels: NoiseLevels::geometric(1.0, 0.1, 2), level_steps: 3, ..Config::default() }
}

fn bits(particles: &Particles) -> Vec<u32> {
    particles.positions().iter().map(|v| v.to_bits()).collect()
}

fn parts_match_whole_steps(mode: Mode) {
    let config = config(mode);
    let session = Session::new(&config);
    let model = session.model();
    let steps = 8; // annealed: both levels (2 × 3) and the denoising step, then the end
    let mut whole = Particles::uniform(config.particles, config.seed, 0);
    let mut whole_chain = Chain::for_dashboard(&config, config.sampler);
    whole_chain.advance(&mut whole, model, steps);

    let mut parts = Particles::uniform(config.particles, config.seed, 0);
    let mut chain = Chain::for_dashboard(&config, config.sampler);
    let sizes = [1, 3, 2, 4, 1];
    for (i, &chunks) in sizes.iter().cycle().enumerate() {
        if parts.steps_taken() >= 6 {
            break;
        }
        chain.advance_part(&mut parts, model, chunks);
        if i == 4 {
            // A whole step with a part of one pending completes the pending one first.
            chain.advance(&mut parts, model, 1);
        }
    }
    let left = steps - parts.steps_taken() as usize;
    chain.advance(&mut parts, model, left);
    assert_eq!(parts.steps_taken(), whole.steps_taken());
    assert_eq!(chain.is_done(&parts), whole_chain.is_done(&whole));
    assert!(bits(&parts) == bits(&whole), "{mode:?}: parts of steps moved the particles differently");
}

#[test]
fn parts_of_steps_are_the_whole_steps_on_the_single_chain() {
    parts_match_whole_steps(Mode::Single);
}

#[test]
fn parts_of_steps_are_the_whole_steps_on_the_annealed_schedule() {
    parts_match_whole_steps(Mode::Annealed);
}

#[test]
fn a_step_counts_once_every_chunk_has_taken_it() {
    let config = config(Mode::Single);
    let session = Session::new(&config);
    let mut particles = Particles::uniform(config.particles, config.seed, 0);
    let mut chain = Chain::for_dashboard(&config, config.sampler);
    assert_eq!(particles.chunk_count(), 4);
    chain.advance_part(&mut particles, session.model(), 3);
    assert_eq!((particles.steps_taken(), particles.chunk_steps()), (0, 3));
    chain.advance_part(&mut particles, session.model(), 3);
    assert_eq!((particles.steps_taken(), particles.chunk_steps()), (1, 4), "the part stops at the step's end");
}
