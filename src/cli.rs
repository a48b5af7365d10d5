//! The command line: clap parses the flags, `Cli::config` checks every value once and
//! turns it into a [`Config`]. A bad value becomes one line naming the flag, the value and
//! the accepted range.

use std::error::Error as _;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Parser, ValueEnum};

use crate::app::next_run::{TRAINING_PACES, steps_per_second, watchable_pace};
use crate::config::{Config, InputError, Mode, Sampler};
use crate::data::{Builtin, MIN_POINTS, Source, load_csv};
use crate::eval::likelihood::MIN_NFE as LIKELIHOOD_MIN_NFE;
use crate::headless::plot::PlotFormat;
use crate::nn::{Activation, Precision};
use crate::noise_levels::NoiseLevels;
use crate::objective::Objective;
use crate::sampling::diffusion::{MIN_NFE, MIN_TWO_EVALUATION_NFE};
use crate::seeds::{Stream, stream_rng};
use crate::shown::number;
use crate::ui::{MIN_HEIGHT, MIN_WIDTH};

/// Most points / particles accepted: the quality figures cost O(n²).
pub const MAX_POINTS: usize = 100_000;

#[derive(Parser, Debug)]
#[command(
    name = "dsm-tui",
    version,
    allow_negative_numbers = true,
    about = "Watch a small network learn the score of the two moons by denoising score matching, \
             while Langevin particles driven by that score flow onto the data.",
    after_help = "Without --once, opens the live dashboard (needs a terminal). \
                  Exit codes: 0 ok, 2 bad input, 3 training diverged, 1 other errors."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Run headless: train, sample, print a summary, exit
    #[arg(long, help_heading = "Headless run")]
    pub once: bool,
    /// With --once: print one JSON object instead of the summary
    #[arg(long, help_heading = "Headless run", requires = "once")]
    pub json: bool,
    /// With --once: train and sample with DSM and with ISM from the same seed and step budget,
    /// and print them side by side
    #[arg(long, help_heading = "Headless run", requires = "once", conflicts_with_all = ["samples_out", "data_out", "history_out", "objective"])]
    pub compare_objectives: bool,
    /// With --once: train the noise-conditional model, then sample it with single-σ Langevin
    /// (at --sigma, --steps, --eta) and with annealed Langevin from the same starting
    /// particles, and print them side by side
    #[arg(long, help_heading = "Headless run", requires = "once", conflicts_with_all = ["compare_objectives", "samples_out", "data_out", "history_out", "plot", "load", "save", "frame"])]
    pub compare: bool,
    /// With --once: train the noise-conditional model (or --load it), then sample it with
    /// every sampler (annealed, reverse-diffusion, pc, ode-euler, ode-heun) at 5, 10, 20, 50,
    /// 100, 200, 500 and 1000 network evaluations from the same starting particles, and print
    /// energy distance, shares, stragglers and time for each; --plot draws energy distance
    /// against evaluations
    #[arg(long, help_heading = "Headless run", requires = "once", conflicts_with_all = ["compare", "compare_objectives", "samples_out", "data_out", "history_out", "save", "frame", "sampler", "nfe", "likelihood"])]
    pub sampler_sweep: bool,
    /// With --once: write the final samples as CSV (x,y)
    #[arg(long, help_heading = "Outputs", value_name = "FILE", requires = "once")]
    pub samples_out: Option<PathBuf>,
    /// With --once: write the data set as CSV (x,y,label,split)
    #[arg(long, help_heading = "Outputs", value_name = "FILE", requires = "once")]
    pub data_out: Option<PathBuf>,
    /// With --once: write the loss history as CSV (series,step,epoch,loss); a train row per
    /// step up to 2^20 steps, past that each the mean of a run of steps (memory stays bounded)
    #[arg(long, help_heading = "Outputs", value_name = "FILE", requires = "once")]
    pub history_out: Option<PathBuf>,
    /// With --once and --mode annealed: also measure the model's log-likelihood of the test
    /// split through the probability-flow ODE (exact divergence, fourth-order Runge–Kutta from
    /// σ_min to σ_max), in nats per point, spending NFE network evaluations per point
    /// [4..=100000; 200 when no number is given]
    #[arg(
        long,
        help_heading = "Headless run",
        value_name = "NFE",
        requires = "once",
        num_args = 0..=1,
        default_missing_value = "200",
        conflicts_with_all = ["compare", "compare_objectives"]
    )]
    pub likelihood: Option<usize>,
    /// With --once: also print the dashboard's final screen, as text
    #[arg(long, help_heading = "Headless run", requires = "once", conflicts_with_all = ["json", "compare_objectives"])]
    pub frame: bool,
    /// With --frame: the screen's size, columns x rows [80..=1000 x 24..=1000]
    #[arg(long, help_heading = "Headless run", value_name = "WxH", requires = "frame", default_value = "100x30", value_parser = parse_size)]
    pub size: (u16, u16),
    /// Write the trained weights and the configuration (safetensors): with --once at the end;
    /// in the dashboard, where `w` saves (by default a new file in the current directory)
    #[arg(long, help_heading = "Outputs", value_name = "FILE", conflicts_with = "compare_objectives")]
    pub save: Option<PathBuf>,
    /// Dashboard: start with training paced to this many steps/s, or flat out (`max`); `t`
    /// changes it. Without it, training is paced to last about 18 s, to watch the loss fall and
    /// the particles follow the score as it is learned [2000, 400, 100, 20, max]
    #[arg(long, help_heading = "Dashboard", value_name = "STEPS_PER_S", conflicts_with = "once", value_parser = parse_pace)]
    pub pace: Option<Pace>,
    /// Dashboard: leave the mouse to the terminal (its own text selection) instead of
    /// capturing it for drawing (`e`)
    #[arg(long, help_heading = "Dashboard", conflicts_with = "once")]
    pub no_mouse: bool,
    /// Start from the weights in this checkpoint (written by --save) instead of random ones;
    /// --hidden, --depth, --activation and --objective must match it. Allows --epochs 0
    #[arg(long, help_heading = "Model", value_name = "FILE", conflicts_with = "compare_objectives")]
    pub load: Option<PathBuf>,
    /// With --once: draw the samples over the data and the loss curves (.png or .svg)
    #[arg(
        long,
        help_heading = "Outputs",
        value_name = "FILE",
        requires = "once",
        conflicts_with = "compare_objectives"
    )]
    pub plot: Option<PathBuf>,

    /// Built-in data set
    #[arg(long, help_heading = "Data", value_enum, default_value_t = Builtin::Moons, conflicts_with = "data")]
    pub dataset: Builtin,
    /// Your own points instead: a CSV file of x,y rows (header optional); over 100000 rows,
    /// a uniform random subset is used
    #[arg(long, help_heading = "Data", value_name = "FILE.csv", conflicts_with_all = ["count", "noise"])]
    pub data: Option<PathBuf>,
    /// Points in the data set, split 80% train / 20% test [10..=100000]
    #[arg(long, help_heading = "Data", default_value_t = Config::default().count)]
    pub count: usize,
    /// Standard deviation of the noise on the data set's shape [0..=1]
    /// [default: 0.1; 0 for checkerboard]
    #[arg(long, help_heading = "Data")]
    pub noise: Option<f64>,
    /// Training batch size [1..=training points]
    #[arg(long, help_heading = "Training", default_value_t = Config::default().batch_size)]
    pub batch_size: usize,
    /// Passes over the training set [1..=100000; 0..=100000 with --load]
    /// [default: 100; 800 with --mode annealed]
    #[arg(long, help_heading = "Training")]
    pub epochs: Option<usize>,
    /// Adam learning rate of the first epoch [> 0]
    // The bracket is the help's range (`help_range`), not a link.
    #[allow(rustdoc::broken_intra_doc_links)]
    #[arg(long, help_heading = "Training", default_value_t = Config::default().lr)]
    pub lr: f64,
    /// Learning-rate decay per epoch (lr·gammaᵉ) [(0, 1]]
    /// [default: 0.95; 0.9925 with --mode annealed]
    #[arg(long, help_heading = "Training")]
    pub lr_gamma: Option<f64>,
    /// Width of each hidden layer [1..=2048] [default: 128; 64 with --mode annealed]
    #[arg(long, help_heading = "Model")]
    pub hidden: Option<usize>,
    /// Number of hidden layers [1..=16] [default: 2; 4 with --mode annealed]
    #[arg(long, help_heading = "Model")]
    pub depth: Option<usize>,
    /// Activation of the hidden layers
    #[arg(long, help_heading = "Model", value_enum, default_value_t = Config::default().activation)]
    pub activation: Activation,
    /// Training objective: denoising (the course's) or implicit score matching
    #[arg(long, help_heading = "Training", value_enum, default_value_t = Config::default().objective)]
    pub objective: Objective,
    /// DSM noise level σ: the score of the data blurred by N(0, σ²I) is learned [(0, 10]]
    /// [default: 0.1; 0.15 for swiss-roll]
    #[arg(long, help_heading = "Training")]
    pub sigma: Option<f64>,
    /// Langevin particles, started from U[-1,1]² [1..=100000]
    #[arg(long, help_heading = "Sampler", default_value_t = Config::default().particles)]
    pub particles: usize,
    /// Langevin steps of the headless run [1..=1000000]
    #[arg(long, help_heading = "Sampler", default_value_t = Config::default().steps)]
    pub steps: usize,
    /// Langevin step size η in x ← x + (η/2)·s(x) + √η·z [(0, 10]]
    #[arg(long, help_heading = "Sampler", default_value_t = Config::default().eta)]
    pub eta: f64,
    /// Score model and sampler: the course's single σ, or noise-conditional with annealed
    /// Langevin (x ← x + α·s(x, σᵢ) + √(2α)·z with α = c·σᵢ², T steps per level, then
    /// x + σ_L²·s(x, σ_L); α plays the part of η/2 in the single-σ step)
    #[arg(long, help_heading = "Sampler", value_enum, default_value_t = Config::default().mode)]
    pub mode: Mode,
    /// Annealed mode: noise levels MAX:MIN:L, geometric from σ_max to σ_min [default: from the
    /// data: σ_max its largest pairwise distance, σ_min its median nearest-neighbour distance,
    /// 10 levels; about 3.5:0.012:10 on the moons]
    #[arg(long, help_heading = "Sampler", value_name = "MAX:MIN:L")]
    pub sigmas: Option<NoiseLevels>,
    /// Annealed mode: Langevin steps T per level [1..=100000]
    #[arg(long, help_heading = "Sampler", default_value_t = Config::default().level_steps)]
    pub level_steps: usize,
    /// Annealed mode: c in the step size α = c·σᵢ² [(0, 10]]
    #[arg(long, help_heading = "Sampler", default_value_t = Config::default().step_scale)]
    pub step_scale: f64,
    /// Annealed mode: the sampler of the noise-conditional model (in the dashboard, `s`
    /// cycles them) [default: annealed]
    #[arg(long, help_heading = "Sampler", value_enum)]
    pub sampler: Option<Sampler>,
    /// Reverse diffusion, PC and the ODE: network evaluations, a grid of that many σ from
    /// σ_max to σ_min (EDM's, ρ = 7) whose last step is Tweedie's denoiser [2..=100000;
    /// default: 200, 50 for ode-heun]
    #[arg(long, help_heading = "Sampler")]
    pub nfe: Option<usize>,
    /// Predictor–corrector: the corrector's signal-to-noise ratio r, its step
    /// ε = 2·(r·E‖z‖/mean‖s‖)² (Song et al. 2021's 0.16 for variance-exploding models) [(0, 10]]
    #[arg(long, help_heading = "Sampler", default_value_t = Config::default().snr)]
    pub snr: f64,
    /// Arithmetic of the sampler's H → H products: f32, or bf16 products summed in f32
    /// (faster on CPUs with AVX512-BF16, not the same bits; docs/samplers.md). Training is f32
    #[arg(long, help_heading = "Sampler", value_enum, default_value_t = Precision::F32)]
    pub sample_precision: Precision,
    /// Seed of every random draw (data, weights, noise, particles) [0..=2⁶⁴−1]
    #[arg(long, help_heading = "Training", default_value_t = Config::default().seed)]
    pub seed: u64,
}

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Measure training and sampling throughput, --once end to end and its peak memory
    /// (docs/performance.md)
    Bench(crate::bench::BenchArgs),
}

