//! Element-wise loops, compiled with AVX2 + FMA so the compiler vectorises them eight lanes
//! wide; they are too simple to hand-write.

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
