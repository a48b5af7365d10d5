//! Checkpoints: the trained weights and the configuration that produced them, in the
//! safetensors format, so that the ML ecosystem can read them without this program.
//!
//! Layout. Tensors are named as PyTorch's `nn.Sequential` of `Linear` and activation
//! modules names them — `net.0.weight` `[H, 2]`, `net.0.bias` `[H]`, `net.2.weight` `[H, H]`,
//! …, `net.{2·depth}.weight` `[2, H]` — all little-endian `F32`, weight `[out, in]` as
//! [`Linear`] stores it. In Python, `safetensors.torch.load_file(path)` gives the state dict
//! of a module whose attribute `net` is `nn.Sequential(Linear(2, H), SiLU(), …, Linear(H, 2))`
//! (strip the `net.` prefix to load it into the bare `Sequential`). The string metadata holds:
//! - `format` = `dsm-tui checkpoint`, `format_version` = [`FORMAT_VERSION`];
//! - `config`: the whole [`Config`] as JSON (what the run was trained with);
//! - `data_crc32`: CRC-32 (zlib's, `zlib.crc32` in Python) of the bytes after the header.
//!   safetensors has no checksum of its own, so without it a flipped bit in the weights
//!   would load silently as a different model. Optional on load, so a file written by
//!   another tool without it still loads.
//!
//! Loading checks, in this order, and stops at the first problem with one line: the file is
//! a regular file of plausible size; it parses as safetensors (the crate validates the
//! header and offsets); the metadata is ours and of a version this build reads; the fields
//! in [`MUST_MATCH`] agree with the configuration; the checksum agrees; every expected tensor
//! is present with dtype F32 and the expected shape, none is extra, and every value is
//! finite. A new architectural field is checked by adding its name to
//! [`MUST_MATCH`]: it is compared as JSON between the file's `config` and the current one,
//! and a file written before the field existed reports it as absent.

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2};
use safetensors::tensor::{Dtype, Metadata, TensorView};
use safetensors::{SafeTensorError, SafeTensors};
use serde_json::Value;

use crate::config::{Config, Mode};
use crate::data::Source;
use crate::fs::{write_atomic, write_new};
use crate::nn::mlp::DIM;
use crate::nn::{Linear, Mlp};

/// Version of the metadata layout; a reader refuses a newer one rather than guess.
pub const FORMAT_VERSION: u32 = 1;

const FORMAT_NAME: &str = "dsm-tui checkpoint";

/// Configuration fields that fix the network's architecture or what its output means: a
/// checkpoint loads only into a run configured the same way. Each is also a flag
/// (`--hidden` …). The rest (σ, lr, data …) may differ: continuing or sampling with other
/// settings is legitimate. Checked in this order: `mode` first, because it also sets the
/// defaults of `--hidden`, `--depth` … — a mismatched mode is the cause to name.
pub const MUST_MATCH: [&str; 5] = ["mode", "objective", "hidden", "depth", "activation"];

/// Room for the JSON header beyond the tensors: it holds names, shapes and the config, a few
/// KiB; anything far larger is not one of ours and is refused before it is read whole.
const HEADER_ALLOWANCE: u64 = 1 << 20;

/// Why a checkpoint could not be loaded. Each variant prints as one line.
#[derive(Debug)]
pub enum Problem {
    Io(io::Error),
    NotARegularFile,
    TooLarge {
        bytes: u64,
        limit: u64,
    },
    NotSafetensors(SafeTensorError),
    /// Safetensors, but not a checkpoint of this program (or not a version it reads).
    Metadata(String),
    /// `file` is `None` when the file predates the field.
    Mismatch {
        field: &'static str,
        file: Option<String>,
        configured: String,
    },
    Checksum {
        stored: String,
        computed: u32,
    },
    Tensor {
        name: String,
        problem: String,
    },
    /// A tensor's data would end past the end of the file.
    Truncated {
        tensor: String,
        end: u64,
        data_len: u64,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Io(e) => write!(f, "{e}"),
            Problem::NotARegularFile => write!(f, "not a regular file"),
            Problem::TooLarge { bytes, limit } => {
                write!(f, "{bytes} bytes, more than a checkpoint of this configuration can be ({limit})")
            }
            Problem::NotSafetensors(e) => write!(f, "not a valid safetensors file ({e})"),
            Problem::Metadata(what) => write!(f, "{what}"),
            Problem::Mismatch { field, file: Some(file), configured } => write!(
                f,
                "it was saved with {field} = {file} but --{field} is {configured} \
                 (pass --{field} {file} to use it)"
            ),
            Problem::Mismatch { field, file: None, configured } => {
                write!(f, "it does not record {field} (written by an older version); --{field} is {configured}")
            }
            Problem::Checksum { stored, computed } => {
                write!(f, "the weights are corrupt: their CRC-32 is {computed:08x} but the file records {stored}")
            }
            Problem::Tensor { name, problem } => write!(f, "tensor {name}: {problem}"),
            Problem::Truncated { tensor, end, data_len } => {
                write!(f, "truncated or corrupt: tensor {tensor} ends at data byte {end} but the file holds {data_len}")
            }
        }
    }
}

