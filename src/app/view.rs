//! How the panels show what they show: the loss axis, its window and step range, its curves,
//! what the scatter draws and which score field goes over it. Pure state; `ui` draws it.

use std::collections::BTreeSet;

use crate::app::density::Grid;
use crate::eval::likelihood::LogDensityMap;
use crate::eval::score_field::{Field, FieldKind};

/// The loss axis.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scale {
    /// log10 of the loss, ticks labelled with real values.
    #[default]
    Log,
    Linear,
}

/// How much of the loss history the chart shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Window {
    #[default]
    Full,
    /// The last [`crate::app::loss_history::RECENT_STEPS`] steps.
    Recent,
}

/// Whether the loss panel also draws the Fisher divergence, in a chart below the loss's.
/// Hidden, the loss has the panel's height to itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FisherCurve {
    #[default]
    Shown,
    Hidden,
}

/// The narrowest step range the wheel zooms the loss panel to.
pub const FEWEST_STEPS: f64 = 20.0;

/// The loss panel's step range under the wheel: the window's whole range, a stretch of it, or
/// its last so many steps (a zoom whose range reaches the newest step keeps following it as
/// training goes on, as a live chart should).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum StepZoom {
    #[default]
    Whole,
    Span([f64; 2]),
    Trailing(f64),
}

impl StepZoom {
    /// The steps shown out of the window's range `whole`: a span that has left it (the window
    /// changed under it) shows the whole.
    pub fn range(self, whole: [f64; 2]) -> [f64; 2] {
        let [lo, hi] = whole;
        match self {
            StepZoom::Whole => whole,
            StepZoom::Span([a, b]) if a >= lo && b <= hi && b > a => [a, b],
            StepZoom::Span(_) => whole,
            StepZoom::Trailing(width) => [(hi - width).max(lo), hi],
        }
    }

    /// The zoom after one wheel notch over `step`: the range shown scaled by `factor` about it
    /// (the step stays under the pointer), no narrower than [`FEWEST_STEPS`], slid back inside
    /// `whole` at its ends; as wide as `whole` or wider is the whole again.
    pub fn scaled_about(self, whole: [f64; 2], step: f64, factor: f64) -> StepZoom {
        let [a, b] = self.range(whole);
        let width = ((b - a) * factor).max(FEWEST_STEPS);
        if width >= whole[1] - whole[0] {
            return StepZoom::Whole;
        }
        let step = step.clamp(a, b);
        let lo = (step - (step - a) * width / (b - a)).clamp(whole[0], whole[1] - width);
        if lo + width >= whole[1] { StepZoom::Trailing(width) } else { StepZoom::Span([lo, lo + width]) }
    }
}

/// A curve the loss panel's legend names: a click on its entry hides it, another shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Curve {
    /// The train loss's moving average.
    Smooth,
    Test,
    /// The train loss per step, under the moving average.
    Raw,
    Fisher,
    /// An earlier run's moving average, by its run number.
    Past(u64),
}

/// How the loss panel shows the losses: the axis (`l`), the window (`h`), the Fisher chart
/// (`i`), the step range under the wheel, and the curves hidden from the legend.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LossView {
    pub scale: Scale,
    pub window: Window,
    pub fisher_curve: FisherCurve,
    pub steps: StepZoom,
    pub hidden: BTreeSet<Curve>,
}

/// How the scatter panel draws the data and the particles (`v` moves to the next).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum View {
    /// The data as a shaded background, by how much of it each cell holds, and the particles
    /// as braille dots over it: every cell shows both.
    #[default]
    Shaded,
    /// The particles alone, as a smooth heatmap of their density, two pixels a cell.
    Density,
    /// Both as braille points, the particles over the data (a cell has one colour).
    Points,
}

impl View {
    pub fn next(self) -> Self {
        match self {
            View::Shaded => View::Density,
            View::Density => View::Points,
            View::Points => View::Shaded,
        }
    }
}

