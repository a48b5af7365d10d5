//! The dashboard's UI state, and nothing else: what the user has asked for (pause, η, steps
//! per frame, scales and views) and the latest picture of the trainer's run, kept in the form
//! the panels draw. Keys become [`Action`]s through a pure function, and [`App::update`]
//! turns an action into the [`Command`] the trainer should get, so both are tested without a
//! terminal or a thread.

use std::time::Instant;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::config::Config;
use crate::rate::RateMeter;
use crate::trainer::worker::{Command, Figures, Settings, Snapshot, TrainerState};
use crate::ui::loss_chart::LossPlot;
use crate::ui::loss_history::LossHistory;
use crate::ui::scatter::Samples;

/// `+` and `-` multiply and divide η by this.
pub const ETA_FACTOR: f64 = 1.5;
/// η stays in the range `--eta` accepts (and above a floor where it would do nothing).
pub const ETA_MIN: f64 = 1e-6;
pub const ETA_MAX: f64 = 10.0;
/// The Langevin steps per frame `[` and `]` step through; 0 stops the particles.
pub const STEPS_PER_FRAME: [usize; 8] = [0, 1, 2, 5, 10, 20, 50, 100];
/// At 20 frames a second, 200 steps/s: the course's 1000 steps at η = 0.01 in about 5 s.
pub const DEFAULT_STEPS_PER_FRAME: usize = 10;

/// What a key asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    TogglePause,
    Resample,
    NewRun,
    RaiseEta,
    LowerEta,
    FewerSteps,
    MoreSteps,
    ToggleScale,
    ToggleWindow,
    CycleView,
    ToggleHelp,
    CloseHelp,
    Quit,
}

/// The action of a key press, if any. Esc closes the help when it is open, and quits
/// otherwise; letters work in either case; key releases (sent by some terminals) do nothing.
pub fn action_for(key: KeyEvent, help_open: bool) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return matches!(key.code, KeyCode::Char('c' | 'C')).then_some(Action::Quit);
    }
    let action = match key.code {
        KeyCode::Esc if help_open => Action::CloseHelp,
        KeyCode::Esc => Action::Quit,
        KeyCode::Char(c) => match c.to_ascii_lowercase() {
            ' ' => Action::TogglePause,
            'r' => Action::Resample,
            'n' => Action::NewRun,
            '+' | '=' => Action::RaiseEta,
            '-' | '_' => Action::LowerEta,
            '[' => Action::FewerSteps,
            ']' => Action::MoreSteps,
            'l' => Action::ToggleScale,
            'w' => Action::ToggleWindow,
            'v' => Action::CycleView,
            '?' => Action::ToggleHelp,
            'q' => Action::Quit,
            _ => return None,
        },
        _ => return None,
    };
    Some(action)
}

/// The loss axis.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scale {
    /// log10 of the loss, ticks labelled with real values.
    #[default]
    Log,
    Linear,
}

/// How much of the loss history the chart shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Window {
    #[default]
    Full,
    /// The last [`crate::ui::loss_history::RECENT_STEPS`] steps.
    Recent,
}

/// What the scatter panel draws.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum View {
    #[default]
    DataAndParticles,
    Particles,
    Data,
}

impl View {
    fn next(self) -> Self {
        match self {
            View::DataAndParticles => View::Particles,
            View::Particles => View::Data,
            View::Data => View::DataAndParticles,
        }
    }

    pub fn shows_data(self) -> bool {
        self != View::Particles
    }

    pub fn shows_particles(self) -> bool {
        self != View::Data
    }
}

/// The state shown for the run: the trainer's, except that a pause the user has asked for
/// shows at once rather than a frame later.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RunState {
    Starting,
    Training,
    Paused,
    Finished,
    /// At this step, with this loss.
    Diverged {
        step: u64,
        loss: f32,
    },
}

/// What the latest snapshot of the current run said, besides losses and points.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainerStatus {
    pub seed: u64,
    pub state: TrainerState,
    pub epoch: usize,
    pub step: u64,
    pub lr: f64,
    pub langevin_steps: u64,
    pub figures: Option<Figures>,
    pub steps_per_second: Option<f64>,
}

#[derive(Clone, Debug)]
pub struct App {
    config: Config,
    run_id: u64,
    settings: Settings,
    scale: Scale,
    window: Window,
    view: View,
    help: bool,
    quit: bool,
    status: Option<TrainerStatus>,
    losses: LossHistory,
    plot: LossPlot,
    samples: Samples,
    frames: u64,
    frame_rate: RateMeter,
}

