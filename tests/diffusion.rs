//! Reverse diffusion and the probability-flow ODE against closed forms, with the exact score
//! of Gaussian data N(μ, s² I): its blur by N(0, σ² I) is N(μ, (s² + σ²) I), score
//! −(x − μ)/(s² + σ²).
//!
//! - The ODE dx/dσ = −σ·s(x, σ) then moves each point along x − μ ∝ √(s² + σ²): from σ_max
//!   to σ_min and through Tweedie's step, x − μ is multiplied by
//!   √((s² + σ_min²)/(s² + σ_max²))·s²/(s² + σ_min²), particle by particle. Euler's error is
//!   first order in the step: checked to fall about tenfold from 100 to 1000 evaluations;
//!   Heun's, second order, about a hundredfold from 10 to 100 steps.
//! - Reverse diffusion and predictor–corrector, started from the exact N(μ, (s² + σ_max²) I),
//!   end (after Tweedie's step) at N(μ, s⁴/(s² + σ_min²) I): their means and variances are
//!   checked within stated multiples of their standard errors.

use dsm_tui::nn::Precision;
use dsm_tui::noise_levels::NoiseLevels;
use dsm_tui::sampling::diffusion::{DiffusionSampler, Step};
use dsm_tui::sampling::langevin::{ConditionalScoreField, Particles};
use ndarray::{ArrayView2, ArrayViewMut2};

const MU: [f32; 2] = [1.0, -2.0];
const S: f64 = 0.5;
const SIGMA_MAX: f64 = 20.0;
const SIGMA_MIN: f64 = 0.01;

/// The exact score of N(μ, s² I) blurred by σ.
struct Gaussian;

impl ConditionalScoreField for Gaussian {
    type Scratch = ();
    fn scratch(&self, _: usize, _: Precision) {}
    fn score_at(&self, x: ArrayView2<f32>, sigma: f32, out: &mut ArrayViewMut2<f32>, _: &mut ()) {
        let variance = (S * S) as f32 + sigma * sigma;
        for (mut o, x) in out.rows_mut().into_iter().zip(x.rows()) {
            o[0] = -(x[0] - MU[0]) / variance;
            o[1] = -(x[1] - MU[1]) / variance;
        }
    }
}

fn levels() -> NoiseLevels {
    NoiseLevels::geometric(SIGMA_MAX, SIGMA_MIN, 10)
}

/// `count` points from the exact marginal at σ_max, N(μ, (s² + σ_max²) I).
fn prior(count: usize) -> Particles {
    Particles::gaussian(count, 7, 0, MU, (S * S + SIGMA_MAX * SIGMA_MAX).sqrt() as f32)
}

fn run(step: Step, nfe: usize, particles: &mut Particles) {
    let mut sampler = DiffusionSampler::new(step, &levels(), nfe);
    sampler.advance(particles, &Gaussian, nfe + 5);
    assert!(sampler.is_done());
    assert_eq!(sampler.evaluations(), nfe, "the whole budget");
    // The particles count their moves: a corrector step is one of its own.
    let steps = match step {
        Step::PredictorCorrector { .. } => nfe,
        _ => (nfe - 1) / step.evaluations() + 1,
    };
    assert_eq!(particles.steps_taken(), steps as u64, "the grid's steps and the denoising step");
}

/// The largest error of the ODE's end against the exact flow map, relative to the end's own
/// spread.
fn ode_error(step: Step, nfe: usize) -> f64 {
    let mut particles = prior(2000);
    let start = particles.positions();
    run(step, nfe, &mut particles);
    let end = particles.positions();
    let shrink = ((S * S + SIGMA_MIN * SIGMA_MIN) / (S * S + SIGMA_MAX * SIGMA_MAX)).sqrt() * S * S
        / (S * S + SIGMA_MIN * SIGMA_MIN);
    let mut worst: f64 = 0.0;
    for (a, b) in start.rows().into_iter().zip(end.rows()) {
        for d in 0..2 {
            let want = f64::from(MU[d]) + (f64::from(a[d]) - f64::from(MU[d])) * shrink;
            worst = worst.max((f64::from(b[d]) - want).abs() / S);
        }
    }
    worst
}

#[test]
fn the_ode_follows_the_exact_flow_map_to_first_order_in_the_step() {
    let (coarse, fine) = (ode_error(Step::OdeEuler, 100), ode_error(Step::OdeEuler, 1000));
    // Measured: 0.0705 and 0.00705 of s (2000 particles, the worst of either coordinate).
    assert!(fine < 0.01, "1000 evaluations: worst error {fine} of s");
    // First order: ten times the steps, a tenth of the error.
    assert!(coarse / fine > 8.0 && coarse / fine < 12.0, "100 → 1000 evaluations: {coarse} → {fine}");
}

#[test]
fn heuns_steps_follow_it_to_second_order() {
    let (coarse, fine) = (ode_error(Step::OdeHeun, 21), ode_error(Step::OdeHeun, 201));
    // Measured: 0.283 and 0.00247 of s (Euler at 1000 evaluations: 0.0071).
    assert!(fine < 0.005, "100 steps: worst error {fine} of s");
    // Second order: ten times the steps, about a hundredth of the error (114× measured).
    assert!(coarse / fine > 60.0 && coarse / fine < 200.0, "10 → 100 steps: {coarse} → {fine}");
}

#[test]
fn reverse_diffusion_ends_at_the_data_distribution() {
    ends_at_the_data_distribution(Step::ReverseDiffusion);
}

#[test]
fn predictor_corrector_ends_at_the_data_distribution() {
    ends_at_the_data_distribution(Step::PredictorCorrector { snr: 0.16 });
}

fn ends_at_the_data_distribution(step: Step) {
    let n = 20_000;
    let mut particles = prior(n);
    // An odd budget: two-evaluation steps spend it all.
    run(step, 1001, &mut particles);
    let end = particles.positions();
    let variance_want = S.powi(4) / (S * S + SIGMA_MIN * SIGMA_MIN);
    for (d, mu) in MU.into_iter().enumerate() {
        let column = end.column(d).mapv(f64::from);
        let mean = column.mean().unwrap();
        let variance = column.mapv(|v| (v - mean).powi(2)).mean().unwrap();
        // Standard errors: √(v/n) = 0.0035 for the mean, v·√(2/n) = 0.0025 for the variance;
        // the bars are 5 of them, plus 2% of v for the steps' discretisation.
        let mean_se = (variance_want / n as f64).sqrt();
        assert!((mean - f64::from(mu)).abs() < 5.0 * mean_se, "{step:?}, dimension {d}: mean {mean}");
        let var_se = variance_want * (2.0 / n as f64).sqrt();
        assert!(
            (variance - variance_want).abs() < 5.0 * var_se + 0.02 * variance_want,
            "{step:?}, dimension {d}: variance {variance} vs {variance_want}"
        );
    }
}
