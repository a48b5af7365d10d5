//! The layer operations of the MLP on flat row-major slices, generic over the float type.
//!
//! Each operation takes the `f32` kernels of [`super::kernels`] when the element type is
//! `f32` and the CPU has AVX2 + FMA, and otherwise the portable path (ndarray's GEMM and
//! plain loops) — which is what the f64 gradient checks exercise. Shapes (row-major):
//! a batch of `rows`, hidden width `h`, the weight of a layer `[out, in]` as `Linear` keeps it.

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2};

use super::kernels::{self, Epilogue, NR, Panels, RowWeights, Strided, loops};
use crate::nn::{Activation, Linear, Real};

/// `s` as `f32`s when `F` is `f32` and the kernels can run.
fn fast<F: Real>(s: &[F]) -> Option<&[f32]> {
    if kernels::available() { F::as_f32(s) } else { None }
}

fn fast_mut<F: Real>(s: &mut [F]) -> Option<&mut [f32]> {
    if kernels::available() { F::as_f32_mut(s) } else { None }
}

fn weights<F: Real>(layer: &Linear<F>) -> &[F] {
    layer.weight.as_slice().expect("weight is contiguous")
}

fn bias<F: Real>(layer: &Linear<F>) -> &[F] {
    layer.bias.as_slice().expect("bias is contiguous")
}

fn view<F>(data: &[F], rows: usize, cols: usize) -> ArrayView2<'_, F> {
    ArrayView2::from_shape((rows, cols), &data[..rows * cols]).expect("row-major buffer of rows × cols")
}

fn view_mut<F>(data: &mut [F], rows: usize, cols: usize) -> ArrayViewMut2<'_, F> {
    ArrayViewMut2::from_shape((rows, cols), &mut data[..rows * cols]).expect("row-major buffer of rows × cols")
}

/// The weights of a model laid out for the `f32` kernels: the input layer's columns split
/// apart (`[inputs, H]`, i.e. W₁ᵀ) and each hidden layer's Wᵀ in panels. Empty (and
/// unused) on the portable path.
#[derive(Clone, Debug, Default)]
pub struct Packed {
    input_columns: Vec<f32>,
    hidden: Vec<Vec<f32>>,
    /// Each hidden layer's W itself in panels, for δ·W in the backward pass.
    hidden_rows: Vec<Vec<f32>>,
    /// Each hidden layer's Wᵀ in bf16 pairs when inference runs in bf16 ([`Packed::pack_bf16`]);
    /// empty otherwise.
    hidden_pairs: Vec<Vec<u32>>,
}

impl Packed {
    /// Copies the current weights of `layers` (an MLP's) into this layout, reusing the buffers.
    pub fn pack<F: Real>(&mut self, layers: &[Linear<F>]) {
        let Some(first) = fast(weights(&layers[0])) else { return };
        let (h, inputs) = (layers[0].outputs(), layers[0].inputs());
        self.input_columns.resize(inputs * h, 0.0);
        for (o, w) in first.chunks_exact(inputs).enumerate() {
            for (c, &v) in w.iter().enumerate() {
                self.input_columns[c * h + o] = v;
            }
        }
        let hidden = &layers[1..layers.len() - 1];
        self.hidden.resize_with(hidden.len(), Vec::new);
        self.hidden_rows.resize_with(hidden.len(), Vec::new);
        for ((packed, rows), layer) in self.hidden.iter_mut().zip(&mut self.hidden_rows).zip(hidden) {
            let (n, k, w) =
                (layer.outputs(), layer.inputs(), fast(weights(layer)).expect("same type as the first layer"));
            packed.resize(n.div_ceil(NR) * NR * k, 0.0);
            kernels::pack_transposed(w, n, k, packed);
            rows.resize(k.div_ceil(NR) * NR * n, 0.0);
            kernels::pack_rows(w, n, k, rows);
        }
    }

    /// Also lays out each hidden layer in bf16 pairs, so that [`dense`]'s inference runs the
    /// bf16 product. The caller checks [`bf16_sampling_error`] first.
    pub fn pack_bf16<F: Real>(&mut self, layers: &[Linear<F>]) {
        let hidden = &layers[1..layers.len() - 1];
        self.hidden_pairs.resize_with(hidden.len(), Vec::new);
        for (pairs, layer) in self.hidden_pairs.iter_mut().zip(hidden) {
            let (n, k) = (layer.outputs(), layer.inputs());
            let w = F::as_f32(weights(layer)).expect("bf16 sampling is for f32 networks");
            pairs.resize(n * k / 2, 0);
            kernels::pack_pairs(w, n, k, pairs);
        }
    }

