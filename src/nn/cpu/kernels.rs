//! Hand-written f32 kernels for x86-64 with AVX2 and FMA, picked at run time: a register-tiled
//! matrix product with arbitrary strides, SiLU with a vectorised `exp`, and the skinny 2-wide
//! products. The network's generic code calls them through `nn::ops` when the element
//! type is `f32` and the CPU has the features; everything else takes the portable path.
//!
//! Why not only `matrixmultiply`: its sgemm packs both operands on every call and manages
//! 5–7 GFLOP/s on the skinny shapes, and the activations went through `libm`'s scalar
//! `expf`. Here the weights are packed once (per step in training, once per run in
//! sampling), the strides let the backward pass read δ and the activations in place, and
//! the activation runs eight lanes at a time.
//!
//! Every routine here computes each output in a fixed order that depends only on the shapes,
//! so results are the same bit for bit however the callers split the work.

#![allow(unsafe_op_in_unsafe_fn)]

use std::arch::x86_64::*;
use std::mem::MaybeUninit;

pub use super::operands::{Epilogue, MR, NR, Panels, RowWeights, Strided};

/// Whether this CPU can run the kernels (checked once; the macro caches the answer).
pub fn available() -> bool {
    is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
}

impl Panels<'_> {
    fn at(&self, k: usize, j: usize) -> f32 {
        self.data[(j / NR) * self.panel_stride + k * self.row_stride + j % NR]
    }
}

/// Lays out W (`[n, k]`, row-major, as `Linear` stores it) so that Wᵀ is a [`Panels`]
/// operand with contiguous panels, zero-padded to whole panels. `packed` must hold
/// `n.div_ceil(NR) * NR * k` floats.
pub fn pack_transposed(w: &[f32], n: usize, k: usize, packed: &mut [f32]) {
    assert!(available(), "the caller checks kernels::available()");
    assert_eq!(w.len(), n * k);
    assert_eq!(packed.len(), n.div_ceil(NR) * NR * k);
    // SAFETY: features checked above; every block read or written is checked against the
    // asserted lengths before its pointers are taken.
    unsafe { pack_transposed_avx2(w, n, k, packed) }
}

/// [`pack_transposed`] in 8 × 8 blocks transposed in registers: element by element it took
/// 8.6 µs at width 128, 8% of a training step at the default batch.
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

/// Lays out W (`[n, k]`, row-major) itself as a [`Panels`] operand with contiguous panels of
/// its columns, zero-padded: `packed` holds `k.div_ceil(NR) * NR * n` floats. Read in place,
/// W's panel rows sit 4·k bytes apart and alias in L1 at k = 128 or 256.
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
                self::silu(&mut row, Some(&mut row_slope));
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

/// Where [`gemm_full_panels`]' tiles store.
#[derive(Clone, Copy)]
struct Out {
    c: *mut f32,
    slope: Option<*mut f32>,
    times: Option<*const f32>,
    stride: usize,
    silu: bool,
}

impl Out {
    /// The same outputs from row `i`, column `j` on.
    ///
    /// # Safety
    /// (i, j) must lie inside the C (and slope) that `gemm` checked.
    unsafe fn offset(self, i: usize, j: usize) -> Self {
        let at = i * self.stride + j;
        Self { c: self.c.add(at), slope: self.slope.map(|s| s.add(at)), times: self.times.map(|t| t.add(at)), ..self }
    }
}

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

/// Rows of B (and columns of A) packed per block by [`gemm_packed`]. Measured on the weight
/// gradient at width 256, 512 rows: 64 → 670 µs, 128 → 648 µs, 256 (with 4 panels a block)
/// → 780 µs.
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

/// What a tile's accumulators start from.
#[derive(Clone, Copy)]
enum Start {
    Zero,
    /// The bias row (16 floats at this pointer).
    Bias(*const f32),
    /// The C that an earlier block of k stored (raw, not activated).
    Carry,
}

