//! The checkout's types: a basket in, a quote (per benefit and per line)
//! and an order out. Mapping only; the engine is `benefits::checkout`.

use async_graphql::{ID, InputObject, SimpleObject};
use chrono::{DateTime, Utc};

use super::{
    benefit::{AgeBand, BenefitKind, CityTier, GrowthTier, Interest, RedemptionOutcome},
    benefit_insight::OverrideReason,
};
use crate::{
    benefits::{checkout, refund},
    graphql::{ids::gid, scalars::Date},
};

/// One basket line.
#[derive(InputObject)]
pub(crate) struct BasketLineInput {
    /// The brand's SKU code (1–64 characters).
    pub(crate) sku: String,
    /// Units (1–9,999).
    pub(crate) quantity: i64,
    /// Price of one unit before benefits, in fen; quantity × unitCents is
    /// at most 1,000,000,000 (¥10,000,000).
    pub(crate) unit_cents: i64,
}

impl From<BasketLineInput> for checkout::Line {
    fn from(line: BasketLineInput) -> Self {
        Self {
            sku: line.sku,
            quantity: line.quantity,
            unit_cents: line.unit_cents,
        }
    }
}

/// What one benefit does on the basket.
#[derive(SimpleObject)]
pub(crate) struct QuotedBenefit {
    /// The benefit.
    benefit_id: ID,
    /// Its kind.
    kind: BenefitKind,
    /// GRANTED, or why not (OVERRIDDEN: see `overriddenBy` and `reason`).
    outcome: RedemptionOutcome,
    /// The benefit it lost to under the stacking rules.
    overridden_by: Option<ID>,
    /// Why it lost.
    reason: Option<OverrideReason>,
    /// Its value for this member (upgraded or not).
    value: Option<i64>,
    /// The upgrade applies.
    upgraded: bool,
    /// Money off the order from this benefit, in fen.
    amount_cents: i64,
}

/// A member made up to try a basket on: they have used none of the
/// brand's benefits.
#[derive(InputObject)]
pub(crate) struct SampleMemberInput {
    /// Growth tier.
    pub(crate) tier: GrowthTier,
    /// Holds the paid membership (GOLD and above).
    pub(crate) paid_member: bool,
    /// Holds the black card (DIAMOND and above).
    pub(crate) black_card: bool,
    /// Age band; when null, a benefit targeting ages does not reach them.
    pub(crate) age_band: Option<AgeBand>,
    /// City tier; when null, a benefit targeting cities does not reach
    /// them.
    pub(crate) city_tier: Option<CityTier>,
    /// Interests.
    #[graphql(default)]
    pub(crate) interests: Vec<Interest>,
    /// Date of birth; when null, no birthday gift.
    pub(crate) birth_date: Option<Date>,
    /// Orders they placed at the store just before this basket (0–1000):
    /// what an order rebate counts.
    #[graphql(default)]
    pub(crate) recent_store_orders: i64,
}

impl From<SampleMemberInput> for checkout::SampleMember {
    fn from(input: SampleMemberInput) -> Self {
        Self {
            tier: input.tier.into(),
            paid: input.paid_member,
            black_card: input.black_card,
            age_band: input.age_band.map(Into::into),
            city_tier: input.city_tier.map(Into::into),
            interests: input.interests.into_iter().map(Into::into).collect(),
            birth_date: input.birth_date.map(|d| d.0),
            recent_store_orders: input.recent_store_orders,
        }
    }
}

/// A basket to try for a made-up member of the caller's brand's store.
#[derive(InputObject)]
pub(crate) struct SampleQuoteInput {
    /// The member.
    pub(crate) member: SampleMemberInput,
    /// The basket (1–100 lines).
    pub(crate) lines: Vec<BasketLineInput>,
}

impl From<checkout::Quoted> for QuotedBenefit {
    fn from(b: checkout::Quoted) -> Self {
        Self {
            benefit_id: gid(b.benefit_id),
            kind: b.kind.into(),
            outcome: b.outcome.into(),
            overridden_by: b.overridden_by.map(|(by, _)| gid(by)),
            reason: b.overridden_by.map(|(_, reason)| reason.into()),
            value: b.value,
            upgraded: b.upgraded,
            amount_cents: b.amount_cents,
        }
    }
}

/// Units of one SKU to refund.
#[derive(InputObject)]
pub(crate) struct RefundLineInput {
    /// The SKU, as on the order.
    pub(crate) sku: String,
    /// Units (1–9,999), taken from the order's lines of that SKU in
    /// order; at most what is left to refund.
    pub(crate) quantity: i64,
}

impl From<RefundLineInput> for refund::RefundLine {
    fn from(line: RefundLineInput) -> Self {
        Self {
            sku: line.sku,
            quantity: line.quantity,
        }
    }
}

/// One benefit's part of a line's money off.
#[derive(SimpleObject)]
pub(crate) struct LineShare {
    /// The benefit.
    benefit_id: ID,
    /// Its money off the line, in fen.
    amount_cents: i64,
}

