//! The dashboard's UI state, and nothing else: what the user has asked for (pause, η or c,
//! steps per frame, held particles, the comparison, scales and views) and the latest picture
//! of the trainer's run, kept in the form the panels draw. Keys become [`Action`]s through a
//! pure function ([`keys`]), and [`App::update`] turns an action into the [`Command`] the
//! trainer should get, so both are tested without a terminal or a thread. Nothing here
//! imports `ui`: the widgets read this state, never the reverse.

pub mod crosshair;
pub mod density;
mod draw_mode;
pub mod drawing;
pub mod keys;
pub mod loss_history;
pub mod loss_plot;
pub mod loss_pointer;
pub mod next_run;
pub mod notice;
pub mod overlays;
pub mod past_runs;
pub mod samples;
pub mod view;
mod view_actions;
pub mod zoom;

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::app::crosshair::Reading;
use crate::app::drawing::Drawing;
use crate::app::keys::Action;
use crate::app::loss_history::LossHistory;
use crate::app::loss_plot::LossPlot;
use crate::app::next_run::{TRAINING_PACES, next_dataset, next_mode, steps_per_second};
use crate::app::notice::{
    Message, NO_ANNEALED_ISM, NO_COMPARE, NO_PAST_RUNS, NO_PATHS_COMPARING, NO_PAUSE_DIVERGED, NO_PAUSE_FINISHED,
    NO_SAMPLERS, NOTICE_TIME, Notice, single_sigma_advice,
};
use crate::app::overlays::LatticeView;
use crate::app::past_runs::{LossKind, PastRuns};
use crate::app::samples::Samples;
use crate::app::view::{
    Curve, DensityKind, DensityOverlay, FieldOverlay, FisherCurve, LossView, PlotGrids, Scale, StepZoom, View, Window,
};
use crate::config::{Config, Mode, Sampler};
use crate::eval::likelihood::LogDensityMap;
use crate::eval::score_field::{Field, FieldKind, Lattice};
use crate::rate::RateMeter;
use crate::trainer::protocol::{
    Advance, Command, CompareStatus, Figures, Paths, Settings, Snapshot, TrainerState, TrainerStatus,
};

/// `+` and `-` multiply and divide η (annealed: c) by this.
pub const ETA_FACTOR: f64 = 1.5;
/// η, and c, stay in the range `--eta` and `--step-scale` accept (and above a floor where they
/// would do nothing).
pub const ETA_MIN: f64 = 1e-6;
pub const ETA_MAX: f64 = 10.0;
/// The Langevin steps per frame `[` and `]` step through; 0 stops the particles.
pub const STEPS_PER_FRAME: [usize; 8] = [0, 1, 2, 5, 10, 20, 50, 100];
/// At 20 frames a second, 200 steps/s: the course's 1000 steps at η = 0.01 in about 5 s.
pub const DEFAULT_STEPS_PER_FRAME: usize = 10;
/// One side of the comparison as drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct ComparedSide {
    pub name: &'static str,
    /// Its parameters, e.g. "σ 0.1 · η 0.01".
    pub sampler: String,
    pub samples: Samples,
    pub steps: u64,
    pub total: u64,
    pub figures: Option<Figures>,
}

#[derive(Clone, Debug)]
pub struct App {
    /// The configuration of the current run: the launch's, with the objective, data set and
    /// mode the user has switched to since.
    /// Its seed is the run's own: `n` and `d` take the next, `o` and `a` keep it.
    config: Config,
    launched: Config,
    /// `--save`: where `w` writes; by default a new file in the current directory.
    save_to: Option<PathBuf>,
    /// `--load`: the checkpoint the first run (run id 0) started from; later runs start from
    /// fresh weights.
    loaded: Option<PathBuf>,
    notice: Option<Notice>,
    /// `false` under `NO_COLOR`: weights stand in for colours (see `ui::theme`).
    colour: bool,
    run_id: u64,
    settings: Settings,
    loss_view: LossView,
    /// The step under the loss panel's crosshair, and each curve's value there.
    reading: Option<Reading>,
    view: View,
    /// Which score field the scatter shows arrows of, if any, and its evaluations.
    field: LatticeView<FieldKind, Field>,
    /// Which log density the samples panel is shaded by, if any, and its maps.
    density: LatticeView<DensityKind, LogDensityMap>,
    /// The paths view (`j`) is on, and the latest paths the trainer traced.
    paths_on: bool,
    paths: Option<Paths>,
    help: bool,
    quit: bool,
    /// A command has gone to the trainer and its answer (a snapshot of this run) has not come
    /// yet: the UI polls for it quickly even when nothing else moves (`.` and `>` on held
    /// particles, `f`), instead of drawing the answer up to a slow poll later.
    awaiting_reply: bool,
    /// `c` is on; the sides arrive with the snapshots.
    comparing: bool,
    compared: Option<[ComparedSide; 2]>,
    status: Option<TrainerStatus>,
    losses: LossHistory,
    /// The loss curves of the runs this one replaced, drawn faint under it.
    past_runs: PastRuns,
    plot: LossPlot,
    samples: Samples,
    frames: u64,
    frame_rate: RateMeter,
    /// Draw mode's canvas, while it is on (`e`).
    drawing: Option<Drawing>,
    /// The last drawn run's configuration: `d` cycles back to it.
    drawn: Option<Config>,
    /// Where Enter saves a drawing: the working directory.
    drawing_dir: PathBuf,
    /// The point of the plane a left drag on the samples panel holds under the pointer.
    grab: Option<zoom::Grab>,
    /// The last press on either panel, for double clicks.
    last_click: Option<zoom::Click>,
}

impl App {
    pub fn new(config: Config) -> Self {
        let settings = Settings {
            paused: false,
            eta: config.eta,
            step_scale: config.step_scale,
            steps_per_frame: DEFAULT_STEPS_PER_FRAME,
            particles_held: false,
            training_pace: None,
            sampler: config.sampler,
            beside: None,
        };
        Self {
            samples: Samples::new(config.source.bounds()),
            launched: config.clone(),
            config,
            save_to: None,
            loaded: None,
            notice: None,
            colour: true,
            run_id: 0,
            settings,
            loss_view: LossView::default(),
            reading: None,
            view: View::default(),
            field: LatticeView::default(),
            density: LatticeView::default(),
            paths_on: false,
            paths: None,
            help: false,
            quit: false,
            awaiting_reply: false,
            comparing: false,
            compared: None,
            status: None,
            losses: LossHistory::default(),
            past_runs: PastRuns::default(),
            plot: LossPlot::default(),
            frames: 0,
            frame_rate: RateMeter::default(),
            drawing: None,
            drawn: None,
            drawing_dir: PathBuf::from("."),
            grab: None,
            last_click: None,
        }
    }

    /// Enter in draw mode saves the drawing in `dir` (the working directory by default).
    pub fn drawing_into(self, dir: PathBuf) -> Self {
        Self { drawing_dir: dir, ..self }
    }

