//! How the network's layers run fast on a CPU: the layer operations (`ops`) send `f32`
//! work to hand-written AVX-512 / AVX2 + FMA kernels ([`kernels`]) on the [`path`] chosen
//! for this CPU, and everything else through ndarray and plain loops; a second thread
//! (`partner`) takes half of each large product. Everything `unsafe` in the crate is here.

#[cfg(target_arch = "x86_64")]
pub mod kernels;
/// Elsewhere the kernels' names exist but `available()` is false: the portable path runs.
#[cfg(not(target_arch = "x86_64"))]
#[path = "fallback.rs"]
pub mod kernels;
mod operands;
pub(crate) mod ops;
pub(crate) mod partner;
pub mod path;
