//! The log-density view's side in the trainer: while the UI's view is on
//! ([`Command::ShowDensity`](crate::trainer::protocol::Command::ShowDensity)), log q_{σ_min}
//! on the UI's lattice, a point per cell of the samples panel ([`likelihood`]): the training
//! split blurred by σ_min in closed form once per lattice and run, and the model's through
//! the probability-flow ODE when the view asks for it and again when training has moved the
//! weights, at most every [`DENSITY_EVERY`]: on a 100-column screen a map is about a
//! thousand points at 100 evaluations each, a tenth of a second or two that training waits.
//! Only the noise-conditional model has an ODE; with the view off nothing is computed.

use std::time::{Duration, Instant};

use crate::eval::likelihood::{self, LogDensityMap};
use crate::eval::score_field::Lattice;
use crate::trainer::Session;

/// Time between the model's maps while training moves the weights.
pub const DENSITY_EVERY: Duration = Duration::from_secs(3);

/// The view's lattice, its exact map, and when the model's was last computed.
pub struct DensityCache {
    lattice: Lattice,
    exact: Option<Vec<f32>>,
    /// When, and at which training step.
    computed: Option<(Instant, u64)>,
}

impl DensityCache {
    pub fn new(lattice: Lattice) -> Self {
        Self { lattice, exact: None, computed: None }
    }

    /// The same lattice with nothing kept: for a new run, on new data.
    pub fn cleared(&self) -> Self {
        Self::new(self.lattice)
    }

    /// The map of `session` when the one last sent is out of date (see the module docs; at
    /// once when `idle`).
    pub fn refresh(&mut self, session: &Session, idle: bool) -> Option<LogDensityMap> {
        let step = session.step();
        let due = self
            .computed
            .is_none_or(|(at, computed_step)| computed_step != step && (idle || at.elapsed() >= DENSITY_EVERY));
        if !due {
            return None;
        }
        let config = session.config();
        let train = session.data().train();
        let exact = self.exact.get_or_insert_with(|| likelihood::exact_map(train, &config.levels, &self.lattice));
        let conditional = session.model().inputs() == 3;
        let learned =
            conditional.then(|| likelihood::learned_map(session.model(), train, &config.levels, &self.lattice));
        self.computed = Some((Instant::now(), step));
        Some(LogDensityMap { lattice: self.lattice, sigma_min: config.levels.min, learned, exact: exact.clone() })
    }
}
