//! The binary as a user and a script run it: `--once` output and files, reproducibility
//! across thread counts, and bad input (exit 2, one line, no file), divergence (exit 3).

mod common;

use common::TempDir;

use std::fs;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_dsm-tui");
/// A small run: 400 points, 3 epochs, 300 particles × 30 steps (well under a second).
const SMALL: &[&str] = &["--once", "--count", "400", "--epochs", "3", "--particles", "300", "--steps", "30"];

fn run(args: &[&str], threads: Option<&str>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    if let Some(t) = threads {
        cmd.env("RAYON_NUM_THREADS", t);
    }
    cmd.output().expect("run dsm-tui")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_describes_every_flag_with_its_default() {
    let out = run(&["--help"], None);
    assert!(out.status.success());
    let help = text(&out.stdout);
    for flag in [
        "--count",
        "--noise",
        "--batch-size",
        "--epochs",
        "--lr",
        "--lr-gamma",
        "--hidden",
        "--depth",
        "--activation",
        "--objective",
        "--sample-precision",
        "--dataset",
        "--data",
        "--sigma",
        "--particles",
        "--steps",
        "--eta",
        "--seed",
        "--once",
        "--json",
        "--samples-out",
        "--data-out",
        "--history-out",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
    for default in [
        "[default: 5000]",
        "[default: 64]",
        "[default: 100]",
        "[default: 0.01]",
        "[default: 128; 64 with --mode annealed]",
        "[default: 2; 4 with --mode annealed]",
        "[default: 100; 800 with --mode annealed]",
        "[default: 0.95; 0.9925 with --mode annealed]",
        "[default: silu]",
        "[default: 0.1;",
        "[default: 1000]",
        "[default: moons]",
        "[default: dsm]",
    ] {
        assert!(help.contains(default), "--help lacks {default}");
    }
}

#[test]
fn once_prints_a_summary_with_every_figure() {
    let out = run(SMALL, None);
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let summary = text(&out.stdout);
    for needle in [
        "energy distance",
        "floor",
        "upper-moon share",
        "escaped",
        "non-finite",
        "steps/s",
        "particle-steps/s",
        "train",
        "test",
    ] {
        assert!(summary.contains(needle), "summary lacks '{needle}':\n{summary}");
    }
    assert!(!summary.contains("NaN"), "{summary}");
}

#[test]
fn json_has_the_same_fields_and_files_are_written() {
    let dir = TempDir::new("json");
    let (samples, data, history) = (dir.file("s.csv"), dir.file("d.csv"), dir.file("h.csv"));
    let mut args = SMALL.to_vec();
    args.extend(["--json", "--samples-out", &samples, "--data-out", &data, "--history-out", &history]);
    let out = run(&args, None);
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "one JSON object on one line");
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("valid JSON");
    assert_eq!(json["config"]["count"], 400);
    assert_eq!(json["train_steps"], 15, "320 train points / batch 64 = 5 steps × 3 epochs");
    for key in [
        "final_train_loss",
        "final_test_loss",
        "floor_energy_distance",
        "train_seconds",
        "sampling_seconds",
        "train_steps_per_second",
        "particle_steps_per_second",
    ] {
        assert!(json[key].as_f64().is_some_and(f64::is_finite), "{key}: {}", json[key]);
    }
    for key in ["energy_distance", "energy_distance_inliers", "upper_moon_share", "far_share"] {
        assert!(json["samples"][key].as_f64().is_some_and(f64::is_finite), "samples.{key}");
    }
    assert_eq!(json["samples"]["count"], 300);

    let samples = fs::read_to_string(&samples).expect("samples");
    assert_eq!(samples.lines().next(), Some("x,y"));
    assert_eq!(samples.lines().count(), 301);
    let data = fs::read_to_string(&data).expect("data");
    assert_eq!(data.lines().next(), Some("x,y,label,split"));
    assert_eq!(data.lines().filter(|l| l.ends_with(",train")).count(), 320);
    assert_eq!(data.lines().filter(|l| l.ends_with(",test")).count(), 80);
    let history = fs::read_to_string(&history).expect("history");
    assert_eq!(history.lines().next(), Some("series,step,epoch,loss"));
    assert_eq!(history.lines().filter(|l| l.starts_with("train,")).count(), 15);
    assert_eq!(history.lines().filter(|l| l.starts_with("test,")).count(), 4, "before training + 3 epochs");
    assert_eq!(dir.entries(), ["d.csv", "h.csv", "s.csv"], "no temporary files left behind");
}

#[test]
fn same_seed_gives_byte_identical_files_on_any_thread_count() {
    let dir = TempDir::new("repro");
    let mut outputs = Vec::new();
    for threads in ["1", "2", "3"] {
        let files = ["s", "d", "h"].map(|f| dir.file(&format!("{f}{threads}.csv")));
        let mut args = SMALL.to_vec();
        args.extend(["--seed", "42", "--samples-out", &files[0], "--data-out", &files[1], "--history-out", &files[2]]);
        let out = run(&args, Some(threads));
        assert!(out.status.success(), "stderr: {}", text(&out.stderr));
        outputs.push(files.map(|f| fs::read(f).expect("output file")));
    }
    assert!(outputs[0] == outputs[1] && outputs[1] == outputs[2], "outputs differ across RAYON_NUM_THREADS");
    let mut other = SMALL.to_vec();
    let s = dir.file("other.csv");
    other.extend(["--seed", "43", "--samples-out", &s]);
    assert!(run(&other, None).status.success());
    assert_ne!(fs::read(&s).expect("samples"), outputs[0][0], "another seed gives other samples");
}

#[test]
fn bad_input_is_one_line_naming_flag_value_and_range_with_exit_2_and_no_file() {
    let dir = TempDir::new("bad");
    let out_file = dir.file("s.csv");
    let cases: &[(&[&str], &str, &str)] = &[
        (&["--sigma", "0"], "--sigma", "'0'"),
        (&["--sigma", "-1"], "--sigma", "'-1'"),
        (&["--sigma", "nan"], "--sigma", "'NaN'"),
        (&["--sigma", "inf"], "--sigma", "'inf'"),
        (&["--eta", "0"], "--eta", "'0'"),
        (&["--eta", "-0.5"], "--eta", "'-0.5'"),
        (&["--batch-size", "0"], "--batch-size", "'0'"),
        (&["--batch-size", "4001"], "--batch-size", "'4001'"),
        (&["--hidden", "0"], "--hidden", "'0'"),
        (&["--depth", "0"], "--depth", "'0'"),
        (&["--epochs", "0"], "--epochs", "'0'"),
        (&["--particles", "0"], "--particles", "'0'"),
        (&["--steps", "0"], "--steps", "'0'"),
        (&["--count", "9"], "--count", "'9'"),
        (&["--activation", "relu"], "--activation", "'relu'"),
        (&["--lr", "abc"], "--lr", "'abc'"),
        (&["--mode", "annealed", "--nfe", "1"], "--nfe", "'1'"),
        (&["--sampler", "ode-euler"], "--sampler", "'ode-euler'"),
        (&["--sampler", "pc"], "--sampler", "'pc'"),
        (&["--mode", "annealed", "--sampler", "ode-heun", "--nfe", "2"], "--nfe", "'2'"),
        (&["--mode", "annealed", "--likelihood", "3"], "--likelihood", "'3'"),
        (&["--mode", "annealed", "--likelihood", "100001"], "--likelihood", "'100001'"),
        (&["--likelihood"], "--mode", "'single'"),
    ];
    for (extra, flag, value) in cases {
        // Default configuration otherwise: validation happens before any training.
        let mut args = vec!["--once", "--samples-out", &out_file];
        args.extend_from_slice(extra);
        let out = run(&args, None);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{extra:?}: one line, got:\n{stderr}");
        assert!(stderr.contains(flag) && stderr.contains(value), "{extra:?}: names flag and value: {stderr}");
        assert!(stderr.contains("accepted"), "{extra:?}: names the accepted range: {stderr}");
        assert!(!stderr.contains("panicked"), "{extra:?}: {stderr}");
        assert!(out.stdout.is_empty());
    }
    let missing = dir.file("no-such-dir/s.csv");
    let mut args = SMALL.to_vec();
    args.extend(["--samples-out", &missing]);
    let out = run(&args, None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--samples-out"));
    assert!(dir.entries().is_empty(), "no file written: {:?}", dir.entries());
}

/// A value clap cannot parse as a number gets the range the flag's help gives, as a value out
/// of range does, not "see --help".
#[test]
fn an_unparsable_number_is_answered_with_the_flags_range() {
    for (args, line) in [
        (
            ["--eta", "abc"],
            "error: invalid value 'abc' for --eta: accepted a number in (0, 10] (invalid float literal)",
        ),
        (
            ["--particles", "-5"],
            "error: invalid value '-5' for --particles: accepted a number in 1..=100000 (invalid digit found in string)",
        ),
        (["--lr", "x"], "error: invalid value 'x' for --lr: accepted a number > 0 (invalid float literal)"),
    ] {
        let out = run(&[&["--once"][..], &args].concat(), None);
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(text(&out.stderr).trim(), line);
    }
}

/// An empty path is named as such, not answered with an empty list ("accepted one of ").
#[test]
fn an_empty_path_is_said_to_be_empty() {
    for flag in ["--samples-out", "--data-out", "--history-out", "--plot", "--save", "--data", "--load"] {
        let out = run(&["--once", flag, ""], None);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{flag}: {stderr}");
        assert!(stderr.contains(flag) && stderr.contains("empty"), "{flag}: {stderr}");
        assert!(!stderr.contains("one of"), "{flag}: {stderr}");
    }
}

/// A tiny value the user gives is echoed in exponent form, not as hundreds of zeros; a huge
/// one refused is named the same way.
#[test]
fn tiny_and_huge_values_are_echoed_in_exponent_form() {
    let out = run(&[SMALL, &["--lr", "1e-300", "--lr-gamma", "1e-300"]].concat(), None);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains("Adam lr 1e-300 decaying ×1e-300 per epoch"), "{stdout}");
    let out = run(&["--once", "--sigma", "1e300"], None);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("'1e300'") && !stderr.contains("000000"), "{stderr}");
}

