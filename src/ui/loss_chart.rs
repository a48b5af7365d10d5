//! The loss panel: train loss per step (its moving average over the faint raw curve) and the
//! test loss per epoch, against the step, with dotted lines marking epochs; and, on a second
//! axis at the right, the Fisher divergence readout taken with each test loss.
//!
//! The series and bounds are computed by [`LossPlot::new`] when data arrives (see
//! [`crate::app::loss_plot`] for the log scale and the Fisher axis); drawing only lays them
//! out: ticks, labels, epoch marks and the legend.

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::symbols::{Marker, line};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Paragraph, Widget};

use crate::app::loss_history::RECENT_STEPS;
use crate::app::loss_plot::LossPlot;
use crate::app::view::{Scale, Window};
use crate::shown::format_sig;
use crate::ui::{format_count, theme};

/// Epoch marks are spaced at least this many cells apart (1, 2, 5, 10 … epochs each).
const MIN_MARK_SPACING: f64 = 6.0;

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
        let block = Block::bordered().border_style(theme::BORDER).title(title);
        let inner = block.inner(area);
        if plot.is_empty() {
            block.render(area, buf);
            let middle = Rect { y: inner.y + inner.height / 2, height: 1, ..inner };
            Paragraph::new("waiting for the first steps…").style(theme::DIM).centered().render(middle, buf);
            return;
        }

        // Rows left for the graph once the x labels and the axis line are drawn.
        let graph_rows = inner.height.saturating_sub(2);
        let label_count = if graph_rows >= 12 { 5 } else { 3 };
        let [y0, y1] = plot.y_bounds;
        let heights: Vec<f64> =
            (0..label_count).map(|i| y0 + (y1 - y0) * i as f64 / (label_count - 1) as f64).collect();
        let y_labels: Vec<String> = heights.iter().map(|&y| format_sig(plot.loss_at(y))).collect();
        let fisher_labels: Vec<String> = if plot.fisher.is_empty() {
            Vec::new()
        } else {
            heights.iter().map(|&y| format_sig(plot.fisher_at(y))).collect()
        };
        let [x0, x1] = plot.x_bounds;
        let mut x_labels: Vec<String> =
            [x0, (x0 + x1) / 2.0, x1].iter().map(|x| format_count(x.round() as u64)).collect();
        // A run of a step or two (or none: `--load … --epochs 0`) would repeat a label.
        x_labels.dedup();

        // The Fisher axis: a line and its labels right of the graph.
        let fisher_width = fisher_labels.iter().map(|l| l.chars().count() as u16 + 1).max().unwrap_or(0);
        let [chart_area, fisher_area] =
            inner.layout(&Layout::horizontal([Constraint::Fill(1), Constraint::Length(fisher_width)]));
        let label_width = y_labels.iter().map(|l| l.chars().count()).max().unwrap_or(0) as u16;
        let graph_cols = chart_area.width.saturating_sub(label_width + 1);
        let (marks, every) = epoch_marks(plot, self.steps_per_epoch, graph_cols, graph_rows);

        let fisher_key = (!plot.fisher.is_empty()).then_some(plot.fisher_shares_loss_axis());
        block.title_bottom(legend(every, fisher_key, inner.width)).render(area, buf);

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
            // Last: where it crosses the loss curves at the start, it stays visible.
            series(&plot.fisher, theme::FISHER),
        ];
        Chart::new(datasets)
            .legend_position(None)
            .x_axis(Axis::default().bounds(plot.x_bounds).labels(x_labels).style(theme::AXIS))
            .y_axis(
                Axis::default()
                    .bounds(plot.y_bounds)
                    .labels(y_labels)
                    .labels_alignment(Alignment::Right)
                    .style(theme::AXIS),
            )
            .render(chart_area, buf);
        render_fisher_axis(&fisher_labels, fisher_area, graph_rows, buf);
    }
}

