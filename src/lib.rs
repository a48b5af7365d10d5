//! dsm-tui: a small network learns the score of a 2-D distribution by denoising score
//! matching while Langevin particles, driven by the score as it is learned, flow onto the
//! data. The library holds everything; `main.rs` only picks the front end.

pub mod app;
pub mod bench;
pub mod chain;
pub mod checkpoint;
pub mod cli;
pub mod compare;
pub mod config;
pub mod data;
pub mod fisher;
pub mod headless;
pub mod metrics;
pub mod nn;
pub mod noise_levels;
pub mod objective;
pub mod output;
pub mod plot;
pub mod progress;
pub mod rate;
pub mod sampler;
pub mod score_field;
pub mod seeds;
pub mod trainer;
pub mod tui;
pub mod ui;
