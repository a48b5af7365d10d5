//! The dashboard's `trainer` thread's loop: it owns a [`Session`](crate::trainer::Session) (model, optimiser, data, random
//! streams) and the Langevin [`Particles`](crate::sampling::langevin::Particles), obeys [`Command`]s from the UI and sends back a
//! [`Snapshot`] about every [`FRAME`], through the [`crate::trainer::worker::Worker`] handle.
//!
//! **A frame.** The particles take up to `steps_per_frame` Langevin steps under the current
//! weights, as many as fit in the frame ([`crate::trainer::flow`]: at 100 000 particles a
//! part of one), then this thread trains until the frame's deadline (frames are due every
//! [`FRAME`] on a fixed grid). While training flat out, the
//! particles (and their figures) get at most a share of the time ([`crate::trainer::budget`]).
//! With training paused or over they take their steps in full, on every core, and the thread waits out the rest of the frame on
//! the command channel, so the flow keeps its pace. Paced ([`Command::SetTrainingPace`]),
//! training takes its few steps a frame and the particles are treated as in a pause: they
//! then flow under the score while it is being learned.
//!
//! **Delivery.** Snapshots go over a channel of capacity one with `try_send`: when the UI has
//! not taken the last one, this one is dropped and the next frame builds a newer one (latest
//! wins). Each snapshot carries every train loss not yet delivered, and they are let go only
//! once one has been delivered, so a dropped snapshot loses no point; the session itself keeps
//! none, so memory does not grow with the run (see `Undelivered` for a UI that stops taking
//! snapshots altogether). Each snapshot carries the `run_id` of its run, so the UI
//! can drop those of a run it has replaced.
//!
//! **The particles' chain.** They follow a [`Chain`](crate::sampling::chain::Chain): the course's chain without end, or in
//! `--mode annealed` the annealed schedule, which stops after its denoising step. Held
//! ([`Command::HoldParticles`]), they move only on [`Command::Advance`] (a step, a level),
//! and each snapshot carries the next step's [`Readout`](crate::sampling::chain::Readout) (mean ‖s‖, SNR) for where they are.
//! [`Command::Compare`] runs both sides of [`crate::sampling::compare::sides`] instead, under
//! the current weights (see [`LiveComparison`]).
//!
//! **Score field.** While the UI's field view is on ([`Command::ShowField`]), each frame may
//! evaluate the score fields on the UI's lattice (`field_cache.rs`).
//!
//! **Saving.** [`Command::Save`] writes a checkpoint of the run's weights and configuration
//! here, where the weights are; the outcome rides on the next delivered snapshot.
//!
//! **Idle.** Paused (or finished, or diverged) with the particles stopped, the thread makes
//! sure the UI has the final state, then blocks on the command channel: no polling. It stops
//! on [`Command::Quit`], when the command channel closes, or when a send finds the UI gone.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::eval::likelihood::LogDensityMap;
use crate::eval::score_field::Field;
use crate::nn::Mlp;
use crate::rate::RateMeter;
use crate::sampling::langevin::Particles;
use crate::trainer::budget::SamplingBudget;
use crate::trainer::compare::LiveComparison;
use crate::trainer::density_cache::DensityCache;
use crate::trainer::field_cache::FieldCache;
use crate::trainer::figures::FIGURES_EVERY;
use crate::trainer::flow::{Flow, Piece, SAMPLING_TIME};
use crate::trainer::path_cache::PathCache;
use crate::trainer::protocol::{
    ChainStatus, Command, FRAME, Paths, Saved, Settings, Snapshot, TrainerState, TrainerStatus,
};
use crate::trainer::run::Run;

/// How long an ended annealed schedule stays on screen before it runs again while training
/// goes on (see `rerun_ended_schedule`).
pub const RERUN_AFTER: Duration = Duration::from_millis(1500);

enum Delivery {
    Sent,
    /// The UI has not taken the previous snapshot yet.
    Busy,
    UiGone,
}