/// A file name is shown with its control characters escaped: an escape sequence in it would
/// otherwise act on the user's terminal.
#[test]
fn file_names_in_errors_have_their_escape_sequences_escaped() {
    let dir = TempDir::new("escape");
    let name = dir.file("\x1b[31mred.csv");
    for flag in ["--data", "--load"] {
        let out = run(&["--once", flag, &name], None);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag}: {stderr}");
        assert!(!stderr.contains('\x1b'), "{flag}: a raw escape code: {stderr:?}");
        assert!(stderr.contains("\\u{1b}[31mred.csv"), "{flag}: {stderr:?}");
    }
}

#[test]
fn pace_takes_one_of_ts_paces_and_only_for_the_dashboard() {
    let out = run(&["--pace", "300"], None);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr.trim(),
        "error: invalid value '300' for --pace: accepted steps per second, one of 2000, 400, 100, 20 or max (flat out)"
    );
    let out = run(&["--pace", "400", "--once"], None);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--pace") && stderr.contains("--once"), "{stderr}");
}

#[test]
fn divergence_exits_3_naming_the_step_and_prints_no_figures() {
    let dir = TempDir::new("diverge");
    let s = dir.file("s.csv");
    let mut args = SMALL.to_vec();
    args.extend(["--lr", "1000", "--samples-out", &s]);
    let out = run(&args, None);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    // What ran away, when, how far, and the flag to change with its current value.
    assert!(stderr.starts_with("error: training diverged: the train loss reached "), "{stderr}");
    assert!(stderr.contains(" at step 2 (epoch 1), past the runaway limit 2.00e6;"), "{stderr}");
    assert!(stderr.trim_end().ends_with("the learning rate is likely too large: try --lr 100 (now 1000)"), "{stderr}");
    assert!(out.stdout.is_empty(), "no figures printed as if they were results");
    assert!(dir.entries().is_empty(), "no file written: {:?}", dir.entries());
}

