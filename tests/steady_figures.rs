//! The live energy distance is steady on a fixed model: ten readings taken as the dashboard
//! takes them (a second apart, that is 200 Langevin steps at the default 10 steps a frame)
//! stay within ±15% of their mean, where the old measure (one reading of a 1000-particle
//! subsample) spread over −49% … +87% (0.00140 … 0.00512, mean 0.00274). And the floor shown
//! beside it is the one `--once` prints.

use dsm_tui::config::Config;
use dsm_tui::eval::metrics::{Shape, energy_distance, quality, to_points};
use dsm_tui::sampling::chain::Chain;
use dsm_tui::sampling::langevin::Particles;
use dsm_tui::trainer::Session;
use dsm_tui::trainer::figures::{self, Steady};

const READINGS: usize = 10;
/// Langevin steps between readings: one second of the default dashboard's flow.
const STEPS_APART: usize = 200;
const BOUND: f64 = 0.15;

/// The lowest and highest reading as shares of their mean.
fn spread(readings: &[f64]) -> (f64, f64) {
    let mean = readings.iter().sum::<f64>() / readings.len() as f64;
    let (lo, hi) = readings.iter().fold((f64::INFINITY, 0f64), |(lo, hi), &r| (lo.min(r), hi.max(r)));
    (lo / mean, hi / mean)
}

#[test]
fn on_a_fixed_model_the_live_energy_distance_stays_within_15_percent_from_reading_to_reading() {
    let config = Config::default();
    let mut session = Session::new(&config);
    while !session.is_finished() {
        session.train_step().expect("the default run does not diverge");
    }
    let model = session.model();
    let test = to_points(session.data().test());
    // The dashboard's endless chain, past the course's 1000 steps, so the particles are
    // spread as the model says.
    let mut particles = Particles::uniform(config.particles, config.seed, 0);
    let mut chain = Chain::for_dashboard(&config, config.sampler);
    chain.advance(&mut particles, model, 1000);

    let mut steady = Steady::default();
    let key = Some((session.step(), 0, config.eta.to_bits()));
    let (mut shown, mut old) = (Vec::new(), Vec::new());
    for _ in 0..READINGS {
        chain.advance(&mut particles, model, STEPS_APART);
        shown.push(steady.show(figures::reading(&particles, &test, true), key).energy_distance);
        // The old measure: every fifth particle, 1000 of 5000, read once.
        let every_fifth: Vec<_> = to_points(particles.positions().view()).into_iter().step_by(5).collect();
        old.push(energy_distance(&every_fifth, &test));
    }
    let (lo, hi) = spread(&shown);
    assert!(1.0 - BOUND < lo && hi < 1.0 + BOUND, "shown {shown:.5?}: {lo:.3} … {hi:.3} of their mean");
    let (lo, hi) = spread(&old);
    assert!(lo < 1.0 - BOUND || hi > 1.0 + BOUND, "the old measure was steady after all: {old:.5?}");

    let fresh = session.fresh_data();
    let once_floor = quality(fresh.view(), session.data().test(), Shape::Moons).energy_distance;
    assert_eq!(figures::floor(fresh.view(), &test), once_floor, "the dashboard's floor is --once's");
}
