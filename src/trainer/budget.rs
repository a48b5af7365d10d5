//! How much of the trainer's time the particles may take while training runs flat out.
//!
//! On two busy cores, stepping the particles beside training on the other core halves
//! training's speed, so while training flat out the particles (and their figures) get at
//! most [`SAMPLING_SHARE`] of the time, metered by a credit that each frame earns and each
//! piece of sampling work spends. Otherwise (paused, finished, paced) there is no limit.

use std::time::{Duration, Instant};

use crate::trainer::figures::FIGURES_EVERY;

/// While training, the share of the trainer's time the particles may take, so that training
/// keeps over 90% of its `--once` speed (measured: docs/dashboard.md). The particles then
/// move a few steps a second, and at full speed once training is paused or over.
pub const SAMPLING_SHARE: f64 = 0.05;
/// Unspent sampling time saved up is capped at a second's worth, so a long wait does not
/// turn into a burst that stalls training.
const MAX_CREDIT: f64 = SAMPLING_SHARE * FIGURES_EVERY.as_secs_f64();

/// Seconds of sampling the particles may still spend while training (negative: overdrawn).
#[derive(Debug, Default)]
pub struct SamplingBudget {
    credit: f64,
}

impl SamplingBudget {
    /// A frame of `frame` spent training flat out earns its share.
    pub fn earn(&mut self, frame: Duration) {
        self.credit = (self.credit + SAMPLING_SHARE * frame.as_secs_f64()).min(MAX_CREDIT);
    }

    /// Runs `work` unless it is `metered` and the credit is spent; `true` if it ran. Metered
    /// work is paid for in the time it took: the last piece may overdraw the credit, and the
    /// next frames repay it.
    pub fn spend(&mut self, metered: bool, work: impl FnOnce()) -> bool {
        if !metered {
            work();
            return true;
        }
        if self.credit <= 0.0 {
            return false;
        }
        let started = Instant::now();
        work();
        self.credit -= started.elapsed().as_secs_f64();
        true
    }
}
