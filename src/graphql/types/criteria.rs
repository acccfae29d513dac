//! Entry-criteria policies, evaluations and their verdicts.

use async_graphql::{Enum, ID, InputObject, SimpleObject};
use chrono::{DateTime, Utc};

use crate::criteria::{
    Reader, evaluation,
    policy::{self},
};
use crate::graphql::types::qualification::DocumentKind;
use crate::graphql::{UserError, scalars::Date};

use crate::graphql::types::brand::MeasureInput;

/// A category's entry thresholds, one version.
#[derive(SimpleObject)]
pub(crate) struct CriteriaPolicy {
    /// The category's code.
    pub(crate) category: String,
    /// Version; 0 is the built-in default.
    pub(crate) version: i32,
    /// Least market share.
    pub(crate) min_market_share: f64,
    /// Least voluntary mention share.
    pub(crate) min_voluntary_mention_share: f64,
    /// Most price volatility.
    pub(crate) max_price_volatility: f64,
    /// Least super-member ratio, judged on its 95% Wilson lower bound.
    pub(crate) min_super_member_ratio: f64,
    /// Most share of deep-discount days.
    pub(crate) max_deep_discount_days: f64,
    /// Days a brand waits after a final refusal (REJECTED, UPHELD) before
    /// it may apply again.
    pub(crate) reapply_cooldown_days: i32,
    /// Documents an application must have verified before approval (and
    /// an admitted brand keep valid).
    pub(crate) required_documents: Vec<DocumentKind>,
    /// Who set it.
    pub(crate) created_by: String,
    /// When it was set (null for the default).
    pub(crate) created_at: Option<DateTime<Utc>>,
}

impl From<ThresholdsInput> for policy::Thresholds {
    fn from(input: ThresholdsInput) -> Self {
        Self {
            min_market_share: input.min_market_share,
            min_voluntary_mention_share: input.min_voluntary_mention_share,
            max_price_volatility: input.max_price_volatility,
            min_super_member_ratio: input.min_super_member_ratio,
            max_deep_discount_days: input.max_deep_discount_days,
        }
    }
}

impl CriteriaPolicy {
    /// A policy version as the contract shows it.
    pub(crate) fn new(category: &str, policy: policy::Policy) -> Self {
        let t = policy.thresholds;
        Self {
            category: category.to_owned(),
            version: policy.version,
            min_market_share: t.min_market_share,
            min_voluntary_mention_share: t.min_voluntary_mention_share,
            max_price_volatility: t.max_price_volatility,
            min_super_member_ratio: t.min_super_member_ratio,
            max_deep_discount_days: t.max_deep_discount_days,
            reapply_cooldown_days: i32::try_from(policy.reapply_cooldown_days).unwrap_or(i32::MAX),
            required_documents: policy
                .required_documents
                .into_iter()
                .map(Into::into)
                .collect(),
            created_by: policy.created_by,
            created_at: policy.created_at,
        }
    }
}

/// A new version of a category's thresholds.
#[derive(InputObject)]
pub(crate) struct SetCriteriaPolicyInput {
    /// The category's code.
    pub(crate) category: String,
    /// The version this change is based on (optimistic concurrency).
    pub(crate) expected_version: i32,
    /// The thresholds.
    #[graphql(flatten)]
    pub(crate) thresholds: ThresholdsInput,
    /// Days a brand waits after a final refusal before applying again
    /// (0–365); omitted, the version in force's carries over (90 by
    /// default).
    pub(crate) reapply_cooldown_days: Option<i32>,
    /// Documents required before approval; omitted, the version in
    /// force's carry over (none by default).
    pub(crate) required_documents: Option<Vec<DocumentKind>>,
}

/// Thresholds to try against a category's admitted brands; nothing is saved.
#[derive(InputObject)]
pub(crate) struct PreviewCriteriaPolicyInput {
    /// The category's code.
    pub(crate) category: String,
    /// The thresholds.
    #[graphql(flatten)]
    pub(crate) thresholds: ThresholdsInput,
}

/// A category's five thresholds, as set or previewed.
#[derive(InputObject)]
pub(crate) struct ThresholdsInput {
    /// Least market share (0–1).
    pub(crate) min_market_share: f64,
    /// Least voluntary mention share (0–1).
    pub(crate) min_voluntary_mention_share: f64,
    /// Most price volatility (0–10).
    pub(crate) max_price_volatility: f64,
    /// Least super-member ratio (0–1).
    pub(crate) min_super_member_ratio: f64,
    /// Most share of deep-discount days (0–1).
    pub(crate) max_deep_discount_days: f64,
}