/// Data far from unit scale make the untrained network's loss run away at the first step,
/// before any update: the message blames the data's scale, not the learning rate.
#[test]
fn divergence_at_the_first_step_names_the_datas_scale() {
    let dir = TempDir::new("diverge-scale");
    let data = dir.file("far.csv");
    let rows: String =
        (0..100).map(|i| format!("{},{}\n", 10_000.0 * (i % 7) as f64, -5_000.0 * (i % 3) as f64)).collect();
    fs::write(&data, rows).expect("write the data");
    let out = run(&["--once", "--data", &data, "--epochs", "3", "--particles", "300", "--steps", "30"], None);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("at step 1 (epoch 1)"), "{stderr}");
    // The rms of the training split's coordinates (80 of the 100 rows: about 2.5e4).
    assert!(stderr.contains("the cause is the data's scale (rms 2"), "{stderr}");
    assert!(stderr.trim_end().ends_with("rescale the points to about unit spread"), "{stderr}");
    assert!(!stderr.contains("--lr"), "no update was made, so the lr is not to blame: {stderr}");
}

#[test]
fn builtin_data_sets_run_and_report_only_their_own_figures() {
    let out = run(
        &[
            "--once",
            "--json",
            "--dataset",
            "8gaussians",
            "--count",
            "400",
            "--epochs",
            "2",
            "--particles",
            "100",
            "--steps",
            "10",
        ],
        None,
    );
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["config"]["source"]["builtin"], "8gaussians");
    assert!(json["samples"]["upper_moon_share"].is_null(), "no moons, no upper-moon share");
    assert!(json["samples"]["energy_distance"].as_f64().is_some_and(f64::is_finite));
}

