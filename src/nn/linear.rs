//! A fully connected layer y = x·Wᵀ + b, stored as PyTorch stores `nn.Linear`
//! (weight `[out, in]`, bias `[out]`), initialised as PyTorch does:
//! W, b ~ U(−1/√in, 1/√in).

use ndarray::{Array1, Array2};
use rand::Rng;
use rand_distr::{Distribution, Uniform};

use super::Real;

#[derive(Clone, Debug, PartialEq)]
pub struct Linear<F> {
    /// `[out, in]`
    pub weight: Array2<F>,
    /// `[out]`
    pub bias: Array1<F>,
}

impl<F: Real> Linear<F> {
    pub fn init(inputs: usize, outputs: usize, rng: &mut impl Rng) -> Self {
        let bound = 1.0 / (inputs as f64).sqrt();
        let uniform = Uniform::new_inclusive(-bound, bound).expect("bound is finite and > 0");
        let weight = Array2::from_shape_fn((outputs, inputs), |_| F::lit(uniform.sample(rng)));
        let bias = Array1::from_shape_fn(outputs, |_| F::lit(uniform.sample(rng)));
        Self { weight, bias }
    }

    pub fn zeros(inputs: usize, outputs: usize) -> Self {
        Self { weight: Array2::zeros((outputs, inputs)), bias: Array1::zeros(outputs) }
    }

    pub fn inputs(&self) -> usize {
        self.weight.ncols()
    }

    pub fn outputs(&self) -> usize {
        self.weight.nrows()
    }

    pub fn zeros_like(&self) -> Self {
        Self::zeros(self.inputs(), self.outputs())
    }

    /// Weight then bias as flat slices (both are contiguous by construction).
    pub fn tensors_mut(&mut self) -> [&mut [F]; 2] {
        [
            self.weight.as_slice_mut().expect("weight is contiguous"),
            self.bias.as_slice_mut().expect("bias is contiguous"),
        ]
    }

    pub fn tensors(&self) -> [&[F]; 2] {
        [self.weight.as_slice().expect("weight is contiguous"), self.bias.as_slice().expect("bias is contiguous")]
    }

    pub fn cast<G: Real>(&self) -> Linear<G> {
        Linear { weight: self.weight.mapv(|v| G::lit(v.as_f64())), bias: self.bias.mapv(|v| G::lit(v.as_f64())) }
    }
}
