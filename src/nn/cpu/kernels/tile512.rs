//! The 512-bit register tile: an R × 32 block of C, two panels of B side by side, one zmm
//! register per row and panel, for CPUs with two 512-bit FMA units per core (twice the
//! ymm tile's FMAs per cycle). Each output is the same chain of FMAs as in the ymm
//! [`tile`](super::tile) and the epilogue is the same SiLU code on wider registers, so the
//! two tiles give the same bits.

use std::arch::x86_64::*;

use super::NR;
use super::silu::silu_n;
use super::tile::{Out, Start};

/// Rows of the 512-bit tile: 12 × 2 accumulators fill 24 of the 32 zmm registers, leaving
/// the two B vectors and room for the compiler; 24 independent chains hide the FMA latency
/// (4 cycles × 2 units needs at least 8).
pub const MR_WIDE: usize = 12;

/// A wide tile's operands: k, A's corner and (row, column) strides, B's first panel, B's
/// panel stride (its rows are [`NR`] floats apart, as both sweeps lay B out), the start,
/// the outputs.
pub(super) type WideTileArgs = (usize, *const f32, (usize, usize), *const f32, usize, Start, Out);

/// One R × 32 block of C: R rows of A against two panels of B (the second `panel_stride`
/// floats after the first), accumulated over the whole k, then activated and stored once.
/// `V` = 2R accumulators (row i's panels at 2i and 2i + 1). `PACKED_A`: A was packed
/// [`MR_WIDE`] floats per k; `CONTIGUOUS_A`: A's column stride is 1 (A read along its
/// rows), so its offsets within a pass are constants too; otherwise the stride given.
#[target_feature(enable = "avx512f,avx2,fma")]
pub(super) unsafe fn tile_wide<const R: usize, const V: usize, const PACKED_A: bool, const CONTIGUOUS_A: bool>(
    (k, a, (rs, cs), b, panel_stride, start, out): WideTileArgs,
) {
    debug_assert_eq!(V, 2 * R);
    let (rs, cs) = if PACKED_A {
        (1, MR_WIDE)
    } else if CONTIGUOUS_A {
        (rs, 1)
    } else {
        (rs, cs)
    };
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
    // One pointer per row of A, as in the ymm tile. Four steps of k per pass, so the
    // pointers move once per four and A's and B's offsets within a pass are constants of
    // the instructions: fewer integer operations competing with the FMAs for ports.
    let mut a_rows: [*const f32; R] = std::array::from_fn(|i| a.add(i * rs));
    let mut b_k = b;
    let step = |acc: &mut [__m512; V], a_rows: &[*const f32; R], b_k: *const f32, u: usize| {
        let b0 = _mm512_loadu_ps(b_k.add(u * NR));
        let b1 = _mm512_loadu_ps(b_k.add(u * NR + panel_stride));
        for (pair, a_row) in acc.chunks_exact_mut(2).zip(a_rows.iter()) {
            let x = _mm512_set1_ps(*a_row.add(u * cs));
            pair[0] = _mm512_fmadd_ps(x, b0, pair[0]);
            pair[1] = _mm512_fmadd_ps(x, b1, pair[1]);
        }
    };
    for _ in 0..k / 4 {
        for u in 0..4 {
            step(&mut acc, &a_rows, b_k, u);
        }
        a_rows.iter_mut().for_each(|a_row| *a_row = a_row.add(4 * cs));
        b_k = b_k.add(4 * NR);
    }
    for u in 0..k % 4 {
        step(&mut acc, &a_rows, b_k, u);
    }
    finish(acc, out);
}

/// Activates and stores a wide tile's V accumulators (row i's panels at 2i and 2i + 1), two
/// rows (four registers) at a time: SiLU's temporaries for all of them at once would not fit
/// in the registers and would spill. The sums arrive by value: indexing the tile's own `acc`
/// by a loop variable would keep it in memory through the k loop.
#[inline(always)]
pub(super) unsafe fn finish<const V: usize>(sums: [__m512; V], out: Out) {
    let mut v0 = 0;
    while v0 < V {
        if V - v0 >= 4 {
            epilogue::<4>(sums[v0..v0 + 4].try_into().unwrap(), v0, out);
            v0 += 4;
        } else {
            epilogue::<2>(sums[v0..v0 + 2].try_into().unwrap(), v0, out);
            v0 += 2;
        }
    }
}

/// Activates N accumulators of a wide tile, from accumulator `v0` on (row v0 / 2), and
/// stores them (and the slopes) where `out` says.
#[inline(always)]
unsafe fn epilogue<const N: usize>(acc: [__m512; N], v0: usize, out: Out) {
    let (values, slopes) = match (out.silu, out.slope.is_some()) {
        (true, true) => silu_n::<__m512, N, true>(acc),
        (true, false) => silu_n::<__m512, N, false>(acc),
        (false, _) => (acc, acc),
    };
    for i in 0..N {
        let v = v0 + i;
        let at = (v / 2) * out.stride + 16 * (v % 2);
        let value = match out.times {
            Some(t) => _mm512_mul_ps(values[i], _mm512_loadu_ps(t.add(at))),
            None => values[i],
        };
        _mm512_storeu_ps(out.c.add(at), value);
        if let Some(s) = out.slope {
            _mm512_storeu_ps(s.add(at), slopes[i]);
        }
    }
}
