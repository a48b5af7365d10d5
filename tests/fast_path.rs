//! The f32 path (hand-written AVX2 kernels where the CPU has them) against the f64 path
//! (ndarray and plain loops, itself checked by finite differences in `gradient_check.rs`):
//! forward and backward agree within f32 rounding for widths that fill whole 16-wide panels
//! and widths that do not, batches of one shard and of several; SiLU's vectorised `exp`
//! is accurate; the packed inference snapshot gives the same bits as the plain forward;
//! training on sharded batches is bit-for-bit the same on one thread and on two; the
//! GEMM gives the same bits whether it packs B itself or is handed it packed; and the
//! backward pass's one-pass column sums give the bits of its old row-by-row loops.
//!
//! The kernel tests cannot pass without testing: on a CPU with AVX2 and FMA the kernels must
//! be available (else they fail); on one without, they print why they are skipped; on other
//! architectures they are marked ignored.

mod common;

use common::forward_backward_of_dot;
use dsm_tui::nn::{Activation, Adam, AdamConfig, Linear, Mlp, Real, Workspace};
use dsm_tui::objective::dsm;
use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand_distr::{Distribution, StandardNormal};

fn normal(rows: usize, cols: usize, rng: &mut Xoshiro256PlusPlus) -> Array2<f64> {
    Array2::from_shape_fn((rows, cols), |_| StandardNormal.sample(rng))
}

/// `len` standard normal draws in f32.
fn f32s(len: usize, rng: &mut Xoshiro256PlusPlus) -> Vec<f32> {
    normal(len, 1, rng).iter().map(|&v| v as f32).collect()
}

/// The bit patterns of `v`, to compare floats exactly (NaN included).
fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Whether the AVX2 + FMA kernels can be tested on this CPU. Where the CPU has both
/// (x86-64, detected at run time) the crate must say the kernels are available, or the test
/// fails: the fast path would be silently off and these tests would pass without testing
/// it. Where it lacks them the test is skipped with the reason printed to stderr directly
/// (past the harness's output capture, so `cargo test` shows it). On other architectures
/// the kernel tests are marked `#[ignore]` at compile time and never get here.
fn kernels_or_skip(test: &str) -> bool {
    use std::io::Write;
    let available = dsm_tui::nn::cpu::kernels::available();
    #[cfg(target_arch = "x86_64")]
    let (detected, reason) =
        (is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"), "this x86-64 CPU lacks AVX2 or FMA");
    #[cfg(not(target_arch = "x86_64"))]
    let (detected, reason) = (false, "the kernels exist only on x86-64");
    assert!(
        available == detected,
        "{test}: the CPU {} AVX2 + FMA but kernels::available() says {available}",
        if detected { "has" } else { "lacks" }
    );
    if !available {
        let _ = writeln!(std::io::stderr(), "SKIPPED {test} (AVX2 kernels): {reason}");
    }
    available
}

/// The kernels are on wherever the CPU can run them (see [`kernels_or_skip`]): the fast path
/// that training and sampling take, and that the tests below check bit by bit.
#[test]
fn kernels_are_available_wherever_the_cpu_has_avx2_and_fma() {
    kernels_or_skip("kernels_are_available_wherever_the_cpu_has_avx2_and_fma");
}

/// Output and parameter gradients of Σᵢ⟨cᵢ, s(xᵢ)⟩ in the model's own float type, as f64.
fn output_and_grads<F: Real>(model: &Mlp<F>, x: ArrayView2<f64>, c: ArrayView2<f64>) -> (Vec<f64>, Vec<Vec<f64>>) {
    let rows = x.nrows();
    let mut ws = Workspace::new(model, rows);
    ws.input_mut(rows).assign(&x.mapv(F::lit));
    let mut grads = model.zero_grads();
    let out = forward_backward_of_dot(model, &mut ws, c.mapv(F::lit).view(), &mut grads);
    let out: Vec<f64> = out.iter().map(|v| v.as_f64()).collect();
    let flat = |g: &Linear<F>| g.tensors().into_iter().flatten().map(|v| v.as_f64()).collect();
    let mut all: Vec<Vec<f64>> = grads.iter().map(flat).collect();
    all.push(ws.input_grad().iter().map(|v| v.as_f64()).collect());
    (out, all)
}

/// |a − b| ≤ tol · max(1, max |b|) over a whole tensor: f32 sums of many terms err relative
/// to the tensor's scale, not to each (possibly tiny) entry.
fn assert_close(what: &str, a: &[f64], b: &[f64], tol: f64) {
    let scale = b.iter().fold(1f64, |m, v| m.max(v.abs()));
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= tol * scale, "{what}[{i}]: f32 {x:.9e} vs f64 {y:.9e} (scale {scale:.3e})");
    }
}

