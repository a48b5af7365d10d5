//! How good the learned score and its samples are, measured against independent truth:
//! - [`metrics`]: sample quality (energy distance, the moons' shares), as the course's
//!   `metrics.py` defines it;
//! - [`fisher`]: the Fisher divergence to the noised training set, whose score is exact;
//! - [`mixture`]: Gaussian mixtures blurred by σ in closed form (density, score, divergence);
//! - [`likelihood`]: the model's exact log-likelihood through the probability-flow ODE;
//! - [`score_field`]: the learned and the exact score on a lattice, for the field view.

pub mod fisher;
pub mod likelihood;
pub mod metrics;
pub mod mixture;
pub mod score_field;
