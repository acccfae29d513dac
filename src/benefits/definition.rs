//! What a benefit is: its kind and value, whom it targets (segment
//! dimensions only, never member ids), how it stacks, when it runs and what
//! it may cost. Stored as JSON in each immutable revision; validated here,
//! with errors naming the input field.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub(crate) use super::targeting::Targeting;
use crate::platform::{GrowthTier, Interest};

/// Most money one fixed coupon may be worth: ¥10,000.
pub(crate) const MAX_COUPON_CENTS: i64 = 1_000_000;
/// Most a member price may be: ¥10,000,000, in fen (a basket line's
/// bound).
pub(crate) const MAX_MEMBER_PRICE_CENTS: i64 = 1_000_000_000;
/// Most items in a list field (SKUs, locations, interests).
pub(crate) const MAX_LIST: usize = 200;

/// The kinds of benefit, with their parameters. Money is in fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Kind {
    /// A percentage off every order, no threshold (1–50%).
    PercentOff {
        /// Percent off.
        percent: i64,
    },
    /// Money off an order of at least a threshold.
    FixedCoupon {
        /// Money off, in fen (¥1 – ¥10,000).
        amount_cents: i64,
        /// Smallest order it applies to, in fen (at least the amount).
        threshold_cents: i64,
    },
    /// Returns shipped back free.
    FreeReturnShipping,
    /// A gift in a window around the member's birthday.
    BirthdayGift {
        /// What the gift is.
        gift: String,
        /// Days before the birthday the window opens (0–30).
        days_before: i64,
        /// Days after the birthday it closes (0–30).
        days_after: i64,
    },
    /// A service for members with given interests: they are its
    /// targeting's interests (see [`Definition::audience`]).
    InterestService {
        /// What the service is.
        service: String,
        /// Interest categories it is for (at least one).
        interests: Vec<Interest>,
    },
    /// An event at stores, in a time slot, for a limited number.
    OfflineExperience {
        /// What it is.
        title: String,
        /// Store locations (at least one).
        locations: Vec<String>,
        /// Slot start (UTC).
        slot_start: DateTime<Utc>,
        /// Slot end (UTC).
        slot_end: DateTime<Utc>,
        /// Places (1–10,000).
        capacity: i64,
    },
    /// Early access to member-only SKUs: members may buy them from
    /// `hours_early` before the public launch until it.
    EarlyAccess {
        /// Hours before the public (1–168).
        hours_early: i64,
        /// The SKUs (at least one).
        skus: Vec<String>,
        /// When the public may buy them (UTC).
        public_at: DateTime<Utc>,
    },
    /// Points earned at a multiple, in tenths (11 = 1.1×, up to 100 = 10×).
    PointsMultiplier {
        /// Multiplier × 10.
        multiplier_tenths: i64,
    },
    /// Money back on the member's Nth order in the store within a period
    /// (Xiaomi UP style), at most once per period.
    OrderRebate {
        /// The order that earns it (2–100): this many orders in the period,
        /// this one included.
        nth_order: i64,
        /// The period, in days (1–366).
        period_days: i64,
        /// Money back, in fen (¥1 – ¥10,000).
        amount_cents: i64,
    },
    /// A member price per SKU (JD PLUS / Tmall 会员价): the line's unit
    /// price drops to it when lower.
    MemberPrice {
        /// The SKUs and their member prices (at least one).
        prices: Vec<SkuPrice>,
    },
}

/// One SKU's member price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkuPrice {
    /// The brand's SKU code.
    pub sku: String,
    /// The member's unit price, in fen.
    pub price_cents: i64,
}

/// A kind without its parameters, for stacking rules.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, strum::Display,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum KindCode {
    /// [`Kind::PercentOff`].
    PercentOff,
    /// [`Kind::FixedCoupon`].
    FixedCoupon,
    /// [`Kind::FreeReturnShipping`].
    FreeReturnShipping,
    /// [`Kind::BirthdayGift`].
    BirthdayGift,
    /// [`Kind::InterestService`].
    InterestService,
    /// [`Kind::OfflineExperience`].
    OfflineExperience,
    /// [`Kind::EarlyAccess`].
    EarlyAccess,
    /// [`Kind::PointsMultiplier`].
    PointsMultiplier,
    /// [`Kind::MemberPrice`].
    MemberPrice,
    /// [`Kind::OrderRebate`].
    OrderRebate,
}

