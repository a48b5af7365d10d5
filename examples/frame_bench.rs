//! What the dashboard costs: `cargo run --release --example frame_bench`.
//!
//! 1. **Frame time.** A real state (a session trained 10,000 steps, 5000 particles after 200
//!    Langevin steps) is loaded into the UI, then whole frames are drawn through ratatui's
//!    `TestBackend` at 100×30 and 200×60: every widget rendered and the buffer diffed, as a
//!    real draw does, minus the terminal's own write. Median over many frames; also the cost
//!    of taking in one snapshot (`App::apply`: loss plot and particle sorting).
//! 2. **Training speed with the dashboard running.** The default configuration trained by a
//!    plain `Session` loop (what `--once` does), then by the dashboard's worker, particles
//!    included, with a UI thread that takes every snapshot and draws a frame for it, off
//!    screen. Rates are taken between the first and last snapshots that show training, so
//!    start-up and the channel's latency do not count. Runs alternate, three of each; medians
//!    and their ratio. Then the same with the score field view on (learned field), as `f`.
//! 3. **Score field.** On the trained state of 1., the lattice the view asks for at each
//!    size: the learned field's forward pass and the exact field (N·M kernel evaluations,
//!    both cores), each as the trainer computes it, and a frame drawn with the arrows on.
//! 4. **Flow at any size** (`-- flow` runs only this): training paused, the particles flowing
//!    at the default steps per frame, a UI thread taking every snapshot and drawing it at
//!    120×40 off screen, for 5000, 20 000 and 100 000 particles: the median time between
//!    drawn frames, frames/s and particle-steps/s, after two seconds of warm-up.

use std::thread;
use std::time::{Duration, Instant};

use dsm_tui::app::App;
use dsm_tui::app::keys::Action;
use dsm_tui::config::Config;
use dsm_tui::eval::score_field::{self, Field};
use dsm_tui::sampling::chain::Chain;
use dsm_tui::sampling::langevin::Particles;
use dsm_tui::trainer::Session;
use dsm_tui::trainer::budget::SAMPLING_SHARE;
use dsm_tui::trainer::protocol::{Command, Settings, Snapshot, TrainerState};
use dsm_tui::trainer::worker::Worker;
use dsm_tui::ui;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

const HISTORY_STEPS: u64 = 10_000;
const FRAMES: usize = 300;
const RUNS: usize = 3;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn draw_time(app: &App, width: u16, height: u16) -> f64 {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test backend");
    let times = (0..FRAMES)
        .map(|_| {
            let start = Instant::now();
            terminal.draw(|frame| frame.render_widget(app, frame.area())).expect("draw");
            start.elapsed().as_secs_f64()
        })
        .collect();
    median(times)
}

