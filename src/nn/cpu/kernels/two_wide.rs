//! The 2-wide layers, too thin for the register tile: the input layer 2 → H
//! ([`input_layer`]: two broadcast FMAs per eight outputs, SiLU in registers) and the
//! products with two rows of weights, H → 2 ([`two_dots`]: the output layer, and the
//! input gradient of the input layer).

use std::arch::x86_64::*;

use super::silu::{silu_avx2, silu_n};
use super::{Epilogue, available};
use crate::nn::cpu::path::{self, KernelPath};

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
    let wide = path::chosen() == KernelPath::Avx512;
    for (i, xi) in x.chunks_exact(2).enumerate() {
        let row = i * h..(i + 1) * h;
        let (z, slope) = (&mut z[row.clone()], slope.as_deref_mut().map(|s| &mut s[row]));
        // SAFETY: the path's features were checked when it was chosen; the loops stay
        // within the row.
        unsafe {
            if wide {
                input_row_wide([xi[0], xi[1]], w0, w1, b, z, silu, slope)
            } else {
                input_row([xi[0], xi[1]], w0, w1, b, z, silu, slope)
            }
        }
    }
}

/// [`input_row`] sixteen lanes at a time (zmm), four registers then one; the last columns
/// (fewer than 16) through [`input_row`]. Each element is the same two FMAs and the same
/// SiLU operations on either width, so the bits are the AVX2 path's.
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn input_row_wide(
    [x0, x1]: [f32; 2],
    w0: &[f32],
    w1: &[f32],
    b: &[f32],
    z: &mut [f32],
    silu: bool,
    mut slope: Option<&mut [f32]>,
) {
    let (x0v, x1v) = (_mm512_set1_ps(x0), _mm512_set1_ps(x1));
    let z_at = |j: usize| unsafe {
        _mm512_fmadd_ps(
            x1v,
            _mm512_loadu_ps(w1.as_ptr().add(j)),
            _mm512_fmadd_ps(x0v, _mm512_loadu_ps(w0.as_ptr().add(j)), _mm512_loadu_ps(b.as_ptr().add(j))),
        )
    };
    let slope_ptr = slope.as_deref_mut().map(|s| s.as_mut_ptr());
    let z_ptr = z.as_mut_ptr();
    let store = |j: usize, values: &[__m512], slopes: &[__m512]| unsafe {
        for (v, (&value, &s)) in values.iter().zip(slopes).enumerate() {
            _mm512_storeu_ps(z_ptr.add(j + 16 * v), value);
            if let Some(slope) = slope_ptr {
                _mm512_storeu_ps(slope.add(j + 16 * v), s);
            }
        }
    };
    let blocks = b.len() / 64 * 64;
    for j in (0..blocks).step_by(64) {
        let v = [z_at(j), z_at(j + 16), z_at(j + 32), z_at(j + 48)];
        let (values, slopes) = match (silu, slope_ptr.is_some()) {
            (true, true) => silu_n::<__m512, 4, true>(v),
            (true, false) => silu_n::<__m512, 4, false>(v),
            (false, _) => (v, v),
        };
        store(j, &values, &slopes);
    }
    let whole = b.len() / 16 * 16;
    for j in (blocks..whole).step_by(16) {
        let v = [z_at(j)];
        let (values, slopes) = match (silu, slope_ptr.is_some()) {
            (true, true) => silu_n::<__m512, 1, true>(v),
            (true, false) => silu_n::<__m512, 1, false>(v),
            (false, _) => (v, v),
        };
        store(j, &values, &slopes);
    }
    if whole < b.len() {
        let slope = slope.map(|s| &mut s[whole..]);
        input_row([x0, x1], &w0[whole..], &w1[whole..], &b[whole..], &mut z[whole..], silu, slope);
    }
}

/// One row of [`input_layer`]: four registers at a time (four `exp` chains in flight), then
/// one, then the last columns in scalar code with SiLU through [`silu_avx2`]'s padded copy.
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
            (true, true) => silu_n::<__m256, 4, true>(v),
            (true, false) => silu_n::<__m256, 4, false>(v),
            (false, _) => (v, v),
        };
        store(j, &values, &slopes);
    }
    let whole = b.len() / 8 * 8;
    for j in (blocks..whole).step_by(8) {
        let v = [z_at(j)];
        let (values, slopes) = match (silu, slope_ptr.is_some()) {
            (true, true) => silu_n::<__m256, 1, true>(v),
            (true, false) => silu_n::<__m256, 1, false>(v),
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
