//! `dsm-tui bench`: how fast the engine is, printed as Markdown tables — the training step
//! (noise + forward + loss + backward + Adam) per batch × width, the Langevin sampler, and
//! `--once` end to end with its peak resident memory. With `--compare`, PyTorch's figures
//! from `../shared/reference/bench_cpu.py` are measured in the same run (same shapes, same
//! thread counts) and a ratio column is added.
//!
//! Method (as `bench_cpu.py`'s): warm up, calibrate the number of steps to about the minimum
//! time, then time several repeats and report the median (and min–max). CPU utilisation is
//! process CPU time / wall time (2.0: both cores busy throughout), which shows when the
//! machine was shared. FLOPs follow the reference's formula (`flops.py`): matmuls exactly,
//! element-wise and Adam estimated. The header names the CPU and the kernel path that ran,
//! and measures one core's FMA peak per register width, so the `% of peak` column (GFLOP/s
//! over the path's peak × threads) is honest on any CPU.

/// `println!` that returns a failure to write (a closed or full stdout) instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => { crate::console::out(&format!("{}\n", format_args!($($arg)*)))? };
}

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use color_eyre::eyre::{Result, WrapErr, eyre};
use ndarray::Array2;
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};

use crate::config::Config;
use crate::data::two_moons;
use crate::nn::cpu::{kernels, path};
use crate::nn::{Activation, Adam, AdamConfig, Mlp, Precision, Workspace};
use crate::objective::dsm;
use crate::sampling::langevin::Particles;
use crate::seeds::{Stream, StreamRng, stream_rng};

const SIGMA: f32 = 0.1;
/// `bench_cpu.py`'s Langevin step size (throughput does not depend on it).
const LANGEVIN_ETA: f32 = 3e-3;
const LANGEVIN_PARTICLES: usize = 5000;

#[derive(Clone, Debug, clap::Args)]
pub struct BenchArgs {
    /// Short runs (about a minute): fewer Langevin steps and 0.25 s per timed repeat
    #[arg(long)]
    pub quick: bool,
    /// Also run the PyTorch reference (python3 with torch) in the same run and print ratios
    #[arg(long)]
    pub compare: bool,
    /// Python interpreter for --compare
    #[arg(long, default_value = "python3")]
    pub python: PathBuf,
    /// The reference's bench_cpu.py for --compare
    #[arg(long, default_value = "../shared/reference/bench_cpu.py")]
    pub reference: PathBuf,
    /// Thread counts to measure, comma-separated
    #[arg(long, value_delimiter = ',', default_value = "2,1")]
    pub threads: Vec<usize>,
    /// Repeats per measurement (the median is reported)
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    // The lists' defaults are written as one would type them: `default_values_t` shows them
    // space-separated in --help, which reads as a different syntax from the comma the flag takes.
    // Batches and widths are the shapes the reference measures.
    /// Training batch sizes, comma-separated
    #[arg(long, value_delimiter = ',', default_value = "128,512,4096")]
    pub batches: Vec<usize>,
    /// Hidden widths, comma-separated (training; Langevin too unless --quick)
    #[arg(long, value_delimiter = ',', default_value = "64,128,256")]
    pub widths: Vec<usize>,
    /// Parts to run, comma-separated
    #[arg(long, value_delimiter = ',', default_value = "train,langevin,once")]
    pub sections: Vec<Section>,
    /// Arithmetic of the Langevin and --once sections' sampling (as the main command's flag)
    #[arg(long, value_enum, default_value_t = Precision::F32)]
    pub sample_precision: Precision,
}

