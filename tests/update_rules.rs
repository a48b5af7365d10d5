//! The Langevin update rules, pinned on known fields with known noise.
//!
//! - the course's step (`Particles::langevin`): x ← x + (η/2)·s(x) + √η·z;
//! - annealed Langevin (`AnnealedSampler`): x ← x + αᵢ·s(x, σᵢ) + √(2αᵢ)·z with αᵢ = c·σᵢ²,
//!   T steps per level, then one denoising step x + σ_L²·s(x, σ_L) with no noise.
//!
//! Two independent ways of knowing z:
//! 1. **Exactly**, from the random streams: particles built with `Particles::from_positions`
//!    draw nothing for their positions, so chunk c's noise is the N(0, 1) sequence of
//!    `stream_rng(seed, Stream::Particles { restart, chunk: c })`, one draw per coordinate,
//!    particle by particle (x then y). The tests replay it and run the rule in f64 on their
//!    own, step by step, and compare the positions.
//! 2. **Without the streams**: the same particles and seed under a zero field move by the
//!    noise term alone, so (run under s) − (run under 0) is the drift term, and the zero
//!    run's displacement over its scale must be N(0, 1) (its variance within 5 standard
//!    errors of 1). These hold however the noise is drawn.
//!
//! Tolerances: the crate runs in f32, the references in f64. A coordinate is rounded once per
//! step at |x| ≤ ~2 (6e-8 × 2 each), so 1e-6 after one step and 1e-5 after a few steps are
//! 10–100× the rounding and far below every wrong rule's error: with η = 0.01 and |s| ~ 1–20
//! a wrong drift factor moves a coordinate by ≥ 5e-3·|s|, a wrong noise factor by
//! (√2 − 1)·√η·|z| ≈ 0.04·|z|.
//!
//! Each test was seen to fail with the source mutated: the course's step as
//! x + η·s + √(2η)·z and as x + η·s + √η·z (drift only); the annealed step with 2α and √(4α),
//! and with 2α alone; noise √(2σ_L²)·z added to the denoising step.

use dsm_tui::nn::Precision;
use dsm_tui::noise_levels::NoiseLevels;
use dsm_tui::sampling::langevin::{AnnealedPosition, AnnealedSampler, ConditionalScoreField, Particles, ScoreField};
use dsm_tui::seeds::{Stream, stream_rng};
use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

/// Particles per chunk in `langevin.rs` (`CHUNK`): the noise streams are per chunk.
const CHUNK: usize = 256;
const SEED: u64 = 42;
const RESTART: u64 = 3;

/// s(x) = −x/v: the score of N(0, v·I), a field with a different value at every point.
struct Linear {
    v: f32,
}

impl ScoreField for Linear {
    type Scratch = ();
    fn scratch(&self, _: usize, _: Precision) {}
    fn score(&self, x: ArrayView2<f32>, out: &mut ArrayViewMut2<f32>, _: &mut ()) {
        ndarray::Zip::from(out).and(x).for_each(|o, &x| *o = -x / self.v);
    }
}

/// s(x) = 0: the step is the noise term alone.
struct Zero;

impl ScoreField for Zero {
    type Scratch = ();
    fn scratch(&self, _: usize, _: Precision) {}
    fn score(&self, _: ArrayView2<f32>, out: &mut ArrayViewMut2<f32>, _: &mut ()) {
        out.fill(0.0);
    }
}

impl ConditionalScoreField for Zero {
    type Scratch = ();
    fn scratch(&self, _: usize, _: Precision) {}
    fn score_at(&self, _: ArrayView2<f32>, _: f32, out: &mut ArrayViewMut2<f32>, _: &mut ()) {
        out.fill(0.0);
    }
}

/// s(x, σ) = −(x − m)/(v + σ²): the score of N(m, v·I) blurred by σ. Its value depends on
/// σ, so a step taken at the wrong level lands elsewhere.
struct Blurred {
    m: [f32; 2],
    v: f32,
}

