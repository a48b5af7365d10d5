//! Two moons with the same distribution as scikit-learn's `make_moons`: ⌊n/2⌋ points at
//! evenly spaced angles t ∈ [0, π] on the upper arc (cos t, sin t), the rest on the lower arc
//! (1 − cos t, 1 − sin t − 0.5), shuffled, then N(0, noise²) added to each coordinate. Label 0
//! is the upper moon, 1 the lower, as in scikit-learn.

use std::f64::consts::PI;

use ndarray::Array2;
use rand::Rng;
use rand::seq::SliceRandom;
use rand_distr::{Distribution, StandardNormal};

use super::Dataset;

pub fn two_moons(n: usize, noise: f64, rng: &mut impl Rng) -> Dataset {
    let upper = n / 2;
    let lower = n - upper;
    let angles =
        |count: usize| (0..count).map(move |i| if count > 1 { PI * i as f64 / (count - 1) as f64 } else { 0.0 });
    let mut clean: Vec<([f64; 2], u8)> = angles(upper)
        .map(|t| ([t.cos(), t.sin()], 0))
        .chain(angles(lower).map(|t| ([1.0 - t.cos(), 1.0 - t.sin() - 0.5], 1)))
        .collect();
    clean.shuffle(rng);

    let mut points = Array2::zeros((n, 2));
    let mut labels = Vec::with_capacity(n);
    for (mut row, (p, label)) in points.rows_mut().into_iter().zip(clean) {
        for (v, c) in row.iter_mut().zip(p) {
            let e: f64 = StandardNormal.sample(rng);
            *v = (c + noise * e) as f32;
        }
        labels.push(label);
    }
    Dataset { points, labels }
}
