//! Checkout: what a member gets on a basket in a brand's store ([`quote`]),
//! and the order that applies it ([`place`]); refunds are in
//! [`super::refund`].
//!
//! One engine: a benefit is judged (state, standing, schedule, targeting,
//! threshold) as in eligibility, its budgets read as a quote would see
//! them, then every benefit still in the running goes through the same
//! [`stacking::resolve`] the cell analysis shows, for the member's cell.
//! Money composes in a fixed order, each step rounded down to the fen:
//! percentages first, one after another on what is left (折上折: 10% then
//! 5% is 14.5% off), then coupons, each at most what is left; a coupon's
//! threshold is met by the basket's subtotal. A member price's saving
//! stays on its line; each order-level benefit's money is spread over the
//! lines in proportion to what is left of them (largest remainders take
//! the odd fen).
//!
//! An order applies its quote atomically: every granted benefit's budget
//! is taken in one transaction, or none is and the order is refused. It is
//! idempotent per (brand, order reference). Each line keeps which
//! benefits its money off came from, so a refund of some units gives back
//! exactly their part.

use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    checkout_order,
    enums::{BrandStatus, CityTier},
    redemption,
};
use sea_orm::{
    ActiveValue::NotSet, ColumnTrait as _, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait as _, QueryFilter as _, SqlErr,
};
use serde::{Deserialize, Serialize};

use super::{
    Benefit, BenefitError, GRANTING,
    definition::{Class, Kind, KindCode},
    of_brand,
    redemption::{
        Grant, MAX_ORDER_CENTS, MemberUses, Outcome, RedeemError, Request as RedeemRequest, Taker,
        affordable, judge, member, member_uses, row as redemption_row, take,
    },
    refund::{self, Refund},
    stacking::{self, Candidate, Cell, OverrideReason},
    targeting::{Holding, Profile},
};
use crate::{
    error::{CodedError, ErrorCode},
    platform::{GrowthTier, Interest},
    segments::dimensions::AgeBand,
    standing,
};

/// Most lines in one basket.
pub(crate) const MAX_LINES: usize = 100;
/// Most units of one line.
pub(crate) const MAX_QUANTITY: i64 = 9_999;
/// Most one line may cost (quantity × unit price): ¥10,000,000, in fen.
pub(crate) const MAX_LINE_CENTS: i64 = MAX_ORDER_CENTS;

/// One basket line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Line {
    /// The brand's SKU code.
    pub sku: String,
    /// Units (1–9,999).
    pub quantity: i64,
    /// Price of one unit before benefits, in fen.
    pub unit_cents: i64,
}

/// Why a checkout request is unusable or its order refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CheckoutError {
    /// Bad input, naming the field by its path (`lines.2.quantity`).
    #[error("`{field}` {message}")]
    Invalid {
        /// The input path.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The member or benefit is unknown, or the like.
    #[error(transparent)]
    Redeem(#[from] RedeemError),
    /// The order reference was used for another member or basket.
    #[error("order `{0}` was already placed for another member or basket")]
    OrderReused(String),
    /// The refund reference was used for other units of the order.
    #[error("refund `{0}` of this order was already made for other units")]
    RefundReused(String),
    /// No order with that reference in the brand's store.
    #[error("no order `{0}` in this store")]
    UnknownOrder(String),
    /// A benefit of the quote could no longer be granted when the order
    /// was placed (a budget ran out meanwhile): nothing was recorded.
    #[error("benefit {benefit_id} can no longer be granted ({}): nothing was recorded; quote again", <&str>::from(*.outcome))]
    NoLongerGranted {
        /// The benefit.
        benefit_id: i64,
        /// Why.
        outcome: Outcome,
    },
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<BenefitError> for CheckoutError {
    fn from(error: BenefitError) -> Self {
        Self::Redeem(error.into())
    }
}

impl CodedError for CheckoutError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Invalid { .. } => ErrorCode::BadUserInput,
            Self::Redeem(error) => error.code(),
            Self::OrderReused(_) | Self::RefundReused(_) | Self::NoLongerGranted { .. } => {
                ErrorCode::Conflict
            }
            Self::UnknownOrder(_) => ErrorCode::NotFound,
            Self::Db(_) => ErrorCode::Internal,
        }
    }
}

impl CheckoutError {
    /// The input path a client should look at.
    pub(crate) fn field(&self) -> String {
        match self {
            Self::Invalid { field, .. } => field.clone(),
            Self::Redeem(error) => error.field().to_owned(),
            Self::OrderReused(_) | Self::UnknownOrder(_) => "orderRef".to_owned(),
            Self::RefundReused(_) => "refundRef".to_owned(),
            Self::NoLongerGranted { .. } => "lines".to_owned(),
            Self::Db(_) => String::new(),
        }
    }
}

/// A bad input at `field`.
pub(super) fn invalid(field: String, message: impl Into<String>) -> CheckoutError {
    CheckoutError::Invalid {
        field,
        message: message.into(),
    }
}

