//! Checkpoints: a bit-exact round trip, the PyTorch layout read back by hand, every kind of
//! bad file refused with its reason, a property test that arbitrary bytes never panic the
//! loader, and `--save` / `--load` as a user runs them.

mod common;

use common::TempDir;

use std::collections::HashMap;
use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::{Command, Output};

use dsm_tui::checkpoint::{self, FORMAT_VERSION, MUST_MATCH, Problem, from_bytes, tensor_name, to_bytes};
use dsm_tui::config::{Config, Mode};
use dsm_tui::nn::{Activation, Mlp};
use dsm_tui::objective::Objective;
use ndarray::arr2;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use safetensors::SafeTensors;
use safetensors::tensor::{Dtype, TensorView};

const BIN: &str = env!("CARGO_BIN_EXE_dsm-tui");
/// A small run: 400 points, 300 particles × 30 steps (well under a second); epochs per test.
const SMALL: &[&str] = &["--once", "--count", "400", "--particles", "300", "--steps", "30"];

/// A small network: the property test parses its file thousands of times.
fn small_config() -> Config {
    Config { hidden: 8, depth: 2, ..Config::default() }
}

fn model_for(config: &Config, seed: u64) -> Mlp<f32> {
    Mlp::init(config.hidden, config.depth, config.activation, &mut Xoshiro256PlusPlus::seed_from_u64(seed))
}

fn bits(model: &Mlp<f32>) -> Vec<u32> {
    model.layers.iter().flat_map(|l| l.tensors().into_iter().flatten().map(|v| v.to_bits())).collect()
}

fn problem(bytes: &[u8], config: &Config) -> Problem {
    match from_bytes(bytes, config) {
        Ok(_) => panic!("a bad checkpoint was accepted"),
        Err(problem) => problem,
    }
}

/// Name, dtype, shape and raw bytes of one tensor.
type RawTensor = (String, Dtype, Vec<usize>, Vec<u8>);

/// A checkpoint written with the given tensors and metadata, to build bad files with.
fn craft(tensors: &[RawTensor], metadata: Option<HashMap<String, String>>) -> Vec<u8> {
    let views = tensors.iter().map(|(name, dtype, shape, bytes)| {
        (name.clone(), TensorView::new(*dtype, shape.clone(), bytes).expect("view"))
    });
    safetensors::serialize(views, metadata).expect("serialise")
}

/// The tensors and metadata of a valid checkpoint, to alter one thing at a time.
fn parts(bytes: &[u8]) -> (Vec<RawTensor>, HashMap<String, String>) {
    let file = SafeTensors::deserialize(bytes).expect("valid");
    let (_, header) = SafeTensors::read_metadata(bytes).expect("valid");
    let mut tensors: Vec<_> = file
        .tensors()
        .into_iter()
        .map(|(name, view)| (name, view.dtype(), view.shape().to_vec(), view.data().to_vec()))
        .collect();
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    (tensors, header.metadata().clone().expect("metadata"))
}

#[test]
fn round_trip_is_bit_exact_and_saving_again_gives_the_same_bytes() {
    for config in
        [small_config(), Config::default(), Config { depth: 1, activation: Activation::Tanh, ..small_config() }]
    {
        let mut model = model_for(&config, 11);
        // Values whose bits a lossy path would change: subnormal, negative zero, extremes.
        let w = model.layers[0].weight.as_slice_mut().expect("contiguous");
        w[..4].copy_from_slice(&[f32::from_bits(1), -0.0, f32::MAX, f32::MIN_POSITIVE]);
        let bytes = to_bytes(&model, &config).expect("serialise");
        let loaded = from_bytes(&bytes, &config).expect("load");
        assert_eq!(bits(&loaded), bits(&model), "hidden {} depth {}", config.hidden, config.depth);
        assert_eq!(loaded.activation, model.activation);
        assert_eq!(to_bytes(&loaded, &config).expect("serialise"), bytes, "a re-save is byte-identical");
    }
}