fn check(ok: bool, flag: &str, value: impl fmt::Display, accepted: impl Into<String>) -> Result<(), InputError> {
    if ok {
        Ok(())
    } else {
        Err(InputError { flag: format!("--{flag}"), value: value.to_string(), accepted: accepted.into() })
    }
}

impl Cli {
    /// Checks every value and returns the configuration it describes.
    pub fn config(&self) -> Result<Config, InputError> {
        let positive = |v: f64, hi: f64| v.is_finite() && v > 0.0 && v <= hi;
        let (source, count, noise) = self.data_source()?;
        let defaults = match &source {
            Source::Builtin(b) => Config::for_builtin(*b),
            Source::File { .. } => Config::default(),
        };
        // --compare and --sampler-sweep sample the noise-conditional model, whatever --mode says.
        let mode = if self.compare || self.sampler_sweep { Mode::Annealed } else { self.mode };
        let defaults = match mode {
            Mode::Single => defaults,
            Mode::Annealed => defaults.with_annealed_training(),
        };
        let epochs = self.epochs.unwrap_or(defaults.epochs);
        let lr_gamma = self.lr_gamma.unwrap_or(defaults.lr_gamma);
        let hidden = self.hidden.unwrap_or(defaults.hidden);
        let depth = self.depth.unwrap_or(defaults.depth);
        let sigma = self.sigma.unwrap_or(defaults.sigma);
        let train_len = crate::data::train_len(count);
        check(
            in_range(self.batch_size, 1, train_len),
            "batch-size",
            self.batch_size,
            format!("1..={train_len} (the training split of {count} points)"),
        )?;
        // With a checkpoint, zero epochs means "sample from it as it is".
        let (min_epochs, epochs_range) =
            if self.load.is_some() { (0, "0..=100000 with --load") } else { (1, "1..=100000 (0 with --load)") };
        check(in_range(epochs, min_epochs, 100_000), "epochs", epochs, epochs_range)?;
        check(self.lr.is_finite() && self.lr > 0.0, "lr", number(self.lr), "a finite number > 0")?;
        check(positive(lr_gamma, 1.0), "lr-gamma", number(lr_gamma), "(0, 1]")?;
        check(in_range(hidden, 1, 2048), "hidden", hidden, "1..=2048")?;
        check(in_range(depth, 1, 16), "depth", depth, "1..=16")?;
        check(positive(sigma, 10.0), "sigma", number(sigma), "(0, 10]")?;
        check(in_range(self.particles, 1, MAX_POINTS), "particles", self.particles, format!("1..={MAX_POINTS}"))?;
        check(in_range(self.steps, 1, 1_000_000), "steps", self.steps, "1..=1000000")?;
        check(positive(self.eta, 10.0), "eta", number(self.eta), "(0, 10]")?;
        check(in_range(self.level_steps, 1, 100_000), "level-steps", self.level_steps, "1..=100000")?;
        check(positive(self.step_scale, 10.0), "step-scale", number(self.step_scale), "(0, 10]")?;
        let sampler = self.sampler.unwrap_or(Sampler::Annealed);
        let nfe = self.nfe.unwrap_or(sampler.default_nfe());
        check(in_range(nfe, MIN_NFE, 100_000), "nfe", nfe, format!("{MIN_NFE}..=100000"))?;
        if sampler != Sampler::Annealed {
            let name = sampler.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default();
            let needs = |ok: bool, what: &str| check(ok, "sampler", &name, format!("annealed, or {name} {what}"));
            needs(mode == Mode::Annealed && !self.compare, "with --mode annealed (the noise-conditional model)")?;
        }
        check(positive(self.snr, 10.0), "snr", number(self.snr), "(0, 10]")?;
        if let Some(nfe) = self.likelihood {
            let accepted = format!("{LIKELIHOOD_MIN_NFE}..=100000 (four evaluations a Runge–Kutta step)");
            check(in_range(nfe, LIKELIHOOD_MIN_NFE, 100_000), "likelihood", nfe, accepted)?;
            let accepted = "annealed with --likelihood (the ODE needs the noise-conditional model)";
            check(mode == Mode::Annealed, "mode", "single", accepted)?;
        }
        if matches!(sampler, Sampler::OdeHeun | Sampler::Pc) {
            let accepted =
                format!("{MIN_TWO_EVALUATION_NFE}..=100000 with ode-heun or pc (a step takes two evaluations)");
            check(nfe >= MIN_TWO_EVALUATION_NFE, "nfe", nfe, accepted)?;
        }
        // --compare implies the annealed mode, whatever --mode says.
        check(
            !(mode == Mode::Annealed && self.objective == Objective::Ism),
            "objective",
            "ism",
            if self.compare {
                "dsm with --compare (it trains the noise-conditional model, by DSM)"
            } else {
                "dsm with --mode annealed (the noise-conditional model is trained by DSM)"
            },
        )?;
        // ISM trains the single-σ model only, and --compare-objectives trains one by ISM.
        check(
            !(self.compare_objectives && mode == Mode::Annealed),
            "mode",
            "annealed",
            "single with --compare-objectives (its ISM run trains the single-σ model)",
        )?;
        if let Some(accepted) = self.sample_precision.unavailable(hidden, self.activation) {
            check(false, "sample-precision", "bf16", accepted)?;
        }
        for (flag, path) in [
            ("samples-out", &self.samples_out),
            ("data-out", &self.data_out),
            ("history-out", &self.history_out),
            ("save", &self.save),
            ("plot", &self.plot),
        ] {
            if let Some(path) = path {
                check_output_path(flag, path)?;
            }
        }
        self.check_collisions()?;
        if let Some(path) = &self.plot {
            check(PlotFormat::from_path(path).is_some(), "plot", crate::shown::path(path), PlotFormat::ACCEPTED)?;
        }
        let config = Config {
            source,
            count,
            noise,
            batch_size: self.batch_size,
            epochs,
            lr: self.lr,
            lr_gamma,
            hidden,
            depth,
            activation: self.activation,
            objective: self.objective,
            sigma,
            particles: self.particles,
            steps: self.steps,
            eta: self.eta,
            mode,
            levels: self.sigmas.clone().unwrap_or_default(),
            levels_from_data: false,
            level_steps: self.level_steps,
            step_scale: self.step_scale,
            sampler,
            nfe,
            snr: self.snr,
            likelihood: self.likelihood,
            sample_precision: self.sample_precision,
            seed: self.seed,
        };
        // Without --sigmas the levels follow the data's scale (`noise_levels`).
        Ok(if self.sigmas.is_some() { config } else { config.with_levels_from_data() })
    }
}

