//! The loss curves of the last few runs, kept when `n`, `o`, `d` or `a` replaces a run so the
//! loss panel can draw them faint under the current one: DSM beside ISM, or two data sets or
//! modes, on one screen, as TensorBoard keeps runs side by side.
//!
//! Bounded in memory: at most [`MAX_PAST_RUNS`] runs, each at most [`MAX_POINTS`] points of
//! its moving average (the last point always kept, so a curve ends where its run ended).

use std::collections::VecDeque;

use crate::app::loss_history::LossHistory;
use crate::config::{Config, Mode};
use crate::objective::Objective;

/// Runs kept besides the current one: more faint curves than this blur into each other.
pub const MAX_PAST_RUNS: usize = 4;
/// Points of each curve: more than the braille columns of any loss panel.
pub const MAX_POINTS: usize = 512;

/// Which loss a run minimises: losses of one kind can share an axis. Another objective, σ or
/// mode is another quantity (DSM at σ 0.1 sits near 160, ISM below 0, the annealed loss
/// near 1), which an axis fitted to both would flatten.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LossKind {
    objective: Objective,
    mode: Mode,
    /// Single-σ DSM's σ; ISM has none, and the annealed loss spans the schedule.
    sigma: Option<f64>,
}

impl LossKind {
    pub fn of(config: &Config) -> Self {
        let sigma = (config.mode, config.objective) == (Mode::Single, Objective::Dsm);
        Self { objective: config.objective, mode: config.mode, sigma: sigma.then_some(config.sigma) }
    }
}

/// One replaced run: what it was and its moving average by step.
#[derive(Clone, Debug, PartialEq)]
pub struct PastRun {
    /// The run's number as the status line showed it (run id + 1): the curve's end carries it.
    pub number: u64,
    pub kind: LossKind,
    /// Compact: "run 1 DSM moons σ0.1 s0".
    pub label: String,
    /// (step, moving average), in step order, finite values only.
    pub points: Vec<(u64, f64)>,
}

/// "run 1 DSM moons σ0.1 s0": the run's number, objective, data set, σ (single-σ DSM; ISM
/// has none) or "annealed", and seed; "(diverged)" after a run that ran away.
pub fn label(number: u64, config: &Config, diverged: bool) -> String {
    let objective = match config.objective {
        Objective::Dsm => "DSM",
        Objective::Ism => "ISM",
    };
    let noise = match (config.mode, config.objective) {
        (Mode::Annealed, _) => " annealed".to_string(),
        (Mode::Single, Objective::Dsm) => format!(" σ{}", config.sigma),
        (Mode::Single, Objective::Ism) => String::new(),
    };
    let end = if diverged { " (diverged)" } else { "" };
    format!("run {number} {objective} {}{noise} s{}{end}", config.source.name(), config.seed)
}

/// The last [`MAX_PAST_RUNS`] replaced runs, oldest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PastRuns {
    runs: VecDeque<PastRun>,
}

impl PastRuns {
    /// Keeps `history`'s moving average, a loss of `kind`, under `label`, dropping the oldest
    /// run beyond [`MAX_PAST_RUNS`]. A run with no finite loss yet has no curve and is not kept.
    pub fn keep(&mut self, number: u64, kind: LossKind, label: String, history: &LossHistory) {
        let all: Vec<(u64, f64)> =
            history.train().points().map(|p| (p.step, p.smooth)).filter(|(_, v)| v.is_finite()).collect();
        let Some(&last) = all.last() else { return };
        let stride = all.len().div_ceil(MAX_POINTS);
        let mut points: Vec<(u64, f64)> = all.iter().copied().step_by(stride).collect();
        if points.last() != Some(&last) {
            points.push(last);
        }
        if points.len() > MAX_POINTS {
            // The stride leaves room for the last point only when it divides evenly.
            points.remove(points.len() - 2);
        }
        if self.runs.len() == MAX_PAST_RUNS {
            self.runs.pop_front();
        }
        self.runs.push_back(PastRun { number, kind, label, points });
    }

    pub fn clear(&mut self) {
        self.runs.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &PastRun> {
        self.runs.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Builtin, Source};

    fn dsm() -> LossKind {
        LossKind::of(&Config::default())
    }

    #[test]
    fn losses_of_one_kind_share_objective_mode_and_sigma() {
        let moons = Config::default();
        let circles = Config::for_builtin(Builtin::Circles);
        assert_eq!(LossKind::of(&circles), LossKind::of(&Config { source: circles.source.clone(), ..moons.clone() }));
        assert_ne!(LossKind::of(&Config { sigma: 0.2, ..moons.clone() }), dsm());
        assert_ne!(LossKind::of(&Config { objective: Objective::Ism, ..moons.clone() }), dsm());
        assert_ne!(LossKind::of(&Config { mode: Mode::Annealed, ..moons.clone() }), dsm());
        let ism = |sigma| LossKind::of(&Config { objective: Objective::Ism, sigma, ..moons.clone() });
        assert_eq!(ism(0.1), ism(0.3), "ISM has no σ");
    }

    fn history(steps: u64, loss: f32) -> LossHistory {
        let mut h = LossHistory::default();
        for step in 1..=steps {
            h.push_train(step, loss);
        }
        h
    }

    #[test]
    fn labels_name_objective_data_noise_and_seed() {
        let config = Config::default();
        assert_eq!(label(1, &config, false), "run 1 DSM moons σ0.1 s0");
        let ism = Config { objective: Objective::Ism, seed: 3, ..config.clone() };
        assert_eq!(label(2, &ism, false), "run 2 ISM moons s3");
        let annealed = Config { mode: Mode::Annealed, source: Source::Builtin(Builtin::Checkerboard), ..config };
        assert_eq!(label(3, &annealed, true), "run 3 DSM checkerboard annealed s0 (diverged)");
    }

    #[test]
    fn only_the_last_few_runs_are_kept_each_bounded() {
        let mut past = PastRuns::default();
        for number in 1..=6 {
            past.keep(number, dsm(), format!("run {number}"), &history(100_000, number as f32));
        }
        let numbers: Vec<u64> = past.iter().map(|r| r.number).collect();
        assert_eq!(numbers, [3, 4, 5, 6], "the oldest go first");
        for run in past.iter() {
            assert!(run.points.len() <= MAX_POINTS, "{} points", run.points.len());
            assert_eq!(run.points.last().map(|p| p.0), Some(100_000), "the curve ends where the run did");
            assert!(run.points.windows(2).all(|w| w[0].0 < w[1].0));
            assert_eq!(run.label, format!("run {}", run.number));
        }
    }

    #[test]
    fn a_run_without_a_finite_loss_leaves_no_curve_and_clear_empties() {
        let mut past = PastRuns::default();
        past.keep(1, dsm(), "empty".into(), &LossHistory::default());
        past.keep(2, dsm(), "nan".into(), &history(10, f32::NAN));
        assert!(past.is_empty());
        past.keep(3, dsm(), "short".into(), &history(3, 2.0));
        assert_eq!(past.iter().map(|r| r.points.len()).collect::<Vec<_>>(), [3]);
        past.clear();
        assert!(past.is_empty());
    }
}
