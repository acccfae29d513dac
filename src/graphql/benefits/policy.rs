//! The usage policy's thresholds: everyone reads the version in force (a
//! brand sees why and when its benefits are judged); ADMIN appends one.

use async_graphql::{Context, InputObject, Object, SimpleObject};

use crate::{
    auth::Role,
    benefits::usage_policy::{self, UsagePolicyError, UsageThresholds},
    graphql::{
        ApiError, UserError, db, outcome, principal, require, types::benefit_insight::UsagePolicy,
    },
};

/// New usage policy thresholds, based on the version the caller read.
#[derive(InputObject)]
pub(super) struct SetUsagePolicyInput {
    /// The version this change is based on (a concurrent change makes it
    /// a CONFLICT).
    expected_version: i32,
    /// Least share of its places a capacity-bound event must fill (0–1).
    min_fill_rate: f64,
    /// Least buyer use of every other kind (0–1).
    min_buyer_use: f64,
    /// The period buyer use is measured over, in days (7–366).
    period_days: i64,
    /// Days a benefit is live (or resumed) before it is judged (1–366).
    grace_days: i64,
    /// Days from a flag to the pause, and from the pause to retirement
    /// (1–90).
    notice_days: i64,
}

/// The result of `setUsagePolicy`.
#[derive(SimpleObject)]
pub(super) struct SetUsagePolicyPayload {
    /// The new version, when it was set.
    policy: Option<UsagePolicy>,
    /// Why not.
    user_errors: Vec<UserError>,
}

/// The usage policy's read.
#[derive(Default)]
pub(super) struct UsagePolicyQuery;

#[Object]
impl UsagePolicyQuery {
    /// The usage policy in force (every role).
    async fn usage_policy(&self, ctx: &Context<'_>) -> Result<UsagePolicy, ApiError> {
        principal(ctx)?;
        Ok(usage_policy::current(db(ctx)?).await?.into())
    }
}

/// The usage policy's change.
#[derive(Default)]
pub(super) struct UsagePolicyMutation;

#[Object]
impl UsagePolicyMutation {
    /// Appends a version of the usage policy (ADMIN); flags it raises name
    /// their version.
    async fn set_usage_policy(
        &self,
        ctx: &Context<'_>,
        input: SetUsagePolicyInput,
    ) -> Result<SetUsagePolicyPayload, ApiError> {
        let principal = principal(ctx)?;
        require(principal, &[Role::Admin], "setting the usage policy")?;
        let thresholds = UsageThresholds {
            min_fill_rate: input.min_fill_rate,
            min_buyer_use: input.min_buyer_use,
            period_days: input.period_days,
            grace_days: input.grace_days,
            notice_days: input.notice_days,
        };
        let result = usage_policy::set(
            db(ctx)?,
            thresholds,
            input.expected_version,
            &principal.subject,
        )
        .await;
        let (policy, user_errors) = outcome(result, |error| {
            let field = match error {
                UsagePolicyError::OutOfRange { field, .. } => field,
                UsagePolicyError::Conflict { .. } | UsagePolicyError::Db(_) => "expectedVersion",
            };
            format!("input.{field}")
        })?;
        Ok(SetUsagePolicyPayload {
            policy: policy.map(Into::into),
            user_errors,
        })
    }
}
