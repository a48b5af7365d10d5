//! Ctrl-C during `--once`, as a person presses it: in a terminal (tmux), with the progress
//! bar on screen. The run stops at a step boundary, exits 130 and writes no file.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_dsm-tui");

/// A private tmux server, killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(command: &str) -> Self {
        let socket = format!("dsm-tui-interrupt-{}", std::process::id());
        let status = Command::new("tmux")
            .args(["-L", &socket, "-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", "100", "-y", "10", command])
            .status()
            .expect("tmux must be installed to test the terminal behaviour (.ci/run installs it)");
        assert!(status.success());
        Self { socket }
    }

    fn screen(&self) -> String {
        let out =
            Command::new("tmux").args(["-L", &self.socket, "capture-pane", "-p", "-t", "t"]).output().expect("capture");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Polls the screen until `needle` appears; the timeout is a watchdog, not a delay.
    fn wait_for(&self, needle: &str, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(needle) {
                return screen;
            }
            assert!(start.elapsed() < timeout, "'{needle}' did not appear within {timeout:?}; screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn send(&self, keys: &str) {
        Command::new("tmux").args(["-L", &self.socket, "send-keys", "-t", "t", keys]).status().expect("send-keys");
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["-L", &self.socket, "kill-server"]).status();
    }
}

#[test]
fn ctrl_c_during_once_exits_130_and_writes_nothing() {
    let dir = std::env::temp_dir().join(format!("dsm-tui-interrupt-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let samples: PathBuf = dir.join("s.csv");
    let command = format!(
        "{BIN} --once --epochs 2000 --samples-out {} --history-out {}; echo EXIT $?; sleep 60",
        samples.display(),
        dir.join("h.csv").display()
    );
    let tmux = Tmux::start(&command);
    tmux.wait_for("training [", Duration::from_secs(30));
    tmux.send("C-c");
    let screen = tmux.wait_for("EXIT", Duration::from_secs(30));
    assert!(screen.contains("interrupted during training at step"), "{screen}");
    assert!(screen.contains("EXIT 130"), "{screen}");
    let left: Vec<_> = std::fs::read_dir(&dir).expect("dir").collect();
    assert!(left.is_empty(), "files left behind: {left:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
