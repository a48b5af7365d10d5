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
        self.refresh_at(session, sigma, idle, Instant::now())
    }

    /// [`Self::refresh`] at `now`: the clock passed in, so tests need not wait on it.
    fn refresh_at(&mut self, session: &Session, sigma: f64, idle: bool, now: Instant) -> Option<Field> {
        let step = session.step();
        let due = self.evaluated.is_none_or(|(at, evaluated_step, evaluated_sigma)| {
            let waited = now.saturating_duration_since(at) >= FIELD_EVERY;
            evaluated_sigma != sigma || (evaluated_step != step && (idle || waited))
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
        self.evaluated = Some((now, step, sigma));
        Some(Field { lattice: self.lattice, sigma, learned, exact })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    /// While training moves the weights the learned field follows them, but at most every
    /// FIELD_EVERY, not every frame; idle, at once; at another σ, at once; unmoved, never.
    #[test]
    fn the_field_follows_the_weights_at_most_every_field_every_unless_idle_or_at_another_sigma() {
        let config = Config { count: 200, batch_size: 16, epochs: 3, hidden: 16, ..Config::default() };
        let mut session = Session::new(&config);
        let lattice = Lattice { x0: -1.0, dx: 0.5, cols: 5, y0: 1.0, dy: -0.5, rows: 4 };
        let mut cache = FieldCache::new(lattice);
        let (t0, sigma, ms) = (Instant::now(), config.sigma, Duration::from_millis);
        assert!(cache.refresh_at(&session, sigma, false, t0).is_some(), "the first, at once");
        assert!(cache.refresh_at(&session, sigma, false, t0 + ms(1000)).is_none(), "unmoved weights: never again");
        session.train_step().unwrap();
        let soon = t0 + FIELD_EVERY - ms(1);
        assert!(cache.refresh_at(&session, sigma, false, soon).is_none(), "moved, but too soon");
        assert!(cache.refresh_at(&session, sigma, true, soon).is_some(), "idle: the last weights at once");
        session.train_step().unwrap();
        let t1 = soon + FIELD_EVERY;
        assert!(cache.refresh_at(&session, sigma, false, t1 - ms(1)).is_none(), "moved, but too soon");
        assert!(cache.refresh_at(&session, 2.0 * sigma, false, t1 - ms(1)).is_some(), "another σ: at once");
        let field = cache.refresh_at(&session, sigma, false, t1 + FIELD_EVERY).expect("σ changed back");
        assert_eq!(field.learned, score_field::learned(session.model(), sigma, lattice.points().view()));
    }
}
