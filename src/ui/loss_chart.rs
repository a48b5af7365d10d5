//! The loss panel: the train loss per step (its moving average over the faint raw curve) and
//! the test loss per epoch against the step, with dotted lines marking epochs; below it, on an
//! axis of its own, the Fisher divergence readout taken with each test loss.
//!
//! Each chart opens with a row naming its axis and its curves with their latest values and how
//! far each has fallen since the first reading: the DSM loss falls little (÷1.3) while the
//! divergence falls several times (÷6.9), and the two headers say so (see
//! [`crate::app::loss_plot`] for why the curves do not share an axis). Ticks are round values
//! ([`crate::ui::ticks`]), more of them on a larger panel. A loss that ran away is drawn at the
//! top edge under a ▲ and named in the bottom border, not drawn off the axis.
//!
//! Without colours the curves still differ: the raw loss is faint, the test loss dots (•) under
//! the moving average's line, and the Fisher divergence has its own chart (and is bold).
//!
//! Earlier runs' moving averages (`n`, `o`, `d`, `a` keep them; `x` clears them) are faint
//! dotted lines of `·` under the current moving average and test loss, each ending in its
//! run's number, and listed under the header ("· run 1 DSM moons σ0.1 s0"): a glyph of their
//! own, in colour or not.
//!
//! Under the mouse ([`target_at`]): a graph's column is a step (the crosshair is drawn in it),
//! a header entry a curve. The header rows' text is `ui::loss_legend`'s.
//!
//! The series and bounds are computed by [`LossPlot::new`] when data arrives; drawing only
//! lays them out.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::Color;
use ratatui::symbols::{Marker, line};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Paragraph, Widget};

use crate::app::crosshair::Reading;
use crate::app::loss_history::RECENT_STEPS;
use crate::app::loss_plot::{LossPlot, PastCurve, value_at};
use crate::app::loss_pointer::LossTarget;
use crate::app::view::{Curve, Scale, Window};
use crate::shown::format_sig;
use crate::ui::loss_legend::{Keyed, PAST_GLYPH, curve_at, fisher_header, footnote, line, loss_header, past_legend};
use crate::ui::{format_count, theme, ticks};

/// Epoch marks are spaced at least this many cells apart (1, 2, 5, 10 … epochs each).
const MIN_MARK_SPACING: f64 = 6.0;
/// The Fisher chart's least height: its header, three graph rows and the x axis with labels.
const FISHER_MIN_ROWS: u16 = 6;
/// Below this the loss chart keeps the panel to itself.
const LOSS_MIN_ROWS: u16 = 6;
/// At most one y tick every this many rows, one x tick every this many columns.
const ROWS_PER_Y_TICK: u16 = 3;
const COLUMNS_PER_X_TICK: u16 = 8;
const X_TITLE: &str = "step";
/// The crosshair's line, in the cells of its column that no curve has drawn in.
const CROSSHAIR: &str = "│";

pub struct LossChart<'a> {
    pub plot: &'a LossPlot,
    pub steps_per_epoch: u64,
    /// The crosshair's readout, while the pointer is on a graph.
    pub reading: Option<&'a Reading>,
}

/// A tick: its plot coordinate and its label.
type Tick = (f64, String);

/// Where the panel's parts fall, worked out once for drawing and for the mouse.
struct Panel {
    loss_area: Rect,
    /// The loss chart's header and, under it, the earlier runs' legend.
    header: Vec<Keyed>,
    loss_ticks: Vec<Tick>,
    loss_rows: u16,
    /// The Fisher chart, when shown and there is room: its area, header and ticks.
    fisher: Option<(Rect, Keyed, Vec<Tick>)>,
    label_width: u16,
    x_ticks: Vec<Tick>,
}

