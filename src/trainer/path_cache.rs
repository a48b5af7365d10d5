//! The paths view's side in the trainer: while the UI's view is on
//! ([`Command::ShowPaths`](crate::trainer::protocol::Command::ShowPaths)), a few particles
//! traced through the whole chain the run's particles follow ([`paths::trace`]), under the
//! weights of the moment (the course's endless chain for `--steps` steps). Traced again when
//! the sampler or the step size changes, and while training moves the weights at most every
//! [`PATHS_EVERY`] (a trace runs the whole
//! chain: 1,001 evaluations for annealed Langevin, on 30 particles about 30 ms). With the
//! view off nothing is computed.

use std::time::{Duration, Instant};

use crate::config::Sampler;
use crate::sampling::paths;
use crate::trainer::protocol::{Paths, Settings};
use crate::trainer::run::{Run, chain_for};

/// Time between traces while training moves the weights.
pub const PATHS_EVERY: Duration = Duration::from_secs(1);

/// What the last trace was of.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Traced {
    at: Instant,
    step: u64,
    sampler: Sampler,
    /// The chain's parameters that change a path: η, c.
    knobs: [u64; 2],
}

/// The paths view's request and its last trace.
#[derive(Default)]
pub struct PathCache {
    traced: Option<Traced>,
}

impl PathCache {
    /// The run's paths when those last traced are out of date (see the module docs; at once
    /// when `idle`, about to wait for a command).
    pub fn refresh(&mut self, run: &Run, settings: &Settings, idle: bool) -> Option<Paths> {
        self.refresh_at(run, settings, idle, Instant::now())
    }

    fn refresh_at(&mut self, run: &Run, settings: &Settings, idle: bool, now: Instant) -> Option<Paths> {
        let step = run.session.step();
        let knobs = [settings.eta.to_bits(), settings.step_scale.to_bits()];
        let due = self.traced.is_none_or(|t| {
            let moved = t.step != step && (idle || now.saturating_duration_since(t.at) >= PATHS_EVERY);
            t.sampler != settings.sampler || t.knobs != knobs || moved
        });
        if !due {
            return None;
        }
        self.traced = Some(Traced { at: now, step, sampler: settings.sampler, knobs });
        let config = run.session.config();
        let chain = chain_for(config, settings);
        Some(paths::trace(chain, run.start, run.seed, run.session.model(), config.steps))
    }
}