#[test]
fn user_csv_trains_and_bad_rows_are_named_by_line() {
    let dir = TempDir::new("csv");
    let good = dir.file("points.csv");
    let rows: String = (0..300).map(|i| format!("{},{}\n", (i as f64 * 0.1).cos(), (i as f64 * 0.1).sin())).collect();
    fs::write(&good, format!("x,y\n{rows}")).expect("write");
    let out = run(&["--once", "--data", &good, "--epochs", "2", "--particles", "100", "--steps", "10"], None);
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let summary = text(&out.stdout);
    assert!(summary.contains("300 points") && summary.contains("240 train / 60 test"), "{summary}");

    let bad = dir.file("bad.csv");
    fs::write(&bad, format!("x,y\n{rows}0.5,oops\n")).expect("write");
    let out = run(&["--once", "--data", &bad], None);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--data") && stderr.contains("line 302") && stderr.contains("'oops'"), "{stderr}");

    let few = dir.file("few.csv");
    fs::write(&few, "1,2\n3,4\n").expect("write");
    let out = run(&["--once", "--data", &few], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("2 points, fewer than the 10 needed"), "{}", text(&out.stderr));

    let out = run(&["--once", "--data", &good, "--dataset", "circles"], None);
    assert_eq!(out.status.code(), Some(2), "--data and --dataset conflict");
}

/// Annealed mode's small run: 10 levels × 5 steps + the denoising step.
const ANNEALED: &[&str] = &[
    "--once",
    "--mode",
    "annealed",
    "--count",
    "400",
    "--epochs",
    "3",
    "--particles",
    "300",
    "--level-steps",
    "5",
    "--steps",
    "30",
];

#[test]
fn annealed_mode_trains_the_conditional_model_and_compares_samplers() {
    let out = run(&[ANNEALED, &["--json"]].concat(), None);
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["config"]["mode"], "annealed");
    let model = |json: &serde_json::Value| (json["config"]["hidden"].clone(), json["config"]["depth"].clone());
    assert_eq!(model(&json), (64.into(), 4.into()), "the noise-conditional model's own defaults");
    let lr_gamma = json["config"]["lr_gamma"].as_f64().expect("lr_gamma");
    assert!((lr_gamma - 0.9925).abs() < 1e-6, "the mode's own decay, got {lr_gamma}");
    let given = run(&[ANNEALED, &["--json", "--hidden", "32", "--depth", "2"]].concat(), None);
    let given: serde_json::Value = serde_json::from_slice(&given.stdout).expect("JSON");
    assert_eq!(model(&given), (32.into(), 2.into()), "flags given win over the mode's defaults");
    assert!(json["final_test_loss"].as_f64().is_some_and(|l| l.is_finite() && l < 10.0), "σ²-weighted loss is O(1)");
    assert!(json["samples"]["energy_distance"].as_f64().is_some_and(f64::is_finite));

    let out = run(&[ANNEALED, &["--compare", "--json"]].concat(), None);
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["single"]["langevin_steps"], 30);
    assert_eq!(json["annealed"]["langevin_steps"], 51);
    for sampler in ["single", "annealed"] {
        assert!(json[sampler]["samples"]["energy_distance"].as_f64().is_some_and(f64::is_finite), "{sampler}");
    }
    let table = text(&run(&[ANNEALED, &["--compare"]].concat(), None).stdout);
    assert!(table.contains("single-σ") && table.contains("annealed") && table.contains("energy distance"), "{table}");
}

