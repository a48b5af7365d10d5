//! Langevin dynamics driven by a score, as the course runs it:
//!
//! x ← x + (η/2)·s(x) + √η·z,   z ~ N(0, I),   x₀ ~ U[−1, 1]².
//!
//! For small η and many steps the particles are distributed as exp(log p) when s = ∇ log p.
//!
//! Annealed Langevin (Song & Ermon 2019) writes the same step as x ← x + α·s(x, σᵢ) + √(2α)·z:
//! α = η/2. It runs T steps at each noise level σ₁ > … > σ_L with αᵢ = c·σᵢ² (a step that
//! scales with the level's width), then takes one denoising step x + σ_L²·s(x, σ_L)
//! (Tweedie's formula for E[x₀ | x_σ]).
//! The particles are split into fixed chunks of [`CHUNK`] particles, each with its own
//! random stream, and chunks run in parallel with rayon: the result is the same bit for bit
//! whatever the number of threads.
//!
//! A step may also be taken a few chunks at a time ([`Particles::drift_diffuse_part`]), so a
//! screen can move 100 000 particles without waiting a whole step between frames. Each chunk
//! still takes the whole step on its own stream, so the particles are the same bits as after
//! whole steps; only their step count waits until every chunk has taken the step.

use std::sync::Mutex;

use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis, Zip, s};
use rand_distr::{Distribution, StandardNormal, Uniform};
use rayon::prelude::*;

use crate::nn::{Evaluator, Mlp, Precision, mlp::DIM};
use crate::seeds::{Stream, StreamRng, stream_rng};

/// Particles per chunk: large enough for the GEMM to run at full speed, small enough that
/// 5000 particles give both cores plenty of chunks.
pub const CHUNK: usize = 256;

/// E‖z‖ for z ~ N(0, I₂): the mean of a Rayleigh(1) variable, √(π/2).
pub const MEAN_NOISE_NORM: f64 = 1.253_314_137_315_500_3;

/// Anything that can evaluate a score field on a batch of points.
pub trait ScoreField: Sync {
    type Scratch: Send;
    /// Buffers for `rows` points; a network evaluates at `precision`, other fields ignore it.
    fn scratch(&self, rows: usize, precision: Precision) -> Self::Scratch;
    /// Scores of `x` (`[rows, 2]`) into `out`.
    fn score(&self, x: ArrayView2<f32>, out: &mut ArrayViewMut2<f32>, scratch: &mut Self::Scratch);
}

/// The scratch is a packed snapshot of the network: the weights are laid out for the
/// kernels once per `langevin` call (per rayon task), not once per step.
impl ScoreField for Mlp<f32> {
    type Scratch = Evaluator<f32>;
    fn scratch(&self, rows: usize, precision: Precision) -> Evaluator<f32> {
        self.evaluator_in(rows, precision)
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

impl Chunk {
    /// One step of x ← x + drift·s(x) + diffusion·z (no noise drawn when `diffusion` is 0).
    fn step<F: ScoreField>(&mut self, field: &F, drift: f32, diffusion: f32, scratch: &mut F::Scratch) {
        field.score(self.positions.view(), &mut self.scores.view_mut(), scratch);
        self.move_by_scores(drift, diffusion);
    }

    /// x ← x + drift·s + diffusion·z with the scores already in `scores`.
    fn move_by_scores(&mut self, drift: f32, diffusion: f32) {
        let Chunk { positions, scores, rng } = self;
        if diffusion == 0.0 {
            Zip::from(&mut *positions).and(&*scores).for_each(|x, &s| *x += drift * s);
            return;
        }
        Zip::from(positions).and(&*scores).for_each(|x, &s| {
            let z: f32 = StandardNormal.sample(rng);
            *x += drift * s + diffusion * z;
        });
    }
}

/// One step of [`Particles::predict_correct`]: the corrector's signal-to-noise ratio (none for
/// the denoising step), then the predictor's x ← x + drift·s(x, σ) + diffusion·z at σ.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PcStep {
    pub sigma: f32,
    pub snr: Option<f64>,
    pub drift: f32,
    pub diffusion: f32,
}

/// One step of a plan that every particle follows on its own ([`Particles::follow`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PlannedStep {
    /// x ← x + drift·s(x, σ) + diffusion·z.
    DriftDiffuse { sigma: f32, drift: f32, diffusion: f32 },
    /// Heun's step of dx/dσ = −σ·s(x, σ) from σ = `from` to `to` ([`Particles::heun`]).
    Heun { from: f32, to: f32 },
}

