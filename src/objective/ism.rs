//! Implicit score matching (Hyvärinen 2005): the explicit Fisher divergence
//! ½E‖s_θ(x) − ∇log p(x)‖² needs the unknown ∇log p; integrating by parts turns it into
//!
//! J(θ) = E_p[ ½‖s_θ(x)‖² + tr ∇ₓ s_θ(x) ]  (+ a constant free of θ),
//!
//! which needs only the model and its derivatives at data points. In 2-D the trace is exact
//! and cheap: forward-mode tangents of the network along e₁ and e₂ give the Jacobian's
//! columns, and tr ∇ₓs = ∂s₁/∂x₁ + ∂s₂/∂x₂.
//!
//! Layout: each hidden buffer stacks the values and the two tangents of a batch of B rows,
//! `[3B, H]` = [a; ȧ⁽¹⁾; ȧ⁽²⁾]. A layer is linear, so one GEMM moves all three (the bias only
//! touches the values), and in the backward pass one GEMM gives ∂W = Z̄ᵀ·A summed over values
//! and tangents alike. Only the activation couples them:
//! a = f(z), ȧ = f′(z)·ż, so z̄ = f′(z)·ā + Σ_c f″(z)·ż⁽ᶜ⁾·ā̇⁽ᶜ⁾ and ż̄⁽ᶜ⁾ = f′(z)·ā̇⁽ᶜ⁾.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis, s};

use crate::nn::mlp::DIM;
use crate::nn::{Linear, Mlp, Real};

/// Buffers of one ISM forward + backward pass for up to `capacity` rows.
pub struct IsmWorkspace<F> {
    capacity: usize,
    /// Per hidden layer `[3·capacity, H]`: values then the two tangents, after the activation.
    stacks: Vec<Array2<F>>,
    /// Per hidden layer `[2·capacity, H]`: the tangents before the activation, ż.
    pre_tangents: Vec<Array2<F>>,
    slopes: Vec<Array2<F>>,
    curvatures: Vec<Array2<F>>,
    /// `[3·capacity, 2]`: s, ṡ⁽¹⁾, ṡ⁽²⁾.
    output: Array2<F>,
    output_adjoint: Array2<F>,
    adjoint: Array2<F>,
    adjoint_next: Array2<F>,
}