    /// `w` saves to `path` (`--save`) rather than to a new file each time.
    pub fn saving_to(self, path: Option<PathBuf>) -> Self {
        Self { save_to: path, ..self }
    }

    /// The first run starts from the checkpoint at `path` (`--load`), which the status names.
    pub fn loaded_from(self, path: Option<PathBuf>) -> Self {
        Self { loaded: path, ..self }
    }

    /// Opens on the advice a new run of this configuration would get (single σ on a data set
    /// it blurs: the annealed key), as the dashboard's first notice. Not for `--once --frame`,
    /// whose finished run has no keys to press.
    pub fn advised(mut self) -> Self {
        self.notice = single_sigma_advice(&self.config).map(Notice::new);
        self
    }

    /// Starts training at `pace` steps per frame (`--pace`; `None`: flat out).
    pub fn pacing(mut self, pace: Option<usize>) -> Self {
        self.settings.training_pace = pace;
        self
    }

    /// Draws in colour or, for `NO_COLOR`, without.
    pub fn with_colour(self, colour: bool) -> Self {
        Self { colour, ..self }
    }

    /// Applies `action`; returns the command the trainer must get, if any. The settings the
    /// command changes show at once, by the same rule the trainer follows
    /// ([`Settings::apply`]). The trainer answers every command with a snapshot: until it
    /// comes, one is expected.
    pub fn update(&mut self, action: Action) -> Option<Command> {
        let command = self.command_for(action);
        if let Some(command) = &command {
            self.settings.apply(command);
            self.awaiting_reply = true;
        }
        command
    }

    fn command_for(&mut self, action: Action) -> Option<Command> {
        match action {
            Action::TogglePause => match self.state() {
                Some(TrainerState::Finished) => {
                    self.notice = Some(Notice::new(Message::Unavailable(NO_PAUSE_FINISHED)));
                    None
                }
                Some(TrainerState::Diverged(_)) => {
                    self.notice = Some(Notice::new(Message::Unavailable(NO_PAUSE_DIVERGED)));
                    None
                }
                _ => Some(if self.settings.paused { Command::Resume } else { Command::Pause }),
            },
            Action::Resample => Some(Command::Resample),
            // A fresh draw of everything (weights, data, noise, particles): the same seed would
            // replay the run bit for bit.
            Action::NewRun => {
                let seed = self.config.seed.wrapping_add(1);
                Some(self.new_run(Config { seed, ..self.config.clone() }))
            }
            Action::SwitchObjective if self.config.mode == Mode::Annealed => {
                self.notice = Some(Notice::new(Message::Unavailable(NO_ANNEALED_ISM)));
                None
            }
            // The seed is kept: both objectives train on the same data from the same weights.
            Action::SwitchObjective => {
                let objective = self.config.objective.other();
                Some(self.new_run(Config { objective, ..self.config.clone() }))
            }
            Action::CycleDataset => {
                let next = next_dataset(&self.launched, &self.config, self.drawn.as_ref());
                Some(self.new_run(Config { seed: next.seed.wrapping_add(1), ..next }))
            }
            // The seed is kept, as for `o`: both modes on the same data.
            Action::SwitchMode => Some(self.new_run(next_mode(&self.launched, &self.config))),
            Action::ClearPastRuns if self.past_runs.is_empty() => {
                self.notice = Some(Notice::new(Message::Unavailable(NO_PAST_RUNS)));
                None
            }
            Action::ClearPastRuns => {
                self.past_runs.clear();
                self.loss_view.hidden.retain(|curve| !matches!(curve, Curve::Past(_)));
                self.replot();
                None
            }
            Action::Save => Some(Command::Save(self.save_to.clone())),
            Action::RaiseEta | Action::LowerEta => {
                let factor = if action == Action::RaiseEta { ETA_FACTOR } else { 1.0 / ETA_FACTOR };
                // The annealed chain's step is αᵢ = c·σᵢ²: c plays η's part there.
                let annealed = self.config.mode == Mode::Annealed;
                let knob = if annealed { self.settings.step_scale } else { self.settings.eta };
                let value = (knob * factor).clamp(ETA_MIN, ETA_MAX);
                (value != knob).then(|| if annealed { Command::SetStepScale(value) } else { Command::SetEta(value) })
            }
            Action::FewerSteps | Action::MoreSteps => {
                let now = self.settings.steps_per_frame;
                let next = if action == Action::MoreSteps {
                    STEPS_PER_FRAME.iter().copied().find(|&s| s > now)
                } else {
                    STEPS_PER_FRAME.iter().copied().rev().find(|&s| s < now)
                }?;
                Some(Command::SetStepsPerFrame(next))
            }
            Action::CyclePace => {
                // A pace off the cycle (the default, `watchable_pace`) goes flat out.
                let next = TRAINING_PACES
                    .iter()
                    .position(|&pace| pace == self.settings.training_pace)
                    .and_then(|now| TRAINING_PACES[(now + 1) % TRAINING_PACES.len()]);
                // Training that is not running shows no pace: say what changed.
                let pace = match next {
                    Some(steps) => format!("paced to {} steps/s", steps_per_second(steps)),
                    None => "flat out".to_string(),
                };
                let when = match self.state() {
                    Some(TrainerState::Paused) => Some("once resumed (Space)"),
                    Some(TrainerState::Finished | TrainerState::Diverged(_)) => Some("in the next run (n)"),
                    None | Some(TrainerState::Training) => None,
                };
                if let Some(when) = when {
                    self.notice = Some(Notice::new(Message::Changed(format!("training {pace} {when}"))));
                }
                Some(Command::SetTrainingPace(next))
            }
            Action::ToggleHold => Some(Command::HoldParticles(!self.settings.particles_held)),
            Action::AdvanceStep | Action::AdvanceLevel => {
                Some(Command::Advance(if action == Action::AdvanceStep { Advance::Step } else { Advance::Level }))
            }
            Action::CycleSampler if self.config.mode == Mode::Single => {
                self.notice = Some(Notice::new(Message::Unavailable(NO_SAMPLERS)));
                None
            }
            Action::CycleSampler => Some(Command::SetSampler(self.settings.sampler.next())),
            Action::CycleBeside if self.config.mode == Mode::Single => {
                self.notice = Some(Notice::new(Message::Unavailable(NO_SAMPLERS)));
                None
            }
            Action::CycleBeside => Some(Command::SetBeside(Sampler::next_beside(self.settings.beside))),
            Action::TogglePaths if self.comparing => {
                self.notice = Some(Notice::new(Message::Unavailable(NO_PATHS_COMPARING)));
                None
            }
            Action::TogglePaths => {
                self.paths_on = !self.paths_on;
                self.paths = None;
                Some(Command::ShowPaths(self.paths_on))
            }
            Action::ToggleCompare if self.config.mode == Mode::Single => {
                self.notice = Some(Notice::new(Message::Unavailable(NO_COMPARE)));
                None
            }
            Action::ToggleCompare => {
                // The compare view's panels show the data set's bounds.
                self.reset_view();
                self.comparing = !self.comparing;
                self.compared = None;
                Some(Command::Compare(self.comparing))
            }
            Action::ToggleScale
            | Action::ToggleWindow
            | Action::ToggleFisher
            | Action::CycleView
            | Action::CycleField
            | Action::CycleDensity
            | Action::ToggleHelp
            | Action::CloseHelp
            | Action::ResetView => {
                self.change_view(action);
                None
            }
            Action::Quit => {
                self.quit = true;
                Some(Command::Quit)
            }
            // The terminal is the dashboard's, not the UI state's: its event loop suspends.
            Action::Suspend => None,
            Action::StartDrawing | Action::Draw(_) => self.draw_command(action),
        }
    }

