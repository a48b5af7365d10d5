//! What a headless run shows while it works, and how it stops early.
//!
//! A progress bar (epoch, loss, ETA) goes to stderr only when stderr is a terminal, so logs
//! and `--json` stay clean. Ctrl-C sets a flag the run checks between steps: it stops at the
//! next step boundary and writes nothing; a second Ctrl-C ends the process at once.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use signal_hook::consts::SIGINT;

pub struct Progress {
    bar: Option<ProgressBar>,
    interrupted: Arc<AtomicBool>,
}

impl Progress {
    /// For the command line: a bar if stderr is a terminal, and Ctrl-C caught.
    pub fn for_command_line() -> std::io::Result<Self> {
        let interrupted = Arc::new(AtomicBool::new(false));
        // Order matters: the conditional shutdown sees the flag as it was before this signal.
        signal_hook::flag::register_conditional_shutdown(SIGINT, 130, Arc::clone(&interrupted))?;
        signal_hook::flag::register(SIGINT, Arc::clone(&interrupted))?;
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(10));
            bar.set_style(
                ProgressStyle::with_template("{prefix:>9} [{bar:30}] {pos}/{len} {msg} (ETA {eta})")
                    .expect("the template is valid")
                    .progress_chars("=> "),
            );
            bar
        });
        Ok(Self { bar, interrupted })
    }

    /// No bar, never interrupted (tests, library use).
    pub fn hidden() -> Self {
        Self { bar: None, interrupted: Arc::new(AtomicBool::new(false)) }
    }

    pub fn interrupted(&self) -> bool {
        self.interrupted.load(Ordering::Relaxed)
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
