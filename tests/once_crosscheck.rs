//! `--once`'s figures against its own files, recomputed here from the CSV rows alone:
//! `--once --json --samples-out S --data-out D`, then the energy distance of S to the test
//! rows of D (a naive f64 pair sum) and the upper-moon / far shares (exact distances to the
//! arcs, written here without the crate's reflection trick) must be the JSON's.
//!
//! Then, where python3 can import numpy, the same files scored by the course's reference
//! scorer, `../shared/reference/metrics.py` beside the crate (CI has a copy of `shared/`
//! there; `DSM_TUI_SHARED` names another place); and where it can import scikit-learn, the
//! crate's two moons against `sklearn.datasets.make_moons`: the noise-free construction on
//! its angle grid point for point, and the noise's statistics (not the random streams, which
//! differ). Each prints why it is skipped when it cannot run.

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use dsm_tui::data::two_moons;
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

const BIN: &str = env!("CARGO_BIN_EXE_dsm-tui");
/// A short run (~0.3 s): the figures' bookkeeping is the point, not their quality. 2000
/// particles against 1000 test points crosses the 128-row tasks of the energy distance.
const RUN: &[&str] = &["--once", "--json", "--seed", "5", "--epochs", "10", "--particles", "2000", "--steps", "300"];

type Point = [f64; 2];

