//! The loss panel's series in plot coordinates, computed when data arrives so that drawing
//! only lays them out.
//!
//! ratatui's chart has no log axis, so on the log scale the series are plotted as log10 of
//! their values and the tick labels show the real values.
//!
//! **Two charts.** The loss (its moving average over the raw curve, and the test loss) has a
//! range of its own, and so does the Fisher divergence, plotted apart. The DSM loss carries a
//! large constant the model cannot remove (≈ 160 at σ = 0.1), so it falls little while the
//! divergence, what it minimises above that constant, falls several times: that contrast is
//! told in numbers (each curve's fall since the first reading, [`LossPlot::test_ends`] and
//! [`FisherPlot::ends`]) rather than by squeezing the loss into the top rows of a shared axis.
//!
//! **A loss that runs away** (non-finite, or [`RUNAWAY_FACTOR`] times the bulk of the raw
//! losses) does not set the range: it is drawn at the edge and listed in
//! [`LossPlot::runaway`], so the panel can mark it instead of drawing it off the axis.
//!
//! **Earlier runs** ([`PastRuns`]) share the step axis, and those of the current run's kind
//! of loss ([`LossKind`]: objective, mode, σ) share the range too, so their curves can be read
//! against the current one; a point of theirs that runs away (by their own bulk or the current
//! run's) is held at the edge out of the range, so a diverged run kept for comparison does not
//! flatten the others. Another kind's loss is another quantity: it is drawn only where it
//! falls in the range, and named as such ([`PastCurve::same_kind`]).

use std::collections::BTreeSet;

use crate::app::loss_history::{Ends, LossHistory, LossPoint, RECENT_STEPS};
use crate::app::past_runs::{LossKind, PastRun, PastRuns};
use crate::app::view::{Curve, FisherCurve, LossView, Scale, Window};

/// A loss this many times the larger end of the raw losses' 2nd–98th percentile range has run
/// away: the trainer stops a run at 10⁴ times the untrained loss, long after the chart should
/// have stopped following it.
pub const RUNAWAY_FACTOR: f64 = 100.0;

/// The loss series in plot coordinates (x = step, y = loss or its log10), and the bounds:
/// built by [`LossPlot::new`] only, read by the loss panel.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LossPlot {
    pub raw: Vec<(f64, f64)>,
    pub smooth: Vec<(f64, f64)>,
    pub test: Vec<(f64, f64)>,
    /// The Fisher divergence on its own axis; `None` when hidden (`i`) or not measured yet.
    pub fisher: Option<FisherPlot>,
    /// The steps shown: the window's range, or the wheel's zoom of it.
    pub x_bounds: [f64; 2],
    /// The window's whole range of steps, which the wheel zooms within.
    pub whole: [f64; 2],
    pub y_bounds: [f64; 2],
    pub scale: Scale,
    pub window: Window,
    /// The curves the legend has hidden: named there, not drawn.
    pub hidden: BTreeSet<Curve>,
    /// Log was asked for but the loss is not positive throughout.
    pub log_refused: bool,
    /// Points that ran away (drawn at the top edge instead), by step, and the first such loss
    /// as it was (NaN when it was not finite).
    pub runaway: Vec<f64>,
    pub runaway_loss: Option<f64>,
    /// The moving average's latest value.
    pub latest_smooth: Option<f64>,
    /// The first and latest test loss of the whole run.
    pub test_ends: Option<Ends>,
    /// Earlier runs' moving averages, oldest first, in this plot's coordinates.
    pub past: Vec<PastCurve>,
}

/// A point of an earlier run in view: its step, its loss, and whether it stays in the range
/// (else it is held at the edge).
type InView = (u64, f64, bool);

/// An earlier run's moving average as plotted.
#[derive(Clone, Debug, PartialEq)]
pub struct PastCurve {
    pub number: u64,
    pub label: String,
    /// Its loss is the current run's kind, on this axis by right; else only its points that
    /// fall in the range are drawn.
    pub same_kind: bool,
    pub points: Vec<(f64, f64)>,
}

/// The Fisher divergence readouts, one per epoch, on an axis fitted to them.
#[derive(Clone, Debug, PartialEq)]
pub struct FisherPlot {
    pub points: Vec<(f64, f64)>,
    pub y_bounds: [f64; 2],
    pub scale: Scale,
    /// The first and latest reading of the whole run.
    pub ends: Option<Ends>,
}

