//! Points binned into a grid over the plane, for the scatter's shaded and density views: how
//! many fall in each bin, and the few steps of a ramp a bin's value is drawn with.
//!
//! Two binnings. [`Density::count`] puts each point in the bin it falls in: the data's
//! shading, one bin per terminal cell, where a cell's shade says "this much data here".
//! [`Density::smooth`] spreads each point over the four bins whose centres surround it
//! (bilinear weights), then blurs once with the kernel ¼·[1 2 1] across and down: the
//! particles' heatmap, one bin per half cell, where a count per bin would flicker between
//! neighbours as the particles move and show the bins' edges as stripes. Both keep the
//! points' mass: what would leave the grid stays in its edge bin.

use crate::data::Bounds;

/// A rectangle of the plane cut into `cols` × `rows` equal bins, row 0 at the top (largest
/// y), as the terminal's cells are.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Grid {
    pub cols: usize,
    pub rows: usize,
    pub bounds: Bounds,
}

impl Grid {
    /// Where `p` falls, in bins from the grid's top-left corner: (column, row) as fractions;
    /// `None` outside the rectangle or for a non-finite point.
    fn position(&self, p: [f32; 2]) -> Option<[f64; 2]> {
        let ([left, right], [bottom, top]) = (self.bounds.x, self.bounds.y);
        let (x, y) = (f64::from(p[0]), f64::from(p[1]));
        let inside = (left..=right).contains(&x) && (bottom..=top).contains(&y);
        inside.then(|| [(x - left) / (right - left) * self.cols as f64, (top - y) / (top - bottom) * self.rows as f64])
    }

    fn len(&self) -> usize {
        self.cols * self.rows
    }
}

/// A value per bin of a [`Grid`], row by row from the top.
#[derive(Clone, Debug, PartialEq)]
pub struct Density {
    pub grid: Grid,
    values: Vec<f32>,
    max: f32,
}

impl Density {
    /// How many of `points` fall in each bin (a point on the right or bottom edge counts in
    /// the last bin); points outside the grid are left out.
    pub fn count(points: &[[f32; 2]], grid: Grid) -> Self {
        let mut values = vec![0.0; grid.len()];
        if grid.len() > 0 {
            for &p in points {
                let Some([col, row]) = grid.position(p) else { continue };
                let (col, row) = ((col as usize).min(grid.cols - 1), (row as usize).min(grid.rows - 1));
                values[row * grid.cols + col] += 1.0;
            }
        }
        Self::from_values(grid, values)
    }

    /// `points` spread bilinearly over the bins around them and blurred once by ¼·[1 2 1]
    /// in each direction (see the module doc); points outside the grid are left out.
    pub fn smooth(points: &[[f32; 2]], grid: Grid) -> Self {
        let mut values = splat(points, grid);
        blur(&mut values, grid);
        Self::from_values(grid, values)
    }

    fn from_values(grid: Grid, values: Vec<f32>) -> Self {
        let max = values.iter().copied().fold(0.0, f32::max);
        Self { grid, values, max }
    }

    /// The value of bin (`col`, `row`).
    pub fn at(&self, col: usize, row: usize) -> f32 {
        self.values[row * self.grid.cols + col]
    }

    /// The step, 0 to `steps`, that bin (`col`, `row`) is drawn with (see [`step`]).
    pub fn step_at(&self, col: usize, row: usize, steps: usize) -> usize {
        step(self.at(col, row), self.max, steps)
    }

    /// The sum over every bin: the points' mass.
    pub fn total(&self) -> f32 {
        self.values.iter().sum()
    }
}

/// The step of a ramp of `steps` that `value` is drawn with, on a scale whose top is `max`:
/// 0 for nothing, then 1 to `steps` by the square root of value / max, so that the thin
/// tails of a distribution still show beside its peak (a linear scale leaves them in step 1
/// with empty space) and any value above zero gets at least step 1.
pub fn step(value: f32, max: f32, steps: usize) -> usize {
    if value <= 0.0 || max <= 0.0 {
        return 0;
    }
    let scaled = (value / max).min(1.0).sqrt() * steps as f32;
    (scaled.ceil() as usize).clamp(1, steps)
}

/// Each point's mass shared among the four bins whose centres surround it, in proportion to
/// how near it is to each; a share beyond the grid's edge goes to the edge bin.
fn splat(points: &[[f32; 2]], grid: Grid) -> Vec<f32> {
    let mut values = vec![0.0; grid.len()];
    if grid.len() == 0 {
        return values;
    }
    // Bin k's centre is at k + ½: the nearest centres to the left and right of u.
    let around = |u: f64, len: usize| {
        let u = u - 0.5;
        let low = u.floor();
        let weight = (u - low) as f32;
        let clamp = |i: f64| i.clamp(0.0, (len - 1) as f64) as usize;
        [(clamp(low), 1.0 - weight), (clamp(low + 1.0), weight)]
    };
    for &p in points {
        let Some([col, row]) = grid.position(p) else { continue };
        for (r, wr) in around(row, grid.rows) {
            for (c, wc) in around(col, grid.cols) {
                values[r * grid.cols + c] += wr * wc;
            }
        }
    }
    values
}

