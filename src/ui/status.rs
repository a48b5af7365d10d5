//! The status panel: the run's state in the title, then four lines — training progress, the
//! objective with how far the Fisher divergence and the test loss have fallen, the Langevin
//! sampler, and the live sample-quality figures. A fifth, under the sampler, when there is
//! more to say about it: in annealed mode, and while the particles are held (the next step's
//! σ, α, mean ‖s‖ and signal-to-noise ratio; see `chain`).

use std::time::Duration;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget};

use crate::app::App;
use crate::app::drawing::MIN_DRAWN_POINTS;
use crate::app::loss_history::Ends;
use crate::app::next_run::{TRAINING_PACES, steps_per_second};
use crate::config::{Config, Mode, Sampler};
use crate::nn::Precision;
use crate::objective::Objective;
use crate::sampling::chain::GridProgress;
use crate::shown::{duration, energy_distance, format_sig};
use crate::trainer::protocol::{ChainStatus, FRAME, TrainerState};
use crate::ui::help::keep_end;
use crate::ui::{format_count, theme};

/// Rows the panel needs, borders included, with four lines.
pub const HEIGHT: u16 = 6;

/// Rows the panel needs for `app`: one more in annealed mode or with the particles held.
pub fn height(app: &App) -> u16 {
    HEIGHT + u16::from(app.config().mode == Mode::Annealed || app.settings().particles_held)
}

pub struct Status<'a> {
    pub app: &'a App,
}

/// "label value" with the value stressed, and a gap before the next pair.
fn pair(label: &str, value: String) -> [Span<'static>; 3] {
    [Span::styled(format!("{label} "), theme::DIM), Span::styled(value, theme::VALUE), Span::raw("   ")]
}

/// The latest value of a series and, when both ends are positive, how many times it has
/// fallen since the first ("÷6.85") or risen ("×1.20").
fn with_change(ends: Option<Ends>) -> String {
    let Some(Ends { first, last }) = ends else { return "—".into() };
    let value = format_sig(last);
    if !(first > 0.0 && last > 0.0) {
        return value;
    }
    let change = if first >= last {
        format!("÷{}", format_sig(first / last))
    } else {
        format!("×{}", format_sig(last / first))
    };
    format!("{value} ({change})")
}

/// "value unit", the same way.
fn measure(value: String, unit: &str) -> [Span<'static>; 3] {
    [Span::styled(value, theme::VALUE), Span::styled(format!(" {unit}"), theme::DIM), Span::raw("   ")]
}

