//! Sampling in bfloat16, opt-in (`--sample-precision bf16`): an H → H product of inference
//! with the weights and the activations rounded to bf16 and the products summed in f32 by
//! `vdpbf16ps`, which does two products per f32 lane per instruction: on a core with two
//! 512-bit units twice the f32 FMA's rate (`bench`-style loop on Zen 5: 509 against 266
//! GFLOP/s). Only the H → H layers change; the 2-wide layers, SiLU and the Langevin step stay
//! f32. Not used in training, and not the f32 path's bits: its sample quality is measured in
//! `docs/samplers.md`.
//!
//! Layout: a bf16 pair (two neighbours along k) in one u32, the even k in the low half, as
//! `vdpbf16ps` multiplies them lane by lane. The weights are Wᵀ in panels of [`NR`] columns,
//! pair row after pair row ([`pack_pairs`]); the activations are their rows' pairs in order
//! ([`to_pairs`]).

use std::arch::x86_64::*;

use super::tile::Out;
use super::tile512::{MR_WIDE, finish};
use super::{NR, available as f32_kernels};

/// Whether this CPU runs the bf16 product (AVX512-BF16, on Zen 4, Zen 5 and Intel's Xeons
/// from Cooper Lake on) and the f32 kernels run here too.
pub fn bf16_available() -> bool {
    f32_kernels() && is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512bf16")
}

/// Widths the bf16 product takes: whole pairs of panels, so k pairs up and n fills the tile.
pub const BF16_WIDTH_MULTIPLE: usize = 2 * NR;

/// `x` rounded to the nearest bf16 (ties to even), as `vcvtne2ps2bf16` rounds; NaN stays NaN.
pub fn to_bf16(x: f32) -> u16 {
    let bits = x.to_bits();
    if x.is_nan() {
        return ((bits >> 16) | 0x40) as u16;
    }
    ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) as u16
}

/// W (`[n, k]`, row-major, as `Linear` stores it) as Wᵀ in bf16 pairs: panel p holds columns
/// 16p..16p + 16, and its row r the pairs (W[j, 2r], W[j, 2r + 1]) of those columns.
/// `packed` must hold `n * k / 2` pairs; n and k multiples of [`BF16_WIDTH_MULTIPLE`].
pub fn pack_pairs(w: &[f32], n: usize, k: usize, packed: &mut [u32]) {
    assert!(n.is_multiple_of(BF16_WIDTH_MULTIPLE) && k.is_multiple_of(BF16_WIDTH_MULTIPLE), "{n} × {k}");
    assert_eq!((w.len(), packed.len()), (n * k, n * k / 2));
    for (p, panel) in packed.chunks_exact_mut(NR * k / 2).enumerate() {
        for (r, row) in panel.chunks_exact_mut(NR).enumerate() {
            for (jj, pair) in row.iter_mut().enumerate() {
                let j = p * NR + jj;
                let (even, odd) = (to_bf16(w[j * k + 2 * r]), to_bf16(w[j * k + 2 * r + 1]));
                *pair = u32::from(even) | (u32::from(odd) << 16);
            }
        }
    }
}

/// `a` rounded to bf16, its neighbours paired: `pairs[i] = (a[2i], a[2i + 1])`. `a.len()` a
/// multiple of 32.
pub fn to_pairs(a: &[f32], pairs: &mut [u32]) {
    assert!(bf16_available(), "the caller checks bf16_available()");
    assert!(a.len().is_multiple_of(32) && pairs.len() == a.len() / 2);
    // SAFETY: features checked above; 32 floats in and 16 pairs out per step, within the
    // lengths asserted.
    unsafe { to_pairs_avx512(a, pairs) }
}

#[target_feature(enable = "avx512f,avx512bf16")]
unsafe fn to_pairs_avx512(a: &[f32], pairs: &mut [u32]) {
    for (a, out) in a.chunks_exact(32).zip(pairs.chunks_exact_mut(16)) {
        let (low, high) = (_mm512_loadu_ps(a.as_ptr()), _mm512_loadu_ps(a.as_ptr().add(16)));
        // The second operand fills the low half: a[0..16] first, then a[16..32].
        let bf: __m512bh = _mm512_cvtne2ps_pbh(high, low);
        _mm512_storeu_ps(out.as_mut_ptr().cast(), std::mem::transmute::<__m512bh, __m512>(bf));
    }
}

