//! Entry-criteria policies and evaluations. Mutations answer invalid input
//! with `userErrors` in their payload; only a missing role is a GraphQL error.

use async_graphql::{Context, ID, Object};

use super::{ApiError, db, outcome, principal, require, scalars::Date};
use crate::graphql::ids::parse_brand_id;
use crate::graphql::types::criteria::{
    AtRiskBrand, CriteriaPolicy, EvaluateBrandPayload, Evaluation, PolicyPreview,
    PreviewCriteriaPolicyInput, SetCriteriaPolicyInput, SetCriteriaPolicyPayload,
};
use crate::{
    auth::Role,
    criteria::{Reader, evaluation, policy, risk},
};

/// Criteria root fields.
#[derive(Default)]
pub(super) struct CriteriaQuery;

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

    /// Every version of a category's thresholds, newest first (public to
    /// every role, like the policy in force).
    async fn criteria_policy_history(
        &self,
        ctx: &Context<'_>,
        category: String,
    ) -> Result<Vec<CriteriaPolicy>, ApiError> {
        principal(ctx)?;
        let versions = policy::history(db(ctx)?, &category).await?;
        Ok(versions
            .into_iter()
            .map(|p| CriteriaPolicy::new(&category, p))
            .collect())
    }

    /// Admitted brands that would fail their category's policy in force if
    /// evaluated today (or `asOf`), with each failing measure's value,
    /// threshold and margin (REVIEWER, ADMIN). Nothing is stored.
    async fn at_risk_brands(
        &self,
        ctx: &Context<'_>,
        as_of: Option<Date>,
    ) -> Result<Vec<AtRiskBrand>, ApiError> {
        require(
            principal(ctx)?,
            &[Role::Reviewer, Role::Admin],
            "reading the at-risk list",
        )?;
        let as_of = as_of.map_or_else(crate::platform::business_today, |day| day.0);
        let brands = risk::at_risk(db(ctx)?, as_of).await?;
        Ok(brands.into_iter().map(Into::into).collect())
    }

    /// Which admitted brands of the category would newly fail (or pass)
    /// proposed thresholds, measured today; nothing is saved (REVIEWER,
    /// ADMIN).
    async fn preview_criteria_policy(
        &self,
        ctx: &Context<'_>,
        input: PreviewCriteriaPolicyInput,
    ) -> Result<PolicyPreview, ApiError> {
        require(
            principal(ctx)?,
            &[Role::Reviewer, Role::Admin],
            "previewing criteria policies",
        )?;
        let result = risk::preview(
            db(ctx)?,
            &input.category,
            input.thresholds.into(),
            crate::platform::business_today(),
        )
        .await;
        let (impact, user_errors) = outcome(result, |error| format!("input.{}", error.field()))?;
        Ok(match impact {
            Some(impact) => PolicyPreview {
                current_version: Some(impact.current_version),
                newly_failing: impact.newly_failing.into_iter().map(Into::into).collect(),
                newly_passing: impact.newly_passing.into_iter().map(Into::into).collect(),
                user_errors,
            },
            None => PolicyPreview {
                current_version: None,
                newly_failing: Vec::new(),
                newly_passing: Vec::new(),
                user_errors,
            },
        })
    }

    /// One evaluation; another brand's answers NOT_FOUND for brand roles.
    async fn evaluation(&self, ctx: &Context<'_>, id: ID) -> Result<Evaluation, ApiError> {
        let principal = principal(ctx)?;
        let id = super::parse_id(&id, "an evaluation")?;
        let e = evaluation::get(db(ctx)?, principal.brand_scope(), id).await?;
        Ok(Evaluation::seen_by(e, Reader::of(principal.brand_scope())))
    }
}

/// Criteria mutations.
#[derive(Default)]
pub(super) struct CriteriaMutation;

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
        let result = policy::set(
            db(ctx)?,
            &input.category,
            policy::PolicyChange {
                thresholds: input.thresholds.into(),
                reapply_cooldown_days: input
                    .reapply_cooldown_days
                    .map(|days| u32::try_from(days).unwrap_or(u32::MAX)),
                required_documents: input
                    .required_documents
                    .map(|kinds| kinds.into_iter().map(Into::into).collect()),
            },
            input.expected_version,
            &principal.subject,
        )
        .await;
        let (policy, user_errors) = outcome(result, |error| format!("input.{}", error.field()))?;
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
            evaluation: evaluation
                .map(|e| Evaluation::seen_by(e, Reader::of(principal.brand_scope()))),
            user_errors,
        })
    }
}
