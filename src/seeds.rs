//! Independent, reproducible random streams derived from the one `--seed`.
//!
//! Every consumer of randomness gets its own stream, so changing how much one part draws
//! (say, more particles) leaves every other part bit-for-bit the same. The generator is
//! xoshiro256++ (a named algorithm, stable across platforms, fast), seeded through
//! SplitMix64 as `SeedableRng::seed_from_u64` does.

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

pub type StreamRng = Xoshiro256PlusPlus;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Data,
    /// A fresh draw of the data, the floor of the energy distance.
    FloorData,
    Weights,
    Shuffle,
    TrainNoise,
    /// Noise of the test loss, fixed so the curve compares epoch to epoch.
    TestNoise,
    /// Probe points of the Fisher divergence readout.
    FisherProbe,
    /// Annealed mode: each training sample's noise level.
    NoiseLevels,
    /// Starting points and noise of chunk `c` of the Langevin particles, restarted `r` times.
    Particles {
        restart: u64,
        chunk: u64,
    },
}

impl Stream {
    fn id(self) -> u64 {
        match self {
            Stream::Data => 1,
            Stream::FloorData => 2,
            Stream::Weights => 3,
            Stream::Shuffle => 4,
            Stream::TrainNoise => 5,
            Stream::TestNoise => 6,
            Stream::FisherProbe => 7,
            Stream::NoiseLevels => 8,
            Stream::Particles { restart, chunk } => 1 << 32 | restart << 20 | chunk,
        }
    }
}

pub fn stream_rng(seed: u64, stream: Stream) -> StreamRng {
    // Mix the seed first so seeds 0, 1, 2 … and stream ids do not collide linearly.
    StreamRng::seed_from_u64(splitmix64(seed) ^ splitmix64(stream.id().wrapping_mul(0x9E37_79B9_7F4A_7C15)))
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}
