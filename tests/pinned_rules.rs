//! Rules that had no direct test, each against an independent computation written here:
//!
//! - Adam's update, with gradients of very different sizes, against a hand-written f64
//!   trajectory (θ ← θ − lr·m̂/(√v̂ + ε)), in f64 and in f32 (the AVX2 kernel where the CPU
//!   has one);
//! - the Fisher divergence readout's ½ and its mean over the probe points;
//! - the noise-conditional loss: its σ² weighting, value and gradient;
//! - the energy distance's chunked pair sums (128 rows per task) against a naive O(n²) sum;
//! - reservoir sampling of a large CSV file: every row kept with the same probability.
//!
//! Not reached: the trainer's uniform draw of each sample's noise level is inside
//! `trainer::Session` (private state, no public hook), so it is not tested here.
//!
//! Each test was seen to fail with the rule mutated in the source (see the commit message).

mod common;

use dsm_tui::data::read_csv;
use dsm_tui::eval::fisher::FisherProbe;
use dsm_tui::eval::metrics::{Point, energy_distance};
use dsm_tui::nn::{Activation, Adam, AdamConfig, Linear, Mlp, Real, Scratch, Workspace};
use dsm_tui::objective::ncsn;
use ndarray::{Array2, ArrayView2, arr1, arr2};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

fn rng(seed: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(seed)
}

fn normal(rows: usize, cols: usize, rng: &mut Xoshiro256PlusPlus) -> Array2<f64> {
    Array2::from_shape_fn((rows, cols), |_| StandardNormal.sample(rng))
}

// ------------------------------------------------------------------------------------ Adam

/// Six coordinates whose gradients span 1e-4 to 100 and change size and sign from step to
/// step, so v̂ is far from 1 and differs from √v̂ everywhere; the 1e-4 coordinate has
/// v̂ ≈ 1e-8 = ε, where √(v̂ + ε) and √v̂ + ε differ by 40%.
fn gradient(step: usize, coordinate: usize) -> f64 {
    const SCALE: [f64; 6] = [1e-4, 3e-3, 0.5, 2.0, 30.0, 100.0];
    const SHAPE: [[f64; 6]; 7] = [
        [1.0, -2.0, 0.5, 3.0, -1.0, 0.25],
        [-0.5, 1.5, 2.0, -0.1, 4.0, 1.0],
        [2.0, 0.3, -1.0, 1.0, 0.5, -3.0],
        [0.1, -1.0, 3.0, 2.5, -2.0, 0.5],
        [-3.0, 0.7, -0.2, 1.5, 1.0, 2.0],
        [1.5, 2.0, 1.0, -0.5, -0.3, -1.0],
        [0.4, -0.6, 0.8, -1.2, 1.6, -2.0],
    ];
    SCALE[coordinate] * SHAPE[step][(coordinate + step) % 6]
}

/// The paper's Adam (Kingma & Ba 2015, Algorithm 1) written out in f64: after each step,
/// every parameter.
fn adam_by_hand(config: AdamConfig, start: [f64; 6], steps: usize) -> Vec<[f64; 6]> {
    let (b1, b2) = config.betas;
    let (mut m, mut v, mut theta) = ([0.0; 6], [0.0; 6], start);
    (1..=steps)
        .map(|t| {
            for j in 0..6 {
                let g = gradient(t - 1, j);
                m[j] = b1 * m[j] + (1.0 - b1) * g;
                v[j] = b2 * v[j] + (1.0 - b2) * g * g;
                let m_hat = m[j] / (1.0 - b1.powi(t as i32));
                let v_hat = v[j] / (1.0 - b2.powi(t as i32));
                theta[j] -= config.lr * m_hat / (v_hat.sqrt() + config.eps);
            }
            theta
        })
        .collect()
}

