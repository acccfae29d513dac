//! Every brand's entry figures in one category as of a day
//! ([`CategoryFigures`]), and the measures made from them.
//!
//! A brand's measures are read from its whole category (shares,
//! percentiles, the category's ratio), and reading a category's sales,
//! mentions, 90 days of every SKU's prices and store join days took a
//! second and a half at about 300 brands. The figures change only with the
//! data and the formulas, so they are kept in `entry_figures` per formula
//! version, data epoch and member snapshot: the epoch's build keeps its
//! as-of day ([`keep_all`]), any other day is kept when first read, and a
//! category whose brands have changed since is read again.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike as _, Duration, Months, NaiveDate};
use entity::{brand, category, category_sales, entry_figures, sku_price, social_mention};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait as _, QueryFilter, QueryOrder as _, QuerySelect as _, Statement,
    TransactionTrait as _,
};

use super::{
    FORMULA_VERSION, LOOKBACK_DAYS, Measure, Measures, Period,
    formulas::{self, PricePoint, SkuSeries},
};

/// Rows per statement when keeping figures: 1,000 rows of 15 values
/// (15,000 parameters) stay under both engines' bind-parameter limits.
const KEPT_PER_STATEMENT: usize = 1_000;

/// What the kept figures were read from: the current data epoch (its store
/// join days) and member snapshot (the load that wrote the sales, mentions
/// and prices). Both ids only grow, a `replace` load included, so figures
/// kept under another pair are never taken for these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DataVersion {
    /// The current ready epoch; 0 before any.
    epoch_id: i64,
    /// The newest member snapshot; 0 before any.
    snapshot_id: i64,
}

impl DataVersion {
    /// The version `db` holds now.
    async fn current(db: &impl ConnectionTrait) -> Result<Self, DbErr> {
        Ok(Self {
            epoch_id: crate::segments::cube::current_epoch(db)
                .await?
                .map_or(0, |epoch| epoch.id),
            snapshot_id: crate::snapshot::current(db)
                .await?
                .map_or(0, |snapshot| snapshot.id),
        })
    }
}

/// Where a category's figures as of a day, read from one version of the
/// data by one version of the formulas, are kept.
#[derive(Debug, Clone, Copy)]
struct KeptKey {
    /// The data they were read from.
    version: DataVersion,
    /// The category whose brands they are.
    category_id: i64,
    /// The day they are as of.
    as_of: NaiveDate,
}

impl KeptKey {
    /// The rows kept under this key, by brand.
    async fn rows(&self, db: &impl ConnectionTrait) -> Result<Vec<entry_figures::Model>, DbErr> {
        self.select(entry_figures::Entity::find())
            .order_by_asc(entry_figures::Column::BrandId)
            .all(db)
            .await
    }

    /// `query` narrowed to the rows kept under this key.
    fn select<Q: QueryFilter>(&self, query: Q) -> Q {
        query
            .filter(entry_figures::Column::FormulaVersion.eq(FORMULA_VERSION))
            .filter(entry_figures::Column::EpochId.eq(self.version.epoch_id))
            .filter(entry_figures::Column::SnapshotId.eq(self.version.snapshot_id))
            .filter(entry_figures::Column::CategoryId.eq(self.category_id))
            .filter(entry_figures::Column::AsOf.eq(self.as_of))
    }
}

/// Whether `kept` holds exactly the figures of `brands` (both by id).
fn holds(kept: &[entry_figures::Model], brands: &[i64]) -> bool {
    kept.iter()
        .map(|row| row.brand_id)
        .eq(brands.iter().copied())
}

/// One brand's figures: what its measures and its category's are made of.
#[derive(Debug, Clone, Default)]
struct BrandFigures {
    /// Net GMV over the sales period.
    net_gmv_cents: i64,
    /// Voluntary mentions over the lookback.
    voluntary_mentions: i64,
    /// Paid mentions over the lookback.
    paid_mentions: i64,
    /// Its SKUs' price measures over the lookback.
    prices: formulas::Weighted,
    /// Store members who joined by the as-of day.
    store_members: i64,
    /// Of them, paid members.
    paid_store_members: i64,
}

impl BrandFigures {
    /// A brand's figures as kept.
    fn kept(row: &entry_figures::Model) -> Self {
        Self {
            net_gmv_cents: row.net_gmv_cents,
            voluntary_mentions: row.voluntary_mentions,
            paid_mentions: row.paid_mentions,
            prices: formulas::Weighted {
                cv: row.price_cv,
                deep_discount: row.deep_discount_days,
                skus: usize::try_from(row.priced_skus).unwrap_or_default(),
                gmv_cents: row.priced_gmv_cents,
            },
            store_members: row.store_members,
            paid_store_members: row.paid_store_members,
        }
    }

