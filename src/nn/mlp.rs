//! The score network s_θ: ℝ² → ℝ², an MLP 2 → H → … → H → 2 (`depth` hidden layers of
//! width H, a smooth activation after each), with a hand-written backward pass.
//!
//! Shapes: a batch is `[rows, 2]`; hidden activations are `[rows, H]`, row-major. The
//! H × H layers go through `ndarray`'s GEMM; the skinny 2-wide first and last layers are
//! plain loops, where a GEMM library gains nothing. All buffers live in a [`Workspace`]
//! (training) or [`Scratch`] (inference), allocated once and reused every step.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, ArrayViewMut2, s};
use rand::Rng;

use super::{Activation, Linear, Real};

/// Data dimension: the models here map the plane to the plane.
pub const DIM: usize = 2;

#[derive(Clone, Debug, PartialEq)]
pub struct Mlp<F> {
    /// `layers[0]`: 2 → H; `layers[1..depth]`: H → H; `layers[depth]`: H → 2.
    pub layers: Vec<Linear<F>>,
    pub activation: Activation,
}

impl<F: Real> Mlp<F> {
    pub fn init(width: usize, depth: usize, activation: Activation, rng: &mut impl Rng) -> Self {
        assert!(width > 0 && depth > 0, "width and depth are validated to be positive");
        let mut layers = vec![Linear::init(DIM, width, rng)];
        for _ in 1..depth {
            layers.push(Linear::init(width, width, rng));
        }
        layers.push(Linear::init(width, DIM, rng));
        Self { layers, activation }
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

    /// Training forward pass over the first `rows` rows of `ws.input`, keeping what the
    /// backward pass needs. Returns the scores `[rows, 2]`.
    pub fn forward_train<'w>(&self, ws: &'w mut Workspace<F>, rows: usize) -> ArrayView2<'w, F> {
        assert!(rows <= ws.capacity, "batch of {rows} rows exceeds workspace capacity {}", ws.capacity);
        ws.rows = rows;
        let depth = self.depth();
        let input = ws.input.slice(s![..rows, ..]);
        let mut first = ws.hidden[0].slice_mut(s![..rows, ..]);
        input_layer(&self.layers[0], input, &mut first);
        self.activation
            .apply_with_slope(as_slice_mut(&mut first), as_slice_mut(&mut ws.slopes[0].slice_mut(s![..rows, ..])));
        for l in 1..depth {
            let (before, after) = ws.hidden.split_at_mut(l);
            let mut z = after[0].slice_mut(s![..rows, ..]);
            hidden_layer(&self.layers[l], before[l - 1].slice(s![..rows, ..]), &mut z);
            self.activation
                .apply_with_slope(as_slice_mut(&mut z), as_slice_mut(&mut ws.slopes[l].slice_mut(s![..rows, ..])));
        }
        let last = ws.hidden[depth - 1].slice(s![..rows, ..]);
        output_layer(&self.layers[depth], last, &mut ws.output.slice_mut(s![..rows, ..]));
        ws.output.slice(s![..rows, ..])
    }

    /// Backward pass for the last [`forward_train`](Self::forward_train): given
    /// ∂L/∂s (`[rows, 2]`), overwrites `grads` with ∂L/∂θ and `ws.input_grad` with ∂L/∂x.
    pub fn backward(&self, out_grad: ArrayView2<F>, ws: &mut Workspace<F>, grads: &mut [Linear<F>]) {
        let rows = ws.rows;
        debug_assert_eq!(out_grad.dim(), (rows, DIM));
        let depth = self.depth();
        let Workspace { input, hidden, slopes, delta, delta_next, input_grad, .. } = ws;
        let mut delta = delta.slice_mut(s![..rows, ..]);
        let mut delta_next = delta_next.slice_mut(s![..rows, ..]);

        output_layer_backward(
            &self.layers[depth],
            hidden[depth - 1].slice(s![..rows, ..]),
            out_grad,
            &mut grads[depth],
            &mut delta,
        );
        multiply_in_place(&mut delta, slopes[depth - 1].slice(s![..rows, ..]));
        for l in (1..depth).rev() {
            hidden_layer_backward(
                &self.layers[l],
                hidden[l - 1].slice(s![..rows, ..]),
                delta.view(),
                &mut grads[l],
                &mut delta_next,
            );
            multiply_in_place(&mut delta_next, slopes[l - 1].slice(s![..rows, ..]));
            std::mem::swap(&mut delta, &mut delta_next);
        }
        input_layer_backward(
            &self.layers[0],
            input.slice(s![..rows, ..]),
            delta.view(),
            &mut grads[0],
            &mut input_grad.slice_mut(s![..rows, ..]),
        );
    }

    /// Inference: scores of `x` (`[rows, 2]`) into `out`, using `scratch` for the hidden
    /// layers. No derivatives kept, no allocation.
    pub fn forward(&self, x: ArrayView2<F>, out: &mut ArrayViewMut2<F>, scratch: &mut Scratch<F>) {
        let rows = x.nrows();
        assert!(rows <= scratch.capacity, "{rows} rows exceed scratch capacity {}", scratch.capacity);
        let depth = self.depth();
        let [mut current, mut next] = [&mut scratch.front, &mut scratch.back];
        let mut z = current.slice_mut(s![..rows, ..]);
        input_layer(&self.layers[0], x, &mut z);
        self.activation.apply(as_slice_mut(&mut z));
        for layer in &self.layers[1..depth] {
            let mut z = next.slice_mut(s![..rows, ..]);
            hidden_layer(layer, current.slice(s![..rows, ..]), &mut z);
            self.activation.apply(as_slice_mut(&mut z));
            std::mem::swap(&mut current, &mut next);
        }
        output_layer(&self.layers[depth], current.slice(s![..rows, ..]), out);
    }

    /// Convenience for tests and small evaluations: scores of `x`, allocating.
    pub fn scores(&self, x: ArrayView2<F>) -> Array2<F> {
        let mut out = Array2::zeros((x.nrows(), DIM));
        let mut scratch = Scratch::new(self, x.nrows());
        self.forward(x, &mut out.view_mut(), &mut scratch);
        out
    }
}

