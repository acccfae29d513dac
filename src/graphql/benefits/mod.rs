//! Exclusive member benefits, root fields by audience: everyone's reads
//! (`read`), the brand operator's configuration and member centre
//! (`operator`), the reviewer's decision (`review`), the checkout's
//! eligibility and redemption (`service`), what a brand learns about its
//! benefits (`insight`), and the usage policy (`policy`). Domain refusals are `userErrors`.

mod insight_roots;
mod operator;
mod policy;
mod read;
mod review;
mod service;

use async_graphql::{Context, ID, MergedObject, SimpleObject};

use crate::graphql::types::benefit::Benefit;
use crate::{
    auth::{Caller, Principal, Role},
    benefits::{self, Action, BenefitError},
    error::ErrorCode,
    graphql::{ApiError, UserError, db, outcome, parse_id, principal, require},
};

/// Benefit root fields, merged from every audience's.
#[derive(MergedObject, Default)]
pub(super) struct BenefitQuery(
    read::ReadQuery,
    operator::CentreQuery,
    service::ServiceQuery,
    insight_roots::InsightQuery,
    policy::UsagePolicyQuery,
);

/// Benefit mutations, merged from every audience's.
#[derive(MergedObject, Default)]
pub(super) struct BenefitMutation(
    operator::OperatorMutation,
    review::ReviewMutation,
    service::ServiceMutation,
    policy::UsagePolicyMutation,
);

pub(super) const OPERATOR: &[Role] = &[Role::BrandOperator];
pub(super) const READERS: &[Role] = &[
    Role::BrandOperator,
    Role::BrandAnalyst,
    Role::Reviewer,
    Role::Admin,
    Role::Service,
];
pub(super) const CONFIGURING: &str = "configuring benefits";

pub(super) fn benefit_id(id: &ID) -> Result<i64, ApiError> {
    parse_id(id, "a benefit")
}

/// The caller's own brand, for brand roles (platform roles get FORBIDDEN:
/// these answers spend or shape one brand's own budget and store).
pub(super) fn own_brand(
    principal: &Principal,
    roles: &[Role],
    what: &str,
) -> Result<i64, ApiError> {
    require(principal, roles, what)?;
    principal
        .brand_id
        .ok_or_else(|| ApiError::new(ErrorCode::Forbidden, "this credential has no brand"))
}

/// The result of a benefit mutation.
#[derive(SimpleObject)]
pub(super) struct BenefitPayload {
    /// The benefit after the step.
    pub(crate) benefit: Option<Benefit>,
    /// Why the step was refused.
    pub(crate) user_errors: Vec<UserError>,
}

pub(super) fn payload(
    result: Result<benefits::Benefit, BenefitError>,
) -> Result<BenefitPayload, ApiError> {
    let (benefit, user_errors) = outcome(result, BenefitError::field)?;
    Ok(BenefitPayload {
        benefit: benefit.map(Into::into),
        user_errors,
    })
}

/// A lifecycle step by whoever `roles` allows.
pub(super) async fn lifecycle(
    ctx: &Context<'_>,
    roles: &[Role],
    benefit: &ID,
    expected_version: i32,
    action: Action,
    note: Option<String>,
) -> Result<BenefitPayload, ApiError> {
    let principal = principal(ctx)?;
    require(principal, roles, "this benefit step")?;
    let id = benefit_id(benefit)?;
    payload(
        benefits::step(
            db(ctx)?,
            &Caller::now(principal),
            id,
            expected_version,
            action,
            note,
        )
        .await,
    )
}
