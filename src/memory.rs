//! How much memory a configuration needs at its peak, worked out from the configuration alone,
//! and whether this machine has it: a run that cannot get its buffers should say so before it
//! starts, not abort in the middle (Rust aborts on a failed allocation, with no message and,
//! in the dashboard, a raw terminal).
//!
//! The estimate adds up what a run holds at once: the data set, the training batch's
//! activations for the forward and backward passes (the implicit objective keeps tangents and
//! adjoints beside them), the weights with their gradients, per-shard partial gradients and
//! Adam's two moments, the particles and the sampler's per-task buffers, and the train losses
//! held (each front end holds at most a fixed number, whatever the run's length: its caller
//! passes how many). `tests/memory.rs` checks it against the peak a counting allocator
//! measures.
//!
//! What is available is `MemAvailable` from `/proc/meminfo`, or less under an address-space
//! limit (`ulimit -v`): the limit less what the process already maps. When neither can be
//! read the run is not refused.

use std::fmt;

use crate::config::{Config, Mode};
use crate::nn::mlp::MAX_SHARDS;
use crate::objective::Objective;

/// Bytes of one f32.
const FLOAT: u64 = 4;
/// Rows per chunk of the test-loss evaluation and of the sampler (`trainer::session`,
/// `sampling::langevin::CHUNK`): their inference buffers scale with them.
const EVAL_ROWS: u64 = 1024;
const SAMPLER_ROWS: u64 = crate::sampling::langevin::CHUNK as u64;

/// One part of the estimate: what it is, in words a user can act on, and its bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    pub what: String,
    pub bytes: u64,
}

/// The peak memory of a run, by part.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    pub parts: Vec<Part>,
}

impl Estimate {
    pub fn total(&self) -> u64 {
        self.parts.iter().map(|p| p.bytes).sum()
    }
}

/// The peak memory a run of `config` needs, keeping `losses_kept` train losses.
/// `config.objective` is the one trained: for `--compare-objectives`, pass the costlier (ISM).
pub fn estimate(config: &Config, losses_kept: u64) -> Estimate {
    let (batch, width, depth) = (config.batch_size as u64, config.hidden as u64, config.depth as u64);
    let inputs = if config.mode == Mode::Annealed { 3 } else { 2 };
    let params = inputs * width + width + (depth - 1) * (width * width + width) + 2 * width + 2;
    // The DSM workspace: pre-activations and slopes per layer, two δ buffers; the rows round
    // up by up to MAX_SHARDS.
    let rows = batch + MAX_SHARDS as u64;
    let mut activations = (2 * depth + 2) * rows * width;
    if config.objective == Objective::Ism {
        // Beside it, ISM's stacks (3 rows per point), tangents (2), slopes and curvatures
        // per layer, and two adjoint buffers of three rows per point.
        activations += (7 * depth + 6) * batch * width;
    }
    let parts = vec![
        // Points, labels, the shuffled copy and the split, the shuffle order, the test noise.
        Part { what: format!("{} data points", config.count), bytes: config.count as u64 * 48 },
        Part {
            what: format!("batch {batch} × width {width} × depth {depth} activations"), bytes: activations * FLOAT
        },
        // The model, its gradients, Adam's two moments, a partial gradient per shard, and a
        // few snapshots (sampler, checkpoint).
        Part { what: format!("{params} weights"), bytes: (8 + MAX_SHARDS as u64) * params * FLOAT },
        Part {
            what: format!("{} particles", config.particles),
            bytes: config.particles as u64 * 4 * FLOAT
                + 2 * (EVAL_ROWS + sampler_tasks(config.particles) * SAMPLER_ROWS) * width * FLOAT,
        },
        Part { what: format!("a loss history of {losses_kept} steps"), bytes: losses_kept * FLOAT },
    ];
    Estimate { parts }
}

/// Sampler tasks that hold inference buffers at once: one per thread, at most one per chunk.
fn sampler_tasks(particles: usize) -> u64 {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    particles.div_ceil(SAMPLER_ROWS as usize).min(threads) as u64
}

/// Memory this process may still take, and where the figure comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Available {
    pub bytes: u64,
    /// Set when an address-space limit (`ulimit -v`), not the free memory, is the bound.
    pub limited: bool,
}