/// The classes benefits stack in (after Shopify's discount classes):
/// exclusivity, best-of and `combinesWith` bind within a class; benefits
/// of different classes always combine.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, strum::Display,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum Class {
    /// What items cost or when they can be bought: member prices, early
    /// access.
    ItemPrice,
    /// Money off the order: percentages, coupons, rebates.
    OrderDiscount,
    /// Shipping and returns.
    Shipping,
    /// Gifts, services and experiences.
    Perk,
    /// Points earned.
    Points,
}

impl KindCode {
    /// The class the kind stacks in.
    pub fn class(self) -> Class {
        match self {
            Self::EarlyAccess | Self::MemberPrice => Class::ItemPrice,
            Self::PercentOff | Self::FixedCoupon | Self::OrderRebate => Class::OrderDiscount,
            Self::FreeReturnShipping => Class::Shipping,
            Self::BirthdayGift | Self::InterestService | Self::OfflineExperience => Class::Perk,
            Self::PointsMultiplier => Class::Points,
        }
    }
}

impl Kind {
    /// Early access's window: `hours_early` before the public launch
    /// until it (other kinds have none).
    pub fn early_access_window(&self) -> Option<Window> {
        match self {
            Self::EarlyAccess {
                hours_early,
                public_at,
                ..
            } => Some(Window {
                starts_at: *public_at - chrono::Duration::hours(*hours_early),
                ends_at: Some(*public_at),
            }),
            _ => None,
        }
    }

    /// An offline experience's slot (other kinds have none).
    pub fn experience_slot(&self) -> Option<Window> {
        match self {
            Self::OfflineExperience {
                slot_start,
                slot_end,
                ..
            } => Some(Window {
                starts_at: *slot_start,
                ends_at: Some(*slot_end),
            }),
            _ => None,
        }
    }

    /// The kind's code.
    pub fn code(&self) -> KindCode {
        match self {
            Self::PercentOff { .. } => KindCode::PercentOff,
            Self::FixedCoupon { .. } => KindCode::FixedCoupon,
            Self::FreeReturnShipping => KindCode::FreeReturnShipping,
            Self::BirthdayGift { .. } => KindCode::BirthdayGift,
            Self::InterestService { .. } => KindCode::InterestService,
            Self::OfflineExperience { .. } => KindCode::OfflineExperience,
            Self::EarlyAccess { .. } => KindCode::EarlyAccess,
            Self::PointsMultiplier { .. } => KindCode::PointsMultiplier,
            Self::MemberPrice { .. } => KindCode::MemberPrice,
            Self::OrderRebate { .. } => KindCode::OrderRebate,
        }
    }

    /// The headline value best-of compares and upgrades replace: percent,
    /// coupon fen, or multiplier tenths; none for the other kinds.
    pub fn value(&self) -> Option<i64> {
        match self {
            Self::PercentOff { percent } => Some(*percent),
            Self::FixedCoupon { amount_cents, .. } | Self::OrderRebate { amount_cents, .. } => {
                Some(*amount_cents)
            }
            Self::PointsMultiplier { multiplier_tenths } => Some(*multiplier_tenths),
            _ => None,
        }
    }

    /// The allowed range of the headline value, and its field name.
    fn value_range(&self) -> Option<(&'static str, std::ops::RangeInclusive<i64>)> {
        match self {
            Self::PercentOff { .. } => Some(("kind.percentOff.percent", 1..=50)),
            Self::FixedCoupon { .. } => {
                Some(("kind.fixedCoupon.amountCents", 100..=MAX_COUPON_CENTS))
            }
            Self::OrderRebate { .. } => {
                Some(("kind.orderRebate.amountCents", 100..=MAX_COUPON_CENTS))
            }
            Self::PointsMultiplier { .. } => {
                Some(("kind.pointsMultiplier.multiplierTenths", 11..=100))
            }
            _ => None,
        }
    }