/// One basket line with its share of the money off.
#[derive(SimpleObject)]
pub(crate) struct QuotedLine {
    /// The SKU.
    sku: String,
    /// Units.
    quantity: i64,
    /// Unit price before benefits, in fen.
    unit_cents: i64,
    /// Quantity × unit price, in fen.
    subtotal_cents: i64,
    /// Its share of the money off, in fen.
    discount_cents: i64,
    /// What the member pays for it, in fen.
    total_cents: i64,
    /// Which benefits its money off came from (what refunding its units
    /// gives back).
    benefits: Vec<LineShare>,
}

/// What a member gets on a basket.
#[derive(SimpleObject)]
pub(crate) struct Quote {
    /// The basket before benefits, in fen.
    subtotal_cents: i64,
    /// Money off in all, in fen.
    discount_cents: i64,
    /// What the member pays, in fen.
    total_cents: i64,
    /// Per line.
    lines: Vec<QuotedLine>,
    /// Every active benefit of the store: granted ones first, in the
    /// order they apply, then the others with why not.
    benefits: Vec<QuotedBenefit>,
}

impl From<checkout::Quote> for Quote {
    fn from(q: checkout::Quote) -> Self {
        Self {
            subtotal_cents: q.subtotal_cents,
            discount_cents: q.discount_cents,
            total_cents: q.subtotal_cents - q.discount_cents,
            lines: q
                .lines
                .into_iter()
                .map(|l| QuotedLine {
                    total_cents: l.subtotal_cents - l.discount_cents,
                    sku: l.line.sku,
                    quantity: l.line.quantity,
                    unit_cents: l.line.unit_cents,
                    subtotal_cents: l.subtotal_cents,
                    discount_cents: l.discount_cents,
                    benefits: l
                        .shares
                        .into_iter()
                        .map(|share| LineShare {
                            benefit_id: gid(share.benefit_id),
                            amount_cents: share.amount_cents,
                        })
                        .collect(),
                })
                .collect(),
            benefits: q.benefits.into_iter().map(Into::into).collect(),
        }
    }
}

/// Units given back on one order line.
#[derive(SimpleObject)]
pub(crate) struct RefundedUnits {
    /// The line's position on the order (from 0).
    line: i64,
    /// Its SKU.
    sku: String,
    /// Units.
    quantity: i64,
}

/// What one benefit gave back in a refund.
#[derive(SimpleObject)]
pub(crate) struct RefundedBenefit {
    /// The benefit.
    benefit_id: ID,
    /// Money back to its budget, in fen.
    amount_cents: i64,
    /// Every line it discounted (or, for a benefit with no money on the
    /// lines, the whole order) is refunded: the member's cap and the
    /// budget's redemption are back.
    released: bool,
}

/// One refund of an order.
#[derive(SimpleObject)]
pub(crate) struct Refund {
    /// The checkout's reference, if it gave one.
    refund_ref: Option<String>,
    /// When.
    refunded_at: DateTime<Utc>,
    /// Units given back, per order line.
    lines: Vec<RefundedUnits>,
    /// What each benefit gave back.
    benefits: Vec<RefundedBenefit>,
}

impl From<refund::Refund> for Refund {
    fn from(r: refund::Refund) -> Self {
        Self {
            refund_ref: r.refund_ref,
            refunded_at: r.refunded_at,
            lines: r
                .lines
                .into_iter()
                .map(|u| RefundedUnits {
                    line: i64::try_from(u.line).unwrap_or(i64::MAX),
                    sku: u.sku,
                    quantity: u.quantity,
                })
                .collect(),
            benefits: r
                .benefits
                .into_iter()
                .map(|b| RefundedBenefit {
                    benefit_id: gid(b.benefit_id),
                    amount_cents: b.amount_cents,
                    released: b.released,
                })
                .collect(),
        }
    }
}

/// A placed order.
#[derive(SimpleObject)]
pub(crate) struct Order {
    /// The checkout's reference.
    order_ref: String,
    /// The member.
    member_ref: ID,
    /// The quote it applied: its granted benefits were recorded.
    quote: Quote,
    /// This call replayed an earlier one, or its refund found nothing
    /// new to give back.
    replayed: bool,
    /// When it was placed.
    created_at: DateTime<Utc>,
    /// When its last unit was refunded: every budget and member cap it
    /// took is back, and a rebate no longer counts it.
    refunded_at: Option<DateTime<Utc>>,
    /// Its refunds, oldest first.
    refunds: Vec<Refund>,
}

impl From<checkout::Order> for Order {
    fn from(o: checkout::Order) -> Self {
        Self {
            order_ref: o.row.order_ref,
            member_ref: ID(o.row.member_id.to_string()),
            quote: o.quote.into(),
            replayed: o.replayed,
            created_at: o.row.created_at,
            refunded_at: o.row.refunded_at,
            refunds: o.refunds.into_iter().map(Into::into).collect(),
        }
    }
}
