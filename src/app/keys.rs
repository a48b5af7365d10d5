//! Keys become [`Action`]s through a pure function, tested without a terminal.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEventKind};

use crate::app::drawing::{Pointer, Region, Stroke};
use crate::app::loss_pointer::{LossPointer, LossTarget};
use crate::app::zoom::ViewPointer;

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
    /// `s`: the annealed mode's next sampler.
    CycleSampler,
    /// `b`: the compare view's next left-hand sampler.
    CycleBeside,
    /// `j`: a few particles' paths through the sampler over the samples, or not.
    TogglePaths,
    /// `g`: the log-density view: off, the model's (ODE), the exact one.
    CycleDensity,
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
    /// `0`: the samples panel back to the data set's bounds after a zoom or pan.
    ResetView,
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
            's' => Action::CycleSampler,
            'b' => Action::CycleBeside,
            'j' => Action::TogglePaths,
            'g' => Action::CycleDensity,
            'l' => Action::ToggleScale,
            'h' => Action::ToggleWindow,
            'i' => Action::ToggleFisher,
            'v' => Action::CycleView,
            'f' => Action::CycleField,
            '?' => Action::ToggleHelp,
            'q' => Action::Quit,
            'e' => Action::StartDrawing,
            '0' => Action::ResetView,
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

/// What a mouse event over the samples panel's plot does outside draw mode, given the
/// region of the plane under the pointer and its terminal cell: the wheel zooms about the
/// point, a left drag pans. A release anywhere ends a drag.
pub fn view_pointer_for(kind: MouseEventKind, region: Option<Region>, cell: (u16, u16)) -> Option<ViewPointer> {
    let at = region.map(|r| [r.min[0] + r.size[0] / 2.0, r.min[1] + r.size[1] / 2.0]);
    match (kind, at) {
        (MouseEventKind::ScrollUp, Some(at)) => Some(ViewPointer::Wheel { closer: true, at }),
        (MouseEventKind::ScrollDown, Some(at)) => Some(ViewPointer::Wheel { closer: false, at }),
        (MouseEventKind::Down(MouseButton::Left), Some(at)) => Some(ViewPointer::Press { at, cell }),
        (MouseEventKind::Drag(MouseButton::Left), Some(at)) => Some(ViewPointer::Drag { at }),
        (MouseEventKind::Up(_), _) => Some(ViewPointer::Release),
        _ => None,
    }
}

/// What a mouse event does over the loss panel, given what is under the pointer there
/// (`None`: off the panel's graphs and legend) and its terminal cell. Motion and a left drag
/// move the crosshair; a press on a legend entry hides or shows its curve; motion or a press
/// anywhere else takes the crosshair away.
pub fn loss_pointer_for(kind: MouseEventKind, target: Option<LossTarget>, cell: (u16, u16)) -> Option<LossPointer> {
    match (kind, target) {
        (MouseEventKind::ScrollUp, Some(LossTarget::Graph { step })) => Some(LossPointer::Wheel { closer: true, step }),
        (MouseEventKind::ScrollDown, Some(LossTarget::Graph { step })) => {
            Some(LossPointer::Wheel { closer: false, step })
        }
        (MouseEventKind::Down(MouseButton::Left), Some(LossTarget::Graph { step })) => {
            Some(LossPointer::Press { step, cell })
        }
        (MouseEventKind::Moved | MouseEventKind::Drag(MouseButton::Left), Some(LossTarget::Graph { step })) => {
            Some(LossPointer::Point { step })
        }
        (MouseEventKind::Down(MouseButton::Left), Some(LossTarget::Legend(curve))) => Some(LossPointer::Toggle(curve)),
        (MouseEventKind::Moved | MouseEventKind::Down(_), _) => Some(LossPointer::Leave),
        _ => None,
    }
}

