//! Keys become [`Action`]s through a pure function, tested without a terminal.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

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
            _ => return None,
        },
        _ => return None,
    };
    Some(action)
}