impl App {
    pub fn new(config: Config) -> Self {
        let settings = Settings { paused: false, eta: config.eta, steps_per_frame: DEFAULT_STEPS_PER_FRAME };
        Self {
            samples: Samples::new(config.source.bounds()),
            config,
            run_id: 0,
            settings,
            scale: Scale::default(),
            window: Window::default(),
            view: View::default(),
            help: false,
            quit: false,
            status: None,
            losses: LossHistory::default(),
            plot: LossPlot::default(),
            frames: 0,
            frame_rate: RateMeter::default(),
        }
    }

    /// Applies `action`; returns the command the trainer must get, if any.
    pub fn update(&mut self, action: Action) -> Option<Command> {
        match action {
            Action::TogglePause => {
                if matches!(self.state(), RunState::Finished | RunState::Diverged { .. }) {
                    return None;
                }
                self.settings.paused = !self.settings.paused;
                Some(if self.settings.paused { Command::Pause } else { Command::Resume })
            }
            Action::Resample => Some(Command::Resample),
            Action::NewRun => {
                self.run_id += 1;
                self.settings.paused = false;
                self.status = None;
                self.losses = LossHistory::default();
                self.plot = LossPlot::default();
                self.samples = Samples::new(self.config.source.bounds());
                Some(Command::NewRun { run_id: self.run_id })
            }
            Action::RaiseEta | Action::LowerEta => {
                let factor = if action == Action::RaiseEta { ETA_FACTOR } else { 1.0 / ETA_FACTOR };
                let eta = (self.settings.eta * factor).clamp(ETA_MIN, ETA_MAX);
                (eta != self.settings.eta).then(|| {
                    self.settings.eta = eta;
                    Command::SetEta(eta)
                })
            }
            Action::FewerSteps | Action::MoreSteps => {
                let now = self.settings.steps_per_frame;
                let next = if action == Action::MoreSteps {
                    STEPS_PER_FRAME.iter().copied().find(|&s| s > now)
                } else {
                    STEPS_PER_FRAME.iter().copied().rev().find(|&s| s < now)
                }?;
                self.settings.steps_per_frame = next;
                Some(Command::SetStepsPerFrame(next))
            }
            Action::ToggleScale => {
                self.scale = match self.scale {
                    Scale::Log => Scale::Linear,
                    Scale::Linear => Scale::Log,
                };
                self.replot();
                None
            }
            Action::ToggleWindow => {
                self.window = match self.window {
                    Window::Full => Window::Recent,
                    Window::Recent => Window::Full,
                };
                self.replot();
                None
            }
            Action::CycleView => {
                self.view = self.view.next();
                None
            }
            Action::ToggleHelp => {
                self.help = !self.help;
                None
            }
            Action::CloseHelp => {
                self.help = false;
                None
            }
            Action::Quit => {
                self.quit = true;
                Some(Command::Quit)
            }
        }
    }

    /// Takes in a snapshot from the trainer; `false` if it belongs to a replaced run and was
    /// dropped.
    pub fn apply(&mut self, snapshot: Snapshot) -> bool {
        if snapshot.run_id != self.run_id {
            return false;
        }
        for (step, &loss) in (snapshot.train_from..).zip(&snapshot.train) {
            self.losses.push_train(step, loss);
        }
        for &point in &snapshot.test {
            self.losses.push_test(point);
        }
        if !snapshot.train.is_empty() || !snapshot.test.is_empty() {
            self.replot();
        }
        if let Some(data) = snapshot.data {
            self.samples.set_data(data);
        }
        self.samples.set_particles(&snapshot.particles);
        self.status = Some(TrainerStatus {
            seed: snapshot.seed,
            state: snapshot.state,
            epoch: snapshot.epoch,
            step: snapshot.step,
            lr: snapshot.lr,
            langevin_steps: snapshot.langevin_steps,
            figures: snapshot.figures,
            steps_per_second: snapshot.steps_per_second,
        });
        true
    }

    /// Counts a drawn frame, for the frames/s figure.
    pub fn frame_drawn(&mut self, now: Instant) {
        self.frames += 1;
        self.frame_rate.observe(self.frames, now);
    }

    fn replot(&mut self) {
        self.plot = LossPlot::new(&self.losses, self.scale, self.window);
    }

    pub fn state(&self) -> RunState {
        match self.status.map(|s| s.state) {
            None => RunState::Starting,
            Some(TrainerState::Diverged(d)) => RunState::Diverged { step: d.step, loss: d.loss },
            Some(TrainerState::Finished) => RunState::Finished,
            Some(_) if self.settings.paused => RunState::Paused,
            Some(_) => RunState::Training,
        }
    }

