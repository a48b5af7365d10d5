//! The memory estimate (`dsm_tui::memory`) against the peak a counting allocator measures, the
//! train losses held bounded however long the run (a headless run's history, the dashboard's
//! undelivered losses), and a run that needs more memory than it may have is refused before
//! it starts, headless or not, while a long dashboard run no longer is.
//!
//! The measuring runs in one test function: the counters are process-wide, and tests of one
//! binary run on parallel threads.

#[path = "common/counting_allocator.rs"]
mod counting_allocator;

use std::process::Command;

use counting_allocator::peak_bytes_during;
use dsm_tui::config::Config;
use dsm_tui::memory;
use dsm_tui::objective::Objective;
use dsm_tui::sampling::langevin::Particles;
use dsm_tui::trainer::Session;
use dsm_tui::trainer::losses::{self, HEADLESS_VALUES, UNDELIVERED_VALUES, Undelivered};

/// How far the estimate may be from the measured peak, either way: it is meant to tell a run
/// that fits from one that needs several times the memory there is, not to count bytes.
const FACTOR: f64 = 2.0;

/// The peak heap of what a headless run holds: a session trained to its end, then its
/// particles sampled.
fn measured_peak(config: &Config) -> usize {
    peak_bytes_during(|| {
        let mut session = Session::new(config);
        while session.train_step().expect("finite loss").is_some() {}
        let mut particles = Particles::uniform(config.particles, config.seed, 0);
        particles.langevin(session.model(), config.eta as f32, 2);
    })
}

#[test]
fn the_estimate_is_within_a_factor_of_the_measured_peak() {
    let configs = [
        // Activations dominate: a wide, deep net on big batches.
        Config { count: 2000, batch_size: 1600, hidden: 256, depth: 4, epochs: 1, particles: 500, ..Config::default() },
        // The same with ISM's tangents and adjoints.
        Config {
            count: 1000,
            batch_size: 800,
            hidden: 256,
            depth: 3,
            epochs: 1,
            particles: 500,
            objective: Objective::Ism,
            ..Config::default()
        },
        // The loss history dominates: many one-point steps.
        Config { count: 1000, batch_size: 1, hidden: 8, depth: 1, epochs: 300, particles: 100, ..Config::default() },
    ];
    for config in configs {
        let estimate = memory::estimate(&config, config.total_steps()).total() as f64;
        let peak = measured_peak(&config) as f64;
        let what = format!(
            "batch {} × width {} × depth {}, {:?}, {} steps",
            config.batch_size,
            config.hidden,
            config.depth,
            config.objective,
            config.total_steps()
        );
        assert!(
            estimate <= FACTOR * peak && peak <= FACTOR * estimate,
            "{what}: estimated {estimate} bytes, measured peak {peak}"
        );
    }
    a_headless_history_is_bounded();
    a_dashboard_run_holds_only_undelivered_losses();
}

/// A headless session of 2.2 million one-point steps, twice the values its history keeps,
/// peaks near what the cap allows, far below a float per step: the history merged instead of
/// growing. (Measured here, beside the estimate, because the counters are process-wide.)
fn a_headless_history_is_bounded() {
    let config =
        Config { count: 100, batch_size: 1, hidden: 8, depth: 1, epochs: 28_000, particles: 10, ..Config::default() };
    let steps = config.total_steps() as usize;
    assert!(steps > 2 * HEADLESS_VALUES, "{steps} steps");
    let peak = peak_bytes_during(|| {
        let mut session = Session::headless(&config, None);
        while session.train_step().expect("finite loss").is_some() {}
        assert_eq!(session.history().train.span(), 4, "merged twice");
    });
    let every_step = steps * size_of::<f32>();
    // The cap's floats, plus the per-epoch test and Fisher points (16 bytes each) and the
    // session's small buffers.
    let allowed = HEADLESS_VALUES * size_of::<f32>() + 2 * (config.epochs + 1) * 16 + (1 << 20);
    assert!(peak <= allowed, "peak {peak} bytes over {allowed}; every step would take {every_step}");
    let estimate = memory::estimate(&config, losses::headless_kept(steps as u64)).total() as usize;
    assert!(
        estimate <= FACTOR as usize * peak && peak <= FACTOR as usize * estimate,
        "estimated {estimate}, peak {peak}"
    );
}

