//! two_moons against its construction, and the quality figures against hand-computed values.

mod common;

use std::f64::consts::PI;

use common::mean_var;
use dsm_tui::data::two_moons;
use dsm_tui::eval::metrics::{
    Shape, distance_to_lower_arc, distance_to_upper_arc, energy_distance, escape_radius, quality,
};
use ndarray::{Array2, arr2};
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

fn rng(seed: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(seed)
}

#[test]
fn shape_split_and_label_balance() {
    let data = two_moons(5001, 0.1, &mut rng(1));
    assert_eq!(data.points.dim(), (5001, 2));
    assert_eq!(data.labels.iter().filter(|&&l| l == 0).count(), 2500, "⌊n/2⌋ on the upper moon");
    assert_eq!(data.labels.iter().filter(|&&l| l == 1).count(), 2501);
    assert_eq!((data.train().nrows(), data.test().nrows()), (4000, 1001), "first 80% train");
    // Shuffled: both moons appear in both splits, not one block after the other.
    let train_upper = data.labels[..4000].iter().filter(|&&l| l == 0).count();
    assert!((1800..2200).contains(&train_upper), "train split holds {train_upper} upper points of 4000");
}

#[test]
fn without_noise_points_sit_at_evenly_spaced_angles_on_the_arcs() {
    let n = 101; // 50 upper, 51 lower
    let data = two_moons(n, 0.0, &mut rng(2));
    let mut upper_angles = Vec::new();
    let mut lower_angles = Vec::new();
    for (p, &label) in data.points.rows().into_iter().zip(&data.labels) {
        let (x, y) = (f64::from(p[0]), f64::from(p[1]));
        if label == 0 {
            assert!(distance_to_upper_arc([x, y]) < 1e-6);
            upper_angles.push(y.atan2(x));
        } else {
            assert!(distance_to_lower_arc([x, y]) < 1e-6);
            // (1 − cos t, 0.5 − sin t): t = atan2(0.5 − y, 1 − x)
            lower_angles.push((0.5 - y).atan2(1.0 - x));
        }
    }
    for (mut angles, count) in [(upper_angles, 50), (lower_angles, 51)] {
        angles.sort_by(f64::total_cmp);
        assert_eq!(angles.len(), count);
        for (i, t) in angles.iter().enumerate() {
            let want = PI * i as f64 / (count - 1) as f64;
            assert!((t - want).abs() < 1e-5, "angle {i}: {t} vs linspace {want}");
        }
    }
}

/// Per moon, the clean points have mean (0, 2/π)-ish and the noise is N(0, 0.1²): the means
/// of the noisy points match the means of the evenly spaced arc points within 4 standard
/// errors, and the radial deviation of points away from the arc ends has std ≈ noise.
#[test]
fn noise_statistics_match_the_construction() {
    let (n, noise) = (40_000, 0.1);
    let data = two_moons(n, noise, &mut rng(3));
    let half = n / 2;
    let arc_mean =
        |f: fn(f64) -> f64| (0..half).map(|i| f(PI * i as f64 / (half - 1) as f64)).sum::<f64>() / half as f64;
    let cos_mean = arc_mean(f64::cos);
    let sin_mean = arc_mean(f64::sin);
    let expected = [[cos_mean, sin_mean], [1.0 - cos_mean, 0.5 - sin_mean]];
    for label in 0..2u8 {
        let rows: Vec<[f64; 2]> = data
            .points
            .rows()
            .into_iter()
            .zip(&data.labels)
            .filter(|&(_, &l)| l == label)
            .map(|(p, _)| [f64::from(p[0]), f64::from(p[1])])
            .collect();
        for d in 0..2 {
            let (mean, var) = mean_var(rows.iter().map(|p| p[d]));
            let se = (var / rows.len() as f64).sqrt();
            let want = expected[label as usize][d];
            assert!((mean - want).abs() < 4.0 * se, "moon {label} coordinate {d}: mean {mean:.4} vs {want:.4}");
        }
        // Signed radial deviation from the arc's circle, for angles well inside (0, π).
        let centre = if label == 0 { [0.0, 0.0] } else { [1.0, 0.5] };
        let radial: Vec<f64> = rows
            .iter()
            .map(|p| (p[0] - centre[0], p[1] - centre[1]))
            .filter(|(dx, dy)| dy.abs() > 0.5 * dx.abs() + 0.3)
            .map(|(dx, dy)| dx.hypot(dy) - 1.0)
            .collect();
        let (_, var) = mean_var(radial.iter().copied());
        assert!((var.sqrt() - noise).abs() < 0.005, "moon {label}: radial std {:.4} vs noise {noise}", var.sqrt());
    }
}