#[test]
fn annealed_mode_refuses_what_it_cannot_do_in_one_line() {
    let cases: &[(&[&str], &str)] = &[
        (&["--once", "--mode", "annealed", "--objective", "ism"], "--objective"),
        (&["--once", "--mode", "annealed", "--sigmas", "0.01:1:10"], "--sigmas"),
        (&["--once", "--mode", "annealed", "--sigmas", "1:0.01"], "--sigmas"),
        (&["--once", "--mode", "annealed", "--level-steps", "0"], "--level-steps"),
        (&["--once", "--mode", "annealed", "--step-scale", "-1"], "--step-scale"),
    ];
    for (args, flag) in cases {
        let out = run(args, None);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
    }
    // The schedule's own parser says what it accepts, not "a number".
    let stderr = text(&run(&["--once", "--mode", "annealed", "--sigmas", "1:2:3"], None).stderr);
    assert_eq!(
        stderr.trim(),
        "error: invalid value '1:2:3' for --sigmas: accepted MAX:MIN:L with 0 < MIN ≤ MAX ≤ 100 (got MAX 1, MIN 2)"
    );
}

/// One line on stderr naming every one of `words`, exit 2, nothing on stdout.
fn assert_refused(args: &[&str], words: &[&str]) {
    let out = run(args, None);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    assert!(out.stdout.is_empty(), "{args:?}");
    for word in words {
        assert!(err.contains(word), "{args:?}: {err} does not name {word}");
    }
}

#[test]
fn compare_refuses_ism_and_the_flags_it_would_ignore() {
    assert_refused(&["--once", "--compare", "--objective", "ism"], &["--objective", "ism", "--compare"]);
    assert_refused(&["--once", "--compare", "--load", "x.safetensors"], &["--compare", "--load"]);
    assert_refused(&["--once", "--compare", "--save", "x.safetensors"], &["--compare", "--save"]);
    assert_refused(&["--once", "--compare", "--frame"], &["--compare", "--frame"]);
}

/// It trained the noise-conditional model by ISM, which has no condition input: a panic on a
/// shape mismatch (found by tests/once_fuzz.rs).
#[test]
fn compare_objectives_refuses_the_annealed_mode() {
    let args = ["--once", "--compare-objectives", "--mode", "annealed", "--count", "200", "--epochs", "1"];
    assert_refused(&args, &["--mode", "annealed", "--compare-objectives"]);
}

#[test]
fn bench_flags_are_checked_like_the_rest() {
    assert_refused(&["bench", "--widths", "0"], &["--widths", "'0'", "1..=2048"]);
    assert_refused(&["bench", "--batches", "64,0"], &["--batches", "'0'"]);
    assert_refused(&["bench", "--threads", "0"], &["--threads", "'0'"]);
    assert_refused(&["bench", "--repeats", "0"], &["--repeats", "'0'", "1..=1000"]);
    assert_refused(&["--once", "bench"], &["--once", "bench"]);
}

/// bf16 sampling is refused, in one line, where it cannot run: a width the bf16 tile does not
/// take, an activation other than SiLU, or (on a CPU without AVX512-BF16) at all.
#[test]
fn bf16_sampling_is_refused_where_it_cannot_run() {
    assert_refused(
        &["--once", "--sample-precision", "bf16", "--hidden", "100"],
        &["--sample-precision", "'bf16'", "f32"],
    );
    assert_refused(&["--once", "--sample-precision", "bf16", "--activation", "elu"], &["--sample-precision", "f32"]);
    assert_refused(&["bench", "--sample-precision", "bf16", "--widths", "100"], &["--sample-precision", "f32"]);
}

