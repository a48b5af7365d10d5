//! The loss panel's series in plot coordinates, computed when data arrives so that drawing
//! only lays them out.
//!
//! ratatui's chart has no log axis, so on the log scale the series are plotted as log10 of
//! the loss and the tick labels show the real values at evenly spaced heights.
//!
//! **The Fisher axis.** The DSM loss carries a large constant the model cannot remove, so it
//! looks flat while the Fisher divergence, what it minimises above that constant, falls
//! several times. A chart that fitted each curve to its own range would hide that contrast.
//! So the Fisher axis is the loss axis times k = F₀/L₀, the first Fisher divergence over the
//! first test loss (both measured before training): the two curves start at the same height,
//! and on the log scale a row is the same factor on both axes, so the height each falls shows
//! how many times it shrank. A loss that is not positive throughout (implicit score matching's)
//! has no such k; the Fisher curve then spans the panel's height on its own, and the legend
//! says so. When the Fisher curve falls far more than the loss, the loss is squeezed into a
//! few rows at the top; `i` hides the Fisher curve to give the loss the whole height back.

use crate::app::loss_history::{LossHistory, LossPoint, RECENT_STEPS};
use crate::app::view::{FisherCurve, Scale, Window};

/// The loss series in plot coordinates (x = step, y = loss or its log10), and the bounds:
/// built by [`LossPlot::new`] only, read by the loss panel.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LossPlot {
    pub raw: Vec<(f64, f64)>,
    pub smooth: Vec<(f64, f64)>,
    pub test: Vec<(f64, f64)>,
    /// Fisher divergences, placed on the loss's plot by `fisher_axis`.
    pub fisher: Vec<(f64, f64)>,
    fisher_axis: FisherAxis,
    pub x_bounds: [f64; 2],
    pub y_bounds: [f64; 2],
    pub scale: Scale,
    pub window: Window,
    /// Log was asked for but the loss is not positive throughout.
    pub log_refused: bool,
}

/// Where a Fisher divergence F sits on the loss's plot: at height slope·g(F) + offset, g
/// being the plot's own transform (log10 on the log scale, none on the linear one).
#[derive(Clone, Copy, Debug, PartialEq)]
struct FisherAxis {
    slope: f64,
    offset: f64,
    /// The loss axis times a constant, rather than fitted to the Fisher curve's own range.
    shared: bool,
}

impl Default for FisherAxis {
    fn default() -> Self {
        Self { slope: 1.0, offset: 0.0, shared: true }
    }
}

impl FisherAxis {
    /// The loss axis times `ratio` (F₀/L₀): F is drawn where the loss F / `ratio` would be.
    fn shared(scale: Scale, ratio: f64) -> Self {
        match scale {
            Scale::Log => Self { slope: 1.0, offset: -ratio.log10(), shared: true },
            Scale::Linear => Self { slope: 1.0 / ratio, offset: 0.0, shared: true },
        }
    }

    /// Transformed values spanning `from` spread over the plot heights `onto`.
    fn fitted(from: [f64; 2], onto: [f64; 2]) -> Self {
        let slope = (onto[1] - onto[0]) / (from[1] - from[0]);
        Self { slope, offset: onto[0] - slope * from[0], shared: false }
    }

    fn height(&self, transformed: f64) -> f64 {
        self.slope * transformed + self.offset
    }

    fn transformed_at(&self, height: f64) -> f64 {
        (height - self.offset) / self.slope
    }
}

