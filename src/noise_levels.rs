//! The noise levels of annealed Langevin dynamics (Song & Ermon 2019): a geometric sequence
//! σ₁ > σ₂ > … > σ_L from σ_max to σ_min, so each level's noised density overlaps the next
//! one's (a constant ratio σᵢ₊₁/σᵢ) while the largest blurs the data into one blob that any
//! start reaches and the smallest is close to the data.
//!
//! **Levels from the data** ([`NoiseLevels::from_data`], the default unless `--sigmas` is
//! given), after Song & Ermon 2020 ("Improved techniques for training score-based generative
//! models", technique 1): σ_max is the largest distance between two training points, so that
//! at the first level every part of the data is within one σ of every other and Langevin
//! moves between them, and the weights of far-apart modes are set there, where the sampler
//! can still reach them; σ_min is the median distance from a training point to its nearest
//! neighbour, the finest detail the points resolve (on the moons 0.0116, next to the
//! course's 0.01). Fixed levels of 1 → 0.01 whatever the data put 0.145 of the particles in
//! the heavy mode of ⅕ N((−5,−5), I) + ⅘ N((5,5), I) instead of 0.8 (`docs/annealed.md`).

use std::fmt;
use std::str::FromStr;

use ndarray::ArrayView2;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NoiseLevels {
    pub max: f64,
    pub min: f64,
    /// σ₁ = max, …, σ_L = min.
    pub sigmas: Vec<f64>,
}

impl NoiseLevels {
    pub fn geometric(max: f64, min: f64, count: usize) -> Self {
        let sigmas = if count == 1 {
            vec![max]
        } else {
            let ratio = (min / max).powf(1.0 / (count - 1) as f64);
            (0..count).map(|i| if i + 1 == count { min } else { max * ratio.powi(i as i32) }).collect()
        };
        Self { max, min, sigmas }
    }

    /// Levels for the training points `train` (see the module docs): [`DATA_LEVELS`] of them,
    /// from their largest pairwise distance to their median nearest-neighbour distance (at
    /// most σ_max/100, so that the levels span two decades at least, as the course's do),
    /// both to three significant figures so that the `MAX:MIN:L` shown reproduces them with
    /// `--sigmas`. Degenerate data (all points alike) gets 1 → 0.01.
    pub fn from_data(train: ArrayView2<f32>) -> Self {
        let points: Vec<[f64; 2]> = train.rows().into_iter().map(|r| [f64::from(r[0]), f64::from(r[1])]).collect();
        let max = diameter(&points);
        if !(max.is_finite() && max > 0.0) {
            return Self::default();
        }
        // Repeated points are no detail: the nearest other place a point is.
        let min = median_nearest_neighbour(&points).filter(|&d| d > 0.0).unwrap_or(max / 100.0).min(max / 100.0);
        Self::geometric(three_figures(max), three_figures(min), DATA_LEVELS)
    }

    pub fn len(&self) -> usize {
        self.sigmas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sigmas.is_empty()
    }

    pub fn smallest(&self) -> f64 {
        *self.sigmas.last().expect("at least one level")
    }
}

/// Levels [`NoiseLevels::from_data`] chooses: the course's ten.
pub const DATA_LEVELS: usize = 10;

/// Directions [`diameter`] measures the points' width along.
const DIRECTIONS: usize = 1024;

/// The largest distance between two of `points`, as the largest of their widths along
/// [`DIRECTIONS`] directions over a half turn: the diameter's own direction is within
/// π/(2·1024) of one of them, so the figure is within a factor cos(π/2048) (1 − 1.2e-6) below
/// the true one, at a cost linear in the points (no convex hull needed).
fn diameter(points: &[[f64; 2]]) -> f64 {
    (0..DIRECTIONS)
        .map(|k| {
            let angle = std::f64::consts::PI * k as f64 / DIRECTIONS as f64;
            let (sin, cos) = angle.sin_cos();
            let (lo, hi) = points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
                let along = p[0] * cos + p[1] * sin;
                (lo.min(along), hi.max(along))
            });
            hi - lo
        })
        .fold(0.0, f64::max)
}

