//! The loss panel: train loss per step (its moving average over the faint raw curve) and the
//! test loss per epoch, against the step, with dotted lines marking epochs.
//!
//! ratatui's chart has no log axis, so on the log scale the series are plotted as log10 of
//! the loss and the tick labels show the real values at evenly spaced heights. The series and
//! bounds are computed by [`LossPlot::new`] when data arrives; drawing only lays them out.

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Paragraph, Widget};

use crate::app::{Scale, Window};
use crate::ui::loss_history::{LossHistory, LossPoint, RECENT_STEPS};
use crate::ui::{format_count, format_sig, theme};

/// Epoch marks are spaced at least this many cells apart (1, 2, 5, 10 … epochs each).
const MIN_MARK_SPACING: f64 = 6.0;

/// The loss series in plot coordinates (x = step, y = loss or its log10), and the bounds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LossPlot {
    raw: Vec<(f64, f64)>,
    smooth: Vec<(f64, f64)>,
    test: Vec<(f64, f64)>,
    x_bounds: [f64; 2],
    y_bounds: [f64; 2],
    scale: Scale,
    window: Window,
    /// Log was asked for but the loss is not positive throughout.
    log_refused: bool,
}

impl LossPlot {
    /// The plot of `history` in `scale`; a loss that is not positive throughout (implicit score
    /// matching's can be negative) has no log, so such a plot falls back to linear.
    pub fn new(history: &LossHistory, scale: Scale, window: Window) -> Self {
        let last = history.last_step().unwrap_or(0);
        let first = match window {
            Window::Full => 0,
            Window::Recent => last.saturating_sub(RECENT_STEPS as u64),
        };
        let train: Vec<LossPoint> = match window {
            Window::Full => history.train().points().collect(),
            Window::Recent => history.recent().collect(),
        };
        let test: Vec<LossPoint> = history.test().points().filter(|p| p.step >= first).collect();
        let positive = train.iter().chain(&test).all(|p| !(p.raw <= 0.0 || p.smooth <= 0.0));
        let log_refused = scale == Scale::Log && !positive;
        let scale = if log_refused { Scale::Linear } else { scale };
        let to_y = |loss: f64| match scale {
            Scale::Log => loss.log10(),
            Scale::Linear => loss,
        };
        let series = |points: &[LossPoint], value: fn(&LossPoint) -> f64| -> Vec<(f64, f64)> {
            points.iter().map(|p| (p.step as f64, to_y(value(p)))).filter(|(_, y)| y.is_finite()).collect()
        };
        let raw = series(&train, |p| p.raw);
        let smooth = series(&train, |p| p.smooth);
        let test = series(&test, |p| p.raw);
        let y_bounds = y_bounds(&raw, &smooth, &test);
        let x_bounds = [first as f64, last.max(first + 1) as f64];
        Self { raw, smooth, test, x_bounds, y_bounds, scale, window, log_refused }
    }

    pub fn is_empty(&self) -> bool {
        self.raw.is_empty() && self.test.is_empty()
    }

    /// The loss at plot height `y`.
    fn loss_at(&self, y: f64) -> f64 {
        match self.scale {
            Scale::Log => 10f64.powf(y),
            Scale::Linear => y,
        }
    }
}

/// The smoothed and test series whole, and the raw one without its outliers (its 2nd to
/// 98th percentile, as TensorBoard ignores outliers when scaling), with a 5% margin. A single
/// spike should not flatten the curves the user is reading; lines beyond are clipped.
fn y_bounds(raw: &[(f64, f64)], smooth: &[(f64, f64)], test: &[(f64, f64)]) -> [f64; 2] {
    let mut raw_y: Vec<f64> = raw.iter().map(|&(_, y)| y).collect();
    let last = raw_y.len().saturating_sub(1);
    let mut percentile = |q: f64| {
        let k = (last as f64 * q).round() as usize;
        raw_y.get_mut(..).and_then(|all| (!all.is_empty()).then(|| *all.select_nth_unstable_by(k, f64::total_cmp).1))
    };
    let raw_range = [percentile(0.02), percentile(0.98)].into_iter().flatten();
    let (lo, hi) = smooth
        .iter()
        .chain(test)
        .map(|&(_, y)| y)
        .chain(raw_range)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| (lo.min(y), hi.max(y)));
    if lo > hi {
        return [0.0, 1.0];
    }
    // A flat series still gets some height.
    let pad = if hi - lo > 1e-9 { 0.05 * (hi - lo) } else { 0.05 * lo.abs().max(1.0) };
    [lo - pad, hi + pad]
}

pub struct LossChart<'a> {
    pub plot: &'a LossPlot,
    pub steps_per_epoch: u64,
}