/// Checks every line; returns the basket's subtotal.
pub(crate) fn check_basket(lines: &[Line]) -> Result<i64, CheckoutError> {
    if lines.is_empty() || lines.len() > MAX_LINES {
        return Err(invalid(
            "lines".to_owned(),
            format!("takes 1 to {MAX_LINES} lines"),
        ));
    }
    let mut subtotal = 0_i64;
    for (i, line) in lines.iter().enumerate() {
        let sku = line.sku.trim();
        if sku.is_empty() || sku.chars().count() > 64 {
            return Err(invalid(
                format!("lines.{i}.sku"),
                "must be 1 to 64 characters",
            ));
        }
        if !(1..=MAX_QUANTITY).contains(&line.quantity) {
            return Err(invalid(
                format!("lines.{i}.quantity"),
                format!("must be 1 to {MAX_QUANTITY}"),
            ));
        }
        let total = line
            .quantity
            .checked_mul(line.unit_cents)
            .filter(|total| line.unit_cents >= 0 && *total <= MAX_LINE_CENTS);
        let Some(total) = total else {
            return Err(invalid(
                format!("lines.{i}.unitCents"),
                "must be at least 0, and quantity × unitCents at most 1000000000 fen (¥10,000,000)",
            ));
        };
        // At most 100 lines of ¥10,000,000: far inside i64.
        subtotal += total;
    }
    Ok(subtotal)
}

/// What one benefit does on a basket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Quoted {
    /// The benefit.
    pub benefit_id: i64,
    /// Its kind.
    pub kind: KindCode,
    /// GRANTED, or why not.
    pub outcome: Outcome,
    /// When overridden: the benefit it lost to, and why.
    pub overridden_by: Option<(i64, OverrideReason)>,
    /// Its value for this member (upgraded or not).
    pub value: Option<i64>,
    /// The upgrade applies.
    pub upgraded: bool,
    /// Money off the order from this benefit, in fen.
    pub amount_cents: i64,
}

/// One basket line with its share of the discount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct QuotedLine {
    /// The line as sent.
    pub line: Line,
    /// Quantity × unit price, in fen.
    pub subtotal_cents: i64,
    /// Its share of the money off, in fen.
    pub discount_cents: i64,
    /// Which benefits that share came from (what a partial refund gives
    /// back); empty in orders placed before shares were kept.
    #[serde(default)]
    pub shares: Vec<Share>,
}

/// One benefit's part of a line's money off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Share {
    /// The benefit.
    pub benefit_id: i64,
    /// Its money off the line, in fen.
    pub amount_cents: i64,
}

/// What a member gets on a basket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Quote {
    /// The basket before benefits, in fen.
    pub subtotal_cents: i64,
    /// Money off in all, in fen.
    pub discount_cents: i64,
    /// Per line.
    pub lines: Vec<QuotedLine>,
    /// Every ACTIVE benefit of the brand, granted or why not, highest
    /// priority first.
    pub benefits: Vec<Quoted>,
}

/// A live benefit as the checkout sees it: its row (state, counters), its
/// live definition and the member's grants of it that still count.
pub(crate) struct Offer<'a> {
    /// The benefit.
    pub benefit: &'a Benefit,
    /// The member's uses of it.
    pub member_uses: &'a MemberUses,
}

/// The engine: what a member of `status`'s brand gets on `lines` from
/// `offers`. Pure.
pub(crate) fn price(
    status: BrandStatus,
    offers: &[Offer<'_>],
    member: &Profile,
    lines: &[Line],
    subtotal: i64,
    now: DateTime<Utc>,
) -> Quote {
    let mut quoted: Vec<Quoted> = Vec::new();
    let mut candidates = Vec::new();
    for offer in offers {
        let row = &offer.benefit.row;
        let Some(definition) = offer.benefit.live.as_ref() else {
            continue;
        };
        let judged = judge((status, row.state), definition, member, subtotal, now);
        let outcome = match judged.outcome {
            Outcome::Granted if !holds_its_skus(&definition.kind, lines) => {
                Outcome::NoEarlyAccessSku
            }
            Outcome::Granted => affordable(
                definition,
                offer.benefit.used,
                member,
                offer.member_uses,
                judged.amount_cents,
                now,
            )
            .err()
            .unwrap_or(Outcome::Granted),
            refused => refused,
        };
        if outcome == Outcome::Granted {
            candidates.push(Candidate {
                id: row.id,
                definition,
            });
        }
        quoted.push(Quoted {
            benefit_id: row.id,
            kind: definition.kind.code(),
            outcome,
            overridden_by: None,
            value: judged.value,
            upgraded: judged.upgraded,
            amount_cents: 0,
        });
    }
    let resolved = stacking::resolve(&candidates, &Cell::of(member));
    for lost in &resolved.overridden {
        if let Some(q) = quoted.iter_mut().find(|q| q.benefit_id == lost.id) {
            q.outcome = Outcome::Overridden;
            q.overridden_by = Some((lost.by, lost.reason));
        }
    }
    // Item prices first: a line's unit price drops to the lowest member
    // price that applies to its SKU (the earlier benefit on a tie), and
    // the saving is that benefit's.
    let mut item_off = vec![(0_i64, None); lines.len()];
    for (i, line) in lines.iter().enumerate() {
        let best = resolved
            .applied
            .iter()
            .filter_map(|a| {
                let definition = candidates.iter().find(|c| c.id == a.id)?.definition;
                let Kind::MemberPrice { prices } = &definition.kind else {
                    return None;
                };
                let price = prices.iter().find(|p| p.sku == line.sku)?.price_cents;
                Some((price, a.id))
            })
            .min_by_key(|(price, _)| *price);
        if let Some((price, id)) = best.filter(|(price, _)| *price < line.unit_cents) {
            // Both bounded by the line's ¥10,000,000.
            let off = (line.unit_cents - price) * line.quantity;
            item_off[i] = (off, Some(id));
            if let Some(q) = quoted.iter_mut().find(|q| q.benefit_id == id) {
                q.amount_cents += off;
            }
        }
    }
    let items: i64 = item_off.iter().map(|(off, _)| off).sum();
    // Then percentages, each on what is left; then coupons.
    let mut left = subtotal - items;
    for pass in [KindCode::PercentOff, KindCode::FixedCoupon] {
        let in_pass = |kind: KindCode| {
            kind == pass || (pass == KindCode::FixedCoupon && kind == KindCode::OrderRebate)
        };
        for applied in &resolved.applied {
            let Some(q) = quoted.iter_mut().find(|q| q.benefit_id == applied.id) else {
                continue;
            };
            if !in_pass(q.kind) {
                continue;
            }
            let value = applied.value.unwrap_or_default();
            let off = match pass {
                KindCode::PercentOff => Kind::PercentOff { percent: value }
                    .money_off(value, left)
                    .unwrap_or_default(),
                _ => Ord::min(value, left),
            };
            q.amount_cents = off;
            left -= off;
        }
    }
    let discount = subtotal - left;
    let order_off: Vec<(i64, i64)> = resolved
        .applied
        .iter()
        .filter_map(|a| quoted.iter().find(|q| q.benefit_id == a.id))
        .filter(|q| q.kind.class() == Class::OrderDiscount && q.amount_cents > 0)
        .map(|q| (q.benefit_id, q.amount_cents))
        .collect();
    // Highest priority first, as the analysis lists them.
    let rank = |id: i64| {
        resolved
            .applied
            .iter()
            .position(|a| a.id == id)
            .unwrap_or(usize::MAX)
    };
    quoted.sort_by_key(|q| {
        (
            q.outcome != Outcome::Granted,
            rank(q.benefit_id),
            q.benefit_id,
        )
    });
    Quote {
        subtotal_cents: subtotal,
        discount_cents: discount,
        lines: spread(lines, &item_off, &order_off),
        benefits: quoted,
    }
}

/// Early access is for a basket holding one of its SKUs; other kinds
/// take any basket.
fn holds_its_skus(kind: &Kind, lines: &[Line]) -> bool {
    match kind {
        Kind::EarlyAccess { skus, .. } => lines.iter().any(|l| skus.contains(&l.sku)),
        _ => true,
    }
}

/// A basket of one line of `order_cents` that also holds, at no price,
/// every SKU the `kinds` give early access to: what the single-benefit
/// calls and a member's offers are judged on, so the basket is never why
/// they refuse.
fn holding_every_sku<'a>(order_cents: i64, kinds: impl Iterator<Item = &'a Kind>) -> Vec<Line> {
    let mut lines = vec![Line {
        sku: "ORDER".to_owned(),
        quantity: 1,
        unit_cents: order_cents,
    }];
    for kind in kinds {
        if let Kind::EarlyAccess { skus, .. } = kind {
            lines.extend(skus.iter().map(|sku| Line {
                sku: sku.clone(),
                quantity: 1,
                unit_cents: 0,
            }));
        }
    }
    lines
}

