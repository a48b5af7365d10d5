//! The backward pass's reductions over rows in one pass: the bias gradients Σ δ and the
//! thin layers' weight gradients Σ xᵢ·δ and Σ gᵢ·a, with a block of columns' sums kept in
//! registers while the rows stream past. Each sum still runs in row order, so the bits are
//! those of adding the rows one at a time.

use std::arch::x86_64::*;

use super::{RowWeights, available};

/// Column sums of `m` (`[rows, cols]`, row-major) in one pass over it: `sum[c] = Σ_r m[r, c]`
/// when `sum` is given, and `out[c] = Σ_r w(r)·m[r, c]` for each `(w, out)` of `weighted`.
/// Each sum runs in row order with the product rounded before the add, so the bits are those
/// of adding the rows one at a time ([`loops::add`](super::loops::add),
/// [`loops::axpy`](super::loops::axpy)); but a block of columns' sums stays in registers
/// while the rows stream past, where the row-at-a-time loops loaded and stored every sum
/// once per row and read `m` once per sum.
pub fn column_sums<const J: usize>(
    m: &[f32],
    cols: usize,
    sum: Option<&mut [f32]>,
    weighted: [(RowWeights, &mut [f32]); J],
) {
    assert!(available(), "the caller checks kernels::available()");
    let rows = m.len() / cols;
    assert_eq!(m.len(), rows * cols);
    let (weights, mut outs) = (weighted.each_ref().map(|(w, _)| *w), weighted.map(|(_, out)| out));
    for (w, out) in weights.iter().zip(&outs) {
        assert!(out.len() == cols && (rows == 0 || w.data.len() > (rows - 1) * w.stride));
    }
    // SAFETY (all four): features checked above; every index is below the asserted lengths.
    match sum {
        Some(sum) => {
            assert_eq!(sum.len(), cols);
            // Eight vectors of plain sums when there is nothing else to hide the add latency.
            if J == 0 {
                unsafe { column_sums_avx2::<true, J, 8>(m, cols, sum, weights, &mut outs) }
            } else {
                unsafe { column_sums_avx2::<true, J, 2>(m, cols, sum, weights, &mut outs) }
            }
        }
        None if J == 0 => {}
        None => unsafe { column_sums_avx2::<false, J, 2>(m, cols, &mut [], weights, &mut outs) },
    }
}

/// [`column_sums`] in blocks of `8 · V` columns, then blocks of 8, then column by column.
#[target_feature(enable = "avx2,fma")]
unsafe fn column_sums_avx2<const SUM: bool, const J: usize, const V: usize>(
    m: &[f32],
    cols: usize,
    sum: &mut [f32],
    weights: [RowWeights; J],
    outs: &mut [&mut [f32]; J],
) {
    let mut c = 0;
    while c + 8 * V <= cols {
        column_block::<SUM, J, V>(m, cols, c, sum, weights, outs);
        c += 8 * V;
    }
    while c + 8 <= cols {
        column_block::<SUM, J, 1>(m, cols, c, sum, weights, outs);
        c += 8;
    }
    for c in c..cols {
        let (mut s, mut acc) = (0.0, [0.0; J]);
        for (r, row) in m.chunks_exact(cols).enumerate() {
            s += row[c];
            for (a, w) in acc.iter_mut().zip(&weights) {
                *a += w.data[r * w.stride] * row[c];
            }
        }
        if SUM {
            sum[c] = s;
        }
        for (out, a) in outs.iter_mut().zip(acc) {
            out[c] = a;
        }
    }
}

/// Columns `c..c + 8·V` of [`column_sums`].
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn column_block<const SUM: bool, const J: usize, const V: usize>(
    m: &[f32],
    cols: usize,
    c: usize,
    sum: &mut [f32],
    weights: [RowWeights; J],
    outs: &mut [&mut [f32]; J],
) {
    let mut s = [_mm256_setzero_ps(); V];
    let mut acc = [[_mm256_setzero_ps(); V]; J];
    for (r, row) in m.chunks_exact(cols).enumerate() {
        // Plain loops over the registers, not closures mapped over arrays, which the compiler
        // need not inline here (docs/performance.md, row 7).
        let block = &row[c..c + 8 * V];
        let mut v = [_mm256_setzero_ps(); V];
        for (i, v) in v.iter_mut().enumerate() {
            *v = _mm256_loadu_ps(block.as_ptr().add(8 * i));
        }
        if SUM {
            for (s, v) in s.iter_mut().zip(&v) {
                *s = _mm256_add_ps(*s, *v);
            }
        }
        for (a, w) in acc.iter_mut().zip(&weights) {
            let w = _mm256_set1_ps(w.data[r * w.stride]);
            for (a, v) in a.iter_mut().zip(&v) {
                *a = _mm256_add_ps(*a, _mm256_mul_ps(w, *v));
            }
        }
    }
    if SUM {
        for (i, v) in s.iter().enumerate() {
            _mm256_storeu_ps(sum[c + 8 * i..c + 8 * i + 8].as_mut_ptr(), *v);
        }
    }
    for (out, a) in outs.iter_mut().zip(&acc) {
        for (i, v) in a.iter().enumerate() {
            _mm256_storeu_ps(out[c + 8 * i..c + 8 * i + 8].as_mut_ptr(), *v);
        }
    }
}