#[test]
fn f32_forward_and_backward_match_f64() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
    for (width, depth) in [(16, 2), (20, 2), (128, 2), (48, 3), (32, 1)] {
        for activation in [Activation::Silu, Activation::Tanh] {
            let model64 = Mlp::<f64>::init(width, depth, activation, &mut rng);
            let model32: Mlp<f32> = model64.cast();
            for rows in [1, 5, 64, 150] {
                let (x, c) = (normal(rows, 2, &mut rng), normal(rows, 2, &mut rng));
                let (out32, grads32) = output_and_grads(&model32, x.view(), c.view());
                let (out64, grads64) = output_and_grads(&model64, x.view(), c.view());
                let case = format!("width {width} depth {depth} {} rows {rows}", activation.name());
                assert_close(&format!("{case}: scores"), &out32, &out64, 2e-5);
                for (l, (g32, g64)) in grads32.iter().zip(&grads64).enumerate() {
                    assert_close(&format!("{case}: gradient {l}"), g32, g64, 1e-4);
                }
            }
        }
    }
}

#[test]
fn sharded_backward_is_the_sum_over_its_rows() {
    // 150 rows at width 128 are three shards (see `shard_layout`); 50 rows are one. In f64
    // the sharded gradient must equal the sum of the one-shard gradients of its row blocks
    // up to rounding: the split and the ordered sum of shard gradients are what is checked
    // (each one-shard pass is checked by finite differences in `gradient_check.rs`).
    assert_eq!(dsm_tui::nn::mlp::shard_layout(150, 128).0, 3);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    let model = Mlp::<f64>::init(128, 2, Activation::Silu, &mut rng);
    let (x, c) = (normal(150, 2, &mut rng), normal(150, 2, &mut rng));
    let (_, whole) = output_and_grads(&model, x.view(), c.view());
    let mut summed: Vec<Vec<f64>> = whole.iter().map(|g| vec![0.0; g.len()]).collect();
    for block in 0..3 {
        let rows = ndarray::s![block * 50..(block + 1) * 50, ..];
        let (_, part) = output_and_grads(&model, x.slice(rows), c.slice(rows));
        let layers = model.layers.len();
        for (sum, g) in summed[..layers].iter_mut().zip(&part) {
            sum.iter_mut().zip(g).for_each(|(s, g)| *s += g);
        }
        // ∂L/∂x is per row: the block's rows of the whole.
        summed[layers][block * 100..(block + 1) * 100].copy_from_slice(&part[layers]);
    }
    for (l, (a, b)) in whole.iter().zip(&summed).enumerate() {
        assert_close(&format!("gradient {l}"), a, b, 1e-12);
    }
}

/// The same for a noise-conditional network (third input log σ per row), whose input layer
/// has a third weight column: a batch of two shards (128 rows) and of three (150 rows) at
/// width 128 against the one-shard passes of its row blocks, in f64.
#[test]
fn sharded_conditional_backward_is_the_sum_over_its_rows() {
    let grads_of = |model: &Mlp<f64>, x: ArrayView2<f64>, condition: &[f64], c: ArrayView2<f64>| {
        let rows = x.nrows();
        let mut ws = Workspace::new(model, rows);
        ws.input_mut(rows).assign(&x);
        ws.condition_mut(rows).copy_from_slice(condition);
        let mut grads = model.zero_grads();
        forward_backward_of_dot(model, &mut ws, c, &mut grads);
        let mut all: Vec<Vec<f64>> =
            grads.iter().map(|g| g.tensors().into_iter().flatten().copied().collect()).collect();
        all.push(ws.input_grad().iter().copied().collect());
        all
    };
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(6);
    let model = Mlp::<f64>::init_conditional(128, 2, Activation::Silu, &mut rng);
    for (rows, shards) in [(128, 2), (150, 3)] {
        assert_eq!(dsm_tui::nn::mlp::shard_layout(rows, 128).0, shards);
        let (x, c) = (normal(rows, 2, &mut rng), normal(rows, 2, &mut rng));
        let condition: Vec<f64> = (0..rows).map(|i| -4.6 + 4.6 * i as f64 / (rows - 1) as f64).collect();
        let whole = grads_of(&model, x.view(), &condition, c.view());
        let mut summed: Vec<Vec<f64>> = whole.iter().map(|g| vec![0.0; g.len()]).collect();
        let block = rows / shards;
        let layers = model.layers.len();
        for b in 0..shards {
            let range = b * block..(b + 1) * block;
            let at = ndarray::s![range.clone(), ..];
            let part = grads_of(&model, x.slice(at), &condition[range], c.slice(at));
            for (sum, g) in summed[..layers].iter_mut().zip(&part) {
                sum.iter_mut().zip(g).for_each(|(s, g)| *s += g);
            }
            summed[layers][2 * b * block..2 * (b + 1) * block].copy_from_slice(&part[layers]);
        }
        for (l, (a, b)) in whole.iter().zip(&summed).enumerate() {
            assert_close(&format!("{rows} rows: gradient {l}"), a, b, 1e-12);
        }
    }
}