/// Where `value` goes on an axis of `scale`.
pub fn plotted(scale: Scale, value: f64) -> f64 {
    match scale {
        Scale::Log => value.log10(),
        Scale::Linear => value,
    }
}

/// The value at plot height `y` on an axis of `scale` (the inverse of [`plotted`]).
pub fn value_at(scale: Scale, y: f64) -> f64 {
    match scale {
        Scale::Log => 10f64.powf(y),
        Scale::Linear => y,
    }
}

impl LossPlot {
    /// The plot of `history`, a loss of `kind`, with `past` runs under it, as `view` asks: a
    /// loss that is not positive throughout (implicit score matching's can be negative) has
    /// no log, so such a plot falls back to linear. The range fits the curves in the steps
    /// shown that are not hidden.
    pub fn new(history: &LossHistory, kind: LossKind, past: &PastRuns, view: &LossView) -> Self {
        let hidden = |curve| view.hidden.contains(&curve);
        let last = history.last_step().unwrap_or(0);
        let window_start = match view.window {
            Window::Full => 0,
            Window::Recent => last.saturating_sub(RECENT_STEPS as u64),
        };
        // The full history reaches as far as the longest run of this kind of loss (another
        // kind may well be off the axis, its steps empty); the recent window is the current
        // run's last steps.
        let window_end = match view.window {
            Window::Full => {
                let same_kind = past.iter().filter(|r| r.kind == kind);
                same_kind.filter_map(|r| r.points.last()).map(|p| p.0).fold(last, u64::max)
            }
            Window::Recent => last,
        };
        let whole = [window_start as f64, window_end.max(window_start + 1) as f64];
        let x_bounds = view.steps.range(whole);
        let (first, end) = (x_bounds[0].floor() as u64, x_bounds[1].ceil() as u64);
        // The recent steps one point each where the range lies within them, else the buckets.
        let recent_from = history.recent().next().map_or(u64::MAX, |p| p.step);
        let in_view = |p: &LossPoint| (first..=end).contains(&p.step);
        let train: Vec<LossPoint> = if view.window == Window::Recent || first >= recent_from {
            history.recent().filter(in_view).collect()
        } else {
            history.train().points().filter(in_view).collect()
        };
        let test: Vec<LossPoint> = history.test().points().filter(in_view).collect();

        let runaway_above = runaway_threshold(train.iter().map(|p| p.raw));
        let runs_away = |v: f64| !v.is_finite() || v.abs() > runaway_above;
        let kept = |curve, points: &[LossPoint], value: fn(&LossPoint) -> f64| -> Vec<(u64, f64)> {
            if hidden(curve) {
                return Vec::new();
            }
            points.iter().map(|p| (p.step, value(p))).filter(|&(_, v)| !runs_away(v)).collect()
        };
        let (raw_kept, smooth_kept, test_kept) = (
            kept(Curve::Raw, &train, |p| p.raw),
            kept(Curve::Smooth, &train, |p| p.smooth),
            kept(Curve::Test, &test, |p| p.raw),
        );
        // Each earlier run of this kind's points in view, and whether each stays in the range.
        let past_in_view: Vec<(&PastRun, Vec<InView>)> = past
            .iter()
            .filter(|run| run.kind == kind && !hidden(Curve::Past(run.number)))
            .map(|run| {
                let own = runaway_threshold(run.points.iter().map(|p| p.1)).min(runaway_above);
                let points = run.points.iter().filter(|p| (first..=end).contains(&p.0));
                (run, points.map(|&(step, v)| (step, v, v.abs() <= own)).collect())
            })
            .collect();
        let past_kept = || past_in_view.iter().flat_map(|(_, points)| points).filter(|p| p.2);
        let positive = raw_kept.iter().chain(&smooth_kept).chain(&test_kept).all(|&(_, v)| v > 0.0)
            && past_kept().all(|p| p.1 > 0.0);
        let log_refused = view.scale == Scale::Log && !positive;
        let scale = if log_refused { Scale::Linear } else { view.scale };
        let to_plot = |points: &[(u64, f64)]| -> Vec<(f64, f64)> {
            points.iter().map(|&(step, v)| (step as f64, plotted(scale, v))).collect()
        };
        let past_range = range(past_kept().map(|p| plotted(scale, p.1)));
        let current_range = loss_range(&to_plot(&raw_kept), &to_plot(&smooth_kept), &to_plot(&test_kept));
        let y_bounds = padded(range(current_range.into_iter().chain(past_range).flatten()));
        let mut past_curves: Vec<PastCurve> = past_in_view
            .into_iter()
            .map(|(run, points)| PastCurve {
                number: run.number,
                label: run.label.clone(),
                same_kind: true,
                points: points
                    .into_iter()
                    .map(|(step, v, in_range)| {
                        let y = match (in_range, v < 0.0) {
                            (true, _) => plotted(scale, v),
                            (false, true) => y_bounds[0],
                            (false, false) => y_bounds[1],
                        };
                        (step as f64, y)
                    })
                    .collect(),
            })
            .collect();
        // Another kind's points where they fall in the range, none held at an edge; a hidden
        // run keeps its legend entry, without points.
        let in_range = |y: f64| (y_bounds[0]..=y_bounds[1]).contains(&y);
        for run in past.iter().filter(|run| run.kind != kind || hidden(Curve::Past(run.number))) {
            let points = run.points.iter().filter(|p| {
                !hidden(Curve::Past(run.number))
                    && (first..=end).contains(&p.0)
                    && (p.1 > 0.0 || scale == Scale::Linear)
            });
            let points = points.map(|&(step, v)| (step as f64, plotted(scale, v))).filter(|p| in_range(p.1)).collect();
            let same_kind = run.kind == kind;
            past_curves.push(PastCurve { number: run.number, label: run.label.clone(), same_kind, points });
        }
        past_curves.sort_by_key(|c| c.number);
        let past = past_curves;

        // Every point, a runaway one at the edge it ran towards; a hidden curve has none, but
        // its runaway steps are still marked.
        let mut runaway = Vec::new();
        let mut runaway_loss = None;
        let mut series = |curve, points: &[LossPoint], value: fn(&LossPoint) -> f64| -> Vec<(f64, f64)> {
            let mut plotted_points = Vec::with_capacity(points.len());
            for p in points {
                let v = value(p);
                let y = if runs_away(v) {
                    runaway.push(p.step as f64);
                    runaway_loss.get_or_insert(v);
                    if v < 0.0 { y_bounds[0] } else { y_bounds[1] }
                } else {
                    plotted(scale, v)
                };
                plotted_points.push((p.step as f64, y));
            }
            if hidden(curve) {
                plotted_points.clear();
            }
            plotted_points
        };
        let raw = series(Curve::Raw, &train, |p| p.raw);
        let smooth = series(Curve::Smooth, &train, |p| p.smooth);
        let test = series(Curve::Test, &test, |p| p.raw);
        runaway.sort_by(f64::total_cmp);
        runaway.dedup();

        let fisher = match view.fisher_curve {
            FisherCurve::Shown => FisherPlot::new(history, view.scale, [first, end], hidden(Curve::Fisher)),
            FisherCurve::Hidden => None,
        };
        Self {
            raw,
            smooth,
            test,
            fisher,
            x_bounds,
            whole,
            y_bounds,
            scale,
            window: view.window,
            hidden: view.hidden.clone(),
            log_refused,
            runaway,
            runaway_loss,
            latest_smooth: history.recent().last().map(|p| p.smooth),
            test_ends: history.test_ends(),
            past,
        }
    }