    /// Whether [`pack_bf16`](Self::pack_bf16) has run.
    pub fn is_bf16(&self) -> bool {
        !self.hidden_pairs.is_empty()
    }
}

/// What `--sample-precision` accepts for a network of this width and activation on this CPU,
/// when bf16 is not among it (one phrase, for the error line); `None` when bf16 can run.
pub fn bf16_sampling_error(width: usize, activation: Activation) -> Option<String> {
    let multiple = kernels::BF16_WIDTH_MULTIPLE;
    if !kernels::bf16_available() {
        Some("f32 (bf16 needs a CPU with AVX512-BF16, and this one has none)".into())
    } else if activation != Activation::Silu {
        let name = format!("{activation:?}").to_lowercase();
        Some(format!("f32, or bf16 with --activation silu (this network's is {name})"))
    } else if !width.is_multiple_of(multiple) {
        Some(format!("f32, or bf16 with --hidden a multiple of {multiple} (this network's is {width})"))
    } else {
        None
    }
}

/// SiLU(a·Wᵀ + b) for an H → H layer of inference in bf16: `a` rounded into `pairs` first.
pub fn dense_bf16<F: Real>(
    layer: &Linear<F>,
    packed: &Packed,
    l: usize,
    rows: usize,
    a: &[F],
    pairs: &mut [u32],
    z: &mut [F],
) {
    let (n, k) = (layer.outputs(), layer.inputs());
    let (a, z, bias) =
        (fast(a).expect("bf16 is f32"), fast_mut(z).expect("bf16 is f32"), fast(bias(layer)).expect("f32"));
    let pairs = &mut pairs[..rows * k / 2];
    kernels::to_pairs(&a[..rows * k], pairs);
    kernels::silu_dense_pairs((rows, n, k), pairs, &packed.hidden_pairs[l], bias, z);
}

/// z = f(x·W₁ᵀ + b₁) for the input layer, with slope ← f′ when asked for. `x` is `[rows, 2]`;
/// a noise-conditional layer (3 inputs) takes its third input per row from `condition`
/// (ignored for 2 inputs), added after the two-column product.
pub fn input_layer<F: Real>(
    layer: &Linear<F>,
    packed: &Packed,
    activation: Activation,
    (x, condition): (&[F], &[F]),
    z: &mut [F],
    slope: Option<&mut [F]>,
) {
    let (h, inputs) = (layer.outputs(), layer.inputs());
    if let (Some(x32), Some(b32)) = (fast(x), fast(bias(layer))) {
        let (c0, rest) = packed.input_columns.split_at(h);
        let z32 = fast_mut(z).expect("same type");
        if activation == Activation::Silu && inputs == 2 {
            return kernels::input_layer(x32, c0, &rest[..h], b32, z32, epilogue(slope));
        }
        kernels::input_layer(x32, c0, &rest[..h], b32, z32, Epilogue::Store);
    } else {
        let (w, b) = (weights(layer), bias(layer));
        for (xi, zi) in x.chunks_exact(2).zip(z.chunks_exact_mut(h)) {
            for (o, z) in zi.iter_mut().enumerate() {
                *z = b[o] + xi[0] * w[inputs * o] + xi[1] * w[inputs * o + 1];
            }
        }
    }
    if inputs == 3 {
        let w = weights(layer);
        for (&c, zi) in condition.iter().zip(z.chunks_exact_mut(h)) {
            zi.iter_mut().zip(w.chunks_exact(3)).for_each(|(z, w)| *z += c * w[2]);
        }
    }
    activate(activation, z, slope);
}

/// The kernels' fused SiLU, keeping the slope when asked for.
fn epilogue<F: Real>(slope: Option<&mut [F]>) -> Epilogue<'_> {
    match slope {
        Some(s) => Epilogue::SiluWithSlope(F::as_f32_mut(s).expect("same type as the layer")),
        None => Epilogue::Silu,
    }
}