impl BenchArgs {
    /// Checks every value, as the main command's flags are checked: a bad one is one line
    /// naming the flag, the value and the accepted range.
    pub fn check(&self) -> Result<(), crate::config::InputError> {
        let lists: [(&str, &[usize], usize); 3] =
            [("threads", &self.threads, 1024), ("batches", &self.batches, 100_000), ("widths", &self.widths, 2048)];
        for (flag, values, max) in lists {
            let bad = if values.is_empty() {
                Some(String::new())
            } else {
                values.iter().find(|v| !(1..=max).contains(*v)).map(ToString::to_string)
            };
            if let Some(value) = bad {
                return Err(crate::config::InputError {
                    flag: format!("--{flag}"),
                    value,
                    accepted: format!("a comma-separated list of numbers in 1..={max}"),
                });
            }
        }
        let sampled = [self.sample_precision.unavailable(Config::default().hidden, Activation::Silu)];
        let widths = self.langevin_widths().into_iter().map(|h| self.sample_precision.unavailable(h, Activation::Silu));
        if let Some(accepted) = sampled.into_iter().chain(widths).flatten().next() {
            return Err(crate::config::InputError {
                flag: "--sample-precision".into(),
                value: "bf16".into(),
                accepted,
            });
        }
        if !(1..=1000).contains(&self.repeats) {
            return Err(crate::config::InputError {
                flag: "--repeats".into(),
                value: self.repeats.to_string(),
                accepted: "1..=1000".into(),
            });
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Section {
    Train,
    Langevin,
    Once,
}

impl std::fmt::Display for Section {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Section::Train => "train",
            Section::Langevin => "langevin",
            Section::Once => "once",
        })
    }
}

impl BenchArgs {
    /// The bench's largest run as a configuration the memory estimate reads: training at the
    /// largest batch and width (depth 2, as [`train_rate`]), the Langevin particles at that
    /// width too. The bench holds one at a time, so the estimate, which adds them, errs high.
    pub fn peak_config(&self) -> Config {
        let largest = |values: &[usize]| values.iter().copied().max().unwrap_or(1);
        Config {
            batch_size: largest(&self.batches),
            hidden: largest(&self.widths),
            depth: 2,
            particles: LANGEVIN_PARTICLES,
            ..Config::default()
        }
    }

    fn min_time(&self) -> f64 {
        if self.quick { 0.25 } else { 1.0 }
    }

    fn langevin_steps(&self) -> usize {
        if self.quick { 200 } else { 1000 }
    }

    fn langevin_widths(&self) -> Vec<usize> {
        if self.quick { vec![128] } else { self.widths.clone() }
    }
}

/// FLOPs of one training step at batch `b`, width `h` (`flops.py`'s `flops_per_step`).
pub fn flops_per_step(b: usize, h: usize) -> f64 {
    let (b, h, d) = (b as f64, h as f64, 2.0);
    let matmul_forward = 2.0 * b * (d * h + h * h + h * d);
    let matmul_backward = 2.0 * b * d * h + 2.0 * (2.0 * b * h * h) + 2.0 * (2.0 * b * h * d);
    let elementwise =
        (2.0 * b * h + b * d) + 4.0 * 2.0 * b * h + 6.0 * 2.0 * b * h + (2.0 * b * h + b * d) + 10.0 * b * d;
    let params = d * h + h + h * h + h + h * d + d;
    matmul_forward + matmul_backward + elementwise + 13.0 * params
}

/// FLOPs of one Langevin step of one particle (`flops.py`'s `flops_langevin_step`).
pub fn flops_langevin_step(h: usize) -> f64 {
    let (h, d) = (h as f64, 2.0);
    2.0 * (d * h + h * h + h * d) + 2.0 * h * 5.0 + d * 6.0
}

/// Median, extremes and CPU utilisation of repeated rate measurements.
#[derive(Clone, Copy, Debug)]
pub struct Rate {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub cpu_util: f64,
}

fn summarise(mut rates: Vec<f64>, mut utils: Vec<f64>) -> Rate {
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n % 2 == 1 { v[n / 2] } else { 0.5 * (v[n / 2 - 1] + v[n / 2]) }
    };
    let (min, max) = (rates.iter().copied().fold(f64::INFINITY, f64::min), rates.iter().copied().fold(0.0, f64::max));
    Rate { median: median(&mut rates), min, max, cpu_util: median(&mut utils) }
}

