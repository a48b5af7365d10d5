//! Round tick values for a chart's axes: 1, 2 or 5 times a power of ten, as many as the axis
//! has room for, so a reader can interpolate between them (232 / 137 / 80.6 cannot be).
//!
//! On a linear axis the ticks are the multiples of one round step. On a log axis they are
//! powers of ten (every one, or every 2nd, 5th … when there are many decades), or 1, 2 and 5
//! times them; a range narrower than that holds (the DSM loss spans less than a factor of two)
//! gets the linear axis's round values instead, placed on the log axis.

/// The round values in `[lo, hi]`, at most `max_count` of them (at least 2 when `max_count`
/// allows and the range has any width), in increasing order.
pub fn linear(lo: f64, hi: f64, max_count: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite() && lo < hi) || max_count == 0 {
        return Vec::new();
    }
    let max_count = max_count.max(2);
    // The smallest round step whose multiples in the range are few enough.
    let start = (hi - lo).log10().floor() as i32 - 3;
    for exponent in start.. {
        for mantissa in [1.0, 2.0, 5.0] {
            let step = mantissa * 10f64.powi(exponent);
            let (first, last) = ((lo / step).ceil() as i64, (hi / step).floor() as i64);
            if last - first < max_count as i64 {
                return (first..=last).map(|i| i as f64 * step).collect();
            }
        }
    }
    unreachable!("a step as wide as the range gives at most two ticks")
}

/// Round values in `[lo, hi]` (both > 0) for a log axis, at most `max_count` of them.
pub fn log(lo: f64, hi: f64, max_count: usize) -> Vec<f64> {
    if !(lo > 0.0 && hi.is_finite() && lo < hi) || max_count == 0 {
        return Vec::new();
    }
    let (first, last) = (lo.log10().ceil() as i32, hi.log10().floor() as i32);
    let in_range = |v: &f64| *v >= lo * (1.0 - 1e-12) && *v <= hi * (1.0 + 1e-12);
    let one_two_five: Vec<f64> =
        (first - 1..=last).flat_map(|k| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(k))).filter(in_range).collect();
    if (2..=max_count).contains(&one_two_five.len()) {
        return one_two_five;
    }
    if one_two_five.len() > max_count {
        // Every power of ten, or every 2nd, 5th, 10th …, starting from a multiple of the stride.
        for stride in [1, 2, 5, 10, 20, 50, 100] {
            let decades: Vec<f64> =
                (first..=last).filter(|k| k.rem_euclid(stride) == 0).map(|k| 10f64.powi(k)).collect();
            if decades.len() <= max_count && decades.len() >= 2.min(max_count) {
                return decades;
            }
        }
    }
    linear(lo, hi, max_count)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1, 2 or 5 times a power of ten, up to float error.
    fn is_round(v: f64) -> bool {
        if v == 0.0 {
            return true;
        }
        let mantissa = v.abs() / 10f64.powf(v.abs().log10().floor());
        [1.0, 2.0, 5.0, 10.0].iter().any(|m| (mantissa - m).abs() < 1e-9)
    }

    /// A multiple of a round step (as linear ticks are: 140, 160, 180 are multiples of 20).
    fn steps_evenly(ticks: &[f64]) -> bool {
        let step = ticks[1] - ticks[0];
        is_round(step) && ticks.windows(2).all(|w| ((w[1] - w[0]) / step - 1.0).abs() < 1e-9)
    }

    #[test]
    fn linear_ticks_are_multiples_of_a_round_step_and_cover_the_range() {
        // The loss panel's linear axis before: 220 / 170 / 121 / 71.3 / 21.8.
        for (lo, hi) in [(21.8, 220.0), (0.0013, 0.0071), (-47.0, 12.0), (137.0, 232.0), (0.0, 6300.0)] {
            for max_count in [3, 5, 8, 12] {
                let ticks = linear(lo, hi, max_count);
                assert!((2..=max_count).contains(&ticks.len()), "{lo}..{hi} ≤ {max_count}: {ticks:?}");
                assert!(steps_evenly(&ticks), "{ticks:?}");
                let step = ticks[1] - ticks[0];
                assert!(ticks[0] >= lo && ticks[0] - lo < step, "{ticks:?} starts at the range's start");
                let last = *ticks.last().unwrap();
                assert!(last <= hi && hi - last < step, "{ticks:?} ends at its end");
            }
        }
        assert_eq!(linear(21.8, 220.0, 5), [50.0, 100.0, 150.0, 200.0]);
    }

    #[test]
    fn more_room_gives_more_ticks() {
        let counts: Vec<usize> = [3, 6, 12, 24].iter().map(|&n| linear(0.0, 6300.0, n).len()).collect();
        assert!(counts.windows(2).all(|w| w[0] < w[1]), "{counts:?}");
        let counts: Vec<usize> = [2, 4, 9].iter().map(|&n| log(0.5, 300.0, n).len()).collect();
        assert!(counts.windows(2).all(|w| w[0] < w[1]), "{counts:?}");
    }

    #[test]
    fn log_ticks_are_round_whatever_the_span() {
        // Decades, 1-2-5 and a loss that falls by less than 2× (the DSM loss: 137 to 232).
        for (lo, hi) in [(1e-3, 1e5), (0.5, 300.0), (28.0, 232.0), (137.0, 232.0), (3.41, 27.4)] {
            for max_count in [3, 5, 9] {
                let ticks = log(lo, hi, max_count);
                assert!((2..=max_count).contains(&ticks.len()), "{lo}..{hi} ≤ {max_count}: {ticks:?}");
                assert!(ticks.iter().all(|&t| t >= lo && t <= hi), "{ticks:?}");
                assert!(ticks.iter().all(|&t| is_round(t)) || steps_evenly(&ticks), "{ticks:?}");
            }
        }
        assert_eq!(log(28.0, 232.0, 5), [50.0, 100.0, 200.0], "before: 232 / 137 / 80.6 / 47.5 / 28.0");
        assert_eq!(log(1e-3, 1e5, 5), [1e-2, 1.0, 1e2, 1e4], "every other decade");
        assert_eq!(log(137.0, 232.0, 5), [140.0, 160.0, 180.0, 200.0, 220.0]);
    }

    #[test]
    fn no_range_no_ticks() {
        assert!(linear(1.0, 1.0, 5).is_empty() && linear(f64::NAN, 1.0, 5).is_empty());
        assert!(log(0.0, 10.0, 5).is_empty() && log(1.0, f64::INFINITY, 5).is_empty());
    }
}