/// The ended schedule's timer at `now` (the clock passed in, so tests need not wait on
/// it): when the schedule was first seen ended, while it still is, and whether it runs
/// again now, [`RERUN_AFTER`] later.
fn rerun_timer(ended: bool, ended_at: Option<Instant>, now: Instant) -> (Option<Instant>, bool) {
    match (ended, ended_at) {
        (false, _) => (None, false),
        (true, None) => (Some(now), false),
        (true, Some(at)) => (Some(at), now.saturating_duration_since(at) >= RERUN_AFTER),
    }
}

pub struct Trainer {
    config: Config,
    settings: Settings,
    run: Run,
    /// Resamples so far, numbering the particles' random streams so each draw is fresh.
    resamples: u64,
    snapshots: SyncSender<Snapshot>,
    steps: RateMeter,
    /// Langevin steps taken, in thousandths (parts of a step count), and their rate.
    langevin_done: u64,
    langevin: RateMeter,
    /// What a chunk-step costs, to fit the particles' steps in a frame.
    flow: Flow,
    /// The end of the last frame.
    last_deadline: Option<Instant>,
    figures_at: Option<Instant>,
    readout_at: Option<Instant>,
    /// When the ODE's mean log density was last measured.
    log_density_at: Option<Instant>,
    sampling: SamplingBudget,
    /// Something changed since the last delivered snapshot.
    undelivered: bool,
    /// The outcome of a save, until a delivered snapshot has carried it.
    saved: Option<Saved>,
    /// While the UI's score field view is on.
    field_view: Option<FieldCache>,
    /// The fields last evaluated, until a delivered snapshot has carried them.
    field: Option<Field>,
    /// While the UI's paths view is on.
    path_view: Option<PathCache>,
    /// The paths last traced, until a delivered snapshot has carried them.
    paths: Option<Paths>,
    /// While the UI's log-density view is on.
    density_view: Option<DensityCache>,
    /// The map last computed, until a delivered snapshot has carried it.
    density: Option<LogDensityMap>,
    /// When the annealed schedule was first seen ended while training went on.
    schedule_ended_at: Option<Instant>,
    /// Set while idle, blocked on the command channel: the handle's tests wait on it to know
    /// the thread has gone quiet.
    waiting: Arc<AtomicBool>,
}

impl Trainer {
    pub fn new(config: Config, settings: Settings, start: Option<Mlp<f32>>, snapshots: SyncSender<Snapshot>) -> Self {
        let run = Run::new(&config, 0, 0, start, &settings);
        Self {
            config,
            settings,
            run,
            resamples: 0,
            snapshots,
            steps: RateMeter::default(),
            langevin_done: 0,
            langevin: RateMeter::default(),
            flow: Flow::default(),
            last_deadline: None,
            figures_at: None,
            readout_at: None,
            log_density_at: None,
            sampling: SamplingBudget::default(),
            undelivered: true,
            saved: None,
            field_view: None,
            field: None,
            path_view: None,
            paths: None,
            density_view: None,
            density: None,
            schedule_ended_at: None,
            waiting: Arc::default(),
        }
    }

    /// Sets `flag` while idle, blocked on the command channel (and so sending nothing until a
    /// command comes).
    pub fn with_waiting_flag(self, flag: Arc<AtomicBool>) -> Self {
        Self { waiting: flag, ..self }
    }

