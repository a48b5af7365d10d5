//! The dashboard's `trainer` thread: it owns a [`Session`] (model, optimiser, data, random
//! streams) and the Langevin [`Particles`], obeys [`Command`]s from the UI and sends back a
//! [`Snapshot`] about every [`FRAME`].
//!
//! **A frame.** The particles take up to `steps_per_frame` Langevin steps under the current
//! weights, then this thread trains until the frame's deadline. While training, the particles
//! (and their figures) get at most [`SAMPLING_SHARE`] of the time, metered by a credit that
//! each frame earns and each step spends: on two busy cores, stepping them beside training on
//! the other core was measured to halve training's speed. With training paused or over they
//! take their steps in full, on every core, and the thread waits out the rest of the frame on
//! the command channel, so the flow keeps its pace. Paced ([`Command::SetTrainingPace`]),
//! training takes its few steps a frame and the particles are treated as in a pause: they
//! then flow under the score while it is being learned.
//!
//! **Delivery.** Snapshots go over a channel of capacity one with `try_send`: when the UI has
//! not taken the last one, this one is dropped and the next frame builds a newer one (latest
//! wins). Losses are read from the session's history from the last *delivered* index, so a
//! dropped snapshot loses no point. Each snapshot carries the `run_id` of its run, so the UI
//! can drop those of a run it has replaced.
//!
//! **The particles' chain.** They follow a [`Chain`]: the course's chain without end, or in
//! `--mode annealed` the annealed schedule, which stops after its denoising step. Held
//! ([`Command::HoldParticles`]), they move only on [`Command::Advance`] (a step, a level),
//! and each snapshot carries the next step's [`Readout`] (mean ‖s‖, SNR) for where they are.
//! [`Command::Compare`] runs both sides of [`crate::sampling::compare::sides`] instead, under the current
//! weights (see [`LiveComparison`]).
//!
//! **Score field.** While the UI's field view is on ([`Command::ShowField`]), each frame
//! may evaluate the learned and the exact score on the UI's lattice ([`score_field`]) at the
//! σ of the particles' next step (annealed: their level σᵢ, so the field follows them down
//! the schedule): the learned one again when training has moved the weights (at most every
//! [`FIELD_EVERY`]) or σ has changed, the exact one once per data set, lattice and σ (it
//! depends on nothing else). With the view off nothing is computed.
//!
//! **Saving.** [`Command::Save`] writes a checkpoint of the run's weights and configuration
//! here, where the weights are; the outcome rides on the next delivered snapshot.
//!
//! **Idle.** Paused (or finished, or diverged) with the particles stopped, the thread makes
//! sure the UI has the final state, then blocks on the command channel: no polling. It stops
//! on [`Command::Quit`], when the command channel closes, or when a send finds the UI gone.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender, TryRecvError, TrySendError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use color_eyre::eyre::{Result, WrapErr};

use crate::checkpoint;
use crate::config::{Config, Mode};
use crate::data::Source;
use crate::eval::metrics::{Point, distance_to_lower_arc, distance_to_upper_arc, energy_distance, to_points};
use crate::eval::score_field::{self, Field, Lattice};
use crate::nn::Mlp;
use crate::rate::RateMeter;
use crate::sampling::chain::{Chain, NextStep, Readout};
use crate::sampling::langevin::{AnnealedPosition, Particles};
use crate::trainer::compare::{CompareStatus, LiveComparison};
use crate::trainer::{Divergence, Session, TestPoint};

/// Time between snapshots: 20 a second is smooth to watch and cheap to draw.
pub const FRAME: Duration = Duration::from_millis(50);
/// Time between refreshes of the sample-quality [`Figures`].
pub const FIGURES_EVERY: Duration = Duration::from_secs(1);
/// While training, the share of the trainer's time the particles may take, so that training
/// keeps over 90% of its `--once` speed (an 8% share measured 81–95% on two busy cores, 5%
/// measured 94% and up). The particles then move a few steps a second, and at full speed
/// once training is paused or over.
pub const SAMPLING_SHARE: f64 = 0.05;
/// Unspent sampling time saved up is capped at a second's worth, so a long wait does not
/// turn into a burst that stalls training.
const MAX_SAMPLING_CREDIT: f64 = SAMPLING_SHARE * FIGURES_EVERY.as_secs_f64();
/// How long an ended annealed schedule stays on screen before it runs again while training
/// goes on (see `rerun_ended_schedule`).
pub const RERUN_AFTER: Duration = Duration::from_millis(1500);

/// Time between evaluations of the learned score field while training moves the weights:
/// 5 a second reads as smooth motion, and a pass over a few hundred points costs well under
/// a millisecond.
pub const FIELD_EVERY: Duration = Duration::from_millis(200);
/// Particles the live energy distance uses: O(n·test) distances, so a subsample keeps it at
/// a few milliseconds.
pub const FIGURE_PARTICLES: usize = 1000;

/// What the UI asks of the trainer.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Stop training; the particles keep flowing.
    Pause,
    Resume,
    /// Start run `run_id` afresh on `config` (the same as before, or with another objective
    /// or data set): seed `config.seed + run_id`, new particles, training resumed.
    NewRun {
        run_id: u64,
        config: Box<Config>,
    },
    /// Draw the particles again from U[−1, 1]²; their step count restarts.
    Resample,
    /// The course's chain's step size η.
    SetEta(f64),
    /// c in the annealed chain's αᵢ = c·σᵢ².
    SetStepScale(f64),
    /// Langevin steps per frame; 0 stops the particles.
    SetStepsPerFrame(usize),
    /// Train at most this many steps a frame (`None`: flat out), to watch it happen.
    SetTrainingPace(Option<usize>),
    /// Hold the particles (`true`): they then move only on [`Command::Advance`].
    HoldParticles(bool),
    /// Move the particles (or both sides of the comparison) this far now.
    Advance(Advance),
    /// Start (`true`) a comparison of the two samplers under the current weights, or drop it.
    /// Annealed mode only: it needs the noise-conditional model.
    Compare(bool),
    /// Save the run's weights and configuration to this file, or to
    /// [`default_checkpoint_path`] in the current directory.
    Save(Option<PathBuf>),
    /// Evaluate the score fields on this lattice from now on (kept across new runs), or stop.
    ShowField(Option<Lattice>),
    Quit,
}