#[test]
fn silu_is_accurate_in_f32() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    let model64 = Mlp::<f64>::init(64, 2, Activation::Silu, &mut rng);
    // Through the network, scaled inputs sweep the pre-activations over a wide range.
    for scale in [0.1, 1.0, 10.0, 100.0] {
        let x = normal(40, 2, &mut rng) * scale;
        let s32 = model64.cast::<f32>().scores(x.mapv(|v| v as f32).view());
        let s64 = model64.scores(x.view());
        let a: Vec<f64> = s32.iter().map(|&v| f64::from(v)).collect();
        assert_close(&format!("scores at input scale {scale}"), &a, s64.as_slice().expect("contiguous"), 2e-5);
    }
    if kernels_or_skip("silu_is_accurate_in_f32: the kernel alone") {
        // The kernel alone, value by value, against f64, including the clamped tails and NaN.
        let z: Vec<f32> = (-2000..=2000).map(|i| i as f32 * 0.05).chain([f32::NAN, 200.0, -200.0]).collect();
        let (mut value, mut slope) = (z.clone(), vec![0.0; z.len()]);
        dsm_tui::nn::cpu::kernels::silu(&mut value, Some(&mut slope));
        for ((&z, &v), &s) in z.iter().zip(&value).zip(&slope) {
            if z.is_nan() {
                assert!(v.is_nan() && s.is_nan(), "silu(NaN) = {v}, slope {s}");
                continue;
            }
            let (want, want_slope) = Activation::Silu.value_and_slope(f64::from(z));
            assert!((f64::from(v) - want).abs() <= 4e-7 * want.abs() + 1e-30, "silu({z}) = {v}, f64 {want}");
            assert!((f64::from(s) - want_slope).abs() <= 1e-6, "silu′({z}) = {s}, f64 {want_slope}");
        }
    }
}

#[test]
fn evaluator_gives_the_same_bits_as_forward() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(8);
    let model: Mlp<f32> = Mlp::<f64>::init(128, 2, Activation::Silu, &mut rng).cast();
    let x = normal(256, 2, &mut rng).mapv(|v| v as f32);
    let mut evaluator = model.evaluator(256);
    let mut out = Array2::zeros((256, 2));
    evaluator.scores(x.view(), &mut out.view_mut());
    assert_eq!(out, model.scores(x.view()));
}

/// The training pass returns the loss of the whole batch, Σᵢ⟨cᵢ, s(xᵢ)⟩ here, summed from its
/// shards' parts whichever way they ran: one shard, two (on the partner thread once the
/// threads are timed) or three (on rayon's threads). Checked against the sum over the scores
/// it leaves in the workspace, recomputed in f64. One workspace takes batches of 50, 128 and
/// 150 rows in turn, 36 passes in a two-thread pool: its first 8 multi-shard steps run the
/// shards in order on this thread, the next 8 threaded, so each way sees two and three shards.
#[test]
fn the_training_loss_is_the_sum_over_every_shard() {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("a thread pool");
    pool.install(|| {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(12);
        let model = Mlp::<f64>::init(128, 2, Activation::Silu, &mut rng);
        let (mut ws, mut grads) = (Workspace::new(&model, 150), model.zero_grads());
        let mut out_grad = vec![0.0; 2 * 150];
        for step in 0..36 {
            let (rows, shards) = [(50, 1), (128, 2), (150, 3)][step % 3];
            assert_eq!(dsm_tui::nn::mlp::shard_layout(rows, 128).0, shards);
            let (x, c) = (normal(rows, 2, &mut rng), normal(rows, 2, &mut rng));
            ws.input_mut(rows).assign(&x);
            let c_flat = c.as_slice().expect("standard layout");
            let loss = model.forward_backward(&mut ws, rows, &mut out_grad, &mut grads, |range, scores, og| {
                og.copy_from_slice(&c_flat[2 * range.start..2 * range.end]);
                scores.iter().zip(&*og).map(|(s, g)| s * g).sum()
            });
            let want: f64 = ws.output().iter().zip(c.iter()).map(|(s, g)| s * g).sum();
            assert!(
                (loss - want).abs() <= 1e-12 * want.abs().max(1.0),
                "pass {step}, {rows} rows ({shards} shards): loss {loss}, want {want}"
            );
        }
    });
}

