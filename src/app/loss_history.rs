//! The loss history the dashboard plots, bounded in memory however long training runs: the
//! train loss per step, and the test loss and the Fisher divergence readout per epoch.
//!
//! Train losses are smoothed as they arrive by an exponential moving average debiased as
//! TensorBoard does: with m₀ = 0 and mₜ = β·mₜ₋₁ + (1 − β)·xₜ, the smoothed value is
//! mₜ / (1 − βᵗ), so the first points are not dragged towards zero.
//!
//! The full history is kept in at most [`MAX_BUCKETS`] buckets of equal size: when they
//! overflow, neighbours merge in pairs and the size doubles, as burn's full-history plot
//! decimates. A bucket keeps the mean of its raw losses and the last smoothed value. The
//! last [`RECENT_STEPS`] steps are also kept at full resolution for the recent window.

use std::collections::VecDeque;

use crate::trainer::TestPoint;

/// Weight β of the moving average: about 50 steps of memory, close to one epoch of the
/// default configuration, which the per-step noise of the DSM loss needs.
pub const SMOOTHING: f64 = 0.98;
/// Buckets of the full history: more than the dots across any terminal's chart.
pub const MAX_BUCKETS: usize = 1024;
/// Steps the recent window shows.
pub const RECENT_STEPS: usize = 1000;

/// One plotted point: for a bucket, `step` is its last step, `raw` the mean of its losses and
/// `smooth` the moving average at its last step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LossPoint {
    pub step: u64,
    pub raw: f64,
    pub smooth: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Bucket {
    step: u64,
    sum: f64,
    count: u64,
    smooth: f64,
}

impl Bucket {
    fn point(&self) -> LossPoint {
        LossPoint { step: self.step, raw: self.sum / self.count as f64, smooth: self.smooth }
    }
}

/// A series decimated into at most [`MAX_BUCKETS`] buckets of `size` points each (the last
/// one possibly partial).
#[derive(Clone, Debug, PartialEq)]
pub struct Decimated {
    buckets: Vec<Bucket>,
    size: u64,
}

impl Default for Decimated {
    fn default() -> Self {
        Self { buckets: Vec::new(), size: 1 }
    }
}

impl Decimated {
    pub fn push(&mut self, p: LossPoint) {
        match self.buckets.last_mut() {
            Some(b) if b.count < self.size => {
                b.step = p.step;
                b.sum += p.raw;
                b.count += 1;
                b.smooth = p.smooth;
            }
            _ => self.buckets.push(Bucket { step: p.step, sum: p.raw, count: 1, smooth: p.smooth }),
        }
        if self.buckets.len() > MAX_BUCKETS {
            self.halve();
        }
    }

    fn halve(&mut self) {
        let merged = self.buckets.len().div_ceil(2);
        for i in 0..merged {
            let mut b = self.buckets[2 * i];
            if let Some(next) = self.buckets.get(2 * i + 1) {
                b = Bucket { step: next.step, sum: b.sum + next.sum, count: b.count + next.count, smooth: next.smooth };
            }
            self.buckets[i] = b;
        }
        self.buckets.truncate(merged);
        self.size *= 2;
    }

    pub fn points(&self) -> impl Iterator<Item = LossPoint> + '_ {
        self.buckets.iter().map(Bucket::point)
    }

    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// Points per full bucket.
    pub fn bucket_size(&self) -> u64 {
        self.size
    }
}

#[derive(Clone, Debug, PartialEq)]
struct Ema {
    mean: f64,
    /// βᵗ, for the debiasing.
    weight: f64,
}

impl Default for Ema {
    fn default() -> Self {
        Self { mean: 0.0, weight: 1.0 }
    }
}

impl Ema {
    fn push(&mut self, x: f64) -> f64 {
        self.mean = SMOOTHING * self.mean + (1.0 - SMOOTHING) * x;
        self.weight *= SMOOTHING;
        self.mean / (1.0 - self.weight)
    }
}

/// Train losses per step, and test losses and Fisher divergences per epoch, of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LossHistory {
    ema: Ema,
    train: Decimated,
    recent: VecDeque<LossPoint>,
    test: Decimated,
    fisher: Decimated,
    /// The first and the latest reading of each per-epoch series, undecimated: the status
    /// reports how far each has fallen, and the chart lines the two up at their start.
    test_ends: Option<Ends>,
    fisher_ends: Option<Ends>,
}

/// The first and the latest value of a series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ends {
    pub first: f64,
    pub last: f64,
}

impl Ends {
    fn push(ends: &mut Option<Ends>, value: f64) {
        let first = ends.map_or(value, |e| e.first);
        *ends = Some(Ends { first, last: value });
    }
}

impl LossHistory {
    /// The train loss of `step`; steps arrive in order.
    pub fn push_train(&mut self, step: u64, loss: f32) {
        let raw = f64::from(loss);
        let p = LossPoint { step, raw, smooth: self.ema.push(raw) };
        self.train.push(p);
        if self.recent.len() == RECENT_STEPS {
            self.recent.pop_front();
        }
        self.recent.push_back(p);
    }