impl LossPlot {
    /// The plot of `history` in `scale`; a loss that is not positive throughout (implicit score
    /// matching's can be negative) has no log, so such a plot falls back to linear.
    pub fn new(history: &LossHistory, scale: Scale, window: Window, fisher_curve: FisherCurve) -> Self {
        let last = history.last_step().unwrap_or(0);
        let first = match window {
            Window::Full => 0,
            Window::Recent => last.saturating_sub(RECENT_STEPS as u64),
        };
        let train: Vec<LossPoint> = match window {
            Window::Full => history.train().points().collect(),
            Window::Recent => history.recent().collect(),
        };
        let in_view = |p: &LossPoint| p.step >= first;
        let test: Vec<LossPoint> = history.test().points().filter(in_view).collect();
        let fisher: Vec<LossPoint> = match fisher_curve {
            FisherCurve::Shown => history.fisher().points().filter(in_view).collect(),
            FisherCurve::Hidden => Vec::new(),
        };
        let positive = train.iter().chain(&test).all(|p| !(p.raw <= 0.0 || p.smooth <= 0.0));
        let log_refused = scale == Scale::Log && !positive;
        let scale = if log_refused { Scale::Linear } else { scale };
        let to_y = |loss: f64| match scale {
            Scale::Log => loss.log10(),
            Scale::Linear => loss,
        };
        let series = |points: &[LossPoint], value: fn(&LossPoint) -> f64| -> Vec<(f64, f64)> {
            points.iter().map(|p| (p.step as f64, to_y(value(p)))).filter(|(_, y)| y.is_finite()).collect()
        };
        let raw = series(&train, |p| p.raw);
        let smooth = series(&train, |p| p.smooth);
        let test = series(&test, |p| p.raw);
        let mut fisher = series(&fisher, |p| p.raw);

        let loss_range = loss_range(&raw, &smooth, &test);
        // The first readings of the whole run, whatever the window: the axes must not shift
        // when the window does.
        let ratio = match (history.test_ends(), history.fisher_ends()) {
            (Some(test), Some(fisher)) if positive && test.first > 0.0 && fisher.first > 0.0 => {
                Some(fisher.first / test.first)
            }
            _ => None,
        };
        let (fisher_axis, y_bounds) = match ratio {
            Some(ratio) => {
                let axis = FisherAxis::shared(scale, ratio);
                let heights = fisher.iter().map(|&(_, g)| axis.height(g));
                (axis, padded(union(loss_range, range(heights))))
            }
            None => {
                let y_bounds = padded(loss_range);
                (FisherAxis::fitted(padded(range(fisher.iter().map(|&(_, g)| g))), y_bounds), y_bounds)
            }
        };
        for point in &mut fisher {
            point.1 = fisher_axis.height(point.1);
        }
        let x_bounds = [first as f64, last.max(first + 1) as f64];
        Self { raw, smooth, test, fisher, fisher_axis, x_bounds, y_bounds, scale, window, log_refused }
    }

    /// The Fisher axis is the loss axis times a constant (see the module's doc), not fitted
    /// to the Fisher curve's own range.
    pub fn fisher_shares_loss_axis(&self) -> bool {
        self.fisher_axis.shared
    }

    pub fn is_empty(&self) -> bool {
        self.raw.is_empty() && self.test.is_empty()
    }

    /// The loss at plot height `y` (the inverse of the plot's transform).
    pub fn loss_at(&self, y: f64) -> f64 {
        match self.scale {
            Scale::Log => 10f64.powf(y),
            Scale::Linear => y,
        }
    }

    /// The Fisher divergence at plot height `y`.
    pub fn fisher_at(&self, y: f64) -> f64 {
        self.loss_at(self.fisher_axis.transformed_at(y))
    }
}

/// The range of the smoothed and test series whole, and of the raw one without its outliers
/// (its 2nd to 98th percentile, as TensorBoard ignores outliers when scaling): a single spike
/// should not flatten the curves the user is reading; lines beyond are clipped.
fn loss_range(raw: &[(f64, f64)], smooth: &[(f64, f64)], test: &[(f64, f64)]) -> Option<[f64; 2]> {
    let mut raw_y: Vec<f64> = raw.iter().map(|&(_, y)| y).collect();
    let last = raw_y.len().saturating_sub(1);
    let mut percentile = |q: f64| {
        let k = (last as f64 * q).round() as usize;
        raw_y.get_mut(..).and_then(|all| (!all.is_empty()).then(|| *all.select_nth_unstable_by(k, f64::total_cmp).1))
    };
    let raw_range = [percentile(0.02), percentile(0.98)].into_iter().flatten();
    range(smooth.iter().chain(test).map(|&(_, y)| y).chain(raw_range))
}

/// The lowest and highest of `values`; `None` for none.
fn range(values: impl Iterator<Item = f64>) -> Option<[f64; 2]> {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| (lo.min(y), hi.max(y)));
    (lo <= hi).then_some([lo, hi])
}

fn union(a: Option<[f64; 2]>, b: Option<[f64; 2]>) -> Option<[f64; 2]> {
    match (a, b) {
        (Some(a), Some(b)) => Some([a[0].min(b[0]), a[1].max(b[1])]),
        (a, b) => a.or(b),
    }
}

/// `range` with a 5% margin each side; a flat range still gets some height, and no range at
/// all is [0, 1].
fn padded(range: Option<[f64; 2]>) -> [f64; 2] {
    let Some([lo, hi]) = range else { return [0.0, 1.0] };
    let pad = if hi - lo > 1e-9 { 0.05 * (hi - lo) } else { 0.05 * lo.abs().max(1.0) };
    [lo - pad, hi + pad]
}
