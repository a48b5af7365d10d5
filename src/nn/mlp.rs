//! The score network s_θ: ℝ² → ℝ², an MLP 2 → H → … → H → 2 (`depth` hidden layers of
//! width H, a smooth activation after each), with a hand-written backward pass.
//!
//! Shapes: a batch is `[rows, 2]`; hidden activations are `[rows, H]`, row-major. The
//! layer operations live in `nn::ops` (f32 kernels or the portable path). All buffers
//! live in a [`Workspace`] (training), [`Scratch`] or [`Evaluator`] (inference), allocated
//! once and reused every step.
//!
//! Training splits a batch into fixed shards of rows that run on rayon's threads (two
//! shards: on the workspace's `Partner` thread, which stays awake between steps): each
//! shard does its own forward and backward pass into its own gradient buffers, and the
//! shards' gradients are then summed in shard order. The shards depend only on the number
//! of rows, never on the number of threads, so the result is the same bit for bit on one
//! thread or many.

use ndarray::{Array2, ArrayView2, ArrayViewMut2, s};
use rand::Rng;
use rayon::prelude::*;

use super::cpu::ops::{self, Packed};
use super::cpu::partner::Partner;
use super::{Activation, Linear, Real};

/// Fewest rows in a shard: below this the tiles and the weight-gradient products (whose inner
/// dimension is the shard's rows) run short.
pub const MIN_SHARD_ROWS: usize = 64;
/// Least work in a shard, in multiply-adds of one H × H layer (rows · H²): below it the
/// fork-join costs more than the second core gives back. Measured: 2 shards of 64 rows at
/// width 64 (2¹⁸ each) ran at half the one-thread speed; at width 128 (2²⁰) 12% faster.
pub const MIN_SHARD_WORK: usize = 1 << 20;
/// Most shards per batch: enough to balance two cores when one is busy elsewhere, few
/// enough that the per-shard gradient buffers stay small.
pub const MAX_SHARDS: usize = 8;

/// (shards, rows per shard) for a batch of `rows` at hidden width `width`; the last shard may
/// be shorter. Depends on the shapes only, never on the number of threads.
pub fn shard_layout(rows: usize, width: usize) -> (usize, usize) {
    let min_rows = MIN_SHARD_ROWS.max(MIN_SHARD_WORK.div_ceil(width * width));
    let shards = rows.div_ceil(min_rows).clamp(1, MAX_SHARDS);
    let per_shard = rows.div_ceil(shards).max(1);
    (rows.div_ceil(per_shard).max(1), per_shard)
}

/// Data dimension: the models here map the plane to the plane.
pub const DIM: usize = 2;

/// Room per shard for the input layer's weight-gradient columns: 2, or 3 with conditioning.
const COLUMN_GRADS: usize = DIM + 1;

#[derive(Clone, Debug, PartialEq)]
pub struct Mlp<F> {
    /// `layers[0]`: 2 → H; `layers[1..depth]`: H → H; `layers[depth]`: H → 2.
    pub layers: Vec<Linear<F>>,
    pub activation: Activation,
}

impl<F: Real> Mlp<F> {
    pub fn init(width: usize, depth: usize, activation: Activation, rng: &mut impl Rng) -> Self {
        Self::init_with_inputs(DIM, width, depth, activation, rng)
    }

    /// A noise-conditional network: a third input, log σ, beside the point (NCSN).
    pub fn init_conditional(width: usize, depth: usize, activation: Activation, rng: &mut impl Rng) -> Self {
        Self::init_with_inputs(DIM + 1, width, depth, activation, rng)
    }

    fn init_with_inputs(inputs: usize, width: usize, depth: usize, activation: Activation, rng: &mut impl Rng) -> Self {
        assert!(width > 0 && depth > 0, "width and depth are validated to be positive");
        let mut layers = vec![Linear::init(inputs, width, rng)];
        for _ in 1..depth {
            layers.push(Linear::init(width, width, rng));
        }
        layers.push(Linear::init(width, DIM, rng));
        Self { layers, activation }
    }

    /// 2, or 3 for a noise-conditional network (the third input per row: log σ).
    pub fn inputs(&self) -> usize {
        self.layers[0].inputs()
    }

    pub fn width(&self) -> usize {
        self.layers[0].outputs()
    }

