//! Entry-criteria policies and evaluations. Mutations answer invalid input
//! with `userErrors` in their payload; only a missing role is a GraphQL error.

use async_graphql::{Context, ID, Object};

use super::{ApiError, db, outcome, principal, require, scalars::Date};
use crate::graphql::ids::parse_brand_id;
use crate::graphql::types::criteria::{
    CriteriaPolicy, EvaluateBrandPayload, Evaluation, SetCriteriaPolicyInput,
    SetCriteriaPolicyPayload,
};
use crate::{
    auth::Role,
    criteria::{
        Reader, evaluation,
        policy::{self, PolicyError, Thresholds},
    },
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
            evaluation: evaluation
                .map(|e| Evaluation::seen_by(e, Reader::of(principal.brand_scope()))),
            user_errors,
        })
    }
}
