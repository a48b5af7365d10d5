//! The user's own points: a CSV file of `x,y` rows (a header line optional, blank lines
//! and a leading byte-order mark skipped). Read as a stream, line by line with a cap on line length; a file with more than
//! `max_points` rows keeps a uniform random subset (reservoir sampling), so memory stays
//! bounded however large the file. Every bad row is named by its line number.

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use ndarray::Array2;
use rand::{Rng, RngExt};

/// Fewest points a data set may have: the 80/20 split needs a few of each.
pub const MIN_POINTS: usize = 10;
/// Longest line read: an x,y row is a few dozen bytes; this stops a file without newlines
/// from being read into memory whole.
const MAX_LINE_BYTES: u64 = 4096;
/// U+FEFF at the start of a file: the UTF-8 byte-order mark.
const BYTE_ORDER_MARK: char = '\u{feff}';

#[derive(Debug, Clone, PartialEq)]
pub enum CsvError {
    Io(String),
    Line { line: usize, problem: String },
    TooFew { found: usize },
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CsvError::Io(e) => write!(f, "cannot read it ({e})"),
            CsvError::Line { line, problem } => write!(f, "line {line}: {problem}"),
            CsvError::TooFew { found } => write!(f, "{found} points, fewer than the {MIN_POINTS} needed"),
        }
    }
}

impl std::error::Error for CsvError {}

/// What a CSV file held.
pub struct CsvPoints {
    /// `[n, 2]`, n ≤ `max_points`.
    pub points: Array2<f32>,
    /// Data rows in the file (more than `points` when the file was subsampled).
    pub rows_in_file: u64,
}

pub fn load_csv(path: &Path, max_points: usize, rng: &mut impl Rng) -> Result<CsvPoints, CsvError> {
    let file = File::open(path).map_err(|e| CsvError::Io(e.to_string()))?;
    read_csv(BufReader::new(file), max_points, rng)
}

/// As [`load_csv`], from any reader (tests and fuzzing feed bytes directly).
pub fn read_csv(mut reader: impl BufRead, max_points: usize, rng: &mut impl Rng) -> Result<CsvPoints, CsvError> {
    let mut kept: Vec<[f32; 2]> = Vec::new();
    let mut rows: u64 = 0;
    let mut buf = Vec::new();
    let mut line_number = 0;
    loop {
        buf.clear();
        let read = reader.by_ref().take(MAX_LINE_BYTES + 1).read_until(b'\n', &mut buf);
        if read.map_err(|e| CsvError::Io(e.to_string()))? == 0 {
            break;
        }
        line_number += 1;
        let bad = |problem: String| CsvError::Line { line: line_number, problem };
        if buf.len() as u64 > MAX_LINE_BYTES {
            return Err(bad(format!("longer than {MAX_LINE_BYTES} bytes")));
        }
        let text = std::str::from_utf8(&buf).map_err(|_| bad("not UTF-8 text".into()))?;
        // A byte-order mark (as spreadsheets save UTF-8) is no part of the first field.
        let text = if line_number == 1 { text.strip_prefix(BYTE_ORDER_MARK).unwrap_or(text) } else { text }.trim();
        if text.is_empty() {
            continue;
        }
        let point = match parse_row(text) {
            Ok(point) => point,
            // A first line that is not numbers is a header.
            Err(_) if line_number == 1 && is_header(text) => continue,
            Err(problem) => return Err(bad(problem)),
        };
        rows += 1;
        if kept.len() < max_points {
            kept.push(point);
        } else {
            // Reservoir sampling: row k (1-based) replaces a kept one with probability max/k.
            let slot = rng.random_range(0..rows);
            if slot < max_points as u64 {
                kept[slot as usize] = point;
            }
        }
    }
    if kept.len() < MIN_POINTS {
        return Err(CsvError::TooFew { found: kept.len() });
    }
    let points = Array2::from_shape_fn((kept.len(), 2), |(i, d)| kept[i][d]);
    Ok(CsvPoints { points, rows_in_file: rows })
}

fn parse_row(text: &str) -> Result<[f32; 2], String> {
    let fields: Vec<&str> = text.split(',').map(str::trim).collect();
    if fields.len() != 2 {
        return Err(format!("expected 2 columns x,y, found {}", fields.len()));
    }
    let mut point = [0.0f32; 2];
    for (value, field) in point.iter_mut().zip(&fields) {
        let parsed: f64 = field.parse().map_err(|_| format!("'{}' is not a number", clip(field)))?;
        if !parsed.is_finite() || parsed.abs() > f64::from(f32::MAX) {
            return Err(format!("'{}' is not a finite number", clip(field)));
        }
        *value = parsed as f32;
    }
    Ok(point)
}

/// A header names its columns: no field of it parses as a number.
fn is_header(text: &str) -> bool {
    text.split(',').all(|f| f.trim().parse::<f64>().is_err())
}

/// At most 40 characters of a field, for error messages.
fn clip(field: &str) -> String {
    let mut chars = field.chars();
    let head: String = chars.by_ref().take(40).collect();
    if chars.next().is_some() { format!("{head}…") } else { head }
}
