//! What a headless run shows while it works, and how it stops early.
//!
//! A progress bar (epoch, loss, ETA) goes to stderr only when stderr is a terminal, so logs
//! and `--json` stay clean. Ctrl-C, SIGTERM, SIGHUP and every other signal whose default
//! ends the process ([`crate::signals::terminating`]) only record which signal came; the run
//! checks between steps and while writing its files, and stops with nothing half done (see
//! `pipeline::finish`). A second such signal ends the process at once, for a run that does
//! not get to its next check (stuck opening a FIFO nobody reads, say).

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use libc::c_int;

use crate::signals::{exit_code, terminating};

pub struct Progress {
    bar: Option<ProgressBar>,
    /// The first terminating signal's number, 0 until one arrives.
    signal: Arc<AtomicUsize>,
}

impl Progress {
    /// For the command line: a bar if stderr is a terminal, and the terminating signals caught.
    pub fn for_command_line() -> std::io::Result<Self> {
        let signal = Arc::new(AtomicUsize::new(0));
        // Whether any of them has come: the conditional shutdown's flag, shared by all, so
        // that a second signal of any kind ends the process.
        let caught = Arc::new(AtomicBool::new(false));
        for number in terminating() {
            // Order matters: the conditional shutdown sees the flag as it was before this
            // signal, and exits before a second signal could overwrite the first's number.
            signal_hook::flag::register_conditional_shutdown(
                number,
                c_int::from(exit_code(number)),
                Arc::clone(&caught),
            )?;
            signal_hook::flag::register(number, Arc::clone(&caught))?;
            signal_hook::flag::register_usize(number, Arc::clone(&signal), number as usize)?;
        }
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(10));
            bar.set_style(
                ProgressStyle::with_template("{prefix:>9} [{bar:30}] {pos}/{len} {msg} (ETA {eta})")
                    .expect("the template is valid")
                    .progress_chars("=> "),
            );
            bar
        });
        Ok(Self { bar, signal })
    }

    /// No bar, never interrupted (tests, library use).
    pub fn hidden() -> Self {
        Self { bar: None, signal: Arc::new(AtomicUsize::new(0)) }
    }

    /// The terminating signal that came, if one did: the run should stop.
    pub fn signal(&self) -> Option<c_int> {
        match self.signal.load(Ordering::SeqCst) {
            0 => None,
            number => Some(number as c_int),
        }
    }

    /// Starts a phase of `total` units.
    pub fn start(&self, phase: &str, total: u64) {
        if let Some(bar) = &self.bar {
            bar.reset();
            bar.set_prefix(phase.to_string());
            bar.set_length(total);
            bar.set_position(0);
            bar.set_message("");
        }
    }

    pub fn update(&self, position: u64, message: impl FnOnce() -> String) {
        if let Some(bar) = &self.bar {
            bar.set_position(position);
            if !bar.is_hidden() {
                bar.set_message(message());
            }
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
