//! What an operator writes: a benefit definition as GraphQL input, one
//! `@oneOf` kind with its parameters, turned into the domain's definition.

use async_graphql::{InputObject, OneofObject};
use chrono::{DateTime, Utc};

use crate::{
    benefits::definition::{self, Definition},
    graphql::scalars::LocalDateTime,
};

use super::benefit::{AgeBand, BenefitKind, CityTier, GrowthTier, Interest, StackMode, each};

/// Percent off every order.
#[derive(InputObject)]
pub(crate) struct PercentOffInput {
    /// 1–50.
    percent: i64,
}

/// Money off an order of at least a threshold.
#[derive(InputObject)]
pub(crate) struct FixedCouponInput {
    /// Money off in fen (¥1 – ¥10,000).
    amount_cents: i64,
    /// Smallest order in fen (at least the amount).
    threshold_cents: i64,
}

/// A birthday gift.
#[derive(InputObject)]
pub(crate) struct BirthdayGiftInput {
    /// The gift.
    gift: String,
    /// Days before the birthday the window opens (0–30).
    days_before: i64,
    /// Days after it closes (0–30).
    days_after: i64,
}

/// A service for members with given interests.
#[derive(InputObject)]
pub(crate) struct InterestServiceInput {
    /// The service.
    service: String,
    /// Interest categories it is for: whom it targets (leave
    /// `targeting.interests` empty).
    interests: Vec<Interest>,
}

/// An offline experience.
#[derive(InputObject)]
pub(crate) struct OfflineExperienceInput {
    /// What it is.
    title: String,
    /// Store locations.
    locations: Vec<String>,
    /// Slot start, Asia/Shanghai local time.
    slot_start: LocalDateTime,
    /// Slot end, Asia/Shanghai local time.
    slot_end: LocalDateTime,
    /// Places (1–10,000).
    capacity: i64,
}

/// Early access to member-only SKUs.
#[derive(InputObject)]
pub(crate) struct EarlyAccessInput {
    /// Hours before the public (1–168).
    hours_early: i64,
    /// The SKUs.
    skus: Vec<String>,
    /// When the public may buy them, Asia/Shanghai local time (after the
    /// benefit's start): members may buy from `hoursEarly` before it.
    public_at: LocalDateTime,
}

/// A points multiplier.
#[derive(InputObject)]
pub(crate) struct PointsMultiplierInput {
    /// Multiplier × 10 (11 = 1.1×, up to 100 = 10×).
    multiplier_tenths: i64,
}

/// Money back on the member's Nth order in the store within a period.
#[derive(InputObject)]
pub(crate) struct OrderRebateInput {
    /// The order that earns it (2–100), this one included.
    nth_order: i64,
    /// The period, in days (1–366).
    period_days: i64,
    /// Money back, in fen (¥1 – ¥10,000).
    amount_cents: i64,
}

/// One SKU's member price.
#[derive(InputObject)]
pub(crate) struct SkuPriceInput {
    /// The brand's SKU code (1–64 characters).
    sku: String,
    /// The member's unit price, in fen (0 to ¥10,000,000).
    price_cents: i64,
}

/// A member price per SKU (JD PLUS / Tmall 会员价).
#[derive(InputObject)]
pub(crate) struct MemberPriceInput {
    /// The SKUs and their member prices (1–200, each SKU once).
    prices: Vec<SkuPriceInput>,
}

/// Exactly one kind with its parameters.
#[derive(OneofObject)]
pub(crate) enum BenefitKindInput {
    /// Percent off.
    PercentOff(PercentOffInput),
    /// A coupon with a threshold.
    FixedCoupon(FixedCouponInput),
    /// Free return shipping (pass `true`).
    FreeReturnShipping(bool),
    /// A birthday gift.
    BirthdayGift(BirthdayGiftInput),
    /// An interest service.
    InterestService(InterestServiceInput),
    /// An offline experience.
    OfflineExperience(OfflineExperienceInput),
    /// Early access.
    EarlyAccess(EarlyAccessInput),
    /// A points multiplier.
    PointsMultiplier(PointsMultiplierInput),
    /// A member price per SKU.
    MemberPrice(MemberPriceInput),
    /// A rebate on the Nth order.
    OrderRebate(OrderRebateInput),
}

/// Whom a benefit is for (segment dimensions only).
#[derive(InputObject, Default)]
pub(crate) struct TargetingInput {
    /// Lowest growth tier.
    min_tier: Option<GrowthTier>,
    /// Paid members only (true), others only (false), either (null).
    paid_member: Option<bool>,
    /// Black-card holders only (true), others only (false), either (null).
    black_card: Option<bool>,
    /// Any of these interests (not for an interest service, which targets
    /// its own).
    #[graphql(default)]
    interests: Vec<Interest>,
    /// Any of these age bands.
    #[graphql(default)]
    age_bands: Vec<AgeBand>,
    /// Any of these city tiers.
    #[graphql(default)]
    city_tiers: Vec<CityTier>,
}

/// Stacking rules.
#[derive(InputObject)]
pub(crate) struct StackingInput {
    /// The mode.
    mode: StackMode,
    /// Kinds it combines with.
    #[graphql(default)]
    combines_with: Vec<BenefitKind>,
    /// Higher wins a conflict (0–1000).
    #[graphql(default)]
    priority: i64,
}

