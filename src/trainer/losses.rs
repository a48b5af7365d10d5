//! The train loss of each step, kept whole or in bounded memory. A headless run keeps at most
//! [`HEADLESS_VALUES`] values, so a run of any length fits: once full, neighbouring values are
//! merged pairwise into their mean, and from then on each value is the mean of `span`
//! consecutive steps (a power of two). Below the cap nothing is merged, so the figures and
//! files of a normal run are those of every step.
//!
//! The dashboard's session keeps none ([`TrainLosses::none`]): the UI keeps its own bounded
//! history, and its trainer holds only the losses it has not yet delivered ([`Undelivered`]),
//! so neither side grows with the run's length.

use std::collections::VecDeque;

/// Values a headless run keeps: 2²⁰ f32, 4 MiB, whatever the run's length (a default run has
/// 6,300 steps; a run of 100,000 epochs at batch 1 would otherwise need 32 GB).
pub const HEADLESS_VALUES: usize = 1 << 20;

/// Values a headless run of `steps` steps keeps.
pub fn headless_kept(steps: u64) -> u64 {
    steps.min(HEADLESS_VALUES as u64)
}

/// Losses the dashboard's trainer holds for a UI that has stopped taking snapshots: 2²⁰ f32,
/// 4 MiB, the same as a headless run keeps. That is most of a second of the fastest training
/// (a width-8 network at batch 1: 1.26 million steps a second) and minutes of the default
/// run's (`--once` trains it at 4,400 steps a second on two cores). The UI takes a snapshot about every 50 ms, so only a UI
/// thread that is stuck (say, writing to a terminal that does not read) lets it fill.
pub const UNDELIVERED_VALUES: usize = 1 << 20;

/// Values a dashboard run of `steps` steps holds at most: its undelivered losses, and a
/// snapshot's copy of them.
pub fn dashboard_kept(steps: u64) -> u64 {
    2 * steps.min(UNDELIVERED_VALUES as u64)
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrainLosses {
    values: Vec<f32>,
    /// Steps each value covers.
    span: u64,
    /// Sum and count of the steps not yet folded into a value (fewer than `span`).
    open: (f64, u64),
    /// Values kept before merging; `usize::MAX` keeps every step, 0 none.
    cap: usize,
}

impl TrainLosses {
    /// No values: the dashboard's session, whose trainer takes each step's loss from the
    /// step's report instead (see [`Undelivered`]).
    pub fn none() -> Self {
        Self { values: Vec::new(), span: 1, open: (0.0, 0), cap: 0 }
    }

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
        if self.cap == 0 {
            return;
        }
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

/// The train losses the dashboard's trainer has not yet delivered to the UI, one per step in
/// order: a snapshot carries them all from [`Undelivered::first_step`], and they are dropped
/// once it has been delivered, so a snapshot the UI did not take (it is rebuilt, larger, next
/// frame) loses none and the UI gets each once.
///
/// At most [`UNDELIVERED_VALUES`] are held: past that, the oldest goes, and the UI sees a gap
/// (its next snapshot starts later than the step after its last). The newest are kept
/// because they are what the UI shows first (the recent window, the moving average, the
/// status). Merging pairs instead, as [`TrainLosses`] does, would change the steps a value
/// covers in the middle of a snapshot while a step left over from a pair waits for the next.
#[derive(Clone, Debug, PartialEq)]
pub struct Undelivered {
    values: VecDeque<f32>,
    /// The step of the first value (steps count from 1).
    first: u64,
    cap: usize,
}

impl Default for Undelivered {
    fn default() -> Self {
        // Grown as needed: a UI that keeps up never makes it hold more than a few frames'.
        Self { values: VecDeque::new(), first: 1, cap: UNDELIVERED_VALUES }
    }
}

impl Undelivered {
    /// The loss of the step after the last pushed.
    pub fn push(&mut self, loss: f32) {
        if self.values.len() == self.cap {
            self.values.pop_front();
            self.first += 1;
        }
        self.values.push_back(loss);
    }

    /// The step of the first undelivered loss (the one after the last, when there is none).
    pub fn first_step(&self) -> u64 {
        self.first
    }

    /// The undelivered losses, oldest first, for a snapshot.
    pub fn to_vec(&self) -> Vec<f32> {
        self.values.iter().copied().collect()
    }

    /// The first `count` were delivered: they are let go.
    pub fn delivered(&mut self, count: usize) {
        self.values.drain(..count);
        self.first += count as u64;
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

    #[test]
    fn none_keeps_nothing() {
        let mut losses = TrainLosses::none();
        (0..1000).for_each(|s| losses.push(s as f32));
        assert!(losses.is_empty());
        assert_eq!(losses.values.capacity(), 0);
    }

    #[test]
    fn undelivered_losses_go_once_delivered_and_the_oldest_past_the_cap() {
        let mut losses = Undelivered { cap: 4, ..Undelivered::default() };
        (1..=3).for_each(|s| losses.push(s as f32));
        assert_eq!((losses.first_step(), losses.to_vec()), (1, vec![1.0, 2.0, 3.0]));
        // A snapshot of steps 1–3 was delivered; step 4 came while it was on its way.
        losses.push(4.0);
        losses.delivered(3);
        assert_eq!((losses.first_step(), losses.to_vec()), (4, vec![4.0]));
        // The UI stops taking snapshots: past four, the oldest go, and the gap shows in
        // the first step.
        (5..=10).for_each(|s| losses.push(s as f32));
        assert_eq!((losses.first_step(), losses.to_vec()), (7, vec![7.0, 8.0, 9.0, 10.0]));
        assert!(losses.values.capacity() <= 4, "never more than the cap");
        losses.delivered(4);
        assert_eq!(losses.first_step(), 11);
        assert!(losses.to_vec().is_empty());
    }
}