    /// Number of hidden layers.
    pub fn depth(&self) -> usize {
        self.layers.len() - 1
    }

    pub fn parameter_count(&self) -> usize {
        self.layers.iter().map(|l| l.weight.len() + l.bias.len()).sum()
    }

    /// Gradient buffers shaped like the parameters.
    pub fn zero_grads(&self) -> Vec<Linear<F>> {
        self.layers.iter().map(Linear::zeros_like).collect()
    }

    pub fn cast<G: Real>(&self) -> Mlp<G> {
        Mlp { layers: self.layers.iter().map(Linear::cast).collect(), activation: self.activation }
    }

    /// Forward pass of one shard; hidden layer l lives at `hidden[l * stride * H..]`.
    fn shard_forward(
        &self,
        packed: &Packed,
        (x, condition): (&[F], &[F]),
        hidden: &mut [F],
        slopes: &mut [F],
        stride: usize,
        out: &mut [F],
    ) {
        let (rows, h, depth) = (x.len() / 2, self.width(), self.depth());
        let (n, region) = (rows * h, stride * h);
        let input = (x, condition);
        ops::input_layer(&self.layers[0], packed, self.activation, input, &mut hidden[..n], Some(&mut slopes[..n]));
        for l in 1..depth {
            let (before, after) = hidden.split_at_mut(l * region);
            let (a, z, slope) = (&before[(l - 1) * region..][..n], &mut after[..n], &mut slopes[l * region..][..n]);
            ops::dense(&self.layers[l], packed, l - 1, self.activation, rows, a, z, Some(slope));
        }
        ops::output_layer(&self.layers[depth], &hidden[(depth - 1) * region..][..n], out);
    }