/// A chunk's buffers for Heun's trial point and its slope.
struct HeunBuffers {
    trial: Array2<f32>,
    slope: Array2<f32>,
}

impl HeunBuffers {
    fn new() -> Self {
        Self { trial: Array2::zeros((CHUNK, DIM)), slope: Array2::zeros((CHUNK, DIM)) }
    }
}

impl Chunk {
    /// Heun's step from σ = `from` to `to`: Euler to a trial point, then the mean slope.
    fn heun<C: ConditionalScoreField>(
        &mut self,
        field: &C,
        [from, to]: [f32; 2],
        scratch: &mut C::Scratch,
        buffers: &mut HeunBuffers,
    ) {
        let h = to - from;
        let rows = self.positions.nrows();
        let (mut trial, mut slope) = (buffers.trial.slice_mut(s![..rows, ..]), buffers.slope.slice_mut(s![..rows, ..]));
        field.score_at(self.positions.view(), from, &mut self.scores.view_mut(), scratch);
        Zip::from(&mut trial).and(&self.positions).and(&self.scores).for_each(|t, &x, &s| *t = x - h * from * s);
        field.score_at(trial.view(), to, &mut slope, scratch);
        Zip::from(&mut self.positions).and(&self.scores).and(&slope).for_each(|x, &s0, &s1| {
            *x += h * (-from * s0 - to * s1) / 2.0;
        });
    }

    /// `step` of a plan; `buffers` exist when the plan has Heun's steps.
    fn planned<C: ConditionalScoreField>(
        &mut self,
        field: &C,
        step: PlannedStep,
        scratch: &mut C::Scratch,
        buffers: Option<&mut HeunBuffers>,
    ) {
        match step {
            PlannedStep::DriftDiffuse { sigma, drift, diffusion } => {
                self.step(&AtLevel { field, sigma }, drift, diffusion, scratch);
            }
            PlannedStep::Heun { from, to } => {
                let buffers = buffers.expect("a plan with Heun's steps has their buffers");
                self.heun(field, [from, to], scratch, buffers);
            }
        }
    }
}

pub struct Particles {
    chunks: Vec<Chunk>,
    steps_taken: u64,
    /// Chunks `..swept` have already taken step `steps_taken + 1` (a step taken in parts).
    swept: usize,
    /// The arithmetic of the network's evaluations ([`Particles::in_precision`]).
    precision: Precision,
}

impl Particles {
    /// `count` particles from U[−1, 1]²; `restart` numbers resamples so each draws afresh.
    pub fn uniform(count: usize, seed: u64, restart: u64) -> Self {
        let start = Uniform::new_inclusive(-1.0f32, 1.0).expect("bounds are finite");
        Self::in_chunks(count, seed, restart, |rows, rng| {
            Array2::from_shape_fn((rows.len(), DIM), |_| start.sample(rng))
        })
    }

    /// `count` particles from N(`centre`, `sigma`² I), on the streams [`Particles::uniform`]
    /// draws from.
    pub fn gaussian(count: usize, seed: u64, restart: u64, centre: [f32; 2], sigma: f32) -> Self {
        Self::in_chunks(count, seed, restart, |rows, rng| {
            Array2::from_shape_fn((rows.len(), DIM), |(_, d)| {
                let z: f32 = StandardNormal.sample(rng);
                centre[d] + sigma * z
            })
        })
    }

