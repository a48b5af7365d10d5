//! The UI's handle on the dashboard's `trainer` thread: [`Worker::spawn`] starts it on run 0,
//! [`Worker::send`] passes [`Command`]s, [`Worker::try_recv`] takes the latest [`Snapshot`],
//! and [`Worker::shutdown`] stops it within a grace period, reporting a panic with its
//! message. What the thread does each frame is in [`crate::trainer::thread`]. The tests here
//! drive the thread through this handle, as the dashboard does.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr};

use crate::config::Config;
use crate::nn::Mlp;
use crate::trainer::protocol::{Command, Settings, Snapshot};
use crate::trainer::thread::Trainer;

/// The UI's handle on the trainer thread.
pub struct Worker {
    commands: Sender<Command>,
    snapshots: Receiver<Snapshot>,
    /// Disconnects when the thread ends, however it ends.
    ended: Receiver<()>,
    thread: JoinHandle<()>,
    /// Set while the thread is idle, blocked on the command channel.
    #[cfg(test)]
    waiting: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// How the trainer thread ended.
#[derive(Debug, PartialEq)]
pub enum Shutdown {
    Clean,
    /// With the panic's message.
    Panicked(String),
    /// Still busy when the grace period ran out; it is left to end with the process.
    StillRunning,
}

impl Worker {
    /// Starts the `trainer` thread on run 0 of `config`, from `start`'s weights if given (a
    /// loaded checkpoint; later runs start from fresh ones).
    pub fn spawn(config: &Config, settings: Settings, start: Option<Mlp<f32>>) -> Result<Self> {
        let (commands, command_rx) = mpsc::channel();
        let (snapshot_tx, snapshots) = mpsc::sync_channel(1);
        let (ended_tx, ended) = mpsc::channel::<()>();
        let waiting = std::sync::Arc::<std::sync::atomic::AtomicBool>::default();
        let theirs = std::sync::Arc::clone(&waiting);
        let config = config.clone();
        let thread = thread::Builder::new()
            .name("trainer".into())
            .spawn(move || {
                let _ended = ended_tx;
                let mut trainer = Trainer::new(config, settings, start, snapshot_tx).with_waiting_flag(theirs);
                trainer.run(&command_rx);
            })
            .wrap_err("starting the trainer thread")?;
        #[cfg(not(test))]
        drop(waiting);
        Ok(Self {
            commands,
            snapshots,
            ended,
            thread,
            #[cfg(test)]
            waiting,
        })
    }

    /// Sends a command. A trainer that has gone shows up in [`Worker::try_recv`], so a failed
    /// send needs no handling here.
    pub fn send(&self, command: Command) {
        let _ = self.commands.send(command);
    }

    /// The next snapshot, if one is waiting; `Disconnected` once the trainer has stopped.
    pub fn try_recv(&self) -> Result<Snapshot, TryRecvError> {
        self.snapshots.try_recv()
    }

    /// Waits up to `timeout` for the next snapshot.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Snapshot, RecvTimeoutError> {
        self.snapshots.recv_timeout(timeout)
    }

