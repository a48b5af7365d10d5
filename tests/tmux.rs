//! The real binary in a real (headless) terminal, driven as a person drives it: tmux runs
//! `dsm-tui` in a pane of a fixed size, keys go in with `send-keys`, and the screen comes back
//! with `capture-pane`, polled until the expected text appears (with a watchdog).
//!
//! The pane runs the dashboard from a shell that, once it exits, prints its exit code and
//! whether the terminal is back in cooked mode (`icanon echo`, not `-icanon -echo`), then
//! waits, so the test can read them. Each test has its own tmux server (`-L`), killed on drop.
//! That shell has no job control; the tests of Ctrl-Z run an interactive one and type into it
//! ([`Pane::shell`]).
//!
//! tmux must be installed (CI installs it: `apt-get install -y tmux`); without it these
//! tests fail rather than pass silently.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use common::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_dsm-tui");
/// Long enough for a debug build on a loaded two-core machine.
const WATCHDOG: Duration = Duration::from_secs(60);
/// Training that outlasts any test, so pausing it is always possible.
const LONG: &[&str] = &["--epochs", "1000"];

/// Shell: the terminal's modes, `icanon echo` when cooked, `-icanon -echo` when raw.
const TTY_MODES: &str = r"$(stty -a | tr ' ;' '\n\n' | grep -xE -- '-?(icanon|echo)' | tr '\n' ' ')";

struct Pane {
    socket: String,
}

impl Pane {
    fn start(test: &str, width: u16, height: u16, args: &[&str]) -> Self {
        Self::start_in(test, width, height, args, &std::env::current_dir().expect("a working directory"), &[])
    }

    /// As [`Pane::start`], with `dir` as the dashboard's working directory and `env`
    /// (`NAME=value`) added to its environment.
    fn start_in(test: &str, width: u16, height: u16, args: &[&str], dir: &Path, env: &[&str]) -> Self {
        let version = Command::new("tmux").arg("-V").output();
        assert!(
            version.is_ok_and(|v| v.status.success()),
            "tmux is needed to test the dashboard as a person uses it: apt-get install -y tmux"
        );
        let pane = Self { socket: format!("dsm-tui-{test}-{}", std::process::id()) };
        let script = format!(
            "env TERM=xterm-256color {} '{BIN}' {}; echo \"exit=$?\"; echo \"modes: {TTY_MODES}\"; sleep 600",
            env.join(" "),
            args.join(" ")
        );
        let (w, h) = (width.to_string(), height.to_string());
        let dir = dir.to_str().expect("a UTF-8 path");
        pane.tmux(&["-f", "/dev/null", "new-session", "-d", "-s", "app", "-x", &w, "-y", &h, "-c", dir, &script]);
        pane
    }

    /// An interactive bash (with job control, so Ctrl-Z and `fg` work) at a `$ ` prompt,
    /// running the dashboard on `args`. [`Pane::exit_report`] then has it print what
    /// [`Pane::start`]'s shell prints.
    fn shell(test: &str, width: u16, height: u16, args: &[&str]) -> Self {
        let pane = Self { socket: format!("dsm-tui-{test}-{}", std::process::id()) };
        let (w, h) = (width.to_string(), height.to_string());
        let shell = "env PS1='$ ' bash --norc --noprofile -i";
        pane.tmux(&["-f", "/dev/null", "new-session", "-d", "-s", "app", "-x", &w, "-y", &h, shell]);
        pane.wait_until("the prompt", |s| s.lines().any(|line| line == "$"));
        pane.type_line(&format!("TERM=xterm-256color '{BIN}' {}", args.join(" ")));
        pane
    }

    /// Types `line` and Enter into the pane.
    fn type_line(&self, line: &str) {
        self.tmux(&["send-keys", "-t", "app", "-l", line]);
        self.tmux(&["send-keys", "-t", "app", "Enter"]);
    }

    /// In a [`Pane::shell`]: waits for the dashboard to end, then prints its exit code and the
    /// terminal's modes, for [`Pane::assert_exited_restored`].
    fn exit_report(&self) {
        let start = Instant::now();
        while self.format("#{pane_current_command}") != "bash" {
            assert!(start.elapsed() < WATCHDOG, "the dashboard still runs after {WATCHDOG:?}:\n{}", self.screen());
            thread::sleep(Duration::from_millis(50));
        }
        self.type_line(&format!("echo \"exit=$?\"; echo \"modes: {TTY_MODES}\""));
    }