/// Median seconds of `runs` calls of `work`.
fn time(runs: usize, mut work: impl FnMut()) -> f64 {
    median(
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                work();
                start.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

/// The score field on `app`'s lattice at a `width` × `height` screen: what it costs to
/// compute, and to draw with the arrows on.
fn field_time(app: &App, session: &Session, particles: &Particles, chain: &Chain, width: u16, height: u16) {
    let mut app = app.clone();
    app.update(Action::CycleField);
    let Some(Command::ShowField(Some(lattice))) =
        app.sync_field(ui::field_lattice(&app, Rect::new(0, 0, width, height)))
    else {
        panic!("the view asks for a lattice")
    };
    let (sigma, points, train) = (session.config().sigma, lattice.points(), session.data().train());
    let learned = time(200, || drop(score_field::learned(session.model(), sigma, points.view())));
    let exact = time(20, || drop(score_field::exact(train, sigma, points.view())));
    let field = Field {
        lattice,
        sigma,
        learned: score_field::learned(session.model(), sigma, points.view()),
        exact: score_field::exact(train, sigma, points.view()),
    };
    let snapshot = Snapshot::capture(session, particles, chain, 0, false);
    app.apply(Snapshot { field: Some(field), train: Vec::new(), test: Vec::new(), fisher: Vec::new(), ..snapshot });
    println!(
        "field   {width}x{height}: {} points ({}x{}, {} train points): learned {:.3} ms, exact {:.2} ms; \
         frame with the arrows {:.3} ms",
        lattice.len(),
        lattice.cols,
        lattice.rows,
        train.nrows(),
        1e3 * learned,
        1e3 * exact,
        1e3 * draw_time(&app, width, height),
    );
}

fn frame_time() {
    let config = Config::default();
    let mut session = Session::new(&Config { epochs: 1000, ..config.clone() });
    while session.step() < HISTORY_STEPS {
        session.train_step().expect("the default configuration does not diverge");
    }
    let mut particles = Particles::uniform(config.particles, config.seed, 0);
    let mut chain = Chain::for_dashboard(&config, config.sampler);
    chain.advance(&mut particles, session.model(), 200);
    let snapshot = Snapshot::capture(&session, &particles, &chain, 0, true);

    let mut app = App::new(config);
    let start = Instant::now();
    app.apply(snapshot.clone());
    let first_apply = start.elapsed().as_secs_f64();
    // A steady-state snapshot: the particles and one frame's worth of new losses.
    let frame_snapshot =
        || Snapshot { data: None, train: snapshot.train[..150].to_vec(), test: Vec::new(), ..snapshot.clone() };
    let applies = (0..FRAMES)
        .map(|_| {
            let s = frame_snapshot();
            let start = Instant::now();
            app.apply(s);
            start.elapsed().as_secs_f64()
        })
        .collect();
    println!(
        "frame   {} particles, {HISTORY_STEPS}-step history: median draw {:.3} ms at 100x30, {:.3} ms at 200x60",
        particles.len(),
        1e3 * draw_time(&app, 100, 30),
        1e3 * draw_time(&app, 200, 60),
    );
    println!(
        "        taking in a snapshot: median {:.3} ms (the first, with {HISTORY_STEPS} losses and the data: {:.1} ms)",
        1e3 * median(applies),
        1e3 * first_apply
    );
    field_time(&app, &session, &particles, &chain, 100, 30);
    field_time(&app, &session, &particles, &chain, 200, 60);
}

fn plain_steps_per_second(config: &Config) -> f64 {
    let mut session = Session::new(config);
    let start = Instant::now();
    while !session.is_finished() {
        session.train_step().expect("the default configuration does not diverge");
    }
    session.step() as f64 / start.elapsed().as_secs_f64()
}

/// Training and Langevin steps per second under the dashboard's worker, with the score field
/// view on if `field`.
fn dashboard_steps_per_second(config: &Config, field: bool) -> (f64, f64) {
    let mut app = App::new(config.clone());
    let worker = Worker::spawn(config, app.settings(), None).expect("start the trainer");
    if field {
        app.update(Action::CycleField);
        worker.send(
            app.sync_field(ui::field_lattice(&app, Rect::new(0, 0, 100, 30))).expect("the view asks for a lattice"),
        );
    }
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).expect("test backend");
    // (time, training step, Langevin step) of the first and last snapshots while training.
    let (mut first, mut last) = (None, None);
    loop {
        let snapshot = worker.recv_timeout(Duration::from_secs(30)).expect("a snapshot");
        let now = Instant::now();
        let mark = (now, snapshot.status.step, snapshot.status.langevin_steps);
        let training = snapshot.status.state == TrainerState::Training;
        app.apply(snapshot);
        terminal.draw(|frame| frame.render_widget(&app, frame.area())).expect("draw");
        if !training {
            break;
        }
        if mark.1 > 0 {
            first.get_or_insert(mark);
            last = Some(mark);
        }
    }
    let _ = worker.shutdown(Duration::from_secs(5));
    let ((t0, s0, l0), (t1, s1, l1)) = (first.expect("training snapshots"), last.expect("training snapshots"));
    let seconds = t1.duration_since(t0).as_secs_f64();
    ((s1 - s0) as f64 / seconds, (l1 - l0) as f64 / seconds)
}

fn training_speed() {
    let config = Config::default();
    let settings = App::new(config.clone()).settings();
    let (mut plain, mut dashboard, mut langevin, mut with_field) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        plain.push(plain_steps_per_second(&config));
        let (rate, particles) = dashboard_steps_per_second(&config, false);
        dashboard.push(rate);
        langevin.push(particles);
        with_field.push(dashboard_steps_per_second(&config, true).0);
        thread::sleep(Duration::from_millis(200));
    }
    let (plain, dashboard, with_field) = (median(plain), median(dashboard), median(with_field));
    println!(
        "train   {} steps: plain Session loop {plain:.0} steps/s; with the dashboard {dashboard:.0} steps/s \
         ({:.0}%); meanwhile the particles took {:.0} Langevin steps/s (at most {:.0}% of the time \
         while training; {} steps per frame otherwise); medians of {RUNS}",
        config.total_steps(),
        100.0 * dashboard / plain,
        median(langevin),
        100.0 * SAMPLING_SHARE,
        settings.steps_per_frame,
    );
    println!(
        "        with the score field view on: {with_field:.0} steps/s ({:.0}% of the plain loop)",
        100.0 * with_field / plain
    );
}