/// CPU time of this process so far (all its threads), from `/proc/self/task/*/schedstat`;
/// `None` where that is not available.
fn process_cpu_seconds() -> Option<f64> {
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total as f64 * 1e-9)
}

/// (wall seconds, CPU seconds) of `f`.
fn timed(f: impl FnOnce()) -> (f64, f64) {
    let cpu = process_cpu_seconds();
    let started = Instant::now();
    f();
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu.zip(process_cpu_seconds()).map_or(f64::NAN, |(a, b)| b - a);
    (wall, cpu)
}

/// Calibrates `run(n)` (n steps) to about `min_time` seconds, then times `repeats` runs.
fn measure(mut run: impl FnMut(usize), min_time: f64, repeats: usize) -> Rate {
    run(10);
    let mut n = 1;
    let per_step = loop {
        let (wall, _) = timed(|| run(n));
        if wall >= 0.2 * min_time {
            break wall / n as f64;
        }
        n *= 2;
    };
    let n = ((min_time / per_step.max(1e-9)) as usize).max(1);
    let runs: Vec<(f64, f64)> = (0..repeats.max(1)).map(|_| timed(|| run(n))).collect();
    summarise(runs.iter().map(|&(w, _)| n as f64 / w).collect(), runs.iter().map(|&(w, c)| c / w).collect())
}

fn pool(threads: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().wrap_err("building a rayon thread pool")
}

/// Training steps per second at batch `b`, width `h`: a tight loop over a pool of 16
/// pre-drawn batches, fresh noise each step, as `bench_cpu.py` does.
pub fn train_rate(b: usize, h: usize, min_time: f64, repeats: usize) -> Rate {
    let seed = 0;
    let data = two_moons(4000, 0.1, &mut stream_rng(seed, Stream::Data));
    let mut rng: StreamRng = stream_rng(seed, Stream::Shuffle);
    let batches: Vec<Array2<f32>> = (0..16)
        .map(|_| {
            let rows: Vec<usize> = (0..b).map(|_| rng.random_range(0..data.len())).collect();
            Array2::from_shape_fn((b, 2), |(i, j)| data.points[[rows[i], j]])
        })
        .collect();
    let mut model = Mlp::<f32>::init(h, 2, Activation::Silu, &mut stream_rng(seed, Stream::Weights));
    let mut adam = Adam::new(AdamConfig { lr: 5e-3, ..AdamConfig::default() }, &model.layers);
    let (mut ws, mut grads) = (Workspace::new(&model, b), model.zero_grads());
    let (mut noise, mut out_grad) = (Array2::zeros((b, 2)), Array2::zeros((b, 2)));
    let mut noise_rng = stream_rng(seed, Stream::TrainNoise);
    let mut step = 0usize;
    measure(
        |n| {
            for _ in 0..n {
                noise.mapv_inplace(|_| StandardNormal.sample(&mut noise_rng));
                let x = batches[step % batches.len()].view();
                dsm::loss_and_grad(&model, x, noise.view(), SIGMA, &mut ws, &mut out_grad.view_mut(), &mut grads);
                adam.step(&mut model.layers, &grads);
                step += 1;
            }
        },
        min_time,
        repeats,
    )
}

/// Langevin particle-steps per second: `particles` from U[−1, 1]², `steps` steps under an
/// untrained network of width `h` (throughput does not depend on the weights).
pub fn langevin_rate(particles: usize, steps: usize, h: usize, repeats: usize, precision: Precision) -> Rate {
    let model = Mlp::<f32>::init(h, 2, Activation::Silu, &mut stream_rng(0, Stream::Weights));
    Particles::uniform(particles, 0, 0).in_precision(precision).langevin(&model, LANGEVIN_ETA, 10);
    let runs: Vec<(f64, f64)> = (0..repeats.max(1))
        .map(|r| {
            let mut p = Particles::uniform(particles, 0, r as u64).in_precision(precision);
            timed(|| p.langevin(&model, LANGEVIN_ETA, steps))
        })
        .collect();
    let work = (particles * steps) as f64;
    summarise(runs.iter().map(|&(w, _)| work / w).collect(), runs.iter().map(|&(w, c)| c / w).collect())
}