/// z = f(a·Wᵀ + b) for an H → H layer (`l`: its index among the hidden layers' packs),
/// with slope ← f′ when asked for.
#[allow(clippy::too_many_arguments)]
pub fn dense<F: Real>(
    layer: &Linear<F>,
    packed: &Packed,
    l: usize,
    activation: Activation,
    rows: usize,
    a: &[F],
    z: &mut [F],
    slope: Option<&mut [F]>,
) {
    let (n, k) = (layer.outputs(), layer.inputs());
    if let (Some(a32), Some(b32)) = (fast(a), fast(bias(layer))) {
        let b = Panels { data: &packed.hidden[l], row_stride: NR, panel_stride: NR * k };
        let a = Strided { data: a32, row_stride: k, col_stride: 1 };
        let z32 = fast_mut(z).expect("same type");
        if activation == Activation::Silu {
            return kernels::gemm((rows, n, k), a, b, Some(b32), z32, n, epilogue(slope));
        }
        kernels::gemm((rows, n, k), a, b, Some(b32), z32, n, Epilogue::Store);
    } else {
        let mut z = view_mut(z, rows, n);
        z.rows_mut().into_iter().for_each(|mut row| row.assign(&layer.bias));
        general_mat_mul(F::one(), &view(a, rows, k), &layer.weight.t(), F::one(), &mut z);
    }
    activate(activation, &mut z[..rows * n], slope.map(|s| &mut s[..rows * n]));
}

/// z ← f(z), and slope ← f′(z) when asked for.
fn activate<F: Real>(activation: Activation, z: &mut [F], slope: Option<&mut [F]>) {
    if activation == Activation::Silu
        && let Some(z32) = fast_mut(z)
    {
        return kernels::silu(z32, slope.map(|s| F::as_f32_mut(s).expect("same type")));
    }
    match slope {
        Some(slope) => activation.apply_with_slope(z, slope),
        None => activation.apply(z),
    }
}

/// out = a·W₃ᵀ + b₃ for the H → 2 output layer.
pub fn output_layer<F: Real>(layer: &Linear<F>, a: &[F], out: &mut [F]) {
    let h = layer.inputs();
    let (w, b) = (weights(layer), bias(layer));
    if let (Some(a32), Some(w32), Some(b32)) = (fast(a), fast(w), fast(b)) {
        return kernels::two_dots(a32, h, w32, [b32[0], b32[1]], fast_mut(out).expect("same type"));
    }
    let (w0, w1) = w.split_at(h);
    for (ai, oi) in a.chunks_exact(h).zip(out.chunks_exact_mut(2)) {
        let (mut s0, mut s1) = (b[0], b[1]);
        for ((&a, &u), &v) in ai.iter().zip(w0).zip(w1) {
            s0 += a * u;
            s1 += a * v;
        }
        oi[0] = s0;
        oi[1] = s1;
    }
}

/// y += a·x
fn axpy<F: Real>(a: F, x: &[F], y: &mut [F]) {
    if let (Some(x32), Some(y32)) = (fast(x), fast_mut(y)) {
        return loops::axpy(a.as_f64() as f32, x32, y32);
    }
    y.iter_mut().zip(x).for_each(|(y, &x)| *y += a * x);
}

/// y += x
pub fn add<F: Real>(x: &[F], y: &mut [F]) {
    if let (Some(x32), Some(y32)) = (fast(x), fast_mut(y)) {
        return loops::add(x32, y32);
    }
    y.iter_mut().zip(x).for_each(|(y, &x)| *y += x);
}

/// out = Σ over rows of m (`[rows, cols]`), summed in row order.
fn column_sums<F: Real>(m: &[F], cols: usize, out: &mut [F]) {
    if let (Some(m32), Some(out32)) = (fast(m), fast_mut(out)) {
        return kernels::column_sums(m32, cols, Some(out32), []);
    }
    out.fill(F::zero());
    for row in m.chunks_exact(cols) {
        add(row, out);
    }
}

