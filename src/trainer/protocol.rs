//! Everything that crosses the channel between the dashboard's UI and its trainer thread:
//! the [`Command`]s the UI sends, the [`Snapshot`]s the trainer sends back, and the types
//! they carry. A rule both sides need is computed once, on the side that owns the state,
//! and travels here (the trainer says whether the particles flow; [`Settings::apply`] is
//! the one place a command changes the knobs).

use std::path::PathBuf;
use std::time::Duration;

use crate::config::{Config, Sampler};
use crate::eval::likelihood::LogDensityMap;
use crate::eval::metrics::Quality;
use crate::eval::score_field::{Field, Lattice};
use crate::sampling::chain::{Chain, GridProgress, NextStep, Readout};
use crate::sampling::langevin::{AnnealedPosition, Particles};
use crate::trainer::{Divergence, Session, TestPoint};

/// Time between snapshots: 20 a second is smooth to watch and cheap to draw.
pub const FRAME: Duration = Duration::from_millis(50);

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
    /// Annealed mode: sample with this sampler from now on; the particles start again from
    /// the prior, on a stream of their own.
    SetSampler(Sampler),
    /// The compare view's left side (`None`: the course's single-σ chain); a comparison on
    /// starts again.
    SetBeside(Option<Sampler>),
    /// Start (`true`) a comparison of the two samplers under the current weights, or drop it.
    /// Annealed mode only: it needs the noise-conditional model.
    Compare(bool),
    /// Save the run's weights and configuration to this file, or to a new file in the current
    /// directory named for the run ([`crate::checkpoint::save_new`]).
    Save(Option<PathBuf>),
    /// Evaluate the score fields on this lattice from now on (kept across new runs), or stop.
    ShowField(Option<Lattice>),
    /// Trace a few particles through the whole chain from now on (kept across new runs), or
    /// stop.
    ShowPaths(bool),
    /// Map log q_{σ_min} on this lattice from now on (kept across new runs), or stop.
    ShowDensity(Option<Lattice>),
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
    /// A file was there before and was replaced (only a `--save FILE` can be: the default
    /// names are never taken).
    pub replaced: bool,
}

/// The knobs the UI controls; it sends the initial ones with [`crate::trainer::worker::Worker::spawn`].
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
    /// The annealed mode's sampler (`s` cycles it), the compare view's right side.
    pub sampler: Sampler,
    /// The compare view's left side (`b` cycles it; `None`: single-σ).
    pub beside: Option<Sampler>,
}

impl Settings {
    /// What `command` changes of the knobs. Both sides apply it, the trainer to act on it and
    /// the UI to show the new setting at once, so each rule (a new run resumes, an advance
    /// holds the particles) is written here only.
    pub fn apply(&mut self, command: &Command) {
        match *command {
            Command::Pause => self.paused = true,
            Command::Resume | Command::NewRun { .. } => self.paused = false,
            Command::SetEta(eta) => self.eta = eta,
            Command::SetStepScale(c) => self.step_scale = c,
            Command::SetStepsPerFrame(steps) => self.steps_per_frame = steps,
            Command::SetTrainingPace(pace) => self.training_pace = pace,
            Command::SetSampler(sampler) => self.sampler = sampler,
            Command::SetBeside(beside) => self.beside = beside,
            Command::HoldParticles(held) => self.particles_held = held,
            // Stepping a flow that keeps moving would show nothing.
            Command::Advance(_) => self.particles_held = true,
            Command::Resample
            | Command::Compare(_)
            | Command::Save(_)
            | Command::ShowField(_)
            | Command::ShowPaths(_)
            | Command::ShowDensity(_)
            | Command::Quit => {}
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TrainerState {
    Training,
    Paused,
    Finished,
    Diverged(Divergence),
}

/// Sample quality of the particles, as `metrics` defines it, measured as
/// [`crate::trainer::figures`] says.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Figures {
    /// Energy distance to the test split.
    pub energy_distance: f64,
    /// Share of the finite particles nearer the upper arc (data: 0.5); moons only.
    pub upper_moon_share: Option<f64>,
    /// Langevin steps the particles had taken when measured.
    pub langevin_steps: u64,
}

impl Figures {
    /// The figures of `quality`, measured after `langevin_steps` steps.
    pub fn of(quality: &Quality, langevin_steps: u64) -> Self {
        Self { energy_distance: quality.energy_distance, upper_moon_share: quality.upper_moon_share, langevin_steps }
    }
}

/// Where the particles' chain is, and the step it takes next.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChainStatus {
    pub next: NextStep,
    /// Annealed: the level (from 0) and the step in it.
    pub position: Option<AnnealedPosition>,
    /// Reverse diffusion, PC and the ODE: steps and evaluations down the grid.
    pub progress: Option<GridProgress>,
    /// The chain has ended (annealed, after its denoising step).
    pub done: bool,
    /// While the particles are held: the next step's figures where they are.
    pub readout: Option<Readout>,
    /// The ODE's particles: the model's mean log q_σ where they were at σ (the last
    /// measurement: once a second while they flow), in nats
    /// (`eval::likelihood::mean_log_density`).
    pub log_density: Option<(f64, f64)>,
}

impl ChainStatus {
    pub fn of(chain: &Chain, particles: &Particles) -> Self {
        ChainStatus {
            next: chain.next_step(),
            position: chain.position(),
            progress: chain.progress(),
            done: chain.is_done(particles),
            readout: None,
            log_density: None,
        }
    }

