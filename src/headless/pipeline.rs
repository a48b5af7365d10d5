//! The headless pipeline every mode shares: train a [`Session`] to its end, run a Langevin
//! chain to its end, measure the samples, write the requested files. Progress shows through
//! [`Progress`], and a terminating signal (Ctrl-C, SIGTERM …) stops the run at the next step
//! boundary or, while the files are written, before any is replaced (see [`finish`]).

use std::fmt;
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Instant;

use color_eyre::eyre::{Result, WrapErr};
use libc::c_int;
use serde::Serialize;

use crate::checkpoint;
use crate::config::Config;
use crate::eval::likelihood::{TestLikelihood, test_likelihood};
use crate::eval::metrics::{Quality, Shape, quality};
use crate::fs;
use crate::headless::output::{write_data, write_history, write_samples};
use crate::headless::plot::{self, Figure};
use crate::headless::progress::Progress;
use crate::nn::Mlp;
use crate::objective::Objective;
use crate::sampling::chain::Chain;
use crate::sampling::langevin::Particles;
use crate::sampling::start::Start;
use crate::trainer::{Divergence, Session};

/// The files a run writes at its end, each only if asked for.
#[derive(Clone, Debug, Default)]
pub struct Outputs {
    pub samples: Option<PathBuf>,
    pub data: Option<PathBuf>,
    pub history: Option<PathBuf>,
    /// Checkpoint of the trained weights (safetensors, see `checkpoint`).
    pub save: Option<PathBuf>,
    /// Figure of the samples and the loss curves (`.png` or `.svg`, see `plot`).
    pub plot: Option<PathBuf>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub config: Config,
    pub train_steps: u64,
    /// Mean train loss over the last epoch.
    pub final_train_loss: f32,
    pub final_test_loss: f32,
    /// ½E_{q_σ}‖s_θ − ∇log q_σ‖² at the end (see `fisher`): what DSM minimises, minus its floor.
    pub fisher_divergence: f32,
    /// The same before training, for scale.
    pub initial_fisher_divergence: f32,
    pub samples: Quality,
    /// Energy distance of a fresh draw of as many data points as particles (for a file: of the
    /// training split): what a perfect sampler would score.
    pub floor_energy_distance: f64,
    /// `--likelihood`: the test split's negative log-likelihood through the ODE.
    pub likelihood: Option<TestLikelihood>,
    pub train_seconds: f64,
    pub sampling_seconds: f64,
    pub train_steps_per_second: f64,
    pub particle_steps_per_second: f64,
}

/// Why a headless run failed to produce results.
#[derive(Debug)]
pub enum RunError {
    Diverged(Divergence),
    /// A terminating signal (its number) stopped the run where [`Stop`] says, before any
    /// output was replaced.
    Interrupted {
        signal: c_int,
        stop: Stop,
    },
    Other(color_eyre::Report),
}

/// An error of [`fs::commit`], which names the file.
impl From<io::Error> for RunError {
    fn from(err: io::Error) -> Self {
        RunError::Other(err.into())
    }
}

/// Where a run was when a signal stopped it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    Training {
        step: u64,
    },
    Sampling {
        step: u64,
    },
    /// Measuring the likelihood, before it began.
    Likelihood,
    /// Writing the outputs, before the first rename: the temporaries are removed.
    Writing,
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Stop::Training { step } => write!(f, "during training at step {step}"),
            Stop::Sampling { step } => write!(f, "during sampling at step {step}"),
            Stop::Likelihood => write!(f, "before measuring the likelihood"),
            Stop::Writing => write!(f, "while writing the files"),
        }
    }
}

/// `Err` if a terminating signal has come: the run stops at `stop`.
pub(super) fn check(progress: &Progress, stop: Stop) -> Result<(), RunError> {
    progress.signal().map_or(Ok(()), |signal| Err(RunError::Interrupted { signal, stop }))
}