    /// The terminal's modes as the dashboard left them, read from outside.
    fn tty_modes(&self) -> String {
        let tty = self.format("#{pane_tty}");
        let out = Command::new("stty").args(["-a", "-F", &tty]).output().expect("run stty");
        let all = String::from_utf8_lossy(&out.stdout).replace(';', " ");
        let modes: Vec<&str> =
            all.split_whitespace().filter(|m| ["icanon", "-icanon", "echo", "-echo"].contains(m)).collect();
        modes.join(" ")
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux").args(["-L", &self.socket]).args(args).output().expect("run tmux");
        assert!(out.status.success(), "tmux {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A whole frame: the dashboard writes a frame in several pieces, and a capture that falls
    /// between them shows part of the old frame under part of the new one (seen in CI: the
    /// title back to "Samples" above rows still full of arrows). Two captures 10 ms apart
    /// that agree are taken to be whole; frames come at most every 50 ms.
    fn screen(&self) -> String {
        let mut screen = self.tmux(&["capture-pane", "-p", "-t", "app"]);
        for _ in 0..50 {
            thread::sleep(Duration::from_millis(10));
            let again = self.tmux(&["capture-pane", "-p", "-t", "app"]);
            if again == screen {
                break;
            }
            screen = again;
        }
        screen
    }

    fn keys(&self, keys: &[&str]) {
        for key in keys {
            self.tmux(&["send-keys", "-t", "app", key]);
        }
    }

    /// Polls the screen until `done` holds; fails with the last screen after the watchdog.
    fn wait_until(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            assert!(start.elapsed() < WATCHDOG, "waited {WATCHDOG:?} for {what}; the screen:\n{screen}");
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_for(&self, text: &str) -> String {
        self.wait_until(text, |screen| screen.contains(text))
    }

    /// tmux's view of the pane: `#{alternate_on}`, `#{cursor_flag}` …
    fn format(&self, format: &str) -> String {
        self.tmux(&["display-message", "-p", "-t", "app", format]).trim().to_string()
    }

    /// The dashboard's process id: the child of the pane's shell.
    fn dashboard_pid(&self) -> String {
        let shell = self.format("#{pane_pid}");
        let children = fs::read_to_string(format!("/proc/{shell}/task/{shell}/children")).expect("read children");
        children.split_whitespace().next().expect("the dashboard runs").to_string()
    }

    /// Waits for the dashboard to exit and checks the terminal is as it was before.
    fn assert_exited_restored(&self, code: i32) {
        // The report's line, not the command that prints it (typed into a [`Pane::shell`]).
        let screen = self.wait_until("the exit report", |s| s.lines().any(|l| l.starts_with("modes:")));
        assert!(screen.contains(&format!("exit={code}")), "{screen}");
        assert!(screen.contains("modes: icanon echo"), "raw mode left on:\n{screen}");
        assert!(!screen.contains("Samples"), "the dashboard is still on screen:\n{screen}");
        assert_eq!(self.format("#{alternate_on} #{cursor_flag}"), "0 1", "alternate screen or hidden cursor left");
        assert_eq!(
            self.format("#{mouse_any_flag} #{mouse_button_flag} #{mouse_sgr_flag}"),
            "0 0 0",
            "mouse reports left on"
        );
    }

    /// Types a mouse event as a terminal reports it with SGR coordinates (1-based): button
    /// `code` (0 left, 2 right, +32 while moving) at (`column`, `row`), pressed or `released`.
    fn mouse(&self, code: u8, column: u16, row: u16, released: bool) {
        let end = if released { 'm' } else { 'M' };
        self.tmux(&["send-keys", "-t", "app", "-l", &format!("\x1b[<{code};{column};{row}{end}")]);
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["-L", &self.socket, "kill-server"]).output();
    }
}

/// The number in "total N steps" on the status line.
fn langevin_steps(screen: &str) -> Option<u64> {
    let after = screen.split("total ").nth(1)?;
    after.split(" steps").next()?.trim().parse().ok()
}

#[test]
fn the_dashboard_trains_pauses_resamples_helps_and_quits() {
    let pane = Pane::start("session", 100, 30, LONG);
    let screen = pane.wait_for("TRAINING");
    for panel in ["┌ Loss", "┌ Samples", "epoch", "Langevin", "energy distance", "? help"] {
        assert!(screen.contains(panel), "no {panel:?} on\n{screen}");
    }
    assert!(screen.lines().count() <= 30 && screen.lines().all(|l| l.chars().count() <= 100));

    pane.keys(&["Space"]);
    let paused = pane.wait_for("PAUSED · the particles keep flowing");
    let before = langevin_steps(&paused).expect("a Langevin count");
    pane.wait_until("the particles to keep flowing", |s| langevin_steps(s).is_some_and(|n| n > before));

    // Stop the particles so their count holds still, then resample: it restarts at 0.
    pane.keys(&["[", "[", "[", "["]);
    let screen = pane.wait_for("steps/frame 0");
    assert!(screen.contains("PAUSED") && langevin_steps(&screen).is_some_and(|n| n > 0), "{screen}");
    pane.keys(&["r"]);
    pane.wait_until("the count to restart", |s| langevin_steps(s) == Some(0));

    pane.keys(&["?"]);
    let help = pane.wait_for("┌ Keys");
    assert!(help.contains("pause training (particles flow on) / its pace"), "{help}");
    pane.keys(&["Escape"]);
    pane.wait_until("the help to close", |s| !s.contains("┌ Keys") && s.contains("┌ Samples"));

    pane.keys(&["q"]);
    pane.assert_exited_restored(0);
}

/// The number before " steps/s" on the status line.
fn training_rate(screen: &str) -> Option<f64> {
    let before = screen.split(" steps/s").next()?;
    before.split_whitespace().last()?.parse().ok()
}

#[test]
fn pace_and_t_pace_training_and_the_particles_flow_in_full_beside_it() {
    let pane = Pane::start("pace", 100, 30, &["--epochs", "1000", "--pace", "400"]);
    pane.wait_for("TRAINING · paced to 400 steps/s (t)");
    // The meter averages over a window: wait for it to settle at the pace.
    let paced = pane.wait_until("the rate to come down to the pace", |s| {
        training_rate(s.lines().find(|l| l.starts_with("│epoch ")).unwrap_or("")).is_some_and(|r| r <= 420.0)
    });
    let before = langevin_steps(&paced).expect("a Langevin count");
    // Ten steps a frame, twenty frames a second, while training goes on.
    let later = pane.wait_until("a second of the particles' steps", |s| {
        langevin_steps(s).is_some_and(|n| n >= before + 150) && s.contains("TRAINING")
    });
    assert!(later.contains("paced to 400 steps/s"), "{later}");
    pane.keys(&["t"]);
    pane.wait_for("TRAINING · paced to 100 steps/s (t)");
    pane.keys(&["t", "t"]);
    pane.wait_until("flat out again", |s| s.contains("┌ TRAINING ─") || s.contains("FINISHED"));
    pane.keys(&["q"]);
    pane.assert_exited_restored(0);
}

/// The score field's arrows on `screen`.
fn arrows(screen: &str) -> usize {
    screen.chars().filter(|c| "←↖↑↗→↘↓↙".contains(*c)).count()
}

#[test]
fn f_cycles_the_score_field_over_the_samples_and_i_the_fisher_curve() {
    let pane = Pane::start("field", 100, 30, LONG);
    let screen = pane.wait_for("TRAINING");
    assert_eq!(arrows(&screen), 0, "{screen}");
    // A 53 × 21 plot: 13 × 10 lattice points, arrows where the field is not weak.
    pane.keys(&["f"]);
    let learned =
        pane.wait_until("the learned field's arrows", |s| s.contains("┌ shaded · learned, σ 0.1 ") && arrows(s) > 50);
    assert!(!learned.contains("┌ Samples") && learned.contains("max ‖s‖"), "{learned}");
    pane.keys(&["f"]);
    pane.wait_until("the exact field's arrows", |s| s.contains("┌ shaded · exact, σ 0.1 ") && arrows(s) > 50);
    pane.keys(&["f"]);
    pane.wait_until("the difference", |s| s.contains("┌ learned − exact, σ 0.1 ") && s.contains("max ‖Δs‖"));
    pane.keys(&["f"]);
    let off = pane.wait_for("┌ Samples");
    assert_eq!(arrows(&off), 0, "{off}");

    assert!(off.contains("Fisher ━"), "{off}");
    pane.keys(&["i"]);
    pane.wait_until("the Fisher curve to go", |s| !s.contains("Fisher ━"));
    pane.keys(&["i"]);
    pane.wait_for("Fisher ━");
    pane.keys(&["q"]);
    pane.assert_exited_restored(0);
}

#[test]
fn v_cycles_the_samples_views_and_the_title_names_each() {
    let pane = Pane::start("views", 100, 30, LONG);
    pane.wait_for("┌ Samples · shaded ");
    pane.keys(&["v"]);
    pane.wait_until("the density view", |s| s.contains("┌ Samples · density ") && s.contains("▀"));
    pane.keys(&["v"]);
    pane.wait_for("┌ Samples · points ");
    pane.keys(&["v"]);
    pane.wait_for("┌ Samples · shaded ");
    pane.keys(&["q"]);
    pane.assert_exited_restored(0);
}

#[test]
fn o_switches_the_objective_and_d_the_data_set_each_in_a_new_run() {
    let pane = Pane::start("switch", 100, 30, LONG);
    // The status names the objective while still STARTING, before the first figures: wait for
    // those too, or a slow first snapshot fails the check below (seen once in CI).
    let screen =
        pane.wait_until("a DSM run's figures", |s| s.contains("objective DSM σ 0.1") && s.contains("upper moon"));
    assert!(screen.contains("moons · run 1"), "{screen}");
    pane.keys(&["o"]);
    pane.wait_until("an ISM run", |s| s.contains("objective ISM") && s.contains("moons · run 2"));
    pane.keys(&["d"]);
    let circles = pane.wait_until("ISM on the circles", |s| {
        s.contains("circles · run 3") && s.contains("objective ISM") && s.contains("TRAINING")
    });
    assert!(!circles.contains("upper moon"), "a moons-only figure on the circles:\n{circles}");
    pane.keys(&["o", "d"]);
    pane.wait_until("DSM on the swiss roll", |s| {
        s.contains("swiss-roll · run 5") && s.contains("objective DSM σ 0.15")
    });
    pane.keys(&["q"]);
    pane.assert_exited_restored(0);
}

#[test]
fn replaced_runs_stay_in_the_loss_legend_until_x_and_a_switches_to_annealed() {
    let pane = Pane::start("runs", 120, 40, LONG);
    pane.wait_until("a DSM run's losses", |s| s.contains("moons · run 1") && s.contains("loss ━ EMA 1"));
    pane.keys(&["o"]);
    let screen = pane.wait_until("run 1 in the legend", |s| {
        s.contains("moons · run 2") && s.contains("objective ISM") && s.contains("· run 1 DSM moons σ0.1 s0")
    });
    assert!(screen.contains("seed 0 "), "o keeps the seed:\n{screen}");
    pane.keys(&["x"]);
    pane.wait_until("the legend cleared", |s| !s.contains("· run 1 DSM") && s.contains("moons · run 2"));
    pane.wait_for("loss ━ EMA");
    pane.keys(&["a"]);
    let annealed = pane.wait_until("an annealed run", |s| {
        s.contains("moons · run 3 · seed 0") && s.contains("DSM σ 3.47→0.012 ×10") && s.contains("· run 2 ISM moons s0")
    });
    assert!(annealed.contains("a single-σ") || annealed.contains("c compare"), "annealed mode's hints:\n{annealed}");
    pane.keys(&["q"]);
    pane.assert_exited_restored(0);
}

/// The checkpoints in `dir`.
fn checkpoints(dir: &TempDir) -> Vec<String> {
    dir.entries().into_iter().filter(|name| name.ends_with(".safetensors")).collect()
}

#[test]
fn w_saves_a_checkpoint_in_the_working_directory_and_says_where() {
    let dir = TempDir::new("save");
    let pane = Pane::start_in("save", 100, 30, LONG, dir.path(), &[]);
    pane.wait_for("TRAINING");
    pane.keys(&["w"]);
    let screen = pane.wait_for(" saved ");
    let names = checkpoints(&dir);
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].starts_with("dsm-tui-moons-dsm-seed0-run1-step"), "{names:?}");
    assert!(screen.contains(&format!("saved {}", dir.path().join(&names[0]).display())), "{screen}");

