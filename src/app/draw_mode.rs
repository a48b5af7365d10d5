//! The dashboard in draw mode (`e`): the samples panel is a canvas ([`Drawing`]) over the
//! view's bounds until Enter trains on it (a new run on the drawn points, saved first as a
//! CSV file that `--data` reads back) or Esc drops it. The run behind the canvas goes on.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use ndarray::Array2;

use crate::app::App;
use crate::app::drawing::{Drawing, MIN_DRAWN_POINTS, Pointer};
use crate::app::keys::{Action, DrawAction};
use crate::app::notice::{Message, NO_DRAWING_COMPARING, NO_DRAWING_TOO_FEW, Notice};
use crate::config::Config;
use crate::data::Source;
use crate::trainer::protocol::{Command, Saved};

/// The drawn run's configuration: `current`'s, on `points` read from `path`, trained for as
/// many steps as `launched`'s run (a drawing has few points, so an epoch is a few steps)
/// with the same overall learning-rate decay, so it learns as long and is paced as
/// watchably as the run the dashboard opened on.
pub fn drawn_config(launched: &Config, current: &Config, path: PathBuf, points: &[[f32; 2]]) -> Config {
    let flat: Vec<f32> = points.iter().flatten().copied().collect();
    let array = Array2::from_shape_vec((points.len(), 2), flat).expect("two coordinates a point");
    let on_drawing =
        Config { source: Source::File { path, points: Arc::new(array) }, count: points.len(), ..current.clone() };
    let epochs = (launched.total_steps() as usize).div_ceil(on_drawing.steps_per_epoch()).max(1);
    let lr_gamma = launched.lr_gamma.powf(launched.epochs as f64 / epochs as f64);
    Config { epochs, lr_gamma, ..on_drawing }
}

/// The drawing's file name, without its extension: when it was made, so drawings sort.
fn drawing_stem(now: SystemTime) -> String {
    format!("dsm-tui-drawing-{}", crate::fs::utc_stamp(now))
}

impl App {
    /// The canvas, while draw mode is on.
    pub fn drawing(&self) -> Option<&Drawing> {
        self.drawing.as_ref()
    }

    /// Draw mode's keys, and `e` that opens it.
    pub(super) fn draw_command(&mut self, action: Action) -> Option<Command> {
        match action {
            Action::StartDrawing if self.comparing => {
                self.notice = Some(Notice::new(Message::Unavailable(NO_DRAWING_COMPARING)));
                None
            }
            Action::StartDrawing => {
                self.help = false;
                self.drawing = Some(Drawing::new(self.config.seed));
                None
            }
            Action::Draw(draw) => {
                let drawing = self.drawing.as_mut()?;
                match draw {
                    DrawAction::Undo => {
                        drawing.undo();
                    }
                    DrawAction::Clear => {
                        drawing.clear();
                    }
                    DrawAction::LargerBrush | DrawAction::SmallerBrush => {
                        drawing.resize_brush(draw == DrawAction::LargerBrush);
                    }
                    DrawAction::Cancel => self.drawing = None,
                    DrawAction::Train => return self.train_on_drawing(),
                }
                None
            }
            _ => None,
        }
    }

    /// Enter: saves the drawing as a new CSV file in the drawings' directory and starts a
    /// run on it; refused, with a notice, below [`MIN_DRAWN_POINTS`], and the canvas kept
    /// when the file cannot be written.
    fn train_on_drawing(&mut self) -> Option<Command> {
        let points = self.drawing.as_ref()?.points().to_vec();
        if points.len() < MIN_DRAWN_POINTS {
            self.notice = Some(Notice::new(Message::Unavailable(NO_DRAWING_TOO_FEW)));
            return None;
        }
        let stem = drawing_stem(SystemTime::now());
        let written = crate::fs::write_new(&self.drawing_dir, &stem, "csv", |out| {
            writeln!(out, "x,y")?;
            points.iter().try_for_each(|p| writeln!(out, "{},{}", p[0], p[1]))
        });
        let path = match written {
            Ok(path) => path,
            Err(err) => {
                let path = self.drawing_dir.join(stem + ".csv");
                let saved = Saved { path, error: Some(err.to_string()), replaced: false };
                self.notice = Some(Notice::new(Message::Saved(saved)));
                return None;
            }
        };
        let absolute = std::path::absolute(&path).unwrap_or_else(|_| path.clone());
        self.notice = Some(Notice::new(Message::Saved(Saved { path: absolute, error: None, replaced: false })));
        self.drawing = None;
        let config = drawn_config(&self.launched, &self.config, path, &points);
        self.drawn = Some(config.clone());
        Some(self.new_run(config))
    }

