//! Sample-quality figures, as `shared/reference/metrics.py` defines them (float64 throughout).
//!
//! Energy distance, half form, V-statistic:
//! ED(X, Y) = E‖X−Y‖ − ½E‖X−X′‖ − ½E‖Y−Y′‖, every mean over all n² (or nm) pairs including
//! i = j. Always ≥ 0, and 0 only when the samples coincide. Non-finite samples are dropped
//! and counted; samples with max(|x|, |y|) > 5 count as escaped (or beyond twice the
//! reference data's extent, for data wider than that), and ED is also reported over the
//! inliers, since one particle at distance R adds about R/n² to ED. On the two moons, the
//! share of samples nearer each arc tells whether both modes got their weight.

use ndarray::ArrayView2;
use rayon::prelude::*;
use serde::Serialize;

/// A sample with max(|x|, |y|) beyond this has escaped (the moons live in [−1.5, 2.5]×[−1, 1.5]).
pub const ESCAPE_RADIUS: f64 = 5.0;

/// Which shape-specific figures to compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// The two moons: upper-moon share and stragglers far from both arcs.
    Moons,
    Other,
}

/// Rows per parallel task: fixed, so sums are added in the same order on any thread count.
const ROWS_PER_TASK: usize = 128;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Quality {
    pub count: usize,
    pub nonfinite: usize,
    /// Samples with max(|x|, |y|) beyond `escape_radius`.
    pub escaped: usize,
    pub escape_radius: f64,
    /// Over every finite sample.
    pub energy_distance: f64,
    /// Over the samples that did not escape.
    pub energy_distance_inliers: f64,
    /// Moons only: share of finite samples nearer the upper arc than the lower (data: 0.5).
    pub upper_moon_share: Option<f64>,
    /// Moons only: share of finite samples farther than 0.3 from both arcs (data at noise
    /// 0.1: ~0.2%).
    pub far_share: Option<f64>,
}

pub type Point = [f64; 2];

pub fn to_points(x: ArrayView2<f32>) -> Vec<Point> {
    x.rows().into_iter().map(|r| [f64::from(r[0]), f64::from(r[1])]).collect()
}

pub fn quality(samples: ArrayView2<f32>, test: ArrayView2<f32>, shape: Shape) -> Quality {
    let all = to_points(samples);
    let test = to_points(test);
    let radius = escape_radius(&test);
    let finite: Vec<Point> = all.iter().copied().filter(|p| p[0].is_finite() && p[1].is_finite()).collect();
    let inliers: Vec<Point> = finite.iter().copied().filter(|p| p[0].abs().max(p[1].abs()) <= radius).collect();
    let over_finite = energy_distance(&finite, &test);
    // O(n²) each: with nothing escaped the inliers are the finite samples, already measured.
    let over_inliers = if inliers.len() == finite.len() { over_finite } else { energy_distance(&inliers, &test) };
    let share = |pred: &dyn Fn(Point) -> bool| {
        if finite.is_empty() {
            f64::NAN
        } else {
            finite.iter().filter(|&&p| pred(p)).count() as f64 / finite.len() as f64
        }
    };
    Quality {
        count: all.len(),
        nonfinite: all.len() - finite.len(),
        escaped: finite.len() - inliers.len(),
        escape_radius: radius,
        energy_distance: over_finite,
        energy_distance_inliers: over_inliers,
        upper_moon_share: (shape == Shape::Moons)
            .then(|| share(&|p| distance_to_upper_arc(p) < distance_to_lower_arc(p))),
        far_share: (shape == Shape::Moons)
            .then(|| share(&|p| distance_to_upper_arc(p).min(distance_to_lower_arc(p)) > 0.3)),
    }
}

/// [`ESCAPE_RADIUS`], or twice the reference data's largest coordinate if that is wider.
pub fn escape_radius(reference: &[Point]) -> f64 {
    reference
        .iter()
        .map(|p| (2.0 * p[0].abs().max(p[1].abs())).ceil())
        .filter(|r| r.is_finite())
        .fold(ESCAPE_RADIUS, f64::max)
}

/// Energy distance (half form, V-statistic). NaN if either sample is empty.
pub fn energy_distance(x: &[Point], y: &[Point]) -> f64 {
    if x.is_empty() || y.is_empty() {
        return f64::NAN;
    }
    let (n, m) = (x.len() as f64, y.len() as f64);
    cross_distance_sum(x, y) / (n * m) - 0.5 * self_distance_sum(x) / (n * n) - 0.5 * self_distance_sum(y) / (m * m)
}

fn distance(a: Point, b: Point) -> f64 {
    // √(dx² + dy²), not `hypot`: libm's hypot guards against overflow, which f64 squares only
    // reach past |dx| ≈ 1e154 (an escaped particle is reported as escaped either way), and it
    // cost a quarter of `--once`'s CPU time over the ~5·10⁷ pairs.
    let (dx, dy) = (a[0] - b[0], a[1] - b[1]);
    (dx * dx + dy * dy).sqrt()
}

/// Σ_{i,j} ‖xᵢ − yⱼ‖.
fn cross_distance_sum(x: &[Point], y: &[Point]) -> f64 {
    let partial: Vec<f64> = x
        .par_chunks(ROWS_PER_TASK)
        .map(|rows| rows.iter().map(|&a| y.iter().map(|&b| distance(a, b)).sum::<f64>()).sum())
        .collect();
    partial.iter().sum()
}

/// Σ_{i,j} ‖xᵢ − xⱼ‖ = 2 Σ_{i<j} ‖xᵢ − xⱼ‖.
fn self_distance_sum(x: &[Point]) -> f64 {
    let partial: Vec<f64> = x
        .par_chunks(ROWS_PER_TASK)
        .enumerate()
        .map(|(task, rows)| {
            let start = task * ROWS_PER_TASK;
            rows.iter().enumerate().map(|(k, &a)| x[start + k + 1..].iter().map(|&b| distance(a, b)).sum::<f64>()).sum()
        })
        .collect();
    2.0 * partial.iter().sum::<f64>()
}

/// Distance to the upper arc {(cos t, sin t) : t ∈ [0, π]}.
pub fn distance_to_upper_arc(p: Point) -> f64 {
    distance_to_unit_upper_half_circle(p)
}

/// Distance to the lower arc {(1 − cos t, 0.5 − sin t) : t ∈ [0, π]}.
pub fn distance_to_lower_arc(p: Point) -> f64 {
    // The lower arc is the upper one reflected through (0.5, 0.25): reflect the point instead.
    distance_to_unit_upper_half_circle([1.0 - p[0], 0.5 - p[1]])
}

/// Distance to {(cos t, sin t) : t ∈ [0, π]}.
fn distance_to_unit_upper_half_circle(p: Point) -> f64 {
    if p[1] >= 0.0 {
        (p[0].hypot(p[1]) - 1.0).abs()
    } else {
        // Below the diameter the nearest point of the arc is one of its ends.
        distance(p, [1.0, 0.0]).min(distance(p, [-1.0, 0.0]))
    }
}
