//! A benefit as the contract shows it: its state and kind, its definition
//! (live and current), revisions with their review, and its event log.

use async_graphql::resolver_utils::EnumType;
use async_graphql::{ComplexObject, Context, Enum, ID, Json, SimpleObject};
use chrono::{DateTime, Utc};
use entity::benefit_event;

use crate::{
    benefits::{self, Action, definition::Definition},
    error::ErrorCode,
    graphql::{ApiError, loaders, scalars::LocalDateTime, types::brand::Brand},
};

/// Where a benefit stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::BenefitState")]
pub enum BenefitState {
    /// Being written by the brand.
    Draft,
    /// Sent for review.
    PendingReview,
    /// Refused by a reviewer; editing makes it a draft again.
    Rejected,
    /// Approved, waiting for its start.
    Approved,
    /// Live: members get it.
    Active,
    /// Stopped for now.
    Paused,
    /// Past its end, or ended by the brand.
    Ended,
    /// Retired; final.
    Retired,
}

/// The kinds of benefit.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::benefits::definition::KindCode")]
pub enum BenefitKind {
    /// A percentage off, no threshold.
    PercentOff,
    /// Money off above a threshold.
    FixedCoupon,
    /// Free return shipping.
    FreeReturnShipping,
    /// A gift around the birthday.
    BirthdayGift,
    /// A service for members with given interests.
    InterestService,
    /// An event at stores, in a time slot, for a limited number.
    OfflineExperience,
    /// Early access to member-only SKUs.
    EarlyAccess,
    /// Points at a multiple.
    PointsMultiplier,
    /// A member price per SKU.
    MemberPrice,
    /// Money back on the member's Nth order in a period.
    OrderRebate,
}

/// A lifecycle step a brand takes.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum BenefitTransition {
    /// Send a draft for review.
    Submit,
    /// Stop an active benefit for now.
    Pause,
    /// Start a paused benefit again.
    Resume,
    /// Stop it for good (it stays readable).
    End,
    /// Retire it; final.
    Retire,
}

impl From<BenefitTransition> for Action {
    fn from(t: BenefitTransition) -> Self {
        match t {
            BenefitTransition::Submit => Self::Submit,
            BenefitTransition::Pause => Self::Pause,
            BenefitTransition::Resume => Self::Resume,
            BenefitTransition::End => Self::End,
            BenefitTransition::Retire => Self::Retire,
        }
    }
}

/// How a benefit combines with others.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::benefits::definition::StackMode")]
pub enum StackMode {
    /// Applies alone.
    Exclusive,
    /// Applies beside the kinds it lists (when they list it too).
    Combinable,
    /// Of the same kind, only the most valuable applies.
    BestOf,
}

/// A growth tier.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::platform::GrowthTier")]
pub enum GrowthTier {
    /// 0–399 points.
    Bronze,
    /// 400–999 points.
    Silver,
    /// 1000–1799 points.
    Gold,
    /// 1800–2499 points.
    Platinum,
    /// 2500–3999 points.
    Diamond,
    /// 4000 points and more.
    BlackDiamond,
}

/// The classes benefits stack in: exclusivity, best-of and
/// `combinesWith` bind within a class; different classes always combine.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::benefits::definition::Class")]
pub enum BenefitClass {
    /// What items cost or when they can be bought: early access.
    ItemPrice,
    /// Money off the order: percentages and coupons.
    OrderDiscount,
    /// Shipping and returns.
    Shipping,
    /// Gifts, services and experiences.
    Perk,
    /// Points earned.
    Points,
}

/// An interest category (a member can show several).
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::platform::Interest")]
pub enum Interest {
    /// Beauty and skin care.
    Beauty,
    /// Fashion.
    Fashion,
    /// Sports.
    Sports,
    /// Outdoor.
    Outdoor,
    /// Digital and electronics.
    Digital,
    /// Home.
    Home,
    /// Mother and baby.
    MotherBaby,
    /// Pets.
    Pets,
    /// Food.
    Food,
    /// Travel.
    Travel,
    /// Books.
    Books,
    /// Gaming.
    Gaming,
    /// Luxury.
    Luxury,
    /// Health.
    Health,
}

