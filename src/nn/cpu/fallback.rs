//! Stand-in for `kernels/` on CPUs other than x86-64: the same names, and `available()`
//! always false, so `ops` takes its portable path and none of these bodies runs.

pub use super::operands::{Epilogue, MR, NR, Panels, RowWeights, Strided};

pub fn available() -> bool {
    false
}

const UNAVAILABLE: &str = "the f32 kernels need x86-64; callers check kernels::available()";

/// No FMA kernels here, so no peak to measure.
pub fn fma_peak(_: super::path::KernelPath, _: f64) -> Option<f64> {
    None
}

pub fn pack_transposed(_: &[f32], _: usize, _: usize, _: &mut [f32]) {
    unreachable!("{UNAVAILABLE}")
}

pub fn pack_rows(_: &[f32], _: usize, _: usize, _: &mut [f32]) {
    unreachable!("{UNAVAILABLE}")
}

pub fn gemm(_: (usize, usize, usize), _: Strided, _: Panels, _: Option<&[f32]>, _: &mut [f32], _: usize, _: Epilogue) {
    unreachable!("{UNAVAILABLE}")
}

pub fn silu(_: &mut [f32], _: Option<&mut [f32]>) {
    unreachable!("{UNAVAILABLE}")
}

pub fn two_dots(_: &[f32], _: usize, _: &[f32], _: [f32; 2], _: &mut [f32]) {
    unreachable!("{UNAVAILABLE}")
}

pub fn column_sums<const J: usize>(_: &[f32], _: usize, _: Option<&mut [f32]>, _: [(RowWeights, &mut [f32]); J]) {
    unreachable!("{UNAVAILABLE}")
}

pub const BF16_WIDTH_MULTIPLE: usize = 32;

pub fn bf16_available() -> bool {
    false
}

pub fn to_bf16(x: f32) -> u16 {
    let bits = x.to_bits();
    ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) as u16
}

pub fn pack_pairs(_: &[f32], _: usize, _: usize, _: &mut [u32]) {
    unreachable!("{UNAVAILABLE}")
}

pub fn to_pairs(_: &[f32], _: &mut [u32]) {
    unreachable!("{UNAVAILABLE}")
}

pub fn silu_dense_pairs(_: (usize, usize, usize), _: &[u32], _: &[u32], _: &[f32], _: &mut [f32]) {
    unreachable!("{UNAVAILABLE}")
}

pub fn input_layer(_: &[f32], _: &[f32], _: &[f32], _: &[f32], _: &mut [f32], _: Epilogue) {
    unreachable!("{UNAVAILABLE}")
}

pub mod loops {
    use super::UNAVAILABLE;

    pub fn axpy(_: f32, _: &[f32], _: &mut [f32]) {
        unreachable!("{UNAVAILABLE}")
    }

    pub fn add(_: &[f32], _: &mut [f32]) {
        unreachable!("{UNAVAILABLE}")
    }

    pub fn combine2(_: f32, _: &[f32], _: f32, _: &[f32], _: &[f32], _: &mut [f32]) {
        unreachable!("{UNAVAILABLE}")
    }

    pub fn adam(_: &mut [f32], _: &[f32], _: &mut [f32], _: &mut [f32], _: &[f32; 7]) {
        unreachable!("{UNAVAILABLE}")
    }
}