/// z = SiLU(a·Wᵀ + bias) for `rows` rows: `a` the rows' pairs (`[rows, k/2]`), `w` packed by
/// [`pack_pairs`] (`[n, k]`), z `[rows, n]` in f32.
pub fn silu_dense_pairs((rows, n, k): (usize, usize, usize), a: &[u32], w: &[u32], bias: &[f32], z: &mut [f32]) {
    assert!(bf16_available(), "the caller checks bf16_available()");
    assert!(n.is_multiple_of(BF16_WIDTH_MULTIPLE) && k.is_multiple_of(BF16_WIDTH_MULTIPLE), "{n} × {k}");
    assert!(a.len() >= rows * k / 2 && w.len() == n * k / 2 && bias.len() == n && z.len() >= rows * n);
    let out = Out { c: z.as_mut_ptr(), slope: None, times: None, stride: n, silu: true };
    // SAFETY: features checked above; the tiles read and write inside the lengths asserted.
    unsafe { sweep_pairs((rows, n, k / 2), a.as_ptr(), w.as_ptr(), bias.as_ptr(), out) }
}

/// Pairs of panels of W, each met by every row block of A (12 rows a tile).
#[target_feature(enable = "avx512f,avx512bf16,avx2,fma")]
unsafe fn sweep_pairs(
    (rows, n, pairs): (usize, usize, usize),
    a: *const u32,
    w: *const u32,
    bias: *const f32,
    out: Out,
) {
    let panel_stride = NR * pairs;
    for p in (0..n / NR).step_by(2) {
        let (w, bias) = (w.add(p * panel_stride), bias.add(p * NR));
        let mut i = 0;
        while i + MR_WIDE <= rows {
            tile_pairs::<MR_WIDE, { 2 * MR_WIDE }>((
                pairs,
                a.add(i * pairs),
                w,
                panel_stride,
                bias,
                out.offset(i, p * NR),
            ));
            i += MR_WIDE;
        }
        let args = (pairs, a.add(i * pairs), w, panel_stride, bias, out.offset(i, p * NR));
        match rows - i {
            1 => tile_pairs::<1, 2>(args),
            2 => tile_pairs::<2, 4>(args),
            3 => tile_pairs::<3, 6>(args),
            4 => tile_pairs::<4, 8>(args),
            5 => tile_pairs::<5, 10>(args),
            6 => tile_pairs::<6, 12>(args),
            7 => tile_pairs::<7, 14>(args),
            8 => tile_pairs::<8, 16>(args),
            9 => tile_pairs::<9, 18>(args),
            10 => tile_pairs::<10, 20>(args),
            11 => tile_pairs::<11, 22>(args),
            _ => {}
        }
    }
}

/// One R × 32 block of z: R rows of pairs against two panels of W (the second
/// `panel_stride` pairs after the first), started from the bias and accumulated in f32 over
/// every pair, then SiLU and stored by the 512-bit tile's epilogue.
#[target_feature(enable = "avx512f,avx512bf16,avx2,fma")]
unsafe fn tile_pairs<const R: usize, const V: usize>(
    (pairs, a, w, panel_stride, bias, out): (usize, *const u32, *const u32, usize, *const f32, Out),
) {
    debug_assert_eq!(V, 2 * R);
    let (b0, b1) = (_mm512_loadu_ps(bias), _mm512_loadu_ps(bias.add(16)));
    let mut acc = [b0; V];
    for pair in acc.chunks_exact_mut(2) {
        pair[1] = b1;
    }
    let as_bf16 = |v: __m512| std::mem::transmute::<__m512, __m512bh>(v);
    for r in 0..pairs {
        let w0 = as_bf16(_mm512_loadu_ps(w.add(r * NR).cast()));
        let w1 = as_bf16(_mm512_loadu_ps(w.add(panel_stride + r * NR).cast()));
        for (i, acc) in acc.chunks_exact_mut(2).enumerate() {
            let x = as_bf16(_mm512_castsi512_ps(_mm512_set1_epi32(*a.add(i * pairs + r) as i32)));
            acc[0] = _mm512_dpbf16_ps(acc[0], x, w0);
            acc[1] = _mm512_dpbf16_ps(acc[1], x, w1);
        }
    }
    finish(acc, out);
}