/// The result of `setCriteriaPolicy`.
#[derive(SimpleObject)]
pub(crate) struct SetCriteriaPolicyPayload {
    /// The new version, when set.
    pub(crate) policy: Option<CriteriaPolicy>,
    /// Why it was not set.
    pub(crate) user_errors: Vec<UserError>,
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
pub(crate) struct Verdict {
    /// Which measure.
    pub(crate) measure: MeasureName,
    /// The measure's value (null when undefined).
    pub(crate) value: Option<f64>,
    /// What was compared: the value, or the super-member ratio's Wilson
    /// lower bound (null for a brand: with the ratio it gives the store's
    /// member count).
    pub(crate) judged_value: Option<f64>,
    /// The value, or the ratio's Wilson lower bound.
    pub(crate) judged_on: JudgedOn,
    /// Direction of the threshold.
    pub(crate) comparison: Comparison,
    /// The threshold.
    pub(crate) threshold: f64,
    /// Passed (an undefined value fails).
    pub(crate) passed: bool,
    /// Distance past (positive) or short of (negative) the threshold (null
    /// for a brand on the super-member ratio).
    pub(crate) margin: Option<f64>,
    /// For a failure, what it would take (null for a brand on the
    /// super-member ratio).
    pub(crate) what_if: Option<String>,
    /// Why the value is undefined.
    pub(crate) undefined_reason: Option<String>,
    /// How the measure is computed under the formulas in force, in words
    /// (`formulaVersion` says which formulas an evaluation used).
    pub(crate) formula: String,
    /// The aggregates used; a brand sees its own figures only.
    pub(crate) inputs: Vec<MeasureInput>,
    /// First day covered.
    pub(crate) period_from: Date,
    /// Last day covered.
    pub(crate) period_to: Date,
    /// The brand's percentile in its category; platform roles only.
    pub(crate) category_percentile: Option<f64>,
}

impl From<evaluation::Verdict> for Verdict {
    fn from(v: evaluation::Verdict) -> Self {
        Self {
            measure: v.measure.into(),
            formula: v.measure.formula(),
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
        }
    }
}

/// An admitted brand that fails a policy, and how.
#[derive(SimpleObject)]
pub(crate) struct AtRiskBrand {
    /// The brand.
    pub(crate) brand: crate::graphql::types::brand::Brand,
    /// The policy version in force it fails (null for a proposal).
    pub(crate) policy_version: Option<i32>,
    /// The measures it fails: value, threshold, margin, what it would take.
    pub(crate) failing: Vec<Verdict>,
}

impl From<crate::criteria::risk::AtRisk> for AtRiskBrand {
    fn from(at_risk: crate::criteria::risk::AtRisk) -> Self {
        Self {
            brand: at_risk.brand.into(),
            policy_version: at_risk.policy_version,
            failing: at_risk.failing.into_iter().map(Into::into).collect(),
        }
    }
}

/// What a proposed policy would change.
#[derive(SimpleObject)]
pub(crate) struct PolicyPreview {
    /// The version in force it was compared with.
    pub(crate) current_version: Option<i32>,
    /// Admitted brands that pass the policy in force and would fail it.
    pub(crate) newly_failing: Vec<AtRiskBrand>,
    /// Admitted brands that fail the policy in force and would pass it.
    pub(crate) newly_passing: Vec<crate::graphql::types::brand::Brand>,
    /// Why it could not be previewed.
    pub(crate) user_errors: Vec<UserError>,
}

/// An immutable evaluation of a brand against its category's policy.
#[derive(SimpleObject)]
pub(crate) struct Evaluation {
    /// Its id.
    pub(crate) id: ID,
    /// The brand's id.
    pub(crate) brand_id: ID,
    /// The day measured.
    pub(crate) as_of: Date,
    /// Every measure passed.
    pub(crate) passed: bool,
    /// The policy version applied; later policy changes never alter this.
    pub(crate) policy_version: i32,
    /// The formulas' version.
    pub(crate) formula_version: String,
    /// The category's HHI over the market-share period; platform roles
    /// only.
    pub(crate) category_hhi: Option<f64>,
    /// One verdict per measure.
    pub(crate) verdicts: Vec<Verdict>,
    /// When.
    pub(crate) created_at: DateTime<Utc>,
    /// Who asked for it.
    pub(crate) created_by: String,
}

impl Evaluation {
    /// The evaluation as `reader` may read it (a brand sees its own
    /// figures only; see `criteria::Reader`).
    pub(crate) fn seen_by(e: evaluation::Evaluation, reader: Reader) -> Self {
        let e = e.seen_by(reader);
        Self {
            id: ID(e.id.to_string()),
            brand_id: ID(e.brand_id.to_string()),
            as_of: Date(e.as_of),
            passed: e.passed,
            policy_version: e.snapshot.policy_version,
            formula_version: e.snapshot.formula_version,
            category_hhi: e.snapshot.category_hhi,
            verdicts: e.snapshot.verdicts.into_iter().map(Verdict::from).collect(),
            created_at: e.created_at,
            created_by: e.created_by,
        }
    }
}

/// The result of `evaluateBrand`.
#[derive(SimpleObject)]
pub(crate) struct EvaluateBrandPayload {
    /// The new evaluation.
    pub(crate) evaluation: Option<Evaluation>,
    /// Why there is none.
    pub(crate) user_errors: Vec<UserError>,
}