/// Each line's item saving, plus each order-level benefit's money spread
/// over the lines in proportion to what is left of them (after item
/// prices and the benefits before it), rounded down, the odd fen to the
/// largest remainders (earlier lines on a tie).
fn spread(
    lines: &[Line],
    item_off: &[(i64, Option<i64>)],
    order_off: &[(i64, i64)],
) -> Vec<QuotedLine> {
    let totals: Vec<i64> = lines.iter().map(|l| l.quantity * l.unit_cents).collect();
    let rest: Vec<i64> = totals
        .iter()
        .zip(item_off)
        .map(|(t, (off, _))| t - off)
        .collect();
    let mut shares: Vec<Vec<Share>> = item_off
        .iter()
        .map(|(off, by)| {
            by.map(|benefit_id| Share {
                benefit_id,
                amount_cents: *off,
            })
            .into_iter()
            .collect()
        })
        .collect();
    // Each benefit on what the earlier ones left of each line: it is at
    // most what is left of the basket, so no line goes below zero.
    let mut left = rest;
    for (benefit_id, amount) in order_off {
        for (i, part) in allocate(*amount, &left).into_iter().enumerate() {
            if part > 0 {
                left[i] -= part;
                shares[i].push(Share {
                    benefit_id: *benefit_id,
                    amount_cents: part,
                });
            }
        }
    }
    lines
        .iter()
        .zip(totals)
        .zip(shares)
        .map(|((line, total), shares)| QuotedLine {
            line: line.clone(),
            subtotal_cents: total,
            discount_cents: shares.iter().map(|s| s.amount_cents).sum(),
            shares,
        })
        .collect()
}

/// `amount` split in proportion to `weights`, rounded down, the odd fen
/// to the largest remainders (earlier on a tie); all to nothing when the
/// weights are all 0.
fn allocate(amount: i64, weights: &[i64]) -> Vec<i64> {
    let base: i64 = weights.iter().sum();
    if base == 0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<(i64, i128)> = weights
        .iter()
        .map(|w| {
            let product = i128::from(amount) * i128::from(*w);
            (
                i64::try_from(product / i128::from(base)).unwrap_or_default(),
                product % i128::from(base),
            )
        })
        .collect();
    let mut parts: Vec<i64> = exact.iter().map(|(part, _)| *part).collect();
    let mut odd = amount - parts.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|i| (std::cmp::Reverse(exact[*i].1), *i));
    for i in order {
        if odd == 0 {
            break;
        }
        parts[i] += 1;
        odd -= 1;
    }
    parts
}

