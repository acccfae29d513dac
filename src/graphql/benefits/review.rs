//! The reviewer's decision on a benefit's pending revision.

use async_graphql::{Context, ID, Object};

use super::{BenefitPayload, lifecycle};
use crate::{auth::Role, benefits::Action, graphql::ApiError};

/// The reviewer's mutation.
#[derive(Default)]
pub(super) struct ReviewMutation;

#[Object]
impl ReviewMutation {
    /// Approves or rejects the revision waiting for review (REVIEWER); a
    /// rejection needs the reasons in `note`. An approved benefit whose
    /// start has come goes ACTIVE at once.
    async fn review_benefit(
        &self,
        ctx: &Context<'_>,
        benefit_id: ID,
        expected_version: i32,
        approve: bool,
        note: Option<String>,
    ) -> Result<BenefitPayload, ApiError> {
        let action = if approve {
            Action::Approve
        } else {
            Action::Reject
        };
        lifecycle(
            ctx,
            &[Role::Reviewer],
            &benefit_id,
            expected_version,
            action,
            note,
        )
        .await
    }
}
