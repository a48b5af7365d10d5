//! Adam against a trajectory computed by hand, and the per-epoch step-decay schedule.

use dsm_tui::config::Config;
use dsm_tui::nn::{Adam, AdamConfig, Linear, StepDecay};
use dsm_tui::trainer::Session;
use ndarray::{arr1, arr2};

#[test]
fn adam_defaults_are_the_papers() {
    let c = AdamConfig::default();
    assert_eq!((c.betas, c.eps), ((0.9, 0.999), 1e-8));
}

/// One parameter, lr 0.1, β = (0.9, 0.999), gradients +1, −1, +1. By hand:
/// t=1: m=0.1, v=0.001, m̂=1, v̂=1 → θ = 1 − 0.1 = 0.9
/// t=2: m=−0.01, v=0.001999, m̂=−0.01/0.19=−0.0526316, v̂=1 → θ = 0.9052632
/// t=3: m=0.091, v=0.002997001, m̂=0.091/0.271=0.3357934, v̂=1 → θ = 0.8716838
/// (ε = 1e-8 shifts these by ~1e-9.)
#[test]
fn adam_follows_the_hand_computed_trajectory() {
    let config = AdamConfig { lr: 0.1, ..AdamConfig::default() };
    let mut params = vec![Linear { weight: arr2(&[[1.0f64]]), bias: arr1(&[-2.0]) }];
    let mut adam = Adam::new(config, &params);
    let expected = [0.9, 0.905_263_157_9, 0.871_683_824_4];
    for (step, (g, want)) in [1.0, -1.0, 1.0].into_iter().zip(expected).enumerate() {
        // The bias sees the opposite gradient: Adam is per coordinate and sign-symmetric.
        let grads = vec![Linear { weight: arr2(&[[g]]), bias: arr1(&[-g]) }];
        adam.step(&mut params, &grads);
        let (w, b) = (params[0].weight[[0, 0]], params[0].bias[0]);
        assert!((w - want).abs() < 1e-8, "step {}: weight {w} vs hand-computed {want}", step + 1);
        assert!((b - (-2.0 + (1.0 - want))).abs() < 1e-8, "step {}: bias {b}", step + 1);
    }
    assert_eq!(adam.steps_taken(), 3);
}

#[test]
fn step_decay_multiplies_by_gamma_each_epoch() {
    let schedule = StepDecay { base_lr: 1e-2, gamma: 0.95 };
    assert_eq!(schedule.lr_at_epoch(0), 1e-2);
    assert!((schedule.lr_at_epoch(3) - 1e-2 * 0.95f64.powi(3)).abs() < 1e-15);
}

#[test]
fn session_decays_the_learning_rate_at_each_epoch_end() {
    let config = Config { count: 100, batch_size: 32, epochs: 3, lr_gamma: 0.5, ..Config::default() };
    // 80 training points in batches of 32: 32 + 32 + 16, three steps per epoch.
    assert_eq!(config.steps_per_epoch(), 3);
    let mut session = Session::new(&config);
    let mut lrs = vec![session.lr()];
    while !session.is_finished() {
        let report = session.train_step().expect("no divergence").expect("a step");
        if report.test.is_some() {
            lrs.push(session.lr());
        }
    }
    assert_eq!(lrs, vec![1e-2, 5e-3, 2.5e-3, 1.25e-3]);
    assert_eq!(session.step(), 9);
    assert_eq!(session.history().train.values().len(), 9);
    let epochs: Vec<_> = session.history().test.iter().map(|p| (p.epoch, p.step)).collect();
    assert_eq!(epochs, vec![(0, 0), (1, 3), (2, 6), (3, 9)]);
}

#[test]
fn a_finished_session_shows_the_learning_rate_its_last_epoch_used() {
    let config = Config { count: 100, batch_size: 32, epochs: 3, lr_gamma: 0.5, ..Config::default() };
    let mut session = Session::new(&config);
    assert_eq!(session.lr_in_use(), 1e-2);
    while !session.is_finished() {
        session.train_step().expect("no divergence");
    }
    assert_eq!(session.lr_in_use(), 2.5e-3, "epoch 2's, not the decayed 1.25e-3");
    assert_eq!(session.lr(), 1.25e-3);
}
