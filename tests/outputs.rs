//! Output files all or nothing: every path checked before training (exit 2, one line naming
//! the flag and path), every file written to a fresh temporary and renamed into place only
//! when all are written; symlinks followed, devices and FIFOs written directly. A terminating
//! signal during the run or while the files are written leaves no file and no temporary.

use std::fs;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, PermissionsExt, symlink};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_dsm-tui");
/// A small run (well under a second).
const SMALL: &[&str] = &["--once", "--count", "400", "--epochs", "3", "--particles", "300", "--steps", "30"];
/// A run of over ten minutes (6.3 million steps), so that an error found only after training
/// cannot come within the watchdog below: the bound is a watchdog, not a speed figure.
const LONG: &[&str] = &["--once", "--count", "4000", "--epochs", "100000"];
/// Far longer than checking the flags takes, even on a loaded machine; far shorter than LONG.
const BEFORE_TRAINING: Duration = Duration::from_secs(60);

fn run(args: &[&str], extra: &[&str]) -> Output {
    Command::new(BIN).args(args).args(extra).output().expect("run dsm-tui")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn assert_bad_input_fast(extra: &[&str], flag: &str, path: &str) {
    let started = Instant::now();
    let out = run(LONG, extra);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(started.elapsed() < BEFORE_TRAINING, "found only after training: {err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: ") && err.contains(flag) && err.contains(path), "{err}");
}

/// The temporaries are created 0600; the outputs must get the mode `File::create` gives.
#[test]
fn outputs_get_the_permissions_of_a_file_created_in_their_place() {
    let d = dir();
    let reference = d.path().join("reference");
    fs::File::create(&reference).unwrap();
    let samples = d.path().join("s.csv");
    let out = run(SMALL, &["--samples-out", s(&samples)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&samples), mode(&reference));
}