/// Prints past the test harness's output capture, so `cargo test` shows why a check was
/// skipped.
fn note(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

fn read_rows(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    text.lines().skip(1).map(|l| l.split(',').map(str::to_string).collect()).collect()
}

fn point(row: &[String]) -> Point {
    let f = |s: &String| s.parse::<f32>().map(f64::from).unwrap_or_else(|_| panic!("'{s}' is not a number"));
    [f(&row[0]), f(&row[1])]
}

fn naive_energy_distance(x: &[Point], y: &[Point]) -> f64 {
    let mean = |a: &[Point], b: &[Point]| {
        let total: f64 =
            a.iter().flat_map(|p| b.iter().map(move |q| ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt())).sum();
        total / (a.len() * b.len()) as f64
    };
    mean(x, y) - 0.5 * mean(x, x) - 0.5 * mean(y, y)
}

/// Distance from `p` to the arc of the unit circle about `centre` between angles `from` and
/// `from + π`: radial where p's angle about the centre falls on the arc, else the nearer end.
fn distance_to_arc(p: Point, centre: Point, from: f64) -> f64 {
    use std::f64::consts::PI;
    let (dx, dy) = (p[0] - centre[0], p[1] - centre[1]);
    let angle = (dy.atan2(dx) - from).rem_euclid(2.0 * PI);
    if angle <= PI {
        (dx.hypot(dy) - 1.0).abs()
    } else {
        let end = |t: f64| (dx - t.cos()).hypot(dy - t.sin());
        end(from).min(end(from + PI))
    }
}

/// Upper moon: (cos t, sin t), t ∈ [0, π]. Lower: (1 − cos t, 0.5 − sin t), the unit circle
/// about (1, 0.5) from angle π to 2π.
fn arc_distances(p: Point) -> (f64, f64) {
    (distance_to_arc(p, [0.0, 0.0], 0.0), distance_to_arc(p, [1.0, 0.5], std::f64::consts::PI))
}

fn share(samples: &[Point], keep: impl Fn(f64, f64) -> bool) -> f64 {
    samples.iter().filter(|&&p| keep(arc_distances(p).0, arc_distances(p).1)).count() as f64 / samples.len() as f64
}

/// `python3` with these modules, if it runs.
fn python_with(modules: &str) -> Option<String> {
    let python = "python3".to_string();
    let ok = Command::new(&python).args(["-c", &format!("import {modules}")]).output().ok()?.status.success();
    ok.then_some(python)
}

fn shared_reference() -> PathBuf {
    match std::env::var_os("DSM_TUI_SHARED") {
        Some(dir) => PathBuf::from(dir).join("reference"),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference"),
    }
}

fn run_python(python: &str, script: &str, args: &[&str]) -> serde_json::Value {
    let out = Command::new(python).arg("-c").arg(script).args(args).output().expect("run python3");
    assert!(out.status.success(), "python3 failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("python printed one JSON object")
}

#[test]
fn once_figures_match_its_own_files_and_the_reference_scorer() {
    let dir = common::TempDir::new("once-crosscheck");
    let (samples_csv, data_csv) = (dir.file("samples.csv"), dir.file("data.csv"));
    let out = Command::new(BIN)
        .args(RUN)
        .args(["--samples-out", &samples_csv, "--data-out", &data_csv])
        .current_dir(dir.path())
        .output()
        .expect("run dsm-tui");
    assert!(out.status.success(), "exit {:?}: {}", out.status, String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let q = &summary["samples"];
    let figure = |key: &str| q[key].as_f64().unwrap_or_else(|| panic!("samples.{key} in {q}"));

    let samples: Vec<Point> = read_rows(Path::new(&samples_csv)).iter().map(|r| point(r)).collect();
    let data = read_rows(Path::new(&data_csv));
    let test: Vec<Point> = data.iter().filter(|r| r[3] == "test").map(|r| point(r)).collect();
    assert_eq!((samples.len(), test.len(), data.len()), (2000, 1000, 5000), "rows in S, test rows and rows in D");
    assert_eq!(figure("count"), samples.len() as f64);
    assert!(samples.iter().all(|p| p[0].is_finite() && p[1].is_finite()), "a short run leaves no NaN");
    assert_eq!(figure("nonfinite"), 0.0);
    let escaped = samples.iter().filter(|p| p[0].abs().max(p[1].abs()) > 5.0).count();
    assert_eq!(figure("escaped"), escaped as f64, "escaped: max(|x|, |y|) > 5");

    // The files hold the f32 values exactly (shortest round-trip text), so only the order of
    // the f64 sums differs. The figure is a difference of means of pair distances ~1, each
    // summed over millions of pairs: 1e-12 absolute is ~20× the 5e-14 measured.
    let ed = naive_energy_distance(&samples, &test);
    let reported = figure("energy_distance");
    assert!((reported - ed).abs() <= 1e-12, "energy distance: JSON {reported} vs from the files {ed}");
    if escaped == 0 {
        assert_eq!(figure("energy_distance_inliers"), reported);
    }

    // Shares: the same points through two exact formulas; at most one sample may sit on the
    // boundary to within rounding.
    let tolerance = 1.0 / samples.len() as f64;
    let upper = share(&samples, |u, l| u < l);
    let far = share(&samples, |u, l| u.min(l) > 0.3);
    for (name, reported, mine) in
        [("upper_moon_share", figure("upper_moon_share"), upper), ("far_share", figure("far_share"), far)]
    {
        assert!((reported - mine).abs() <= tolerance, "{name}: JSON {reported} vs from the files {mine}");
    }

    // The course's scorer on the same rows.
    let metrics = shared_reference().join("metrics.py");
    let Some(python) = python_with("numpy") else {
        note("SKIPPED the metrics.py cross-check: python3 with numpy is not available");
        return;
    };
    if !metrics.is_file() {
        note(&format!("SKIPPED the metrics.py cross-check: no {} (set DSM_TUI_SHARED)", metrics.display()));
        return;
    }
    let test_csv = dir.file("test.csv");
    let rows: String = test.iter().map(|p| format!("{},{}\n", p[0] as f32, p[1] as f32)).collect();
    std::fs::write(&test_csv, format!("x,y\n{rows}")).expect("write the test rows");
    let script = "import json, sys; sys.path.insert(0, sys.argv[1]); import metrics; \
                  s, t = metrics.load_csv(sys.argv[2]), metrics.load_csv(sys.argv[3]); \
                  m = metrics.moon_stats(s); \
                  print(json.dumps({'ed_v': metrics.energy_distance(s, t)['ed_v'], \
                  'upper': m['frac_upper'], 'far': m['frac_far_0.3']}))";
    let folder = metrics.parent().expect("a folder").to_str().expect("utf-8 path");
    let reference = run_python(&python, script, &[folder, &samples_csv, &test_csv]);
    let number = |key: &str| reference[key].as_f64().unwrap_or_else(|| panic!("{key} in {reference}"));
    // numpy forms ‖a − b‖² as |a|² + |b|² − 2a·b: cancellation of ~1e-16 × |a|², up to 1e-8
    // after the root for coincident points, which only the n diagonal pairs are (1e-8/n in
    // all). 1e-9 is that with room, and 250× below the U-statistic's difference from the V.
    assert!(
        (number("ed_v") - reported).abs() <= 1e-9,
        "energy distance: metrics.py {} vs --once {reported}",
        number("ed_v")
    );
    // metrics.py measures distance to 2000 points along each arc, off by at most half their
    // spacing (π/1999/2 < 8e-4): samples nearer than that to a boundary may differ.
    let near = |f: &dyn Fn(f64, f64) -> f64| {
        samples.iter().filter(|&&p| f(arc_distances(p).0, arc_distances(p).1).abs() < 8e-4).count() as f64
            / samples.len() as f64
    };
    let (upper_slack, far_slack) = (near(&|u, l| u - l), near(&|u, l| u.min(l) - 0.3));
    assert!(
        (number("upper") - figure("upper_moon_share")).abs() <= upper_slack,
        "upper-moon share: metrics.py {} vs --once {} (slack {upper_slack})",
        number("upper"),
        figure("upper_moon_share")
    );
    assert!(
        (number("far") - figure("far_share")).abs() <= far_slack,
        "far share: metrics.py {} vs --once {} (slack {far_slack})",
        number("far"),
        figure("far_share")
    );
}

/// The noise-free moons point for point against scikit-learn's (sorted by label and x: the
/// shuffles differ), for sizes that split evenly and not; then the noise: the radial
/// residual |p − centre| − 1 of each point about its own arc's centre, whose mean (≈ σ²/2)
/// and variance (≈ σ²) must agree between the two within 5 standard errors of their
/// difference (n = 100 000 each, σ = 0.1: 5 × σ²√(4/n) = 3.2e-4 on the variance against
/// σ² = 0.01, so noise off by more than ~3% in scale fails).
#[test]
fn two_moons_match_scikit_learn() {
    let Some(python) = python_with("numpy, sklearn") else {
        note("SKIPPED two_moons_match_scikit_learn: python3 with numpy and scikit-learn is not available");
        return;
    };
    let sizes = [1usize, 2, 7, 100, 1001];
    let script = "import json, sys, numpy as np; from sklearn.datasets import make_moons; \
                  clean = {n: make_moons(n_samples=n, shuffle=False, noise=None) for n in map(int, sys.argv[1:])}; \
                  x, y = make_moons(n_samples=100000, noise=0.1, random_state=0); \
                  c = np.where(y[:, None] == 0, [0.0, 0.0], [1.0, 0.5]); \
                  r = np.hypot(*(x - c).T) - 1.0; \
                  print(json.dumps({'clean': {str(n): [[float(a), float(b), int(l)] for (a, b), l in zip(*clean[n])] for n in clean}, \
                  'mean': float(r.mean()), 'var': float(r.var(ddof=1)), 'count': int(len(r))}))";
    let args: Vec<String> = sizes.iter().map(|n| n.to_string()).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let reference = run_python(&python, script, &args);

    for n in sizes {
        let ours = two_moons(n, 0.0, &mut Xoshiro256PlusPlus::seed_from_u64(1));
        let mut mine: Vec<(u8, f64, f64)> = ours
            .points
            .rows()
            .into_iter()
            .zip(&ours.labels)
            .map(|(p, &l)| (l, f64::from(p[0]), f64::from(p[1])))
            .collect();
        let mut theirs: Vec<(u8, f64, f64)> = reference["clean"][n.to_string()]
            .as_array()
            .expect("points")
            .iter()
            .map(|p| (p[2].as_u64().expect("label") as u8, p[0].as_f64().expect("x"), p[1].as_f64().expect("y")))
            .collect();
        let order = |a: &(u8, f64, f64), b: &(u8, f64, f64)| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1));
        mine.sort_by(order);
        theirs.sort_by(order);
        assert_eq!(mine.len(), theirs.len(), "n = {n}");
        // f32 against f64: 1e-6 is ~10× the rounding of |x| ≤ 2.
        for (a, b) in mine.iter().zip(&theirs) {
            assert!(
                a.0 == b.0 && (a.1 - b.1).abs() <= 1e-6 && (a.2 - b.2).abs() <= 1e-6,
                "n = {n}: dsm-tui {a:?} vs make_moons {b:?}"
            );
        }
    }

    let count = 100_000;
    let ours = two_moons(count, 0.1, &mut Xoshiro256PlusPlus::seed_from_u64(2));
    let residuals: Vec<f64> = ours
        .points
        .rows()
        .into_iter()
        .zip(&ours.labels)
        .map(|(p, &l)| {
            let c = if l == 0 { [0.0, 0.0] } else { [1.0, 0.5] };
            (f64::from(p[0]) - c[0]).hypot(f64::from(p[1]) - c[1]) - 1.0
        })
        .collect();
    let (mean, var) = common::mean_var(residuals.into_iter());
    let number = |key: &str| reference[key].as_f64().unwrap_or_else(|| panic!("{key} in {reference}"));
    let n = count as f64;
    // Each side's mean has standard error √(var/n), its variance ≈ var·√(2/n) (near-normal
    // residuals); the difference of two independent estimates has √2 times that.
    let (mean_bar, var_bar) = (5.0 * (2.0 * var / n).sqrt(), 5.0 * var * (4.0 / n).sqrt());
    assert!(
        (mean - number("mean")).abs() <= mean_bar,
        "radial residual mean: dsm-tui {mean:.5} vs make_moons {:.5} (bar {mean_bar:.1e})",
        number("mean")
    );
    assert!(
        (var - number("var")).abs() <= var_bar,
        "radial residual variance: dsm-tui {var:.5} vs make_moons {:.5} (bar {var_bar:.1e})",
        number("var")
    );
}
