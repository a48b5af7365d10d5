//! Adam (Kingma & Ba 2015) exactly as PyTorch's `torch.optim.Adam` computes it without
//! weight decay or amsgrad:
//!
//! m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,
//! θ ← θ − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε).

use super::cpu::ops;
use super::{Linear, Real};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    pub lr: f64,
    pub betas: (f64, f64),
    pub eps: f64,
}

impl Default for AdamConfig {
    /// The paper's (and PyTorch's) values: lr 1e-3, β = (0.9, 0.999), ε = 1e-8.
    fn default() -> Self {
        Self { lr: 1e-3, betas: (0.9, 0.999), eps: 1e-8 }
    }
}

pub struct Adam<F> {
    pub config: AdamConfig,
    first_moment: Vec<Linear<F>>,
    second_moment: Vec<Linear<F>>,
    steps_taken: u32,
}

impl<F: Real> Adam<F> {
    pub fn new(config: AdamConfig, layers: &[Linear<F>]) -> Self {
        Self {
            config,
            first_moment: layers.iter().map(Linear::zeros_like).collect(),
            second_moment: layers.iter().map(Linear::zeros_like).collect(),
            steps_taken: 0,
        }
    }

    pub fn steps_taken(&self) -> u32 {
        self.steps_taken
    }

    /// One update of every parameter from its gradient.
    pub fn step(&mut self, layers: &mut [Linear<F>], grads: &[Linear<F>]) {
        self.steps_taken += 1;
        let AdamConfig { lr, betas: (b1, b2), eps } = self.config;
        let t = self.steps_taken as i32;
        let step_size = F::lit(lr / (1.0 - b1.powi(t)));
        let inv_sqrt_bias2 = F::lit(1.0 / (1.0 - b2.powi(t)).sqrt());
        let (b1, b2, eps) = (F::lit(b1), F::lit(b2), F::lit(eps));
        let constants = [b1, b2, F::one() - b1, F::one() - b2, step_size, inv_sqrt_bias2, eps];

        let moments = self.first_moment.iter_mut().zip(self.second_moment.iter_mut());
        for ((layer, grad), (m, v)) in layers.iter_mut().zip(grads).zip(moments) {
            let tensors = layer.tensors_mut().into_iter().zip(grad.tensors());
            let moments = m.tensors_mut().into_iter().zip(v.tensors_mut());
            for ((p, g), (m, v)) in tensors.zip(moments) {
                ops::adam_update(p, g, m, v, constants);
            }
        }
    }
}