impl Panel {
    fn new(plot: &LossPlot, reading: Option<&Reading>, inner: Rect) -> Self {
        let fisher = plot.fisher.as_ref().filter(|_| inner.height >= LOSS_MIN_ROWS + FISHER_MIN_ROWS);
        let fisher_rows = fisher.map_or(0, |_| (inner.height / 3).max(FISHER_MIN_ROWS));
        let [loss_area, fisher_area] =
            inner.layout(&Layout::vertical([Constraint::Fill(1), Constraint::Length(fisher_rows)]));
        // The x axis and its labels go under the lowest chart; each chart has a header row.
        // The earlier runs' legend, under the header, as many rows as a third of the chart.
        let mut header = vec![loss_header(plot, reading, inner.width)];
        header.extend(past_legend(plot, reading, inner.width, loss_area.height / 3));
        let loss_rows = loss_area.height.saturating_sub(header.len() as u16 + if fisher.is_some() { 0 } else { 2 });
        let loss_ticks = y_ticks(plot.y_bounds, plot.scale, loss_rows);
        let fisher = fisher.map(|f| {
            let ticks = y_ticks(f.y_bounds, f.scale, fisher_area.height.saturating_sub(3));
            let latest = match reading {
                Some(r) => r.fisher.map(|(_, v)| v),
                None => f.points.last().map(|&(_, y)| value_at(f.scale, y)),
            };
            let ends = if reading.is_some() { None } else { f.ends };
            let hidden = plot.hidden.contains(&Curve::Fisher);
            (fisher_area, fisher_header(ends, latest, hidden, inner.width), ticks)
        });
        // One label column for both charts, so that their graphs line up.
        let fisher_ticks = fisher.iter().flat_map(|(_, _, ticks)| ticks);
        let label_width = loss_ticks.iter().chain(fisher_ticks).map(|(_, l)| l.chars().count() as u16).max();
        let label_width = label_width.unwrap_or(0).min(inner.width / 3);
        let x_ticks = x_ticks(plot.x_bounds, inner.width.saturating_sub(label_width + 1));
        Self { loss_area, header, loss_ticks, loss_rows, fisher, label_width, x_ticks }
    }

    /// The loss graph's own area (inside the axes).
    fn loss_graph(&self) -> Rect {
        graph_area(self.loss_area, self.header.len() as u16, self.label_width, self.fisher.is_none())
    }

    /// The Fisher graph's own area, when it is shown.
    fn fisher_graph(&self) -> Option<Rect> {
        self.fisher.as_ref().map(|(area, _, _)| graph_area(*area, 1, self.label_width, true))
    }
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
            _ if plot.zoomed() => {
                let [first, last] = plot.x_bounds.map(|x| format_count(x.round() as u64));
                format!("steps {first}–{last} (0: all)")
            }
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

        let panel = Panel::new(plot, self.reading, inner);
        let graph_cols = inner.width.saturating_sub(panel.label_width + 1);
        let (marks, every) = epoch_marks(plot, self.steps_per_epoch, graph_cols, panel.loss_rows);

        block.title_bottom(footnote(every, plot, inner.width)).render(area, buf);

        let datasets = vec![
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Scatter)
                .style(theme::EPOCH_MARK)
                .data(&marks),
            curve(&plot.raw, theme::TRAIN_RAW),
            // Dots under the moving average: where the two agree the line shows, where they
            // part the dots do, in colour or not.
            Dataset::default().marker(Marker::Dot).graph_type(GraphType::Scatter).style(theme::TEST).data(&plot.test),
            curve(&plot.smooth, theme::TRAIN_SMOOTH),
        ];
        let loss_graph = Graph {
            header: panel.header.iter().map(line).collect(),
            y_bounds: plot.y_bounds,
            y_ticks: &panel.loss_ticks,
            x_ticks: panel.fisher.is_none().then_some(&panel.x_ticks),
            x_bounds: plot.x_bounds,
            label_width: panel.label_width,
        }
        .render(datasets, panel.loss_area, buf);
        for curve in &plot.past {
            draw_past(curve, plot, loss_graph, buf);
        }
        mark_runaway(plot, loss_graph, buf);
        let mut graphs = vec![loss_graph];

        if let (Some((fisher_area, header, ticks)), Some(fisher)) = (&panel.fisher, &plot.fisher) {
            graphs.push(
                Graph {
                    header: vec![line(header)],
                    y_bounds: fisher.y_bounds,
                    y_ticks: ticks,
                    x_ticks: Some(&panel.x_ticks),
                    x_bounds: plot.x_bounds,
                    label_width: panel.label_width,
                }
                .render(vec![curve(&fisher.points, theme::FISHER)], *fisher_area, buf),
            );
        }
        if let Some(reading) = self.reading {
            for graph in graphs {
                draw_crosshair(reading.step, plot.x_bounds, graph, buf);
            }
        }
    }
}

