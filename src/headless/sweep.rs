//! `--sampler-sweep`: quality against cost. The noise-conditional model is trained once (or
//! loaded), then sampled by every sampler of the noise-conditional model at each budget of
//! [`BUDGETS`] network evaluations, every run from the same starting particles (the prior's
//! draw on the same seed), each timed on its own and measured against the test split.
//!
//! Annealed Langevin's budget is L levels × T steps + its denoising step: T = NFE/L (rounded
//! down; no row where that is 0), so its rows spend L·T + 1 evaluations (1001 at NFE 1000,
//! its default). The others spend at most the budget (Heun's and predictor–corrector's steps
//! take two evaluations, so an even budget leaves one unspent). Every row gives the
//! evaluations it spent.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use color_eyre::eyre::WrapErr;
use serde::Serialize;

use crate::config::{Config, Sampler};
use crate::eval::metrics::{Quality, quality};
use crate::fs;
use crate::headless::pipeline::{RunError, Stop, check, sample, shape, train};
use crate::headless::plot;
use crate::headless::progress::Progress;
use crate::headless::sweep_plot::SweepFigure;
use crate::nn::Mlp;
use crate::sampling::chain::Chain;
use crate::sampling::start::Start;

/// The budgets every sampler is run at.
pub const BUDGETS: [usize; 8] = [5, 10, 20, 50, 100, 200, 500, 1000];

/// The samplers swept, in the table's order.
pub const SAMPLERS: [Sampler; 5] =
    [Sampler::Annealed, Sampler::ReverseDiffusion, Sampler::Pc, Sampler::OdeEuler, Sampler::OdeHeun];

/// One sampler at one budget.
#[derive(Clone, Debug, Serialize)]
pub struct SweepRow {
    pub sampler: Sampler,
    /// Network evaluations spent (see the module docs).
    pub nfe: usize,
    pub samples: Quality,
    pub seconds: f64,
}

/// The sweep's result.
#[derive(Clone, Debug, Serialize)]
pub struct Sweep {
    pub config: Config,
    pub train_steps: u64,
    pub train_seconds: f64,
    /// Energy distance of a fresh draw of as many data points as particles (for a file: the
    /// training split) to the test split: what a perfect sampler would score.
    pub floor_energy_distance: f64,
    pub rows: Vec<SweepRow>,
}

/// `config` with `sampler` at a budget of `nfe` evaluations, or `None` where the budget is
/// too small for it (annealed Langevin below one step a level).
pub fn at_budget(config: &Config, sampler: Sampler, nfe: usize) -> Option<Config> {
    let config = Config { sampler, ..config.clone() };
    match sampler {
        Sampler::Annealed => {
            let level_steps = nfe / config.levels.len();
            (level_steps > 0).then_some(Config { level_steps, ..config })
        }
        _ => Some(Config { nfe, ..config }),
    }
}

/// Network evaluations `config`'s sampler spends.
fn evaluations(config: &Config) -> usize {
    Chain::for_run(config).evaluations().expect("the noise-conditional samplers end")
}

/// Trains (from `start` when given), then runs every sampler at every budget; writes the
/// figure to `plot` when given (all or nothing, as a plain run's files).
pub fn run(
    config: &Config,
    start: Option<Mlp<f32>>,
    plot: Option<&Path>,
    progress: &Progress,
) -> Result<Sweep, RunError> {
    let (session, train_seconds) = train(config, start, progress)?;
    let (train_split, test) = (session.data().train(), session.data().test());
    let shape = shape(config);
    let first = Start::for_run(config, train_split);
    let mut rows = Vec::new();
    for sampler in SAMPLERS {
        for nfe in BUDGETS {
            let Some(run_config) = at_budget(config, sampler, nfe) else { continue };
            check(progress, Stop::Sampling { step: 0 })?;
            let started = Instant::now();
            let mut particles = first.particles(config.particles, config.seed, 0).in_precision(config.sample_precision);
            let mut chain = Chain::for_run(&run_config);
            sample(&mut chain, session.model(), &mut particles, progress)?;
            let seconds = started.elapsed().as_secs_f64();
            let samples = quality(particles.positions().view(), test, shape);
            rows.push(SweepRow { sampler, nfe: evaluations(&run_config), samples, seconds });
        }
    }
    progress.finish();
    let floor = quality(session.fresh_data().view(), test, shape).energy_distance;
    let sweep = Sweep {
        config: config.clone(),
        train_steps: session.step(),
        train_seconds,
        floor_energy_distance: floor,
        rows,
    };
    if let Some(path) = plot {
        check(progress, Stop::Writing)?;
        let title = format!("dsm-tui --sampler-sweep: {}, seed {}", config.source.name(), config.seed);
        let shown = crate::shown::path(path);
        let bytes = plot::render_for(path, &SweepFigure { title, sweep: &sweep })
            .wrap_err_with(|| format!("writing the figure to {shown}"))
            .map_err(RunError::Other)?;
        let staged =
            fs::stage(path, |w| w.write_all(&bytes)).wrap_err_with(|| format!("writing the figure to {shown}"));
        fs::commit(vec![staged.map_err(RunError::Other)?], || check(progress, Stop::Writing))?;
    }
    Ok(sweep)
}