    /// The step range is a zoom of the window's, not all of it.
    pub fn zoomed(&self) -> bool {
        self.x_bounds != self.whole
    }

    /// Nothing to plot yet: no train loss and no test loss in the run.
    pub fn is_empty(&self) -> bool {
        self.latest_smooth.is_none() && self.test_ends.is_none()
    }
}

impl FisherPlot {
    /// The readouts in the steps `shown`, in `scale` when they are all positive (else linear);
    /// `None` before the first finite one. A hidden curve keeps its chart and its header,
    /// with no points.
    fn new(history: &LossHistory, scale: Scale, shown: [u64; 2], hidden: bool) -> Option<Self> {
        let in_view = |p: &LossPoint| (shown[0]..=shown[1]).contains(&p.step);
        let readings: Vec<LossPoint> = history.fisher().points().filter(in_view).collect();
        let scale = if readings.iter().all(|p| p.raw > 0.0) { scale } else { Scale::Linear };
        let points: Vec<(f64, f64)> =
            readings.iter().map(|p| (p.step as f64, plotted(scale, p.raw))).filter(|(_, y)| y.is_finite()).collect();
        let y_bounds = padded(range(points.iter().map(|&(_, y)| y)));
        let shown_points = if hidden { Vec::new() } else { points.clone() };
        (!points.is_empty()).then(|| Self { points: shown_points, y_bounds, scale, ends: history.fisher_ends() })
    }
}

