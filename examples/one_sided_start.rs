//! Annealed against single-σ Langevin on the trained noise-conditional model, from particles
//! that all start on the left: 5000 on x ∈ [−1, 0], y ∈ [−1, 1], for seeds 0–4 of
//! `--mode annealed`'s defaults. The README quotes its output.
//!
//! `cargo run --release --example one_sided_start`

use dsm_tui::config::{Config, Mode};
use dsm_tui::eval::metrics::{Shape, quality};
use dsm_tui::sampling::langevin::ConditionalScore;
use dsm_tui::sampling::langevin::{AnnealedSampler, AtLevel, Particles};
use dsm_tui::trainer::session::Session;
use ndarray::Array2;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

fn main() {
    for seed in 0..5u64 {
        let config = Config { mode: Mode::Annealed, seed, ..Config::default() }.with_annealed_training();
        let mut session = Session::new(&config);
        while !session.is_finished() {
            session.train_step().expect("the default run does not diverge");
        }
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(100 + seed);
        let start = Array2::from_shape_fn((config.particles, 2), |(_, d)| {
            if d == 0 { rng.random_range(-1.0f32..0.0) } else { rng.random_range(-1.0f32..1.0) }
        });
        let field = ConditionalScore { model: session.model() };
        let mut annealed = Particles::from_positions(start.view(), seed, 0);
        AnnealedSampler::new(config.levels.clone(), config.level_steps, config.step_scale).run(&mut annealed, &field);
        let mut single = Particles::from_positions(start.view(), seed, 0);
        single.langevin(&AtLevel { field: &field, sigma: config.sigma as f32 }, config.eta as f32, config.steps);
        let test = session.data().test();
        let [a, s] = [&annealed, &single].map(|p| quality(p.positions().view(), test, Shape::Moons));
        println!(
            "seed {seed}: annealed upper-moon share {:.3}, energy distance {:.5} | single-σ {:.3}, {:.5}",
            a.upper_moon_share.expect("moons"),
            a.energy_distance,
            s.upper_moon_share.expect("moons"),
            s.energy_distance
        );
    }
}
