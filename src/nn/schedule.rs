//! The course's learning-rate schedule: PyTorch's `StepLR(step_size = 1, gamma)`, stepped
//! once per epoch, so epoch e (from 0) trains at lr·γᵉ.

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepDecay {
    pub base_lr: f64,
    pub gamma: f64,
}

impl StepDecay {
    pub fn lr_at_epoch(&self, epoch: usize) -> f64 {
        self.base_lr * self.gamma.powi(epoch as i32)
    }
}
