//! Evaluations: the measures of a brand on a day judged against its
//! category's policy in force, stored as an immutable snapshot (inputs,
//! formulas' version, thresholds, verdicts with margins and what-ifs).

use chrono::{DateTime, NaiveDate, Utc};
use entity::{brand, evaluation};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait as _, QueryFilter as _,
};
use serde::{Deserialize, Serialize};

use super::{
    CriteriaError, Measure, Measures, Reader, evaluate_brand, own_input,
    policy::{self, Thresholds},
};
use crate::{
    auth::BrandScope,
    brands::scoped,
    pagination::{Page, PageRequest, fetch_page},
};

/// Whether a measure must reach or stay under its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparison {
    /// value ≥ threshold.
    AtLeast,
    /// value ≤ threshold.
    AtMost,
}

/// The measures a brand is judged on. The serde names are the stored
/// spelling inside evaluation snapshots; never change them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MeasureName {
    /// Net GMV share of the category.
    MarketShare,
    /// Share of the category's voluntary social mentions.
    VoluntaryMentionShare,
    /// GMV-weighted price volatility.
    PriceVolatility,
    /// GMV-weighted share of deep-discount SKU days.
    DeepDiscountDays,
    /// Paid members among the brand's store members.
    SuperMemberRatio,
}

impl MeasureName {
    /// How a reviewer reads it in a sentence.
    pub fn label(self) -> &'static str {
        match self {
            Self::MarketShare => "market share",
            Self::VoluntaryMentionShare => "voluntary mention share",
            Self::PriceVolatility => "price volatility",
            Self::DeepDiscountDays => "deep-discount days",
            Self::SuperMemberRatio => "super-member ratio",
        }
    }

    /// How it is computed, in words beside the code that computes it
    /// ([`super::formulas`]), so a scorecard shows the formula it was
    /// judged by.
    pub fn formula(self) -> String {
        use super::{LOOKBACK_DAYS, formulas::DEEP_DISCOUNT};
        match self {
            Self::MarketShare => "brand net GMV in the category ÷ category net GMV, \
                 the 12 months ending with the evaluation's month"
                .to_owned(),
            Self::VoluntaryMentionShare => format!(
                "the brand's voluntary social mentions ÷ all brands' voluntary mentions \
                 in the category, {LOOKBACK_DAYS} days"
            ),
            Self::PriceVolatility => format!(
                "per SKU, standard deviation ÷ mean of its daily prices; their mean \
                 weighted by each SKU's GMV, {LOOKBACK_DAYS} days (lower is better)"
            ),
            Self::DeepDiscountDays => format!(
                "per SKU, the share of days priced below {DEEP_DISCOUNT} × its median \
                 price; their mean weighted by each SKU's GMV, {LOOKBACK_DAYS} days \
                 (lower is better)"
            ),
            Self::SuperMemberRatio => "paid members ÷ the brand's store members, judged on \
                 the lower bound of its 95% Wilson interval"
                .to_owned(),
        }
    }

    /// A value of this measure as a reviewer reads it.
    pub(crate) fn show(self, value: f64) -> String {
        match self {
            Self::PriceVolatility => format!("{value:.4}"),
            Self::MarketShare
            | Self::VoluntaryMentionShare
            | Self::DeepDiscountDays
            | Self::SuperMemberRatio => format!("{:.2}%", value * 100.0),
        }
    }
}

/// What a verdict compared with its threshold. Serde names are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum JudgedOn {
    /// The measure's value.
    Value,
    /// The 95% Wilson lower bound of a ratio (small stores can't pass on luck).
    WilsonLowerBound95,
}

/// One measure judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The measure.
    pub measure: MeasureName,
    /// Its value (null when undefined).
    pub value: Option<f64>,
    /// What was compared with the threshold: the value, or for the
    /// super-member ratio its 95% Wilson lower bound.
    pub judged_value: Option<f64>,
    /// The value, or the ratio's Wilson lower bound.
    pub judged_on: JudgedOn,
    /// The direction of the threshold.
    pub comparison: Comparison,
    /// The threshold.
    pub threshold: f64,
    /// Whether it passed (an undefined value fails).
    pub passed: bool,
    /// How far past the threshold (positive) or short of it (negative).
    pub margin: Option<f64>,
    /// For a failure, what it would take, e.g. "needs market share ≥ 1.00%, has 0.80%".
    pub what_if: Option<String>,
    /// Why the value is undefined.
    pub undefined_reason: Option<String>,
    /// The aggregates it was computed from.
    pub inputs: Vec<(String, f64)>,
    /// First day covered.
    pub period_from: NaiveDate,
    /// Last day covered.
    pub period_to: NaiveDate,
    /// The brand's percentile in its category.
    pub percentile: Option<f64>,
}

