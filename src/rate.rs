//! Events per second over a sliding one-second window: the trainer's steps/s and the UI's
//! frames/s. Callers pass the time in, so the meter is deterministic under test.

use std::time::{Duration, Instant};

/// How long a window is before its rate is published.
pub const WINDOW: Duration = Duration::from_secs(1);

#[derive(Clone, Debug, Default)]
pub struct RateMeter {
    window: Option<(Instant, u64)>,
    rate: Option<f64>,
}

impl RateMeter {
    /// Records that `count` events have happened in total by `now`.
    pub fn observe(&mut self, count: u64, now: Instant) {
        match self.window {
            Some((start, at_start)) if now.duration_since(start) >= WINDOW => {
                let seconds = now.duration_since(start).as_secs_f64();
                self.rate = Some(count.saturating_sub(at_start) as f64 / seconds);
                self.window = Some((now, count));
            }
            Some(_) => {}
            None => self.window = Some((now, count)),
        }
    }

    /// Events per second over the last completed window; `None` until one has completed.
    pub fn rate(&self) -> Option<f64> {
        self.rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publishes_a_rate_once_a_window_has_passed() {
        let t0 = Instant::now();
        let mut meter = RateMeter::default();
        meter.observe(0, t0);
        meter.observe(50, t0 + Duration::from_millis(500));
        assert_eq!(meter.rate(), None);
        meter.observe(200, t0 + Duration::from_secs(2));
        assert_eq!(meter.rate(), Some(100.0));
        // A counter that restarted (a new run) reads as no events, not as a huge number.
        meter.observe(10, t0 + Duration::from_secs(3));
        assert_eq!(meter.rate(), Some(0.0));
    }
}