/// The crate's Adam on one layer: weight `[2, 2]` (coordinates 0–3), bias `[2]` (4–5).
fn adam_in_crate<F: Real>(config: AdamConfig, start: [f64; 6], steps: usize) -> Vec<[f64; 6]> {
    let lit = |v: &[f64]| v.iter().map(|&x| F::lit(x)).collect::<Vec<F>>();
    let layer = |v: [f64; 6]| Linear {
        weight: Array2::from_shape_vec((2, 2), lit(&v[..4])).expect("2 × 2"),
        bias: ndarray::Array1::from(lit(&v[4..])),
    };
    let mut params = vec![layer(start)];
    let mut adam = Adam::new(config, &params);
    (0..steps)
        .map(|t| {
            adam.step(&mut params, &[layer(std::array::from_fn(|j| gradient(t, j)))]);
            let flat: Vec<f64> = params[0].tensors().into_iter().flatten().map(|v| v.as_f64()).collect();
            flat.try_into().expect("six parameters")
        })
        .collect()
}

/// Seven steps of both configurations against [`adam_by_hand`]. Tolerances: f64 agrees to
/// 1e-12 (a few roundings of O(1) numbers per step). In f32 each step rounds θ (|θ| ≤ 2:
/// 1.2e-7) and the step itself (relative 1e-7 of ≤ lr): 1e-5 over seven steps is ~30× the
/// 3e-7 measured. The wrong rules differ by far more: v̂ for √v̂ changes the step of the
/// g = 100 coordinate 100-fold, √(v̂ + ε) that of the g = 1e-4 coordinate by ~30% (3e-3 of
/// lr = 0.01 per step).
fn assert_adam_matches_by_hand<F: Real>(float: &str, tolerance: f64) {
    let start = [0.5, -1.0, 1.5, 0.0, -0.25, 2.0];
    for config in
        [AdamConfig { lr: 0.01, ..AdamConfig::default() }, AdamConfig { lr: 0.05, betas: (0.8, 0.99), eps: 1e-3 }]
    {
        let (got, want) = (adam_in_crate::<F>(config, start, 7), adam_by_hand(config, start, 7));
        for (t, (g, w)) in got.iter().zip(&want).enumerate() {
            for j in 0..6 {
                assert!(
                    (g[j] - w[j]).abs() <= tolerance,
                    "{float} Adam {config:?}, step {}, coordinate {j} (gradient scale {:.0e}): {:.9} vs by hand {:.9}",
                    t + 1,
                    gradient(0, j).abs(),
                    g[j],
                    w[j]
                );
            }
        }
    }
}

/// The generic loop (f64): a few roundings of O(1) numbers per step, 1e-12.
#[test]
fn adam_in_f64_matches_the_papers_update_with_gradients_of_every_size() {
    assert_adam_matches_by_hand::<f64>("f64", 1e-12);
}

/// The f32 path (the AVX2 kernel where the CPU has one, else the generic loop).
#[test]
fn adam_in_f32_matches_the_papers_update_with_gradients_of_every_size() {
    assert_adam_matches_by_hand::<f32>("f32", 1e-5);
}

/// The by-hand trajectory itself is not ±lr per step (which √v̂ vs v̂ could not tell apart):
/// the coordinates move by different amounts.
#[test]
fn adam_reference_steps_are_not_all_the_same_size() {
    let config = AdamConfig { lr: 0.01, ..AdamConfig::default() };
    let start = [0.0; 6];
    let after = adam_by_hand(config, start, 7);
    let moved: Vec<f64> = (0..6).map(|j| after[6][j].abs()).collect();
    let (lo, hi) = moved.iter().fold((f64::INFINITY, 0f64), |(lo, hi), &m| (lo.min(m), hi.max(m)));
    assert!(hi / lo > 2.0, "every coordinate moved about as far: {moved:?}");
}

// --------------------------------------------------------------------- Fisher divergence

/// A 2 → 8 → 2 network whose output is the constant `b` (all weights and hidden biases 0,
/// SiLU(0) = 0).
fn constant_model(b: [f32; 2]) -> Mlp<f32> {
    let mut model = Mlp::<f32>::init(8, 1, Activation::Silu, &mut rng(1));
    for layer in &mut model.layers {
        layer.weight.fill(0.0);
        layer.bias.fill(0.0);
    }
    model.layers[1].bias.assign(&arr1(&b));
    model
}

