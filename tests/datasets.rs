//! The built-in data sets against their constructions, and the CSV loader: good files,
//! every kind of bad row named by line, reservoir subsampling, and arbitrary bytes.

mod common;

use std::io::Cursor;

use common::mean_var;
use dsm_tui::data::{Builtin, CsvError, MIN_POINTS, read_csv};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

fn rng(seed: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(seed)
}

#[test]
fn every_builtin_has_its_size_and_stays_inside_its_view() {
    for builtin in Builtin::ALL {
        let data = builtin.generate(2000, builtin.default_noise(), &mut rng(1));
        assert_eq!(data.points.dim(), (2000, 2), "{builtin:?}");
        assert_eq!(data.labels.len(), 2000);
        let b = builtin.bounds();
        let inside = data
            .points
            .rows()
            .into_iter()
            .filter(|p| (b.x[0]..=b.x[1]).contains(&f64::from(p[0])) && (b.y[0]..=b.y[1]).contains(&f64::from(p[1])))
            .count();
        assert!(inside >= 1990, "{builtin:?}: only {inside} of 2000 points inside the view {b:?}");
    }
}

#[test]
fn circles_have_radii_one_and_a_half() {
    let data = Builtin::Circles.generate(2000, 0.0, &mut rng(2));
    for (p, &label) in data.points.rows().into_iter().zip(&data.labels) {
        let r = f64::from(p[0]).hypot(f64::from(p[1]));
        let want = if label == 0 { 1.0 } else { 0.5 };
        assert!((r - want).abs() < 1e-6, "label {label}: radius {r}");
    }
    assert_eq!(data.labels.iter().filter(|&&l| l == 0).count(), 1000);
}

#[test]
fn eight_gaussians_have_eight_equal_modes_at_radius_two() {
    let n = 40_000;
    let data = Builtin::EightGaussians.generate(n, 0.1, &mut rng(3));
    for k in 0..8u8 {
        let members: Vec<_> =
            data.points.rows().into_iter().zip(&data.labels).filter(|&(_, &l)| l == k).map(|(p, _)| p).collect();
        // Multinomial count: 5000 ± 4·√(n·p(1−p)) ≈ ±265.
        assert!((members.len() as f64 - 5000.0).abs() < 265.0, "mode {k}: {} points", members.len());
        let angle = std::f64::consts::PI * f64::from(k) / 4.0;
        for (d, centre) in [2.0 * angle.cos(), 2.0 * angle.sin()].into_iter().enumerate() {
            let (mean, var) = mean_var(members.iter().map(|p| f64::from(p[d])));
            assert!((mean - centre).abs() < 4.0 * (var / members.len() as f64).sqrt(), "mode {k} coordinate {d}");
            assert!((var.sqrt() - 0.1).abs() < 0.005, "mode {k}: std {}", var.sqrt());
        }
    }
}

#[test]
fn checkerboard_fills_the_eight_dark_squares_evenly() {
    let data = Builtin::Checkerboard.generate(16_000, 0.0, &mut rng(4));
    let mut counts = [[0usize; 4]; 4];
    for p in data.points.rows() {
        let (i, j) = ((f64::from(p[0]) + 2.0).floor() as usize, (f64::from(p[1]) + 2.0).floor() as usize);
        assert!(i < 4 && j < 4, "point {p} outside [-2, 2]²");
        counts[j][i] += 1;
    }
    for (j, row) in counts.iter().enumerate() {
        for (i, &c) in row.iter().enumerate() {
            if (i + j) % 2 == 0 {
                assert!(
                    (c as f64 - 2000.0).abs() < 4.0 * (16_000.0f64 * (1.0 / 8.0) * (7.0 / 8.0)).sqrt(),
                    "square ({i},{j}): {c}"
                );
            } else {
                assert_eq!(c, 0, "light square ({i},{j}) holds points");
            }
        }
    }
}