impl Cli {
    /// The training pace the dashboard starts at, in steps per frame (`None`: flat out): the
    /// one `--pace` names, else [`watchable_pace`] for `config`'s run.
    pub fn dashboard_pace(&self, config: &Config) -> Option<usize> {
        self.pace.map_or_else(|| Some(watchable_pace(config)), |Pace(pace)| pace)
    }
}

impl Cli {
    /// The data source with its point count and noise: a built-in set, or the points of
    /// `--data` read and checked now (a bad row is reported here, before any work).
    fn data_source(&self) -> Result<(Source, usize, f64), InputError> {
        let Some(path) = &self.data else {
            check(
                in_range(self.count, MIN_POINTS, MAX_POINTS),
                "count",
                self.count,
                format!("{MIN_POINTS}..={MAX_POINTS}"),
            )?;
            let noise = self.noise.unwrap_or(self.dataset.default_noise());
            check(noise.is_finite() && (0.0..=1.0).contains(&noise), "noise", number(noise), "0..=1")?;
            return Ok((Source::Builtin(self.dataset), self.count, noise));
        };
        let mut rng = stream_rng(self.seed, Stream::Data);
        let loaded = load_csv(path, MAX_POINTS, &mut rng).map_err(|e| InputError {
            flag: "--data".into(),
            value: format!("{} ({e})", crate::shown::path(path)),
            accepted: format!(
                "a CSV file of x,y rows, two finite numbers per row, header optional, at least {MIN_POINTS} points"
            ),
        })?;
        if loaded.rows_in_file > MAX_POINTS as u64 {
            crate::error_line!(
                "note: {} has {} rows; using a uniform random subset of {MAX_POINTS} (seed {})",
                crate::shown::path(path),
                loaded.rows_in_file,
                self.seed
            );
        }
        let count = loaded.points.nrows();
        Ok((Source::File { path: path.clone(), points: Arc::new(loaded.points) }, count, 0.0))
    }
}