    // It loads as the run's checkpoint: --load with the same flags, no training.
    let path = dir.path().join(&names[0]);
    let out = Command::new(BIN)
        .args(["--once", "--load", path.to_str().unwrap(), "--epochs", "0", "--steps", "5", "--particles", "50"])
        .output()
        .expect("run dsm-tui");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // The notice goes after a while; the next run's save is another file, and `o` kept the seed
    // (DSM and ISM train on the same data).
    pane.wait_until("the notice to go", |s| s.contains("? help"));
    pane.keys(&["o", "w"]);
    pane.wait_for(" saved ");
    let names = checkpoints(&dir);
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("dsm-tui-moons-ism-seed0-run2-step")), "{names:?}");
    pane.keys(&["q"]);
    pane.assert_exited_restored(0);
}

#[test]
fn a_loaded_checkpoint_is_named_and_n_says_the_next_run_starts_fresh() {
    let dir = TempDir::new("load");
    let path = dir.file("model.safetensors");
    let out = Command::new(BIN)
        .args(["--once", "--epochs", "1", "--steps", "5", "--particles", "50", "--save", &path])
        .output()
        .expect("run dsm-tui");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pane = Pane::start("load", 100, 30, &["--load", &path, "--epochs", "0"]);
    pane.wait_until("the checkpoint named", |s| s.contains("run 1 from ") && s.contains("model.safetensors"));
    pane.keys(&["n"]);
    let screen = pane.wait_for("run 2 starts from fresh weights");
    assert!(!screen.contains("model.safetensors"), "run 2 is not the checkpoint's:\n{screen}");
    pane.keys(&["q"]);
    pane.assert_exited_restored(0);
}

