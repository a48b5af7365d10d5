//! The loss panel's header rows and bottom border: each chart's title with its curves' keys
//! and values (latest, or at the crosshair's step), the earlier runs' legend, and the
//! footnote; and, for the mouse, which curve each legend entry names. A row is built as
//! [`Keyed`] spans, so that what is drawn and what a click finds come from one list.

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use crate::app::crosshair::Reading;
use crate::app::loss_history::Ends;
use crate::app::loss_plot::LossPlot;
use crate::app::view::Curve;
use crate::shown::format_sig;
use crate::ui::{format_count, theme};

/// An earlier run's curve: a dot a column, lighter than any braille line.
pub(super) const PAST_GLYPH: &str = "·";
/// A hidden curve's legend glyph.
const HIDDEN_GLYPH: &str = "◌";

/// A header row's spans, each with the curve a click on it hides or shows (`None`: a title or
/// a gap).
pub(super) type Keyed = Vec<(Span<'static>, Option<Curve>)>;

/// "÷6.9" when a series fell from its first reading to its latest, "×1.2" when it rose.
fn change(ends: Ends) -> Option<String> {
    let Ends { first, last } = ends;
    (first > 0.0 && last > 0.0).then(|| {
        if last <= first {
            format!("÷{}", format_sig(first / last))
        } else {
            format!("×{}", format_sig(last / first))
        }
    })
}

/// The first of `options` that fits `width` (the panel's), else the last.
fn fitting(options: Vec<Keyed>, width: u16) -> Keyed {
    let last = options.len().saturating_sub(1);
    let fits = |keyed: &Keyed| keyed_width(keyed) < usize::from(width);
    options.into_iter().enumerate().find(|(i, keyed)| fits(keyed) || *i == last).map(|(_, k)| k).unwrap_or_default()
}

fn keyed_width(keyed: &Keyed) -> usize {
    keyed.iter().map(|(span, _)| span.width()).sum()
}

pub(super) fn line(keyed: &Keyed) -> Line<'static> {
    Line::from(keyed.iter().map(|(span, _)| span.clone()).collect::<Vec<_>>())
}

/// The curve whose entry covers `column` (counted from the row's start), if any.
pub(super) fn curve_at(keyed: &Keyed, column: u16) -> Option<Curve> {
    let mut start = 0;
    for (span, curve) in keyed {
        let end = start + span.width();
        if (start..end).contains(&usize::from(column)) {
            return *curve;
        }
        start = end;
    }
    None
}

/// A legend entry: the curve's glyph and its text; when hidden, a hollow glyph and its name
/// struck through, so that it reads as off with or without colour.
fn entry(curve: Curve, glyph: &str, colour: Style, text: String, name: &str, hidden: bool) -> Keyed {
    if hidden {
        let struck = theme::DIM.add_modifier(Modifier::CROSSED_OUT);
        return vec![
            (Span::styled(format!("{HIDDEN_GLYPH} "), theme::DIM), Some(curve)),
            (Span::styled(name.to_string(), struck), Some(curve)),
        ];
    }
    vec![(Span::styled(format!("{glyph} "), colour), Some(curve)), (Span::styled(text, theme::DIM), Some(curve))]
}

fn gap(text: &str) -> (Span<'static>, Option<Curve>) {
    (Span::raw(text.to_string()), None)
}

/// The loss chart's header: the axis title, then each curve's key with its latest value and
/// the test loss's fall since its first reading, shorter when the panel is narrow. Under the
/// crosshair it reads the curves at its step instead.
pub(super) fn loss_header(plot: &LossPlot, reading: Option<&Reading>, width: u16) -> Keyed {
    let hidden = |curve| plot.hidden.contains(&curve);
    let shown = |v: Option<f64>| v.filter(|v| v.is_finite()).map_or_else(|| "—".to_string(), format_sig);
    // Before the first step (a loaded run of 0 epochs) there is no moving average yet: a dash.
    let ema = shown(reading.map_or(plot.latest_smooth, |r| r.smooth));
    let test = plot.test_ends.map(|e| match reading {
        Some(r) => (shown(r.test.map(|(_, v)| v)), None),
        None => (format_sig(e.last), change(e)),
    });
    let raw = reading.map(|r| shown(r.raw));
    // Names and the fall in words, then names only, then values only; the raw loss's entry
    // goes before the other curves' names do.
    let build = |named: bool, worded: bool, with_raw: bool| {
        let mut keyed: Keyed = vec![(Span::styled("loss ", theme::TITLE), None)];
        if let Some(r) = reading {
            let step = format_count(r.step.round() as u64);
            keyed.push((
                Span::styled(if named { format!("at step {step} ") } else { format!("@{step} ") }, theme::VALUE),
                None,
            ));
        }
        let text = if named { format!("EMA {ema}") } else { ema.clone() };
        keyed.extend(entry(Curve::Smooth, "━", theme::TRAIN_SMOOTH.into(), text, "EMA", hidden(Curve::Smooth)));
        if let Some((last, change)) = &test {
            let change = match (change, worded) {
                (Some(c), true) => format!(" ({c} since start)"),
                (Some(c), false) => format!(" {c}"),
                (None, _) => String::new(),
            };
            let text = if named { format!("test {last}{change}") } else { format!("{last}{change}") };
            keyed.push(gap(" "));
            keyed.extend(entry(Curve::Test, "•", theme::TEST.into(), text, "test", hidden(Curve::Test)));
        }
        let text = match (&raw, named || worded) {
            (Some(value), true) => format!("raw {value}"),
            (Some(value), false) => value.clone(),
            (None, true) => "raw".to_string(),
            (None, false) => String::new(),
        };
        if with_raw {
            keyed.push(gap(" "));
            keyed.extend(entry(Curve::Raw, "─", theme::TRAIN_RAW.into(), text, "raw", hidden(Curve::Raw)));
        }
        keyed
    };
    let options = [(true, true, true), (true, false, true), (true, false, false), (false, false, true)];
    let options = options.into_iter().chain([(false, false, false)]);
    fitting(options.map(|(named, worded, with_raw)| build(named, worded, with_raw)).collect(), width)
}

