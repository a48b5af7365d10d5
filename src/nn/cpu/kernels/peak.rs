//! The FMA peak of one core, measured: a register-only loop of 12 independent FMA chains
//! (`../shared/reference/fma_peak.c` in Rust), so `bench` can say what fraction of the
//! hardware a kernel reaches on whatever CPU it runs on.

use std::arch::x86_64::*;
use std::hint::black_box;
use std::time::Instant;

use super::lanes::Lanes;
use crate::nn::cpu::path::KernelPath;

/// Independent accumulators: more than FMA latency × units (4 × 2) so the loop is bound by
/// throughput alone.
const CHAINS: usize = 12;

/// GFLOP/s of one core (counting an FMA as two) on `path`'s register width, over about
/// `seconds`, on the calling thread; `None` for the portable path or one this CPU lacks.
pub fn fma_peak(path: KernelPath, seconds: f64) -> Option<f64> {
    if path == KernelPath::Portable || !path.runs_here() {
        return None;
    }
    let (chains, lanes) = chains_for(path);
    // SAFETY: the path's features were checked just above.
    let run = |iterations: u64| unsafe { chains(iterations) };
    // Grow the count until one run takes a tenth of the time, then time the rest.
    let mut iterations = 1u64 << 16;
    loop {
        let start = Instant::now();
        run(iterations);
        let elapsed = start.elapsed().as_secs_f64();
        if elapsed >= seconds / 10.0 {
            let iterations = ((iterations as f64) * seconds / elapsed).max(1.0) as u64;
            let start = Instant::now();
            run(iterations);
            let elapsed = start.elapsed().as_secs_f64();
            return Some(gflops(iterations, lanes, elapsed));
        }
        iterations *= 2;
    }
}

/// The loop that measures `path`'s peak, and its lanes per register: zmm for AVX-512, ymm for
/// AVX2.
fn chains_for(path: KernelPath) -> (unsafe fn(u64), f64) {
    match path {
        KernelPath::Avx512 => (chains_zmm, 16.0),
        _ => (chains_ymm, 8.0),
    }
}

/// GFLOP/s of `iterations` rounds of the chains on `lanes`-wide registers in `seconds`: each
/// round is one FMA (two flops) per lane of each chain.
fn gflops(iterations: u64, lanes: f64, seconds: f64) -> f64 {
    iterations as f64 * (CHAINS as f64) * lanes * 2.0 / seconds / 1e9
}

#[target_feature(enable = "avx2,fma")]
unsafe fn chains_ymm(iterations: u64) {
    chains::<__m256>(iterations)
}

#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn chains_zmm(iterations: u64) {
    chains::<__m512>(iterations)
}

/// The loop itself: a·b + c on each chain, the chains kept in registers; the result passes
/// through `black_box` so the work is not optimised away.
#[inline(always)]
unsafe fn chains<L: Lanes>(iterations: u64) {
    let (b, c) = (L::splat(1.000_000_1), L::splat(1e-7));
    let mut acc: [L; CHAINS] = std::array::from_fn(|i| L::splat(i as f32));
    for _ in 0..black_box(iterations) {
        for a in acc.iter_mut() {
            *a = a.mul_add(b, c);
        }
    }
    black_box(acc);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flops_counted_by_hand() {
        // 10⁹ rounds × 12 chains × 8 lanes × 2 flops in one second: 192 GFLOP/s.
        assert_eq!(gflops(1_000_000_000, 8.0, 1.0), 192.0);
        // Half the rounds, twice the lanes, twice the time: 96.
        assert_eq!(gflops(500_000_000, 16.0, 2.0), 96.0);
    }

    /// The AVX-512 figure is measured on zmm registers and counts 16 lanes, the AVX2 one on
    /// ymm with 8: the ymm loop counted as 16 lanes would report twice the AVX2 peak on any
    /// CPU, and no timing could tell that from a CPU with two 512-bit units.
    #[test]
    fn each_path_is_measured_on_its_own_registers() {
        let (zmm, lanes) = chains_for(KernelPath::Avx512);
        assert!(std::ptr::fn_addr_eq(zmm, chains_zmm as unsafe fn(u64)) && lanes == 16.0);
        let (ymm, lanes) = chains_for(KernelPath::Avx2);
        assert!(std::ptr::fn_addr_eq(ymm, chains_ymm as unsafe fn(u64)) && lanes == 8.0);
    }

    /// A measured peak is a positive figure below what the hardware could do at all: two FMA
    /// units per core, at most 6 GHz, on the path's register width (a bound no load can
    /// break, so this is not a timing assertion). None for the portable code.
    #[test]
    fn peaks_are_positive_and_below_the_hardware_ceiling() {
        assert_eq!(fma_peak(KernelPath::Portable, 0.01), None);
        for (path, lanes) in [(KernelPath::Avx2, 8.0), (KernelPath::Avx512, 16.0)] {
            let peak = fma_peak(path, 0.01);
            if !path.runs_here() {
                assert_eq!(peak, None, "{} cannot run here", path.name());
                continue;
            }
            let peak = peak.expect("a path this CPU runs");
            let ceiling = 2.0 * lanes * 2.0 * 6.0;
            assert!(peak > 0.0 && peak < ceiling, "{}: {peak} GFLOP/s against a ceiling of {ceiling}", path.name());
        }
    }
}