/// The brand's ACTIVE benefits with the member's uses of each.
async fn offers(
    db: &impl ConnectionTrait,
    brand_id: i64,
    member_id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<(Benefit, MemberUses)>, DbErr> {
    let benefits = of_brand(db, brand_id, GRANTING).await?;
    let ids: Vec<i64> = benefits.iter().map(|b| b.row.id).collect();
    let mut uses = member_uses(db, &ids, member_id, now, None).await?;
    Ok(benefits
        .into_iter()
        .map(|benefit| {
            let used = uses
                .iter()
                .position(|(id, _)| *id == benefit.row.id)
                .map(|i| uses.swap_remove(i).1)
                .unwrap_or_default();
            (benefit, used)
        })
        .collect())
}

/// The offers as the engine takes them.
fn as_offers(loaded: &[(Benefit, MemberUses)]) -> Vec<Offer<'_>> {
    loaded
        .iter()
        .map(|(benefit, member_uses)| Offer {
            benefit,
            member_uses,
        })
        .collect()
}

/// The live kinds of the loaded offers.
fn live_kinds(loaded: &[(Benefit, MemberUses)]) -> impl Iterator<Item = &Kind> {
    loaded
        .iter()
        .filter_map(|(b, _)| b.live.as_ref().map(|d| &d.kind))
}

/// What the engine decides for one benefit on a one-line order of
/// `order_cents` (holding every early-access SKU of the store), among all the
/// brand's active benefits: the single benefit calls (eligibility,
/// `redeemBenefit`) ask this, so they agree with quotes and orders. `None`
/// when the benefit is not active (the caller judges it alone to say why).
pub(crate) async fn one_benefit(
    db: &impl ConnectionTrait,
    status: BrandStatus,
    benefit: &Benefit,
    member: &Profile,
    member_id: i64,
    order_cents: i64,
    now: DateTime<Utc>,
) -> Result<Option<Quoted>, DbErr> {
    let loaded = offers(db, benefit.row.brand_id, member_id, now).await?;
    let lines = holding_every_sku(order_cents, live_kinds(&loaded));
    let quote = price(
        status,
        &as_offers(&loaded),
        member,
        &lines,
        order_cents,
        now,
    );
    Ok(quote
        .benefits
        .into_iter()
        .find(|q| q.benefit_id == benefit.row.id))
}

/// What a brand offers a member now, whatever the basket: every active
/// benefit with the member's outcome, judged on the largest order a
/// checkout may send holding every early-access SKU (so every threshold
/// is met and every SKU is there); money amounts depend on a basket and
/// are left at 0 (quote one for them).
pub(crate) async fn offered(
    db: &DatabaseConnection,
    brand_id: i64,
    member_id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<Quoted>, CheckoutError> {
    let (status, member, loaded) = prepare(db, brand_id, member_id, now).await?;
    let lines = holding_every_sku(MAX_ORDER_CENTS, live_kinds(&loaded));
    let quote = price(
        status,
        &as_offers(&loaded),
        &member,
        &lines,
        MAX_ORDER_CENTS,
        now,
    );
    Ok(quote
        .benefits
        .into_iter()
        .map(|q| Quoted {
            amount_cents: 0,
            ..q
        })
        .collect())
}

/// What the engine needs to price a basket for a member: the brand's
/// standing, the member's profile, and the brand's offers.
async fn prepare(
    db: &impl ConnectionTrait,
    brand_id: i64,
    member_id: i64,
    now: DateTime<Utc>,
) -> Result<(BrandStatus, Profile, Vec<(Benefit, MemberUses)>), CheckoutError> {
    let status = standing::status(db, brand_id).await?;
    let member = member(db, brand_id, member_id, now).await?;
    let loaded = offers(db, brand_id, member_id, now).await?;
    Ok((status, member, loaded))
}

/// What a member gets on a basket in the brand's store now: nothing is
/// recorded.
pub(crate) async fn quote(
    db: &DatabaseConnection,
    brand_id: i64,
    member_id: i64,
    lines: &[Line],
    now: DateTime<Utc>,
) -> Result<Quote, CheckoutError> {
    let subtotal = check_basket(lines)?;
    let (status, member, loaded) = prepare(db, brand_id, member_id, now).await?;
    Ok(price(
        status,
        &as_offers(&loaded),
        &member,
        lines,
        subtotal,
        now,
    ))
}

/// A member an operator makes up to try a basket on: their programme
/// cell, what targeting reads of them, and their orders at the store. They
/// have used none of the brand's benefits.
#[derive(Debug, Clone)]
pub(crate) struct SampleMember {
    /// Growth tier.
    pub tier: GrowthTier,
    /// Holds the paid membership (GOLD and above).
    pub paid: bool,
    /// Holds the black card (DIAMOND and above).
    pub black_card: bool,
    /// Age band; unknown, a benefit targeting ages does not reach them.
    pub age_band: Option<AgeBand>,
    /// City tier; unknown, a benefit targeting cities does not reach them.
    pub city_tier: Option<CityTier>,
    /// Interests.
    pub interests: Vec<Interest>,
    /// Date of birth; unknown, no birthday gift.
    pub birth_date: Option<NaiveDate>,
    /// Orders placed at the store just before this one (0–1000).
    pub recent_store_orders: i64,
}

/// Most earlier orders a sample member may have.
const MAX_SAMPLE_ORDERS: i64 = 1_000;

impl SampleMember {
    /// The profile the engine judges, or the field that makes the member
    /// impossible.
    fn profile(self, now: DateTime<Utc>) -> Result<Profile, CheckoutError> {
        if !self.tier.may_hold(self.paid, self.black_card) {
            return Err(invalid(
                "member".to_owned(),
                "the paid membership starts at GOLD and the black card at DIAMOND",
            ));
        }
        if !(0..=MAX_SAMPLE_ORDERS).contains(&self.recent_store_orders) {
            return Err(invalid(
                "member.recentStoreOrders".to_owned(),
                format!("takes 0 to {MAX_SAMPLE_ORDERS}"),
            ));
        }
        Ok(Profile {
            tier: self.tier,
            paid: self.paid,
            black_card: self.black_card,
            age_band: self.age_band,
            city_tier: self.city_tier,
            interests: Holding::Exactly(self.interests),
            birth_date: self.birth_date,
            store_orders: vec![now; usize::try_from(self.recent_store_orders).unwrap_or(0)],
        })
    }
}

/// What a made-up member would get on a basket in the brand's store now:
/// the brand's active benefits through the same engine as [`quote`], with
/// budgets as they stand; nothing is recorded.
pub(crate) async fn sample_quote(
    db: &impl ConnectionTrait,
    brand_id: i64,
    member: SampleMember,
    lines: &[Line],
    now: DateTime<Utc>,
) -> Result<Quote, CheckoutError> {
    let member = member.profile(now)?;
    let subtotal = check_basket(lines)?;
    let status = standing::status(db, brand_id).await?;
    let loaded: Vec<(Benefit, MemberUses)> = of_brand(db, brand_id, GRANTING)
        .await?
        .into_iter()
        .map(|benefit| (benefit, MemberUses::default()))
        .collect();
    Ok(price(
        status,
        &as_offers(&loaded),
        &member,
        lines,
        subtotal,
        now,
    ))
}

/// An order request.
#[derive(Debug, Clone)]
pub(crate) struct OrderRequest<'a> {
    /// The store's brand.
    pub brand_id: i64,
    /// The checkout's order reference (1–128 characters).
    pub order_ref: &'a str,
    /// The member.
    pub member_id: i64,
    /// The basket.
    pub lines: &'a [Line],
    /// The service placing it.
    pub service: &'a str,
    /// When.
    pub now: DateTime<Utc>,
}

