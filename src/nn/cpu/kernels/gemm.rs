//! The matrix product C = A·B (+ bias), then the epilogue: the bounds checked once, the
//! register tile ([`super::tile`]) swept over C one panel of B at a time, and a last,
//! partial panel in plain loops. B in contiguous panels (the packed weights) is read in
//! place; B whose panels are strided (the weight gradient δᵀ·a, the activations read in
//! place) is first copied block by block, because its rows would evict each other in L1.
//! Either way every output is the same chain of FMAs, bit for bit.

use std::mem::MaybeUninit;

use super::tile::{Out, Start, tile};
use super::{Epilogue, MR, NR, Panels, Strided, available};

impl Panels<'_> {
    /// Element (k, j), for the last, partial panel's plain loops.
    fn at(&self, k: usize, j: usize) -> f32 {
        self.data[(j / NR) * self.panel_stride + k * self.row_stride + j % NR]
    }
}

/// C = A·B (+ 1·biasᵀ), then the epilogue, with A `[m, k]`, B `[k, n]` and C `[m, n]`
/// row-major with row stride `c_stride`.
pub fn gemm(
    (m, n, k): (usize, usize, usize),
    a: Strided,
    b: Panels,
    bias: Option<&[f32]>,
    c: &mut [f32],
    c_stride: usize,
    epilogue: Epilogue,
) {
    assert!(available(), "the caller checks kernels::available()");
    if m == 0 || n == 0 {
        return;
    }
    // Bounds checked once here, so the tiles can read with raw pointers.
    assert!(k > 0 && (m - 1) * a.row_stride + (k - 1) * a.col_stride < a.data.len(), "A out of bounds");
    let full = n / NR;
    if full > 0 {
        assert!((full - 1) * b.panel_stride + (k - 1) * b.row_stride + NR <= b.data.len(), "B out of bounds");
    }
    assert!((m - 1) * c_stride + n <= c.len(), "C out of bounds");
    if let Some(bias) = bias {
        assert!(bias.len() >= n);
    }
    let (silu, mut slope, times) = match epilogue {
        Epilogue::Store => (false, None, None),
        Epilogue::Silu => (true, None, None),
        Epilogue::SiluWithSlope(slope) => (true, Some(slope), None),
        Epilogue::Times(times) => (false, None, Some(times)),
    };
    if let Some(slope) = &slope {
        assert!(slope.len() >= (m - 1) * c_stride + n, "slope out of bounds");
    }
    if let Some(times) = times {
        assert!(times.len() >= (m - 1) * c_stride + n, "factor out of bounds");
    }
    let out = Out {
        c: c.as_mut_ptr(),
        slope: slope.as_deref_mut().map(|s| s.as_mut_ptr()),
        times: times.map(|t| t.as_ptr()),
        stride: c_stride,
        silu,
    };
    // SAFETY: the features were checked above; every index the tiles form is below the
    // bounds just asserted.
    unsafe {
        if b.row_stride == NR {
            gemm_full_panels((m, full, k), a, b, bias, out)
        } else {
            gemm_packed((m, full, k), a, b, bias, out)
        }
    };
    // A last, partial panel (widths that are not a multiple of 16): plain loops, then the
    // same activation code on a padded copy.
    if full * NR < n {
        let cols = full * NR..n;
        for i in 0..m {
            let mut row = [0.0f32; NR];
            for (v, j) in row.iter_mut().zip(cols.clone()) {
                let mut sum = bias.map_or(0.0, |b| b[j]);
                for kk in 0..k {
                    sum = a.data[i * a.row_stride + kk * a.col_stride].mul_add(b.at(kk, j), sum);
                }
                *v = sum;
            }
            let mut row_slope = [0.0f32; NR];
            if silu {
                super::silu(&mut row, Some(&mut row_slope));
            }
            let range = i * c_stride + cols.start..i * c_stride + cols.end;
            if let Some(times) = times {
                row.iter_mut().zip(&times[range.clone()]).for_each(|(v, &t)| *v *= t);
            }
            c[range.clone()].copy_from_slice(&row[..cols.len()]);
            if let Some(slope) = slope.as_deref_mut() {
                slope[range].copy_from_slice(&row_slope[..cols.len()]);
            }
        }
    }
}

