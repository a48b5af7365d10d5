//! Equal-weight mixtures of isotropic Gaussians in the plane, blurred by N(0, σ² I), in closed
//! form: p_σ(x) = (1/K) Σₖ N(x; cₖ, V I) with V = v + σ² (v the components' own variance).
//!
//! They are the densities this tool knows exactly: the training set blurred by σ (v = 0, one
//! component per point: what DSM's target score is the score of, and the likelihood's prior at
//! σ_max), the eight Gaussians' generating density, and a single Gaussian for the closed-form
//! tests. With mₖ = (cₖ − x)/V and the responsibilities wₖ = softmaxₖ(−‖x − cₖ‖²/(2V)):
//!
//! - score s = ∇log p_σ = Σₖ wₖ mₖ;
//! - divergence ∇·s = Σₖ wₖ‖mₖ‖² − ‖s‖² − 2/V (from ∇wₖ = wₖ(mₖ − s) and ∇·mₖ = −2/V).
//!
//! Every sum subtracts the largest exponent first, so far points never underflow to 0/0.

use std::f64::consts::PI;

use ndarray::ArrayView2;

#[derive(Clone, Debug, PartialEq)]
pub struct GaussianMixture {
    centres: Vec<[f64; 2]>,
    /// Each component's own variance v, before any blur.
    variance: f64,
}

impl GaussianMixture {
    /// Components N(c, variance·I), one per centre, equally weighted.
    pub fn new(centres: Vec<[f64; 2]>, variance: f64) -> Self {
        assert!(!centres.is_empty() && variance >= 0.0, "a mixture has components and a variance ≥ 0");
        Self { centres, variance }
    }

    /// The empirical distribution of `points` (`[n, 2]`): blurred by σ, the noised data set.
    pub fn of_points(points: ArrayView2<f32>) -> Self {
        Self::new(points.rows().into_iter().map(|r| [f64::from(r[0]), f64::from(r[1])]).collect(), 0.0)
    }

    /// log p_σ(x), in nats.
    pub fn log_density(&self, x: [f64; 2], sigma: f64) -> f64 {
        let var = self.variance + sigma * sigma;
        let exponents = self.centres.iter().map(|c| -squared_distance(x, *c) / (2.0 * var));
        let largest = exponents.clone().fold(f64::NEG_INFINITY, f64::max);
        let total: f64 = exponents.map(|e| (e - largest).exp()).sum();
        largest + (total / self.centres.len() as f64).ln() - (2.0 * PI * var).ln()
    }

    /// (∇log p_σ(x), ∇·∇log p_σ(x)).
    pub fn score_divergence(&self, x: [f64; 2], sigma: f64) -> ([f64; 2], f64) {
        let var = self.variance + sigma * sigma;
        let pull = Pull::towards(x, || self.centres.iter().copied(), var);
        let score = pull.score(var);
        let mean_square = pull.square / (pull.total * var * var);
        (score, mean_square - (score[0] * score[0] + score[1] * score[1]) - 2.0 / var)
    }
}

/// The responsibility-weighted sums over the centres cₖ of an equal-weight mixture of
/// N(cₖ, var·I) at x: Σwₖ, Σwₖ(cₖ − x) and Σwₖ‖cₖ − x‖², the weights shifted by the nearest
/// centre so far ones never underflow to 0/0. The score is Σwₖ(cₖ − x)/(var·Σwₖ); the noised
/// training set's score (`eval::fisher`) is this with var = σ².
pub struct Pull {
    pub total: f64,
    pub offset: [f64; 2],
    pub square: f64,
}

impl Pull {
    /// The sums at `x` over the centres `centres()` yields (read twice: nearest, then sums).
    pub fn towards<I: Iterator<Item = [f64; 2]>>(x: [f64; 2], centres: impl Fn() -> I, var: f64) -> Self {
        let nearest = centres().map(|c| squared_distance(x, c)).fold(f64::INFINITY, f64::min);
        let inv_two_var = 1.0 / (2.0 * var);
        let mut pull = Pull { total: 0.0, offset: [0.0; 2], square: 0.0 };
        for c in centres() {
            let d2 = squared_distance(x, c);
            let w = (-(d2 - nearest) * inv_two_var).exp();
            pull.total += w;
            pull.offset = [pull.offset[0] + w * (c[0] - x[0]), pull.offset[1] + w * (c[1] - x[1])];
            pull.square += w * d2;
        }
        pull
    }

