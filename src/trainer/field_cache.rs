//! The score field view's side in the trainer: while the UI's view is on
//! ([`Command::ShowField`](crate::trainer::protocol::Command::ShowField)), the learned and the
//! exact score on the UI's lattice ([`score_field`]) at the σ of the particles' next step
//! (annealed: their level σᵢ, so the field follows them down the schedule). The learned one
//! is evaluated again when training has moved the weights (at most every [`FIELD_EVERY`]) or
//! σ has changed; the exact one once per data set, lattice and σ (it depends on nothing
//! else). With the view off nothing is computed.

use std::time::{Duration, Instant};

use crate::eval::score_field::{self, Field, Lattice};
use crate::trainer::Session;

/// Time between evaluations of the learned score field while training moves the weights:
/// 5 a second reads as smooth motion, and a pass over a few hundred points costs well under
/// a millisecond.
pub const FIELD_EVERY: Duration = Duration::from_millis(200);

/// The field view's request, and what is kept between its evaluations.
pub struct FieldCache {
    lattice: Lattice,
    /// The exact field at each σ it has been shown at: it depends on the data, the lattice
    /// and σ only, so it is computed once for them (a new run clears it: new data). At most
    /// one per noise level (annealed: `--sigmas`' count, and c or η do not change σ).
    exact: Vec<(f64, Vec<[f32; 2]>)>,
    /// When the fields were last evaluated, at which training step and σ.
    evaluated: Option<(Instant, u64, f64)>,
}

impl FieldCache {
    pub fn new(lattice: Lattice) -> Self {
        Self { lattice, exact: Vec::new(), evaluated: None }
    }

    /// The same lattice with nothing kept: for a new run, on new data.
    pub fn cleared(&self) -> Self {
        Self::new(self.lattice)
    }

    /// The fields of `session` at `sigma` when those last evaluated are out of date: not yet
    /// evaluated on this lattice in this run, at another σ, or [`FIELD_EVERY`] ago (at once
    /// when `idle`: about to wait for a command, the field must show the last weights) and the
    /// weights have moved since. Paused or finished, the weights hold still: once per σ is
    /// enough.
    pub fn refresh(&mut self, session: &Session, sigma: f64, idle: bool) -> Option<Field> {
        let step = session.step();
        let due = self.evaluated.is_none_or(|(at, evaluated_step, evaluated_sigma)| {
            evaluated_sigma != sigma || (evaluated_step != step && (idle || at.elapsed() >= FIELD_EVERY))
        });
        if !due {
            return None;
        }
        let points = self.lattice.points();
        let exact = match self.exact.iter().find(|(exact_sigma, _)| *exact_sigma == sigma) {
            Some((_, exact)) => exact.clone(),
            None => {
                let exact = score_field::exact(session.data().train(), sigma, points.view());
                self.exact.push((sigma, exact.clone()));
                exact
            }
        };
        let learned = score_field::learned(session.model(), sigma, points.view());
        self.evaluated = Some((Instant::now(), step, sigma));
        Some(Field { lattice: self.lattice, sigma, learned, exact })
    }
}