    /// Forward pass, loss and backward pass in one go, shard by shard, for the first `rows`
    /// rows of `ws.input`: `loss(rows, scores, out_grad)` is called with each shard's row
    /// range and scores, writes ∂L/∂s for those rows and returns their part of the loss. The
    /// parts are summed in shard order and returned; `grads` is overwritten with ∂L/∂θ, and
    /// [`Workspace::output`] and [`Workspace::input_grad`] hold the scores and ∂L/∂x. One
    /// fork-join per step: a forward pass, then a backward one, woke the second thread twice.
    pub fn forward_backward(
        &self,
        ws: &mut Workspace<F>,
        rows: usize,
        out_grad: &mut [F],
        grads: &mut [Linear<F>],
        loss: impl Fn(std::ops::Range<usize>, &[F], &mut [F]) -> F + Sync,
    ) -> F {
        assert!(rows <= ws.capacity, "batch of {rows} rows exceeds workspace capacity {}", ws.capacity);
        ws.rows = rows;
        // The threads are judged on the whole step from here: packing the weights the partner
        // then reads, and summing the gradients it wrote, is where moving data between cores
        // costs (see `Threading`).
        let started = std::time::Instant::now();
        ws.packed.pack(&self.layers);
        if rows == 0 {
            grads.iter_mut().for_each(|g| g.tensors_mut().into_iter().for_each(|t| t.fill(F::zero())));
            return F::zero();
        }
        let (shards, per_shard) = shard_layout(rows, self.width());
        let h = self.width();
        let region = self.depth() * per_shard * h;
        let Workspace {
            input,
            condition,
            output,
            input_grad,
            hidden,
            slopes,
            delta,
            delta_next,
            column_grads,
            partials,
            losses,
            packed,
            threading,
            partner,
            ..
        } = ws;
        let (x, out) = (&slice(input)[..2 * rows], &mut slice_mut(output)[..2 * rows]);
        let condition = &condition[..rows];
        let (out_grad, input_grad) = (&mut out_grad[..2 * rows], &mut slice_mut(input_grad)[..2 * rows]);
        let shard = |first_row: usize,
                     (x, c, out, og): (&[F], &[F], &mut [F], &mut [F]),
                     (hidden, slopes): (&mut [F], &mut [F]),
                     scratch: (&mut [F], &mut [F], &mut [F]),
                     grads: &mut [Linear<F>],
                     input_grad: &mut [F]| {
            self.shard_forward(packed, (x, c), hidden, slopes, per_shard, out);
            let part = loss(first_row..first_row + x.len() / 2, out, og);
            self.shard_backward(packed, (x, c, og), (hidden, slopes, per_shard), scratch, grads, input_grad);
            part
        };
        if shards == 1 {
            // One shard writes straight into `grads`: no copy, no fork-join.
            let scratch = (&mut delta[..], &mut delta_next[..], &mut column_grads[..]);
            return shard(0, (x, condition, out, out_grad), (hidden, slopes), scratch, grads, input_grad);
        }
        let rows_of = |width: usize| width * per_shard;
        let parallel = threading.parallel();
        let partner = match partner {
            Some(p) => p.as_ref(),
            // Only a two-shard batch on a machine with a second core needs one.
            None if shards == 2 && rayon::current_num_threads() > 1 => partner.insert(Partner::spawn().ok()).as_ref(),
            None => None,
        };
        if let Some(partner) = partner.filter(|_| parallel && shards == 2) {
            // The same two shards as the rayon path below, cut at the same places.
            let ((x0, x1), (c0, c1)) = (x.split_at(rows_of(2)), condition.split_at(per_shard));
            let ((out0, out1), (og0, og1)) = (out.split_at_mut(rows_of(2)), out_grad.split_at_mut(rows_of(2)));
            let ((hid0, hid1), (slo0, slo1)) = (hidden.split_at_mut(region), slopes.split_at_mut(region));
            let ((d0, d1), (dn0, dn1)) = (delta.split_at_mut(rows_of(h)), delta_next.split_at_mut(rows_of(h)));
            let (cg0, cg1) = column_grads.split_at_mut(COLUMN_GRADS * h);
            let ((p0, p1), (ig0, ig1)) = (partials.split_at_mut(1), input_grad.split_at_mut(rows_of(2)));
            let (l0, l1) = losses.split_at_mut(1);
            let shard = &shard;
            partner.join(
                || l0[0] = shard(0, (x0, c0, out0, og0), (hid0, slo0), (d0, dn0, cg0), &mut p0[0], ig0),
                || {
                    let (hid1, slo1) = (&mut hid1[..region], &mut slo1[..region]);
                    let (d1, dn1, cg1) = (&mut d1[..rows_of(h)], &mut dn1[..rows_of(h)], &mut cg1[..COLUMN_GRADS * h]);
                    l1[0] = shard(per_shard, (x1, c1, out1, og1), (hid1, slo1), (d1, dn1, cg1), &mut p1[0], ig1);
                },
            );
            sum_in_order(&partials[..shards], grads);
            threading.record(started.elapsed());
            return losses[0] + losses[1];
        }
        x.par_chunks(rows_of(2))
            .zip(condition.par_chunks(rows_of(1)))
            .zip(out.par_chunks_mut(rows_of(2)).zip(out_grad.par_chunks_mut(rows_of(2))))
            .zip(hidden.par_chunks_mut(region).zip(slopes.par_chunks_mut(region)))
            .zip(delta.par_chunks_mut(rows_of(h)).zip(delta_next.par_chunks_mut(rows_of(h))))
            .zip(column_grads.par_chunks_mut(COLUMN_GRADS * h).zip(partials.par_iter_mut()))
            .zip(input_grad.par_chunks_mut(rows_of(2)).zip(losses.par_iter_mut()))
            .enumerate()
            // No split below `shards` items: the shards run in order on this thread.
            .with_min_len(if parallel { 1 } else { shards })
            .for_each(|(s, ((((((x, c), (out, og)), (hid, slo)), (d, dn)), (cg, part)), (ig, loss)))| {
                *loss = shard(s * per_shard, (x, c, out, og), (hid, slo), (d, dn, cg), part, ig);
            });
        sum_in_order(&partials[..shards], grads);
        threading.record(started.elapsed());
        losses[..shards].iter().fold(F::zero(), |total, &part| total + part)
    }

