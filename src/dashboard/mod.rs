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
//! - Any signal whose default action ends the process (SIGTERM, SIGHUP, SIGINT, SIGQUIT,
//!   SIGUSR1, SIGALRM …, the list is [`crate::signals::terminating`]): the `signals` thread sets a flag the
//!   loop checks every turn; then as above, and the exit code is 128 + the signal's number, as
//!   a shell reports a signal. Should the loop not end within [`signals::SIGNAL_GRACE`], that
//!   thread restores what it can and exits the process itself.
//!
//! And a way out and back: Ctrl-Z (a key in raw mode) or SIGTSTP restores the terminal and
//! stops the whole process, the trainer with it (a stopped job should not keep a shared
//! machine busy); `fg` continues it, and the loop takes the terminal back and redraws every
//! cell. Without a shell that could `fg` it, the dashboard does not stop (see
//! [`signals::can_be_continued`]).
//! - An error (drawing, reading input) or the trainer stopping: as above, then reported.
//! - A panic on the UI thread: ratatui's panic hook restores, then color-eyre prints it.
//! - A panic on any other thread (the trainer, the Langevin pool): the hook installed here
//!   keeps its message instead of restoring the terminal under the running UI or printing
//!   over the screen; the UI sees the trainer gone, restores, and the message is printed.

use std::fmt;
use std::io::{self, IsTerminal};
use std::panic;
use std::path::PathBuf;
use std::sync::mpsc::TryRecvError;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use color_eyre::Report;
use color_eyre::eyre::WrapErr;
use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event, MouseButton, MouseEventKind};
use ratatui::crossterm::terminal::{
    self as crossterm_terminal, BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen,
};
use ratatui::crossterm::{cursor, execute, queue};
use ratatui::layout::{Position, Rect};
use signal_hook::consts::SIGSTOP;

use crate::app::App;
use crate::app::keys::{
    Action, action_for, draw_action_for, key_of_hint, loss_pointer_for, pointer_for, view_pointer_for,
};
use crate::config::Config;
use crate::nn::Mlp;
use crate::trainer::worker::{Shutdown, Worker};
use crate::ui::{self, theme};

mod signals;

use signals::{Requests, SignalWatch};

/// Input poll while snapshots are arriving (20 a second): short, so they show promptly.
const BUSY_POLL: Duration = Duration::from_millis(15);
/// Input poll when nothing moves: long, so an idle dashboard sleeps; it bounds how late a
/// signal is noticed.
const IDLE_POLL: Duration = Duration::from_millis(250);
/// Input events handled per turn before the trainer's snapshots get a look.
const EVENTS_PER_TURN: usize = 64;
/// How long quitting waits for the trainer to finish its frame.
const TRAINER_GRACE: Duration = Duration::from_secs(2);

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
            Outcome::Signal(signal) => crate::signals::exit_code(signal),
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
            // The error chain on one line ("context: cause"), not color-eyre's report.
            Failure::Other(report) => write!(f, "{report:#}"),
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

