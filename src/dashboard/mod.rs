//! The dashboard's terminal: set-up, the event loop, and putting the terminal back on every
//! way out.
//!
//! The main thread owns the terminal and is the only reader of input. Each turn it polls
//! input with a short timeout (a long one when nothing is moving, so an idle dashboard costs
//! no CPU), takes the trainer's latest snapshot, and draws only if something changed, each
//! frame as one synchronized update (`draw_whole_frame`).
//!
//! Ways out, and what restores the terminal:
//! - `q`, Esc, Ctrl-C (a key in raw mode): the loop ends and [`run`] restores.
//! - SIGTERM, SIGHUP, SIGINT: a `signals` thread sets a flag the loop checks every turn; then
//!   as above, and the exit code is 128 + the signal's number, as a shell reports a signal.
//!   Should the loop not end within [`SIGNAL_GRACE`], that thread restores what it can and
//!   exits the process itself: once the terminal has hung up, crossterm's input reader spins
//!   forever on end-of-file and the loop never gets another turn.
//! - An error (drawing, reading input) or the trainer stopping: as above, then reported.
//! - A panic on the UI thread: ratatui's panic hook restores, then color-eyre prints it.
//! - A panic on any other thread (the trainer, the Langevin pool): the hook installed here
//!   keeps its message instead of restoring the terminal under the running UI or printing
//!   over the screen; the UI sees the trainer gone, restores, and the message is printed.

use std::fmt;
use std::io::{self, IsTerminal};
use std::panic;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use color_eyre::Report;
use color_eyre::eyre::WrapErr;
use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{self, Event};
use ratatui::crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use ratatui::crossterm::{cursor, execute, queue};
use ratatui::layout::{Position, Rect};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use signal_hook::iterator::backend::Handle;

use crate::app::App;
use crate::app::keys::action_for;
use crate::config::Config;
use crate::nn::Mlp;
use crate::trainer::worker::{Shutdown, Worker};
use crate::ui::{self, theme};

/// Input poll while snapshots are arriving (20 a second): short, so they show promptly.
const BUSY_POLL: Duration = Duration::from_millis(15);
/// Input poll when nothing moves: long, so an idle dashboard sleeps; it bounds how late a
/// signal is noticed.
const IDLE_POLL: Duration = Duration::from_millis(250);
/// Input events handled per turn before the trainer's snapshots get a look.
const EVENTS_PER_TURN: usize = 64;
/// How long quitting waits for the trainer to finish its frame.
const TRAINER_GRACE: Duration = Duration::from_secs(2);
/// How long after a signal the event loop has to restore the terminal before the `signals`
/// thread does it and exits: several of the loop's slowest turns.
pub const SIGNAL_GRACE: Duration = Duration::from_secs(1);

/// How the dashboard ended, when it ended well.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Quit,
    Signal(i32),
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Quit => 0,
            Outcome::Signal(signal) => 128u8.saturating_add(signal as u8),
        }
    }
}

/// Why the dashboard could not run or stopped early.
#[derive(Debug)]
pub enum Failure {
    NoTerminal,
    /// A background thread panicked: its message, location included.
    Panicked(String),
    /// The trainer stopped without a panic (it should not).
    TrainerStopped,
    Other(Report),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::NoTerminal => write!(
                f,
                "the dashboard needs a terminal (stdin and stdout must be a TTY); use --once for a headless run"
            ),
            Failure::Panicked(message) => write!(f, "{message}"),
            Failure::TrainerStopped => write!(f, "the trainer thread stopped unexpectedly"),
            Failure::Other(report) => write!(f, "{report:?}"),
        }
    }
}

impl From<Report> for Failure {
    fn from(report: Report) -> Self {
        Failure::Other(report)
    }
}

impl Failure {
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::NoTerminal => 2,
            // What Rust's runtime uses for a panic.
            Failure::Panicked(_) => 101,
            Failure::TrainerStopped | Failure::Other(_) => 1,
        }
    }
}

