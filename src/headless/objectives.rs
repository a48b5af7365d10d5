//! `--compare-objectives`: DSM and ISM trained and sampled from the same seed, side by side.

use std::fmt::Write as _;

use crate::config::Config;
use crate::headless::pipeline::{self, Outputs, RunError, Summary};
use crate::headless::progress::Progress;
use crate::objective::Objective;

/// DSM and ISM from the same seed (same data, initial weights, batches and particles) and
/// the same step budget.
pub fn run(config: &Config, progress: &Progress) -> Result<[Summary; 2], RunError> {
    let run_with = |objective| pipeline::run(&Config { objective, ..config.clone() }, &Outputs::default(), progress);
    Ok([run_with(Objective::Dsm)?, run_with(Objective::Ism)?])
}

/// Both summaries as one JSON object, under `dsm` and `ism`.
pub fn json(pair: &[Summary; 2]) -> String {
    serde_json::json!({ "dsm": pair[0], "ism": pair[1] }).to_string()
}

/// The side-by-side table `--compare-objectives` prints.
pub fn text(pair: &[Summary; 2]) -> String {
    let c = &pair[0].config;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "DSM (σ={}) vs ISM: seed {}, MLP 2→{}×{}→2 {}, {} steps each, {} particles × {} Langevin steps (η={})",
        crate::shown::number(c.sigma),
        c.seed,
        c.hidden,
        c.depth,
        c.activation.name(),
        pair[0].train_steps,
        c.particles,
        c.steps,
        crate::shown::number(c.eta)
    );
    let _ = writeln!(out, "{:<36}{:>12}{:>12}", "", "dsm", "ism");
    type Cell = fn(&Summary) -> String;
    let rows: [(&str, Cell); 8] = [
        ("energy distance", |s| format!("{:.5}", s.samples.energy_distance)),
        ("  floor: fresh data", |s| format!("{:.5}", s.floor_energy_distance)),
        ("upper-moon share", |s| s.samples.upper_moon_share.map_or("-".into(), |v| format!("{v:.3}"))),
        ("farther than 0.3 from both arcs", |s| {
            s.samples.far_share.map_or("-".into(), |v| format!("{:.1}%", 100.0 * v))
        }),
        ("escaped / non-finite", |s| format!("{}/{}", s.samples.escaped, s.samples.nonfinite)),
        ("Fisher divergence to q_σ", |s| format!("{:.3}", s.fisher_divergence)),
        ("training steps/s", |s| format!("{:.0}", s.train_steps_per_second)),
        ("training time (s)", |s| format!("{:.2}", s.train_seconds)),
    ];
    for (label, cell) in rows {
        let _ = writeln!(out, "{label:<36}{:>12}{:>12}", cell(&pair[0]), cell(&pair[1]));
    }
    out
}