    /// Whether snapshots keep coming: the UI can poll slowly when they do not.
    pub fn expects_snapshots(&self) -> bool {
        self.settings.steps_per_frame > 0 || matches!(self.state(), RunState::Starting | RunState::Training)
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn run_id(&self) -> u64 {
        self.run_id
    }

    pub fn settings(&self) -> Settings {
        self.settings
    }

    pub fn scale(&self) -> Scale {
        self.scale
    }

    pub fn window(&self) -> Window {
        self.window
    }

    pub fn view(&self) -> View {
        self.view
    }

    pub fn help_open(&self) -> bool {
        self.help
    }

    pub fn should_quit(&self) -> bool {
        self.quit
    }

    pub fn status(&self) -> Option<&TrainerStatus> {
        self.status.as_ref()
    }

    pub fn plot(&self) -> &LossPlot {
        &self.plot
    }

    pub fn samples(&self) -> &Samples {
        &self.samples
    }

    pub fn frames_per_second(&self) -> Option<f64> {
        self.frame_rate.rate()
    }
}

#[cfg(test)]
mod tests {
    use ratatui::crossterm::event::KeyEventState;

    use super::*;
    use crate::trainer::{Divergence, TestPoint};

    fn press(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn snapshot(run_id: u64, state: TrainerState, step: u64) -> Snapshot {
        Snapshot {
            run_id,
            seed: run_id,
            state,
            epoch: 0,
            step,
            lr: 0.01,
            train_from: 1,
            train: (1..=step).map(|s| 100.0 / s as f32).collect(),
            test: vec![TestPoint { epoch: 0, step: 0, loss: 120.0 }],
            data: Some(vec![[0.0, 0.0], [1.0, 0.5]]),
            particles: vec![[0.5, 0.5], [f32::NAN, 0.0], [40.0, 0.0]],
            langevin_steps: 7,
            figures: None,
            steps_per_second: None,
        }
    }

    #[test]
    fn every_documented_key_has_its_action() {
        let cases = [
            (KeyCode::Char(' '), Action::TogglePause),
            (KeyCode::Char('r'), Action::Resample),
            (KeyCode::Char('R'), Action::Resample),
            (KeyCode::Char('n'), Action::NewRun),
            (KeyCode::Char('+'), Action::RaiseEta),
            (KeyCode::Char('='), Action::RaiseEta),
            (KeyCode::Char('-'), Action::LowerEta),
            (KeyCode::Char('['), Action::FewerSteps),
            (KeyCode::Char(']'), Action::MoreSteps),
            (KeyCode::Char('l'), Action::ToggleScale),
            (KeyCode::Char('w'), Action::ToggleWindow),
            (KeyCode::Char('v'), Action::CycleView),
            (KeyCode::Char('?'), Action::ToggleHelp),
            (KeyCode::Char('q'), Action::Quit),
            (KeyCode::Esc, Action::Quit),
        ];
        for (code, action) in cases {
            assert_eq!(action_for(press(code), false), Some(action), "{code:?}");
        }
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(action_for(ctrl_c, false), Some(Action::Quit));
        assert_eq!(action_for(ctrl_c, true), Some(Action::Quit));
    }

    #[test]
    fn esc_closes_the_help_before_it_quits() {
        assert_eq!(action_for(press(KeyCode::Esc), true), Some(Action::CloseHelp));
    }

    #[test]
    fn other_keys_releases_and_control_chords_do_nothing() {
        assert_eq!(action_for(press(KeyCode::Char('x')), false), None);
        assert_eq!(action_for(press(KeyCode::Enter), false), None);
        let ctrl_r = KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL);
        assert_eq!(action_for(ctrl_r, false), None);
        let release = KeyEvent::new_with_kind_and_state(
            KeyCode::Char('q'),
            KeyModifiers::NONE,
            KeyEventKind::Release,
            KeyEventState::NONE,
        );
        assert_eq!(action_for(release, false), None);
    }

    #[test]
    fn actions_become_the_trainer_commands() {
        let mut app = App::new(Config::default());
        app.apply(snapshot(0, TrainerState::Training, 3));
        assert_eq!(app.update(Action::TogglePause), Some(Command::Pause));
        assert_eq!(app.state(), RunState::Paused, "a pause shows before the trainer confirms it");
        assert_eq!(app.update(Action::TogglePause), Some(Command::Resume));
        assert_eq!(app.update(Action::Resample), Some(Command::Resample));
        let eta = |command| match command {
            Some(Command::SetEta(eta)) => eta,
            other => panic!("expected SetEta, got {other:?}"),
        };
        assert!((eta(app.update(Action::RaiseEta)) - 0.015).abs() < 1e-12);
        assert!((eta(app.update(Action::LowerEta)) - 0.01).abs() < 1e-12);
        assert_eq!(app.update(Action::MoreSteps), Some(Command::SetStepsPerFrame(20)));
        assert_eq!(app.update(Action::FewerSteps), Some(Command::SetStepsPerFrame(10)));
        for action in [Action::ToggleScale, Action::ToggleWindow, Action::CycleView, Action::ToggleHelp] {
            assert_eq!(app.update(action), None, "{action:?} is the UI's business");
        }
        assert_eq!(app.update(Action::Quit), Some(Command::Quit));
        assert!(app.should_quit());
    }