    /// Chunks of [`CHUNK`] particles, each with its own noise stream; `positions` gives a
    /// chunk's starting points from its rows and its stream.
    fn in_chunks(
        count: usize,
        seed: u64,
        restart: u64,
        mut positions: impl FnMut(std::ops::Range<usize>, &mut StreamRng) -> Array2<f32>,
    ) -> Self {
        let chunks = (0..count.div_ceil(CHUNK))
            .map(|c| {
                let rows = c * CHUNK..count.min((c + 1) * CHUNK);
                let mut rng = stream_rng(seed, Stream::Particles { restart, chunk: c as u64 });
                let positions = positions(rows, &mut rng);
                Chunk { scores: Array2::zeros(positions.dim()), positions, rng }
            })
            .collect();
        Self { chunks, steps_taken: 0, swept: 0, precision: Precision::F32 }
    }

    /// The same particles, whose network evaluations from now on run at `precision` (the
    /// caller checks [`Precision::unavailable`]).
    pub fn in_precision(self, precision: Precision) -> Self {
        Self { precision, ..self }
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

    /// Chunks of [`CHUNK`] particles: a step taken in parts moves whole chunks.
    pub fn chunk_count(&self) -> usize {
        self.chunks.len()
    }

    /// Chunk-steps taken since the particles were drawn, parts of a step included: the work
    /// done, for timing it.
    pub fn chunk_steps(&self) -> u64 {
        self.steps_taken * self.chunks.len() as u64 + self.swept as u64
    }

    /// Runs `steps` Langevin steps of size `eta` under `field`.
    pub fn langevin(&mut self, field: &impl ScoreField, eta: f32, steps: usize) {
        self.drift_diffuse(field, eta / 2.0, eta.sqrt(), steps);
    }

    /// The next `chunks` chunks' part of a Langevin step (see [`Particles::drift_diffuse_part`]).
    pub fn langevin_part(&mut self, field: &impl ScoreField, eta: f32, chunks: usize) -> bool {
        self.drift_diffuse_part(field, eta / 2.0, eta.sqrt(), chunks)
    }

    /// `steps` steps of x ← x + drift·s(x) + diffusion·z. With `diffusion` 0 no noise is
    /// drawn (the denoising step). A step begun in parts is the first of them: the chunks
    /// that have taken it take one step fewer.
    pub fn drift_diffuse(&mut self, field: &impl ScoreField, drift: f32, diffusion: f32, steps: usize) {
        if steps == 0 {
            return;
        }
        let swept = self.swept;
        // One job per chunk: left to itself rayon hands each thread runs of several chunks,
        // which the other thread cannot steal from, and a 1000-step chunk is ~0.1 s: the
        // tail left one core idle (cpu_util 1.84, now 1.97; 5000 × 1000 in 1.23 → 1.11 s).
        self.chunks.par_iter_mut().enumerate().with_max_len(1).for_each_init(
            || field.scratch(CHUNK, self.precision),
            |scratch, (c, chunk)| {
                for _ in 0..steps - usize::from(c < swept) {
                    chunk.step(field, drift, diffusion, scratch);
                }
            },
        );
        self.swept = 0;
        self.steps_taken += steps as u64;
    }

    /// Part of the next step: the next `chunks` chunks (at least one) that have not taken it
    /// take it, in particle order. `true` when that completes the step, which only then
    /// counts in [`Particles::steps_taken`]. The caller keeps `drift` and `diffusion` those
    /// of the step until it completes.
    pub fn drift_diffuse_part(&mut self, field: &impl ScoreField, drift: f32, diffusion: f32, chunks: usize) -> bool {
        let end = (self.swept + chunks.max(1)).min(self.chunks.len());
        self.chunks[self.swept..end].par_iter_mut().with_max_len(1).for_each_init(
            || field.scratch(CHUNK, self.precision),
            |scratch, chunk| chunk.step(field, drift, diffusion, scratch),
        );
        self.swept = end;
        if self.swept < self.chunks.len() {
            return false;
        }
        self.swept = 0;
        self.steps_taken += 1;
        true
    }

    /// One Heun step of the probability-flow ODE dx/dσ = −σ·s(x, σ) from σ = `from` to `to`
    /// (Karras et al. 2022, Algorithm 1): an Euler step to a trial point, then the mean of the
    /// slopes at both ends; two evaluations, no noise.
    pub fn heun(&mut self, field: &impl ConditionalScoreField, from: f32, to: f32) {
        self.follow(field, &[PlannedStep::Heun { from, to }]);
    }

    /// Takes the steps of `plan` in order, each particle on its own (the samplers whose step
    /// needs nothing from the other particles): each chunk runs the whole plan with one set
    /// of buffers, so a plan of any length allocates as one step does. A step begun in parts
    /// is the plan's first: the chunks that have taken it skip it.
    pub fn follow(&mut self, field: &impl ConditionalScoreField, plan: &[PlannedStep]) {
        if plan.is_empty() {
            return;
        }
        let swept = self.swept;
        let heun = plan.iter().any(|step| matches!(step, PlannedStep::Heun { .. }));
        self.chunks.par_iter_mut().enumerate().with_max_len(1).for_each_init(
            || (field.scratch(CHUNK, self.precision), heun.then(HeunBuffers::new)),
            |(scratch, buffers), (c, chunk)| {
                for &step in &plan[usize::from(c < swept)..] {
                    chunk.planned(field, step, scratch, buffers.as_mut());
                }
            },
        );
        self.swept = 0;
        self.steps_taken += plan.len() as u64;
    }

    /// Predictor–corrector steps in order (Song et al. 2021, Algorithm 2): each a Langevin
    /// corrector step at σ (when it has one: not the denoising step), then its predictor
    /// x ← x + drift·s(x, σ) + diffusion·z.
    ///
    /// The corrector (Algorithm 4, variance exploding) is x ← x + ε·s + √(2ε)·z with
    /// ε = 2·(r·E‖z‖ / mean‖s‖)², r the signal-to-noise ratio and the mean over all the
    /// particles (finite scores only). E‖z‖ = √(π/2) is the expectation, where the reference
    /// code takes the batch's own mean of ‖z‖: the same to ~1% at 5000 particles, and it
    /// keeps the step from depending on how the particles are split. One evaluation: the
    /// scores are computed once, reduced in chunk order, then applied. The corrector's mean needs every
    /// particle's score before any moves, so each step is two passes over the chunks; the
    /// buffers are one set per thread for the whole run, so a run of any length allocates as
    /// one step does. A step begun in parts is the first: the chunks that have taken it skip
    /// its predictor.
    pub fn predict_correct<C: ConditionalScoreField>(&mut self, field: &C, steps: &[PcStep]) {
        let Some(first) = steps.first() else { return };
        let swept = std::mem::take(&mut self.swept);
        assert!(swept == 0 || first.snr.is_none(), "only the denoising step, without a corrector, is taken in parts");
        // One set of buffers per thread: what a task uses depends on its thread, never what it
        // computes. A task holds its thread's set while it runs: a score that waited on other
        // rayon tasks could run one on this thread and block on the same set (none does).
        let pool: Vec<Mutex<C::Scratch>> = (0..rayon::current_num_threads().max(1))
            .map(|_| Mutex::new(field.scratch(CHUNK, self.precision)))
            .collect();
        let scratch = || {
            let slot = rayon::current_thread_index().unwrap_or(0) % pool.len();
            pool[slot].lock().unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        let mut sums = vec![(0.0, 0); self.chunks.len()];
        for (k, step) in steps.iter().enumerate() {
            if let Some(snr) = step.snr {
                self.chunks.par_iter_mut().zip(&mut sums).with_max_len(1).for_each(|(chunk, sum)| {
                    field.score_at(chunk.positions.view(), step.sigma, &mut chunk.scores.view_mut(), &mut scratch());
                    *sum = finite_norm_sum(&chunk.scores);
                });
                self.steps_taken += 1;
                if let Some(mean_score) = mean_of(&sums).filter(|&m| m > 0.0) {
                    let size = 2.0 * (snr * MEAN_NOISE_NORM / mean_score).powi(2);
                    let (drift, diffusion) = (size as f32, (2.0 * size).sqrt() as f32);
                    self.chunks.par_iter_mut().with_max_len(1).for_each(|chunk| chunk.move_by_scores(drift, diffusion));
                }
            }
            let at = AtLevel { field, sigma: step.sigma };
            let skip = if k == 0 { swept } else { 0 };
            self.chunks[skip..]
                .par_iter_mut()
                .with_max_len(1)
                .for_each(|chunk| chunk.step(&at, step.drift, step.diffusion, &mut scratch()));
            self.steps_taken += 1;
        }
    }

    /// Mean ‖s(x)‖ over the particles where they are now, counting those whose score is
    /// finite (`None` if none is): the drift the next step applies, before its factor. Chunk
    /// sums are added in chunk order, so the figure is the same on any number of threads.
    pub fn mean_score_norm(&self, field: &impl ScoreField) -> Option<f64> {
        let sums: Vec<(f64, usize)> = self
            .chunks
            .par_iter()
            .map_init(
                || field.scratch(CHUNK, self.precision),
                |scratch, chunk| {
                    let mut scores = Array2::zeros(chunk.positions.dim());
                    field.score(chunk.positions.view(), &mut scores.view_mut(), scratch);
                    finite_norm_sum(&scores)
                },
            )
            .collect();
        mean_of(&sums)
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

    /// Particles at the given positions (`[count, 2]`), e.g. to start two samplers from the
    /// same points; each chunk's noise stream as [`Particles::uniform`] would give it.
    pub fn from_positions(positions: ArrayView2<f32>, seed: u64, restart: u64) -> Self {
        Self::in_chunks(positions.nrows(), seed, restart, |rows, _| positions.slice(s![rows, ..]).to_owned())
    }
}

/// The sum of the finite ‖s‖ over the rows of `scores`, and how many there are.
fn finite_norm_sum(scores: &Array2<f32>) -> (f64, usize) {
    let norms = scores.rows().into_iter().map(|s| f64::from(s[0]).hypot(f64::from(s[1])));
    norms.filter(|n| n.is_finite()).fold((0.0, 0), |(total, count), n| (total + n, count + 1))
}

/// The mean over chunks' [`finite_norm_sum`]s, added in chunk order (the same on any number
/// of threads); `None` when no score was finite.
fn mean_of(sums: &[(f64, usize)]) -> Option<f64> {
    let (total, count) = sums.iter().fold((0.0, 0), |(t, c), &(total, count)| (t + total, c + count));
    (count > 0).then(|| total / count as f64)
}

/// A score that also takes the noise level: s(x, σ) ≈ ∇ log q_σ(x).
pub trait ConditionalScoreField: Sync {
    type Scratch: Send;
    /// As [`ScoreField::scratch`].
    fn scratch(&self, rows: usize, precision: Precision) -> Self::Scratch;
    fn score_at(&self, x: ArrayView2<f32>, sigma: f32, out: &mut ArrayViewMut2<f32>, scratch: &mut Self::Scratch);
}

/// A conditional field frozen at one level, to drive plain Langevin steps.
pub struct AtLevel<'a, C> {
    pub field: &'a C,
    pub sigma: f32,
}

impl<C: ConditionalScoreField> ScoreField for AtLevel<'_, C> {
    type Scratch = C::Scratch;
    fn scratch(&self, rows: usize, precision: Precision) -> C::Scratch {
        self.field.scratch(rows, precision)
    }
    fn score(&self, x: ArrayView2<f32>, out: &mut ArrayViewMut2<f32>, scratch: &mut C::Scratch) {
        self.field.score_at(x, self.sigma, out, scratch);
    }
}

/// A trained noise-conditional network read as the score s(x, σ) = net(x, log σ)/σ.
pub struct ConditionalScore<'a> {
    pub model: &'a Mlp<f32>,
}

