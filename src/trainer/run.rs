//! One run of the dashboard's trainer: its [`Session`], its particles and their chain, and
//! how much of it the UI has been sent. A new run (`n`, `o`, `d`, `a`) replaces it whole.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::checkpoint;
use crate::config::{Config, Mode};
use crate::eval::metrics::{Point, to_points};
use crate::nn::Mlp;
use crate::sampling::chain::{Chain, Readout};
use crate::sampling::langevin::Particles;
use crate::sampling::start::Start;
use crate::trainer::Session;
use crate::trainer::compare::LiveComparison;
use crate::trainer::figures::{self, Steady};
use crate::trainer::losses::Undelivered;
use crate::trainer::protocol::{Advance, Figures, Saved, Settings};

/// One run: a session and its particles, plus what has been delivered of them.
pub struct Run {
    pub id: u64,
    pub seed: u64,
    pub session: Session,
    pub particles: Particles,
    /// Where the particles start, and start again on `r`.
    pub start: Start,
    pub chain: Chain,
    pub comparison: Option<LiveComparison>,
    pub test_points: Vec<Point>,
    pub moons: bool,
    /// The figures shown, and the readings they average.
    pub figures: Option<Figures>,
    pub steady: Steady,
    /// The energy distance of a fresh draw of the data, measured as the figures are.
    pub floor: f64,
    /// Time spent training so far (pauses left out), and since when training has run.
    pub trained_for: Duration,
    pub training_since: Option<Instant>,
    /// The step-through readout and what it was measured for.
    pub readout: Option<(ReadoutKey, Readout)>,
    /// The ODE's mean log density where the particles are, with the (training step, particle
    /// steps) it was measured at, and its σ.
    pub log_density: Option<((u64, u64), (f64, f64))>,
    /// The train losses not yet delivered (the session keeps none).
    pub undelivered: Undelivered,
    pub delivered_test: usize,
    pub data_delivered: bool,
}

/// What a readout depends on: the weights (training step), the particles (resample and
/// Langevin step) and the next step's σ and α.
pub type ReadoutKey = (u64, u64, u64, [u64; 2]);

impl Run {
    pub fn new(config: &Config, id: u64, restart: u64, start: Option<Mlp<f32>>, settings: &Settings) -> Self {
        // The UI picks each run's seed (`n` and `d` the next, `o` the same) and sends it in the
        // configuration.
        let seed = config.seed;
        let session = Session::for_dashboard(config, start);
        let test_points = to_points(session.data().test());
        let floor = figures::floor(session.fresh_data().view(), &test_points);
        let start = Start::for_run(config, session.data().train());
        Self {
            id,
            seed,
            particles: start.particles(config.particles, seed, restart).in_precision(config.sample_precision),
            start,
            chain: chain_for(config, settings),
            comparison: None,
            session,
            test_points,
            moons: config.source.is_moons(),
            figures: None,
            steady: Steady::default(),
            floor,
            trained_for: Duration::ZERO,
            training_since: None,
            readout: None,
            log_density: None,
            undelivered: Undelivered::default(),
            delivered_test: 0,
            data_delivered: false,
        }
    }

    pub fn figures_stale(&self) -> bool {
        self.figures.map(|f| f.langevin_steps) != Some(self.particles.steps_taken())
    }

    /// Takes a reading of the particles and shows it (averaged while the chain is stationary:
    /// see [`figures`]); `resamples` numbers the particles' draw.
    pub fn read_figures(&mut self, resamples: u64, eta: f64) {
        let reading = figures::reading(&self.particles, &self.test_points, self.moons);
        let stationary = self.chain.remaining(&self.particles).is_none();
        let key = stationary.then(|| (self.session.step(), resamples, eta.to_bits()));
        self.figures = Some(self.steady.show(reading, key));
    }

    /// Keeps the training clock: it runs from one call to the next while `training`.
    pub fn time_training(&mut self, training: bool, now: Instant) {
        if let Some(since) = self.training_since {
            self.trained_for += now.saturating_duration_since(since);
        }
        self.training_since = training.then_some(now);
    }

    pub fn readout_key(&self, resamples: u64) -> ReadoutKey {
        let next = self.chain.next_step();
        (self.session.step(), self.particles.steps_taken(), resamples, [next.sigma.to_bits(), next.alpha.to_bits()])
    }

    /// Training goes on: not paused, finished or diverged.
    pub fn is_training(&self, settings: &Settings) -> bool {
        !settings.paused && !self.session.is_finished() && self.session.divergence().is_none()
    }

    /// The particles on screen (the comparison's, while it is on) move by themselves: not
    /// held, not stopped, not at the end of their chain (or, comparing, of both).
    pub fn is_flowing(&self, settings: &Settings) -> bool {
        let done = match &self.comparison {
            Some(comparison) => comparison.is_done(),
            None => self.chain.is_done(&self.particles),
        };
        !settings.particles_held && settings.steps_per_frame > 0 && !done
    }

    /// Fresh particles from the sampler's start (U[−1, 1]², or annealing's prior) on stream
    /// `restart` of their own, and the chain from its start.
    pub fn resample(&mut self, restart: u64, settings: &Settings) {
        let config = self.session.config();
        self.particles =
            self.start.particles(config.particles, self.seed, restart).in_precision(config.sample_precision);
        self.chain = chain_for(self.session.config(), settings);
        self.figures = None;
        self.log_density = None;
    }