/// What a Python user gets from `safetensors.torch.load_file`: `net.{2i}.weight` `[out, in]`
/// and `net.{2i}.bias`, F32. The forward pass of `nn.Sequential(Linear, SiLU, Linear, SiLU,
/// Linear)` computed from those tensors alone, in f64 by hand, matches our model's scores.
#[test]
fn tensors_follow_pytorch_sequential_and_reproduce_the_forward_pass() {
    let config = small_config();
    let model = model_for(&config, 5);
    let bytes = to_bytes(&model, &config).expect("serialise");
    let file = SafeTensors::deserialize(&bytes).expect("a standard safetensors file");
    let mut names = file.names();
    names.sort();
    assert_eq!(names, ["net.0.bias", "net.0.weight", "net.2.bias", "net.2.weight", "net.4.bias", "net.4.weight"]);

    let x = [0.3f64, -0.7];
    let mut a = x.to_vec();
    for layer in 0..=config.depth {
        let weight = file.tensor(&tensor_name(layer, "weight")).expect("weight");
        let bias = file.tensor(&tensor_name(layer, "bias")).expect("bias");
        assert_eq!(weight.dtype(), Dtype::F32);
        let (out, inp) = (weight.shape()[0], weight.shape()[1]);
        assert_eq!(inp, a.len(), "weight is [out, in]");
        let f =
            |t: &TensorView, i: usize| f64::from(f32::from_le_bytes(t.data()[4 * i..4 * i + 4].try_into().unwrap()));
        // y = x·Wᵀ + b (torch.nn.Linear), then SiLU between layers.
        a = (0..out)
            .map(|o| {
                let z = f(&bias, o) + (0..inp).map(|i| f(&weight, o * inp + i) * a[i]).sum::<f64>();
                if layer < config.depth { z / (1.0 + (-z).exp()) } else { z }
            })
            .collect();
    }
    let ours = model.scores(arr2(&[[x[0] as f32, x[1] as f32]]).view());
    for d in 0..2 {
        assert!((f64::from(ours[[0, d]]) - a[d]).abs() < 1e-5, "output {d}: ours {} vs by hand {}", ours[[0, d]], a[d]);
    }

    let (_, header) = SafeTensors::read_metadata(&bytes).expect("valid");
    let metadata = header.metadata().as_ref().expect("metadata");
    assert_eq!(metadata["format"], "dsm-tui checkpoint");
    assert_eq!(metadata["format_version"], FORMAT_VERSION.to_string());
    let stored: serde_json::Value = serde_json::from_str(&metadata["config"]).expect("config is JSON");
    assert_eq!(stored, serde_json::to_value(&config).expect("json"));
    let data = &bytes[bytes.len() - header.data_len()..];
    assert_eq!(metadata["data_crc32"], format!("{:08x}", crc32fast::hash(data)), "zlib.crc32 of the data");
}

#[test]
fn each_architectural_field_must_match_and_the_error_names_both_values() {
    let saved = small_config();
    let bytes = to_bytes(&model_for(&saved, 1), &saved).expect("serialise");
    let cases = [
        (Config { hidden: 16, ..saved.clone() }, "hidden", "8", "16"),
        (Config { depth: 3, ..saved.clone() }, "depth", "2", "3"),
        (Config { activation: Activation::Elu, ..saved.clone() }, "activation", "silu", "elu"),
        (Config { objective: Objective::Ism, ..saved.clone() }, "objective", "dsm", "ism"),
        (Config { mode: Mode::Annealed, ..saved.clone() }, "mode", "single", "annealed"),
    ];
    assert_eq!(cases.len(), MUST_MATCH.len());
    for (configured, field, file_value, configured_value) in cases {
        let message = problem(&bytes, &configured).to_string();
        assert!(
            message.contains(&format!("saved with {field} = {file_value} but --{field} is {configured_value}")),
            "{field}: {message}"
        );
        assert!(!message.contains('\n'), "one line: {message}");
    }
    // Settings that do not change the network may differ: continue with another σ or lr.
    let other = Config { sigma: 0.5, lr: 1e-3, count: 100, seed: 9, ..saved.clone() };
    assert!(from_bytes(&bytes, &other).is_ok());
}

#[test]
fn a_field_the_file_predates_is_reported_as_absent() {
    let config = small_config();
    let (tensors, mut metadata) = parts(&to_bytes(&model_for(&config, 1), &config).expect("serialise"));
    let mut stored: serde_json::Value = serde_json::from_str(&metadata["config"]).expect("json");
    stored.as_object_mut().expect("object").remove("objective");
    metadata.insert("config".into(), stored.to_string());
    metadata.remove("data_crc32");
    let message = problem(&craft(&tensors, Some(metadata)), &config).to_string();
    assert!(message.contains("does not record objective") && message.contains("--objective is dsm"), "{message}");
}