impl Widget for LossChart<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let plot = self.plot;
        let scale = match (plot.scale, plot.log_refused) {
            (Scale::Log, _) => "log₁₀",
            (Scale::Linear, false) => "linear",
            (Scale::Linear, true) => "linear (loss ≤ 0: no log)",
        };
        let window = match plot.window {
            Window::Full => "all steps".to_string(),
            Window::Recent => format!("last {RECENT_STEPS} steps"),
        };
        let title = Line::from(vec![
            Span::styled(" Loss ", theme::TITLE),
            Span::styled(format!("{scale} · {window} "), theme::DIM),
        ]);
        let mut block = Block::bordered().border_style(theme::BORDER).title(title);
        if plot.is_empty() {
            let inner = block.inner(area);
            block.render(area, buf);
            let middle = Rect { y: inner.y + inner.height / 2, height: 1, ..inner };
            Paragraph::new("waiting for the first steps…").style(theme::DIM).centered().render(middle, buf);
            return;
        }

        let inner = block.inner(area);
        // Rows left for the graph once the x labels and the axis line are drawn.
        let graph_rows = inner.height.saturating_sub(2);
        let label_count = if graph_rows >= 12 { 5 } else { 3 };
        let [y0, y1] = plot.y_bounds;
        let y_labels: Vec<String> = (0..label_count)
            .map(|i| format_sig(plot.loss_at(y0 + (y1 - y0) * i as f64 / (label_count - 1) as f64)))
            .collect();
        let [x0, x1] = plot.x_bounds;
        let mut x_labels: Vec<String> =
            [x0, (x0 + x1) / 2.0, x1].iter().map(|x| format_count(x.round() as u64)).collect();
        // A run of a step or two (or none: `--load … --epochs 0`) would repeat a label.
        x_labels.dedup();

        let label_width = y_labels.iter().map(|l| l.chars().count()).max().unwrap_or(0) as u16;
        let graph_cols = inner.width.saturating_sub(label_width + 1);
        let (marks, every) = epoch_marks(plot, self.steps_per_epoch, graph_cols, graph_rows);

        block = block.title_bottom(legend(every, inner.width));

        let series = |data, color| {
            Dataset::default().marker(Marker::Braille).graph_type(GraphType::Line).style(color).data(data)
        };
        let datasets = vec![
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Scatter)
                .style(theme::EPOCH_MARK)
                .data(&marks),
            series(&plot.raw, theme::TRAIN_RAW),
            series(&plot.smooth, theme::TRAIN_SMOOTH),
            series(&plot.test, theme::TEST),
        ];
        Chart::new(datasets)
            .block(block)
            .legend_position(None)
            .x_axis(Axis::default().bounds(plot.x_bounds).labels(x_labels).style(theme::AXIS))
            .y_axis(
                Axis::default()
                    .bounds(plot.y_bounds)
                    .labels(y_labels)
                    .labels_alignment(Alignment::Right)
                    .style(theme::AXIS),
            )
            .render(area, buf);
    }
}

/// The key to the curves, in words when there is room and in brief otherwise.
fn legend(marks_every: Option<u64>, width: u16) -> Line<'static> {
    let build = |names: [&str; 3], marks: String| {
        let glyphs = [(" ━ ", theme::TRAIN_SMOOTH), (" ─ ", theme::TRAIN_RAW), (" ━ ", theme::TEST)];
        let mut spans: Vec<Span> = glyphs
            .into_iter()
            .zip(names)
            .flat_map(|((glyph, colour), name)| {
                [Span::styled(glyph, colour), Span::styled(name.to_string(), theme::DIM)]
            })
            .collect();
        if marks_every.is_some() {
            spans.push(Span::styled(format!(" ┊ {marks}"), theme::DIM));
        }
        spans.push(Span::raw(" "));
        Line::from(spans)
    };
    let every = marks_every.unwrap_or(1);
    let long = build(
        ["train (EMA) ", "raw ", "test"],
        if every == 1 { "each epoch".into() } else { format!("every {every} epochs") },
    );
    if long.width() + 2 <= usize::from(width) { long } else { build(["EMA", "raw", "test"], format!("{every} ep")) }
}

/// Dotted vertical lines at every `k`-th epoch boundary, `k` the smallest of 1, 2, 5, 10, 20 …
/// that keeps them [`MIN_MARK_SPACING`] cells apart; `k` is `None` when none fits in view.
fn epoch_marks(plot: &LossPlot, steps_per_epoch: u64, cols: u16, rows: u16) -> (Vec<(f64, f64)>, Option<u64>) {
    let [x0, x1] = plot.x_bounds;
    if steps_per_epoch == 0 || cols == 0 || rows == 0 {
        return (Vec::new(), None);
    }
    let cells_per_epoch = f64::from(cols) * steps_per_epoch as f64 / (x1 - x0);
    let Some(k) = nice_multiples().find(|&k| cells_per_epoch * k as f64 >= MIN_MARK_SPACING) else {
        return (Vec::new(), None);
    };
    let span = k * steps_per_epoch;
    let [y0, y1] = plot.y_bounds;
    // One dot on every other braille row: a dotted line, lighter than the curves.
    let dots = u32::from(rows) * 2;
    let mut marks = Vec::new();
    let mut step = (x0 as u64 / span + 1) * span;
    while (step as f64) < x1 {
        marks.extend((0..dots).map(|j| (step as f64, y0 + (y1 - y0) * (f64::from(j) + 0.5) / f64::from(dots))));
        step += span;
    }
    let shown = !marks.is_empty();
    (marks, shown.then_some(k))
}

