//! The score network: a small multilayer perceptron 2 → H → … → H → 2 with a smooth
//! activation, its hand-written forward and backward passes, Adam and the learning-rate
//! schedule. Generic over the float type: training runs in `f32`, gradient checks in `f64`.
//! The speed engine lives apart, in [`cpu`]: a reader after the model itself needs only
//! the files here.

pub mod activation;
pub mod adam;
pub mod cpu;
pub mod linear;
pub mod mlp;
pub mod schedule;

pub use activation::Activation;
pub use adam::{Adam, AdamConfig};
pub use linear::Linear;
pub use mlp::{Evaluator, Mlp, Precision, Scratch, Workspace};
pub use schedule::StepDecay;

/// The float types the network runs in (`f32` and `f64`).
pub trait Real: ndarray::NdFloat + Send + Sync + 'static {
    /// A constant of this type (literals in generic code).
    fn lit(x: f64) -> Self;
    fn as_f64(self) -> f64;
    /// This slice as `f32`s when `Self` is `f32` (so generic code can hand it to the f32
    /// kernels), `None` otherwise.
    fn as_f32(s: &[Self]) -> Option<&[f32]>;
    fn as_f32_mut(s: &mut [Self]) -> Option<&mut [f32]>;
}

impl Real for f32 {
    fn lit(x: f64) -> Self {
        x as f32
    }
    fn as_f64(self) -> f64 {
        f64::from(self)
    }
    fn as_f32(s: &[Self]) -> Option<&[f32]> {
        Some(s)
    }
    fn as_f32_mut(s: &mut [Self]) -> Option<&mut [f32]> {
        Some(s)
    }
}

impl Real for f64 {
    fn lit(x: f64) -> Self {
        x
    }
    fn as_f64(self) -> f64 {
        self
    }
    fn as_f32(_: &[Self]) -> Option<&[f32]> {
        None
    }
    fn as_f32_mut(_: &mut [Self]) -> Option<&mut [f32]> {
        None
    }
}
