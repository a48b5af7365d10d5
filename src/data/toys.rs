//! The other built-in 2-D toys of the generative-modelling literature. Each draws its points
//! independently (so they come in random order) or shuffles them, then adds N(0, noise²).

use std::f64::consts::PI;

use ndarray::Array2;
use rand::seq::SliceRandom;
use rand::{Rng, RngExt};
use rand_distr::{Distribution, StandardNormal};

use super::Dataset;

/// Builds a data set from clean points and labels, adding N(0, noise²) per coordinate.
fn with_noise(clean: Vec<([f64; 2], u8)>, noise: f64, rng: &mut impl Rng) -> Dataset {
    let mut points = Array2::zeros((clean.len(), 2));
    let mut labels = Vec::with_capacity(clean.len());
    for (mut row, (p, label)) in points.rows_mut().into_iter().zip(clean) {
        for (v, c) in row.iter_mut().zip(p) {
            let e: f64 = StandardNormal.sample(rng);
            *v = (c + noise * e) as f32;
        }
        labels.push(label);
    }
    Dataset { points, labels }
}

/// scikit-learn's `make_circles(factor = 0.5)`: ⌊n/2⌋ points evenly spaced on the unit circle
/// (label 0), the rest on the circle of radius 0.5 (label 1), shuffled.
pub fn circles(n: usize, noise: f64, rng: &mut impl Rng) -> Dataset {
    let outer = n / 2;
    let ring = |count: usize, radius: f64, label: u8| {
        (0..count).map(move |i| {
            let t = 2.0 * PI * i as f64 / count as f64;
            ([radius * t.cos(), radius * t.sin()], label)
        })
    };
    let mut clean: Vec<_> = ring(outer, 1.0, 0).chain(ring(n - outer, 0.5, 1)).collect();
    clean.shuffle(rng);
    with_noise(clean, noise, rng)
}

/// scikit-learn's `make_swiss_roll` seen from above, scaled by 1/5:
/// t ~ U[1.5π, 4.5π], x = (t cos t, t sin t)/5.
pub fn swiss_roll(n: usize, noise: f64, rng: &mut impl Rng) -> Dataset {
    let clean = (0..n)
        .map(|_| {
            let t = 1.5 * PI * (1.0 + 2.0 * rng.random::<f64>());
            ([t * t.cos() / 5.0, t * t.sin() / 5.0], 0)
        })
        .collect();
    with_noise(clean, noise, rng)
}

/// The eight Gaussians' centres: radius 2, angles kπ/4.
pub fn eight_gaussian_modes() -> [[f64; 2]; 8] {
    std::array::from_fn(|k| {
        let angle = PI * k as f64 / 4.0;
        [2.0 * angle.cos(), 2.0 * angle.sin()]
    })
}

/// Eight modes ([`eight_gaussian_modes`]) chosen uniformly, N(mode, noise² I) each; label k.
pub fn eight_gaussians(n: usize, noise: f64, rng: &mut impl Rng) -> Dataset {
    let modes = eight_gaussian_modes();
    let clean = (0..n)
        .map(|_| {
            let k: u8 = rng.random_range(0..8);
            (modes[usize::from(k)], k)
        })
        .collect();
    with_noise(clean, noise, rng)
}

/// Uniform on the 8 unit squares [i, i+1) × [j, j+1) of [−2, 2]² with i + j even; label: the
/// square's index 0–7 in row-major order.
pub fn checkerboard(n: usize, noise: f64, rng: &mut impl Rng) -> Dataset {
    let clean = (0..n)
        .map(|_| {
            let square: u8 = rng.random_range(0..8);
            let (row, slot) = (i32::from(square / 2), i32::from(square % 2));
            // Row r (y from −2 + r) holds columns of the same parity as r.
            let column = 2 * slot + row % 2;
            let x = f64::from(column - 2) + rng.random::<f64>();
            let y = f64::from(row - 2) + rng.random::<f64>();
            ([x, y], square)
        })
        .collect();
    with_noise(clean, noise, rng)
}