/// A better value for a better segment.
#[derive(InputObject)]
pub(crate) struct UpgradeInput {
    /// Lowest tier for the upgrade.
    min_tier: Option<GrowthTier>,
    /// Needs the paid membership.
    #[graphql(default)]
    paid_member: bool,
    /// Needs the black card.
    #[graphql(default)]
    black_card: bool,
    /// The upgraded value (percent, coupon fen or multiplier tenths).
    value: i64,
}

/// When it runs, in Asia/Shanghai local time.
#[derive(InputObject)]
pub(crate) struct ScheduleInput {
    /// Start, e.g. `2026-12-01T00:00:00`.
    starts_at: LocalDateTime,
    /// End, if any.
    ends_at: Option<LocalDateTime>,
}

/// What it may cost.
#[derive(InputObject, Default)]
pub(crate) struct BudgetInput {
    /// Most redemptions in all.
    total_redemptions: Option<i64>,
    /// Most redemptions per member, in all.
    per_member: Option<i64>,
    /// Most per member per Asia/Shanghai day.
    per_member_per_day: Option<i64>,
    /// Most per member per Asia/Shanghai calendar year (a birthday gift is
    /// once per birthday regardless).
    per_member_per_year: Option<i64>,
    /// Most money in all, in fen.
    total_money_cents: Option<i64>,
}

/// A benefit definition.
#[derive(InputObject)]
pub struct BenefitInput {
    /// What members see.
    name: String,
    /// More words.
    description: Option<String>,
    /// The kind and its parameters.
    kind: BenefitKindInput,
    /// Whom it is for (default: every member).
    targeting: Option<TargetingInput>,
    /// How it stacks.
    stacking: StackingInput,
    /// A better value for a better segment.
    upgrade: Option<UpgradeInput>,
    /// When it runs.
    schedule: ScheduleInput,
    /// What it may cost (default: unlimited).
    budget: Option<BudgetInput>,
}

fn from_local(local: LocalDateTime) -> DateTime<Utc> {
    crate::platform::from_business_local(local.0)
}

impl From<BenefitInput> for Definition {
    fn from(input: BenefitInput) -> Self {
        use definition::Kind;
        let kind = match input.kind {
            BenefitKindInput::PercentOff(k) => Kind::PercentOff { percent: k.percent },
            BenefitKindInput::FixedCoupon(k) => Kind::FixedCoupon {
                amount_cents: k.amount_cents,
                threshold_cents: k.threshold_cents,
            },
            BenefitKindInput::FreeReturnShipping(_) => Kind::FreeReturnShipping,
            BenefitKindInput::BirthdayGift(k) => Kind::BirthdayGift {
                gift: k.gift,
                days_before: k.days_before,
                days_after: k.days_after,
            },
            BenefitKindInput::InterestService(k) => Kind::InterestService {
                service: k.service,
                interests: each(k.interests),
            },
            BenefitKindInput::OfflineExperience(k) => Kind::OfflineExperience {
                title: k.title,
                locations: k.locations,
                slot_start: from_local(k.slot_start),
                slot_end: from_local(k.slot_end),
                capacity: k.capacity,
            },
            BenefitKindInput::EarlyAccess(k) => Kind::EarlyAccess {
                hours_early: k.hours_early,
                skus: k.skus,
                public_at: from_local(k.public_at),
            },
            BenefitKindInput::PointsMultiplier(k) => Kind::PointsMultiplier {
                multiplier_tenths: k.multiplier_tenths,
            },
            BenefitKindInput::OrderRebate(k) => Kind::OrderRebate {
                nth_order: k.nth_order,
                period_days: k.period_days,
                amount_cents: k.amount_cents,
            },
            BenefitKindInput::MemberPrice(k) => Kind::MemberPrice {
                prices: k
                    .prices
                    .into_iter()
                    .map(|p| definition::SkuPrice {
                        sku: p.sku,
                        price_cents: p.price_cents,
                    })
                    .collect(),
            },
        };
        let t = input.targeting.unwrap_or_default();
        let b = input.budget.unwrap_or_default();
        Definition {
            name: input.name,
            description: input.description,
            kind,
            targeting: definition::Targeting {
                min_tier: t.min_tier.map(Into::into),
                paid_member: t.paid_member,
                black_card: t.black_card,
                interests: each(t.interests),
                age_bands: each(t.age_bands),
                city_tiers: each(t.city_tiers),
            },
            stacking: definition::Stacking {
                mode: input.stacking.mode.into(),
                combines_with: input
                    .stacking
                    .combines_with
                    .into_iter()
                    .map(Into::into)
                    .collect(),
                priority: input.stacking.priority,
            },
            upgrade: input.upgrade.map(|u| definition::Upgrade {
                min_tier: u.min_tier.map(Into::into),
                paid_member: u.paid_member,
                black_card: u.black_card,
                value: u.value,
            }),
            schedule: definition::Schedule {
                starts_at: from_local(input.schedule.starts_at),
                ends_at: input.schedule.ends_at.map(from_local),
            },
            budget: definition::Budget {
                total_redemptions: b.total_redemptions,
                per_member: b.per_member,
                per_member_per_day: b.per_member_per_day,
                per_member_per_year: b.per_member_per_year,
                total_money_cents: b.total_money_cents,
            },
        }
    }
}
