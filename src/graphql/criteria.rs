//! Entry-criteria policies and evaluations. Mutations answer invalid input
//! with `userErrors` in their payload; only a missing role is a GraphQL error.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::{
    ApiError, UserError, brands::MeasureInput, brands::parse_brand_id, db, outcome, principal,
    require, scalars::Date,
};
use crate::{
    auth::Role,
    criteria::{
        evaluation,
        policy::{self, PolicyError, Thresholds},
    },
};

/// A category's entry thresholds, one version.
#[derive(SimpleObject)]
pub struct CriteriaPolicy {
    /// The category's code.
    category: String,
    /// Version; 0 is the built-in default.
    version: i32,
    /// Least market share.
    min_market_share: f64,
    /// Least voluntary mention share.
    min_voluntary_mention_share: f64,
    /// Most price volatility.
    max_price_volatility: f64,
    /// Least super-member ratio, judged on its 95% Wilson lower bound.
    min_super_member_ratio: f64,
    /// Most share of deep-discount days.
    max_deep_discount_days: f64,
    /// Who set it.
    created_by: String,
    /// When it was set (null for the default).
    created_at: Option<DateTime<Utc>>,
}

impl CriteriaPolicy {
    fn new(category: &str, policy: policy::Policy) -> Self {
        let t = policy.thresholds;
        Self {
            category: category.to_owned(),
            version: policy.version,
            min_market_share: t.min_market_share,
            min_voluntary_mention_share: t.min_voluntary_mention_share,
            max_price_volatility: t.max_price_volatility,
            min_super_member_ratio: t.min_super_member_ratio,
            max_deep_discount_days: t.max_deep_discount_days,
            created_by: policy.created_by,
            created_at: policy.created_at,
        }
    }
}

/// A new version of a category's thresholds.
#[derive(InputObject)]
pub struct SetCriteriaPolicyInput {
    /// The category's code.
    category: String,
    /// The version this change is based on (optimistic concurrency).
    expected_version: i32,
    /// Least market share (0–1).
    min_market_share: f64,
    /// Least voluntary mention share (0–1).
    min_voluntary_mention_share: f64,
    /// Most price volatility (0–10).
    max_price_volatility: f64,
    /// Least super-member ratio (0–1).
    min_super_member_ratio: f64,
    /// Most share of deep-discount days (0–1).
    max_deep_discount_days: f64,
}

/// The result of `setCriteriaPolicy`.
#[derive(SimpleObject)]
pub struct SetCriteriaPolicyPayload {
    /// The new version, when set.
    policy: Option<CriteriaPolicy>,
    /// Why it was not set.
    user_errors: Vec<UserError>,
}

/// Direction of a threshold.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::criteria::evaluation::Comparison")]
pub enum Comparison {
    /// The value must be at least the threshold.
    AtLeast,
    /// The value must be at most the threshold.
    AtMost,
}

/// The measures a brand is judged on.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::criteria::evaluation::MeasureName")]
pub enum MeasureName {
    /// Net GMV share of the category, trailing 12 months.
    MarketShare,
    /// Share of the category's voluntary social mentions, 90 days.
    VoluntaryMentionShare,
    /// GMV-weighted price volatility, 90 days.
    PriceVolatility,
    /// GMV-weighted share of deep-discount SKU days, 90 days.
    DeepDiscountDays,
    /// Paid members among the brand's store members.
    SuperMemberRatio,
}

/// What a verdict compared with its threshold.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::criteria::evaluation::JudgedOn")]
pub enum JudgedOn {
    /// The measure's value.
    Value,
    /// The ratio's 95% Wilson lower bound (a small store cannot pass on luck).
    #[graphql(name = "WILSON_LOWER_BOUND_95")]
    WilsonLowerBound95,
}

/// One measure judged against its threshold.
#[derive(SimpleObject)]
pub struct Verdict {
    /// Which measure.
    measure: MeasureName,
    /// The measure's value (null when undefined).
    value: Option<f64>,
    /// What was compared: the value, or the super-member ratio's Wilson lower bound.
    judged_value: Option<f64>,
    /// The value, or the ratio's Wilson lower bound.
    judged_on: JudgedOn,
    /// Direction of the threshold.
    comparison: Comparison,
    /// The threshold.
    threshold: f64,
    /// Passed (an undefined value fails).
    passed: bool,
    /// Distance past (positive) or short of (negative) the threshold.
    margin: Option<f64>,
    /// For a failure, what it would take.
    what_if: Option<String>,
    /// Why the value is undefined.
    undefined_reason: Option<String>,
    /// The aggregates used.
    inputs: Vec<MeasureInput>,
    /// First day covered.
    period_from: Date,
    /// Last day covered.
    period_to: Date,
    /// The brand's percentile in its category.
    category_percentile: Option<f64>,
}

/// An immutable evaluation of a brand against its category's policy.
#[derive(SimpleObject)]
pub struct Evaluation {
    /// Its id.
    id: ID,
    /// The brand's id.
    brand_id: ID,
    /// The day measured.
    as_of: Date,
    /// Every measure passed.
    passed: bool,
    /// The policy version applied; later policy changes never alter this.
    policy_version: i32,
    /// The formulas' version.
    formula_version: String,
    /// The category's HHI over the market-share period.
    category_hhi: Option<f64>,
    /// One verdict per measure.
    verdicts: Vec<Verdict>,
    /// When.
    created_at: DateTime<Utc>,
    /// Who asked for it.
    created_by: String,
}