#[test]
fn wrong_dtype_shape_names_metadata_or_values_are_refused_with_the_reason() {
    let config = small_config();
    let valid = to_bytes(&model_for(&config, 2), &config).expect("serialise");
    let (tensors, metadata) = parts(&valid);
    let no_crc = || {
        let mut m = metadata.clone();
        m.remove("data_crc32");
        m
    };
    let edit = |f: &dyn Fn(&mut Vec<RawTensor>)| {
        let mut t = tensors.clone();
        f(&mut t);
        craft(&t, Some(no_crc()))
    };
    let index = |name: &str| tensors.iter().position(|t| t.0 == name).expect("tensor");
    let w0 = index("net.0.weight");

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "F64 weights",
            edit(&|t| {
                let values: Vec<u8> = t[w0].3.chunks(4).flat_map(|_| 0.5f64.to_le_bytes()).collect();
                t[w0] = (t[w0].0.clone(), Dtype::F64, t[w0].2.clone(), values);
            }),
            "tensor net.0.weight: dtype F64, expected F32",
        ),
        ("I32 weights (same size)", edit(&|t| t[w0].1 = Dtype::I32), "tensor net.0.weight: dtype I32, expected F32"),
        ("transposed weight", edit(&|t| t[w0].2 = vec![2, 8]), "tensor net.0.weight: shape [2, 8], expected [8, 2]"),
        ("missing bias", edit(&|t| t.retain(|t| t.0 != "net.4.bias")), "tensor net.4.bias: missing"),
        (
            "extra tensor",
            edit(&|t| t.push(("net.6.weight".into(), Dtype::F32, vec![1], vec![0; 4]))),
            "tensor net.6.weight: not part of this model",
        ),
        (
            "NaN weight",
            edit(&|t| t[w0].3[..4].copy_from_slice(&f32::NAN.to_le_bytes())),
            "tensor net.0.weight: value NaN at index 0 is not finite",
        ),
        ("no metadata", craft(&tensors, None), "not a dsm-tui checkpoint: it has no metadata"),
        (
            "another tool's metadata",
            craft(&tensors, Some(HashMap::from([("format".into(), "pt".into())]))),
            "not a dsm-tui checkpoint",
        ),
        (
            "newer format",
            craft(
                &tensors,
                Some(HashMap::from_iter(no_crc().into_iter().chain([("format_version".into(), "2".into())]))),
            ),
            "format version \"2\", but this build reads version 1 only",
        ),
        (
            "config not JSON",
            craft(
                &tensors,
                Some(HashMap::from_iter(no_crc().into_iter().chain([("config".into(), "{hidden".into())]))),
            ),
            "its `config` metadata is not JSON",
        ),
        (
            "weights changed under the checksum",
            craft(
                &{
                    let mut t = tensors.clone();
                    t[w0].3[0] ^= 1;
                    t
                },
                Some(metadata.clone()),
            ),
            "the weights are corrupt: their CRC-32 is",
        ),
        ("empty file", Vec::new(), "not a valid safetensors file"),
        ("a PNG", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(), "not a valid safetensors file"),
    ];
    for (what, bytes, expected) in cases {
        let message = problem(&bytes, &config).to_string();
        assert!(message.contains(expected), "{what}: expected {expected:?} in {message:?}");
        assert!(!message.contains('\n'), "{what}: one line: {message}");
    }
}