/// A checkpoint that could not be loaded: which file, and why.
#[derive(Debug)]
pub struct LoadError {
    pub path: PathBuf,
    pub problem: Problem,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot load checkpoint {}: {}", crate::shown::path(&self.path), self.problem)
    }
}

impl std::error::Error for LoadError {}

/// The safetensors name of layer `index`'s `part` (`weight` or `bias`): in an
/// `nn.Sequential` the activations take the odd indices.
pub fn tensor_name(index: usize, part: &str) -> String {
    format!("net.{}.{part}", 2 * index)
}

/// The checkpoint of `model`, trained with `config`, as the bytes of a safetensors file.
pub fn to_bytes(model: &Mlp<f32>, config: &Config) -> Result<Vec<u8>, SafeTensorError> {
    let tensors: Vec<(String, Vec<usize>, Vec<u8>)> = model
        .layers
        .iter()
        .enumerate()
        .flat_map(|(i, layer)| {
            let [weight, bias] = layer.tensors();
            [
                (tensor_name(i, "weight"), vec![layer.outputs(), layer.inputs()], le_bytes(weight)),
                (tensor_name(i, "bias"), vec![layer.outputs()], le_bytes(bias)),
            ]
        })
        .collect();
    let views = tensors
        .iter()
        .map(|(name, shape, bytes)| TensorView::new(Dtype::F32, shape.clone(), bytes).map(|view| (name.clone(), view)))
        .collect::<Result<Vec<_>, _>>()?;
    let metadata = HashMap::from([
        ("format".to_string(), FORMAT_NAME.to_string()),
        ("format_version".to_string(), FORMAT_VERSION.to_string()),
        ("config".to_string(), serde_json::to_string(config)?),
    ]);
    let draft = safetensors::serialize(views, Some(metadata))?;
    // The crate writes the metadata in HashMap order, which changes from run to run, and the
    // same weights should give the same bytes. So its header is written again with sorted
    // keys (explicitly: serde_json's `preserve_order`, if any crate turns it on, would keep
    // the crate's order), padded as the crate pads it, plus the checksum of the data section
    // exactly as the crate laid it out.
    let (header_len, _) = SafeTensors::read_metadata(&draft)?;
    let data = &draft[8 + header_len..];
    let mut header: Value = serde_json::from_slice(&draft[8..8 + header_len])?;
    header["__metadata__"]["data_crc32"] = Value::String(format!("{:08x}", crc32fast::hash(data)));
    header.sort_all_objects();
    let mut header = serde_json::to_vec(&header)?;
    header.resize(header.len().next_multiple_of(8), b' ');
    let mut bytes = Vec::with_capacity(8 + header.len() + data.len());
    bytes.extend((header.len() as u64).to_le_bytes());
    bytes.extend(header);
    bytes.extend(data);
    Ok(bytes)
}

/// Writes the checkpoint to `path` atomically (a reader never sees half a file).
pub fn save(path: &Path, model: &Mlp<f32>, config: &Config) -> io::Result<()> {
    let bytes = to_bytes(model, config).map_err(io::Error::other)?;
    write_atomic(path, |out| out.write_all(&bytes))
}