/// A placed (or refunded) order.
#[derive(Debug, Clone)]
pub(crate) struct Order {
    /// The row.
    pub row: checkout_order::Model,
    /// The quote it applied.
    pub quote: Quote,
    /// Its refunds, oldest first.
    pub refunds: Vec<Refund>,
    /// This call replayed an earlier one (or refunded nothing new).
    pub replayed: bool,
}

impl Order {
    /// The stored order with its quote and refunds.
    pub(super) async fn load(
        db: &impl ConnectionTrait,
        row: checkout_order::Model,
        replayed: bool,
    ) -> Result<Self, DbErr> {
        Ok(Self {
            quote: from_json(&row.quote)?,
            refunds: refund::of_order(db, row.id).await?,
            row,
            replayed,
        })
    }
}

/// What is stored as JSON (quotes, baskets, refunds).
pub(super) fn to_json<T: Serialize>(value: &T) -> Result<String, DbErr> {
    serde_json::to_string(value).map_err(|e| DbErr::Custom(e.to_string()))
}

/// What was stored as JSON.
pub(super) fn from_json<T: serde::de::DeserializeOwned>(stored: &str) -> Result<T, DbErr> {
    serde_json::from_str(stored).map_err(|e| DbErr::Custom(e.to_string()))
}

/// The brand's order row by reference.
pub(super) async fn find(
    db: &impl ConnectionTrait,
    brand_id: i64,
    order_ref: &str,
) -> Result<Option<checkout_order::Model>, DbErr> {
    checkout_order::Entity::find()
        .filter(checkout_order::Column::BrandId.eq(brand_id))
        .filter(checkout_order::Column::OrderRef.eq(order_ref))
        .one(db)
        .await
}

/// The stored order for a replay, if the reference was used.
async fn replay(
    db: &impl ConnectionTrait,
    request: &OrderRequest<'_>,
    basket: &str,
) -> Result<Option<Order>, CheckoutError> {
    let Some(row) = find(db, request.brand_id, request.order_ref).await? else {
        return Ok(None);
    };
    if row.member_id != request.member_id || row.basket != basket {
        return Err(CheckoutError::OrderReused(request.order_ref.to_owned()));
    }
    Ok(Some(Order::load(db, row, true).await?))
}

/// A checkout reference (order or refund), trimmed: 1 to 128 characters.
pub(super) fn check_ref<'a>(reference: &'a str, field: &str) -> Result<&'a str, CheckoutError> {
    let trimmed = reference.trim();
    if trimmed.is_empty() || trimmed.len() > 128 {
        return Err(invalid(field.to_owned(), "must be 1 to 128 characters"));
    }
    Ok(trimmed)
}

