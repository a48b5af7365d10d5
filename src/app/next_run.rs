//! What the next run is when a key starts one: the training pace it runs at (`t`, and the
//! default that makes a run watchable), and the configuration `d` (next data set) and `a`
//! (the other mode) move to. Pure functions of configurations, so `App` only decides when.

use std::time::Duration;

use crate::config::{Config, Mode};
use crate::data::{Builtin, Source};
use crate::objective::Objective;
use crate::trainer::protocol::FRAME;

/// Training paces `t` cycles through, in steps per frame (a frame is 50 ms): flat out, then
/// 2000, 400, 100 and 20 steps/s. The default run trains in under a second; paced, the loss
/// falls slowly enough to watch and the particles flow under the score as it is learned.
pub const TRAINING_PACES: [Option<usize>; 5] = [None, Some(100), Some(20), Some(5), Some(1)];

/// How long a default dashboard run's training takes: long enough to watch the loss fall
/// and the particles follow the score as it is learned (flat out, the default run is over
/// in about a second and the particles, held to a small share of the time while training,
/// only start to move afterwards).
pub const WATCH_TIME: Duration = Duration::from_secs(18);

/// The pace a dashboard run starts at without `--pace`: training steps per frame so that
/// `config`'s whole run takes about [`WATCH_TIME`] (at least one step a frame). It is not one
/// of [`TRAINING_PACES`]: `t` leaves it for flat out.
pub fn watchable_pace(config: &Config) -> usize {
    let frames = (WATCH_TIME.as_secs_f64() / FRAME.as_secs_f64()).round() as u64;
    config.total_steps().div_ceil(frames).max(1) as usize
}

/// A pace of `steps_per_frame` as steps per second.
pub fn steps_per_second(steps_per_frame: usize) -> usize {
    (steps_per_frame as f64 / FRAME.as_secs_f64()).round() as usize
}

/// The configuration `d` moves to from `current`: the next built-in set in
/// [`Builtin::ALL`]'s order, wrapping, with that set's noise and σ, everything else kept.
/// When the dashboard was `launched` on the user's file, the file is part of the cycle too,
/// after the last built-in set, and so is the last `drawn` data set (draw mode, `e`) once
/// there is one, as it was trained. The set it was launched on comes back with the launch's
/// own count, noise and σ (the flags were given for it), so a full cycle ends where it began.
pub fn next_dataset(launched: &Config, current: &Config, drawn: Option<&Config>) -> Config {
    let last = Builtin::ALL[Builtin::ALL.len() - 1];
    let launched_file = matches!(launched.source, Source::File { .. }).then_some(&launched.source);
    let drawn_source = drawn.map(|d| &d.source).filter(|&d| Some(d) != launched_file);
    // The sets after the built-in ones, in order.
    let extra: Vec<&Source> = launched_file.into_iter().chain(drawn_source).collect();
    let source = match &current.source {
        Source::Builtin(b) if *b == last => extra.first().map_or(Source::Builtin(Builtin::ALL[0]), |&s| s.clone()),
        Source::Builtin(b) => Source::Builtin(b.next()),
        file => {
            let at = extra.iter().position(|&s| s == file);
            at.and_then(|i| extra.get(i + 1)).map_or(Source::Builtin(Builtin::ALL[0]), |&s| s.clone())
        }
    };
    if let Some(drawn) = drawn.filter(|d| d.source == source && Some(&source) != launched_file) {
        let (count, noise, sigma, epochs, lr_gamma) =
            (drawn.count, drawn.noise, drawn.sigma, drawn.epochs, drawn.lr_gamma);
        return Config { source, count, noise, sigma, epochs, lr_gamma, ..current.clone() };
    }
    // Leaving a drawing: the launch's length and decay again.
    let (epochs, lr_gamma) = (launched.epochs, launched.lr_gamma);
    let (count, noise, sigma) = match &source {
        s if *s == launched.source => (launched.count, launched.noise, launched.sigma),
        Source::Builtin(b) => {
            // --count is the launch's for a built-in set; a file's size means nothing here.
            let count = match launched.source {
                Source::Builtin(_) => launched.count,
                Source::File { .. } => Config::default().count,
            };
            (count, b.default_noise(), b.default_sigma())
        }
        Source::File { .. } => unreachable!("the files in the cycle are the launch's and the drawing"),
    };
    Config { source, count, noise, sigma, epochs, lr_gamma, ..current.clone() }
}

/// The configuration `a` moves to from `current`: the other mode, with that mode's training
/// (network, epochs, decay): the launch's for the mode it was launched in, the defaults
/// otherwise, as `--mode` would give (the noise-conditional model needs its deeper net and
/// longer training). The seed, data and sampler settings are kept, so the two modes are seen
/// on the same data; annealed mode trains by DSM only, and a return to the launch's mode
/// brings back its objective.
pub fn next_mode(launched: &Config, current: &Config) -> Config {
    let mode = match current.mode {
        Mode::Single => Mode::Annealed,
        Mode::Annealed => Mode::Single,
    };
    let training = if mode == launched.mode {
        launched.clone()
    } else {
        match mode {
            Mode::Single => Config::default(),
            Mode::Annealed => Config::default().with_annealed_training(),
        }
    };
    let objective = if mode == Mode::Annealed { Objective::Dsm } else { training.objective };
    Config {
        mode,
        objective,
        hidden: training.hidden,
        depth: training.depth,
        epochs: training.epochs,
        lr_gamma: training.lr_gamma,
        ..current.clone()
    }
}