/// One R × 16 block of C: R rows of A against one panel of B, accumulated in registers over
/// the whole k, then activated and stored once. `V` = 2R accumulators (row i's two halves
/// at 2i and 2i + 1), a separate parameter only because `[_; 2 * R]` is not yet expressible.
/// `PACKED_A`: A was packed by [`gemm_packed`], MR floats per k, so its strides are known
/// here. It also gives each of the two GEMM paths its own instances, each called from one
/// place: shared instances were no longer inlined (`#[inline(always)]` is refused with
/// `#[target_feature]`), and sampling lost 2–3% to the calls.
#[target_feature(enable = "avx2,fma")]
unsafe fn tile<const R: usize, const V: usize, const PACKED_A: bool>(
    (k, a, (rs, cs), b, b_row_stride, start, out): (usize, *const f32, (usize, usize), *const f32, usize, Start, Out),
) {
    debug_assert_eq!(V, 2 * R);
    let (rs, cs) = if PACKED_A { (1, MR) } else { (rs, cs) };
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
        (true, true) => silu_n::<V, true>(acc),
        (true, false) => silu_n::<V, false>(acc),
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

/// eˣ for N × 8 lanes: Cody–Waite reduction x = n·ln2 + r, |r| ≤ ln2/2, then
/// eʳ ≈ 1 + r + r²·p(r) with p of degree 3, fitted (Lawson's minimax iteration) to the
/// relative error: 1.7e-7 at most, evaluated in f32 (Cephes' degree-5 p is 6.6e-8 for two
/// more FMAs; SiLU's accuracy is tested against f64). n is rounded by adding and
/// subtracting 1.5·2²³, which leaves n in the low mantissa bits for building 2ⁿ without a
/// conversion. Arguments are clamped to [−87.3, 88] so 2ⁿ stays a finite, normal float (at
/// 88.7, n = 128 overflowed); NaN stays NaN.
#[target_feature(enable = "avx2,fma")]
unsafe fn exp_n<const N: usize>(x: [__m256; N]) -> [__m256; N] {
    const SHIFTER: f32 = 12_582_912.0; // 1.5·2²³
    // max/min return their second operand when either is NaN: keep x second.
    // Each step is one loop over the N registers so that, unrolled, it is issued for all N
    // values before the next step: the N dependent chains overlap instead of queueing.
    // (Closures mapped over the array were not always inlined.)
    let (mut r, mut shifted, mut n) = (x, x, x);
    for i in 0..N {
        r[i] = _mm256_min_ps(_mm256_set1_ps(88.0), _mm256_max_ps(_mm256_set1_ps(-87.3), x[i]));
    }
    for i in 0..N {
        shifted[i] = _mm256_fmadd_ps(r[i], _mm256_set1_ps(std::f32::consts::LOG2_E), _mm256_set1_ps(SHIFTER));
    }
    for i in 0..N {
        n[i] = _mm256_sub_ps(shifted[i], _mm256_set1_ps(SHIFTER));
    }
    for i in 0..N {
        r[i] = _mm256_fnmadd_ps(n[i], _mm256_set1_ps(0.693_359_4), r[i]);
    }
    for i in 0..N {
        r[i] = _mm256_fnmadd_ps(n[i], _mm256_set1_ps(-2.121_944_4e-4), r[i]);
    }
    let mut p = [_mm256_set1_ps(8.312_53e-3); N];
    for c in [4.189_011e-2, 1.666_711_4e-1, 4.999_923e-1] {
        for i in 0..N {
            p[i] = _mm256_fmadd_ps(p[i], r[i], _mm256_set1_ps(c));
        }
    }
    let mut out = [_mm256_setzero_ps(); N];
    for i in 0..N {
        let r2 = _mm256_mul_ps(r[i], r[i]);
        let er = _mm256_add_ps(_mm256_fmadd_ps(p[i], r2, r[i]), _mm256_set1_ps(1.0));
        // The shifted sum's bits are those of 1.5·2²³ plus n: subtract them, add the bias.
        let bias = 127 - SHIFTER.to_bits() as i32;
        let two_n = _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_add_epi32(
            _mm256_castps_si256(shifted[i]),
            _mm256_set1_epi32(bias),
        )));
        out[i] = _mm256_mul_ps(er, two_n);
    }
    out
}

