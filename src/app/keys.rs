//! Keys become [`Action`]s through a pure function, tested without a terminal.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEventKind};

use crate::app::drawing::{Pointer, Region, Stroke};

/// What a key asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    TogglePause,
    /// `t`: the next of [`crate::app::next_run::TRAINING_PACES`].
    CyclePace,
    Resample,
    NewRun,
    SwitchObjective,
    CycleDataset,
    /// `a`: a new run in the other mode, single σ ⇄ annealed.
    SwitchMode,
    /// `x`: forget the earlier runs' curves.
    ClearPastRuns,
    Save,
    RaiseEta,
    LowerEta,
    FewerSteps,
    MoreSteps,
    /// `p`: hold the particles, or let them flow again.
    ToggleHold,
    /// `.`: one Langevin step (holding the particles).
    AdvanceStep,
    /// `>`: to the end of the level (holding the particles).
    AdvanceLevel,
    /// `c`: the two samplers side by side, or back.
    ToggleCompare,
    ToggleScale,
    ToggleWindow,
    ToggleFisher,
    CycleView,
    CycleField,
    ToggleHelp,
    CloseHelp,
    Quit,
    /// Ctrl-Z: stop the dashboard until `fg`, as in any terminal program.
    Suspend,
    /// `e`: draw a data set with the mouse on the samples panel.
    StartDrawing,
    /// A key of draw mode ([`draw_action_for`]).
    Draw(DrawAction),
}

/// What a key does in draw mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DrawAction {
    /// Enter: train on the drawing.
    Train,
    /// Esc: back to the run, the drawing dropped.
    Cancel,
    /// `u`: the last stroke undone.
    Undo,
    /// `x`: every point cleared.
    Clear,
    /// `+`: a larger brush.
    LargerBrush,
    /// `-`: a smaller brush.
    SmallerBrush,
}

/// The action of a key press, if any. Esc closes the help when it is open, and quits
/// otherwise; letters work in either case; key releases (sent by some terminals) do nothing.
pub fn action_for(key: KeyEvent, help_open: bool) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return match key.code {
            KeyCode::Char('c' | 'C') => Some(Action::Quit),
            KeyCode::Char('z' | 'Z') => Some(Action::Suspend),
            _ => None,
        };
    }
    // Under the help overlay only the keys that close it or quit act: a key read there must
    // not change the run hidden behind it.
    if help_open {
        return match key.code {
            KeyCode::Esc => Some(Action::CloseHelp),
            KeyCode::Char('?') => Some(Action::ToggleHelp),
            KeyCode::Char('q' | 'Q') => Some(Action::Quit),
            _ => None,
        };
    }
    let action = match key.code {
        KeyCode::Esc => Action::Quit,
        KeyCode::Char(c) => match c.to_ascii_lowercase() {
            ' ' => Action::TogglePause,
            't' => Action::CyclePace,
            'r' => Action::Resample,
            'n' => Action::NewRun,
            'o' => Action::SwitchObjective,
            'd' => Action::CycleDataset,
            'a' => Action::SwitchMode,
            'x' => Action::ClearPastRuns,
            'w' => Action::Save,
            '+' | '=' => Action::RaiseEta,
            '-' | '_' => Action::LowerEta,
            '[' => Action::FewerSteps,
            ']' => Action::MoreSteps,
            'p' => Action::ToggleHold,
            '.' => Action::AdvanceStep,
            '>' => Action::AdvanceLevel,
            'c' => Action::ToggleCompare,
            'l' => Action::ToggleScale,
            'h' => Action::ToggleWindow,
            'i' => Action::ToggleFisher,
            'v' => Action::CycleView,
            'f' => Action::CycleField,
            '?' => Action::ToggleHelp,
            'q' => Action::Quit,
            'e' => Action::StartDrawing,
            _ => return None,
        },
        _ => return None,
    };
    Some(action)
}

/// The action of a key press in draw mode, where the mouse draws and the keys edit: Enter
/// trains, Esc leaves, `u` undoes, `x` clears, `+`/`-` size the brush; `q`, Ctrl-C and
/// Ctrl-Z as everywhere. Other keys do nothing, so none changes the run behind the canvas.
pub fn draw_action_for(key: KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return action_for(key, false);
    }
    let draw = match key.code {
        KeyCode::Enter => DrawAction::Train,
        KeyCode::Esc => DrawAction::Cancel,
        KeyCode::Char(c) => match c.to_ascii_lowercase() {
            'u' => DrawAction::Undo,
            'x' => DrawAction::Clear,
            '+' | '=' => DrawAction::LargerBrush,
            '-' | '_' => DrawAction::SmallerBrush,
            'q' => return Some(Action::Quit),
            _ => return None,
        },
        _ => return None,
    };
    Some(Action::Draw(draw))
}

/// What a mouse event does on the canvas, given the region of the plane under the pointer
/// (`None`: off the canvas). The left button draws, the right one erases; a drag off the
/// canvas does nothing but does not end the stroke, and a release anywhere ends it.
pub fn pointer_for(kind: MouseEventKind, region: Option<Region>) -> Option<Pointer> {
    match (kind, region) {
        (MouseEventKind::Down(MouseButton::Left), Some(at)) => Some(Pointer::Press(Stroke::Draw, at)),
        (MouseEventKind::Down(MouseButton::Right), Some(at)) => Some(Pointer::Press(Stroke::Erase, at)),
        (MouseEventKind::Drag(MouseButton::Left | MouseButton::Right), Some(at)) => Some(Pointer::Drag(at)),
        (MouseEventKind::Up(_), _) => Some(Pointer::Release),
        _ => None,
    }
}
