//! The dashboard's comparison (`c`) against the headless one (`--once --compare`): on the same
//! trained weights and seed, the trainer thread's comparison ends with the very figures
//! `--once --compare` prints. (A test of both front ends, so it lives here rather than in
//! either.)

use std::time::{Duration, Instant};

use dsm_tui::config::{Config, Mode};
use dsm_tui::headless::compare;
use dsm_tui::headless::progress::Progress;
use dsm_tui::noise_levels::NoiseLevels;
use dsm_tui::trainer::protocol::{Command, Settings, Snapshot, TrainerState};
use dsm_tui::trainer::worker::{Shutdown, Worker};

/// Generous: the test waits for events, and a loaded CI machine may be slow.
const WATCHDOG: Duration = Duration::from_secs(20);

fn until(worker: &Worker, mut done: impl FnMut(&Snapshot) -> bool) -> Vec<Snapshot> {
    let start = Instant::now();
    let mut seen = Vec::new();
    loop {
        let left = WATCHDOG.checked_sub(start.elapsed()).expect("watchdog: the awaited snapshot never came");
        let snapshot = worker.recv_timeout(left).expect("watchdog: the awaited snapshot never came");
        let stop = done(&snapshot);
        seen.push(snapshot);
        if stop {
            return seen;
        }
    }
}

#[test]
fn the_comparison_ends_with_the_figures_of_once_compare() {
    let config = Config {
        count: 200,
        batch_size: 16,
        epochs: 3,
        hidden: 16,
        particles: 300,
        mode: Mode::Annealed,
        levels: NoiseLevels::geometric(1.0, 0.1, 3),
        level_steps: 7,
        steps: 30,
        ..Config::default()
    };
    let (_, results) = compare::run(&config, &Progress::hidden()).expect("the headless comparison");
    let held = Settings {
        paused: false,
        eta: 0.01,
        step_scale: 0.1,
        steps_per_frame: 20,
        particles_held: true,
        training_pace: None,
        sampler: dsm_tui::config::Sampler::Annealed,
        beside: None,
    };
    let worker = Worker::spawn(&config, held, None).unwrap();
    until(&worker, |s| s.status.state == TrainerState::Finished);
    worker.send(Command::Compare(true));
    worker.send(Command::HoldParticles(false));
    let last = until(&worker, |s| {
        s.compare
            .as_ref()
            .is_some_and(|c| c.sides.iter().all(|s| s.figures.is_some_and(|f| f.langevin_steps == s.total)))
    })
    .pop()
    .unwrap();
    let sides = last.compare.unwrap().sides;
    for (side, result) in sides.iter().zip(&results) {
        assert_eq!(side.name, result.sampler);
        assert_eq!(side.steps, result.langevin_steps);
        let figures = side.figures.unwrap();
        assert_eq!(figures.energy_distance, result.samples.energy_distance, "{}", side.name);
        assert_eq!(figures.upper_moon_share, result.samples.upper_moon_share, "{}", side.name);
    }
    worker.send(Command::Compare(false));
    until(&worker, |s| s.compare.is_none());
    assert_eq!(worker.shutdown(WATCHDOG), Shutdown::Clean);
}
