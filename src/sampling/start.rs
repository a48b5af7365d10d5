//! Where the particles start. The course's single-σ chain starts from U[−1, 1]², as the
//! notebook does. Annealed Langevin starts from the prior its largest level implies: the
//! data noised at σ_max is, to within the data's own spread (small beside σ_max, the data's
//! diameter by default), N(m, σ_max² I) with m the training mean. Started there, the first
//! level has nothing to undo, whatever the data's place and scale (U[−1, 1]² is where the
//! moons are, not where a file's points need be).

use ndarray::ArrayView2;

use crate::config::{Config, Mode};
use crate::sampling::langevin::Particles;

/// A start distribution for the particles.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Start {
    /// U[−1, 1]².
    Uniform,
    /// N(centre, sigma² I).
    Prior { centre: [f32; 2], sigma: f32 },
}

impl Start {
    /// The start of `config`'s sampler, with `train` its training points.
    pub fn for_run(config: &Config, train: ArrayView2<f32>) -> Self {
        match config.mode {
            Mode::Single => Start::Uniform,
            Mode::Annealed => {
                let rows = train.nrows().max(1) as f64;
                let mean = |d: usize| (train.column(d).iter().map(|&v| f64::from(v)).sum::<f64>() / rows) as f32;
                Start::Prior { centre: [mean(0), mean(1)], sigma: config.levels.max as f32 }
            }
        }
    }

    /// `count` particles from this start, on `seed`'s particle streams numbered `restart`.
    pub fn particles(self, count: usize, seed: u64, restart: u64) -> Particles {
        match self {
            Start::Uniform => Particles::uniform(count, seed, restart),
            Start::Prior { centre, sigma } => Particles::gaussian(count, seed, restart, centre, sigma),
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::*;
    use crate::noise_levels::NoiseLevels;

    #[test]
    fn the_single_chain_starts_uniform_and_the_annealed_one_from_its_prior() {
        let train = array![[1.0f32, 2.0], [3.0, 6.0]];
        assert_eq!(Start::for_run(&Config::default(), train.view()), Start::Uniform);
        let annealed =
            Config { mode: Mode::Annealed, levels: NoiseLevels::geometric(4.0, 0.1, 5), ..Config::default() };
        let start = Start::for_run(&annealed, train.view());
        assert_eq!(start, Start::Prior { centre: [2.0, 4.0], sigma: 4.0 });
        // Its draws: mean and spread as asked, to within their sampling error (n = 20,000:
        // the mean's standard error is 4/√n ≈ 0.028, the variance's about 0.01 relative).
        let positions = start.particles(20_000, 3, 0).positions();
        for (d, centre) in [2.0, 4.0].into_iter().enumerate() {
            let column = positions.column(d);
            let mean = column.mean().unwrap();
            let var = column.mapv(|v| (v - mean).powi(2)).mean().unwrap();
            assert!((mean - centre).abs() < 0.12, "mean {mean} vs {centre}");
            assert!((var / 16.0 - 1.0).abs() < 0.05, "variance {var} vs 16");
        }
    }
}
