//! `dsm-tui --once`: the whole pipeline without a terminal. Trains a [`Session`] to the
//! end, runs the course's Langevin chain, measures sample quality, then prints a summary
//! (or one JSON object) and writes the requested files.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use color_eyre::eyre::{Result, WrapErr};
use serde::Serialize;

pub mod output;
pub mod plot;
pub mod progress;

use crate::app::App;
use crate::checkpoint;
use crate::config::{Config, Mode};
use crate::data::Source;
use crate::eval::metrics::{Quality, Shape, quality};
use crate::fs::write_atomic;
use crate::headless::output::{write_data, write_history, write_samples};
use crate::headless::progress::Progress;
use crate::nn::Mlp;
use crate::objective::Objective;
use crate::sampling::chain::Chain;
use crate::sampling::compare;
use crate::sampling::langevin::Particles;
use crate::seeds::{Stream, stream_rng};
use crate::trainer::protocol::{Figures, Snapshot};
use crate::trainer::{Divergence, Session};
use crate::ui;
use plot::Figure;

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
    pub train_seconds: f64,
    pub sampling_seconds: f64,
    pub train_steps_per_second: f64,
    pub particle_steps_per_second: f64,
}

/// Why a headless run failed to produce results.
#[derive(Debug)]
pub enum RunError {
    Diverged(Divergence),
    /// Ctrl-C: stopped at a step boundary, nothing written.
    Interrupted {
        phase: &'static str,
        step: u64,
    },
    Other(color_eyre::Report),
}

