//! The opt-in bf16 inference of sampling (`--sample-precision bf16`) against independent
//! arithmetic: the product equals f64 sums of the bf16-rounded operands within f32
//! accumulation error, the rounding is IEEE's round-to-nearest-even, and a network's scores in
//! bf16 stay within bf16's relative precision (2⁻⁸) of its f32 scores. On a CPU without
//! AVX512-BF16 the kernel tests print why they are skipped (the CLI's refusal is tested in
//! `cli.rs`); on other architectures they are ignored.

#![cfg(target_arch = "x86_64")]

use dsm_tui::nn::cpu::kernels::{bf16_available, pack_pairs, silu_dense_pairs, to_bf16, to_pairs};
use dsm_tui::nn::{Activation, Mlp};
use ndarray::Array2;
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand_distr::{Distribution, StandardNormal};

fn f32s(len: usize, rng: &mut Xoshiro256PlusPlus) -> Vec<f32> {
    (0..len).map(|_| StandardNormal.sample(rng)).collect()
}

fn from_bf16(b: u16) -> f64 {
    f64::from(f32::from_bits(u32::from(b) << 16))
}

fn runs_here(test: &str) -> bool {
    let here = bf16_available();
    if !here {
        eprintln!("{test}: skipped, this CPU has no AVX512-BF16");
    }
    here
}

#[test]
fn rounding_to_bf16_is_to_nearest_even() {
    // 1 + 2⁻⁸ is halfway between 1 and 1 + 2⁻⁷: ties go to the even mantissa (1).
    assert_eq!(from_bf16(to_bf16(1.0 + 1.0 / 256.0)), 1.0);
    // 1 + 3·2⁻⁸ is halfway between 1 + 2⁻⁷ and 1 + 2⁻⁶: to the even one, 1 + 2⁻⁶.
    assert_eq!(from_bf16(to_bf16(1.0 + 3.0 / 256.0)), 1.0 + 1.0 / 64.0);
    assert_eq!(from_bf16(to_bf16(1.0 + 1.0 / 256.0 + 1e-6)), 1.0 + 1.0 / 128.0, "above halfway rounds up");
    assert_eq!(from_bf16(to_bf16(-2.5)), -2.5, "exact values stay");
    assert!(from_bf16(to_bf16(f32::NAN)).is_nan());
}

#[test]
fn pairs_are_the_rounded_values_in_order() {
    if !runs_here("pairs_are_the_rounded_values_in_order") {
        return;
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    let a = f32s(96, &mut rng);
    let mut pairs = vec![0u32; 48];
    to_pairs(&a, &mut pairs);
    for (i, &pair) in pairs.iter().enumerate() {
        assert_eq!(pair as u16, to_bf16(a[2 * i]), "low half of pair {i}");
        assert_eq!((pair >> 16) as u16, to_bf16(a[2 * i + 1]), "high half of pair {i}");
    }
}

/// SiLU(a·Wᵀ + b) with every row count a tile can end on, against f64 sums of the same
/// bf16-rounded operands: only the f32 accumulation differs, ~k·2⁻²⁴ relative.
#[test]
fn the_product_is_the_rounded_operands_summed() {
    if !runs_here("the_product_is_the_rounded_operands_summed") {
        return;
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    for (rows, n, k) in [(1, 32, 32), (13, 64, 32), (37, 128, 128), (24, 256, 64)] {
        let (a, w, bias) = (f32s(rows * k, &mut rng), f32s(n * k, &mut rng), f32s(n, &mut rng));
        let (mut pairs, mut packed, mut z) = (vec![0; rows * k / 2], vec![0; n * k / 2], vec![0.0f32; rows * n]);
        to_pairs(&a, &mut pairs);
        pack_pairs(&w, n, k, &mut packed);
        silu_dense_pairs((rows, n, k), &pairs, &packed, &bias, &mut z);
        for i in 0..rows {
            for j in 0..n {
                let sum: f64 = f64::from(bias[j])
                    + (0..k)
                        .map(|kk| from_bf16(to_bf16(a[i * k + kk])) * from_bf16(to_bf16(w[j * k + kk])))
                        .sum::<f64>();
                let want = sum / (1.0 + (-sum).exp());
                let got = f64::from(z[i * n + j]);
                assert!(
                    (got - want).abs() <= 1e-5 * (1.0 + want.abs()),
                    "{rows}×{n}×{k} at ({i}, {j}): {got} vs {want}"
                );
            }
        }
    }
}

/// A network's scores through the bf16 evaluator against the f32 one: relative difference
/// of the whole batch within a few units of bf16's 2⁻⁸, and not identical (the bf16 product
/// really ran).
#[test]
fn bf16_scores_are_the_f32_scores_to_bf16_precision() {
    if !runs_here("bf16_scores_are_the_f32_scores_to_bf16_precision") {
        return;
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    for (width, depth) in [(128, 2), (64, 3)] {
        let model = Mlp::<f32>::init(width, depth, Activation::Silu, &mut rng);
        let rows = 300;
        let x = Array2::from_shape_vec((rows, 2), f32s(2 * rows, &mut rng)).unwrap();
        let (mut f32_scores, mut bf16_scores) = (Array2::zeros((rows, 2)), Array2::zeros((rows, 2)));
        model.evaluator(rows).scores(x.view(), &mut f32_scores.view_mut());
        model.evaluator_bf16(rows).scores(x.view(), &mut bf16_scores.view_mut());
        let norm = |a: &Array2<f32>| a.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>().sqrt();
        let relative = norm(&(&bf16_scores - &f32_scores)) / norm(&f32_scores);
        assert!(
            relative > 0.0 && relative < 4.0 / 256.0,
            "width {width}, depth {depth}: relative difference {relative}"
        );
    }
}

/// The bf16 tile always applies SiLU: a network with another activation (or a CPU without
/// AVX512-BF16) is refused, never evaluated wrongly.
#[test]
#[should_panic(expected = "cannot be evaluated in bf16")]
fn a_network_the_bf16_tile_cannot_compute_is_refused() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
    Mlp::<f32>::init(64, 2, Activation::Tanh, &mut rng).evaluator_bf16(10);
}