#[test]
fn swiss_roll_lies_on_its_spiral() {
    let data = Builtin::SwissRoll.generate(2000, 0.0, &mut rng(5));
    for p in data.points.rows() {
        // (t cos t, t sin t)/5: radius r = t/5 and the angle is t mod 2π.
        let (x, y) = (5.0 * f64::from(p[0]), 5.0 * f64::from(p[1]));
        let t = x.hypot(y);
        assert!((1.5 * std::f64::consts::PI - 1e-4..=4.5 * std::f64::consts::PI + 1e-4).contains(&t));
        assert!((t * t.cos() - x).abs() < 1e-3 && (t * t.sin() - y).abs() < 1e-3, "({x}, {y}) off the spiral");
    }
}

/// Each toy is its documented construction read from the caller's stream: the clean points
/// drawn (or listed and shuffled), then N(0, noise²) from the same stream, row by row, x then
/// y. Built here from the module's description, in f64. A subtracted noise term has the same
/// distribution but gives another data set, and so other figures, for the same --seed.
#[test]
fn each_toy_is_its_construction_from_the_callers_stream() {
    use rand::seq::SliceRandom;
    use rand_distr::{Distribution, StandardNormal};
    use std::f64::consts::PI;
    let noise = 0.1;
    for (builtin, n, seed) in [
        (Builtin::Circles, 41, 11),
        (Builtin::SwissRoll, 40, 12),
        (Builtin::EightGaussians, 40, 13),
        (Builtin::Checkerboard, 40, 14),
    ] {
        let data = builtin.generate(n, noise, &mut rng(seed));
        let mut stream = rng(seed);
        let clean: Vec<([f64; 2], u8)> = match builtin {
            // ⌊n/2⌋ points at angles 2πi/⌊n/2⌋ on the unit circle, then the rest at 2πi/(n − ⌊n/2⌋)
            // on the circle of radius ½; shuffled.
            Builtin::Circles => {
                let ring = |count: usize, radius: f64, label: u8| {
                    (0..count).map(move |i| {
                        let t = 2.0 * PI * i as f64 / count as f64;
                        ([radius * t.cos(), radius * t.sin()], label)
                    })
                };
                let mut list: Vec<_> = ring(n / 2, 1.0, 0).chain(ring(n - n / 2, 0.5, 1)).collect();
                list.shuffle(&mut stream);
                list
            }
            // t ~ U[1.5π, 4.5π], (t cos t, t sin t)/5.
            Builtin::SwissRoll => (0..n)
                .map(|_| {
                    let t = 1.5 * PI + 3.0 * PI * stream.random::<f64>();
                    ([t * t.cos() / 5.0, t * t.sin() / 5.0], 0)
                })
                .collect(),
            // Mode k uniform in 0..8, at radius 2 and angle kπ/4.
            Builtin::EightGaussians => (0..n)
                .map(|_| {
                    let k: u8 = stream.random_range(0..8);
                    let angle = f64::from(k) * PI / 4.0;
                    ([2.0 * angle.cos(), 2.0 * angle.sin()], k)
                })
                .collect(),
            // Square k uniform in 0..8, in row-major order over the dark squares: row ⌊k/2⌋
            // from y = −2, column 2·(k mod 2) + (row mod 2) from x = −2; uniform inside it.
            Builtin::Checkerboard => (0..n)
                .map(|_| {
                    let k: u8 = stream.random_range(0..8);
                    let row = f64::from(k / 2);
                    let column = 2.0 * f64::from(k % 2) + row % 2.0;
                    let x = -2.0 + column + stream.random::<f64>();
                    let y = -2.0 + row + stream.random::<f64>();
                    ([x, y], k)
                })
                .collect(),
            Builtin::Moons => unreachable!("tests/data_and_metrics.rs"),
        };
        assert_eq!(data.points.nrows(), n, "{builtin:?}");
        for (i, (point, label)) in clean.iter().enumerate() {
            assert_eq!(data.labels[i], *label, "{builtin:?}: row {i}'s label");
            for (d, &c) in point.iter().enumerate() {
                let e: f64 = StandardNormal.sample(&mut stream);
                let want = c + noise * e;
                let got = f64::from(data.points[[i, d]]);
                assert!((got - want).abs() < 1e-5, "{builtin:?}: row {i} coordinate {d} is {got}, want {want:.7}");
            }
        }
    }
}