impl Cli {
    /// Two outputs at the same file would keep only one; an output at `--data` would overwrite
    /// the user's input. Paths are compared canonically (`./x.csv` is `x.csv`, a symlink is
    /// the file it names); devices such as /dev/null may be shared.
    fn check_collisions(&self) -> Result<(), InputError> {
        let named: Vec<(&str, PathBuf)> = [
            ("data", &self.data),
            ("samples-out", &self.samples_out),
            ("data-out", &self.data_out),
            ("history-out", &self.history_out),
            ("save", &self.save),
            ("plot", &self.plot),
        ]
        .into_iter()
        .filter_map(|(flag, path)| {
            let path = path.as_deref()?;
            (!crate::fs::is_device(path)).then(|| (flag, canonical(path)))
        })
        .collect();
        for (i, (first, path)) in named.iter().enumerate() {
            if let Some((second, _)) = named[i + 1..].iter().find(|(_, other)| other == path) {
                return Err(InputError {
                    flag: format!("--{first} and --{second}"),
                    value: crate::shown::path(path),
                    accepted: "a different file for each (one would overwrite the other)".into(),
                });
            }
        }
        Ok(())
    }
}

/// `path` made absolute with symlinks resolved: the whole path when it exists, else its
/// directory's canonical path joined with its file name.
fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| {
        let dir = crate::fs::parent_dir(path);
        let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        match path.file_name() {
            Some(name) => dir.join(name),
            None => path.to_path_buf(),
        }
    })
}

