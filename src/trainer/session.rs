//! One training run: data, model, optimiser, random streams and loss history, advanced one
//! DSM step at a time. No threads, no UI: both front ends drive this.
//!
//! An epoch is one pass over the training split in a fresh random order, in batches of
//! `batch_size` (the last one shorter if it does not divide, as PyTorch's `DataLoader`).
//! After each epoch the test loss is measured with noise fixed at the start of the run, so
//! the curve compares like with like, and the learning rate decays by `lr_gamma`.

use ndarray::{Array2, Axis, s};
use rand::RngExt;
use rand::seq::SliceRandom;
use rand_distr::{Distribution, StandardNormal};

use crate::config::{Config, Mode};
use crate::data::{Dataset, Source};
use crate::eval::fisher::FisherProbe;
use crate::nn::{Adam, AdamConfig, Linear, Mlp, Scratch, StepDecay, Workspace};
use crate::objective::{Objective, dsm, ism, ncsn};
use crate::seeds::{Stream, StreamRng, stream_rng};
use crate::shown;
use crate::trainer::losses::{HEADLESS_VALUES, TrainLosses};

/// Rows per forward pass when measuring the test loss.
const EVAL_ROWS: usize = 1024;

/// A DSM loss this many times that of the zero score (E‖ε/σ‖² = 2/σ²) means training
/// diverged: Adam moves each weight by at most about lr per step, so with a huge lr the loss
/// can grow to 1e20 and stay finite for thousands of steps while the model is garbage.
const DIVERGENCE_FACTOR: f64 = 1e4;

/// An ISM loss of this magnitude means scores of ~10³ at the data: diverged. (ISM has no
/// zero-score scale: J(0) = 0.)
const ISM_DIVERGENCE: f64 = 1e6;

/// Probe points of the Fisher divergence readout: at one reading per epoch it must cost
/// training ≤ 5%; 256 points cost 3–4% of a default run (docs/theory.md, section 5).
const FISHER_PROBE_POINTS: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TestPoint {
    /// Epochs completed when measured (0: before training).
    pub epoch: usize,
    /// Training steps completed when measured.
    pub step: u64,
    pub loss: f32,
}

/// Every loss recorded so far: the train loss of each step (see [`TrainLosses`] for how a
/// headless run bounds it, and why the dashboard's keeps none), and the test loss and the Fisher divergence readout before
/// training and after each epoch.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    pub train: TrainLosses,
    pub test: Vec<TestPoint>,
    /// ½E_{q_σ}‖s_θ − ∇log q_σ‖² (see `fisher`), as `loss`.
    pub fisher: Vec<TestPoint>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepReport {
    pub step: u64,
    pub loss: f32,
    /// Set when this step finished an epoch.
    pub test: Option<TestPoint>,
}

/// Training stopped on a non-finite or runaway loss: which loss, when, and what the run was
/// set to, so the message can name the likely cause with the values to change.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Divergence {
    pub step: u64,
    /// Epochs completed before the one that diverged.
    pub epoch: usize,
    pub loss: f32,
    pub what: DivergedLoss,
    /// The loss past which a run counts as diverged (see [`DIVERGENCE_FACTOR`]).
    pub limit: f64,
    /// The run's base learning rate (`--lr`).
    pub lr: f64,
    /// Root mean square of the training points' coordinates: the scale the network sees.
    pub data_rms: f64,
}

/// Which loss ran away.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DivergedLoss {
    /// A training batch's loss, at a step.
    #[default]
    Train,
    /// The test split's loss, at the end of an epoch.
    Test,
}

/// Data whose coordinates are this large (rms) are far from the unit scale the network's
/// initialisation assumes: its first outputs, and so the loss, grow with the inputs. The
/// built-in sets are below 3; 30 still trains with the defaults, 10⁴ diverges at step 1.
const LARGE_DATA_RMS: f64 = 10.0;