/// One `--once` run with the defaults, as a user runs it.
#[derive(Clone, Copy, Debug)]
pub struct OnceRun {
    pub wall_seconds: f64,
    pub train_seconds: f64,
    pub sampling_seconds: f64,
    pub energy_distance: f64,
}

/// Runs `dsm-tui --once --json` as a child process `repeats` times; returns the runs and the
/// largest peak resident set size seen (bytes).
///
/// The peak is the child's own `VmHWM`, polled from `/proc/<pid>/status` every 2 ms while it
/// runs (a high-water mark, so only a rise in its last 2 ms could be missed).
/// `getrusage(RUSAGE_CHILDREN)` would not do: a child spawned by vfork inherits this
/// process's peak when it calls exec.
pub fn once_runs(repeats: usize, precision: Precision) -> Result<(Vec<OnceRun>, Option<u64>)> {
    let exe = std::env::current_exe().wrap_err("locating the dsm-tui executable")?;
    let mut runs = Vec::new();
    let mut peak = None;
    for _ in 0..repeats.max(1) {
        let started = Instant::now();
        let mut child = Command::new(&exe)
            .args(["--once", "--json", "--sample-precision", precision_name(precision)])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .wrap_err("running dsm-tui --once")?;
        let status_file = format!("/proc/{}/status", child.id());
        let mut stdout = child.stdout.take().expect("piped");
        // Read the output on a thread so a full pipe never blocks the child.
        let reader = std::thread::spawn(move || {
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut stdout, &mut buf).map(|_| buf)
        });
        let status = loop {
            if let Some(hwm) =
                std::fs::read_to_string(&status_file).ok().and_then(|s| crate::memory::kib_field(&s, "VmHWM:"))
            {
                peak = peak.max(Some(hwm));
            }
            if let Some(status) = child.try_wait().wrap_err("waiting for dsm-tui --once")? {
                break status;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        };
        let wall_seconds = started.elapsed().as_secs_f64();
        let stdout = reader.join().map_err(|_| eyre!("the output reader panicked"))?.wrap_err("reading --once")?;
        if !status.success() {
            let mut stderr = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
            }
            return Err(eyre!("dsm-tui --once failed: {stderr}"));
        }
        let json: serde_json::Value = serde_json::from_slice(&stdout).wrap_err("parsing --once --json")?;
        let field = |path: &[&str]| {
            path.iter().try_fold(&json, |v, k| v.get(k)).and_then(serde_json::Value::as_f64).unwrap_or(f64::NAN)
        };
        runs.push(OnceRun {
            wall_seconds,
            train_seconds: field(&["train_seconds"]),
            sampling_seconds: field(&["sampling_seconds"]),
            energy_distance: field(&["samples", "energy_distance"]),
        });
    }
    Ok((runs, peak))
}

/// The reference's figures for the same shapes, keyed by (threads, batch, width) for training
/// and (threads, width) for Langevin.
#[derive(Default)]
struct Reference {
    version: String,
    train: Vec<((usize, usize, usize), f64)>,
    langevin: Vec<((usize, usize), f64)>,
}

impl Reference {
    fn train(&self, key: (usize, usize, usize)) -> Option<f64> {
        self.train.iter().find(|(k, _)| *k == key).map(|&(_, v)| v)
    }

    fn langevin(&self, key: (usize, usize)) -> Option<f64> {
        self.langevin.iter().find(|(k, _)| *k == key).map(|&(_, v)| v)
    }
}

