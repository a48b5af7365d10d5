//! Data sets: the built-in 2-D toys (the course's two moons first) and the user's own points
//! from a CSV file, each in random order so the first 80% can train and the rest test.

mod csv;
mod moons;
mod toys;

use std::path::PathBuf;
use std::sync::Arc;

use ndarray::{Array2, ArrayView2, s};
use rand::Rng;
use serde::Serialize;

pub use csv::{CsvError, CsvPoints, MIN_POINTS, load_csv, read_csv};
pub use moons::two_moons;
pub use toys::eight_gaussian_modes;

/// The course's split: the first 80% of the (shuffled) points train, the rest test.
pub const TRAIN_FRACTION: f64 = 0.8;

#[derive(Clone, Debug)]
pub struct Dataset {
    /// `[n, 2]`
    pub points: Array2<f32>,
    pub labels: Vec<u8>,
}

/// Number of training points for a data set of `n` points.
pub fn train_len(n: usize) -> usize {
    (TRAIN_FRACTION * n as f64) as usize
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn train(&self) -> ArrayView2<'_, f32> {
        self.points.slice(s![..train_len(self.len()), ..])
    }

    pub fn test(&self) -> ArrayView2<'_, f32> {
        self.points.slice(s![train_len(self.len()).., ..])
    }
}

/// The built-in data sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Builtin {
    /// scikit-learn's make_moons: two interleaved half circles (the course's)
    Moons,
    /// scikit-learn's make_circles (factor 0.5): two concentric circles
    Circles,
    /// A 2-D swiss roll: a spiral arm of one and a half turns
    SwissRoll,
    /// Eight Gaussians on a circle of radius 2: separated modes
    #[value(name = "8gaussians")]
    #[serde(rename = "8gaussians")]
    EightGaussians,
    /// Eight squares of a 4×4 checkerboard on [−2, 2]²: sharp edges
    Checkerboard,
}

/// Where the points come from.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    Builtin(Builtin),
    /// The user's points, loaded and checked once (see [`load_csv`]).
    File {
        path: PathBuf,
        #[serde(skip)]
        points: Arc<Array2<f32>>,
    },
}

/// The plane region a plot shows: `[x_min, x_max] × [y_min, y_max]`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Bounds {
    pub x: [f64; 2],
    pub y: [f64; 2],
}

impl Builtin {
    pub const ALL: [Builtin; 5] =
        [Builtin::Moons, Builtin::Circles, Builtin::SwissRoll, Builtin::EightGaussians, Builtin::Checkerboard];

    pub fn name(self) -> &'static str {
        match self {
            Builtin::Moons => "moons",
            Builtin::Circles => "circles",
            Builtin::SwissRoll => "swiss-roll",
            Builtin::EightGaussians => "8gaussians",
            Builtin::Checkerboard => "checkerboard",
        }
    }

    /// The next set in [`Builtin::ALL`], wrapping (the dashboard cycles with a key).
    pub fn next(self) -> Self {
        let i = Self::ALL.iter().position(|&b| b == self).expect("listed");
        Self::ALL[(i + 1) % Self::ALL.len()]
    }

    /// Standard deviation of the Gaussian noise on the clean shape.
    pub fn default_noise(self) -> f64 {
        match self {
            Builtin::Moons | Builtin::Circles | Builtin::SwissRoll | Builtin::EightGaussians => 0.1,
            // The squares are uniform already; noise would only blur their edges.
            Builtin::Checkerboard => 0.0,
        }
    }

    /// DSM noise level that trains well: about the scale of the data's fine detail.
    pub fn default_sigma(self) -> f64 {
        match self {
            Builtin::Moons | Builtin::Circles | Builtin::EightGaussians | Builtin::Checkerboard => 0.1,
            // Arms ~1.2 apart and 0.1 thick: a little more blur keeps the chain between them moving.
            Builtin::SwissRoll => 0.15,
        }
    }

    /// Covers the data with a margin (the moons' as in the reference's plots).
    pub fn bounds(self) -> Bounds {
        match self {
            Builtin::Moons => Bounds { x: [-1.6, 2.6], y: [-1.2, 1.6] },
            Builtin::Circles => Bounds { x: [-1.5, 1.5], y: [-1.5, 1.5] },
            Builtin::SwissRoll => Bounds { x: [-3.2, 3.2], y: [-3.2, 3.2] },
            Builtin::EightGaussians => Bounds { x: [-2.8, 2.8], y: [-2.8, 2.8] },
            Builtin::Checkerboard => Bounds { x: [-2.5, 2.5], y: [-2.5, 2.5] },
        }
    }

    pub fn generate(self, n: usize, noise: f64, rng: &mut impl Rng) -> Dataset {
        match self {
            Builtin::Moons => two_moons(n, noise, rng),
            Builtin::Circles => toys::circles(n, noise, rng),
            Builtin::SwissRoll => toys::swiss_roll(n, noise, rng),
            Builtin::EightGaussians => toys::eight_gaussians(n, noise, rng),
            Builtin::Checkerboard => toys::checkerboard(n, noise, rng),
        }
    }
}

impl Source {
    pub fn name(&self) -> String {
        match self {
            Source::Builtin(b) => b.name().to_string(),
            Source::File { path, .. } => crate::shown::path(path),
        }
    }

    pub fn is_moons(&self) -> bool {
        *self == Source::Builtin(Builtin::Moons)
    }

    /// The data set of a run: generated, or the file's points in an order drawn from `rng`.
    pub fn dataset(&self, count: usize, noise: f64, rng: &mut impl Rng) -> Dataset {
        match self {
            Source::Builtin(b) => b.generate(count, noise, rng),
            Source::File { points, .. } => {
                // Files are often sorted (by class, by time): shuffle before splitting.
                let mut order: Vec<usize> = (0..points.nrows()).collect();
                rand::seq::SliceRandom::shuffle(order.as_mut_slice(), rng);
                let shuffled = Array2::from_shape_fn(points.dim(), |(i, d)| points[[order[i], d]]);
                Dataset { labels: vec![0; shuffled.nrows()], points: shuffled }
            }
        }
    }

    /// What the plots show: fixed per built-in set, the file's range plus 10% otherwise.
    pub fn bounds(&self) -> Bounds {
        match self {
            Source::Builtin(b) => b.bounds(),
            Source::File { points, .. } => bounds_with_margin(points.view(), 0.1),
        }
    }
}

/// The bounding box of `points`, each side widened by `margin` of the larger span.
pub fn bounds_with_margin(points: ArrayView2<f32>, margin: f64) -> Bounds {
    let range = |d: usize| {
        points
            .column(d)
            .iter()
            .fold([f64::INFINITY, f64::NEG_INFINITY], |[lo, hi], &v| [lo.min(f64::from(v)), hi.max(f64::from(v))])
    };
    let (x, y) = (range(0), range(1));
    let pad = margin * (x[1] - x[0]).max(y[1] - y[0]).max(1e-3);
    Bounds { x: [x[0] - pad, x[1] + pad], y: [y[0] - pad, y[1] + pad] }
}
