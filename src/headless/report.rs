//! A plain `--once` run's [`Summary`] as people read it, or as one JSON object.

use std::fmt::Write as _;

use crate::config::{Mode, Sampler};
use crate::data::Source;
use crate::headless::pipeline::{Outputs, Summary};
use crate::nn::Precision;
use crate::objective::Objective;
use crate::sampling::chain::Chain;

/// The summary as one JSON object (`--once --json`).
pub fn json(summary: &Summary) -> String {
    serde_json::to_string(summary).expect("a summary always serialises")
}

/// The readable summary `--once` prints.
pub fn text(s: &Summary) -> String {
    let c = &s.config;
    let q = &s.samples;
    let mut out = String::new();
    let _ = writeln!(out, "dsm-tui --once (seed {})", c.seed);
    let _ = writeln!(
        out,
        "data      {}: {} points{}; {} train / {} test",
        c.source.name(),
        c.count,
        match c.source {
            Source::Builtin(_) => format!(", noise {}", crate::shown::number(c.noise)),
            Source::File { .. } => String::new(),
        },
        c.train_len(),
        c.count - c.train_len()
    );
    let widths = vec![c.hidden.to_string(); c.depth].join("→");
    let _ = writeln!(out, "model     MLP 2→{widths}→2, {}", c.activation.name());
    let _ = writeln!(
        out,
        "training  {}, batch {}, {} epochs ({} steps), Adam lr {} decaying ×{} per epoch",
        match c.objective {
            Objective::Dsm if c.mode == Mode::Annealed =>
                "noise-conditional DSM (σ² weighted, level per sample)".into(),
            Objective::Dsm => format!("DSM σ={}", crate::shown::number(c.sigma)),
            Objective::Ism => "ISM".to_string(),
        },
        c.batch_size,
        c.epochs,
        s.train_steps,
        crate::shown::number(c.lr),
        crate::shown::number(c.lr_gamma)
    );
    let _ = match c.mode {
        Mode::Single => {
            writeln!(
                out,
                "sampler   Langevin: {} particles from U[-1,1]², {} steps, η={}",
                c.particles,
                c.steps,
                crate::shown::number(c.eta)
            )
        }
        Mode::Annealed => {
            let from_data = if c.levels_from_data { ", from the data" } else { "" };
            // Heun's steps take two evaluations: an even budget leaves one unspent.
            let evaluations = Chain::for_run(c).evaluations().unwrap_or(c.nfe);
            let diffusion = |name: &str| {
                format!(
                    "sampler   {name}: {} particles from N(mean, σ₁²I), σ {}→{}{from_data}, {} network evaluations on EDM's ρ = 7 grid, the last denoising",
                    c.particles,
                    crate::shown::number(c.levels.max),
                    crate::shown::number(c.levels.min),
                    evaluations
                )
            };
            match c.sampler {
                Sampler::Annealed => writeln!(
                    out,
                    "sampler   annealed Langevin: {} particles from N(mean, σ₁²I), σ {} ({} levels{from_data}) × {} steps, α = {}·σ², then denoised",
                    c.particles,
                    c.levels,
                    c.levels.len(),
                    c.level_steps,
                    crate::shown::number(c.step_scale)
                ),
                Sampler::ReverseDiffusion => writeln!(out, "{}", diffusion("reverse diffusion (VE SDE)")),
                Sampler::OdeEuler => writeln!(out, "{}", diffusion("probability-flow ODE, Euler")),
                Sampler::OdeHeun => writeln!(out, "{}", diffusion("probability-flow ODE, Heun")),
                Sampler::Pc => {
                    writeln!(out, "{}", diffusion(&format!("predictor–corrector, r = {}", crate::shown::number(c.snr))))
                }
            }
        }
    };
    if c.sample_precision == Precision::Bf16 {
        let _ =
            writeln!(out, "          the network's H → H products in bf16, summed in f32 (--sample-precision bf16)");
    }
    let _ = writeln!(out);
    let train = match s.train_steps {
        // --load with --epochs 0
        0 => "– (no training)".to_string(),
        _ => format!("{:.4} (mean of last epoch)", s.final_train_loss),
    };
    let _ = writeln!(out, "loss      train {train}   test {:.4}", s.final_test_loss);
    let _ = writeln!(
        out,
        "fisher    ½E‖s − ∇log q_σ‖² {:.4} (before training {:.4}; q_σ: training set blurred by σ={})",
        s.fisher_divergence,
        s.initial_fisher_divergence,
        crate::shown::number(c.sigma)
    );
    let floor_kind = match c.source {
        Source::Builtin(_) => "fresh data",
        Source::File { .. } => "the training split",
    };
    let _ = writeln!(
        out,
        "quality   energy distance {:.5} (floor {:.5}: {floor_kind})   inliers only {:.5}",
        q.energy_distance, s.floor_energy_distance, q.energy_distance_inliers
    );
    if let (Some(upper), Some(far)) = (q.upper_moon_share, q.far_share) {
        let _ = writeln!(
            out,
            "          upper-moon share {upper:.3} (data 0.5)   farther than 0.3 from both arcs {:.1}%",
            100.0 * far
        );
    }
    let _ = writeln!(
        out,
        "          escaped (|x| or |y| > {}) {}   non-finite {}",
        q.escape_radius, q.escaped, q.nonfinite
    );
    if let Some(l) = &s.likelihood {
        let exact = l.exact_nll.map_or(String::new(), |exact| format!("   the generating density's {exact:.3}"));
        let _ = writeln!(
            out,
            "likelihood test NLL {:.3} nats/point{exact} (log q at σ_min = {}: probability-flow ODE, exact divergence, {} evaluations/point, {:.2} s)",
            l.test_nll,
            crate::shown::number(l.sigma_min),
            l.nfe,
            l.seconds
        );
    }
    let _ = writeln!(
        out,
        "time      training {:.2} s ({:.0} steps/s)   sampling {:.2} s ({:.3e} particle-steps/s)",
        s.train_seconds, s.train_steps_per_second, s.sampling_seconds, s.particle_steps_per_second
    );
    out
}

/// The summary's last line: which files the run wrote, so a `--plot` or `--save` is seen to
/// have happened (nothing when it wrote none).
pub fn written(outputs: &Outputs) -> String {
    let named = [
        ("samples", &outputs.samples),
        ("data", &outputs.data),
        ("history", &outputs.history),
        ("checkpoint", &outputs.save),
        ("figure", &outputs.plot),
    ];
    let files: Vec<String> = named
        .iter()
        .filter_map(|(what, path)| path.as_ref().map(|p| format!("{what} {}", crate::shown::path(p))))
        .collect();
    if files.is_empty() { String::new() } else { format!("wrote     {}\n", files.join("   ")) }
}
