//! The dashboard without a terminal: `--once --frame` prints its final screen as text, and
//! the dashboard itself refuses a pipe with one line pointing at `--once` (exit 2).

use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_dsm-tui");
/// A small run: 400 points, 3 epochs, 300 particles × 30 steps (well under a second).
const SMALL: &[&str] = &["--once", "--count", "400", "--epochs", "3", "--particles", "300", "--steps", "30"];

fn run(extra: &[&str]) -> Output {
    Command::new(BIN).args(SMALL).args(extra).output().expect("run dsm-tui")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The last `rows` lines of the output: the frame, after the summary.
fn frame(out: &Output, rows: usize) -> Vec<String> {
    let text = stdout(out);
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    assert!(lines.len() > rows, "no summary before the frame:\n{text}");
    lines[lines.len() - rows..].to_vec()
}

#[test]
fn frame_prints_the_final_dashboard_after_the_summary() {
    let out = run(&["--frame"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("dsm-tui --once"), "the summary comes first");
    let screen = frame(&out, 30);
    assert!(screen.iter().all(|l| l.chars().count() <= 100), "wider than 100:\n{}", screen.join("\n"));
    assert!(screen[0].starts_with("┌ Loss"), "{}", screen[0]);
    assert!(screen[29].trim_start().starts_with("? help"), "{}", screen[29]);
    let text = screen.join("\n");
    for expected in ["Samples", "FINISHED", "epoch 3/3", "total 30 steps", "particles 300", "seed 0"] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
}

#[test]
fn frame_takes_a_size_down_to_the_dashboards_smallest() {
    let out = run(&["--frame", "--size", "80x24"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let screen = frame(&out, 24);
    assert!(screen[0].starts_with("┌ Loss") && screen.iter().all(|l| l.chars().count() <= 80));

    // Smaller would print the "terminal too small" screen into headless output.
    for size in ["60x20", "79x24", "80x23"] {
        let out = run(&["--frame", "--size", size]);
        assert_eq!(out.status.code(), Some(2), "{size}: {}", stderr(&out));
        assert!(stderr(&out).contains("80..=1000 x 24..=1000"), "{size}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{size}");
    }
}

#[test]
fn frame_rejects_a_bad_size_and_json() {
    for args in [
        &["--frame", "--size", "100"][..],
        &["--frame", "--size", "0x30"],
        &["--frame", "--json"],
        &["--size", "90x30"],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out).lines().count(), 1, "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn the_dashboard_in_a_pipe_says_to_use_once_and_exits_2() {
    let out = Command::new(BIN).stdin(Stdio::piped()).output().expect("run dsm-tui");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "no escape codes on a pipe: {:?}", stdout(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--once") && err.contains("terminal"), "{err}");
}
