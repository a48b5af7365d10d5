//! The score-matching identities, checked in this code on a 2-D Gaussian mixture whose
//! density and score are known in closed form:
//!
//! 1. ISM(θ) − ESM(θ) = −½E_p‖∇log p‖² for every θ (Hyvärinen 2005, by parts), where
//!    ESM(θ) = ½E_p‖s_θ − ∇log p‖² and ISM(θ) = E_p[½‖s_θ‖² + tr ∇ₓs_θ].
//! 2. DSM(θ) − ESM_σ(θ) = E‖ε/σ‖² − E_{q_σ}‖∇log q_σ‖², the same for every θ (Vincent 2011),
//!    with the course's scaling DSM = E‖s_θ(x̃) + ε/σ‖², ESM_σ = E_{q_σ}‖s_θ − ∇log q_σ‖².
//!
//! The right-hand sides are computed independently by quadrature on a grid; the left-hand
//! sides by Monte Carlo with N = 200 000 draws, with the crate's own ISM integrand and DSM
//! loss, compared within 4 standard errors of the per-sample (ISM) or per-block (DSM, whose
//! loss function returns a batch mean) differences.

mod common;

use common::mean_var;
use dsm_tui::nn::{Activation, Mlp, Workspace};
use dsm_tui::objective::{dsm, ism};
use ndarray::Array2;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

const N: usize = 200_000;

struct Mixture {
    weights: [f64; 3],
    means: [[f64; 2]; 3],
    variances: [f64; 3],
}

impl Mixture {
    fn example() -> Self {
        Self { weights: [0.3, 0.5, 0.2], means: [[-1.0, 0.0], [1.0, 0.5], [0.0, -1.0]], variances: [0.25, 0.16, 0.36] }
    }

    /// The mixture convolved with N(0, σ²I): each component's variance grows by σ².
    fn noised(&self, sigma: f64) -> Self {
        Self { variances: self.variances.map(|v| v + sigma * sigma), ..*self }
    }

    fn component_densities(&self, x: [f64; 2]) -> [f64; 3] {
        std::array::from_fn(|k| {
            let [dx, dy] = [x[0] - self.means[k][0], x[1] - self.means[k][1]];
            let v = self.variances[k];
            self.weights[k] * (-(dx * dx + dy * dy) / (2.0 * v)).exp() / (2.0 * std::f64::consts::PI * v)
        })
    }

    fn density(&self, x: [f64; 2]) -> f64 {
        self.component_densities(x).iter().sum()
    }

    /// ∇log p = Σ_k r_k(x)·(μ_k − x)/v_k with responsibilities r_k.
    fn score(&self, x: [f64; 2]) -> [f64; 2] {
        let d = self.component_densities(x);
        let total: f64 = d.iter().sum();
        std::array::from_fn(|c| (0..3).map(|k| d[k] / total * (self.means[k][c] - x[c]) / self.variances[k]).sum())
    }

    fn sample(&self, n: usize, rng: &mut Xoshiro256PlusPlus) -> Array2<f64> {
        let mut x = Array2::zeros((n, 2));
        for mut row in x.rows_mut() {
            let u: f64 = rng.random();
            let k = if u < self.weights[0] {
                0
            } else if u < self.weights[0] + self.weights[1] {
                1
            } else {
                2
            };
            for c in 0..2 {
                let z: f64 = StandardNormal.sample(rng);
                row[c] = self.means[k][c] + self.variances[k].sqrt() * z;
            }
        }
        x
    }

    /// E_p‖∇log p‖² by the midpoint rule on [−7, 7]² with spacing 0.01 (the tails beyond
    /// hold < 1e-20 of the mass).
    fn fisher_information_by_quadrature(&self) -> f64 {
        let h = 0.01;
        let steps = (14.0 / h) as usize;
        let mut total = 0.0;
        for i in 0..steps {
            for j in 0..steps {
                let x = [-7.0 + (i as f64 + 0.5) * h, -7.0 + (j as f64 + 0.5) * h];
                let s = self.score(x);
                total += self.density(x) * (s[0] * s[0] + s[1] * s[1]);
            }
        }
        total * h * h
    }
}