/// The key a click on a footer hint stands for: the hint's key (`Space`, `Enter`, `Esc`, a
/// letter), or for a pair such as `+/-` the half clicked (`at`: the column within the key;
/// elsewhere in the hint, its first). Hints that name a mouse action stand for no key.
pub fn key_of_hint(hint: &str, at: usize) -> Option<KeyEvent> {
    let code = match hint {
        "Space" => KeyCode::Char(' '),
        "Enter" => KeyCode::Enter,
        "Esc" => KeyCode::Esc,
        pair if pair.chars().count() == 3 && pair.chars().nth(1) == Some('/') => {
            KeyCode::Char(pair.chars().nth(if at == 2 { 2 } else { 0 })?)
        }
        single if single.chars().count() == 1 => KeyCode::Char(single.chars().next()?),
        _ => return None,
    };
    Some(KeyEvent::new(code, KeyModifiers::NONE))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::view::Curve;

    #[test]
    fn the_loss_panel_takes_the_wheel_presses_and_motion() {
        let graph = Some(LossTarget::Graph { step: 120.0 });
        let legend = Some(LossTarget::Legend(Curve::Test));
        let left = MouseButton::Left;
        let cases = [
            (MouseEventKind::ScrollUp, graph, Some(LossPointer::Wheel { closer: true, step: 120.0 })),
            (MouseEventKind::ScrollDown, graph, Some(LossPointer::Wheel { closer: false, step: 120.0 })),
            (MouseEventKind::Down(left), graph, Some(LossPointer::Press { step: 120.0, cell: (5, 6) })),
            (MouseEventKind::Moved, graph, Some(LossPointer::Point { step: 120.0 })),
            (MouseEventKind::Drag(left), graph, Some(LossPointer::Point { step: 120.0 })),
            (MouseEventKind::Down(left), legend, Some(LossPointer::Toggle(Curve::Test))),
            (MouseEventKind::Moved, legend, Some(LossPointer::Leave)),
            (MouseEventKind::Moved, None, Some(LossPointer::Leave)),
            (MouseEventKind::Down(MouseButton::Right), graph, Some(LossPointer::Leave)),
            (MouseEventKind::ScrollUp, None, None),
            (MouseEventKind::ScrollUp, legend, None),
            (MouseEventKind::Up(left), graph, None),
            (MouseEventKind::Drag(MouseButton::Right), graph, None),
        ];
        for (kind, target, want) in cases {
            assert_eq!(loss_pointer_for(kind, target, (5, 6)), want, "{kind:?} over {target:?}");
        }
    }

    #[test]
    fn a_hint_stands_for_its_key() {
        let code = |hint, at| key_of_hint(hint, at).map(|k| k.code);
        assert_eq!(code("Space", 3), Some(KeyCode::Char(' ')));
        assert_eq!(code("Enter", 0), Some(KeyCode::Enter));
        assert_eq!(code("Esc", 1), Some(KeyCode::Esc));
        assert_eq!(code("d", 0), Some(KeyCode::Char('d')));
        assert_eq!(code("+/-", 0), Some(KeyCode::Char('+')));
        assert_eq!(code("+/-", 1), Some(KeyCode::Char('+')), "the slash: the first");
        assert_eq!(code("+/-", 2), Some(KeyCode::Char('-')));
        assert_eq!(code("[/]", 2), Some(KeyCode::Char(']')));
        assert_eq!(code("drag", 0), None, "a mouse action is no key");
        assert_eq!(code("right-drag", 0), None);
    }

    #[test]
    fn the_wheel_zooms_a_left_drag_pans_and_a_release_anywhere_ends_it() {
        let r = Region { min: [1.0, 2.0], size: [0.5, 1.0] };
        let at = [1.25, 2.5];
        assert_eq!(
            view_pointer_for(MouseEventKind::ScrollUp, Some(r), (3, 4)),
            Some(ViewPointer::Wheel { closer: true, at })
        );
        assert_eq!(
            view_pointer_for(MouseEventKind::ScrollDown, Some(r), (3, 4)),
            Some(ViewPointer::Wheel { closer: false, at })
        );
        let down = MouseEventKind::Down(MouseButton::Left);
        assert_eq!(view_pointer_for(down, Some(r), (3, 4)), Some(ViewPointer::Press { at, cell: (3, 4) }));
        assert_eq!(
            view_pointer_for(MouseEventKind::Drag(MouseButton::Left), Some(r), (3, 4)),
            Some(ViewPointer::Drag { at })
        );
        assert_eq!(view_pointer_for(MouseEventKind::Up(MouseButton::Left), None, (0, 0)), Some(ViewPointer::Release));
        assert_eq!(view_pointer_for(MouseEventKind::ScrollUp, None, (0, 0)), None, "off the plot");
        assert_eq!(
            pointer_for(MouseEventKind::Down(MouseButton::Right), Some(r)),
            Some(Pointer::Press(Stroke::Erase, r))
        );
        assert_eq!(pointer_for(MouseEventKind::Drag(MouseButton::Left), None), None, "a drag off the canvas");
        assert_eq!(pointer_for(MouseEventKind::Up(MouseButton::Right), None), Some(Pointer::Release));
    }
}