    /// The money a redemption grants on an order of `order_cents`: the
    /// percentage (rounded down to the fen) or the coupon when the order
    /// reaches its threshold; `None` when the order does not qualify.
    pub fn money_off(&self, value: i64, order_cents: i64) -> Option<i64> {
        match self {
            // Rounded down to the fen, in i128 so nothing can wrap; an
            // amount past i64 (impossible for a bounded order) does not
            // qualify rather than grant a wrong amount.
            Self::PercentOff { .. } => {
                i64::try_from(i128::from(order_cents) * i128::from(value) / 100).ok()
            }
            Self::FixedCoupon {
                threshold_cents, ..
            } => (order_cents >= *threshold_cents).then_some(value),
            _ => Some(0),
        }
    }
}

/// How a benefit combines with the others of its [`Class`] a member
/// qualifies for (other classes always combine with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StackMode {
    /// Applies alone in its class: nothing else of its class beside it.
    Exclusive,
    /// Applies beside benefits of its class whose kinds it lists (and that
    /// list it).
    Combinable,
    /// Of the same kind, only the most valuable applies.
    BestOf,
}

/// Stacking rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stacking {
    /// The mode.
    pub mode: StackMode,
    /// Kinds it combines with (COMBINABLE and BEST_OF).
    pub combines_with: Vec<KindCode>,
    /// Higher wins a conflict (0–1000).
    pub priority: i64,
}

/// A better value for a better segment, e.g. "paid members at PLATINUM or
/// above get 10% instead of 5%".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Upgrade {
    /// Lowest growth tier for the upgrade.
    pub min_tier: Option<GrowthTier>,
    /// The upgrade needs the paid membership.
    pub paid_member: bool,
    /// The upgrade needs the black card.
    pub black_card: bool,
    /// The upgraded headline value (same unit as the kind's).
    pub value: i64,
}

/// When it runs (entered in Asia/Shanghai time, stored in UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Schedule {
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End, if it has one.
    pub ends_at: Option<DateTime<Utc>>,
}

impl Schedule {
    /// The span it grants in.
    pub fn window(&self) -> Window {
        Window {
            starts_at: self.starts_at,
            ends_at: self.ends_at,
        }
    }
}

/// A span of time: from `starts_at` until `ends_at` (excluded), or open
/// ended. The checkout asks whether an instant falls in one, the calendar
/// which days one touches, so both cut time the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First instant in it.
    pub starts_at: DateTime<Utc>,
    /// First instant after it, if it ends.
    pub ends_at: Option<DateTime<Utc>>,
}

impl Window {
    /// Whether `at` falls in it.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.starts_at <= at && self.ends_at.is_none_or(|end| at < end)
    }

    /// The instants in both, if any: what a check of both admits.
    pub fn within(&self, other: &Window) -> Option<Window> {
        let starts_at = Ord::max(self.starts_at, other.starts_at);
        let ends_at = match (self.ends_at, other.ends_at) {
            (Some(a), Some(b)) => Some(Ord::min(a, b)),
            (a, b) => a.or(b),
        };
        ends_at
            .is_none_or(|end| starts_at < end)
            .then_some(Window { starts_at, ends_at })
    }

    /// Whether it shares an instant with `[from, to)`.
    pub fn overlaps(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
        self.starts_at < to && self.ends_at.is_none_or(|end| from < end)
    }
}

/// What it may cost.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Budget {
    /// Most redemptions in all.
    pub total_redemptions: Option<i64>,
    /// Most redemptions per member, in all.
    pub per_member: Option<i64>,
    /// Most per member per Asia/Shanghai day.
    #[serde(default)]
    pub per_member_per_day: Option<i64>,
    /// Most per member per Asia/Shanghai calendar year.
    #[serde(default)]
    pub per_member_per_year: Option<i64>,
    /// Most money in all, in fen.
    pub total_money_cents: Option<i64>,
}

/// A whole benefit definition: what one revision holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Definition {
    /// What members see.
    pub name: String,
    /// More words.
    pub description: Option<String>,
    /// The kind and its parameters.
    pub kind: Kind,
    /// Whom it is for.
    pub targeting: Targeting,
    /// How it stacks.
    pub stacking: Stacking,
    /// A better value for a better segment.
    pub upgrade: Option<Upgrade>,
    /// When it runs.
    pub schedule: Schedule,
    /// What it may cost.
    pub budget: Budget,
}