impl ConditionalScoreField for ConditionalScore<'_> {
    /// The packed network and a row of log σ per particle.
    type Scratch = (Evaluator<f32>, Vec<f32>);

    fn scratch(&self, rows: usize, precision: Precision) -> Self::Scratch {
        (self.model.evaluator_in(rows, precision), vec![0.0; rows])
    }

    fn score_at(&self, x: ArrayView2<f32>, sigma: f32, out: &mut ArrayViewMut2<f32>, scratch: &mut Self::Scratch) {
        let (evaluator, condition) = scratch;
        let condition = &mut condition[..x.nrows()];
        condition.fill(sigma.ln());
        evaluator.scores_conditional(x, condition, out);
        out.mapv_inplace(|v| v / sigma);
    }
}

/// Where an annealed run is: level i (from 0) and steps taken in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AnnealedPosition {
    pub level: usize,
    pub step: usize,
    /// The final denoising step has been taken: the run is over.
    pub denoised: bool,
}

/// Annealed Langevin over `levels`, T = `steps_per_level` steps each with αᵢ = c·σᵢ², advanced
/// in pieces of any size so a screen can show it step by step.
pub struct AnnealedSampler {
    pub levels: crate::noise_levels::NoiseLevels,
    pub steps_per_level: usize,
    pub step_scale: f64,
    pub position: AnnealedPosition,
}