/// Places an order: applies its quote atomically (every granted benefit's
/// budget taken, or none and the order refused), once per reference.
#[tracing::instrument(skip_all, fields(brand = request.brand_id, order = request.order_ref))]
pub(crate) async fn place(
    db: &DatabaseConnection,
    request: &OrderRequest<'_>,
) -> Result<Order, CheckoutError> {
    let request = OrderRequest {
        order_ref: check_ref(request.order_ref, "orderRef")?,
        ..request.clone()
    };
    let subtotal = check_basket(request.lines)?;
    let basket = to_json(&request.lines)?;
    if let Some(done) = replay(db, &request, &basket).await? {
        return Ok(done);
    }
    let (status, member, loaded) =
        prepare(db, request.brand_id, request.member_id, request.now).await?;
    let quote = price(
        status,
        &as_offers(&loaded),
        &member,
        request.lines,
        subtotal,
        request.now,
    );
    // The order row is the transaction's first write: on SQLite it takes
    // the write lock before any budget is read again.
    let mut order = checkout_order::Model {
        id: 0,
        brand_id: request.brand_id,
        order_ref: request.order_ref.to_owned(),
        member_id: request.member_id,
        basket: basket.clone(),
        quote: to_json(&quote)?,
        subtotal_cents: quote.subtotal_cents,
        discount_cents: quote.discount_cents,
        service: request.service.to_owned(),
        created_at: request.now,
        refunded_at: None,
    };
    let (_turn, txn) = crate::db::begin_write(db).await?;
    let inserted = checkout_order::Entity::insert(checkout_order::ActiveModel {
        id: NotSet,
        ..order.clone().into()
    })
    .exec(&txn)
    .await;
    order.id = match inserted {
        Ok(done) => done.last_insert_id,
        Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            drop(txn);
            return replay(db, &request, &basket)
                .await?
                .ok_or(CheckoutError::Db(error));
        }
        Err(error) => return Err(error.into()),
    };
    let granted: Vec<&Quoted> = quote
        .benefits
        .iter()
        .filter(|q| q.outcome == Outcome::Granted)
        .collect();
    let mut grants = Vec::with_capacity(granted.len());
    for q in &granted {
        let definition = loaded
            .iter()
            .find(|(b, _)| b.row.id == q.benefit_id)
            .and_then(|(b, _)| b.live.as_ref());
        let Some(definition) = definition else {
            return Err(CheckoutError::NoLongerGranted {
                benefit_id: q.benefit_id,
                outcome: Outcome::NotActive,
            });
        };
        grants.push(Grant {
            benefit_id: q.benefit_id,
            definition,
            amount_cents: q.amount_cents,
        });
    }
    let taker = Taker {
        member_id: request.member_id,
        member: &member,
        now: request.now,
    };
    if let Err((benefit_id, outcome)) = take(&txn, &taker, &grants, None).await? {
        return Err(CheckoutError::NoLongerGranted {
            benefit_id,
            outcome,
        });
    }
    let key = format!("order:{}", request.order_ref);
    let rows = granted.iter().map(|q| {
        let granting = RedeemRequest {
            benefit_id: q.benefit_id,
            member_id: request.member_id,
            idempotency_key: &key,
            order_cents: quote.subtotal_cents,
            service: request.service,
            now: request.now,
        };
        redemption_row(
            &granting,
            &key,
            Outcome::Granted,
            q.amount_cents,
            Some(order.id),
        )
    });
    if !granted.is_empty() {
        redemption::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(Order {
        row: order,
        quote,
        refunds: Vec::new(),
        replayed: false,
    })
}

