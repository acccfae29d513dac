//! Brand entry criteria: the four measures the programme admits brands on,
//! each with its value, the aggregate inputs it used, its period, its
//! formula version and the brand's percentile in its category. Plain Rust
//! over the platform data; the formulas are in [`formulas`].

pub(crate) mod evaluation;
mod figures;
pub(crate) mod formulas;
pub(crate) mod policy;
pub(crate) mod risk;

use chrono::{DateTime, NaiveDate, Utc};
use entity::brand;
use sea_orm::{DatabaseConnection, DbErr};

use crate::{
    auth::BrandScope,
    error::{CodedError, ErrorCode},
    privacy::{
        PrivacySettings, ledger,
        once::{self, Counts, ReleaseError},
        shown,
    },
};
pub(crate) use figures::{CategoryFigures, keep_all};

/// Version of the formulas below; stored with every evaluation.
pub(crate) const FORMULA_VERSION: &str = "criteria-2026.11";

/// Days of mentions and prices the measures look back over.
pub(crate) const LOOKBACK_DAYS: i64 = 90;

/// Errors of measure computation.
#[derive(Debug, thiserror::Error)]
pub enum CriteriaError {
    /// No such brand (or not visible; the caller scopes first).
    #[error("brand not found")]
    NotFound,
    /// The brand's share of its privacy budget can't pay for its store
    /// counts now.
    #[error(transparent)]
    Budget(#[from] ledger::LedgerError),
    /// No platform data has been loaded yet.
    #[error("no platform data has been loaded yet")]
    NoData,
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl CodedError for CriteriaError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::NotFound => ErrorCode::NotFound,
            Self::Budget(error) => error.code(),
            Self::NoData => ErrorCode::NotFound,
            Self::Db(_) => ErrorCode::Internal,
        }
    }

    fn details(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::Budget(error) => error.details(),
            _ => Vec::new(),
        }
    }
}

impl From<ReleaseError> for CriteriaError {
    fn from(error: ReleaseError) -> Self {
        match error {
            ReleaseError::Ledger(error) => Self::Budget(error),
            ReleaseError::NoData => Self::NoData,
            ReleaseError::Db(error) => Self::Db(error),
        }
    }
}

/// The inclusive days a measure covers (Asia/Shanghai calendar).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Period {
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
}

/// One measure of one brand.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Measure {
    /// The value; `None` when undefined (no sales in the category, no store
    /// members …); `reason` then says why.
    pub value: Option<f64>,
    /// Why the value is undefined.
    pub reason: Option<&'static str>,
    /// The aggregates it was computed from, by name.
    pub inputs: Vec<(&'static str, f64)>,
    /// The period covered.
    pub period: Period,
    /// Share of the category's brands whose value is at most this one (0–1).
    pub percentile: Option<f64>,
    /// How many of the category's brands have a value above zero (a brand
    /// with no sales or mentions shields nobody).
    pub peers: usize,
}

/// The four measures, plus context reviewers read beside them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Measures {
    /// Net GMV share of the category, trailing 12 months.
    pub market_share: Measure,
    /// Herfindahl–Hirschman index of the category (0–10,000) over the same period.
    pub category_hhi: Option<f64>,
    /// Voluntary mentions ÷ all brands' voluntary mentions in the category, 90 days.
    pub voluntary_mention_share: Measure,
    /// GMV-weighted mean coefficient of variation of daily SKU prices, 90 days.
    pub price_volatility: Measure,
    /// GMV-weighted share of SKU days sold below 0.7 × the SKU's 90-day median.
    pub deep_discount_days: Measure,
    /// Paid members ÷ store members.
    pub super_member_ratio: Measure,
    /// The formula version.
    pub formula_version: &'static str,
}

/// Who reads entry measures: platform roles see every aggregate; a brand
/// sees its own figures only, so nothing it reads can be solved for a
/// rival's (no category totals or HHI: with three brands Σs² = HHI gives
/// both rivals' GMV) or for a count of members outside the privacy engine
/// (no store-member counts, and nothing they can be solved from: the
/// ratio's Wilson bound, margin or what-if).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reader {
    /// REVIEWER, ADMIN, SERVICE.
    Platform,
    /// The brand's own roles.
    Brand,
}

impl Reader {
    /// The reader a principal's scope makes.
    pub(crate) fn of(scope: BrandScope) -> Self {
        match scope {
            BrandScope::All => Self::Platform,
            BrandScope::One(_) => Self::Brand,
        }
    }
}

/// The inputs that are a brand's own figures (every other input is a
/// category aggregate or a member count).
const OWN_INPUTS: &[&str] = &[
    "brandNetGmvCents",
    "brandVoluntaryMentions",
    "brandPaidMentions",
    "brandVoluntaryFraction",
    "skus",
    "gmvCents",
    "gmvWeightedCv",
    "gmvWeightedDeepDiscountDayShare",
];

/// Whether a brand may see an input.
pub(crate) fn own_input(name: &str) -> bool {
    OWN_INPUTS.contains(&name)
}

/// Fewest brands with a value for a brand to see its percentile band:
/// among fewer, even a quarter gives away its rank.
pub(crate) const MIN_PEERS_FOR_BAND: usize = 8;

