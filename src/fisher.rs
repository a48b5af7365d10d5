//! The Fisher divergence readout: how far the learned score is from the one DSM targets.
//!
//! DSM with noise σ on a training set {xᵢ} minimises, up to a constant, the Fisher divergence
//! to the noised training set q_σ(x̃) = (1/N) Σᵢ N(x̃; xᵢ, σ²I), whose score is exact in 2-D:
//!
//! ∇log q_σ(x̃) = Σᵢ wᵢ (xᵢ − x̃)/σ²,   wᵢ = softmax_i(−‖x̃ − xᵢ‖²/(2σ²)).
//!
//! So ½E_{q_σ}‖s_θ − ∇log q_σ‖² shows progress where the DSM loss, dominated by the
//! irreducible E‖ε/σ‖² term, looks flat. A [`FisherProbe`] draws its points from q_σ once and
//! computes the exact scores there once (rayon, N·M kernel evaluations); each reading is then
//! one forward pass over the probe points.

use ndarray::{Array2, ArrayView2};
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

use crate::nn::{Mlp, Scratch};
use crate::seeds::StreamRng;

/// Score of the noised empirical distribution q_σ at `point`, in float64.
pub fn noised_data_score(point: [f64; 2], data: ArrayView2<f32>, sigma: f64) -> [f64; 2] {
    let inv_two_var = 1.0 / (2.0 * sigma * sigma);
    let d2 = |x: ndarray::ArrayView1<f32>| {
        let (dx, dy) = (f64::from(x[0]) - point[0], f64::from(x[1]) - point[1]);
        dx * dx + dy * dy
    };
    // Subtract the smallest exponent first so the weights never underflow to 0/0.
    let nearest = data.rows().into_iter().map(d2).fold(f64::INFINITY, f64::min);
    let (mut total, mut sx, mut sy) = (0.0, 0.0, 0.0);
    for x in data.rows() {
        let w = (-(d2(x) - nearest) * inv_two_var).exp();
        total += w;
        sx += w * (f64::from(x[0]) - point[0]);
        sy += w * (f64::from(x[1]) - point[1]);
    }
    let scale = 1.0 / (total * sigma * sigma);
    [sx * scale, sy * scale]
}

/// Fixed probe points x̃ ~ q_σ with the exact score of q_σ at each.
pub struct FisherProbe {
    points: Array2<f32>,
    exact: Array2<f64>,
    scores: Array2<f32>,
    scratch: Scratch<f32>,
}

impl FisherProbe {
    /// `count` points: random training points plus σ-noise, drawn from `rng`.
    pub fn new(model: &Mlp<f32>, train: ArrayView2<f32>, sigma: f64, count: usize, rng: &mut StreamRng) -> Self {
        let n = train.nrows();
        let mut points = Array2::zeros((count, 2));
        for mut p in points.rows_mut() {
            let i = rng.random_range(0..n);
            for d in 0..2 {
                let e: f64 = StandardNormal.sample(rng);
                p[d] = (f64::from(train[[i, d]]) + sigma * e) as f32;
            }
        }
        let exact_rows: Vec<[f64; 2]> = (0..count)
            .into_par_iter()
            .map(|i| noised_data_score([f64::from(points[[i, 0]]), f64::from(points[[i, 1]])], train, sigma))
            .collect();
        let exact = Array2::from_shape_fn((count, 2), |(i, d)| exact_rows[i][d]);
        Self { scores: Array2::zeros((count, 2)), scratch: Scratch::new(model, count), points, exact }
    }

    /// ½ mean ‖s_θ(x̃) − ∇log q_σ(x̃)‖² over the probe points.
    pub fn divergence(&mut self, model: &Mlp<f32>) -> f64 {
        model.forward(self.points.view(), &mut self.scores.view_mut(), &mut self.scratch);
        let sum: f64 = self
            .scores
            .iter()
            .zip(&self.exact)
            .map(|(&s, &e)| {
                let d = f64::from(s) - e;
                d * d
            })
            .sum();
        0.5 * sum / self.points.nrows() as f64
    }
}