/// What is at (`column`, `row`) of a loss panel drawn in `area`: a graph's step, or a legend
/// entry's curve.
pub fn target_at(plot: &LossPlot, reading: Option<&Reading>, area: Rect, column: u16, row: u16) -> Option<LossTarget> {
    let inner = Block::bordered().inner(area);
    if plot.is_empty() {
        return None;
    }
    let panel = Panel::new(plot, reading, inner);
    let at = Position { x: column, y: row };
    let in_header =
        |top: u16, keyed: &Keyed| (row == top && column >= inner.x).then(|| curve_at(keyed, column - inner.x));
    let headers = panel.header.iter().enumerate().map(|(i, keyed)| (panel.loss_area.y + i as u16, keyed));
    let fisher_header = panel.fisher.iter().map(|(area, keyed, _)| (area.y, keyed));
    if let Some(curve) = headers.chain(fisher_header).find_map(|(top, keyed)| in_header(top, keyed)) {
        return curve.map(LossTarget::Legend);
    }
    let graph = [Some(panel.loss_graph()), panel.fisher_graph()].into_iter().flatten().find(|g| g.contains(at))?;
    let [x0, x1] = plot.x_bounds;
    // The middle of the column: `cell` puts that step back in this column.
    let step = x0 + (f64::from(column - graph.x) + 0.5) * (x1 - x0) / f64::from(graph.width);
    Some(LossTarget::Graph { step })
}

/// A dim vertical line down `graph` at `step`, in the cells no curve has drawn in.
fn draw_crosshair(step: f64, x_bounds: [f64; 2], graph: Rect, buf: &mut Buffer) {
    if graph.is_empty() || !(x_bounds[0]..=x_bounds[1]).contains(&step) {
        return;
    }
    let col = graph.x + cell(step, x_bounds, graph.width, 2);
    for row in graph.top()..graph.bottom() {
        let target = &mut buf[(col, row)];
        if target.symbol() == " " {
            target.set_symbol(CROSSHAIR).set_style(theme::CROSSHAIR);
        }
    }
}

/// The graph's own area in a chart drawn in `area`: under `header_rows` rows, right of the y
/// labels and their axis, and above the x axis and its labels when the chart has them.
fn graph_area(area: Rect, header_rows: u16, label_width: u16, x_axis: bool) -> Rect {
    let [_, chart_area] = area.layout(&Layout::vertical([Constraint::Length(header_rows), Constraint::Fill(1)]));
    let axis_rows = if x_axis { 2 } else { 0 };
    Rect {
        x: chart_area.x + label_width + 1,
        width: chart_area.width.saturating_sub(label_width + 1),
        height: chart_area.height.saturating_sub(axis_rows),
        ..chart_area
    }
}

fn curve(data: &[(f64, f64)], colour: Color) -> Dataset<'_> {
    Dataset::default().marker(Marker::Braille).graph_type(GraphType::Line).style(colour).data(data)
}

/// One chart of the panel: header rows, then the graph with its y axis and, for the lowest
/// chart, the x axis with its ticks and title.
struct Graph<'a> {
    header: Vec<Line<'static>>,
    y_bounds: [f64; 2],
    y_ticks: &'a [Tick],
    x_ticks: Option<&'a Vec<Tick>>,
    x_bounds: [f64; 2],
    label_width: u16,
}