#[test]
fn with_save_w_writes_that_file_and_reports_a_failure_on_screen() {
    let dir = TempDir::new("save-to");
    let sub = dir.path().join("sub");
    fs::create_dir(&sub).expect("create a subdirectory");
    let target = sub.join("mine.safetensors");
    let mut args = LONG.to_vec();
    args.extend(["--save", target.to_str().unwrap()]);
    let pane = Pane::start_in("save-to", 100, 30, &args, dir.path(), &[]);
    pane.wait_for("TRAINING");
    pane.keys(&["w"]);
    pane.wait_for(&format!("saved {}", target.display()));
    assert!(target.is_file());

    // The directory goes away: the save fails, the dashboard says why and carries on.
    fs::remove_dir_all(&sub).expect("remove the subdirectory");
    pane.keys(&["w"]);
    let screen = pane.wait_for("not saved to");
    assert!(screen.contains("No such file or directory"), "{screen}");
    assert!(screen.contains("TRAINING"), "{screen}");
    pane.keys(&["q"]);
    pane.assert_exited_restored(0);
}

#[test]
fn no_color_keeps_colour_codes_off_the_terminal() {
    let here = std::env::current_dir().expect("a working directory");
    for (name, env, coloured) in [("colour", "NO_COLOR=", true), ("no-color", "NO_COLOR=1", false)] {
        let pane = Pane::start_in(name, 100, 30, LONG, &here, &[env]);
        pane.wait_for("TRAINING");
        // tmux re-encodes the cells it holds: a 256-colour foreground shows as 38;5;N.
        let screen = pane.tmux(&["capture-pane", "-p", "-e", "-t", "app"]);
        assert_eq!(screen.contains("38;5;"), coloured, "{env}:\n{screen}");
        assert!(screen.contains("\u{1b}[1m"), "{env}: bold is not a colour and stays");
        pane.keys(&["q"]);
        pane.assert_exited_restored(0);
    }
}

/// The frames in `raw` (bytes the dashboard wrote) from the first synchronized update on:
/// (updates begun, cursor moves outside any update, updates begun inside another). Bytes
/// before the first begin may be the tail of a frame whose begin came before the recording.
fn synchronized_frames(raw: &[u8]) -> (usize, usize, usize) {
    const BEGIN: &[u8] = b"\x1b[?2026h";
    const END: &[u8] = b"\x1b[?2026l";
    let Some(first) = raw.windows(BEGIN.len()).position(|w| w == BEGIN) else {
        return (0, 0, 0);
    };
    let (mut begun, mut outside, mut nested, mut open) = (0, 0, 0, false);
    let mut i = first;
    while i < raw.len() {
        let rest = &raw[i..];
        if rest.starts_with(BEGIN) {
            (begun, nested, open) = (begun + 1, nested + usize::from(open), true);
            i += BEGIN.len();
        } else if rest.starts_with(END) {
            open = false;
            i += END.len();
        } else if let Some(csi) = rest.strip_prefix(b"\x1b[") {
            // A cursor move, ESC [ row ; col H, is where a frame writes its cells.
            let params = csi.iter().take_while(|b| b.is_ascii_digit() || **b == b';').count();
            outside += usize::from(!open && csi.get(params) == Some(&b'H') && params > 0);
            i += 2 + params;
        } else {
            i += 1;
        }
    }
    assert!(!open, "the last synchronized update was never ended");
    (begun, outside, nested)
}

