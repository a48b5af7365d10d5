//! The numbers behind the score field view (key `f`): a score evaluated on a lattice of
//! points over the scatter panel, for
//!
//! - the learned network s_θ(x) (a noise-conditional one read at σ: net(x, log σ)/σ),
//! - the exact score ∇log q_σ(x) of the training set blurred by σ, the field DSM regresses
//!   onto (closed form in `fisher::noised_data_score`; N·M kernel evaluations, cheap in 2-D),
//! - and their difference s_θ − ∇log q_σ, whose mean square over q_σ is the Fisher
//!   divergence the loss panel plots.
//!
//! The trainer thread owns the model, so it evaluates both fields on the [`Lattice`] the UI
//! asks for and sends them as one [`Field`]; the UI picks what to draw, so switching between
//! the three views needs no round trip. Shapes: a lattice of n points gives `[n, 2]` points
//! and n vectors, row-major from the top-left.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use crate::eval::fisher::noised_data_score;
use crate::nn::{Mlp, Precision};
use crate::sampling::langevin::ConditionalScore;
use crate::sampling::langevin::{AtLevel, ScoreField};

/// Which field the view draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// The network's score s_θ.
    Learned,
    /// ∇log q_σ of the training set blurred by σ.
    Exact,
    /// s_θ − ∇log q_σ.
    Difference,
}

/// Evenly spaced points, `cols` × `rows`: point (i, j) is (x0 + i·dx, y0 + j·dy). The UI puts
/// row 0 at the top of the panel, so its `dy` is negative.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lattice {
    pub x0: f64,
    pub dx: f64,
    pub cols: usize,
    pub y0: f64,
    pub dy: f64,
    pub rows: usize,
}

impl Lattice {
    pub fn len(&self) -> usize {
        self.cols * self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The points, `[cols·rows, 2]`, row by row.
    pub fn points(&self) -> Array2<f32> {
        Array2::from_shape_fn((self.len(), 2), |(k, d)| {
            let (i, j) = (k % self.cols, k / self.cols);
            let v = if d == 0 { self.x0 + i as f64 * self.dx } else { self.y0 + j as f64 * self.dy };
            v as f32
        })
    }
}

/// Both fields on one lattice at one σ: what the trainer sends while the view is on.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub lattice: Lattice,
    /// The noise level both are at (single mode: the σ DSM trains with).
    pub sigma: f64,
    /// s_θ at each lattice point.
    pub learned: Vec<[f32; 2]>,
    /// ∇log q_σ at each lattice point.
    pub exact: Vec<[f32; 2]>,
}

impl Field {
    /// The vectors the view of `kind` draws, one per lattice point.
    pub fn vectors(&self, kind: FieldKind) -> Vec<[f32; 2]> {
        match kind {
            FieldKind::Learned => self.learned.clone(),
            FieldKind::Exact => self.exact.clone(),
            FieldKind::Difference => {
                self.learned.iter().zip(&self.exact).map(|(l, e)| [l[0] - e[0], l[1] - e[1]]).collect()
            }
        }
    }
}

/// The learned score at every row of `points`, in one batched forward pass. A
/// noise-conditional network (three inputs) is read at `sigma`; a single-σ one ignores it.
pub fn learned(model: &Mlp<f32>, sigma: f64, points: ArrayView2<f32>) -> Vec<[f32; 2]> {
    match model.inputs() {
        3 => evaluate(&AtLevel { field: &ConditionalScore { model }, sigma: sigma as f32 }, points),
        _ => evaluate(model, points),
    }
}

fn evaluate(field: &impl ScoreField, points: ArrayView2<f32>) -> Vec<[f32; 2]> {
    let mut out = Array2::zeros(points.dim());
    let mut scratch = field.scratch(points.nrows(), Precision::F32);
    field.score(points, &mut out.view_mut(), &mut scratch);
    out.rows().into_iter().map(|r| [r[0], r[1]]).collect()
}

/// The exact score of `data` (`[N, 2]`) blurred by `sigma` at every row of `points`, in
/// float64, the points spread over the cores (a few hundred points × 4000 data points is
/// about a million kernel evaluations).
pub fn exact(data: ArrayView2<f32>, sigma: f64, points: ArrayView2<f32>) -> Vec<[f32; 2]> {
    (0..points.nrows())
        .into_par_iter()
        .map(|k| {
            let s = noised_data_score([f64::from(points[[k, 0]]), f64::from(points[[k, 1]])], data, sigma);
            [s[0] as f32, s[1] as f32]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lattice_points_go_row_by_row_from_the_first() {
        let lattice = Lattice { x0: -1.0, dx: 0.5, cols: 3, y0: 2.0, dy: -1.0, rows: 2 };
        let p = lattice.points();
        assert_eq!(p.dim(), (6, 2));
        let rows: Vec<[f32; 2]> = p.rows().into_iter().map(|r| [r[0], r[1]]).collect();
        assert_eq!(rows, [[-1.0, 2.0], [-0.5, 2.0], [0.0, 2.0], [-1.0, 1.0], [-0.5, 1.0], [0.0, 1.0]]);
    }

    #[test]
    fn the_difference_is_learned_minus_exact() {
        let lattice = Lattice { x0: 0.0, dx: 1.0, cols: 2, y0: 0.0, dy: 1.0, rows: 1 };
        let field =
            Field { lattice, sigma: 0.1, learned: vec![[1.0, 2.0], [0.5, -1.0]], exact: vec![[3.0, 1.0], [0.5, 1.0]] };
        assert_eq!(field.vectors(FieldKind::Learned), field.learned);
        assert_eq!(field.vectors(FieldKind::Exact), field.exact);
        assert_eq!(field.vectors(FieldKind::Difference), [[-2.0, 1.0], [0.0, -2.0]]);
    }

    #[test]
    fn a_lattice_has_cols_times_rows_points() {
        let lattice = Lattice { x0: 0.0, dx: 1.0, cols: 3, y0: 0.0, dy: -1.0, rows: 2 };
        assert_eq!((lattice.len(), lattice.is_empty()), (6, false));
        for (cols, rows) in [(0, 4), (4, 0)] {
            let empty = Lattice { cols, rows, ..lattice };
            assert_eq!((empty.len(), empty.is_empty()), (0, true), "{cols} × {rows}");
            assert_eq!(empty.points().dim(), (0, 2));
        }
    }
}
