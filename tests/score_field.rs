//! The score field view's numbers against closed forms: the exact field of a tiny data set
//! blurred by σ, and the learned field on a lattice against the network read point by point.

use dsm_tui::eval::score_field::{Lattice, exact, learned};
use dsm_tui::nn::{Activation, Mlp};
use ndarray::{Array2, array};
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

/// 7 × 5 points over [−1.5, 1.5] × [−1, 1], top row first, as the view lays them out.
fn lattice() -> Lattice {
    Lattice { x0: -1.5, dx: 0.5, cols: 7, y0: 1.0, dy: -0.5, rows: 5 }
}

fn assert_close(what: &str, got: [f32; 2], want: [f64; 2], rtol: f64) {
    for d in 0..2 {
        let (g, w) = (f64::from(got[d]), want[d]);
        assert!((g - w).abs() <= rtol * w.abs().max(1.0), "{what}[{d}]: {g} vs {w}");
    }
}

/// One data point μ blurred by σ is N(μ, σ²I): its score is −(x − μ)/σ².
#[test]
fn the_exact_field_of_one_point_is_the_gaussian_score() {
    let mu = [0.3, -0.2];
    let data = array![[mu[0] as f32, mu[1] as f32]];
    let sigma = 0.4;
    let points = lattice().points();
    let field = exact(data.view(), sigma, points.view());
    assert_eq!(field.len(), lattice().len());
    for (k, v) in field.iter().enumerate() {
        let x = [f64::from(points[[k, 0]]), f64::from(points[[k, 1]])];
        let truth = [-(x[0] - mu[0]) / (sigma * sigma), -(x[1] - mu[1]) / (sigma * sigma)];
        assert_close(&format!("point {k} at {x:?}"), *v, truth, 1e-5);
    }
}

/// Two points ±a·e₁ blurred by σ: an even mixture of two Gaussians, whose score is
/// (a·tanh(a·x₁/σ²)·e₁ − x)/σ² (the posterior weights differ by tanh(a·x₁/σ²)). Between the
/// modes it points outwards, towards the nearer one; at x₁ = 0 it has no x-component.
#[test]
fn the_exact_field_of_two_points_is_the_mixture_score() {
    let a = 0.6;
    let data = array![[a as f32, 0.0], [-a as f32, 0.0]];
    let sigma = 0.5;
    let var = sigma * sigma;
    let points = lattice().points();
    let field = exact(data.view(), sigma, points.view());
    for (k, v) in field.iter().enumerate() {
        let x = [f64::from(points[[k, 0]]), f64::from(points[[k, 1]])];
        let truth = [(a * (a * x[0] / var).tanh() - x[0]) / var, -x[1] / var];
        assert_close(&format!("point {k} at {x:?}"), *v, truth, 1e-5);
    }
    // Lattice point (4, 2) is (0.5, 0): just inside the right mode, pulled out towards it.
    assert!(field[2 * 7 + 4][0] > 0.0);
}

/// Far from the data (50σ away) the weights underflow unless the nearest point's exponent is
/// subtracted first; the score there is still the pull of the nearest point.
#[test]
fn the_exact_field_stays_finite_far_from_the_data() {
    let data = array![[0.0f32, 0.0], [0.1, 0.0]];
    let points = array![[5.0f32, 0.0]];
    let v = exact(data.view(), 0.1, points.view())[0];
    assert_close("far point", v, [-(5.0 - 0.1) / 0.01, 0.0], 1e-4);
}

#[test]
fn the_learned_field_on_a_lattice_is_the_network_point_by_point() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    let model = Mlp::<f32>::init(32, 2, Activation::Silu, &mut rng);
    let points = lattice().points();
    let field = learned(&model, 0.1, points.view());
    for (k, v) in field.iter().enumerate() {
        let one = model.scores(points.slice(ndarray::s![k..k + 1, ..]));
        assert_close(&format!("point {k}"), *v, [f64::from(one[[0, 0]]), f64::from(one[[0, 1]])], 1e-5);
    }
}

/// A noise-conditional network is read at σ: s(x, σ) = net(x, log σ)/σ.
#[test]
fn a_noise_conditional_network_is_read_at_sigma() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
    let model = Mlp::<f32>::init_conditional(32, 2, Activation::Silu, &mut rng);
    let sigma = 0.25f32;
    let points = lattice().points();
    let field = learned(&model, f64::from(sigma), points.view());
    let mut raw = Array2::zeros(points.dim());
    let mut scratch = dsm_tui::nn::Scratch::new(&model, points.nrows());
    let condition = vec![sigma.ln(); points.nrows()];
    model.forward_conditional(points.view(), &condition, &mut raw.view_mut(), &mut scratch);
    for (k, v) in field.iter().enumerate() {
        let want = [f64::from(raw[[k, 0]] / sigma), f64::from(raw[[k, 1]] / sigma)];
        assert_close(&format!("point {k}"), *v, want, 1e-5);
    }
    let other = learned(&model, 0.5, points.view());
    assert_ne!(field, other, "the level matters");
}