/// The median over `points` of the distance to the nearest other point at a distance above
/// zero (`None` with fewer than two distinct points). A sweep along the axis the points
/// spread most on: sorted by it, each point looks outwards until the gap along that axis
/// alone exceeds the nearest distance found.
fn median_nearest_neighbour(points: &[[f64; 2]]) -> Option<f64> {
    let spread = |d: usize| {
        points.iter().map(|p| p[d]).fold(f64::NEG_INFINITY, f64::max)
            - points.iter().map(|p| p[d]).fold(f64::INFINITY, f64::min)
    };
    let axis = if spread(0) >= spread(1) { 0 } else { 1 };
    let mut sorted = points.to_vec();
    sorted.sort_by(|a, b| a[axis].total_cmp(&b[axis]));
    let distance2 = |a: &[f64; 2], b: &[f64; 2]| (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2);
    let mut nearest: Vec<f64> = (0..sorted.len())
        .filter_map(|i| {
            let p = &sorted[i];
            let mut best = f64::INFINITY;
            let mut look = |j: usize| {
                let gap = sorted[j][axis] - p[axis];
                if gap * gap > best {
                    return false;
                }
                let d = distance2(p, &sorted[j]);
                if d > 0.0 {
                    best = best.min(d);
                }
                true
            };
            for j in i + 1..sorted.len() {
                if !look(j) {
                    break;
                }
            }
            for j in (0..i).rev() {
                if !look(j) {
                    break;
                }
            }
            best.is_finite().then(|| best.sqrt())
        })
        .collect();
    let middle = nearest.len().checked_sub(1)? / 2;
    Some(*nearest.select_nth_unstable_by(middle, f64::total_cmp).1)
}

/// `v` to three significant figures.
fn three_figures(v: f64) -> f64 {
    let scale = 10f64.powi(2 - v.abs().log10().floor() as i32);
    (v * scale).round() / scale
}

impl Default for NoiseLevels {
    /// σ_max 1.0 (the moons' scale), σ_min 0.01, 10 levels.
    fn default() -> Self {
        Self::geometric(1.0, 0.01, 10)
    }
}

impl fmt::Display for NoiseLevels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", crate::shown::number(self.max), crate::shown::number(self.min), self.len())
    }
}

impl FromStr for NoiseLevels {
    type Err = String;