/// The brand's order by reference.
pub(crate) async fn order(
    db: &DatabaseConnection,
    brand_id: i64,
    order_ref: &str,
) -> Result<Order, CheckoutError> {
    let row = find(db, brand_id, order_ref)
        .await?
        .ok_or_else(|| CheckoutError::UnknownOrder(order_ref.to_owned()))?;
    Ok(Order::load(db, row, true).await?)
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use entity::{
        benefit,
        enums::{BenefitState, CityTier},
    };
    use rand::{Rng as _, SeedableRng as _, rngs::StdRng, seq::IndexedRandom as _};
    use sea_orm::Iterable as _;
    use strum::IntoEnumIterator as _;

    use super::*;
    use crate::{
        benefits::{
            budget::Used,
            definition::{
                Budget, Definition, Schedule, SkuPrice, StackMode, Stacking, Targeting, Upgrade,
            },
            targeting::Holding,
        },
        platform::GrowthTier,
        segments::dimensions::{AgeBand, Dimension},
    };

    static NO_USES: MemberUses = MemberUses {
        lifetime: 0,
        recent: Vec::new(),
    };

    /// Offers of benefits nobody has used yet.
    fn unused(benefits: &[Benefit]) -> Vec<Offer<'_>> {
        benefits
            .iter()
            .map(|benefit| Offer {
                benefit,
                member_uses: &NO_USES,
            })
            .collect()
    }

    const KINDS: [KindCode; 6] = [
        KindCode::PercentOff,
        KindCode::FixedCoupon,
        KindCode::FreeReturnShipping,
        KindCode::PointsMultiplier,
        KindCode::EarlyAccess,
        KindCode::MemberPrice,
    ];

    fn definition(rng: &mut StdRng, now: DateTime<Utc>) -> Definition {
        let kind = match KINDS.choose(rng).copied().unwrap_or(KindCode::PercentOff) {
            KindCode::PercentOff => Kind::PercentOff {
                percent: rng.random_range(1..=30),
            },
            KindCode::FixedCoupon => Kind::FixedCoupon {
                amount_cents: rng.random_range(100..=5_000),
                threshold_cents: 5_000,
            },
            KindCode::FreeReturnShipping => Kind::FreeReturnShipping,
            KindCode::PointsMultiplier => Kind::PointsMultiplier {
                multiplier_tenths: rng.random_range(11..=30),
            },
            KindCode::MemberPrice => Kind::MemberPrice {
                prices: vec![SkuPrice {
                    sku: "SKU".to_owned(),
                    price_cents: rng.random_range(1_000..=60_000),
                }],
            },
            _ => Kind::EarlyAccess {
                hours_early: 2,
                skus: vec!["SKU".to_owned()],
                public_at: now + Duration::hours(1),
            },
        };
        let mode = *[
            StackMode::Exclusive,
            StackMode::Combinable,
            StackMode::BestOf,
        ]
        .choose(rng)
        .unwrap_or(&StackMode::Combinable);
        let combines_with = if mode == StackMode::Exclusive {
            Vec::new()
        } else {
            KINDS
                .iter()
                .copied()
                .filter(|_| rng.random_bool(0.5))
                .collect()
        };
        let maybe = |rng: &mut StdRng| {
            [None, Some(false), Some(true)]
                .choose(rng)
                .copied()
                .flatten()
        };
        let targeting = Targeting {
            min_tier: GrowthTier::ALL
                .choose(rng)
                .copied()
                .filter(|_| rng.random_bool(0.4)),
            paid_member: maybe(rng),
            black_card: maybe(rng),
            interests: Vec::new(),
            age_bands: AgeBand::iter().filter(|_| rng.random_bool(0.2)).collect(),
            city_tiers: CityTier::iter().filter(|_| rng.random_bool(0.2)).collect(),
        };
        let upgrade = kind
            .value()
            .filter(|_| rng.random_bool(0.3))
            .map(|base| Upgrade {
                min_tier: Some(GrowthTier::Platinum),
                paid_member: rng.random_bool(0.5),
                black_card: false,
                value: base + 1,
            });
        Definition {
            name: "b".to_owned(),
            description: None,
            kind,
            targeting,
            stacking: Stacking {
                mode,
                combines_with,
                priority: rng.random_range(0..5),
            },
            upgrade,
            schedule: Schedule {
                starts_at: now - Duration::days(1),
                ends_at: None,
            },
            budget: Budget::default(),
        }
    }

    fn benefit(id: i64, definition: Definition, now: DateTime<Utc>) -> Benefit {
        Benefit {
            row: benefit::Model {
                id,
                brand_id: 1,
                state: BenefitState::Active,
                version: 1,
                current_revision: 1,
                live_revision: Some(1),
                revision_pending: false,
                activated_at: Some(now),
                flagged_at: None,
                policy_paused_at: None,
                grace_until: None,
                created_by: "test".to_owned(),
                created_at: now,
                updated_at: now,
            },
            current: definition.clone(),
            live: Some(definition),
            used: Used::default(),
        }
    }

    /// A member the programme allows: paid from GOLD, black card from
    /// DIAMOND.
    fn member(rng: &mut StdRng) -> Profile {
        let tier = *GrowthTier::ALL.choose(rng).unwrap_or(&GrowthTier::Bronze);
        Profile {
            tier,
            paid: tier >= GrowthTier::Gold && rng.random_bool(0.5),
            black_card: tier >= GrowthTier::Diamond && rng.random_bool(0.5),
            age_band: AgeBand::iter().collect::<Vec<_>>().choose(rng).copied(),
            city_tier: CityTier::iter().collect::<Vec<_>>().choose(rng).copied(),
            interests: Holding::Exactly(Vec::new()),
            birth_date: None,
            store_orders: Vec::new(),
        }
    }

    /// Random benefit sets, members and baskets: the quote grants exactly
    /// what the cell analysis applies in the member's cell, in the same
    /// order and with the same values, and overrides the same benefits.
    #[test]
    fn the_quote_is_the_analysis_of_the_members_cell() {
        let mut rng = StdRng::seed_from_u64(9);
        let now = Utc::now();
        for case in 0..300 {
            let benefits: Vec<Benefit> = (1..=rng.random_range(1..=8))
                .map(|id| benefit(id, definition(&mut rng, now), now))
                .collect();
            let offers = unused(&benefits);
            let member = member(&mut rng);
            // Every coupon's threshold (¥50) is met.
            let lines = [Line {
                sku: "SKU".to_owned(),
                quantity: rng.random_range(1..=5),
                unit_cents: rng.random_range(5_000..=50_000),
            }];
            let subtotal = check_basket(&lines).expect("basket");
            let quote = price(BrandStatus::Active, &offers, &member, &lines, subtotal, now);

            let candidates = Candidate::live(&benefits);
            let analysis =
                stacking::analyse(&candidates, &[Dimension::AgeBand, Dimension::CityTier]);
            let codes = [
                (
                    Dimension::AgeBand,
                    member.age_band.map(|b| b.code().to_owned()),
                ),
                (
                    Dimension::CityTier,
                    member.city_tier.map(|t| sea_orm::ActiveEnum::to_value(&t)),
                ),
            ];
            let cell = analysis
                .cells
                .iter()
                .find(|o| {
                    o.cell.tier == member.tier
                        && o.cell.paid == member.paid
                        && o.cell.black_card == member.black_card
                        && codes.iter().all(|(d, v)| {
                            o.cell
                                .extras
                                .iter()
                                .any(|(x, c)| x == d && Some(c) == v.as_ref())
                        })
                })
                .expect("the member's cell");
            let granted: Vec<(i64, Option<i64>)> = quote
                .benefits
                .iter()
                .filter(|q| q.outcome == Outcome::Granted)
                .map(|q| (q.benefit_id, q.value))
                .collect();
            let applied: Vec<(i64, Option<i64>)> =
                cell.applied.iter().map(|a| (a.id, a.value)).collect();
            assert_eq!(granted, applied, "case {case}");
            let mut lost: Vec<(i64, Option<(i64, OverrideReason)>)> = quote
                .benefits
                .iter()
                .filter(|q| q.outcome == Outcome::Overridden)
                .map(|q| (q.benefit_id, q.overridden_by))
                .collect();
            let mut overridden: Vec<(i64, Option<(i64, OverrideReason)>)> = cell
                .overridden
                .iter()
                .map(|o| (o.id, Some((o.by, o.reason))))
                .collect();
            lost.sort_by_key(|(id, _)| *id);
            overridden.sort_by_key(|(id, _)| *id);
            assert_eq!(lost, overridden, "case {case}");
            assert!(quote.discount_cents <= quote.subtotal_cents);
            assert_eq!(
                quote.lines.iter().map(|l| l.discount_cents).sum::<i64>(),
                quote.discount_cents
            );
        }
    }

    /// A member price and an extra 5% are different classes: both apply,
    /// the 5% on what the member price leaves (折上折).
    #[test]
    fn an_extra_percent_stacks_on_a_member_price() {
        let now = Utc::now();
        let mut member_price = definition(&mut StdRng::seed_from_u64(2), now);
        member_price.kind = Kind::MemberPrice {
            prices: vec![SkuPrice {
                sku: "SERUM".to_owned(),
                price_cents: 15_000,
            }],
        };
        member_price.targeting = Targeting::default();
        member_price.upgrade = None;
        member_price.stacking = Stacking {
            mode: StackMode::BestOf,
            combines_with: Vec::new(),
            priority: 9,
        };
        let mut five = member_price.clone();
        five.kind = Kind::PercentOff { percent: 5 };
        let benefits = [benefit(1, member_price, now), benefit(2, five, now)];
        let offers = unused(&benefits);
        let lines = [
            Line {
                sku: "SERUM".to_owned(),
                quantity: 2,
                unit_cents: 18_900,
            },
            Line {
                sku: "MASK".to_owned(),
                quantity: 1,
                unit_cents: 9_900,
            },
        ];
        let subtotal = check_basket(&lines).expect("basket");
        let member = Profile::cell(GrowthTier::Bronze, false, false);
        let quote = price(BrandStatus::Active, &offers, &member, &lines, subtotal, now);
        // SERUM 2 × (189 − 150) = ¥78 off; 5% of the ¥399 left = ¥19.95.
        let amounts: Vec<(i64, i64)> = quote
            .benefits
            .iter()
            .map(|q| (q.benefit_id, q.amount_cents))
            .collect();
        assert_eq!(amounts, [(1, 7_800), (2, 1_995)]);
        assert_eq!(quote.discount_cents, 9_795);
        // The 5% spreads over 30,000 : 9,900 of what is left.
        let spread: Vec<i64> = quote.lines.iter().map(|l| l.discount_cents).collect();
        assert_eq!(spread, [7_800 + 1_500, 495]);
    }

    /// Two coupons that use up the basket: each takes its share of what
    /// the one before left, so no line is discounted below zero.
    #[test]
    fn no_line_goes_below_zero() {
        let lines: Vec<Line> = (0..3)
            .map(|i| Line {
                sku: format!("S{i}"),
                quantity: 1,
                unit_cents: 100,
            })
            .collect();
        let spread = spread(&lines, &[(0, None); 3], &[(1, 100), (2, 200)]);
        let discounts: Vec<i64> = spread.iter().map(|l| l.discount_cents).collect();
        assert_eq!(discounts, [100, 100, 100]);
        let of = |benefit: i64| -> i64 {
            spread
                .iter()
                .flat_map(|l| &l.shares)
                .filter(|s| s.benefit_id == benefit)
                .map(|s| s.amount_cents)
                .sum()
        };
        assert_eq!((of(1), of(2)), (100, 200));
    }

    #[test]
    fn percentages_compose_then_coupons_and_the_fen_is_spread() {
        let now = Utc::now();
        let mut ten = definition(&mut StdRng::seed_from_u64(1), now);
        ten.kind = Kind::PercentOff { percent: 10 };
        ten.targeting = Targeting::default();
        ten.upgrade = None;
        ten.stacking = Stacking {
            mode: StackMode::Combinable,
            combines_with: vec![KindCode::PercentOff, KindCode::FixedCoupon],
            priority: 3,
        };
        let mut five = ten.clone();
        five.kind = Kind::PercentOff { percent: 5 };
        five.stacking.priority = 2;
        let mut coupon = ten.clone();
        coupon.kind = Kind::FixedCoupon {
            amount_cents: 1_000,
            threshold_cents: 10_000,
        };
        coupon.stacking.priority = 1;
        let benefits = [
            benefit(1, ten, now),
            benefit(2, five, now),
            benefit(3, coupon, now),
        ];
        let offers = unused(&benefits);
        let lines = [
            Line {
                sku: "A".to_owned(),
                quantity: 1,
                unit_cents: 3_333,
            },
            Line {
                sku: "B".to_owned(),
                quantity: 2,
                unit_cents: 3_333,
            },
        ];
        let subtotal = check_basket(&lines).expect("basket");
        assert_eq!(subtotal, 9_999);
        let member = Profile::cell(GrowthTier::Gold, false, false);
        let quote = price(BrandStatus::Active, &offers, &member, &lines, subtotal, now);
        // 10% of 9,999 = 999 (rounded down), 5% of 9,000 = 450; the coupon's
        // ¥100 threshold is not met by ¥99.99.
        let amounts: Vec<(i64, Outcome, i64)> = quote
            .benefits
            .iter()
            .map(|q| (q.benefit_id, q.outcome, q.amount_cents))
            .collect();
        assert_eq!(
            amounts,
            [
                (1, Outcome::Granted, 999),
                (2, Outcome::Granted, 450),
                (3, Outcome::BelowThreshold, 0)
            ]
        );
        assert_eq!(quote.discount_cents, 1_449);
        // 1,449 × 1/3 = 483 and × 2/3 = 966: exact, no odd fen.
        let spread: Vec<i64> = quote.lines.iter().map(|l| l.discount_cents).collect();
        assert_eq!(spread, [483, 966]);
    }
}
