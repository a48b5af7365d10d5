//! The operands of the f32 kernels, shared by `kernels/` and its stand-in
//! `fallback.rs`, so that the portable build has the same types to name.

/// Rows of the register tile: 6 × 16 floats fill 12 of the 16 ymm registers with
/// accumulators (BLIS's shape for AVX2), leaving room for two B vectors and a broadcast.
pub const MR: usize = 6;
/// Columns of the register tile (two ymm vectors); B is read in panels this wide.
pub const NR: usize = 16;

/// A matrix in a flat slice: element (i, k) at `data[i * row_stride + k * col_stride]`.
#[derive(Clone, Copy)]
pub struct Strided<'a> {
    pub data: &'a [f32],
    pub row_stride: usize,
    pub col_stride: usize,
}

/// The right-hand operand B (`[k, n]`), read in panels of [`NR`] columns: element (k, j) at
/// `data[(j / NR) * panel_stride + k * row_stride + j % NR]`. Row-major B is
/// `panel_stride = NR`, `row_stride = n`; B packed by `kernels::pack_transposed` is
/// `panel_stride = NR * k`, `row_stride = NR`.
#[derive(Clone, Copy)]
pub struct Panels<'a> {
    pub data: &'a [f32],
    pub row_stride: usize,
    pub panel_stride: usize,
}

/// What happens to a block of C = A·B (+ bias) before it is stored: nothing, SiLU applied
/// in registers (optionally also storing SiLU′ into a matrix laid out like C), or a product
/// with a matrix laid out like C (the backward pass's (δ·W) ⊙ f′). Fusing the activation into
/// the tile keeps twelve independent `exp`s in flight, and either saves a pass over memory.
pub enum Epilogue<'a> {
    Store,
    Silu,
    SiluWithSlope(&'a mut [f32]),
    Times(&'a [f32]),
}

/// One weight per row of a matrix: row r's is `data[r * stride]` (a column of a row-major
/// matrix: x's first coordinate is `RowWeights { data: x, stride: 2 }`).
#[derive(Clone, Copy)]
pub struct RowWeights<'a> {
    pub data: &'a [f32],
    pub stride: usize,
}
