//! Writing to stdout and stderr without panicking: `println!` and `eprintln!` panic when the
//! stream is closed (`| head`) or full (`> /dev/full`). Results go through [`out`], which
//! returns the error; messages on stderr through [`error_line!`](crate::error_line), which
//! drops it (there is nowhere left to say it).

use std::fmt;
use std::io::{self, Write};

/// Writes `text` to stdout and flushes it.
pub fn out(text: &str) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}

/// Writes one line to stderr, ignoring a failure to write it.
pub fn error_line(args: fmt::Arguments) {
    let mut stderr = io::stderr().lock();
    let _ = stderr.write_fmt(args).and_then(|()| stderr.write_all(b"\n"));
}

/// Whether `err` is a closed pipe: the reader has gone (`| head`), which is no failure.
pub fn is_broken_pipe(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::BrokenPipe
}

/// `eprintln!` that never panics (see [`error_line`]).
#[macro_export]
macro_rules! error_line {
    ($($arg:tt)*) => { $crate::console::error_line(format_args!($($arg)*)) };
}