/// 1, 2, 5, 10, 20, 50 … as far as `u64` goes.
fn nice_multiples() -> impl Iterator<Item = u64> {
    (0..19).flat_map(|decade| [1, 2, 5].map(|m| m * 10u64.pow(decade)))
}

#[cfg(test)]
mod tests {
    use ratatui::style::Color;

    use super::*;
    use crate::trainer::TestPoint;
    use crate::ui::buffer_text;

    /// Train losses from 1000 down to 10, geometrically; test losses 1000 and 10 set the range.
    fn history() -> LossHistory {
        let mut h = LossHistory::default();
        for step in 1..=100u64 {
            h.push_train(step, 1000.0 * 0.01f32.powf((step - 1) as f32 / 99.0));
        }
        h.push_test(TestPoint { epoch: 0, step: 0, loss: 1000.0 });
        h.push_test(TestPoint { epoch: 1, step: 100, loss: 10.0 });
        h
    }

    fn draw(plot: &LossPlot, width: u16, height: u16) -> Buffer {
        let area = Rect::new(0, 0, width, height);
        let mut buf = Buffer::empty(area);
        LossChart { plot, steps_per_epoch: 10 }.render(area, &mut buf);
        buf
    }

    /// The label left of the y axis on `row`.
    fn y_label(buf: &Buffer, row: u16) -> String {
        let text = buffer_text(buf);
        let line = text.lines().nth(usize::from(row)).unwrap().to_string();
        line.trim_start_matches('│').split('│').next().unwrap().trim().to_string()
    }

    #[test]
    fn the_log_scale_labels_real_values() {
        let plot = LossPlot::new(&history(), Scale::Log, Window::Full);
        // 9 rows inside the border: 7 for the graph, 3 labels at its top, middle and bottom.
        let buf = draw(&plot, 40, 11);
        // The bounds are padded evenly in log space, so the middle is the geometric mean.
        assert_eq!(y_label(&buf, 4), "100");
        let (top, bottom): (f64, f64) = (y_label(&buf, 1).parse().unwrap(), y_label(&buf, 7).parse().unwrap());
        assert!(top > 1000.0 && top < 1500.0 && bottom < 10.0 && bottom > 7.0, "{top} {bottom}");

        let linear = LossPlot::new(&history(), Scale::Linear, Window::Full);
        assert_eq!(y_label(&draw(&linear, 40, 11), 4), "505");
    }

    #[test]
    fn every_series_is_drawn_in_its_colour_with_epoch_marks() {
        let buf = draw(&LossPlot::new(&history(), Scale::Log, Window::Full), 60, 20);
        let fg: Vec<Color> = buf.content().iter().map(|c| c.fg).collect();
        for colour in [theme::TRAIN_SMOOTH, theme::TRAIN_RAW, theme::TEST, theme::EPOCH_MARK] {
            assert!(fg.contains(&colour), "{colour:?}");
        }
        // 100 steps over ~55 columns: an epoch of 10 steps is ~5.5 cells, so every 2 epochs.
        assert!(buffer_text(&buf).contains("every 2 epochs"));
    }

    #[test]
    fn an_empty_history_says_it_is_waiting() {
        let buf = draw(&LossPlot::default(), 40, 10);
        assert!(buffer_text(&buf).contains("waiting for the first steps"));
    }

    #[test]
    fn the_recent_window_starts_1000_steps_back() {
        let mut h = LossHistory::default();
        for step in 1..=5000 {
            h.push_train(step, 1.0 + (step % 7) as f32);
        }
        let plot = LossPlot::new(&h, Scale::Linear, Window::Recent);
        assert_eq!(plot.x_bounds, [4000.0, 5000.0]);
        assert_eq!(plot.raw.len(), RECENT_STEPS);
        assert_eq!(LossPlot::new(&h, Scale::Linear, Window::Full).x_bounds, [0.0, 5000.0]);
    }

    #[test]
    fn a_loss_that_goes_negative_is_plotted_linear_and_says_why() {
        let mut h = LossHistory::default();
        for step in 1..=100 {
            h.push_train(step, 50.0 - step as f32);
        }
        let plot = LossPlot::new(&h, Scale::Log, Window::Full);
        assert_eq!(plot.scale, Scale::Linear);
        assert_eq!(plot.raw.len(), 100, "no point dropped");
        assert!(buffer_text(&draw(&plot, 60, 12)).contains("linear (loss ≤ 0: no log)"));
    }

    #[test]
    fn outliers_do_not_set_the_scale() {
        let mut h = LossHistory::default();
        for step in 1..=1000 {
            h.push_train(step, if step == 500 { 1e6 } else { 100.0 + (step % 10) as f32 });
        }
        let plot = LossPlot::new(&h, Scale::Linear, Window::Full);
        // The EMA jumps by (1 − β)·1e6 = 2e4 after the spike; the raw spike itself is ignored.
        assert!(plot.y_bounds[1] < 3e4, "{:?}", plot.y_bounds);
    }
}
