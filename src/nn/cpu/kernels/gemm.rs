//! The matrix product C = A·B (+ bias), then the epilogue: the bounds checked once, the
//! register tile ([`super::tile`]) swept over C one panel of B at a time, and a last,
//! partial panel in plain loops. B in contiguous panels (the packed weights) is read in
//! place; B whose panels are strided (the weight gradient δᵀ·a, the activations read in
//! place) is first copied block by block, because its rows would evict each other in L1.
//! Either way every output is the same chain of FMAs, bit for bit.

use std::mem::MaybeUninit;

use super::tile::{Out, Start, tile};
use super::tile512::{MR_WIDE, tile_wide};
use super::{Epilogue, MR, NR, Panels, Strided};
use crate::nn::cpu::path::{self, KernelPath};

impl Panels<'_> {
    /// Element (k, j), for the last, partial panel's plain loops.
    fn at(&self, k: usize, j: usize) -> f32 {
        self.data[(j / NR) * self.panel_stride + k * self.row_stride + j % NR]
    }
}

/// C = A·B (+ 1·biasᵀ), then the epilogue, with A `[m, k]`, B `[k, n]` and C `[m, n]`
/// row-major with row stride `c_stride`, on the process's kernel path.
pub fn gemm(
    shape: (usize, usize, usize),
    a: Strided,
    b: Panels,
    bias: Option<&[f32]>,
    c: &mut [f32],
    c_stride: usize,
    epilogue: Epilogue,
) {
    gemm_with(path::chosen(), shape, a, b, bias, c, c_stride, epilogue)
}

/// [`gemm`] on a given path (`Avx512` or `Avx2`), so tests can compare the two in one
/// process: the same bits either way.
#[allow(clippy::too_many_arguments)] // gemm's operands and the path
pub fn gemm_with(
    path: KernelPath,
    (m, n, k): (usize, usize, usize),
    a: Strided,
    b: Panels,
    bias: Option<&[f32]>,
    c: &mut [f32],
    c_stride: usize,
    epilogue: Epilogue,
) {
    assert!(path != KernelPath::Portable && path.runs_here(), "no {} kernels on this CPU", path.name());
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
        match (path, b.row_stride == NR) {
            // A read along its rows (the forward and backward products): its step along k
            // a constant of the tile's instructions.
            (KernelPath::Avx512, true) if a.col_stride == 1 => {
                gemm_full_panels_wide::<true>((m, full, k), a, b, bias, out)
            }
            (KernelPath::Avx512, true) => gemm_full_panels_wide::<false>((m, full, k), a, b, bias, out),
            (KernelPath::Avx512, false) => gemm_packed_wide((m, full, k), a, b, bias, out),
            (_, true) => gemm_full_panels((m, full, k), a, b, bias, out),
            (_, false) => gemm_packed((m, full, k), a, b, bias, out),
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
            tile::<MR, { 2 * MR }, 0>((k, a_rows, a_strides, b_ptr, b.row_stride, start, out));
            i += MR;
        }
        let args = (k, a_ptr.add(i * a.row_stride), a_strides, b_ptr, b.row_stride, start, out.offset(i, p * NR));
        match m - i {
            1 => tile::<1, 2, 0>(args),
            2 => tile::<2, 4, 0>(args),
            3 => tile::<3, 6, 0>(args),
            4 => tile::<4, 8, 0>(args),
            5 => tile::<5, 10, 0>(args),
            _ => {}
        }
    }
}

