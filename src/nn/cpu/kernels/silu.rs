//! SiLU and its slope a register at a time (8 lanes of ymm or 16 of zmm, the same operations
//! on each lane), on a vectorised `exp` in place of `libm`'s scalar `expf`: the tiles'
//! epilogue and the input layer call [`silu_n`] on registers,
//! [`silu`] runs over a slice. A tail shorter than eight lanes goes through a padded copy,
//! so every element takes the same code and its bits do not depend on where it sits.

use std::arch::x86_64::*;

use super::available;
use super::lanes::Lanes;

/// eˣ for N registers of lanes: Cody–Waite reduction x = n·ln2 + r, |r| ≤ ln2/2, then
/// eʳ ≈ 1 + r + r²·p(r) with p of degree 3, fitted (Lawson's minimax iteration) to the
/// relative error: 1.7e-7 at most, evaluated in f32 (Cephes' degree-5 p is 6.6e-8 for two
/// more FMAs; SiLU's accuracy is tested against f64). n is rounded by adding and
/// subtracting 1.5·2²³, which leaves n in the low mantissa bits for building 2ⁿ without a
/// conversion. Arguments are clamped to [−87.3, 88] so 2ⁿ stays a finite, normal float (at
/// 88.7, n = 128 overflowed); NaN stays NaN.
///
/// Generic over the register width, so the ymm and zmm kernels run the same operations
/// lane by lane and give the same bits; inlined into [`Exp::exp_n`]'s functions, which
/// carry the target features.
#[inline(always)]
unsafe fn exp_lanes<L: Lanes, const N: usize>(x: [L; N]) -> [L; N] {
    const SHIFTER: f32 = 12_582_912.0; // 1.5·2²³
    // max/min return their second operand when either is NaN: keep x second.
    // Each step is one loop over the N registers so that, unrolled, it is issued for all N
    // values before the next step: the N dependent chains overlap instead of queueing.
    // (Closures mapped over the array were not always inlined.)
    let (mut r, mut shifted, mut n) = (x, x, x);
    for i in 0..N {
        r[i] = L::splat(88.0).min(L::splat(-87.3).max(x[i]));
    }
    for i in 0..N {
        shifted[i] = r[i].mul_add(L::splat(std::f32::consts::LOG2_E), L::splat(SHIFTER));
    }
    for i in 0..N {
        n[i] = shifted[i].sub(L::splat(SHIFTER));
    }
    for i in 0..N {
        r[i] = n[i].neg_mul_add(L::splat(0.693_359_4), r[i]);
    }
    for i in 0..N {
        r[i] = n[i].neg_mul_add(L::splat(-2.121_944_4e-4), r[i]);
    }
    let mut p = [L::splat(8.312_53e-3); N];
    for c in [4.189_011e-2, 1.666_711_4e-1, 4.999_923e-1] {
        for i in 0..N {
            p[i] = p[i].mul_add(r[i], L::splat(c));
        }
    }
    let mut out = x;
    for i in 0..N {
        let r2 = r[i].mul(r[i]);
        let er = p[i].mul_add(r2, r[i]).add(L::splat(1.0));
        // The shifted sum's bits are those of 1.5·2²³ plus n: subtract them, add the bias.
        let two_n = shifted[i].exponent_from_bits(127 - SHIFTER.to_bits() as i32);
        out[i] = er.mul(two_n);
    }
    out
}

/// [`exp_lanes`] in a function of its own per width, with that width's target features,
/// which the compiler inlines or calls as it sees fit, as it did before the AVX-512 path:
/// so the AVX2 kernels' code stays as it was. Measured on `--once`, one thread, AVX2
/// (Intel Xeon, `docs/performance.md`): forcing it inline everywhere cost about 1.5%,
/// forbidding it 10%.
pub(super) trait Exp: Lanes {
    unsafe fn exp_n<const N: usize>(x: [Self; N]) -> [Self; N];
}

impl Exp for __m256 {
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn exp_n<const N: usize>(x: [Self; N]) -> [Self; N] {
        exp_lanes(x)
    }
}

impl Exp for __m512 {
    #[inline]
    #[target_feature(enable = "avx512f,avx2,fma")]
    unsafe fn exp_n<const N: usize>(x: [Self; N]) -> [Self; N] {
        exp_lanes(x)
    }
}

/// Where 1 + e⁻ᶻ is capped before its reciprocal: 2¹²⁰.
const RECIP_CAP: f32 = f32::from_bits((127 + 120) << 23);

/// (silu(z), silu′(z)) for N registers of lanes, from σ(z) = 1 / (1 + e⁻ᶻ), the division
/// correctly rounded (`vdivps`). It replaced the hardware's 12-bit `rcpps` estimate and a
/// Newton step, whose results differ between Intel and AMD, so a seed's figures did too
/// (issue 18: Zen 4 and the Xeon wrote different samples). On Zen 4, one thread, it costs
/// nothing measurable, where an integer first guess with three Newton steps cost 5% of a
/// Langevin run (`docs/performance.md`). 1 + e⁻ᶻ is capped at 2¹²⁰ first, so the quotient
/// stays a normal float (no subnormal slow path; z < −83, σ < 1e-36 either way). Without
/// `SLOPE` the slopes are left at 1, not computed: inference has no use for them. Inlined
/// into its caller, which carries the target features.
#[inline(always)]
pub(super) unsafe fn silu_n<L: Exp, const N: usize, const SLOPE: bool>(z: [L; N]) -> ([L; N], [L; N]) {
    let one = L::splat(1.0);
    let mut minus_z = z;
    for v in minus_z.iter_mut() {
        *v = L::splat(0.0).sub(*v);
    }
    let e = L::exp_n(minus_z);
    let (mut value, mut slope) = ([one; N], [one; N]);
    for i in 0..N {
        let d = one.add(e[i]).min(L::splat(RECIP_CAP));
        let s = one.div(d);
        value[i] = z[i].mul(s);
        // silu′ = σ(1 + z(1 − σ)) = σ + value·(1 − σ), with 1 − σ = e⁻ᶻ·σ: computing it as
        // 1 − σ would cancel for large z and cost ~z·6e-8 of accuracy.
        if SLOPE {
            slope[i] = value[i].mul_add(e[i].mul(s), s);
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
        let ([v], [s]) = silu_n::<__m256, 1, true>([_mm256_loadu_ps(z.as_ptr().add(i))]);
        _mm256_storeu_ps(z.as_mut_ptr().add(i), v);
        if let Some(slope) = slope.as_deref_mut() {
            _mm256_storeu_ps(slope.as_mut_ptr().add(i), s);
        }
    }
    let tail = z.len() - whole;
    if tail > 0 {
        let mut buf = [0.0f32; 8];
        buf[..tail].copy_from_slice(&z[whole..]);
        let ([v], [s]) = silu_n::<__m256, 1, true>([_mm256_loadu_ps(buf.as_ptr())]);
        _mm256_storeu_ps(buf.as_mut_ptr(), v);
        z[whole..].copy_from_slice(&buf[..tail]);
        if let Some(slope) = slope {
            _mm256_storeu_ps(buf.as_mut_ptr(), s);
            slope[whole..].copy_from_slice(&buf[..tail]);
        }
    }
}
