//! Finite-difference checks of the MLP's hand-written backward pass, in f64: every parameter
//! of every layer and the network input, for every activation and depths 1–3; and of the DSM
//! loss's gradient end to end.

mod common;

use common::{assert_gradient, forward_backward_of_dot};
use dsm_tui::nn::{Activation, Mlp, Workspace};
use dsm_tui::objective::{dsm, ism};
use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand_distr::{Distribution, StandardNormal};

const ACTIVATIONS: [Activation; 4] = [Activation::Silu, Activation::Elu, Activation::Softplus, Activation::Tanh];
const RTOL: f64 = 1e-6;

fn normal(rows: usize, cols: usize, rng: &mut Xoshiro256PlusPlus) -> Array2<f64> {
    Array2::from_shape_fn((rows, cols), |_| StandardNormal.sample(rng))
}

/// f(θ, x) = Σᵢ ⟨cᵢ, s_θ(xᵢ)⟩ for fixed random cᵢ: its gradient is exactly what the training
/// pass (`forward_backward`) computes when handed ∂f/∂s = c.
fn projected_output(model: &Mlp<f64>, x: ArrayView2<f64>, c: ArrayView2<f64>) -> f64 {
    (&model.scores(x) * &c).sum()
}

fn flat_params(model: &Mlp<f64>) -> Vec<f64> {
    model.layers.iter().flat_map(|l| l.tensors().into_iter().flatten().copied()).collect()
}

fn set_params(model: &mut Mlp<f64>, flat: &[f64]) {
    let mut values = flat.iter();
    for layer in &mut model.layers {
        for tensor in layer.tensors_mut() {
            tensor.iter_mut().for_each(|v| *v = *values.next().expect("enough values"));
        }
    }
}

/// "layer L weight[k]" for the flat parameter index `i`, so failures name the parameter.
fn param_name(model: &Mlp<f64>, mut i: usize) -> String {
    for (l, layer) in model.layers.iter().enumerate() {
        for (name, len) in [("weight", layer.weight.len()), ("bias", layer.bias.len())] {
            if i < len {
                return format!("layer {l} {name}[{i}]");
            }
            i -= len;
        }
    }
    unreachable!("index past the last parameter")
}

fn check_backward(activation: Activation, depth: usize, seed: u64) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let model = Mlp::<f64>::init(7, depth, activation, &mut rng);
    let rows = 5;
    let x = normal(rows, 2, &mut rng);
    let c = normal(rows, 2, &mut rng);

    let mut ws = Workspace::new(&model, 8);
    ws.input_mut(rows).assign(&x);
    let mut grads = model.zero_grads();
    forward_backward_of_dot(&model, &mut ws, c.view(), &mut grads);
    let label = format!("{activation:?} depth {depth}");

    let analytic: Vec<f64> = grads.iter().flat_map(|l| l.tensors().into_iter().flatten().copied()).collect();
    let mut theta = flat_params(&model);
    let mut probe = model.clone();
    for (i, &a) in analytic.iter().enumerate() {
        // One coordinate at a time so a failure names its parameter.
        let mut one = [theta[i]];
        assert_gradient(&format!("{label}: {}", param_name(&model, i)), &mut one, &[a], RTOL, |v| {
            theta[i] = v[0];
            set_params(&mut probe, &theta);
            projected_output(&probe, x.view(), c.view())
        });
        theta[i] = one[0];
    }

    let input_grad: Vec<f64> = ws.input_grad().iter().copied().collect();
    let mut flat_x: Vec<f64> = x.iter().copied().collect();
    assert_gradient(&format!("{label}: input"), &mut flat_x, &input_grad, RTOL, |v| {
        let x = ArrayView2::from_shape((rows, 2), v).expect("shape");
        projected_output(&model, x, c.view())
    });
}

#[test]
fn backward_matches_finite_differences_for_every_activation_and_depth() {
    for (k, activation) in ACTIVATIONS.into_iter().enumerate() {
        for depth in 1..=3 {
            check_backward(activation, depth, 100 + 10 * k as u64 + depth as u64);
        }
    }
}