/// bf16 products give samples of the same quality: seed 0's energy distance within 2·10⁻⁴ of
/// the f32 run's (measured over seeds 0–4: at most 5·10⁻⁵ apart, against 0.0018–0.0032
/// between seeds; docs/samplers.md), in both modes, and not the same samples (the bf16 path ran).
#[test]
fn bf16_sampling_keeps_the_sample_quality() {
    let precision_ok = run(&["--once", "--sample-precision", "bf16", "--count", "200", "--epochs", "1"], None);
    if precision_ok.status.code() == Some(2) {
        eprintln!("skipped: {}", text(&precision_ok.stderr).trim());
        return;
    }
    for mode in ["single", "annealed"] {
        let energy = |precision: &str| {
            let out = run(&["--once", "--json", "--seed", "0", "--mode", mode, "--sample-precision", precision], None);
            assert!(out.status.success(), "{mode} {precision}: {}", text(&out.stderr));
            let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
            assert_eq!(json["config"]["sample_precision"], precision);
            json["samples"]["energy_distance"].as_f64().expect("energy distance")
        };
        let (f32, bf16) = (energy("f32"), energy("bf16"));
        assert!(f32 != bf16 && (f32 - bf16).abs() < 2e-4, "{mode}: f32 {f32}, bf16 {bf16}");
    }
}

#[test]
fn bench_help_shows_list_defaults_as_they_are_typed() {
    let out = run(&["bench", "--help"], None);
    let help = text(&out.stdout);
    assert!(out.status.success(), "{help}");
    for default in
        ["[default: 2,1]", "[default: 128,512,4096]", "[default: 64,128,256]", "[default: train,langevin,once]"]
    {
        assert!(help.contains(default), "{default} missing: {help}");
    }
}

/// The AVX-512 and AVX2 kernels give the same bits, so a seed's files do not depend on the
/// path this CPU takes (or `DSM_TUI_KERNELS` forces): the course's chain and the annealed
/// one (a noise-conditional network), at a batch of several shards. Skipped, with the reason
/// printed, where the CPU cannot run both paths.
#[test]
fn the_avx512_and_avx2_paths_write_the_same_files() {
    use dsm_tui::nn::cpu::path::KernelPath;
    use std::io::Write;
    if !KernelPath::Avx512.runs_here() {
        let _ = writeln!(std::io::stderr(), "SKIPPED the_avx512_and_avx2_paths_write_the_same_files: no AVX-512 here");
        return;
    }
    let dir = TempDir::new("paths");
    // Width 90 for the annealed network: five whole panels (an odd one for the ymm tile)
    // and a partial one.
    for (mode, width) in [("single", "128"), ("annealed", "90")] {
        let mut files = Vec::new();
        for kernels in ["avx512", "avx2"] {
            let (s, h) = (dir.file(&format!("s-{mode}-{kernels}.csv")), dir.file(&format!("h-{mode}-{kernels}.csv")));
            let mut args = SMALL.to_vec();
            args.extend([
                "--mode",
                mode,
                "--hidden",
                width,
                "--batch-size",
                "150",
                "--seed",
                "7",
                "--samples-out",
                &s,
                "--history-out",
                &h,
            ]);
            let out = Command::new(BIN).args(&args).env("DSM_TUI_KERNELS", kernels).output().expect("run dsm-tui");
            assert!(out.status.success(), "{mode}, {kernels}: {}", text(&out.stderr));
            files.push([fs::read(&s).expect("samples"), fs::read(&h).expect("history")]);
        }
        assert!(files[0] == files[1], "{mode}: the AVX-512 and AVX2 paths wrote different files");
    }
}

