//! Annealed Langevin against single-σ Langevin with the exact score of the noised data, from
//! particles that all start on the left: the annealed chain restores the modes' weights.
//!
//! Measured with this code (and asserted where it holds): on the moons at noise 0.1 the
//! single-σ chain (σ = 0.1, η = 0.01, 1000 steps) mixes between the moons too — from
//! x ∈ [−1, 0] its upper-moon share is 0.51, from x ∈ [−1.6, −0.6] 0.52 — because the gap
//! between the arcs is no barrier at that blur. On separated modes (eight Gaussians) it is:
//! single-σ leaves 4% of the particles on the right half, annealing restores 50%.

use dsm_tui::data::{Builtin, two_moons};
use dsm_tui::eval::fisher::NoisedData;
use dsm_tui::eval::metrics::{Shape, quality};
use dsm_tui::nn::Precision;
use dsm_tui::noise_levels::NoiseLevels;
use dsm_tui::sampling::langevin::{AnnealedSampler, AtLevel, ConditionalScoreField, Particles};
use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

fn left_half_start(count: usize, seed: u64) -> Array2<f32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    Array2::from_shape_fn(
        (count, 2),
        |(_, d)| if d == 0 { rng.random_range(-1.0..0.0) } else { rng.random_range(-1.0..1.0) },
    )
}

#[test]
fn geometric_levels_run_from_max_to_min_with_a_constant_ratio() {
    let levels = NoiseLevels::default();
    assert_eq!(levels.len(), 10);
    assert_eq!((levels.sigmas[0], levels.smallest()), (1.0, 0.01));
    for pair in levels.sigmas.windows(2) {
        assert!((pair[1] / pair[0] - 0.01f64.powf(1.0 / 9.0)).abs() < 1e-12);
    }
    assert_eq!("2:0.5:3".parse::<NoiseLevels>().expect("valid").sigmas, vec![2.0, 1.0, 0.5]);
    for bad in ["1:0.01", "0.01:1:10", "1:0:10", "1:0.01:1", "1:0.01:x", "nan:0.1:3"] {
        assert!(bad.parse::<NoiseLevels>().is_err(), "{bad} accepted");
    }
}

/// Both samplers from the same 1000 starting points with the exact score of 200 data points
/// (2e8 kernel terms each), the default schedule (σ 1 → 0.01, 10 levels × 100 steps,
/// c = 0.1) against the course's chain (σ = 0.1, η = 0.01, 1000 steps).
fn run_both(data: ArrayView2<f32>, start: &Array2<f32>) -> (Array2<f32>, Array2<f32>) {
    let field = NoisedData { points: data.to_owned() };
    let mut annealed = Particles::from_positions(start.view(), 3, 0);
    let mut sampler = AnnealedSampler::new(NoiseLevels::default(), 100, 0.1);
    sampler.run(&mut annealed, &field);
    assert!(sampler.is_done());
    assert_eq!(annealed.steps_taken(), 1001, "10 levels × 100 steps + the denoising step");
    let mut single = Particles::from_positions(start.view(), 3, 0);
    single.langevin(&AtLevel { field: &field, sigma: 0.1 }, 0.01, 1000);
    (annealed.positions(), single.positions())
}

/// The data's upper-moon share is 0.5; with 1000 particles its standard error is 0.016, so
/// the ±0.03 bar is about 2 standard errors.
#[test]
fn annealing_from_the_left_half_restores_the_moons_equal_weights() {
    let data = two_moons(250, 0.1, &mut Xoshiro256PlusPlus::seed_from_u64(1));
    let (annealed, _) = run_both(data.train(), &left_half_start(1000, 2));
    let q = quality(annealed.view(), data.test(), Shape::Moons);
    let share = q.upper_moon_share.expect("moons");
    assert!((share - 0.5).abs() <= 0.03, "annealed upper-moon share {share:.3}, bar 0.50 ± 0.03");
}