/// Runs `bench_cpu.py` with the same shapes; `Err` says why it was skipped.
fn run_reference(args: &BenchArgs) -> Result<Reference> {
    let probe = Command::new(&args.python).args(["-c", "import torch"]).output();
    match probe {
        Ok(out) if out.status.success() => {}
        _ => return Err(eyre!("{} cannot import torch", crate::shown::path(&args.python))),
    }
    if !args.reference.is_file() {
        return Err(eyre!("{} not found", crate::shown::path(&args.reference)));
    }
    let json_out = std::env::temp_dir().join(format!("dsm-tui-bench-{}.json", std::process::id()));
    let list = |v: &[usize]| v.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
    let status = Command::new(&args.python)
        .arg(&args.reference)
        .args(["--threads", &list(&args.threads)])
        .args(["--batches", &list(&args.batches), "--hiddens", &list(&args.widths)])
        .args(["--repeats", &args.repeats.to_string(), "--min-time", &args.min_time().to_string()])
        .args(["--langevin-hiddens", &list(&args.langevin_widths())])
        .args(["--langevin-steps", &args.langevin_steps().to_string()])
        .args(["--langevin-repeats", &args.repeats.to_string()])
        .args(if args.sections.contains(&Section::Train) { &[][..] } else { &["--skip-train"][..] })
        .arg("--json-out")
        .arg(&json_out)
        // As the reference README measured: keep glibc from mapping and unmapping big tensors.
        .env("MALLOC_MMAP_THRESHOLD_", "4294967296")
        .env("MALLOC_TRIM_THRESHOLD_", "4294967296")
        .stdout(std::process::Stdio::null())
        .status()
        .wrap_err("running the PyTorch reference")?;
    if !status.success() {
        return Err(eyre!("bench_cpu.py exited with {status}"));
    }
    let text = std::fs::read_to_string(&json_out).wrap_err("reading bench_cpu.py's JSON")?;
    let _ = std::fs::remove_file(&json_out);
    parse_reference(&text)
}

fn parse_reference(text: &str) -> Result<Reference> {
    let json: serde_json::Value = serde_json::from_str(text).wrap_err("parsing bench_cpu.py's JSON")?;
    let num = |v: &serde_json::Value, k: &str| v.get(k).and_then(serde_json::Value::as_f64);
    let int = |v: &serde_json::Value, k: &str| num(v, k).map(|x| x as usize);
    let rows = |k: &str| json.get(k).and_then(serde_json::Value::as_array).cloned().unwrap_or_default();
    Ok(Reference {
        version: json.get("torch").and_then(serde_json::Value::as_str).unwrap_or("?").to_string(),
        train: rows("train")
            .iter()
            .filter_map(|r| Some(((int(r, "threads")?, int(r, "B")?, int(r, "H")?), num(r, "median_per_s")?)))
            .collect(),
        langevin: rows("langevin")
            .iter()
            .filter_map(|r| Some(((int(r, "threads")?, int(r, "H")?), num(r, "particle_steps_per_s")?)))
            .collect(),
    })
}

fn load_line() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn cell(value: Option<f64>, digits: usize) -> String {
    value.map_or("–".into(), |v| format!("{v:.digits$}"))
}