    #[test]
    fn settings_stop_at_their_ends() {
        let mut app = App::new(Config { eta: ETA_MAX, ..Config::default() });
        assert_eq!(app.update(Action::RaiseEta), None);
        for _ in 0..STEPS_PER_FRAME.len() {
            app.update(Action::FewerSteps);
        }
        assert_eq!(app.settings().steps_per_frame, 0);
        assert_eq!(app.update(Action::FewerSteps), None);
        for _ in 0..STEPS_PER_FRAME.len() {
            app.update(Action::MoreSteps);
        }
        assert_eq!(app.update(Action::MoreSteps), None);
        assert_eq!(app.settings().steps_per_frame, 100);
    }

    #[test]
    fn views_scales_and_windows_cycle() {
        let mut app = App::new(Config::default());
        let views: Vec<View> = (0..3)
            .map(|_| {
                app.update(Action::CycleView);
                app.view()
            })
            .collect();
        assert_eq!(views, [View::Particles, View::Data, View::DataAndParticles]);
        app.update(Action::ToggleScale);
        assert_eq!(app.scale(), Scale::Linear);
        app.update(Action::ToggleWindow);
        assert_eq!(app.window(), Window::Recent);
        app.update(Action::ToggleHelp);
        assert!(app.help_open());
        app.update(Action::CloseHelp);
        assert!(!app.help_open());
    }

    #[test]
    fn a_new_run_drops_the_old_runs_snapshots() {
        let mut app = App::new(Config::default());
        assert!(app.apply(snapshot(0, TrainerState::Training, 50)));
        assert_eq!(app.update(Action::NewRun), Some(Command::NewRun { run_id: 1 }));
        assert_eq!(app.state(), RunState::Starting);
        assert!(app.plot().is_empty());
        // A snapshot of run 0 still in flight must not reappear.
        assert!(!app.apply(snapshot(0, TrainerState::Training, 60)));
        assert!(app.status().is_none() && app.plot().is_empty());
        assert!(app.apply(snapshot(1, TrainerState::Training, 2)));
        assert_eq!(app.status().unwrap().step, 2);
        assert_eq!(app.status().unwrap().seed, 1);
    }

    #[test]
    fn a_new_run_resumes_a_paused_one() {
        let mut app = App::new(Config::default());
        app.apply(snapshot(0, TrainerState::Training, 5));
        app.update(Action::TogglePause);
        app.update(Action::NewRun);
        app.apply(snapshot(1, TrainerState::Training, 1));
        assert_eq!(app.state(), RunState::Training);
    }

    #[test]
    fn finished_and_diverged_runs_cannot_be_paused() {
        let mut app = App::new(Config::default());
        app.apply(snapshot(0, TrainerState::Finished, 5));
        assert_eq!(app.state(), RunState::Finished);
        assert_eq!(app.update(Action::TogglePause), None);
        assert_eq!(app.state(), RunState::Finished);

        let d = Divergence { step: 17, epoch: 0, loss: 3e6 };
        app.apply(snapshot(0, TrainerState::Diverged(d), 16));
        assert_eq!(app.state(), RunState::Diverged { step: 17, loss: 3e6 });
        assert_eq!(app.update(Action::TogglePause), None);
        assert_eq!(app.update(Action::NewRun), Some(Command::NewRun { run_id: 1 }));
    }

    #[test]
    fn the_ui_polls_slowly_only_when_nothing_moves() {
        let mut app = App::new(Config::default());
        app.apply(snapshot(0, TrainerState::Training, 5));
        assert!(app.expects_snapshots());
        while app.update(Action::FewerSteps).is_some() {}
        assert!(app.expects_snapshots(), "training still sends snapshots");
        app.update(Action::TogglePause);
        assert!(!app.expects_snapshots());
    }

    #[test]
    fn particles_that_cannot_be_drawn_are_counted() {
        let mut app = App::new(Config::default());
        app.apply(snapshot(0, TrainerState::Training, 1));
        let s = app.samples();
        assert_eq!((s.particles().len(), s.escaped(), s.nonfinite()), (1, 1, 1));
    }
}