#[test]
fn dsm_loss_gradient_matches_finite_differences() {
    for (k, activation) in ACTIVATIONS.into_iter().enumerate() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7 + k as u64);
        let model = Mlp::<f64>::init(6, 2, activation, &mut rng);
        let rows = 6;
        let x = normal(rows, 2, &mut rng);
        let eps = normal(rows, 2, &mut rng);
        let sigma = 0.3;

        let mut ws = Workspace::new(&model, rows);
        let mut out_grad = Array2::zeros((rows, 2));
        let mut grads = model.zero_grads();
        let loss =
            dsm::loss_and_grad(&model, x.view(), eps.view(), sigma, &mut ws, &mut out_grad.view_mut(), &mut grads);

        // The loss by its definition, (1/B) Σᵢ ‖s(xᵢ + σεᵢ) + εᵢ/σ‖², computed independently.
        let definition = |model: &Mlp<f64>| {
            let scores = model.scores((&x + &(&eps * sigma)).view());
            (&scores + &(&eps / sigma)).mapv(|r| r * r).sum() / rows as f64
        };
        assert!((loss - definition(&model)).abs() <= 1e-12 * loss.abs().max(1.0), "{activation:?}: loss value");

        let analytic: Vec<f64> = grads.iter().flat_map(|l| l.tensors().into_iter().flatten().copied()).collect();
        let mut theta = flat_params(&model);
        let mut probe = model.clone();
        assert_gradient(&format!("{activation:?}: DSM ∂L/∂θ"), &mut theta, &analytic, RTOL, |t| {
            set_params(&mut probe, t);
            definition(&probe)
        });
    }
}

#[test]
fn f32_forward_agrees_with_f64() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    for activation in ACTIVATIONS {
        let model = Mlp::<f64>::init(128, 2, activation, &mut rng);
        let x = normal(64, 2, &mut rng);
        let exact = model.scores(x.view());
        let single = model.cast::<f32>().scores(x.mapv(|v| v as f32).view());
        for (e, s) in exact.iter().zip(&single) {
            assert!((e - f64::from(*s)).abs() <= 1e-5 * e.abs().max(1.0), "{activation:?}: f64 {e} vs f32 {s}");
        }
    }
}

/// tr ∇ₓs from the forward-mode tangents against central differences of the scores, and
/// ½‖s‖² against the scores themselves.
#[test]
fn ism_terms_match_the_scores_and_their_finite_difference_trace() {
    for (k, activation) in ACTIVATIONS.into_iter().enumerate() {
        for depth in 1..=3 {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(50 + 10 * k as u64 + depth as u64);
            let model = Mlp::<f64>::init(7, depth, activation, &mut rng);
            let x = normal(5, 2, &mut rng);
            let terms = ism::terms(&model, x.view());
            let scores = model.scores(x.view());
            let half_norm = 0.5 * scores.mapv(|v| v * v).sum() / 5.0;
            const H: f64 = 1e-6;
            let mut trace = 0.0;
            for c in 0..2 {
                let (mut up, mut down) = (x.clone(), x.clone());
                up.column_mut(c).mapv_inplace(|v| v + H);
                down.column_mut(c).mapv_inplace(|v| v - H);
                let diff = (&model.scores(up.view()) - &model.scores(down.view())) / (2.0 * H);
                trace += diff.column(c).sum() / 5.0;
            }
            let label = format!("{activation:?} depth {depth}");
            assert!((terms.half_norm - half_norm).abs() < 1e-12, "{label}: ½‖s‖² {} vs {half_norm}", terms.half_norm);
            assert!((terms.trace - trace).abs() < 1e-7, "{label}: trace {} vs finite difference {trace}", terms.trace);
        }
    }
}

