//! Brand entry criteria: the four measures the programme admits brands on,
//! each with its value, the aggregate inputs it used, its period, its
//! formula version and the brand's percentile in its category. Plain Rust
//! over the platform data; the formulas are in [`formulas`].

pub(crate) mod evaluation;
pub(crate) mod formulas;
pub(crate) mod policy;
pub(crate) mod risk;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike as _, Duration, Months, NaiveDate, Utc};
use entity::{brand, category_sales, sku_price, social_mention};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait as _,
    QueryFilter as _, QueryOrder as _, Statement,
};

use crate::{
    auth::BrandScope,
    error::{CodedError, ErrorCode},
    privacy::{
        PrivacySettings, ledger,
        once::{self, Counts, ReleaseError},
        shown,
    },
};
use formulas::{PricePoint, SkuSeries};

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

/// Percentile of `value` among `all` (share of values at most it).
fn percentile(value: Option<f64>, all: &[Option<f64>]) -> Option<f64> {
    let value = value?;
    let defined: Vec<f64> = all.iter().flatten().copied().collect();
    (!defined.is_empty())
        .then(|| defined.iter().filter(|v| **v <= value).count() as f64 / defined.len() as f64)
}

fn measure(
    brand: i64,
    brands: &[i64],
    values: &HashMap<i64, formulas::Ratio>,
    period: Period,
    names: (&'static str, &'static str),
    undefined: &'static str,
) -> Measure {
    let ratio = values.get(&brand).copied().unwrap_or_default();
    let all: Vec<Option<f64>> = brands
        .iter()
        .map(|b| values.get(b).and_then(|r| r.value()))
        .collect();
    Measure {
        value: ratio.value(),
        reason: ratio.value().is_none().then_some(undefined),
        inputs: vec![(names.0, ratio.part), (names.1, ratio.whole)],
        period,
        percentile: percentile(ratio.value(), &all),
        peers: all.iter().flatten().filter(|v| **v > 0.0).count(),
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
    db: &impl ConnectionTrait,
    brand: &brand::Model,
    as_of: NaiveDate,
) -> Result<Measures, CriteriaError> {
    let figures = CategoryFigures::read(db, brand.category_id, as_of).await?;
    Ok(figures.measures_of(brand.id))
}

/// Every brand's figures in one category as of a day. A brand's measures
/// are read from its whole category (shares, percentiles, the category's
/// ratio), so whatever evaluates several brands of a category reads it
/// once: read per brand, a list of a category's brands read brands × peers
/// rows (at 2,531 brands, `brands(first: 40) { entryMeasures }` ran into
/// the request timeout).
pub(crate) struct CategoryFigures {
    brands: Vec<i64>,
    sales_period: Period,
    lookback: Period,
    as_of: NaiveDate,
    shares: HashMap<i64, formulas::Ratio>,
    category_hhi: Option<f64>,
    /// Voluntary and paid mentions per brand over the lookback.
    mentions: HashMap<i64, (i64, i64)>,
    mention_shares: HashMap<i64, formulas::Ratio>,
    volatility: HashMap<i64, formulas::Weighted>,
    /// Store members and paid store members per brand.
    stores: HashMap<i64, (i64, i64)>,
    ratios: HashMap<i64, formulas::Ratio>,
}

impl CategoryFigures {
    /// Reads the figures of every brand of `category_id` as of `as_of`.
    pub(crate) async fn read(
        db: &impl ConnectionTrait,
        category_id: i64,
        as_of: NaiveDate,
    ) -> Result<Self, DbErr> {
        let brands: Vec<i64> = brand::Entity::find()
            .filter(brand::Column::CategoryId.eq(category_id))
            .all(db)
            .await?
            .into_iter()
            .map(|b| b.id)
            .collect();

        // Market share: net GMV over the 12 months ending with the as-of month.
        let last_month = as_of.with_day0(0).unwrap_or(as_of);
        let first_month = last_month
            .checked_sub_months(Months::new(11))
            .unwrap_or(last_month);
        let sales_period = Period {
            from: first_month,
            to: as_of,
        };
        let sales = category_sales::Entity::find()
            .filter(category_sales::Column::BrandId.is_in(brands.clone()))
            .filter(category_sales::Column::Month.between(first_month, last_month))
            .all(db)
            .await?;
        let mut net: HashMap<i64, i64> = HashMap::new();
        for row in &sales {
            *net.entry(row.brand_id).or_default() += row.gmv_cents - row.refund_cents;
        }
        let category_net: i64 = net.values().sum();
        let shares = ratios_of(&brands, |b| {
            (
                net.get(&b).copied().unwrap_or(0) as f64,
                category_net as f64,
            )
        });
        let category_hhi = formulas::hhi(
            &brands
                .iter()
                .map(|b| net.get(b).copied().unwrap_or(0) as f64)
                .collect::<Vec<_>>(),
        );

        // Mentions over the last 90 days.
        let lookback = Period {
            from: as_of - Duration::days(LOOKBACK_DAYS - 1),
            to: as_of,
        };
        let rows = social_mention::Entity::find()
            .filter(social_mention::Column::BrandId.is_in(brands.clone()))
            .filter(social_mention::Column::PeriodStart.between(lookback.from, lookback.to))
            .all(db)
            .await?;
        let mut mentions: HashMap<i64, (i64, i64)> = HashMap::new();
        for row in &rows {
            let entry = mentions.entry(row.brand_id).or_default();
            entry.0 += row.voluntary;
            entry.1 += row.paid;
        }
        let category_voluntary: i64 = mentions.values().map(|(v, _)| v).sum();
        let mention_shares = ratios_of(&brands, |b| {
            let own = mentions.get(&b).map_or(0, |(v, _)| *v);
            (own as f64, category_voluntary as f64)
        });

        // Prices over the last 90 days, per SKU.
        let prices = sku_price::Entity::find()
            .filter(sku_price::Column::BrandId.is_in(brands.clone()))
            .filter(sku_price::Column::Day.between(lookback.from, lookback.to))
            .order_by_asc(sku_price::Column::Day)
            .all(db)
            .await?;
        // SKUs in name order and their days in date order, so a brand's
        // sums add up in the same order at every read (a hash order changed
        // their last bit).
        let mut series: HashMap<i64, BTreeMap<String, SkuSeries>> = HashMap::new();
        for row in prices {
            series
                .entry(row.brand_id)
                .or_default()
                .entry(row.sku)
                .or_default()
                .push(PricePoint {
                    price_cents: row.price_cents,
                    units: row.units,
                });
        }
        let volatility: HashMap<i64, formulas::Weighted> = brands
            .iter()
            .map(|b| {
                (
                    *b,
                    formulas::price_volatility(
                        series
                            .get(b)
                            .map(|s| s.values().collect())
                            .unwrap_or_default(),
                    ),
                )
            })
            .collect();

        // Super-member ratio: distinct store members (joined by `as_of`) who
        // are paid members, summed from the current data epoch's store join
        // days (a few rows per brand and day, however many members). Platform
        // data keeps no history of paid status, so a past day's ratio counts
        // today's paid members among the members it had then.
        let list = brands
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        // Before any epoch there are no join days, as there are no members.
        let epoch = crate::segments::cube::current_epoch(db)
            .await?
            .map_or(0, |epoch| epoch.id);
        let sql = format!(
            "SELECT brand_id, CAST(SUM(members) AS BIGINT), CAST(SUM(paid_members) AS BIGINT) \
             FROM store_join_day WHERE epoch_id = {epoch} \
             AND brand_id IN ({list}) AND joined_on <= '{as_of}' GROUP BY brand_id"
        );
        let mut stores: HashMap<i64, (i64, i64)> = HashMap::new();
        for row in db
            .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
            .await?
        {
            stores.insert(
                row.try_get_by_index(0)?,
                (row.try_get_by_index(1)?, row.try_get_by_index(2)?),
            );
        }
        let ratios = ratios_of(&brands, |b| {
            let (members, paid) = stores.get(&b).copied().unwrap_or_default();
            (paid as f64, members as f64)
        });
        Ok(Self {
            brands,
            sales_period,
            lookback,
            as_of,
            shares,
            category_hhi,
            mentions,
            mention_shares,
            volatility,
            stores,
            ratios,
        })
    }

    /// The measures of `brand_id`, one of the category's brands (any other
    /// reads as a brand without sales, mentions, prices or members).
    pub(crate) fn measures_of(&self, brand_id: i64) -> Measures {
        let brands = &self.brands;
        let market_share = measure(
            brand_id,
            brands,
            &self.shares,
            self.sales_period,
            ("brandNetGmvCents", "categoryNetGmvCents"),
            "the category has no net sales in the period",
        );

        let mut voluntary_mention_share = measure(
            brand_id,
            brands,
            &self.mention_shares,
            self.lookback,
            ("brandVoluntaryMentions", "categoryVoluntaryMentions"),
            "nobody in the category has voluntary mentions in the period",
        );
        let (own_voluntary, own_paid) = self.mentions.get(&brand_id).copied().unwrap_or_default();
        voluntary_mention_share
            .inputs
            .push(("brandPaidMentions", own_paid as f64));
        if own_voluntary + own_paid > 0 {
            voluntary_mention_share.inputs.push((
                "brandVoluntaryFraction",
                own_voluntary as f64 / (own_voluntary + own_paid) as f64,
            ));
        }

        let price_measure = |pick: fn(&formulas::Weighted) -> Option<f64>, name: &'static str| {
            let own = self.volatility.get(&brand_id).cloned().unwrap_or_default();
            let all: Vec<Option<f64>> = brands
                .iter()
                .map(|b| self.volatility.get(b).and_then(pick))
                .collect();
            Measure {
                value: pick(&own),
                reason: pick(&own).is_none().then_some("no SKU sold in the period"),
                inputs: vec![
                    (name, pick(&own).unwrap_or(0.0)),
                    ("skus", own.skus as f64),
                    ("gmvCents", own.gmv_cents),
                ],
                period: self.lookback,
                percentile: percentile(pick(&own), &all),
                peers: all.iter().flatten().filter(|v| **v > 0.0).count(),
            }
        };
        let price_volatility = price_measure(|w| w.cv, "gmvWeightedCv");
        let deep_discount_days =
            price_measure(|w| w.deep_discount, "gmvWeightedDeepDiscountDayShare");

        let mut super_member_ratio = measure(
            brand_id,
            brands,
            &self.ratios,
            Period {
                from: self.as_of,
                to: self.as_of,
            },
            ("paidStoreMembers", "storeMembers"),
            "the store has no members",
        );
        let (category_members, category_paid) = self
            .stores
            .values()
            .fold((0, 0), |acc, (m, p)| (acc.0 + m, acc.1 + p));
        let (own_members, own_paid) = self.stores.get(&brand_id).copied().unwrap_or_default();
        if category_members > 0 {
            let category_ratio = category_paid as f64 / category_members as f64;
            super_member_ratio
                .inputs
                .push(("categoryRatio", category_ratio));
            if let Some(value) = super_member_ratio.value.filter(|_| category_ratio > 0.0) {
                super_member_ratio
                    .inputs
                    .push(("lift", value / category_ratio));
            }
        }
        if let Some(lower) = formulas::wilson_lower_bound(own_paid, own_members) {
            super_member_ratio
                .inputs
                .push(("wilsonLowerBound95", lower));
        }

        Measures {
            market_share,
            category_hhi: self.category_hhi,
            voluntary_mention_share,
            price_volatility,
            deep_discount_days,
            super_member_ratio,
            formula_version: FORMULA_VERSION,
        }
    }
}

/// Each brand's ratio, from its `(part, whole)`.
fn ratios_of(brands: &[i64], part_of: impl Fn(i64) -> (f64, f64)) -> HashMap<i64, formulas::Ratio> {
    brands
        .iter()
        .map(|&b| {
            let (part, whole) = part_of(b);
            (b, formulas::Ratio::new(part, whole))
        })
        .collect()
}
