//! Smooth activations with their first derivatives, applied in place over whole buffers.
//!
//! Only smooth functions are offered: implicit score matching differentiates the network
//! twice, and a kink (ReLU) makes Langevin's drift discontinuous.

use super::Real;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// x·sigmoid(x) (the reference's choice: it beat ELU and Softplus on every seed tried)
    Silu,
    /// x for x > 0, eˣ − 1 otherwise (α = 1)
    Elu,
    /// ln(1 + eˣ)
    Softplus,
    /// tanh(x)
    Tanh,
}

impl Activation {
    pub fn name(self) -> &'static str {
        match self {
            Activation::Silu => "silu",
            Activation::Elu => "elu",
            Activation::Softplus => "softplus",
            Activation::Tanh => "tanh",
        }
    }

    /// (f(z), f′(z)) for a single value.
    pub fn value_and_slope<F: Real>(self, z: F) -> (F, F) {
        match self {
            Activation::Silu => silu(z),
            Activation::Elu => elu(z),
            Activation::Softplus => softplus(z),
            Activation::Tanh => tanh(z),
        }
    }

    /// (f(z), f′(z), f″(z)) for a single value: implicit score matching differentiates the
    /// network's input Jacobian once more with respect to the parameters.
    pub fn value_slope_curvature<F: Real>(self, z: F) -> (F, F, F) {
        let one = F::one();
        match self {
            Activation::Silu => {
                let s = sigmoid(z);
                let (f, f1) = silu(z);
                (f, f1, s * (one - s) * (F::lit(2.0) + z * (one - s - s)))
            }
            Activation::Elu => {
                let (f, f1) = elu(z);
                (f, f1, if z > F::zero() { F::zero() } else { f1 })
            }
            Activation::Softplus => {
                let (f, s) = softplus(z);
                (f, s, s * (one - s))
            }
            Activation::Tanh => {
                let (t, f1) = tanh(z);
                (t, f1, -F::lit(2.0) * t * f1)
            }
        }
    }

    /// z ← f(z) over a buffer (inference: no derivative kept).
    pub fn apply<F: Real>(self, z: &mut [F]) {
        // One match outside the loop so each arm is a tight, monomorphic loop.
        match self {
            Activation::Silu => z.iter_mut().for_each(|v| *v = silu(*v).0),
            Activation::Elu => z.iter_mut().for_each(|v| *v = elu(*v).0),
            Activation::Softplus => z.iter_mut().for_each(|v| *v = softplus(*v).0),
            Activation::Tanh => z.iter_mut().for_each(|v| *v = tanh(*v).0),
        }
    }

    /// z ← f(z) and slope ← f′(z) in one pass (training: the backward pass needs f′).
    pub fn apply_with_slope<F: Real>(self, z: &mut [F], slope: &mut [F]) {
        debug_assert_eq!(z.len(), slope.len());
        fn run<F: Real>(z: &mut [F], slope: &mut [F], f: impl Fn(F) -> (F, F)) {
            for (v, s) in z.iter_mut().zip(slope.iter_mut()) {
                (*v, *s) = f(*v);
            }
        }
        match self {
            Activation::Silu => run(z, slope, silu),
            Activation::Elu => run(z, slope, elu),
            Activation::Softplus => run(z, slope, softplus),
            Activation::Tanh => run(z, slope, tanh),
        }
    }
}

fn sigmoid<F: Real>(z: F) -> F {
    F::one() / (F::one() + (-z).exp())
}

fn silu<F: Real>(z: F) -> (F, F) {
    let s = sigmoid(z);
    (z * s, s * (F::one() + z * (F::one() - s)))
}

fn elu<F: Real>(z: F) -> (F, F) {
    if z > F::zero() {
        (z, F::one())
    } else {
        let e = z.exp();
        (e - F::one(), e)
    }
}

fn softplus<F: Real>(z: F) -> (F, F) {
    // max(z, 0) + ln(1 + e^{−|z|}) never overflows.
    (z.max(F::zero()) + (-z.abs()).exp().ln_1p(), sigmoid(z))
}

fn tanh<F: Real>(z: F) -> (F, F) {
    let t = z.tanh();
    (t, F::one() - t * t)
}