/// Median milliseconds between drawn frames, frames/s and particle-steps/s of `particles`
/// flowing with training paused, over `seconds` after a warm-up.
fn flow(particles: usize, seconds: f64) -> (f64, f64, f64) {
    let config = Config { particles, ..Config::default() };
    let mut app = App::new(config.clone());
    let settings = Settings { paused: true, ..app.settings() };
    let worker = Worker::spawn(&config, settings, None).expect("start the trainer");
    app.update(Action::TogglePause);
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("test backend");
    let screen = Rect::new(0, 0, 120, 40);
    let start = Instant::now();
    let warm = Duration::from_secs(2);
    let (mut drawn, mut first, mut last) = (Vec::new(), None, None);
    while start.elapsed().as_secs_f64() < warm.as_secs_f64() + seconds {
        let snapshot = worker.recv_timeout(Duration::from_secs(30)).expect("a snapshot");
        let steps = snapshot.status.langevin_steps;
        app.apply(snapshot);
        app.shade_data(ui::plot_grids(&app, screen));
        terminal.draw(|frame| frame.render_widget(&app, frame.area())).expect("draw");
        let now = Instant::now();
        if now.duration_since(start) >= warm {
            drawn.push(now);
            first.get_or_insert((now, steps));
            last = Some((now, steps));
        }
    }
    let _ = worker.shutdown(Duration::from_secs(5));
    let intervals = drawn.windows(2).map(|w| 1e3 * w[1].duration_since(w[0]).as_secs_f64()).collect();
    let ((t0, s0), (t1, s1)) = (first.expect("frames"), last.expect("frames"));
    let elapsed = t1.duration_since(t0).as_secs_f64();
    (median(intervals), (drawn.len() - 1) as f64 / elapsed, (particles as u64 * (s1 - s0)) as f64 / elapsed)
}

fn flow_at_any_size() {
    for particles in [5000, 20_000, 100_000] {
        let runs: Vec<_> = (0..RUNS).map(|_| flow(particles, 6.0)).collect();
        let pick = |f: fn(&(f64, f64, f64)) -> f64| median(runs.iter().map(f).collect());
        println!(
            "flow    {particles:>6} particles, paused, {} steps/frame asked, 120x40: frame {:.1} ms, \
             {:.1} frames/s, {:.3e} particle-steps/s (medians of {RUNS} runs of 6 s)",
            App::new(Config::default()).settings().steps_per_frame,
            pick(|r| r.0),
            pick(|r| r.1),
            pick(|r| r.2),
        );
    }
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("flow") {
        flow_at_any_size();
        return;
    }
    frame_time();
    training_speed();
    flow_at_any_size();
}
