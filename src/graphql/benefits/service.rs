//! The checkout (SERVICE): eligibility of a member and idempotent
//! redemption by member reference.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::benefit_id;
use crate::graphql::types::benefit::RedemptionOutcome;
use crate::{
    auth::Role,
    benefits::redemption,
    graphql::{ApiError, UserError, db, ids::gid, outcome, parse_id, principal, require},
};

/// What eligibility decided.
#[derive(SimpleObject)]
pub(super) struct BenefitEligibility {
    /// Whether the member gets it (before budgets).
    pub(crate) eligible: bool,
    /// GRANTED, or why not.
    pub(crate) outcome: RedemptionOutcome,
    /// The value the member gets.
    pub(crate) value: Option<i64>,
    /// The upgrade applies.
    pub(crate) upgraded: bool,
    /// Money off this order, in fen.
    pub(crate) amount_cents: i64,
}

/// A recorded redemption.
#[derive(SimpleObject)]
pub(super) struct Redemption {
    /// Its id.
    pub(crate) id: ID,
    /// Granted or not.
    pub(crate) granted: bool,
    /// GRANTED, or why not.
    pub(crate) outcome: RedemptionOutcome,
    /// Money granted, in fen.
    pub(crate) amount_cents: i64,
    /// This call replayed an earlier one with the same key.
    pub(crate) replayed: bool,
    /// When it was first recorded.
    pub(crate) created_at: DateTime<Utc>,
}

/// The result of `redeemBenefit`.
#[derive(SimpleObject)]
pub(super) struct RedeemPayload {
    /// The redemption (granted or refused) when the request was usable.
    pub(crate) redemption: Option<Redemption>,
    /// Why the request was unusable.
    pub(crate) user_errors: Vec<UserError>,
}

/// A redemption request.
#[derive(InputObject)]
pub(super) struct RedeemBenefitInput {
    /// The benefit.
    pub(crate) benefit_id: ID,
    /// The platform's member reference.
    pub(crate) member_ref: ID,
    /// Unique per attempt; a replay returns the first result.
    pub(crate) idempotency_key: String,
    /// The order amount, in fen.
    pub(crate) order_cents: i64,
}

/// The checkout's read.
#[derive(Default)]
pub(super) struct ServiceQuery;

#[Object]
impl ServiceQuery {
    /// Whether a member gets a benefit on an order, before budgets
    /// (SERVICE: the checkout).
    async fn benefit_eligibility(
        &self,
        ctx: &Context<'_>,
        benefit_id: ID,
        member_ref: ID,
        order_cents: i64,
    ) -> Result<BenefitEligibility, ApiError> {
        let principal = principal(ctx)?;
        require(principal, &[Role::Service], "checking eligibility")?;
        let member = parse_id(&member_ref, "a member reference")?;
        let e = redemption::eligibility(
            db(ctx)?,
            self::benefit_id(&benefit_id)?,
            member,
            order_cents,
            Utc::now(),
        )
        .await?;
        Ok(BenefitEligibility {
            eligible: e.outcome == redemption::Outcome::Granted,
            outcome: e.outcome.into(),
            value: e.value,
            upgraded: e.upgraded,
            amount_cents: e.amount_cents,
        })
    }
}

/// The checkout's mutation.
#[derive(Default)]
pub(super) struct ServiceMutation;

#[Object]
impl ServiceMutation {
    /// Records a redemption for a member (SERVICE: the checkout). Budgets
    /// hold under concurrency; a replayed `idempotencyKey` returns the
    /// first result and counts once.
    async fn redeem_benefit(
        &self,
        ctx: &Context<'_>,
        input: RedeemBenefitInput,
    ) -> Result<RedeemPayload, ApiError> {
        let principal = principal(ctx)?;
        require(principal, &[Role::Service], "redeeming benefits")?;
        let request = redemption::Request {
            benefit_id: benefit_id(&input.benefit_id)?,
            member_id: parse_id(&input.member_ref, "a member reference")?,
            idempotency_key: &input.idempotency_key,
            order_cents: input.order_cents,
            service: &principal.subject,
            now: Utc::now(),
        };
        let result = redemption::redeem(db(ctx)?, &request).await;
        let (done, user_errors) = outcome(result, |e| format!("input.{}", e.field()))?;
        let redemption = done
            .map(|done| -> Result<Redemption, ApiError> {
                let outcome: redemption::Outcome =
                    crate::db::stored("redemption.outcome", &done.row.outcome)?;
                Ok(Redemption {
                    id: gid(done.row.id),
                    granted: done.row.granted,
                    outcome: outcome.into(),
                    amount_cents: done.row.amount_cents,
                    replayed: done.replayed,
                    created_at: done.row.created_at,
                })
            })
            .transpose()?;
        Ok(RedeemPayload {
            redemption,
            user_errors,
        })
    }
}