impl Graph<'_> {
    /// Draws the chart into `area`; returns the graph's own area (inside the axes).
    fn render(self, datasets: Vec<Dataset>, area: Rect, buf: &mut Buffer) -> Rect {
        let rows = self.header.len() as u16;
        let [header_area, chart_area] = area.layout(&Layout::vertical([Constraint::Length(rows), Constraint::Fill(1)]));
        Paragraph::new(self.header).render(header_area, buf);
        // ratatui spreads its labels evenly; blank ones make it draw the axes and leave room,
        // and the round ticks are written where their values fall.
        let blank = Line::from(" ".repeat(usize::from(self.label_width)));
        let mut x_axis = Axis::default().bounds(self.x_bounds).style(theme::AXIS);
        if self.x_ticks.is_some() {
            x_axis = x_axis.labels(["", ""]);
        }
        let y_axis = Axis::default().bounds(self.y_bounds).labels([blank.clone(), blank]).style(theme::AXIS);
        Chart::new(datasets).legend_position(None).x_axis(x_axis).y_axis(y_axis).render(chart_area, buf);

        let graph = graph_area(area, rows, self.label_width, self.x_ticks.is_some());
        if graph.is_empty() {
            return graph;
        }
        let mut last_row = None;
        for (y, label) in self.y_ticks {
            let row = graph.y + cell(*y, [self.y_bounds[1], self.y_bounds[0]], graph.height, 4);
            if last_row == Some(row) {
                continue;
            }
            last_row = Some(row);
            let x = chart_area.x + self.label_width.saturating_sub(label.chars().count() as u16);
            buf.set_stringn(x, row, label, usize::from(self.label_width), theme::AXIS);
            buf[(graph.x - 1, row)].set_symbol(line::VERTICAL_LEFT);
        }
        if let Some(x_ticks) = self.x_ticks {
            let (axis, labels) = (graph.bottom(), graph.bottom() + 1);
            let title_x = chart_area.right().saturating_sub(X_TITLE.len() as u16);
            buf.set_string(title_x, labels, X_TITLE, theme::DIM);
            let mut free_from = chart_area.x;
            for (x, label) in x_ticks {
                let col = graph.x + cell(*x, self.x_bounds, graph.width, 2);
                let width = label.chars().count() as u16;
                let start = col.saturating_sub(width / 2).max(chart_area.x);
                if start < free_from || start + width >= title_x {
                    continue;
                }
                buf.set_string(start, labels, label, theme::AXIS);
                buf[(col, axis)].set_symbol(line::HORIZONTAL_UP);
                free_from = start + width + 1;
            }
        }
        graph
    }
}

/// The cell, counted from the start of a span of `cells` cells of `dots` dots each, where
/// ratatui's canvas puts `value` on an axis from `bounds[0]` to `bounds[1]` (either way round).
fn cell(value: f64, bounds: [f64; 2], cells: u16, dots: u16) -> u16 {
    let resolution = f64::from(cells * dots) - 1.0;
    let dot = ((value - bounds[0]) * resolution / (bounds[1] - bounds[0])).round();
    (dot.clamp(0.0, resolution) as u16) / dots
}

/// Round ticks for a y axis of `rows` rows over plot heights `bounds`, labelled with values.
fn y_ticks(bounds: [f64; 2], scale: Scale, rows: u16) -> Vec<Tick> {
    let (lo, hi) = (value_at(scale, bounds[0]), value_at(scale, bounds[1]));
    let count = usize::from((rows / ROWS_PER_Y_TICK).max(1) + 1);
    let values = match scale {
        Scale::Log => ticks::log(lo, hi, count),
        Scale::Linear => ticks::linear(lo, hi, count),
    };
    let plot = |v: f64| match scale {
        Scale::Log => v.log10(),
        Scale::Linear => v,
    };
    values.into_iter().map(|v| (plot(v), tick_label(v))).collect()
}

/// A round value as it reads best: 20 rather than 20.0, 0.5 rather than 0.500.
fn tick_label(v: f64) -> String {
    let label = format_sig(v);
    if label.contains('.') && !label.contains('e') {
        label.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        label
    }
}

/// Round steps for an x axis of `cols` columns.
fn x_ticks(bounds: [f64; 2], cols: u16) -> Vec<Tick> {
    let count = usize::from((cols / COLUMNS_PER_X_TICK).max(1) + 1);
    let steps = ticks::linear(bounds[0], bounds[1], count).into_iter().filter(|x| x.fract() == 0.0);
    steps.map(|x| (x, format_count(x as u64))).collect()
}

