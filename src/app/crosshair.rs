//! The loss panel's crosshair: each curve's value at the step under the pointer. Read from the
//! history itself, not from the plot, whose runaway points sit at an edge: the readout gives
//! the loss as it was.

use std::collections::BTreeSet;

use crate::app::loss_history::{LossHistory, LossPoint};
use crate::app::past_runs::PastRuns;
use crate::app::view::Curve;

/// Each shown curve's value at a step; `None` for a hidden curve or one with no reading yet.
#[derive(Clone, Debug, PartialEq)]
pub struct Reading {
    /// The step asked about (the crosshair's place on the axis).
    pub step: f64,
    /// The train loss's nearest point: one step where the recent steps are kept one a point,
    /// else the bucket of steps holding it (its mean raw loss, its last moving average).
    pub raw: Option<f64>,
    pub smooth: Option<f64>,
    /// The nearest test loss and Fisher divergence (one reading an epoch), with their steps.
    pub test: Option<(u64, f64)>,
    pub fisher: Option<(u64, f64)>,
    /// Each shown earlier run whose steps reach this one: its number and moving average.
    pub past: Vec<(u64, f64)>,
}

impl Reading {
    pub fn at(step: f64, history: &LossHistory, past: &PastRuns, hidden: &BTreeSet<Curve>) -> Self {
        let shown = |curve| !hidden.contains(&curve);
        let recent_from = history.recent().next().map_or(f64::INFINITY, |p| p.step as f64);
        let train = if step >= recent_from {
            nearest(history.recent(), step)
        } else {
            bucket_of(history.train().points().map(|p| (p.step, p)), step)
        };
        let per_epoch = |points: &mut dyn Iterator<Item = LossPoint>| nearest(points, step).map(|p| (p.step, p.raw));
        Self {
            step,
            raw: train.filter(|_| shown(Curve::Raw)).map(|p| p.raw),
            smooth: train.filter(|_| shown(Curve::Smooth)).map(|p| p.smooth),
            test: per_epoch(&mut history.test().points()).filter(|_| shown(Curve::Test)),
            fisher: per_epoch(&mut history.fisher().points()).filter(|_| shown(Curve::Fisher)),
            past: past
                .iter()
                .filter(|run| shown(Curve::Past(run.number)))
                .filter(|run| run.points.first().is_some_and(|p| p.0 as f64 <= step))
                .filter_map(|run| Some((run.number, bucket_of(run.points.iter().map(|&(s, v)| (s, v)), step)?)))
                .collect(),
        }
    }
}

/// The point whose step is nearest `step` (the earlier of two as near).
fn nearest(points: impl Iterator<Item = LossPoint>, step: f64) -> Option<LossPoint> {
    points.min_by(|a, b| (a.step as f64 - step).abs().total_cmp(&(b.step as f64 - step).abs()))
}

/// The value of the first point at or after `step`, where a point stands for the steps since
/// the one before it (a bucket ends at its step); `None` past the last.
fn bucket_of<T>(mut points: impl Iterator<Item = (u64, T)>, step: f64) -> Option<T> {
    points.find(|&(s, _)| s as f64 >= step).map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::loss_history::{MAX_BUCKETS, RECENT_STEPS};
    use crate::app::past_runs::LossKind;
    use crate::config::Config;
    use crate::trainer::TestPoint;

    /// Train loss 1000 + step, a test loss and a Fisher reading every 100 steps.
    fn history(steps: u64) -> LossHistory {
        let mut h = LossHistory::default();
        for step in 1..=steps {
            h.push_train(step, 1000.0 + step as f32);
            if step % 100 == 0 {
                h.push_test(TestPoint { epoch: step as usize / 100, step, loss: step as f32 });
                h.push_fisher(TestPoint { epoch: step as usize / 100, step, loss: 1.0 / step as f32 });
            }
        }
        h
    }

    #[test]
    fn each_curve_is_read_at_the_nearest_step() {
        let h = history(500);
        let r = Reading::at(249.6, &h, &PastRuns::default(), &BTreeSet::new());
        assert_eq!(r.raw, Some(1250.0), "step 250, one point a step");
        assert!(r.smooth.is_some_and(|s| s < 1250.0), "the moving average lags a rising loss");
        assert_eq!(r.test, Some((200, 200.0)), "249.6 is nearer 200 than 300");
        assert_eq!(r.fisher, Some((200, f64::from(1.0f32 / 200.0))));
        assert!(r.past.is_empty());
    }

    #[test]
    fn before_the_recent_steps_a_bucket_holds_the_step() {
        let steps = 4 * MAX_BUCKETS as u64;
        let h = history(steps);
        assert!(h.train().bucket_size() > 1 && steps > RECENT_STEPS as u64);
        let r = Reading::at(10.0, &h, &PastRuns::default(), &BTreeSet::new());
        let size = h.train().bucket_size();
        // Full buckets from step 1: step 10 is in the one from `lo` to `hi`, whose raw value is
        // the mean of 1000 + k over them.
        let lo = (10 - 1) / size * size + 1;
        let hi = lo + size - 1;
        assert!(lo > 1, "not the first bucket: size {size}");
        assert_eq!(r.raw, Some(1000.0 + (lo + hi) as f64 / 2.0));
    }

    #[test]
    fn hidden_curves_and_runs_that_do_not_reach_the_step_are_not_read() {
        let h = history(500);
        let mut past = PastRuns::default();
        let kind = LossKind::of(&Config::default());
        past.keep(1, kind, "run 1".into(), &history(300));
        past.keep(2, kind, "run 2".into(), &history(600));
        let none = BTreeSet::new();
        let r = Reading::at(400.0, &h, &past, &none);
        assert_eq!(r.past.iter().map(|p| p.0).collect::<Vec<_>>(), [2], "run 1 ended at step 300");
        let hidden = BTreeSet::from([Curve::Raw, Curve::Test, Curve::Past(2)]);
        let r = Reading::at(400.0, &h, &past, &hidden);
        assert_eq!((r.raw, r.test), (None, None));
        assert!(r.smooth.is_some() && r.fisher.is_some());
        assert!(r.past.is_empty());
    }
}