/// The right axis: a line beside the graph's `rows` rows, closing the x axis below them, and
/// `labels` at the rows where ratatui's chart puts its own y labels (so both read across).
fn render_fisher_axis(labels: &[String], area: Rect, rows: u16, buf: &mut Buffer) {
    if labels.len() < 2 || area.width == 0 || rows == 0 || rows >= area.height {
        return;
    }
    let x = area.x;
    for row in area.y..area.y + rows {
        buf[(x, row)].set_symbol(line::VERTICAL).set_style(theme::AXIS);
    }
    buf[(x, area.y + rows)].set_symbol(line::BOTTOM_RIGHT).set_style(theme::AXIS);
    let steps = labels.len() as u16 - 1;
    for (i, label) in (0..).zip(labels) {
        let row = area.y + rows - 1 - i * (rows - 1) / steps;
        buf.set_stringn(x + 1, row, label, usize::from(area.width - 1), theme::FISHER);
    }
}

/// The key to the curves, in words when there is room, in brief otherwise, then without the
/// epoch marks' key, and last without saying that the Fisher curve has its own range.
/// `fisher` is whether its axis is shared (see the module doc), `None` when there is no
/// Fisher curve.
fn legend(marks_every: Option<u64>, fisher: Option<bool>, width: u16) -> Line<'static> {
    let build = |long: bool, with_marks: bool, own_range_said: bool| {
        let fisher_name = match fisher {
            Some(true) if long => "Fisher (right axis)",
            Some(false) if long => "Fisher (right axis, own range)",
            Some(false) if own_range_said => "Fisher (own range)",
            _ => "Fisher",
        };
        let entries = [
            (" ━ ", theme::TRAIN_SMOOTH, if long { "train (EMA) " } else { "EMA" }),
            (" ─ ", theme::TRAIN_RAW, if long { "raw " } else { "raw" }),
            (" ━ ", theme::TEST, if long { "test " } else { "test" }),
        ];
        let fisher_entry = fisher.map(|_| (" ━ ", theme::FISHER, fisher_name));
        let mut spans: Vec<Span> = entries
            .into_iter()
            .chain(fisher_entry)
            .flat_map(|(glyph, colour, name)| [Span::styled(glyph, colour), Span::styled(name, theme::DIM)])
            .collect();
        if let (Some(every), true) = (marks_every, with_marks) {
            let marks = match (long, every) {
                (true, 1) => " ┊ each epoch".to_string(),
                (true, _) => format!(" ┊ every {every} epochs"),
                (false, _) => format!(" ┊ {every} ep"),
            };
            spans.push(Span::styled(marks, theme::DIM));
        }
        spans.push(Span::raw(" "));
        Line::from(spans)
    };
    let fits = |line: &Line| line.width() + 2 <= usize::from(width);
    [build(true, true, true), build(false, true, true), build(false, false, true)]
        .into_iter()
        .find(fits)
        .unwrap_or_else(|| build(false, false, false))
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
    use crate::app::loss_history::LossHistory;
    use crate::app::view::FisherCurve;
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
        let plot = LossPlot::new(&history(), Scale::Log, Window::Full, FisherCurve::Shown);
        // 9 rows inside the border: 7 for the graph, 3 labels at its top, middle and bottom.
        let buf = draw(&plot, 40, 11);
        // The bounds are padded evenly in log space, so the middle is the geometric mean.
        assert_eq!(y_label(&buf, 4), "100");
        let (top, bottom): (f64, f64) = (y_label(&buf, 1).parse().unwrap(), y_label(&buf, 7).parse().unwrap());
        assert!(top > 1000.0 && top < 1500.0 && bottom < 10.0 && bottom > 7.0, "{top} {bottom}");

        let linear = LossPlot::new(&history(), Scale::Linear, Window::Full, FisherCurve::Shown);
        assert_eq!(y_label(&draw(&linear, 40, 11), 4), "505");
    }

    #[test]
    fn every_series_is_drawn_in_its_colour_with_epoch_marks() {
        let buf = draw(&LossPlot::new(&history(), Scale::Log, Window::Full, FisherCurve::Shown), 60, 20);
        let fg: Vec<Color> = buf.content().iter().map(|c| c.fg).collect();
        for colour in [theme::TRAIN_SMOOTH, theme::TRAIN_RAW, theme::TEST, theme::EPOCH_MARK] {
            assert!(fg.contains(&colour), "{colour:?}");
        }
        // 100 steps over ~55 columns: an epoch of 10 steps is ~5.5 cells, so every 2 epochs.
        assert!(buffer_text(&buf).contains("every 2 epochs"));
    }

    /// The label right of the Fisher axis on `row`.
    fn fisher_label(buf: &Buffer, row: u16) -> String {
        let text = buffer_text(buf);
        let line = text.lines().nth(usize::from(row)).unwrap().to_string();
        line.trim_end_matches('│').rsplit('│').next().unwrap().trim().to_string()
    }

    #[test]
    fn the_fisher_axis_is_the_loss_axis_times_the_ratio_of_the_first_readings() {
        let mut h = history();
        h.push_fisher(TestPoint { epoch: 0, step: 0, loss: 50.0 });
        h.push_fisher(TestPoint { epoch: 1, step: 100, loss: 0.5 });
        for scale in [Scale::Log, Scale::Linear] {
            let plot = LossPlot::new(&h, scale, Window::Full, FisherCurve::Shown);
            assert_eq!(plot.fisher[0].1, plot.test[0].1, "{scale:?}: both curves start level");
            let buf = draw(&plot, 40, 11);
            for row in [1, 4, 7] {
                let (loss, fisher): (f64, f64) =
                    (y_label(&buf, row).parse().unwrap(), fisher_label(&buf, row).parse().unwrap());
                // k = 50 / 1000; both labels are rounded to three figures.
                assert!((fisher / loss / 0.05 - 1.0).abs() < 0.01, "{scale:?} row {row}: {loss} vs {fisher}");
            }
        }
    }

    #[test]
    fn a_flat_loss_stays_high_while_the_fisher_divergence_falls_to_the_bottom() {
        // What the default run does: the test loss falls 1.3×, the Fisher divergence 7×.
        let mut h = LossHistory::default();
        for step in 1..=630u64 {
            h.push_train(step, 165.0 + 45.0 * (-(step as f32) / 100.0).exp());
        }
        for epoch in 0..=10u64 {
            let point = |loss| TestPoint { epoch: epoch as usize, step: 63 * epoch, loss };
            let progress = (-(epoch as f32) / 2.0).exp();
            h.push_test(point(165.0 + 46.0 * progress));
            h.push_fisher(point(3.6 + 21.3 * progress));
        }
        let buf = draw(&LossPlot::new(&h, Scale::Log, Window::Full, FisherCurve::Shown), 40, 22);
        let rows_in =
            |colour: Color| -> Vec<u16> { (1..19).filter(|&y| (0..40).any(|x| buf[(x, y)].fg == colour)).collect() };
        let (test, fisher) = (rows_in(theme::TEST), rows_in(theme::FISHER));
        // 18 graph rows: the loss keeps to the top half, the Fisher curve reaches the bottom.
        assert!(test.iter().all(|&y| y <= 9), "test rows {test:?}");
        assert!(fisher.iter().any(|&y| y >= 16), "Fisher rows {fisher:?}");
        assert!(buffer_text(&buf).contains("Fisher"));
    }

    #[test]
    fn a_loss_that_goes_negative_gives_the_fisher_curve_its_own_range() {
        let mut h = LossHistory::default();
        for step in 1..=100 {
            h.push_train(step, 50.0 - step as f32);
        }
        for (epoch, fisher) in [(0, 24.0), (1, 14.0), (2, 20.0)] {
            let point = |loss| TestPoint { epoch, step: 50 * epoch as u64, loss };
            h.push_test(point(40.0 - 40.0 * epoch as f32));
            h.push_fisher(point(fisher));
        }
        let plot = LossPlot::new(&h, Scale::Log, Window::Full, FisherCurve::Shown);
        assert!(!plot.fisher_shares_loss_axis());
        let [y0, y1] = plot.y_bounds;
        let heights: Vec<f64> = plot.fisher.iter().map(|&(_, y)| y).collect();
        let (lo, hi) = (
            heights.iter().copied().fold(f64::INFINITY, f64::min),
            heights.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        );
        // Fitted with the same 5% margins as the loss: the curve spans 10/11 of the height.
        assert!((lo - y0 - (y1 - y0) / 22.0).abs() < 1e-9 && (y1 - hi - (y1 - y0) / 22.0).abs() < 1e-9);
        let buf = draw(&plot, 100, 12);
        assert!(buffer_text(&buf).contains("Fisher (right axis, own range)"));
        assert_eq!(fisher_label(&buf, 1).parse::<f64>().unwrap(), 24.5, "its own top, 24 plus the margin");
    }

    #[test]
    fn a_hidden_fisher_curve_leaves_the_loss_its_own_range() {
        let mut h = history();
        h.push_fisher(TestPoint { epoch: 0, step: 0, loss: 50.0 });
        h.push_fisher(TestPoint { epoch: 1, step: 100, loss: 0.01 });
        let hidden = LossPlot::new(&h, Scale::Log, Window::Full, FisherCurve::Hidden);
        assert!(hidden.fisher.is_empty());
        assert_eq!(hidden.y_bounds, LossPlot::new(&history(), Scale::Log, Window::Full, FisherCurve::Shown).y_bounds);
        let text = buffer_text(&draw(&hidden, 60, 12));
        assert!(!text.contains("Fisher"), "{text}");
        let shown = LossPlot::new(&h, Scale::Log, Window::Full, FisherCurve::Shown);
        assert!(shown.y_bounds[0] < hidden.y_bounds[0] - 1.0, "5000× down: a decade below the loss");
    }

    #[test]
    fn the_legend_shortens_to_fit() {
        let width = |w| legend(Some(10), Some(true), w).to_string();
        assert!(width(100).contains("train (EMA)") && width(100).contains("Fisher (right axis)"));
        assert!(width(100).contains("every 10 epochs"));
        assert_eq!(width(40).trim(), "━ EMA ─ raw ━ test ━ Fisher ┊ 10 ep");
        assert_eq!(width(34).trim(), "━ EMA ─ raw ━ test ━ Fisher");
        assert!(!legend(None, None, 100).to_string().contains("Fisher"));
        let own = |w| legend(Some(50), Some(false), w).to_string();
        assert!(own(100).contains("Fisher (right axis, own range)"));
        assert_eq!(own(52).trim(), "━ EMA ─ raw ━ test ━ Fisher (own range) ┊ 50 ep");
        assert_eq!(own(44).trim(), "━ EMA ─ raw ━ test ━ Fisher (own range)");
        assert_eq!(own(34).trim(), "━ EMA ─ raw ━ test ━ Fisher");
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
        let plot = LossPlot::new(&h, Scale::Linear, Window::Recent, FisherCurve::Shown);
        assert_eq!(plot.x_bounds, [4000.0, 5000.0]);
        assert_eq!(plot.raw.len(), RECENT_STEPS);
        assert_eq!(LossPlot::new(&h, Scale::Linear, Window::Full, FisherCurve::Shown).x_bounds, [0.0, 5000.0]);
    }

    #[test]
    fn a_loss_that_goes_negative_is_plotted_linear_and_says_why() {
        let mut h = LossHistory::default();
        for step in 1..=100 {
            h.push_train(step, 50.0 - step as f32);
        }
        let plot = LossPlot::new(&h, Scale::Log, Window::Full, FisherCurve::Shown);
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
        let plot = LossPlot::new(&h, Scale::Linear, Window::Full, FisherCurve::Shown);
        // The EMA jumps by (1 − β)·1e6 = 2e4 after the spike; the raw spike itself is ignored.
        assert!(plot.y_bounds[1] < 3e4, "{:?}", plot.y_bounds);
    }
}