    /// The row that keeps them under `key`.
    fn to_kept(&self, key: KeptKey, brand_id: i64) -> entry_figures::ActiveModel {
        entry_figures::ActiveModel {
            formula_version: Set(FORMULA_VERSION.to_owned()),
            epoch_id: Set(key.version.epoch_id),
            snapshot_id: Set(key.version.snapshot_id),
            category_id: Set(key.category_id),
            as_of: Set(key.as_of),
            brand_id: Set(brand_id),
            net_gmv_cents: Set(self.net_gmv_cents),
            voluntary_mentions: Set(self.voluntary_mentions),
            paid_mentions: Set(self.paid_mentions),
            price_cv: Set(self.prices.cv),
            deep_discount_days: Set(self.prices.deep_discount),
            priced_skus: Set(i64::try_from(self.prices.skus).unwrap_or(i64::MAX)),
            priced_gmv_cents: Set(self.prices.gmv_cents),
            store_members: Set(self.store_members),
            paid_store_members: Set(self.paid_store_members),
        }
    }
}

/// The months of net sales the market share sums, and the days of mentions
/// and prices, for `as_of`.
fn periods(as_of: NaiveDate) -> (Period, Period) {
    // Net GMV over the 12 months ending with the as-of month.
    let last_month = as_of.with_day0(0).unwrap_or(as_of);
    let first_month = last_month
        .checked_sub_months(Months::new(11))
        .unwrap_or(last_month);
    let sales = Period {
        from: first_month,
        to: as_of,
    };
    let lookback = Period {
        from: as_of - Duration::days(LOOKBACK_DAYS - 1),
        to: as_of,
    };
    (sales, lookback)
}

/// Every brand's figures in one category as of a day, and what the
/// category's measures derive from them. Whatever evaluates several brands
/// of a category reads it once.
pub(crate) struct CategoryFigures {
    /// The category's brands, by id (the order every float sum runs in).
    brands: Vec<i64>,
    /// Each brand's figures (a brand without any has none here).
    figures: HashMap<i64, BrandFigures>,
    /// The months of net sales the market share sums.
    sales_period: Period,
    /// The days of mentions and prices.
    lookback: Period,
    /// The day they are as of.
    as_of: NaiveDate,
    /// Each brand's share of the category's net GMV.
    shares: HashMap<i64, formulas::Ratio>,
    /// The category's concentration over the same net GMV.
    category_hhi: Option<f64>,
    /// Each brand's share of the category's voluntary mentions.
    mention_shares: HashMap<i64, formulas::Ratio>,
    /// Each brand's paid store members over its store members.
    ratios: HashMap<i64, formulas::Ratio>,
}

impl CategoryFigures {
    /// The figures of every brand of `category_id` as of `as_of`: kept ones
    /// when they were read from the current data and the category's brands
    /// are still the same, else read now. Figures read now are kept by a
    /// task of their own, so no answer waits for SQLite's write lock (held
    /// through a load or an epoch build); a failed keep is logged, and the
    /// next read reads them again.
    pub(crate) async fn read(
        db: &DatabaseConnection,
        category_id: i64,
        as_of: NaiveDate,
    ) -> Result<Self, DbErr> {
        let (figures, unkept) = Self::lookup(db, category_id, as_of).await?;
        if let Some(unkept) = unkept {
            let db = db.clone();
            tokio::spawn(async move { unkept.keep(&db).await });
        }
        Ok(figures)
    }

    /// The figures, and those read from the platform data that are not
    /// kept yet. Every read is from one state of the database, so a load or
    /// a new epoch committing meanwhile (a new epoch deletes the older
    /// epochs' join days) cannot mix into them.
    async fn lookup(
        db: &DatabaseConnection,
        category_id: i64,
        as_of: NaiveDate,
    ) -> Result<(Self, Option<Unkept>), DbErr> {
        let snapshot = crate::db::begin_snapshot(db).await?;
        let brands: Vec<i64> = brand::Entity::find()
            .select_only()
            .column(brand::Column::Id)
            .filter(brand::Column::CategoryId.eq(category_id))
            .order_by_asc(brand::Column::Id)
            .into_tuple()
            .all(&snapshot)
            .await?;
        let key = KeptKey {
            version: DataVersion::current(&snapshot).await?,
            category_id,
            as_of,
        };
        let kept = key.rows(&snapshot).await?;
        if holds(&kept, &brands) {
            snapshot.commit().await?;
            let figures = kept
                .iter()
                .map(|row| (row.brand_id, BrandFigures::kept(row)))
                .collect();
            return Ok((Self::new(brands, figures, as_of), None));
        }
        let figures = read_figures(&snapshot, key.version.epoch_id, &brands, as_of).await?;
        snapshot.commit().await?;
        let unkept = Unkept {
            key,
            brands: brands.clone(),
            figures: figures.clone(),
        };
        Ok((Self::new(brands, figures, as_of), Some(unkept)))
    }