fn in_range(v: usize, lo: usize, hi: usize) -> bool {
    (lo..=hi).contains(&v)
}

/// An output file must be writable: checked before training, so a typo costs nothing (see
/// [`crate::fs::check_output`]).
fn check_output_path(flag: &str, path: &Path) -> Result<(), InputError> {
    crate::fs::check_output(path).map_err(|why| InputError {
        flag: format!("--{flag}"),
        value: format!("{} ({why})", crate::shown::path(path)),
        accepted: "a file path in an existing, writable directory".into(),
    })
}

/// `--pace`: training steps per frame, or `None` for flat out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pace(pub Option<usize>);

/// `--pace` in steps per second, as the steps per frame of the `t` pace it names; `max` is
/// flat out.
fn parse_pace(text: &str) -> Result<Pace, String> {
    if text.trim() == "max" {
        return Ok(Pace(None));
    }
    let paces = || TRAINING_PACES.iter().flatten().copied();
    let pace = paces().find(|&steps| steps_per_second(steps).to_string() == text.trim());
    pace.map(|steps| Pace(Some(steps))).ok_or_else(|| {
        let accepted: Vec<String> = paces().map(|steps| steps_per_second(steps).to_string()).collect();
        format!("expected steps per second, one of {} or max (flat out)", accepted.join(", "))
    })
}

