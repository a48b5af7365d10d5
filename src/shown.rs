//! Values as people read them in messages, summaries and on screen: numbers short whatever
//! their size, file names with control characters escaped. One place, so that every layer
//! (the trainer's divergence message, the command line's errors, the headless summary, the
//! dashboard) shows a value the same way.

use std::path::Path;

/// Three significant figures, for a figure the program computed; exponent form outside
/// [0.001, 100 000).
pub fn format_sig(v: f64) -> String {
    let a = v.abs();
    if !v.is_finite() || a == 0.0 {
        return format!("{v}");
    }
    if !(1e-3..1e5).contains(&a) {
        return format!("{v:.2e}");
    }
    let decimals = (2 - a.log10().floor() as i32).max(0) as usize;
    format!("{v:.decimals$}")
}

/// An energy distance, with five decimals as `--once` prints it: its floor is near 0.001, so
/// three significant figures would switch to exponent form just where readings are compared.
pub fn energy_distance(v: f64) -> String {
    format!("{v:.5}")
}

/// A span of time, to the second: "14s", "2m05s", "1h02m".
pub fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

/// A value the user gave (a flag), exactly as it reads back (`0.001`, `0.95`), but in
/// exponent form outside [0.0001, 1 000 000): `--lr 1e-300` is echoed as `1e-300`, not as
/// 300 zeros. Rounding it, as [`format_sig`] does, would echo a value the user did not give.
pub fn number(v: f64) -> String {
    let a = v.abs();
    if !v.is_finite() || a == 0.0 || (1e-4..1e6).contains(&a) { format!("{v}") } else { format!("{v:e}") }
}

/// A file name for a message: as `Path::display` shows it, with control characters (an
/// escape sequence in a name would recolour or rewrite the user's terminal) written as Rust
/// escapes, `\u{1b}`.
pub fn path(p: &Path) -> String {
    p.display()
        .to_string()
        .chars()
        .map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computed_figures_are_short_and_keep_three_figures() {
        let cases = [
            (152.34, "152"),
            (15.234, "15.2"),
            (1.5234, "1.52"),
            (0.015234, "0.0152"),
            (2.1e6, "2.10e6"),
            (4e-4, "4.00e-4"),
            (0.0, "0"),
            (f64::NAN, "NaN"),
        ];
        for (v, text) in cases {
            assert_eq!(format_sig(v), text);
        }
    }

    #[test]
    fn durations_are_short() {
        assert_eq!(duration(0.4), "0s");
        assert_eq!(duration(14.2), "14s");
        assert_eq!(duration(125.0), "2m05s");
        assert_eq!(duration(3725.0), "1h02m");
        assert_eq!(duration(f64::NAN), "0s");
    }

    #[test]
    fn given_numbers_read_back_exactly_and_tiny_or_huge_ones_in_exponent_form() {
        let cases = [
            (0.001, "0.001"),
            (0.95, "0.95"),
            (2.5, "2.5"),
            (100_000.0, "100000"),
            (1e-300, "1e-300"),
            (1.5e300, "1.5e300"),
            (-2e-7, "-2e-7"),
            (0.0, "0"),
            (f64::INFINITY, "inf"),
        ];
        for (v, text) in cases {
            assert_eq!(number(v), text);
        }
    }

    #[test]
    fn control_characters_in_a_path_are_escaped() {
        assert_eq!(path(Path::new("/tmp/\x1b[31mred.csv")), "/tmp/\\u{1b}[31mred.csv");
        assert_eq!(path(Path::new("a\nb")), "a\\nb");
        assert_eq!(path(Path::new("café it's.csv")), "café it's.csv");
    }
}