    /// The category's shares, concentration and ratios from its brands'
    /// figures (`brands` in id order).
    fn new(brands: Vec<i64>, figures: HashMap<i64, BrandFigures>, as_of: NaiveDate) -> Self {
        let (sales_period, lookback) = periods(as_of);
        let none = BrandFigures::default();
        let of = |b: &i64| figures.get(b).unwrap_or(&none);
        let category_net: i64 = brands.iter().map(|b| of(b).net_gmv_cents).sum();
        let shares = ratios_of(&brands, |b| {
            (of(&b).net_gmv_cents as f64, category_net as f64)
        });
        let category_hhi = formulas::hhi(
            &brands
                .iter()
                .map(|b| of(b).net_gmv_cents as f64)
                .collect::<Vec<_>>(),
        );
        let category_voluntary: i64 = brands.iter().map(|b| of(b).voluntary_mentions).sum();
        let mention_shares = ratios_of(&brands, |b| {
            (of(&b).voluntary_mentions as f64, category_voluntary as f64)
        });
        let ratios = ratios_of(&brands, |b| {
            let own = of(&b);
            (own.paid_store_members as f64, own.store_members as f64)
        });
        Self {
            brands,
            figures,
            sales_period,
            lookback,
            as_of,
            shares,
            category_hhi,
            mention_shares,
            ratios,
        }
    }