    /// The mixture's score at the point: Σwₖ(cₖ − x)/(var·Σwₖ).
    pub fn score(&self, var: f64) -> [f64; 2] {
        let scale = 1.0 / (self.total * var);
        [self.offset[0] * scale, self.offset[1] * scale]
    }
}

fn squared_distance(a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mixture() -> GaussianMixture {
        GaussianMixture::new(vec![[-1.0, 0.5], [2.0, 1.0], [0.3, -1.5]], 0.2)
    }

    #[test]
    fn one_component_is_the_gaussian() {
        let g = GaussianMixture::new(vec![[1.0, -2.0]], 0.5);
        let (x, sigma) = ([0.4, 0.7], 1.5);
        let var = 0.5 + 2.25;
        let d2 = 0.6f64.powi(2) + 2.7f64.powi(2);
        assert!((g.log_density(x, sigma) - (-d2 / (2.0 * var) - (2.0 * PI * var).ln())).abs() < 1e-12);
        let (score, divergence) = g.score_divergence(x, sigma);
        assert!((score[0] - 0.6 / var).abs() < 1e-12 && (score[1] + 2.7 / var).abs() < 1e-12);
        assert!((divergence + 2.0 / var).abs() < 1e-12);
    }

    /// The score against central differences of the log density, the divergence against
    /// central differences of the score.
    #[test]
    fn score_and_divergence_match_finite_differences() {
        let (m, h) = (mixture(), 1e-5);
        for (x, sigma) in [([0.1, 0.2], 0.3), ([1.5, 0.9], 0.05), ([-3.0, 4.0], 1.0), ([0.3, -1.4], 0.01)] {
            let (score, divergence) = m.score_divergence(x, sigma);
            let shifted = |d: usize, by: f64| {
                let mut y = x;
                y[d] += by;
                y
            };
            let mut fd_divergence = 0.0;
            for d in 0..2 {
                let fd = (m.log_density(shifted(d, h), sigma) - m.log_density(shifted(d, -h), sigma)) / (2.0 * h);
                assert!((fd - score[d]).abs() < 1e-5 * (1.0 + score[d].abs()), "∂{d} at {x:?}, σ {sigma}");
                let (plus, minus) =
                    (m.score_divergence(shifted(d, h), sigma).0, m.score_divergence(shifted(d, -h), sigma).0);
                fd_divergence += (plus[d] - minus[d]) / (2.0 * h);
            }
            assert!(
                (fd_divergence - divergence).abs() < 1e-4 * (1.0 + divergence.abs()),
                "{fd_divergence} vs {divergence} at {x:?}, σ {sigma}"
            );
        }
    }

    /// Far from every centre the exponents underflow; the shifted sums keep the figures.
    #[test]
    fn far_points_stay_finite() {
        let m = GaussianMixture::new(vec![[0.0, 0.0], [1.0, 0.0]], 0.0);
        let x = [400.0, 0.0];
        let (score, divergence) = m.score_divergence(x, 0.01);
        assert!(m.log_density(x, 0.01).is_finite() && score[0].is_finite() && divergence.is_finite());
        assert!((score[0] - (1.0 - 400.0) / 1e-4).abs() < 1e-6 * 4e6, "the nearest centre's pull");
    }

    /// The density integrates to one (midpoint rule over a box holding all but e^-50 of it).
    #[test]
    fn the_density_integrates_to_one() {
        let (m, sigma, n) = (mixture(), 0.4, 400);
        let (lo, hi) = (-6.0, 7.0);
        let h = (hi - lo) / n as f64;
        let total: f64 = (0..n * n)
            .map(|k| {
                let x = [lo + (k % n) as f64 * h + h / 2.0, lo + (k / n) as f64 * h + h / 2.0];
                m.log_density(x, sigma).exp() * h * h
            })
            .sum();
        assert!((total - 1.0).abs() < 1e-6, "{total}");
    }
}