/// Opens the dashboard on `config`, its first run starting from `start`'s weights (the
/// checkpoint loaded from `loaded`) when given, and runs it until the user quits. `w` saves to `save_to` if given;
/// training starts at `pace` steps per frame if given (`--pace`), else flat out. With
/// `mouse`, the terminal reports the mouse to the dashboard (SGR reporting) for draw mode.
pub fn run(
    config: &Config,
    start: Option<Mlp<f32>>,
    loaded: Option<PathBuf>,
    save_to: Option<PathBuf>,
    pace: Option<usize>,
    mouse: bool,
) -> Result<Outcome, Failure> {
    if !(io::stdin().is_terminal() && io::stdout().is_terminal()) {
        return Err(Failure::NoTerminal);
    }
    let watch = SignalWatch::start()?;
    // The session's own parallel work runs on rayon's global pool: name its threads too
    // (an error means the pool exists already, which is fine).
    let _ = rayon::ThreadPoolBuilder::new().thread_name(|i| format!("rayon-{i}")).build_global();
    let colour = theme::colour_allowed(std::env::var_os("NO_COLOR").as_deref());
    let mut app =
        App::new(config.clone()).saving_to(save_to).loaded_from(loaded).pacing(pace).with_colour(colour).advised();
    let worker = Worker::spawn(config, app.settings(), start)?;
    let mut terminal = match ratatui::try_init() {
        Ok(terminal) => terminal,
        Err(err) => {
            restore();
            watch.restored();
            let _ = worker.shutdown(TRAINER_GRACE);
            return Err(Report::new(err).wrap_err("setting up the terminal").into());
        }
    };
    // After ratatui's hook, so that this one runs first and can keep it from restoring.
    let background_panic = keep_background_panics();
    let result = capture_mouse(mouse)
        .map_err(Failure::from)
        .and_then(|()| event_loop(&mut terminal, &mut app, &worker, &watch.requests, mouse));
    restore();
    watch.restored();
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

/// Leaves raw mode and the alternate screen, stops the mouse reports, and shows the cursor
/// the frames hid. Errors are ignored: they come from a terminal that has hung up, where
/// nothing can be reported (ratatui's own `restore` would print them, and printing to a dead
/// terminal panics). Turning off a mouse mode that was never on is harmless, so the reports
/// are stopped whether or not `--no-mouse` was given.
fn restore() {
    let _ = execute!(io::stdout(), EndSynchronizedUpdate, DisableMouseCapture, cursor::Show);
    let _ = ratatui::try_restore();
}

/// Asks the terminal to report mouse presses, drags and releases (with SGR coordinates, which
/// work at any size, over SSH and in tmux), when `mouse` is on.
fn capture_mouse(mouse: bool) -> Result<(), Report> {
    if mouse {
        execute!(io::stdout(), EnableMouseCapture).wrap_err("turning on mouse reports")?;
    }
    Ok(())
}

/// Ctrl-Z or SIGTSTP: gives the terminal back as it was, stops the process (SIGSTOP, as
/// SIGTSTP's default action would; it cannot be caught, so this returns only once continued),
/// then takes the terminal again as `ratatui::try_init` did, and clears it, so that the next
/// frame writes every cell instead of ratatui's difference from a frame no longer on screen.
/// Does nothing when no shell could continue the process.
fn suspend(terminal: &mut DefaultTerminal, mouse: bool) -> Result<(), Report> {
    if !signals::can_be_continued() {
        return Ok(());
    }
    restore();
    let stopped = signal_hook::low_level::raise(SIGSTOP).wrap_err("stopping the process");
    crossterm_terminal::enable_raw_mode().wrap_err("taking the terminal back")?;
    execute!(io::stdout(), EnterAlternateScreen, cursor::Hide).wrap_err("taking the terminal back")?;
    capture_mouse(mouse)?;
    terminal.clear().wrap_err("taking the terminal back")?;
    stopped
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
    requests: &Requests,
    mouse: bool,
) -> Result<Outcome, Failure> {
    let mut dirty = true;
    let mut suspend_key = false;
    loop {
        if let Some(number) = requests.termination() {
            return Ok(Outcome::Signal(number));
        }
        if requests.take_suspend() || std::mem::take(&mut suspend_key) {
            suspend(terminal, mouse)?;
            dirty = true;
        }
        dirty |= app.tick(Instant::now());
        if dirty {
            let size = terminal.size().wrap_err("reading the terminal's size")?;
            let screen = Rect::from((Position::ORIGIN, size));
            if let Some(command) = app.sync_field(ui::field_lattice(app, screen)) {
                worker.send(command);
            }
            if let Some(command) = app.sync_density(ui::density_lattice(app, screen)) {
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
                let action = match event::read().wrap_err("reading the keyboard")? {
                    Event::Key(key) => action_of(app, key),
                    Event::Mouse(mouse) => {
                        let size = terminal.size().wrap_err("reading the terminal's size")?;
                        let screen = Rect::from((Position::ORIGIN, size));
                        match clicked_hint(app, mouse, screen) {
                            Some(key) => action_of(app, key),
                            None => {
                                dirty |= pointer_event(app, mouse, screen);
                                None
                            }
                        }
                    }
                    Event::Resize(..) => {
                        dirty = true;
                        None
                    }
                    _ => None,
                };
                match action {
                    // The terminal is the loop's: it suspends at the top of the next turn.
                    Some(Action::Suspend) => suspend_key = true,
                    Some(action) => {
                        if let Some(command) = app.update(action) {
                            worker.send(command);
                        }
                        dirty = true;
                    }
                    None => {}
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

/// The key a left click on one of the footer's hints stands for.
fn clicked_hint(app: &App, mouse: event::MouseEvent, screen: Rect) -> Option<event::KeyEvent> {
    if mouse.kind != MouseEventKind::Down(MouseButton::Left) {
        return None;
    }
    let (hint, at) = ui::footer_hint_at(app, screen, mouse.column, mouse.row)?;
    key_of_hint(hint, at)
}

/// Hands a mouse event to what is under the pointer: draw mode's canvas, or the loss panel
/// and the samples panel's view (a release goes to the samples panel wherever it falls, to
/// end a drag begun there). Whether the screen changed.
fn pointer_event(app: &mut App, mouse: event::MouseEvent, screen: Rect) -> bool {
    let region = ui::samples_transform(app, screen).and_then(|t| t.region_at(mouse.column, mouse.row));
    let (cell, now) = ((mouse.column, mouse.row), Instant::now());
    if app.drawing().is_some() {
        return pointer_for(mouse.kind, region).is_some_and(|pointer| app.pointer(pointer, now));
    }
    let target = ui::loss_target_at(app, screen, mouse.column, mouse.row);
    let on_loss_panel = ui::loss_panel(app, screen).is_some_and(|panel| panel.contains(Position::new(cell.0, cell.1)));
    let mut changed = loss_pointer_for(mouse.kind, target, cell).is_some_and(|pointer| app.loss_pointer(pointer, now));
    if !on_loss_panel || matches!(mouse.kind, MouseEventKind::Up(_)) {
        changed |= view_pointer_for(mouse.kind, region, cell).is_some_and(|pointer| app.view_pointer(pointer, now));
    }
    changed
}

/// What `key` does in `app`'s state: draw mode has keys of its own.
fn action_of(app: &App, key: event::KeyEvent) -> Option<Action> {
    if app.drawing().is_some() { draw_action_for(key) } else { action_for(key, app.help_open()) }
}

/// Installs a panic hook that keeps the message of a panic on any thread but this one
/// (formatted as "the NAME thread panicked at FILE:LINE:COL: MESSAGE") and passes this
/// thread's panics on to the hook installed before. Public for `tests/panic_hook.rs`, which
/// tests it in a process of its own: the hook is global, and any other test's panic on
/// another thread would be kept instead.
pub fn keep_background_panics() -> Arc<Mutex<Option<String>>> {
    let kept = Arc::new(Mutex::new(None));
    let slot = Arc::clone(&kept);
    let ui = thread::current().id();
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        let current = thread::current();
        if current.id() == ui {
            let _ = execute!(io::stdout(), EndSynchronizedUpdate, DisableMouseCapture, cursor::Show);
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
    use signal_hook::consts::{SIGHUP, SIGTERM};

    use super::*;

    #[test]
    fn exit_codes_follow_shell_conventions() {
        assert_eq!(Outcome::Quit.exit_code(), 0);
        assert_eq!(Outcome::Signal(SIGTERM).exit_code(), 143);
        assert_eq!(Outcome::Signal(SIGHUP).exit_code(), 129);
        assert_eq!(Failure::NoTerminal.exit_code(), 2);
        assert_eq!(Failure::Panicked(String::new()).exit_code(), 101);
    }
}
