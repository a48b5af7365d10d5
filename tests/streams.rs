//! A closed or full stdout or stderr never panics: a reader that has gone (`| head`) ends the
//! run quietly, a full stdout is one line on stderr and exit 1, bad input with a full stderr
//! is still exit 2.

use std::fs::File;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_dsm-tui");
const SMALL: &[&str] = &["--once", "--count", "400", "--epochs", "3", "--particles", "300", "--steps", "30"];

#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    for extra in [&[][..], &["--frame"][..], &["--json"][..]] {
        let mut child = Command::new(BIN)
            .args(SMALL)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run dsm-tui");
        drop(child.stdout.take()); // the reader goes before the result is written
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(matches!(out.status.code(), Some(0) | Some(141)), "{extra:?}: {:?} {err}", out.status);
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn a_full_stdout_is_one_line_and_exit_1() {
    let out = Command::new(BIN).args(SMALL).stdout(File::create("/dev/full").unwrap()).output().expect("run dsm-tui");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: ") && err.contains("stdout"), "{err}");
}

#[test]
fn bad_input_with_a_full_stderr_is_still_exit_2() {
    for args in [&["--once", "--epochs", "-5"][..], &["--once", "--no-such-flag"][..]] {
        let status = Command::new(BIN)
            .args(args)
            .stdout(Stdio::null())
            .stderr(File::create("/dev/full").unwrap())
            .status()
            .expect("run dsm-tui");
        assert_eq!(status.code(), Some(2), "{args:?}");
    }
}