/// [`gemm_full_panels`] with the 512-bit tile over pairs of panels; an odd last panel takes
/// the ymm tile (the same bits).
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn gemm_full_panels_wide<const CONTIGUOUS: bool>(
    (m, panels, k): (usize, usize, usize),
    a: Strided,
    b: Panels,
    bias: Option<&[f32]>,
    out: Out,
) {
    let a_strides = (a.row_stride, a.col_stride);
    // Row blocks of A small enough to stay in L2 while every pair of panels passes over
    // them; without them A came from L3 once per pair when a shard's A outgrew L2.
    let block_rows = (A_BLOCK_FLOATS / k).max(1).div_ceil(MR_WIDE) * MR_WIDE;
    for i0 in (0..m).step_by(block_rows) {
        let rows = block_rows.min(m - i0);
        let (a, out) = (Strided { data: &a.data[i0 * a.row_stride..], ..a }, out.offset(i0, 0));
        let a_ptr = a.data.as_ptr();
        for p in (0..panels).step_by(2) {
            let b_ptr = b.data.as_ptr().add(p * b.panel_stride);
            let start = bias.map_or(Start::Zero, |v| Start::Bias(v.as_ptr().add(p * NR)));
            if p + 1 == panels {
                // An odd last panel: the ymm sweep over that one panel (each tile instance keeps
                // its one call site, so it stays inlined).
                let last = Panels { data: &b.data[p * b.panel_stride..], ..b };
                gemm_full_panels((rows, 1, k), a, last, bias.map(|v| &v[p * NR..]), out.offset(0, p * NR));
                continue;
            }
            let mut i = 0;
            let b_strides = b.panel_stride;
            while i + MR_WIDE <= rows {
                let (a_rows, out) = (a_ptr.add(i * a.row_stride), out.offset(i, p * NR));
                tile_wide::<MR_WIDE, { 2 * MR_WIDE }, false, CONTIGUOUS>((
                    k, a_rows, a_strides, b_ptr, b_strides, start, out,
                ));
                i += MR_WIDE;
            }
            let args = (k, a_ptr.add(i * a.row_stride), a_strides, b_ptr, b_strides, start, out.offset(i, p * NR));
            match rows - i {
                1 => tile_wide::<1, 2, false, CONTIGUOUS>(args),
                2 => tile_wide::<2, 4, false, CONTIGUOUS>(args),
                3 => tile_wide::<3, 6, false, CONTIGUOUS>(args),
                4 => tile_wide::<4, 8, false, CONTIGUOUS>(args),
                5 => tile_wide::<5, 10, false, CONTIGUOUS>(args),
                6 => tile_wide::<6, 12, false, CONTIGUOUS>(args),
                7 => tile_wide::<7, 14, false, CONTIGUOUS>(args),
                8 => tile_wide::<8, 16, false, CONTIGUOUS>(args),
                9 => tile_wide::<9, 18, false, CONTIGUOUS>(args),
                10 => tile_wide::<10, 20, false, CONTIGUOUS>(args),
                11 => tile_wide::<11, 22, false, CONTIGUOUS>(args),
                _ => {}
            }
        }
    }
}

/// Floats of A per row block of [`gemm_full_panels_wide`]: 256 KB, an eighth of this
/// Xeon's L2, leaving room for all of B (the weights) and the block of C.
const A_BLOCK_FLOATS: usize = 65536;

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
                        1 => tile::<1, 2, MR>(args),
                        2 => tile::<2, 4, MR>(args),
                        3 => tile::<3, 6, MR>(args),
                        4 => tile::<4, 8, MR>(args),
                        5 => tile::<5, 10, MR>(args),
                        _ => tile::<MR, { 2 * MR }, MR>(args),
                    }
                }
                i += rows;
            }
        }
    }
}