/// Reads the checkpoint at `path` for a run configured as `config`.
pub fn load(path: &Path, config: &Config) -> Result<Mlp<f32>, LoadError> {
    let error = |problem| LoadError { path: path.to_path_buf(), problem };
    let limit = HEADER_ALLOWANCE + 8 + expected_data_bytes(config);
    // Opening a FIFO for reading blocks until a writer comes: look at what the path names
    // first, then again at what was opened (it may have been swapped in between).
    if !std::fs::metadata(path).map_err(|e| error(Problem::Io(e)))?.is_file() {
        return Err(error(Problem::NotARegularFile));
    }
    let file = File::open(path).map_err(|e| error(Problem::Io(e)))?;
    let meta = file.metadata().map_err(|e| error(Problem::Io(e)))?;
    if !meta.is_file() {
        return Err(error(Problem::NotARegularFile));
    }
    if meta.len() > limit {
        return Err(error(Problem::TooLarge { bytes: meta.len(), limit }));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // The file may grow between stat and read: never read more than the limit.
    file.take(limit + 1).read_to_end(&mut bytes).map_err(|e| error(Problem::Io(e)))?;
    if bytes.len() as u64 > limit {
        return Err(error(Problem::TooLarge { bytes: bytes.len() as u64, limit }));
    }
    from_bytes(&bytes, config).map_err(error)
}

/// Parses and checks a checkpoint held in memory (see the module doc for the checks).
pub fn from_bytes(bytes: &[u8], config: &Config) -> Result<Mlp<f32>, Problem> {
    check_offsets(bytes)?;
    let (header_len, header) = SafeTensors::read_metadata(bytes).map_err(Problem::NotSafetensors)?;
    // read_metadata has checked that the tensors exactly cover what follows the header.
    let data = &bytes[8 + header_len..];
    let metadata = header.metadata().as_ref().ok_or_else(|| not_ours("it has no metadata"))?;
    let get = |key: &str| metadata.get(key).ok_or_else(|| not_ours(&format!("its metadata has no `{key}`")));

    if get("format")? != FORMAT_NAME {
        return Err(not_ours("its metadata `format` is not `dsm-tui checkpoint`"));
    }
    let version = get("format_version")?;
    if version.parse::<u32>().ok() != Some(FORMAT_VERSION) {
        return Err(Problem::Metadata(format!(
            "format version {version:?}, but this build reads version {FORMAT_VERSION} only"
        )));
    }
    let stored: Value = serde_json::from_str(get("config")?)
        .map_err(|e| Problem::Metadata(format!("its `config` metadata is not JSON ({e})")))?;
    let current = serde_json::to_value(config).expect("a config always serialises");
    for field in MUST_MATCH {
        let (file, configured) = (stored.get(field), current.get(field));
        if file != configured {
            return Err(Problem::Mismatch {
                field,
                file: file.map(show),
                configured: current.get(field).map_or_else(String::new, show),
            });
        }
    }
    if let Some(stored) = metadata.get("data_crc32") {
        let computed = crc32fast::hash(data);
        if u32::from_str_radix(stored, 16).ok() != Some(computed) {
            return Err(Problem::Checksum { stored: stored.clone(), computed });
        }
    }

    let layers = layer_shapes(config)
        .enumerate()
        .map(|(i, (inputs, outputs))| {
            let weight = read_f32(&header, data, &tensor_name(i, "weight"), &[outputs, inputs])?;
            let bias = read_f32(&header, data, &tensor_name(i, "bias"), &[outputs])?;
            Ok(Linear {
                weight: Array2::from_shape_vec((outputs, inputs), weight).expect("length checked against the shape"),
                bias: Array1::from(bias),
            })
        })
        .collect::<Result<Vec<_>, Problem>>()?;
    if let Some(extra) = header.offset_keys().into_iter().find(|name| !is_expected(name, config.depth)) {
        return Err(Problem::Tensor { name: extra, problem: "not part of this model".to_string() });
    }
    Ok(Mlp { layers, activation: config.activation })
}

fn not_ours(what: &str) -> Problem {
    Problem::Metadata(format!("not a dsm-tui checkpoint: {what}"))
}

/// A config value as the user would type it (`silu`, not `"silu"`).
fn show(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        v => v.to_string(),
    }
}

/// (inputs, outputs) of each layer of the configured network.
fn layer_shapes(config: &Config) -> impl Iterator<Item = (usize, usize)> {
    let (width, depth) = (config.hidden, config.depth);
    // The noise-conditional network takes log σ as a third input.
    let inputs = if config.mode == Mode::Annealed { DIM + 1 } else { DIM };
    (0..=depth).map(move |i| (if i == 0 { inputs } else { width }, if i == depth { DIM } else { width }))
}

fn expected_data_bytes(config: &Config) -> u64 {
    layer_shapes(config).map(|(inputs, outputs)| ((inputs + 1) * outputs * 4) as u64).sum()
}

fn is_expected(name: &str, depth: usize) -> bool {
    (0..=depth).any(|i| name == tensor_name(i, "weight") || name == tensor_name(i, "bias"))
}

/// The tensor `name` of the file whose header is `header` and data section `data`.
fn read_f32(header: &Metadata, data: &[u8], name: &str, shape: &[usize]) -> Result<Vec<f32>, Problem> {
    let problem = |problem: String| Problem::Tensor { name: name.to_string(), problem };
    let info = header.info(name).ok_or_else(|| problem("missing".to_string()))?;
    if info.dtype != Dtype::F32 {
        return Err(problem(format!("dtype {:?}, expected F32", info.dtype)));
    }
    if info.shape != shape {
        return Err(problem(format!("shape {:?}, expected {shape:?}", info.shape)));
    }
    let (start, end) = info.data_offsets;
    let values: Vec<f32> =
        data[start..end].chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(problem(format!("value {} at index {i} is not finite", values[i])));
    }
    Ok(values)
}