/// How far [`Command::Advance`] moves the particles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Advance {
    /// One Langevin step.
    Step,
    /// To the end of the annealed level (or the denoising step, when it is next); without
    /// levels, `--level-steps` steps (the length of one level).
    Level,
}

/// What became of a [`Command::Save`].
#[derive(Clone, Debug, PartialEq)]
pub struct Saved {
    /// The file written (or that could not be), absolute, so the user knows where to look.
    pub path: PathBuf,
    /// Why it could not be written, in one line.
    pub error: Option<String>,
}

/// The file `w` writes without `--save`: in the current directory, named for what it holds
/// (data set, objective, run and step) so that no save overwrites another and the name says
/// which `--objective` (and `--mode`) a later `--load` needs.
pub fn default_checkpoint_path(config: &Config, run_id: u64, step: u64) -> PathBuf {
    let data = match &config.source {
        Source::Builtin(b) => b.name().to_string(),
        Source::File { path, .. } => {
            let stem = path.file_stem().map_or_else(|| "data".into(), |s| s.to_string_lossy());
            stem.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
        }
    };
    // An annealed model's file says so: loading it needs --mode annealed.
    let mode = if config.mode == Mode::Annealed { "-annealed" } else { "" };
    let name = format!("dsm-tui-{data}-{}{mode}-run{}-step{step}.safetensors", config.objective.name(), run_id + 1);
    PathBuf::from(name)
}

/// The knobs the UI controls; it sends the initial ones with [`Worker::spawn`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    pub paused: bool,
    pub eta: f64,
    /// c in the annealed chain's αᵢ = c·σᵢ².
    pub step_scale: f64,
    pub steps_per_frame: usize,
    /// The particles are held: they move only on [`Command::Advance`].
    pub particles_held: bool,
    /// Training steps per frame, or `None`: as many as the frame has time for.
    pub training_pace: Option<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TrainerState {
    Training,
    Paused,
    Finished,
    Diverged(Divergence),
}

/// Sample quality of the particles, as `metrics` defines it, on a subsample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Figures {
    /// Energy distance from [`FIGURE_PARTICLES`] particles to the test split.
    pub energy_distance: f64,
    /// Share of the finite particles nearer the upper arc (data: 0.5); moons only.
    pub upper_moon_share: Option<f64>,
    /// Langevin steps the particles had taken when measured.
    pub langevin_steps: u64,
}

/// Where the particles' chain is, and the step it takes next.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChainStatus {
    pub next: NextStep,
    /// Annealed: the level (from 0) and the step in it.
    pub position: Option<AnnealedPosition>,
    /// The chain has ended (annealed, after its denoising step).
    pub done: bool,
    /// While the particles are held: the next step's figures where they are.
    pub readout: Option<Readout>,
}

impl ChainStatus {
    pub fn of(chain: &Chain, particles: &Particles) -> Self {
        ChainStatus {
            next: chain.next_step(),
            position: chain.position(),
            done: chain.is_done(particles),
            readout: None,
        }
    }

    /// A chain of `config` that has not started.
    pub fn fresh(config: &Config) -> Self {
        let chain = Chain::for_dashboard(config);
        ChainStatus { next: chain.next_step(), position: chain.position(), done: false, readout: None }
    }
}

/// The trainer's state as the UI needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub run_id: u64,
    /// Seed of this run (`--seed + run_id`): `--once --seed` replays it.
    pub seed: u64,
    pub state: TrainerState,
    /// Epochs completed.
    pub epoch: usize,
    /// Training steps completed.
    pub step: u64,
    pub lr: f64,
    /// Train losses not delivered before, the first being that of step `train_from`.
    pub train_from: u64,
    pub train: Vec<f32>,
    /// Test losses not delivered before.
    pub test: Vec<TestPoint>,
    /// Fisher divergence readings not delivered before (one with each test loss).
    pub fisher: Vec<TestPoint>,
    /// The training split, with the first delivered snapshot of each run.
    pub data: Option<Vec<[f32; 2]>>,
    /// Every particle, finite or not.
    pub particles: Vec<[f32; 2]>,
    /// Langevin steps since the particles were drawn.
    pub langevin_steps: u64,
    pub chain: ChainStatus,
    pub figures: Option<Figures>,
    /// Training steps per second over the last second, while training.
    pub steps_per_second: Option<f64>,
    /// The outcome of the last save not reported before (whichever run it was of).
    pub saved: Option<Saved>,
    /// The two samplers side by side, while a comparison is on.
    pub compare: Option<CompareStatus>,
    /// The score fields, when evaluated anew since the last delivered snapshot.
    pub field: Option<Field>,
}