impl Widget for Status<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.app;
        let config = app.config();
        let settings = app.settings();
        let status = app.status();
        let (state, style): (String, Style) = match app.state() {
            // Draw mode's state is the drawing's; the run behind it goes on.
            _ if app.drawing().is_some() => {
                let drawing = app.drawing().expect("checked");
                let count = drawing.points().len();
                let needed = if count < MIN_DRAWN_POINTS {
                    format!(" (Enter trains from {MIN_DRAWN_POINTS})")
                } else {
                    String::new()
                };
                (format!("DRAWING · {count} points{needed} · brush {}", drawing.brush_label()), theme::STARTING)
            }
            None => ("STARTING".into(), theme::STARTING),
            Some(TrainerState::Training) => match settings.training_pace {
                None => ("TRAINING".into(), theme::TRAINING),
                // The default pace is off `t`'s cycle: `t` leaves it for flat out.
                Some(steps) if !TRAINING_PACES.contains(&Some(steps)) => {
                    (format!("TRAINING · paced to {} steps/s · t: flat out", steps_per_second(steps)), theme::TRAINING)
                }
                Some(steps) => {
                    (format!("TRAINING · paced to {} steps/s (t)", steps_per_second(steps)), theme::TRAINING)
                }
            },
            Some(TrainerState::Paused) if app.particles_flow() => {
                ("PAUSED · the particles keep flowing".into(), theme::PAUSED)
            }
            Some(TrainerState::Paused) => ("PAUSED".into(), theme::PAUSED),
            Some(TrainerState::Finished) => ("FINISHED".into(), theme::FINISHED),
            Some(TrainerState::Diverged(d)) => (
                format!("DIVERGED at step {} (loss {}) · n starts a new run", d.step, format_sig(f64::from(d.loss))),
                theme::DIVERGED,
            ),
        };
        let seed = status.map_or(config.seed, |s| s.seed);
        let title = Line::from(vec![Span::raw(" "), Span::styled(state, style), Span::raw(" ")]);
        let run = format!(" {} · run {} · seed {seed} ", config.source.name(), app.run_id() + 1);
        // A run from `--load` names its checkpoint: the file, and its directory as room allows.
        let run = match app.loaded_from_file() {
            Some(path) => {
                let room = usize::from(area.width).saturating_sub(title.width() + run.chars().count() + 10);
                let file = keep_end(&crate::shown::path(path), room.max(12));
                format!(" {} · run {} from {file} · seed {seed} ", config.source.name(), app.run_id() + 1)
            }
            None => run,
        };
        // A long data file name gives way from its start rather than run into the state.
        let room = usize::from(area.width).saturating_sub(title.width() + 3);
        let run =
            if run.chars().count() > room { format!("{} ", keep_end(run.trim_end(), room.max(13) - 1)) } else { run };
        let run = Line::from(Span::styled(run, theme::DIM)).right_aligned();
        let mut block = Block::bordered().border_style(theme::BORDER).title(title).title(run);

        let dash = || "—".to_string();
        let total_steps = config.total_steps();
        let (epoch, step, lr) = match status {
            Some(s) => {
                // The epoch under way while training, the last one completed when stopped.
                let shown = if s.step >= total_steps { s.epoch } else { (s.epoch + 1).min(config.epochs) };
                (shown.to_string(), format_count(s.step), format!("{:.2e}", s.lr))
            }
            None => (dash(), dash(), dash()),
        };
        // The train loss's moving average, as the loss panel draws it: one step's loss jumps.
        let loss = app.losses().recent().last().map_or_else(dash, |p| format_sig(p.smooth));
        let mut training: Vec<Span> = [
            pair("epoch", format!("{epoch}/{}", config.epochs)),
            pair("step", format!("{step}/{}", format_count(total_steps))),
            pair("loss", loss),
            pair("lr", lr),
        ]
        .concat();
        // Only a rate that means something: none before a second of training, none after it.
        let rate = status.and_then(|s| s.steps_per_second).filter(|_| app.state() == Some(TrainerState::Training));
        if let Some(rate) = rate {
            training.extend(measure(format_sig(rate), "steps/s"));
        }
        let clock = status.and_then(|s| timing(s.trained_for, rate.map(|r| (total_steps.saturating_sub(s.step), r))));
        let clock = clock.map(|text| Line::from(Span::styled(text, theme::DIM)).right_aligned());

        let losses = app.losses();
        let objective: Vec<Span> = [
            // Annealed, "objective" gives way to the schedule: the line must fit 80 columns.
            match (config.objective, config.mode) {
                (Objective::Dsm, Mode::Annealed) => {
                    pair("DSM σ", format!("{}→{} ×{}", config.levels.max, config.levels.min, config.levels.len()))
                }
                (Objective::Dsm, Mode::Single) => pair("objective", format!("DSM σ {}", config.sigma)),
                (Objective::Ism, _) => pair("objective", "ISM".into()),
            },
            pair("Fisher divergence", with_change(losses.fisher_ends())),
            pair("test loss", with_change(losses.test_ends())),
        ]
        .concat();

        let langevin_steps = status.map_or(0, |s| s.langevin_steps);
        let per_frame = per_frame(settings.steps_per_frame, status.and_then(|s| s.langevin_per_second));
        let chain = status.map_or_else(|| ChainStatus::fresh(config, settings.sampler), |s| s.chain);
        let mut sampler = vec![Line::from(match config.mode {
            Mode::Single => [
                pair("Langevin η", format_sig(settings.eta)),
                pair("steps/frame", per_frame.clone()),
                pair("total", format!("{langevin_steps} steps")),
                pair("particles", particle_count(config)),
            ]
            .concat(),
            Mode::Annealed => {
                // The trainer runs an ended schedule again while training goes on (and the
                // particles are neither held nor compared).
                let reruns =
                    app.state() == Some(TrainerState::Training) && !settings.particles_held && !app.comparing();
                match chain.progress {
                    Some(progress) => grid(settings.sampler, &chain, progress, reruns),
                    None => schedule(config, &chain, langevin_steps, reruns),
                }
            }
        })];
        if settings.particles_held {
            sampler.push(Line::from(held(config, &chain, app.comparing())));
        } else if config.mode == Mode::Annealed {
            // The step scale c is annealed Langevin's alone.
            let scale = (chain.progress.is_none()).then(|| pair("c", format_sig(settings.step_scale)));
            let flow = [pair("steps/frame", per_frame.clone()), pair("particles", particle_count(config))];
            let mut spans: Vec<Span> = scale.into_iter().chain(flow).flatten().collect();
            spans.push(Span::styled("s sampler  p hold", theme::DIM));
            sampler.push(Line::from(spans));
        }

        // A diverged run's particles have no finite energy distance: a dash, not "NaN".
        let figures = status.and_then(|s| s.figures).filter(|f| f.energy_distance.is_finite());
        let floor = status.and_then(|s| s.energy_floor).filter(|f| f.is_finite());
        let energy = match (figures, floor) {
            (Some(f), Some(floor)) => {
                format!("{} (floor {})", energy_distance(f.energy_distance), energy_distance(floor))
            }
            (Some(f), None) => energy_distance(f.energy_distance),
            (None, _) => dash(),
        };
        let mut quality = vec![pair("energy distance", energy)];
        if config.source.is_moons() {
            let share = figures.and_then(|f| f.upper_moon_share);
            quality.push(pair("upper moon", share.map_or_else(dash, |share| format!("{:.0}%", 100.0 * share))));
        }
        // While frames keep coming: the last frame before the screen goes still would
        // otherwise keep showing the rate of frames no longer drawn.
        if app.expects_snapshots()
            && let Some(rate) = app.frames_per_second()
        {
            quality.push(measure(format!("{rate:.0}"), "frames/s"));
        }
        let quality = quality.concat();

        if let Some(clock) = clock {
            block = block.title_bottom(clock);
        }
        let mut lines = vec![Line::from(training), Line::from(objective)];
        lines.extend(sampler);
        lines.push(Line::from(quality));
        Paragraph::new(lines).block(block).render(area, buf);
    }
}