    /// A chain of `config` with `sampler` that has not started.
    pub fn fresh(config: &Config, sampler: Sampler) -> Self {
        let chain = Chain::for_dashboard(config, sampler);
        ChainStatus {
            next: chain.next_step(),
            position: chain.position(),
            progress: chain.progress(),
            done: false,
            readout: None,
            log_density: None,
        }
    }
}

/// The trainer's state as the UI needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub run_id: u64,
    pub status: TrainerStatus,
    /// Train losses not delivered before, the first being that of step `train_from` (past the
    /// step after the last delivered only when the UI stopped taking snapshots for so long
    /// that the trainer let the oldest go: see `Undelivered`).
    pub train_from: u64,
    pub train: Vec<f32>,
    /// Steps each train value covers (their mean): 1 from the trainer thread, more only for
    /// `--frame` of a headless run long enough to have merged its history (`TrainLosses`).
    pub train_span: u64,
    /// Test losses not delivered before.
    pub test: Vec<TestPoint>,
    /// Fisher divergence readings not delivered before (one with each test loss).
    pub fisher: Vec<TestPoint>,
    /// The training split, with the first delivered snapshot of each run.
    pub data: Option<Vec<[f32; 2]>>,
    /// Every particle, finite or not.
    pub particles: Vec<[f32; 2]>,
    /// The outcome of the last save not reported before (whichever run it was of).
    pub saved: Option<Saved>,
    /// The two samplers side by side, while a comparison is on.
    pub compare: Option<CompareStatus>,
    /// The score fields, when evaluated anew since the last delivered snapshot.
    pub field: Option<Field>,
    /// The paths view's traces, when traced anew since the last delivered snapshot.
    pub paths: Option<Paths>,
    /// The log-density view's map, when computed anew since the last delivered snapshot.
    pub density: Option<LogDensityMap>,
}

/// What a snapshot says of the run besides losses and points: the UI keeps the latest whole.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainerStatus {
    /// Seed of this run (`--seed + run_id`): `--once --seed` replays it.
    pub seed: u64,
    pub state: TrainerState,
    /// Epochs completed.
    pub epoch: usize,
    /// Training steps completed.
    pub step: u64,
    /// The learning rate the last step used.
    pub lr: f64,
    /// Langevin steps since the particles were drawn.
    pub langevin_steps: u64,
    pub chain: ChainStatus,
    /// The particles on screen (the comparison's, while it is on) move by themselves: not
    /// held, not stopped, not at the end of their chain (or, comparing, of both).
    pub flowing: bool,
    pub figures: Option<Figures>,
    /// The figures' energy distance for a fresh draw of the data (see
    /// [`crate::trainer::figures::floor`]).
    pub energy_floor: Option<f64>,
    /// Time spent training so far, pauses left out.
    pub trained_for: Duration,
    /// Training steps per second over the last second, while training.
    pub steps_per_second: Option<f64>,
    /// Langevin steps per second over the last second (parts of a step counted), while the
    /// particles flow: fewer than asked for when the asked steps would not fit in a frame.
    pub langevin_per_second: Option<f64>,
}

impl Snapshot {
    /// `session` and `particles` (following `chain`) as run 0 would show them: every train
    /// loss its history keeps (none for the dashboard's session, whose trainer puts in those
    /// not yet delivered), test losses and Fisher divergences (recorded together, so indexed
    /// alike) from `test_from`, the data if `with_data`; state from the session alone (never
    /// paused), particles flowing unless their chain has ended, no figures, no speed.
    pub fn capture(session: &Session, particles: &Particles, chain: &Chain, test_from: usize, with_data: bool) -> Self {
        let history = session.history();
        let mut positions = Vec::with_capacity(particles.len());
        particles.for_each(|x, y| positions.push([x, y]));
        let state = match session.divergence() {
            Some(d) => TrainerState::Diverged(d),
            None if session.is_finished() => TrainerState::Finished,
            None => TrainerState::Training,
        };
        let chain = ChainStatus::of(chain, particles);
        Snapshot {
            run_id: 0,
            status: TrainerStatus {
                seed: session.config().seed,
                state,
                epoch: session.epoch(),
                step: session.step(),
                lr: session.lr_in_use(),
                langevin_steps: particles.steps_taken(),
                chain,
                flowing: !chain.done,
                figures: None,
                energy_floor: None,
                trained_for: Duration::ZERO,
                steps_per_second: None,
                langevin_per_second: None,
            },
            train_from: 1,
            train: history.train.values().to_vec(),
            train_span: history.train.span(),
            test: history.test[test_from..].to_vec(),
            fisher: history.fisher[test_from..].to_vec(),
            data: with_data.then(|| session.data().train().rows().into_iter().map(|r| [r[0], r[1]]).collect()),
            particles: positions,
            saved: None,
            compare: None,
            field: None,
            paths: None,
            density: None,
        }
    }
}

/// The paths view's traces: per particle, its start, then its positions along the chain to
/// its end (`sampling::paths`).
pub type Paths = Vec<Vec<[f32; 2]>>;

/// One side of the comparison as the UI draws it.
#[derive(Clone, Debug, PartialEq)]
pub struct SideStatus {
    /// "single-σ" or "annealed".
    pub name: &'static str,
    /// Its parameters ([`crate::sampling::chain::Chain::summary`]).
    pub sampler: String,
    /// Every particle, finite or not.
    pub particles: Vec<[f32; 2]>,
    pub steps: u64,
    /// Steps to the side's end.
    pub total: u64,
    /// As [`crate::trainer::figures`] measures them: of the side's last step when
    /// `langevin_steps == total`.
    pub figures: Option<Figures>,
}

/// The comparison (`c`): both sides.
#[derive(Clone, Debug, PartialEq)]
pub struct CompareStatus {
    pub sides: [SideStatus; 2],
}