    /// Starts the next run, on `next`, forgetting the last one at once but for its loss curve
    /// (kept with the earlier runs'): its snapshots still in flight will be dropped by their
    /// run id. The notice says what the screen cannot: that a run after a loaded checkpoint's
    /// starts from fresh weights, or that single σ will blur the new data set.
    fn new_run(&mut self, next: Config) -> Command {
        let diverged = matches!(self.state(), Some(TrainerState::Diverged(_)));
        let label = past_runs::label(self.run_id + 1, &self.config, diverged);
        self.past_runs.keep(self.run_id + 1, LossKind::of(&self.config), label, &self.losses);
        let from_checkpoint = self.loaded.is_some() && self.run_id == 0;
        // Levels chosen from the data are chosen again from the new run's data and seed.
        self.config = if next.levels_from_data { next.with_levels_from_data() } else { next };
        self.run_id += 1;
        self.notice = if from_checkpoint {
            Some(Notice::new(Message::Changed(format!(
                "run {} starts from fresh weights (the checkpoint was run 1's start)",
                self.run_id + 1
            ))))
        } else {
            single_sigma_advice(&self.config).map(Notice::new).or(self.notice.take())
        };
        self.comparing = false;
        self.compared = None;
        self.status = None;
        self.losses = LossHistory::default();
        // Its steps start again, as its samples panel starts at its data set's bounds.
        self.loss_view.steps = StepZoom::Whole;
        self.replot();
        self.samples = Samples::new(self.config.source.bounds());
        self.field.clear();
        self.density.clear();
        self.paths = None;
        Command::NewRun { run_id: self.run_id, config: Box::new(self.config.clone()) }
    }

    /// Shades the data for the grids the scatters on screen are drawn on, where it is not
    /// yet: the dashboard calls this before each draw, so the data is binned again only when
    /// it or the panels change.
    pub fn shade_data(&mut self, grids: PlotGrids) {
        match grids {
            PlotGrids::None => {}
            PlotGrids::Samples(grid) => self.samples.shade_data(grid),
            PlotGrids::Compare(grids) => {
                for (side, grid) in self.compared.iter_mut().flatten().zip(grids) {
                    side.samples.shade_data(grid);
                }
            }
        }
    }

    /// Brings what the trainer is asked to evaluate in line with the field view: `lattice`
    /// is where the arrows would go on the screen as it is now (the dashboard works it out
    /// from the layout; `None` while the view is off, the screen too small, or the compare
    /// view has no scatter panel of its own). Returns the command that tells the trainer, when
    /// that changed. Called before each draw.
    pub fn sync_field(&mut self, lattice: Option<Lattice>) -> Option<Command> {
        let asked = self.field.sync(lattice)?;
        self.awaiting_reply = true;
        Some(Command::ShowField(asked))
    }

    /// Brings what the trainer is asked to map in line with the log-density view, as
    /// [`App::sync_field`] does for the field: `lattice` is a point per cell of the samples
    /// panel as the screen is now. Called before each draw.
    pub fn sync_density(&mut self, lattice: Option<Lattice>) -> Option<Command> {
        let asked = self.density.sync(lattice)?;
        self.awaiting_reply = true;
        Some(Command::ShowDensity(asked))
    }

    /// Takes in a snapshot from the trainer; `false` if it belongs to a replaced run and was
    /// dropped.
    pub fn apply(&mut self, snapshot: Snapshot) -> bool {
        // A save's outcome is news whichever run it was of: a `w` just before `n` must not
        // go unanswered because its answer came with the replaced run's last snapshot.
        let noticed = snapshot.saved.is_some();
        if let Some(saved) = snapshot.saved {
            self.notice = Some(Notice::new(Message::Saved(saved)));
        }
        if snapshot.run_id != self.run_id {
            return noticed;
        }
        self.awaiting_reply = false;
        // A value that covers several steps is plotted at the last of them.
        for (i, &loss) in (0..).zip(&snapshot.train) {
            self.losses.push_train(snapshot.train_from + (i + 1) * snapshot.train_span - 1, loss);
        }
        for &point in &snapshot.test {
            self.losses.push_test(point);
        }
        for &point in &snapshot.fisher {
            self.losses.push_fisher(point);
        }
        if !snapshot.train.is_empty() || !snapshot.test.is_empty() || !snapshot.fisher.is_empty() {
            self.replot();
        }
        if let Some(data) = snapshot.data {
            self.samples.set_data(data);
        }
        if let Some(field) = snapshot.field {
            self.field.take(field);
        }
        if let Some(map) = snapshot.density {
            self.density.take(map);
        }
        if let Some(paths) = snapshot.paths.filter(|_| self.paths_on) {
            self.paths = Some(paths);
        }
        self.samples.set_particles(&snapshot.particles);
        self.take_comparison(snapshot.compare);
        self.status = Some(snapshot.status);
        true
    }

    /// The comparison's sides, while `c` is on, over the run's data.
    fn take_comparison(&mut self, compare: Option<CompareStatus>) {
        let Some(CompareStatus { sides }) = compare.filter(|_| self.comparing) else {
            // Off, or the trainer has not started it yet.
            return;
        };
        let previous = self.compared.take();
        let mut index = 0;
        self.compared = Some(sides.map(|side| {
            // The data is the run's; only the particles change from one snapshot to the next.
            let mut samples = match &previous {
                Some(previous) => previous[index].samples.clone(),
                None => self.samples.clone(),
            };
            index += 1;
            samples.set_particles(&side.particles);
            ComparedSide {
                name: side.name,
                sampler: side.sampler,
                samples,
                steps: side.steps,
                total: side.total,
                figures: side.figures,
            }
        }));
    }