/// DSM + Adam steps on a batch of `rows` (several shards) in a pool of `threads`.
fn train_bits(rows: usize, threads: usize) -> Vec<u32> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a thread pool");
    pool.install(|| {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(21);
        let mut model = Mlp::<f32>::init(64, 2, Activation::Silu, &mut rng);
        let mut adam = Adam::new(AdamConfig { lr: 1e-2, ..AdamConfig::default() }, &model.layers);
        let (mut ws, mut grads) = (Workspace::new(&model, rows), model.zero_grads());
        let mut out_grad = Array2::zeros((rows, 2));
        // 20 steps: the workspace times its first 8 with the shards in order on this thread and
        // the next 8 on the pool's threads, so both ways are in the comparison.
        for _ in 0..20 {
            let x = normal(rows, 2, &mut rng).mapv(|v| v as f32);
            let eps = normal(rows, 2, &mut rng).mapv(|v| v as f32);
            dsm::loss_and_grad(&model, x.view(), eps.view(), 0.1, &mut ws, &mut out_grad.view_mut(), &mut grads);
            adam.step(&mut model.layers, &grads);
        }
        model.layers.iter().flat_map(|l| l.tensors().into_iter().flatten().map(|v| v.to_bits())).collect()
    })
}

#[test]
fn sharded_training_is_identical_on_one_thread_and_two() {
    // At width 64 a shard is at least 256 rows: 300 rows are 2 shards (on two threads, run
    // by the workspace's partner thread), 301 two of which the second is a row shorter,
    // 1000 are 4 (on rayon's threads).
    for rows in [300, 301, 1000] {
        assert!(train_bits(rows, 1) == train_bits(rows, 2), "batch {rows}: parameters differ across thread counts");
    }
}