impl Snapshot {
    /// `session` and `particles` (following `chain`) as run 0 would show them: train losses from index
    /// `train_from`, test losses and Fisher divergences (recorded together, so indexed
    /// alike) from `test_from`, the data if `with_data`; state from the
    /// session alone (never paused), no figures, no speed.
    pub fn capture(
        session: &Session,
        particles: &Particles,
        chain: &Chain,
        train_from: usize,
        test_from: usize,
        with_data: bool,
    ) -> Self {
        let history = session.history();
        let mut positions = Vec::with_capacity(particles.len());
        particles.for_each(|x, y| positions.push([x, y]));
        let state = match session.divergence() {
            Some(d) => TrainerState::Diverged(d),
            None if session.is_finished() => TrainerState::Finished,
            None => TrainerState::Training,
        };
        Snapshot {
            run_id: 0,
            seed: session.config().seed,
            state,
            epoch: session.epoch(),
            step: session.step(),
            lr: session.lr(),
            train_from: train_from as u64 + 1,
            train: history.train[train_from..].to_vec(),
            test: history.test[test_from..].to_vec(),
            fisher: history.fisher[test_from..].to_vec(),
            data: with_data.then(|| session.data().train().rows().into_iter().map(|r| [r[0], r[1]]).collect()),
            particles: positions,
            langevin_steps: particles.steps_taken(),
            chain: ChainStatus::of(chain, particles),
            figures: None,
            steps_per_second: None,
            saved: None,
            compare: None,
            field: None,
        }
    }
}

/// The UI's handle on the trainer thread.
pub struct Worker {
    commands: Sender<Command>,
    snapshots: Receiver<Snapshot>,
    /// Disconnects when the thread ends, however it ends.
    ended: Receiver<()>,
    thread: JoinHandle<()>,
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
        let config = config.clone();
        let thread = thread::Builder::new()
            .name("trainer".into())
            .spawn(move || {
                let _ended = ended_tx;
                let mut trainer = Trainer::new(config, settings, start, snapshot_tx);
                trainer.run(&command_rx);
            })
            .wrap_err("starting the trainer thread")?;
        Ok(Self { commands, snapshots, ended, thread })
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
        let Self { commands, snapshots, ended, thread } = self;
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

/// One run: a session and its particles, plus what has been delivered of them.
struct Run {
    id: u64,
    seed: u64,
    session: Session,
    particles: Particles,
    chain: Chain,
    comparison: Option<LiveComparison>,
    test_points: Vec<Point>,
    moons: bool,
    figures: Option<Figures>,
    /// The step-through readout and what it was measured for.
    readout: Option<(ReadoutKey, Readout)>,
    delivered_train: usize,
    delivered_test: usize,
    data_delivered: bool,
}

/// What a readout depends on: the weights (training step), the particles (resample and
/// Langevin step) and the next step's σ and α.
type ReadoutKey = (u64, u64, u64, [u64; 2]);

impl Run {
    fn new(config: &Config, id: u64, restart: u64, start: Option<Mlp<f32>>, settings: &Settings) -> Self {
        let seed = config.seed.wrapping_add(id);
        let config = Config { seed, ..config.clone() };
        let session = match start {
            Some(model) => Session::with_model(&config, model),
            None => Session::new(&config),
        };
        let test_points = to_points(session.data().test());
        Self {
            id,
            seed,
            particles: Particles::uniform(config.particles, seed, restart),
            chain: chain_for(&config, settings),
            comparison: None,
            session,
            test_points,
            moons: config.source.is_moons(),
            figures: None,
            readout: None,
            delivered_train: 0,
            delivered_test: 0,
            data_delivered: false,
        }
    }

    fn figures_stale(&self) -> bool {
        self.figures.map(|f| f.langevin_steps) != Some(self.particles.steps_taken())
    }

    fn readout_key(&self, resamples: u64) -> ReadoutKey {
        let next = self.chain.next_step();
        (self.session.step(), self.particles.steps_taken(), resamples, [next.sigma.to_bits(), next.alpha.to_bits()])
    }
}

/// The dashboard's chain for `config`, with the step size and c the user has set.
fn chain_for(config: &Config, settings: &Settings) -> Chain {
    let mut chain = Chain::for_dashboard(config);
    chain.set_eta(settings.eta);
    chain.set_step_scale(settings.step_scale);
    chain
}

/// The field view's request, and what is kept between its evaluations.
struct FieldView {
    lattice: Lattice,
    /// The exact field at each σ it has been shown at: it depends on the data, the lattice
    /// and σ only, so it is computed once for them (a new run clears it: new data). At most
    /// one per noise level (annealed: `--sigmas`' count, and c or η do not change σ).
    exact: Vec<(f64, Vec<[f32; 2]>)>,
    /// When the fields were last evaluated, at which training step and σ.
    evaluated: Option<(Instant, u64, f64)>,
}

impl FieldView {
    fn new(lattice: Lattice) -> Self {
        Self { lattice, exact: Vec::new(), evaluated: None }
    }
}

enum Delivery {
    Sent,
    /// The UI has not taken the previous snapshot yet.
    Busy,
    UiGone,
}

struct Trainer {
    config: Config,
    settings: Settings,
    run: Run,
    /// Resamples so far, numbering the particles' random streams so each draw is fresh.
    resamples: u64,
    snapshots: SyncSender<Snapshot>,
    steps: RateMeter,
    figures_at: Option<Instant>,
    readout_at: Option<Instant>,
    /// Seconds of sampling the particles may still spend while training (negative: overdrawn).
    sampling_credit: f64,
    /// Something changed since the last delivered snapshot.
    undelivered: bool,
    /// The outcome of a save, until a delivered snapshot has carried it.
    saved: Option<Saved>,
    /// While the UI's score field view is on.
    field_view: Option<FieldView>,
    /// The fields last evaluated, until a delivered snapshot has carried them.
    field: Option<Field>,
    /// When the annealed schedule was first seen ended while training went on.
    schedule_ended_at: Option<Instant>,
}

impl Trainer {
    fn new(config: Config, settings: Settings, start: Option<Mlp<f32>>, snapshots: SyncSender<Snapshot>) -> Self {
        let run = Run::new(&config, 0, 0, start, &settings);
        Self {
            config,
            settings,
            run,
            resamples: 0,
            snapshots,
            steps: RateMeter::default(),
            figures_at: None,
            readout_at: None,
            sampling_credit: 0.0,
            undelivered: true,
            saved: None,
            field_view: None,
            field: None,
            schedule_ended_at: None,
        }
    }

