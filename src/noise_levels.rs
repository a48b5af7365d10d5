//! The noise levels of annealed Langevin dynamics (Song & Ermon 2019): a geometric sequence
//! σ₁ > σ₂ > … > σ_L from σ_max to σ_min, so each level's noised density overlaps the next
//! one's (a constant ratio σᵢ₊₁/σᵢ) while the largest blurs the data into one blob that any
//! start reaches and the smallest is close to the data.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NoiseLevels {
    pub max: f64,
    pub min: f64,
    /// σ₁ = max, …, σ_L = min.
    pub sigmas: Vec<f64>,
}

impl NoiseLevels {
    pub fn geometric(max: f64, min: f64, count: usize) -> Self {
        let sigmas = if count == 1 {
            vec![max]
        } else {
            let ratio = (min / max).powf(1.0 / (count - 1) as f64);
            (0..count).map(|i| if i + 1 == count { min } else { max * ratio.powi(i as i32) }).collect()
        };
        Self { max, min, sigmas }
    }

    pub fn len(&self) -> usize {
        self.sigmas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sigmas.is_empty()
    }

    pub fn smallest(&self) -> f64 {
        *self.sigmas.last().expect("at least one level")
    }
}

impl Default for NoiseLevels {
    /// σ_max 1.0 (the moons' scale), σ_min 0.01, 10 levels.
    fn default() -> Self {
        Self::geometric(1.0, 0.01, 10)
    }
}

impl fmt::Display for NoiseLevels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", crate::shown::number(self.max), crate::shown::number(self.min), self.len())
    }
}

impl FromStr for NoiseLevels {
    type Err = String;

    /// `MAX:MIN:L` with 0 < MIN < MAX ≤ 100 and 2 ≤ L ≤ 1000 (or MIN = MAX with L = 1).
    fn from_str(text: &str) -> Result<Self, String> {
        let parts: Vec<&str> = text.split(':').collect();
        // Each message starts "expected": the command line prints it as what is accepted.
        let [max, min, count] = parts.as_slice() else {
            return Err("expected MAX:MIN:L, e.g. 1.0:0.01:10".into());
        };
        let number = |s: &str, what: &str| {
            s.trim().parse::<f64>().map_err(|_| format!("expected MAX:MIN:L ({what} '{s}' is not a number)"))
        };
        let (max, min) = (number(max, "MAX")?, number(min, "MIN")?);
        let count: usize =
            count.trim().parse().map_err(|_| format!("expected MAX:MIN:L (L '{count}' is not a whole number)"))?;
        if !(min.is_finite() && max.is_finite() && 0.0 < min && min <= max && max <= 100.0) {
            return Err(format!(
                "expected MAX:MIN:L with 0 < MIN ≤ MAX ≤ 100 (got MAX {}, MIN {})",
                crate::shown::number(max),
                crate::shown::number(min)
            ));
        }
        if !(1..=1000).contains(&count) || (count == 1) != (min == max) {
            return Err(format!(
                "expected MAX:MIN:L with 2 ≤ L ≤ 1000 and MIN < MAX, or L = 1 and MIN = MAX (got L {count})"
            ));
        }
        Ok(Self::geometric(max, min, count))
    }
}
