//! Training objectives for the score network. Both estimate the Fisher divergence between
//! the model's score and the data's up to a constant free of θ:
//! - [`dsm`], denoising score matching (Vincent 2011), the course's and the default;
//! - [`ism`], implicit score matching (Hyvärinen 2005), on clean data via tr ∇ₓs.

pub mod dsm;
pub mod ism;
pub mod ncsn;

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Objective {
    /// Denoising score matching: ‖s(x + σε) + ε/σ‖²
    Dsm,
    /// Implicit score matching: ½‖s(x)‖² + tr ∇ₓs(x)
    Ism,
}

impl Objective {
    pub fn name(self) -> &'static str {
        match self {
            Objective::Dsm => "dsm",
            Objective::Ism => "ism",
        }
    }

    pub fn other(self) -> Self {
        match self {
            Objective::Dsm => Objective::Ism,
            Objective::Ism => Objective::Dsm,
        }
    }
}