    fn run(&mut self, commands: &Receiver<Command>) {
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
            if self.is_idle() {
                if self.run.figures_stale() {
                    self.refresh_figures_here();
                }
                if self.readout_stale() {
                    self.refresh_readout_here();
                }
                if let Some(comparison) = &mut self.run.comparison
                    && comparison.figures_due()
                {
                    comparison.refresh_figures(&self.run.test_points, self.run.session.data().test(), self.run.moons);
                    self.undelivered = true;
                }
                if self.undelivered && matches!(self.deliver(true), Delivery::UiGone) {
                    return;
                }
                match commands.recv() {
                    Ok(command) => {
                        if self.obey(command) {
                            continue;
                        }
                        return;
                    }
                    Err(_) => return,
                }
            }
            let deadline = Instant::now() + FRAME;
            self.rerun_ended_schedule();
            self.frame(deadline);
            // The frame may have taken the particles to the next level: their snapshot then
            // carries the field at its σ.
            self.refresh_field();
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
        match command {
            Command::Pause => self.settings.paused = true,
            Command::Resume => {
                self.settings.paused = false;
                // The last window would otherwise average in the pause.
                self.steps = RateMeter::default();
            }
            Command::NewRun { run_id, config } => {
                self.config = *config;
                self.run = Run::new(&self.config, run_id, self.resamples, None, &self.settings);
                self.settings.paused = false;
                self.steps = RateMeter::default();
                self.figures_at = None;
                self.field = None;
                if let Some(view) = &mut self.field_view {
                    *view = FieldView::new(view.lattice);
                }
            }
            Command::Resample => self.resample(),
            Command::SetEta(eta) => {
                self.settings.eta = eta;
                self.run.chain.set_eta(eta);
            }
            Command::SetStepScale(c) => {
                self.settings.step_scale = c;
                self.run.chain.set_step_scale(c);
            }
            Command::SetStepsPerFrame(steps) => self.settings.steps_per_frame = steps,
            Command::SetTrainingPace(pace) => {
                self.settings.training_pace = pace;
                // The last window would otherwise average two paces.
                self.steps = RateMeter::default();
            }
            Command::HoldParticles(held) => self.settings.particles_held = held,
            Command::Advance(by) => {
                self.settings.particles_held = true;
                let Run { session, particles, chain, comparison, .. } = &mut self.run;
                let level = session.config().level_steps;
                match (comparison, by) {
                    (Some(c), Advance::Step) => c.advance(session.model(), 1),
                    (Some(c), Advance::Level) => c.advance_level(session.model(), level),
                    (None, Advance::Step) => chain.advance(particles, session.model(), 1),
                    (None, Advance::Level) => chain.advance_level(particles, session.model(), level),
                }
            }
            Command::Compare(on) => {
                let config = self.run.session.config();
                self.run.comparison = (on && config.mode == Mode::Annealed).then(|| {
                    LiveComparison::new(&Config {
                        eta: self.settings.eta,
                        step_scale: self.settings.step_scale,
                        ..config.clone()
                    })
                });
            }
            Command::Save(to) => {
                let run = &self.run;
                let path = to.unwrap_or_else(|| default_checkpoint_path(&self.config, run.id, run.session.step()));
                self.saved = Some(save(&path, &run.session));
            }
            Command::ShowField(lattice) => {
                self.field_view = lattice.map(FieldView::new);
                self.field = None;
            }
            Command::Quit => return false,
        }
        self.undelivered = true;
        true
    }

    fn is_training(&self) -> bool {
        let session = &self.run.session;
        !self.settings.paused && !session.is_finished() && session.divergence().is_none()
    }

    /// Fresh particles from U[−1, 1]², on a stream of their own, and the chain from its start.
    fn resample(&mut self) {
        self.resamples += 1;
        self.run.particles = Particles::uniform(self.config.particles, self.run.seed, self.resamples);
        self.run.chain = chain_for(self.run.session.config(), &self.settings);
        self.run.figures = None;
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
        match (ended, self.schedule_ended_at) {
            (false, _) => self.schedule_ended_at = None,
            (true, None) => self.schedule_ended_at = Some(Instant::now()),
            (true, Some(at)) if at.elapsed() >= RERUN_AFTER => self.resample(),
            (true, Some(_)) => {}
        }
    }

    /// Training takes every frame's spare time: no pace set.
    fn is_training_flat_out(&self) -> bool {
        self.is_training() && self.settings.training_pace.is_none()
    }

    /// The particles on screen (the comparison's, while it is on) move by themselves.
    fn is_flowing(&self) -> bool {
        let run = &self.run;
        let done = match &run.comparison {
            Some(comparison) => comparison.is_done(),
            None => run.chain.is_done(&run.particles),
        };
        !self.settings.particles_held && self.settings.steps_per_frame > 0 && !done
    }

    fn is_idle(&self) -> bool {
        !self.is_training() && !self.is_flowing()
    }