/// Runs the whole benchmark and prints its tables.
pub fn run(args: &BenchArgs) -> Result<()> {
    let repeats = args.repeats.max(1);
    out!("# dsm-tui bench{}", if args.quick { " --quick" } else { "" });
    out!("load average at start: {}; {} logical CPUs", load_line(), num_cpus());
    out!("{}", round_trip_line());
    let kernels = path::chosen();
    let how = if path::from_env().ok().flatten().is_some() { "set by DSM_TUI_KERNELS" } else { "this CPU's rule" };
    out!("CPU: {}; kernel path: {} ({how})", path::cpu_description(), kernels.name());
    if args.sample_precision != Precision::F32 {
        out!("sampling (Langevin, --once): --sample-precision {}", precision_name(args.sample_precision));
    }
    let peaks = measure_peaks(args);
    out!(
        "FMA peak per core (register-only loop, 12 chains, median of 3): AVX2 {}, AVX-512 {} GFLOP/s",
        cell(peaks.avx2, 1),
        cell(peaks.avx512, 1)
    );
    let peak = match kernels {
        path::KernelPath::Avx512 => peaks.avx512,
        path::KernelPath::Avx2 => peaks.avx2,
        path::KernelPath::Portable => None,
    };
    let reference = if args.compare {
        match run_reference(args) {
            Ok(r) => {
                out!("PyTorch {} measured first, same shapes and thread counts", r.version);
                Some(r)
            }
            Err(why) => {
                out!("note: skipped the PyTorch comparison: {why}");
                None
            }
        }
    } else {
        None
    };

    if args.sections.contains(&Section::Train) {
        train_table(args, reference.as_ref(), peak)?;
    }
    if args.sections.contains(&Section::Langevin) {
        langevin_table(args, reference.as_ref(), peak)?;
    }
    if args.sections.contains(&Section::Once) {
        once_table(repeats, args.sample_precision)?;
    }
    out!("\nload average at end: {}", load_line());
    out!("{}", round_trip_line());
    Ok(())
}

/// The header line for [`cache_line_round_trip`]: it says how far apart the two cores were,
/// which moves two-thread figures at small batches by up to 2× on a virtual machine.
fn round_trip_line() -> String {
    match cache_line_round_trip() {
        Some(ns) => format!(
            "cache-line round trip between two threads: {ns:.0} ns (Zen 5 VM: ~50 on one chiplet, \
             ~420 on two, where small batches train faster on one thread)"
        ),
        None => "cache-line round trip: not measured (one logical CPU)".into(),
    }
}

/// Nanoseconds for a cache line to go to another thread and back: the best of three runs of
/// up to 20,000 round trips, each after up to 2,000 untimed ones (until the scheduler has put
/// the two threads on different CPUs, a trip waits for a time slice). Each stops after 50 ms:
/// with both CPUs busy elsewhere a trip can wait milliseconds, and the bench must not stall
/// on what only describes the machine. A virtual machine's two vCPUs may share a chiplet's
/// cache (~50 ns on Zen 5) or not (~420 ns), and the host can move them between the two
/// while it runs.
fn cache_line_round_trip() -> Option<f64> {
    use std::sync::atomic::{AtomicU32, Ordering};
    const TRIPS: u32 = 20_000;
    const WARM_UP: u32 = 2_000;
    const BUDGET: f64 = 0.05;
    // The line's states: the main thread's turn, the partner's turn, and "stop".
    const MAIN: u32 = 0;
    const PARTNER: u32 = 1;
    const STOP: u32 = 2;
    if num_cpus() < 2 {
        return None;
    }
    let wait_while = |flag: &AtomicU32, value| loop {
        match flag.load(Ordering::Acquire) {
            v if v == value => std::hint::spin_loop(),
            v => return v,
        }
    };
    let one_run = || {
        let flag = AtomicU32::new(MAIN);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                while wait_while(&flag, MAIN) == PARTNER {
                    flag.store(MAIN, Ordering::Release);
                }
            });
            let trip = || {
                flag.store(PARTNER, Ordering::Release);
                wait_while(&flag, PARTNER);
            };
            // Up to `most` trips, checking the clock every 256: (trips, seconds).
            let trips_within = |most: u32| {
                let start = Instant::now();
                let mut trips = 0;
                while trips < most && (trips % 256 != 0 || start.elapsed().as_secs_f64() < BUDGET) {
                    trip();
                    trips += 1;
                }
                (trips, start.elapsed().as_secs_f64())
            };
            trips_within(WARM_UP);
            let (trips, seconds) = trips_within(TRIPS);
            flag.store(STOP, Ordering::Release);
            seconds * 1e9 / f64::from(trips.max(1))
        })
    };
    (0..3).map(|_| one_run()).min_by(f64::total_cmp)
}

