//! Hand-written f32 kernels for x86-64 with AVX2 and FMA, picked at run time: a register-tiled
//! matrix product with arbitrary strides, SiLU with a vectorised `exp`, and the skinny 2-wide
//! products. The network's generic code calls them through `nn::ops` when the element
//! type is `f32` and the CPU has the features; everything else takes the portable path.
//!
//! Why not only `matrixmultiply`: its sgemm packs both operands on every call and is slow on
//! the skinny shapes (`docs/performance.md`, "Measured figures moved from module docs"),
//! and the activations went through `libm`'s scalar `expf`. Here the weights are packed
//! once (per step in training, once per run in sampling), the strides let the backward pass
//! read δ and the activations in place, and the activation runs eight lanes at a time.
//!
//! Every routine here computes each output in a fixed order that depends only on the shapes,
//! so results are the same bit for bit however the callers split the work.
//!
//! The parts, one job each: `pack` lays the weights out in panels; `gemm` sweeps the
//! register `tile` over C (copying a strided B block by block first); `silu` is the
//! vectorised activation, both the tiles' epilogue and a pass over a slice; `two_wide` holds
//! the 2 → H and H → 2 layers; `column_sums` the backward pass's one-pass reductions; and
//! [`loops`] the element-wise rest. This file is their face: the feature check and the
//! names `ops` calls, the same as the stand-in `fallback.rs` offers elsewhere.

// The bodies of the `unsafe fn`s in these modules are intrinsics and raw pointer reads from
// end to end; their callers state the safety once.
#![allow(unsafe_op_in_unsafe_fn)]

mod column_sums;
mod gemm;
pub mod loops;
mod pack;
mod silu;
mod tile;
mod two_wide;

pub use super::operands::{Epilogue, MR, NR, Panels, RowWeights, Strided};
pub use column_sums::column_sums;
pub use gemm::gemm;
pub use pack::{pack_rows, pack_transposed};
pub use silu::silu;
pub use two_wide::{input_layer, two_dots};

/// Whether this CPU can run the kernels (checked once; the macro caches the answer).
pub fn available() -> bool {
    is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
}