    /// Held particles get the next step's readout, measured again when anything it depends
    /// on has changed.
    fn readout_stale(&self) -> bool {
        let run = &self.run;
        self.settings.particles_held
            && run.comparison.is_none()
            && run.readout.is_none_or(|(key, _)| key != run.readout_key(self.resamples))
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
        let training = self.is_training();
        let flat_out = self.is_training_flat_out();
        if flat_out {
            let earned = SAMPLING_SHARE * FRAME.as_secs_f64();
            self.sampling_credit = (self.sampling_credit + earned).min(MAX_SAMPLING_CREDIT);
        }
        let steps = if self.is_flowing() { self.settings.steps_per_frame } else { 0 };
        let once_a_while = |at: Option<Instant>| at.is_none_or(|t| t.elapsed() >= FIGURES_EVERY);
        let figures_due = self.run.figures_stale() && once_a_while(self.figures_at);
        // Under training the weights change every step: once a second is enough.
        let readout_due = self.readout_stale() && (!training || once_a_while(self.readout_at));
        let readout_key = self.run.readout_key(self.resamples);
        let Run { session, particles, chain, comparison, test_points, moons, figures, readout, .. } = &mut self.run;
        let credit = &mut self.sampling_credit;
        // While training flat out, spend the credit a piece of work at a time (the last may
        // overdraw it; the next frames repay); otherwise there is no limit.
        let mut spend = |work: &mut dyn FnMut()| {
            if flat_out && *credit <= 0.0 {
                return false;
            }
            let started = Instant::now();
            work();
            if flat_out {
                *credit -= started.elapsed().as_secs_f64();
            }
            true
        };
        // The figures first: due once a second, they would otherwise never find credit left
        // after a frame's steps.
        if figures_due && spend(&mut || *figures = Some(live_figures(particles, test_points, *moons))) {
            self.figures_at = Some(Instant::now());
        }
        if readout_due && spend(&mut || *readout = Some((readout_key, chain.readout(particles, session.model())))) {
            self.readout_at = Some(Instant::now());
        }
        let model = session.model();
        let mut taken = 0;
        // Free of training, all steps go in one call: one parallel dispatch, not many.
        let batch = if flat_out { 1 } else { steps.max(1) };
        match comparison {
            Some(comparison) => {
                if comparison.figures_due() {
                    let test = session.data().test();
                    spend(&mut || comparison.refresh_figures(test_points, test, *moons));
                }
                while taken < steps && spend(&mut || comparison.advance(model, batch)) {
                    taken += batch;
                }
            }
            None => {
                while taken < steps && spend(&mut || chain.advance(particles, model, batch)) {
                    taken += batch;
                }
            }
        }
        if training {
            train_until(session, self.settings.training_pace, deadline);
        }
        self.steps.observe(self.run.session.step(), Instant::now());
        self.undelivered = true;
    }

    /// The noise level the field view shows: the σ of the particles' next step. In the
    /// course's single-σ mode that is the σ DSM trains with; in annealed mode the level σᵢ
    /// the particles are at (σ_L for the denoising step and after it), so the arrows are the
    /// field that moves them now, and change with the level, stepped or flowing.
    fn field_sigma(&self) -> f64 {
        self.run.chain.next_step().sigma
    }

    /// Evaluates the score fields while the view is on and they are out of date: not yet
    /// evaluated on this lattice in this run, at another σ, or [`FIELD_EVERY`] ago (at once
    /// before idling) and the weights have moved since. Paused or finished, the weights hold
    /// still: once per σ is enough.
    fn refresh_field(&mut self) {
        let sigma = self.field_sigma();
        // About to wait for a command: the weights the field shows must be the last ones, or
        // a field from up to FIELD_EVERY before training ended would stay on screen.
        let idle = self.is_idle();
        let Some(view) = &mut self.field_view else { return };
        let session = &self.run.session;
        let step = session.step();
        let due = view.evaluated.is_none_or(|(at, evaluated_step, evaluated_sigma)| {
            evaluated_sigma != sigma || (evaluated_step != step && (idle || at.elapsed() >= FIELD_EVERY))
        });
        if !due {
            return;
        }
        let points = view.lattice.points();
        let exact = match view.exact.iter().find(|(exact_sigma, _)| *exact_sigma == sigma) {
            Some((_, exact)) => exact.clone(),
            None => {
                let exact = score_field::exact(session.data().train(), sigma, points.view());
                view.exact.push((sigma, exact.clone()));
                exact
            }
        };
        let learned = score_field::learned(session.model(), sigma, points.view());
        self.field = Some(Field { lattice: view.lattice, sigma, learned, exact });
        view.evaluated = Some((Instant::now(), step, sigma));
        self.undelivered = true;
    }

    fn refresh_figures_here(&mut self) {
        let run = &self.run;
        self.run.figures = Some(live_figures(&run.particles, &run.test_points, run.moons));
        self.figures_at = Some(Instant::now());
        self.undelivered = true;
    }