/// " 2s · about 14s left " while training at `left` = (steps to go, steps/s), " trained for
/// 18s " otherwise; nothing before training has taken a second.
fn timing(trained_for: Duration, left: Option<(u64, f64)>) -> Option<String> {
    let spent = duration(trained_for.as_secs_f64());
    match left {
        Some((steps, rate)) if rate > 0.0 => Some(format!(" {spent} · about {} left ", duration(steps as f64 / rate))),
        _ if trained_for >= Duration::from_secs(1) => Some(format!(" trained for {spent} ")),
        _ => None,
    }
}

/// The steps per frame asked for, or, when fewer fit in a frame (many particles), "1.3 of
/// 10": what the trainer measured over the last second at `rate` steps/s.
fn per_frame(asked: usize, rate: Option<f64>) -> String {
    match rate.map(|r| r * FRAME.as_secs_f64()) {
        Some(taken) if taken < asked as f64 - 0.5 => format!("{} of {asked}", format_sig(taken)),
        _ => asked.to_string(),
    }
}

/// Where the annealed chain is: level i/L and the step in it with σᵢ and αᵢ = c·σᵢ², the
/// denoising step, or the end (after which it `reruns` by itself, or `r` restarts it).
fn schedule(config: &Config, chain: &ChainStatus, langevin_steps: u64, reruns: bool) -> Vec<Span<'static>> {
    let levels = config.levels.len();
    let total = format!("{langevin_steps}/{} steps", levels * config.level_steps + 1);
    let next = chain.next;
    let mut spans = match chain.position {
        _ if chain.done => vec![
            Span::styled("done", theme::FINISHED),
            Span::styled(
                format!(
                    ": {levels} levels + denoising · {}   ",
                    if reruns { "reruns while training" } else { "r restarts" }
                ),
                theme::DIM,
            ),
        ],
        Some(p) if p.level == levels => {
            [pair("level", format!("{levels}/{levels} done, denoising step next")), pair("σ", format_sig(next.sigma))]
                .concat()
        }
        Some(p) => [
            pair("level", format!("{}/{levels} · step {}/{}", p.level + 1, p.step, config.level_steps)),
            pair("σ", format_sig(next.sigma)),
            pair("α", format_sig(next.alpha)),
        ]
        .concat(),
        None => Vec::new(),
    };
    spans.extend(pair("total", total));
    spans
}