#[test]
fn a_failing_later_output_leaves_earlier_targets_untouched() {
    let d = dir();
    let (a, b) = (d.path().join("a.csv"), d.path().join("b.csv"));
    fs::write(&a, "old a").unwrap();
    fs::write(&b, "old b").unwrap();
    let out = run(SMALL, &["--samples-out", s(&a), "--data-out", s(&b), "--history-out", "/dev/full"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(fs::read_to_string(&a).unwrap(), "old a");
    assert_eq!(fs::read_to_string(&b).unwrap(), "old b");
    let left: Vec<_> = fs::read_dir(d.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left.len(), 2, "temporaries left behind: {left:?}");
}

#[test]
fn an_unwritable_directory_is_bad_input_before_training() {
    assert_bad_input_fast(&["--samples-out", "/proc/samples.csv"], "--samples-out", "/proc/samples.csv");
}

#[test]
fn a_directory_target_is_bad_input_before_training() {
    let d = dir();
    let target = d.path().join("sub");
    fs::create_dir(&target).unwrap();
    assert_bad_input_fast(&["--data-out", s(&target)], "--data-out", s(&target));
}

#[test]
fn a_name_too_long_for_the_temporary_is_bad_input_before_training() {
    let d = dir();
    let target = d.path().join(format!("{}.csv", "n".repeat(246)));
    assert_bad_input_fast(&["--history-out", s(&target)], "--history-out", s(&target));
}

#[test]
fn a_symlink_target_is_followed() {
    let d = dir();
    let (real, link) = (d.path().join("real.csv"), d.path().join("link.csv"));
    fs::write(&real, "old").unwrap();
    symlink("real.csv", &link).unwrap();
    let out = run(SMALL, &["--samples-out", s(&link)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link was replaced");
    assert!(fs::read_to_string(&real).unwrap().starts_with("x,y\n"));
}

#[test]
fn a_fifo_is_written_directly() {
    let d = dir();
    let fifo = d.path().join("pipe");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut text = String::new();
            fs::File::open(&fifo).unwrap().read_to_string(&mut text).unwrap();
            text
        })
    };
    let out = run(SMALL, &["--samples-out", s(&fifo)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(), "the FIFO was replaced by a file");
    let text = reader.join().unwrap();
    assert!(text.starts_with("x,y\n") && text.lines().count() == 301, "{text:.80}");
}

#[test]
fn a_file_planted_at_a_predictable_temporary_name_does_not_redirect_the_write() {
    let d = dir();
    let victim = d.path().join("victim");
    fs::write(&victim, "keep").unwrap();
    let target = d.path().join("s.csv");
    // The names a `.{name}.tmp-{pid}` scheme would use for the next few hundred processes.
    let last: u32 = fs::read_to_string("/proc/sys/kernel/ns_last_pid").map_or(0, |t| t.trim().parse().unwrap_or(0));
    for pid in last..last + 400 {
        let _ = symlink(&victim, d.path().join(format!(".s.csv.tmp-{pid}")));
    }
    let out = run(SMALL, &["--samples-out", s(&target)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(fs::read_to_string(&victim).unwrap(), "keep");
    let meta = fs::symlink_metadata(&target).unwrap();
    assert!(meta.file_type().is_file(), "the target is not a regular file");
    assert!(fs::read_to_string(&target).unwrap().starts_with("x,y\n"));
}

fn assert_collision(d: &Path, extra: &[&str], first: &str, second: &str) {
    let started = Instant::now();
    let out = Command::new(BIN).current_dir(d).args(LONG).args(extra).output().expect("run dsm-tui");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(started.elapsed() < BEFORE_TRAINING, "found only after training: {err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(first) && err.contains(second), "{err}");
}

#[test]
fn an_output_at_the_input_data_is_refused() {
    let d = dir();
    let rows: String = (0..200).map(|i| format!("{},{}\n", i as f64 / 200.0, (i % 7) as f64 / 7.0)).collect();
    fs::write(d.path().join("mine.csv"), &rows).unwrap();
    let long: Vec<&str> = LONG.iter().copied().filter(|a| *a != "--count" && *a != "4000").collect();
    let out = Command::new(BIN)
        .current_dir(d.path())
        .args(&long)
        .args(["--data", "mine.csv", "--samples-out", "./mine.csv"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--data") && err.contains("--samples-out"), "{err}");
    assert_eq!(fs::read_to_string(d.path().join("mine.csv")).unwrap(), rows);
}

#[test]
fn two_outputs_at_one_file_are_refused() {
    let d = dir();
    assert_collision(d.path(), &["--samples-out", "x.csv", "--data-out", "x.csv"], "--samples-out", "--data-out");
    assert_collision(
        d.path(),
        &["--samples-out", "x.csv", "--history-out", "./x.csv"],
        "--samples-out",
        "--history-out",
    );
    fs::write(d.path().join("real.csv"), "").unwrap();
    symlink("real.csv", d.path().join("link.csv")).unwrap();
    assert_collision(d.path(), &["--data-out", "link.csv", "--history-out", "real.csv"], "--data-out", "--history-out");
}

/// A device is written at the very end, after training: its failure (ENOSPC on /dev/full) is
/// reported as the input errors are, one line naming the file, no colour codes in a pipe.
#[test]
fn a_write_failure_after_training_is_one_plain_line_naming_the_file() {
    let out = run(SMALL, &["--samples-out", "/dev/full"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!err.contains('\x1b'), "escape codes on a stderr that is not a terminal: {err:?}");
    assert!(err.starts_with("error: ") && err.contains("/dev/full"), "{err}");
}

/// The summary ends by naming the files written, so `--plot` and `--save` are seen to have
/// happened; a run that writes nothing says nothing of files.
#[test]
fn the_summary_names_the_files_it_wrote() {
    let d = dir();
    let (samples, save, plot) = (d.path().join("s.csv"), d.path().join("m.safetensors"), d.path().join("run.svg"));
    let out = run(SMALL, &["--samples-out", s(&samples), "--save", s(&save), "--plot", s(&plot)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let last = stdout.lines().last().unwrap();
    let expected = format!("wrote     samples {}   checkpoint {}   figure {}", s(&samples), s(&save), s(&plot));
    assert_eq!(last, expected, "{stdout}");

    let out = run(SMALL, &[]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(!stdout.contains("wrote"), "{stdout}");
}

/// A bound against a run that ignores a signal: a watchdog, not a speed figure.
const SIGNAL_WATCHDOG: Duration = Duration::from_secs(60);

fn spawn(args: &[&str], extra: &[&str]) -> Child {
    Command::new(BIN).args(args).args(extra).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run dsm-tui")
}

/// Whether `child` has installed its handler for `signal` (its bit in the SigCgt mask).
fn catches(child: &Child, signal: i32) -> bool {
    let status = fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    let mask = status.lines().find_map(|l| l.strip_prefix("SigCgt:")).map(str::trim).unwrap_or("0");
    u64::from_str_radix(mask, 16).is_ok_and(|mask| mask & (1 << (signal - 1)) != 0)
}

fn send(child: &Child, signal: i32) {
    let sent = Command::new("kill").arg(format!("-{signal}")).arg(child.id().to_string()).status();
    assert!(sent.expect("run kill").success());
}

/// `child`'s output once it has ended, within [`SIGNAL_WATCHDOG`].
fn ended(mut child: Child, what: &str) -> Output {
    let watchdog = Instant::now() + SIGNAL_WATCHDOG;
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > watchdog {
            let _ = child.kill();
            let _ = child.wait();
            panic!("dsm-tui still runs {SIGNAL_WATCHDOG:?} after {what}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

fn entries(d: &Path) -> Vec<std::ffi::OsString> {
    fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name()).collect()
}

/// SIGTERM, SIGHUP and the other signals whose default ends the process stop a run at its
/// next step, as Ctrl-C does (`tmux.rs`): exit 128 + n, and nothing in the outputs' directory,
/// not even a temporary. A sample of the list, SIGTERM first.
#[test]
fn a_signal_during_training_exits_128_plus_n_and_leaves_no_file() {
    for signal in [libc::SIGTERM, libc::SIGHUP, libc::SIGUSR2, libc::SIGRTMIN() + 2] {
        let d = dir();
        let (samples, figure) = (d.path().join("s.csv"), d.path().join("f.png"));
        let child = spawn(LONG, &["--samples-out", s(&samples), "--plot", s(&figure)]);
        // Sent before the handlers are in, the signal would end the process by default.
        let watchdog = Instant::now() + SIGNAL_WATCHDOG;
        while !catches(&child, signal) {
            assert!(Instant::now() < watchdog, "signal {signal} still not caught after {SIGNAL_WATCHDOG:?}");
            std::thread::sleep(Duration::from_millis(10));
        }
        send(&child, signal);
        let out = ended(child, &format!("signal {signal}"));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(128 + signal), "{err}");
        assert!(err.contains("interrupted during training at step") && err.contains("nothing written"), "{err}");
        assert!(out.stdout.is_empty(), "results printed after a signal");
        assert!(entries(d.path()).is_empty(), "files left behind: {:?}", entries(d.path()));
    }
}

/// A signal while the files are written, before any is renamed into place, stops the run with
/// no target replaced and the temporaries removed; exit 128 + n.
///
/// The FIFO holds the run in its write phase without a hook in the program: a FIFO is written
/// at commit, before the regular files are renamed, and the run cannot get past a write of
/// more than a pipe's buffer (64 KiB) until this test reads. So once the FIFO opens here, the
/// run is writing it, the data set's temporary is staged beside its target, and the signal
/// comes before the renames are decided.
#[test]
fn a_signal_while_writing_replaces_no_file_and_removes_the_temporaries() {
    let d = dir();
    let (fifo, data) = (d.path().join("pipe"), d.path().join("d.csv"));
    assert!(Command::new("mkfifo").arg(&fifo).status().expect("mkfifo").success());
    fs::write(&data, "old").unwrap();
    // 100,000 samples, over 2 MB: more than a pipe holds even with 64 KiB pages (1 MiB).
    let small = ["--once", "--count", "400", "--epochs", "3", "--steps", "30", "--particles", "100000"];
    let child = spawn(&small, &["--samples-out", s(&fifo), "--data-out", s(&data)]);
    // Opened on another thread, so that a run that never gets to the FIFO fails the test
    // instead of hanging it.
    let (opened_tx, opened) = std::sync::mpsc::channel();
    let (go, go_rx) = std::sync::mpsc::channel::<()>();
    let reader = std::thread::spawn({
        let fifo = fifo.clone();
        move || {
            let mut file = fs::File::open(&fifo).expect("open the FIFO");
            opened_tx.send(()).unwrap();
            go_rx.recv().unwrap();
            let mut samples = Vec::new();
            file.read_to_end(&mut samples).unwrap();
            samples
        }
    });
    if opened.recv_timeout(SIGNAL_WATCHDOG).is_err() {
        let out = ended(child, "the FIFO was not opened");
        panic!("the run never wrote the FIFO: {}", stderr(&out));
    }
    send(&child, libc::SIGTERM);
    go.send(()).unwrap();
    let samples = reader.join().unwrap();
    assert!(samples.len() > 1 << 20, "{} bytes of samples could fit in a pipe", samples.len());
    let out = ended(child, "SIGTERM while writing");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(143), "{err}");
    assert!(err.contains("interrupted while writing the files (SIGTERM)"), "{err}");
    assert!(out.stdout.is_empty(), "results printed after a signal");
    assert_eq!(fs::read_to_string(&data).unwrap(), "old");
    let mut left = entries(d.path());
    left.sort();
    assert_eq!(left, ["d.csv", "pipe"], "temporaries left behind");
}

/// A character device as an output is written through, never renamed over (`--samples-out
/// /dev/stdout` as root used to replace it with a regular file). The device is made with
/// mknod in the test's own directory: major 1, minor 3 is Linux's null device. That needs
/// root (CI runs as root); as another user the test says so and checks nothing.
#[test]
fn a_device_node_as_output_stays_a_device() {
    let d = dir();
    let device = d.path().join("null-device");
    let path = std::ffi::CString::new(s(&device)).unwrap();
    // SAFETY: a NUL-terminated path inside the test's own directory.
    let made = unsafe { libc::mknod(path.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) };
    if made != 0 {
        eprintln!("skipped: mknod needs root ({})", std::io::Error::last_os_error());
        return;
    }
    let out = run(SMALL, &["--samples-out", s(&device)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(fs::symlink_metadata(&device).unwrap().file_type().is_char_device(), "replaced by a regular file");
    let mut left: Vec<String> =
        fs::read_dir(d.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    left.sort();
    assert_eq!(left, ["null-device"], "a temporary left beside the device");
}