    /// Backward pass of one shard (buffers as [`shard_forward`](Self::shard_forward) left them).
    #[allow(clippy::type_complexity)]
    fn shard_backward(
        &self,
        packed: &Packed,
        (x, condition, out_grad): (&[F], &[F], &[F]),
        (hidden, slopes, stride): (&[F], &[F], usize),
        (delta, delta_next, column_grads): (&mut [F], &mut [F], &mut [F]),
        grads: &mut [Linear<F>],
        input_grad: &mut [F],
    ) {
        let (rows, h, depth) = (x.len() / 2, self.width(), self.depth());
        let (n, region) = (rows * h, stride * h);
        let at = |l: usize| l * region..l * region + n;
        let (mut delta, mut delta_next) = (&mut delta[..n], &mut delta_next[..n]);
        let last = at(depth - 1);
        ops::output_backward(
            &self.layers[depth],
            &hidden[last.clone()],
            &slopes[last],
            out_grad,
            &mut grads[depth],
            delta,
        );
        for l in (1..depth).rev() {
            let below = at(l - 1);
            ops::dense_backward(
                &self.layers[l],
                packed,
                l - 1,
                rows,
                &hidden[below.clone()],
                &slopes[below],
                delta,
                &mut grads[l],
                delta_next,
            );
            std::mem::swap(&mut delta, &mut delta_next);
        }
        ops::input_backward(&self.layers[0], packed, (x, condition), delta, &mut grads[0], column_grads, input_grad);
    }

    /// Inference: scores of `x` (`[rows, 2]`) into `out`, using `scratch` for the hidden
    /// layers. No derivatives kept, no allocation.
    pub fn forward(&self, x: ArrayView2<F>, out: &mut ArrayViewMut2<F>, scratch: &mut Scratch<F>) {
        scratch.packed.pack(&self.layers);
        infer(&self.layers, self.activation, (x, &[]), out, scratch);
    }

    /// Inference of a noise-conditional network: the raw outputs at `x` with the third input
    /// `condition[i]` per row.
    pub fn forward_conditional(
        &self,
        x: ArrayView2<F>,
        condition: &[F],
        out: &mut ArrayViewMut2<F>,
        scratch: &mut Scratch<F>,
    ) {
        scratch.packed.pack(&self.layers);
        infer(&self.layers, self.activation, (x, condition), out, scratch);
    }

    /// A frozen copy of this network laid out for fast repeated inference on up to
    /// `capacity` rows (what the sampler uses: it packs the weights once, not every step).
    pub fn evaluator(&self, capacity: usize) -> Evaluator<F> {
        let mut scratch = Scratch::new(self, capacity);
        scratch.packed.pack(&self.layers);
        Evaluator { model: self.clone(), scratch }
    }

    /// [`evaluator`](Self::evaluator) with its H → H products in bf16 (`nn::cpu::kernels::bf16`):
    /// faster, not the same bits. The caller checks [`Precision::unavailable`] first.
    pub fn evaluator_bf16(&self, capacity: usize) -> Evaluator<F> {
        // The bf16 tile always applies SiLU: another activation would be computed wrongly.
        if let Some(accepted) = Precision::Bf16.unavailable(self.width(), self.activation) {
            panic!("this network cannot be evaluated in bf16: --sample-precision accepts {accepted}");
        }
        let mut evaluator = self.evaluator(capacity);
        evaluator.scratch.packed.pack_bf16(&self.layers);
        evaluator.scratch.pairs = vec![0; capacity * self.width() / 2];
        evaluator
    }

    /// The evaluator of [`Precision`] `precision`.
    pub fn evaluator_in(&self, capacity: usize, precision: Precision) -> Evaluator<F> {
        match precision {
            Precision::F32 => self.evaluator(capacity),
            Precision::Bf16 => self.evaluator_bf16(capacity),
        }
    }

    /// Convenience for tests and small evaluations: scores of `x`, allocating.
    pub fn scores(&self, x: ArrayView2<F>) -> Array2<F> {
        let mut out = Array2::zeros((x.nrows(), DIM));
        let mut scratch = Scratch::new(self, x.nrows());
        self.forward(x, &mut out.view_mut(), &mut scratch);
        out
    }
}