    /// Stops the trainer and waits up to `grace` for it to finish its frame.
    pub fn shutdown(self, grace: Duration) -> Shutdown {
        let Self { commands, snapshots, ended, thread, .. } = self;
        // Dropping the receiver first releases a trainer blocked on a send.
        drop(snapshots);
        let _ = commands.send(Command::Quit);
        drop(commands);
        if let Err(RecvTimeoutError::Timeout) = ended.recv_timeout(grace) {
            return Shutdown::StillRunning;
        }
        match thread.join() {
            Ok(()) => Shutdown::Clean,
            Err(payload) => Shutdown::Panicked(
                payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "(no message)".into()),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::checkpoint;
    use crate::config::{Mode, Sampler};
    use crate::data::Builtin;
    use crate::eval::score_field::Field;
    use crate::eval::score_field::{self, Lattice};
    use crate::objective::Objective;
    use crate::sampling::chain::Chain;
    use crate::sampling::langevin::Particles;
    use crate::sampling::start::Start;
    use crate::seeds::{Stream, stream_rng};
    use crate::trainer::Session;
    use crate::trainer::protocol::Advance;
    use crate::trainer::protocol::{Saved, TrainerState};

    /// Generous: these tests wait for events, and a loaded CI machine may be slow.
    const WATCHDOG: Duration = Duration::from_secs(20);

    fn small() -> Config {
        Config { count: 200, batch_size: 16, epochs: 3, hidden: 16, particles: 300, ..Config::default() }
    }

    fn running() -> Settings {
        Settings {
            paused: false,
            eta: 0.01,
            step_scale: 0.1,
            steps_per_frame: 2,
            particles_held: false,
            training_pace: None,
            sampler: crate::config::Sampler::Annealed,
            beside: None,
        }
    }

    /// Receives snapshots until one satisfies `done`, returning them all.
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

    /// Waits until the trainer is idle, blocked on the command channel: it sends nothing more
    /// until a command comes. Returns the snapshots it sent before.
    fn until_quiet(worker: &Worker) -> Vec<Snapshot> {
        let start = Instant::now();
        let mut seen = Vec::new();
        loop {
            let waiting = worker.waiting.load(std::sync::atomic::Ordering::Acquire);
            // What it sent before it blocked (its last snapshot may still be in the channel).
            while let Ok(snapshot) = worker.try_recv() {
                seen.push(snapshot);
            }
            if waiting {
                return seen;
            }
            assert!(start.elapsed() < WATCHDOG, "watchdog: the trainer never went quiet");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Paced, training takes its steps a frame and the particles theirs in full beside it
    /// (training flat out, they would get a 5% share of the time): they flow under the score
    /// as it is being learned.
    #[test]
    fn a_paced_run_trains_its_steps_a_frame_while_the_particles_flow_in_full() {
        let config = Config { epochs: 100, ..small() };
        let settings = Settings { training_pace: Some(1), steps_per_frame: 5, ..running() };
        let worker = Worker::spawn(&config, settings, None).unwrap();
        let seen = until(&worker, |s| s.status.langevin_steps >= 100);
        let last = seen.last().expect("at least one snapshot");
        assert_eq!(last.status.state, TrainerState::Training, "1000 steps at one a frame take 50 s");
        // Each frame: five Langevin steps, then one training step.
        let frames = last.status.langevin_steps / 5;
        assert!(last.status.step.abs_diff(frames) <= 1, "{} training steps in {frames} frames", last.status.step);
        shutdown_within_watchdog(worker);
    }

    fn shutdown_within_watchdog(worker: Worker) {
        assert_eq!(worker.shutdown(WATCHDOG), Shutdown::Clean);
    }

    #[test]
    fn delivers_every_loss_once_and_the_data_first() {
        let config = small();
        let worker = Worker::spawn(&config, running(), None).unwrap();
        let seen = until(&worker, |s| s.status.state == TrainerState::Finished);
        assert!(seen[0].data.as_ref().is_some_and(|d| d.len() == config.train_len()));
        assert!(seen[1..].iter().all(|s| s.data.is_none()));
        let mut next = 1;
        for s in &seen {
            assert_eq!(s.train_from, next, "a gap or a repeat in the train losses");
            next += s.train.len() as u64;
        }
        assert_eq!(next - 1, config.total_steps());
        let epochs: Vec<usize> = seen.iter().flat_map(|s| s.test.iter().map(|t| t.epoch)).collect();
        assert_eq!(epochs, (0..=config.epochs).collect::<Vec<_>>());
        let fisher: Vec<usize> = seen.iter().flat_map(|s| s.fisher.iter().map(|t| t.epoch)).collect();
        assert_eq!(fisher, epochs, "a Fisher divergence with every test loss");
        assert!(seen.iter().all(|s| s.particles.len() == config.particles));
        shutdown_within_watchdog(worker);
    }

    #[test]
    fn particles_flow_after_training_finishes_and_resample_restarts_them() {
        let worker = Worker::spawn(&small(), running(), None).unwrap();
        until(&worker, |s| s.status.state == TrainerState::Finished && s.status.langevin_steps >= 10);
        worker.send(Command::Resample);
        let seen = until(&worker, |s| s.status.langevin_steps < 10);
        assert!(seen.last().unwrap().status.langevin_steps < 10);
        let figured = until(&worker, |s| s.status.figures.is_some());
        let figures = figured.last().unwrap().status.figures.unwrap();
        assert!(figures.energy_distance.is_finite());
        assert!(figures.upper_moon_share.is_some_and(|share| (0.0..=1.0).contains(&share)));
        shutdown_within_watchdog(worker);
    }

    #[test]
    fn pauses_and_goes_quiet_when_the_particles_stop_too() {
        // A million steps: still training when resumed, even in a fast release build.
        let config = Config { epochs: 100_000, ..small() };
        let worker = Worker::spawn(&config, running(), None).unwrap();
        until(&worker, |s| s.status.step > 0);
        worker.send(Command::Pause);
        worker.send(Command::SetStepsPerFrame(0));
        let seen = until(&worker, |s| s.status.state == TrainerState::Paused);
        let paused = seen.last().unwrap().clone();
        // The trainer may finish the frame it was in; after that, nothing moves, and it goes
        // quiet: blocked on the command channel.
        let settled = until_quiet(&worker).pop().unwrap_or(paused);
        assert_eq!(settled.status.state, TrainerState::Paused);
        worker.send(Command::Resume);
        let seen = until(&worker, |s| s.status.step > settled.status.step);
        assert_eq!(seen.last().unwrap().status.state, TrainerState::Training);
        assert_eq!(seen.last().unwrap().status.langevin_steps, settled.status.langevin_steps);
        shutdown_within_watchdog(worker);
    }

    #[test]
    fn a_new_run_restarts_with_the_seed_it_is_given_and_its_own_data() {
        let config = small();
        let worker = Worker::spawn(&config, running(), None).unwrap();
        until(&worker, |s| s.status.step > 5);
        let next = Config { seed: config.seed + 1, ..config.clone() };
        worker.send(Command::NewRun { run_id: 1, config: Box::new(next) });
        let seen = until(&worker, |s| s.run_id == 1);
        let first = seen.last().unwrap();
        assert_eq!(first.status.seed, config.seed + 1);
        assert_eq!(first.train_from, 1);
        assert!(first.data.is_some());
        shutdown_within_watchdog(worker);
    }

    #[test]
    fn a_new_run_takes_the_configuration_it_is_given() {
        let config = small();
        let worker = Worker::spawn(&config, running(), None).unwrap();
        until(&worker, |s| s.status.step > 5);
        let circles = Config { objective: Objective::Ism, ..Config::for_builtin(Builtin::Circles) };
        let next = Config { source: circles.source, objective: circles.objective, noise: circles.noise, ..config };
        worker.send(Command::NewRun { run_id: 1, config: Box::new(next.clone()) });
        let seen = until(&worker, |s| s.run_id == 1);
        let expected = Session::new(&next);
        let first = &expected.data().train();
        assert_eq!(seen.last().unwrap().data.as_ref().unwrap()[0], [first[[0, 0]], first[[0, 1]]], "the circles");
        assert_eq!(seen.last().unwrap().test[0].loss, expected.history().test[0].loss, "ISM's test loss");
        shutdown_within_watchdog(worker);
    }

    #[test]
    fn saves_the_weights_and_reports_where_with_the_next_snapshot() {
        let dir = std::env::temp_dir().join(format!("dsm-tui-worker-save-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("run.safetensors");
        let config = Config { epochs: 100_000, ..small() };
        let worker = Worker::spawn(&config, running(), None).unwrap();
        until(&worker, |s| s.status.step > 0);
        worker.send(Command::Pause);
        worker.send(Command::Save(Some(path.clone())));
        let seen = until(&worker, |s| s.saved.is_some());
        assert_eq!(seen.last().unwrap().saved, Some(Saved { path: path.clone(), error: None, replaced: false }));
        let loaded = checkpoint::load(&path, &config).expect("a checkpoint of the run");
        assert_eq!(loaded.width(), config.hidden);
        let later = until(&worker, |_| true);
        assert_eq!(later[0].saved, None, "reported once");

        worker.send(Command::Save(Some(dir.join("no-such-dir").join("run.safetensors"))));
        let seen = until(&worker, |s| s.saved.is_some());
        let error = seen.last().unwrap().saved.as_ref().unwrap().error.clone();
        assert!(error.is_some_and(|e| e.contains("No such file")), "the error, not a crash");
        shutdown_within_watchdog(worker);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_loaded_model_starts_the_first_run_only() {
        let config = small();
        let model = Mlp::init(config.hidden, config.depth, config.activation, &mut stream_rng(99, Stream::Weights));
        let initial_test_loss = |session: Session| session.history().test[0].loss;
        let expected = initial_test_loss(Session::for_dashboard(&config, Some(model.clone())));
        assert_ne!(expected, initial_test_loss(Session::new(&config)), "the test must tell them apart");

        let worker = Worker::spawn(&config, running(), Some(model)).unwrap();
        let first = until(&worker, |_| true).remove(0);
        assert_eq!(first.test[0].loss, expected);
        worker.send(Command::NewRun { run_id: 1, config: Box::new(config.clone()) });
        let seen = until(&worker, |s| s.run_id == 1);
        let fresh = Session::new(&config);
        assert_eq!(seen.last().unwrap().test[0].loss, initial_test_loss(fresh));
        shutdown_within_watchdog(worker);
    }

    #[test]
    fn reports_divergence_and_keeps_answering() {
        let config = Config { lr: 1000.0, epochs: 1000, ..small() };
        let worker = Worker::spawn(&config, running(), None).unwrap();
        let seen = until(&worker, |s| matches!(s.status.state, TrainerState::Diverged(_)));
        let TrainerState::Diverged(d) = seen.last().unwrap().status.state else { unreachable!() };
        assert!(d.step >= 1);
        worker.send(Command::NewRun { run_id: 1, config: Box::new(config.clone()) });
        until(&worker, |s| s.run_id == 1);
        shutdown_within_watchdog(worker);
    }

    fn small_annealed() -> Config {
        Config {
            mode: Mode::Annealed,
            levels: crate::noise_levels::NoiseLevels::geometric(1.0, 0.1, 3),
            level_steps: 7,
            steps: 30,
            ..small()
        }
    }

    fn positions(particles: &Particles) -> Vec<[f32; 2]> {
        let mut all = Vec::new();
        particles.for_each(|x, y| all.push([x, y]));
        all
    }

    /// Held from the start, the particles wait for training to finish; then each command
    /// moves them exactly as `AnnealedSampler` run in pieces on the final weights moves
    /// them, and the readout is that of where they are.
    #[test]
    fn held_particles_move_exactly_one_step_or_one_level_on_command() {
        let config = small_annealed();
        let mut session = Session::new(&config);
        while session.train_step().expect("trains").is_some() {}
        let mut expected =
            Start::for_run(&config, config.dataset().train()).particles(config.particles, config.seed, 0);
        let mut chain = Chain::annealed(&config);

        let held = Settings { particles_held: true, ..running() };
        let worker = Worker::spawn(&config, held, None).unwrap();
        // Under training the readout is refreshed once a second; on the final weights, at once.
        let final_readout = Some(chain.readout(&expected, session.model()));
        let seen =
            until(&worker, |s| s.status.state == TrainerState::Finished && s.status.chain.readout == final_readout);
        assert!(seen.iter().all(|s| s.status.langevin_steps == 0), "held particles do not move");

        let moves = [(Advance::Step, 1, (0, 1)), (Advance::Level, 7, (1, 0)), (Advance::Step, 8, (1, 1))];
        for (by, steps, (level, step)) in moves {
            worker.send(Command::Advance(by));
            let seen = until(&worker, |s| s.status.langevin_steps == steps && s.status.chain.readout.is_some());
            let now = seen.last().unwrap();
            match by {
                Advance::Step => chain.advance(&mut expected, session.model(), 1),
                Advance::Level => chain.advance_level(&mut expected, session.model(), 0),
            }
            assert_eq!(now.particles, positions(&expected), "after {by:?} to step {steps}");
            let position = now.status.chain.position.expect("annealed");
            assert_eq!((position.level, position.step), (level, step));
            assert_eq!(now.status.chain.readout, Some(chain.readout(&expected, session.model())));
        }
        // The rest of level 2, level 3, then the denoising step: the end.
        let mut last = None;
        for steps in [14, 21, 22] {
            worker.send(Command::Advance(Advance::Level));
            last = until(&worker, |s| s.status.langevin_steps == steps && s.status.chain.readout.is_some()).pop();
        }
        let done = last.unwrap();
        assert!(done.status.chain.done);
        assert!(!done.status.chain.next.noise, "the denoising step has no noise");
        assert_eq!(done.status.chain.readout.and_then(|r| r.signal_to_noise), None, "no noise, no SNR");
        worker.send(Command::Advance(Advance::Level));
        worker.send(Command::Resample);
        let restarted = until(&worker, |s| s.status.langevin_steps == 0).pop().unwrap();
        assert!(!restarted.status.chain.done && restarted.status.chain.position.is_some_and(|p| p.level == 0));
        shutdown_within_watchdog(worker);
    }

    /// In annealed mode the field is read at the particles' level: σ₁ before they move, the
    /// next σ after each `>`; each snapshot's field is at the σ its chain status shows, and on
    /// the final weights it is exactly `score_field`'s at that σ.
    #[test]
    fn the_annealed_score_field_follows_the_particles_level() {
        let config = small_annealed();
        let mut session = Session::new(&config);
        while session.train_step().expect("trains").is_some() {}
        let lattice = Lattice { x0: -1.0, dx: 0.5, cols: 5, y0: 1.0, dy: -0.5, rows: 4 };
        let points = lattice.points();
        let expected = |sigma: f64| Field {
            lattice,
            sigma,
            learned: score_field::learned(session.model(), sigma, points.view()),
            exact: score_field::exact(session.data().train(), sigma, points.view()),
        };
        let consistent = |seen: &[Snapshot]| {
            for s in seen {
                if let Some(field) = &s.field {
                    assert_eq!(field.sigma, s.status.chain.next.sigma, "the field at the σ the status shows");
                }
            }
        };

        let worker = Worker::spawn(&config, Settings { particles_held: true, ..running() }, None).unwrap();
        worker.send(Command::ShowField(Some(lattice)));
        let sigmas = config.levels.sigmas.clone();
        let seen = until(&worker, |s| {
            s.status.state == TrainerState::Finished && s.field.as_ref().is_some_and(|f| *f == expected(sigmas[0]))
        });
        consistent(&seen);
        for (level, &sigma) in sigmas.iter().enumerate().skip(1) {
            worker.send(Command::Advance(Advance::Level));
            let seen = until(&worker, |s| s.field.as_ref().is_some_and(|f| f.sigma == sigma));
            consistent(&seen);
            assert_eq!(seen.last().unwrap().field.as_ref(), Some(&expected(sigma)), "level {level}");
        }
        // Back to the first level: the exact field comes from the cache, the same.
        worker.send(Command::Resample);
        let seen = until(&worker, |s| s.field.as_ref().is_some_and(|f| f.sigma == sigmas[0]));
        assert_eq!(seen.last().unwrap().field.as_ref(), Some(&expected(sigmas[0])));
        shutdown_within_watchdog(worker);
    }

    #[test]
    fn let_go_the_annealed_chain_runs_to_its_end_and_stops() {
        let worker = Worker::spawn(&small_annealed(), Settings { steps_per_frame: 5, ..running() }, None).unwrap();
        let done = until(&worker, |s| s.status.state == TrainerState::Finished && s.status.chain.done).pop().unwrap();
        assert_eq!(done.status.langevin_steps, 22, "3 levels × 7 steps and the denoising step, no more");
        // Nothing moves any more: the trainer goes quiet, blocked on the command channel.
        let settled = until_quiet(&worker);
        assert!(settled.iter().all(|s| s.status.langevin_steps == 22), "the particles stopped");
        shutdown_within_watchdog(worker);
    }

    /// Paced training outlasts the annealed schedule: its result is delivered ended, and
    /// later the schedule runs again from fresh particles, training still going on. How long
    /// the ended result stays (RERUN_AFTER) is `thread::tests`' to check, on an injected clock.
    #[test]
    fn an_ended_schedule_runs_again_while_paced_training_goes_on() {
        let config = Config { epochs: 100, ..small_annealed() };
        let settings = Settings { training_pace: Some(1), steps_per_frame: 5, ..running() };
        let worker = Worker::spawn(&config, settings, None).unwrap();
        let ended = until(&worker, |s| s.status.chain.done).pop().unwrap();
        assert_eq!(ended.status.langevin_steps, 22, "3 levels × 7 steps and the denoising step");
        assert_eq!(ended.status.state, TrainerState::Training, "1000 steps at one a frame take 50 s");
        let again = until(&worker, |s| !s.status.chain.done).pop().unwrap();
        assert_eq!(again.status.state, TrainerState::Training, "1000 steps at one a frame take 50 s");
        assert!(
            again.status.langevin_steps < 22,
            "fresh particles from level 1: {} steps",
            again.status.langevin_steps
        );
        assert!(again.status.step > ended.status.step, "training went on meanwhile");
        shutdown_within_watchdog(worker);
    }

    /// `s`'s command: the particles start again from the prior and follow the new sampler
    /// down its grid, the status counting its steps and evaluations to the end.
    #[test]
    fn a_new_sampler_starts_the_particles_again_down_its_grid() {
        let worker = Worker::spawn(&small_annealed(), running(), None).unwrap();
        until(&worker, |s| s.status.state == TrainerState::Finished);
        worker.send(Command::SetSampler(Sampler::OdeHeun));
        let seen = until(&worker, |s| s.status.chain.done && s.status.chain.progress.is_some());
        let progress: Vec<_> = seen.iter().filter_map(|s| s.status.chain.progress).collect();
        let last = progress.last().expect("progress");
        // Heun's default budget, 50: 24 steps of two and the denoising step.
        assert_eq!((last.evaluations_spent, last.evaluations, last.steps_taken, last.steps), (49, 49, 25, 25));
        assert!(progress.windows(2).all(|w| w[0].evaluations_spent <= w[1].evaluations_spent), "{progress:?}");
        assert_eq!(seen.last().unwrap().status.langevin_steps, 25, "counted from the new start");
        shutdown_within_watchdog(worker);
    }

    /// While the paths view is on, the snapshots bring a dozen paths through the whole
    /// chain; off, none.
    #[test]
    fn the_paths_come_only_while_asked() {
        let worker = Worker::spawn(&small_annealed(), running(), None).unwrap();
        let seen = until(&worker, |s| s.status.state == TrainerState::Finished);
        assert!(seen.iter().all(|s| s.paths.is_none()), "nothing traced with the view off");
        worker.send(Command::ShowPaths(true));
        let paths = until(&worker, |s| s.paths.is_some()).pop().and_then(|s| s.paths).expect("paths");
        assert_eq!(paths.len(), crate::sampling::paths::PATH_COUNT);
        // Annealed: the start, the end of each of the 3 levels, the denoising step.
        assert!(paths.iter().all(|p| p.len() == 5), "{:?}", paths.iter().map(Vec::len).collect::<Vec<_>>());
        worker.send(Command::ShowPaths(false));
        worker.send(Command::SetSampler(Sampler::OdeEuler));
        let seen = until(&worker, |s| s.status.chain.done && s.status.chain.progress.is_some());
        assert!(seen.iter().all(|s| s.paths.is_none()), "off again: none");
        shutdown_within_watchdog(worker);
    }

    /// While the log-density view is on, a map comes on its lattice: the model's through the
    /// ODE and the exact one, as `eval::likelihood` computes them from the final weights.
    #[test]
    fn the_log_density_map_comes_on_the_lattice_asked() {
        let config = small_annealed();
        let worker = Worker::spawn(&config, running(), None).unwrap();
        until(&worker, |s| s.status.state == TrainerState::Finished);
        let lattice = Lattice { x0: -1.0, dx: 0.5, cols: 5, y0: 1.0, dy: -0.5, rows: 4 };
        worker.send(Command::ShowDensity(Some(lattice)));
        let map = until(&worker, |s| s.density.is_some()).pop().and_then(|s| s.density).expect("a map");
        let mut session = Session::new(&config);
        while session.train_step().expect("trains").is_some() {}
        let train = session.data().train();
        assert_eq!(map.lattice, lattice);
        assert_eq!(map.exact, crate::eval::likelihood::exact_map(train, &config.levels, &lattice));
        let learned = crate::eval::likelihood::learned_map(session.model(), train, &config.levels, &lattice);
        assert_eq!(map.learned, Some(learned));
        shutdown_within_watchdog(worker);
    }

    /// Held on the ODE, the status carries the model's mean log density where the particles
    /// are, at their σ, as `eval::likelihood` measures it; other samplers carry none.
    #[test]
    fn the_odes_particles_carry_their_mean_log_density() {
        let config = small_annealed();
        let held = Settings { particles_held: true, sampler: Sampler::OdeHeun, ..running() };
        let worker = Worker::spawn(&config, held, None).unwrap();
        until(&worker, |s| s.status.state == TrainerState::Finished);
        worker.send(Command::Advance(Advance::Step));
        let seen = until(&worker, |s| s.status.langevin_steps == 1 && s.status.chain.log_density.is_some());
        let status = seen.last().unwrap().status;
        let (sigma, log_density) = status.chain.log_density.unwrap();
        assert_eq!(sigma, status.chain.next.sigma, "measured where they are");
        assert!(log_density.is_finite() && log_density < 5.0, "{log_density}");
        worker.send(Command::SetSampler(Sampler::ReverseDiffusion));
        worker.send(Command::Advance(Advance::Step));
        let seen = until(&worker, |s| {
            s.status.langevin_steps == 1 && s.status.chain.progress.is_some_and(|p| p.evaluations == 200)
        });
        assert!(seen.last().unwrap().status.chain.log_density.is_none(), "not an ODE");
        shutdown_within_watchdog(worker);
    }

    #[test]
    fn a_single_sigma_model_has_no_comparison() {
        let worker = Worker::spawn(&small(), running(), None).unwrap();
        until(&worker, |s| s.status.state == TrainerState::Finished);
        worker.send(Command::Compare(true));
        worker.send(Command::Advance(Advance::Step));
        let seen = until(&worker, |s| s.status.chain.readout.is_some());
        assert!(seen.iter().all(|s| s.compare.is_none()));
        shutdown_within_watchdog(worker);
    }

    #[test]
    fn the_score_field_comes_only_while_asked_on_the_lattice_asked() {
        // No decay: 10 steps an epoch would otherwise shrink the learning rate to nothing
        // within a second, and the weights would stop moving.
        let config = Config { epochs: 100_000, lr_gamma: 1.0, ..small() };
        let worker = Worker::spawn(&config, running(), None).unwrap();
        let seen = until(&worker, |s| s.status.step > 0);
        assert!(seen.iter().all(|s| s.field.is_none()), "nothing computed with the view off");
        let data = seen[0].data.clone().expect("the first snapshot has the data");

        let lattice = Lattice { x0: -1.0, dx: 0.5, cols: 5, y0: 1.0, dy: -0.5, rows: 4 };
        worker.send(Command::ShowField(Some(lattice)));
        let seen = until(&worker, |s| s.field.is_some());
        let first_step = seen.last().unwrap().status.step;
        let field = seen.last().unwrap().field.clone().unwrap();
        assert_eq!((field.lattice, field.sigma), (lattice, config.sigma));
        let data = ndarray::Array2::from_shape_fn((data.len(), 2), |(i, d)| data[i][d]);
        assert_eq!(field.exact, score_field::exact(data.view(), config.sigma, lattice.points().view()));
        assert_eq!(field.learned.len(), lattice.len());
        assert!(field.learned.iter().flatten().all(|v| v.is_finite()));

        // While training the learned field follows the weights: each new field comes at a
        // new training step, never twice for the same weights. (That it comes at most every
        // FIELD_EVERY, not every frame, is `field_cache::tests`' to check, on an injected clock.)
        let mut count = 0;
        let seen = until(&worker, |s| {
            count += usize::from(s.field.is_some());
            count == 3
        });
        let mut steps = vec![first_step];
        steps.extend(seen.iter().filter(|s| s.field.is_some()).map(|s| s.status.step));
        assert!(steps.windows(2).all(|w| w[0] < w[1]), "a field per training step at most: {steps:?}");
        let fields: Vec<&Field> = seen.iter().filter_map(|s| s.field.as_ref()).collect();
        assert!(fields.iter().all(|f| f.exact == field.exact), "the exact field is the same data's");
        assert_ne!(fields.last().unwrap().learned, field.learned, "the weights have moved");

        // Paused with the particles stopped: one field of the frozen weights, then quiet.
        worker.send(Command::Pause);
        worker.send(Command::SetStepsPerFrame(0));
        let mut seen = until(&worker, |s| s.status.state == TrainerState::Paused);
        seen.extend(until_quiet(&worker));
        let frozen: Vec<&Field> = seen
            .iter()
            .rev()
            .take_while(|s| s.status.state == TrainerState::Paused)
            .filter_map(|s| s.field.as_ref())
            .collect();
        assert!(frozen.len() <= 1, "{} fields of the frozen weights", frozen.len());

        worker.send(Command::ShowField(None));
        worker.send(Command::SetStepsPerFrame(2));
        let seen = until(&worker, |s| s.status.langevin_steps > 10);
        assert!(seen.iter().all(|s| s.field.is_none()), "the view is off again");
        shutdown_within_watchdog(worker);
    }

    #[test]
    fn stops_when_the_ui_goes_away_even_if_idle() {
        let worker = Worker::spawn(&small(), Settings { paused: true, steps_per_frame: 0, ..running() }, None).unwrap();
        until(&worker, |s| s.status.state == TrainerState::Paused);
        shutdown_within_watchdog(worker);
    }
}