/// Buffers of one training forward + backward pass, for batches of up to `capacity` rows.
pub struct Workspace<F> {
    capacity: usize,
    rows: usize,
    /// `[capacity, 2]`: the network input; fill with [`Workspace::input_mut`].
    input: Array2<F>,
    /// `depth × [capacity, H]`: each hidden layer's activation f(z).
    hidden: Vec<Array2<F>>,
    /// `depth × [capacity, H]`: f′(z) at each hidden layer.
    slopes: Vec<Array2<F>>,
    output: Array2<F>,
    delta: Array2<F>,
    delta_next: Array2<F>,
    input_grad: Array2<F>,
}

impl<F: Real> Workspace<F> {
    pub fn new(model: &Mlp<F>, capacity: usize) -> Self {
        let (width, depth) = (model.width(), model.depth());
        let hidden_buffers = || (0..depth).map(|_| Array2::zeros((capacity, width))).collect();
        Self {
            capacity,
            rows: 0,
            input: Array2::zeros((capacity, DIM)),
            hidden: hidden_buffers(),
            slopes: hidden_buffers(),
            output: Array2::zeros((capacity, DIM)),
            delta: Array2::zeros((capacity, width)),
            delta_next: Array2::zeros((capacity, width)),
            input_grad: Array2::zeros((capacity, DIM)),
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The first `rows` rows of the input buffer, to be filled before `forward_train`.
    pub fn input_mut(&mut self, rows: usize) -> ArrayViewMut2<'_, F> {
        self.input.slice_mut(s![..rows, ..])
    }

    /// ∂L/∂x from the last backward pass, `[rows, 2]`.
    pub fn input_grad(&self) -> ArrayView2<'_, F> {
        self.input_grad.slice(s![..self.rows, ..])
    }

    /// Scores from the last training forward pass, `[rows, 2]`.
    pub fn output(&self) -> ArrayView2<'_, F> {
        self.output.slice(s![..self.rows, ..])
    }
}

/// Two ping-pong hidden buffers for inference on up to `capacity` rows.
pub struct Scratch<F> {
    capacity: usize,
    front: Array2<F>,
    back: Array2<F>,
}

impl<F: Real> Scratch<F> {
    pub fn new(model: &Mlp<F>, capacity: usize) -> Self {
        Self {
            capacity,
            front: Array2::zeros((capacity, model.width())),
            back: Array2::zeros((capacity, model.width())),
        }
    }
}

fn as_slice_mut<'a, F>(view: &'a mut ArrayViewMut2<F>) -> &'a mut [F] {
    view.as_slice_mut().expect("row slices of row-major buffers are contiguous")
}

