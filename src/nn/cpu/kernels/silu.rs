//! SiLU and its slope eight lanes at a time, on a vectorised `exp` in place of `libm`'s
//! scalar `expf`: the tiles' epilogue and the input layer call [`silu_n`] on registers,
//! [`silu`] runs over a slice. A tail shorter than eight lanes goes through a padded copy,
//! so every element takes the same code and its bits do not depend on where it sits.

use std::arch::x86_64::*;

use super::available;

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
pub(super) unsafe fn silu_n<const N: usize, const SLOPE: bool>(z: [__m256; N]) -> ([__m256; N], [__m256; N]) {
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

/// [`silu`] after its checks; also the input layer's tail, shorter than a register.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn silu_avx2(z: &mut [f32], mut slope: Option<&mut [f32]>) {
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
