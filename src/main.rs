//! Entry point: parse the command line, then run headless (`--once`) or the dashboard.

use std::process::ExitCode;

use clap::Parser;
use dsm_tui::bench;
use dsm_tui::checkpoint;
use dsm_tui::cli::{Cli, Command, one_line};
use dsm_tui::dashboard;
use dsm_tui::headless::progress::Progress;
use dsm_tui::headless::{self, Outputs, RunError};

/// Exit code for bad input (as clap uses).
const EXIT_BAD_INPUT: u8 = 2;
/// Exit code for training that diverged.
const EXIT_DIVERGED: u8 = 3;
/// Exit code after Ctrl-C (128 + SIGINT, as shells report it).
const EXIT_INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if !err.use_stderr() => {
            // --help and --version
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("error: {}", one_line(&err));
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    if let Some(Command::Bench(args)) = &cli.command {
        let result = color_eyre::install().and_then(|()| bench::run(args));
        return match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("error: {err:?}");
                ExitCode::FAILURE
            }
        };
    }
    let config = match cli.config() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    // A checkpoint is input like the flags: a bad one is bad input, found before any work.
    let start = match cli.load.as_deref().map(|path| checkpoint::load(path, &config)).transpose() {
        Ok(start) => start,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    if let Err(err) = color_eyre::install() {
        eprintln!("error: {err}");
        return ExitCode::FAILURE;
    }
    if cli.once {
        let outputs = Outputs {
            samples: cli.samples_out,
            data: cli.data_out,
            history: cli.history_out,
            save: cli.save,
            plot: cli.plot,
        };
        let progress = match Progress::for_command_line() {
            Ok(progress) => progress,
            Err(err) => {
                eprintln!("error: cannot catch Ctrl-C: {err}");
                return ExitCode::FAILURE;
            }
        };
        let mut frame = None;
        let result = if cli.compare_objectives {
            headless::compare_objectives(&config, &progress).map(|pair| {
                if cli.json { headless::comparison_json(&pair) } else { headless::render_comparison(&pair) }
            })
        } else if cli.compare {
            headless::compare_samplers(&config, &progress).map(|(summary, results)| {
                if cli.json {
                    headless::samplers_json(&summary, &results)
                } else {
                    headless::render_samplers(&summary, &results)
                }
            })
        } else {
            headless::finish(&config, start, &outputs, &progress).map(|finished| {
                if cli.frame {
                    let (width, height) = cli.size;
                    frame = Some(headless::frame(&finished, width, height));
                }
                let summary = &finished.summary;
                if cli.json { headless::to_json(summary) } else { headless::render(summary) }
            })
        };
        progress.finish();
        match result {
            Ok(text) => {
                println!("{}", text.trim_end());
                if let Some(frame) = frame {
                    print!("\n{frame}");
                }
            }
            Err(RunError::Diverged(d)) => {
                eprintln!("error: {d}");
                return ExitCode::from(EXIT_DIVERGED);
            }
            Err(RunError::Interrupted { phase, step }) => {
                eprintln!("interrupted during {phase} at step {step}; nothing written");
                return ExitCode::from(EXIT_INTERRUPTED);
            }
            Err(RunError::Other(report)) => {
                eprintln!("error: {report:?}");
                return ExitCode::FAILURE;
            }
        }
        return ExitCode::SUCCESS;
    }
    match dashboard::run(&config, start, cli.save, cli.pace) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}