#[test]
fn frames_reach_the_terminal_whole_as_synchronized_updates() {
    let dir = TempDir::new("synchronized");
    let raw = dir.file("pane.raw");
    let pane = Pane::start("synchronized", 100, 30, LONG);
    pane.tmux(&["pipe-pane", "-o", "-t", "app", &format!("cat > '{raw}'")]);
    pane.wait_for("TRAINING");
    // Several frames of moving figures (each change of the step count seen after the
    // recording began is a frame written inside it), then a key's redraw and the way out.
    let mut seen = 0;
    for _ in 0..3 {
        let screen = pane.wait_until("the particles to move on", |s| langevin_steps(s).is_some_and(|n| n > seen));
        seen = langevin_steps(&screen).expect("a step count");
    }
    pane.keys(&["?", "Escape", "q"]);
    pane.assert_exited_restored(0);
    let (begun, outside, nested) = synchronized_frames(&fs::read(&raw).expect("the recording"));
    assert!(begun >= 3, "{begun} synchronized frames recorded");
    assert_eq!((outside, nested), (0, 0), "cursor moves outside an update, updates inside another");
}

#[test]
fn a_small_terminal_shows_a_message_until_it_grows() {
    let pane = Pane::start("small", 60, 20, &[]);
    let screen = pane.wait_for("terminal too small (need 80×24)");
    assert!(!screen.contains("Samples"));
    pane.tmux(&["resize-window", "-t", "app", "-x", "100", "-y", "30"]);
    pane.wait_for("┌ Samples");
    pane.tmux(&["resize-window", "-t", "app", "-x", "80", "-y", "23"]);
    pane.wait_for("terminal too small");
    pane.keys(&["q"]);
    pane.assert_exited_restored(0);
}

#[test]
fn esc_and_ctrl_c_quit_too() {
    for (name, key) in [("esc", "Escape"), ("ctrl-c", "C-c")] {
        let pane = Pane::start(name, 100, 30, LONG);
        pane.wait_for("TRAINING");
        pane.keys(&[key]);
        pane.assert_exited_restored(0);
    }
}

/// Every signal whose default action ends the process ends the dashboard as SIGTERM does: a
/// sample of them, each with 128 + its number as a shell reports it.
#[test]
fn signals_that_end_the_process_restore_the_terminal_first() {
    let signals = [
        ("term", "-TERM", 143),
        ("hup", "-HUP", 129),
        ("quit", "-QUIT", 131),
        ("usr1", "-USR1", 138),
        ("alrm", "-ALRM", 142),
    ];
    for (name, signal, code) in signals {
        let pane = Pane::start(name, 100, 30, LONG);
        pane.wait_for("TRAINING");
        let pid = pane.dashboard_pid();
        let killed = Command::new("kill").args([signal, &pid]).status().expect("run kill");
        assert!(killed.success());
        pane.assert_exited_restored(code);
    }
}

#[test]
fn a_terminal_that_goes_away_ends_the_dashboard() {
    let pane = Pane::start("hangup", 100, 30, LONG);
    pane.wait_for("TRAINING");
    let pid = pane.dashboard_pid();
    // A real hang-up: the terminal is gone, not just a signal sent. crossterm's reader then
    // spins on end-of-file, so it is the `signals` thread that must end the process.
    pane.tmux(&["kill-server"]);
    let start = Instant::now();
    while is_running(&pid) {
        assert!(start.elapsed() < WATCHDOG, "dsm-tui {pid} still runs {WATCHDOG:?} after its terminal went away");
        thread::sleep(Duration::from_millis(50));
    }
}

/// Whether process `pid` exists and is not a zombie.
fn is_running(pid: &str) -> bool {
    process_state(pid).is_some_and(|state| state != 'Z')
}

/// Process `pid`'s state as /proc has it (`R`, `S`, `T` for stopped, `Z` …), if it exists.
fn process_state(pid: &str) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')').next()?.trim_start().chars().next()
}

/// Ctrl-Z (a key in raw mode) and SIGTSTP from outside stop the dashboard with the terminal
/// given back; `fg` brings it back whole, in raw mode, still answering keys.
#[test]
fn ctrl_z_and_sigtstp_stop_with_the_terminal_restored_and_fg_brings_the_dashboard_back() {
    for name in ["ctrl-z", "tstp"] {
        let pane = Pane::shell(name, 100, 30, LONG);
        pane.wait_for("TRAINING");
        let pid = pane.dashboard_pid();
        if name == "ctrl-z" {
            pane.keys(&["C-z"]);
        } else {
            assert!(Command::new("kill").args(["-TSTP", &pid]).status().expect("run kill").success());
        }
        let stopped = pane.wait_for("Stopped");
        assert_eq!(process_state(&pid), Some('T'), "{name}: not stopped");
        assert!(!stopped.contains("Samples"), "{name}: the dashboard is still on screen:\n{stopped}");
        assert_eq!(pane.format("#{alternate_on} #{cursor_flag}"), "0 1", "{name}: alternate screen or hidden cursor");
        pane.type_line(&format!("echo \"stopped: {TTY_MODES}\""));
        pane.wait_for("stopped: icanon echo");

        pane.type_line("fg");
        let back = pane.wait_until("the whole dashboard back", |s| {
            ["┌ Loss", "┌ Samples", "epoch", "Langevin", "? help"].iter().all(|part| s.contains(part))
        });
        assert!(!back.contains("Stopped"), "{name}: the shell's lines under the dashboard:\n{back}");
        assert_eq!(pane.format("#{alternate_on} #{cursor_flag}"), "1 0", "{name}: not back in the alternate screen");
        assert_eq!(pane.tty_modes(), "-icanon -echo", "{name}: not back in raw mode");
        pane.keys(&["?"]);
        pane.wait_for("┌ Keys");
        pane.keys(&["q"]);
        pane.exit_report();
        pane.assert_exited_restored(0);
    }
}

