//! Whole-screen snapshots of the dashboard at 80×24, 100×30 and 120×40 (annealed mode and
//! its compare view too), drawn through ratatui's
//! `TestBackend` from seeded synthetic trainer snapshots (no clock, no thread, no timing on
//! screen), with invariants checked beside each: nothing wider than the terminal, every
//! panel present, and colours where they belong.
//!
//! Accept changed screens with `INSTA_UPDATE=always cargo test --test screens` and review
//! the `.snap` diff; under `CI=true` a missing or different snapshot fails.

use dsm_tui::app::App;
use dsm_tui::app::keys::Action;
use dsm_tui::config::{Config, Mode};
use dsm_tui::data::two_moons;
use dsm_tui::eval::score_field::{self, Field, FieldKind};
use dsm_tui::sampling::chain::{NextStep, Readout, signal_to_noise};
use dsm_tui::sampling::langevin::AnnealedPosition;
use dsm_tui::trainer::protocol::{
    ChainStatus, Command, CompareStatus, Figures, SideStatus, Snapshot, TrainerState, TrainerStatus,
};
use dsm_tui::trainer::{Divergence, TestPoint};
use dsm_tui::ui::{self, theme};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Normal};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};

/// Half-way through the default run: epoch 50 of 100, 3150 of 6300 steps.
const STEP: u64 = 3150;

/// A plausible snapshot of run 0 at `step`: a decaying noisy train loss, a test loss and a
/// Fisher divergence per epoch (the latter falling 7×, as in a real run), the data, and
/// particles near the moons with two escaped and one non-finite.
fn synthetic(config: &Config, step: u64, state: TrainerState) -> Snapshot {
    let mut rng = StdRng::seed_from_u64(7);
    let noise = Normal::new(0.0, 12.0).expect("valid");
    let curve = |s: f64| 150.0 + 70.0 * (-s / 700.0).exp();
    let train = (1..=step).map(|s| (curve(s as f64) + noise.sample(&mut rng)) as f32).collect();
    let per_epoch = config.steps_per_epoch() as u64;
    let test = (0..=step / per_epoch)
        .map(|e| TestPoint {
            epoch: e as usize,
            step: e * per_epoch,
            loss: (curve((e * per_epoch) as f64) + 12.0) as f32,
        })
        .collect();
    let fisher = (0..=step / per_epoch)
        .map(|e| TestPoint {
            epoch: e as usize,
            step: e * per_epoch,
            loss: (3.6 + 21.3 * (-(e as f64) / 10.0).exp()) as f32,
        })
        .collect();
    let data = two_moons(config.count, config.noise, &mut rng);
    let mut particles: Vec<[f32; 2]> =
        two_moons(config.particles, 0.13, &mut rng).points.rows().into_iter().map(|r| [r[0], r[1]]).collect();
    particles[0] = [40.0, 0.0];
    particles[1] = [-3.0, 9.0];
    particles[2] = [f32::NAN, 0.0];
    Snapshot {
        run_id: 0,
        status: TrainerStatus {
            seed: config.seed,
            state,
            epoch: (step / per_epoch) as usize,
            step,
            lr: config.lr * config.lr_gamma.powi((step / per_epoch) as i32),
            langevin_steps: 1230,
            chain: ChainStatus::fresh(config, config.sampler),
            flowing: true,
            figures: Some(Figures { energy_distance: 0.0123, upper_moon_share: Some(0.481), langevin_steps: 1200 }),
            energy_floor: Some(0.00091),
            trained_for: std::time::Duration::from_secs(3),
            steps_per_second: None,
            langevin_per_second: None,
        },
        train_from: 1,
        train_span: 1,
        train,
        test,
        fisher,
        data: Some(data.train().rows().into_iter().map(|r| [r[0], r[1]]).collect()),
        particles,
        saved: None,
        compare: None,
        field: None,
        paths: None,
        density: None,
    }
}

fn app_with(state: TrainerState) -> App {
    let config = Config::default();
    let mut app = App::new(config.clone());
    assert!(app.apply(synthetic(&config, STEP, state)));
    app
}