/// The measured FMA peaks of one core, per register width (`None` where the CPU lacks it).
struct Peaks {
    avx2: Option<f64>,
    avx512: Option<f64>,
}

/// Each peak as the median of three timed loops (0.1 s each with --quick, else 0.3 s).
fn measure_peaks(args: &BenchArgs) -> Peaks {
    let seconds = if args.quick { 0.1 } else { 0.3 };
    let median = |kernel_path| {
        let runs: Option<Vec<f64>> = (0..3).map(|_| kernels::fma_peak(kernel_path, seconds)).collect();
        runs.map(|runs| summarise(runs, vec![0.0]).median)
    };
    Peaks { avx2: median(path::KernelPath::Avx2), avx512: median(path::KernelPath::Avx512) }
}

/// The share of the peak of `threads` cores, as a table cell.
fn percent_of_peak(gflops: f64, peak: Option<f64>, threads: usize) -> String {
    cell(peak.map(|p| 100.0 * gflops / (p * threads as f64)), 0)
}

fn train_table(args: &BenchArgs, reference: Option<&Reference>, peak: Option<f64>) -> Result<()> {
    let repeats = args.repeats.max(1);
    let mut out = String::new();
    let _ = writeln!(out, "\n## Training step (noise + forward + loss + backward + Adam), MLP 2→H→H→2 SiLU");
    let _ = writeln!(
        out,
        "| threads | batch | width | steps/s (median of {repeats}) | min–max | MFLOP/step | GFLOP/s | % of peak | cpu_util | PyTorch steps/s | ratio |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|");
    crate::console::out(&out)?;
    for &threads in &args.threads {
        let pool = pool(threads)?;
        for &b in &args.batches {
            for &h in &args.widths {
                let rate = pool.install(|| train_rate(b, h, args.min_time(), repeats));
                let flops = flops_per_step(b, h);
                let theirs = reference.and_then(|r| r.train((threads, b, h)));
                let gflops = rate.median * flops / 1e9;
                out!(
                    "| {threads} | {b} | {h} | {:.1} | {:.1}–{:.1} | {:.2} | {gflops:.1} | {} | {:.2} | {} | {} |",
                    rate.median,
                    rate.min,
                    rate.max,
                    flops / 1e6,
                    percent_of_peak(gflops, peak, threads),
                    rate.cpu_util,
                    cell(theirs, 1),
                    cell(theirs.map(|t| rate.median / t), 2)
                );
            }
        }
    }

    Ok(())
}

fn langevin_table(args: &BenchArgs, reference: Option<&Reference>, peak: Option<f64>) -> Result<()> {
    let repeats = args.repeats.max(1);
    let steps = args.langevin_steps();
    out!("\n## Langevin: {LANGEVIN_PARTICLES} particles × {steps} steps");
    // The f32 FMA peak is not the bf16 products' ceiling, and no bf16 peak is measured.
    let peak = if args.sample_precision == Precision::F32 {
        peak
    } else {
        out!("(bf16 products: no % of peak, the f32 FMA peak is not their ceiling; PyTorch ran in f32)");
        None
    };
    out!(
        "| threads | width | wall s (median of {repeats}) | particle-steps/s | GFLOP/s | % of peak | cpu_util | PyTorch particle-steps/s | ratio |"
    );
    out!("|---|---|---|---|---|---|---|---|---|");
    for &threads in &args.threads {
        let pool = pool(threads)?;
        for h in args.langevin_widths() {
            let rate = pool.install(|| langevin_rate(LANGEVIN_PARTICLES, steps, h, repeats, args.sample_precision));
            let theirs = reference.and_then(|r| r.langevin((threads, h)));
            let gflops = rate.median * flops_langevin_step(h) / 1e9;
            out!(
                "| {threads} | {h} | {:.2} | {:.3e} | {gflops:.1} | {} | {:.2} | {} | {} |",
                (LANGEVIN_PARTICLES * steps) as f64 / rate.median,
                rate.median,
                percent_of_peak(gflops, peak, threads),
                rate.cpu_util,
                theirs.map_or("–".into(), |t| format!("{t:.3e}")),
                cell(theirs.map(|t| rate.median / t), 2)
            );
        }
    }

    Ok(())
}