fn le_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Refuses headers whose data offsets reach past the end of the file. safetensors 0.8 adds
/// the end of the data to the header length unchecked when it compares them with the file
/// size, so crafted offsets near `usize::MAX` overflow there, a panic in a debug build (see
/// `tests/checkpoint.rs`). Anything this check cannot parse is left for safetensors to
/// reject with its own message.
fn check_offsets(bytes: &[u8]) -> Result<(), Problem> {
    let Some(len_bytes) = bytes.get(..8) else { return Ok(()) };
    let header_len = u64::from_le_bytes(len_bytes.try_into().expect("eight bytes"));
    let Some(header) = usize::try_from(header_len).ok().and_then(|n| bytes.get(8..8usize.checked_add(n)?)) else {
        return Ok(());
    };
    let Ok(Value::Object(entries)) = serde_json::from_slice::<Value>(header) else { return Ok(()) };
    let data_len = (bytes.len() - 8 - header.len()) as u64;
    for (name, entry) in &entries {
        if let Some(end) = entry.get("data_offsets").and_then(|o| o.get(1)).and_then(Value::as_u64)
            && end > data_len
        {
            return Err(Problem::Truncated { tensor: name.clone(), end, data_len });
        }
    }
    Ok(())
}

/// The name `w` gives a checkpoint without `--save` (before its suffix): named for what it
/// holds (data set, objective, seed, run and step) so that the name says which `--objective`
/// (and `--mode`) a later `--load` needs.
pub fn default_stem(config: &Config, run_id: u64, step: u64) -> String {
    let data = match &config.source {
        Source::Builtin(b) => b.name().to_string(),
        Source::File { path, .. } => {
            let stem = path.file_stem().map_or_else(|| "data".into(), |s| s.to_string_lossy());
            stem.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
        }
    };
    // An annealed model's file says so: loading it needs --mode annealed.
    let mode = if config.mode == Mode::Annealed { "-annealed" } else { "" };
    format!("dsm-tui-{data}-{}{mode}-seed{}-run{}-step{step}", config.objective.name(), config.seed, run_id + 1)
}

/// Writes a new checkpoint in `dir` named `{stem}.safetensors`, or `{stem}-2.safetensors`,
/// `-3` … when that name is taken (another dashboard with the same seed, run and step), and
/// returns its path. No file is ever replaced, not even one made between looking for a free
/// name and writing ([`write_new`]).
pub fn save_new(dir: &Path, stem: &str, model: &Mlp<f32>, config: &Config) -> io::Result<PathBuf> {
    let bytes = to_bytes(model, config).map_err(io::Error::other)?;
    write_new(dir, stem, "safetensors", |out| out.write_all(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Builtin;
    use crate::objective::Objective;

    #[test]
    fn the_default_checkpoint_name_says_what_it_holds() {
        let config = Config { objective: Objective::Ism, ..Config::for_builtin(Builtin::SwissRoll) };
        assert_eq!(default_stem(&config, 2, 6300), "dsm-tui-swiss-roll-ism-seed0-run3-step6300");
        let annealed = Config { mode: Mode::Annealed, ..Config::default() };
        assert_eq!(default_stem(&annealed, 0, 5), "dsm-tui-moons-dsm-annealed-seed0-run1-step5");
        let points = std::sync::Arc::new(ndarray::Array2::zeros((10, 2)));
        let file = Config { source: Source::File { path: "/data/my points.v2.csv".into(), points }, ..config };
        assert_eq!(default_stem(&file, 0, 5), "dsm-tui-my_points_v2-ism-seed0-run1-step5");
    }

    /// Two dashboards with the same seed saving at the same step must not overwrite each
    /// other: the second name gets a suffix, and every file keeps what was written to it.
    #[test]
    fn a_default_name_already_taken_gets_a_suffix() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let config = Config { seed: 7, ..Config::default() };
        let mut rng = crate::seeds::stream_rng(7, crate::seeds::Stream::Weights);
        let model = Mlp::<f32>::init(config.hidden, config.depth, config.activation, &mut rng);
        let stem = default_stem(&config, 0, 126);
        let name = |path: &Path| path.strip_prefix(dir.path()).expect("in the directory").to_path_buf();
        let first = dir.path().join(format!("{stem}.safetensors"));
        std::fs::write(&first, b"taken").expect("write");
        let second = save_new(dir.path(), &stem, &model, &config).expect("saved");
        let third = save_new(dir.path(), &stem, &model, &config).expect("saved");
        assert_eq!(name(&second), PathBuf::from("dsm-tui-moons-dsm-seed7-run1-step126-2.safetensors"));
        assert_eq!(name(&third), PathBuf::from("dsm-tui-moons-dsm-seed7-run1-step126-3.safetensors"));
        assert_eq!(std::fs::read(&first).expect("read"), b"taken", "not replaced");
        assert_eq!(load(&third, &config).expect("a checkpoint").width(), config.hidden);
    }
}