/// ∇log q_σ at `p` for q_σ = (1/N) Σᵢ N(xᵢ, σ²I), in f64, by log-sum-exp.
fn noised_score(p: [f64; 2], data: ArrayView2<f32>, sigma: f64) -> [f64; 2] {
    let logits: Vec<f64> = data
        .rows()
        .into_iter()
        .map(|x| -((f64::from(x[0]) - p[0]).powi(2) + (f64::from(x[1]) - p[1]).powi(2)) / (2.0 * sigma * sigma))
        .collect();
    let top = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let weights: Vec<f64> = logits.iter().map(|l| (l - top).exp()).collect();
    let total: f64 = weights.iter().sum();
    let mut score = [0.0; 2];
    for (w, x) in weights.iter().zip(data.rows()) {
        for d in 0..2 {
            score[d] += w / total * (f64::from(x[d]) - p[d]) / (sigma * sigma);
        }
    }
    score
}

/// The readout is ½·mean‖s − e‖² over the probe points, so for a constant model s ≡ b it
/// is exactly quadratic in b: D(u) + D(−u) − 2D(0) = ‖u‖², whatever the probe points and
/// the exact scores e are. Dropping the ½ gives 2‖u‖², a sum over the 300 points instead of
/// the mean 300‖u‖². The sums are f64 over f32 inputs: 1e-9 relative is ~1e6 × rounding.
#[test]
fn fisher_readout_is_half_the_mean_square_whatever_the_probe_points() {
    let data = normal(40, 2, &mut rng(2)).mapv(|v| v as f32);
    let mut probe = FisherProbe::new(&constant_model([0.0, 0.0]), data.view(), 0.3, 300, &mut rng(3));
    let mut d = |b: [f32; 2]| probe.divergence(&constant_model(b), None);
    let (zero, up, down) = (d([0.0, 0.0]), d([3.0, -4.0]), d([-3.0, 4.0]));
    let curvature = up + down - 2.0 * zero;
    assert!(
        (curvature - 25.0).abs() < 1e-9 * up.max(down),
        "D(u) + D(−u) − 2D(0) = {curvature} for ‖u‖² = 25: the readout is not ½·mean‖s − e‖²"
    );
}

/// One training point x₀: q_σ = N(x₀, σ²I), the probe points are x₀ + σε and the exact
/// score there is −ε/σ, so for the zero model the readout is ½·mean‖ε‖²/σ², expected 1/σ²
/// (‖ε‖² ~ χ²₂: mean 2, variance 4). 20 000 points at σ = 0.5: 4 ± 0.028 (one standard
/// error, 1/(σ²√n)); the bar is 5 of them. A missing ½ gives 8, a sum 80 000.
#[test]
fn fisher_readout_of_the_zero_model_on_one_point_is_one_over_sigma_squared() {
    let (sigma, count) = (0.5, 20_000);
    let data = arr2(&[[0.25f32, -0.5]]);
    let zero = constant_model([0.0, 0.0]);
    let mut probe = FisherProbe::new(&zero, data.view(), sigma, count, &mut rng(4));
    let got = probe.divergence(&zero, None);
    let se = 1.0 / (sigma * sigma * (count as f64).sqrt());
    assert!((got - 1.0 / (sigma * sigma)).abs() < 5.0 * se, "readout {got:.4}, expected 1/σ² = 4 ± {:.3}", 5.0 * se);
}