/// The Fisher chart's header: its axis title, its latest value (or the crosshair's) and its
/// fall since the first reading, the figure that the flat loss above hides.
pub(super) fn fisher_header(ends: Option<Ends>, latest: Option<f64>, hidden: bool, width: u16) -> Keyed {
    let value = latest.map(format_sig).unwrap_or_else(|| "—".to_string());
    let change = ends.and_then(change);
    let build = |long: bool| {
        let text = match (&change, long) {
            (Some(c), true) => format!("divergence {value} ({c} since start)"),
            (Some(c), false) => format!("{value} {c}"),
            (None, true) => format!("divergence {value}"),
            (None, false) => value.clone(),
        };
        let mut keyed: Keyed = vec![(Span::styled("Fisher ", theme::TITLE), None)];
        keyed.extend(entry(Curve::Fisher, "━", theme::FISHER.into(), text, "divergence", hidden));
        keyed
    };
    fitting(vec![build(true), build(false)], width)
}

/// The bottom border: the epoch marks' spacing and a loss that ran away, in words when there
/// is room, in brief otherwise.
pub(super) fn footnote(marks_every: Option<u64>, plot: &LossPlot, width: u16) -> Line<'static> {
    let build = |long: bool| {
        let mut spans = Vec::new();
        if let Some(every) = marks_every {
            let marks = match (long, every) {
                (true, 1) => " ┊ each epoch ".to_string(),
                (true, _) => format!(" ┊ every {every} epochs "),
                (false, _) => format!(" ┊ {every} ep "),
            };
            spans.push(Span::styled(marks, theme::DIM));
        }
        if let Some(loss) = plot.runaway_loss {
            spans.push(Span::styled(" ▲ diverged", theme::DIVERGED));
            let value = if loss.is_finite() { format!(" (loss {})", format_sig(loss)) } else { " (not finite)".into() };
            spans.push(Span::styled(if long { format!("{value} ") } else { " ".into() }, theme::DIM));
        }
        Line::from(spans)
    };
    let unkeyed = |line: Line<'static>| line.spans.into_iter().map(|span| (span, None)).collect();
    line(&fitting(vec![unkeyed(build(true)), unkeyed(build(false))], width.saturating_sub(2)))
}

/// The earlier runs' keys, "· run 1 DSM moons σ0.1 s0" (and its value under the crosshair),
/// packed into at most `rows` lines of `width` (the last runs kept when they do not all fit,
/// the newest being the likeliest to be compared).
pub(super) fn past_legend(plot: &LossPlot, reading: Option<&Reading>, width: u16, rows: u16) -> Vec<Keyed> {
    let mut lines: Vec<Keyed> = Vec::new();
    for curve in &plot.past {
        // Another kind of loss is another quantity: said, so that its curve, off the axis or
        // crossing it, is not read as this loss.
        let mut label = if curve.same_kind { curve.label.clone() } else { format!("{} (other loss)", curve.label) };
        if let Some(&(_, value)) = reading.and_then(|r| r.past.iter().find(|p| p.0 == curve.number)) {
            label = format!("{label} {}", format_sig(value));
        }
        let hidden = plot.hidden.contains(&Curve::Past(curve.number));
        let entry = entry(Curve::Past(curve.number), PAST_GLYPH, theme::PAST_RUN.into(), label.clone(), &label, hidden);
        match lines.last_mut() {
            Some(line) if keyed_width(line) + 3 + keyed_width(&entry) <= usize::from(width) => {
                line.push(gap("   "));
                line.extend(entry);
            }
            _ => lines.push(entry),
        }
    }
    let skip = lines.len().saturating_sub(usize::from(rows));
    lines.into_iter().skip(skip).collect()
}
