//! dsm-tui: a small network learns the score of a 2-D distribution by denoising score
//! matching while Langevin particles, driven by the score as it is learned, flow onto the
//! data. The library holds everything; `main.rs` only picks the front end. ARCHITECTURE.md
//! says what each module owns and which way imports point.

pub mod app;
pub mod bench;
pub mod checkpoint;
pub mod cli;
pub mod config;
pub mod console;
pub mod dashboard;
pub mod data;
pub mod eval;
pub mod fs;
pub mod headless;
pub mod memory;
pub mod nn;
pub mod noise_levels;
pub mod objective;
pub mod rate;
pub mod sampling;
pub mod seeds;
pub mod shown;
pub mod signals;
pub mod trainer;
pub mod ui;