/// Opens the dashboard on `config`, its first run starting from `start`'s weights (a loaded
/// checkpoint) when given, and runs it until the user quits. `w` saves to `save_to` if given;
/// training starts at `pace` steps per frame if given (`--pace`), else flat out.
pub fn run(
    config: &Config,
    start: Option<Mlp<f32>>,
    save_to: Option<PathBuf>,
    pace: Option<usize>,
) -> Result<Outcome, Failure> {
    if !(io::stdin().is_terminal() && io::stdout().is_terminal()) {
        return Err(Failure::NoTerminal);
    }
    let signals = SignalWatch::start()?;
    // The session's own parallel work runs on rayon's global pool: name its threads too
    // (an error means the pool exists already, which is fine).
    let _ = rayon::ThreadPoolBuilder::new().thread_name(|i| format!("rayon-{i}")).build_global();
    let colour = theme::colour_allowed(std::env::var_os("NO_COLOR").as_deref());
    let mut app = App::new(config.clone()).saving_to(save_to).pacing(pace).with_colour(colour);
    let worker = Worker::spawn(config, app.settings(), start)?;
    let mut terminal = match ratatui::try_init() {
        Ok(terminal) => terminal,
        Err(err) => {
            restore();
            signals.restored();
            let _ = worker.shutdown(TRAINER_GRACE);
            return Err(Report::new(err).wrap_err("setting up the terminal").into());
        }
    };
    // After ratatui's hook, so that this one runs first and can keep it from restoring.
    let background_panic = keep_background_panics();
    let result = event_loop(&mut terminal, &mut app, &worker, &signals.received);
    restore();
    signals.restored();
    let shutdown = worker.shutdown(TRAINER_GRACE);
    let panic_message = background_panic.lock().ok().and_then(|mut slot| slot.take());
    match (panic_message, shutdown) {
        (Some(message), _) => Err(Failure::Panicked(message)),
        (None, Shutdown::Panicked(payload)) => {
            Err(Failure::Panicked(format!("the trainer thread panicked: {payload}")))
        }
        (None, _) => result,
    }
}

/// The `signals` thread: records the first SIGTERM, SIGHUP or SIGINT for the event loop and
/// makes sure the process ends within [`SIGNAL_GRACE`] of it.
struct SignalWatch {
    /// The signal's number, 0 until one arrives.
    received: Arc<AtomicUsize>,
    /// Told (or dropped) once the terminal is restored: from then on the process may take its
    /// time to end.
    restored: Sender<()>,
    handle: Handle,
}

impl SignalWatch {
    fn start() -> Result<Self, Report> {
        let mut signals = Signals::new([SIGTERM, SIGHUP, SIGINT]).wrap_err("installing the signal handlers")?;
        let handle = signals.handle();
        let received = Arc::new(AtomicUsize::new(0));
        let (restored, restored_rx) = mpsc::channel();
        let flag = Arc::clone(&received);
        thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                if let Some(number) = signals.forever().next() {
                    flag.store(number as usize, Ordering::SeqCst);
                    if let Err(RecvTimeoutError::Timeout) = restored_rx.recv_timeout(SIGNAL_GRACE) {
                        restore();
                        std::process::exit(i32::from(Outcome::Signal(number).exit_code()));
                    }
                }
            })
            .wrap_err("starting the signal thread")?;
        Ok(Self { received, restored, handle })
    }

    /// The terminal is back: the thread must not exit the process any more, and can end.
    fn restored(&self) {
        let _ = self.restored.send(());
        self.handle.close();
    }
}

/// Leaves raw mode and the alternate screen, and shows the cursor the frames hid. Errors
/// are ignored: they come from a terminal that has hung up, where nothing can be reported
/// (ratatui's own `restore` would print them, and printing to a dead terminal panics).
fn restore() {
    let _ = execute!(io::stdout(), EndSynchronizedUpdate, cursor::Show);
    let _ = ratatui::try_restore();
}

/// Draws one frame as a synchronized update (DEC private mode 2026): ratatui writes a frame
/// in several pieces, and a terminal that supports the mode holds its screen until the end,
/// so it never shows the bottom of one frame under the top of the last. Terminals without it
/// ignore both sequences. The end is sent even when drawing failed, so no terminal is left
/// holding its screen back.
fn draw_whole_frame(terminal: &mut DefaultTerminal, app: &App) -> Result<(), Report> {
    queue!(terminal.backend_mut(), BeginSynchronizedUpdate).wrap_err("drawing the dashboard")?;
    let drawn = terminal.draw(|frame| frame.render_widget(app, frame.area())).map(drop);
    let ended = execute!(terminal.backend_mut(), EndSynchronizedUpdate);
    drawn.wrap_err("drawing the dashboard")?;
    ended.wrap_err("drawing the dashboard")
}