fn models() -> Vec<Mlp<f64>> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(21);
    [Activation::Silu, Activation::Tanh, Activation::Softplus]
        .into_iter()
        .map(|a| Mlp::init(16, 2, a, &mut rng))
        .collect()
}

#[test]
fn ism_minus_esm_is_minus_half_the_fisher_information() {
    let p = Mixture::example();
    let truth = -0.5 * p.fisher_information_by_quadrature();
    let x = p.sample(N, &mut Xoshiro256PlusPlus::seed_from_u64(1));
    for (m, model) in models().iter().enumerate() {
        let scores = model.scores(x.view());
        // The per-sample ISM integrand from the crate's tangent code, one row at a time.
        let mut ws = ism::IsmWorkspace::new(model, 1);
        let differences = (0..N).map(|i| {
            let ism_value = ism::forward(model, x.slice(ndarray::s![i..i + 1, ..]), &mut ws).loss();
            let exact = p.score([x[[i, 0]], x[[i, 1]]]);
            let esm_value = 0.5 * ((scores[[i, 0]] - exact[0]).powi(2) + (scores[[i, 1]] - exact[1]).powi(2));
            ism_value - esm_value
        });
        let (mean, var) = mean_var(differences.into_iter());
        let tolerance = 4.0 * (var / N as f64).sqrt();
        assert!(
            (mean - truth).abs() < tolerance,
            "model {m}: ISM − ESM = {mean:.5} vs −½E‖∇log p‖² = {truth:.5} ± {tolerance:.5}"
        );
    }
}

/// DSM is the crate's own loss (`dsm::loss_and_grad`, which noises x itself), evaluated on
/// blocks of `BLOCK` rows; ESM_σ is computed here with the exact score of q_σ at the same
/// x̃ = x + σε. The block means are independent draws of the difference, so their mean is the
/// Monte Carlo estimate over all N rows and their spread gives its standard error.
#[test]
fn dsm_minus_esm_sigma_is_the_same_constant_for_every_model() {
    const BLOCK: usize = 100;
    let sigma = 0.5;
    let p = Mixture::example();
    let q = p.noised(sigma);
    // E‖ε/σ‖² = 2/σ² in two dimensions.
    let truth = 2.0 / (sigma * sigma) - q.fisher_information_by_quadrature();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
    let x = p.sample(N, &mut rng);
    let eps = Array2::<f64>::from_shape_fn((N, 2), |_| StandardNormal.sample(&mut rng));
    let noisy = &x + &(&eps * sigma);
    let exact: Vec<[f64; 2]> = noisy.rows().into_iter().map(|r| q.score([r[0], r[1]])).collect();
    for (m, model) in models().iter().enumerate() {
        let s = model.scores(noisy.view());
        let (mut ws, mut grads, mut out_grad) =
            (Workspace::new(model, BLOCK), model.zero_grads(), Array2::zeros((BLOCK, 2)));
        let differences = (0..N / BLOCK).map(|b| {
            let rows = b * BLOCK..(b + 1) * BLOCK;
            let block = ndarray::s![rows.clone(), ..];
            let dsm = dsm::loss_and_grad(
                model,
                x.slice(block),
                eps.slice(block),
                sigma,
                &mut ws,
                &mut out_grad.view_mut(),
                &mut grads,
            );
            let esm: f64 = rows.map(|i| (0..2).map(|c| (s[[i, c]] - exact[i][c]).powi(2)).sum::<f64>()).sum();
            dsm - esm / BLOCK as f64
        });
        let (mean, var) = mean_var(differences);
        let tolerance = 4.0 * (var / (N / BLOCK) as f64).sqrt();
        assert!(
            (mean - truth).abs() < tolerance,
            "model {m}: DSM − ESM_σ = {mean:.4} vs E‖ε/σ‖² − E‖∇log q_σ‖² = {truth:.4} ± {tolerance:.4}"
        );
    }
}