/// Eight Gaussians at radius 2: half the mass has x > 0 (three modes, and half of the two on
/// the y axis). From x ∈ [−2.5, 0], single-σ Langevin cannot cross the empty ring between the
/// modes; annealing can. Bars: annealed 0.50 ± 0.05 (3 standard errors), single-σ < 0.2.
#[test]
fn annealing_crosses_between_separated_modes_where_single_sigma_cannot() {
    let data = Builtin::EightGaussians.generate(200, 0.1, &mut Xoshiro256PlusPlus::seed_from_u64(1));
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
    let start = Array2::from_shape_fn((1000, 2), |(_, d)| {
        if d == 0 { rng.random_range(-2.5..0.0) } else { rng.random_range(-1.0..1.0) }
    });
    let (annealed, single) = run_both(data.points.view(), &start);
    let right_share = |p: &Array2<f32>| p.column(0).iter().filter(|&&x| x > 0.0).count() as f64 / p.nrows() as f64;
    let (a, s) = (right_share(&annealed), right_share(&single));
    assert!((a - 0.5).abs() <= 0.05, "annealed: {a:.3} of particles on the right half, bar 0.50 ± 0.05");
    assert!(s < 0.2, "single-σ: {s:.3} on the right half; it should stay on the left");
}

#[test]
fn stepping_through_levels_matches_one_run() {
    let data = two_moons(100, 0.1, &mut Xoshiro256PlusPlus::seed_from_u64(4));
    let field = NoisedData { points: data.points.clone() };
    let start = left_half_start(300, 5);
    let levels = NoiseLevels::geometric(1.0, 0.1, 3);

    let mut whole = Particles::from_positions(start.view(), 6, 0);
    AnnealedSampler::new(levels.clone(), 7, 0.1).run(&mut whole, &field);

    let mut stepped = Particles::from_positions(start.view(), 6, 0);
    let mut sampler = AnnealedSampler::new(levels, 7, 0.1);
    sampler.advance(&mut stepped, &field, 1);
    assert_eq!((sampler.position.level, sampler.position.step), (0, 1));
    sampler.advance_level(&mut stepped, &field);
    assert_eq!((sampler.position.level, sampler.position.step), (1, 0));
    assert!((sampler.alpha() - 0.1 * 0.1f64.sqrt().powi(2)).abs() < 1e-12, "α₂ = c·σ₂², σ₂ = √0.1");
    sampler.advance(&mut stepped, &field, 5);
    sampler.advance(&mut stepped, &field, 100);
    assert!(sampler.is_done());
    assert_eq!(stepped.positions(), whole.positions(), "pieces give the same bits as one run");
}

/// `--mode annealed`'s own defaults (`Config::with_annealed_training`) against the course's
/// network trained the same way: with the course's 2×128 net for 100 epochs 6–8% of the
/// samples stayed farther than 0.3 from both arcs (measured on seeds 0–4; the exact score
/// leaves 0.2%); with the defaults 0.16–0.32% (5000 particles, docs/annealed.md). 2000
/// particles: the share's standard error is 0.011, so ±0.03 is under 3 of them.
#[test]
fn annealed_defaults_leave_few_stragglers_and_even_moons() {
    use dsm_tui::config::{Config, Mode};
    use dsm_tui::sampling::langevin::ConditionalScore;
    use dsm_tui::trainer::session::Session;

    let config = Config { mode: Mode::Annealed, ..Config::default() }.with_annealed_training();
    let mut session = Session::new(&config);
    while !session.is_finished() {
        session.train_step().expect("the default run does not diverge");
    }
    let mut particles = Particles::uniform(2000, config.seed, 0);
    let mut sampler = AnnealedSampler::new(config.levels.clone(), config.level_steps, config.step_scale);
    sampler.run(&mut particles, &ConditionalScore { model: session.model() });
    let q = quality(particles.positions().view(), session.data().test(), Shape::Moons);
    let (far, share) = (q.far_share.expect("moons"), q.upper_moon_share.expect("moons"));
    assert!(far < 0.02, "{far:.3} of the samples farther than 0.3 from both arcs, bar 0.02");
    assert!((share - 0.5).abs() <= 0.03, "upper-moon share {share:.3}, bar 0.50 ± 0.03");
}

/// The exact score of the two moons (Gaussian noise `noise` on each arc) blurred by N(0, σ²):
/// each arc is a continuum of Gaussians of variance noise² + σ², here a quadrature of
/// `per_arc` of them at the midpoints of equal angle steps (make_moons draws the angle
/// uniformly), i.e. the noised-data score of those centres at √(noise² + σ²). At 64 per arc
/// they are 0.049 apart, half the narrowest std (0.1005): the sum of Gaussians is then
/// smooth along the arc, and 150 per arc gave the same ratios below to two digits.
struct BlurredMoons {
    centres: NoisedData,
    noise: f32,
}

