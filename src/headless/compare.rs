//! `--compare`: the noise-conditional model trained once, then sampled by the course's
//! single-σ Langevin chain and by annealed Langevin from the same start, side by side.

use std::fmt::Write as _;
use std::time::Instant;

use serde::Serialize;

use crate::config::{Config, Mode};
use crate::eval::metrics::{Quality, quality};
use crate::headless::pipeline::{RunError, Summary, sample, shape, summarize, train};
use crate::headless::progress::Progress;
use crate::sampling::compare::{Side, sides};
use crate::sampling::start::Start;

/// One sampler's result in [`run`].
#[derive(Clone, Debug, Serialize)]
pub struct SamplerResult {
    pub sampler: &'static str,
    pub langevin_steps: u64,
    pub samples: Quality,
    pub sampling_seconds: f64,
}

/// The noise-conditional model trained once, then sampled by the course's single-σ chain (at
/// σ = --sigma) and by annealed Langevin from the same starting particles ([`sides`]).
pub fn run(config: &Config, progress: &Progress) -> Result<(Summary, [SamplerResult; 2]), RunError> {
    let annealed = Config { mode: Mode::Annealed, ..config.clone() };
    let (session, train_seconds) = train(&annealed, None, progress)?;
    // Each side to its end, timed on its own.
    let run_side = |mut side: Side| {
        let started = Instant::now();
        sample(&mut side.chain, session.model(), &mut side.particles, progress)?;
        progress.finish();
        Ok::<_, RunError>((side, started.elapsed().as_secs_f64()))
    };
    let [single, annealed_side] = sides(&annealed, Start::for_run(&annealed, session.data().train()));
    let (single, single_seconds) = run_side(single)?;
    let (annealed_side, annealed_seconds) = run_side(annealed_side)?;
    // The annealed side is `--once --mode annealed`'s own run: the summary is of it.
    let summary = summarize(&annealed, &session, &annealed_side.particles, train_seconds, annealed_seconds);
    let shape = shape(&annealed);
    let result = |side: &Side, samples, sampling_seconds| SamplerResult {
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

/// The training summary and both samplers' results as one JSON object.
pub fn json(summary: &Summary, results: &[SamplerResult; 2]) -> String {
    serde_json::json!({ "training": summary, "single": results[0], "annealed": results[1] }).to_string()
}

/// The side-by-side table `--compare` prints.
pub fn text(summary: &Summary, results: &[SamplerResult; 2]) -> String {
    let c = &summary.config;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "noise-conditional model, seed {}: {} particles each, single-σ from U[-1,1]², annealed from N(mean, σ₁²I)\n\
         single-σ: σ={}, {} steps, η={}   annealed: σ {} × {} steps, α = {}·σ², then denoised",
        c.seed,
        c.particles,
        crate::shown::number(c.sigma),
        c.steps,
        crate::shown::number(c.eta),
        c.levels,
        c.level_steps,
        crate::shown::number(c.step_scale)
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
