//! The 512-bit register tile: an R × 32 block of C, two panels of B side by side, one zmm
//! register per row and panel, for CPUs with two 512-bit FMA units per core (twice the
//! ymm tile's FMAs per cycle). Each output is the same chain of FMAs as in the ymm
//! [`tile`](super::tile) and the epilogue is the same SiLU code on wider registers, so the
//! two tiles give the same bits.

use std::arch::x86_64::*;

use super::silu::silu_n;
use super::tile::{Out, Start};

/// Rows of the 512-bit tile: 12 × 2 accumulators fill 24 of the 32 zmm registers, leaving
/// the two B vectors and room for the compiler; 24 independent chains hide the FMA latency
/// (4 cycles × 2 units needs at least 8).
pub const MR_WIDE: usize = 12;

/// A wide tile's operands: k, A's corner and (row, column) strides, B's first panel, B's
/// (row, panel) strides, the start, the outputs.
pub(super) type WideTileArgs = (usize, *const f32, (usize, usize), *const f32, (usize, usize), Start, Out);

/// One R × 32 block of C: R rows of A against two panels of B (the second `panel_stride`
/// floats after the first), accumulated over the whole k, then activated and stored once.
/// `V` = 2R accumulators (row i's panels at 2i and 2i + 1). `PACKED_A`: A was packed
/// [`MR_WIDE`] floats per k.
#[target_feature(enable = "avx512f,avx2,fma")]
pub(super) unsafe fn tile_wide<const R: usize, const V: usize, const PACKED_A: bool>(
    (k, a, (rs, cs), b, (b_row_stride, panel_stride), start, out): WideTileArgs,
) {
    debug_assert_eq!(V, 2 * R);
    let (rs, cs) = if PACKED_A { (1, MR_WIDE) } else { (rs, cs) };
    let mut acc = [_mm512_setzero_ps(); V];
    match start {
        Start::Zero => {}
        Start::Bias(bias) => {
            let (b0, b1) = (_mm512_loadu_ps(bias), _mm512_loadu_ps(bias.add(16)));
            for pair in acc.chunks_exact_mut(2) {
                (pair[0], pair[1]) = (b0, b1);
            }
        }
        Start::Carry => {
            for (v, acc) in acc.iter_mut().enumerate() {
                *acc = _mm512_loadu_ps(out.c.add((v / 2) * out.stride + 16 * (v % 2)));
            }
        }
    }
    // One pointer per row of A, as in the ymm tile.
    let mut a_rows: [*const f32; R] = std::array::from_fn(|i| a.add(i * rs));
    let mut b_k = b;
    for _ in 0..k {
        let b0 = _mm512_loadu_ps(b_k);
        let b1 = _mm512_loadu_ps(b_k.add(panel_stride));
        for (pair, a_row) in acc.chunks_exact_mut(2).zip(a_rows.iter_mut()) {
            let x = _mm512_set1_ps(**a_row);
            pair[0] = _mm512_fmadd_ps(x, b0, pair[0]);
            pair[1] = _mm512_fmadd_ps(x, b1, pair[1]);
            *a_row = a_row.add(cs);
        }
        b_k = b_k.add(b_row_stride);
    }
    let (values, slopes) = match (out.silu, out.slope.is_some()) {
        (true, true) => silu_n::<__m512, V, true>(acc),
        (true, false) => silu_n::<__m512, V, false>(acc),
        (false, _) => (acc, acc),
    };
    for v in 0..V {
        let at = (v / 2) * out.stride + 16 * (v % 2);
        let value = match out.times {
            Some(t) => _mm512_mul_ps(values[v], _mm512_loadu_ps(t.add(at))),
            None => values[v],
        };
        _mm512_storeu_ps(out.c.add(at), value);
        if let Some(s) = out.slope {
            _mm512_storeu_ps(s.add(at), slopes[v]);
        }
    }
}