impl Blurred {
    fn exact(&self, x: [f64; 2], sigma: f64) -> [f64; 2] {
        let var = f64::from(self.v) + sigma * sigma;
        [-(x[0] - f64::from(self.m[0])) / var, -(x[1] - f64::from(self.m[1])) / var]
    }
}

impl ConditionalScoreField for Blurred {
    type Scratch = ();
    fn scratch(&self, _: usize, _: Precision) {}
    fn score_at(&self, x: ArrayView2<f32>, sigma: f32, out: &mut ArrayViewMut2<f32>, _: &mut ()) {
        let var = self.v + sigma * sigma;
        for (xi, mut oi) in x.rows().into_iter().zip(out.rows_mut()) {
            oi[0] = -(xi[0] - self.m[0]) / var;
            oi[1] = -(xi[1] - self.m[1]) / var;
        }
    }
}

/// `count` starting points in [−2, 2]², from a stream of their own.
fn start(count: usize) -> Array2<f32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    Array2::from_shape_fn((count, 2), |_| rng.random_range(-2.0f32..2.0))
}

/// The noise of each particle's coordinates, replayed from the chunk streams: one
/// `Vec` of N(0, 1) draws (f32, as the crate draws them) per particle per call.
struct Noise {
    streams: Vec<rand::rngs::Xoshiro256PlusPlus>,
}

impl Noise {
    fn new(count: usize) -> Self {
        let chunks = count.div_ceil(CHUNK) as u64;
        Self {
            streams: (0..chunks).map(|c| stream_rng(SEED, Stream::Particles { restart: RESTART, chunk: c })).collect(),
        }
    }

    /// z for every particle of one step, `[count, 2]`, in f64.
    fn step(&mut self, count: usize) -> Vec<[f64; 2]> {
        (0..count)
            .map(|i| {
                let rng = &mut self.streams[i / CHUNK];
                let zx: f32 = StandardNormal.sample(rng);
                let zy: f32 = StandardNormal.sample(rng);
                [f64::from(zx), f64::from(zy)]
            })
            .collect()
    }
}

fn to_f64(x: &Array2<f32>) -> Vec<[f64; 2]> {
    x.rows().into_iter().map(|r| [f64::from(r[0]), f64::from(r[1])]).collect()
}

/// Largest |a − b| over all coordinates, with the particle and coordinate where it is.
fn max_error(got: &Array2<f32>, want: &[[f64; 2]]) -> (f64, usize, usize) {
    let mut worst = (0.0, 0, 0);
    for (i, (g, w)) in got.rows().into_iter().zip(want).enumerate() {
        for d in 0..2 {
            let e = (f64::from(g[d]) - w[d]).abs();
            if e.is_nan() || e > worst.0 {
                worst = (e, i, d);
            }
        }
    }
    worst
}

fn assert_positions(what: &str, got: &Array2<f32>, want: &[[f64; 2]], tolerance: f64) {
    let (error, i, d) = max_error(got, want);
    assert!(
        error <= tolerance,
        "{what}: particle {i} coordinate {d} is {} where the rule puts it at {:.7} (error {error:.2e} > {tolerance:.0e})",
        got[[i, d]],
        want[i][d]
    );
}

/// The course's step, three steps over two chunks (300 particles: 256 + 44), against the
/// rule run in f64 with the replayed noise: x ← x + (η/2)·s(x) + √η·z.
#[test]
fn course_step_is_x_plus_half_eta_score_plus_root_eta_noise() {
    let (count, eta, steps) = (300, 0.01f64, 3);
    let field = Linear { v: 0.1 };
    let x0 = start(count);
    let mut particles = Particles::from_positions(x0.view(), SEED, RESTART);
    particles.langevin(&field, eta as f32, steps);
    assert_eq!(particles.steps_taken(), steps as u64);

    let mut noise = Noise::new(count);
    let mut want = to_f64(&x0);
    for _ in 0..steps {
        let z = noise.step(count);
        for (x, z) in want.iter_mut().zip(z) {
            for d in 0..2 {
                let s = -x[d] / 0.1;
                x[d] += eta / 2.0 * s + eta.sqrt() * z[d];
            }
        }
    }
    assert_positions("x + (η/2)·s(x) + √η·z, 3 steps", &particles.positions(), &want, 1e-5);
}