/// The whole readout against an independent computation at the same probe points, for a
/// trained-looking random network and for a noise-conditional one read at σ_c
/// (s = net(x, log σ_c)/σ_c). The probe points are replayed from a clone of the generator
/// as the probe documents drawing them (a random training point plus σ·N(0, 1) per
/// coordinate, in that order): if that order ever changes this test says so first (the
/// two tests above do not depend on it).
#[test]
fn fisher_readout_matches_an_independent_computation_at_the_probe_points() {
    let sigma = 0.3;
    let data = normal(40, 2, &mut rng(5)).mapv(|v| v as f32);
    for conditional in [None, Some(0.2f32)] {
        let model = match conditional {
            None => Mlp::<f32>::init(16, 2, Activation::Silu, &mut rng(6)),
            Some(_) => Mlp::<f32>::init_conditional(16, 2, Activation::Silu, &mut rng(6)),
        };
        let count = 300;
        let mut draws = rng(7);
        let mut replay = draws.clone();
        let mut probe = FisherProbe::new(&model, data.view(), sigma, count, &mut draws);
        let got = probe.divergence(&model, conditional);

        let mut points = Array2::<f32>::zeros((count, 2));
        for mut p in points.rows_mut() {
            let i = replay.random_range(0..data.nrows());
            for d in 0..2 {
                let e: f64 = StandardNormal.sample(&mut replay);
                p[d] = (f64::from(data[[i, d]]) + sigma * e) as f32;
            }
        }
        let scores = match conditional {
            None => model.scores(points.view()),
            Some(sigma_c) => {
                let mut out = Array2::zeros((count, 2));
                let condition = vec![sigma_c.ln(); count];
                model.forward_conditional(
                    points.view(),
                    &condition,
                    &mut out.view_mut(),
                    &mut Scratch::new(&model, count),
                );
                out / sigma_c
            }
        };
        let mut total = 0.0;
        for (p, s) in points.rows().into_iter().zip(scores.rows()) {
            let e = noised_score([f64::from(p[0]), f64::from(p[1])], data.view(), sigma);
            total += (f64::from(s[0]) - e[0]).powi(2) + (f64::from(s[1]) - e[1]).powi(2);
        }
        let want = 0.5 * total / count as f64;
        assert!(
            (got - want).abs() <= 1e-9 * want,
            "conditional {conditional:?}: readout {got} vs ½·mean‖s_θ − ∇log q_σ‖² = {want} \
             (if the probe's way of drawing its points changed, update the replay here)"
        );
    }
}

// ------------------------------------------------------------------ noise-conditional loss

/// Rows noised at levels spanning two decades, so a weight of σ instead of σ², or none,
/// changes the loss many times over.
fn levels(rows: usize) -> Vec<f64> {
    const SIGMAS: [f64; 5] = [1.0, 0.5, 0.1, 0.03, 0.01];
    (0..rows).map(|i| SIGMAS[(i * 7 + 3) % 5]).collect()
}

/// mean over rows of σᵢ²·‖s(x̃ᵢ, σᵢ) + εᵢ/σᵢ‖² with s = net(x̃, log σ)/σ, x̃ = x + σε: the
/// σ²-weighted DSM loss as Song & Ermon write it, from the network's plain forward pass.
fn weighted_dsm<F: Real>(model: &Mlp<F>, x: &Array2<f64>, eps: &Array2<f64>, sigmas: &[f64]) -> f64 {
    let rows = x.nrows();
    let noised = Array2::from_shape_fn((rows, 2), |(i, d)| F::lit(x[[i, d]] + sigmas[i] * eps[[i, d]]));
    let condition: Vec<F> = sigmas.iter().map(|&s| F::lit(s.ln())).collect();
    let mut net = Array2::zeros((rows, 2));
    model.forward_conditional(noised.view(), &condition, &mut net.view_mut(), &mut Scratch::new(model, rows));
    let mut total = 0.0;
    for i in 0..rows {
        let sigma = sigmas[i];
        let residual: f64 = (0..2).map(|d| (net[[i, d]].as_f64() / sigma + eps[[i, d]] / sigma).powi(2)).sum();
        total += sigma * sigma * residual;
    }
    total / rows as f64
}

fn ncsn_loss<F: Real>(
    model: &Mlp<F>,
    x: &Array2<f64>,
    eps: &Array2<f64>,
    sigmas: &[f64],
) -> (f64, Vec<Linear<F>>, Array2<F>) {
    let rows = x.nrows();
    let (mut ws, mut grads, mut out_grad) = (Workspace::new(model, rows), model.zero_grads(), Array2::zeros((rows, 2)));
    let s: Vec<F> = sigmas.iter().map(|&s| F::lit(s)).collect();
    let loss = ncsn::loss_and_grad(
        model,
        x.mapv(F::lit).view(),
        eps.mapv(F::lit).view(),
        &s,
        &mut ws,
        &mut out_grad.view_mut(),
        &mut grads,
    );
    (loss.as_f64(), grads, out_grad)
}

