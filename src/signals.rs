//! The signals both front ends catch: every one whose default action ends the process. The
//! dashboard catches them to restore the terminal first (`dashboard::signals`); `--once`
//! catches them to stop at a step boundary and leave no half-done outputs (`headless`). Either
//! way the exit code is then [`exit_code`], 128 + the signal's number, as a shell reports it.

use libc::c_int;
use signal_hook::consts::signal::*;

/// The signals whose default action ends the process and that signal-hook may catch.
///
/// Left out, and why:
/// - SIGKILL and SIGSTOP cannot be caught.
/// - SIGSEGV, SIGILL and SIGFPE: signal-hook refuses them. SIGBUS and SIGTRAP are faults
///   alike: a handler that returns re-runs the faulting instruction. A fault is a bug, and
///   the kernel's report of it (and its core) matters more than the terminal or the outputs.
/// - SIGABRT comes from `abort()` inside the process, which dies on it whatever a handler
///   does (a panic restores the terminal through the panic hook before that).
/// - SIGPIPE: Rust's runtime ignores it, so a closed pipe is an error at the write that hit
///   it (see `console`), and `kill -PIPE` does nothing. Catching it would make a signal the
///   program ignores end it.
const TERMINATING: &[c_int] = &[
    SIGHUP,  // the terminal hung up (or `kill -HUP`)
    SIGINT,  // Ctrl-C (outside the dashboard's raw mode), `kill -INT`
    SIGQUIT, // Ctrl-\ (outside raw mode), `kill -QUIT` (its default also dumps core)
    SIGTERM, // `kill`'s default
    SIGUSR1, // the user signals: no meaning here, so they end the process as by default
    SIGUSR2,
    SIGALRM, // the timers: the program sets none, so these come from outside
    SIGVTALRM,
    SIGPROF,
    SIGXCPU, // over the CPU time limit (ulimit -t)
    SIGXFSZ, // over the file size limit (ulimit -f), writing an output or a checkpoint
    SIGIO,   // asynchronous I/O, which the program does not use (SIGPOLL is the same number)
    SIGSYS,  // a bad system call, as a seccomp filter reports one
    #[cfg(any(target_os = "linux", target_os = "android"))]
    libc::SIGPWR, // power failure
    #[cfg(any(target_os = "linux", target_os = "android"))]
    libc::SIGSTKFLT, // coprocessor stack fault: unused on Linux, ends the process by default
];

/// Every signal that ends the process by default: [`TERMINATING`] and, on Linux, the
/// real-time signals the C library leaves to programs (none of which this one uses).
pub fn terminating() -> Vec<c_int> {
    let mut signals = TERMINATING.to_vec();
    #[cfg(target_os = "linux")]
    signals.extend(libc::SIGRTMIN()..=libc::SIGRTMAX());
    signals
}

/// The exit code after `signal` ended the run: 128 + its number, as shells report it.
pub fn exit_code(signal: c_int) -> u8 {
    128u8.saturating_add(signal as u8)
}

/// How messages name `signal`: "SIGTERM", or "signal 40" for one without a name (the
/// real-time signals).
pub fn name(signal: c_int) -> String {
    signal_hook::low_level::signal_name(signal).map_or_else(|| format!("signal {signal}"), str::to_string)
}