impl BlurredMoons {
    fn new(per_arc: usize, noise: f32) -> Self {
        let angles = (0..per_arc).map(|i| std::f32::consts::PI * (i as f32 + 0.5) / per_arc as f32);
        let centres: Vec<f32> = angles.flat_map(|t| [t.cos(), t.sin(), 1.0 - t.cos(), 0.5 - t.sin()]).collect();
        let points = Array2::from_shape_vec((2 * per_arc, 2), centres).expect("two coordinates per centre");
        Self { centres: NoisedData { points }, noise }
    }
}

impl ConditionalScoreField for BlurredMoons {
    type Scratch = ();
    fn scratch(&self, _: usize, _: Precision) {}
    fn score_at(&self, x: ArrayView2<f32>, sigma: f32, out: &mut ArrayViewMut2<f32>, _: &mut ()) {
        self.centres.score_at(x, self.noise.hypot(sigma), out, &mut ());
    }
}

/// The default schedule (σ 1 → 0.01 over 10 levels, 100 steps each, c = 0.1) driven by the
/// exact score of the blurred moons from the default 5000 uniform particles of `seed`: its
/// energy distance over the floor (fresh data against the test split, as `--once` reports
/// it) and its upper-moon share.
fn exact_score_ratio_and_share(field: &BlurredMoons, seed: u64) -> (f64, f64) {
    use dsm_tui::config::{Config, Mode};
    use dsm_tui::seeds::{Stream, stream_rng};
    use dsm_tui::trainer::session::Session;

    let config = Config { mode: Mode::Annealed, seed, ..Config::default() }.with_annealed_training();
    let session = Session::new(&config);
    let test = session.data().test();
    let fresh = Builtin::Moons.generate(config.particles, config.noise, &mut stream_rng(seed, Stream::FloorData));
    let floor = quality(fresh.points.view(), test, Shape::Moons).energy_distance;
    let mut particles = Particles::uniform(config.particles, seed, 0);
    AnnealedSampler::new(config.levels.clone(), config.level_steps, config.step_scale).run(&mut particles, field);
    let q = quality(particles.positions().view(), test, Shape::Moons);
    (q.energy_distance / floor, q.upper_moon_share.expect("moons"))
}

/// The sampler half of the bar: with the exact score, the default schedule reaches
/// energy distance ≤ 2× the floor with the upper moon at 0.50 ± 0.02 on seeds 0–4.
/// Measured: 1.31 / 1.54 / 0.76 / 1.06 / 1.49× the floor, upper moon 0.493–0.508. So what
/// the learned network scores beyond this (docs/headless.md) is the network's, not the chain's.
#[test]
fn annealed_defaults_with_the_exact_score_meet_the_energy_distance_bar() {
    let field = BlurredMoons::new(64, 0.1);
    for seed in 0..5 {
        let (ratio, share) = exact_score_ratio_and_share(&field, seed);
        eprintln!("seed {seed}: {ratio:.2}× the floor, upper moon {share:.3}");
        assert!(ratio <= 2.0, "seed {seed}: energy distance {ratio:.2}× the floor, bar 2×");
        assert!((share - 0.5).abs() <= 0.02, "seed {seed}: upper-moon share {share:.3}, bar 0.50 ± 0.02");
    }
}

/// The yardstick's own spread: the same as above over seeds 0–29, where a perfect score still
/// scores from ~0.6× to ~2.1× the floor (docs/headless.md). Checks that the sampler with the exact
/// score centres near 1.25× and rarely passes 2×, and prints every seed. About 80 s, so not in
/// the default run: `cargo test --release --test annealed -- --ignored --nocapture yardstick`.
#[test]
#[ignore = "80 s; a measurement docs/headless.md quotes, run on demand"]
fn exact_score_yardstick_over_thirty_seeds() {
    let field = BlurredMoons::new(64, 0.1);
    let mut ratios = Vec::new();
    for seed in 0..30 {
        let (ratio, share) = exact_score_ratio_and_share(&field, seed);
        eprintln!("seed {seed}: {ratio:.2}× the floor, upper moon {share:.3}");
        assert!((share - 0.5).abs() <= 0.02, "seed {seed}: upper-moon share {share:.3}");
        ratios.push(ratio);
    }
    let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
    let over = ratios.iter().filter(|&&r| r > 2.0).count();
    eprintln!("mean {mean:.2}, {over} of {} above 2×", ratios.len());
    assert!((1.0..=1.5).contains(&mean), "mean ratio {mean:.2} with the exact score");
    assert!(over <= 3, "{over} of 30 seeds above 2× with the exact score");
}