    /// The measures of `brand_id`, one of the category's brands (any other
    /// reads as a brand without sales, mentions, prices or members).
    pub(crate) fn measures_of(&self, brand_id: i64) -> Measures {
        let brands = &self.brands;
        let own = self.figures.get(&brand_id).cloned().unwrap_or_default();
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
        let (own_voluntary, own_paid) = (own.voluntary_mentions, own.paid_mentions);
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
            let own = &own.prices;
            let all: Vec<Option<f64>> = brands
                .iter()
                .map(|b| self.figures.get(b).and_then(|f| pick(&f.prices)))
                .collect();
            Measure {
                value: pick(own),
                reason: pick(own).is_none().then_some("no SKU sold in the period"),
                inputs: vec![
                    (name, pick(own).unwrap_or(0.0)),
                    ("skus", own.skus as f64),
                    ("gmvCents", own.gmv_cents),
                ],
                period: self.lookback,
                percentile: percentile(pick(own), &all),
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
        let (category_members, category_paid) = self.figures.values().fold((0, 0), |acc, f| {
            (acc.0 + f.store_members, acc.1 + f.paid_store_members)
        });
        let (own_members, own_paid) = (own.store_members, own.paid_store_members);
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

/// Reads the figures of `brands` as of `as_of` from the platform data, the
/// store join days from epoch `epoch_id`.
async fn read_figures(
    db: &impl ConnectionTrait,
    epoch_id: i64,
    brands: &[i64],
    as_of: NaiveDate,
) -> Result<HashMap<i64, BrandFigures>, DbErr> {
    let mut figures: HashMap<i64, BrandFigures> = HashMap::new();
    if brands.is_empty() {
        return Ok(figures);
    }
    let (sales_period, lookback) = periods(as_of);
    // Months are stored as their first days.
    let sales = category_sales::Entity::find()
        .filter(category_sales::Column::BrandId.is_in(brands.to_vec()))
        .filter(category_sales::Column::Month.between(sales_period.from, sales_period.to))
        .all(db)
        .await?;
    for row in &sales {
        figures.entry(row.brand_id).or_default().net_gmv_cents += row.gmv_cents - row.refund_cents;
    }

    let mentions = social_mention::Entity::find()
        .filter(social_mention::Column::BrandId.is_in(brands.to_vec()))
        .filter(social_mention::Column::PeriodStart.between(lookback.from, lookback.to))
        .all(db)
        .await?;
    for row in &mentions {
        let own = figures.entry(row.brand_id).or_default();
        own.voluntary_mentions += row.voluntary;
        own.paid_mentions += row.paid;
    }

    let prices = sku_price::Entity::find()
        .filter(sku_price::Column::BrandId.is_in(brands.to_vec()))
        .filter(sku_price::Column::Day.between(lookback.from, lookback.to))
        .order_by_asc(sku_price::Column::Day)
        .all(db)
        .await?;
    // SKUs in name order and their days in date order, so a brand's sums
    // add up in the same order at every read (a hash order changed their
    // last bit).
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
    for (brand_id, skus) in &series {
        figures.entry(*brand_id).or_default().prices =
            formulas::price_volatility(skus.values().collect());
    }

    // Super-member ratio: distinct store members (joined by `as_of`) who
    // are paid members, summed from the epoch's store join days (a few rows
    // per brand and day, however many members). Platform data keeps no
    // history of paid status, so a past day's ratio counts today's paid
    // members among the members it had then.
    let list = brands
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT brand_id, CAST(SUM(members) AS BIGINT), CAST(SUM(paid_members) AS BIGINT) \
         FROM store_join_day WHERE epoch_id = {epoch_id} \
         AND brand_id IN ({list}) AND joined_on <= '{as_of}' GROUP BY brand_id"
    );
    for row in db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?
    {
        let own = figures.entry(row.try_get_by_index(0)?).or_default();
        own.store_members = row.try_get_by_index(1)?;
        own.paid_store_members = row.try_get_by_index(2)?;
    }
    Ok(figures)
}

/// A category's figures as of a day, read from the platform data and not
/// kept yet.
struct Unkept {
    key: KeptKey,
    /// The category's brands when they were read.
    brands: Vec<i64>,
    figures: HashMap<i64, BrandFigures>,
}

impl Unkept {
    /// Keeps the figures of each of the category's brands (none read count
    /// as zero) and forgets those kept for brands that left it, in one
    /// transaction that starts with its write, in this process's turn for
    /// writes nobody waits for ([`crate::db::background_turn`]); skipped
    /// when a keep before it in that turn kept them already, or when the
    /// data is no longer current. A brand's
    /// figures under one key are facts of that data (none depends on
    /// another brand's), so figures already kept stay as they are.
    async fn keep(self, db: &DatabaseConnection) {
        let key = self.key;
        let kept = async {
            let _turn = crate::db::background_turn(db).await;
            // Figures of data no longer current (a load or an epoch
            // committed while this keep waited) would never be read.
            if DataVersion::current(db).await? != key.version
                || holds(&key.rows(db).await?, &self.brands)
            {
                return Ok(());
            }
            let txn = db.begin().await?;
            for chunk in self.brands.chunks(KEPT_PER_STATEMENT) {
                entry_figures::Entity::insert_many(chunk.iter().map(|b| {
                    self.figures
                        .get(b)
                        .cloned()
                        .unwrap_or_default()
                        .to_kept(key, *b)
                }))
                .on_conflict_do_nothing()
                .exec_without_returning(&txn)
                .await?;
            }
            key.select(entry_figures::Entity::delete_many())
                .filter(entry_figures::Column::BrandId.is_not_in(self.brands.iter().copied()))
                .exec(&txn)
                .await?;
            txn.commit().await
        };
        if let Err(error) = kept.await {
            tracing::warn!(
                %error,
                category_id = key.category_id,
                as_of = %key.as_of,
                "could not keep a category's entry figures"
            );
        }
    }
}

/// Reads and keeps every category's figures as of `as_of` (what `refresh`
/// runs for its epoch's day), so the first list of entry measures does not
/// wait for them. Logged, never failing: a category not kept is read when
/// first asked for.
pub(crate) async fn keep_all(db: &DatabaseConnection, as_of: NaiveDate) {
    let start = std::time::Instant::now();
    let categories = match category::Entity::find()
        .select_only()
        .column(category::Column::Id)
        .order_by_asc(category::Column::Id)
        .into_tuple::<i64>()
        .all(db)
        .await
    {
        Ok(categories) => categories,
        Err(error) => {
            tracing::warn!(%error, "could not list the categories whose entry figures to keep");
            return;
        }
    };
    let mut progress = crate::progress::Progress::new("entry figures", categories.len() as u64);
    for category_id in &categories {
        match CategoryFigures::lookup(db, *category_id, as_of).await {
            Ok((_, Some(unkept))) => unkept.keep(db).await,
            Ok((_, None)) => {}
            Err(error) => {
                tracing::warn!(%error, category_id, "could not read a category's entry figures");
            }
        }
        progress.advance(1);
    }
    progress.finish();
    tracing::info!(
        categories = categories.len(),
        %as_of,
        elapsed_ms = start.elapsed().as_millis(),
        "kept every category's entry figures"
    );
}

/// Percentile of `value` among `all` (share of values at most it).
fn percentile(value: Option<f64>, all: &[Option<f64>]) -> Option<f64> {
    let value = value?;
    let defined: Vec<f64> = all.iter().flatten().copied().collect();
    (!defined.is_empty())
        .then(|| defined.iter().filter(|v| **v <= value).count() as f64 / defined.len() as f64)
}

/// One brand's ratio measure among `brands`: its value, inputs,
/// percentile and peers.
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
