//! Hand-written f32 kernels for x86-64, picked at run time ([`path`](super::path)): AVX2 +
//! FMA everywhere they exist, and a 512-bit register tile on CPUs with two 512-bit FMA units
//! per core. A register-tiled matrix product with arbitrary strides, SiLU with a vectorised
//! `exp`, and the skinny 2-wide products. The network's generic code calls them through
//! `nn::ops` when the element type is `f32` and the path is not the portable one; everything
//! else takes the portable path.
//!
//! Why not only `matrixmultiply`: its sgemm packs both operands on every call and is slow on
//! the skinny shapes (`docs/performance.md`, "Measured figures moved from module docs"),
//! and the activations went through `libm`'s scalar `expf`. Here the weights are packed
//! once (per step in training, once per run in sampling), the strides let the backward pass
//! read δ and the activations in place, and the activation runs a register at a time.
//!
//! Every routine here computes each output in a fixed order that depends only on the shapes,
//! so results are the same bit for bit however the callers split the work, and on either
//! path: the 512-bit tile runs the same FMA chains and the same SiLU operations.
//!
//! The parts, one job each: `pack` lays the weights out in panels; `gemm` sweeps the
//! register `tile` (ymm) or `tile512` (zmm) over C (copying a strided B block by block
//! first); `lanes` is the register width the SiLU code is written over; `silu` is the
//! vectorised activation, both the tiles' epilogue and a pass over a slice; `two_wide` holds
//! the 2 → H and H → 2 layers; `column_sums` the backward pass's one-pass reductions;
//! `peak` measures a core's FMA peak for `bench`; `bf16` the opt-in bf16 product of
//! sampling; and [`loops`] the element-wise rest. This
//! file is their face: the names `ops` calls, the same as the stand-in `fallback.rs` offers
//! elsewhere.

// The bodies of the `unsafe fn`s in these modules are intrinsics and raw pointer reads from
// end to end; their callers state the safety once.
#![allow(unsafe_op_in_unsafe_fn)]

mod bf16;
mod column_sums;
mod gemm;
mod lanes;
pub mod loops;
mod pack;
mod peak;
mod silu;
mod tile;
mod tile512;
mod two_wide;

pub use super::operands::{Epilogue, MR, NR, Panels, RowWeights, Strided};
use super::path::{self, KernelPath};
pub use bf16::{BF16_WIDTH_MULTIPLE, bf16_available, pack_pairs, silu_dense_pairs, to_bf16, to_pairs};
pub use column_sums::column_sums;
pub use gemm::{gemm, gemm_with};
pub use pack::{pack_rows, pack_transposed};
pub use peak::fma_peak;
pub use silu::silu;
pub use two_wide::{input_layer, two_dots};

/// Whether the kernels run in this process: the CPU has them and `DSM_TUI_KERNELS` does not
/// ask for the portable code ([`path::chosen`], decided once).
pub fn available() -> bool {
    path::chosen() != KernelPath::Portable
}
