//! `dsm-tui --once`: the whole pipeline without a terminal. A [`Job`] names one of three
//! tasks and how to print it; [`run`] does it with a progress bar on stderr (when stderr is a
//! terminal) and the terminating signals caught (Ctrl-C, SIGTERM, SIGHUP …), prints the
//! result (text or one JSON object) on stdout or why there is none on stderr, and says how it
//! went as an [`Outcome`].
//!
//! - [`pipeline`]: train a session to its end, run a Langevin chain, measure the samples,
//!   write the requested files; what every task is made of.
//! - [`report`]: a plain run's summary, as text or JSON.
//! - [`objectives`]: `--compare-objectives`, DSM beside ISM.
//! - [`compare`]: `--compare`, the single-σ sampler beside the annealed one.
//! - [`sweep`]: `--sampler-sweep`, every sampler at every budget ([`sweep_plot`]: its figure).
//! - [`frame`]: `--frame`, the dashboard's final screen as text.
//! - [`output`], [`plot`]: the files (CSV, figure); [`progress`]: the bar and the signals.

pub mod compare;
pub mod frame;
pub mod objectives;
pub mod output;
pub mod pipeline;
pub mod plot;
pub mod progress;
pub mod report;
pub mod sweep;
pub mod sweep_plot;

use std::path::PathBuf;

use libc::c_int;

use crate::config::Config;
use crate::nn::Mlp;
use crate::signals;
use pipeline::{Outputs, RunError, Stop};
use progress::Progress;

/// One headless invocation, as the command line asked for it.
pub struct Job {
    pub config: Config,
    pub task: Task,
    pub format: Format,
}

/// What a [`Job`] does.
pub enum Task {
    /// Plain `--once`: train, sample, summarize, write `outputs`; start from `start`'s
    /// weights when given; with `frame`, also print the dashboard's final screen at that
    /// size (columns, rows).
    Run { start: Option<Mlp<f32>>, outputs: Outputs, frame: Option<(u16, u16)> },
    /// `--compare-objectives` ([`objectives`]).
    Objectives,
    /// `--compare` ([`compare`]).
    Compare,
    /// `--sampler-sweep` ([`sweep`]), from `start`'s weights when given, with its figure
    /// written to `plot` when given.
    Sweep { start: Option<Mlp<f32>>, plot: Option<PathBuf> },
}

/// How the result is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    /// One JSON object (`--json`).
    Json,
}

/// How a headless run ended; what it printed on stderr says why, when it failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Training diverged.
    Diverged,
    /// A terminating signal (its number) stopped the run, or came once the files were being
    /// renamed into place.
    Signal(c_int),
    /// Any other failure (writing a file, catching the signals).
    Failed,
}

impl Outcome {
    /// The process's exit code: 0 ok, 3 training diverged, 128 + n after signal n (130 after
    /// Ctrl-C, as shells report it), 1 for other errors.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Done => 0,
            Outcome::Diverged => 3,
            Outcome::Signal(signal) => signals::exit_code(signal),
            Outcome::Failed => 1,
        }
    }
}

/// Does `job`, printing its result on stdout, or why there is none on stderr.
pub fn run(job: Job) -> Outcome {
    let progress = match Progress::for_command_line() {
        Ok(progress) => progress,
        Err(err) => {
            crate::error_line!("error: cannot catch the signals: {err}");
            return Outcome::Failed;
        }
    };
    let Job { config, task, format } = job;
    let json = format == Format::Json;
    let mut screen = None;
    let result = match task {
        Task::Objectives => objectives::run(&config, &progress)
            .map(|pair| if json { objectives::json(&pair) } else { objectives::text(&pair) }),
        Task::Compare => compare::run(&config, &progress).map(|(summary, results)| {
            if json { compare::json(&summary, &results) } else { compare::text(&summary, &results) }
        }),
        Task::Sweep { start, plot } => sweep::run(&config, start, plot.as_deref(), &progress).map(|sweep| {
            let written = plot.map_or(String::new(), |p| format!("wrote     figure {}\n", crate::shown::path(&p)));
            if json { sweep::json(&sweep) } else { sweep::text(&sweep) + &written }
        }),
        Task::Run { start, outputs, frame } => pipeline::finish(&config, start, &outputs, &progress).map(|finished| {
            if let Some((width, height)) = frame {
                screen = Some(frame::render(&finished, width, height));
            }
            let summary = &finished.summary;
            if json { report::json(summary) } else { report::text(summary) + &report::written(&outputs) }
        }),
    };
    progress.finish();
    let outcome = match result {
        Ok(text) => {
            let mut text = format!("{}\n", text.trim_end());
            if let Some(screen) = screen {
                text.push('\n');
                text.push_str(&screen);
            }
            match crate::console::out(&text) {
                Ok(()) => Outcome::Done,
                // The reader has gone (`| head`): nothing more to do, and no failure.
                Err(err) if crate::console::is_broken_pipe(&err) => Outcome::Done,
                Err(err) => {
                    crate::error_line!("error: writing the result to stdout: {err}");
                    Outcome::Failed
                }
            }
        }
        Err(RunError::Diverged(d)) => {
            crate::error_line!("error: {d}");
            Outcome::Diverged
        }
        Err(RunError::Interrupted { signal, stop }) => {
            let left = match stop {
                Stop::Training { .. } | Stop::Sampling { .. } | Stop::Likelihood => "nothing written",
                Stop::Writing => "no file replaced, the temporaries removed",
            };
            crate::error_line!("interrupted {stop} ({}); {left}", signals::name(signal));
            Outcome::Signal(signal)
        }
        // `{:#}`: the error chain on one line, "context: cause" (`{:?}` is color-eyre's
        // many-line report, with colour codes even in a file).
        Err(RunError::Other(report)) => {
            crate::error_line!("error: {report:#}");
            Outcome::Failed
        }
    };
    // A signal that came after the last check: once the files were being renamed into place
    // (which is never stopped halfway), or while the figures were measured or printed. The run
    // is over and every file written in full; the exit code still says a signal came, as it
    // would had it stopped the run.
    match (outcome, progress.signal()) {
        (Outcome::Done, Some(signal)) => {
            crate::error_line!(
                "interrupted ({}) after the run's end; every output written in full",
                signals::name(signal)
            );
            Outcome::Signal(signal)
        }
        _ => outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headless_exit_codes_follow_the_help() {
        assert_eq!(Outcome::Done.exit_code(), 0);
        assert_eq!(Outcome::Failed.exit_code(), 1);
        assert_eq!(Outcome::Diverged.exit_code(), 3);
        assert_eq!(Outcome::Signal(libc::SIGINT).exit_code(), 130);
        assert_eq!(Outcome::Signal(libc::SIGTERM).exit_code(), 143);
    }
}