#[test]
fn a_diverging_run_stays_usable_and_n_starts_again() {
    let pane = Pane::start("diverge", 100, 30, &["--lr", "1000"]);
    let screen = pane.wait_for("DIVERGED at step");
    assert!(screen.contains("n starts a new run"), "{screen}");
    pane.keys(&["?"]);
    pane.wait_for("┌ Keys");
    pane.keys(&["?", "n"]);
    pane.wait_until("run 2 to diverge too", |s| s.contains("run 2 · seed 1") && s.contains("DIVERGED at step"));
    pane.keys(&["q"]);
    pane.assert_exited_restored(0);
}

/// Ctrl-C during `--once` on a terminal, with its progress bar on screen: it stops at a step
/// boundary, says so, exits 130 and writes no file.
#[test]
fn ctrl_c_during_once_exits_130_and_writes_nothing() {
    let dir = TempDir::new("interrupt");
    let (samples, history) = (dir.file("s.csv"), dir.file("h.csv"));
    let pane = Pane::start(
        "interrupt",
        100,
        10,
        &["--once", "--epochs", "2000", "--samples-out", &samples, "--history-out", &history],
    );
    pane.wait_for("training [");
    pane.keys(&["C-c"]);
    let screen = pane.wait_for("exit=");
    assert!(screen.contains("interrupted during training at step"), "{screen}");
    assert!(screen.contains("exit=130"), "{screen}");
    assert!(dir.entries().is_empty(), "files left behind: {:?}", dir.entries());
}

/// The held particles' readout has come from the trainer (the UI shows "—" until then).
fn has_readout(screen: &str) -> bool {
    screen.contains("SNR ") && !screen.contains("SNR —")
}

/// The scatter panel's title names the field `kind` at σ `sigma` (in whichever form fits
/// beside the escaped count, after the view's name when it fits).
fn field_title(screen: &str, kind: &str, sigma: &str) -> bool {
    let top = screen.lines().next().unwrap_or_default();
    let named = top.contains(&format!("┐┌ {kind}")) || top.contains(&format!("┐┌ shaded · {kind}"));
    named && top.contains(&format!(", σ {sigma} "))
}

#[test]
fn annealed_mode_steps_through_the_levels_and_compares_the_samplers() {
    // Short levels and a short single-σ chain, so that both sides of the comparison end soon.
    // Flat out, training is over before the schedule ends, which then stays ended.
    let args = ["--mode", "annealed", "--level-steps", "20", "--steps", "200", "--pace", "max"];
    let pane = Pane::start("annealed", 100, 30, &args);
    let screen = pane.wait_for("DSM σ 3.47→0.012 ×10");
    assert!(screen.contains(" p hold  . step  > level  c compare"), "{screen}");
    pane.wait_until("the particles to go through the levels", |s| s.contains("level 2/10") || s.contains("done"));

    // Held and restarted at level 1, they move only when told.
    pane.keys(&["p", "r"]);
    let held = pane.wait_until("a readout at level 1", |s| s.contains("level 1/10 · step 0/20") && has_readout(s));
    assert!(held.contains("held   mean ‖s‖"), "{held}");
    pane.keys(&["."]);
    pane.wait_for("level 1/10 · step 1/20");
    pane.keys(&[">"]);
    let level_2 = pane.wait_until("level 2 and its readout", |s| {
        s.contains("level 2/10 · step 0/20   σ 1.85   α 0.342") && has_readout(s)
    });
    assert!(level_2.contains("total 20/201 steps"), "{level_2}");

    // The score field at the particles' level, following them down the schedule.
    pane.keys(&["f"]);
    pane.wait_until("the learned field at σ₂", |s| field_title(s, "learned", "1.85") && arrows(s) > 30);
    pane.keys(&[">"]);
    pane.wait_until("the field at σ₃", |s| {
        s.contains("level 3/10 · step 0/20") && field_title(s, "learned", "0.985")
    });
    pane.keys(&["f"]);
    pane.wait_until("the exact field at σ₃", |s| field_title(s, "exact", "0.985") && arrows(s) > 30);

    // Side by side, held until let go; both end with their figures in the titles.
    pane.keys(&["c"]);
    pane.wait_for("┌ single-σ");
    pane.keys(&["p"]);
    let compared = pane.wait_until("both sides to end", |s| s.matches("steps, done").count() == 2);
    assert!(compared.contains("single-σ · ED 0.") && compared.contains("annealed · ED 0."), "{compared}");
    assert!(compared.contains("upper "), "{compared}");
    // (The arrow in the schedule "σ 3.47→0.012" is not the field's.)
    assert_eq!(arrows(&compared.replace("3.47→0.012", "")), 0, "no field over the compare view: {compared}");
    pane.keys(&["f"]);
    pane.wait_for("the score field draws on the main view: c goes back to it");
    pane.keys(&["c"]);
    // Back, the field again; `p` let the particles go, so they run to the end and the
    // field follows them down to σ_L.
    pane.wait_until("the field at the end of the schedule", |s| {
        s.contains("┌ Loss") && s.contains("total 201/201 steps") && field_title(s, "exact", "0.012")
    });
    pane.keys(&["q"]);
    pane.assert_exited_restored(0);
}

#[test]
fn single_mode_steps_the_chain_and_says_what_c_needs() {
    let pane = Pane::start("single-step", 100, 30, LONG);
    pane.wait_for("TRAINING");
    pane.keys(&["p"]);
    // The readout comes from the trainer once it holds the particles: their count holds still.
    let held = pane.wait_until("a readout", |s| s.contains("held   σ 0.100   α 0.00500") && has_readout(s));
    let before = langevin_steps(&held).expect("a Langevin count");
    pane.keys(&["."]);
    pane.wait_until("one step", |s| langevin_steps(s) == Some(before + 1));
    pane.keys(&[">"]);
    pane.wait_until("100 more", |s| langevin_steps(s) == Some(before + 101));
    pane.keys(&["c"]);
    pane.wait_for("c needs the noise-conditional model: run dsm-tui --mode annealed");
    pane.keys(&["q"]);
    pane.assert_exited_restored(0);
}

