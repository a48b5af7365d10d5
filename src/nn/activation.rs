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

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Activation; 4] = [Activation::Silu, Activation::Elu, Activation::Softplus, Activation::Tanh];

    /// Points on both sides of 0 and in the tails, none at ELU's kink.
    const POINTS: [f64; 8] = [-6.0, -2.5, -0.7, -0.1, 0.2, 0.9, 3.0, 7.5];

    /// Each function as its definition reads, in f64 (softplus naively: ln(1 + eᶻ) is exact
    /// enough at these points; the program's form avoids overflow at large z).
    fn definition(activation: Activation, z: f64) -> f64 {
        match activation {
            Activation::Silu => z / (1.0 + (-z).exp()),
            Activation::Elu => {
                if z > 0.0 {
                    z
                } else {
                    z.exp() - 1.0
                }
            }
            Activation::Softplus => (1.0 + z.exp()).ln(),
            Activation::Tanh => z.tanh(),
        }
    }

    #[test]
    fn values_are_the_definitions() {
        for activation in ALL {
            for z in POINTS {
                let (f, _) = activation.value_and_slope(z);
                let want = definition(activation, z);
                assert!((f - want).abs() <= 1e-14 * want.abs().max(1.0), "{activation:?}({z}) = {f}, want {want}");
                assert_eq!(activation.value_slope_curvature(z).0, f, "{activation:?}({z})");
            }
        }
        // Exact values by hand: silu(0) = 0·½, softplus(0) = ln 2, elu(−ln 2) = ½ − 1, tanh(0) = 0.
        assert_eq!(Activation::Silu.value_and_slope(0.0), (0.0, 0.5));
        assert_eq!(Activation::Softplus.value_and_slope(0.0), (std::f64::consts::LN_2, 0.5));
        let (f, slope) = Activation::Elu.value_and_slope(-std::f64::consts::LN_2);
        assert!((f + 0.5).abs() < 1e-15 && (slope - 0.5).abs() < 1e-15, "elu(−ln 2) = ({f}, {slope})");
        assert_eq!(Activation::Tanh.value_and_slope(0.0), (0.0, 1.0));
    }

    /// f′ and f″ against central differences of f and f′ (h = 1e-5: error ~h²·f‴ ≈ 1e-10).
    #[test]
    fn slopes_and_curvatures_are_the_derivatives() {
        const H: f64 = 1e-5;
        for activation in ALL {
            for z in POINTS {
                let (_, slope, curvature) = activation.value_slope_curvature(z);
                let f = |z: f64| activation.value_and_slope(z).0;
                let numeric_slope = (f(z + H) - f(z - H)) / (2.0 * H);
                assert!(
                    (slope - numeric_slope).abs() < 1e-8,
                    "{activation:?}′({z}) = {slope}, numerically {numeric_slope}"
                );
                assert_eq!(activation.value_and_slope(z).1, slope, "{activation:?}′({z})");
                let f1 = |z: f64| activation.value_and_slope(z).1;
                let numeric_curvature = (f1(z + H) - f1(z - H)) / (2.0 * H);
                assert!(
                    (curvature - numeric_curvature).abs() < 1e-8,
                    "{activation:?}″({z}) = {curvature}, numerically {numeric_curvature}"
                );
            }
        }
    }

    #[test]
    fn buffers_get_the_values_and_slopes_of_each_element() {
        for activation in ALL {
            let mut values = POINTS.to_vec();
            activation.apply(&mut values);
            let (mut with_slope, mut slopes) = (POINTS.to_vec(), vec![0.0; POINTS.len()]);
            activation.apply_with_slope(&mut with_slope, &mut slopes);
            for (i, z) in POINTS.into_iter().enumerate() {
                let want = activation.value_and_slope(z);
                assert_eq!((values[i], with_slope[i], slopes[i]), (want.0, want.0, want.1), "{activation:?} at {z}");
            }
        }
    }

    /// The names the front ends print are the spellings `--activation` accepts.
    #[test]
    fn names_are_the_flag_values() {
        use clap::ValueEnum;
        for activation in ALL {
            let value = activation.to_possible_value().expect("every activation is a flag value");
            assert_eq!(activation.name(), value.get_name());
        }
    }
}