/// [`RUNAWAY_FACTOR`] times the larger magnitude of the losses' 2nd and 98th percentiles
/// (finite ones only): a spike or a run-away tail does not move percentiles.
fn runaway_threshold(losses: impl Iterator<Item = f64>) -> f64 {
    let mut raw: Vec<f64> = losses.filter(|v| v.is_finite()).collect();
    let [lo, hi] = [0.02, 0.98].map(|q| percentile(&mut raw, q).unwrap_or(0.0));
    let bulk = lo.abs().max(hi.abs());
    if bulk > 0.0 { RUNAWAY_FACTOR * bulk } else { f64::INFINITY }
}

/// The `q`-quantile of `values` (reordered), nearest rank.
fn percentile(values: &mut [f64], q: f64) -> Option<f64> {
    let k = (values.len().checked_sub(1)? as f64 * q).round() as usize;
    Some(*values.select_nth_unstable_by(k, f64::total_cmp).1)
}

/// The range of the smoothed and test series whole, and of the raw one without its outliers
/// (its 2nd to 98th percentile, as TensorBoard ignores outliers when scaling): a single spike
/// should not flatten the curves the user is reading; lines beyond are clipped.
fn loss_range(raw: &[(f64, f64)], smooth: &[(f64, f64)], test: &[(f64, f64)]) -> Option<[f64; 2]> {
    let mut raw_y: Vec<f64> = raw.iter().map(|&(_, y)| y).collect();
    let raw_range = [0.02, 0.98].map(|q| percentile(&mut raw_y, q)).into_iter().flatten();
    range(smooth.iter().chain(test).map(|&(_, y)| y).chain(raw_range))
}

/// The lowest and highest of `values`; `None` for none.
fn range(values: impl Iterator<Item = f64>) -> Option<[f64; 2]> {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| (lo.min(y), hi.max(y)));
    (lo <= hi).then_some([lo, hi])
}