impl<F: Real> IsmWorkspace<F> {
    pub fn new(model: &Mlp<F>, capacity: usize) -> Self {
        let (width, depth) = (model.width(), model.depth());
        let buffers = |rows: usize| (0..depth).map(|_| Array2::zeros((rows, width))).collect::<Vec<_>>();
        Self {
            capacity,
            stacks: buffers(3 * capacity),
            pre_tangents: buffers(2 * capacity),
            slopes: buffers(capacity),
            curvatures: buffers(capacity),
            output: Array2::zeros((3 * capacity, DIM)),
            output_adjoint: Array2::zeros((3 * capacity, DIM)),
            adjoint: Array2::zeros((3 * capacity, width)),
            adjoint_next: Array2::zeros((3 * capacity, width)),
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

/// The two terms of J on a batch, averaged over it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IsmTerms<F> {
    /// mean ½‖s_θ(x)‖²
    pub half_norm: F,
    /// mean tr ∇ₓ s_θ(x)
    pub trace: F,
}

impl<F: Real> IsmTerms<F> {
    pub fn loss(&self) -> F {
        self.half_norm + self.trace
    }
}

/// Forward pass with tangents: fills the workspace and returns the batch's terms.
///
/// `x` is `[rows, inputs]`: a noise-conditional network's rows carry log σ as a third
/// column, which the tangents leave alone (they run along e₁ and e₂ of the point), so the
/// trace is over the point's coordinates.
pub fn forward<F: Real>(model: &Mlp<F>, x: ArrayView2<F>, ws: &mut IsmWorkspace<F>) -> IsmTerms<F> {
    let rows = x.nrows();
    assert!(rows <= ws.capacity, "batch of {rows} rows exceeds ISM workspace capacity {}", ws.capacity);
    let depth = model.depth();
    let first = &model.layers[0];
    {
        let stack = &mut ws.stacks[0];
        let mut values = stack.slice_mut(s![..rows, ..]);
        values.rows_mut().into_iter().for_each(|mut r| r.assign(&first.bias));
        general_mat_mul(F::one(), &x, &first.weight.t(), F::one(), &mut values);
        // ż⁽ᶜ⁾ of the first layer is column c of W, whatever x is.
        for c in 0..DIM {
            let column = first.weight.column(c);
            for mut r in stack.slice_mut(s![(c + 1) * rows..(c + 2) * rows, ..]).rows_mut() {
                r.assign(&column);
            }
        }
    }
    activate(model, ws, 0, rows);
    for l in 1..depth {
        let (before, after) = ws.stacks.split_at_mut(l);
        let mut z = after[0].slice_mut(s![..3 * rows, ..]);
        general_mat_mul(
            F::one(),
            &before[l - 1].slice(s![..3 * rows, ..]),
            &model.layers[l].weight.t(),
            F::zero(),
            &mut z,
        );
        z.slice_mut(s![..rows, ..]).rows_mut().into_iter().for_each(|mut r| r += &model.layers[l].bias);
        activate(model, ws, l, rows);
    }
    let last = &model.layers[depth];
    let mut out = ws.output.slice_mut(s![..3 * rows, ..]);
    general_mat_mul(F::one(), &ws.stacks[depth - 1].slice(s![..3 * rows, ..]), &last.weight.t(), F::zero(), &mut out);
    out.slice_mut(s![..rows, ..]).rows_mut().into_iter().for_each(|mut r| r += &last.bias);

    let scores = out.slice(s![..rows, ..]);
    let half_norm = scores.iter().map(|&v| v * v).fold(F::zero(), |a, b| a + b) * F::lit(0.5);
    let trace = (0..DIM).map(|c| out.slice(s![(c + 1) * rows..(c + 2) * rows, c]).sum()).fold(F::zero(), |a, b| a + b);
    let n = F::lit(rows as f64);
    IsmTerms { half_norm: half_norm / n, trace: trace / n }
}

/// After [`forward`] on `rows` rows: the network's outputs (`[rows, 2]`), with each row's
/// trace of their Jacobian in x, ∂s₁/∂x₁ + ∂s₂/∂x₂, written to `traces`.
pub fn outputs_and_traces<'a, F: Real>(ws: &'a IsmWorkspace<F>, rows: usize, traces: &mut [F]) -> ArrayView2<'a, F> {
    for (i, trace) in traces[..rows].iter_mut().enumerate() {
        *trace = ws.output[[rows + i, 0]] + ws.output[[2 * rows + i, 1]];
    }
    ws.output.slice(s![..rows, ..])
}

/// a = f(z), ȧ⁽ᶜ⁾ = f′(z)·ż⁽ᶜ⁾ in place over hidden layer `l`, keeping ż, f′ and f″.
fn activate<F: Real>(model: &Mlp<F>, ws: &mut IsmWorkspace<F>, l: usize, rows: usize) {
    let stack = &mut ws.stacks[l];
    let (mut values, mut tangents) = stack.slice_mut(s![..3 * rows, ..]).split_at(Axis(0), rows);
    ws.pre_tangents[l].slice_mut(s![..2 * rows, ..]).assign(&tangents);
    let mut slopes = ws.slopes[l].slice_mut(s![..rows, ..]);
    let mut curvatures = ws.curvatures[l].slice_mut(s![..rows, ..]);
    ndarray::Zip::from(&mut values).and(&mut slopes).and(&mut curvatures).for_each(|v, s, c| {
        (*v, *s, *c) = model.activation.value_slope_curvature(*v);
    });
    for c in 0..DIM {
        let mut t = tangents.slice_mut(s![c * rows..(c + 1) * rows, ..]);
        t *= &slopes;
    }
}

