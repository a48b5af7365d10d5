//! Random flag combinations of `--once`, valid and not: every run ends with exit 0, 2 or 3
//! (never a panic's 101 or an abort's 134), and no file changes that the run was not asked to
//! write, nor does any file appear besides those.
//!
//! The cases come from a seeded generator: `DSM_TUI_FUZZ_SEED=N` replays another set, and a
//! failure prints the seed and the command line. Sizes are small so each run is quick.

use std::collections::BTreeMap;
use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;
use std::process::Command;

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};

const BIN: &str = env!("CARGO_BIN_EXE_dsm-tui");
const CASES: usize = 300;
/// The seed of the cases when `DSM_TUI_FUZZ_SEED` is not set.
const DEFAULT_SEED: u64 = 16;

/// Each file of `dir` (names sorted) with a hash of its content.
fn snapshot(dir: &Path) -> BTreeMap<String, u64> {
    fs::read_dir(dir)
        .expect("read temp dir")
        .map(|entry| {
            let entry = entry.expect("entry");
            let mut hasher = DefaultHasher::new();
            fs::read(entry.path()).unwrap_or_default().hash(&mut hasher);
            (entry.file_name().into_string().expect("utf8 name"), hasher.finish())
        })
        .collect()
}

/// One value of a flag: mostly from the accepted range, sometimes not.
fn pick<'a>(rng: &mut StdRng, valid: &[&'a str], invalid: &[&'a str]) -> &'a str {
    if !invalid.is_empty() && rng.random_bool(0.03) {
        invalid.choose(rng).expect("not empty")
    } else {
        valid.choose(rng).expect("not empty")
    }
}

/// A random command line, and the names of the files in the temp dir it asks to write.
fn case(rng: &mut StdRng) -> (Vec<String>, Vec<String>) {
    let mut args = vec!["--once".to_string()];
    let mut writes = Vec::new();
    let flag = |args: &mut Vec<String>, name: &str, value: &str| {
        args.push(name.to_string());
        args.push(value.to_string());
    };
    // Mostly plain runs; the flags a mode refuses are given to it only now and then.
    let mode =
        *[None, None, None, None, Some("--compare"), Some("--compare-objectives")].choose(rng).expect("not empty");
    if let Some(mode) = mode {
        args.push(mode.to_string());
    }
    let allowed = |rng: &mut StdRng| mode.is_none() || rng.random_bool(0.05);
    let data = rng.random_bool(0.2);
    // Every run stays small; the sizes are always set so a case never runs the defaults.
    if data {
        flag(&mut args, "--data", pick(rng, &["input.csv"], &["missing.csv", "bad.csv"]));
    } else {
        flag(&mut args, "--count", pick(rng, &["20", "50", "120", "200"], &["5", "100001", "-3", "x"]));
    }
    flag(&mut args, "--batch-size", pick(rng, &["1", "7", "16"], &["0", "100000"]));
    flag(&mut args, "--epochs", pick(rng, &["1", "2"], &["0", "100001"]));
    flag(&mut args, "--particles", pick(rng, &["1", "30", "100"], &["0"]));
    flag(&mut args, "--steps", pick(rng, &["1", "5", "20"], &["0"]));
    flag(&mut args, "--level-steps", pick(rng, &["1", "3"], &["0"]));
    let optional: &[(&str, &[&str], &[&str])] = &[
        ("--hidden", &["8", "16"], &["0", "2049"]),
        ("--depth", &["1", "2"], &["0", "17"]),
        ("--activation", &["silu", "elu", "softplus", "tanh"], &["relu"]),
        ("--objective", &["dsm", "ism"], &["sm"]),
        ("--mode", &["single", "annealed"], &["both"]),
        ("--sigmas", &["1:0.1:3", "2:0.5:2"], &["0.1:1:3", "1:0.1:0", "nan:0.1:2"]),
        ("--step-scale", &["0.1", "1"], &["0", "11"]),
        ("--dataset", &["moons", "circles", "swiss-roll", "8gaussians", "checkerboard"], &["spiral"]),
        ("--noise", &["0", "0.05", "0.3"], &["-0.1", "2"]),
        ("--lr", &["0.01", "0.001", "1000"], &["0", "-1", "inf"]),
        ("--lr-gamma", &["0.5", "1"], &["0", "1.5"]),
        ("--sigma", &["0.1", "0.5", "10"], &["0", "11", "nan"]),
        ("--eta", &["0.01", "0.5"], &["0", "11"]),
        ("--seed", &["0", "1", "18446744073709551615"], &["-1", "18446744073709551616"]),
    ];
    for &(name, valid, invalid) in optional {
        // A data file has no shape or noise to set: given with --data now and then.
        let own_data = matches!(name, "--dataset" | "--noise");
        if rng.random_bool(0.3)
            && (name != "--objective" || allowed(rng))
            && (!data || !own_data || rng.random_bool(0.1))
        {
            flag(&mut args, name, pick(rng, valid, invalid));
        }
    }
    if rng.random_bool(0.2) && allowed(rng) {
        // The checkpoint's architecture (hidden 8, depth 1, silu, dsm, single): a mismatch is
        // bad input too.
        flag(&mut args, "--load", pick(rng, &["start.safetensors"], &["input.csv", "missing.safetensors"]));
        if rng.random_bool(0.4)
            && let Some(i) = args.iter().position(|a| a == "--epochs")
        {
            args[i + 1] = "0".to_string(); // sample from the checkpoint as it is
        }
        for (name, value) in [("--hidden", "8"), ("--depth", "1")] {
            if !args.iter().any(|a| a == name) && rng.random_bool(0.8) {
                flag(&mut args, name, value);
            }
        }
    }
    let outputs: &[(&str, &[&str])] = &[
        // same.csv: two outputs to one file; start.safetensors: the checkpoint loaded.
        ("--samples-out", &["samples.csv", "same.csv"]),
        ("--data-out", &["data.csv", "same.csv"]),
        ("--history-out", &["history.csv", "same.csv"]),
        ("--save", &["out.safetensors", "start.safetensors"]),
        ("--plot", &["plot.png", "plot.svg", "plot.txt"]),
    ];
    for &(name, files) in outputs {
        if rng.random_bool(0.25) && allowed(rng) {
            let file = files.choose(rng).expect("not empty");
            flag(&mut args, name, file);
            writes.push(file.to_string());
        }
    }
    if rng.random_bool(0.05) {
        // Two outputs to the same file, or one over the input: refused or written, never
        // a change to a file not named.
        flag(&mut args, "--samples-out", "input.csv");
        writes.push("input.csv".to_string());
    }
    if rng.random_bool(0.2) && !args.iter().any(|a| a == "--frame") {
        args.push("--json".to_string());
    }
    if rng.random_bool(0.2) && allowed(rng) {
        args.push("--frame".to_string());
        if rng.random_bool(0.5) {
            flag(&mut args, "--size", pick(rng, &["80x24", "120x40"], &["79x24", "80x23", "80"]));
        }
    }
    if rng.random_bool(0.05) {
        // A dashboard-only flag, and one of bench's: refused with --once.
        flag(&mut args, ["--pace", "--threads"].choose(rng).expect("not empty"), "20");
    }
    (args, writes)
}

#[test]
fn random_flag_combinations_exit_cleanly_and_touch_only_their_outputs() {
    let seed = std::env::var("DSM_TUI_FUZZ_SEED").map_or(DEFAULT_SEED, |s| s.parse().expect("a u64 seed"));
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path();
    let rows = "0.1,0.2\n-0.5,0.4\n1.0,-0.25\n0.0,0.0\n".repeat(10);
    fs::write(path.join("input.csv"), format!("x,y\n{rows}")).expect("input");
    fs::write(path.join("bad.csv"), "x,y\n0.1,oops\n").expect("bad input");
    let saved = Command::new(BIN)
        .current_dir(path)
        .args(["--once", "--count", "100", "--epochs", "1", "--particles", "10", "--steps", "1"])
        .args(["--hidden", "8", "--depth", "1", "--save", "start.safetensors"])
        .output()
        .expect("run dsm-tui");
    assert!(saved.status.success(), "saving the checkpoint: {}", String::from_utf8_lossy(&saved.stderr));

    let mut rng = StdRng::seed_from_u64(seed);
    for index in 0..CASES {
        let (args, writes) = case(&mut rng);
        let before = snapshot(path);
        let out = Command::new(BIN).current_dir(path).args(&args).output().expect("run dsm-tui");
        let after = snapshot(path);
        let replay = format!(
            "case {index} of DSM_TUI_FUZZ_SEED={seed}: (cd DIR && dsm-tui {})\nstderr: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(matches!(out.status.code(), Some(0 | 2 | 3)), "exit {:?} in {replay}", out.status.code());
        for (name, hash) in &after {
            if !writes.contains(name) {
                assert_eq!(before.get(name), Some(hash), "{name} appeared or changed in {replay}");
            }
        }
        for name in before.keys() {
            assert!(after.contains_key(name), "{name} disappeared in {replay}");
        }
        for name in &writes {
            if before.contains_key(name) || !after.contains_key(name) {
                continue;
            }
            // A new output exists only after a run that succeeded.
            assert_eq!(out.status.code(), Some(0), "{name} written by a failed run: {replay}");
            fs::remove_file(path.join(name)).expect("remove an output");
        }
    }
}
