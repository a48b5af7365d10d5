//! The dashboard's comparison (`c`): both sides of [`compare::sides_for`] (single-σ and
//! annealed Langevin by default, or the samplers `b` and `s` chose, from the same start) advanced a frame at a time under the run's current weights,
//! with their figures, measured as the status line's ([`figures::reading`], once a second
//! and once more when a side ends; never averaged, as each step changes the side's
//! distribution). Up to [`figures::FIGURE_PARTICLES`] particles an ended side's figures are
//! those `--once --compare` prints for the same weights and seed.

use std::time::Instant;

use crate::config::{Config, Sampler};
use crate::eval::metrics::Point;
use crate::nn::Mlp;
use crate::sampling::compare::{self, Side};
use crate::sampling::start::Start;
use crate::trainer::figures::{self, FIGURES_EVERY};
use crate::trainer::protocol::{CompareStatus, Figures, SideStatus};

/// Both sides advanced and measured under the run's weights.
pub struct LiveComparison {
    sides: [Side; 2],
    figures: [Option<Figures>; 2],
    figures_at: Option<Instant>,
}

impl LiveComparison {
    /// The sides of `config` (the run's: its seed, σ, η, schedule and c): `beside` and
    /// `sampler` ([`compare::sides_for`]), the noise-conditional ones from `annealed_start`.
    pub fn new(config: &Config, annealed_start: Start, beside: Option<Sampler>, sampler: Sampler) -> Self {
        let sides = compare::sides_for(config, annealed_start, beside, sampler);
        Self { sides, figures: [None, None], figures_at: None }
    }

    pub fn is_done(&self) -> bool {
        self.sides.iter().all(|s| s.chain.is_done(&s.particles))
    }

    /// Up to `steps` steps on each side.
    pub fn advance(&mut self, model: &Mlp<f32>, steps: usize) {
        for Side { chain, particles, .. } in &mut self.sides {
            chain.advance(particles, model, steps);
        }
    }

    /// The next `chunks` chunks' part of the next step on each side (see
    /// [`crate::trainer::flow`]).
    pub fn advance_part(&mut self, model: &Mlp<f32>, chunks: usize) {
        for Side { chain, particles, .. } in &mut self.sides {
            chain.advance_part(particles, model, chunks);
        }
    }

    /// Chunks a step of both sides moves, and the chunk-steps taken so far (for timing).
    pub fn chunks(&self) -> (usize, u64) {
        let sides = self.sides.iter().map(|s| (s.particles.chunk_count(), s.particles.chunk_steps()));
        sides.fold((0, 0), |(c, t), (chunks, taken)| (c + chunks, t + taken))
    }

    /// Each side to the end of its level; the single-σ side, which has none, `steps` steps.
    pub fn advance_level(&mut self, model: &Mlp<f32>, steps: usize) {
        for Side { chain, particles, .. } in &mut self.sides {
            chain.advance_level(particles, model, steps);
        }
    }

    /// A side has moved since its figures, and either it has ended (its final figures are
    /// due at once) or the last refresh is [`FIGURES_EVERY`] old.
    pub fn figures_due(&self) -> bool {
        let once_a_while = self.figures_at.is_none_or(|t| t.elapsed() >= FIGURES_EVERY);
        self.sides.iter().zip(&self.figures).any(|(side, figures)| {
            let stale = figures.map(|f| f.langevin_steps) != Some(side.particles.steps_taken());
            stale && (once_a_while || side.chain.is_done(&side.particles))
        })
    }

    /// Measures the sides that moved against `test_points`, the test split.
    pub fn refresh_figures(&mut self, test_points: &[Point], moons: bool) {
        for (side, figures) in self.sides.iter().zip(&mut self.figures) {
            let steps = side.particles.steps_taken();
            if figures.is_some_and(|f| f.langevin_steps == steps) {
                continue;
            }
            *figures = Some(figures::reading(&side.particles, test_points, moons));
        }
        self.figures_at = Some(Instant::now());
    }

    pub fn status(&self) -> CompareStatus {
        let side = |i: usize| {
            let Side { name, chain, particles } = &self.sides[i];
            let mut positions = Vec::with_capacity(particles.len());
            particles.for_each(|x, y| positions.push([x, y]));
            let steps = particles.steps_taken();
            SideStatus {
                name,
                sampler: chain.summary(),
                particles: positions,
                steps,
                total: steps + chain.remaining(particles).unwrap_or(0),
                figures: self.figures[i],
            }
        };
        CompareStatus { sides: [side(0), side(1)] }
    }
}