/// The value, in f64 (1e-12 relative) and f32 (1e-5: f32 sums of a few hundred O(1) terms),
/// and ∂L/∂net = (2/B)(net + ε) row by row. Dropping the σ² weight multiplies row i's term
/// by 1/σᵢ² (up to 10⁴ here); noising with ε instead of σε moves x̃ by up to 3.
#[test]
fn ncsn_loss_is_the_sigma_squared_weighted_dsm_loss() {
    let mut r = rng(11);
    let model64 = Mlp::<f64>::init_conditional(16, 2, Activation::Silu, &mut r);
    for rows in [1, 50, 300] {
        let (x, eps, sigmas) = (normal(rows, 2, &mut r), normal(rows, 2, &mut r), levels(rows));
        let want = weighted_dsm(&model64, &x, &eps, &sigmas);
        let (got, _, out_grad) = ncsn_loss(&model64, &x, &eps, &sigmas);
        assert!((got - want).abs() <= 1e-12 * want, "f64, {rows} rows: loss {got} vs σ²-weighted DSM {want}");

        let model32: Mlp<f32> = model64.cast();
        let (got32, _, _) = ncsn_loss(&model32, &x, &eps, &sigmas);
        let want32 = weighted_dsm(&model32, &x, &eps, &sigmas);
        assert!((got32 - want32).abs() <= 1e-5 * want32, "f32, {rows} rows: loss {got32} vs σ²-weighted DSM {want32}");

        // ∂L/∂net: net = σ·s, so (2/B)·σ(s + ε/σ) = (2/B)(net + ε).
        let noised = Array2::from_shape_fn((rows, 2), |(i, d)| x[[i, d]] + sigmas[i] * eps[[i, d]]);
        let condition: Vec<f64> = sigmas.iter().map(|s| s.ln()).collect();
        let mut net = Array2::zeros((rows, 2));
        model64.forward_conditional(noised.view(), &condition, &mut net.view_mut(), &mut Scratch::new(&model64, rows));
        for i in 0..rows {
            for d in 0..2 {
                let want = 2.0 / rows as f64 * (net[[i, d]] + eps[[i, d]]);
                assert!(
                    (out_grad[[i, d]] - want).abs() <= 1e-12 * want.abs().max(1.0),
                    "{rows} rows: ∂L/∂net[{i}, {d}] = {} vs (2/B)(net + ε) = {want}",
                    out_grad[[i, d]]
                );
            }
        }
    }
}

/// ∂L/∂θ of the same loss, every parameter, by central differences in f64.
#[test]
fn ncsn_parameter_gradient_is_the_derivative_of_its_value() {
    let mut r = rng(12);
    let model = Mlp::<f64>::init_conditional(6, 2, Activation::Silu, &mut r);
    let rows = 20;
    let (x, eps, sigmas) = (normal(rows, 2, &mut r), normal(rows, 2, &mut r), levels(rows));
    let (_, grads, _) = ncsn_loss(&model, &x, &eps, &sigmas);
    let flat = |layers: &[Linear<f64>]| -> Vec<f64> {
        layers.iter().flat_map(|l| l.tensors().into_iter().flatten().copied().collect::<Vec<_>>()).collect()
    };
    let analytic = flat(&grads);
    let mut params = flat(&model.layers);
    common::assert_gradient("ncsn ∂L/∂θ", &mut params, &analytic, 1e-6, |p| {
        let mut probe = model.clone();
        let mut k = 0;
        for layer in &mut probe.layers {
            for tensor in layer.tensors_mut() {
                for v in tensor {
                    *v = p[k];
                    k += 1;
                }
            }
        }
        ncsn_loss(&probe, &x, &eps, &sigmas).0
    });
}

// ----------------------------------------------------------------------- energy distance

/// ED(X, Y) = mean‖x − y‖ − ½mean‖x − x′‖ − ½mean‖y − y′‖ over all pairs, i = j included,
/// summed pair by pair in f64.
fn naive_energy_distance(x: &[Point], y: &[Point]) -> f64 {
    let mean = |a: &[Point], b: &[Point]| {
        let mut total = 0.0;
        for p in a {
            for q in b {
                total += ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt();
            }
        }
        total / (a.len() * b.len()) as f64
    };
    mean(x, y) - 0.5 * mean(x, x) - 0.5 * mean(y, y)
}