/// A definition field that is wrong, by its input path (`kind.percentOff.percent`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}` {message}")]
pub struct Invalid {
    /// Dotted input path.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

fn invalid(field: &str, message: impl Into<String>) -> Invalid {
    Invalid {
        field: field.to_owned(),
        message: message.into(),
    }
}

fn within(field: &str, value: i64, range: std::ops::RangeInclusive<i64>) -> Result<(), Invalid> {
    if range.contains(&value) {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("must be {} to {}, got {value}", range.start(), range.end()),
        ))
    }
}

fn words(field: &str, value: &str, max: usize) -> Result<(), Invalid> {
    let chars = value.trim().chars().count();
    if chars == 0 || chars > max {
        return Err(invalid(field, format!("must be 1 to {max} characters")));
    }
    Ok(())
}

fn list(field: &str, values: &[String], required: bool) -> Result<(), Invalid> {
    if required && values.is_empty() {
        return Err(invalid(field, "needs at least one value"));
    }
    if values.len() > MAX_LIST {
        return Err(invalid(field, format!("takes at most {MAX_LIST} values")));
    }
    for value in values {
        words(field, value, 64)?;
    }
    Ok(())
}

impl Definition {
    /// Whom it reaches: its targeting, with an interest service's
    /// interests as the interest clause. Every path that asks who gets a
    /// benefit asks this.
    pub fn audience(&self) -> Targeting {
        match &self.kind {
            Kind::InterestService { interests, .. } => Targeting {
                interests: interests.clone(),
                ..self.targeting.clone()
            },
            _ => self.targeting.clone(),
        }
    }

    /// When it stops granting for good: its schedule's end, or an early
    /// access's public launch if sooner (after it, nobody is early).
    pub fn closes_at(&self) -> Option<DateTime<Utc>> {
        let launch = match &self.kind {
            Kind::EarlyAccess { public_at, .. } => Some(*public_at),
            _ => None,
        };
        match (self.schedule.ends_at, launch) {
            (Some(end), Some(launch)) => Some(Ord::min(end, launch)),
            (end, launch) => end.or(launch),
        }
    }

    /// Checks every field; the first problem names its input path.
    pub fn check(&self, now: DateTime<Utc>) -> Result<(), Invalid> {
        words("name", &self.name, 80)?;
        if let Some(description) = &self.description {
            words("description", description, 2000)?;
        }
        self.check_kind()?;
        let t = &self.targeting;
        for (field, len) in [
            ("targeting.interests", t.interests.len()),
            ("targeting.ageBands", t.age_bands.len()),
            ("targeting.cityTiers", t.city_tiers.len()),
        ] {
            if len > MAX_LIST {
                return Err(invalid(field, format!("takes at most {MAX_LIST} values")));
            }
        }
        if matches!(self.kind, Kind::InterestService { .. }) && !t.interests.is_empty() {
            return Err(invalid(
                "targeting.interests",
                "must be empty for an interest service: its `interests` are whom it targets",
            ));
        }
        let s = &self.stacking;
        within("stacking.priority", s.priority, 0..=1000)?;
        if s.mode == StackMode::Exclusive && !s.combines_with.is_empty() {
            return Err(invalid(
                "stacking.combinesWith",
                "must be empty for an EXCLUSIVE benefit",
            ));
        }
        if let Some(upgrade) = &self.upgrade {
            let Some((field, range)) = self.kind.value_range() else {
                return Err(invalid(
                    "upgrade",
                    "only percent-off, coupon, rebate and points-multiplier benefits have a value to upgrade",
                ));
            };
            within("upgrade.value", upgrade.value, range)?;
            let base = self.kind.value().unwrap_or_default();
            if upgrade.value <= base {
                return Err(invalid(
                    "upgrade.value",
                    format!("must be more than the base value {base} (`{field}`)"),
                ));
            }
            if upgrade.min_tier.is_none() && !upgrade.paid_member && !upgrade.black_card {
                return Err(invalid(
                    "upgrade",
                    "needs a condition: minTier, paidMember or blackCard",
                ));
            }
        }
        if let Some(ends_at) = self.schedule.ends_at {
            if ends_at <= self.schedule.starts_at {
                return Err(invalid("schedule.endsAt", "must be after startsAt"));
            }
            if ends_at <= now {
                return Err(invalid("schedule.endsAt", "is already past"));
            }
        }
        let b = &self.budget;
        for (field, value) in [
            ("budget.totalRedemptions", b.total_redemptions),
            ("budget.perMember", b.per_member),
            ("budget.totalMoneyCents", b.total_money_cents),
            ("budget.perMemberPerDay", b.per_member_per_day),
            ("budget.perMemberPerYear", b.per_member_per_year),
        ] {
            if let Some(value) = value {
                within(field, value, 1..=i64::from(i32::MAX) * 100)?;
            }
        }
        // Each cap at most the next wider one it is given with.
        let nested = [
            (
                "budget.perMemberPerDay",
                b.per_member_per_day,
                "budget.perMemberPerYear",
                b.per_member_per_year,
            ),
            (
                "budget.perMemberPerDay",
                b.per_member_per_day,
                "budget.perMember",
                b.per_member,
            ),
            (
                "budget.perMemberPerYear",
                b.per_member_per_year,
                "budget.perMember",
                b.per_member,
            ),
            (
                "budget.perMember",
                b.per_member,
                "budget.totalRedemptions",
                b.total_redemptions,
            ),
        ];
        for (field, narrow, wider, wide) in nested {
            if let (Some(narrow), Some(wide)) = (narrow, wide)
                && narrow > wide
            {
                return Err(invalid(field, format!("cannot exceed {wider}")));
            }
        }
        Ok(())
    }

