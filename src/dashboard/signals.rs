//! The `signals` thread: which signals the dashboard catches, and what it asks of the event
//! loop when one arrives.
//!
//! A signal whose default action ends the process would leave the terminal raw, in the
//! alternate screen, the cursor hidden; SIGTSTP would stop it that way. So the dashboard
//! catches them all (the list is [`crate::signals::terminating`]), and the thread passes them
//! on as [`Requests`] the loop checks every turn: the loop owns the terminal, so it is the
//! loop that restores it (and, for SIGTSTP, stops the process and takes the terminal back on
//! `fg`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread;
use std::time::Duration;

use color_eyre::Report;
use color_eyre::eyre::WrapErr;
use signal_hook::consts::signal::SIGTSTP;
use signal_hook::iterator::Signals;
use signal_hook::iterator::backend::Handle;

use super::{Outcome, restore};
use crate::signals::terminating;

/// How long after a terminating signal the event loop has to restore the terminal before the
/// `signals` thread does it and exits: several of the loop's slowest turns.
pub const SIGNAL_GRACE: Duration = Duration::from_secs(1);

/// What the `signals` thread asks of the event loop.
#[derive(Debug, Default)]
pub struct Requests {
    /// The first terminating signal's number, 0 until one arrives. It stays set.
    terminate: AtomicUsize,
    /// SIGTSTP arrived and the loop has not suspended since.
    suspend: AtomicBool,
}

impl Requests {
    /// The terminating signal that arrived, if one did.
    pub fn termination(&self) -> Option<i32> {
        match self.terminate.load(Ordering::SeqCst) {
            0 => None,
            number => Some(number as i32),
        }
    }

    /// Whether SIGTSTP arrived since the last call.
    pub fn take_suspend(&self) -> bool {
        self.suspend.swap(false, Ordering::SeqCst)
    }
}

/// The `signals` thread: passes SIGTSTP on to the event loop, and records the first
/// terminating signal for it, making sure the process ends within [`SIGNAL_GRACE`] of it.
pub struct SignalWatch {
    pub requests: Arc<Requests>,
    /// Told (or dropped) once the terminal is restored: from then on the process may take its
    /// time to end.
    restored: Sender<()>,
    handle: Handle,
}

impl SignalWatch {
    /// Starts the thread. Should the loop not restore the terminal within [`SIGNAL_GRACE`]
    /// of a terminating signal, the thread restores what it can and exits the process with
    /// 128 + the signal's number: once the terminal has hung up, crossterm's input reader
    /// spins forever on end-of-file and the loop never gets another turn.
    pub fn start() -> Result<Self, Report> {
        let mut signals =
            Signals::new(terminating().into_iter().chain([SIGTSTP])).wrap_err("installing the signal handlers")?;
        let handle = signals.handle();
        let requests = Arc::new(Requests::default());
        let (restored, restored_rx) = mpsc::channel();
        let seen = Arc::clone(&requests);
        thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                for number in signals.forever() {
                    if number == SIGTSTP {
                        seen.suspend.store(true, Ordering::SeqCst);
                        continue;
                    }
                    seen.terminate.store(number as usize, Ordering::SeqCst);
                    if let Err(RecvTimeoutError::Timeout) = restored_rx.recv_timeout(SIGNAL_GRACE) {
                        restore();
                        std::process::exit(i32::from(Outcome::Signal(number).exit_code()));
                    }
                    return;
                }
            })
            .wrap_err("starting the signal thread")?;
        Ok(Self { requests, restored, handle })
    }

    /// The terminal is back for good: the thread must not exit the process any more, and can
    /// end.
    pub fn restored(&self) {
        let _ = self.restored.send(());
        self.handle.close();
    }
}

/// Whether a stopped dashboard would be continued: its parent is a shell with job control
/// (in the same session, in another process group), which `fg` continues it from. Without
/// one (run straight from tmux, from a script, or left behind by its shell) nobody would,
/// and the pane would hang: the kernel then discards SIGTSTP (POSIX's orphaned process
/// groups), and the dashboard does the same.
pub fn can_be_continued() -> bool {
    use rustix::process::{getpgid, getpgrp, getppid, getsid};
    let Some(parent) = getppid() else {
        return false;
    };
    let same_session = matches!((getsid(Some(parent)), getsid(None)), (Ok(theirs), Ok(ours)) if theirs == ours);
    same_session && getpgid(Some(parent)).is_ok_and(|group| group != getpgrp())
}