/// `--size`: "WxH" (or "W×H"), up to 1000 each way and no smaller than the dashboard's
/// layout needs (`ui::MIN_WIDTH` × `MIN_HEIGHT`), so that `--frame` never prints the
/// "terminal too small" screen into headless output.
fn parse_size(text: &str) -> Result<(u16, u16), String> {
    let side = |s: &str, min: u16| s.trim().parse::<u16>().ok().filter(|v| (min..=1000).contains(v));
    text.split_once(['x', 'X', '×'])
        .and_then(|(w, h)| Some((side(w, MIN_WIDTH)?, side(h, MIN_HEIGHT)?)))
        .ok_or_else(|| format!("expected columns x rows, {MIN_WIDTH}..=1000 x {MIN_HEIGHT}..=1000, like 100x30"))
}

/// The accepted range a flag's help gives in brackets after its description (" [(0, 10]]",
/// "[1..=2048] [default: …]"), so that a value clap cannot parse is answered with the same
/// range as one out of range, from the one place the range is written for users.
fn help_range(flag: &str) -> Option<String> {
    use clap::CommandFactory;
    let command = Cli::command();
    let arg = command.get_arguments().find(|a| a.get_long().is_some_and(|long| flag == format!("--{long}")))?;
    let help = arg.get_help()?.to_string();
    // A bracket after a space: "U[-1,1]²" in a description is not a range.
    let start = help.find(" [")? + 2;
    // The range ends at the first ']' followed by a space, a newline or the end: "(0, 10]"
    // has a ']' of its own.
    let bytes = help.as_bytes();
    let end =
        (start..bytes.len()).find(|&i| bytes[i] == b']' && bytes.get(i + 1).is_none_or(u8::is_ascii_whitespace))?;
    let range = &help[start..end];
    (!range.starts_with("default")).then(|| range.to_string())
}