/// Backward through the output layer: ∂L/∂W₃, ∂L/∂b₃ into `grad`, and
/// δ = (g·W₃) ⊙ f′(z) at the last hidden layer, from g = ∂L/∂out (`[rows, 2]`).
pub fn output_backward<F: Real>(
    layer: &Linear<F>,
    a: &[F],
    slope: &[F],
    out_grad: &[F],
    grad: &mut Linear<F>,
    delta: &mut [F],
) {
    let h = layer.inputs();
    let (w0, w1) = weights(layer).split_at(h);
    let [gw, gb] = grad.tensors_mut();
    let (gw0, gw1) = gw.split_at_mut(h);
    let batch = out_grad.len() / 2;
    // ∂L/∂W₃[d] = Σ_r g[r, d]·a[r]: one pass over a for both rows of W₃.
    match (fast(&a[..batch * h]), fast(out_grad), fast_mut(gw0), fast_mut(gw1)) {
        (Some(a32), Some(g32), Some(gw0), Some(gw1)) => {
            let (g0, g1) = (RowWeights { data: g32, stride: 2 }, RowWeights { data: &g32[1..], stride: 2 });
            kernels::column_sums(a32, h, None, [(g0, gw0), (g1, gw1)]);
        }
        _ => {
            gw0.fill(F::zero());
            gw1.fill(F::zero());
            for (ai, gi) in a.chunks_exact(h).zip(out_grad.chunks_exact(2)) {
                axpy(gi[0], ai, gw0);
                axpy(gi[1], ai, gw1);
            }
        }
    }
    gb.fill(F::zero());
    let rows = slope.chunks_exact(h).zip(out_grad.chunks_exact(2)).zip(delta.chunks_exact_mut(h));
    for ((si, gi), di) in rows {
        let (g0, g1) = (gi[0], gi[1]);
        gb[0] += g0;
        gb[1] += g1;
        if let (Some(u), Some(v), Some(s), Some(d)) = (fast(w0), fast(w1), fast(si), fast_mut(di)) {
            loops::combine2(g0.as_f64() as f32, u, g1.as_f64() as f32, v, s, d);
        } else {
            for (((d, &u), &v), &s) in di.iter_mut().zip(w0).zip(w1).zip(si) {
                *d = (g0 * u + g1 * v) * s;
            }
        }
    }
}

/// Backward through an H → H layer: ∂L/∂W = δᵀ·a, ∂L/∂b = Σ δ into `grad`, and the δ of
/// the layer below, (δ·W) ⊙ f′(z_below), into `delta_below`.
#[allow(clippy::too_many_arguments)]
pub fn dense_backward<F: Real>(
    layer: &Linear<F>,
    packed: &Packed,
    l: usize,
    rows: usize,
    a: &[F],
    slope_below: &[F],
    delta: &[F],
    grad: &mut Linear<F>,
    delta_below: &mut [F],
) {
    let (n, k) = (layer.outputs(), layer.inputs());
    let [gw, gb] = grad.tensors_mut();
    column_sums(&delta[..rows * n], n, gb);
    if let (Some(a32), Some(d32)) = (fast(a), fast(delta)) {
        // ∂L/∂W[o, i] = Σ_r δ[r, o]·a[r, i]: δ read down its columns, a along its rows, both
        // in place.
        let dt = Strided { data: d32, row_stride: 1, col_stride: n };
        let a_rows = Panels { data: a32, row_stride: k, panel_stride: NR };
        kernels::gemm((n, k, rows), dt, a_rows, None, fast_mut(gw).expect("same type"), k, Epilogue::Store);
        // δ_below[r, i] = Σ_o δ[r, o]·W[o, i] · f′: W's rows are B's rows, packed into
        // panels; the product with the slope is done in registers before the store.
        let d = Strided { data: d32, row_stride: n, col_stride: 1 };
        let w = Panels { data: &packed.hidden_rows[l], row_stride: NR, panel_stride: NR * n };
        let slope = Epilogue::Times(fast(&slope_below[..rows * k]).expect("same type"));
        return kernels::gemm((rows, k, n), d, w, None, fast_mut(delta_below).expect("same type"), k, slope);
    }
    let (a, d) = (view(a, rows, k), view(delta, rows, n));
    general_mat_mul(F::one(), &d.t(), &a, F::zero(), &mut view_mut(gw, n, k));
    general_mat_mul(F::one(), &d, &layer.weight, F::zero(), &mut view_mut(delta_below, rows, k));
    delta_below[..rows * k].iter_mut().zip(&slope_below[..rows * k]).for_each(|(d, &s)| *d *= s);
}

