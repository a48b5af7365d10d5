//! The train loss of each step, kept whole or in bounded memory. The dashboard keeps every
//! step (it reads them by index from the last delivered one, and its own history decimates);
//! a headless run keeps at most [`HEADLESS_VALUES`] values, so a run of any length fits: once
//! full, neighbouring values are merged pairwise into their mean, and from then on each value
//! is the mean of `span` consecutive steps (a power of two). Below the cap nothing is merged,
//! so the figures and files of a normal run are those of every step.

/// Values a headless run keeps: 2²⁰ f32, 4 MiB, whatever the run's length (a default run has
/// 6,300 steps; a run of 100,000 epochs at batch 1 would otherwise need 32 GB).
pub const HEADLESS_VALUES: usize = 1 << 20;

/// Values a headless run of `steps` steps keeps.
pub fn headless_kept(steps: u64) -> u64 {
    steps.min(HEADLESS_VALUES as u64)
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrainLosses {
    values: Vec<f32>,
    /// Steps each value covers.
    span: u64,
    /// Sum and count of the steps not yet folded into a value (fewer than `span`).
    open: (f64, u64),
    /// Values kept before merging; `usize::MAX` keeps every step.
    cap: usize,
}

impl TrainLosses {
    /// Every step's loss, with room for `steps` reserved up front (no allocation while
    /// training).
    pub fn every(steps: usize) -> Self {
        Self { values: Vec::with_capacity(steps), span: 1, open: (0.0, 0), cap: usize::MAX }
    }

    /// At most `cap` values (even, ≥ 2), merging pairs when full; room for the first
    /// `min(steps, cap)` reserved up front.
    pub fn bounded(steps: usize, cap: usize) -> Self {
        debug_assert!(cap >= 2 && cap.is_multiple_of(2), "pairs merge evenly");
        Self { values: Vec::with_capacity(steps.min(cap)), span: 1, open: (0.0, 0), cap }
    }

    pub fn push(&mut self, loss: f32) {
        self.open = (self.open.0 + f64::from(loss), self.open.1 + 1);
        if self.open.1 < self.span {
            return;
        }
        if self.values.len() == self.cap {
            // Halve in place: value i becomes the mean of values 2i and 2i + 1, each the mean
            // of `span` steps. The open run, `span` steps, is now half of a value: it stays open.
            for i in 0..self.cap / 2 {
                self.values[i] = ((f64::from(self.values[2 * i]) + f64::from(self.values[2 * i + 1])) / 2.0) as f32;
            }
            self.values.truncate(self.cap / 2);
            self.span *= 2;
            return;
        }
        // At span 1 this is `loss` itself, bit for bit.
        self.values.push((self.open.0 / self.span as f64) as f32);
        self.open = (0.0, 0);
    }

    /// The values, oldest first: value i is the mean of steps `i·span + 1 ..= (i + 1)·span`.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// Steps per value: 1 until a bounded history first merges.
    pub fn span(&self) -> u64 {
        self.span
    }

    /// (the last step it covers, value) for each value.
    pub fn points(&self) -> impl Iterator<Item = (u64, f32)> + '_ {
        (1..).zip(&self.values).map(|(i, &v)| (i * self.span, v))
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_the_cap_every_step_is_kept_as_it_was() {
        let mut losses = TrainLosses::bounded(100, 8);
        (1..=8).for_each(|s| losses.push(s as f32));
        assert_eq!(losses.values(), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
        assert_eq!(losses.span(), 1);
    }

    #[test]
    fn past_the_cap_values_are_means_of_equal_runs_of_steps() {
        let mut losses = TrainLosses::bounded(100, 4);
        // Steps 1..=19: merged at step 5 (span 2) and at step 9 (span 4); steps 17–19 wait
        // in the open run.
        (1..=19).for_each(|s| losses.push(s as f32));
        assert_eq!(losses.span(), 4);
        assert_eq!(losses.values(), [2.5, 6.5, 10.5, 14.5], "the means of steps 1–4, 5–8, 9–12, 13–16");
        assert_eq!(losses.points().map(|(step, _)| step).collect::<Vec<_>>(), [4, 8, 12, 16]);
        assert!(losses.values.capacity() <= 4, "never more than the cap");
    }

    #[test]
    fn every_keeps_them_all() {
        let mut losses = TrainLosses::every(10);
        (0..1000).for_each(|s| losses.push(s as f32));
        assert_eq!(losses.values().len(), 1000);
        assert_eq!(losses.span(), 1);
    }
}
