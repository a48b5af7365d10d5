//! One register of f32 lanes, 8 (ymm, AVX2) or 16 (zmm, AVX-512), behind the few
//! operations SiLU needs, so that [`super::silu`] is written once for both widths and
//! performs the same operation sequence on every lane: the AVX-512 path gives the same bits
//! as the AVX2 path, which keeps a seed's results independent of the CPU's path.
//!
//! The methods are `#[inline(always)]` without a `#[target_feature]` of their own: they are
//! inlined into the kernels that call them, which carry the features, and the intrinsics
//! inside are inlined there in turn.

use std::arch::x86_64::*;

/// A register of f32 lanes. Every operation rounds as IEEE 754 single precision per lane, or
/// is exact integer arithmetic on the bits: no hardware estimate (`rcpps`, `rsqrtps`), whose
/// results differ between Intel and AMD, so the bits are the same on every x86-64 CPU.
pub(super) trait Lanes: Copy {
    unsafe fn splat(v: f32) -> Self;
    unsafe fn add(self, b: Self) -> Self;
    unsafe fn sub(self, b: Self) -> Self;
    unsafe fn mul(self, b: Self) -> Self;
    /// self·b + c, rounded once.
    unsafe fn mul_add(self, b: Self, c: Self) -> Self;
    /// c − self·b, rounded once.
    unsafe fn neg_mul_add(self, b: Self, c: Self) -> Self;
    /// `maxps`/`minps`: the second operand when either is NaN.
    unsafe fn max(self, b: Self) -> Self;
    unsafe fn min(self, b: Self) -> Self;
    /// 2ⁿ from a float whose low mantissa bits hold n + 1.5·2²³'s bits less `bias`: the
    /// integer add of `bias`, then a shift into the exponent field.
    unsafe fn exponent_from_bits(self, bias: i32) -> Self;
    /// self / b, correctly rounded.
    unsafe fn div(self, b: Self) -> Self;
}

impl Lanes for __m256 {
    #[inline(always)]
    unsafe fn splat(v: f32) -> Self {
        _mm256_set1_ps(v)
    }
    #[inline(always)]
    unsafe fn add(self, b: Self) -> Self {
        _mm256_add_ps(self, b)
    }
    #[inline(always)]
    unsafe fn sub(self, b: Self) -> Self {
        _mm256_sub_ps(self, b)
    }
    #[inline(always)]
    unsafe fn mul(self, b: Self) -> Self {
        _mm256_mul_ps(self, b)
    }
    #[inline(always)]
    unsafe fn mul_add(self, b: Self, c: Self) -> Self {
        _mm256_fmadd_ps(self, b, c)
    }
    #[inline(always)]
    unsafe fn neg_mul_add(self, b: Self, c: Self) -> Self {
        _mm256_fnmadd_ps(self, b, c)
    }
    #[inline(always)]
    unsafe fn max(self, b: Self) -> Self {
        _mm256_max_ps(self, b)
    }
    #[inline(always)]
    unsafe fn min(self, b: Self) -> Self {
        _mm256_min_ps(self, b)
    }
    #[inline(always)]
    unsafe fn exponent_from_bits(self, bias: i32) -> Self {
        _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_add_epi32(
            _mm256_castps_si256(self),
            _mm256_set1_epi32(bias),
        )))
    }
    #[inline(always)]
    unsafe fn div(self, b: Self) -> Self {
        _mm256_div_ps(self, b)
    }
}

impl Lanes for __m512 {
    #[inline(always)]
    unsafe fn splat(v: f32) -> Self {
        _mm512_set1_ps(v)
    }
    #[inline(always)]
    unsafe fn add(self, b: Self) -> Self {
        _mm512_add_ps(self, b)
    }
    #[inline(always)]
    unsafe fn sub(self, b: Self) -> Self {
        _mm512_sub_ps(self, b)
    }
    #[inline(always)]
    unsafe fn mul(self, b: Self) -> Self {
        _mm512_mul_ps(self, b)
    }
    #[inline(always)]
    unsafe fn mul_add(self, b: Self, c: Self) -> Self {
        _mm512_fmadd_ps(self, b, c)
    }
    #[inline(always)]
    unsafe fn neg_mul_add(self, b: Self, c: Self) -> Self {
        _mm512_fnmadd_ps(self, b, c)
    }
    #[inline(always)]
    unsafe fn max(self, b: Self) -> Self {
        _mm512_max_ps(self, b)
    }
    #[inline(always)]
    unsafe fn min(self, b: Self) -> Self {
        _mm512_min_ps(self, b)
    }
    #[inline(always)]
    unsafe fn exponent_from_bits(self, bias: i32) -> Self {
        _mm512_castsi512_ps(_mm512_slli_epi32::<23>(_mm512_add_epi32(
            _mm512_castps_si512(self),
            _mm512_set1_epi32(bias),
        )))
    }
    #[inline(always)]
    unsafe fn div(self, b: Self) -> Self {
        _mm512_div_ps(self, b)
    }
}