/// The inference pass over `scratch`, whose packed weights must be those of `layers`.
fn infer<F: Real>(
    layers: &[Linear<F>],
    activation: Activation,
    (x, condition): (ArrayView2<F>, &[F]),
    out: &mut ArrayViewMut2<F>,
    scratch: &mut Scratch<F>,
) {
    let rows = x.nrows();
    assert!(layers[0].inputs() == 2 || condition.len() == rows, "a conditional network needs one condition per row");
    assert!(rows <= scratch.capacity, "{rows} rows exceed scratch capacity {}", scratch.capacity);
    debug_assert_eq!(out.dim(), (rows, DIM));
    let depth = layers.len() - 1;
    let n = rows * layers[0].outputs();
    let Scratch { front, back, packed, pairs, .. } = scratch;
    let x = x.as_standard_layout();
    let (mut current, mut next) = (&mut front[..n], &mut back[..n]);
    let x = (x.as_slice().expect("standard layout"), condition);
    ops::input_layer(&layers[0], packed, activation, x, current, None);
    for (l, layer) in layers[1..depth].iter().enumerate() {
        if packed.is_bf16() {
            ops::dense_bf16(layer, packed, l, rows, current, pairs, next);
        } else {
            ops::dense(layer, packed, l, activation, rows, current, next, None);
        }
        std::mem::swap(&mut current, &mut next);
    }
    match out.as_slice_mut() {
        Some(out) => ops::output_layer(&layers[depth], current, out),
        None => {
            let mut tmp = Array2::zeros((rows, DIM));
            ops::output_layer(&layers[depth], current, tmp.as_slice_mut().expect("fresh array"));
            out.assign(&tmp);
        }
    }
}

/// grads = Σ partials, summed in shard order whatever thread computed each.
fn sum_in_order<F: Real>(partials: &[Vec<Linear<F>>], grads: &mut [Linear<F>]) {
    for (l, grad) in grads.iter_mut().enumerate() {
        for (t, target) in grad.tensors_mut().into_iter().enumerate() {
            target.copy_from_slice(partials[0][l].tensors()[t]);
            for part in &partials[1..] {
                ops::add(part[l].tensors()[t], target);
            }
        }
    }
}

fn slice<F>(a: &Array2<F>) -> &[F] {
    a.as_slice().expect("workspace buffers are row-major")
}

fn slice_mut<F>(a: &mut Array2<F>) -> &mut [F] {
    a.as_slice_mut().expect("workspace buffers are row-major")
}

/// Whether [`Mlp::forward_backward`] runs a batch's shards on rayon's threads or one after
/// another on the calling thread, chosen by timing both now and then. The result is the same
/// bits either way (fixed shards, summed in order), so only speed decides. On a quiet machine
/// the threads win; when another process holds the other core, a shard stolen by a thread
/// that then loses its core stalls the whole step, and the calling thread alone wins. Each
/// step is timed whole, from packing the weights to summing the gradients: when the two cores
/// are far apart (a virtual machine's vCPUs on different chiplets, ~400 ns a cache-line round
/// trip instead of 50–100) a small step's shards finish sooner on two threads, but fetching
/// the weights and the partner's gradients across costs more than that saves.
#[derive(Clone, Debug, Default)]
struct Threading {
    /// Steps taken since the last probe began.
    step: u32,
    serial: std::time::Duration,
    threaded: std::time::Duration,
    use_threads: bool,
    /// The chosen way's mean step time in its probe, and its time in the current window.
    chosen: std::time::Duration,
    window: std::time::Duration,
}

impl Threading {
    /// Steps timed each way before deciding.
    const PROBE: u32 = 8;
    /// Steps between probes (probing the losing way costs PROBE of them).
    const PERIOD: u32 = 256;
    /// Steps per check of the chosen way: when a window's mean is 1.5× its probe's, the load
    /// has changed, and the probe is run again without waiting for the period to end.
    const WINDOW: u32 = 32;

    fn parallel(&self) -> bool {
        match self.step {
            s if s < Self::PROBE => false,
            s if s < 2 * Self::PROBE => true,
            _ => self.use_threads,
        }
    }

    fn record(&mut self, elapsed: std::time::Duration) {
        match self.step {
            s if s < Self::PROBE => self.serial += elapsed,
            s if s < 2 * Self::PROBE => self.threaded += elapsed,
            _ => self.window += elapsed,
        }
        self.step += 1;
        if self.step == 2 * Self::PROBE {
            self.use_threads = self.threaded < self.serial;
            self.chosen = self.threaded.min(self.serial) / Self::PROBE;
            (self.serial, self.threaded, self.window) = Default::default();
        } else if self.step > 2 * Self::PROBE && (self.step - 2 * Self::PROBE).is_multiple_of(Self::WINDOW) {
            let slower = self.window / Self::WINDOW > self.chosen * 3 / 2;
            self.window = Default::default();
            if slower {
                self.step = 0;
            }
        }
        if self.step == Self::PERIOD {
            self.step = 0;
        }
    }
}