    /// Starts the clock of a new notice and clears one shown for [`NOTICE_TIME`]; `true` if
    /// that changed the screen.
    pub fn tick(&mut self, now: Instant) -> bool {
        let sprayed = self.drawing.as_mut().is_some_and(|drawing| drawing.tick(now));
        let Some(notice) = &mut self.notice else { return sprayed };
        match notice.since {
            None => notice.since = Some(now),
            Some(since) if now.duration_since(since) >= NOTICE_TIME => {
                self.notice = None;
                return true;
            }
            Some(_) => {}
        }
        sprayed
    }

    /// Counts a drawn frame, for the frames/s figure.
    pub fn frame_drawn(&mut self, now: Instant) {
        self.frames += 1;
        self.frame_rate.observe(self.frames, now);
    }

    fn replot(&mut self) {
        self.plot = LossPlot::new(&self.losses, LossKind::of(&self.config), &self.past_runs, &self.loss_view);
        self.reading =
            self.reading.as_ref().map(|r| Reading::at(r.step, &self.losses, &self.past_runs, &self.loss_view.hidden));
    }

    /// The run's state as shown: the trainer's, except that a pause the user has asked for
    /// shows at once rather than a frame later; `None` until its first snapshot.
    pub fn state(&self) -> Option<TrainerState> {
        match self.status.map(|s| s.state) {
            Some(TrainerState::Training) if self.settings.paused => Some(TrainerState::Paused),
            state => state,
        }
    }

    /// Whether snapshots keep coming: the UI can poll slowly when they do not.
    pub fn expects_snapshots(&self) -> bool {
        self.awaiting_reply
            || self.particles_flow()
            || matches!(self.state(), None | Some(TrainerState::Training))
            || self.drawing.as_ref().is_some_and(Drawing::stroke_in_progress)
    }

    /// The particles on screen move by themselves, as the trainer last said.
    pub fn particles_flow(&self) -> bool {
        self.status.is_some_and(|s| s.flowing)
    }

    /// The lattice the trainer was last asked to evaluate the score fields on.
    pub fn field_lattice(&self) -> Option<Lattice> {
        self.field.lattice()
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn run_id(&self) -> u64 {
        self.run_id
    }

    /// The checkpoint the current run started from, if it did (`--load`, first run only).
    pub fn loaded_from_file(&self) -> Option<&Path> {
        self.loaded.as_deref().filter(|_| self.run_id == 0)
    }

    pub fn past_runs(&self) -> &PastRuns {
        &self.past_runs
    }

    pub fn settings(&self) -> Settings {
        self.settings
    }

    pub fn scale(&self) -> Scale {
        self.loss_view.scale
    }

    pub fn window(&self) -> Window {
        self.loss_view.window
    }

    pub fn fisher_curve(&self) -> FisherCurve {
        self.loss_view.fisher_curve
    }

    pub fn view(&self) -> View {
        self.view
    }

    pub fn comparing(&self) -> bool {
        self.comparing
    }

    /// The comparison's sides, once the trainer has sent them.
    pub fn compared(&self) -> Option<&[ComparedSide; 2]> {
        self.compared.as_ref()
    }

    /// The log-density view, when it is on.
    pub fn density_overlay(&self) -> Option<DensityOverlay<'_>> {
        self.density.shown().map(|(kind, map)| DensityOverlay { kind, map })
    }

    /// The lattice the trainer was last asked to map the log density on.
    pub fn density_lattice(&self) -> Option<Lattice> {
        self.density.lattice()
    }

    /// The paths to draw over the samples: the view is on and the trainer has traced them.
    pub fn paths(&self) -> Option<&Paths> {
        self.paths.as_ref().filter(|_| self.paths_on)
    }