/// safetensors 0.8 adds the end of the data to the header length unchecked
/// (`tensor.rs:420`): eight U8 tensors of 2⁶¹ − 1 bytes each pass its per-tensor overflow
/// checks and end at 2⁶⁴ − 8, and the addition overflows, which panics in a debug build
/// (in release it wraps and is refused). The loader refuses such offsets first.
#[test]
fn data_offsets_near_usize_max_are_refused_not_a_panic() {
    let size: u64 = (1 << 61) - 1;
    let entries: Vec<String> = (0..8u64)
        .map(|i| {
            format!(r#""t{i}":{{"dtype":"U8","shape":[{size}],"data_offsets":[{},{}]}}"#, i * size, (i + 1) * size)
        })
        .collect();
    let header = format!("{{{}}}", entries.join(","));
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    let message = problem(&bytes, &small_config()).to_string();
    assert!(message.contains("truncated or corrupt: tensor t"), "{message}");
}

/// Arbitrary bytes never panic the loader. Inputs (seed 0x5afe, Xoshiro256++), with the
/// small 2→8→8→2 model's valid file of ~1.6 KB as the base:
/// - 3000 random byte strings, lengths 0..=600;
/// - 2000 strings with a consistent 8-byte header length followed by random JSON-ish text
///   built from the format's own tokens (so the JSON parser and the validator are reached);
/// - every truncation of the valid file (each length from 0 to len − 1);
/// - the valid file with 1..=16 random bytes appended, 200 times;
/// - every byte of the valid file replaced by 3 random other values each (~5000 files).
///
/// All must be refused, except a byte replacement the model does not see (a space of the
/// header's alignment padding turned into other whitespace; a digit of an unchecked config
/// field such as lr): those must load to the very same weights. The data checksum is what
/// makes every flip in the weights an error rather than a different model.
#[test]
fn property_arbitrary_bytes_never_panic_and_corruptions_are_refused() {
    let config = small_config();
    let model = model_for(&config, 3);
    let valid = to_bytes(&model, &config).expect("serialise");
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x5afe);
    let data_start = valid.len() - model.parameter_count() * 4;
    let mut tried = 0usize;
    let mut accepted = 0usize;
    // `harmless_allowed`: whether this input may load (to the original weights).
    let mut check = |bytes: &[u8], what: &str, harmless_allowed: bool| {
        tried += 1;
        let result = catch_unwind(AssertUnwindSafe(|| from_bytes(bytes, &config)));
        match result {
            Err(_) => {
                panic!("{what}: the loader panicked on {} bytes: {:?}", bytes.len(), String::from_utf8_lossy(bytes))
            }
            Ok(Err(_)) => {}
            Ok(Ok(loaded)) => {
                assert!(harmless_allowed, "{what}: accepted as a checkpoint");
                assert_eq!(bits(&loaded), bits(&model), "{what}: loaded, but to other weights");
                accepted += 1;
            }
        }
    };

    for i in 0..3000 {
        let len = rng.random_range(0..=600);
        let bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        check(&bytes, &format!("random #{i}"), false);
    }
    const TOKENS: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "\"",
        "\"dtype\"",
        "\"F32\"",
        "\"U8\"",
        "\"shape\"",
        "\"data_offsets\"",
        "\"__metadata__\"",
        "\"net.0.weight\"",
        "0",
        "8",
        "18446744073709551615",
        "-1",
        "1e99",
        " ",
    ];
    for i in 0..2000 {
        let header: String = (0..rng.random_range(0..60)).map(|_| TOKENS[rng.random_range(0..TOKENS.len())]).collect();
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend((0..rng.random_range(0..64)).map(|_| rng.random::<u8>()));
        check(&bytes, &format!("json-ish #{i}"), false);
    }
    for len in 0..valid.len() {
        check(&valid[..len], &format!("truncated to {len}"), false);
    }
    for i in 0..200 {
        let mut bytes = valid.clone();
        bytes.extend((0..rng.random_range(1..=16)).map(|_| rng.random::<u8>()));
        check(&bytes, &format!("extended #{i}"), false);
    }
    for position in 0..valid.len() {
        for _ in 0..3 {
            let mut bytes = valid.clone();
            bytes[position] ^= rng.random_range(1..=255u8);
            // A replaced byte of the weights is always refused (the checksum).
            check(&bytes, &format!("byte {position} replaced"), position < data_start);
        }
    }
    let expected = 3000 + 2000 + valid.len() + 200 + 3 * valid.len();
    assert_eq!(tried, expected);
    // 72 of the 3624 replacements load (seed 0x5afe): digits of unchecked config fields and
    // padding. A bound, not the count, so that a new config field does not break the test.
    assert!(accepted < 3 * valid.len() / 10, "{accepted} of {tried} loaded");
}

// The binary, as a user runs it.

