//! Entry point: parse the command line, then run headless (`--once`), the dashboard or `bench`.

use std::process::ExitCode;

use clap::Parser;
use dsm_tui::bench;
use dsm_tui::checkpoint::{self, Problem};
use dsm_tui::cli::{Cli, Command, one_line};
use dsm_tui::config::Config;
use dsm_tui::dashboard;
use dsm_tui::headless::pipeline::Outputs;
use dsm_tui::headless::{self, Format, Job, Task};
use dsm_tui::memory;
use dsm_tui::nn::Mlp;
use dsm_tui::objective::Objective;
use dsm_tui::trainer::losses;

/// Exit code for bad input (as clap uses).
const EXIT_BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if !err.use_stderr() => {
            // --help and --version
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            dsm_tui::error_line!("error: {}", one_line(&err));
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    // Before any work: a bad override of the kernel path is bad input, not a silent default.
    if let Err(err) = dsm_tui::nn::cpu::path::from_env() {
        dsm_tui::error_line!("error: {err}");
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    if let Some(Command::Bench(args)) = &cli.command {
        if cli.once {
            dsm_tui::error_line!("error: --once cannot be used with bench (run one or the other; see --help)");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
        if let Err(err) = args.check() {
            dsm_tui::error_line!("error: {err}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
        // As a run's, before any buffer: the bench keeps no loss history.
        if let Err(err) = memory::check(&args.peak_config(), 0) {
            let err = memory::TooBig { flags: "--batches or --widths", ..err };
            dsm_tui::error_line!("error: {err}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
        let result = color_eyre::install().and_then(|()| bench::run(args));
        return match result {
            Ok(()) => ExitCode::SUCCESS,
            // The reader has gone (`| head`): no failure.
            Err(err) if err.downcast_ref::<std::io::Error>().is_some_and(dsm_tui::console::is_broken_pipe) => {
                ExitCode::SUCCESS
            }
            // The error chain on one line, as every other error (`{:?}` is color-eyre's
            // many-line report).
            Err(err) => {
                dsm_tui::error_line!("error: {err:#}");
                ExitCode::FAILURE
            }
        };
    }
    let config = match cli.config() {
        Ok(config) => config,
        Err(err) => {
            dsm_tui::error_line!("error: {err}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    // Refused before any buffer is allocated or the terminal changes: a failed allocation
    // aborts with no message.
    let trained =
        if cli.compare_objectives { Config { objective: Objective::Ism, ..config.clone() } } else { config.clone() };
    // Both front ends bound the train losses they hold: a headless run merges its history, the
    // dashboard's trainer holds only those the UI has not been sent.
    let steps = trained.total_steps();
    let losses_kept = if cli.once { losses::headless_kept(steps) } else { losses::dashboard_kept(steps) };
    if let Err(err) = memory::check(&trained, losses_kept) {
        dsm_tui::error_line!("error: {err}");
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    // A checkpoint is input like the flags: a bad one is bad input, found before any work.
    let start = match cli.load.as_deref().map(|path| checkpoint::load(path, &config)).transpose() {
        Ok(start) => start,
        // --sampler-sweep sets the mode itself: "pass --mode single" would not help.
        Err(err) if cli.sampler_sweep && matches!(err.problem, Problem::Mismatch { field: "mode", .. }) => {
            dsm_tui::error_line!(
                "error: cannot load checkpoint {}: it holds a single-σ model, and --sampler-sweep samples the noise-conditional one (save one with --mode annealed)",
                dsm_tui::shown::path(&err.path)
            );
            return ExitCode::from(EXIT_BAD_INPUT);
        }
        Err(err) => {
            dsm_tui::error_line!("error: {err}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    if let Err(err) = color_eyre::install() {
        dsm_tui::error_line!("error: {err}");
        return ExitCode::FAILURE;
    }
    if cli.once {
        return ExitCode::from(headless::run(job(cli, config, start)).exit_code());
    }
    let pace = cli.dashboard_pace(&config);
    match dashboard::run(&config, start, cli.load, cli.save, pace, !cli.no_mouse) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(failure) => {
            dsm_tui::error_line!("error: {failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}

/// The headless job `cli` asks for, on `config` from `start`'s weights if loaded.
fn job(cli: Cli, config: Config, start: Option<Mlp<f32>>) -> Job {
    let task = if cli.compare_objectives {
        Task::Objectives
    } else if cli.compare {
        Task::Compare
    } else if cli.sampler_sweep {
        Task::Sweep { start, plot: cli.plot }
    } else {
        let outputs = Outputs {
            samples: cli.samples_out,
            data: cli.data_out,
            history: cli.history_out,
            save: cli.save,
            plot: cli.plot,
        };
        Task::Run { start, outputs, frame: cli.frame.then_some(cli.size) }
    };
    Job { config, task, format: if cli.json { Format::Json } else { Format::Text } }
}