/// Where a reverse-diffusion, PC or ODE chain is down its grid of σ: the sampler, the step,
/// σ(t) of its next evaluation, the network evaluations spent of its budget and, for the
/// ODE, the model's mean log density where the particles are; or the end.
fn grid(sampler: Sampler, chain: &ChainStatus, progress: GridProgress, reruns: bool) -> Vec<Span<'static>> {
    let budget = format!("{}/{}", progress.evaluations_spent, progress.evaluations);
    if chain.done {
        let then = if reruns { "reruns while training" } else { "r restarts" };
        let log_q = chain.log_density.map_or_else(String::new, |(_, l)| format!(" · log q {l:.2}"));
        return vec![
            Span::styled("done", theme::FINISHED),
            Span::styled(format!(": {} · {budget} evaluations{log_q} · {then}   ", sampler.title()), theme::DIM),
        ];
    }
    let step = if progress.steps_taken + 1 == progress.steps {
        "denoising".to_string()
    } else {
        format!("{}/{}", progress.steps_taken, progress.steps - 1)
    };
    let mut spans = [
        pair("sampler", sampler.title().to_string()),
        pair("step", step),
        pair("σ", format_sig(chain.next.sigma)),
        pair("NFE", budget),
    ]
    .concat();
    // Measured once a second: while the particles flow, at a σ they have left.
    if let Some((sigma, log_density)) = chain.log_density {
        let name =
            if sigma == chain.next.sigma { "log q".to_string() } else { format!("log q(σ {})", format_sig(sigma)) };
        spans.extend(pair(&name, format!("{log_density:.2}")));
    }
    spans
}

/// The held particles' next step: its σ and α (annealed: on the line above), the mean score
/// norm and the signal-to-noise ratio, and the keys that move them. Comparing, or at the end
/// of the schedule, there is no next step of the main chain to describe.
fn held(config: &Config, chain: &ChainStatus, comparing: bool) -> Vec<Span<'static>> {
    let mut spans = vec![Span::styled("held   ", theme::PAUSED)];
    if comparing {
        let level = format!("to the end of the level (single-σ: {} steps)", config.level_steps);
        spans.push(Span::styled(format!("both sides: . one step  > {level}"), theme::DIM));
        return spans;
    }
    if chain.done {
        spans.push(Span::styled("the schedule has ended: r starts it again", theme::DIM));
        return spans;
    }
    if config.mode == Mode::Single {
        spans.extend(pair("σ", format_sig(chain.next.sigma)));
        spans.extend(pair("α", format_sig(chain.next.alpha)));
    }
    let readout = chain.readout;
    let mean = readout.and_then(|r| r.mean_score).map_or_else(|| "—".into(), format_sig);
    spans.extend(pair("mean ‖s‖", mean));
    let snr = match readout {
        _ if !chain.next.noise => "∞ (no noise)".into(),
        Some(r) => r.signal_to_noise.map_or_else(|| "—".into(), format_sig),
        None => "—".into(),
    };
    spans.extend(pair("SNR", snr));
    let level = match config.mode {
        Mode::Single => format!("{} steps", config.level_steps),
        Mode::Annealed => "level".into(),
    };
    spans.push(Span::styled(format!(". step  > {level}"), theme::DIM));
    spans
}