/// The dashboard's side of a run of 2.2 million one-point steps holds no loss per step: its
/// session keeps none, and its trainer (driven here as its thread does: each step's loss from
/// the step's report, a snapshot's copy, then let go once delivered) only those the UI has not
/// been sent. With a UI that takes a snapshot every 1,000 steps that is a few kilobytes; with
/// one that takes none at all, the losses stop at [`UNDELIVERED_VALUES`] (the oldest go), so
/// the peak is that and the copy in the snapshot finally sent, however many steps pass.
fn a_dashboard_run_holds_only_undelivered_losses() {
    let config =
        Config { count: 100, batch_size: 1, hidden: 8, depth: 1, epochs: 28_000, particles: 10, ..Config::default() };
    let steps = config.total_steps() as usize;
    let keeping_up = peak_bytes_during(|| {
        let mut session = Session::for_dashboard(&config, None);
        let mut undelivered = Undelivered::default();
        while let Some(report) = session.train_step().expect("finite loss") {
            undelivered.push(report.loss);
            if report.step % 1000 == 0 {
                let snapshot = undelivered.to_vec();
                undelivered.delivered(snapshot.len());
            }
        }
        assert!(session.history().train.is_empty(), "the session keeps no train loss");
    });
    let every_step = steps * size_of::<f32>();
    // The per-epoch test and Fisher points (16 bytes each) and the session's small buffers.
    let fixed = 2 * (config.epochs + 1) * 16 + (1 << 20);
    assert!(keeping_up <= fixed, "peak {keeping_up} bytes over {fixed}; every step would take {every_step}");

    let stalled_steps = 8 * UNDELIVERED_VALUES;
    let stalled = peak_bytes_during(|| {
        let mut undelivered = Undelivered::default();
        (0..stalled_steps).for_each(|step| undelivered.push(step as f32));
        let snapshot = undelivered.to_vec();
        assert_eq!(snapshot.len(), UNDELIVERED_VALUES, "the newest");
        assert_eq!(undelivered.first_step(), (stalled_steps - UNDELIVERED_VALUES + 1) as u64);
    });
    let allowed = 2 * UNDELIVERED_VALUES * size_of::<f32>() + (1 << 16);
    let every_step = stalled_steps * size_of::<f32>();
    assert!(
        stalled <= allowed,
        "a stalled UI: peak {stalled} bytes over {allowed}; every step would take {every_step}"
    );

    // The estimate counts the capped losses and their copy, beside the run's buffers.
    let estimate = memory::estimate(&config, losses::dashboard_kept(steps as u64)).total() as usize;
    let peak = keeping_up + stalled;
    assert!(
        estimate <= FACTOR as usize * peak && peak <= FACTOR as usize * estimate,
        "estimated {estimate}, peak {peak}"
    );
}

/// `dsm-tui ARGS` under an address-space limit of 2 GB, which the configurations below exceed
/// many times over on any machine: (exit code, stderr).
fn run_limited(args: &str) -> (Option<i32>, String) {
    let bin = env!("CARGO_BIN_EXE_dsm-tui");
    let output = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v 2000000 && exec '{bin}' {args} </dev/null"))
        .output()
        .expect("run sh");
    (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn configurations_that_cannot_fit_are_refused_before_they_start() {
    for (args, part) in [
        ("--once --count 100000 --batch-size 80000 --hidden 2048 --depth 16", "batch 80000 × width 2048 × depth 16"),
        // The dashboard refuses before it looks for a terminal, so before raw mode.
        ("--count 100000 --batch-size 80000 --hidden 2048 --depth 16", "batch 80000 × width 2048 × depth 16"),
        // The bench's largest training step.
        ("bench --batches 100000 --widths 2048 --sections train", "batch 100000 × width 2048 × depth 2"),
    ] {
        let (code, stderr) = run_limited(args);
        assert_eq!(code, Some(2), "{args}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args}: one line: {stderr}");
        assert!(
            stderr.starts_with("error: this configuration needs about ")
                && stderr.contains(part)
                && stderr.contains("is allowed (ulimit -v)"),
            "{args}: {stderr}"
        );
        // Each names its own flags.
        let shrink = if args.starts_with("bench") { "--batches or --widths" } else { "--count or --epochs" };
        assert!(stderr.trim_end().ends_with(shrink), "{args}: {stderr}");
    }
}

/// The longest run the flags allow, in the dashboard (8 billion steps: a float per step was
/// 32 GB, refused as "a loss history of" them), now holds a bounded number of losses: it gets
/// past the memory check and stops only for want of a terminal.
#[test]
fn a_long_dashboard_run_is_not_refused_for_its_losses() {
    let (code, stderr) = run_limited("--epochs 100000 --batch-size 1 --count 100000");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.starts_with("error: the dashboard needs a terminal"), "{stderr}");
}