/// (silu(z), silu′(z)) for N × 8 lanes, from σ(z) = 1 / (1 + e⁻ᶻ). The reciprocal is the
/// hardware's 12-bit estimate refined by one Newton step (about 23 bits): `vdivps` alone
/// took as long as the rest of the function. Without `SLOPE` the slopes are left at 1, not
/// computed: inference has no use for them, and they were 2 of its ~17 multiply-class
/// operations per register.
#[target_feature(enable = "avx2,fma")]
unsafe fn silu_n<const N: usize, const SLOPE: bool>(z: [__m256; N]) -> ([__m256; N], [__m256; N]) {
    let one = _mm256_set1_ps(1.0);
    let mut minus_z = z;
    for v in minus_z.iter_mut() {
        *v = _mm256_sub_ps(_mm256_setzero_ps(), *v);
    }
    let e = exp_n(minus_z);
    let (mut value, mut slope) = ([one; N], [one; N]);
    for i in 0..N {
        let d = _mm256_add_ps(one, e[i]);
        let r = _mm256_rcp_ps(d);
        let s = _mm256_mul_ps(r, _mm256_fnmadd_ps(d, r, _mm256_set1_ps(2.0)));
        value[i] = _mm256_mul_ps(z[i], s);
        // silu′ = σ(1 + z(1 − σ)) = σ + value·(1 − σ), with 1 − σ = e⁻ᶻ·σ: computing it as
        // 1 − σ would cancel for large z and cost ~z·6e-8 of accuracy.
        if SLOPE {
            slope[i] = _mm256_fmadd_ps(value[i], _mm256_mul_ps(e[i], s), s);
        }
    }
    (value, slope)
}

/// z ← silu(z), and slope ← silu′(z) when given. A tail shorter than eight lanes goes
/// through the same vector code via a padded copy, so every element is computed alike.
pub fn silu(z: &mut [f32], slope: Option<&mut [f32]>) {
    assert!(available(), "the caller checks kernels::available()");
    if let Some(s) = &slope {
        assert_eq!(s.len(), z.len());
    }
    // SAFETY: features checked above; the loops stay within the slices.
    unsafe { silu_avx2(z, slope) }
}

#[target_feature(enable = "avx2,fma")]
unsafe fn silu_avx2(z: &mut [f32], mut slope: Option<&mut [f32]>) {
    let whole = z.len() / 8 * 8;
    for i in (0..whole).step_by(8) {
        let ([v], [s]) = silu_n::<1, true>([_mm256_loadu_ps(z.as_ptr().add(i))]);
        _mm256_storeu_ps(z.as_mut_ptr().add(i), v);
        if let Some(slope) = slope.as_deref_mut() {
            _mm256_storeu_ps(slope.as_mut_ptr().add(i), s);
        }
    }
    let tail = z.len() - whole;
    if tail > 0 {
        let mut buf = [0.0f32; 8];
        buf[..tail].copy_from_slice(&z[whole..]);
        let ([v], [s]) = silu_n::<1, true>([_mm256_loadu_ps(buf.as_ptr())]);
        _mm256_storeu_ps(buf.as_mut_ptr(), v);
        z[whole..].copy_from_slice(&buf[..tail]);
        if let Some(slope) = slope {
            _mm256_storeu_ps(buf.as_mut_ptr(), s);
            slope[whole..].copy_from_slice(&buf[..tail]);
        }
    }
}

/// z[i, :] = f(b + x[i, 0]·w0 + x[i, 1]·w1), the 2-wide input layer (w0, w1: the columns
/// of W₁), with f = SiLU (and its slope stored) or the identity, per the epilogue.
pub fn input_layer(x: &[f32], w0: &[f32], w1: &[f32], b: &[f32], z: &mut [f32], epilogue: Epilogue) {
    assert!(available(), "the caller checks kernels::available()");
    let (h, rows) = (b.len(), x.len() / 2);
    assert!(w0.len() == h && w1.len() == h && z.len() >= rows * h);
    let (silu, mut slope) = match epilogue {
        Epilogue::Store => (false, None),
        Epilogue::Silu => (true, None),
        Epilogue::SiluWithSlope(slope) => (true, Some(slope)),
        Epilogue::Times(_) => panic!("the input layer takes no Epilogue::Times"),
    };
    if let Some(slope) = &slope {
        assert!(slope.len() >= rows * h);
    }
    for (i, xi) in x.chunks_exact(2).enumerate() {
        let row = i * h..(i + 1) * h;
        // SAFETY: features checked above; the loop stays within the row.
        unsafe {
            input_row([xi[0], xi[1]], w0, w1, b, &mut z[row.clone()], silu, slope.as_deref_mut().map(|s| &mut s[row]))
        }
    }
}