/// A percentile as a brand sees it: the lower bound of its quarter (0,
/// 0.25, 0.5 or 0.75), and only among at least [`MIN_PEERS_FOR_BAND`]
/// brands.
fn percentile_band(percentile: Option<f64>, peers: usize) -> Option<f64> {
    percentile
        .filter(|_| peers >= MIN_PEERS_FOR_BAND)
        .map(|p| ((p * 4.0).floor() / 4.0).clamp(0.0, 0.75))
}

/// Fewest brands with sales (or mentions) in a category for a brand to see
/// its exact share: a share and the brand's own figure give the category's
/// total, which among fewer brands is too close to a rival's.
pub(crate) const MIN_PEERS_FOR_SHARE: usize = 5;

impl Measure {
    fn seen_by_brand(mut self) -> Self {
        self.inputs.retain(|(name, _)| own_input(name));
        self.percentile = percentile_band(self.percentile, self.peers);
        self
    }

    /// A share of a category total, as a brand sees it: only among enough
    /// brands.
    fn share_seen_by_brand(self) -> Self {
        let mut seen = self.seen_by_brand();
        if seen.value.is_some() && seen.peers < MIN_PEERS_FOR_SHARE {
            seen.value = None;
            seen.reason = Some(TOO_FEW_BRANDS);
        }
        seen
    }
}

/// Why a brand does not see a share of its category.
pub(crate) const TOO_FEW_BRANDS: &str =
    "too few brands in the category to show a share without revealing a rival's figures";

impl Measures {
    /// What `reader` may read of them.
    pub(crate) fn seen_by(self, reader: Reader) -> Self {
        match reader {
            Reader::Platform => self,
            Reader::Brand => Self {
                market_share: self.market_share.share_seen_by_brand(),
                category_hhi: None,
                voluntary_mention_share: self.voluntary_mention_share.share_seen_by_brand(),
                price_volatility: self.price_volatility.seen_by_brand(),
                deep_discount_days: self.deep_discount_days.seen_by_brand(),
                super_member_ratio: self.super_member_ratio.seen_by_brand(),
                formula_version: self.formula_version,
            },
        }
    }
}

/// The entry measures of `brand_id`, one of the brands of `figures` (its
/// category's as of `as_of`), as `reader` may read them ([`Reader`]). A
/// brand's own super-member ratio is a ratio of member counts, so it reaches
/// the brand only through the privacy engine: its store's paid members and
/// members released noisy (Δ 2, once per as-of day and data epoch, from the
/// reading role's share, `pool`), suppressed under the minimum cell size; a live exact
/// ratio would let a brand see one member's paid status change from one
/// day to the next.
pub(crate) async fn for_reader(
    db: &DatabaseConnection,
    settings: &PrivacySettings,
    figures: &CategoryFigures,
    (brand_id, reader, pool): (i64, Reader, ledger::Pool),
    as_of: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Measures, CriteriaError> {
    let measures = figures.measures_of(brand_id);
    if reader == Reader::Platform {
        return Ok(measures);
    }
    let count = |name: &str| -> i64 {
        measures
            .super_member_ratio
            .inputs
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(0, |(_, v)| *v as i64)
    };
    let truth = vec![count("paidStoreMembers"), count("storeMembers")];
    let question = format!("entry-super-member-ratio:brand={brand_id}:as-of={as_of}");
    let asked = Counts {
        brand_id,
        pool,
        question: &question,
        described: "the store's paid members and members, for the super-member ratio",
        sensitivity: 2,
        now,
    };
    let mut seen = measures.seen_by(Reader::Brand);
    let ratio = &mut seen.super_member_ratio;
    // Whatever the truth (an empty store included), the brand learns only
    // what the release shows; a budget spent for the day leaves the ratio
    // out rather than the whole answer.
    ratio.value = None;
    match once::release_once(db, settings, &asked, async |_| Ok(truth)).await {
        Ok(released) => {
            let noisy = |i: usize| released.noisy.get(i).copied().unwrap_or_default();
            let (paid, members) = (noisy(0), noisy(1));
            if shown(members, settings) {
                ratio.value = Some(paid.clamp(0, members) as f64 / members as f64);
                ratio.reason = None;
            } else {
                ratio.reason = Some("fewer store members than the minimum cell size");
            }
        }
        Err(ReleaseError::Ledger(_)) => {
            ratio.reason = Some(match pool {
                ledger::Pool::Analysts => {
                    "the analysts' privacy budget is spent for now (see privacyBudgets)"
                }
                ledger::Pool::Operators => {
                    "the operators' privacy budget is spent for now (see privacyBudgets)"
                }
            });
        }
        Err(error) => return Err(error.into()),
    }
    Ok(seen)
}

/// Computes the measures of `brand` as of `as_of`.
pub(crate) async fn evaluate_brand(
    db: &DatabaseConnection,
    brand: &brand::Model,
    as_of: NaiveDate,
) -> Result<Measures, CriteriaError> {
    let figures = CategoryFigures::read(db, brand.category_id, as_of).await?;
    Ok(figures.measures_of(brand.id))
}