/// Buffers of one training forward + backward pass, for batches of up to `capacity` rows.
pub struct Workspace<F> {
    capacity: usize,
    rows: usize,
    /// `[capacity, 2]`: the network input; fill with [`Workspace::input_mut`].
    input: Array2<F>,
    /// `[capacity]`: a noise-conditional network's third input (log σ) per row; zeros
    /// otherwise. Fill with [`Workspace::condition_mut`].
    condition: Vec<F>,
    /// `[capacity, 2]`: the scores of the last forward pass.
    output: Array2<F>,
    /// `[capacity, 2]`: ∂L/∂x of the last backward pass.
    input_grad: Array2<F>,
    /// Per shard, `depth × [rows per shard, H]`: each hidden layer's activation f(z).
    hidden: Vec<F>,
    /// Laid out as `hidden`: f′(z) at each hidden layer.
    slopes: Vec<F>,
    /// Per shard `[rows per shard, H]`: δ of the layer being back-propagated, and the next.
    delta: Vec<F>,
    delta_next: Vec<F>,
    /// Per shard `[COLUMN_GRADS, H]`: the input layer's weight gradient, column by column.
    column_grads: Vec<F>,
    /// Per shard (when a batch has more than one): that shard's parameter gradients.
    partials: Vec<Vec<Linear<F>>>,
    /// Per shard: its part of the loss in [`Mlp::forward_backward`].
    losses: Vec<F>,
    threading: Threading,
    /// The second thread of two-shard batches ([`Partner`]): `None` until one is needed,
    /// `Some(None)` if it could not be started (rayon's threads serve instead).
    partner: Option<Option<Partner>>,
    packed: Packed,
}

impl<F: Real> Workspace<F> {
    pub fn new(model: &Mlp<F>, capacity: usize) -> Self {
        let (width, depth) = (model.width(), model.depth());
        // Rounding each shard up to whole rows can overshoot `capacity` by < MAX_SHARDS rows.
        let rows = capacity + MAX_SHARDS;
        let (shards, _) = shard_layout(capacity, width);
        Self {
            capacity,
            rows: 0,
            input: Array2::zeros((capacity, DIM)),
            condition: vec![F::zero(); capacity],
            output: Array2::zeros((capacity, DIM)),
            input_grad: Array2::zeros((capacity, DIM)),
            hidden: vec![F::zero(); depth * rows * width],
            slopes: vec![F::zero(); depth * rows * width],
            delta: vec![F::zero(); rows * width],
            delta_next: vec![F::zero(); rows * width],
            column_grads: vec![F::zero(); MAX_SHARDS * COLUMN_GRADS * width],
            partials: if shards > 1 { (0..shards).map(|_| model.zero_grads()).collect() } else { Vec::new() },
            losses: vec![F::zero(); shards],
            threading: Threading::default(),
            partner: None,
            packed: Packed::default(),
        }
    }
    /// The first `rows` conditions (log σ per row) of a noise-conditional network's input.
    pub fn condition_mut(&mut self, rows: usize) -> &mut [F] {
        &mut self.condition[..rows]
    }

    /// The first `rows` rows of the input buffer, to be filled before `forward_backward`.
    pub fn input_mut(&mut self, rows: usize) -> ArrayViewMut2<'_, F> {
        self.input.slice_mut(s![..rows, ..])
    }

    /// The scores of the last forward pass, `[rows, 2]`.
    pub fn output(&self) -> ArrayView2<'_, F> {
        self.output.slice(s![..self.rows, ..])
    }

    /// ∂L/∂x from the last backward pass, `[rows, 2]`.
    pub fn input_grad(&self) -> ArrayView2<'_, F> {
        self.input_grad.slice(s![..self.rows, ..])
    }
}

/// Two ping-pong hidden buffers for inference on up to `capacity` rows, and room for the
/// weights in the kernels' layout (and, for bf16 inference, the activations in bf16 pairs).
pub struct Scratch<F> {
    capacity: usize,
    front: Vec<F>,
    back: Vec<F>,
    packed: Packed,
    pairs: Vec<u32>,
}

impl<F: Real> Scratch<F> {
    pub fn new(model: &Mlp<F>, capacity: usize) -> Self {
        let len = capacity * model.width();
        Self {
            capacity,
            front: vec![F::zero(); len],
            back: vec![F::zero(); len],
            packed: Packed::default(),
            pairs: Vec::new(),
        }
    }
}

