//! The checkout (SERVICE): quotes and orders on a basket, eligibility of a
//! member and idempotent redemption by member reference.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::benefit_id;
use crate::graphql::types::{
    benefit::RedemptionOutcome,
    checkout::{BasketLineInput, Order, Quote, QuotedBenefit, RefundLineInput},
};
use crate::{
    auth::Role,
    benefits::{checkout, redemption, refund},
    graphql::{
        ApiError, UserError, db, ids::gid, ids::parse_brand_id, outcome, parse_id, principal,
        require,
    },
};

/// A basket to quote: what would this member get in this store?
#[derive(InputObject)]
pub(super) struct QuoteInput {
    /// The store's brand.
    pub(crate) brand_id: ID,
    /// The platform's member reference.
    pub(crate) member_ref: ID,
    /// The basket (1–100 lines).
    pub(crate) lines: Vec<BasketLineInput>,
}

/// An order to place: its quote is applied atomically, once per
/// `orderRef`.
#[derive(InputObject)]
pub(super) struct PlaceOrderInput {
    /// The store's brand.
    pub(crate) brand_id: ID,
    /// The checkout's order reference, unique per store (1–128
    /// characters); placing it again returns the first result.
    pub(crate) order_ref: String,
    /// The platform's member reference.
    pub(crate) member_ref: ID,
    /// The basket (1–100 lines).
    pub(crate) lines: Vec<BasketLineInput>,
}

/// The result of `placeOrder` and `refundOrder`.
#[derive(SimpleObject)]
pub(super) struct OrderPayload {
    /// The order, when the request was usable.
    pub(crate) order: Option<Order>,
    /// Why it was not.
    pub(crate) user_errors: Vec<UserError>,
}

/// The payload of an order mutation; user errors name fields under
/// `prefix` (`input.` for an input object, nothing for plain arguments).
fn order_payload(
    result: Result<checkout::Order, checkout::CheckoutError>,
    prefix: &str,
) -> Result<OrderPayload, ApiError> {
    let (order, user_errors) = outcome(result, |e| format!("{prefix}{}", e.field()))?;
    Ok(OrderPayload {
        order: order.map(Into::into),
        user_errors,
    })
}

/// What eligibility decided.
#[derive(SimpleObject)]
pub(super) struct BenefitEligibility {
    /// Whether the member gets it.
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
    /// What a member gets on a basket in a brand's store now, per benefit
    /// (granted, or why not) and per line; nothing is recorded (SERVICE:
    /// the checkout). The same engine as the cell analysis and orders.
    async fn quote(&self, ctx: &Context<'_>, input: QuoteInput) -> Result<Quote, ApiError> {
        let principal = principal(ctx)?;
        require(principal, &[Role::Service], "quoting baskets")?;
        let lines: Vec<checkout::Line> = input.lines.into_iter().map(Into::into).collect();
        let quote = checkout::quote(
            db(ctx)?,
            parse_brand_id(&input.brand_id)?,
            parse_id(&input.member_ref, "a member reference")?,
            &lines,
            Utc::now(),
        )
        .await?;
        Ok(quote.into())
    }

    /// What a brand offers a member now, whatever the basket: every active
    /// benefit of the store with the member's outcome (GRANTED, or why
    /// not), in the order they apply; `amountCents` is 0 here, as money
    /// depends on a basket (quote one) (SERVICE: the member centre, the
    /// checkout).
    async fn member_offers(
        &self,
        ctx: &Context<'_>,
        brand_id: ID,
        member_ref: ID,
    ) -> Result<Vec<QuotedBenefit>, ApiError> {
        let principal = principal(ctx)?;
        require(principal, &[Role::Service], "listing a member's offers")?;
        let offered = checkout::offered(
            db(ctx)?,
            parse_brand_id(&brand_id)?,
            parse_id(&member_ref, "a member reference")?,
            Utc::now(),
        )
        .await?;
        Ok(offered.into_iter().map(Into::into).collect())
    }

    /// A placed order of a brand's store by its reference (SERVICE).
    async fn order(
        &self,
        ctx: &Context<'_>,
        brand_id: ID,
        order_ref: String,
    ) -> Result<Order, ApiError> {
        let principal = principal(ctx)?;
        require(principal, &[Role::Service], "reading orders")?;
        let order = checkout::order(db(ctx)?, parse_brand_id(&brand_id)?, &order_ref).await?;
        Ok(order.into())
    }

    /// Whether a member gets a benefit on a one-line order, decided by the
    /// same engine as `quote` (stacking with the brand's other active
    /// benefits, budgets as they stand); nothing is taken (SERVICE: the
    /// checkout).
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
    /// Places an order: its quote's granted benefits are recorded
    /// together, or none are and the order is refused (CONFLICT: quote
    /// again). Placing the same `orderRef` again returns the first result
    /// (SERVICE: the checkout).
    async fn place_order(
        &self,
        ctx: &Context<'_>,
        input: PlaceOrderInput,
    ) -> Result<OrderPayload, ApiError> {
        let principal = principal(ctx)?;
        require(principal, &[Role::Service], "placing orders")?;
        let lines: Vec<checkout::Line> = input.lines.into_iter().map(Into::into).collect();
        let request = checkout::OrderRequest {
            brand_id: parse_brand_id(&input.brand_id)?,
            order_ref: &input.order_ref,
            member_id: parse_id(&input.member_ref, "a member reference")?,
            lines: &lines,
            service: &principal.subject,
            now: Utc::now(),
        };
        order_payload(checkout::place(db(ctx)?, &request).await, "input.")
    }

    /// Refunds units of an order (`lines`, under a `refundRef`) or
    /// everything left of it: each benefit gives back its money on those
    /// units, and once every line it discounted is refunded its
    /// redemption (the member's cap) too. The same `refundRef` answers
    /// the first result; refunding everything again changes nothing
    /// (SERVICE: the checkout).
    async fn refund_order(
        &self,
        ctx: &Context<'_>,
        brand_id: ID,
        order_ref: String,
        refund_ref: Option<String>,
        lines: Option<Vec<RefundLineInput>>,
    ) -> Result<OrderPayload, ApiError> {
        let principal = principal(ctx)?;
        require(principal, &[Role::Service], "refunding orders")?;
        let lines: Option<Vec<refund::RefundLine>> =
            lines.map(|lines| lines.into_iter().map(Into::into).collect());
        let request = refund::RefundRequest {
            brand_id: parse_brand_id(&brand_id)?,
            order_ref: &order_ref,
            refund_ref: refund_ref.as_deref(),
            lines: lines.as_deref(),
            now: Utc::now(),
        };
        order_payload(refund::refund(db(ctx)?, &request).await, "")
    }

    /// Records a redemption of one benefit for a member on a one-line
    /// order, as the quote engine decides it (an overridden benefit is
    /// refused OVERRIDDEN); prefer `placeOrder` for a basket (SERVICE: the
    /// checkout). Budgets hold under concurrency; a replayed
    /// `idempotencyKey` returns the first result and counts once.
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
