//! Every colour and text style of the dashboard, in one place. Only the 16 basic colours are
//! used, so the terminal's own palette (light or dark) decides how they look, and the
//! screen reads the same over ssh, in tmux and in the Linux console.

use ratatui::style::{Color, Modifier, Style};

/// Training data in the scatter; particles are drawn over it in a brighter colour.
pub const DATA: Color = Color::Blue;
pub const PARTICLES: Color = Color::Yellow;

/// Train loss per step, faint behind its moving average.
pub const TRAIN_RAW: Color = Color::DarkGray;
pub const TRAIN_SMOOTH: Color = Color::LightCyan;
pub const TEST: Color = Color::LightMagenta;
pub const EPOCH_MARK: Color = Color::DarkGray;

pub const BORDER: Style = Style::new().fg(Color::DarkGray);
pub const TITLE: Style = Style::new().add_modifier(Modifier::BOLD);
pub const AXIS: Style = Style::new().fg(Color::Gray);
/// Labels and secondary text.
pub const DIM: Style = Style::new().fg(Color::DarkGray);
pub const VALUE: Style = Style::new().add_modifier(Modifier::BOLD);
pub const KEY: Style = Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD);

pub const TRAINING: Style = Style::new().fg(Color::Green).add_modifier(Modifier::BOLD);
pub const PAUSED: Style = Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD);
pub const FINISHED: Style = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
pub const DIVERGED: Style = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);
pub const STARTING: Style = Style::new().fg(Color::Gray).add_modifier(Modifier::BOLD);