impl Available {
    /// This machine's `MemAvailable`, or the room left under `ulimit -v` when that is less;
    /// `None` when neither can be read.
    pub fn now() -> Option<Self> {
        let free = std::fs::read_to_string("/proc/meminfo").ok().and_then(|s| kib_field(&s, "MemAvailable:"));
        let limit = address_space_left();
        match (free, limit) {
            (Some(free), Some(left)) if left < free => Some(Self { bytes: left, limited: true }),
            (Some(free), _) => Some(Self { bytes: free, limited: false }),
            (None, Some(left)) => Some(Self { bytes: left, limited: true }),
            (None, None) => None,
        }
    }
}

/// The soft address-space limit less the process's current mappings, if there is a limit.
fn address_space_left() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max address space"))?;
    let limit: u64 = line.split_whitespace().nth(3)?.parse().ok()?; // "unlimited" does not parse
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    Some(limit.saturating_sub(kib_field(&status, "VmSize:")?))
}

/// The value of a `NAME:   123 kB` line of a `/proc` file (`meminfo`, `status`), in bytes.
pub fn kib_field(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(name))?;
    let kib: u64 = line[name.len()..].split_whitespace().next()?.parse().ok()?;
    Some(kib * 1024)
}

/// A configuration that needs more memory than there is.
#[derive(Clone, Debug, PartialEq)]
pub struct TooBig {
    pub estimate: Estimate,
    pub available: Available,
    /// The flags that shrink it, as the message lists them ([`RUN_FLAGS`] for a run).
    pub flags: &'static str,
}

/// The flags that shrink a run.
pub const RUN_FLAGS: &str = "--batch-size, --hidden, --depth, --count or --epochs";

impl fmt::Display for TooBig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.estimate.total();
        // The parts that matter: each at least a tenth of the total, largest first.
        let mut big: Vec<&Part> = self.estimate.parts.iter().filter(|p| p.bytes * 10 >= total).collect();
        big.sort_by_key(|p| std::cmp::Reverse(p.bytes));
        let big: Vec<String> = big.iter().map(|p| format!("{} {}", p.what, gigabytes(p.bytes))).collect();
        let room = if self.available.limited { "is allowed (ulimit -v)" } else { "is available" };
        write!(
            f,
            "this configuration needs about {} ({}); {} {room}: use a smaller {}",
            gigabytes(total),
            big.join(", "),
            gigabytes(self.available.bytes),
            self.flags
        )
    }
}

impl std::error::Error for TooBig {}

fn gigabytes(bytes: u64) -> String {
    format!("{:.1} GB", bytes as f64 / 1e9)
}

/// Refuses `config` when its estimate exceeds the memory available now; allows it when that
/// cannot be read.
pub fn check(config: &Config, losses_kept: u64) -> Result<(), TooBig> {
    let estimate = estimate(config, losses_kept);
    match Available::now() {
        Some(available) if estimate.total() > available.bytes => Err(TooBig { estimate, available, flags: RUN_FLAGS }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_the_big_parts_and_what_is_available() {
        let config = Config { count: 100_000, batch_size: 80_000, hidden: 2048, depth: 16, ..Config::default() };
        let estimate = estimate(&config, config.total_steps());
        let message =
            TooBig { estimate, available: Available { bytes: 22_900_000_000, limited: false }, flags: RUN_FLAGS }
                .to_string();
        assert!(message.contains("(batch 80000 × width 2048 × depth 16 activations "), "{message}");
        assert!(message.ends_with("--count or --epochs") && message.contains("22.9 GB is available"), "{message}");
        assert!(!message.contains("particles"), "a small part is left out: {message}");
    }

    #[test]
    fn proc_fields_read_in_bytes() {
        let meminfo = "MemTotal:       24000000 kB\nMemAvailable:   22900000 kB\n";
        assert_eq!(kib_field(meminfo, "MemAvailable:"), Some(22_900_000 * 1024));
        assert_eq!(kib_field(meminfo, "Cached:"), None);
        let status = "Name:\tdsm-tui\nVmPeak:\t  20000 kB\nVmHWM:\t    8356 kB\nVmRSS:\t    8000 kB\n";
        assert_eq!(kib_field(status, "VmHWM:"), Some(8356 * 1024));
    }
}