    /// The score field view, when it is on.
    pub fn field_overlay(&self) -> Option<FieldOverlay<'_>> {
        self.field.shown().map(|(kind, field)| FieldOverlay { kind, field })
    }

    pub fn notice(&self) -> Option<&Notice> {
        self.notice.as_ref()
    }

    pub fn colour(&self) -> bool {
        self.colour
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

    pub fn losses(&self) -> &LossHistory {
        &self.losses
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
pub(crate) mod tests {
    use ratatui::crossterm::event::KeyEventState;

    use std::sync::Arc;

    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

    use super::*;
    use crate::app::keys::action_for;
    use crate::app::next_run::watchable_pace;
    use crate::app::notice::NO_DENSITY;
    use crate::data::Source;
    use crate::objective::Objective;
    use crate::trainer::protocol::{ChainStatus, Saved, SideStatus};
    use crate::trainer::{Divergence, TestPoint};

    fn new_run(run_id: u64, config: Config) -> Command {
        Command::NewRun { run_id, config: Box::new(config) }
    }

    fn press(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    /// A snapshot of run `run_id` whose particles flow, as the trainer sends it.
    pub(crate) fn snapshot(run_id: u64, state: TrainerState, step: u64) -> Snapshot {
        Snapshot {
            run_id,
            status: TrainerStatus {
                seed: run_id,
                state,
                epoch: 0,
                step,
                lr: 0.01,
                langevin_steps: 7,
                chain: ChainStatus::fresh(&Config::default(), crate::config::Sampler::Annealed),
                flowing: true,
                figures: None,
                energy_floor: None,
                trained_for: std::time::Duration::from_secs(3),
                steps_per_second: None,
                langevin_per_second: None,
            },
            train_from: 1,
            train_span: 1,
            train: (1..=step).map(|s| 100.0 / s as f32).collect(),
            test: vec![TestPoint { epoch: 0, step: 0, loss: 120.0 }],
            fisher: vec![TestPoint { epoch: 0, step: 0, loss: 20.0 }],
            data: Some(vec![[0.0, 0.0], [1.0, 0.5]]),
            particles: vec![[0.5, 0.5], [f32::NAN, 0.0], [40.0, 0.0]],
            saved: None,
            compare: None,
            field: None,
            paths: None,
            density: None,
        }
    }

    /// `snapshot` as the trainer sends it when the particles do not move (held, stopped or
    /// at the end of their chain).
    pub(crate) fn still(mut snapshot: Snapshot) -> Snapshot {
        snapshot.status.flowing = false;
        snapshot
    }

    #[test]
    fn every_documented_key_has_its_action() {
        let cases = [
            (KeyCode::Char(' '), Action::TogglePause),
            (KeyCode::Char('t'), Action::CyclePace),
            (KeyCode::Char('r'), Action::Resample),
            (KeyCode::Char('R'), Action::Resample),
            (KeyCode::Char('n'), Action::NewRun),
            (KeyCode::Char('o'), Action::SwitchObjective),
            (KeyCode::Char('d'), Action::CycleDataset),
            (KeyCode::Char('a'), Action::SwitchMode),
            (KeyCode::Char('x'), Action::ClearPastRuns),
            (KeyCode::Char('w'), Action::Save),
            (KeyCode::Char('+'), Action::RaiseEta),
            (KeyCode::Char('='), Action::RaiseEta),
            (KeyCode::Char('-'), Action::LowerEta),
            (KeyCode::Char('['), Action::FewerSteps),
            (KeyCode::Char(']'), Action::MoreSteps),
            (KeyCode::Char('p'), Action::ToggleHold),
            (KeyCode::Char('.'), Action::AdvanceStep),
            (KeyCode::Char('>'), Action::AdvanceLevel),
            (KeyCode::Char('c'), Action::ToggleCompare),
            (KeyCode::Char('s'), Action::CycleSampler),
            (KeyCode::Char('b'), Action::CycleBeside),
            (KeyCode::Char('j'), Action::TogglePaths),
            (KeyCode::Char('l'), Action::ToggleScale),
            (KeyCode::Char('h'), Action::ToggleWindow),
            (KeyCode::Char('i'), Action::ToggleFisher),
            (KeyCode::Char('v'), Action::CycleView),
            (KeyCode::Char('f'), Action::CycleField),
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
    fn ctrl_z_suspends_with_or_without_the_help() {
        let ctrl_z = KeyEvent::new(KeyCode::Char('z'), KeyModifiers::CONTROL);
        assert_eq!(action_for(ctrl_z, false), Some(Action::Suspend));
        assert_eq!(action_for(ctrl_z, true), Some(Action::Suspend));
    }

    #[test]
    fn esc_closes_the_help_before_it_quits() {
        assert_eq!(action_for(press(KeyCode::Esc), true), Some(Action::CloseHelp));
    }

    #[test]
    fn under_the_help_only_closing_it_and_quitting_act() {
        for c in [' ', 'n', 'o', 'd', 'a', 'r', 't', 'w', 'p', '.', 'c', 'f', 'x'] {
            assert_eq!(action_for(press(KeyCode::Char(c)), true), None, "{c:?} under the help");
        }
        assert_eq!(action_for(press(KeyCode::Char('?')), true), Some(Action::ToggleHelp));
        assert_eq!(action_for(press(KeyCode::Char('q')), true), Some(Action::Quit));
        assert_eq!(action_for(press(KeyCode::Char('n')), false), Some(Action::NewRun), "without it, n acts");
    }

    #[test]
    fn keys_that_change_nothing_on_screen_say_why_or_what_changed() {
        let mut app = App::new(Config::default());
        app.apply(snapshot(0, TrainerState::Finished, 5));
        assert_eq!(app.update(Action::TogglePause), None);
        assert_eq!(app.notice().map(|n| &n.message), Some(&Message::Unavailable(NO_PAUSE_FINISHED)));
        assert!(app.update(Action::CyclePace).is_some(), "the pace still goes to the trainer");
        let changed = Message::Changed("training paced to 2000 steps/s in the next run (n)".into());
        assert_eq!(app.notice().map(|n| &n.message), Some(&changed));

        let mut paused = App::new(Config::default());
        paused.apply(snapshot(0, TrainerState::Training, 5));
        paused.update(Action::TogglePause);
        paused.update(Action::CyclePace);
        let changed = Message::Changed("training paced to 2000 steps/s once resumed (Space)".into());
        assert_eq!(paused.notice().map(|n| &n.message), Some(&changed));

        let mut training = App::new(Config::default());
        training.apply(snapshot(0, TrainerState::Training, 5));
        training.update(Action::CyclePace);
        assert_eq!(training.notice(), None, "training shows its pace in the title");

        let d = Divergence { step: 17, epoch: 0, loss: 3e6, ..Default::default() };
        let mut diverged = App::new(Config::default());
        diverged.apply(snapshot(0, TrainerState::Diverged(d), 16));
        assert_eq!(diverged.update(Action::TogglePause), None);
        assert_eq!(diverged.notice().map(|n| &n.message), Some(&Message::Unavailable(NO_PAUSE_DIVERGED)));
    }

    #[test]
    fn other_keys_releases_and_control_chords_do_nothing() {
        assert_eq!(action_for(press(KeyCode::Char('k')), false), None);
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
        assert_eq!(app.state(), Some(TrainerState::Paused), "a pause shows before the trainer confirms it");
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
        for action in
            [Action::ToggleScale, Action::ToggleWindow, Action::ToggleFisher, Action::CycleView, Action::ToggleHelp]
        {
            assert_eq!(app.update(action), None, "{action:?} is the UI's business");
        }
        assert_eq!(app.update(Action::Quit), Some(Command::Quit));
        assert!(app.should_quit());
    }

    #[test]
    fn t_cycles_the_training_pace_from_flat_out_down_to_20_steps_a_second_and_back() {
        let mut app = App::new(Config::default());
        let paces: Vec<_> = (0..TRAINING_PACES.len()).map(|_| app.update(Action::CyclePace)).collect();
        let per_frame = [Some(100), Some(20), Some(5), Some(1), None];
        assert_eq!(paces, per_frame.map(|pace| Some(Command::SetTrainingPace(pace))));
        assert_eq!(app.settings().training_pace, None, "back to flat out");
    }

    #[test]
    fn the_default_pace_spreads_the_run_over_the_watch_time_and_t_leaves_it_for_flat_out() {
        // 100 epochs of 63 steps over 18 s of 50 ms frames: 6300 / 360 = 17.5, rounded up.
        let config = Config::default();
        assert_eq!(config.total_steps(), 6300);
        assert_eq!(watchable_pace(&config), 18);
        assert_eq!(watchable_pace(&Config { epochs: 1000, ..config.clone() }), 175);
        assert_eq!(watchable_pace(&Config { epochs: 0, ..config.clone() }), 1, "at least a step a frame");
        let mut app = App::new(config.clone()).pacing(Some(watchable_pace(&config)));
        assert_eq!(app.update(Action::CyclePace), Some(Command::SetTrainingPace(None)));
        assert_eq!(app.update(Action::CyclePace), Some(Command::SetTrainingPace(Some(100))), "then the cycle");
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
        assert_eq!(views, [View::Density, View::Points, View::Shaded]);
        app.update(Action::ToggleScale);
        assert_eq!(app.scale(), Scale::Linear);
        app.update(Action::ToggleWindow);
        assert_eq!(app.window(), Window::Recent);
        app.update(Action::ToggleFisher);
        assert_eq!(app.fisher_curve(), FisherCurve::Hidden);
        app.update(Action::ToggleHelp);
        assert!(app.help_open());
        app.update(Action::CloseHelp);
        assert!(!app.help_open());
    }

    #[test]
    fn a_new_run_drops_the_old_runs_snapshots() {
        let mut app = App::new(Config::default());
        assert!(app.apply(snapshot(0, TrainerState::Training, 50)));
        let next_seed = Config { seed: 1, ..Config::default() };
        assert_eq!(app.update(Action::NewRun), Some(new_run(1, next_seed)));
        assert_eq!(app.state(), None);
        assert!(app.plot().is_empty());
        // A snapshot of run 0 still in flight must not reappear.
        assert!(!app.apply(snapshot(0, TrainerState::Training, 60)));
        assert!(app.status().is_none() && app.plot().is_empty());
        assert!(app.apply(snapshot(1, TrainerState::Training, 2)));
        assert_eq!(app.status().unwrap().step, 2);
        assert_eq!(app.status().unwrap().seed, 1);
    }

    #[test]
    fn o_starts_a_new_run_with_the_other_objective_on_the_same_seed() {
        let mut app = App::new(Config::default());
        app.apply(snapshot(0, TrainerState::Training, 50));
        let ism = Config { objective: Objective::Ism, ..Config::default() };
        assert_eq!(app.update(Action::SwitchObjective), Some(new_run(1, ism.clone())));
        assert_eq!(app.config(), &ism);
        assert!(!app.apply(snapshot(0, TrainerState::Training, 60)), "the DSM run's snapshots are stale");
        assert!(app.plot().is_empty() && app.status().is_none());
        let ism_next = Config { seed: 1, ..ism };
        assert_eq!(app.update(Action::NewRun), Some(new_run(2, ism_next)), "n keeps the objective, not the seed");
        assert_eq!(app.update(Action::SwitchObjective), Some(new_run(3, Config { seed: 1, ..Config::default() })));
    }

    #[test]
    fn d_cycles_the_built_in_sets_each_with_its_noise_sigma_and_bounds() {
        // Launched on the moons with flags of its own: they come back with the moons.
        let launched = Config { count: 2000, sigma: 0.2, objective: Objective::Ism, ..Config::default() };
        let mut app = App::new(launched.clone());
        let mut seen = Vec::new();
        for run_id in 1..=5 {
            let Some(Command::NewRun { run_id: id, config }) = app.update(Action::CycleDataset) else {
                panic!("d must start a new run")
            };
            assert_eq!((id, &*config), (run_id, app.config()));
            assert_eq!(app.samples().bounds(), config.source.bounds(), "the scatter follows");
            seen.push(config.source.name());
            if run_id < 5 {
                let Source::Builtin(b) = config.source else { panic!("a built-in set") };
                assert_eq!((config.noise, config.sigma), (b.default_noise(), b.default_sigma()));
                assert_eq!((config.count, config.objective), (2000, Objective::Ism), "the rest is kept");
            }
        }
        assert_eq!(seen, ["circles", "swiss-roll", "8gaussians", "checkerboard", "moons"]);
        assert_eq!(app.config(), &Config { seed: launched.seed + 5, ..launched }, "each d a new seed");
    }

    #[test]
    fn d_from_a_file_goes_through_the_built_in_sets_and_back_to_the_file() {
        let points = Arc::new(ndarray::Array2::from_shape_fn((20, 2), |(i, d)| (i * (d + 1)) as f32));
        let file = Source::File { path: "mine.csv".into(), points };
        let launched = Config { source: file, count: 20, noise: 0.0, batch_size: 8, ..Config::default() };
        let mut config = launched.clone();
        let mut names = Vec::new();
        for _ in 0..6 {
            config = next_dataset(&launched, &config, None);
            names.push(config.source.name());
            if config.source != launched.source {
                assert_eq!(config.count, Config::default().count, "a built-in set at its default size");
            }
        }
        assert_eq!(names, ["moons", "circles", "swiss-roll", "8gaussians", "checkerboard", "mine.csv"]);
        assert_eq!(config, launched);
    }

    #[test]
    fn w_saves_where_asked_and_the_outcome_shows_for_a_while() {
        let mut app = App::new(Config::default());
        assert_eq!(app.update(Action::Save), Some(Command::Save(None)), "the trainer names the file");
        let mut app = app.saving_to(Some("run.safetensors".into()));
        assert_eq!(app.update(Action::Save), Some(Command::Save(Some("run.safetensors".into()))));

        // The answer comes with the replaced run's last snapshot: still shown.
        app.update(Action::NewRun);
        let saved = Saved { path: "/tmp/run.safetensors".into(), error: None, replaced: false };
        assert!(app.apply(Snapshot { saved: Some(saved.clone()), ..snapshot(0, TrainerState::Training, 5) }));
        assert!(app.status().is_none(), "the rest of the stale snapshot is dropped");
        assert_eq!(app.notice().map(|n| &n.message), Some(&Message::Saved(saved)));

        let t0 = Instant::now();
        assert!(!app.tick(t0), "the clock starts when it is first drawn");
        assert!(!app.tick(t0 + NOTICE_TIME / 2));
        assert!(app.tick(t0 + NOTICE_TIME), "then it goes");
        assert!(app.notice().is_none());

        let failed = Saved {
            path: "/gone/run.safetensors".into(),
            error: Some("No such file or directory".into()),
            replaced: false,
        };
        app.apply(Snapshot { saved: Some(failed.clone()), ..snapshot(1, TrainerState::Training, 5) });
        assert_eq!(app.notice().map(|n| &n.message), Some(&Message::Saved(failed)));
    }

    #[test]
    fn a_new_run_resumes_a_paused_one() {
        let mut app = App::new(Config::default());
        app.apply(snapshot(0, TrainerState::Training, 5));
        app.update(Action::TogglePause);
        app.update(Action::NewRun);
        app.apply(snapshot(1, TrainerState::Training, 1));
        assert_eq!(app.state(), Some(TrainerState::Training));
    }

    #[test]
    fn finished_and_diverged_runs_cannot_be_paused() {
        let mut app = App::new(Config::default());
        app.apply(snapshot(0, TrainerState::Finished, 5));
        assert_eq!(app.state(), Some(TrainerState::Finished));
        assert_eq!(app.update(Action::TogglePause), None);
        assert_eq!(app.state(), Some(TrainerState::Finished));

        let d = Divergence { step: 17, epoch: 0, loss: 3e6, ..Default::default() };
        app.apply(snapshot(0, TrainerState::Diverged(d), 16));
        assert_eq!(app.state(), Some(TrainerState::Diverged(d)));
        assert_eq!(app.update(Action::TogglePause), None);
        assert_eq!(app.update(Action::NewRun), Some(new_run(1, Config { seed: 1, ..Config::default() })));
    }

    #[test]
    fn the_ui_polls_slowly_only_when_nothing_moves() {
        let mut app = App::new(Config::default());
        app.apply(snapshot(0, TrainerState::Training, 5));
        assert!(app.expects_snapshots());
        while app.update(Action::FewerSteps).is_some() {}
        assert!(app.expects_snapshots(), "training still sends snapshots");
        app.update(Action::TogglePause);
        assert!(app.expects_snapshots(), "until the trainer has answered the pause");
        app.apply(still(snapshot(0, TrainerState::Training, 5)));
        assert!(!app.expects_snapshots());
    }

    fn annealed() -> Config {
        Config { mode: Mode::Annealed, ..Config::default() }
    }

    #[test]
    fn p_holds_the_particles_and_stepping_holds_them_too() {
        let mut app = App::new(Config::default());
        app.apply(snapshot(0, TrainerState::Finished, 5));
        assert!(app.particles_flow() && app.expects_snapshots());
        assert_eq!(app.update(Action::ToggleHold), Some(Command::HoldParticles(true)));
        app.apply(still(snapshot(0, TrainerState::Finished, 5)));
        assert!(!app.particles_flow() && !app.expects_snapshots(), "held and finished: nothing moves");
        assert_eq!(app.update(Action::ToggleHold), Some(Command::HoldParticles(false)));
        assert_eq!(app.update(Action::AdvanceStep), Some(Command::Advance(Advance::Step)));
        assert!(app.settings().particles_held, "a step holds a flowing chain");
        assert_eq!(app.update(Action::AdvanceLevel), Some(Command::Advance(Advance::Level)));
    }

    #[test]
    fn an_ended_annealed_chain_does_not_flow() {
        let mut app = App::new(annealed());
        let mut done = still(snapshot(0, TrainerState::Finished, 5));
        done.status.chain.done = true;
        app.apply(done);
        assert!(!app.particles_flow() && !app.expects_snapshots());
    }

    #[test]
    fn in_annealed_mode_plus_and_minus_change_c_and_o_says_why_it_cannot() {
        let mut app = App::new(annealed());
        let scale = |command| match command {
            Some(Command::SetStepScale(c)) => c,
            other => panic!("expected SetStepScale, got {other:?}"),
        };
        assert!((scale(app.update(Action::RaiseEta)) - 0.15).abs() < 1e-12);
        assert!((scale(app.update(Action::LowerEta)) - 0.1).abs() < 1e-12);
        assert_eq!(app.settings().eta, Config::default().eta, "η untouched");
        assert_eq!(app.update(Action::SwitchObjective), None, "no ISM run");
        assert_eq!(app.notice().map(|n| &n.message), Some(&Message::Unavailable(NO_ANNEALED_ISM)));
        assert_eq!(app.run_id(), 0);
    }

    #[test]
    fn s_cycles_the_samplers_in_annealed_mode_and_says_what_to_do_in_single_mode() {
        let mut single = App::new(Config::default());
        assert_eq!(single.update(Action::CycleSampler), None);
        assert_eq!(single.notice().map(|n| &n.message), Some(&Message::Unavailable(NO_SAMPLERS)));

        let mut app = App::new(annealed());
        let mut seen = Vec::new();
        for _ in 0..5 {
            match app.update(Action::CycleSampler) {
                Some(Command::SetSampler(sampler)) => seen.push(sampler),
                other => panic!("expected SetSampler, got {other:?}"),
            }
            assert_eq!(app.settings().sampler, *seen.last().unwrap(), "shown at once");
        }
        use crate::config::Sampler::*;
        assert_eq!(seen, [ReverseDiffusion, OdeEuler, OdeHeun, Pc, Annealed], "every one, then back");

        // `b`: the compare view's left side, from single-σ through every sampler and back.
        let mut left = Vec::new();
        for _ in 0..6 {
            match app.update(Action::CycleBeside) {
                Some(Command::SetBeside(beside)) => left.push(beside),
                other => panic!("expected SetBeside, got {other:?}"),
            }
            assert_eq!(app.settings().beside, *left.last().unwrap());
        }
        assert_eq!(left, [Some(Annealed), Some(ReverseDiffusion), Some(OdeEuler), Some(OdeHeun), Some(Pc), None]);
        assert_eq!(single.update(Action::CycleBeside), None, "single mode: no samplers to choose");
    }

    /// `g` cycles off → model → exact → off; the trainer is asked for a map on the lattice the
    /// screen gives, once, and told to stop when the view goes off; a map for another lattice
    /// is not kept. Single mode has no ODE: a notice.
    #[test]
    fn g_cycles_the_log_density_view_and_asks_for_maps_on_the_screens_lattice() {
        let mut single = App::new(Config::default());
        assert_eq!(single.update(Action::CycleDensity), None);
        assert_eq!(single.notice().map(|n| &n.message), Some(&Message::Unavailable(NO_DENSITY)));

        let mut app = App::new(annealed());
        let lattice = Lattice { x0: -1.0, dx: 0.1, cols: 3, y0: 1.0, dy: -0.1, rows: 2 };
        assert_eq!(app.sync_density(Some(lattice)), None, "off: nothing asked");
        assert_eq!(app.update(Action::CycleDensity), None, "the draw loop tells the trainer");
        assert_eq!(app.density_overlay().map(|o| o.kind), Some(DensityKind::Learned));
        assert_eq!(app.sync_density(Some(lattice)), Some(Command::ShowDensity(Some(lattice))));
        assert_eq!(app.sync_density(Some(lattice)), None, "asked once");
        let map = LogDensityMap { lattice, sigma_min: 0.01, learned: Some(vec![0.0; 6]), exact: vec![-1.0; 6] };
        let other = LogDensityMap { lattice: Lattice { cols: 4, ..lattice }, ..map.clone() };
        app.apply(Snapshot { density: Some(other), ..snapshot(0, TrainerState::Training, 3) });
        assert!(app.density_overlay().and_then(|o| o.map).is_none(), "another lattice's map is dropped");
        app.apply(Snapshot { density: Some(map.clone()), ..snapshot(0, TrainerState::Training, 4) });
        assert_eq!(app.density_overlay().and_then(|o| o.map), Some(&map));
        app.update(Action::CycleDensity);
        assert_eq!(app.density_overlay().map(|o| o.kind), Some(DensityKind::Exact));
        app.update(Action::CycleDensity);
        assert!(app.density_overlay().is_none());
        assert_eq!(app.sync_density(Some(lattice)), Some(Command::ShowDensity(None)), "told to stop");
    }

    #[test]
    fn j_asks_for_the_paths_shows_what_comes_and_drops_them_when_off() {
        let mut app = App::new(annealed());
        assert_eq!(app.update(Action::TogglePaths), Some(Command::ShowPaths(true)));
        let paths: Paths = vec![vec![[0.0, 0.0], [1.0, 1.0]]];
        app.apply(Snapshot { paths: Some(paths.clone()), ..snapshot(0, TrainerState::Training, 3) });
        assert_eq!(app.paths(), Some(&paths));
        app.apply(snapshot(0, TrainerState::Training, 4));
        assert_eq!(app.paths(), Some(&paths), "kept until new ones come");
        assert_eq!(app.update(Action::TogglePaths), Some(Command::ShowPaths(false)));
        assert_eq!(app.paths(), None);
        app.apply(Snapshot { paths: Some(paths), ..snapshot(0, TrainerState::Training, 5) });
        assert_eq!(app.paths(), None, "a late trace is not drawn with the view off");

        app.update(Action::ToggleCompare);
        assert_eq!(app.update(Action::TogglePaths), None);
        assert_eq!(app.notice().map(|n| &n.message), Some(&Message::Unavailable(NO_PATHS_COMPARING)));
    }

    #[test]
    fn c_compares_in_annealed_mode_and_says_what_to_do_in_single_mode() {
        let mut single = App::new(Config::default());
        assert_eq!(single.update(Action::ToggleCompare), None);
        assert!(!single.comparing());
        assert_eq!(single.notice().map(|n| &n.message), Some(&Message::Unavailable(NO_COMPARE)));

        let mut app = App::new(annealed());
        assert_eq!(app.update(Action::ToggleCompare), Some(Command::Compare(true)));
        assert!(app.comparing() && app.compared().is_none(), "on, waiting for the trainer");
        let status = |steps| SideStatus {
            name: "single-σ",
            sampler: "σ 0.1 · η 0.01".into(),
            particles: vec![[0.5, 0.5]],
            steps,
            total: 10,
            figures: None,
        };
        let sides = CompareStatus { sides: [status(3), status(10)] };
        app.apply(Snapshot { compare: Some(sides), ..snapshot(0, TrainerState::Finished, 5) });
        let compared = app.compared().expect("the sides");
        assert_eq!(compared[0].samples.particles(), &[[0.5, 0.5]]);
        assert!(app.particles_flow(), "one side still runs");
        assert_eq!(app.update(Action::ToggleCompare), Some(Command::Compare(false)));
        assert!(!app.comparing() && app.compared().is_none());
        app.update(Action::ToggleCompare);
        app.update(Action::NewRun);
        assert!(!app.comparing(), "a new run starts in the normal view");
    }

    #[test]
    fn particles_that_cannot_be_drawn_are_counted() {
        let mut app = App::new(Config::default());
        app.apply(snapshot(0, TrainerState::Training, 1));
        let s = app.samples();
        assert_eq!((s.particles().len(), s.escaped(), s.nonfinite()), (1, 1, 1));
    }

    fn past_labels(app: &App) -> Vec<&str> {
        app.plot().past.iter().map(|c| c.label.as_str()).collect()
    }

    #[test]
    fn replaced_runs_stay_on_the_loss_panel_until_x_clears_them() {
        let mut app = App::new(Config::default());
        assert_eq!(app.update(Action::ClearPastRuns), None);
        assert_eq!(app.notice().map(|n| &n.message), Some(&Message::Unavailable(NO_PAST_RUNS)), "x says why");
        app.apply(snapshot(0, TrainerState::Training, 50));
        app.update(Action::SwitchObjective);
        app.apply(snapshot(1, TrainerState::Training, 20));
        assert_eq!(past_labels(&app), ["run 1 DSM moons σ0.1 s0"]);
        assert_eq!(app.plot().x_bounds, [0.0, 20.0], "a DSM loss is another quantity: its steps do not count");
        app.update(Action::NewRun);
        // Run 3 has no loss yet: nothing of it to keep when it is replaced.
        app.update(Action::CycleDataset);
        app.apply(snapshot(3, TrainerState::Training, 5));
        assert_eq!(past_labels(&app), ["run 1 DSM moons σ0.1 s0", "run 2 ISM moons s0"]);
        assert_eq!(app.plot().x_bounds, [0.0, 20.0], "the axis takes in the longer ISM run");
        assert_eq!(app.update(Action::ClearPastRuns), None, "the UI's business");
        assert!(app.plot().past.is_empty() && app.past_runs().is_empty());
        assert_eq!(app.plot().x_bounds, [0.0, 5.0]);
    }

    #[test]
    fn a_switches_single_and_annealed_as_a_new_run_on_the_same_seed() {
        let launched = Config { seed: 4, ..Config::default() };
        let mut app = App::new(launched.clone());
        app.apply(snapshot(0, TrainerState::Training, 50));
        let Some(Command::NewRun { run_id: 1, config }) = app.update(Action::SwitchMode) else {
            panic!("a starts a new run")
        };
        assert_eq!(*config, Config { mode: Mode::Annealed, ..launched.clone().with_annealed_training() });
        assert_eq!(app.config(), &*config);
        app.apply(snapshot(1, TrainerState::Training, 10));
        app.update(Action::SwitchMode);
        assert_eq!(app.config(), &launched, "back to the launch's single-σ run");
        assert_eq!(past_labels(&app), ["run 1 DSM moons σ0.1 s4", "run 2 DSM moons annealed s4"]);

        // From ISM, annealed trains by DSM; back in single mode the launch's ISM returns.
        let ism = Config { objective: Objective::Ism, ..Config::default() };
        let ism_annealed = next_mode(&ism, &ism);
        assert_eq!((ism_annealed.mode, ism_annealed.objective), (Mode::Annealed, Objective::Dsm));
        assert_eq!(next_mode(&ism, &ism_annealed), ism);
        // Launched annealed with flags of its own: single mode gets the course's defaults.
        let launched = Config { epochs: 50, ..annealed() };
        let single = next_mode(&launched, &launched);
        assert_eq!((single.hidden, single.depth, single.epochs), (128, 2, 100));
        assert_eq!(next_mode(&launched, &single), launched);
    }

    #[test]
    fn single_sigma_on_the_circles_and_the_checkerboard_suggests_annealed() {
        let advice = |app: &App| match app.notice().map(|n| &n.message) {
            Some(Message::Advice(text)) => Some(text.clone()),
            _ => None,
        };
        let mut app = App::new(Config::default()).advised();
        assert_eq!(advice(&app), None, "single σ draws the moons well");
        app.update(Action::CycleDataset);
        assert_eq!(advice(&app).as_deref(), Some("single σ blurs circles — a: annealed"));
        app.update(Action::SwitchMode);
        assert_eq!(advice(&app).as_deref(), Some("single σ blurs circles — a: annealed"), "still on screen");
        let checkerboard = Config::for_builtin(crate::data::Builtin::Checkerboard);
        assert_eq!(
            advice(&App::new(checkerboard.clone()).advised()).as_deref(),
            Some("single σ blurs checkerboard — a: annealed")
        );
        assert_eq!(advice(&App::new(checkerboard.clone())), None, "only the dashboard's first frame is advised");
        assert_eq!(advice(&App::new(Config { mode: Mode::Annealed, ..checkerboard }).advised()), None);
    }

    #[test]
    fn a_run_after_a_loaded_checkpoint_says_it_starts_from_fresh_weights() {
        let mut app = App::new(Config::default()).loaded_from(Some("model.safetensors".into()));
        assert_eq!(app.loaded_from_file(), Some(Path::new("model.safetensors")));
        app.update(Action::NewRun);
        assert_eq!(app.loaded_from_file(), None, "run 2 is not the checkpoint's");
        let fresh = Message::Changed("run 2 starts from fresh weights (the checkpoint was run 1's start)".into());
        assert_eq!(app.notice().map(|n| &n.message), Some(&fresh));
    }
}