/// The points in a CSV file of `x,y` rows after a header.
fn csv_points(path: &Path) -> Vec<[f64; 2]> {
    let text = fs::read_to_string(path).expect("read the CSV");
    text.lines()
        .skip(1)
        .map(|line| {
            let (x, y) = line.split_once(',').expect("x,y");
            [x.parse().expect("x"), y.parse().expect("y")]
        })
        .collect()
}

/// Draw mode with the mouse as a terminal reports it: `e`, a stroke of left-button drags
/// across the samples panel (typed into the pane as SGR sequences), Enter. The count on
/// screen is the brush's 9 points per event; the drawing is saved in the working directory,
/// and trained on (flat out here). Then `--once --data` on the saved file scores it: the
/// particles end up near the stroke, not where they started (U[−1, 1]²).
#[test]
fn e_draws_a_data_set_with_the_mouse_and_enter_trains_on_it() {
    let dir = TempDir::new("draw");
    let pane = Pane::start_in("draw", 100, 30, &["--pace", "max"], dir.path(), &[]);
    pane.wait_for("TRAINING");
    assert_eq!(pane.format("#{mouse_any_flag} #{mouse_sgr_flag}"), "1 1", "mouse reports on, in SGR form");
    pane.keys(&["e"]);
    pane.wait_for("DRAWING · 0 points");
    // At 100 × 30 the samples panel's plot spans columns 47–99 and rows 2–23 (1-based): a
    // diagonal stroke across it, 16 events.
    let events: Vec<(u16, u16)> = (0..16).map(|i| (55 + 2 * i, 8 + i * 2 / 3)).collect();
    pane.mouse(0, events[0].0, events[0].1, false);
    for &(column, row) in &events[1..] {
        pane.mouse(32, column, row, false);
    }
    pane.mouse(0, events[15].0, events[15].1, true);
    pane.wait_for("DRAWING · 144 points · brush 3×3");
    pane.keys(&["Enter"]);
    let screen = pane.wait_for(" saved ");
    let names: Vec<String> = dir.entries().into_iter().filter(|n| n.starts_with("dsm-tui-drawing-")).collect();
    assert_eq!(names.len(), 1, "{names:?}");
    let saved = dir.path().join(&names[0]);
    assert!(screen.contains(&format!("saved {}", saved.display())), "{screen}");
    let drawn = csv_points(&saved);
    assert_eq!(drawn.len(), 144);
    pane.wait_for("FINISHED");
    pane.keys(&["q"]);
    pane.assert_exited_restored(0);

    // The saved drawing reruns with --data; its particles gather on the stroke.
    let samples = dir.path().join("samples.csv");
    let out = Command::new(BIN)
        .args(["--once", "--data", saved.to_str().unwrap(), "--epochs", "1000", "--particles", "1000"])
        .args(["--samples-out", samples.to_str().unwrap()])
        .output()
        .expect("run dsm-tui");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let near = |p: &[f64; 2]| drawn.iter().any(|d| (d[0] - p[0]).hypot(d[1] - p[1]) < 0.3);
    let particles = csv_points(&samples);
    let share = particles.iter().filter(|p| near(p)).count() as f64 / particles.len() as f64;
    // Measured: 97% (0.3 is about two brush radii); of the U[−1, 1]² start, 53% are.
    assert!(share > 0.9, "{:.0}% of the particles within 0.3 of the stroke", 100.0 * share);
}

/// `--no-mouse` leaves the mouse to the terminal: no reports asked for.
#[test]
fn no_mouse_leaves_the_mouse_to_the_terminal() {
    let pane = Pane::start("no-mouse", 100, 30, &["--no-mouse"]);
    pane.wait_for("TRAINING");
    assert_eq!(pane.format("#{mouse_any_flag} #{mouse_button_flag} #{mouse_sgr_flag}"), "0 0 0");
    pane.keys(&["q"]);
    pane.assert_exited_restored(0);
}

/// The plane's x range as the samples panel's border gives it ("x -1.60…2.60").
fn x_range(screen: &str) -> Option<String> {
    let after = screen.split(" x ").nth(1)?;
    Some(after.split(" · ").next()?.to_string())
}

/// The mouse outside draw mode: the wheel over the samples panel zooms about the pointer and
/// a left drag pans (the ranges in its border follow), `0` brings the data set's bounds back,
/// and a click on a footer hint acts as its key.
#[test]
fn the_wheel_zooms_a_drag_pans_0_resets_and_a_click_on_a_hint_presses_its_key() {
    let pane = Pane::start("zoom", 120, 40, LONG);
    pane.wait_for("TRAINING");
    let home = x_range(&pane.wait_for(" x -1.60…2.60 · y ")).expect("the ranges");
    // Wheel up (SGR button 64) twice over the panel: narrower.
    pane.mouse(64, 90, 15, false);
    pane.mouse(64, 90, 15, false);
    let zoomed = pane.wait_until("a zoom", |s| x_range(s).is_some_and(|r| r != home));
    let zoomed = x_range(&zoomed).expect("the ranges");
    let width = |r: &str| {
        let (lo, hi) = r.split_once('…').expect("lo…hi");
        hi.parse::<f64>().unwrap() - lo.parse::<f64>().unwrap()
    };
    let ratio = width(&zoomed) / width(&home);
    assert!((ratio - 0.64).abs() < 0.02, "two notches of 1.25: {home} → {zoomed}");
    // Drag left by 10 columns: the view moves right, its width kept.
    pane.mouse(0, 90, 15, false);
    pane.mouse(32, 80, 15, false);
    pane.mouse(0, 80, 15, true);
    let panned = pane.wait_until("a pan", |s| x_range(s).is_some_and(|r| r != zoomed));
    let panned = x_range(&panned).expect("the ranges");
    let lo = |r: &str| r.split_once('…').unwrap().0.parse::<f64>().unwrap();
    assert!(lo(&panned) > lo(&zoomed) && (width(&panned) - width(&zoomed)).abs() < 0.02, "{zoomed} → {panned}");
    pane.keys(&["0"]);
    pane.wait_until("the data set's bounds", |s| x_range(s).as_deref() == Some(home.as_str()));
    // A click on "Space pause" in the footer pauses.
    let screen = pane.screen();
    let footer = screen.lines().last().expect("a footer");
    let column = footer[..footer.find("Space").expect("the Space hint")].chars().count() as u16 + 1;
    pane.mouse(0, column, 40, false);
    pane.mouse(0, column, 40, true);
    pane.wait_for("PAUSED");
    pane.keys(&["q"]);
    pane.assert_exited_restored(0);
}