/// Without the streams: (step under s) − (step under 0) from the same particles and seed is
/// exactly the drift (η/2)·s(x₀), and the zero field's displacement is √η·z with z ~ N(0, 1).
#[test]
fn course_step_drift_and_noise_scale_without_replaying_the_noise() {
    let (count, eta) = (5000, 0.01f32);
    let field = Linear { v: 0.1 };
    let x0 = start(count);
    let (mut driven, mut free) =
        (Particles::from_positions(x0.view(), SEED, RESTART), Particles::from_positions(x0.view(), SEED, RESTART));
    driven.langevin(&field, eta, 1);
    free.langevin(&Zero, eta, 1);
    let (driven, free) = (driven.positions(), free.positions());

    // The drift: |s| ≤ 20 here, so (η/2)·s reaches 0.1; each run is rounded once (≤ 2.4e-7).
    let drift: Vec<[f64; 2]> = to_f64(&x0).iter().map(|x| [-x[0] / 0.1 * 0.005, -x[1] / 0.1 * 0.005]).collect();
    let difference = &driven - &free;
    assert_positions("(run under s) − (run under 0) = (η/2)·s(x₀)", &difference, &drift, 1e-6);

    // The noise: z = (x₁ − x₀)/√η over 10 000 coordinates has variance 1 ± 0.014 (one
    // standard error, √(2/n)); the bar is 5 of them. √(2η) would give 2, η·z 0.01.
    let z: Vec<f64> = (&free - &x0).iter().map(|&d| f64::from(d) / f64::from(eta).sqrt()).collect();
    let n = z.len() as f64;
    let mean = z.iter().sum::<f64>() / n;
    let var = z.iter().map(|z| (z - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let se = (2.0 / n).sqrt();
    assert!((var - 1.0).abs() < 5.0 * se, "Var[(x₁ − x₀)/√η] = {var:.4}, expected 1 ± {:.3}", 5.0 * se);
    assert!(mean.abs() < 5.0 / n.sqrt(), "E[(x₁ − x₀)/√η] = {mean:.4}, expected 0");
}

/// The whole annealed schedule on 300 particles (two chunks): three levels σ = 1, 0.316,
/// 0.1 (geometric), T = 2 steps each with αᵢ = c·σᵢ², c = 0.1, then the denoising step,
/// against the rule run in f64 with the replayed noise.
#[test]
fn annealed_schedule_is_alpha_steps_at_each_level_then_tweedie() {
    let (count, c, t) = (300, 0.1f64, 2);
    let levels = NoiseLevels::geometric(1.0, 0.1, 3);
    let field = Blurred { m: [0.5, -0.25], v: 0.05 };
    let x0 = start(count);
    let mut particles = Particles::from_positions(x0.view(), SEED, RESTART);
    let mut sampler = AnnealedSampler::new(levels.clone(), t, c);
    sampler.run(&mut particles, &field);
    assert!(sampler.is_done());
    assert_eq!(particles.steps_taken(), 3 * 2 + 1, "T steps at each of 3 levels, then the denoising step");

    let mut noise = Noise::new(count);
    let mut want = to_f64(&x0);
    for &sigma in &levels.sigmas {
        let alpha = c * sigma * sigma;
        for _ in 0..t {
            let z = noise.step(count);
            for (x, z) in want.iter_mut().zip(z) {
                let s = field.exact(*x, sigma);
                for d in 0..2 {
                    x[d] += alpha * s[d] + (2.0 * alpha).sqrt() * z[d];
                }
            }
        }
    }
    let sigma_l = levels.smallest();
    for x in want.iter_mut() {
        let s = field.exact(*x, sigma_l);
        for d in 0..2 {
            x[d] += sigma_l * sigma_l * s[d];
        }
    }
    assert_positions("annealed: α = c·σᵢ², √(2α)·z, then x + σ_L²·s(x, σ_L)", &particles.positions(), &want, 1e-5);
}

/// Without the streams, at each level: one step under s minus one under 0 is αᵢ·s(x₀, σᵢ),
/// and the zero field's displacement over √(2αᵢ) is N(0, 1) (variance within 5 standard
/// errors of 1 over 10 000 coordinates).
#[test]
fn annealed_step_drift_and_noise_scale_at_every_level_without_replaying_the_noise() {
    let (count, c) = (5000, 0.1f64);
    let levels = NoiseLevels::geometric(1.0, 0.01, 4);
    let field = Blurred { m: [0.5, -0.25], v: 0.05 };
    let x0 = start(count);
    for (level, &sigma) in levels.sigmas.iter().enumerate() {
        let run = |driven: bool| {
            let mut particles = Particles::from_positions(x0.view(), SEED, RESTART);
            let mut sampler = AnnealedSampler::new(levels.clone(), 10, c);
            sampler.position = AnnealedPosition { level, step: 0, denoised: false };
            if driven {
                sampler.advance(&mut particles, &field, 1);
            } else {
                sampler.advance(&mut particles, &Zero, 1);
            }
            assert_eq!(sampler.position, AnnealedPosition { level, step: 1, denoised: false });
            particles.positions()
        };
        let (driven, free) = (run(true), run(false));
        let alpha = c * sigma * sigma;
        let drift: Vec<[f64; 2]> = to_f64(&x0)
            .iter()
            .map(|&x| {
                let s = field.exact(x, sigma);
                [alpha * s[0], alpha * s[1]]
            })
            .collect();
        assert_positions(&format!("level {level} (σ {sigma:.3}): drift αᵢ·s(x, σᵢ)"), &(&driven - &free), &drift, 1e-6);

        let z: Vec<f64> = (&free - &x0).iter().map(|&d| f64::from(d) / (2.0 * alpha).sqrt()).collect();
        let n = z.len() as f64;
        let var = z.iter().map(|z| z * z).sum::<f64>() / n;
        // Rounding: at σ = 0.01, √(2α) = 4.5e-3 and x₁ − x₀ carries f32 rounding of x (~1e-7),
        // 3e-5 of the noise: nothing against the 5 standard errors (0.07).
        let se = (2.0 / n).sqrt();
        assert!(
            (var - 1.0).abs() < 5.0 * se,
            "level {level} (σ {sigma:.3}): Var[(x₁ − x₀)/√(2α)] = {var:.4}, expected 1 ± {:.3}",
            5.0 * se
        );
    }
}

/// The denoising step alone: under the zero field nothing moves (no noise, bit for bit);
/// under s the particles land exactly at x + σ_L²·s(x, σ_L), and the run is over.
#[test]
fn denoising_step_adds_no_noise_and_moves_by_sigma_squared_times_the_score() {
    let count = 300;
    let levels = NoiseLevels::geometric(1.0, 0.05, 5);
    let field = Blurred { m: [0.5, -0.25], v: 0.05 };
    let x0 = start(count);
    let denoise = |particles: &mut Particles, f: &dyn Fn(&mut AnnealedSampler, &mut Particles)| {
        let mut sampler = AnnealedSampler::new(levels.clone(), 10, 0.1);
        sampler.position = AnnealedPosition { level: levels.len(), step: 0, denoised: false };
        assert_eq!(sampler.remaining(), 1, "the denoising step is all that is left");
        f(&mut sampler, particles);
        assert!(sampler.is_done());
    };

    let mut still = Particles::from_positions(x0.view(), SEED, RESTART);
    denoise(&mut still, &|sampler, p| sampler.advance(p, &Zero, 5));
    assert_eq!(still.steps_taken(), 1);
    let moved = (&still.positions() - &x0).iter().filter(|d| **d != 0.0).count();
    assert_eq!(moved, 0, "{moved} coordinates moved under a zero score: the denoising step added noise");

    let mut particles = Particles::from_positions(x0.view(), SEED, RESTART);
    denoise(&mut particles, &|sampler, p| sampler.advance(p, &field, 5));
    let sigma = levels.smallest();
    let want: Vec<[f64; 2]> = to_f64(&x0)
        .iter()
        .map(|&x| {
            let s = field.exact(x, sigma);
            [x[0] + sigma * sigma * s[0], x[1] + sigma * sigma * s[1]]
        })
        .collect();
    assert_positions("denoising: x + σ_L²·s(x, σ_L)", &particles.positions(), &want, 1e-6);
}

/// The course's start x₀ ~ U[−1, 1]², 5000 particles (10 000 coordinates): all inside the
/// square, reaching within 0.01 of both edges, mean 0 and variance 1/3 within 5 standard
/// errors (Var[x²] = 1/5 − 1/9 for U[−1, 1]).
#[test]
fn uniform_start_covers_the_square_minus_one_to_one() {
    let particles = Particles::uniform(5000, SEED, RESTART);
    let x: Vec<f64> = particles.positions().iter().map(|&v| f64::from(v)).collect();
    let n = x.len() as f64;
    assert!(x.iter().all(|v| (-1.0..=1.0).contains(v)), "a coordinate outside [−1, 1]");
    let (lo, hi) = x.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
    assert!(lo < -0.99 && hi > 0.99, "coordinates span [{lo:.3}, {hi:.3}], not [−1, 1]");
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    assert!(mean.abs() < 5.0 * (1.0 / 3.0 / n).sqrt(), "mean {mean:.4}, expected 0");
    let se = ((1.0 / 5.0 - 1.0 / 9.0) / n).sqrt();
    assert!((var - 1.0 / 3.0).abs() < 5.0 * se, "variance {var:.4}, expected 1/3 ± {:.4}", 5.0 * se);
}

/// Counts across chunks (256 + 256 + 88), one particle, and none.
#[test]
fn len_and_is_empty_count_the_particles() {
    for count in [0, 1, 600] {
        let particles = Particles::uniform(count, SEED, RESTART);
        assert_eq!(particles.len(), count);
        assert_eq!(particles.is_empty(), count == 0, "{count} particles");
        assert_eq!(Particles::from_positions(start(count).view(), SEED, RESTART).len(), count);
    }
}

/// s(x) = NaN where x < 0, −x/v elsewhere: a field that blows up on part of the plane.
struct NanLeft {
    v: f32,
}

impl ScoreField for NanLeft {
    type Scratch = ();
    fn scratch(&self, _: usize, _: Precision) {}
    fn score(&self, x: ArrayView2<f32>, out: &mut ArrayViewMut2<f32>, _: &mut ()) {
        for (xi, mut oi) in x.rows().into_iter().zip(out.rows_mut()) {
            let nan = xi[0] < 0.0;
            oi[0] = if nan { f32::NAN } else { -xi[0] / self.v };
            oi[1] = if nan { f32::NAN } else { -xi[1] / self.v };
        }
    }
}

/// The dashboard's "mean ‖s‖" (`Particles::mean_score_norm`) under s(x) = −x/v is the mean
/// of ‖x‖/v, computed here in f64 from the positions: over 600 particles in three chunks;
/// over those with x ≥ 0 when the score is NaN elsewhere; `None` when it is NaN everywhere.
#[test]
fn mean_score_norm_is_the_mean_of_the_finite_score_norms() {
    let v = 0.5f32;
    let x0 = start(600);
    let particles = Particles::from_positions(x0.view(), SEED, RESTART);
    let norms: Vec<(f64, bool)> = to_f64(&x0).iter().map(|x| (x[0].hypot(x[1]) / f64::from(v), x[0] >= 0.0)).collect();
    let mean = |keep: &dyn Fn(bool) -> bool| {
        let kept: Vec<f64> = norms.iter().filter(|(_, right)| keep(*right)).map(|(n, _)| *n).collect();
        kept.iter().sum::<f64>() / kept.len() as f64
    };
    for (what, got, want) in [
        ("everywhere finite", particles.mean_score_norm(&Linear { v }), mean(&|_| true)),
        ("NaN where x < 0", particles.mean_score_norm(&NanLeft { v }), mean(&|right| right)),
    ] {
        let got = got.unwrap_or_else(|| panic!("{what}: no mean"));
        assert!((got - want).abs() < 1e-6 * want, "{what}: mean ‖s‖ {got} vs {want}");
    }
    let all_left = Particles::from_positions((-x0.mapv(f32::abs) - 0.1).view(), SEED, RESTART);
    assert_eq!(all_left.mean_score_norm(&NanLeft { v }), None, "no finite score, no mean");
}

/// σ of the current level, and σ_L at the denoising step (the level index is then L); steps
/// left counted by hand and by stepping: at level 1 step 3 of L = 3, T = 10, 7 + 10 + 1
/// (the denoising step) = 18.
#[test]
fn sampler_sigma_and_remaining_steps() {
    let levels = NoiseLevels::geometric(1.0, 0.01, 3);
    let mut sampler = AnnealedSampler::new(levels.clone(), 10, 0.1);
    for level in 0..3 {
        sampler.position = AnnealedPosition { level, step: 0, denoised: false };
        assert_eq!(sampler.sigma(), levels.sigmas[level]);
    }
    sampler.position = AnnealedPosition { level: 3, step: 0, denoised: false };
    assert_eq!(sampler.sigma(), levels.smallest(), "at the denoising step");

    sampler.position = AnnealedPosition { level: 1, step: 3, denoised: false };
    assert_eq!(sampler.remaining(), 18);
    let mut particles = Particles::from_positions(start(10).view(), SEED, RESTART);
    let mut taken = 0;
    while !sampler.is_done() {
        sampler.advance(&mut particles, &Zero, 1);
        taken += 1;
        assert_eq!(sampler.remaining(), 18 - taken, "after {taken} single steps");
    }
    assert_eq!((taken, particles.steps_taken()), (18, 18));
}

/// A screen advances the schedule in pieces of any size: one step, then 2T = 20 (9 to end
/// level 0, 10 for level 1, 1 into level 2), then the rest in pieces of 3, lands at the
/// positions of the whole schedule run at once, and each piece takes the steps it asks for.
#[test]
fn advancing_in_pieces_crosses_levels_at_t_steps_each() {
    let levels = NoiseLevels::geometric(1.0, 0.1, 3);
    let field = Blurred { m: [0.5, -0.25], v: 0.05 };
    let x0 = start(300);
    let mut whole = Particles::from_positions(x0.view(), SEED, RESTART);
    AnnealedSampler::new(levels.clone(), 10, 0.1).run(&mut whole, &field);

    let mut particles = Particles::from_positions(x0.view(), SEED, RESTART);
    let mut sampler = AnnealedSampler::new(levels, 10, 0.1);
    sampler.advance(&mut particles, &field, 1);
    assert_eq!(sampler.position, AnnealedPosition { level: 0, step: 1, denoised: false });
    sampler.advance(&mut particles, &field, 20);
    assert_eq!(sampler.position, AnnealedPosition { level: 2, step: 1, denoised: false });
    assert_eq!(particles.steps_taken(), 21);
    while !sampler.is_done() {
        sampler.advance(&mut particles, &field, 3);
    }
    assert_eq!(particles.steps_taken(), 31, "3 × 10 steps and the denoising step");
    assert_eq!(particles.positions(), whole.positions(), "the same chain as one run");
}
