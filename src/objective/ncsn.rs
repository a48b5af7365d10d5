//! Noise-conditional denoising score matching (Song & Ermon 2019): one network for every
//! noise level of the annealed sampler.
//!
//! The network takes log σ as a third input and its output is divided by σ,
//! s_θ(x, σ) = net_θ(x, log σ)/σ, so its targets stay O(1) at every level. Each sample draws
//! its level σᵢ (log-uniformly over [σ_min, σ_max]: `trainer::session`); weighting the DSM
//! loss by σᵢ² (which makes every level contribute alike) gives, per sample,
//!
//! σᵢ²‖s_θ(x̃ᵢ, σᵢ) + εᵢ/σᵢ‖² = ‖net_θ(x̃ᵢ, log σᵢ) + εᵢ‖²,   x̃ᵢ = xᵢ + σᵢεᵢ,
//!
//! averaged over the batch: ∂L/∂net(x̃ᵢ) = (2/B)(net + εᵢ). Sampling reads the trained
//! network as a score through `sampling::langevin::ConditionalScore`.

use ndarray::{ArrayView2, ArrayViewMut2, Zip};

use crate::nn::{Linear, Mlp, Real, Workspace};

/// One loss and gradient: row i is noised at `sigmas[i]`.
#[allow(clippy::too_many_arguments)]
pub fn loss_and_grad<F: Real>(
    model: &Mlp<F>,
    x: ArrayView2<F>,
    eps: ArrayView2<F>,
    sigmas: &[F],
    ws: &mut Workspace<F>,
    out_grad: &mut ArrayViewMut2<F>,
    grads: &mut [Linear<F>],
) -> F {
    let rows = x.nrows();
    debug_assert_eq!((eps.dim(), sigmas.len()), (x.dim(), rows));
    for ((mut t, (x, e)), &sigma) in
        ws.input_mut(rows).rows_mut().into_iter().zip(x.rows().into_iter().zip(eps.rows())).zip(sigmas)
    {
        Zip::from(&mut t).and(x).and(e).for_each(|t, &x, &e| *t = x + sigma * e);
    }
    ws.condition_mut(rows).iter_mut().zip(sigmas).for_each(|(c, &s)| *c = s.ln());
    let scale = F::lit(2.0) / F::lit(rows as f64);
    let out_grad = out_grad.as_slice_mut().expect("∂L/∂s is a row-major [rows, 2] buffer");
    let residuals = |range: std::ops::Range<usize>, outputs: &[F], out_grad: &mut [F]| {
        let eps = eps.slice(ndarray::s![range, ..]);
        let mut total = F::zero();
        for ((g, &n), &e) in out_grad.iter_mut().zip(outputs).zip(eps.iter()) {
            let r = n + e;
            total += r * r;
            *g = scale * r;
        }
        total
    };
    model.forward_backward(ws, rows, out_grad, grads, residuals) / F::lit(rows as f64)
}