/// Runs `chain` on `particles` to its end, in blocks so progress shows and a signal stops it.
pub(super) fn sample(
    chain: &mut Chain,
    model: &Mlp<f32>,
    particles: &mut Particles,
    progress: &Progress,
) -> Result<(), RunError> {
    let total = particles.steps_taken() + chain.remaining(particles).expect("a headless chain has an end");
    progress.start("sampling", total);
    while !chain.is_done(particles) {
        check(progress, Stop::Sampling { step: particles.steps_taken() })?;
        chain.advance(particles, model, LANGEVIN_BLOCK);
        progress.update(particles.steps_taken(), String::new);
    }
    Ok(())
}

/// Langevin steps between progress updates and interrupt checks: the chunks' random streams
/// continue across calls, so the samples are the same bits as in one call.
const LANGEVIN_BLOCK: usize = 50;

pub fn run(config: &Config, outputs: &Outputs, progress: &Progress) -> Result<Summary, RunError> {
    run_from(config, None, outputs, progress)
}

/// As [`run`], starting from `start`'s weights (a loaded checkpoint) when given.
pub fn run_from(
    config: &Config,
    start: Option<Mlp<f32>>,
    outputs: &Outputs,
    progress: &Progress,
) -> Result<Summary, RunError> {
    finish(config, start, outputs, progress).map(|finished| finished.summary)
}

/// A headless run's summary and the trained session, particles and chain it describes.
pub struct Finished {
    pub summary: Summary,
    pub session: Session,
    pub particles: Particles,
    pub chain: Chain,
}

/// [`run_from`], keeping the session and particles (for `--frame`).
pub fn finish(
    config: &Config,
    start: Option<Mlp<f32>>,
    outputs: &Outputs,
    progress: &Progress,
) -> Result<Finished, RunError> {
    let loaded = start.is_some();
    let (session, train_seconds) = train(config, start, progress)?;

    let started = Instant::now();
    let mut particles = Start::for_run(config, session.data().train())
        .particles(config.particles, config.seed, 0)
        .in_precision(config.sample_precision);
    let mut chain = Chain::for_run(config);
    sample(&mut chain, session.model(), &mut particles, progress)?;
    progress.finish();
    let sampling_seconds = started.elapsed().as_secs_f64();

    let samples = particles.positions();
    let mut summary = summarize(config, &session, &particles, train_seconds, sampling_seconds);
    if let Some(nfe) = config.likelihood {
        check(progress, Stop::Likelihood)?;
        progress.start("likelihood", 1);
        let data = session.data();
        summary.likelihood = Some(test_likelihood(config, session.model(), data.train(), data.test(), nfe));
        progress.finish();
    }

    // Every file is written to a temporary first; all are renamed into place only once all
    // are written, so a failure leaves every old file as it was.
    //
    // A signal is checked before each file and before the renames. Until the renames begin it
    // stops the run with no file replaced: the staged temporaries are dropped, which removes
    // them. Once they begin they all happen (a few system calls), and the signal is reported
    // after them (`headless::run`): stopping halfway would mix new files with old. A second
    // signal ends the process at once, wherever it is, and may leave temporaries behind.
    let steps_per_epoch = config.steps_per_epoch();
    let mut staged = Vec::new();
    let mut stage = |path: &Option<PathBuf>, what: &str, body: &dyn Fn(&mut dyn Write) -> io::Result<()>| {
        if let Some(path) = path {
            check(progress, Stop::Writing)?;
            let written =
                fs::stage(path, body).wrap_err_with(|| format!("writing the {what} to {}", crate::shown::path(path)));
            staged.push(written.map_err(RunError::Other)?);
        }
        Ok::<_, RunError>(())
    };
    stage(&outputs.samples, "samples", &|w| write_samples(w, samples.view()))?;
    stage(&outputs.data, "data set", &|w| write_data(w, session.data()))?;
    stage(&outputs.history, "loss history", &|w| write_history(w, session.history(), steps_per_epoch))?;
    if let Some(path) = &outputs.save {
        let bytes = checkpoint::to_bytes(session.model(), config)
            .wrap_err_with(|| format!("writing the checkpoint to {}", crate::shown::path(path)))
            .map_err(RunError::Other)?;
        stage(&outputs.save, "checkpoint", &|w| w.write_all(&bytes))?;
    }
    if let Some(path) = &outputs.plot {
        // Rendering can take a while: no need to start it for nothing.
        check(progress, Stop::Writing)?;
        let figure = Figure {
            title: figure_title(config, loaded),
            data: session.data().points.view(),
            samples: samples.view(),
            bounds: config.source.bounds(),
            history: session.history(),
            steps_per_epoch,
        };
        let bytes = plot::render_for(path, &figure)
            .wrap_err_with(|| format!("writing the figure to {}", crate::shown::path(path)))
            .map_err(RunError::Other)?;
        stage(&outputs.plot, "figure", &|w| w.write_all(&bytes))?;
    }
    fs::commit(staged, || check(progress, Stop::Writing))?;
    Ok(Finished { summary, session, particles, chain })
}