#[target_feature(enable = "avx2,fma")]
unsafe fn input_row(
    [x0, x1]: [f32; 2],
    w0: &[f32],
    w1: &[f32],
    b: &[f32],
    z: &mut [f32],
    silu: bool,
    slope: Option<&mut [f32]>,
) {
    let (x0v, x1v) = (_mm256_set1_ps(x0), _mm256_set1_ps(x1));
    let z_at = |j: usize| unsafe {
        _mm256_fmadd_ps(
            x1v,
            _mm256_loadu_ps(w1.as_ptr().add(j)),
            _mm256_fmadd_ps(x0v, _mm256_loadu_ps(w0.as_ptr().add(j)), _mm256_loadu_ps(b.as_ptr().add(j))),
        )
    };
    let slope_ptr = slope.map(|s| s.as_mut_ptr());
    let store = |j: usize, values: &[__m256], slopes: &[__m256]| unsafe {
        for (v, (&value, &s)) in values.iter().zip(slopes).enumerate() {
            _mm256_storeu_ps(z.as_ptr().add(j + 8 * v).cast_mut(), value);
            if let Some(slope) = slope_ptr {
                _mm256_storeu_ps(slope.add(j + 8 * v), s);
            }
        }
    };
    // Four registers at a time, so four exp chains overlap.
    let blocks = b.len() / 32 * 32;
    for j in (0..blocks).step_by(32) {
        let v = [z_at(j), z_at(j + 8), z_at(j + 16), z_at(j + 24)];
        let (values, slopes) = match (silu, slope_ptr.is_some()) {
            (true, true) => silu_n::<4, true>(v),
            (true, false) => silu_n::<4, false>(v),
            (false, _) => (v, v),
        };
        store(j, &values, &slopes);
    }
    let whole = b.len() / 8 * 8;
    for j in (blocks..whole).step_by(8) {
        let v = [z_at(j)];
        let (values, slopes) = match (silu, slope_ptr.is_some()) {
            (true, true) => silu_n::<1, true>(v),
            (true, false) => silu_n::<1, false>(v),
            (false, _) => (v, v),
        };
        store(j, &values, &slopes);
    }
    if whole < b.len() {
        for j in whole..b.len() {
            z[j] = x1.mul_add(w1[j], x0.mul_add(w0[j], b[j]));
        }
        if silu {
            let slope = slope_ptr.map(|s| std::slice::from_raw_parts_mut(s.add(whole), b.len() - whole));
            silu_avx2(&mut z[whole..], slope);
        }
    }
}

/// Horizontal sum of eight lanes in a fixed order.
#[target_feature(enable = "avx2,fma")]
unsafe fn hsum(v: __m256) -> f32 {
    let quad = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let pair = _mm_add_ps(quad, _mm_movehl_ps(quad, quad));
    _mm_cvtss_f32(_mm_add_ss(pair, _mm_shuffle_ps::<1>(pair, pair)))
}

/// `out[i, c] = bias[c] + ⟨a[i, :], w[c, :]⟩` for the two rows of w (`[2, h]`): the 2-wide
/// output layer, and with w = W₁ᵀ the input gradient of the 2-wide input layer.
pub fn two_dots(a: &[f32], h: usize, w: &[f32], bias: [f32; 2], out: &mut [f32]) {
    assert!(available(), "the caller checks kernels::available()");
    let rows = out.len() / 2;
    assert!(a.len() >= rows * h && w.len() == 2 * h && out.len() == 2 * rows);
    // SAFETY: features checked above; indices below the asserted lengths.
    unsafe { two_dots_avx2(a, h, w, bias, out) }
}