/// z[i, :] = b + x[i, 0]·W[:, 0] + x[i, 1]·W[:, 1]  (W is `[H, 2]`).
fn input_layer<F: Real>(layer: &Linear<F>, x: ArrayView2<F>, z: &mut ArrayViewMut2<F>) {
    let (w0, w1) = (layer.weight.column(0), layer.weight.column(1));
    for (xi, mut zi) in x.rows().into_iter().zip(z.rows_mut()) {
        let (x0, x1) = (xi[0], xi[1]);
        for (((z, &b), &a0), &a1) in zi.iter_mut().zip(&layer.bias).zip(&w0).zip(&w1) {
            *z = b + x0 * a0 + x1 * a1;
        }
    }
}

/// z = a·Wᵀ + b through the GEMM.
fn hidden_layer<F: Real>(layer: &Linear<F>, a: ArrayView2<F>, z: &mut ArrayViewMut2<F>) {
    z.rows_mut().into_iter().for_each(|mut row| row.assign(&layer.bias));
    general_mat_mul(F::one(), &a, &layer.weight.t(), F::one(), z);
}

/// out[i, k] = b[k] + ⟨a[i, :], W[k, :]⟩  (W is `[2, H]`).
fn output_layer<F: Real>(layer: &Linear<F>, a: ArrayView2<F>, out: &mut ArrayViewMut2<F>) {
    let (w0, w1) = (layer.weight.row(0), layer.weight.row(1));
    for (ai, mut oi) in a.rows().into_iter().zip(out.rows_mut()) {
        let (mut s0, mut s1) = (layer.bias[0], layer.bias[1]);
        for ((&a, &u), &v) in ai.iter().zip(&w0).zip(&w1) {
            s0 += a * u;
            s1 += a * v;
        }
        oi[0] = s0;
        oi[1] = s1;
    }
}

fn output_layer_backward<F: Real>(
    layer: &Linear<F>,
    a: ArrayView2<F>,
    out_grad: ArrayView2<F>,
    grad: &mut Linear<F>,
    delta: &mut ArrayViewMut2<F>,
) {
    grad.weight.fill(F::zero());
    grad.bias.fill(F::zero());
    let (w0, w1) = (layer.weight.row(0), layer.weight.row(1));
    for ((ai, gi), mut di) in a.rows().into_iter().zip(out_grad.rows()).zip(delta.rows_mut()) {
        let (g0, g1) = (gi[0], gi[1]);
        grad.bias[0] += g0;
        grad.bias[1] += g1;
        grad.weight.row_mut(0).scaled_add(g0, &ai);
        grad.weight.row_mut(1).scaled_add(g1, &ai);
        for ((d, &u), &v) in di.iter_mut().zip(&w0).zip(&w1) {
            *d = g0 * u + g1 * v;
        }
    }
}

fn hidden_layer_backward<F: Real>(
    layer: &Linear<F>,
    a_prev: ArrayView2<F>,
    delta: ArrayView2<F>,
    grad: &mut Linear<F>,
    delta_prev: &mut ArrayViewMut2<F>,
) {
    general_mat_mul(F::one(), &delta.t(), &a_prev, F::zero(), &mut grad.weight);
    column_sums(delta, &mut grad.bias);
    general_mat_mul(F::one(), &delta, &layer.weight, F::zero(), delta_prev);
}

fn input_layer_backward<F: Real>(
    layer: &Linear<F>,
    x: ArrayView2<F>,
    delta: ArrayView2<F>,
    grad: &mut Linear<F>,
    input_grad: &mut ArrayViewMut2<F>,
) {
    grad.weight.fill(F::zero());
    column_sums(delta, &mut grad.bias);
    let (w0, w1) = (layer.weight.column(0), layer.weight.column(1));
    for ((xi, di), mut gi) in x.rows().into_iter().zip(delta.rows()).zip(input_grad.rows_mut()) {
        let (mut s0, mut s1) = (F::zero(), F::zero());
        for (((&d, &u), &v), mut gw) in di.iter().zip(&w0).zip(&w1).zip(grad.weight.rows_mut()) {
            s0 += d * u;
            s1 += d * v;
            gw[0] += d * xi[0];
            gw[1] += d * xi[1];
        }
        gi[0] = s0;
        gi[1] = s1;
    }
}

fn column_sums<F: Real>(m: ArrayView2<F>, out: &mut ndarray::Array1<F>) {
    out.fill(F::zero());
    for row in m.rows() {
        *out += &row;
    }
}

fn multiply_in_place<F: Real>(target: &mut ArrayViewMut2<F>, factor: ArrayView2<F>) {
    *target *= &factor;
}