    /// A mouse event over the canvas; whether the screen changed. Outside draw mode the
    /// pointer does nothing (yet).
    pub fn pointer(&mut self, event: Pointer, now: Instant) -> bool {
        self.drawing.as_mut().is_some_and(|drawing| drawing.pointer(event, now))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use rand::SeedableRng;

    use super::*;
    use crate::app::drawing::{Region, Stroke};

    fn drawn_app(dir: &std::path::Path, strokes: usize) -> App {
        let mut app = App::new(Config::default()).drawing_into(dir.to_path_buf());
        assert_eq!(app.update(Action::StartDrawing), None, "drawing starts no run");
        let t = Instant::now();
        for i in 0..strokes {
            let at = Region { min: [i as f64 * 0.1, 0.0], size: [0.05, 0.1] };
            app.pointer(Pointer::Press(Stroke::Draw, at), t);
            app.pointer(Pointer::Release, t);
        }
        app
    }

    #[test]
    fn enter_saves_the_drawing_and_trains_on_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = drawn_app(dir.path(), 10);
        let points = app.drawing().unwrap().points().to_vec();
        assert_eq!(points.len(), 90);
        let Some(Command::NewRun { run_id: 1, config }) = app.update(Action::Draw(DrawAction::Train)) else {
            panic!("Enter starts a run")
        };
        assert!(app.drawing().is_none(), "draw mode ends");
        let Source::File { path, points: loaded } = &config.source else { panic!("a file source") };
        assert_eq!(loaded.nrows(), 90);
        assert!(path.starts_with(dir.path()) && path.to_string_lossy().contains("dsm-tui-drawing-"), "{path:?}");
        // The file holds the points, and the CSV loader reads them back as they were drawn.
        let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(0);
        let read = crate::data::load_csv(path, 100_000, &mut rng).expect("the saved drawing loads");
        let flat: Vec<f32> = points.iter().flatten().copied().collect();
        assert_eq!(read.points.as_slice().unwrap(), &flat[..]);
        let Some(Notice { message: Message::Saved(saved), .. }) = &app.notice else { panic!("a notice") };
        assert!(saved.error.is_none() && saved.path.is_absolute(), "{saved:?}");
    }

    #[test]
    fn too_few_points_are_refused_and_the_canvas_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = drawn_app(dir.path(), 2);
        assert_eq!(app.update(Action::Draw(DrawAction::Train)), None);
        assert!(app.drawing().is_some());
        assert_eq!(app.notice.as_ref().map(|n| &n.message), Some(&Message::Unavailable(NO_DRAWING_TOO_FEW)));
        assert!(NO_DRAWING_TOO_FEW.contains(&MIN_DRAWN_POINTS.to_string()));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing written");
    }

    #[test]
    fn an_unwritable_directory_keeps_the_canvas_and_says_why() {
        let mut app = drawn_app(std::path::Path::new("/nonexistent-dir"), 10);
        assert_eq!(app.update(Action::Draw(DrawAction::Train)), None);
        assert!(app.drawing().is_some(), "the drawing is not lost");
        let Some(Notice { message: Message::Saved(saved), .. }) = &app.notice else { panic!("a notice") };
        assert!(saved.error.is_some(), "{saved:?}");
    }

    #[test]
    fn esc_drops_the_drawing_and_starts_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = drawn_app(dir.path(), 10);
        assert_eq!(app.update(Action::Draw(DrawAction::Cancel)), None);
        assert!(app.drawing().is_none());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    /// After a drawn run, `d` goes through the built-in sets, then back to the drawing as it
    /// was trained (its length and decay), then to the first set at the launch's length.
    #[test]
    fn d_cycles_to_the_drawing_once_there_is_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = drawn_app(dir.path(), 10);
        let Some(Command::NewRun { config: drawn, .. }) = app.update(Action::Draw(DrawAction::Train)) else {
            panic!("Enter starts a run")
        };
        let mut names = Vec::new();
        let mut last = None;
        for _ in 0..7 {
            let Some(Command::NewRun { config, .. }) = app.update(Action::CycleDataset) else {
                panic!("d starts a run")
            };
            names.push(config.source.name());
            if matches!(config.source, Source::File { .. }) {
                assert_eq!((config.count, config.epochs, config.lr_gamma), (drawn.count, drawn.epochs, drawn.lr_gamma));
            } else {
                assert_eq!(config.epochs, Config::default().epochs, "{}", config.source.name());
            }
            last = Some(config);
        }
        let drawn_name = drawn.source.name();
        assert_eq!(names[..5], ["moons", "circles", "swiss-roll", "8gaussians", "checkerboard"]);
        assert_eq!(names[5], drawn_name);
        assert_eq!(names[6], "moons");
        assert_eq!(last.unwrap().lr_gamma, Config::default().lr_gamma);
    }

    /// The launch's defaults: 6,300 steps over 100 epochs at γ = `lr_gamma`. A drawing of
    /// 90 points (72 to train on, two batches of 64 an epoch) gets 3,150 epochs, and γ' with
    /// γ'^3150 = γ^100, so its last epoch's rate is the launch run's.
    #[test]
    fn a_drawn_run_trains_as_long_as_the_launch_run() {
        let launched = Config::default();
        let points = vec![[0.0f32, 0.0]; 90];
        let drawn = drawn_config(&launched, &launched, PathBuf::from("d.csv"), &points);
        assert_eq!(launched.total_steps(), 6300);
        assert_eq!((drawn.count, drawn.steps_per_epoch(), drawn.epochs), (90, 2, 3150));
        let (last, last_launched) = (drawn.lr_gamma.powf(3150.0), launched.lr_gamma.powf(100.0));
        assert!((last - last_launched).abs() < 1e-9 * last_launched, "{last} against {last_launched}");
    }
}
