//! The keys that change only how the screen shows the run: the loss axis, its window and the
//! Fisher curve, the samples view, the score field and the log density over it, both panels'
//! zoom, and the help. None of them sends the trainer anything (the score field and the log
//! density reach it through `App::sync_field` and `App::sync_density`, which know the
//! screen's size).

use crate::app::App;
use crate::app::keys::Action;
use crate::app::notice::{Message, NO_DENSITY, NO_DENSITY_COMPARING, NO_FIELD_COMPARING, Notice};
use crate::app::view::{FisherCurve, Scale, Window, next_density_view, next_field_view};
use crate::config::Mode;

impl App {
    /// Applies one of the view's actions (see the module docs); others are not for it.
    pub(super) fn change_view(&mut self, action: Action) {
        match action {
            Action::ToggleScale => {
                self.loss_view.scale = match self.loss_view.scale {
                    Scale::Log => Scale::Linear,
                    Scale::Linear => Scale::Log,
                };
                self.replot();
            }
            Action::ToggleWindow => {
                self.loss_view.window = match self.loss_view.window {
                    Window::Full => Window::Recent,
                    Window::Recent => Window::Full,
                };
                self.replot();
            }
            Action::ToggleFisher => {
                self.loss_view.fisher_curve = match self.loss_view.fisher_curve {
                    FisherCurve::Shown => FisherCurve::Hidden,
                    FisherCurve::Hidden => FisherCurve::Shown,
                };
                self.replot();
            }
            Action::CycleView => self.view = self.view.next(),
            // The compare view's two panels have no room for arrows (see `sync_field`).
            Action::CycleField if self.comparing => {
                self.notice = Some(Notice::new(Message::Unavailable(NO_FIELD_COMPARING)));
            }
            Action::CycleField => self.field.kind = next_field_view(self.field.kind),
            Action::CycleDensity if self.config.mode == Mode::Single => {
                self.notice = Some(Notice::new(Message::Unavailable(NO_DENSITY)));
            }
            Action::CycleDensity if self.comparing => {
                self.notice = Some(Notice::new(Message::Unavailable(NO_DENSITY_COMPARING)));
            }
            // As the field's: the trainer hears of it through `sync_density`.
            Action::CycleDensity => self.density.kind = next_density_view(self.density.kind),
            Action::ToggleHelp => self.help = !self.help,
            Action::CloseHelp => self.help = false,
            // Both panels' zooms: the samples panel's plane and the loss panel's steps.
            Action::ResetView => {
                self.reset_view();
                self.reset_steps();
            }
            _ => unreachable!("{action:?} is not a view action"),
        }
    }
}