fn load(text: &str) -> Result<dsm_tui::data::CsvPoints, CsvError> {
    read_csv(Cursor::new(text.as_bytes().to_vec()), 100, &mut rng(6))
}

fn rows(n: usize) -> String {
    (0..n).map(|i| format!("{},{}\n", i as f64 * 0.5, -(i as f64))).collect()
}

#[test]
fn csv_reads_points_with_or_without_a_header() {
    let plain = load(&rows(12)).expect("plain rows");
    assert_eq!(plain.points.dim(), (12, 2));
    assert_eq!(plain.points[[3, 0]], 1.5);
    assert_eq!(plain.points[[3, 1]], -3.0);
    let with_header = load(&format!("x,y\n{}\n\n", rows(12))).expect("header and blank lines");
    assert_eq!(with_header.points, plain.points);
    let spaced = load(&format!(" x , y \r\n{}", rows(12).replace(',', " , "))).expect("spaces and CRLF");
    assert_eq!(spaced.points, plain.points);
}

/// Spreadsheets often save UTF-8 with a byte-order mark: it is not part of the first field.
#[test]
fn csv_skips_a_leading_byte_order_mark() {
    let plain = load(&rows(12)).expect("plain rows");
    let marked = load(&format!("\u{feff}{}", rows(12))).expect("a BOM before the first row");
    assert_eq!(marked.points, plain.points);
    let marked_header = load(&format!("\u{feff}x,y\n{}", rows(12))).expect("a BOM before the header");
    assert_eq!(marked_header.points, plain.points);
}

#[test]
fn csv_names_the_line_of_every_bad_row() {
    let cases = [
        (format!("x,y\n{}1.0,abc\n", rows(11)), 13, "'abc' is not a number"),
        (format!("{}1.0,NaN\n", rows(11)), 12, "not a finite number"),
        (format!("{}inf,1\n", rows(3)), 4, "not a finite number"),
        (format!("{}1e39,1\n", rows(3)), 4, "not a finite number"),
        (format!("{}1,2,3\n", rows(5)), 6, "expected 2 columns x,y, found 3"),
        (format!("{}7\n", rows(5)), 6, "expected 2 columns x,y, found 1"),
        (format!("x,y\n1,2\nx,y\n{}", rows(11)), 3, "'x' is not a number"),
        // A first line with a number in it is a bad row, not a header.
        (format!("1.0,abc\n{}", rows(11)), 1, "'abc' is not a number"),
    ];
    for (text, line, problem) in cases {
        match load(&text) {
            Err(CsvError::Line { line: l, problem: p }) => {
                assert_eq!(l, line, "{problem}");
                assert!(p.contains(problem), "line {l}: {p}");
            }
            other => panic!("expected an error on line {line} ({problem}), got {:?}", other.map(|c| c.points.dim())),
        }
    }
}

#[test]
fn csv_with_fewer_than_ten_points_is_an_error() {
    assert_eq!(load(&format!("x,y\n{}", rows(MIN_POINTS - 1))).err(), Some(CsvError::TooFew { found: MIN_POINTS - 1 }));
    assert_eq!(load("").err(), Some(CsvError::TooFew { found: 0 }));
}

/// Exactly the fewest points a data set may have is enough.
#[test]
fn csv_with_exactly_ten_points_loads() {
    let loaded = load(&rows(MIN_POINTS)).expect("ten rows");
    assert_eq!(loaded.points.dim(), (MIN_POINTS, 2));
    assert_eq!(loaded.rows_in_file, MIN_POINTS as u64);
}

