//! The measures' formulas, as pure functions with hand-checkable tests.

/// A part of a whole; undefined when the whole is zero.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Ratio {
    /// The part.
    pub part: f64,
    /// The whole.
    pub whole: f64,
}

impl Ratio {
    /// A ratio of `part` to `whole`.
    pub(crate) fn new(part: f64, whole: f64) -> Self {
        Self { part, whole }
    }

    /// `part / whole`, or `None` when the whole is not positive.
    pub(crate) fn value(self) -> Option<f64> {
        (self.whole > 0.0).then(|| self.part / self.whole)
    }
}

/// Herfindahl–Hirschman index of market sizes: Σ (share × 100)², 0–10,000.
pub(crate) fn hhi(sizes: &[f64]) -> Option<f64> {
    let total: f64 = sizes.iter().map(|s| s.max(0.0)).sum();
    (total > 0.0).then(|| {
        sizes
            .iter()
            .map(|s| (s.max(0.0) / total * 100.0).powi(2))
            .sum()
    })
}

/// One day of one SKU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PricePoint {
    /// Mean price paid that day, in fen.
    pub price_cents: i64,
    /// Units sold that day.
    pub units: i64,
}

/// One SKU's days in the period.
pub(crate) type SkuSeries = Vec<PricePoint>;

/// A brand's price measures, weighted by each SKU's GMV in the period.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Weighted {
    /// GMV-weighted mean coefficient of variation of daily prices.
    pub cv: Option<f64>,
    /// GMV-weighted share of days priced below 0.7 × the SKU's median.
    pub deep_discount: Option<f64>,
    /// SKUs with sales in the period.
    pub skus: usize,
    /// The weights' total (GMV in fen).
    pub gmv_cents: f64,
}

/// Below this fraction of its median, a day counts as deep discounting.
pub(crate) const DEEP_DISCOUNT: f64 = 0.7;

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// Price volatility of a brand's SKUs: per SKU the coefficient of
/// variation (population standard deviation ÷ mean) of its daily prices and
/// its share of deep-discount days; the brand's values are their means
/// weighted by each SKU's GMV (Σ price × units). `None` without sales.
pub(crate) fn price_volatility(skus: Vec<&SkuSeries>) -> Weighted {
    let mut weighted_cv = 0.0;
    let mut weighted_deep = 0.0;
    let mut total = 0.0;
    let mut count = 0;
    for series in skus {
        let gmv: f64 = series
            .iter()
            .map(|p| p.price_cents as f64 * p.units.max(0) as f64)
            .sum();
        if series.is_empty() || gmv <= 0.0 {
            continue;
        }
        let prices: Vec<f64> = series.iter().map(|p| p.price_cents as f64).collect();
        let n = prices.len() as f64;
        let mean = prices.iter().sum::<f64>() / n;
        let variance = prices.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / n;
        let cv = if mean > 0.0 {
            variance.sqrt() / mean
        } else {
            0.0
        };
        let mut sorted = prices.clone();
        sorted.sort_by(f64::total_cmp);
        let threshold = DEEP_DISCOUNT * median(&sorted);
        let deep = prices.iter().filter(|p| **p < threshold).count() as f64 / n;
        weighted_cv += cv * gmv;
        weighted_deep += deep * gmv;
        total += gmv;
        count += 1;
    }
    Weighted {
        cv: (total > 0.0).then(|| weighted_cv / total),
        deep_discount: (total > 0.0).then(|| weighted_deep / total),
        skus: count,
        gmv_cents: total,
    }
}

/// Lower bound of the 95% Wilson score interval of `successes / n`: a
/// ratio small stores can't game by luck. `None` when `n` is 0.
pub(crate) fn wilson_lower_bound(successes: i64, n: i64) -> Option<f64> {
    if n <= 0 {
        return None;
    }
    let z = 1.959_964;
    let (k, n) = (successes as f64, n as f64);
    let p = k / n;
    let denominator = 1.0 + z * z / n;
    let centre = p + z * z / (2.0 * n);
    let margin = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    Some(((centre - margin) / denominator).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn hhi_of_a_monopoly_is_ten_thousand_and_of_equals_is_smaller() {
        assert!(close(hhi(&[5.0]).expect("defined"), 10_000.0));
        assert!(close(hhi(&[1.0, 1.0, 1.0, 1.0]).expect("defined"), 2_500.0));
        assert_eq!(hhi(&[0.0, 0.0]), None);
    }

    #[test]
    fn volatility_is_gmv_weighted_cv_and_deep_discount_share() {
        // SKU a: prices 100, 100 → CV 0, no deep discount; GMV 100·1 + 100·1 = 200.
        // SKU b: prices 100, 50 → mean 75, std 25, CV 1/3; median 75, 50 < 52.5 → half the days; GMV 100·2 + 50·4 = 400.
        let a = vec![
            PricePoint {
                price_cents: 100,
                units: 1,
            },
            PricePoint {
                price_cents: 100,
                units: 1,
            },
        ];
        let b = vec![
            PricePoint {
                price_cents: 100,
                units: 2,
            },
            PricePoint {
                price_cents: 50,
                units: 4,
            },
        ];
        let w = price_volatility(vec![&a, &b]);
        assert!(close(
            w.cv.expect("cv"),
            (0.0 * 200.0 + (1.0 / 3.0) * 400.0) / 600.0
        ));
        assert!(close(
            w.deep_discount.expect("deep"),
            (0.0 * 200.0 + 0.5 * 400.0) / 600.0
        ));
        assert_eq!(w.skus, 2);
        // A single SKU on a single day: CV 0. No sales at all: undefined.
        let one = vec![PricePoint {
            price_cents: 990,
            units: 3,
        }];
        assert_eq!(price_volatility(vec![&one]).cv, Some(0.0));
        let unsold = vec![PricePoint {
            price_cents: 990,
            units: 0,
        }];
        assert_eq!(price_volatility(vec![&unsold]).cv, None);
        assert_eq!(price_volatility(vec![]).cv, None);
    }

    #[test]
    fn wilson_lower_bound_matches_the_textbook_value() {
        // 8 of 10: the 95% Wilson interval is about [0.490, 0.943].
        let lower = wilson_lower_bound(8, 10).expect("defined");
        assert!((lower - 0.4902).abs() < 1e-3, "{lower}");
        assert_eq!(wilson_lower_bound(0, 0), None);
        assert!(wilson_lower_bound(0, 5).expect("defined").abs() < 1e-12);
    }
}