/// `app` on a `width` × `height` screen, its data shaded for that screen first as the
/// dashboard does before each draw.
fn draw(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut app = app.clone();
    app.shade_data(ui::plot_grids(&app, Rect::new(0, 0, width, height)));
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test backend");
    terminal.draw(|frame| frame.render_widget(&app, frame.area())).expect("draw");
    terminal
}

fn lines(terminal: &Terminal<TestBackend>) -> Vec<String> {
    let buf = terminal.backend().buffer();
    buf.content().chunks(usize::from(buf.area.width)).map(|row| row.iter().map(|c| c.symbol()).collect()).collect()
}

/// The rows of `terminal` with the glyphs that stand in for the data's shading without
/// colour (`ui::shading::DATA_GLYPHS`) blanked.
fn unshaded(terminal: &Terminal<TestBackend>) -> Vec<String> {
    lines(terminal).iter().map(|r| r.chars().map(|c| if "░▒▓".contains(c) { ' ' } else { c }).collect()).collect()
}

fn colours(terminal: &Terminal<TestBackend>) -> Vec<Color> {
    terminal.backend().buffer().content().iter().map(|c| c.fg).collect()
}

/// What every full screen must show, whatever its size, the default view named as the
/// scatter's width allows.
fn assert_dashboard(terminal: &Terminal<TestBackend>, width: u16, height: u16) {
    let title = if width < 100 { "┌ shaded ─" } else { "┌ Samples · shaded data + particles ─" };
    assert_dashboard_with(terminal, width, height, title);
}

/// As [`assert_dashboard`], with the scatter panel's title starting `scatter`.
fn assert_dashboard_with(terminal: &Terminal<TestBackend>, width: u16, height: u16, scatter: &str) {
    let rows = lines(terminal);
    assert_eq!(rows.len(), usize::from(height));
    assert!(rows.iter().all(|r| r.chars().count() == usize::from(width)));
    assert!(rows[0].starts_with("┌ Loss log₁₀ · all steps"), "{}", rows[0]);
    assert!(rows[0].contains(scatter) && rows[0].contains("escaped 2 · non-finite 1"), "{}", rows[0]);
    let text = rows.join("\n");
    for expected in [
        "epoch 51/100",
        "step 3150/6300",
        "objective DSM σ 0.1",
        "Fisher divergence 3.74 (÷6.65)",
        "total 1230 steps",
        "energy distance 0.0123",
        "upper moon 48%",
    ] {
        assert!(text.contains(expected), "missing {expected:?}");
    }
    assert!(rows[usize::from(height) - 1].starts_with(" ? help  q quit  Space pause"));
    let fg = colours(terminal);
    for colour in [theme::DATA, theme::PARTICLES, theme::TRAIN_SMOOTH, theme::TRAIN_RAW, theme::TEST, theme::FISHER] {
        assert!(fg.contains(&colour), "nothing drawn in {colour:?}");
    }
}