/// Backward through the input layer: ∂L/∂W₁, ∂L/∂b₁ into `grad` and ∂L/∂x into
/// `input_grad` (`[rows, 2]`; the conditioning input gets no gradient). `column_grads` holds
/// `[inputs, H]`.
#[allow(clippy::too_many_arguments)]
pub fn input_backward<F: Real>(
    layer: &Linear<F>,
    packed: &Packed,
    (x, condition): (&[F], &[F]),
    delta: &[F],
    grad: &mut Linear<F>,
    column_grads: &mut [F],
    input_grad: &mut [F],
) {
    let (h, inputs) = (layer.outputs(), layer.inputs());
    let rows = x.len() / 2;
    let [gw, gb] = grad.tensors_mut();
    // Accumulate the columns of ∂L/∂W₁ contiguously, then interleave them into [H, inputs].
    let column_grads = &mut column_grads[..inputs * h];
    let fast_columns = (fast(&delta[..rows * h]), fast(x), fast(condition), fast_mut(gb), fast_mut(column_grads));
    if let (Some(d32), Some(x32), Some(cond32), Some(gb32), Some(columns)) = fast_columns {
        // One pass over δ for the bias gradient and every column.
        let (c0, rest) = columns.split_at_mut(h);
        let (c1, c2) = rest.split_at_mut(h);
        let (x0, x1) = (RowWeights { data: x32, stride: 2 }, RowWeights { data: &x32[1..], stride: 2 });
        match inputs {
            3 => {
                let cond = RowWeights { data: cond32, stride: 1 };
                kernels::column_sums(d32, h, Some(gb32), [(x0, c0), (x1, c1), (cond, c2)]);
            }
            _ => kernels::column_sums(d32, h, Some(gb32), [(x0, c0), (x1, c1)]),
        }
    } else {
        column_sums(&delta[..rows * h], h, gb);
        column_grads.fill(F::zero());
        let (c0, rest) = column_grads.split_at_mut(h);
        let (c1, c2) = rest.split_at_mut(h);
        for (i, (xi, di)) in x.chunks_exact(2).zip(delta.chunks_exact(h)).enumerate() {
            axpy(xi[0], di, c0);
            axpy(xi[1], di, c1);
            if inputs == 3 {
                axpy(condition[i], di, c2);
            }
        }
    }
    for (o, g) in gw.chunks_exact_mut(inputs).enumerate() {
        for (c, g) in g.iter_mut().enumerate() {
            *g = column_grads[c * h + o];
        }
    }
    if let (Some(d32), Some(g32)) = (fast(&delta[..rows * h]), fast_mut(input_grad)) {
        return kernels::two_dots(d32, h, &packed.input_columns[..2 * h], [0.0; 2], g32);
    }
    let w = weights(layer);
    for (di, gi) in delta.chunks_exact(h).zip(input_grad.chunks_exact_mut(2)) {
        let (mut s0, mut s1) = (F::zero(), F::zero());
        for (o, &d) in di.iter().enumerate() {
            s0 += d * w[inputs * o];
            s1 += d * w[inputs * o + 1];
        }
        gi[0] = s0;
        gi[1] = s1;
    }
}

/// One Adam update of a flat tensor; `k` as [`loops::adam`] documents.
pub fn adam_update<F: Real>(p: &mut [F], g: &[F], m: &mut [F], v: &mut [F], k: [F; 7]) {
    if let (Some(p32), Some(g32)) = (fast_mut(p), fast(g)) {
        let k32 = k.map(|x| x.as_f64() as f32);
        let (m32, v32) = (F::as_f32_mut(m).expect("same type"), F::as_f32_mut(v).expect("same type"));
        return loops::adam(p32, g32, m32, v32, &k32);
    }
    let [b1, b2, one_minus_b1, one_minus_b2, step_size, inv_sqrt_bias2, eps] = k;
    for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
        *m = b1 * *m + one_minus_b1 * g;
        *v = b2 * *v + one_minus_b2 * g * g;
        *p -= step_size * *m / (v.sqrt() * inv_sqrt_bias2 + eps);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// f32 buffers reach the kernels exactly when this process runs them, as themselves
    /// (no copy); f64 buffers never do, which is what keeps the gradient checks on the
    /// portable path. Were `fast` to say no on a CPU with the kernels, every figure would
    /// still be within f32 rounding of the right one, only slower and with other bits.
    #[test]
    fn only_f32_buffers_take_the_kernels_and_only_where_they_run() {
        let (mut single, mut double) = ([1.0f32, 2.0, 3.0], [1.0f64, 2.0, 3.0]);
        let kernels = kernels::available().then_some(single.as_ptr());
        assert_eq!(fast(&single).map(<[f32]>::as_ptr), kernels);
        assert_eq!(fast_mut(&mut single).map(|s| s.as_ptr()), kernels);
        assert!(fast(&double).is_none() && fast_mut(&mut double).is_none());
    }
}