impl AnnealedSampler {
    pub fn new(levels: crate::noise_levels::NoiseLevels, steps_per_level: usize, step_scale: f64) -> Self {
        Self { levels, steps_per_level, step_scale, position: AnnealedPosition { level: 0, step: 0, denoised: false } }
    }

    /// σ of the current level.
    pub fn sigma(&self) -> f64 {
        self.levels.sigmas[self.position.level.min(self.levels.len() - 1)]
    }

    /// αᵢ = c·σᵢ² of the current level.
    pub fn alpha(&self) -> f64 {
        self.step_scale * self.sigma().powi(2)
    }

    pub fn is_done(&self) -> bool {
        self.position.denoised
    }

    /// Langevin steps left, counting the denoising step as one.
    pub fn remaining(&self) -> usize {
        if self.is_done() {
            return 0;
        }
        let p = self.position;
        (self.levels.len() - p.level) * self.steps_per_level - p.step + 1
    }

    /// Advances up to `steps` steps (crossing levels, ending with the denoising step).
    pub fn advance(&mut self, particles: &mut Particles, field: &impl ConditionalScoreField, mut steps: usize) {
        while steps > 0 && !self.is_done() {
            if self.position.level == self.levels.len() {
                let sigma = self.levels.smallest();
                let at = AtLevel { field, sigma: sigma as f32 };
                particles.drift_diffuse(&at, (sigma * sigma) as f32, 0.0, 1);
                self.position.denoised = true;
                return;
            }
            let alpha = self.alpha();
            let run = steps.min(self.steps_per_level - self.position.step);
            let at = AtLevel { field, sigma: self.sigma() as f32 };
            particles.drift_diffuse(&at, alpha as f32, (2.0 * alpha).sqrt() as f32, run);
            steps -= run;
            self.position.step += run;
            if self.position.step == self.steps_per_level {
                self.position = AnnealedPosition { level: self.position.level + 1, step: 0, denoised: false };
            }
        }
    }