fn run(extra: &[&str]) -> Output {
    Command::new(BIN).args(SMALL).args(extra).output().expect("run dsm-tui")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn save_then_load_with_zero_epochs_samples_the_same_particles() {
    let dir = TempDir::new("roundtrip");
    let (model, a, b) = (dir.file("m.safetensors"), dir.file("a.csv"), dir.file("b.csv"));
    let out = run(&["--epochs", "3", "--save", &model, "--samples-out", &a]);
    assert!(out.status.success(), "{}", stderr(&out));
    // The same seed and the same weights: Langevin gives the very same samples.
    let out = run(&["--load", &model, "--epochs", "0", "--samples-out", &b]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("train – (no training)"));
    assert_eq!(fs::read(&a).expect("a"), fs::read(&b).expect("b"));
    assert_eq!(dir.entries(), ["a.csv", "b.csv", "m.safetensors"], "no temporary file left behind");

    // Training continues from the loaded weights (and may be saved again over the file).
    let out = run(&["--load", &model, "--epochs", "1", "--save", &model, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["train_steps"], 5, "one epoch of 320 points in batches of 64");
    assert!(
        checkpoint::load(std::path::Path::new(&model), &Config { count: 400, epochs: 1, ..Config::default() }).is_ok()
    );
}

#[test]
fn a_bad_or_mismatched_checkpoint_is_exit_2_with_one_line_and_no_output() {
    let dir = TempDir::new("bad");
    let model = dir.file("m.safetensors");
    assert!(run(&["--epochs", "1", "--save", &model]).status.success());
    let bytes = fs::read(&model).expect("saved");
    let truncated = dir.file("truncated.safetensors");
    fs::write(&truncated, &bytes[..bytes.len() / 2]).expect("write");
    let garbage = dir.file("garbage.safetensors");
    fs::write(&garbage, b"hello, world").expect("write");
    let samples = dir.file("s.csv");

    let cases: &[(&[&str], &str)] = &[
        (&["--load", &model, "--hidden", "64"], "saved with hidden = 128 but --hidden is 64 (pass --hidden 128"),
        (&["--load", &model, "--depth", "3"], "saved with depth = 2 but --depth is 3"),
        (&["--load", &model, "--activation", "tanh"], "saved with activation = silu but --activation is tanh"),
        (&["--load", &model, "--objective", "ism"], "saved with objective = dsm but --objective is ism"),
        (&["--load", &model, "--mode", "annealed"], "saved with mode = single but --mode is annealed"),
        (&["--load", &truncated], "truncated or corrupt: tensor"),
        (&["--load", &garbage], "not a valid safetensors file"),
        (&["--load", &dir.file("missing.safetensors")], "No such file"),
        (&["--load", &dir.file("")], "not a regular file"),
    ];
    for (extra, expected) in cases {
        let mut args = extra.to_vec();
        args.extend(["--samples-out", &samples]);
        let out = run(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{extra:?}: one line: {err}");
        assert!(err.contains("cannot load checkpoint") && err.contains(expected), "{extra:?}: {err}");
        assert!(!err.contains("panicked"), "{extra:?}: {err}");
        assert!(out.stdout.is_empty());
    }
    assert_eq!(dir.entries(), ["garbage.safetensors", "m.safetensors", "truncated.safetensors"], "no file written");

    // --epochs 0 needs a checkpoint; --save needs a directory that exists.
    let out = run(&["--epochs", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("accepted 1..=100000 (0 with --load)"), "{}", stderr(&out));
    let out = run(&["--save", &dir.file("no-such-dir/m.safetensors")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--save"), "{}", stderr(&out));
}

/// A noise-conditional network (three inputs) round-trips bit for bit.
#[test]
fn an_annealed_checkpoint_round_trips() {
    let dir = TempDir::new("annealed");
    let (model, a, b) = (dir.file("m.safetensors"), dir.file("a.csv"), dir.file("b.csv"));
    let annealed = ["--mode", "annealed", "--level-steps", "3"];
    let out = run(&[&annealed[..], &["--epochs", "1", "--save", &model, "--samples-out", &a]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&[&annealed[..], &["--epochs", "0", "--load", &model, "--samples-out", &b]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(fs::read(&a).expect("a"), fs::read(&b).expect("b"), "loaded weights sample the same bits");
}

/// A FIFO as --load is refused as not a regular file before it is opened: opening it for
/// reading would wait for a writer that never comes. The 30 s bound is a watchdog against
/// that hang (the check takes milliseconds), not a speed figure.
#[test]
fn a_fifo_as_checkpoint_is_refused_without_waiting_for_a_writer() {
    let dir = TempDir::new("fifo-load");
    let fifo = dir.file("pipe.safetensors");
    assert!(Command::new("mkfifo").arg(&fifo).status().expect("mkfifo").success());
    let mut child = Command::new(BIN)
        .args(["--once", "--load", &fifo])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run dsm-tui");
    let watchdog = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > watchdog {
            let _ = child.kill();
            let _ = child.wait();
            panic!("--load on a FIFO still waiting after 30 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("not a regular file"), "{err}");
}