/// Runs `chain` on `particles` to its end, in blocks so progress shows and Ctrl-C stops it.
fn sample(chain: &mut Chain, model: &Mlp<f32>, particles: &mut Particles, progress: &Progress) -> Result<(), RunError> {
    let total = particles.steps_taken() + chain.remaining(particles).expect("a headless chain has an end");
    progress.start("sampling", total);
    while !chain.is_done(particles) {
        if progress.interrupted() {
            return Err(RunError::Interrupted { phase: "sampling", step: particles.steps_taken() });
        }
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
    let mut particles = Particles::uniform(config.particles, config.seed, 0);
    let mut chain = Chain::for_run(config);
    sample(&mut chain, session.model(), &mut particles, progress)?;
    progress.finish();
    let sampling_seconds = started.elapsed().as_secs_f64();

    let samples = particles.positions();
    let summary = summarize(config, &session, &particles, train_seconds, sampling_seconds);

    let write = |path: &Option<PathBuf>, what: &str, body: &dyn Fn(&mut dyn std::io::Write) -> std::io::Result<()>| {
        if let Some(path) = path {
            write_atomic(path, body).wrap_err_with(|| format!("writing the {what} to {}", path.display()))?;
        }
        Ok::<_, color_eyre::Report>(())
    };
    let steps_per_epoch = config.steps_per_epoch();
    write(&outputs.samples, "samples", &|w| write_samples(w, samples.view())).map_err(RunError::Other)?;
    write(&outputs.data, "data set", &|w| write_data(w, session.data())).map_err(RunError::Other)?;
    write(&outputs.history, "loss history", &|w| write_history(w, session.history(), steps_per_epoch))
        .map_err(RunError::Other)?;
    if let Some(path) = &outputs.save {
        checkpoint::save(path, session.model(), config)
            .wrap_err_with(|| format!("writing the checkpoint to {}", path.display()))
            .map_err(RunError::Other)?;
    }
    if let Some(path) = &outputs.plot {
        let figure = Figure {
            title: figure_title(config, loaded),
            data: session.data().points.view(),
            samples: samples.view(),
            bounds: config.source.bounds(),
            history: session.history(),
            steps_per_epoch,
        };
        plot::write(path, &figure)
            .wrap_err_with(|| format!("writing the figure to {}", path.display()))
            .map_err(RunError::Other)?;
    }
    Ok(Finished { summary, session, particles, chain })
}

/// Trains a session on `config` (from `start`'s weights when given) to its last epoch;
/// returns it with the seconds it took.
fn train(config: &Config, start: Option<Mlp<f32>>, progress: &Progress) -> Result<(Session, f64), RunError> {
    let started = Instant::now();
    let mut session = match start {
        Some(model) => Session::with_model(config, model),
        None => Session::new(config),
    };
    progress.start("training", config.total_steps());
    while !session.is_finished() {
        if progress.interrupted() {
            return Err(RunError::Interrupted { phase: "training", step: session.step() });
        }
        let report = session.train_step().map_err(RunError::Diverged)?;
        if let Some(report) = report {
            progress.update(report.step, || {
                format!("epoch {}/{} loss {:.4}", session.epoch() + 1, config.epochs, report.loss)
            });
        }
    }
    Ok((session, started.elapsed().as_secs_f64()))
}

/// The figures of a trained `session` whose samples are `particles`.
fn summarize(
    config: &Config,
    session: &Session,
    particles: &Particles,
    train_seconds: f64,
    sampling_seconds: f64,
) -> Summary {
    let test = session.data().test();
    let shape = if config.source.is_moons() { Shape::Moons } else { Shape::Other };
    let floor = match &config.source {
        Source::Builtin(b) => {
            let fresh = b.generate(config.particles, config.noise, &mut stream_rng(config.seed, Stream::FloorData));
            quality(fresh.points.view(), test, shape)
        }
        Source::File { .. } => quality(session.data().train(), test, shape),
    };
    Summary {
        config: config.clone(),
        train_steps: session.step(),
        final_train_loss: session.last_epoch_train_loss().unwrap_or(f32::NAN),
        final_test_loss: session.history().test.last().map_or(f32::NAN, |p| p.loss),
        fisher_divergence: session.history().fisher.last().map_or(f32::NAN, |p| p.loss),
        initial_fisher_divergence: session.history().fisher.first().map_or(f32::NAN, |p| p.loss),
        samples: quality(particles.positions().view(), test, shape),
        floor_energy_distance: floor.energy_distance,
        train_seconds,
        sampling_seconds,
        train_steps_per_second: session.step() as f64 / train_seconds,
        particle_steps_per_second: (config.particles as u64 * particles.steps_taken()) as f64 / sampling_seconds,
    }
}

/// The dashboard's screen at the end of `finished`, `width` × `height`, as text: the same
/// widgets, drawn into an off-screen buffer. The quality figures are those of the summary
/// (every particle), not the dashboard's subsample.
pub fn frame(finished: &Finished, width: u16, height: u16) -> String {
    let mut snapshot = Snapshot::capture(&finished.session, &finished.particles, &finished.chain, 0, 0, true);
    snapshot.status.figures = Some(Figures::of(&finished.summary.samples, finished.particles.steps_taken()));
    let mut app = App::new(finished.summary.config.clone());
    app.apply(snapshot);
    ui::render_text(&app, width, height)
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

pub fn to_json(summary: &Summary) -> String {
    serde_json::to_string(summary).expect("a summary always serialises")
}

/// The readable summary `--once` prints.
pub fn render(s: &Summary) -> String {
    let c = &s.config;
    let q = &s.samples;
    let mut out = String::new();
    let _ = writeln!(out, "dsm-tui --once (seed {})", c.seed);
    let _ = writeln!(
        out,
        "data      {}: {} points{}; {} train / {} test",
        c.source.name(),
        c.count,
        match c.source {
            Source::Builtin(_) => format!(", noise {}", c.noise),
            Source::File { .. } => String::new(),
        },
        c.train_len(),
        c.count - c.train_len()
    );
    let widths = vec![c.hidden.to_string(); c.depth].join("→");
    let _ = writeln!(out, "model     MLP 2→{widths}→2, {}", c.activation.name());
    let _ = writeln!(
        out,
        "training  {}, batch {}, {} epochs ({} steps), Adam lr {} decaying ×{} per epoch",
        match c.objective {
            Objective::Dsm if c.mode == Mode::Annealed =>
                "noise-conditional DSM (σ² weighted, level per sample)".into(),
            Objective::Dsm => format!("DSM σ={}", c.sigma),
            Objective::Ism => "ISM".to_string(),
        },
        c.batch_size,
        c.epochs,
        s.train_steps,
        c.lr,
        c.lr_gamma
    );
    let _ = match c.mode {
        Mode::Single => {
            writeln!(out, "sampler   Langevin: {} particles from U[-1,1]², {} steps, η={}", c.particles, c.steps, c.eta)
        }
        Mode::Annealed => writeln!(
            out,
            "sampler   annealed Langevin: {} particles from U[-1,1]², σ {} ({} levels) × {} steps, α = {}·σ², then denoised",
            c.particles,
            c.levels,
            c.levels.len(),
            c.level_steps,
            c.step_scale
        ),
    };
    let _ = writeln!(out);
    let train = match s.train_steps {
        // --load with --epochs 0
        0 => "– (no training)".to_string(),
        _ => format!("{:.4} (mean of last epoch)", s.final_train_loss),
    };
    let _ = writeln!(out, "loss      train {train}   test {:.4}", s.final_test_loss);
    let _ = writeln!(
        out,
        "fisher    ½E‖s − ∇log q_σ‖² {:.4} (before training {:.4}; q_σ: training set blurred by σ={})",
        s.fisher_divergence, s.initial_fisher_divergence, c.sigma
    );
    let floor_kind = match c.source {
        Source::Builtin(_) => "fresh data",
        Source::File { .. } => "the training split",
    };
    let _ = writeln!(
        out,
        "quality   energy distance {:.5} (floor {:.5}: {floor_kind})   inliers only {:.5}",
        q.energy_distance, s.floor_energy_distance, q.energy_distance_inliers
    );
    if let (Some(upper), Some(far)) = (q.upper_moon_share, q.far_share) {
        let _ = writeln!(
            out,
            "          upper-moon share {upper:.3} (data 0.5)   farther than 0.3 from both arcs {:.1}%",
            100.0 * far
        );
    }
    let _ = writeln!(
        out,
        "          escaped (|x| or |y| > {}) {}   non-finite {}",
        q.escape_radius, q.escaped, q.nonfinite
    );
    let _ = writeln!(
        out,
        "time      training {:.2} s ({:.0} steps/s)   sampling {:.2} s ({:.3e} particle-steps/s)",
        s.train_seconds, s.train_steps_per_second, s.sampling_seconds, s.particle_steps_per_second
    );
    out
}

/// DSM and ISM from the same seed (same data, initial weights, batches and particles) and
/// the same step budget.
pub fn compare_objectives(config: &Config, progress: &Progress) -> Result<[Summary; 2], RunError> {
    let run_with = |objective| run(&Config { objective, ..config.clone() }, &Outputs::default(), progress);
    Ok([run_with(Objective::Dsm)?, run_with(Objective::Ism)?])
}

pub fn comparison_json(pair: &[Summary; 2]) -> String {
    serde_json::json!({ "dsm": pair[0], "ism": pair[1] }).to_string()
}

/// The side-by-side table `--compare-objectives` prints.
pub fn render_comparison(pair: &[Summary; 2]) -> String {
    let c = &pair[0].config;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "DSM (σ={}) vs ISM: seed {}, MLP 2→{}×{}→2 {}, {} steps each, {} particles × {} Langevin steps (η={})",
        c.sigma,
        c.seed,
        c.hidden,
        c.depth,
        c.activation.name(),
        pair[0].train_steps,
        c.particles,
        c.steps,
        c.eta
    );
    let _ = writeln!(out, "{:<36}{:>12}{:>12}", "", "dsm", "ism");
    type Cell = fn(&Summary) -> String;
    let rows: [(&str, Cell); 8] = [
        ("energy distance", |s| format!("{:.5}", s.samples.energy_distance)),
        ("  floor: fresh data", |s| format!("{:.5}", s.floor_energy_distance)),
        ("upper-moon share", |s| s.samples.upper_moon_share.map_or("-".into(), |v| format!("{v:.3}"))),
        ("farther than 0.3 from both arcs", |s| {
            s.samples.far_share.map_or("-".into(), |v| format!("{:.1}%", 100.0 * v))
        }),
        ("escaped / non-finite", |s| format!("{}/{}", s.samples.escaped, s.samples.nonfinite)),
        ("Fisher divergence to q_σ", |s| format!("{:.3}", s.fisher_divergence)),
        ("training steps/s", |s| format!("{:.0}", s.train_steps_per_second)),
        ("training time (s)", |s| format!("{:.2}", s.train_seconds)),
    ];
    for (label, cell) in rows {
        let _ = writeln!(out, "{label:<36}{:>12}{:>12}", cell(&pair[0]), cell(&pair[1]));
    }
    out
}

/// One sampler's result in [`compare_samplers`].
#[derive(Clone, Debug, Serialize)]
pub struct SamplerResult {
    pub sampler: &'static str,
    pub langevin_steps: u64,
    pub samples: Quality,
    pub sampling_seconds: f64,
}

/// The noise-conditional model trained once, then sampled by the course's single-σ chain (at
/// σ = --sigma) and by annealed Langevin from the same starting particles ([`compare::sides`]).
pub fn compare_samplers(config: &Config, progress: &Progress) -> Result<(Summary, [SamplerResult; 2]), RunError> {
    let annealed = Config { mode: Mode::Annealed, ..config.clone() };
    let (session, train_seconds) = train(&annealed, None, progress)?;
    // Each side to its end, timed on its own.
    let run_side = |mut side: compare::Side| {
        let started = Instant::now();
        sample(&mut side.chain, session.model(), &mut side.particles, progress)?;
        progress.finish();
        Ok::<_, RunError>((side, started.elapsed().as_secs_f64()))
    };
    let [single, annealed_side] = compare::sides(&annealed);
    let (single, single_seconds) = run_side(single)?;
    let (annealed_side, annealed_seconds) = run_side(annealed_side)?;
    // The annealed side is `--once --mode annealed`'s own run: the summary is of it.
    let summary = summarize(&annealed, &session, &annealed_side.particles, train_seconds, annealed_seconds);
    let shape = if annealed.source.is_moons() { Shape::Moons } else { Shape::Other };
    let result = |side: &compare::Side, samples, sampling_seconds| SamplerResult {
        sampler: side.name,
        langevin_steps: side.particles.steps_taken(),
        samples,
        sampling_seconds,
    };
    let results = [
        result(&single, quality(single.particles.positions().view(), session.data().test(), shape), single_seconds),
        result(&annealed_side, summary.samples.clone(), annealed_seconds),
    ];
    Ok((summary, results))
}

pub fn samplers_json(summary: &Summary, results: &[SamplerResult; 2]) -> String {
    serde_json::json!({ "training": summary, "single": results[0], "annealed": results[1] }).to_string()
}

/// The side-by-side table `--compare` prints.
pub fn render_samplers(summary: &Summary, results: &[SamplerResult; 2]) -> String {
    let c = &summary.config;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "noise-conditional model, seed {}: {} particles from the same U[-1,1]² start\n\
         single-σ: σ={}, {} steps, η={}   annealed: σ {} × {} steps, α = {}·σ², then denoised",
        c.seed, c.particles, c.sigma, c.steps, c.eta, c.levels, c.level_steps, c.step_scale
    );
    let _ = writeln!(out, "{:<36}{:>12}{:>12}", "", results[0].sampler, results[1].sampler);
    type Cell = fn(&SamplerResult) -> String;
    let rows: [(&str, Cell); 6] = [
        ("energy distance", |r| format!("{:.5}", r.samples.energy_distance)),
        ("upper-moon share", |r| r.samples.upper_moon_share.map_or("-".into(), |v| format!("{v:.3}"))),
        ("farther than 0.3 from both arcs", |r| {
            r.samples.far_share.map_or("-".into(), |v| format!("{:.1}%", 100.0 * v))
        }),
        ("escaped / non-finite", |r| format!("{}/{}", r.samples.escaped, r.samples.nonfinite)),
        ("Langevin steps", |r| r.langevin_steps.to_string()),
        ("sampling time (s)", |r| format!("{:.2}", r.sampling_seconds)),
    ];
    for (label, cell) in rows {
        let _ = writeln!(out, "{label:<36}{:>12}{:>12}", cell(&results[0]), cell(&results[1]));
    }
    let _ = writeln!(out, "{:<36}{:>24.5}", "floor: fresh data", summary.floor_energy_distance);
    out
}
