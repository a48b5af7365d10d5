//! The one line that replaces the key hints for a while: where a save went, or why a key did
//! nothing and what to do instead.

use std::time::{Duration, Instant};

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
/// `o` in annealed mode.
pub const NO_ANNEALED_ISM: &str = "annealed mode trains by DSM: ISM has no noise-conditional version here";

/// Space once training has ended.
pub const NO_PAUSE_FINISHED: &str = "training is over: n starts a new run";
/// Space after a divergence.
pub const NO_PAUSE_DIVERGED: &str = "the run diverged: n starts a new one";

/// `f` in the compare view.
pub const NO_FIELD_COMPARING: &str = "the score field draws on the main view: c goes back to it";