/// The step in "at step N" on the loss panel's header, under the crosshair.
fn crosshair_step(screen: &str) -> Option<u64> {
    let after = screen.split("at step ").nth(1)?;
    after.split_whitespace().next()?.parse().ok()
}

/// The mouse over the loss panel: motion puts a crosshair there and the header reads the
/// curves at its step; the wheel zooms the step range (named in the title) and `0` shows
/// every step again; a click on a legend entry hides its curve and another shows it; motion
/// off the graphs takes the crosshair away.
#[test]
fn the_loss_panel_reads_a_step_under_the_pointer_zooms_and_hides_curves() {
    let pane = Pane::start("loss-mouse", 120, 40, LONG);
    pane.wait_until("a test loss", |s| s.contains("• test"));
    // Motion with no button (SGR 35) over the middle of the loss graph.
    pane.mouse(35, 30, 12, false);
    let screen = pane.wait_until("the crosshair", |s| crosshair_step(s).is_some());
    let step = crosshair_step(&screen).unwrap();
    let last = screen.split("step ").filter_map(|s| s.split('/').next()?.parse::<u64>().ok()).max();
    assert!(step > 0 && last.is_some_and(|last| step < last), "{step} within the run so far:\n{screen}");
    assert!(screen.contains('│'), "the crosshair's line");
    // Two notches of the wheel over the graph: a range of steps in the title.
    pane.mouse(64, 30, 12, false);
    pane.mouse(64, 30, 12, false);
    pane.wait_until("a zoomed range", |s| s.contains("(0: all)"));
    // A click on the test loss's entry hides it; another shows it again.
    let header_column = |s: &str, text: &str| {
        let row = s.lines().nth(1)?;
        Some(row[..row.find(text)?].chars().count() as u16 + 1)
    };
    let screen = pane.screen();
    let column = header_column(&screen, "test").expect("the test entry");
    pane.mouse(0, column, 2, false);
    pane.mouse(0, column, 2, true);
    let hidden = pane.wait_until("the test loss hidden", |s| s.lines().nth(1).is_some_and(|l| l.contains("◌ test")));
    let column = header_column(&hidden, "test").expect("still named");
    pane.mouse(0, column, 2, false);
    pane.mouse(0, column, 2, true);
    pane.wait_until("the test loss shown", |s| s.lines().nth(1).is_some_and(|l| l.contains("• test")));
    // Off the graph (over the samples panel): the crosshair goes; `0`: every step.
    pane.mouse(35, 90, 12, false);
    pane.wait_until("no crosshair", |s| crosshair_step(s).is_none());
    pane.keys(&["0"]);
    pane.wait_until("every step", |s| s.contains("Loss log₁₀ · all steps"));
    pane.keys(&["q"]);
    pane.assert_exited_restored(0);
}

/// Annealed mode's samplers as a person meets them: `s` moves to the next sampler, whose
/// status shows its step, σ and evaluations (and for the ODE its log density); `j` draws a
/// dozen paths; `g` shades the model's log density; `c` shows two samplers side by side, `b`
/// picking the left one.
#[test]
fn s_j_g_and_b_show_the_samplers_their_paths_their_density_and_any_two_side_by_side() {
    let pane = Pane::start(
        "samplers",
        100,
        30,
        &["--mode", "annealed", "--count", "1000", "--epochs", "100", "--pace", "max"],
    );
    pane.wait_until("training over", |s| s.contains("FINISHED"));
    pane.keys(&["s"]);
    pane.wait_until("reverse diffusion down its grid", |s| {
        s.contains("reverse diffusion") && (s.contains("NFE ") || s.contains("200/200 evaluations"))
    });
    pane.keys(&["s", "s"]);
    pane.wait_until("Heun's ODE with its log density", |s| s.contains("ODE, Heun") && s.contains("log q"));
    pane.keys(&["j"]);
    pane.wait_until("a dozen paths", |s| s.contains("12 paths"));
    pane.keys(&["j", "g"]);
    pane.wait_until("the model's log density", |s| s.contains("log q: model (ODE)") && s.contains("nats"));
    pane.keys(&["g", "c"]);
    pane.wait_until("single-σ beside Heun", |s| {
        s.lines().next().is_some_and(|l| l.contains("single-σ") && l.contains("ODE, Heun"))
    });
    pane.keys(&["b"]);
    pane.wait_until("annealed beside Heun", |s| {
        s.lines().next().is_some_and(|l| l.contains("annealed ·") && l.contains("ODE, Heun"))
    });
    pane.keys(&["q"]);
    pane.assert_exited_restored(0);
}