/// The full panels of C for a B already in contiguous panels (the packed weights): the tiles
/// read A and B in place.
#[target_feature(enable = "avx2,fma")]
unsafe fn gemm_full_panels(
    (m, panels, k): (usize, usize, usize),
    a: Strided,
    b: Panels,
    bias: Option<&[f32]>,
    out: Out,
) {
    let (a_ptr, a_strides) = (a.data.as_ptr(), (a.row_stride, a.col_stride));
    // Panel-major order: one panel of B (k × 16 floats) stays in L1 while every row block of
    // A streams past it.
    for p in 0..panels {
        let b_ptr = b.data.as_ptr().add(p * b.panel_stride);
        let start = bias.map_or(Start::Zero, |v| Start::Bias(v.as_ptr().add(p * NR)));
        let mut i = 0;
        while i + MR <= m {
            let (a_rows, out) = (a_ptr.add(i * a.row_stride), out.offset(i, p * NR));
            tile::<MR, { 2 * MR }, false>((k, a_rows, a_strides, b_ptr, b.row_stride, start, out));
            i += MR;
        }
        let args = (k, a_ptr.add(i * a.row_stride), a_strides, b_ptr, b.row_stride, start, out.offset(i, p * NR));
        match m - i {
            1 => tile::<1, 2, false>(args),
            2 => tile::<2, 4, false>(args),
            3 => tile::<3, 6, false>(args),
            4 => tile::<4, 8, false>(args),
            5 => tile::<5, 10, false>(args),
            _ => {}
        }
    }
}

/// Rows of B (and columns of A) packed per block by [`gemm_packed`]: of 64, 128 and 256 (with
/// 4 panels a block), 128 ran the weight gradient fastest (`docs/performance.md`,
/// "Measured figures moved from module docs").
const KC: usize = 128;
/// Panels of B packed per block by [`gemm_packed`]: KC × NB × NR floats (128 KB of stack),
/// all of width 256 at once.
const NB: usize = 16;

/// [`gemm_full_panels`] for a B whose panels are not contiguous (the weight gradient δᵀ·a,
/// where B is the activations read in place): their rows lie 4·n bytes apart, so a panel's
/// rows fall into a few L1 sets and evict each other, and A (δ read down its columns) does
/// the same. Both are copied, KC rows of B at a time, into contiguous blocks: B for NB
/// panels, A one tile's rows at a time, then used by every panel of the block. The tiles
/// carry C from one block of k to the next, so every output is the same chain of FMAs as
/// unblocked, bit for bit; the bias starts the first block, the epilogue ends the last.
#[target_feature(enable = "avx2,fma")]
unsafe fn gemm_packed((m, panels, k): (usize, usize, usize), a: Strided, b: Panels, bias: Option<&[f32]>, out: Out) {
    // Left uninitialised (zeroing 128 KB would cost as much as a small product): only what
    // was just packed is read.
    let mut b_block = [MaybeUninit::<f32>::uninit(); KC * NB * NR];
    let mut a_block = [MaybeUninit::<f32>::uninit(); KC * MR];
    let (b_packed, a_packed) = (b_block.as_mut_ptr().cast::<f32>(), a_block.as_mut_ptr().cast::<f32>());
    let a_ptr = a.data.as_ptr();
    for p0 in (0..panels).step_by(NB) {
        let block_panels = NB.min(panels - p0);
        for k0 in (0..k).step_by(KC) {
            let kc = KC.min(k - k0);
            for pl in 0..block_panels {
                let src = b.data.as_ptr().add((p0 + pl) * b.panel_stride + k0 * b.row_stride);
                let dst = b_packed.add(pl * KC * NR);
                for kk in 0..kc {
                    // A fixed-size copy, inlined (see `pack_rows`).
                    dst.add(kk * NR).cast::<[f32; NR]>().write(src.add(kk * b.row_stride).cast::<[f32; NR]>().read());
                }
            }
            let last = k0 + kc == k;
            let start = |p: usize| match bias {
                _ if k0 > 0 => Start::Carry,
                Some(bias) => Start::Bias(bias.as_ptr().add(p * NR)),
                None => Start::Zero,
            };
            let mut i = 0;
            while i < m {
                let rows = MR.min(m - i);
                let src = a_ptr.add(i * a.row_stride + k0 * a.col_stride);
                for kk in 0..kc {
                    let (src, dst) = (src.add(kk * a.col_stride), a_packed.add(kk * MR));
                    if rows == MR && a.row_stride == 1 {
                        // δ's rows: MR adjacent floats, copied as one fixed-size block.
                        dst.cast::<[f32; MR]>().write(src.cast::<[f32; MR]>().read());
                    } else {
                        for ii in 0..rows {
                            dst.add(ii).write(*src.add(ii * a.row_stride));
                        }
                    }
                }
                for p in p0..p0 + block_panels {
                    let tile_out = out.offset(i, p * NR);
                    // Only the last block of k activates; the others store the raw sums.
                    let tile_out =
                        if last { tile_out } else { Out { silu: false, slope: None, times: None, ..tile_out } };
                    let args = (
                        kc,
                        a_packed.cast_const(),
                        (1, MR),
                        b_packed.add((p - p0) * KC * NR).cast_const(),
                        NR,
                        start(p),
                        tile_out,
                    );
                    match rows {
                        1 => tile::<1, 2, true>(args),
                        2 => tile::<2, 4, true>(args),
                        3 => tile::<3, 6, true>(args),
                        4 => tile::<4, 8, true>(args),
                        5 => tile::<5, 10, true>(args),
                        _ => tile::<MR, { 2 * MR }, true>(args),
                    }
                }
                i += rows;
            }
        }
    }
}
