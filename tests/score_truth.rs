//! The numerics against closed forms: DSM on Gaussian data learns the score of the noised
//! Gaussian, and Langevin with an exact Gaussian score reaches the chain's stationary law.

mod common;

use common::mean_var;
use dsm_tui::nn::{Activation, Adam, AdamConfig, Mlp, Precision, Workspace};
use dsm_tui::objective::dsm;
use dsm_tui::sampling::langevin::{Particles, ScoreField};
use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand_distr::{Distribution, StandardNormal};

/// Data N(μ, s²I) noised by σ has density N(μ, (s² + σ²)I), whose score is
/// −(x − μ)/(s² + σ²). A network trained by DSM must learn exactly that field. Getting the
/// sign of ε/σ wrong gives +(x − μ)/…, dividing by σ instead of σ² (or forgetting the data
/// variance) gives the wrong slope: each is an error of ≥ 60% here, far outside the bar.
#[test]
fn dsm_on_gaussian_data_learns_the_closed_form_score() {
    let (mu, s, sigma) = ([0.5f32, -0.3f32], 0.5f32, 0.4f32);
    let variance = s * s + sigma * sigma;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
    let model0 = Mlp::<f32>::init(64, 2, Activation::Silu, &mut rng);
    let mut model = model0.clone();
    let batch = 512;
    let mut ws = Workspace::new(&model, batch);
    let mut grads = model.zero_grads();
    let mut out_grad = Array2::zeros((batch, 2));
    let mut adam = Adam::new(AdamConfig { lr: 3e-3, ..AdamConfig::default() }, &model.layers);
    for step in 0..3000 {
        if step == 2000 {
            adam.config.lr = 1e-3;
        }
        let x = Array2::from_shape_fn((batch, 2), |(_, d)| {
            let z: f32 = StandardNormal.sample(&mut rng);
            mu[d] + s * z
        });
        let eps = Array2::from_shape_fn((batch, 2), |_| StandardNormal.sample(&mut rng));
        dsm::loss_and_grad(&model, x.view(), eps.view(), sigma, &mut ws, &mut out_grad.view_mut(), &mut grads);
        adam.step(&mut model.layers, &grads);
    }

    // Compare on a grid covering ±2 standard deviations of the noised density.
    let half_width = 2.0 * variance.sqrt();
    let grid: Vec<[f32; 2]> = (0..21)
        .flat_map(|i| (0..21).map(move |j| (i, j)))
        .map(|(i, j)| [mu[0] + half_width * (i as f32 / 10.0 - 1.0), mu[1] + half_width * (j as f32 / 10.0 - 1.0)])
        .collect();
    let x = Array2::from_shape_fn((grid.len(), 2), |(i, d)| grid[i][d]);
    let truth = Array2::from_shape_fn((grid.len(), 2), |(i, d)| -(grid[i][d] - mu[d]) / variance);
    let relative_error = |m: &Mlp<f32>| {
        let diff = &m.scores(x.view()) - &truth;
        (diff.mapv(|v| v * v).sum() / truth.mapv(|v| v * v).sum()).sqrt()
    };
    let before = relative_error(&model0);
    let after = relative_error(&model);
    assert!(after < 0.1, "relative L2 error of the learned score {after:.3} (untrained {before:.3}); bar 0.1");
}

struct Gaussian {
    mean: [f32; 2],
    variance: f32,
}

impl ScoreField for Gaussian {
    type Scratch = ();
    fn scratch(&self, _rows: usize, _: dsm_tui::nn::Precision) {}
    fn score(&self, x: ArrayView2<f32>, out: &mut ArrayViewMut2<f32>, _: &mut ()) {
        for (xi, mut oi) in x.rows().into_iter().zip(out.rows_mut()) {
            for d in 0..2 {
                oi[d] = -(xi[d] - self.mean[d]) / self.variance;
            }
        }
    }
}

/// With s(x) = −(x − μ)/v the chain x ← x + (η/2)s(x) + √η z is linear:
/// x − μ ← a(x − μ) + √η z with a = 1 − η/(2v). Its stationary law is N(μ, V) with
/// V = η/(1 − a²) = v/(1 − η/(4v)) exactly (v itself only as η → 0). After 2000 steps at
/// η = 0.01, v = 0.25, aᵗ ≈ e⁻⁴⁰: the U[−1,1]² start is forgotten.
/// Tolerances: 4 standard errors with N = 20 000 per coordinate (mean: √(V/N);
/// variance: V·√(2/N)).
#[test]
fn langevin_with_an_exact_gaussian_score_recovers_mean_and_variance() {
    let field = Gaussian { mean: [1.5, -0.5], variance: 0.25 };
    let eta = 0.01f32;
    let n = 20_000;
    let mut particles = Particles::uniform(n, 5, 0);
    particles.langevin(&field, eta, 2000);
    assert_eq!(particles.steps_taken(), 2000);

    let v = f64::from(field.variance);
    let stationary = v / (1.0 - f64::from(eta) / (4.0 * v));
    let positions = particles.positions();
    for d in 0..2 {
        let (mean, var) = mean_var(positions.column(d).iter().map(|&p| f64::from(p)));
        let mean_tol = 4.0 * (stationary / n as f64).sqrt();
        let var_tol = 4.0 * stationary * (2.0 / n as f64).sqrt();
        let mu = f64::from(field.mean[d]);
        assert!((mean - mu).abs() < mean_tol, "coordinate {d}: mean {mean:.4} vs {mu} ± {mean_tol:.4}");
        assert!(
            (var - stationary).abs() < var_tol,
            "coordinate {d}: variance {var:.4} vs stationary {stationary:.4} ± {var_tol:.4}"
        );
    }
}

/// `ConditionalScore` reads the network as s(x, σ) = net(x, log σ)/σ. A network whose last
/// layer has zero weights outputs its bias b at every input, so the score is b/σ exactly
/// (b and σ powers of two): (0.375, −0.75)/0.25 = (1.5, −3), and the same at every σ tried.
#[test]
fn conditional_score_is_the_network_output_over_sigma() {
    use dsm_tui::sampling::langevin::{ConditionalScore, ConditionalScoreField};
    let mut model = Mlp::<f32>::init_conditional(16, 2, Activation::Silu, &mut Xoshiro256PlusPlus::seed_from_u64(4));
    let last = model.layers.last_mut().expect("an output layer");
    last.weight.fill(0.0);
    last.bias.assign(&ndarray::arr1(&[0.375, -0.75]));
    let field = ConditionalScore { model: &model };
    let x = ndarray::arr2(&[[0.5f32, -1.0], [2.0, 0.25], [-3.0, 1.5]]);
    let mut scratch = field.scratch(x.nrows(), Precision::F32);
    for sigma in [0.25f32, 0.5, 2.0] {
        let mut out = Array2::from_elem((3, 2), f32::NAN);
        field.score_at(x.view(), sigma, &mut out.view_mut(), &mut scratch);
        for row in out.rows() {
            assert_eq!((row[0], row[1]), (0.375 / sigma, -0.75 / sigma), "σ {sigma}: s = b/σ");
        }
    }
}