/// One pass of ¼·[1 2 1] across, then down; at an edge the quarter that would leave the grid
/// stays in the edge bin.
fn blur(values: &mut [f32], grid: Grid) {
    let pass = |values: &mut [f32], len: usize, at: &dyn Fn(usize, usize) -> usize, lines: usize| {
        let mut line = vec![0.0; len];
        for l in 0..lines {
            for (k, v) in line.iter_mut().enumerate() {
                let (before, after) = (k.saturating_sub(1), (k + 1).min(len - 1));
                *v = 0.25 * values[at(l, before)] + 0.5 * values[at(l, k)] + 0.25 * values[at(l, after)];
            }
            for (k, v) in line.iter().enumerate() {
                values[at(l, k)] = *v;
            }
        }
    };
    if grid.len() == 0 {
        return;
    }
    let cols = grid.cols;
    pass(values, grid.cols, &|row, col| row * cols + col, grid.rows);
    pass(values, grid.rows, &|col, row| row * cols + col, grid.cols);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 4 × 2 bins of one unit each: x from 0 to 4, y from 0 to 2.
    const GRID: Grid = Grid { cols: 4, rows: 2, bounds: Bounds { x: [0.0, 4.0], y: [0.0, 2.0] } };

    #[test]
    fn a_point_counts_in_the_bin_it_falls_in_with_row_0_at_the_top() {
        let d = Density::count(&[[2.5, 1.5], [0.1, 0.1], [4.0, 0.0], [9.0, 1.0], [f32::NAN, 1.0]], GRID);
        assert_eq!(d.at(2, 0), 1.0, "x 2.5 is column 2; y 1.5 the upper row");
        assert_eq!(d.at(0, 1), 1.0);
        assert_eq!(d.at(3, 1), 1.0, "the far corner counts in the last bin");
        assert_eq!(d.total(), 3.0, "outside or non-finite: left out");
    }

    #[test]
    fn a_point_at_a_bin_centre_splats_into_that_bin_alone() {
        let v = splat(&[[1.5, 0.5]], GRID);
        assert_eq!(v, [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0], "column 1 of the lower row");
        // Half-way between two centres across: half each.
        let v = splat(&[[2.0, 1.5]], GRID);
        assert_eq!(v[..4], [0.0, 0.5, 0.5, 0.0]);
    }

    #[test]
    fn smoothing_keeps_the_mass_and_the_peak_in_the_points_bin() {
        let grid = Grid { cols: 9, rows: 7, bounds: Bounds { x: [-1.0, 2.0], y: [0.0, 1.0] } };
        let points: Vec<[f32; 2]> =
            (0..200).map(|i| [-1.0 + 3.0 * (i as f32 * 0.618).fract(), (i as f32 * 0.377).fract()]).collect();
        let d = Density::smooth(&points, grid);
        assert!((d.total() - 200.0).abs() < 1e-3, "{}", d.total());
        // Corners too: the shares that would leave the grid stay in it.
        let corners = [[-1.0, 0.0], [2.0, 1.0], [-1.0, 1.0], [2.0, 0.0]];
        assert!((Density::smooth(&corners, grid).total() - 4.0).abs() < 1e-6);
        // One point at the centre of bin (4, 3): the blur spreads it, the peak stays.
        let centre = Density::smooth(&[[-1.0 + 4.5 / 3.0, 1.0 - 3.5 / 7.0]], grid);
        let peak = (0..7)
            .flat_map(|r| (0..9).map(move |c| (c, r)))
            .max_by(|a, b| centre.at(a.0, a.1).total_cmp(&centre.at(b.0, b.1)));
        assert_eq!(peak, Some((4, 3)));
        assert_eq!(centre.at(4, 3), 0.25, "½ across × ½ down");
        assert_eq!(centre.at(5, 3), 0.125);
        assert_eq!(centre.at(6, 3), 0.0, "one bin's blur reaches only the next");
    }

    #[test]
    fn steps_rise_with_the_square_root_and_start_above_zero() {
        assert_eq!(step(0.0, 10.0, 4), 0);
        assert_eq!(step(1e-6, 10.0, 4), 1, "anything at all shows");
        assert_eq!(step(10.0, 10.0, 4), 4);
        assert_eq!(step(2.5, 10.0, 4), 2, "√¼ = ½: half-way up the ramp");
        assert_eq!(step(5.0, 0.0, 4), 0, "an empty grid draws nothing");
        let steps: Vec<usize> = (0..=20).map(|v| step(v as f32, 20.0, 5)).collect();
        assert!(steps.windows(2).all(|w| w[0] <= w[1]), "{steps:?}");
    }
}