/// Age this calendar year (Asia/Shanghai), banded.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::segments::dimensions::AgeBand")]
pub enum AgeBand {
    /// Under 25.
    #[graphql(name = "AGE_UNDER_25")]
    Under25,
    /// 25 to 29.
    #[graphql(name = "AGE_25_29")]
    From25To29,
    /// 30 to 34.
    #[graphql(name = "AGE_30_34")]
    From30To34,
    /// 35 to 39.
    #[graphql(name = "AGE_35_39")]
    From35To39,
    /// 40 to 49.
    #[graphql(name = "AGE_40_49")]
    From40To49,
    /// 50 and over.
    #[graphql(name = "AGE_50_PLUS")]
    From50,
}

/// The tier of a member's city.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::CityTier")]
pub enum CityTier {
    /// Beijing, Shanghai, Guangzhou, Shenzhen.
    #[graphql(name = "TIER1")]
    Tier1,
    /// The fifteen "new first-tier" cities.
    #[graphql(name = "NEW_TIER1")]
    NewTier1,
    /// Second-tier cities.
    #[graphql(name = "TIER2")]
    Tier2,
    /// Third-tier cities.
    #[graphql(name = "TIER3")]
    Tier3,
    /// Fourth-tier cities.
    #[graphql(name = "TIER4")]
    Tier4,
    /// Fifth-tier cities and below.
    #[graphql(name = "TIER5")]
    Tier5,
}

/// Converts a list of domain values to their GraphQL face and back.
pub(crate) fn each<A, B: From<A>>(values: Vec<A>) -> Vec<B> {
    values.into_iter().map(Into::into).collect()
}

pub(crate) fn to_local(at: DateTime<Utc>) -> LocalDateTime {
    LocalDateTime(crate::platform::to_business_local(at))
}

/// Whom a benefit is for.
#[derive(SimpleObject)]
pub(crate) struct Targeting {
    /// Lowest growth tier.
    min_tier: Option<GrowthTier>,
    /// Paid members only (true), others only (false), either (null).
    paid_member: Option<bool>,
    /// Black-card holders only (true), others only (false), either (null).
    black_card: Option<bool>,
    /// Any of these interests (empty: any). For an interest service, its
    /// own interests.
    interests: Vec<Interest>,
    /// Any of these age bands (empty: any).
    age_bands: Vec<AgeBand>,
    /// Any of these city tiers (empty: any).
    city_tiers: Vec<CityTier>,
}

/// Stacking rules.
#[derive(SimpleObject)]
pub(crate) struct Stacking {
    /// The mode.
    mode: StackMode,
    /// Kinds it combines with.
    combines_with: Vec<BenefitKind>,
    /// Higher wins a conflict.
    priority: i64,
}

/// A better value for a better segment.
#[derive(SimpleObject)]
pub(crate) struct Upgrade {
    /// Lowest tier.
    min_tier: Option<GrowthTier>,
    /// Needs the paid membership.
    paid_member: bool,
    /// Needs the black card.
    black_card: bool,
    /// The upgraded value.
    value: i64,
}

/// When it runs.
#[derive(SimpleObject)]
pub(crate) struct Schedule {
    /// Start (UTC).
    starts_at: DateTime<Utc>,
    /// End (UTC).
    ends_at: Option<DateTime<Utc>>,
    /// Start, Asia/Shanghai local time.
    starts_at_local: LocalDateTime,
    /// End, Asia/Shanghai local time.
    ends_at_local: Option<LocalDateTime>,
}

/// What it may cost.
#[derive(SimpleObject)]
pub(crate) struct Budget {
    /// Most redemptions in all.
    total_redemptions: Option<i64>,
    /// Most per member, in all.
    per_member: Option<i64>,
    /// Most per member per Asia/Shanghai day.
    per_member_per_day: Option<i64>,
    /// Most per member per Asia/Shanghai calendar year.
    per_member_per_year: Option<i64>,
    /// Most money in all, in fen.
    total_money_cents: Option<i64>,
}

