//! The score network: a small multilayer perceptron 2 → H → … → H → 2 with a smooth
//! activation, its hand-written forward and backward passes, Adam and the learning-rate
//! schedule. Generic over the float type: training runs in `f32`, gradient checks in `f64`.

pub mod activation;
pub mod adam;
pub mod linear;
pub mod mlp;
pub mod schedule;

pub use activation::Activation;
pub use adam::{Adam, AdamConfig};
pub use linear::Linear;
pub use mlp::{Mlp, Scratch, Workspace};
pub use schedule::StepDecay;

/// The float types the network runs in (`f32` and `f64`).
pub trait Real: ndarray::NdFloat + Send + Sync + 'static {
    /// A constant of this type (literals in generic code).
    fn lit(x: f64) -> Self;
    fn as_f64(self) -> f64;
}

impl Real for f32 {
    fn lit(x: f64) -> Self {
        x as f32
    }
    fn as_f64(self) -> f64 {
        f64::from(self)
    }
}

impl Real for f64 {
    fn lit(x: f64) -> Self {
        x
    }
    fn as_f64(self) -> f64 {
        self
    }
}