/// Sizes on both sides of the 128-row tasks: one task, one row short of a whole task, a
/// whole one, one row over, and several. The sums differ only in order: 1e-12 of the mean
/// cross distance (~1.5) is ~1e3 × the rounding of 10⁶ terms.
#[test]
fn energy_distance_matches_a_naive_pair_sum_across_task_edges() {
    let sizes = [1, 127, 128, 129, 300, 1000];
    let mut r = rng(13);
    let mut sample = |n: usize, shift: [f64; 2], scale: f64| -> Vec<Point> {
        (0..n)
            .map(|_| {
                let (a, b): (f64, f64) = (StandardNormal.sample(&mut r), StandardNormal.sample(&mut r));
                [shift[0] + scale * a, shift[1] + scale * b]
            })
            .collect()
    };
    let xs: Vec<Vec<Point>> = sizes.iter().map(|&n| sample(n, [0.0, 0.0], 1.0)).collect();
    let ys: Vec<Vec<Point>> = sizes.iter().map(|&m| sample(m, [0.3, -0.2], 1.3)).collect();
    for x in &xs {
        for y in &ys {
            let (got, want) = (energy_distance(x, y), naive_energy_distance(x, y));
            assert!(
                (got - want).abs() <= 1e-12,
                "n = {}, m = {}: energy distance {got:.15} vs naive {want:.15}",
                x.len(),
                y.len()
            );
        }
    }
}

// -------------------------------------------------------------------- reservoir sampling

/// A CSV file of 3000 rows `i,0` read with room for 1000, over 300 seeds: every row should
/// be kept with probability 1/3. Two checks, each failing for a reader that keeps the
/// first and last 500 rows (or the first 1000):
/// - per row: kept Binomial(300, 1/3) times, mean 100, standard deviation 8.2; the bar is 6
///   of them (49), exceeded by chance with probability ~2e-9 per row, ~6e-6 over 3000 rows;
/// - per block of 100 rows, Pearson's χ² against 10 000 each: with independent draws it
///   would be χ² with 29 degrees of freedom, and sampling without replacement only makes
///   it smaller (×(N−n)/(N−1) = 2/3 in expectation); the bar 81 is χ²₂₉'s 1 − 1e-6 quantile
///   (Wilson–Hilferty).
#[test]
fn reservoir_sampling_keeps_every_row_with_the_same_probability() {
    let (rows, room, seeds) = (3000usize, 1000usize, 300u64);
    let file: String = (0..rows).map(|i| format!("{i},0\n")).collect();
    let mut kept = vec![0u32; rows];
    for seed in 0..seeds {
        let points = read_csv(file.as_bytes(), room, &mut rng(1000 + seed)).expect("a valid file");
        assert_eq!((points.points.nrows(), points.rows_in_file), (room, rows as u64));
        let mut seen = vec![false; rows];
        for p in points.points.rows() {
            let i = p[0] as usize;
            assert!(!seen[i], "seed {seed}: row {i} kept twice");
            seen[i] = true;
            kept[i] += 1;
        }
    }
    let (mean, sd) = (seeds as f64 / 3.0, (seeds as f64 * (1.0 / 3.0) * (2.0 / 3.0)).sqrt());
    for (i, &k) in kept.iter().enumerate() {
        assert!(
            (f64::from(k) - mean).abs() <= 6.0 * sd,
            "row {i} kept {k} times in {seeds} seeds, expected {mean:.0} ± {:.0}",
            6.0 * sd
        );
    }
    let expected = (seeds as usize * room / 30) as f64;
    let chi2: f64 =
        kept.chunks(100).map(|block| (f64::from(block.iter().sum::<u32>()) - expected).powi(2) / expected).sum();
    assert!(chi2 < 81.0, "χ² over 30 blocks of 100 rows = {chi2:.1} ≥ 81: rows are not kept uniformly");
}
