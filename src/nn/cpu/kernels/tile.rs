//! The register tile, where the matrix product's work is done: an R × 16 block of C
//! accumulated in 2R ymm registers over the whole k, then finished in registers by the
//! epilogue (SiLU, with or without its slope, or a product) and stored once. Apart so that
//! [`gemm`](mod@super::gemm) reads as the choice of blocks and this file as the arithmetic.

use std::arch::x86_64::*;

use super::silu::silu_n;

/// Where a tile stores, and what its epilogue does: C, SiLU's slope and the factor of
/// `Epilogue::Times` (each laid out like C, row stride `stride`), from the tile's corner on.
#[derive(Clone, Copy)]
pub(super) struct Out {
    pub(super) c: *mut f32,
    pub(super) slope: Option<*mut f32>,
    pub(super) times: Option<*const f32>,
    pub(super) stride: usize,
    pub(super) silu: bool,
}

impl Out {
    /// The same outputs from row `i`, column `j` on.
    ///
    /// # Safety
    /// (i, j) must lie inside the C (and slope) that `gemm` checked.
    pub(super) unsafe fn offset(self, i: usize, j: usize) -> Self {
        let at = i * self.stride + j;
        Self { c: self.c.add(at), slope: self.slope.map(|s| s.add(at)), times: self.times.map(|t| t.add(at)), ..self }
    }
}

/// What a tile's accumulators start from.
#[derive(Clone, Copy)]
pub(super) enum Start {
    Zero,
    /// The bias row (16 floats at this pointer).
    Bias(*const f32),
    /// The C that an earlier block of k stored (raw, not activated).
    Carry,
}

/// One R × 16 block of C: R rows of A against one panel of B, accumulated in registers over
/// the whole k, then activated and stored once. `V` = 2R accumulators (row i's two halves
/// at 2i and 2i + 1), a separate parameter only because `[_; 2 * R]` is not yet expressible.
/// `PACKED_A`: 0 when A is read through its strides; otherwise A was packed by
/// `gemm::gemm_packed` (or its 512-bit twin), `PACKED_A` floats per k, so its strides are
/// known here. It also gives each GEMM sweep its own instances, each called from one place:
/// shared instances were no longer inlined (`#[inline(always)]` is refused with
/// `#[target_feature]`), and sampling lost measurably to the calls (`docs/performance.md`,
/// "Measured figures moved from module docs"; seen again when the AVX-512 sweeps first
/// shared the ymm tile's instances: −4% at every training shape).
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn tile<const R: usize, const V: usize, const PACKED_A: usize>(
    (k, a, (rs, cs), b, b_row_stride, start, out): (usize, *const f32, (usize, usize), *const f32, usize, Start, Out),
) {
    debug_assert_eq!(V, 2 * R);
    let (rs, cs) = if PACKED_A > 0 { (1, PACKED_A) } else { (rs, cs) };
    let mut acc = [_mm256_setzero_ps(); V];
    match start {
        Start::Zero => {}
        Start::Bias(bias) => {
            let (b0, b1) = (_mm256_loadu_ps(bias), _mm256_loadu_ps(bias.add(8)));
            for pair in acc.chunks_exact_mut(2) {
                (pair[0], pair[1]) = (b0, b1);
            }
        }
        Start::Carry => {
            for (v, acc) in acc.iter_mut().enumerate() {
                *acc = _mm256_loadu_ps(out.c.add((v / 2) * out.stride + 8 * (v % 2)));
            }
        }
    }
    // One pointer per row of A, each advanced on its own: a single pointer stepped from row
    // to row made a chain of R dependent adds per k, as long as the FMAs themselves.
    let mut a_rows: [*const f32; R] = std::array::from_fn(|i| a.add(i * rs));
    let mut b_k = b;
    for _ in 0..k {
        let b0 = _mm256_loadu_ps(b_k);
        let b1 = _mm256_loadu_ps(b_k.add(8));
        for (pair, a_row) in acc.chunks_exact_mut(2).zip(a_rows.iter_mut()) {
            let x = _mm256_broadcast_ss(&**a_row);
            pair[0] = _mm256_fmadd_ps(x, b0, pair[0]);
            pair[1] = _mm256_fmadd_ps(x, b1, pair[1]);
            *a_row = a_row.add(cs);
        }
        b_k = b_k.add(b_row_stride);
    }
    // A match, not a helper: called from every tile instance, a helper was not inlined.
    let (values, slopes) = match (out.silu, out.slope.is_some()) {
        (true, true) => silu_n::<__m256, V, true>(acc),
        (true, false) => silu_n::<__m256, V, false>(acc),
        (false, _) => (acc, acc),
    };
    for v in 0..V {
        let at = (v / 2) * out.stride + 8 * (v % 2);
        let value = match out.times {
            Some(t) => _mm256_mul_ps(values[v], _mm256_loadu_ps(t.add(at))),
            None => values[v],
        };
        _mm256_storeu_ps(out.c.add(at), value);
        if let Some(s) = out.slope {
            _mm256_storeu_ps(s.add(at), slopes[v]);
        }
    }
}