/// The particle count, and the arithmetic of their network evaluations when it is not f32.
fn particle_count(config: &Config) -> String {
    match config.sample_precision {
        Precision::F32 => config.particles.to_string(),
        Precision::Bf16 => format!("{} in bf16", config.particles),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::keys::Action;
    use crate::config::Config;
    use crate::trainer::protocol::{Figures, Snapshot, TrainerStatus};
    use crate::trainer::{Divergence, TestPoint};
    use crate::ui::buffer_text;

    /// A later snapshot of run 0 that brings only a new status (no losses, no points).
    fn status_only(status: TrainerStatus) -> Snapshot {
        Snapshot {
            run_id: 0,
            status,
            train_from: 791,
            train_span: 1,
            train: Vec::new(),
            test: Vec::new(),
            fisher: Vec::new(),
            data: None,
            particles: Vec::new(),
            saved: None,
            compare: None,
            field: None,
            paths: None,
            density: None,
        }
    }

    fn app(state: TrainerState) -> App {
        let mut app = App::new(Config::default());
        app.apply(Snapshot {
            run_id: 0,
            status: TrainerStatus {
                seed: 0,
                state,
                epoch: 12,
                step: 790,
                lr: 5.4e-3,
                langevin_steps: 321,
                chain: ChainStatus::fresh(&Config::default(), Sampler::Annealed),
                figures: Some(Figures { energy_distance: 0.04567, upper_moon_share: Some(0.5), langevin_steps: 300 }),
                energy_floor: Some(0.00087),
                trained_for: std::time::Duration::from_secs(3),
                steps_per_second: Some(3512.4),
                langevin_per_second: None,
                flowing: true,
            },
            train_from: 1,
            train_span: 1,
            train: vec![200.0; 790],
            test: vec![TestPoint { epoch: 0, step: 0, loss: 211.0 }, TestPoint { epoch: 12, step: 756, loss: 166.0 }],
            fisher: vec![TestPoint { epoch: 0, step: 0, loss: 24.9 }, TestPoint { epoch: 12, step: 756, loss: 3.63 }],
            data: None,
            particles: Vec::new(),
            saved: None,
            compare: None,
            field: None,
            paths: None,
            density: None,
        });
        app
    }

    fn draw(app: &App) -> Buffer {
        let area = Rect::new(0, 0, 80, HEIGHT);
        let mut buf = Buffer::empty(area);
        Status { app }.render(area, &mut buf);
        buf
    }

    #[test]
    fn shows_progress_sampler_and_figures() {
        let buf = draw(&app(TrainerState::Training));
        let expected = [
            "┌ TRAINING ──────────────────────────────────────────── moons · run 1 · seed 0 ┐",
            "│epoch 13/100   step 790/6300   loss 200   lr 5.40e-3   3512 steps/s           │",
            "│objective DSM σ 0.1   Fisher divergence 3.63 (÷6.86)   test loss 166 (÷1.27)  │",
            "│Langevin η 0.0100   steps/frame 10   total 321 steps   particles 5000         │",
            "│energy distance 0.04567 (floor 0.00087)   upper moon 50%                      │",
            "└────────────────────────────────────────────────────────── 3s · about 2s left ┘",
        ];
        assert_eq!(buffer_text(&buf), expected.map(|l| format!("{l}\n")).concat());
        assert_eq!(buf[(2, 0)].style().fg, theme::TRAINING.fg);
    }

    #[test]
    fn rates_show_only_while_they_mean_something() {
        let mut app = app(TrainerState::Training);
        let t0 = std::time::Instant::now();
        app.frame_drawn(t0);
        app.frame_drawn(t0 + std::time::Duration::from_secs(1));
        let text = buffer_text(&draw(&app));
        assert!(text.contains("3512 steps/s") && text.contains("1 frames/s"), "{text}");
        let status = *app.status().expect("a snapshot");
        let finished =
            TrainerStatus { state: TrainerState::Finished, steps_per_second: None, flowing: false, ..status };
        app.apply(status_only(finished));
        let text = buffer_text(&draw(&app));
        assert!(!text.contains("steps/s") && !text.contains("frames/s"), "nothing moves:\n{text}");
        assert!(text.contains(" trained for 3s ┘") && !text.contains("left"), "no ETA once over:\n{text}");
    }

    #[test]
    fn the_default_pace_says_t_goes_flat_out() {
        let config = Config::default();
        let mut app = app(TrainerState::Training).pacing(Some(crate::app::next_run::watchable_pace(&config)));
        let text = buffer_text(&draw(&app));
        assert!(text.starts_with("┌ TRAINING · paced to 360 steps/s · t: flat out "), "{text}");
        app.update(Action::CyclePace);
        app.update(Action::CyclePace);
        let text = buffer_text(&draw(&app));
        assert!(text.starts_with("┌ TRAINING · paced to 2000 steps/s (t) "), "{text}");
    }

    #[test]
    fn steps_per_frame_say_when_fewer_fit_than_asked() {
        assert_eq!(per_frame(10, None), "10", "before a second of flow");
        assert_eq!(per_frame(10, Some(196.0)), "10", "a frame's jitter is not a cut");
        assert_eq!(per_frame(10, Some(26.0)), "1.30 of 10");
        assert_eq!(per_frame(10, Some(4.0)), "0.200 of 10", "parts of a step");
    }

    #[test]
    fn changes_are_factors_of_the_first_reading() {
        let ends = |first, last| Some(Ends { first, last });
        assert_eq!(with_change(None), "—");
        assert_eq!(with_change(ends(24.9, 3.63)), "3.63 (÷6.86)");
        assert_eq!(with_change(ends(14.0, 20.0)), "20.0 (×1.43)");
        // An ISM loss: no factor of a sign change.
        assert_eq!(with_change(ends(0.08, -46.7)), "-46.7");
    }

    #[test]
    fn says_what_a_pause_leaves_running_and_how_to_leave_a_divergence() {
        let mut paused = app(TrainerState::Training);
        paused.update(Action::TogglePause);
        let text = buffer_text(&draw(&paused));
        assert!(text.starts_with("┌ PAUSED · the particles keep flowing "), "{text}");
        assert_eq!(draw(&paused)[(2, 0)].style().fg, theme::PAUSED.fg);

        let d = Divergence { step: 791, epoch: 12, loss: f32::INFINITY, ..Default::default() };
        let text = buffer_text(&draw(&app(TrainerState::Diverged(d))));
        assert!(text.starts_with("┌ DIVERGED at step 791 (loss inf) · n starts a new run "), "{text}");
    }

    #[test]
    fn a_lost_figure_is_a_dash_and_eta_keeps_three_figures() {
        let mut app = app(TrainerState::Training);
        let status = *app.status().expect("a snapshot");
        let lost = Figures { energy_distance: f64::NAN, upper_moon_share: None, langevin_steps: 9 };
        app.apply(status_only(TrainerStatus { figures: Some(lost), ..status }));
        for _ in 0..30 {
            app.update(Action::RaiseEta);
        }
        let text = buffer_text(&draw(&app));
        assert!(text.contains("energy distance —"), "{text}");
        assert!(text.contains("Langevin η 10.0 "), "{text}");
    }
}