#[test]
fn same_rng_seed_gives_the_same_data() {
    assert_eq!(two_moons(300, 0.1, &mut rng(9)).points, two_moons(300, 0.1, &mut rng(9)).points);
    assert_ne!(two_moons(300, 0.1, &mut rng(9)).points, two_moons(300, 0.1, &mut rng(10)).points);
}

/// ED(X, Y) = E‖X−Y‖ − ½E‖X−X′‖ − ½E‖Y−Y′‖ with all pairs (V-statistic), by hand.
#[test]
fn energy_distance_matches_hand_computed_values() {
    assert!((energy_distance(&[[0.0, 0.0]], &[[3.0, 4.0]]) - 5.0).abs() < 1e-12);
    // X = {(0,0), (1,0)}, Y = {(0,0)}: E‖X−Y‖ = ½, E‖X−X′‖ = 2·1/4 = ½ → ½ − ¼ − 0 = ¼.
    assert!((energy_distance(&[[0.0, 0.0], [1.0, 0.0]], &[[0.0, 0.0]]) - 0.25).abs() < 1e-12);
    let x = [[0.1, 0.2], [1.0, -0.3], [0.4, 0.9]];
    let y = [[0.0, 0.0], [2.0, 1.0]];
    assert!(energy_distance(&x, &x).abs() < 1e-12, "identical samples");
    assert!((energy_distance(&x, &y) - energy_distance(&y, &x)).abs() < 1e-12, "symmetric");
    assert!(energy_distance(&x, &y) > 0.0);
}

#[test]
fn arc_distances() {
    assert!((distance_to_upper_arc([0.0, 0.0]) - 1.0).abs() < 1e-12);
    assert!((distance_to_upper_arc([0.0, 2.0]) - 1.0).abs() < 1e-12);
    assert!((distance_to_upper_arc([0.0, -1.0]) - 2f64.sqrt()).abs() < 1e-12, "below: nearest end");
    assert!(distance_to_lower_arc([1.0, -0.5]).abs() < 1e-12, "bottom of the lower arc");
    assert!((distance_to_lower_arc([1.0, 0.5]) - 1.0).abs() < 1e-12, "its centre");
    assert!((distance_to_lower_arc([1.0, 1.5]) - 2f64.sqrt()).abs() < 1e-12, "above: nearest end");
}

#[test]
fn quality_counts_escaped_and_non_finite_samples_without_failing() {
    let samples = arr2(&[[0.0f32, 1.0], [1.0, -0.5], [f32::NAN, 0.0], [f32::INFINITY, 1.0], [9.0, 0.0]]);
    let test = arr2(&[[0.0f32, 1.0], [1.0, -0.5]]);
    let q = quality(samples.view(), test.view(), Shape::Moons);
    assert_eq!((q.count, q.nonfinite, q.escaped), (5, 2, 1));
    assert!(q.energy_distance.is_finite() && q.energy_distance > q.energy_distance_inliers);
    assert!(q.energy_distance_inliers.abs() < 1e-12, "inliers equal the test set");
    assert_eq!(q.escape_radius, 5.0);
    assert!((q.upper_moon_share.expect("moons") - 1.0 / 3.0).abs() < 1e-12, "one of three finite samples is upper");
    let nothing = Array2::<f32>::from_elem((3, 2), f32::NAN);
    let q = quality(nothing.view(), test.view(), Shape::Other);
    assert_eq!(q.nonfinite, 3);
    assert!(q.energy_distance.is_nan(), "no finite samples: no figure, not a fake one");
    assert_eq!((q.upper_moon_share, q.far_share), (None, None), "arcs are for the moons only");
}

/// The share farther than 0.3 from both arcs ("far", a figure the summary prints), by hand:
/// of a point on each arc, one 0.2 above the upper arc and one 1 above it, one is far.
#[test]
fn far_share_counts_the_samples_beyond_0_3_from_both_arcs() {
    let samples = arr2(&[[0.0f32, 1.0], [1.0, -0.5], [0.0, 1.2], [0.0, 2.0]]);
    assert!(distance_to_lower_arc([0.0, 2.0]) > 0.3 && (distance_to_upper_arc([0.0, 2.0]) - 1.0).abs() < 1e-12);
    let q = quality(samples.view(), samples.view(), Shape::Moons);
    assert_eq!(q.far_share, Some(0.25));
    assert_eq!(q.upper_moon_share, Some(0.75), "all but the point on the lower arc");
}

