//! The privacy engine: every audience number leaves through it.
//!
//! 1. Noise: exact discrete Laplace from a CSPRNG ([`sampler`]), scaled to
//!    each table's sensitivity (a member counted under several interests
//!    has a capped contribution, and the scale says so).
//! 2. Minimum cell size, decided on the *noisy* count.
//! 3. A per-brand budget ledger, debited atomically before noise is drawn
//!    ([`ledger`]).
//! 4. Same question, same answer: answers are stored per data epoch
//!    ([`answers`]) and served again at no cost.
//! 5. No recovery by subtraction: totals are the sum of the *shown* noisy
//!    cells, so a total minus its shown siblings is zero, not the
//!    suppressed cell; and any other question is a fresh, budgeted, noisy
//!    release (a difference of two releases carries both noises).
//! 6. Every answer carries its metadata: ε spent, noise scale, a 95%
//!    interval, suppressed cells, budget left.

pub(crate) mod answers;
pub(crate) mod ledger;
pub(crate) mod once;
pub(crate) mod sampler;

use sampler::{Ratio, discrete_laplace, interval95, scale};

/// The privacy settings in force (all configurable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrivacySettings {
    /// ε per released table (counts, or a sum), in millionths.
    pub epsilon_per_table_micros: u64,
    /// ε a brand may spend per Asia/Shanghai calendar day, in millionths.
    pub daily_budget_micros: u64,
    /// ε a brand may spend in any 30 days, in millionths.
    pub thirty_day_budget_micros: u64,
    /// Cells whose noisy member count is below this are suppressed.
    pub min_cell: i64,
    /// ε of the platform release of each data epoch (the platform ledger's
    /// debit per epoch), in millionths.
    pub platform_epsilon_per_epoch_micros: u64,
    /// ε all platform releases may spend in any 365 days, in millionths: a
    /// release that would pass it is not made.
    pub platform_yearly_budget_micros: u64,
}

impl Default for PrivacySettings {
    /// DESIGN.md's defaults: ε 0.1 a table, 1 a day, 10 in 30 days, k = 50;
    /// ε 4 per platform release and 48 a year for them (README says why).
    fn default() -> Self {
        Self {
            epsilon_per_table_micros: 100_000,
            daily_budget_micros: 1_000_000,
            thirty_day_budget_micros: 10_000_000,
            min_cell: 50,
            platform_epsilon_per_epoch_micros: 4_000_000,
            platform_yearly_budget_micros: 48_000_000,
        }
    }
}

/// ε in millionths, from a decimal such as `0.1`; exact, no float.
pub(crate) fn parse_epsilon(raw: &str) -> Result<u64, String> {
    let raw = raw.trim();
    let (whole, fraction) = raw.split_once('.').unwrap_or((raw, ""));
    if fraction.len() > 6 || (whole.is_empty() && fraction.is_empty()) {
        return Err(format!(
            "`{raw}`: use a decimal with at most 6 places, e.g. 0.1"
        ));
    }
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if !digits(whole) || !digits(fraction) {
        return Err(format!("`{raw}` is not a positive decimal"));
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| format!("`{raw}` is too large"))?
    };
    let fraction: u64 = format!("{fraction:0<6}")
        .parse()
        .map_err(|_| format!("`{raw}` is not a decimal"))?;
    let micros = whole
        .checked_mul(1_000_000)
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(|| format!("`{raw}` is too large"))?;
    if micros == 0 {
        return Err("ε must be more than 0".to_owned());
    }
    Ok(micros)
}

/// How one released table was noised, for the answer's metadata.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NoiseInfo {
    /// Discrete Laplace scale Δ/ε.
    pub scale: f64,
    /// Half-width of the central 95% interval of the noise.
    pub interval95: i64,
    /// The L1 sensitivity Δ the scale assumes.
    pub sensitivity: u64,
}

/// A table of true values to release: one value per cell, each member
/// moving the table by at most `sensitivity` in L1.
pub(crate) struct Table<'a> {
    /// True values, one per cell (zero cells included: absence must not show).
    pub values: &'a [i64],
    /// L1 sensitivity.
    pub sensitivity: u64,
}

/// Releases a table with ε = `epsilon_micros`: adds independent discrete
/// Laplace noise to every cell. The caller must have debited the budget.
pub(crate) fn release(table: &Table<'_>, epsilon_micros: u64) -> (Vec<i64>, NoiseInfo) {
    let noise_scale: Ratio = scale(table.sensitivity, epsilon_micros);
    let mut rng = rand::rng();
    let noisy = table
        .values
        .iter()
        .map(|value| value.saturating_add(discrete_laplace(&mut rng, noise_scale)))
        .collect();
    let info = NoiseInfo {
        scale: noise_scale.num as f64 / noise_scale.den as f64,
        interval95: interval95(noise_scale),
        sensitivity: table.sensitivity,
    };
    (noisy, info)
}

/// Whether a cell with this noisy member count may be shown.
pub(crate) fn shown(noisy_members: i64, settings: &PrivacySettings) -> bool {
    noisy_members >= settings.min_cell
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epsilon_parses_exactly() {
        assert_eq!(parse_epsilon("0.1"), Ok(100_000));
        assert_eq!(parse_epsilon("10"), Ok(10_000_000));
        assert_eq!(parse_epsilon(".25"), Ok(250_000));
        assert!(parse_epsilon("0").is_err());
        assert!(parse_epsilon("-1").is_err());
        assert!(parse_epsilon("0.0000001").is_err());
    }

    /// The sampler's empirical distribution matches DLap(b), and the worst
    /// log-ratio between neighbouring outputs stays within 1/b = ε/Δ (with
    /// a margin for sampling error), where there are enough samples to tell.
    #[test]
    fn discrete_laplace_matches_its_distribution_and_epsilon() {
        let mut rng = rand::rng();
        let epsilon = 0.5;
        let noise_scale = scale(1, 500_000);
        let draws = 400_000;
        let mut counts = std::collections::BTreeMap::<i64, u64>::new();
        for _ in 0..draws {
            *counts
                .entry(discrete_laplace(&mut rng, noise_scale))
                .or_default() += 1;
        }
        let q = f64::exp(-epsilon);
        let expected = |y: i64| (1.0 - q) / (1.0 + q) * q.powi(y.abs() as i32);
        for y in -8..=8 {
            let observed = *counts.get(&y).unwrap_or(&0) as f64 / draws as f64;
            let p = expected(y);
            let sd = (p * (1.0 - p) / draws as f64).sqrt();
            assert!(
                (observed - p).abs() < 5.0 * sd,
                "P[{y}]: observed {observed}, expected {p}"
            );
        }
        let mut worst: f64 = 0.0;
        for y in -10..10 {
            let (a, b) = (
                counts.get(&y).copied().unwrap_or(0),
                counts.get(&(y + 1)).copied().unwrap_or(0),
            );
            if a >= 2_000 && b >= 2_000 {
                worst = worst.max((a as f64 / b as f64).ln().abs());
            }
        }
        assert!(
            worst <= epsilon * 1.15,
            "worst neighbouring log-ratio {worst} > ε {epsilon}"
        );
        assert!(
            worst >= epsilon * 0.85,
            "the noise is not as spread as claimed: {worst}"
        );
        let mean: f64 = counts
            .iter()
            .map(|(y, n)| *y as f64 * *n as f64)
            .sum::<f64>()
            / draws as f64;
        assert!(mean.abs() < 0.05, "biased noise: mean {mean}");
    }
}