/// The arithmetic of sampling's H → H products: f32 (the default, the same bits on every
/// CPU) or bf16 operands summed in f32 (`--sample-precision bf16`: about twice the product's
/// speed where the CPU has AVX512-BF16; quality measured in `docs/samplers.md`). Training is
/// always f32.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    #[default]
    F32,
    Bf16,
}

impl Precision {
    /// When a network of this width and activation cannot sample at this precision on this
    /// CPU: what `--sample-precision` accepts instead, as a phrase for the error line.
    pub fn unavailable(self, width: usize, activation: Activation) -> Option<String> {
        match self {
            Precision::F32 => None,
            Precision::Bf16 => ops::bf16_sampling_error(width, activation),
        }
    }
}

/// A snapshot of a network's weights, packed once, with its inference buffers: later
/// changes to the network do not reach it. See [`Mlp::evaluator`].
pub struct Evaluator<F> {
    model: Mlp<F>,
    scratch: Scratch<F>,
}

impl<F: Real> Evaluator<F> {
    /// Scores of `x` (`[rows, 2]`, rows ≤ capacity) into `out`; no allocation.
    pub fn scores(&mut self, x: ArrayView2<F>, out: &mut ArrayViewMut2<F>) {
        infer(&self.model.layers, self.model.activation, (x, &[]), out, &mut self.scratch);
    }

    /// As [`Mlp::forward_conditional`], with the weights packed once.
    pub fn scores_conditional(&mut self, x: ArrayView2<F>, condition: &[F], out: &mut ArrayViewMut2<F>) {
        infer(&self.model.layers, self.model.activation, (x, condition), out, &mut self.scratch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::Xoshiro256PlusPlus;

    /// 2 → 3 → 3 → 2: (2·3 + 3) + (3·3 + 3) + (3·2 + 2) = 29 weights and biases; a third
    /// input adds one weight per hidden unit: 32.
    #[test]
    fn parameters_counted_by_hand() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        assert_eq!(Mlp::<f64>::init(3, 2, Activation::Silu, &mut rng).parameter_count(), 29);
        assert_eq!(Mlp::<f64>::init_conditional(3, 2, Activation::Silu, &mut rng).parameter_count(), 32);
    }

    /// A shard holds at least max(64, 2²⁰/H²) rows, and a batch at most 8 shards, cut evenly.
    /// The probe keeps whichever way its steps took less time, and probes again when the
    /// chosen way slows by half.
    #[test]
    fn threading_keeps_the_faster_way_and_reprobes_when_it_slows() {
        let us = std::time::Duration::from_micros;
        let probe = |threading: &mut Threading, serial, threaded| {
            for step in 0..2 * Threading::PROBE {
                assert_eq!(threading.parallel(), step >= Threading::PROBE, "step {step} of the probe");
                threading.record(if step < Threading::PROBE { serial } else { threaded });
            }
        };
        let mut threading = Threading::default();
        // Cores far apart: two threads' steps take longer than one's.
        probe(&mut threading, us(75), us(86));
        assert!(!threading.parallel());
        for _ in 0..Threading::WINDOW {
            threading.record(us(76));
        }
        assert!(!threading.parallel(), "a steady step keeps the choice");
        // Another process takes this core: the serial steps double, so the probe runs again.
        for _ in 0..Threading::WINDOW {
            threading.record(us(150));
        }
        probe(&mut threading, us(150), us(46));
        assert!(threading.parallel());
    }

    #[test]
    fn shard_layouts_by_hand() {
        let cases = [
            // Width 128: 2²⁰/128² = 64 rows a shard.
            ((10, 128), (1, 10)),
            ((150, 128), (3, 50)),
            ((1000, 128), (8, 125)),
            // Width 64: 2²⁰/64² = 256 rows.
            ((300, 64), (2, 150)),
            ((512, 64), (2, 256)),
            // Width 32: 1024 rows, more than the batch.
            ((1000, 32), (1, 1000)),
            // Width 512: 4 rows by work, so 64; the last shard is shorter (130 = 44 + 44 + 42).
            ((130, 512), (3, 44)),
        ];
        for ((rows, width), want) in cases {
            assert_eq!(shard_layout(rows, width), want, "{rows} rows at width {width}");
        }
    }
}
