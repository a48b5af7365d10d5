//! How the panels show what they show: the loss axis, its window, the Fisher curve, what the
//! scatter draws and which score field goes over it. Pure state; `ui` draws it.

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

/// What the scatter panel draws.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum View {
    #[default]
    DataAndParticles,
    Particles,
    Data,
}

impl View {
    pub fn next(self) -> Self {
        match self {
            View::DataAndParticles => View::Particles,
            View::Particles => View::Data,
            View::Data => View::DataAndParticles,
        }
    }

    pub fn shows_data(self) -> bool {
        self != View::Particles
    }

    pub fn shows_particles(self) -> bool {
        self != View::Data
    }
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