fn once_table(repeats: usize, precision: Precision) -> Result<()> {
    out!("\n## `dsm-tui --once` with the defaults (6,300 training steps, 5000 × 1000 Langevin)");
    let (runs, peak) = once_runs(repeats, precision)?;
    let med = |f: fn(&OnceRun) -> f64| summarise(runs.iter().map(f).collect(), vec![0.0]).median;
    out!("| runs | wall s (median) | min–max | training s | sampling s | energy distance | peak RSS |");
    out!("|---|---|---|---|---|---|---|");
    let walls = summarise(runs.iter().map(|r| r.wall_seconds).collect(), vec![0.0]);
    out!(
        "| {} | {:.2} | {:.2}–{:.2} | {:.2} | {:.2} | {:.5} | {} |",
        runs.len(),
        walls.median,
        walls.min,
        walls.max,
        med(|r| r.train_seconds),
        med(|r| r.sampling_seconds),
        med(|r| r.energy_distance),
        peak.map_or("unknown".into(), |b| format!("{:.1} MB", b as f64 / 1e6))
    );
    Ok(())
}

/// The name the command line takes for `precision`.
fn precision_name(precision: Precision) -> &'static str {
    match precision {
        Precision::F32 => "f32",
        Precision::Bf16 => "bf16",
    }
}

fn num_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_defaults_are_the_reference_shapes_and_every_section() {
        #[derive(clap::Parser)]
        struct Bench {
            #[command(flatten)]
            args: BenchArgs,
        }
        let args = <Bench as clap::Parser>::try_parse_from(["bench"]).expect("the defaults parse").args;
        assert_eq!(args.threads, [2, 1]);
        assert_eq!(args.batches, [128, 512, 4096]);
        assert_eq!(args.widths, [64, 128, 256]);
        assert_eq!(args.sections, [Section::Train, Section::Langevin, Section::Once]);
    }

    #[test]
    fn flops_follow_the_reference_formula() {
        // `python3 ../shared/reference/flops.py` prints these (MFLOP per training step, and
        // per Langevin step of 5000 particles).
        for (b, h, mflop) in [(128, 128, 13.530), (4096, 256, 1657.720)] {
            let ours = flops_per_step(b, h) / 1e6;
            assert!((ours - mflop).abs() < 1e-3, "{b} × {h}: {ours:.3} MFLOP, flops.py {mflop}");
        }
        for (h, mflop) in [(64, 46.78), (128, 175.42), (256, 678.46)] {
            let ours = 5000.0 * flops_langevin_step(h) / 1e6;
            assert!((ours - mflop).abs() < 0.01, "width {h}: {ours:.2} MFLOP, flops.py {mflop}");
        }
    }

    /// Not a timing assertion: only that two threads passed the line back and forth and the
    /// figure is a duration (a deadlock would hang here instead).
    #[test]
    fn the_round_trip_is_measured_where_there_are_two_cpus() {
        match cache_line_round_trip() {
            Some(ns) => assert!(ns.is_finite() && ns > 0.0, "{ns} ns"),
            None => assert_eq!(num_cpus(), 1),
        }
    }

    #[test]
    fn reads_bench_cpu_json() {
        let text = r#"{"torch": "2.15.0", "train": [{"threads": 2, "B": 128, "H": 128, "median_per_s": 1441.0}],
                      "langevin": [{"threads": 1, "H": 128, "particle_steps_per_s": 2.0e6}]}"#;
        let r = parse_reference(text).expect("valid JSON");
        assert_eq!(r.version, "2.15.0");
        assert_eq!(r.train((2, 128, 128)), Some(1441.0));
        assert_eq!(r.train((1, 128, 128)), None);
        assert_eq!(r.langevin((1, 128)), Some(2.0e6));
    }
}
