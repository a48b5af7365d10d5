//! The step-through figures against a closed form, and the chains run in pieces against one
//! run.

use dsm_tui::config::{Config, Mode};
use dsm_tui::nn::{Activation, Mlp, Precision};
use dsm_tui::noise_levels::NoiseLevels;
use dsm_tui::sampling::chain::{Chain, MEAN_NOISE_NORM, signal_to_noise};
use dsm_tui::sampling::langevin::{Particles, ScoreField};
use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand_distr::{Distribution, StandardNormal};

/// The exact score of N(0, σ²I): −x/σ².
struct Gaussian {
    sigma: f32,
}

impl ScoreField for Gaussian {
    type Scratch = ();
    fn scratch(&self, _rows: usize, _: Precision) {}
    fn score(&self, x: ArrayView2<f32>, out: &mut ArrayViewMut2<f32>, _: &mut ()) {
        let inverse_variance = 1.0 / (self.sigma * self.sigma);
        ndarray::Zip::from(out).and(x).for_each(|s, &x| *s = -x * inverse_variance);
    }
}

/// Particles drawn from N(0, σ²I) with the exact score: ‖s‖ = ‖x‖/σ², and ‖x‖/σ is
/// Rayleigh(1), so mean‖s‖ → √(π/2)/σ and, with α = c·σ², SNR → √(c/2) whatever σ is.
/// With 20,000 particles the mean's relative standard error is 0.52/√20000 = 0.37%: the 1.5%
/// bar is four of them.
#[test]
fn the_snr_of_an_exact_gaussian_score_is_root_c_over_2_at_every_level() {
    let c = 0.1;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(21);
    for sigma in [1.0f32, 0.3, 0.1, 0.01] {
        let start = Array2::from_shape_fn((20_000, 2), |_| {
            let z: f32 = StandardNormal.sample(&mut rng);
            sigma * z
        });
        let particles = Particles::from_positions(start.view(), 0, 0);
        let mean = particles.mean_score_norm(&Gaussian { sigma }).expect("finite scores");
        let expected = MEAN_NOISE_NORM / f64::from(sigma);
        assert!((mean / expected - 1.0).abs() < 0.015, "σ {sigma}: mean‖s‖ {mean:.4}, expected {expected:.4}");
        let alpha = c * f64::from(sigma).powi(2);
        let snr = signal_to_noise(alpha, mean);
        let expected = (c / 2.0f64).sqrt();
        assert!((snr / expected - 1.0).abs() < 0.015, "σ {sigma}: SNR {snr:.4}, expected √(c/2) = {expected:.4}");
    }
}

#[test]
fn particles_without_a_finite_score_are_left_out_of_the_mean() {
    let start = ndarray::array![[1.0f32, 0.0], [f32::NAN, 0.0], [0.0, f32::INFINITY]];
    let particles = Particles::from_positions(start.view(), 0, 0);
    assert_eq!(particles.mean_score_norm(&Gaussian { sigma: 1.0 }), Some(1.0));
    let lost = Particles::from_positions(ndarray::array![[f32::NAN, 0.0]].view(), 0, 0);
    assert_eq!(lost.mean_score_norm(&Gaussian { sigma: 1.0 }), None);
}

fn small_annealed() -> Config {
    Config { mode: Mode::Annealed, levels: NoiseLevels::geometric(1.0, 0.1, 3), level_steps: 7, ..Config::default() }
}

/// Whatever pieces a chain is advanced in (a step, a level, a frame's worth), it ends in
/// the same place, bit for bit, as one run.
#[test]
fn chains_stepped_in_pieces_match_one_run() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    let conditional = Mlp::init_conditional(16, 2, Activation::Silu, &mut rng);
    let single = Mlp::init(16, 2, Activation::Silu, &mut rng);
    let config = small_annealed();
    type NewChain = fn(&Config) -> Chain;
    let cases: [(&Mlp<f32>, NewChain); 3] = [
        (&conditional, Chain::annealed),
        (&conditional, |c| Chain::AtSigma { eta: c.eta, sigma: c.sigma, limit: Some(22) }),
        (&single, |c| Chain::Single { eta: c.eta, sigma: c.sigma, limit: Some(22) }),
    ];
    for (model, chain) in cases {
        let mut whole = Particles::uniform(300, 5, 0);
        let mut one_run = chain(&config);
        one_run.advance(&mut whole, model, 1000);
        assert!(one_run.is_done(&whole));
        assert_eq!(whole.steps_taken(), 22, "3 levels × 7 steps + the denoising step, or the limit");

        let mut stepped = Particles::uniform(300, 5, 0);
        let mut pieces = chain(&config);
        pieces.advance(&mut stepped, model, 1);
        assert_eq!(stepped.steps_taken(), 1);
        pieces.advance_level(&mut stepped, model, 7);
        assert_eq!(stepped.steps_taken(), 7 + u64::from(pieces.position().is_none()), "a level: to its end, or 7");
        while !pieces.is_done(&stepped) {
            pieces.advance(&mut stepped, model, 5);
        }
        assert_eq!(stepped.positions(), whole.positions(), "pieces give the same bits as one run");
    }
}

#[test]
fn the_next_step_says_sigma_and_alpha_through_the_schedule() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    let model = Mlp::init_conditional(16, 2, Activation::Silu, &mut rng);
    let config = small_annealed();
    let mut chain = Chain::annealed(&config);
    let mut particles = Particles::uniform(50, 1, 0);
    let mut seen = Vec::new();
    while !chain.is_done(&particles) {
        let step = chain.next_step();
        seen.push((step.sigma, step.alpha, step.noise));
        let readout = chain.readout(&particles, &model);
        let mean = readout.mean_score.expect("a fresh network's scores are finite");
        assert_eq!(readout.signal_to_noise.is_some(), step.noise, "no noise, no SNR");
        if step.noise {
            assert_eq!(readout.signal_to_noise, Some(signal_to_noise(step.alpha, mean)));
        }
        chain.advance_level(&mut particles, &model, 0);
    }
    let s2 = 0.1f64.sqrt();
    let expected = [(1.0, 0.1, true), (s2, 0.1 * s2 * s2, true), (0.1, 0.1 * 0.01, true), (0.1, 0.01, false)];
    assert_eq!(seen.len(), expected.len());
    for (got, want) in seen.iter().zip(expected) {
        assert!((got.0 - want.0).abs() < 1e-12 && (got.1 - want.1).abs() < 1e-12 && got.2 == want.2, "{got:?}");
    }
}