/// [`gemm_packed`] with the 512-bit tile over pairs of panels and A packed [`MR_WIDE`] rows
/// at a time; an odd last panel takes the ymm tile (the same bits).
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn gemm_packed_wide(
    (m, panels, k): (usize, usize, usize),
    a: Strided,
    b: Panels,
    bias: Option<&[f32]>,
    out: Out,
) {
    let mut b_block = [MaybeUninit::<f32>::uninit(); KC * NB * NR];
    let mut a_block = [MaybeUninit::<f32>::uninit(); KC * MR_WIDE];
    let (b_packed, a_packed) = (b_block.as_mut_ptr().cast::<f32>(), a_block.as_mut_ptr().cast::<f32>());
    for p0 in (0..panels).step_by(NB) {
        let block_panels = NB.min(panels - p0);
        for k0 in (0..k).step_by(KC) {
            let kc = KC.min(k - k0);
            pack_b_block(b, (p0, block_panels), (k0, kc), b_packed);
            let last = k0 + kc == k;
            let mut i = 0;
            while i < m {
                let rows = MR_WIDE.min(m - i);
                pack_a_block::<MR_WIDE>(a, (i, rows), (k0, kc), a_packed);
                for p in (p0..p0 + block_panels).step_by(2) {
                    let tile_out = block_out(out.offset(i, p * NR), last);
                    let b_panel = b_packed.add((p - p0) * KC * NR).cast_const();
                    let start = block_start(bias, k0, p);
                    if p + 1 == p0 + block_panels {
                        // An odd last panel: the ymm tile, six rows of the packed A at a time.
                        for i6 in (0..rows).step_by(MR) {
                            let a_rows = a_packed.add(i6).cast_const();
                            let args = (kc, a_rows, (1, MR_WIDE), b_panel, NR, start, tile_out.offset(i6, 0));
                            match rows - i6 {
                                1 => tile::<1, 2, MR_WIDE>(args),
                                2 => tile::<2, 4, MR_WIDE>(args),
                                3 => tile::<3, 6, MR_WIDE>(args),
                                4 => tile::<4, 8, MR_WIDE>(args),
                                5 => tile::<5, 10, MR_WIDE>(args),
                                _ => tile::<MR, { 2 * MR }, MR_WIDE>(args),
                            }
                        }
                        continue;
                    }
                    let args = (kc, a_packed.cast_const(), (1, MR_WIDE), b_panel, KC * NR, start, tile_out);
                    match rows {
                        1 => tile_wide::<1, 2, true, false>(args),
                        2 => tile_wide::<2, 4, true, false>(args),
                        3 => tile_wide::<3, 6, true, false>(args),
                        4 => tile_wide::<4, 8, true, false>(args),
                        5 => tile_wide::<5, 10, true, false>(args),
                        6 => tile_wide::<6, 12, true, false>(args),
                        7 => tile_wide::<7, 14, true, false>(args),
                        8 => tile_wide::<8, 16, true, false>(args),
                        9 => tile_wide::<9, 18, true, false>(args),
                        10 => tile_wide::<10, 20, true, false>(args),
                        11 => tile_wide::<11, 22, true, false>(args),
                        _ => tile_wide::<MR_WIDE, { 2 * MR_WIDE }, true, false>(args),
                    }
                }
                i += rows;
            }
        }
    }
}

/// The tiles' start in a block of k: the bias (or zero) in the first, what the earlier
/// blocks stored after it.
fn block_start(bias: Option<&[f32]>, k0: usize, panel: usize) -> Start {
    match bias {
        _ if k0 > 0 => Start::Carry,
        Some(bias) => Start::Bias(bias[panel * NR..].as_ptr()),
        None => Start::Zero,
    }
}

/// Only the last block of k activates; the others store the raw sums.
fn block_out(out: Out, last: bool) -> Out {
    if last { out } else { Out { silu: false, slope: None, times: None, ..out } }
}

/// Copies rows k0..k0 + kc of `count` panels of B from panel `p0` on into contiguous
/// panels KC rows apart.
#[target_feature(enable = "avx2,fma")]
unsafe fn pack_b_block(b: Panels, (p0, count): (usize, usize), (k0, kc): (usize, usize), packed: *mut f32) {
    for pl in 0..count {
        let src = b.data.as_ptr().add((p0 + pl) * b.panel_stride + k0 * b.row_stride);
        let dst = packed.add(pl * KC * NR);
        for kk in 0..kc {
            // A fixed-size copy, inlined (see `pack_rows`).
            dst.add(kk * NR).cast::<[f32; NR]>().write(src.add(kk * b.row_stride).cast::<[f32; NR]>().read());
        }
    }
}

/// Copies `rows` (≤ ROWS) rows of A from row i0 on, columns k0..k0 + kc, as ROWS floats per k.
#[target_feature(enable = "avx2,fma")]
unsafe fn pack_a_block<const ROWS: usize>(
    a: Strided,
    (i0, rows): (usize, usize),
    (k0, kc): (usize, usize),
    packed: *mut f32,
) {
    let src = a.data.as_ptr().add(i0 * a.row_stride + k0 * a.col_stride);
    for kk in 0..kc {
        let (src, dst) = (src.add(kk * a.col_stride), packed.add(kk * ROWS));
        if rows == ROWS && a.row_stride == 1 {
            // δ's rows: ROWS adjacent floats, copied as one fixed-size block.
            dst.cast::<[f32; ROWS]>().write(src.cast::<[f32; ROWS]>().read());
        } else {
            for ii in 0..rows {
                dst.add(ii).write(*src.add(ii * a.row_stride));
            }
        }
    }
}
