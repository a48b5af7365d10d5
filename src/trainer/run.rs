//! One run of the dashboard's trainer: its [`Session`], its particles and their chain, and
//! how much of it the UI has been sent. A new run (`n`, `o`, `d`) replaces it whole.

use crate::config::Config;
use crate::eval::metrics::{Point, to_points};
use crate::nn::Mlp;
use crate::sampling::chain::{Chain, Readout};
use crate::sampling::langevin::Particles;
use crate::trainer::Session;
use crate::trainer::compare::LiveComparison;
use crate::trainer::protocol::{Figures, Settings};

/// One run: a session and its particles, plus what has been delivered of them.
pub struct Run {
    pub id: u64,
    pub seed: u64,
    pub session: Session,
    pub particles: Particles,
    pub chain: Chain,
    pub comparison: Option<LiveComparison>,
    pub test_points: Vec<Point>,
    pub moons: bool,
    pub figures: Option<Figures>,
    /// The step-through readout and what it was measured for.
    pub readout: Option<(ReadoutKey, Readout)>,
    pub delivered_train: usize,
    pub delivered_test: usize,
    pub data_delivered: bool,
}

/// What a readout depends on: the weights (training step), the particles (resample and
/// Langevin step) and the next step's σ and α.
pub type ReadoutKey = (u64, u64, u64, [u64; 2]);

impl Run {
    pub fn new(config: &Config, id: u64, restart: u64, start: Option<Mlp<f32>>, settings: &Settings) -> Self {
        let seed = config.seed.wrapping_add(id);
        let config = Config { seed, ..config.clone() };
        let session = match start {
            Some(model) => Session::with_model(&config, model),
            None => Session::new(&config),
        };
        let test_points = to_points(session.data().test());
        Self {
            id,
            seed,
            particles: Particles::uniform(config.particles, seed, restart),
            chain: chain_for(&config, settings),
            comparison: None,
            session,
            test_points,
            moons: config.source.is_moons(),
            figures: None,
            readout: None,
            delivered_train: 0,
            delivered_test: 0,
            data_delivered: false,
        }
    }

    pub fn figures_stale(&self) -> bool {
        self.figures.map(|f| f.langevin_steps) != Some(self.particles.steps_taken())
    }

    pub fn readout_key(&self, resamples: u64) -> ReadoutKey {
        let next = self.chain.next_step();
        (self.session.step(), self.particles.steps_taken(), resamples, [next.sigma.to_bits(), next.alpha.to_bits()])
    }
}

/// The dashboard's chain for `config`, with the step size and c the user has set.
pub fn chain_for(config: &Config, settings: &Settings) -> Chain {
    let mut chain = Chain::for_dashboard(config);
    chain.set_eta(settings.eta);
    chain.set_step_scale(settings.step_scale);
    chain
}