/// An earlier run's curve in `graph`, a [`PAST_GLYPH`] in each column it spans, then its run's
/// number after its end: over the raw loss and the epoch marks (the raw loss is a band of
/// noise as wide as the gaps between runs, which would hide them), under the moving average
/// and the test loss, the current run's figures.
fn draw_past(curve: &PastCurve, plot: &LossPlot, graph: Rect, buf: &mut Buffer) {
    let (Some(&first), Some(&last)) = (curve.points.first(), curve.points.last()) else { return };
    if graph.is_empty() {
        return;
    }
    let [x0, x1] = plot.x_bounds;
    let row_of = |y: f64| graph.y + cell(y, [plot.y_bounds[1], plot.y_bounds[0]], graph.height, 4);
    for col in 0..graph.width {
        let x = x0 + (f64::from(col) + 0.5) * (x1 - x0) / f64::from(graph.width);
        if x < first.0 || x > last.0 {
            continue;
        }
        // Linear between the points either side of the column's middle.
        let i = curve.points.partition_point(|p| p.0 < x).clamp(1, curve.points.len() - 1);
        let ((xa, ya), (xb, yb)) = (curve.points[i - 1], curve.points[i]);
        let y = if xb > xa { ya + (yb - ya) * (x - xa) / (xb - xa) } else { yb };
        let target = &mut buf[(graph.x + col, row_of(y))];
        if target.symbol() == " " || target.fg == theme::TRAIN_RAW {
            target.set_symbol(PAST_GLYPH).set_style(theme::PAST_RUN);
        }
    }
    let number = curve.number.to_string();
    let width = number.len() as u16;
    let end = graph.x + cell(last.0, plot.x_bounds, graph.width, 2);
    // After the end when there is room, else over the curve's last columns.
    let start = if end + width < graph.right() { end + 1 } else { graph.right().saturating_sub(width) };
    buf.set_string(start, row_of(last.1), number, theme::PAST_RUN);
}