/// `range` with a 5% margin each side; a flat range still gets some height, and no range at
/// all is [0, 1].
fn padded(range: Option<[f64; 2]>) -> [f64; 2] {
    let Some([lo, hi]) = range else { return [0.0, 1.0] };
    let pad = if hi - lo > 1e-9 { 0.05 * (hi - lo) } else { 0.05 * lo.abs().max(1.0) };
    [lo - pad, hi + pad]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::objective::Objective;
    use crate::trainer::TestPoint;

    fn view(scale: Scale, window: Window, fisher_curve: FisherCurve) -> LossView {
        LossView { scale, window, fisher_curve, ..LossView::default() }
    }

    fn dsm() -> LossKind {
        LossKind::of(&Config::default())
    }

    /// A loss falling from 210 to 165 over `steps`, then `tail` appended after it.
    fn history(steps: u64, tail: &[f32]) -> LossHistory {
        let mut h = LossHistory::default();
        for step in 1..=steps {
            h.push_train(step, 165.0 + 45.0 * (-(step as f32) / 100.0).exp());
        }
        for (step, &loss) in (steps + 1..).zip(tail) {
            h.push_train(step, loss);
        }
        h.push_test(TestPoint { epoch: 0, step: 0, loss: 211.0 });
        h
    }

    #[test]
    fn a_diverged_loss_is_kept_at_the_top_edge_and_listed() {
        // The run of the issue: the loss reached 1.31e7 at its last step.
        for scale in [Scale::Log, Scale::Linear] {
            let plot = LossPlot::new(
                &history(300, &[1.31e7]),
                dsm(),
                &PastRuns::default(),
                &view(scale, Window::Full, FisherCurve::Shown),
            );
            let top = plot.y_bounds[1];
            assert!(value_at(scale, top) < 250.0, "{scale:?}: the range is the sane loss's, top {top}");
            assert!(plot.raw.iter().chain(&plot.smooth).all(|&(_, y)| y <= top), "nothing above the axis");
            assert_eq!(plot.raw.last(), Some(&(301.0, top)), "drawn at the top edge");
            assert_eq!(plot.runaway, [301.0]);
            assert_eq!(plot.runaway_loss, Some(f64::from(1.31e7f32)));
        }
    }

    #[test]
    fn a_loss_that_is_not_finite_is_marked_too() {
        let plot = LossPlot::new(
            &history(300, &[f32::NAN, f32::NAN]),
            dsm(),
            &PastRuns::default(),
            &view(Scale::Log, Window::Full, FisherCurve::Shown),
        );
        assert_eq!(plot.runaway, [301.0, 302.0], "the raw losses and the moving average after them");
        assert!(plot.runaway_loss.is_some_and(f64::is_nan));
        assert!(plot.smooth.iter().all(|&(_, y)| y.is_finite() && y <= plot.y_bounds[1]));
    }

    #[test]
    fn a_loss_that_merely_falls_steeply_is_not_marked() {
        // From 1000 down to 10 (a hundredfold), the early points above the bulk.
        let mut h = LossHistory::default();
        for step in 1..=1000u64 {
            h.push_train(step, 1000.0 * 0.01f32.powf((step - 1) as f32 / 999.0));
        }
        let plot = LossPlot::new(&h, dsm(), &PastRuns::default(), &view(Scale::Log, Window::Full, FisherCurve::Shown));
        assert!(plot.runaway.is_empty(), "{:?}", plot.runaway);
    }

    #[test]
    fn the_fisher_divergence_has_an_axis_of_its_own() {
        let mut h = history(300, &[]);
        for (epoch, fisher) in [(0, 24.9f32), (1, 9.0), (2, 3.6)] {
            h.push_fisher(TestPoint { epoch, step: 100 * epoch as u64, loss: fisher });
        }
        let plot = LossPlot::new(&h, dsm(), &PastRuns::default(), &view(Scale::Log, Window::Full, FisherCurve::Shown));
        let fisher = plot.fisher.as_ref().expect("shown");
        let [lo, hi] = fisher.y_bounds;
        assert!(value_at(Scale::Log, lo) < 3.6 && value_at(Scale::Log, hi) > 24.9);
        assert!(value_at(Scale::Log, plot.y_bounds[0]) > 150.0, "the loss is not stretched down to it");
        assert_eq!(fisher.ends, Some(Ends { first: f64::from(24.9f32), last: f64::from(3.6f32) }));
        assert!(
            LossPlot::new(&h, dsm(), &PastRuns::default(), &view(Scale::Log, Window::Full, FisherCurve::Hidden))
                .fisher
                .is_none()
        );
    }

    #[test]
    fn earlier_runs_share_the_axes_and_a_diverged_one_does_not_flatten_them() {
        let mut past = PastRuns::default();
        // A longer run whose loss ended lower, and one that ran away at its end.
        let mut lower = LossHistory::default();
        for step in 1..=600 {
            lower.push_train(step, 100.0);
        }
        past.keep(1, dsm(), "run 1".into(), &lower);
        past.keep(2, dsm(), "run 2".into(), &history(300, &[1.31e7; 20]));
        // An ISM run: another quantity, which must not stretch the axis down below zero.
        let ism = LossKind::of(&Config { objective: Objective::Ism, ..Config::default() });
        let mut negative = LossHistory::default();
        for step in 1..=300 {
            negative.push_train(step, -30.0);
        }
        past.keep(3, ism, "run 3".into(), &negative);
        let plot = LossPlot::new(&history(300, &[]), dsm(), &past, &view(Scale::Log, Window::Full, FisherCurve::Shown));
        assert_eq!(plot.x_bounds, [0.0, 600.0], "as far as the longest run");
        let [lo, hi] = plot.y_bounds.map(|y| value_at(Scale::Log, y));
        assert!(lo < 100.0 && hi < 250.0, "the range takes in run 1, not run 2's runaway: {lo} {hi}");
        assert_eq!(plot.past.iter().map(|c| c.label.as_str()).collect::<Vec<_>>(), ["run 1", "run 2", "run 3"]);
        assert_eq!(plot.past.iter().map(|c| c.same_kind).collect::<Vec<_>>(), [true, true, false]);
        assert!(plot.past[2].points.is_empty(), "wholly off this axis: named, not drawn");
        let diverged = &plot.past[1].points;
        assert_eq!(diverged.last().map(|p| p.1), Some(plot.y_bounds[1]), "held at the top edge");
        assert!(plot.runaway.is_empty(), "the current run's marks are its own");

        // The recent window is the current run's: the earlier runs are cut to it.
        let recent =
            LossPlot::new(&history(300, &[]), dsm(), &past, &view(Scale::Log, Window::Recent, FisherCurve::Shown));
        assert_eq!(recent.x_bounds, [0.0, 300.0]);
        assert!(recent.past.iter().all(|c| c.points.iter().all(|p| p.0 <= 300.0)));
    }
}