fn event_loop(
    terminal: &mut DefaultTerminal,
    app: &mut App,
    worker: &Worker,
    signal: &AtomicUsize,
) -> Result<Outcome, Failure> {
    let mut dirty = true;
    loop {
        match signal.load(Ordering::SeqCst) {
            0 => {}
            number => return Ok(Outcome::Signal(number as i32)),
        }
        dirty |= app.tick(Instant::now());
        if dirty {
            let size = terminal.size().wrap_err("reading the terminal's size")?;
            let screen = Rect::from((Position::ORIGIN, size));
            if let Some(command) = app.sync_field(ui::field_lattice(app, screen)) {
                worker.send(command);
            }
            app.shade_data(ui::plot_grids(app, screen));
            draw_whole_frame(terminal, app)?;
            app.frame_drawn(Instant::now());
            dirty = false;
        }
        let timeout = if app.expects_snapshots() { BUSY_POLL } else { IDLE_POLL };
        if event::poll(timeout).wrap_err("reading the keyboard")? {
            for _ in 0..EVENTS_PER_TURN {
                match event::read().wrap_err("reading the keyboard")? {
                    Event::Key(key) => {
                        if let Some(action) = action_for(key, app.help_open()) {
                            if let Some(command) = app.update(action) {
                                worker.send(command);
                            }
                            dirty = true;
                        }
                    }
                    Event::Resize(..) => dirty = true,
                    _ => {}
                }
                if app.should_quit() {
                    return Ok(Outcome::Quit);
                }
                if !event::poll(Duration::ZERO).wrap_err("reading the keyboard")? {
                    break;
                }
            }
        }
        loop {
            match worker.try_recv() {
                Ok(snapshot) => dirty |= app.apply(snapshot),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return Err(Failure::TrainerStopped),
            }
        }
    }
}

/// Installs a panic hook that keeps the message of a panic on any thread but this one
/// (formatted as "the NAME thread panicked at FILE:LINE:COL: MESSAGE") and passes this
/// thread's panics on to the hook installed before.
fn keep_background_panics() -> Arc<Mutex<Option<String>>> {
    let kept = Arc::new(Mutex::new(None));
    let slot = Arc::clone(&kept);
    let ui = thread::current().id();
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        let current = thread::current();
        if current.id() == ui {
            let _ = execute!(io::stdout(), EndSynchronizedUpdate, cursor::Show);
            previous(info);
            return;
        }
        let name = current.name().unwrap_or("unnamed");
        let message = format!("the {name} thread {info}").replace('\n', " ");
        if let Ok(mut slot) = slot.lock() {
            slot.get_or_insert(message);
        }
    }));
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_shell_conventions() {
        assert_eq!(Outcome::Quit.exit_code(), 0);
        assert_eq!(Outcome::Signal(SIGTERM).exit_code(), 143);
        assert_eq!(Outcome::Signal(SIGHUP).exit_code(), 129);
        assert_eq!(Failure::NoTerminal.exit_code(), 2);
        assert_eq!(Failure::Panicked(String::new()).exit_code(), 101);
    }

    #[test]
    fn a_background_panic_is_kept_with_its_thread_and_location() {
        let kept = keep_background_panics();
        let joined = thread::Builder::new().name("trainer".into()).spawn(|| panic!("boom")).unwrap().join();
        // Restore the default hook before asserting, so a failure here reports normally.
        let _ = panic::take_hook();
        assert!(joined.is_err());
        let message = kept.lock().unwrap().take().expect("the panic was kept");
        let here = format!("the trainer thread panicked at {}:", file!());
        assert!(message.starts_with(&here), "{message}");
        assert!(message.ends_with("boom"), "{message}");
        assert!(!message.contains('\n'));
    }
}