/// A ▲ on the graph's top row over each step whose loss ran away.
fn mark_runaway(plot: &LossPlot, graph: Rect, buf: &mut Buffer) {
    if graph.is_empty() {
        return;
    }
    for &step in &plot.runaway {
        let col = graph.x + cell(step, plot.x_bounds, graph.width, 2);
        buf[(col, graph.y)].set_symbol("▲").set_style(theme::DIVERGED);
    }
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
    use std::collections::BTreeSet;

    use ratatui::style::Modifier;

    use super::*;
    use crate::app::loss_history::{Ends, LossHistory};
    use crate::app::past_runs::{LossKind, PastRuns};
    use crate::app::view::{FisherCurve, LossView};
    use crate::config::Config;
    use crate::trainer::TestPoint;
    use crate::ui::buffer_text;

    fn view(scale: Scale, window: Window, fisher_curve: FisherCurve) -> LossView {
        LossView { scale, window, fisher_curve, ..LossView::default() }
    }

    /// What the default run does: the loss falls from 210 to 165 (÷1.3), the Fisher divergence
    /// from 24.9 to 3.6 (÷6.9); `tail` is appended to the train losses.
    fn history(tail: &[f32]) -> LossHistory {
        let mut h = LossHistory::default();
        for step in 1..=630u64 {
            h.push_train(step, 165.0 + 45.0 * (-(step as f32) / 100.0).exp() + (step % 3) as f32);
        }
        for (step, &loss) in (631..).zip(tail) {
            h.push_train(step, loss);
        }
        for epoch in 0..=10u64 {
            let point = |loss| TestPoint { epoch: epoch as usize, step: 63 * epoch, loss };
            let progress = (-(epoch as f32) / 2.0).exp();
            h.push_test(point(165.0 + 46.0 * progress));
            h.push_fisher(point(3.6 + 21.3 * progress));
        }
        h
    }

    fn dsm() -> LossKind {
        LossKind::of(&Config::default())
    }

    fn draw(plot: &LossPlot, width: u16, height: u16) -> Buffer {
        let area = Rect::new(0, 0, width, height);
        let mut buf = Buffer::empty(area);
        LossChart { plot, steps_per_epoch: 63, reading: None }.render(area, &mut buf);
        buf
    }

    /// The y tick labels, top to bottom: what stands left of a `┤`.
    fn y_labels(buf: &Buffer) -> Vec<String> {
        let text = buffer_text(buf);
        text.lines()
            .filter_map(|l| l.split_once('┤').map(|(label, _)| label.trim_start_matches('│').trim().to_string()))
            .collect()
    }

    fn is_round(label: &str) -> bool {
        let v: f64 = label.parse().unwrap();
        let mantissa = v / 10f64.powf(v.log10().floor());
        [1.0, 2.0, 5.0].iter().any(|m| (mantissa - m).abs() < 1e-9)
            || (v / 10f64.powf(v.log10().floor() - 1.0)).fract() == 0.0
    }

    #[test]
    fn the_loss_and_the_fisher_divergence_each_get_round_ticks_and_a_header() {
        for scale in [Scale::Log, Scale::Linear] {
            let plot = LossPlot::new(
                &history(&[]),
                dsm(),
                &PastRuns::default(),
                &view(scale, Window::Full, FisherCurve::Shown),
            );
            let buf = draw(&plot, 60, 30);
            let labels = y_labels(&buf);
            assert!(labels.len() >= 5, "{scale:?}: {labels:?}");
            assert!(labels.iter().all(|l| is_round(l)), "{scale:?}: {labels:?}");
            let text = buffer_text(&buf);
            assert!(text.contains("loss ━ EMA 166 • test 165 (÷1.28 since start)"), "{text}");
            assert!(text.contains("Fisher ━ divergence 3.74 (÷6.65 since start)"), "{text}");
            assert!(text.contains("step"), "the x axis's title");
        }
    }

    #[test]
    fn a_larger_panel_gets_more_ticks() {
        let plot = LossPlot::new(
            &history(&[]),
            dsm(),
            &PastRuns::default(),
            &view(Scale::Log, Window::Full, FisherCurve::Shown),
        );
        let (small, large) = (draw(&plot, 36, 17), draw(&plot, 100, 50));
        assert!(y_labels(&large).len() > y_labels(&small).len() + 3);
        let x_ticks = |buf: &Buffer| buffer_text(buf).matches('┴').count();
        assert!(x_ticks(&large) > x_ticks(&small), "{} {}", x_ticks(&large), x_ticks(&small));
    }

    #[test]
    fn a_diverged_loss_is_marked_at_the_top_edge_and_named() {
        let plot = LossPlot::new(
            &history(&[1.31e7]),
            dsm(),
            &PastRuns::default(),
            &view(Scale::Log, Window::Full, FisherCurve::Shown),
        );
        let buf = draw(&plot, 60, 30);
        let text = buffer_text(&buf);
        let top_row = text.lines().nth(2).unwrap();
        assert!(top_row.ends_with("▲│"), "{top_row}");
        assert!(text.contains("▲ diverged (loss 1.31e7)"), "{text}");
        assert!(y_labels(&buf)[0].parse::<f64>().unwrap() < 300.0, "the axis stays on the loss");
    }

    #[test]
    fn without_colour_the_curves_differ_by_glyph_or_weight() {
        let plot = LossPlot::new(
            &history(&[]),
            dsm(),
            &PastRuns::default(),
            &view(Scale::Log, Window::Full, FisherCurve::Shown),
        );
        let mut buf = draw(&plot, 60, 30);
        theme::strip_colours(buf.area, &mut buf);
        let text = buffer_text(&buf);
        let fisher_top = text.lines().position(|l| l.contains("Fisher")).unwrap() as u16;
        let (loss, fisher) = (1..fisher_top, fisher_top + 1..29);
        let cells = |rows: std::ops::Range<u16>| -> Vec<&ratatui::buffer::Cell> {
            rows.flat_map(|y| (6..59).map(move |x| (x, y))).map(|p| &buf[p]).collect()
        };
        assert!(cells(loss.clone()).iter().any(|c| c.symbol() == "•"), "the test loss dots");
        let braille = |c: &&&ratatui::buffer::Cell| c.symbol().chars().all(|ch| ('⠁'..='⣿').contains(&ch));
        assert!(cells(loss).iter().filter(braille).any(|c| c.modifier.is_empty()), "the EMA plain");
        assert!(cells(fisher).iter().filter(braille).all(|c| c.modifier.contains(Modifier::BOLD)), "Fisher bold");
    }

    #[test]
    fn a_hidden_fisher_curve_leaves_the_loss_the_panel() {
        let plot = LossPlot::new(
            &history(&[]),
            dsm(),
            &PastRuns::default(),
            &view(Scale::Log, Window::Full, FisherCurve::Hidden),
        );
        let text = buffer_text(&draw(&plot, 60, 30));
        assert!(!text.contains("Fisher") && text.contains("step"), "{text}");
    }

    #[test]
    fn an_empty_history_says_it_is_waiting() {
        let buf = draw(&LossPlot::default(), 40, 10);
        assert!(buffer_text(&buf).contains("waiting for the first steps"));
    }

    #[test]
    fn a_run_without_train_steps_shows_a_dash_for_the_moving_average() {
        // A checkpoint loaded with --epochs 0: a test reading, no train step.
        let plot = LossPlot { test_ends: Some(Ends { first: 189.0, last: 189.0 }), ..LossPlot::default() };
        let header: String = loss_header(&plot, None, 60).iter().map(|(span, _)| span.content.as_ref()).collect();
        assert!(header.contains("EMA — • test 189"), "{header}");
    }

    #[test]
    fn a_loss_that_goes_negative_is_plotted_linear_and_says_why() {
        let mut h = LossHistory::default();
        for step in 1..=100 {
            h.push_train(step, 50.0 - step as f32);
        }
        let plot = LossPlot::new(&h, dsm(), &PastRuns::default(), &view(Scale::Log, Window::Full, FisherCurve::Shown));
        assert_eq!(plot.scale, Scale::Linear);
        assert!(buffer_text(&draw(&plot, 60, 12)).contains("linear (loss ≤ 0: no log)"));
    }

    #[test]
    fn the_recent_window_starts_1000_steps_back() {
        let mut h = LossHistory::default();
        for step in 1..=5000 {
            h.push_train(step, 1.0 + (step % 7) as f32);
        }
        let plot =
            LossPlot::new(&h, dsm(), &PastRuns::default(), &view(Scale::Linear, Window::Recent, FisherCurve::Shown));
        assert_eq!(plot.x_bounds, [4000.0, 5000.0]);
        assert_eq!(plot.raw.len(), RECENT_STEPS);
    }

    #[test]
    fn earlier_runs_are_dotted_numbered_and_listed_in_colour_or_not() {
        let mut past = PastRuns::default();
        let mut lower = LossHistory::default();
        for step in 1..=900 {
            lower.push_train(step, 150.0 + 60.0 * (-(step as f32) / 150.0).exp());
        }
        past.keep(1, dsm(), "run 1 DSM moons σ0.1 s0".into(), &lower);
        past.keep(2, dsm(), "run 2 DSM moons σ0.1 s1".into(), &history(&[]));
        let plot = LossPlot::new(&history(&[]), dsm(), &past, &view(Scale::Log, Window::Full, FisherCurve::Shown));
        let mut buf = draw(&plot, 80, 30);
        let text = buffer_text(&buf);
        let legend = text.lines().nth(2).unwrap();
        assert!(legend.contains("· run 1 DSM moons σ0.1 s0   · run 2 DSM moons σ0.1 s1"), "{text}");
        let fisher_top = text.lines().position(|l| l.contains("Fisher")).unwrap();
        let dots = text.lines().skip(3).take(fisher_top - 3).map(|l| l.matches('·').count()).sum::<usize>();
        // Run 2 is the current run's twin, hidden under it but for its number at its end.
        assert!(dots > 40, "a dot a column of run 1's: {dots}\n{text}");
        assert!(text.lines().any(|l| l.ends_with("1│")), "run 1 ends at the right edge, numbered\n{text}");
        assert!(text.contains("⠤2"), "run 2's number after its end\n{text}");
        theme::strip_colours(buf.area, &mut buf);
        let past_cells = buf.content().iter().filter(|c| c.symbol() == "·");
        assert!(past_cells.clone().count() > 40 && past_cells.into_iter().all(|c| c.modifier.contains(Modifier::DIM)));
    }

    /// The column and row where `text` starts in `buf`, if drawn.
    fn find(buf: &Buffer, text: &str) -> Option<(u16, u16)> {
        buffer_text(buf).lines().enumerate().find_map(|(row, line)| {
            let byte = line.find(text)?;
            Some((line[..byte].chars().count() as u16, row as u16))
        })
    }

    #[test]
    fn a_click_finds_the_legend_entry_under_it_and_a_graph_its_step() {
        let mut past = PastRuns::default();
        past.keep(1, dsm(), "run 1 DSM moons σ0.1 s0".into(), &history(&[]));
        let plot = LossPlot::new(&history(&[]), dsm(), &past, &view(Scale::Log, Window::Full, FisherCurve::Shown));
        let area = Rect::new(0, 0, 70, 30);
        let buf = draw(&plot, 70, 30);
        for (text, curve) in [
            ("EMA", Curve::Smooth),
            ("━ EMA", Curve::Smooth),
            ("test", Curve::Test),
            ("raw", Curve::Raw),
            ("divergence", Curve::Fisher),
            ("run 1", Curve::Past(1)),
        ] {
            let (col, row) = find(&buf, text).unwrap_or_else(|| panic!("{text} drawn:\n{}", buffer_text(&buf)));
            assert_eq!(target_at(&plot, None, area, col + 1, row), Some(LossTarget::Legend(curve)), "{text}");
        }
        let (col, row) = find(&buf, "loss ").unwrap();
        assert_eq!(target_at(&plot, None, area, col + 1, row), None, "the title is no entry");
        // Every column of the graphs maps to a step that the crosshair draws in that column.
        let text = buffer_text(&buf);
        let labels_row = text.lines().collect::<Vec<_>>().iter().rposition(|l| l.contains("step")).unwrap() as u16;
        let graph_row = labels_row - 4;
        let columns: Vec<u16> = (0..70).filter(|&c| target_at(&plot, None, area, c, graph_row).is_some()).collect();
        assert!(columns.len() > 50, "{columns:?}");
        for &col in &columns {
            let Some(LossTarget::Graph { step }) = target_at(&plot, None, area, col, graph_row) else { panic!() };
            assert!((plot.x_bounds[0]..=plot.x_bounds[1]).contains(&step));
            let reading = Reading::at(step, &history(&[]), &past, &plot.hidden);
            let mut buf = Buffer::empty(area);
            LossChart { plot: &plot, steps_per_epoch: 63, reading: Some(&reading) }.render(area, &mut buf);
            // Down both graphs, every cell of the column is the crosshair's or a curve's.
            let panel = Panel::new(&plot, Some(&reading), Block::bordered().inner(area));
            let graphs = [Some(panel.loss_graph()), panel.fisher_graph()].into_iter().flatten();
            let rows: Vec<u16> = graphs.flat_map(|g| g.top()..g.bottom()).collect();
            assert!(rows.iter().all(|&row| buf[(col, row)].symbol() != " "), "column {col}");
            let crosshair = rows.iter().filter(|&&row| buf[(col, row)].symbol() == CROSSHAIR).count();
            assert!(crosshair > 0, "column {col}");
        }
        assert_eq!(target_at(&plot, None, area, 0, graph_row), None, "the border");
    }

    #[test]
    fn under_the_crosshair_the_headers_read_its_step_and_a_hidden_curve_is_struck_through() {
        let h = history(&[]);
        let hidden = BTreeSet::from([Curve::Test]);
        let view = LossView { hidden: hidden.clone(), ..LossView::default() };
        let plot = LossPlot::new(&h, dsm(), &PastRuns::default(), &view);
        let reading = Reading::at(300.0, &h, &PastRuns::default(), &hidden);
        let area = Rect::new(0, 0, 90, 30);
        let mut buf = Buffer::empty(area);
        LossChart { plot: &plot, steps_per_epoch: 63, reading: Some(&reading) }.render(area, &mut buf);
        let text = buffer_text(&buf);
        let raw = format_sig(reading.raw.unwrap());
        let ema = format_sig(reading.smooth.unwrap());
        assert!(text.contains(&format!("loss at step 300 ━ EMA {ema} ◌ test ─ raw {raw}")), "{text}");
        let fisher = format_sig(reading.fisher.unwrap().1);
        assert!(text.contains(&format!("Fisher ━ divergence {fisher}")), "{text}");
        assert!(!text.contains("since start"), "the falls are the latest values', not the step's");
        let (col, row) = find(&buf, "◌ test").unwrap();
        assert!(buf[(col + 2, row)].modifier.contains(Modifier::CROSSED_OUT));
        assert!(plot.test.is_empty(), "not drawn");
    }
}