#[test]
fn training_at_80x24() {
    let app = app_with(TrainerState::Training);
    let terminal = draw(&app, 80, 24);
    assert_dashboard(&terminal, 80, 24);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn training_at_120x40() {
    let app = app_with(TrainerState::Training);
    let terminal = draw(&app, 120, 40);
    assert_dashboard(&terminal, 120, 40);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn help_over_the_dashboard_at_80x24() {
    let mut app = app_with(TrainerState::Training);
    app.update(Action::ToggleHelp);
    let terminal = draw(&app, 80, 24);
    let text = lines(&terminal).join("\n");
    for key in ["Space / t", "p ", ". / >", "r ", "n ", "+ / -", "[ / ]", "l / h / i", "v ", "f ", "? q Esc ^C"] {
        assert!(text.contains(&format!("  {key}")), "help lacks {key:?}");
    }
    assert!(text.contains("pause training (particles flow on)"), "help must say what Space pauses");
    assert!(text.contains("its pace: full…20 steps/s"), "help must say what t does");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn diverged_linear_recent_density_at_120x40() {
    let d = Divergence { step: STEP + 1, epoch: 50, loss: 3.2e7, ..Default::default() };
    let mut app = app_with(TrainerState::Diverged(d));
    for action in [Action::ToggleScale, Action::ToggleWindow, Action::CycleView] {
        app.update(action);
    }
    let terminal = draw(&app, 120, 40);
    let rows = lines(&terminal);
    assert!(rows[0].starts_with("┌ Loss linear · last 1000 steps"), "{}", rows[0]);
    assert!(rows[0].contains("┌ Samples · particle density ─"), "{}", rows[0]);
    assert!(rows[33].contains("DIVERGED at step 3151 (loss 3.20e7) · n starts a new run"), "{}", rows[33]);
    let buf = terminal.backend().buffer();
    let halves = buf.content().iter().filter(|c| c.symbol() == "▀" || c.symbol() == "▄").count();
    assert!(halves > 300, "a heatmap of half blocks: {halves}");
    for step in theme::DENSITY_RAMP {
        assert!(buf.content().iter().any(|c| c.fg == step || c.bg == step), "no pixel in {step:?}");
    }
    assert!(!buf.content().iter().any(|c| theme::DATA_SHADES.contains(&c.bg)), "the data is not shaded here");
    insta::assert_snapshot!(terminal.backend());
}

/// The default view at the largest size: the data shaded under the particles.
#[test]
fn shaded_view_at_220x60() {
    let terminal = draw(&app_with(TrainerState::Training), 220, 60);
    assert_dashboard(&terminal, 220, 60);
    let buf = terminal.backend().buffer();
    let both = buf.content().iter().filter(|c| c.fg == theme::PARTICLES && theme::DATA_SHADES.contains(&c.bg)).count();
    assert!(both > 200, "cells showing a particle over the data: {both}");
    insta::assert_snapshot!(terminal.backend());
}

/// `v` twice: the points view, as the scatter was drawn before the shaded view.
#[test]
fn points_view_at_80x24() {
    let mut app = app_with(TrainerState::Training);
    app.update(Action::CycleView);
    app.update(Action::CycleView);
    let terminal = draw(&app, 80, 24);
    assert_dashboard_with(&terminal, 80, 24, "┌ points ─");
    assert!(!terminal.backend().buffer().content().iter().any(|c| c.bg != Color::Reset), "no shading");
    insta::assert_snapshot!(terminal.backend());
}

/// Each view without colour, its samples panel: the layers told apart by glyph, and the
/// density by a ramp.
#[test]
fn every_view_reads_without_colour_at_100x30() {
    let mut app = app_with(TrainerState::Training).with_colour(false);
    let mut screens = Vec::new();
    for _ in 0..3 {
        let terminal = draw(&app, 100, 30);
        assert!(terminal.backend().buffer().content().iter().all(|c| (c.fg, c.bg) == (Color::Reset, Color::Reset)));
        // The samples panel: the right 55 of the 100 columns.
        screens.push(
            lines(&terminal).iter().map(|r| r.chars().skip(45).collect::<String>()).collect::<Vec<_>>().join("\n"),
        );
        app.update(Action::CycleView);
    }
    let braille = |s: &str| s.chars().filter(|c| ('\u{2801}'..='\u{28ff}').contains(c)).count();
    let count = |s: &str, glyphs: &str| s.chars().filter(|c| glyphs.contains(*c)).count();
    let [shaded, density, points] = [&screens[0], &screens[1], &screens[2]];
    let (particles, data) = (braille(shaded), count(shaded, "░▒▓"));
    assert!(particles > 300 && data > 5, "particles as braille ({particles}), data as shading ({data})");
    let ramp = count(density, "░▒▓█");
    assert!(braille(density) == 0 && ramp > 150, "the density as a ramp of glyphs ({ramp}):\n{density}");
    assert!(braille(points) > 300 && count(points, "░▒▓") == 0);
    insta::assert_snapshot!("no_color_shaded_at_100x30", shaded);
    insta::assert_snapshot!("no_color_density_at_100x30", density);
}

#[test]
fn no_color_draws_no_colour_and_tells_data_from_particles_by_weight() {
    let app = app_with(TrainerState::Training);
    let coloured = draw(&app, 100, 30);
    let plain = draw(&app.clone().with_colour(false), 100, 30);
    // The same screen, symbol for symbol, but for the data's shading: glyphs stand in for
    // its backgrounds where no particle is.
    assert_eq!(unshaded(&plain), unshaded(&coloured));
    let (coloured, plain) = (coloured.backend().buffer(), plain.backend().buffer());
    for cell in plain.content() {
        assert_eq!((cell.fg, cell.bg, cell.underline_color), (Color::Reset, Color::Reset, Color::Reset));
    }
    let weights = |colour: Color| -> Vec<Modifier> {
        coloured
            .content()
            .iter()
            .zip(plain.content())
            .filter(|(c, _)| c.fg == colour)
            .map(|(_, p)| p.modifier)
            .collect()
    };
    let (data, particles) = (weights(theme::DATA), weights(theme::PARTICLES));
    assert!(!data.is_empty() && data.iter().all(|m| m.contains(Modifier::DIM)), "data faint");
    assert!(!particles.is_empty() && particles.iter().all(|m| m.contains(Modifier::BOLD)), "particles bold");
    assert!(weights(theme::TRAIN_RAW).iter().all(|m| m.contains(Modifier::DIM)), "the raw loss faint");
}

/// Annealed mode half-way through the default schedule's third level (σ₃ = 0.01^(2/9)).
fn annealed_app() -> App {
    let config = Config { mode: Mode::Annealed, ..Config::default() };
    let mut app = App::new(config.clone());
    let sigma = config.levels.sigmas[2];
    let alpha = config.step_scale * sigma * sigma;
    // The SNR the trainer would report for this mean ‖s‖ at this α: a pair that can occur.
    let mean_score = 2.81;
    let chain = ChainStatus {
        next: NextStep { sigma, alpha, noise: true },
        position: Some(AnnealedPosition { level: 2, step: 41, denoised: false }),
        progress: None,
        log_density: None,
        done: false,
        readout: Some(Readout {
            mean_score: Some(mean_score),
            signal_to_noise: Some(signal_to_noise(alpha, mean_score)),
        }),
    };
    let mut snapshot = synthetic(&config, STEP, TrainerState::Finished);
    snapshot.status.chain = chain;
    snapshot.status.langevin_steps = 241;
    assert!(app.apply(snapshot));
    app
}

#[test]
fn annealed_status_flowing_at_80x24() {
    let app = annealed_app();
    let terminal = draw(&app, 80, 24);
    let text = lines(&terminal).join("\n");
    for expected in [
        "DSM σ 1→0.01 ×10   Fisher divergence 3.74 (÷6.65)   test loss 163 (÷1.43)",
        "level 3/10 · step 41/100   σ 0.359   α 0.0129   total 241/1001 steps",
        "c 0.100   steps/frame 10   particles 5000   s sampler  p hold",
        " p hold  . step  > level  c compare",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    assert!(!text.contains("mean ‖s‖"), "the readout shows only while held");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn annealed_status_held_at_100x30() {
    let mut app = annealed_app();
    app.update(Action::ToggleHold);
    let terminal = draw(&app, 100, 30);
    let text = lines(&terminal).join("\n");
    assert!(text.contains("held   mean ‖s‖ 2.81   SNR 0.180   . step  > level"), "{text}");
    assert!(text.contains("level 3/10 · step 41/100   σ 0.359   α 0.0129"), "{text}");
    insta::assert_snapshot!(terminal.backend());
}

/// Both sides ended, their figures over every particle; the single-σ side more spread out
/// than the annealed one. The figures (ED 0.00311/0.00244, upper 48.2%/47.7%) are
/// illustrative values chosen for the layout (digits of a plausible width), not the output
/// of any run of the program.
fn comparing_app() -> App {
    let config = Config { mode: Mode::Annealed, ..Config::default() };
    let mut app = App::new(config.clone());
    assert_eq!(app.update(Action::ToggleCompare), Some(Command::Compare(true)));
    let mut rng = StdRng::seed_from_u64(11);
    let mut side = |name, sampler: &str, noise, total, energy_distance, share| {
        let points = two_moons(config.particles, noise, &mut rng).points;
        SideStatus {
            name,
            sampler: sampler.into(),
            particles: points.rows().into_iter().map(|r| [r[0], r[1]]).collect(),
            steps: total,
            total,
            figures: Some(Figures { energy_distance, upper_moon_share: Some(share), langevin_steps: total }),
        }
    };
    let sides = [
        side("single-σ", "σ 0.1 · η 0.01", 0.16, 1000, 0.00311, 0.482),
        side("annealed", "σ 1→0.01 ×10 · c 0.1", 0.1, 1001, 0.00244, 0.477),
    ];
    let mut snapshot =
        Snapshot { compare: Some(CompareStatus { sides }), ..synthetic(&config, STEP, TrainerState::Finished) };
    snapshot.status.langevin_steps = 0;
    // Both sides have ended: the trainer says nothing flows.
    snapshot.status.flowing = false;
    assert!(app.apply(snapshot));
    app
}

#[test]
fn compare_view_at_100x30() {
    let terminal = draw(&comparing_app(), 100, 30);
    let rows = lines(&terminal);
    assert!(rows[0].starts_with("┌ single-σ · ED 0.00311 · upper 48.2% ─"), "{}", rows[0]);
    assert!(rows[0].contains("┐┌ annealed · ED 0.00244 · upper 47.7% ─"), "{}", rows[0]);
    assert!(
        rows[21].contains("σ 0.1 · η 0.01 · 1000 steps, done")
            && rows[21].contains("σ 1→0.01 ×10 · c 0.1 · 1001 steps, done")
    );
    assert!(!rows.iter().any(|r| r.contains("Loss")), "the loss panel makes room");
    insta::assert_snapshot!(terminal.backend());
}

/// At 80 columns a side's bottom title has 38 cells: "1001 steps, done" would lose its end
/// beside the annealed schedule, so the side says "done" instead, never a cut word.
#[test]
fn compare_view_at_80x24_says_done_in_fewer_words() {
    let rows = lines(&draw(&comparing_app(), 80, 24));
    let bottom = rows.iter().find(|r| r.contains("c 0.1")).expect("the sides' bottom titles");
    assert!(bottom.contains("σ 0.1 · η 0.01 · 1000 steps, done"), "{bottom}");
    assert!(bottom.contains("σ 1→0.01 ×10 · c 0.1 · done ─"), "{bottom}");
}

#[test]
fn compare_view_spells_the_figures_out_when_there_is_room() {
    let terminal = draw(&comparing_app(), 160, 45);
    let top = &lines(&terminal)[0];
    assert!(top.contains("single-σ · energy distance 0.00311 · upper moon 48.2%"), "{top}");
    assert!(top.contains("annealed · energy distance 0.00244 · upper moon 47.7%"), "{top}");
}

#[test]
fn single_mode_says_what_c_needs_and_annealed_mode_what_o_cannot() {
    let mut app = app_with(TrainerState::Finished);
    assert_eq!(app.update(Action::ToggleCompare), None);
    let footer = lines(&draw(&app, 80, 24)).pop().unwrap();
    assert!(footer.contains("c needs the noise-conditional model: run dsm-tui --mode annealed"), "{footer}");

    let mut app = annealed_app();
    assert_eq!(app.update(Action::SwitchObjective), None);
    let footer = lines(&draw(&app, 80, 24)).pop().unwrap();
    assert!(footer.contains("ISM has no noise-conditional version"), "{footer}");
}

/// `app` with the score field view on `kind`, on a `width` × `height` screen, and a field as
/// the trainer would send it: the exact score of the synthetic training set at σ = 0.1, and
/// for the "learned" one the exact score at σ = 0.2, smoother, as an underfit network's is
/// (both closed forms, so the screen does not depend on a network's floating point).
fn with_field(app: App, kind: FieldKind, width: u16, height: u16) -> App {
    with_field_at(app, kind, width, height, Config::default().sigma)
}

/// As [`with_field`], at noise level `sigma` (the "learned" stand-in at 2σ), the rest of the
/// screen as `app` had it.
fn with_field_at(mut app: App, kind: FieldKind, width: u16, height: u16, sigma: f64) -> App {
    let presses = match kind {
        FieldKind::Learned => 1,
        FieldKind::Exact => 2,
        FieldKind::Difference => 3,
    };
    for _ in 0..presses {
        app.update(Action::CycleField);
    }
    let Some(Command::ShowField(Some(lattice))) =
        app.sync_field(ui::field_lattice(&app, Rect::new(0, 0, width, height)))
    else {
        panic!("the view asks for a lattice")
    };
    let config = app.config().clone();
    let base = synthetic(&config, STEP, TrainerState::Training);
    let train = base.data.clone().expect("the data");
    let train = ndarray::Array2::from_shape_fn((train.len(), 2), |(i, d)| train[i][d]);
    let points = lattice.points();
    let field = Field {
        lattice,
        sigma,
        learned: score_field::exact(train.view(), 2.0 * sigma, points.view()),
        exact: score_field::exact(train.view(), sigma, points.view()),
    };
    let status = *app.status().expect("a snapshot before");
    let snapshot = Snapshot {
        status: TrainerStatus {
            state: status.state,
            langevin_steps: status.langevin_steps,
            chain: status.chain,
            flowing: status.flowing,
            ..base.status
        },
        field: Some(field),
        train: Vec::new(),
        test: Vec::new(),
        fisher: Vec::new(),
        data: None,
        ..base
    };
    assert!(app.apply(snapshot));
    app
}

/// The arrows in the scatter panel's rows of `terminal`.
fn arrows(terminal: &Terminal<TestBackend>) -> usize {
    lines(terminal).iter().map(|row| row.chars().filter(|c| "←↖↑↗→↘↓↙".contains(*c)).count()).sum()
}

#[test]
fn score_field_learned_at_120x40() {
    let app = with_field(app_with(TrainerState::Training), FieldKind::Learned, 120, 40);
    let terminal = draw(&app, 120, 40);
    assert_dashboard_with(&terminal, 120, 40, "┌ shaded · learned s_θ, σ 0.1 ");
    let rows = lines(&terminal);
    assert!(rows[32].contains("max ‖s‖"), "{}", rows[32]);
    // A 64 × 31 plot: 16 × 15 lattice points, each an arrow or, where the field is weak, a dot.
    assert!(arrows(&terminal) > 150, "{} arrows", arrows(&terminal));
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn score_field_difference_at_80x24_reads_without_colour() {
    let app = with_field(app_with(TrainerState::Training), FieldKind::Difference, 80, 24);
    let coloured = draw(&app, 80, 24);
    let plain = draw(&app.clone().with_colour(false), 80, 24);
    assert_eq!(unshaded(&plain), unshaded(&coloured), "the same glyphs but for the data's shading");
    assert!(lines(&plain)[0].contains("┌ difference ─"), "shortened to fit: {}", lines(&plain)[0]);
    // Without colour the shades are weights: weak arrows faint, stronger ones not.
    let weights: Vec<Modifier> = plain
        .backend()
        .buffer()
        .content()
        .iter()
        .filter(|c| "←↖↑↗→↘↓↙".contains(c.symbol()))
        .map(|c| c.modifier)
        .collect();
    assert!(weights.iter().any(|m| !m.contains(Modifier::DIM)), "some strong arrows");
    assert!(weights.iter().any(|m| m.contains(Modifier::DIM)), "some weak arrows");
    insta::assert_snapshot!(plain.backend());
}

/// Annealed mode at level 3 of 10 with the learned field on: the arrows are s_θ(x, σ₃) and
/// the title names σ₃ = 0.359, the σ the status line shows for the particles' next step.
#[test]
fn annealed_score_field_at_the_particles_level_at_100x30() {
    let app = annealed_app();
    let sigma = app.status().expect("a snapshot").chain.next.sigma;
    let app = with_field_at(app, FieldKind::Learned, 100, 30, sigma);
    let terminal = draw(&app, 100, 30);
    let rows = lines(&terminal);
    assert!(rows[0].contains("┌ learned s_θ, σ 0.359 "), "{}", rows[0]);
    assert!(rows.join("\n").contains("level 3/10 · step 41/100   σ 0.359"), "the status's σ");
    assert!(arrows(&terminal) > 50, "{} arrows", arrows(&terminal));
    insta::assert_snapshot!(terminal.backend());
}

/// The compare view has no room for arrows: the trainer is told to stop evaluating the
/// field, `f` says why it does nothing there, and leaving the view brings it back.
#[test]
fn the_compare_view_hides_the_score_field_and_says_so() {
    let screen = Rect::new(0, 0, 100, 30);
    let mut app = annealed_app();
    app.update(Action::CycleField);
    assert!(matches!(app.sync_field(ui::field_lattice(&app, screen)), Some(Command::ShowField(Some(_)))));
    app.update(Action::ToggleCompare);
    assert_eq!(
        app.sync_field(ui::field_lattice(&app, screen)),
        Some(Command::ShowField(None)),
        "nothing to draw it on"
    );
    assert_eq!(app.update(Action::CycleField), None);
    let footer = lines(&draw(&app, 100, 30)).pop().unwrap();
    assert!(footer.contains("the score field draws on the main view: c goes back to it"), "{footer}");
    app.update(Action::ToggleCompare);
    assert!(
        matches!(app.sync_field(ui::field_lattice(&app, screen)), Some(Command::ShowField(Some(_)))),
        "the learned field again"
    );
    assert!(app.field_overlay().is_some_and(|o| o.kind == FieldKind::Learned));
}

/// Annealed mode's help has its own keys and notes and fits 80×24 too.
#[test]
fn annealed_help_at_80x24() {
    let mut app = annealed_app();
    app.update(Action::ToggleHelp);
    let terminal = draw(&app, 80, 24);
    let rows = lines(&terminal);
    let text = rows.join("\n");
    for key in ["p ", ". / >", "c ", "r ", "+ / -", "l / h / i", "v ", "f ", "? q Esc ^C"] {
        assert!(text.contains(&format!("  {key}")), "help lacks {key:?}");
    }
    assert!(!text.contains("  o "), "no objective to switch to");
    assert!(text.contains("Arrows at the particles' σᵢ"), "{text}");
    assert!(rows[23].contains("? or Esc closes"), "the whole box shows: {}", rows[23]);
    insta::assert_snapshot!(terminal.backend());
}

/// Two runs replaced by `n` and kept: both finished (6300 steps), one lower than the current
/// run and one higher, the current one half-way.
fn app_with_past_runs() -> App {
    let mut config = Config::default();
    let mut app = App::new(config.clone());
    for (run_id, offset) in [(0, -15.0), (1, 20.0)] {
        let mut snapshot = synthetic(&config, 2 * STEP, TrainerState::Finished);
        snapshot.run_id = run_id;
        snapshot.train.iter_mut().for_each(|loss| *loss += offset);
        assert!(app.apply(snapshot));
        app.update(Action::NewRun);
        config.seed += 1;
    }
    let mut snapshot = synthetic(&config, STEP, TrainerState::Training);
    snapshot.run_id = 2;
    assert!(app.apply(snapshot));
    app
}

#[test]
fn two_earlier_runs_under_the_current_one_at_120x40() {
    let app = app_with_past_runs();
    let terminal = draw(&app, 120, 40);
    let text = lines(&terminal).join("\n");
    // One a row in a panel too narrow for both on one.
    assert!(text.contains("│· run 1 DSM moons σ0.1 s0  ") && text.contains("│· run 2 DSM moons σ0.1 s1  "), "{text}");
    assert!(text.contains("moons · run 3 · seed 2"), "{text}");
    let step_axis = |text: &str| text.lines().find(|l| l.contains("step│")).unwrap_or_default().to_string();
    assert!(step_axis(&text).contains("5000"), "the step axis reaches the earlier runs' ends:\n{text}");
    let past_dots = terminal.backend().buffer().content().iter().filter(|c| c.symbol() == "·").count();
    assert!(past_dots > 40, "{past_dots} dots of earlier runs");
    insta::assert_snapshot!(terminal.backend());

    // Without colour the earlier runs are faint dots, still told apart from the raw loss.
    let plain = draw(&app.clone().with_colour(false), 120, 40);
    let dots: Vec<_> = plain.backend().buffer().content().iter().filter(|c| c.symbol() == "·").collect();
    assert!(dots.len() > 40 && dots.iter().all(|c| c.modifier.contains(Modifier::DIM)));

    let mut cleared = app;
    cleared.update(Action::ClearPastRuns);
    let text = lines(&draw(&cleared, 120, 40)).join("\n");
    assert!(!text.contains("run 1 DSM"), "x clears them");
    assert!(
        step_axis(&text).contains("2500") && !step_axis(&text).contains("5000"),
        "the axis is the run's again: {}",
        step_axis(&text)
    );
}

/// Draw mode over a training run: a stroke of left drags along a sine across the samples
/// panel, made through the same transform the dashboard maps the mouse with, then a right
/// drag erasing part of it. The canvas replaces the scatter (no particles drawn), the title
/// and the status give the count and the brush, the footer draw mode's hints.
fn drawing_at(width: u16, height: u16) -> Terminal<TestBackend> {
    use dsm_tui::app::drawing::{Pointer, Stroke};
    use std::time::Instant;
    let mut app = app_with(TrainerState::Training);
    assert_eq!(app.update(Action::StartDrawing), None);
    let screen = Rect::new(0, 0, width, height);
    let t = ui::samples_transform(&app, screen).expect("the samples panel is on screen");
    let (area, now) = (t.area, Instant::now());
    let at = |i: u16| {
        let column = area.x + 2 + i;
        let wave = (f64::from(i) / f64::from(area.width - 5) * std::f64::consts::TAU).sin();
        let row = area.y + area.height / 2 - (wave * f64::from(area.height) / 3.0).round() as u16;
        t.region_at(column, row).expect("inside the plot")
    };
    app.pointer(Pointer::Press(Stroke::Draw, at(0)), now);
    for i in 1..area.width - 4 {
        app.pointer(Pointer::Drag(at(i)), now);
    }
    app.pointer(Pointer::Release, now);
    app.pointer(Pointer::Press(Stroke::Erase, at(area.width / 2)), now);
    app.pointer(Pointer::Release, now);
    let count = app.drawing().expect("draw mode").points().len();
    let terminal = draw(&app, width, height);
    let rows = lines(&terminal);
    assert!(rows.iter().all(|r| r.chars().count() == usize::from(width)));
    assert!(rows[0].contains(&format!("┌ Draw · {count} points · brush 3×3 ─")), "{}", rows[0]);
    let text = rows.join("\n");
    assert!(text.contains(&format!("DRAWING · {count} points · brush 3×3")), "the status names count and brush");
    assert!(rows[usize::from(height) - 1].starts_with(" drag draw  right-drag erase  Enter train on it"));
    let buf = terminal.backend().buffer();
    let canvas: Vec<Color> =
        area.positions().map(|p| buf.cell(p).expect("on screen").fg).filter(|&c| c != Color::Reset).collect();
    assert!(canvas.contains(&theme::DATA), "the drawing is drawn");
    assert!(canvas.iter().all(|&c| c == theme::DATA), "nothing but the drawing on the canvas: {canvas:?}");
    terminal
}

#[test]
fn drawing_at_80x24() {
    insta::assert_snapshot!(drawing_at(80, 24).backend());
}

#[test]
fn drawing_at_100x30() {
    insta::assert_snapshot!(drawing_at(100, 30).backend());
}

#[test]
fn drawing_at_160x48() {
    insta::assert_snapshot!(drawing_at(160, 48).backend());
}