    /// The next `chunks` chunks' part of the next step (see [`Particles::drift_diffuse_part`]);
    /// the schedule moves on once every chunk has taken it.
    pub fn advance_part(&mut self, particles: &mut Particles, field: &impl ConditionalScoreField, chunks: usize) {
        if self.is_done() {
            return;
        }
        if self.position.level == self.levels.len() {
            let sigma = self.levels.smallest();
            let at = AtLevel { field, sigma: sigma as f32 };
            self.position.denoised = particles.drift_diffuse_part(&at, (sigma * sigma) as f32, 0.0, chunks);
            return;
        }
        let alpha = self.alpha();
        let at = AtLevel { field, sigma: self.sigma() as f32 };
        if particles.drift_diffuse_part(&at, alpha as f32, (2.0 * alpha).sqrt() as f32, chunks) {
            self.position.step += 1;
            if self.position.step == self.steps_per_level {
                self.position = AnnealedPosition { level: self.position.level + 1, step: 0, denoised: false };
            }
        }
    }

    /// Runs to the end of the current level (or the denoising step, if that is next).
    pub fn advance_level(&mut self, particles: &mut Particles, field: &impl ConditionalScoreField) {
        let left = if self.position.level == self.levels.len() { 1 } else { self.steps_per_level - self.position.step };
        self.advance(particles, field, left);
    }

    /// Runs the whole schedule.
    pub fn run(&mut self, particles: &mut Particles, field: &impl ConditionalScoreField) {
        self.advance(particles, field, self.remaining());
    }
}
