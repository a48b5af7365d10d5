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
//! one forward pass over the probe points, split over the cores.

use ndarray::{Array2, ArrayView2, s};
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

use crate::eval::mixture::Pull;
use crate::nn::{Mlp, Scratch};
use crate::seeds::StreamRng;

/// Score of the noised empirical distribution q_σ at `point`, in float64 (the training set
/// as an equal-weight mixture blurred by σ: [`Pull`]).
pub fn noised_data_score(point: [f64; 2], data: ArrayView2<f32>, sigma: f64) -> [f64; 2] {
    let centres = || data.rows().into_iter().map(|x| [f64::from(x[0]), f64::from(x[1])]);
    Pull::towards(point, centres, sigma * sigma).score(sigma * sigma)
}

/// Probe points per parallel task: a reading is spread over both cores.
const ROWS_PER_TASK: usize = 128;

/// Fixed probe points x̃ ~ q_σ with the exact score of q_σ at each.
pub struct FisherProbe {
    points: Array2<f32>,
    exact: Array2<f64>,
    /// Per task of `ROWS_PER_TASK` points: inference buffers, scores, and log σ per row (for
    /// a noise-conditional model). Kept so a reading allocates nothing.
    buffers: Vec<(Scratch<f32>, Array2<f32>, Vec<f32>)>,
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
        let buffers = (0..count.div_ceil(ROWS_PER_TASK))
            .map(|_| (Scratch::new(model, ROWS_PER_TASK), Array2::zeros((ROWS_PER_TASK, 2)), vec![0.0; ROWS_PER_TASK]))
            .collect();
        Self { points, exact, buffers }
    }

    /// ½ mean ‖s_θ(x̃) − ∇log q_σ(x̃)‖² over the probe points. A noise-conditional `model` is
    /// read at `conditional_sigma`: s(x, σ) = net(x, log σ)/σ.
    pub fn divergence(&mut self, model: &Mlp<f32>, conditional_sigma: Option<f32>) -> f64 {
        let (points, exact) = (&self.points, &self.exact);
        // Partial sums in task order: the same figure on any number of threads.
        let partial: Vec<f64> = self
            .buffers
            .par_iter_mut()
            .enumerate()
            .map(|(task, (scratch, scores, condition))| {
                let rows = task * ROWS_PER_TASK..((task + 1) * ROWS_PER_TASK).min(points.nrows());
                let n = rows.len();
                let mut scores = scores.slice_mut(s![..n, ..]);
                let x = points.slice(s![rows.clone(), ..]);
                match conditional_sigma {
                    None => model.forward(x, &mut scores, scratch),
                    Some(sigma) => {
                        condition[..n].fill(sigma.ln());
                        model.forward_conditional(x, &condition[..n], &mut scores, scratch);
                        scores.mapv_inplace(|v| v / sigma);
                    }
                }
                scores.iter().zip(exact.slice(s![rows, ..])).map(|(&s, &e)| (f64::from(s) - e).powi(2)).sum::<f64>()
            })
            .collect();
        0.5 * partial.iter().sum::<f64>() / points.nrows() as f64
    }
}

/// The exact score of the noised data set at any σ, as a conditional score field: the
/// "perfect model" the annealed sampler and the score-field view compare the network with.
pub struct NoisedData {
    pub points: Array2<f32>,
}

impl crate::sampling::langevin::ConditionalScoreField for NoisedData {
    type Scratch = ();
    fn scratch(&self, _rows: usize, _: crate::nn::Precision) {}
    fn score_at(&self, x: ArrayView2<f32>, sigma: f32, out: &mut ndarray::ArrayViewMut2<f32>, _: &mut ()) {
        for (xi, mut oi) in x.rows().into_iter().zip(out.rows_mut()) {
            let s = noised_data_score([f64::from(xi[0]), f64::from(xi[1])], self.points.view(), f64::from(sigma));
            oi[0] = s[0] as f32;
            oi[1] = s[1] as f32;
        }
    }
}