/// J and ∂J/∂θ (into `grads`) on the batch `x` of clean data.
pub fn loss_and_grad<F: Real>(
    model: &Mlp<F>,
    x: ArrayView2<F>,
    ws: &mut IsmWorkspace<F>,
    grads: &mut [Linear<F>],
) -> IsmTerms<F> {
    let terms = forward(model, x, ws);
    let rows = x.nrows();
    let depth = model.depth();
    let inv_n = F::one() / F::lit(rows as f64);

    // ∂J/∂s = s/B on the value rows; ∂J/∂ṡ⁽ᶜ⁾ = e_c/B on tangent rows c.
    let mut g = ws.output_adjoint.slice_mut(s![..3 * rows, ..]);
    g.fill(F::zero());
    g.slice_mut(s![..rows, ..]).assign(&(&ws.output.slice(s![..rows, ..]) * inv_n));
    for c in 0..DIM {
        g.slice_mut(s![(c + 1) * rows..(c + 2) * rows, c]).fill(inv_n);
    }

    let IsmWorkspace { stacks, pre_tangents, slopes, curvatures, adjoint, adjoint_next, .. } = ws;
    let mut adj = adjoint.slice_mut(s![..3 * rows, ..]);
    let mut adj_next = adjoint_next.slice_mut(s![..3 * rows, ..]);
    linear_backward(
        &model.layers[depth],
        stacks[depth - 1].slice(s![..3 * rows, ..]),
        g.view(),
        rows,
        &mut grads[depth],
        &mut adj,
    );
    activation_backward(
        &mut adj,
        pre_tangents[depth - 1].view(),
        slopes[depth - 1].view(),
        curvatures[depth - 1].view(),
        rows,
    );
    for l in (1..depth).rev() {
        linear_backward(
            &model.layers[l],
            stacks[l - 1].slice(s![..3 * rows, ..]),
            adj.view(),
            rows,
            &mut grads[l],
            &mut adj_next,
        );
        activation_backward(
            &mut adj_next,
            pre_tangents[l - 1].view(),
            slopes[l - 1].view(),
            curvatures[l - 1].view(),
            rows,
        );
        std::mem::swap(&mut adj, &mut adj_next);
    }

    // First layer: z = x·Wᵀ + b and ż⁽ᶜ⁾ = W[:, c], so ∂W = z̄ᵀx + Σ_c (column sums of ż̄⁽ᶜ⁾) e_cᵀ.
    let grad = &mut grads[0];
    let values = adj.slice(s![..rows, ..]);
    general_mat_mul(F::one(), &values.t(), &x, F::zero(), &mut grad.weight);
    grad.bias.assign(&values.sum_axis(Axis(0)));
    for c in 0..DIM {
        let tangent_sum = adj.slice(s![(c + 1) * rows..(c + 2) * rows, ..]).sum_axis(Axis(0));
        let mut column = grad.weight.column_mut(c);
        column += &tangent_sum;
    }
    terms
}

/// Through z = a·Wᵀ (+ b on the value rows): ∂W = Z̄ᵀ·A, ∂b = Σ value rows of Z̄, Ā = Z̄·W.
fn linear_backward<F: Real>(
    layer: &Linear<F>,
    input: ArrayView2<F>,
    adjoint: ArrayView2<F>,
    rows: usize,
    grad: &mut Linear<F>,
    input_adjoint: &mut ArrayViewMut2<F>,
) {
    general_mat_mul(F::one(), &adjoint.t(), &input, F::zero(), &mut grad.weight);
    grad.bias.assign(&adjoint.slice(s![..rows, ..]).sum_axis(Axis(0)));
    general_mat_mul(F::one(), &adjoint, &layer.weight, F::zero(), input_adjoint);
}

/// Ā (after the activation) → Z̄ (before it), in place:
/// z̄ = f′·ā + Σ_c f″·ż⁽ᶜ⁾·ā̇⁽ᶜ⁾ on the value rows, ż̄⁽ᶜ⁾ = f′·ā̇⁽ᶜ⁾ on the tangent rows.
fn activation_backward<F: Real>(
    adjoint: &mut ArrayViewMut2<F>,
    pre_tangents: ArrayView2<F>,
    slopes: ArrayView2<F>,
    curvatures: ArrayView2<F>,
    rows: usize,
) {
    let (mut values, mut tangents) = adjoint.view_mut().split_at(Axis(0), rows);
    let slopes = slopes.slice(s![..rows, ..]);
    let curvatures = curvatures.slice(s![..rows, ..]);
    values *= &slopes;
    for c in 0..DIM {
        let t = tangents.slice(s![c * rows..(c + 1) * rows, ..]);
        let zt = pre_tangents.slice(s![c * rows..(c + 1) * rows, ..]);
        ndarray::Zip::from(&mut values).and(&curvatures).and(&zt).and(&t).for_each(|v, &k, &z, &a| *v += k * z * a);
    }
    for c in 0..DIM {
        let mut t = tangents.slice_mut(s![c * rows..(c + 1) * rows, ..]);
        t *= &slopes;
    }
}

/// Convenience for tests and evaluation: J's terms on `x`, allocating.
pub fn terms<F: Real>(model: &Mlp<F>, x: ArrayView2<F>) -> IsmTerms<F> {
    let mut ws = IsmWorkspace::new(model, x.nrows());
    forward(model, x, &mut ws)
}