    fn snapshot(&self) -> Snapshot {
        let run = &self.run;
        let captured = Snapshot::capture(
            &run.session,
            &run.particles,
            &run.chain,
            run.delivered_train,
            run.delivered_test,
            !run.data_delivered,
        );
        Snapshot {
            run_id: run.id,
            state: match captured.state {
                TrainerState::Training if self.settings.paused => TrainerState::Paused,
                state => state,
            },
            chain: ChainStatus {
                readout: run.readout.filter(|_| self.settings.particles_held).map(|(_, r)| r),
                ..captured.chain
            },
            figures: run.figures,
            steps_per_second: if self.is_training() { self.steps.rate() } else { None },
            saved: self.saved.clone(),
            compare: run.comparison.as_ref().map(LiveComparison::status),
            field: self.field.clone(),
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
            self.run.delivered_train += train;
            self.run.delivered_test += test;
            self.run.data_delivered = true;
            self.undelivered = false;
            self.saved = None;
            self.field = None;
        }
        delivery
    }
}

/// Writes `session`'s weights and configuration (its seed is the run's) to `path`, unless
/// the run diverged: such weights are of no use, and may not even load.
fn save(path: &Path, session: &Session) -> Saved {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let error = if session.divergence().is_some() {
        Some("the run diverged; n starts a new one".to_string())
    } else {
        checkpoint::save(&path, session.model(), session.config()).err().map(|e| e.to_string())
    };
    Saved { path, error }
}

/// Trains until `deadline`, for at most `pace` steps when given, or until training stops
/// (finished or diverged; the session records which).
fn train_until(session: &mut Session, pace: Option<usize>, deadline: Instant) {
    for _ in 0..pace.unwrap_or(usize::MAX) {
        if !matches!(session.train_step(), Ok(Some(_))) || Instant::now() >= deadline {
            return;
        }
    }
}

/// Energy distance of an evenly strided subsample of the finite particles to `test`, and, for
/// the moons, the upper-moon share of all finite particles.
pub(crate) fn live_figures(particles: &Particles, test: &[Point], moons: bool) -> Figures {
    let stride = particles.len().div_ceil(FIGURE_PARTICLES).max(1);
    let mut subsample = Vec::with_capacity(FIGURE_PARTICLES);
    let (mut index, mut finite, mut upper) = (0usize, 0usize, 0usize);
    particles.for_each(|x, y| {
        let p = [f64::from(x), f64::from(y)];
        if p[0].is_finite() && p[1].is_finite() {
            finite += 1;
            upper += usize::from(moons && distance_to_upper_arc(p) < distance_to_lower_arc(p));
            if index % stride == 0 {
                subsample.push(p);
            }
        }
        index += 1;
    });
    Figures {
        energy_distance: energy_distance(&subsample, test),
        upper_moon_share: (moons && finite > 0).then(|| upper as f64 / finite as f64),
        langevin_steps: particles.steps_taken(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Builtin;
    use crate::objective::Objective;
    use crate::seeds::{Stream, stream_rng};

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

    /// Paced, training takes its steps a frame and the particles theirs in full beside it
    /// (training flat out, they would get a 5% share of the time): they flow under the score
    /// as it is being learned.
    #[test]
    fn a_paced_run_trains_its_steps_a_frame_while_the_particles_flow_in_full() {
        let config = Config { epochs: 100, ..small() };
        let settings = Settings { training_pace: Some(1), steps_per_frame: 5, ..running() };
        let worker = Worker::spawn(&config, settings, None).unwrap();
        let seen = until(&worker, |s| s.langevin_steps >= 100);
        let last = seen.last().expect("at least one snapshot");
        assert_eq!(last.state, TrainerState::Training, "1000 steps at one a frame take 50 s");
        // Each frame: five Langevin steps, then one training step.
        let frames = last.langevin_steps / 5;
        assert!(last.step.abs_diff(frames) <= 1, "{} training steps in {frames} frames", last.step);
        shutdown_within_watchdog(worker);
    }

    fn shutdown_within_watchdog(worker: Worker) {
        assert_eq!(worker.shutdown(WATCHDOG), Shutdown::Clean);
    }

    #[test]
    fn delivers_every_loss_once_and_the_data_first() {
        let config = small();
        let worker = Worker::spawn(&config, running(), None).unwrap();
        let seen = until(&worker, |s| s.state == TrainerState::Finished);
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
        until(&worker, |s| s.state == TrainerState::Finished && s.langevin_steps >= 10);
        worker.send(Command::Resample);
        let seen = until(&worker, |s| s.langevin_steps < 10);
        assert!(seen.last().unwrap().langevin_steps < 10);
        let figured = until(&worker, |s| s.figures.is_some());
        let figures = figured.last().unwrap().figures.unwrap();
        assert!(figures.energy_distance.is_finite());
        assert!(figures.upper_moon_share.is_some_and(|share| (0.0..=1.0).contains(&share)));
        shutdown_within_watchdog(worker);
    }

    #[test]
    fn pauses_and_goes_quiet_when_the_particles_stop_too() {
        // A million steps: still training when resumed, even in a fast release build.
        let config = Config { epochs: 100_000, ..small() };
        let worker = Worker::spawn(&config, running(), None).unwrap();
        until(&worker, |s| s.step > 0);
        worker.send(Command::Pause);
        worker.send(Command::SetStepsPerFrame(0));
        let seen = until(&worker, |s| s.state == TrainerState::Paused);
        let paused = seen.last().unwrap().clone();
        // The trainer may finish the frame it was in; after that, nothing moves.
        let settled = match worker.recv_timeout(Duration::from_millis(500)) {
            Ok(s) => s,
            Err(_) => paused,
        };
        assert_eq!(worker.recv_timeout(Duration::from_millis(300)).err(), Some(RecvTimeoutError::Timeout));
        worker.send(Command::Resume);
        let seen = until(&worker, |s| s.step > settled.step);
        assert_eq!(seen.last().unwrap().state, TrainerState::Training);
        assert_eq!(seen.last().unwrap().langevin_steps, settled.langevin_steps);
        shutdown_within_watchdog(worker);
    }

    #[test]
    fn a_new_run_restarts_with_the_next_seed_and_its_own_data() {
        let config = small();
        let worker = Worker::spawn(&config, running(), None).unwrap();
        until(&worker, |s| s.step > 5);
        worker.send(Command::NewRun { run_id: 1, config: Box::new(config.clone()) });
        let seen = until(&worker, |s| s.run_id == 1);
        let first = seen.last().unwrap();
        assert_eq!(first.seed, config.seed + 1);
        assert_eq!(first.train_from, 1);
        assert!(first.data.is_some());
        shutdown_within_watchdog(worker);
    }

    #[test]
    fn a_new_run_takes_the_configuration_it_is_given() {
        let config = small();
        let worker = Worker::spawn(&config, running(), None).unwrap();
        until(&worker, |s| s.step > 5);
        let circles = Config { objective: Objective::Ism, ..Config::for_builtin(Builtin::Circles) };
        let next = Config { source: circles.source, objective: circles.objective, noise: circles.noise, ..config };
        worker.send(Command::NewRun { run_id: 1, config: Box::new(next.clone()) });
        let seen = until(&worker, |s| s.run_id == 1);
        let expected = Session::new(&Config { seed: next.seed + 1, ..next });
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
        until(&worker, |s| s.step > 0);
        worker.send(Command::Pause);
        worker.send(Command::Save(Some(path.clone())));
        let seen = until(&worker, |s| s.saved.is_some());
        assert_eq!(seen.last().unwrap().saved, Some(Saved { path: path.clone(), error: None }));
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
    fn the_default_checkpoint_name_says_what_it_holds() {
        let config = Config { objective: Objective::Ism, ..Config::for_builtin(Builtin::SwissRoll) };
        let name = default_checkpoint_path(&config, 2, 6300);
        assert_eq!(name, PathBuf::from("dsm-tui-swiss-roll-ism-run3-step6300.safetensors"));
        let annealed = Config { mode: Mode::Annealed, ..Config::default() };
        let name = default_checkpoint_path(&annealed, 0, 5);
        assert_eq!(name, PathBuf::from("dsm-tui-moons-dsm-annealed-run1-step5.safetensors"));
        let points = std::sync::Arc::new(ndarray::Array2::zeros((10, 2)));
        let file = Config { source: Source::File { path: "/data/my points.v2.csv".into(), points }, ..config };
        assert_eq!(
            default_checkpoint_path(&file, 0, 5),
            PathBuf::from("dsm-tui-my_points_v2-ism-run1-step5.safetensors")
        );
    }

    #[test]
    fn a_loaded_model_starts_the_first_run_only() {
        let config = small();
        let model = Mlp::init(config.hidden, config.depth, config.activation, &mut stream_rng(99, Stream::Weights));
        let initial_test_loss = |session: Session| session.history().test[0].loss;
        let expected = initial_test_loss(Session::with_model(&config, model.clone()));
        assert_ne!(expected, initial_test_loss(Session::new(&config)), "the test must tell them apart");

        let worker = Worker::spawn(&config, running(), Some(model)).unwrap();
        let first = until(&worker, |_| true).remove(0);
        assert_eq!(first.test[0].loss, expected);
        worker.send(Command::NewRun { run_id: 1, config: Box::new(config.clone()) });
        let seen = until(&worker, |s| s.run_id == 1);
        let fresh = Session::new(&Config { seed: config.seed + 1, ..config });
        assert_eq!(seen.last().unwrap().test[0].loss, initial_test_loss(fresh));
        shutdown_within_watchdog(worker);
    }

    #[test]
    fn reports_divergence_and_keeps_answering() {
        let config = Config { lr: 1000.0, epochs: 1000, ..small() };
        let worker = Worker::spawn(&config, running(), None).unwrap();
        let seen = until(&worker, |s| matches!(s.state, TrainerState::Diverged(_)));
        let TrainerState::Diverged(d) = seen.last().unwrap().state else { unreachable!() };
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
        let mut expected = Particles::uniform(config.particles, config.seed, 0);
        let mut chain = Chain::annealed(&config);

        let held = Settings { particles_held: true, ..running() };
        let worker = Worker::spawn(&config, held, None).unwrap();
        // Under training the readout is refreshed once a second; on the final weights, at once.
        let final_readout = Some(chain.readout(&expected, session.model()));
        let seen = until(&worker, |s| s.state == TrainerState::Finished && s.chain.readout == final_readout);
        assert!(seen.iter().all(|s| s.langevin_steps == 0), "held particles do not move");

        let moves = [(Advance::Step, 1, (0, 1)), (Advance::Level, 7, (1, 0)), (Advance::Step, 8, (1, 1))];
        for (by, steps, (level, step)) in moves {
            worker.send(Command::Advance(by));
            let seen = until(&worker, |s| s.langevin_steps == steps && s.chain.readout.is_some());
            let now = seen.last().unwrap();
            match by {
                Advance::Step => chain.advance(&mut expected, session.model(), 1),
                Advance::Level => chain.advance_level(&mut expected, session.model(), 0),
            }
            assert_eq!(now.particles, positions(&expected), "after {by:?} to step {steps}");
            let position = now.chain.position.expect("annealed");
            assert_eq!((position.level, position.step), (level, step));
            assert_eq!(now.chain.readout, Some(chain.readout(&expected, session.model())));
        }
        // The rest of level 2, level 3, then the denoising step: the end.
        let mut last = None;
        for steps in [14, 21, 22] {
            worker.send(Command::Advance(Advance::Level));
            last = until(&worker, |s| s.langevin_steps == steps && s.chain.readout.is_some()).pop();
        }
        let done = last.unwrap();
        assert!(done.chain.done);
        assert!(!done.chain.next.noise, "the denoising step has no noise");
        assert_eq!(done.chain.readout.and_then(|r| r.signal_to_noise), None, "no noise, no SNR");
        worker.send(Command::Advance(Advance::Level));
        worker.send(Command::Resample);
        let restarted = until(&worker, |s| s.langevin_steps == 0).pop().unwrap();
        assert!(!restarted.chain.done && restarted.chain.position.is_some_and(|p| p.level == 0));
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
                    assert_eq!(field.sigma, s.chain.next.sigma, "the field at the σ the status shows");
                }
            }
        };

        let worker = Worker::spawn(&config, Settings { particles_held: true, ..running() }, None).unwrap();
        worker.send(Command::ShowField(Some(lattice)));
        let sigmas = config.levels.sigmas.clone();
        let seen = until(&worker, |s| {
            s.state == TrainerState::Finished && s.field.as_ref().is_some_and(|f| *f == expected(sigmas[0]))
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
        let done = until(&worker, |s| s.state == TrainerState::Finished && s.chain.done).pop().unwrap();
        assert_eq!(done.langevin_steps, 22, "3 levels × 7 steps and the denoising step, no more");
        // Nothing moves any more: the trainer goes quiet.
        let settled = worker.recv_timeout(Duration::from_millis(500));
        assert!(settled.is_err() || settled.is_ok_and(|s| s.langevin_steps == 22));
        assert_eq!(worker.recv_timeout(Duration::from_millis(300)).err(), Some(RecvTimeoutError::Timeout));
        shutdown_within_watchdog(worker);
    }

    /// Paced training outlasts the annealed schedule: once its result has been on screen for
    /// RERUN_AFTER, the schedule runs again from fresh particles, training still going on.
    #[test]
    fn an_ended_schedule_runs_again_while_paced_training_goes_on() {
        let config = Config { epochs: 100, ..small_annealed() };
        let settings = Settings { training_pace: Some(1), steps_per_frame: 5, ..running() };
        let worker = Worker::spawn(&config, settings, None).unwrap();
        let ended = until(&worker, |s| s.chain.done).pop().unwrap();
        let ended_at = Instant::now();
        assert_eq!(ended.langevin_steps, 22, "3 levels × 7 steps and the denoising step");
        let again = until(&worker, |s| !s.chain.done).pop().unwrap();
        let shown = ended_at.elapsed();
        assert_eq!(again.state, TrainerState::Training, "1000 steps at one a frame take 50 s");
        assert!(again.langevin_steps < 22, "fresh particles from level 1: {} steps", again.langevin_steps);
        assert!(shown >= RERUN_AFTER - Duration::from_millis(300), "the ended run stayed {shown:?}");
        shutdown_within_watchdog(worker);
    }

    /// On the same trained weights and seed, the dashboard's comparison ends with the very
    /// figures `--once --compare` prints.
    #[test]
    fn the_comparison_ends_with_the_figures_of_once_compare() {
        let config = small_annealed();
        let (_, results) = crate::headless::compare::run(&config, &crate::headless::progress::Progress::hidden())
            .expect("the headless comparison");
        let held = Settings { particles_held: true, steps_per_frame: 20, ..running() };
        let worker = Worker::spawn(&config, held, None).unwrap();
        until(&worker, |s| s.state == TrainerState::Finished);
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
        shutdown_within_watchdog(worker);
    }

    #[test]
    fn a_single_sigma_model_has_no_comparison() {
        let worker = Worker::spawn(&small(), running(), None).unwrap();
        until(&worker, |s| s.state == TrainerState::Finished);
        worker.send(Command::Compare(true));
        worker.send(Command::Advance(Advance::Step));
        let seen = until(&worker, |s| s.chain.readout.is_some());
        assert!(seen.iter().all(|s| s.compare.is_none()));
        shutdown_within_watchdog(worker);
    }

    #[test]
    fn the_score_field_comes_only_while_asked_on_the_lattice_asked() {
        // No decay: 10 steps an epoch would otherwise shrink the learning rate to nothing
        // within a second, and the weights would stop moving.
        let config = Config { epochs: 100_000, lr_gamma: 1.0, ..small() };
        let worker = Worker::spawn(&config, running(), None).unwrap();
        let seen = until(&worker, |s| s.step > 0);
        assert!(seen.iter().all(|s| s.field.is_none()), "nothing computed with the view off");
        let data = seen[0].data.clone().expect("the first snapshot has the data");

        let lattice = Lattice { x0: -1.0, dx: 0.5, cols: 5, y0: 1.0, dy: -0.5, rows: 4 };
        worker.send(Command::ShowField(Some(lattice)));
        let seen = until(&worker, |s| s.field.is_some());
        let field = seen.last().unwrap().field.clone().unwrap();
        assert_eq!((field.lattice, field.sigma), (lattice, config.sigma));
        let data = ndarray::Array2::from_shape_fn((data.len(), 2), |(i, d)| data[i][d]);
        assert_eq!(field.exact, score_field::exact(data.view(), config.sigma, lattice.points().view()));
        assert_eq!(field.learned.len(), lattice.len());
        assert!(field.learned.iter().flatten().all(|v| v.is_finite()));

        // While training the learned field follows the weights, but not every frame.
        let start = Instant::now();
        let seen = until(&worker, |_| start.elapsed() >= Duration::from_secs(1));
        let fields: Vec<&Field> = seen.iter().filter_map(|s| s.field.as_ref()).collect();
        assert!(!fields.is_empty() && fields.len() <= 7, "{} fields in a second", fields.len());
        assert!(fields.iter().all(|f| f.exact == field.exact), "the exact field is the same data's");
        assert_ne!(fields.last().unwrap().learned, field.learned, "the weights have moved");

        // Paused with the particles stopped: one field of the frozen weights, then quiet.
        worker.send(Command::Pause);
        worker.send(Command::SetStepsPerFrame(0));
        until(&worker, |s| s.state == TrainerState::Paused);
        let start = Instant::now();
        while worker.recv_timeout(Duration::from_millis(300)).is_ok() {
            assert!(start.elapsed() < WATCHDOG, "an idle trainer with the view on keeps sending");
        }

        worker.send(Command::ShowField(None));
        worker.send(Command::SetStepsPerFrame(2));
        let seen = until(&worker, |s| s.langevin_steps > 10);
        assert!(seen.iter().all(|s| s.field.is_none()), "the view is off again");
        shutdown_within_watchdog(worker);
    }

    #[test]
    fn stops_when_the_ui_goes_away_even_if_idle() {
        let worker = Worker::spawn(&small(), Settings { paused: true, steps_per_frame: 0, ..running() }, None).unwrap();
        until(&worker, |s| s.state == TrainerState::Paused);
        shutdown_within_watchdog(worker);
    }
}
