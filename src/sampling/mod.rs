//! Sampling with a learned score: the Langevin particles and the samplers they follow.
//! - [`langevin`]: the particles and one Langevin step, single-σ or annealed over levels;
//! - [`chain`]: the sampler a run uses, bound to its parameters and advanced in pieces;
//! - [`diffusion`]: reverse diffusion and the probability-flow ODE down a grid of σ;
//! - [`compare`]: single-σ against annealed Langevin, each from its start, on one model;
//! - [`paths`]: a few particles traced through a whole chain (the paths view);
//! - [`start`]: where the particles start (U[−1, 1]², or annealing's prior).

pub mod chain;
pub mod compare;
pub mod diffusion;
pub mod langevin;
pub mod paths;
pub mod start;
