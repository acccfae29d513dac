//! Exact discrete Laplace noise (Canonne, Kamath & Steinke, "The Discrete
//! Gaussian for Differential Privacy", 2020, algorithms 1 and 2).
//!
//! Every step is integer arithmetic on rationals: no floating point touches
//! the noise, so there is no Mironov-style attack on the low bits of a
//! float sample. Randomness comes from a CSPRNG (`rand`'s `ThreadRng`,
//! ChaCha seeded and reseeded from the operating system).
//!
//! `DLap(t/s)` has `P[Y = y] ∝ exp(-|y| · s/t)`; for a count of L1
//! sensitivity Δ released with privacy ε, the scale is Δ/ε.

use rand::{CryptoRng, Rng};

/// A positive rational `num / den`, kept in lowest terms is not required.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ratio {
    /// Numerator.
    pub num: u64,
    /// Denominator (> 0).
    pub den: u64,
}

/// Bernoulli(num/den) for `num <= den`.
fn bernoulli<R: Rng + CryptoRng>(rng: &mut R, num: u64, den: u64) -> bool {
    rng.random_range(0..den) < num
}

/// Bernoulli(exp(-num/den)) for `0 <= num/den <= 1` (CKS algorithm 1, first part).
fn bernoulli_exp_small<R: Rng + CryptoRng>(rng: &mut R, num: u64, den: u64) -> bool {
    let mut k: u64 = 1;
    loop {
        // Bernoulli(x / k) with x = num/den.
        if bernoulli(rng, num, den.saturating_mul(k)) {
            k += 1;
        } else {
            return k % 2 == 1;
        }
    }
}

/// Bernoulli(exp(-num/den)) for any `num/den >= 0` (CKS algorithm 1).
fn bernoulli_exp<R: Rng + CryptoRng>(rng: &mut R, num: u64, den: u64) -> bool {
    let whole = num / den;
    for _ in 0..whole {
        if !bernoulli_exp_small(rng, 1, 1) {
            return false;
        }
    }
    bernoulli_exp_small(rng, num % den, den)
}

/// One draw of discrete Laplace noise with scale `scale` (= t/s in CKS):
/// `P[Y = y] ∝ exp(-|y| / scale)`.
pub(crate) fn discrete_laplace<R: Rng + CryptoRng>(rng: &mut R, scale: Ratio) -> i64 {
    // CKS algorithm 2 with t/s = scale.num/scale.den, i.e. t = num, s = den.
    let (t, s) = (scale.num.max(1), scale.den.max(1));
    loop {
        let u = rng.random_range(0..t);
        if !bernoulli_exp(rng, u, t) {
            continue;
        }
        let mut v: u64 = 0;
        while bernoulli_exp(rng, 1, 1) {
            v += 1;
        }
        let x = u + t.saturating_mul(v);
        let y = (x / s) as i64;
        let negative = rng.random_bool(0.5);
        if negative && y == 0 {
            continue;
        }
        return if negative { -y } else { y };
    }
}

/// The noise scale `Δ/ε` as a ratio, with ε given in millionths.
pub(crate) fn scale(sensitivity: u64, epsilon_micros: u64) -> Ratio {
    Ratio {
        num: sensitivity.saturating_mul(1_000_000),
        den: epsilon_micros.max(1),
    }
}

/// Half-width of the central 95% interval of `DLap(scale)`: the smallest
/// `w` with `P[|Y| <= w] >= 0.95`. Computed in floating point, which is
/// fine here: it describes the noise, it does not draw it.
pub(crate) fn interval95(scale: Ratio) -> i64 {
    let b = scale.num as f64 / scale.den as f64;
    let q = (-1.0 / b).exp();
    // P[|Y| > w] = 2 q^(w+1) / (1 + q); solve for 0.05.
    let w = ((0.05 * (1.0 + q) / 2.0).ln() / q.ln() - 1.0).ceil();
    w.max(0.0) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_matches_the_distribution() {
        // Scale 10: q = e^-0.1; w such that 2 q^(w+1)/(1+q) <= 0.05.
        let w = interval95(scale(1, 100_000));
        let q = (-0.1f64).exp();
        assert!(2.0 * q.powi(w as i32 + 1) / (1.0 + q) <= 0.05);
        assert!(2.0 * q.powi(w as i32) / (1.0 + q) > 0.05);
    }
}