    pub fn run(&mut self, commands: &Receiver<Command>) {
        loop {
            loop {
                match commands.try_recv() {
                    Ok(command) => {
                        if !self.obey(command) {
                            return;
                        }
                    }
                    Err(TryRecvError::Disconnected) => return,
                    Err(TryRecvError::Empty) => break,
                }
            }
            self.refresh_field();
            self.refresh_paths();
            self.refresh_density();
            self.run.time_training(self.is_training(), Instant::now());
            if self.is_idle() {
                if self.run.figures_stale() {
                    self.refresh_figures_here();
                }
                if self.readout_stale() {
                    self.refresh_readout_here();
                }
                if self.run.log_density_stale() {
                    self.run.read_log_density();
                    self.log_density_at = Some(Instant::now());
                    self.undelivered = true;
                }
                if let Some(comparison) = &mut self.run.comparison
                    && comparison.figures_due()
                {
                    comparison.refresh_figures(&self.run.test_points, self.run.moons);
                    self.undelivered = true;
                }
                if self.undelivered && matches!(self.deliver(true), Delivery::UiGone) {
                    return;
                }
                self.waiting.store(true, Ordering::Release);
                let command = commands.recv();
                self.waiting.store(false, Ordering::Release);
                match command {
                    Ok(command) => {
                        if self.obey(command) {
                            continue;
                        }
                        return;
                    }
                    Err(_) => return,
                }
            }
            let deadline = self.frame_deadline(Instant::now());
            self.rerun_ended_schedule();
            self.frame(deadline);
            // The frame may have taken the particles to the next level: their snapshot then
            // carries the field at its σ.
            self.refresh_field();
            self.refresh_paths();
            self.refresh_density();
            if matches!(self.deliver(false), Delivery::UiGone) {
                return;
            }
            if !self.is_training_flat_out() {
                // Keep the particles' (and a paced training's) pace while staying responsive
                // to commands.
                while let Some(left) = deadline.checked_duration_since(Instant::now()) {
                    match commands.recv_timeout(left) {
                        Ok(command) => {
                            if !self.obey(command) {
                                return;
                            }
                        }
                        Err(RecvTimeoutError::Timeout) => break,
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
            }
        }
    }

    /// Applies a command; `false` means stop.
    fn obey(&mut self, command: Command) -> bool {
        self.settings.apply(&command);
        match command {
            Command::Resume | Command::SetTrainingPace(_) => {
                // The last window would otherwise average in the pause, or two paces.
                self.steps = RateMeter::default();
            }
            Command::NewRun { run_id, config } => {
                self.config = *config;
                self.run = Run::new(&self.config, run_id, self.resamples, None, &self.settings);
                self.steps = RateMeter::default();
                self.figures_at = None;
                self.field = None;
                if let Some(view) = &mut self.field_view {
                    *view = view.cleared();
                }
                if self.path_view.is_some() {
                    self.path_view = Some(PathCache::default());
                }
                if let Some(view) = &mut self.density_view {
                    *view = view.cleared();
                }
                self.density = None;
            }
            Command::Resample => self.resample(),
            Command::SetSampler(_) => {
                self.resample();
                // The comparison's right side is the sampler chosen.
                if self.run.comparison.is_some() {
                    self.run.compare(true, &self.settings);
                }
            }
            Command::SetBeside(_) => {
                if self.run.comparison.is_some() {
                    self.run.compare(true, &self.settings);
                }
            }
            Command::SetEta(eta) => self.run.chain.set_eta(eta),
            Command::SetStepScale(c) => self.run.chain.set_step_scale(c),
            Command::Advance(by) => self.run.advance(by),
            Command::Compare(on) => self.run.compare(on, &self.settings),
            Command::Save(to) => self.saved = Some(self.run.save(to.as_deref())),
            Command::ShowDensity(lattice) => {
                self.density_view = lattice.map(DensityCache::new);
                self.density = None;
            }
            Command::ShowPaths(on) => {
                self.path_view = on.then(PathCache::default);
                self.paths = None;
            }
            Command::ShowField(lattice) => {
                self.field_view = lattice.map(FieldCache::new);
                self.field = None;
            }
            Command::Quit => return false,
            Command::SetStepsPerFrame(_) => self.langevin = RateMeter::default(),
            Command::Pause | Command::HoldParticles(_) => {}
        }
        self.undelivered = true;
        true
    }

    fn is_training(&self) -> bool {
        self.run.is_training(&self.settings)
    }

    /// Fresh particles, on a stream of their own.
    fn resample(&mut self) {
        self.resamples += 1;
        self.run.resample(self.resamples, &self.settings);
        self.figures_at = None;
        self.schedule_ended_at = None;
    }

    /// While training goes on, an annealed schedule that has ended starts again from fresh
    /// particles once its result has been on screen for [`RERUN_AFTER`]: a paced training
    /// lasts minutes, the schedule seconds, and the samples should keep showing the score as
    /// it is learned, as the course's endless chain does. (Flat out, training ends before the
    /// first schedule does; held or compared, the particles are the user's to move.)
    fn rerun_ended_schedule(&mut self) {
        let run = &self.run;
        let ended = self.is_training()
            && !self.settings.particles_held
            && run.comparison.is_none()
            && run.chain.is_done(&run.particles);
        let (ended_at, rerun) = rerun_timer(ended, self.schedule_ended_at, Instant::now());
        self.schedule_ended_at = ended_at;
        if rerun {
            self.resample();
        }
    }

    /// The end of a frame starting `now`: a [`FRAME`] after the last one's end, so that frames
    /// keep to a grid of 20 a second instead of each adding the loop's own time (frames came
    /// 51.3 ms apart, 19.5 a second); a [`FRAME`] from now after one overran or after idling.
    fn frame_deadline(&mut self, now: Instant) -> Instant {
        let next = self.last_deadline.map(|d| d + FRAME).filter(|&d| d > now).unwrap_or(now + FRAME);
        self.last_deadline = Some(next);
        next
    }

    /// Training takes every frame's spare time: no pace set.
    fn is_training_flat_out(&self) -> bool {
        self.is_training() && self.settings.training_pace.is_none()
    }

    fn is_flowing(&self) -> bool {
        self.run.is_flowing(&self.settings)
    }

    fn is_idle(&self) -> bool {
        !self.is_training() && !self.is_flowing()
    }

    fn readout_stale(&self) -> bool {
        self.run.readout_stale(&self.settings, self.resamples)
    }

    fn refresh_readout_here(&mut self) {
        let run = &mut self.run;
        let readout = run.chain.readout(&run.particles, run.session.model());
        run.readout = Some((run.readout_key(self.resamples), readout));
        self.readout_at = Some(Instant::now());
        self.undelivered = true;
    }

    /// One frame of work: Langevin steps and, while training, training steps until `deadline`
    /// (or as many as the pace allows). Paced, training leaves the particles the whole of their
    /// steps, as when it is paused: then they flow while the score is being learned.
    fn frame(&mut self, deadline: Instant) {
        let started = Instant::now();
        let training = self.is_training();
        let flat_out = self.is_training_flat_out();
        if flat_out {
            self.sampling.earn(FRAME);
        }
        let steps = if self.is_flowing() { self.settings.steps_per_frame } else { 0 };
        let once_a_while = |at: Option<Instant>| at.is_none_or(|t| t.elapsed() >= FIGURES_EVERY);
        let figures_due = self.run.figures_stale() && once_a_while(self.figures_at);
        // Under training the weights change every step: once a second is enough.
        let readout_due = self.readout_stale() && (!training || once_a_while(self.readout_at));
        let readout_key = self.run.readout_key(self.resamples);
        // While training flat out the budget meters each piece of work; otherwise it does not.
        // The figures first: due once a second, they would otherwise never find credit left
        // after a frame's steps.
        let (resamples, eta) = (self.resamples, self.settings.eta);
        if figures_due && self.sampling.spend(flat_out, || self.run.read_figures(resamples, eta)) {
            self.figures_at = Some(Instant::now());
        }
        // The ODE's mean log density, as often as the figures (256 particles up the ODE).
        let log_density_due = self.run.log_density_stale() && once_a_while(self.log_density_at);
        if log_density_due && self.sampling.spend(flat_out, || self.run.read_log_density()) {
            self.log_density_at = Some(Instant::now());
        }
        let Run { session, particles, chain, comparison, test_points, moons, readout, .. } = &mut self.run;
        let budget = &mut self.sampling;
        if readout_due
            && budget.spend(flat_out, || *readout = Some((readout_key, chain.readout(particles, session.model()))))
        {
            self.readout_at = Some(Instant::now());
        }
        let model = session.model();
        if let Some(comparison) = comparison.as_mut()
            && comparison.figures_due()
        {
            budget.spend(flat_out, || comparison.refresh_figures(test_points, *moons));
        }
        // What the figures left of the frame's sampling time. Free of training, the steps go
        // in one call (one parallel dispatch, not many); flat out, a step at a time while the
        // budget's share lasts. A part of a step ends the frame's sampling either way.
        let time = SAMPLING_TIME.saturating_sub(started.elapsed());
        let progress = |comparison: &Option<LiveComparison>, particles: &Particles| match comparison {
            Some(comparison) => comparison.chunks(),
            None => (particles.chunk_count(), particles.chunk_steps()),
        };
        let mut taken = 0;
        while taken < steps {
            let (chunks, before) = progress(comparison, particles);
            let piece = self.flow.piece(if flat_out { 1 } else { steps - taken }, chunks, time);
            let began = Instant::now();
            let moved = budget.spend(flat_out, || match (comparison.as_mut(), piece) {
                (Some(comparison), Piece::Steps(n)) => comparison.advance(model, n),
                // Both sides move: half the chunks each.
                (Some(comparison), Piece::Chunks(n)) => comparison.advance_part(model, n.div_ceil(2)),
                (None, Piece::Steps(n)) => chain.advance(particles, model, n),
                (None, Piece::Chunks(n)) => chain.advance_part(particles, model, n),
            });
            if !moved {
                break;
            }
            let (_, after) = progress(comparison, particles);
            self.flow.observe(after - before, began.elapsed());
            self.langevin_done += (after - before) * 1000 / chunks.max(1) as u64;
            taken = match piece {
                Piece::Steps(n) if flat_out => taken + n,
                _ => steps,
            };
        }
        if training {
            self.run.train_until(self.settings.training_pace, deadline);
        }
        let now = Instant::now();
        self.steps.observe(self.run.session.step(), now);
        self.langevin.observe(self.langevin_done, now);
        self.undelivered = true;
    }

    /// The noise level the field view shows: the σ of the particles' next step. In the
    /// course's single-σ mode that is the σ DSM trains with; in annealed mode the level σᵢ
    /// the particles are at (σ_L for the denoising step and after it), so the arrows are the
    /// field that moves them now, and change with the level, stepped or flowing.
    fn field_sigma(&self) -> f64 {
        self.run.chain.next_step().sigma
    }

    /// Evaluates the score fields while the view is on and they are out of date.
    fn refresh_field(&mut self) {
        let sigma = self.field_sigma();
        let idle = self.is_idle();
        let Some(view) = &mut self.field_view else { return };
        if let Some(field) = view.refresh(&self.run.session, sigma, idle) {
            self.field = Some(field);
            self.undelivered = true;
        }
    }

    /// Maps the log density while the view is on and the map is out of date.
    fn refresh_density(&mut self) {
        let idle = self.is_idle();
        let Some(view) = &mut self.density_view else { return };
        if let Some(map) = view.refresh(&self.run.session, idle) {
            self.density = Some(map);
            self.undelivered = true;
        }
    }

    /// Traces the paths while the view is on and those traced are out of date.
    fn refresh_paths(&mut self) {
        let idle = self.is_idle();
        let Some(view) = &mut self.path_view else { return };
        if let Some(paths) = view.refresh(&self.run, &self.settings, idle) {
            self.paths = Some(paths);
            self.undelivered = true;
        }
    }

    fn refresh_figures_here(&mut self) {
        self.run.read_figures(self.resamples, self.settings.eta);
        self.figures_at = Some(Instant::now());
        self.undelivered = true;
    }

    fn snapshot(&self) -> Snapshot {
        let run = &self.run;
        let captured =
            Snapshot::capture(&run.session, &run.particles, &run.chain, run.delivered_test, !run.data_delivered);
        let status = captured.status;
        Snapshot {
            run_id: run.id,
            status: TrainerStatus {
                state: match status.state {
                    TrainerState::Training if self.settings.paused => TrainerState::Paused,
                    state => state,
                },
                chain: ChainStatus {
                    readout: run.readout.filter(|_| self.settings.particles_held).map(|(_, r)| r),
                    log_density: run.log_density.filter(|_| run.chain.is_ode()).map(|(_, v)| v),
                    ..status.chain
                },
                flowing: self.is_flowing(),
                figures: run.figures,
                energy_floor: Some(run.floor),
                trained_for: run.trained_for,
                steps_per_second: if self.is_training() { self.steps.rate() } else { None },
                langevin_per_second: if self.is_flowing() { self.langevin.rate().map(|r| r / 1000.0) } else { None },
                ..status
            },
            saved: self.saved.clone(),
            compare: run.comparison.as_ref().map(LiveComparison::status),
            field: self.field.clone(),
            paths: self.paths.clone(),
            density: self.density.clone(),
            train_from: run.undelivered.first_step(),
            train: run.undelivered.to_vec(),
            ..captured
        }
    }

    /// Sends a snapshot of now; `wait` blocks until the UI takes it (used before idling, so
    /// the UI never keeps a stale picture of an idle trainer).
    fn deliver(&mut self, wait: bool) -> Delivery {
        let snapshot = self.snapshot();
        let (train, test) = (snapshot.train.len(), snapshot.test.len());
        let delivery = if wait {
            match self.snapshots.send(snapshot) {
                Ok(()) => Delivery::Sent,
                Err(_) => Delivery::UiGone,
            }
        } else {
            match self.snapshots.try_send(snapshot) {
                Ok(()) => Delivery::Sent,
                Err(TrySendError::Full(_)) => Delivery::Busy,
                Err(TrySendError::Disconnected(_)) => Delivery::UiGone,
            }
        };
        if let Delivery::Sent = delivery {
            self.run.undelivered.delivered(train);
            self.run.delivered_test += test;
            self.run.data_delivered = true;
            self.undelivered = false;
            self.saved = None;
            self.field = None;
            self.paths = None;
            self.density = None;
        }
        delivery
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trainer::Session;

    /// A UI that takes only every third snapshot, the two before it dropped on the full
    /// channel, still gets every step's loss once, in order, and the very losses the session
    /// computed; the trainer then holds none.
    #[test]
    fn dropped_snapshots_lose_no_loss_and_repeat_none() {
        let config = Config { count: 200, batch_size: 16, epochs: 10, hidden: 16, particles: 300, ..Config::default() };
        let settings = Settings {
            paused: false,
            eta: config.eta,
            step_scale: config.step_scale,
            steps_per_frame: 0,
            particles_held: false,
            // A fixed number of steps a frame, whatever the machine's speed.
            training_pace: Some(5),
            sampler: config.sampler,
            beside: None,
        };
        let (sender, snapshots) = std::sync::mpsc::sync_channel(1);
        let mut trainer = Trainer::new(config.clone(), settings, None, sender);
        let (mut received, mut dropped) = (Vec::new(), 0);
        for frame in 0.. {
            if trainer.run.session.is_finished() {
                break;
            }
            trainer.frame(Instant::now());
            match trainer.deliver(false) {
                Delivery::Sent => {}
                Delivery::Busy => dropped += 1,
                Delivery::UiGone => unreachable!("the receiver is here"),
            }
            if frame % 3 == 2 {
                received.extend(snapshots.try_recv());
            }
        }
        received.extend(snapshots.try_recv());
        assert!(matches!(trainer.deliver(false), Delivery::Sent), "the channel was emptied");
        received.extend(snapshots.try_recv());
        assert!(dropped >= 10, "{dropped} snapshots dropped");

        let mut next = 1;
        for snapshot in &received {
            assert_eq!(snapshot.train_from, next, "a gap or a repeat in the train losses");
            next += snapshot.train.len() as u64;
        }
        assert_eq!(next - 1, config.total_steps());
        let losses: Vec<f32> = received.iter().flat_map(|s| s.train.iter().copied()).collect();
        let mut session = Session::new(&config);
        while session.train_step().expect("trains").is_some() {}
        assert_eq!(losses, session.history().train.values(), "the losses of the same run, bit for bit");
        assert!(trainer.run.undelivered.to_vec().is_empty(), "none held once delivered");
    }

    #[test]
    fn an_ended_schedule_runs_again_only_once_it_has_been_on_screen_for_rerun_after() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        assert_eq!(rerun_timer(false, None, t0), (None, false), "running: no timer");
        assert_eq!(rerun_timer(true, None, t0), (Some(t0), false), "first seen ended: shown, not rerun");
        assert_eq!(rerun_timer(true, Some(t0), t0 + RERUN_AFTER - ms(1)), (Some(t0), false), "not yet");
        assert_eq!(rerun_timer(true, Some(t0), t0 + RERUN_AFTER), (Some(t0), true), "shown long enough");
        assert_eq!(rerun_timer(false, Some(t0), t0 + RERUN_AFTER), (None, false), "no longer ended: reset");
    }
}