    pub fn push_test(&mut self, point: TestPoint) {
        let loss = f64::from(point.loss);
        self.test.push(LossPoint { step: point.step, raw: loss, smooth: loss });
        Ends::push(&mut self.test_ends, loss);
    }

    /// A reading of the Fisher divergence (`point.loss`), taken with the test loss.
    pub fn push_fisher(&mut self, point: TestPoint) {
        let divergence = f64::from(point.loss);
        self.fisher.push(LossPoint { step: point.step, raw: divergence, smooth: divergence });
        Ends::push(&mut self.fisher_ends, divergence);
    }

    /// The whole run, decimated.
    pub fn train(&self) -> &Decimated {
        &self.train
    }

    /// The last [`RECENT_STEPS`] steps, one point each.
    pub fn recent(&self) -> impl Iterator<Item = LossPoint> + '_ {
        self.recent.iter().copied()
    }

    /// Test losses, `raw` = `smooth` = the loss, one per evaluation unless decimated.
    pub fn test(&self) -> &Decimated {
        &self.test
    }

    /// Fisher divergences, as [`LossHistory::test`].
    pub fn fisher(&self) -> &Decimated {
        &self.fisher
    }

    pub fn test_ends(&self) -> Option<Ends> {
        self.test_ends
    }

    pub fn fisher_ends(&self) -> Option<Ends> {
        self.fisher_ends
    }

    /// The last step with a train loss.
    pub fn last_step(&self) -> Option<u64> {
        self.recent.back().map(|p| p.step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_moving_average_is_debiased() {
        let mut h = LossHistory::default();
        h.push_train(1, 10.0);
        // Without debiasing the first smoothed value would be (1 − β)·10 = 0.2.
        assert!((h.recent().next().unwrap().smooth - 10.0).abs() < 1e-12);
        for step in 2..=500 {
            h.push_train(step, 4.0);
        }
        let last = h.recent().last().unwrap();
        assert!((last.smooth - 4.0).abs() < 1e-3, "{last:?}");
        assert_eq!(last.raw, 4.0);
    }

    #[test]
    fn the_full_history_stays_bounded_and_keeps_the_mean() {
        let mut h = LossHistory::default();
        let steps = 100_000u64;
        for step in 1..=steps {
            h.push_train(step, (step % 2) as f32); // 1, 0, 1, 0 …: every bucket's mean is 0.5
        }
        let train = h.train();
        assert!(train.len() <= MAX_BUCKETS && train.len() > MAX_BUCKETS / 2, "{} buckets", train.len());
        assert_eq!(train.bucket_size(), 128);
        let points: Vec<LossPoint> = train.points().collect();
        assert_eq!(points.last().unwrap().step, steps);
        assert!(points.windows(2).all(|w| w[0].step < w[1].step));
        assert!(points[..points.len() - 1].iter().all(|p| (p.raw - 0.5).abs() < 1e-12));
        assert_eq!(h.recent().count(), RECENT_STEPS);
        assert_eq!(h.recent().next().unwrap().step, steps - RECENT_STEPS as u64 + 1);
        assert_eq!(h.last_step(), Some(steps));
    }

    #[test]
    fn the_ends_of_the_per_epoch_series_survive_decimation() {
        let mut h = LossHistory::default();
        assert_eq!(h.fisher_ends(), None);
        let epochs = 3 * MAX_BUCKETS as u64;
        for epoch in 0..=epochs {
            let point = |loss| TestPoint { epoch: epoch as usize, step: 10 * epoch, loss };
            h.push_test(point(100.0 + epoch as f32));
            h.push_fisher(point(1.0 / (1 + epoch) as f32));
        }
        assert!(h.fisher().bucket_size() > 1, "decimated");
        assert_eq!(h.test_ends(), Some(Ends { first: 100.0, last: 100.0 + epochs as f64 }));
        let fisher = h.fisher_ends().unwrap();
        assert_eq!(fisher.first, 1.0);
        assert!((fisher.last - 1.0 / (1 + epochs) as f64).abs() < 1e-9);
    }

    #[test]
    fn decimation_merges_neighbours_in_order() {
        let mut d = Decimated::default();
        for step in 1..=(MAX_BUCKETS as u64 + 1) {
            d.push(LossPoint { step, raw: step as f64, smooth: -(step as f64) });
        }
        assert_eq!(d.bucket_size(), 2);
        let first = d.points().next().unwrap();
        assert_eq!(first, LossPoint { step: 2, raw: 1.5, smooth: -2.0 });
        let last = d.points().last().unwrap();
        assert_eq!(last, LossPoint { step: MAX_BUCKETS as u64 + 1, raw: MAX_BUCKETS as f64 + 1.0, smooth: -1025.0 });
    }
}