/// Everything an evaluation saw and decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The formulas' version.
    pub formula_version: String,
    /// The policy version applied.
    pub policy_version: i32,
    /// The thresholds applied.
    pub thresholds: policy::Thresholds,
    /// The category's HHI over the market-share period.
    pub category_hhi: Option<f64>,
    /// One verdict per measure.
    pub verdicts: Vec<Verdict>,
}

impl Snapshot {
    /// What `reader` may read of it (see [`Reader`]): a brand gets no HHI,
    /// only its own inputs, no percentile, and on the category shares and
    /// the super-member ratio only whether it passed (a share and its own
    /// figure give the category total; the Wilson bound beside the ratio
    /// gives the store's member count).
    pub(crate) fn seen_by(mut self, reader: Reader) -> Self {
        if reader == Reader::Platform {
            return self;
        }
        self.category_hhi = None;
        for verdict in &mut self.verdicts {
            verdict.inputs.retain(|(name, _)| own_input(name));
            // Evaluations keep no count of peers: no percentile for a brand.
            verdict.percentile = None;
            // Shares of a category total: an evaluation keeps no count of
            // peers, so a brand sees only whether it passed (its exact
            // share, among enough brands, is in `entryMeasures`).
            let category_share = matches!(
                verdict.measure,
                MeasureName::MarketShare | MeasureName::VoluntaryMentionShare
            );
            if category_share || verdict.judged_on == JudgedOn::WilsonLowerBound95 {
                // For the super-member ratio, a live exact ratio of member
                // counts: `entryMeasures` shows it released.
                verdict.value = None;
                verdict.judged_value = None;
                verdict.margin = None;
                verdict.what_if = None;
            }
        }
        self
    }
}

impl Evaluation {
    /// What `reader` may read of it.
    pub(crate) fn seen_by(self, reader: Reader) -> Self {
        Self {
            snapshot: self.snapshot.seen_by(reader),
            ..self
        }
    }
}

/// A stored evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Its id.
    pub id: i64,
    /// The brand.
    pub brand_id: i64,
    /// The day measured.
    pub as_of: NaiveDate,
    /// Every measure passed.
    pub passed: bool,
    /// The snapshot.
    pub snapshot: Snapshot,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Who asked for it.
    pub created_by: String,
}

fn judge(
    name: MeasureName,
    measure: Measure,
    threshold: f64,
    comparison: Comparison,
    judged_on: JudgedOn,
) -> Verdict {
    let on_lower_bound = judged_on == JudgedOn::WilsonLowerBound95;
    let lower_bound = measure
        .inputs
        .iter()
        .find(|(n, _)| *n == "wilsonLowerBound95")
        .map(|(_, v)| *v);
    let judged_value = if on_lower_bound {
        lower_bound
    } else {
        measure.value
    };
    let margin = judged_value.map(|v| match comparison {
        Comparison::AtLeast => v - threshold,
        Comparison::AtMost => threshold - v,
    });
    let passed = margin.is_some_and(|m| m >= 0.0);
    let sign = match comparison {
        Comparison::AtLeast => "≥",
        Comparison::AtMost => "≤",
    };
    let what_if = (!passed).then(|| {
        let has = judged_value.map_or_else(|| "none".to_owned(), |v| name.show(v));
        let basis = if on_lower_bound {
            " (95% Wilson lower bound)"
        } else {
            ""
        };
        format!(
            "needs {} {sign} {}{basis}, has {has}",
            name.label(),
            name.show(threshold)
        )
    });
    Verdict {
        measure: name,
        value: measure.value,
        judged_value,
        judged_on,
        comparison,
        threshold,
        passed,
        margin,
        what_if,
        undefined_reason: measure.reason.map(str::to_owned),
        inputs: measure
            .inputs
            .into_iter()
            .map(|(n, v)| (n.to_owned(), v))
            .collect(),
        period_from: measure.period.from,
        period_to: measure.period.to,
        percentile: measure.percentile,
    }
}

/// The verdicts of `measures` against thresholds `t`: the one rule that
/// evaluations, the at-risk list and a policy preview all judge by.
pub(crate) fn verdicts(measures: Measures, t: &Thresholds) -> Vec<Verdict> {
    vec![
        judge(
            MeasureName::MarketShare,
            measures.market_share,
            t.min_market_share,
            Comparison::AtLeast,
            JudgedOn::Value,
        ),
        judge(
            MeasureName::VoluntaryMentionShare,
            measures.voluntary_mention_share,
            t.min_voluntary_mention_share,
            Comparison::AtLeast,
            JudgedOn::Value,
        ),
        judge(
            MeasureName::PriceVolatility,
            measures.price_volatility,
            t.max_price_volatility,
            Comparison::AtMost,
            JudgedOn::Value,
        ),
        judge(
            MeasureName::DeepDiscountDays,
            measures.deep_discount_days,
            t.max_deep_discount_days,
            Comparison::AtMost,
            JudgedOn::Value,
        ),
        judge(
            MeasureName::SuperMemberRatio,
            measures.super_member_ratio,
            t.min_super_member_ratio,
            Comparison::AtLeast,
            JudgedOn::WilsonLowerBound95,
        ),
    ]
}

