//! Draw mode's canvas in the samples panel's place: the drawn points at braille resolution
//! over the view's bounds (the same transform as the scatter, so a point lands where the
//! pointer was), its count and the brush in the title, and what the mouse does under it.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::canvas::Canvas;
use ratatui::widgets::{Block, Widget};

use crate::app::drawing::Drawing;
use crate::data::Bounds;
use crate::ui::scatter::{Cloud, PlotTransform};
use crate::ui::theme;

pub struct DrawCanvas<'a> {
    pub drawing: &'a Drawing,
    /// The plane region shown, as the scatter would show it.
    pub bounds: Bounds,
}

impl Widget for DrawCanvas<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let t = PlotTransform::new(area, self.bounds);
        let title = format!(" Draw · {} points · brush {} ", self.drawing.points().len(), self.drawing.brush_label());
        // What the mouse does, in as many words as the border has room for.
        let legend =
            [("left drag", "sprays (hold for more)", "right drag", "erases"), ("drag", "draws", "right", "erases")]
                .into_iter()
                .map(|(draw, draws, erase, erases)| {
                    Line::from(vec![
                        Span::styled(format!(" {draw} "), theme::KEY),
                        Span::styled(format!("{draws} · "), theme::DIM),
                        Span::styled(format!("{erase} "), theme::KEY),
                        Span::styled(format!("{erases} "), theme::DIM),
                    ])
                })
                .find(|line| line.width() + 2 <= usize::from(area.width))
                .unwrap_or_default();
        let block = Block::bordered().title(Span::styled(title, theme::VALUE)).title_bottom(legend);
        block.render(area, buf);
        let drawn = Cloud { points: self.drawing.points(), color: theme::DATA };
        Canvas::default()
            .marker(Marker::Braille)
            .x_bounds(t.bounds.x)
            .y_bounds(t.bounds.y)
            .paint(|ctx| ctx.draw(&drawn))
            .render(t.area, buf);
    }
}