/// The learning rate a diverged run is advised to try: a tenth. Halving rarely saves a run
/// that ran away (the runaways seen come from lr 10–1000× too large).
const LR_ADVICE_FACTOR: f64 = 0.1;

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.what {
            DivergedLoss::Train => "train loss",
            DivergedLoss::Test => "test loss",
        };
        let rms = shown::format_sig(self.data_rms);
        write!(
            f,
            "training diverged: the {what} reached {} at step {} (epoch {}), past the runaway limit {}; ",
            shown::format_sig(f64::from(self.loss)),
            self.step,
            self.epoch + 1,
            shown::format_sig(self.limit),
        )?;
        if self.step == 1 && self.what == DivergedLoss::Train {
            // No update has happened yet, so the learning rate played no part.
            return write!(
                f,
                "the untrained network already fails, so the cause is the data's scale (rms {rms}): rescale the points to about unit spread"
            );
        }
        write!(
            f,
            "the learning rate is likely too large: try --lr {} (now {})",
            shown::number(self.lr * LR_ADVICE_FACTOR),
            shown::number(self.lr)
        )?;
        if self.data_rms > LARGE_DATA_RMS {
            write!(f, ", or rescale the points to about unit spread (rms now {rms})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Divergence {}

impl Levels {
    /// A σ log-uniform over `log_range`.
    fn draw([lo, hi]: [f32; 2], rng: &mut StreamRng) -> f32 {
        (lo + (hi - lo) * rng.random::<f32>()).exp()
    }
}

/// Annealed mode's noise levels: the range σ is drawn from, the batch's levels and the test
/// split's fixed ones.
///
/// Each row's σ is drawn log-uniformly from [σ_min, σ_max], not from the schedule's ten
/// values: the network is then a score at every σ in the range, which samplers on other
/// grids than the schedule's need (the reverse SDE and the probability-flow ODE, issue 19),
/// and annealed Langevin on the schedule samples as well as before (the moons, seeds 0–9:
/// energy distance 0.000787 against 0.000791, `docs/annealed.md`). The log-uniform draw is the
/// ten levels' uniform mixture with the gaps filled: the same weight per decade.
struct Levels {
    /// ln σ_min and ln σ_max.
    log_range: [f32; 2],
    batch_sigmas: Vec<f32>,
    test_sigmas: Vec<f32>,
    /// log σ of the rows of one test-loss chunk.
    eval_condition: Vec<f32>,
    rng: StreamRng,
}

pub struct Session {
    /// Annealed mode only.
    annealed: Option<Levels>,
    config: Config,
    data: Dataset,
    model: Mlp<f32>,
    grads: Vec<Linear<f32>>,
    adam: Adam<f32>,
    schedule: StepDecay,
    workspace: Workspace<f32>,
    batch: Array2<f32>,
    noise: Array2<f32>,
    out_grad: Array2<f32>,
    test_noise: Array2<f32>,
    eval_scratch: Scratch<f32>,
    ism_workspace: Option<ism::IsmWorkspace<f32>>,
    fisher_probe: FisherProbe,
    eval_input: Array2<f32>,
    eval_scores: Array2<f32>,
    order: Vec<usize>,
    cursor: usize,
    epoch: usize,
    step: u64,
    shuffle_rng: StreamRng,
    noise_rng: StreamRng,
    history: History,
    /// The train losses of the epoch under way, summed in step order.
    epoch_loss_sum: f64,
    /// The mean train loss of the last completed epoch.
    last_epoch_loss: Option<f32>,
    diverged: Option<Divergence>,
}

impl Session {
    /// A fresh run that keeps every step's train loss (tests and examples read them all).
    pub fn new(config: &Config) -> Self {
        // Room for every step's loss up front: a growing Vec would allocate mid-training.
        Self::build(config, Self::fresh_model(config), TrainLosses::every(config.total_steps() as usize))
    }

    /// A run for the headless front end, from `start`'s weights when given (a loaded
    /// checkpoint), else fresh. From a checkpoint the rest is as from fresh weights: same
    /// data, batches and noise for the seed, Adam's moment estimates at zero and the
    /// learning-rate schedule from epoch 0 (a checkpoint holds weights only, so continuing is
    /// a warm start, not a bit-exact resume). Its train-loss history is bounded
    /// ([`HEADLESS_VALUES`]), so memory does not grow with the run's length.
    pub fn headless(config: &Config, start: Option<Mlp<f32>>) -> Self {
        let model = start.unwrap_or_else(|| Self::fresh_model(config));
        Self::build(config, model, TrainLosses::bounded(config.total_steps() as usize, HEADLESS_VALUES))
    }

    /// A run for the dashboard's trainer thread: as [`Session::headless`], but it keeps no
    /// train losses at all. The trainer takes each from its step's report and holds only
    /// those the UI has not been sent ([`crate::trainer::losses::Undelivered`]); the UI keeps
    /// its own bounded history.
    pub fn for_dashboard(config: &Config, start: Option<Mlp<f32>>) -> Self {
        let model = start.unwrap_or_else(|| Self::fresh_model(config));
        Self::build(config, model, TrainLosses::none())
    }

    fn fresh_model(config: &Config) -> Mlp<f32> {
        let rng = &mut stream_rng(config.seed, Stream::Weights);
        match config.mode {
            Mode::Single => Mlp::init(config.hidden, config.depth, config.activation, rng),
            Mode::Annealed => Mlp::init_conditional(config.hidden, config.depth, config.activation, rng),
        }
    }

    fn build(config: &Config, model: Mlp<f32>, train_losses: TrainLosses) -> Self {
        assert!(
            model.width() == config.hidden
                && model.depth() == config.depth
                && model.activation == config.activation
                && (model.inputs() == 3) == (config.mode == Mode::Annealed),
            "the model must have the configured architecture (the checkpoint loader checks it)"
        );
        let seed = config.seed;
        let data = config.dataset();
        let adam = Adam::new(AdamConfig { lr: config.lr, ..AdamConfig::default() }, &model.layers);
        let test_len = data.test().nrows();
        let mut test_rng = stream_rng(seed, Stream::TestNoise);
        let test_noise = Array2::from_shape_fn((test_len, 2), |_| StandardNormal.sample(&mut test_rng));
        let annealed = (config.mode == Mode::Annealed).then(|| {
            let log_range = [config.levels.min, config.levels.max].map(|s| (s as f32).ln());
            let test_sigmas = (0..test_len).map(|_| Levels::draw(log_range, &mut test_rng)).collect();
            Levels {
                log_range,
                batch_sigmas: vec![0.0; config.batch_size],
                eval_condition: vec![0.0; EVAL_ROWS.min(test_len)],
                test_sigmas,
                rng: stream_rng(seed, Stream::NoiseLevels),
            }
        });
        let eval_rows = EVAL_ROWS.min(test_len);
        let fisher_probe = FisherProbe::new(
            &model,
            data.train(),
            config.sigma,
            FISHER_PROBE_POINTS,
            &mut stream_rng(seed, Stream::FisherProbe),
        );
        let ism_workspace =
            (config.objective == Objective::Ism).then(|| ism::IsmWorkspace::new(&model, config.batch_size));
        let mut session = Self {
            annealed,
            ism_workspace,
            fisher_probe,
            grads: model.zero_grads(),
            workspace: Workspace::new(&model, config.batch_size),
            batch: Array2::zeros((config.batch_size, 2)),
            noise: Array2::zeros((config.batch_size, 2)),
            out_grad: Array2::zeros((config.batch_size, 2)),
            eval_scratch: Scratch::new(&model, eval_rows),
            eval_input: Array2::zeros((eval_rows, 2)),
            eval_scores: Array2::zeros((eval_rows, 2)),
            test_noise,
            order: (0..data.train().nrows()).collect(),
            cursor: 0,
            epoch: 0,
            step: 0,
            shuffle_rng: stream_rng(seed, Stream::Shuffle),
            noise_rng: stream_rng(seed, Stream::TrainNoise),
            schedule: StepDecay { base_lr: config.lr, gamma: config.lr_gamma },
            history: History {
                train: train_losses,
                test: Vec::with_capacity(config.epochs + 1),
                fisher: Vec::with_capacity(config.epochs + 1),
            },
            epoch_loss_sum: 0.0,
            last_epoch_loss: None,
            diverged: None,
            config: config.clone(),
            data,
            model,
            adam,
        };
        session.record_evaluation();
        session
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn data(&self) -> &Dataset {
        &self.data
    }

    /// A fresh draw of as many data points as particles (for a file, the training split): the
    /// sample a perfect sampler would give, whose energy distance to the test split is the
    /// floor both `--once` and the dashboard show.
    pub fn fresh_data(&self) -> Array2<f32> {
        let config = &self.config;
        match &config.source {
            Source::Builtin(b) => {
                b.generate(config.particles, config.noise, &mut stream_rng(config.seed, Stream::FloorData)).points
            }
            Source::File { .. } => self.data.train().to_owned(),
        }
    }

    pub fn model(&self) -> &Mlp<f32> {
        &self.model
    }

    pub fn history(&self) -> &History {
        &self.history
    }

    /// Epochs completed.
    pub fn epoch(&self) -> usize {
        self.epoch
    }

    /// Training steps completed.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// The learning rate the next step uses.
    pub fn lr(&self) -> f64 {
        self.adam.config.lr
    }

    /// The learning rate of the epoch under way, or of the last epoch once training has
    /// ended: what the status shows (after the last epoch [`Session::lr`] has decayed once
    /// more, for a step that never comes).
    pub fn lr_in_use(&self) -> f64 {
        self.schedule.lr_at_epoch(self.epoch.min(self.config.epochs.saturating_sub(1)))
    }

    pub fn is_finished(&self) -> bool {
        self.epoch >= self.config.epochs
    }

    pub fn divergence(&self) -> Option<Divergence> {
        self.diverged
    }

    /// One DSM step on the next batch. Does nothing once finished; fails (and keeps failing)
    /// once the loss is non-finite or runs away.
    pub fn train_step(&mut self) -> Result<Option<StepReport>, Divergence> {
        if let Some(d) = self.diverged {
            return Err(d);
        }
        if self.is_finished() {
            return Ok(None);
        }
        if self.cursor == 0 {
            self.order.shuffle(&mut self.shuffle_rng);
        }
        let rows = self.config.batch_size.min(self.order.len() - self.cursor);
        let train = self.data.train();
        for (mut row, &i) in self.batch.rows_mut().into_iter().zip(&self.order[self.cursor..self.cursor + rows]) {
            row.assign(&train.row(i));
        }
        let batch = self.batch.slice(s![..rows, ..]);
        let loss = match (&mut self.ism_workspace, &mut self.annealed) {
            (Some(ws), _) => ism::loss_and_grad(&self.model, batch, ws, &mut self.grads).loss(),
            (None, Some(levels)) => {
                let noise_rng = &mut self.noise_rng;
                self.noise.slice_mut(s![..rows, ..]).mapv_inplace(|_| StandardNormal.sample(noise_rng));
                let Levels { log_range, batch_sigmas, rng, .. } = levels;
                batch_sigmas[..rows].iter_mut().for_each(|s| *s = Levels::draw(*log_range, rng));
                ncsn::loss_and_grad(
                    &self.model,
                    batch,
                    self.noise.slice(s![..rows, ..]),
                    &batch_sigmas[..rows],
                    &mut self.workspace,
                    &mut self.out_grad.slice_mut(s![..rows, ..]),
                    &mut self.grads,
                )
            }
            (None, None) => {
                let noise_rng = &mut self.noise_rng;
                self.noise.slice_mut(s![..rows, ..]).mapv_inplace(|_| StandardNormal.sample(noise_rng));
                dsm::loss_and_grad(
                    &self.model,
                    batch,
                    self.noise.slice(s![..rows, ..]),
                    self.config.sigma as f32,
                    &mut self.workspace,
                    &mut self.out_grad.slice_mut(s![..rows, ..]),
                    &mut self.grads,
                )
            }
        };
        self.step += 1;
        if self.is_runaway(loss) {
            return Err(self.diverge(loss, DivergedLoss::Train));
        }
        self.adam.step(&mut self.model.layers, &self.grads);
        self.history.train.push(loss);
        self.epoch_loss_sum += f64::from(loss);

        self.cursor += rows;
        let mut test = None;
        if self.cursor == self.order.len() {
            self.cursor = 0;
            self.epoch += 1;
            self.last_epoch_loss = Some((self.epoch_loss_sum / self.config.steps_per_epoch() as f64) as f32);
            self.epoch_loss_sum = 0.0;
            self.adam.config.lr = self.schedule.lr_at_epoch(self.epoch);
            let point = self.record_evaluation();
            if self.is_runaway(point.loss) {
                // The epoch that produced this loss is the one just completed.
                return Err(self.diverge(point.loss, DivergedLoss::Test));
            }
            test = Some(point);
        }
        Ok(Some(StepReport { step: self.step, loss, test }))
    }

    fn is_runaway(&self, loss: f32) -> bool {
        !(loss.is_finite() && f64::from(loss).abs() <= self.runaway_limit())
    }

    fn runaway_limit(&self) -> f64 {
        match (self.config.objective, self.config.mode) {
            (Objective::Dsm, Mode::Single) => DIVERGENCE_FACTOR * 2.0 / (self.config.sigma * self.config.sigma),
            // The σ²-weighted loss of the zero network is E‖ε‖² = 2.
            (Objective::Dsm, Mode::Annealed) => DIVERGENCE_FACTOR * 2.0,
            (Objective::Ism, _) => ISM_DIVERGENCE,
        }
    }

    /// Test loss and Fisher divergence now, appended to the history; returns the test point.
    fn record_evaluation(&mut self) -> TestPoint {
        let (epoch, step) = (self.epoch, self.step);
        let loss = self.test_loss();
        let conditional_sigma = (self.config.mode == Mode::Annealed).then_some(self.config.sigma as f32);
        let fisher = self.fisher_probe.divergence(&self.model, conditional_sigma) as f32;
        self.history.fisher.push(TestPoint { epoch, step, loss: fisher });
        let point = TestPoint { epoch, step, loss };
        self.history.test.push(point);
        point
    }

    fn diverge(&mut self, loss: f32, what: DivergedLoss) -> Divergence {
        let train = self.data.train();
        let data_rms = (train.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / train.len() as f64).sqrt();
        let epoch = match what {
            DivergedLoss::Train => self.epoch,
            DivergedLoss::Test => self.epoch - 1,
        };
        let d = Divergence {
            step: self.step,
            epoch,
            loss,
            what,
            limit: self.runaway_limit(),
            lr: self.config.lr,
            data_rms,
        };
        self.diverged = Some(d);
        d
    }

    /// The objective's mean loss over the test split (DSM with the run's fixed test noise).
    pub fn test_loss(&mut self) -> f32 {
        if let Some(ws) = &mut self.ism_workspace {
            let test = self.data.test();
            let rows = ws.capacity();
            let total: f64 = test
                .axis_chunks_iter(Axis(0), rows)
                .map(|x| f64::from(ism::forward(&self.model, x, ws).loss()) * x.nrows() as f64)
                .sum();
            return (total / test.nrows() as f64) as f32;
        }
        let sigma = self.config.sigma as f32;
        let test = self.data.test();
        let mut total = 0.0f64;
        for (chunk, (x, eps)) in test
            .axis_chunks_iter(Axis(0), EVAL_ROWS)
            .zip(self.test_noise.axis_chunks_iter(Axis(0), EVAL_ROWS))
            .enumerate()
        {
            let rows = x.nrows();
            let mut input = self.eval_input.slice_mut(s![..rows, ..]);
            let mut scores = self.eval_scores.slice_mut(s![..rows, ..]);
            match &mut self.annealed {
                None => {
                    ndarray::Zip::from(&mut input).and(x).and(eps).for_each(|t, &x, &e| *t = x + sigma * e);
                    self.model.forward(input.view(), &mut scores, &mut self.eval_scratch);
                    total += f64::from(dsm::residual_sum(scores.view(), eps, sigma));
                }
                Some(levels) => {
                    // The σ²-weighted loss of each row at its own fixed level: ‖net + ε‖².
                    let Levels { test_sigmas, eval_condition, .. } = levels;
                    let sigmas = &test_sigmas[chunk * EVAL_ROWS..chunk * EVAL_ROWS + rows];
                    let condition = &mut eval_condition[..rows];
                    for ((mut t, (x, e)), &s) in
                        input.rows_mut().into_iter().zip(x.rows().into_iter().zip(eps.rows())).zip(sigmas)
                    {
                        ndarray::Zip::from(&mut t).and(x).and(e).for_each(|t, &x, &e| *t = x + s * e);
                    }
                    condition.iter_mut().zip(sigmas).for_each(|(c, &s)| *c = s.ln());
                    self.model.forward_conditional(input.view(), condition, &mut scores, &mut self.eval_scratch);
                    total += f64::from(dsm::residual_sum(scores.view(), eps, 1.0));
                }
            }
        }
        (total / test.nrows() as f64) as f32
    }

    /// Mean train loss over the last completed epoch (the figure the reference prints).
    pub fn last_epoch_train_loss(&self) -> Option<f32> {
        self.last_epoch_loss
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pearson's χ² of `counts` against equal expected counts.
    fn chi_square_uniform(counts: &[u32]) -> f64 {
        let expected = f64::from(counts.iter().sum::<u32>()) / counts.len() as f64;
        counts.iter().map(|&c| (f64::from(c) - expected).powi(2) / expected).sum()
    }

    /// The bar for χ² with 9 degrees of freedom (ten bins): its 1 − 1e-6 quantile
    /// (Wilson–Hilferty: 9·(1 − 2/81 + 4.753·√(2/81))³ ≈ 46.0), so a fair draw fails about
    /// once in a million runs, while leaving out a tenth of the range (χ² ≈ N/9 for N draws)
    /// or a uniform draw in σ rather than ln σ fails by orders of magnitude at these sizes.
    const CHI_SQUARE_9_BAR: f64 = 46.0;

    /// Annealed training draws each row's σ log-uniformly from [σ_min, σ_max]: every drawn
    /// value is in the range, and the counts of ln σ in ten equal bins pass a χ² test, both
    /// for the training batches and the test split's fixed levels.
    #[test]
    fn annealed_training_draws_noise_levels_log_uniformly_over_the_range() {
        let config =
            Config { mode: Mode::Annealed, hidden: 16, count: 4000, batch_size: 128, epochs: 1, ..Config::default() };
        let mut session = Session::new(&config);
        let (lo, hi) = (config.levels.min.ln(), config.levels.max.ln());
        const BINS: usize = 10; // the bar below assumes ten bins
        let bin = |sigma: f32| {
            let sigma = f64::from(sigma);
            // f32 rounding at the ends: within 1e-6 relative of the range.
            assert!(
                sigma >= config.levels.min * (1.0 - 1e-6) && sigma <= config.levels.max * (1.0 + 1e-6),
                "σ {sigma} outside the range"
            );
            (((sigma.ln() - lo) / (hi - lo) * BINS as f64) as usize).min(BINS - 1)
        };
        let mut batch_counts = vec![0u32; BINS];
        let mut rows_drawn = 0;
        while rows_drawn < config.train_len() {
            session.train_step().expect("a small run does not diverge").expect("one epoch to go");
            let rows = config.batch_size.min(config.train_len() - rows_drawn);
            let drawn = &session.annealed.as_ref().expect("annealed mode").batch_sigmas[..rows];
            drawn.iter().for_each(|&s| batch_counts[bin(s)] += 1);
            rows_drawn += rows;
        }
        assert!(session.is_finished(), "one epoch's batches cover the training split");
        let chi2 = chi_square_uniform(&batch_counts);
        assert!(chi2 < CHI_SQUARE_9_BAR, "training draws {batch_counts:?}: χ² = {chi2:.1} ≥ {CHI_SQUARE_9_BAR}");

        let mut test_counts = vec![0u32; BINS];
        session.annealed.as_ref().unwrap().test_sigmas.iter().for_each(|&s| test_counts[bin(s)] += 1);
        let chi2 = chi_square_uniform(&test_counts);
        assert!(chi2 < CHI_SQUARE_9_BAR, "test split's levels {test_counts:?}: χ² = {chi2:.1} ≥ {CHI_SQUARE_9_BAR}");
    }
}