/// The grids of cells the scatters on screen are drawn on, as the layout puts them: the data
/// is shaded for these ([`crate::app::App::shade_data`]).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum PlotGrids {
    /// No scatter on screen (too small).
    #[default]
    None,
    Samples(Grid),
    /// The compare view's two panels, left and right.
    Compare([Grid; 2]),
}

/// The score field view `f` moves to: off → learned → exact → their difference → off.
pub fn next_field_view(view: Option<FieldKind>) -> Option<FieldKind> {
    match view {
        None => Some(FieldKind::Learned),
        Some(FieldKind::Learned) => Some(FieldKind::Exact),
        Some(FieldKind::Exact) => Some(FieldKind::Difference),
        Some(FieldKind::Difference) => None,
    }
}

/// Which log density the log-density view (`g`) shades the samples panel with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DensityKind {
    /// The model's, through the probability-flow ODE.
    Learned,
    /// The training split blurred by σ_min, in closed form.
    Exact,
}

/// `g`'s cycle: off, the model's, the exact one, off.
pub fn next_density_view(view: Option<DensityKind>) -> Option<DensityKind> {
    match view {
        None => Some(DensityKind::Learned),
        Some(DensityKind::Learned) => Some(DensityKind::Exact),
        Some(DensityKind::Exact) => None,
    }
}

/// The log-density view, when it is on: which density, and the latest map (none until the
/// trainer's first arrives).
#[derive(Clone, Copy, Debug)]
pub struct DensityOverlay<'a> {
    pub kind: DensityKind,
    pub map: Option<&'a LogDensityMap>,
}

/// The score field view, when it is on: which field, and the latest evaluation of the
/// fields (none until the trainer's first arrives).
#[derive(Clone, Copy, Debug)]
pub struct FieldOverlay<'a> {
    pub kind: FieldKind,
    pub field: Option<&'a Field>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const WHOLE: [f64; 2] = [0.0, 1000.0];

    #[test]
    fn a_zoom_keeps_the_step_under_the_pointer_and_stays_inside_the_whole() {
        let z = StepZoom::Whole.scaled_about(WHOLE, 500.0, 0.5);
        assert_eq!(z, StepZoom::Span([250.0, 750.0]));
        assert_eq!(z.scaled_about(WHOLE, 500.0, 2.0), StepZoom::Whole, "in then out: where it began");
        assert_eq!(StepZoom::Whole.scaled_about(WHOLE, 50.0, 0.8), StepZoom::Span([10.0, 810.0]));
        // Near the start, slid back inside: about step 50, [−100, 200] would leave it.
        assert_eq!(StepZoom::Span([0.0, 100.0]).scaled_about(WHOLE, 50.0, 3.0), StepZoom::Span([0.0, 300.0]));
        // Reaching the newest step, it follows it.
        let trailing = StepZoom::Whole.scaled_about(WHOLE, 1000.0, 0.5);
        assert_eq!(trailing, StepZoom::Trailing(500.0));
        assert_eq!(trailing.range([0.0, 3000.0]), [2500.0, 3000.0]);
        assert_eq!(trailing.range([0.0, 300.0]), [0.0, 300.0], "no more than there is");
    }

    #[test]
    fn a_zoom_stops_at_the_fewest_steps_and_a_span_the_window_left_shows_the_whole() {
        let mut z = StepZoom::Whole;
        for _ in 0..40 {
            z = z.scaled_about(WHOLE, 300.0, 0.8);
        }
        let [lo, hi] = z.range(WHOLE);
        assert_eq!(hi - lo, FEWEST_STEPS);
        assert!((lo..=hi).contains(&300.0));
        assert_eq!(StepZoom::Span([100.0, 200.0]).range([500.0, 1500.0]), [500.0, 1500.0]);
        assert_eq!(StepZoom::Whole.scaled_about([0.0, 10.0], 5.0, 0.8), StepZoom::Whole, "fewer steps than that");
    }
}