/// One revision's definition.
#[derive(SimpleObject)]
pub(crate) struct BenefitDefinition {
    /// What members see.
    name: String,
    /// More words.
    description: Option<String>,
    /// The kind.
    kind: BenefitKind,
    /// The class it stacks in.
    class: BenefitClass,
    /// The headline value: percent, coupon fen or multiplier tenths.
    value: Option<i64>,
    /// The kind's parameters as entered (times in UTC).
    parameters: Json<serde_json::Value>,
    /// Whom it is for.
    targeting: Targeting,
    /// How it stacks.
    stacking: Stacking,
    /// A better value for a better segment.
    upgrade: Option<Upgrade>,
    /// When it runs.
    schedule: Schedule,
    /// What it may cost.
    budget: Budget,
}

impl From<Definition> for BenefitDefinition {
    fn from(d: Definition) -> Self {
        let mut parameters = serde_json::to_value(&d.kind).unwrap_or_default();
        if let Some(map) = parameters.as_object_mut() {
            map.remove("kind");
        }
        Self {
            kind: d.kind.code().into(),
            class: d.kind.code().class().into(),
            value: d.kind.value(),
            parameters: Json(parameters),
            name: d.name,
            description: d.description,
            targeting: Targeting {
                min_tier: d.targeting.min_tier.map(Into::into),
                paid_member: d.targeting.paid_member,
                black_card: d.targeting.black_card,
                interests: each(d.targeting.interests),
                age_bands: each(d.targeting.age_bands),
                city_tiers: each(d.targeting.city_tiers),
            },
            stacking: Stacking {
                mode: d.stacking.mode.into(),
                combines_with: d
                    .stacking
                    .combines_with
                    .into_iter()
                    .map(Into::into)
                    .collect(),
                priority: d.stacking.priority,
            },
            upgrade: d.upgrade.map(|u| Upgrade {
                min_tier: u.min_tier.map(Into::into),
                paid_member: u.paid_member,
                black_card: u.black_card,
                value: u.value,
            }),
            schedule: Schedule {
                starts_at: d.schedule.starts_at,
                ends_at: d.schedule.ends_at,
                starts_at_local: to_local(d.schedule.starts_at),
                ends_at_local: d.schedule.ends_at.map(to_local),
            },
            budget: Budget {
                total_redemptions: d.budget.total_redemptions,
                per_member: d.budget.per_member,
                per_member_per_day: d.budget.per_member_per_day,
                per_member_per_year: d.budget.per_member_per_year,
                total_money_cents: d.budget.total_money_cents,
            },
        }
    }
}

/// One immutable revision.
#[derive(SimpleObject)]
pub(crate) struct BenefitRevision {
    /// 1, 2, …
    number: i32,
    /// Where it stands in review.
    review: RevisionReview,
    /// Who wrote it.
    created_by: String,
    /// When.
    created_at: DateTime<Utc>,
    /// What it says.
    definition: BenefitDefinition,
}

/// One field that differs between two revisions.
#[derive(SimpleObject)]
pub(crate) struct FieldChange {
    /// Dotted path, e.g. `kind.percent`.
    field: String,
    /// Before (JSON), null when absent.
    before: Option<String>,
    /// After (JSON), null when absent.
    after: Option<String>,
}

/// One change to a benefit (who, when, what).
#[derive(SimpleObject)]
pub(crate) struct BenefitEvent {
    /// When.
    at: DateTime<Utc>,
    /// Who.
    actor: String,
    /// What happened.
    action: BenefitEventAction,
    /// State before.
    from_state: BenefitState,
    /// State after.
    to_state: BenefitState,
    /// The revision concerned.
    revision: Option<i32>,
    /// Reasons, notices or the changed fields.
    note: Option<String>,
}

impl TryFrom<benefit_event::Model> for BenefitEvent {
    type Error = ApiError;