/// A line may hold 4096 bytes counting its newline (the loader's cap); one byte more is
/// refused and named, and the lines after a long one keep their numbers. Each long row is a
/// valid point padded with zeros after the decimal point (x = 1, y = 2).
#[test]
fn csv_lines_are_capped_at_4096_bytes_with_their_newline() {
    let row_of = |bytes: usize| {
        let pad = bytes - "1,2.\n".len();
        format!("1,2.{}\n", "0".repeat(pad))
    };
    assert_eq!(row_of(4096).len(), 4096);
    let longest = format!("{}{}{}", rows(5), row_of(4096), rows(5));
    let loaded = load(&longest).expect("a 4096-byte line is within the cap");
    assert_eq!(loaded.points.nrows(), 11);
    assert_eq!((loaded.points[[5, 0]], loaded.points[[5, 1]]), (1.0, 2.0));
    // The line after the longest one is still line 7.
    match load(&format!("{}{}x\n{}", rows(5), row_of(4096), rows(5))) {
        Err(CsvError::Line { line, problem }) => {
            assert_eq!((line, problem.as_str()), (7, "expected 2 columns x,y, found 1"))
        }
        other => panic!("expected an error on line 7, got {:?}", other.map(|c| c.points.dim())),
    }
    match load(&format!("{}{}{}", rows(5), row_of(4097), rows(5))) {
        Err(CsvError::Line { line, problem }) => assert_eq!((line, problem.as_str()), (6, "longer than 4096 bytes")),
        other => panic!("expected line 6 to be too long, got {:?}", other.map(|c| c.points.dim())),
    }
}

/// The largest finite f32 is a number the loader keeps, exactly.
#[test]
fn csv_keeps_the_largest_finite_f32() {
    let text = format!("{},-1\n{}", f64::from(f32::MAX), rows(10));
    let loaded = load(&text).expect("f32::MAX is finite");
    assert_eq!((loaded.points[[0, 0]], loaded.points[[0, 1]]), (f32::MAX, -1.0));
}

/// More rows than the cap: a uniform subset of exactly `max` rows, each row equally likely.
#[test]
fn csv_larger_than_the_cap_keeps_a_uniform_random_subset() {
    let total = 10_000;
    let loaded = read_csv(Cursor::new(rows(total).into_bytes()), 1000, &mut rng(7)).expect("loads");
    assert_eq!(loaded.points.nrows(), 1000);
    assert_eq!(loaded.rows_in_file, total as u64);
    // Row i has x = i/2: the kept indices should be spread evenly; the mean index of a
    // uniform subset is (total − 1)/2 with standard error ≈ total/√(12·1000).
    let (mean, _) = mean_var(loaded.points.column(0).iter().map(|&x| 2.0 * f64::from(x)));
    let se = total as f64 / (12.0f64 * 1000.0).sqrt();
    assert!((mean - (total as f64 - 1.0) / 2.0).abs() < 4.0 * se, "mean kept index {mean}");
}

/// Arbitrary bytes never panic: 2000 random byte strings (lengths 0–600, seed 8), each
/// valid file truncated at every length, and 500 single-byte corruptions of a valid file.
#[test]
fn csv_loader_never_panics_on_arbitrary_bytes() {
    let mut r = rng(8);
    let try_bytes = |bytes: Vec<u8>| {
        let _ = read_csv(Cursor::new(bytes), 50, &mut rng(9));
    };
    for _ in 0..2000 {
        let len = r.random_range(0..600);
        let alphabet = b"0123456789.,-+eE\n\r xyNaninf\xff\xfe";
        let bytes = (0..len)
            .map(|_| if r.random::<bool>() { alphabet[r.random_range(0..alphabet.len())] } else { r.random() })
            .collect();
        try_bytes(bytes);
    }
    let valid = format!("x,y\n{}", rows(20)).into_bytes();
    for cut in 0..valid.len() {
        try_bytes(valid[..cut].to_vec());
    }
    for _ in 0..500 {
        let mut bytes = valid.clone();
        let at = r.random_range(0..bytes.len());
        bytes[at] = r.random();
        try_bytes(bytes);
    }
    // A line without a newline longer than the cap is refused, not read whole.
    let long = vec![b'1'; 1 << 20];
    assert!(matches!(read_csv(Cursor::new(long), 50, &mut rng(9)), Err(CsvError::Line { line: 1, .. })));
}
