//! The samples panel's views that the trainer computes on the screen's lattice: the score
//! field's arrows (`f`) and the log-density shading (`g`). Each keeps which kind is shown (or
//! none), the lattice the trainer was last asked for, and the latest result on it; the
//! dashboard works the lattice out from the layout before each draw
//! ([`App::sync_field`](crate::app::App::sync_field), `sync_density`), so a resized screen
//! asks again and a result for a replaced lattice is never drawn.

use crate::eval::likelihood::LogDensityMap;
use crate::eval::score_field::{Field, Lattice};

/// A result computed on a lattice.
pub trait OnLattice {
    fn lattice(&self) -> Lattice;
}

impl OnLattice for Field {
    fn lattice(&self) -> Lattice {
        self.lattice
    }
}

impl OnLattice for LogDensityMap {
    fn lattice(&self) -> Lattice {
        self.lattice
    }
}

/// One lattice view: `kind` shown (`None`: off), the lattice asked for, the latest result.
#[derive(Clone, Debug)]
pub struct LatticeView<K, M> {
    pub kind: Option<K>,
    lattice: Option<Lattice>,
    latest: Option<M>,
}

impl<K, M> Default for LatticeView<K, M> {
    fn default() -> Self {
        Self { kind: None, lattice: None, latest: None }
    }
}

impl<K: Copy, M: OnLattice> LatticeView<K, M> {
    /// Brings the request in line with the view: `lattice` is where the screen as it is now
    /// would show it (`None` while the view cannot be drawn). The lattice to ask the trainer
    /// for (`None`: stop) when that changed.
    pub fn sync(&mut self, lattice: Option<Lattice>) -> Option<Option<Lattice>> {
        let lattice = lattice.filter(|_| self.kind.is_some());
        if lattice == self.lattice {
            return None;
        }
        self.lattice = lattice;
        self.latest = None;
        Some(lattice)
    }

    /// Keeps `result` if it is for the lattice asked for (one for a lattice since replaced
    /// would be drawn wrong).
    pub fn take(&mut self, result: M) {
        if Some(result.lattice()) == self.lattice {
            self.latest = Some(result);
        }
    }

    /// Forgets the latest result (a new run: new data and weights).
    pub fn clear(&mut self) {
        self.latest = None;
    }

    pub fn lattice(&self) -> Option<Lattice> {
        self.lattice
    }

    /// The kind shown and the latest result, while the view is on.
    pub fn shown(&self) -> Option<(K, Option<&M>)> {
        self.kind.map(|kind| (kind, self.latest.as_ref()))
    }
}