    fn try_from(e: benefit_event::Model) -> Result<Self, ApiError> {
        let action: benefits::EventAction = crate::db::stored("benefit_event.action", &e.action)?;
        Ok(Self {
            at: e.at,
            actor: e.actor,
            action: action.into(),
            from_state: e.from_state.into(),
            to_state: e.to_state.into(),
            revision: e.revision,
            note: e.note,
        })
    }
}

/// What a benefit event records.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::benefits::EventAction")]
pub enum BenefitEventAction {
    /// The draft was created.
    Create,
    /// A new revision was written.
    Edit,
    /// A draft was sent for review.
    Submit,
    /// A reviewer approved the pending revision.
    Approve,
    /// A reviewer rejected it.
    Reject,
    /// Stopped for now (by the brand, or by the usage policy).
    Pause,
    /// Started again.
    Resume,
    /// Stopped for good (by the brand, or at the schedule's end).
    End,
    /// Retired (by the brand, or by the usage policy).
    Retire,
    /// Went live at its scheduled start.
    Activate,
    /// Flagged by the usage policy.
    Flag,
}

/// Where a revision stands in review.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::benefits::Review")]
pub enum RevisionReview {
    /// Not sent for review.
    Draft,
    /// Waiting for a reviewer.
    Pending,
    /// Approved: live or scheduled.
    Approved,
    /// Rejected by a reviewer.
    Rejected,
    /// A newer revision took its place before review.
    Superseded,
}

/// Whether a member gets a benefit, or why not.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::benefits::redemption::Outcome")]
pub enum RedemptionOutcome {
    /// Granted.
    Granted,
    /// The benefit is not ACTIVE.
    NotActive,
    /// The brand's standing (prospect, suspended) does not allow grants.
    BrandNotInStanding,
    /// Outside the benefit's schedule.
    OutsideSchedule,
    /// The member is not in the targeted segment.
    NotTargeted,
    /// Another benefit takes precedence under the stacking rules (a quote
    /// says which and why).
    Overridden,
    /// The order is below the coupon's threshold.
    BelowThreshold,
    /// A birthday gift, but the platform does not know the member's birth
    /// date.
    BirthDateUnknown,
    /// A rebate, but this order is not yet the member's Nth in its period.
    OrderCountNotReached,
    /// A birthday gift, outside the window around the member's birthday
    /// (Asia/Shanghai days).
    OutsideBirthdayWindow,
    /// Early access, but not now: before its early window opens or once
    /// the public may buy.
    OutsideEarlyAccessWindow,
    /// Early access, but the basket holds none of its SKUs.
    NoEarlyAccessSku,
    /// The member used it as often as allowed (in all, today, this year,
    /// or this birthday).
    MemberCapReached,
    /// No redemptions (or places) left.
    BudgetExhausted,
    /// Not enough money left in the budget.
    MoneyBudgetExhausted,
}

/// An exclusive member benefit of one brand.
#[derive(SimpleObject)]
#[graphql(complex)]
pub(crate) struct Benefit {
    /// Its id; also its federation key.
    id: ID,
    /// Where it stands.
    state: BenefitState,
    /// Pass as `expectedVersion` to change it.
    version: i32,
    /// The latest revision's number.
    current_revision: i64,
    /// The revision members get, once one was approved.
    live_revision: Option<i64>,
    /// The latest revision waits for review while the live one stays live.
    revision_pending: bool,
    /// The latest revision.
    definition: BenefitDefinition,
    /// The live revision.
    live_definition: Option<BenefitDefinition>,
    /// Redemptions granted.
    redemptions: i64,
    /// Money granted, in fen.
    spent_cents: i64,
    /// When it first went live.
    activated_at: Option<DateTime<Utc>>,
    /// When it was created.
    created_at: DateTime<Utc>,
    #[graphql(skip)]
    row_id: i64,
    #[graphql(skip)]
    brand_id: i64,
    /// The state as the domain has it, for the steps it allows.
    #[graphql(skip)]
    row_state: entity::enums::BenefitState,
    /// The current definition as the domain has it, for the review signals.
    #[graphql(skip)]
    current: Definition,
}