/// The GEMM reading B in place (row-major, rows n floats apart) takes the blocked path that
/// packs both operands; the same B packed into contiguous panels beforehand does not. Both
/// must give the same bits, as the blocks carry the same FMA chains. The shapes cross every
/// edge: k over several blocks and not a multiple of one, rows not a multiple of the tile,
/// a partial panel, A read along its rows and (as δᵀ in the weight gradient) down its columns.
#[test]
#[cfg_attr(not(target_arch = "x86_64"), ignore = "the AVX2 kernels exist only on x86-64")]
fn packed_and_in_place_gemms_give_the_same_bits() {
    use dsm_tui::nn::cpu::kernels::{self, Epilogue, NR, Panels, Strided};
    if !kernels_or_skip("packed_and_in_place_gemms_give_the_same_bits") {
        return;
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
    let mut floats = |len: usize| f32s(len, &mut rng);
    for (m, n, k) in [(256, 256, 512), (37, 40, 300), (5, 16, 1), (64, 128, 129)] {
        let (a, b, bias) = (floats(m * k), floats(k * n), floats(n));
        let mut packed = vec![0.0; n.div_ceil(NR) * NR * k];
        kernels::pack_rows(&b, k, n, &mut packed);
        let in_place = Panels { data: &b, row_stride: n, panel_stride: NR };
        let contiguous = Panels { data: &packed, row_stride: NR, panel_stride: NR * k };
        let along_rows = Strided { data: &a, row_stride: k, col_stride: 1 };
        let down_columns = Strided { data: &a, row_stride: 1, col_stride: m };
        for a in [along_rows, down_columns] {
            for silu in [false, true] {
                let run = |b: Panels| {
                    let (mut c, mut slope) = (vec![0.0f32; m * n], vec![0.0f32; m * n]);
                    let epilogue = if silu { Epilogue::SiluWithSlope(&mut slope) } else { Epilogue::Store };
                    kernels::gemm((m, n, k), a, b, silu.then_some(&bias[..]), &mut c, n, epilogue);
                    (c, slope)
                };
                let ((c1, s1), (c2, s2)) = (run(in_place), run(contiguous));
                assert!(bits(&c1) == bits(&c2) && bits(&s1) == bits(&s2), "{m} × {n} × {k}, silu {silu}");
            }
        }
    }
}

/// The 512-bit tile (two panels of B at once, up to 12 rows, SiLU on zmm registers) gives the
/// bits of the ymm tile: each output is the same chain of FMAs and the same activation
/// code. Every edge: rows not a multiple of 12 or of 6, an odd last panel (the ymm tile
/// inside the wide sweep), a partial panel, k over several blocks, B in place and packed,
/// A along its rows and down its columns, every epilogue, with and without bias. Skipped,
/// with the reason printed, on a CPU without AVX-512.
#[test]
#[cfg_attr(not(target_arch = "x86_64"), ignore = "the kernels exist only on x86-64")]
fn avx512_and_avx2_gemms_give_the_same_bits() {
    use dsm_tui::nn::cpu::kernels::{self, Epilogue, NR, Panels, Strided};
    use dsm_tui::nn::cpu::path::KernelPath;
    use std::io::Write;
    if !kernels_or_skip("avx512_and_avx2_gemms_give_the_same_bits") {
        return;
    }
    if !KernelPath::Avx512.runs_here() {
        let _ = writeln!(std::io::stderr(), "SKIPPED avx512_and_avx2_gemms_give_the_same_bits: no AVX-512 here");
        return;
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(21);
    let mut floats = |len: usize| f32s(len, &mut rng);
    // k of every remainder mod 4 (the wide tile takes four steps of k per pass); 500 × 300
    // crosses two of the wide sweep's row blocks (228 rows at k = 300) and ends in 8 rows.
    for (m, n, k) in [
        (12, 32, 1),
        (13, 48, 129),
        (37, 90, 300),
        (128, 128, 128),
        (5, 64, 7),
        (150, 256, 64),
        (26, 32, 6),
        (500, 48, 300),
    ] {
        let (a, b, bias, factor) = (floats(m * k), floats(k * n), floats(n), floats(m * n));
        let mut packed = vec![0.0; n.div_ceil(NR) * NR * k];
        kernels::pack_rows(&b, k, n, &mut packed);
        let in_place = Panels { data: &b, row_stride: n, panel_stride: NR };
        let contiguous = Panels { data: &packed, row_stride: NR, panel_stride: NR * k };
        let along_rows = Strided { data: &a, row_stride: k, col_stride: 1 };
        let down_columns = Strided { data: &a, row_stride: 1, col_stride: m };
        for (a, b) in
            [(along_rows, contiguous), (down_columns, contiguous), (down_columns, in_place), (along_rows, in_place)]
        {
            for epilogue in 0..4 {
                let run = |path: KernelPath| {
                    let (mut c, mut slope) = (vec![0.0f32; m * n], vec![0.0f32; m * n]);
                    let (bias, epilogue) = match epilogue {
                        0 => (None, Epilogue::Store),
                        1 => (Some(&bias[..]), Epilogue::Silu),
                        2 => (Some(&bias[..]), Epilogue::SiluWithSlope(&mut slope)),
                        _ => (None, Epilogue::Times(&factor)),
                    };
                    kernels::gemm_with(path, (m, n, k), a, b, bias, &mut c, n, epilogue);
                    (bits(&c), bits(&slope))
                };
                let (wide, narrow) = (run(KernelPath::Avx512), run(KernelPath::Avx2));
                assert!(wide.0.iter().any(|&x| x != 0), "{m} × {n} × {k}: the product was computed");
                assert!(wide == narrow, "{m} × {n} × {k}, B row stride {}, epilogue {epilogue}", b.row_stride);
            }
        }
    }
}

/// The one-pass column sums keep each sum's order (row by row, product rounded before the
/// add), so they must give the bits of adding the rows one at a time, as the backward pass
/// did before. Widths cross every block edge: whole 64- and 16-column blocks, 8-column
/// blocks and single columns; one row and many.
#[test]
#[cfg_attr(not(target_arch = "x86_64"), ignore = "the AVX2 kernels exist only on x86-64")]
fn one_pass_column_sums_give_the_bits_of_row_by_row_sums() {
    use dsm_tui::nn::cpu::kernels::{self, RowWeights, loops};
    if !kernels_or_skip("one_pass_column_sums_give_the_bits_of_row_by_row_sums") {
        return;
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
    let mut floats = |len: usize| f32s(len, &mut rng);
    for (rows, cols) in [(512, 256), (300, 20), (1, 64), (77, 93), (64, 7)] {
        let (m, x, condition) = (floats(rows * cols), floats(2 * rows), floats(rows));
        // Row by row, as `loops::add` and `loops::axpy` accumulate.
        let (mut sum, mut by_x0, mut by_x1, mut by_c) =
            (vec![0.0; cols], vec![0.0; cols], vec![0.0; cols], vec![0.0; cols]);
        for (r, row) in m.chunks_exact(cols).enumerate() {
            loops::add(row, &mut sum);
            loops::axpy(x[2 * r], row, &mut by_x0);
            loops::axpy(x[2 * r + 1], row, &mut by_x1);
            loops::axpy(condition[r], row, &mut by_c);
        }
        let (x0, x1) = (RowWeights { data: &x, stride: 2 }, RowWeights { data: &x[1..], stride: 2 });
        let cond = RowWeights { data: &condition, stride: 1 };
        let mut out = vec![vec![f32::NAN; cols]; 4];
        let [s, a, b, c] = &mut out[..] else { unreachable!() };
        kernels::column_sums(&m, cols, Some(s), []);
        assert_eq!(bits(s), bits(&sum), "plain sums, {rows} × {cols}");
        kernels::column_sums(&m, cols, Some(s), [(x0, a), (x1, b), (cond, c)]);
        assert_eq!(bits(s), bits(&sum), "sums beside weighted ones, {rows} × {cols}");
        assert_eq!((bits(a), bits(b), bits(c)), (bits(&by_x0), bits(&by_x1), bits(&by_c)), "weighted, {rows} × {cols}");
        let (mut a, mut b) = (vec![f32::NAN; cols], vec![f32::NAN; cols]);
        kernels::column_sums(&m, cols, None, [(x0, &mut a[..]), (x1, &mut b[..])]);
        assert_eq!((bits(&a), bits(&b)), (bits(&by_x0), bits(&by_x1)), "weighted alone, {rows} × {cols}");
    }
}

/// The weights' transposed panels (8 × 8 blocks transposed in registers, the edges element
/// by element) hold exactly Wᵀ, zero-padded to whole panels: every shape edge, k and n not
/// multiples of 8 or 16 among them.
#[test]
#[cfg_attr(not(target_arch = "x86_64"), ignore = "the AVX2 kernels exist only on x86-64")]
fn transposed_panels_hold_exactly_w_transposed() {
    use dsm_tui::nn::cpu::kernels::{self, NR};
    if !kernels_or_skip("transposed_panels_hold_exactly_w_transposed") {
        return;
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(13);
    for (n, k) in [(128, 128), (256, 256), (20, 3), (3, 20), (37, 45), (16, 8), (1, 1), (64, 2)] {
        let w = f32s(n * k, &mut rng);
        let mut packed = vec![f32::NAN; n.div_ceil(NR) * NR * k];
        kernels::pack_transposed(&w, n, k, &mut packed);
        for (i, &v) in packed.iter().enumerate() {
            let (panel, kk, jj) = (i / (NR * k), i % (NR * k) / NR, i % NR);
            let j = panel * NR + jj;
            let want = if j < n { w[j * k + kk] } else { 0.0 };
            assert_eq!(v.to_bits(), want.to_bits(), "{n} × {k}: panel {panel}, row {kk}, column {jj}");
        }
    }
}

/// The paths this CPU runs the GEMM on: AVX2, and AVX-512 where the CPU has it (forced here
/// whatever the CPU rule would choose, so both are tested on any machine that can run them).
fn gemm_paths() -> Vec<dsm_tui::nn::cpu::path::KernelPath> {
    use dsm_tui::nn::cpu::path::KernelPath;
    [KernelPath::Avx2, KernelPath::Avx512].into_iter().filter(|p| p.runs_here()).collect()
}

/// Every output of the GEMM is one chain of FMAs in k order, starting from the bias (or 0),
/// whatever the tile, the sweep or the path: checked bit for bit against that chain written
/// out element by element, for shapes with whole panels, a partial panel, fewer columns
/// than one panel (the loops alone), rows that are not a multiple of any tile, and k over
/// several blocks.
#[test]
#[cfg_attr(not(target_arch = "x86_64"), ignore = "the kernels exist only on x86-64")]
fn every_gemm_output_is_one_fma_chain_in_k_order() {
    use dsm_tui::nn::cpu::kernels::{self, Epilogue, NR, Panels, Strided};
    if !kernels_or_skip("every_gemm_output_is_one_fma_chain_in_k_order") {
        return;
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(23);
    let mut floats = |len: usize| f32s(len, &mut rng);
    for (m, n, k) in [(13, 40, 9), (7, 5, 3), (1, 16, 1), (30, 64, 300), (25, 33, 600)] {
        let (a, b, bias) = (floats(m * k), floats(k * n), floats(n));
        let chain = |i: usize, j: usize, bias: Option<&[f32]>| {
            (0..k).fold(bias.map_or(0.0, |b| b[j]), |sum, kk| a[i * k + kk].mul_add(b[kk * n + j], sum))
        };
        let mut packed = vec![0.0; n.div_ceil(NR) * NR * k];
        kernels::pack_rows(&b, k, n, &mut packed);
        let in_place = Panels { data: &b, row_stride: n, panel_stride: NR };
        let contiguous = Panels { data: &packed, row_stride: NR, panel_stride: NR * k };
        let along_rows = Strided { data: &a, row_stride: k, col_stride: 1 };
        for path in gemm_paths() {
            for (panels, bias) in [(in_place, None), (contiguous, Some(&bias[..]))] {
                let mut c = vec![f32::NAN; m * n];
                kernels::gemm_with(path, (m, n, k), along_rows, panels, bias, &mut c, n, Epilogue::Store);
                let expected: Vec<f32> = (0..m * n).map(|e| chain(e / n, e % n, bias)).collect();
                assert_eq!(bits(&c), bits(&expected), "{} path, {m} × {n} × {k}, bias {}", path.name(), bias.is_some());
            }
        }
    }
}

/// An empty product (no rows or no columns) leaves C alone, and buffers too short for the
/// shape are refused with a panic before the tiles read or write through raw pointers:
/// A, B, C, the slope, the factor and the bias one element short, on every path.
#[test]
#[cfg_attr(not(target_arch = "x86_64"), ignore = "the kernels exist only on x86-64")]
fn gemm_leaves_empty_outputs_alone_and_refuses_short_buffers() {
    use dsm_tui::nn::cpu::kernels::{self, Epilogue, NR, Panels, Strided};
    use std::panic::{AssertUnwindSafe, catch_unwind};
    if !kernels_or_skip("gemm_leaves_empty_outputs_alone_and_refuses_short_buffers") {
        return;
    }
    // Whole panels only: a partial one is read with bounds-checked indexing, which would
    // panic on a short B by itself and hide a missing check.
    let (m, n, k) = (13, 32, 9);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(29);
    let (a, b, bias, factor) = (f32s(m * k, &mut rng), f32s(k * n, &mut rng), f32s(n, &mut rng), f32s(m * n, &mut rng));
    let a_rows = Strided { data: &a, row_stride: k, col_stride: 1 };
    let b_panels = Panels { data: &b, row_stride: n, panel_stride: NR };
    for path in gemm_paths() {
        for (rows, cols) in [(0, n), (m, 0), (0, 0)] {
            let mut c = vec![f32::NAN; m * n];
            kernels::gemm_with(path, (rows, cols, k), a_rows, b_panels, Some(&bias), &mut c, n, Epilogue::Store);
            assert!(c.iter().all(|v| v.is_nan()), "{} path, {rows} × {cols}: C untouched", path.name());
        }
        let short_a = Strided { data: &a[..m * k - 1], ..a_rows };
        // B's last panel ends at row k − 1, column 31: one float short of it.
        let short_b = Panels { data: &b[..(k - 1) * n + 2 * NR - 1], ..b_panels };
        let refused = |what: &str, run: &mut dyn FnMut()| {
            let result = catch_unwind(AssertUnwindSafe(run));
            assert!(result.is_err(), "{} path: a short {what} must be refused", path.name());
        };
        let mut c = vec![0.0f32; m * n];
        let mut slope = vec![0.0f32; m * n];
        refused("A", &mut || kernels::gemm_with(path, (m, n, k), short_a, b_panels, None, &mut c, n, Epilogue::Store));
        refused("B", &mut || kernels::gemm_with(path, (m, n, k), a_rows, short_b, None, &mut c, n, Epilogue::Store));
        refused("C", &mut || {
            kernels::gemm_with(path, (m, n, k), a_rows, b_panels, None, &mut c[..m * n - 1], n, Epilogue::Store)
        });
        refused("slope", &mut || {
            let epilogue = Epilogue::SiluWithSlope(&mut slope[..m * n - 1]);
            kernels::gemm_with(path, (m, n, k), a_rows, b_panels, None, &mut c, n, epilogue)
        });
        refused("factor", &mut || {
            let epilogue = Epilogue::Times(&factor[..m * n - 1]);
            kernels::gemm_with(path, (m, n, k), a_rows, b_panels, None, &mut c, n, epilogue)
        });
        refused("bias", &mut || {
            kernels::gemm_with(path, (m, n, k), a_rows, b_panels, Some(&bias[..n - 1]), &mut c, n, Epilogue::Store)
        });
    }
}

/// The input layer reads its weight columns through raw pointers, so columns or outputs
/// shorter than the layer's width are refused with a panic before any read.
#[test]
#[cfg_attr(not(target_arch = "x86_64"), ignore = "the kernels exist only on x86-64")]
fn input_layer_refuses_short_buffers() {
    use dsm_tui::nn::cpu::kernels::{self, Epilogue};
    use std::panic::{AssertUnwindSafe, catch_unwind};
    if !kernels_or_skip("input_layer_refuses_short_buffers") {
        return;
    }
    let (rows, h) = (5, 40);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(31);
    let (x, w0, w1, b) = (f32s(2 * rows, &mut rng), f32s(h, &mut rng), f32s(h, &mut rng), f32s(h, &mut rng));
    let (mut z, mut slope) = (vec![0.0f32; rows * h], vec![0.0f32; rows * h]);
    kernels::input_layer(&x, &w0, &w1, &b, &mut z, Epilogue::SiluWithSlope(&mut slope));
    assert!(z.iter().all(|v| v.is_finite()) && z.iter().any(|&v| v != 0.0), "the full-size call runs");
    let mut refused = |what: &str, run: &mut dyn FnMut(&mut [f32], &mut [f32])| {
        let result = catch_unwind(AssertUnwindSafe(|| run(&mut z, &mut slope)));
        assert!(result.is_err(), "a short {what} must be refused");
    };
    refused("first column", &mut |z, _| kernels::input_layer(&x, &w0[..h - 1], &w1, &b, z, Epilogue::Store));
    refused("second column", &mut |z, _| kernels::input_layer(&x, &w0, &w1[..h - 1], &b, z, Epilogue::Store));
    refused("output", &mut |z, _| kernels::input_layer(&x, &w0, &w1, &b, &mut z[..rows * h - 1], Epilogue::Store));
    refused("slope", &mut |z, slope| {
        kernels::input_layer(&x, &w0, &w1, &b, z, Epilogue::SiluWithSlope(&mut slope[..rows * h - 1]))
    });
}

/// The vectorised SiLU written out in scalar IEEE operations, step for step as
/// `kernels/silu.rs` does them (the clamped Cody–Waite `exp`, then 1/(1 + e⁻ᶻ) capped at
/// 2¹²⁰). `maxps`/`minps` return their second operand when
/// either is NaN, as `max_second`/`min_second` do here.
fn silu_in_scalar_steps(z: f32) -> (f32, f32) {
    let max_second = |a: f32, b: f32| if a > b { a } else { b };
    let min_second = |a: f32, b: f32| if a < b { a } else { b };
    const SHIFTER: f32 = 12_582_912.0;
    let x = 0.0 - z;
    let mut r = min_second(88.0, max_second(-87.3, x));
    let shifted = r.mul_add(std::f32::consts::LOG2_E, SHIFTER);
    let n = shifted - SHIFTER;
    r = (-n).mul_add(0.693_359_4, r);
    r = (-n).mul_add(-2.121_944_4e-4, r);
    let mut p = 8.312_53e-3f32;
    for c in [4.189_011e-2, 1.666_711_4e-1, 4.999_923e-1] {
        p = p.mul_add(r, c);
    }
    let er = p.mul_add(r * r, r) + 1.0;
    let bias = (127 - SHIFTER.to_bits() as i32) as u32;
    let e = er * f32::from_bits(shifted.to_bits().wrapping_add(bias) << 23);
    let d = min_second(1.0 + e, f32::from_bits((127 + 120) << 23));
    let s = 1.0 / d;
    let value = z * s;
    (value, value.mul_add(e * s, s))
}

/// SiLU's bits are those of IEEE single-precision operations alone, so they are the same on
/// every CPU: no hardware estimate (`rcpps` differs between Intel and AMD, and gave Zen 4
/// other figures than the Xeon for the same seed) and no step the scalar steps above do not
/// take. On both register widths, over the whole range, the clamps and NaN.
#[test]
#[cfg_attr(not(target_arch = "x86_64"), ignore = "the kernels exist only on x86-64")]
fn silu_gives_the_bits_of_plain_ieee_steps_on_any_cpu() {
    use dsm_tui::nn::cpu::kernels::{self, Epilogue, NR, Panels, Strided};
    if !kernels_or_skip("silu_gives_the_bits_of_plain_ieee_steps_on_any_cpu") {
        return;
    }
    let mut z: Vec<f32> = (-4000..=4000).map(|i| i as f32 * 0.025).collect();
    z.extend([f32::NAN, 200.0, -200.0, 0.0, -0.0, 1e-30, -87.0, -84.0, -83.0, 89.0, f32::MIN_POSITIVE]);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(37);
    z.extend(f32s(4000, &mut rng).iter().map(|v| v * 8.0));
    let bits_of =
        |v: &[f32]| -> Vec<u32> { v.iter().map(|x| if x.is_nan() { u32::MAX } else { x.to_bits() }).collect() };
    let (want_value, want_slope): (Vec<f32>, Vec<f32>) = z.iter().map(|&z| silu_in_scalar_steps(z)).unzip();
    // Over a slice, as the 2-wide layers use it.
    let (mut value, mut slope) = (z.clone(), vec![0.0; z.len()]);
    kernels::silu(&mut value, Some(&mut slope));
    assert!(bits_of(&value) == bits_of(&want_value), "silu over a slice");
    assert!(bits_of(&slope) == bits_of(&want_slope), "silu′ over a slice");
    // In the GEMM's epilogue on each path: z as a product with the identity (one row of A per
    // value, k = 1, B = 1 in column 0 of a 16-wide panel).
    let (m, n) = (z.len(), NR);
    let mut b = vec![0.0f32; NR];
    b[0] = 1.0;
    for path in gemm_paths() {
        let (mut c, mut s) = (vec![0.0f32; m * n], vec![0.0f32; m * n]);
        let a = Strided { data: &z, row_stride: 1, col_stride: 1 };
        let panels = Panels { data: &b, row_stride: NR, panel_stride: NR };
        kernels::gemm_with(path, (m, n, 1), a, panels, None, &mut c, n, Epilogue::SiluWithSlope(&mut s));
        for (i, &z) in z.iter().enumerate() {
            // The product z·1 + 0 as the tile's FMA rounds it (−0 becomes +0).
            let (got, want) = ((c[i * n], s[i * n]), silu_in_scalar_steps(z.mul_add(1.0, 0.0)));
            let same = |a: f32, b: f32| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
            assert!(
                same(got.0, want.0) && same(got.1, want.1),
                "{} tile, z = {z}: {got:?}, want {want:?}",
                path.name()
            );
        }
    }
}