#[test]
fn ism_gradient_matches_finite_differences_for_every_activation_and_depth() {
    for (k, activation) in ACTIVATIONS.into_iter().enumerate() {
        for depth in 1..=3 {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(70 + 10 * k as u64 + depth as u64);
            let model = Mlp::<f64>::init(6, depth, activation, &mut rng);
            let x = normal(5, 2, &mut rng);
            let mut ws = ism::IsmWorkspace::new(&model, 8);
            let mut grads = model.zero_grads();
            let terms = ism::loss_and_grad(&model, x.view(), &mut ws, &mut grads);
            assert!((terms.loss() - ism::terms(&model, x.view()).loss()).abs() < 1e-12);

            let analytic: Vec<f64> = grads.iter().flat_map(|l| l.tensors().into_iter().flatten().copied()).collect();
            let mut theta = flat_params(&model);
            let mut probe = model.clone();
            for (i, &a) in analytic.iter().enumerate() {
                let mut one = [theta[i]];
                let what = format!("{activation:?} depth {depth}: ISM {}", param_name(&model, i));
                assert_gradient(&what, &mut one, &[a], RTOL, |v| {
                    theta[i] = v[0];
                    set_params(&mut probe, &theta);
                    ism::terms(&probe, x.view()).loss()
                });
                theta[i] = one[0];
            }
        }
    }
}

/// Raw outputs of a noise-conditional network at `x` with `condition` per row.
fn conditional_outputs<F: dsm_tui::nn::Real>(model: &Mlp<F>, x: ArrayView2<F>, condition: &[F]) -> Array2<F> {
    let mut out = Array2::zeros((x.nrows(), 2));
    let mut scratch = dsm_tui::nn::Scratch::new(model, x.nrows());
    model.forward_conditional(x, condition, &mut out.view_mut(), &mut scratch);
    out
}

/// The noise-conditional network (third input log σ per row): every parameter, including
/// the conditioning column, against finite differences, for every activation.
#[test]
fn conditional_backward_matches_finite_differences() {
    for (k, activation) in ACTIVATIONS.into_iter().enumerate() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(300 + k as u64);
        let model = Mlp::<f64>::init_conditional(7, 2, activation, &mut rng);
        assert_eq!(model.inputs(), 3);
        let rows = 5;
        let x = normal(rows, 2, &mut rng);
        let condition: Vec<f64> = (0..rows).map(|i| (0.05 * (i + 1) as f64).ln()).collect();
        let c = normal(rows, 2, &mut rng);

        let mut ws = Workspace::new(&model, 8);
        ws.input_mut(rows).assign(&x);
        ws.condition_mut(rows).copy_from_slice(&condition);
        let mut grads = model.zero_grads();
        let outputs = forward_backward_of_dot(&model, &mut ws, c.view(), &mut grads);
        let reference = conditional_outputs(&model, x.view(), &condition);
        assert!((&outputs - &reference).iter().all(|d| d.abs() < 1e-12), "training and inference passes agree");

        let analytic: Vec<f64> = grads.iter().flat_map(|l| l.tensors().into_iter().flatten().copied()).collect();
        let mut theta = flat_params(&model);
        let mut probe = model.clone();
        for (i, &a) in analytic.iter().enumerate() {
            let mut one = [theta[i]];
            let what = format!("{activation:?} conditional: {}", param_name(&model, i));
            assert_gradient(&what, &mut one, &[a], RTOL, |v| {
                theta[i] = v[0];
                set_params(&mut probe, &theta);
                (&conditional_outputs(&probe, x.view(), &condition) * &c).sum()
            });
            theta[i] = one[0];
        }
    }
}

#[test]
fn conditional_f32_agrees_with_f64() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
    let model = Mlp::<f64>::init_conditional(128, 2, Activation::Silu, &mut rng);
    let x = normal(300, 2, &mut rng);
    let condition: Vec<f64> = (0..300).map(|i| -4.6 + 4.6 * i as f64 / 299.0).collect();
    let exact = conditional_outputs(&model, x.view(), &condition);
    let cond32: Vec<f32> = condition.iter().map(|&v| v as f32).collect();
    let single = conditional_outputs(&model.cast::<f32>(), x.mapv(|v| v as f32).view(), &cond32);
    for (e, s) in exact.iter().zip(&single) {
        assert!((e - f64::from(*s)).abs() <= 1e-5 * e.abs().max(1.0), "f64 {e} vs f32 {s}");
    }
}
