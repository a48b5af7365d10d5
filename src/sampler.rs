//! Langevin dynamics driven by a score, as the course runs it:
//!
//! x ← x + (η/2)·s(x) + √η·z,   z ~ N(0, I),   x₀ ~ U[−1, 1]².
//!
//! For small η and many steps the particles are distributed as exp(log p) when s = ∇ log p.
//! The particles are split into fixed chunks of [`CHUNK`] particles, each with its own
//! random stream, and chunks run in parallel with rayon: the result is the same bit for bit
//! whatever the number of threads.

use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis, Zip, s};
use rand_distr::{Distribution, StandardNormal, Uniform};
use rayon::prelude::*;

use crate::nn::{Evaluator, Mlp, mlp::DIM};
use crate::seeds::{Stream, StreamRng, stream_rng};

/// Particles per chunk: large enough for the GEMM to run at full speed, small enough that
/// 5000 particles give both cores plenty of chunks.
pub const CHUNK: usize = 256;

/// Anything that can evaluate a score field on a batch of points.
pub trait ScoreField: Sync {
    type Scratch: Send;
    fn scratch(&self, rows: usize) -> Self::Scratch;
    /// Scores of `x` (`[rows, 2]`) into `out`.
    fn score(&self, x: ArrayView2<f32>, out: &mut ArrayViewMut2<f32>, scratch: &mut Self::Scratch);
}

/// The scratch is a packed snapshot of the network: the weights are laid out for the
/// kernels once per `langevin` call (per rayon task), not once per step.
impl ScoreField for Mlp<f32> {
    type Scratch = Evaluator<f32>;
    fn scratch(&self, rows: usize) -> Evaluator<f32> {
        self.evaluator(rows)
    }
    fn score(&self, x: ArrayView2<f32>, out: &mut ArrayViewMut2<f32>, evaluator: &mut Evaluator<f32>) {
        evaluator.scores(x, out);
    }
}

struct Chunk {
    positions: Array2<f32>,
    scores: Array2<f32>,
    rng: StreamRng,
}

pub struct Particles {
    chunks: Vec<Chunk>,
    steps_taken: u64,
}

impl Particles {
    /// `count` particles from U[−1, 1]²; `restart` numbers resamples so each draws afresh.
    pub fn uniform(count: usize, seed: u64, restart: u64) -> Self {
        let start = Uniform::new_inclusive(-1.0f32, 1.0).expect("bounds are finite");
        let chunks = (0..count.div_ceil(CHUNK))
            .map(|c| {
                let rows = CHUNK.min(count - c * CHUNK);
                let mut rng = stream_rng(seed, Stream::Particles { restart, chunk: c as u64 });
                let positions = Array2::from_shape_fn((rows, DIM), |_| start.sample(&mut rng));
                Chunk { positions, scores: Array2::zeros((rows, DIM)), rng }
            })
            .collect();
        Self { chunks, steps_taken: 0 }
    }

    pub fn len(&self) -> usize {
        self.chunks.iter().map(|c| c.positions.nrows()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// Langevin steps taken since the particles were drawn.
    pub fn steps_taken(&self) -> u64 {
        self.steps_taken
    }

    /// Runs `steps` Langevin steps of size `eta` under `field`.
    pub fn langevin(&mut self, field: &impl ScoreField, eta: f32, steps: usize) {
        let drift = eta / 2.0;
        let diffusion = eta.sqrt();
        self.chunks.par_iter_mut().for_each_init(
            || field.scratch(CHUNK),
            |scratch, chunk| {
                for _ in 0..steps {
                    let Chunk { positions, scores, rng } = chunk;
                    field.score(positions.view(), &mut scores.view_mut(), scratch);
                    Zip::from(positions).and(&*scores).for_each(|x, &s| {
                        let z: f32 = StandardNormal.sample(rng);
                        *x += drift * s + diffusion * z;
                    });
                }
            },
        );
        self.steps_taken += steps as u64;
    }

    /// All positions, `[count, 2]`, in particle order.
    pub fn positions(&self) -> Array2<f32> {
        let views: Vec<_> = self.chunks.iter().map(|c| c.positions.view()).collect();
        ndarray::concatenate(Axis(0), &views).unwrap_or_else(|_| Array2::zeros((0, DIM)))
    }

    /// Calls `visit` on each particle's position, in particle order, without copying.
    pub fn for_each(&self, mut visit: impl FnMut(f32, f32)) {
        for chunk in &self.chunks {
            for row in chunk.positions.rows() {
                visit(row[0], row[1]);
            }
        }
    }

    /// Positions of chunk `c` (for tests of the chunk layout).
    pub fn chunk(&self, c: usize) -> ArrayView2<'_, f32> {
        self.chunks[c].positions.slice(s![.., ..])
    }
}