/// A kernel path that does not exist, or that this CPU cannot run, is bad input: one line
/// naming the value and what is accepted here, exit 2, nothing run.
#[test]
fn a_bad_kernel_path_is_refused_with_exit_2() {
    for value in ["avx1024", "AVX2", ""] {
        let out = Command::new(BIN).args(SMALL).env("DSM_TUI_KERNELS", value).output().expect("run dsm-tui");
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{value:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{value:?}: {err}");
        assert!(err.contains(&format!("DSM_TUI_KERNELS=\"{value}\"")) && err.contains("portable"), "{value:?}: {err}");
        assert!(out.stdout.is_empty(), "{value:?}: nothing runs");
    }
    let out = Command::new(BIN).args(SMALL).env("DSM_TUI_KERNELS", "portable").output().expect("run dsm-tui");
    assert!(out.status.success(), "the portable path runs anywhere: {}", text(&out.stderr));
}

/// FNV-1a, 64 bits: a file's fingerprint.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// A seed writes the same samples on every x86-64 CPU with AVX2 + FMA, Intel's or AMD's, on
/// either kernel path: the kernels use IEEE operations only (SiLU once used the `rcpps`
/// estimate, which Intel and AMD round differently, and the Xeon and Zen 4 wrote different
/// files for the same seed). The single-σ fingerprint is the one an AMD Zen 4 wrote on
/// 2026-12-05, after the change, and an AMD Zen 5 writes it too; the annealed one was written
/// again on the Zen 5 when annealing's levels came to follow the data, its particles to start
/// from the prior and its training to draw σ log-uniformly (changes of the run, not of the
/// CPU). The Intel Xeon has not run
/// this test yet. If it fails on one CPU kind
/// only, something else in the pipeline depends on the CPU: find it rather than re-pin.
#[test]
fn a_seed_writes_the_same_samples_on_any_cpu() {
    use dsm_tui::nn::cpu::path::KernelPath;
    use std::io::Write;
    if !KernelPath::Avx2.runs_here() {
        let _ = writeln!(std::io::stderr(), "SKIPPED a_seed_writes_the_same_samples_on_any_cpu: no AVX2 kernels here");
        return;
    }
    let dir = TempDir::new("same-on-any-cpu");
    let samples = dir.file("s.csv");
    let runs: [(&[&str], u64); 2] = [
        (&["--epochs", "5", "--steps", "50"], 0x4c96_cf0a_cdb2_41fc),
        (&["--mode", "annealed", "--epochs", "5"], 0x4cb7_e049_9cfd_04f5),
    ];
    for (args, want) in runs {
        for path in [KernelPath::Avx2, KernelPath::Avx512].into_iter().filter(|p| p.runs_here()) {
            let out = Command::new(BIN)
                .args(["--once", "--seed", "0", "--particles", "500", "--samples-out", &samples])
                .args(args)
                .env("DSM_TUI_KERNELS", path.name())
                .output()
                .expect("run dsm-tui");
            assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
            let got = fnv1a(&fs::read(&samples).expect("the samples"));
            assert_eq!(got, want, "{args:?} on the {} path: {got:#018x}, pinned {want:#018x}", path.name());
        }
    }
}

/// The diffusion samplers run with --once on the noise-conditional model: the JSON names the
/// sampler and its budget, and each network evaluation is one step.
#[test]
fn the_diffusion_samplers_run_headless_with_their_budget() {
    for (sampler, nfe) in [("reverse-diffusion", "20"), ("ode-euler", "7"), ("ode-heun", "9"), ("pc", "11")] {
        let args = ["--once", "--mode", "annealed", "--epochs", "2", "--particles", "300", "--json"];
        let out = run(&[&args[..], &["--sampler", sampler, "--nfe", nfe]].concat(), None);
        assert!(out.status.success(), "{sampler}: {}", text(&out.stderr));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(json["config"]["sampler"], sampler);
        assert_eq!(json["config"]["nfe"].to_string(), nfe);
        assert_eq!(json["samples"]["count"], 300);
    }
    // Without --nfe, each its own default budget (docs/samplers.md).
    for (sampler, nfe) in [("reverse-diffusion", 200), ("pc", 200), ("ode-euler", 200), ("ode-heun", 50)] {
        let args =
            ["--once", "--mode", "annealed", "--epochs", "1", "--particles", "50", "--json", "--sampler", sampler];
        let json: serde_json::Value = serde_json::from_slice(&run(&args, None).stdout).expect("JSON");
        assert_eq!(json["config"]["nfe"], nfe, "{sampler}");
    }
    // --compare sets annealed Langevin beside the single-σ chain: no other sampler.
    let out = run(&["--once", "--compare", "--sampler", "reverse-diffusion"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--sampler"), "{}", text(&out.stderr));
}

/// `--likelihood` reports the test split's NLL in the text and the JSON, with or without a
/// budget of its own; it needs --once (the dashboard does not measure it).
#[test]
fn the_likelihood_is_reported_in_text_and_json() {
    let args = ["--once", "--mode", "annealed", "--epochs", "2", "--particles", "300", "--level-steps", "5"];
    let out = run(&[&args[..], &["--likelihood", "40", "--json"]].concat(), None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["likelihood"]["nfe"], 40);
    assert!(json["likelihood"]["test_nll"].as_f64().is_some_and(f64::is_finite), "{}", json["likelihood"]);
    let out = run(&[&args[..], &["--likelihood"]].concat(), None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let line = text(&out.stdout).lines().find(|l| l.starts_with("likelihood")).map(str::to_string);
    assert!(line.as_ref().is_some_and(|l| l.contains("nats/point") && l.contains("200 evaluations")), "{line:?}");
    // Without it, no figure and no time spent.
    let out = run(&[&args[..], &["--json"]].concat(), None);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(json["likelihood"].is_null());
    let out = run(&["--mode", "annealed", "--likelihood"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--once"), "{}", text(&out.stderr));
}

/// `--sampler-sweep` runs every sampler at every budget from the same starting particles:
/// each row is what `--once --sampler X --nfe N` gives on its own (same model, same start,
/// same streams, so the same energy distance to the last bit), and `--plot` draws it.
#[test]
fn the_sampler_sweep_runs_every_sampler_at_every_budget() {
    let dir = TempDir::new("sweep");
    let figure = dir.file("sweep.svg");
    let args = ["--once", "--count", "400", "--epochs", "2", "--particles", "200"];
    let out = run(&[&args[..], &["--sampler-sweep", "--json", "--plot", &figure]].concat(), None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["config"]["mode"], "annealed", "the sweep samples the noise-conditional model");
    let rows = json["rows"].as_array().expect("rows");
    let spent = |sampler: &str| -> Vec<u64> {
        rows.iter().filter(|r| r["sampler"] == sampler).map(|r| r["nfe"].as_u64().expect("NFE")).collect()
    };
    // Annealed: ten levels, T = NFE/10 steps each and the denoising step; none below T = 1.
    assert_eq!(spent("annealed"), [11, 21, 51, 101, 201, 501, 1001]);
    assert_eq!(spent("reverse-diffusion"), [5, 10, 20, 50, 100, 200, 500, 1000]);
    assert_eq!(spent("ode-euler"), [5, 10, 20, 50, 100, 200, 500, 1000]);
    assert_eq!(spent("ode-heun"), [5, 9, 19, 49, 99, 199, 499, 999]);
    assert_eq!(spent("pc"), [5, 9, 19, 49, 99, 199, 499, 999]);
    assert_eq!(rows.len(), 7 + 4 * 8);
    assert!(rows.iter().all(|r| r["samples"]["count"] == 200 && r["seconds"].as_f64().is_some()));
    let svg = std::fs::read_to_string(&figure).expect("the figure");
    assert!(svg.contains("predictor–corrector") && svg.contains("floor: fresh data"));

    for (sampler, nfe) in [("reverse-diffusion", 20), ("ode-heun", 9)] {
        let budget = nfe.to_string();
        let alone =
            run(&[&args[..], &["--mode", "annealed", "--sampler", sampler, "--nfe", &budget, "--json"]].concat(), None);
        let alone: serde_json::Value = serde_json::from_slice(&alone.stdout).expect("JSON");
        let row = rows.iter().find(|r| r["sampler"] == sampler && r["nfe"] == nfe).expect("the row");
        assert_eq!(row["samples"]["energy_distance"], alone["samples"]["energy_distance"], "{sampler} at {nfe}");
    }

    // A single-σ checkpoint: the sweep says what it needs, not to pass --mode single.
    let single = dir.file("single.safetensors");
    let out = run(&["--once", "--count", "400", "--epochs", "1", "--particles", "50", "--save", &single], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&["--once", "--sampler-sweep", "--load", &single, "--count", "400", "--epochs", "0"], None);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("--mode annealed") && !stderr.contains("pass --mode single"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    let out = run(&["--once", "--sampler-sweep", "--sampler", "pc"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--sampler"), "{}", text(&out.stderr));
}
