//! How the panels show what they show: the loss axis, its window, the Fisher curve, what the
//! scatter draws and which score field goes over it. Pure state; `ui` draws it.

use crate::app::density::Grid;
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

/// The score field view, when it is on: which field, and the latest evaluation of the
/// fields (none until the trainer's first arrives).
#[derive(Clone, Copy, Debug)]
pub struct FieldOverlay<'a> {
    pub kind: FieldKind,
    pub field: Option<&'a Field>,
}