/// Trains a session on `config` (from `start`'s weights when given) to its last epoch;
/// returns it with the seconds it took.
pub(super) fn train(config: &Config, start: Option<Mlp<f32>>, progress: &Progress) -> Result<(Session, f64), RunError> {
    let started = Instant::now();
    let mut session = Session::headless(config, start);
    progress.start("training", config.total_steps());
    while !session.is_finished() {
        check(progress, Stop::Training { step: session.step() })?;
        let report = session.train_step().map_err(RunError::Diverged)?;
        if let Some(report) = report {
            progress.update(report.step, || {
                format!("epoch {}/{} loss {:.4}", session.epoch() + 1, config.epochs, report.loss)
            });
        }
    }
    Ok((session, started.elapsed().as_secs_f64()))
}

/// How the samples of a run on `config` are judged: against the arcs for the moons.
pub(super) fn shape(config: &Config) -> Shape {
    if config.source.is_moons() { Shape::Moons } else { Shape::Other }
}

/// The figures of a trained `session` whose samples are `particles`.
pub(super) fn summarize(
    config: &Config,
    session: &Session,
    particles: &Particles,
    train_seconds: f64,
    sampling_seconds: f64,
) -> Summary {
    let test = session.data().test();
    let shape = shape(config);
    let floor = quality(session.fresh_data().view(), test, shape);
    Summary {
        config: config.clone(),
        train_steps: session.step(),
        final_train_loss: session.last_epoch_train_loss().unwrap_or(f32::NAN),
        final_test_loss: session.history().test.last().map_or(f32::NAN, |p| p.loss),
        fisher_divergence: session.history().fisher.last().map_or(f32::NAN, |p| p.loss),
        initial_fisher_divergence: session.history().fisher.first().map_or(f32::NAN, |p| p.loss),
        samples: quality(particles.positions().view(), test, shape),
        floor_energy_distance: floor.energy_distance,
        likelihood: None,
        train_seconds,
        sampling_seconds,
        train_steps_per_second: session.step() as f64 / train_seconds,
        particle_steps_per_second: (config.particles as u64 * particles.steps_taken()) as f64 / sampling_seconds,
    }
}

/// The line above the figure: enough of the configuration to reproduce it.
fn figure_title(c: &Config, loaded: bool) -> String {
    let objective = match c.objective {
        Objective::Dsm => format!("DSM σ = {}", c.sigma),
        Objective::Ism => "ISM".to_string(),
    };
    let widths = vec![c.hidden.to_string(); c.depth].join("→");
    format!(
        "dsm-tui: {}, {objective}, MLP 2→{widths}→2 {}, {} epochs{}, {} particles × {} Langevin steps (η = {}), seed {}",
        c.source.name(),
        c.activation.name(),
        c.epochs,
        if loaded { " from a checkpoint" } else { "" },
        c.particles,
        c.steps,
        c.eta,
        c.seed
    )
}