fn from_row(row: evaluation::Model) -> Result<Evaluation, DbErr> {
    Ok(Evaluation {
        id: row.id,
        brand_id: row.brand_id,
        as_of: row.as_of,
        passed: row.passed,
        snapshot: serde_json::from_str(&row.snapshot).map_err(|e| DbErr::Custom(e.to_string()))?,
        created_at: row.created_at,
        created_by: row.created_by,
    })
}

/// Measures `brand_id` on `as_of`, judges it against its category's policy
/// in force, and stores the snapshot.
pub(crate) async fn run(
    db: &DatabaseConnection,
    brand_id: i64,
    as_of: NaiveDate,
    actor: &str,
) -> Result<Evaluation, CriteriaError> {
    let brand = brand::Entity::find_by_id(brand_id)
        .one(db)
        .await?
        .ok_or(CriteriaError::NotFound)?;
    let policy = policy::current(db, brand.category_id).await?;
    let measures = evaluate_brand(db, &brand, as_of).await?;
    let t = policy.thresholds;
    let formula_version = measures.formula_version;
    let category_hhi = measures.category_hhi;
    let verdicts = verdicts(measures, &t);
    let passed = verdicts.iter().all(|v| v.passed);
    let snapshot = Snapshot {
        formula_version: formula_version.to_owned(),
        policy_version: policy.version,
        thresholds: t,
        category_hhi,
        verdicts,
    };
    let created_at = Utc::now();
    let text = serde_json::to_string(&snapshot).map_err(|e| DbErr::Custom(e.to_string()))?;
    let id = evaluation::Entity::insert(evaluation::ActiveModel {
        brand_id: Set(brand_id),
        as_of: Set(as_of),
        policy_version: Set(policy.version),
        passed: Set(passed),
        snapshot: Set(text),
        created_at: Set(created_at),
        created_by: Set(actor.to_owned()),
        ..Default::default()
    })
    .exec(db)
    .await?
    .last_insert_id;
    crate::audit::record(
        db,
        actor,
        "evaluation.created",
        &format!("brand:{brand_id}"),
        serde_json::json!({ "evaluation": id, "passed": passed, "policy_version": policy.version }),
    )
    .await?;
    Ok(Evaluation {
        id,
        brand_id,
        as_of,
        passed,
        snapshot,
        created_at,
        created_by: actor.to_owned(),
    })
}

/// One evaluation, if the caller may see its brand.
pub(crate) async fn get(
    db: &impl ConnectionTrait,
    scope: BrandScope,
    id: i64,
) -> Result<Evaluation, CriteriaError> {
    let row = scoped(
        evaluation::Entity::find_by_id(id),
        evaluation::Column::BrandId,
        scope,
    )
    .one(db)
    .await?
    .ok_or(CriteriaError::NotFound)?;
    Ok(from_row(row)?)
}

/// Evaluations by id, for batching under objects the caller may already
/// see (an application's latest evaluation).
pub(crate) async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, Evaluation>, DbErr> {
    evaluation::Entity::find()
        .filter(evaluation::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|row| from_row(row).map(|e| (e.id, e)))
        .collect()
}

/// A page of a brand's evaluations, oldest first (the caller has already
/// checked it may see the brand).
pub(crate) async fn list(
    db: &impl ConnectionTrait,
    brand_id: i64,
    page: PageRequest,
) -> Result<Page<Evaluation>, CriteriaError> {
    let select = evaluation::Entity::find().filter(evaluation::Column::BrandId.eq(brand_id));
    let page = fetch_page(db, select, evaluation::Column::Id, page).await?;
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(from_row)
            .collect::<Result<_, _>>()?,
        has_next: page.has_next,
        has_previous: page.has_previous,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_snapshots_keep_their_spelling() {
        // The spelling snapshots were written with before these were enums.
        let names: Vec<String> = [
            MeasureName::MarketShare,
            MeasureName::VoluntaryMentionShare,
            MeasureName::PriceVolatility,
            MeasureName::DeepDiscountDays,
            MeasureName::SuperMemberRatio,
        ]
        .iter()
        .map(|m| serde_json::to_string(m).expect("serialises"))
        .collect();
        assert_eq!(
            names,
            [
                "\"marketShare\"",
                "\"voluntaryMentionShare\"",
                "\"priceVolatility\"",
                "\"deepDiscountDays\"",
                "\"superMemberRatio\""
            ]
        );
        let judged: JudgedOn = serde_json::from_str("\"wilsonLowerBound95\"").expect("reads");
        assert_eq!(judged, JudgedOn::WilsonLowerBound95);
        assert_eq!(
            serde_json::to_string(&JudgedOn::Value).ok().as_deref(),
            Some("\"value\"")
        );
    }
}