#[target_feature(enable = "avx2,fma")]
unsafe fn two_dots_avx2(a: &[f32], h: usize, w: &[f32], bias: [f32; 2], out: &mut [f32]) {
    let (w0, w1) = w.split_at(h);
    let whole = h / 16 * 16;
    for (row, o) in a.chunks_exact(h).zip(out.chunks_exact_mut(2)) {
        // Two accumulators per output hide the FMA latency.
        let mut acc = [_mm256_setzero_ps(); 4];
        for j in (0..whole).step_by(16) {
            let (x0, x1) = (_mm256_loadu_ps(row.as_ptr().add(j)), _mm256_loadu_ps(row.as_ptr().add(j + 8)));
            acc[0] = _mm256_fmadd_ps(x0, _mm256_loadu_ps(w0.as_ptr().add(j)), acc[0]);
            acc[1] = _mm256_fmadd_ps(x1, _mm256_loadu_ps(w0.as_ptr().add(j + 8)), acc[1]);
            acc[2] = _mm256_fmadd_ps(x0, _mm256_loadu_ps(w1.as_ptr().add(j)), acc[2]);
            acc[3] = _mm256_fmadd_ps(x1, _mm256_loadu_ps(w1.as_ptr().add(j + 8)), acc[3]);
        }
        let mut s0 = bias[0] + hsum(_mm256_add_ps(acc[0], acc[1]));
        let mut s1 = bias[1] + hsum(_mm256_add_ps(acc[2], acc[3]));
        for j in whole..h {
            s0 = row[j].mul_add(w0[j], s0);
            s1 = row[j].mul_add(w1[j], s1);
        }
        o[0] = s0;
        o[1] = s1;
    }
}

/// Column sums of `m` (`[rows, cols]`, row-major) in one pass over it: `sum[c] = Σ_r m[r, c]`
/// when `sum` is given, and `out[c] = Σ_r w(r)·m[r, c]` for each `(w, out)` of `weighted`.
/// Each sum runs in row order with the product rounded before the add, so the bits are those
/// of adding the rows one at a time ([`loops::add`], [`loops::axpy`]); but a block of columns'
/// sums stays in registers while the rows stream past, where the row-at-a-time loops loaded
/// and stored every sum once per row and read `m` once per sum.
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

/// Element-wise loops, compiled with AVX2 + FMA so the compiler vectorises them eight lanes
/// wide; they are too simple to hand-write.
pub mod loops {
    use super::available;

    macro_rules! avx2_loop {
        ($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) $body:block) => {
            $(#[$doc])*
            pub fn $name($($arg: $ty),*) {
                assert!(available(), "the caller checks kernels::available()");
                #[target_feature(enable = "avx2,fma")]
                unsafe fn inner($($arg: $ty),*) $body
                // SAFETY: features checked above; the body is safe code.
                unsafe { inner($($arg),*) }
            }
        };
    }

    avx2_loop! {
        /// y += a·x
        fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
            for (y, &x) in y.iter_mut().zip(x) {
                *y += a * x;
            }
        }
    }

    avx2_loop! {
        /// y += x
        fn add(x: &[f32], y: &mut [f32]) {
            for (y, &x) in y.iter_mut().zip(x) {
                *y += x;
            }
        }
    }

    avx2_loop! {
        /// δ = (g0·u + g1·v) ⊙ slope: the output layer's δ at the last hidden layer.
        fn combine2(g0: f32, u: &[f32], g1: f32, v: &[f32], slope: &[f32], delta: &mut [f32]) {
            for (((d, &u), &v), &s) in delta.iter_mut().zip(u).zip(v).zip(slope) {
                *d = (g0 * u + g1 * v) * s;
            }
        }
    }

    avx2_loop! {
        /// One Adam update over a flat tensor, `k` = [β₁, β₂, 1−β₁, 1−β₂, step size,
        /// 1/√(1−β₂ᵗ), ε] (see `adam.rs` for the formula; same operations in the same order).
        fn adam(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], k: &[f32; 7]) {
            let [b1, b2, one_minus_b1, one_minus_b2, step_size, inv_sqrt_bias2, eps] = *k;
            for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                *m = b1 * *m + one_minus_b1 * g;
                *v = b2 * *v + one_minus_b2 * g * g;
                *p -= step_size * *m / (v.sqrt() * inv_sqrt_bias2 + eps);
            }
        }
    }
}