    /// `MAX:MIN:L` with 0 < MIN < MAX ≤ 100 and 2 ≤ L ≤ 1000 (or MIN = MAX with L = 1).
    fn from_str(text: &str) -> Result<Self, String> {
        let parts: Vec<&str> = text.split(':').collect();
        // Each message starts "expected": the command line prints it as what is accepted.
        let [max, min, count] = parts.as_slice() else {
            return Err("expected MAX:MIN:L, e.g. 1.0:0.01:10".into());
        };
        let number = |s: &str, what: &str| {
            s.trim().parse::<f64>().map_err(|_| format!("expected MAX:MIN:L ({what} '{s}' is not a number)"))
        };
        let (max, min) = (number(max, "MAX")?, number(min, "MIN")?);
        let count: usize =
            count.trim().parse().map_err(|_| format!("expected MAX:MIN:L (L '{count}' is not a whole number)"))?;
        if !(min.is_finite() && max.is_finite() && 0.0 < min && min <= max && max <= 100.0) {
            return Err(format!(
                "expected MAX:MIN:L with 0 < MIN ≤ MAX ≤ 100 (got MAX {}, MIN {})",
                crate::shown::number(max),
                crate::shown::number(min)
            ));
        }
        if !(1..=1000).contains(&count) || (count == 1) != (min == max) {
            return Err(format!(
                "expected MAX:MIN:L with 2 ≤ L ≤ 1000 and MIN < MAX, or L = 1 and MIN = MAX (got L {count})"
            ));
        }
        Ok(Self::geometric(max, min, count))
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;
    use rand::{RngExt, SeedableRng};

    use super::*;

    fn random_points(n: usize, seed: u64, stretch: [f64; 2]) -> Vec<[f64; 2]> {
        let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(seed);
        (0..n).map(|_| [rng.random::<f64>() * stretch[0], rng.random::<f64>() * stretch[1]]).collect()
    }

    fn distance(a: &[f64; 2], b: &[f64; 2]) -> f64 {
        ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
    }

    /// Every pair, the slow way.
    fn brute_force(points: &[[f64; 2]]) -> (f64, f64) {
        let mut largest: f64 = 0.0;
        let mut nearest = Vec::new();
        for (i, a) in points.iter().enumerate() {
            let mut best = f64::INFINITY;
            for (j, b) in points.iter().enumerate() {
                let d = distance(a, b);
                largest = largest.max(d);
                if i != j && d > 0.0 {
                    best = best.min(d);
                }
            }
            nearest.push(best);
        }
        nearest.sort_by(f64::total_cmp);
        (largest, nearest[(nearest.len() - 1) / 2])
    }

    #[test]
    fn the_diameter_and_the_median_nearest_neighbour_match_every_pair() {
        // A square, a flat strip along each axis, and a diagonal line with repeats.
        let mut cases = vec![
            random_points(700, 1, [1.0, 1.0]),
            random_points(700, 2, [50.0, 0.01]),
            random_points(700, 3, [0.01, 50.0]),
        ];
        let line: Vec<[f64; 2]> = (0..300).map(|i| [f64::from(i % 150), f64::from(i % 150) * 2.0]).collect();
        cases.push(line);
        for points in cases {
            let (largest, median) = brute_force(&points);
            let found = diameter(&points);
            assert!(found <= largest * (1.0 + 1e-12) && found >= largest * (1.0 - 2e-6), "{found} vs {largest}");
            assert_eq!(median_nearest_neighbour(&points), Some(median));
        }
        assert_eq!(median_nearest_neighbour(&[[1.0, 1.0], [1.0, 1.0]]), None, "no second place");
    }

    #[test]
    fn levels_follow_the_datas_scale_and_print_as_they_are() {
        let points = random_points(2000, 4, [3.0, 3.0]);
        let train = Array2::from_shape_fn((points.len(), 2), |(i, d)| points[i][d] as f32);
        let levels = NoiseLevels::from_data(train.view());
        let scaled = NoiseLevels::from_data(train.mapv(|v| v * 10.0).view());
        assert_eq!(levels.len(), DATA_LEVELS);
        assert!((scaled.max / levels.max - 10.0).abs() < 0.01 && (scaled.min / levels.min - 10.0).abs() < 0.01);
        let shown = levels.to_string();
        assert_eq!(shown.parse::<NoiseLevels>(), Ok(levels.clone()), "{shown} reproduces them");
        let same = Array2::from_elem((10, 2), 3.0f32);
        assert_eq!(NoiseLevels::from_data(same.view()), NoiseLevels::default(), "degenerate data");
        // Two points: no detail finer than the span, so two decades below it.
        let two = ndarray::array![[0.0f32, 0.0], [3.0, 4.0]];
        assert_eq!((NoiseLevels::from_data(two.view()).max, NoiseLevels::from_data(two.view()).min), (5.0, 0.05));
    }

    #[test]
    fn three_figures_rounds_at_any_scale() {
        assert_eq!(three_figures(3.436615), 3.44);
        assert_eq!(three_figures(0.0115891), 0.0116);
        assert_eq!(three_figures(21.3194), 21.3);
        assert_eq!(three_figures(1234.5), 1230.0);
    }
}