impl From<benefits::Benefit> for Benefit {
    fn from(b: benefits::Benefit) -> Self {
        Self {
            id: ID(b.row.id.to_string()),
            state: b.row.state.into(),
            version: b.row.version,
            current_revision: b.row.current_revision,
            live_revision: b.row.live_revision,
            revision_pending: b.row.revision_pending,
            definition: b.current.clone().into(),
            current: b.current,
            live_definition: b.live.map(Into::into),
            redemptions: b.used.redemptions,
            spent_cents: b.used.spent_cents,
            activated_at: b.row.activated_at,
            created_at: b.row.created_at,
            row_id: b.row.id,
            brand_id: b.row.brand_id,
            row_state: b.row.state,
        }
    }
}

#[ComplexObject]
impl Benefit {
    /// The lifecycle steps `transitionBenefit` accepts now.
    async fn transitions(&self) -> Vec<BenefitTransition> {
        <BenefitTransition as EnumType>::items()
            .iter()
            .map(|item| item.value)
            .filter(|t| benefits::allows(self.row_state, self.revision_pending, (*t).into()))
            .collect()
    }

    /// Whether `reviewBenefit` accepts it now: a draft sent for review, or
    /// a live benefit's new revision.
    async fn reviewable(&self) -> bool {
        benefits::allows(self.row_state, self.revision_pending, Action::Approve)
    }

    /// Whether `editBenefit` accepts it now (a revision waiting for
    /// review can't be edited).
    async fn editable(&self) -> bool {
        benefits::allows(self.row_state, self.revision_pending, Action::Edit)
    }

    /// What a reviewer should see before deciding it, as currently
    /// written: dead or not, its stacking conflicts, better-placed cells
    /// that would get less, and the most money it can grant.
    async fn review_signals(
        &self,
        ctx: &Context<'_>,
    ) -> Result<super::benefit_insight::ReviewSignals, ApiError> {
        let db = crate::graphql::db(ctx)?;
        let signals = benefits::signals::of(db, self.brand_id, self.row_id, &self.current).await?;
        Ok(signals.into())
    }

    /// The brand offering it.
    async fn brand(&self, ctx: &Context<'_>) -> Result<Brand, ApiError> {
        Brand::owner_of(ctx, self.brand_id, "benefit").await
    }

    /// Every revision, oldest first.
    async fn revisions(&self, ctx: &Context<'_>) -> Result<Vec<BenefitRevision>, ApiError> {
        loaders(ctx)?
            .benefit_revisions()
            .load_one(self.row_id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(|(row, definition)| {
                let review: benefits::Review =
                    crate::db::stored("benefit_revision.review", &row.review)?;
                Ok(BenefitRevision {
                    number: row.number,
                    review: review.into(),
                    created_by: row.created_by,
                    created_at: row.created_at,
                    definition: definition.into(),
                })
            })
            .collect()
    }

    /// Field-level changes from revision `from` to revision `to`.
    async fn diff(
        &self,
        ctx: &Context<'_>,
        from: i32,
        to: i32,
    ) -> Result<Vec<FieldChange>, ApiError> {
        let revisions = loaders(ctx)?
            .benefit_revisions()
            .load_one(self.row_id)
            .await?
            .unwrap_or_default();
        let find = |n: i32, name: &str| {
            revisions
                .iter()
                .find(|(row, _)| row.number == n)
                .map(|(_, d)| d)
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::BadUserInput,
                        format!("`{name}`: no revision {n}"),
                    )
                })
        };
        Ok(benefits::diff(find(from, "from")?, find(to, "to")?)
            .into_iter()
            .map(|c| FieldChange {
                field: c.field,
                before: c.before,
                after: c.after,
            })
            .collect())
    }

    /// Every change, oldest first.
    async fn events(&self, ctx: &Context<'_>) -> Result<Vec<BenefitEvent>, ApiError> {
        loaders(ctx)?
            .benefit_events()
            .load_one(self.row_id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(BenefitEvent::try_from)
            .collect()
    }
}