/// clap's own errors (unknown flag, unparsable number, unknown activation) as one line.
pub fn one_line(err: &clap::Error) -> String {
    let context = |kind| match err.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => Some(v.join(", ")),
        _ => None,
    };
    match (err.kind(), context(ContextKind::InvalidArg), context(ContextKind::InvalidValue)) {
        (ErrorKind::InvalidValue | ErrorKind::ValueValidation, Some(arg), Some(value)) => {
            let flag = arg.split_whitespace().next().unwrap_or(&arg).to_string();
            let accepted = match (context(ContextKind::ValidValue), err.source().map(|e| e.to_string())) {
                // clap's path parser refuses "" with an empty list of valid values.
                (Some(values), _) if values.is_empty() && value.is_empty() => {
                    "a file path (the one given is empty)".to_string()
                }
                (Some(values), _) => format!("one of {values}"),
                // Our own parsers (--size, --pace) say what they expect.
                (None, Some(source)) if source.starts_with("expected ") => source["expected ".len()..].to_string(),
                (None, Some(source)) => match help_range(&flag) {
                    Some(range) if range.starts_with(['>', '<']) => format!("a number {range} ({source})"),
                    Some(range) => format!("a number in {range} ({source})"),
                    None => format!("a number ({source}; see --help)"),
                },
                (None, None) => "a valid value (see --help)".to_string(),
            };
            InputError { flag, value, accepted }.to_string()
        }
        _ => {
            // clap's first paragraph, on one line: "the following required arguments were
            // not provided: --once".
            let rendered = err.render().to_string();
            let first = rendered.split("\n\n").next().unwrap_or("invalid arguments");
            let words: Vec<&str> = first.split_whitespace().collect();
            format!("{} (see --help)", words.join(" ").trim_start_matches("error: "))
        }
    }
}