/// The sweep as one JSON object (`--json`).
pub fn json(sweep: &Sweep) -> String {
    serde_json::to_string(sweep).expect("a sweep always serialises")
}

/// The table `--sampler-sweep` prints.
pub fn text(sweep: &Sweep) -> String {
    let c = &sweep.config;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "sampler sweep (seed {}): the noise-conditional model after {} training steps ({:.2} s); {} particles, every run from the same draw of N(mean, σ₁²I), σ {}→{}",
        c.seed,
        sweep.train_steps,
        sweep.train_seconds,
        c.particles,
        crate::shown::number(c.levels.max),
        crate::shown::number(c.levels.min),
    );
    let _ =
        writeln!(out, "floor (fresh data against the test split): energy distance {:.5}", sweep.floor_energy_distance);
    let moons = sweep.rows.first().is_some_and(|r| r.samples.upper_moon_share.is_some());
    let _ = write!(out, "{:<22}{:>6}{:>17}", "sampler", "NFE", "energy distance");
    if moons {
        let _ = write!(out, "{:>12}{:>8}", "upper moon", "far");
    }
    let _ = writeln!(out, "{:>10}{:>11}", "escaped", "seconds");
    let mut last = None;
    for row in &sweep.rows {
        let label = if last == Some(row.sampler) { "" } else { row.sampler.title() };
        last = Some(row.sampler);
        let q = &row.samples;
        let _ = write!(out, "{label:<22}{:>6}{:>17.5}", row.nfe, q.energy_distance);
        if let (Some(upper), Some(far)) = (q.upper_moon_share, q.far_share) {
            let _ = write!(out, "{upper:>12.3}{:>7.2}%", 100.0 * far);
        }
        let _ = writeln!(out, "{:>10}{:>11.3}", q.escaped + q.nonfinite, row.seconds);
    }
    if moons {
        let _ = writeln!(out, "far: farther than 0.3 from both arcs; escaped: outside |x|, |y| ≤ 5 or not finite");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Mode;

    #[test]
    fn each_sampler_spends_its_budget_or_less_and_annealed_one_step_a_level_at_least() {
        let config = Config { mode: Mode::Annealed, ..Config::default() }.with_levels_from_data();
        assert_eq!(config.levels.len(), 10);
        let spent = |sampler, nfe| at_budget(&config, sampler, nfe).map(|c| evaluations(&c));
        assert_eq!(spent(Sampler::Annealed, 5), None);
        assert_eq!(spent(Sampler::Annealed, 10), Some(11));
        assert_eq!(spent(Sampler::Annealed, 1000), Some(1001), "its default: 100 steps a level");
        assert_eq!(spent(Sampler::Annealed, 55), Some(51));
        assert_eq!(spent(Sampler::ReverseDiffusion, 5), Some(5));
        assert_eq!(spent(Sampler::OdeEuler, 1000), Some(1000));
        assert_eq!(spent(Sampler::OdeHeun, 10), Some(9), "two a step and the denoising step");
        assert_eq!(spent(Sampler::Pc, 5), Some(5));
    }
}
