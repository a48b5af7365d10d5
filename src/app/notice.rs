//! The one line that replaces the key hints for a while: where a save went, or why a key did
//! nothing and what to do instead.

use std::time::{Duration, Instant};

use crate::config::{Config, Mode};
use crate::data::{Builtin, Source};
use crate::trainer::protocol::Saved;

/// How long a notice (where a save went) stays in place of the key hints: long enough to
/// read a path twice.
pub const NOTICE_TIME: Duration = Duration::from_secs(6);

/// What replaces the key hints for [`NOTICE_TIME`].
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    /// Where a save went, or why it did not.
    Saved(Saved),
    /// Why a key did nothing in this mode, and what to do instead.
    Unavailable(&'static str),
    /// What a key changed that the screen does not show yet (a pace set while paused).
    Changed(String),
    /// What to try instead where a run will disappoint (single σ on the circles).
    Advice(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub message: Message,
    /// When it was first on screen (set by [`App::tick`]).
    pub(super) since: Option<Instant>,
}

impl Notice {
    /// A notice not yet on screen.
    pub fn new(message: Message) -> Self {
        Self { message, since: None }
    }
}

/// `c` in single mode.
pub const NO_COMPARE: &str = "c needs the noise-conditional model: run dsm-tui --mode annealed";
/// `s` in single mode.
pub const NO_SAMPLERS: &str = "s needs the noise-conditional model: a switches to annealed mode";
/// `o` in annealed mode.
pub const NO_ANNEALED_ISM: &str = "annealed mode trains by DSM: ISM has no noise-conditional version here";

/// Space once training has ended.
pub const NO_PAUSE_FINISHED: &str = "training is over: n starts a new run";
/// Space after a divergence.
pub const NO_PAUSE_DIVERGED: &str = "the run diverged: n starts a new one";

/// `f` in the compare view.
/// `g` in single mode.
pub const NO_DENSITY: &str = "g needs the noise-conditional model (its ODE): a switches to annealed mode";
/// `g` in the compare view.
pub const NO_DENSITY_COMPARING: &str = "the log density draws on the main view: c goes back to it";
/// `j` in the compare view.
pub const NO_PATHS_COMPARING: &str = "the paths draw on the main view: c goes back to it";
pub const NO_FIELD_COMPARING: &str = "the score field draws on the main view: c goes back to it";

/// `x` with no earlier runs on the loss panel.
pub const NO_PAST_RUNS: &str = "no earlier runs to clear: n, o, d and a keep the run they replace";

/// The advice for a run of `config`, if any: single-σ Langevin turns the circles and the
/// checkerboard into blurs (checkerboard energy distance 0.0123 against annealed's 0.0011,
/// issue 17), and only the annealed key reaches the mode that draws them sharp.
pub fn single_sigma_advice(config: &Config) -> Option<Message> {
    let blurred = matches!(config.source, Source::Builtin(Builtin::Circles | Builtin::Checkerboard));
    (config.mode == Mode::Single && blurred)
        .then(|| Message::Advice(format!("single σ blurs {} — a: annealed", config.source.name())))
}

/// `e` in the compare view.
pub const NO_DRAWING_COMPARING: &str = "draw on the main view: c goes back to it, then e";

/// Enter on a drawing too small to learn from (its count is `MIN_DRAWN_POINTS`).
pub const NO_DRAWING_TOO_FEW: &str = "a drawing needs at least 50 points to train on: keep drawing";
