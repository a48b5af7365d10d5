//! The weights laid out as the [`Panels`](super::Panels) the tiles read: Wᵀ for the forward
//! product ([`pack_transposed`]) and W itself for δ·W ([`pack_rows`]), each in contiguous
//! panels of [`NR`] columns, zero-padded to whole panels. Done once per training step (once
//! per run in sampling), so the products themselves never pack the weights; read in place,
//! W's rows sit 4·k bytes apart and, at the usual widths, evict each other in L1.

use std::arch::x86_64::*;

use super::{NR, available};

/// Lays out W (`[n, k]`, row-major, as `Linear` stores it) so that Wᵀ is a
/// [`Panels`](super::Panels) operand with contiguous panels, zero-padded to whole panels.
/// `packed` must hold `n.div_ceil(NR) * NR * k` floats.
pub fn pack_transposed(w: &[f32], n: usize, k: usize, packed: &mut [f32]) {
    assert!(available(), "the caller checks kernels::available()");
    assert_eq!(w.len(), n * k);
    assert_eq!(packed.len(), n.div_ceil(NR) * NR * k);
    // SAFETY: features checked above; every block read or written is checked against the
    // asserted lengths before its pointers are taken.
    unsafe { pack_transposed_avx2(w, n, k, packed) }
}

/// [`pack_transposed`] in 8 × 8 blocks transposed in registers: element by element it was a
/// sizeable part of a training step at the default batch (`docs/performance.md`,
/// "Measured figures moved from module docs").
#[target_feature(enable = "avx2,fma")]
unsafe fn pack_transposed_avx2(w: &[f32], n: usize, k: usize, packed: &mut [f32]) {
    for (p, panel) in packed.chunks_exact_mut(NR * k).enumerate() {
        for half in 0..NR / 8 {
            let j0 = p * NR + 8 * half;
            let mut k0 = 0;
            if j0 + 8 <= n {
                while k0 + 8 <= k {
                    let rows = &w[j0 * k + k0..(j0 + 7) * k + k0 + 8];
                    let mut block = [_mm256_setzero_ps(); 8];
                    for (r, v) in block.iter_mut().enumerate() {
                        *v = _mm256_loadu_ps(rows[r * k..r * k + 8].as_ptr());
                    }
                    for (kk, v) in transpose8(block).iter().enumerate() {
                        let at = (k0 + kk) * NR + 8 * half;
                        _mm256_storeu_ps(panel[at..at + 8].as_mut_ptr(), *v);
                    }
                    k0 += 8;
                }
            }
            // The last columns when k is not a multiple of 8, and the zero padding past row n.
            for kk in k0..k {
                for jj in 0..8 {
                    let j = j0 + jj;
                    panel[kk * NR + 8 * half + jj] = if j < n { w[j * k + kk] } else { 0.0 };
                }
            }
        }
    }
}

/// The transpose of an 8 × 8 block held as eight row vectors.
#[target_feature(enable = "avx2,fma")]
unsafe fn transpose8(r: [__m256; 8]) -> [__m256; 8] {
    let t = [
        _mm256_unpacklo_ps(r[0], r[1]),
        _mm256_unpackhi_ps(r[0], r[1]),
        _mm256_unpacklo_ps(r[2], r[3]),
        _mm256_unpackhi_ps(r[2], r[3]),
        _mm256_unpacklo_ps(r[4], r[5]),
        _mm256_unpackhi_ps(r[4], r[5]),
        _mm256_unpacklo_ps(r[6], r[7]),
        _mm256_unpackhi_ps(r[6], r[7]),
    ];
    let u = [
        _mm256_shuffle_ps::<0x44>(t[0], t[2]),
        _mm256_shuffle_ps::<0xEE>(t[0], t[2]),
        _mm256_shuffle_ps::<0x44>(t[1], t[3]),
        _mm256_shuffle_ps::<0xEE>(t[1], t[3]),
        _mm256_shuffle_ps::<0x44>(t[4], t[6]),
        _mm256_shuffle_ps::<0xEE>(t[4], t[6]),
        _mm256_shuffle_ps::<0x44>(t[5], t[7]),
        _mm256_shuffle_ps::<0xEE>(t[5], t[7]),
    ];
    [
        _mm256_permute2f128_ps::<0x20>(u[0], u[4]),
        _mm256_permute2f128_ps::<0x20>(u[1], u[5]),
        _mm256_permute2f128_ps::<0x20>(u[2], u[6]),
        _mm256_permute2f128_ps::<0x20>(u[3], u[7]),
        _mm256_permute2f128_ps::<0x31>(u[0], u[4]),
        _mm256_permute2f128_ps::<0x31>(u[1], u[5]),
        _mm256_permute2f128_ps::<0x31>(u[2], u[6]),
        _mm256_permute2f128_ps::<0x31>(u[3], u[7]),
    ]
}

/// Lays out W (`[n, k]`, row-major) itself as a [`Panels`](super::Panels) operand with
/// contiguous panels of its columns, zero-padded: `packed` holds `k.div_ceil(NR) * NR * n`
/// floats. Read in place, W's panel rows sit 4·k bytes apart and alias in L1 at k = 128 or
/// 256.
pub fn pack_rows(w: &[f32], n: usize, k: usize, packed: &mut [f32]) {
    assert_eq!(w.len(), n * k);
    assert_eq!(packed.len(), k.div_ceil(NR) * NR * n);
    for (p, panel) in packed.chunks_exact_mut(NR * n).enumerate() {
        let start = p * NR;
        for (row, out) in w.chunks_exact(k).zip(panel.chunks_exact_mut(NR)) {
            let out: &mut [f32; NR] = out.try_into().expect("chunks of NR");
            match row.get(start..start + NR) {
                // A fixed-size copy the compiler inlines (a slice copy of runtime length became a
                // libc memmove call per 64 bytes).
                Some(src) => *out = src.try_into().expect("NR floats"),
                None => {
                    for (jj, v) in out.iter_mut().enumerate() {
                        *v = row.get(start + jj).copied().unwrap_or(0.0);
                    }
                }
            }
        }
    }
}