    fn check_kind(&self) -> Result<(), Invalid> {
        if let (Some((field, range)), Some(value)) = (self.kind.value_range(), self.kind.value()) {
            within(field, value, range)?;
        }
        match &self.kind {
            Kind::FixedCoupon {
                amount_cents,
                threshold_cents,
            } if threshold_cents < amount_cents => Err(invalid(
                "kind.fixedCoupon.thresholdCents",
                "must be at least amountCents",
            )),
            Kind::BirthdayGift {
                gift,
                days_before,
                days_after,
            } => {
                words("kind.birthdayGift.gift", gift, 80)?;
                within("kind.birthdayGift.daysBefore", *days_before, 0..=30)?;
                within("kind.birthdayGift.daysAfter", *days_after, 0..=30)
            }
            Kind::InterestService { service, interests } => {
                words("kind.interestService.service", service, 80)?;
                if interests.is_empty() {
                    return Err(invalid(
                        "kind.interestService.interests",
                        "needs at least one value",
                    ));
                }
                Ok(())
            }
            Kind::OfflineExperience {
                title,
                locations,
                slot_start,
                slot_end,
                capacity,
            } => {
                words("kind.offlineExperience.title", title, 80)?;
                list("kind.offlineExperience.locations", locations, true)?;
                within("kind.offlineExperience.capacity", *capacity, 1..=10_000)?;
                if slot_end <= slot_start {
                    return Err(invalid(
                        "kind.offlineExperience.slotEnd",
                        "must be after slotStart",
                    ));
                }
                Ok(())
            }
            Kind::EarlyAccess {
                hours_early,
                skus,
                public_at,
            } => {
                within("kind.earlyAccess.hoursEarly", *hours_early, 1..=168)?;
                list("kind.earlyAccess.skus", skus, true)?;
                if *public_at <= self.schedule.starts_at {
                    return Err(invalid(
                        "kind.earlyAccess.publicAt",
                        "must be after schedule.startsAt",
                    ));
                }
                Ok(())
            }
            Kind::OrderRebate {
                nth_order,
                period_days,
                ..
            } => {
                within("kind.orderRebate.nthOrder", *nth_order, 2..=100)?;
                within("kind.orderRebate.periodDays", *period_days, 1..=366)
            }
            Kind::MemberPrice { prices } => {
                let skus: Vec<String> = prices.iter().map(|p| p.sku.clone()).collect();
                list("kind.memberPrice.prices", &skus, true)?;
                for (i, price) in prices.iter().enumerate() {
                    if skus[..i].contains(&price.sku) {
                        return Err(invalid(
                            "kind.memberPrice.prices",
                            format!("lists SKU `{}` twice", price.sku),
                        ));
                    }
                    within(
                        "kind.memberPrice.prices.priceCents",
                        price.price_cents,
                        0..=MAX_MEMBER_PRICE_CENTS,
                    )?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::Duration;

    use super::*;

    /// Early access closes at its public launch when that comes before
    /// its schedule's end.
    #[test]
    fn early_access_closes_at_its_launch() {
        let now = Utc::now();
        let launch = now + Duration::days(2);
        let early = |ends_at: Option<DateTime<Utc>>| Definition {
            kind: Kind::EarlyAccess {
                hours_early: 24,
                skus: vec!["A".to_owned()],
                public_at: launch,
            },
            schedule: Schedule {
                starts_at: now,
                ends_at,
            },
            ..percent_off(5, now)
        };
        assert_eq!(early(None).closes_at(), Some(launch));
        assert_eq!(
            early(Some(now + Duration::days(9))).closes_at(),
            Some(launch)
        );
        let sooner = now + Duration::days(1);
        assert_eq!(early(Some(sooner)).closes_at(), Some(sooner));
        assert_eq!(
            percent_off(5, now).closes_at(),
            percent_off(5, now).schedule.ends_at
        );
    }

    /// A valid percent-off definition running from yesterday for 30 days.
    pub(crate) fn percent_off(percent: i64, now: DateTime<Utc>) -> Definition {
        Definition {
            name: "Member price".to_owned(),
            description: None,
            kind: Kind::PercentOff { percent },
            targeting: Targeting::default(),
            stacking: Stacking {
                mode: StackMode::Combinable,
                combines_with: Vec::new(),
                priority: 10,
            },
            upgrade: None,
            schedule: Schedule {
                starts_at: now - Duration::days(1),
                ends_at: Some(now + Duration::days(30)),
            },
            budget: Budget::default(),
        }
    }

    #[test]
    fn each_invalid_field_is_named_by_its_input_path() {
        let now = Utc::now();
        assert_eq!(percent_off(5, now).check(now), Ok(()));
        type Change = fn(&mut Definition, DateTime<Utc>);
        let cases: [(Change, &str); 10] = [
            (|d, _| d.name = "  ".to_owned(), "name"),
            (
                |d, _| d.kind = Kind::PercentOff { percent: 51 },
                "kind.percentOff.percent",
            ),
            (
                |d, _| {
                    d.kind = Kind::FixedCoupon {
                        amount_cents: 500,
                        threshold_cents: 499,
                    }
                },
                "kind.fixedCoupon.thresholdCents",
            ),
            (
                |d, _| {
                    d.kind = Kind::InterestService {
                        service: "Yoga".to_owned(),
                        interests: vec![Interest::Sports],
                    };
                    d.targeting.interests = vec![Interest::Beauty];
                },
                "targeting.interests",
            ),
            (
                |d, _| {
                    d.kind = Kind::InterestService {
                        service: "Yoga".to_owned(),
                        interests: Vec::new(),
                    }
                },
                "kind.interestService.interests",
            ),
            (
                |d, _| {
                    d.stacking.mode = StackMode::Exclusive;
                    d.stacking.combines_with = vec![KindCode::FixedCoupon];
                },
                "stacking.combinesWith",
            ),
            (
                |d, _| {
                    d.upgrade = Some(Upgrade {
                        min_tier: Some(GrowthTier::Platinum),
                        paid_member: false,
                        black_card: false,
                        value: 5,
                    })
                },
                "upgrade.value",
            ),
            (
                |d, now| d.schedule.ends_at = Some(now - Duration::hours(1)),
                "schedule.endsAt",
            ),
            (
                |d, _| d.budget.total_redemptions = Some(0),
                "budget.totalRedemptions",
            ),
            (
                |d, _| {
                    d.budget.total_redemptions = Some(10);
                    d.budget.per_member = Some(11);
                },
                "budget.perMember",
            ),
        ];
        for (change, field) in cases {
            let mut definition = percent_off(5, now);
            change(&mut definition, now);
            let refused = definition.check(now).expect_err(field);
            assert_eq!(refused.field, field, "{refused}");
        }
    }
}
