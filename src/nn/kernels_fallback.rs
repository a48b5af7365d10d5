//! Stand-in for `kernels.rs` on CPUs other than x86-64: the same names, and `available()`
//! always false, so `ops` takes its portable path and none of these bodies runs.

/// Rows of the register tile (unused here; kept so the two modules have the same names).
pub const MR: usize = 6;
/// Width of a panel of B.
pub const NR: usize = 16;

pub fn available() -> bool {
    false
}

#[derive(Clone, Copy)]
pub struct Strided<'a> {
    pub data: &'a [f32],
    pub row_stride: usize,
    pub col_stride: usize,
}

#[derive(Clone, Copy)]
pub struct Panels<'a> {
    pub data: &'a [f32],
    pub row_stride: usize,
    pub panel_stride: usize,
}

#[derive(Clone, Copy)]
pub struct RowWeights<'a> {
    pub data: &'a [f32],
    pub stride: usize,
}

pub enum Epilogue<'a> {
    Store,
    Silu,
    SiluWithSlope(&'a mut [f32]),
    Times(&'a [f32]),
}

const UNAVAILABLE: &str = "the f32 kernels need x86-64; callers check kernels::available()";

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