impl From<evaluation::Evaluation> for Evaluation {
    fn from(e: evaluation::Evaluation) -> Self {
        Self {
            id: ID(e.id.to_string()),
            brand_id: ID(e.brand_id.to_string()),
            as_of: Date(e.as_of),
            passed: e.passed,
            policy_version: e.snapshot.policy_version,
            formula_version: e.snapshot.formula_version,
            category_hhi: e.snapshot.category_hhi,
            verdicts: e
                .snapshot
                .verdicts
                .into_iter()
                .map(|v| Verdict {
                    measure: v.measure.into(),
                    value: v.value,
                    judged_value: v.judged_value,
                    judged_on: v.judged_on.into(),
                    comparison: v.comparison.into(),
                    threshold: v.threshold,
                    passed: v.passed,
                    margin: v.margin,
                    what_if: v.what_if,
                    undefined_reason: v.undefined_reason,
                    inputs: v
                        .inputs
                        .into_iter()
                        .map(|(name, value)| MeasureInput { name, value })
                        .collect(),
                    period_from: Date(v.period_from),
                    period_to: Date(v.period_to),
                    category_percentile: v.percentile,
                })
                .collect(),
            created_at: e.created_at,
            created_by: e.created_by,
        }
    }
}

/// The result of `evaluateBrand`.
#[derive(SimpleObject)]
pub struct EvaluateBrandPayload {
    /// The new evaluation.
    evaluation: Option<Evaluation>,
    /// Why there is none.
    user_errors: Vec<UserError>,
}

/// Criteria root fields.
#[derive(Default)]
pub struct CriteriaQuery;

#[Object]
impl CriteriaQuery {
    /// The entry thresholds in force for a category (public to every role).
    async fn criteria_policy(
        &self,
        ctx: &Context<'_>,
        category: String,
    ) -> Result<CriteriaPolicy, ApiError> {
        principal(ctx)?;
        let policy = policy::current_by_code(db(ctx)?, &category).await?;
        Ok(CriteriaPolicy::new(&category, policy))
    }

    /// One evaluation; another brand's answers NOT_FOUND for brand roles.
    async fn evaluation(&self, ctx: &Context<'_>, id: ID) -> Result<Evaluation, ApiError> {
        let principal = principal(ctx)?;
        let id = super::parse_id(&id, "an evaluation")?;
        Ok(evaluation::get(db(ctx)?, principal.brand_scope(), id)
            .await?
            .into())
    }
}

/// Criteria mutations.
#[derive(Default)]
pub struct CriteriaMutation;

#[Object]
impl CriteriaMutation {
    /// Appends a new version of a category's thresholds (ADMIN). Past
    /// evaluations keep the version they used.
    async fn set_criteria_policy(
        &self,
        ctx: &Context<'_>,
        input: SetCriteriaPolicyInput,
    ) -> Result<SetCriteriaPolicyPayload, ApiError> {
        let principal = principal(ctx)?;
        require(principal, &[Role::Admin], "setting criteria policies")?;
        let thresholds = Thresholds {
            min_market_share: input.min_market_share,
            min_voluntary_mention_share: input.min_voluntary_mention_share,
            max_price_volatility: input.max_price_volatility,
            min_super_member_ratio: input.min_super_member_ratio,
            max_deep_discount_days: input.max_deep_discount_days,
        };
        let result = policy::set(
            db(ctx)?,
            &input.category,
            thresholds,
            input.expected_version,
            &principal.subject,
        )
        .await;
        let (policy, user_errors) = outcome(result, |error| {
            let field = match error {
                PolicyError::OutOfRange { field, .. } => field,
                PolicyError::Conflict { .. } => "expectedVersion",
                PolicyError::UnknownCategory(_) | PolicyError::Db(_) => "category",
            };
            format!("input.{field}")
        })?;
        Ok(SetCriteriaPolicyPayload {
            policy: policy.map(|p| CriteriaPolicy::new(&input.category, p)),
            user_errors,
        })
    }

    /// Measures a brand now (or as of a day) and judges it against its
    /// category's policy in force, storing an immutable evaluation
    /// (REVIEWER, ADMIN).
    async fn evaluate_brand(
        &self,
        ctx: &Context<'_>,
        brand_id: ID,
        as_of: Option<Date>,
    ) -> Result<EvaluateBrandPayload, ApiError> {
        let principal = principal(ctx)?;
        require(
            principal,
            &[Role::Reviewer, Role::Admin],
            "evaluating brands",
        )?;
        let as_of = as_of.map_or_else(crate::platform::business_today, |day| day.0);
        let result = evaluation::run(
            db(ctx)?,
            parse_brand_id(&brand_id)?,
            as_of,
            &principal.subject,
        )
        .await;
        let (evaluation, user_errors) = outcome(result, |_| "brandId".to_owned())?;
        Ok(EvaluateBrandPayload {
            evaluation: evaluation.map(Into::into),
            user_errors,
        })
    }
}