/// Samples count as escaped beyond 5, or beyond twice the reference data's largest coordinate
/// when that is wider (a CSV of wide data), rounded up; non-finite reference points are not
/// a width.
#[test]
fn the_escape_radius_is_five_or_twice_the_widest_reference_coordinate() {
    assert_eq!(escape_radius(&[[0.5, -1.0]]), 5.0);
    assert_eq!(escape_radius(&[[0.5, -1.0], [3.0, -6.6]]), 14.0);
    assert_eq!(escape_radius(&[[f64::INFINITY, 0.0], [0.0, 2.6]]), 6.0);
}

/// The data scores as the data: a fresh draw of the moons is near the floor, the uniform
/// start of the sampler is far from it, and half the data is on the upper moon.
#[test]
fn quality_separates_data_from_the_uniform_start() {
    let test = two_moons(1000, 0.1, &mut rng(4)).points;
    let fresh = two_moons(5000, 0.1, &mut rng(5)).points;
    let q = quality(fresh.view(), test.view(), Shape::Moons);
    assert!(q.energy_distance < 0.002, "fresh data {}", q.energy_distance);
    let upper = q.upper_moon_share.expect("moons");
    assert!((upper - 0.5).abs() < 0.02, "upper share {upper}");
    assert!(q.far_share.expect("moons") < 0.01);
    let uniform = dsm_tui::sampling::langevin::Particles::uniform(5000, 6, 0).positions();
    let u = quality(uniform.view(), test.view(), Shape::Moons);
    assert!(u.energy_distance > 0.1, "U[-1,1]² {} (reference: 0.12–0.13)", u.energy_distance);
}

/// scikit-learn's make_moons(3, shuffle=False, noise=0): linspace(0, π, 1) = [0] gives the
/// upper point (cos 0, sin 0) = (1, 0); linspace(0, π, 2) = [0, π] gives the lower points
/// (1 − cos t, 1 − sin t − 0.5) = (0, 0.5) and (2, 0.5). A single angle is 0, not 0/0.
#[test]
fn three_points_are_make_moons_by_hand() {
    let data = two_moons(3, 0.0, &mut rng(4));
    let mut got: Vec<(u8, [f32; 2])> =
        data.points.rows().into_iter().zip(&data.labels).map(|(p, &l)| (l, [p[0], p[1]])).collect();
    got.sort_by(|a, b| (a.0, a.1[0]).partial_cmp(&(b.0, b.1[0])).expect("finite points"));
    assert_eq!(got, vec![(0, [1.0, 0.0]), (1, [0.0, 0.5]), (1, [2.0, 0.5])]);
}

/// The seed fixes the data set, draw for draw: make_moons' list (upper moon then lower, each
/// at ascending t = π·i/(count − 1)), shuffled by `SliceRandom::shuffle` with the caller's
/// stream, then N(0, noise²) from the same stream, row by row, x then y. Built here from
/// that description. A reflected lower list (1 + cos t) or subtracted noise has the same
/// distribution but gives another data set, and so other figures, for the same --seed.
#[test]
fn the_data_set_is_make_moons_list_shuffled_then_noised_from_the_callers_stream() {
    use rand::seq::SliceRandom;
    use rand_distr::{Distribution, StandardNormal};
    for (n, noise, seed) in [(101, 0.0, 5), (64, 0.1, 6)] {
        let data = two_moons(n, noise, &mut rng(seed));
        let linspace = |count: usize| (0..count).map(move |i| PI * i as f64 / (count - 1) as f64);
        let mut want: Vec<([f64; 2], u8)> = linspace(n / 2)
            .map(|t| ([t.cos(), t.sin()], 0))
            .chain(linspace(n - n / 2).map(|t| ([1.0 - t.cos(), 0.5 - t.sin()], 1)))
            .collect();
        let mut stream = rng(seed);
        want.shuffle(&mut stream);
        for (i, (clean, label)) in want.iter().enumerate() {
            assert_eq!(data.labels[i], *label, "n {n}: row {i}'s label");
            for (d, &c) in clean.iter().enumerate() {
                let e: f64 = StandardNormal.sample(&mut stream);
                let want = c + noise * e;
                let got = f64::from(data.points[[i, d]]);
                assert!((got - want).abs() < 1e-6, "n {n}: row {i} coordinate {d} is {got}, want {want:.7}");
            }
        }
    }
}