    /// The ODE's particles need their mean log density measured again: they or the weights
    /// moved since.
    pub fn log_density_stale(&self) -> bool {
        self.chain.is_ode()
            && self.comparison.is_none()
            && self.log_density.is_none_or(|(at, _)| at != (self.session.step(), self.particles.steps_taken()))
    }

    /// Measures the ODE's mean log density where the particles are now.
    pub fn read_log_density(&mut self) {
        let sigma = self.chain.next_step().sigma;
        let config = self.session.config();
        let estimate = crate::eval::likelihood::mean_log_density(
            self.session.model(),
            self.session.data().train(),
            &config.levels,
            sigma,
            self.particles.positions().view(),
        );
        self.log_density = Some(((self.session.step(), self.particles.steps_taken()), (sigma, estimate)));
    }

    /// Held particles get the next step's readout, measured again when anything it depends
    /// on has changed.
    pub fn readout_stale(&self, settings: &Settings, resamples: u64) -> bool {
        settings.particles_held
            && self.comparison.is_none()
            && self.readout.is_none_or(|(key, _)| key != self.readout_key(resamples))
    }

    /// Moves the particles (or both sides of the comparison) `by` now.
    pub fn advance(&mut self, by: Advance) {
        let Run { session, particles, chain, comparison, .. } = self;
        let level = session.config().level_steps;
        match (comparison, by) {
            (Some(c), Advance::Step) => c.advance(session.model(), 1),
            (Some(c), Advance::Level) => c.advance_level(session.model(), level),
            (None, Advance::Step) => chain.advance(particles, session.model(), 1),
            (None, Advance::Level) => chain.advance_level(particles, session.model(), level),
        }
    }

    /// Starts the comparison of the two samplers under the current weights (annealed mode
    /// only: it needs the noise-conditional model), with the η and c the user has set; or
    /// drops it.
    pub fn compare(&mut self, on: bool, settings: &Settings) {
        let config = self.session.config();
        self.comparison = (on && config.mode == Mode::Annealed).then(|| {
            let config = Config { eta: settings.eta, step_scale: settings.step_scale, ..config.clone() };
            LiveComparison::new(&config, self.start, settings.beside, settings.sampler)
        });
    }

    /// Writes the weights and configuration (its seed is the run's) to `to` (`--save`), or
    /// to a new file in the working directory named for the run ([`checkpoint::save_new`]),
    /// unless the run diverged: such weights are of no use, and may not even load.
    pub fn save(&self, to: Option<&Path>) -> Saved {
        let session = &self.session;
        let (model, config) = (session.model(), session.config());
        let stem = checkpoint::default_stem(config, self.id, session.step());
        let replaced = to.is_some_and(Path::exists);
        let written = if session.divergence().is_some() {
            Err("the run diverged; n starts a new one".to_string())
        } else {
            let written = match to {
                Some(path) => checkpoint::save(path, model, config).map(|()| path.to_path_buf()),
                None => checkpoint::save_new(Path::new(""), &stem, model, config),
            };
            written.map_err(|e| e.to_string())
        };
        // A failed save names the file it was for.
        let (path, error) = match written {
            Ok(path) => (path, None),
            Err(error) => {
                (to.map_or_else(|| PathBuf::from(format!("{stem}.safetensors")), Path::to_path_buf), Some(error))
            }
        };
        let path = std::path::absolute(&path).unwrap_or(path);
        Saved { path, error, replaced }
    }

    /// Trains `pace` steps when given, else until `deadline`; either way no further than
    /// training goes (finished or diverged; the session records which). A paced frame takes
    /// all its steps even past the deadline: cut short whenever the particles' steps overran
    /// the frame (a loaded machine, many particles), a run paced to last 18 s took minutes at
    /// one step a frame.
    pub fn train_until(&mut self, pace: Option<usize>, deadline: Instant) {
        let Run { session, undelivered, .. } = self;
        let mut step = || match session.train_step() {
            Ok(Some(report)) => {
                undelivered.push(report.loss);
                true
            }
            _ => false,
        };
        match pace {
            Some(steps) => {
                for _ in 0..steps {
                    if !step() {
                        return;
                    }
                }
            }
            None => while step() && Instant::now() < deadline {},
        }
    }
}

/// The dashboard's chain for `config`, with the step size and c the user has set.
pub fn chain_for(config: &Config, settings: &Settings) -> Chain {
    let mut chain = Chain::for_dashboard(config, settings.sampler);
    chain.set_eta(settings.eta);
    chain.set_step_scale(settings.step_scale);
    chain
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paced_frame_takes_all_its_steps_even_past_its_deadline() {
        let config = Config { count: 200, particles: 10, ..Config::default() };
        let settings = Settings {
            paused: false,
            eta: config.eta,
            step_scale: config.step_scale,
            steps_per_frame: 1,
            particles_held: false,
            training_pace: Some(5),
            sampler: crate::config::Sampler::Annealed,
            beside: None,
        };
        let mut run = Run::new(&config, 0, 0, None, &settings);
        let past = Instant::now();
        run.train_until(Some(5), past);
        assert_eq!(run.session.step(), 5);
        run.train_until(None, past);
        assert_eq!(run.session.step(), 6, "flat out, the deadline ends the frame after a step");
    }
}
