//! No heap allocation per training step or per Langevin step in the steady state, counted by
//! a global allocator of this test binary's own (tests/common/counting_allocator.rs).
//!
//! Everything runs in one test function: the counter is process-wide, and tests of one
//! binary run on parallel threads.

#[path = "common/counting_allocator.rs"]
mod counting_allocator;

use counting_allocator::allocations_during;
use dsm_tui::config::{Config, Mode};
use dsm_tui::noise_levels::NoiseLevels;
use dsm_tui::sampling::diffusion::{DiffusionSampler, Step};
use dsm_tui::sampling::langevin::{ConditionalScore, Particles};
use dsm_tui::trainer::Session;

/// Training steps inside one epoch (the end of an epoch evaluates, which is not a step).
fn steps_within_an_epoch(config: &Config) -> usize {
    let mut session = Session::new(config);
    // Warm up: the first steps fill rayon's pool and any lazily grown buffer.
    for _ in 0..3 {
        session.train_step().expect("finite loss");
    }
    let steps = config.steps_per_epoch() - 5;
    allocations_during(|| {
        for _ in 0..steps {
            session.train_step().expect("finite loss").expect("not finished");
        }
    })
}

#[test]
fn steady_state_steps_do_not_allocate() {
    // The defaults: batch 64, one shard, no fork-join.
    let defaults = Config { epochs: 2, ..Config::default() };
    assert_eq!(steps_within_an_epoch(&defaults), 0, "training steps at the default batch allocated");

    // Batches split into shards over rayon's threads (2 and 8 shards). Called from a thread of
    // the pool, as here, rayon queues the shards on that thread's own deque: no allocation.
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("a thread pool");
    for batch_size in [128, 1024] {
        let config = Config { batch_size, epochs: 2, count: batch_size * 50, ..Config::default() };
        let allocations = pool.install(|| steps_within_an_epoch(&config));
        assert_eq!(allocations, 0, "training steps at batch {batch_size} allocated");
    }
    // Called from outside the pool (the headless run's main thread): two shards go to the
    // workspace's partner thread, no allocation; more shards enter rayon through its global
    // injection queue, which allocates one block per 63 jobs: one job a step, so one
    // allocation per ~63 steps, and none of them ours.
    let config = Config { batch_size: 128, epochs: 2, ..Config::default() };
    assert_eq!(steps_within_an_epoch(&config), 0, "training steps at batch 128 allocated (outside the pool)");
    let config = Config { batch_size: 1024, epochs: 2, count: 1024 * 50, ..Config::default() };
    let steps = config.steps_per_epoch() - 5;
    let allocations = steps_within_an_epoch(&config);
    assert!(allocations <= steps.div_ceil(63) + 1, "{allocations} allocations in {steps} steps at batch 1024");

    // Whole training runs, evaluations at the ends of epochs included: four more epochs
    // (252 more steps) cost at most one allocation per epoch-end evaluation (the Fisher
    // probe collects its partial sums into a Vec), none per step.
    let whole_run = |epochs| {
        let config = Config { epochs, count: 1000, ..Config::default() };
        let mut session = Session::new(&config);
        allocations_during(|| while session.train_step().expect("finite loss").is_some() {})
    };
    let (short, long) = (whole_run(2), whole_run(6));
    assert!(long <= short + 4, "training: {short} allocations in 2 epochs, {long} in 6");

    // Langevin: a call allocates a few inference buffers per rayon task, never per step.
    let model = Session::new(&Config { epochs: 1, count: 1000, ..Config::default() }).model().clone();
    let single = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("a thread pool");
    let mut particles = Particles::uniform(5000, 0, 0);
    particles.langevin(&model, 0.01, 1);
    let mut one_thread = |steps| single.install(|| allocations_during(|| particles.langevin(&model, 0.01, steps)));
    let (short, long) = (one_thread(1), one_thread(300));
    assert_eq!(short, long, "Langevin on one thread: {short} allocations for 1 step, {long} for 300");
    let chunks = 5000usize.div_ceil(dsm_tui::sampling::langevin::CHUNK);
    let mut particles = Particles::uniform(5000, 0, 0);
    let two_threads = allocations_during(|| particles.langevin(&model, 0.01, 300));
    // At most one set of buffers per chunk (rayon splits no finer than that), however the
    // two threads share the chunks.
    assert!(
        two_threads <= chunks * short.max(1),
        "Langevin on the default pool: {two_threads} allocations for 300 steps of {chunks} chunks"
    );

    // Reverse diffusion and the ODE (Euler, Heun) follow their whole grid as one plan per
    // chunk, predictor–corrector as a plan on one set of buffers per thread: on one thread a
    // run of 601 evaluations allocates what a run of 5 does.
    let config = Config { mode: Mode::Annealed, epochs: 1, count: 1000, hidden: 16, ..Config::default() };
    let model = Session::new(&config).model().clone();
    let field = ConditionalScore { model: &model };
    let levels = NoiseLevels::geometric(3.0, 0.01, 10);
    for step in [Step::ReverseDiffusion, Step::OdeEuler, Step::OdeHeun, Step::PredictorCorrector { snr: 0.16 }] {
        let run = |nfe| {
            let mut particles = Particles::uniform(2000, 0, 0);
            let mut sampler = DiffusionSampler::new(step, &levels, nfe);
            single.install(|| allocations_during(|| sampler.advance(&mut particles, &field, nfe)))
        };
        let (short, long) = (run(5), run(601));
        assert_eq!(short, long, "{step:?}: {short} allocations for 5 evaluations, {long} for 601");
    }
}
