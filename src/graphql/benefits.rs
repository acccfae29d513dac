//! Exclusive member benefits: the brand operator's configuration and
//! lifecycle, the reviewer's decision, the cell analysis, and the checkout's
//! eligibility and redemption (SERVICE). Domain refusals are `userErrors`.

use async_graphql::{
    ComplexObject, Context, Enum, ID, InputObject, Json, Object, OneofObject, SimpleObject,
    connection::{Connection, OpaqueCursor},
};
use chrono::{DateTime, Utc};
use entity::benefit_event;

use super::{
    ApiError, UserError,
    audience::{AudienceAnswer, Dimension as DimensionName, Population, PrivacyBudget},
    brands::Brand,
    connection, db, decode_cursor, loaders, outcome, parse_id, principal, privacy_settings,
    require,
    scalars::LocalDateTime,
};
use crate::{
    auth::{BrandScope, Caller, Principal, Role},
    benefits::{
        self, Action, BenefitError, centre,
        definition::{self, Definition},
        due, reach, redemption, renewal, stacking,
    },
    error::ErrorCode,
    pagination::PageRequest,
    segments::{self, Dimension as Dim},
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

/// Percent off every order.
#[derive(InputObject)]
pub struct PercentOffInput {
    /// 1–50.
    percent: i64,
}

/// Money off an order of at least a threshold.
#[derive(InputObject)]
pub struct FixedCouponInput {
    /// Money off in fen (¥1 – ¥10,000).
    amount_cents: i64,
    /// Smallest order in fen (at least the amount).
    threshold_cents: i64,
}

/// A birthday gift.
#[derive(InputObject)]
pub struct BirthdayGiftInput {
    /// The gift.
    gift: String,
    /// Days before the birthday the window opens (0–30).
    days_before: i64,
    /// Days after it closes (0–30).
    days_after: i64,
}

/// A service for members with given interests.
#[derive(InputObject)]
pub struct InterestServiceInput {
    /// The service.
    service: String,
    /// Interest categories it is for.
    interests: Vec<String>,
}

/// An offline experience.
#[derive(InputObject)]
pub struct OfflineExperienceInput {
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
pub struct EarlyAccessInput {
    /// Hours before the public (1–168).
    hours_early: i64,
    /// The SKUs.
    skus: Vec<String>,
}

/// A points multiplier.
#[derive(InputObject)]
pub struct PointsMultiplierInput {
    /// Multiplier × 10 (11 = 1.1×, up to 100 = 10×).
    multiplier_tenths: i64,
}

/// Exactly one kind with its parameters.
#[derive(OneofObject)]
pub enum BenefitKindInput {
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
}

/// Whom a benefit is for (segment dimensions only).
#[derive(InputObject, Default)]
pub struct TargetingInput {
    /// Lowest growth tier.
    min_tier: Option<GrowthTier>,
    /// Paid members only (true), others only (false), either (null).
    paid_member: Option<bool>,
    /// Black-card holders only (true), others only (false), either (null).
    black_card: Option<bool>,
    /// Any of these interests.
    #[graphql(default)]
    interests: Vec<String>,
    /// Any of these age bands (AGE_UNDER_25 … AGE_50_PLUS).
    #[graphql(default)]
    age_bands: Vec<String>,
    /// Any of these city tiers (TIER1 … TIER5).
    #[graphql(default)]
    city_tiers: Vec<String>,
}

/// Stacking rules.
#[derive(InputObject)]
pub struct StackingInput {
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
pub struct UpgradeInput {
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
pub struct ScheduleInput {
    /// Start, e.g. `2026-12-01T00:00:00`.
    starts_at: LocalDateTime,
    /// End, if any.
    ends_at: Option<LocalDateTime>,
}

/// What it may cost.
#[derive(InputObject, Default)]
pub struct BudgetInput {
    /// Most redemptions in all.
    total_redemptions: Option<i64>,
    /// Most redemptions per member.
    per_member: Option<i64>,
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

fn to_local(at: DateTime<Utc>) -> LocalDateTime {
    LocalDateTime(crate::platform::to_business_local(at))
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
                interests: k.interests,
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
            },
            BenefitKindInput::PointsMultiplier(k) => Kind::PointsMultiplier {
                multiplier_tenths: k.multiplier_tenths,
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
                interests: t.interests,
                age_bands: t.age_bands,
                city_tiers: t.city_tiers,
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
                total_money_cents: b.total_money_cents,
            },
        }
    }
}

/// Whom a benefit is for.
#[derive(SimpleObject)]
pub struct Targeting {
    /// Lowest growth tier.
    min_tier: Option<GrowthTier>,
    /// Paid members only (true), others only (false), either (null).
    paid_member: Option<bool>,
    /// Black-card holders only (true), others only (false), either (null).
    black_card: Option<bool>,
    /// Any of these interests (empty: any).
    interests: Vec<String>,
    /// Any of these age bands (empty: any).
    age_bands: Vec<String>,
    /// Any of these city tiers (empty: any).
    city_tiers: Vec<String>,
}

/// Stacking rules.
#[derive(SimpleObject)]
pub struct Stacking {
    /// The mode.
    mode: StackMode,
    /// Kinds it combines with.
    combines_with: Vec<BenefitKind>,
    /// Higher wins a conflict.
    priority: i64,
}

/// A better value for a better segment.
#[derive(SimpleObject)]
pub struct Upgrade {
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
pub struct Schedule {
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
pub struct Budget {
    /// Most redemptions in all.
    total_redemptions: Option<i64>,
    /// Most per member.
    per_member: Option<i64>,
    /// Most money in all, in fen.
    total_money_cents: Option<i64>,
}

/// One revision's definition.
#[derive(SimpleObject)]
pub struct BenefitDefinition {
    /// What members see.
    name: String,
    /// More words.
    description: Option<String>,
    /// The kind.
    kind: BenefitKind,
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
            value: d.kind.value(),
            parameters: Json(parameters),
            name: d.name,
            description: d.description,
            targeting: Targeting {
                min_tier: d.targeting.min_tier.map(Into::into),
                paid_member: d.targeting.paid_member,
                black_card: d.targeting.black_card,
                interests: d.targeting.interests,
                age_bands: d.targeting.age_bands,
                city_tiers: d.targeting.city_tiers,
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
                total_money_cents: d.budget.total_money_cents,
            },
        }
    }
}

/// One immutable revision.
#[derive(SimpleObject)]
pub struct BenefitRevision {
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
pub struct FieldChange {
    /// Dotted path, e.g. `kind.percent`.
    field: String,
    /// Before (JSON), null when absent.
    before: Option<String>,
    /// After (JSON), null when absent.
    after: Option<String>,
}

/// One change to a benefit (who, when, what).
#[derive(SimpleObject)]
pub struct BenefitEvent {
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
    /// Outside the benefit's schedule.
    OutsideSchedule,
    /// The member is not in the targeted segment.
    NotTargeted,
    /// The order is below the coupon's threshold.
    BelowThreshold,
    /// The member used it as often as allowed.
    MemberCapReached,
    /// No redemptions (or places) left.
    BudgetExhausted,
    /// Not enough money left in the budget.
    MoneyBudgetExhausted,
}

/// An exclusive member benefit of one brand.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Benefit {
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
            definition: b.current.into(),
            live_definition: b.live.map(Into::into),
            redemptions: b.row.redemptions,
            spent_cents: b.row.spent_cents,
            activated_at: b.row.activated_at,
            created_at: b.row.created_at,
            row_id: b.row.id,
            brand_id: b.row.brand_id,
        }
    }
}

#[ComplexObject]
impl Benefit {
    /// The brand offering it.
    async fn brand(&self, ctx: &Context<'_>) -> Result<Brand, ApiError> {
        loaders(ctx)?
            .brands
            .load_one(self.brand_id)
            .await?
            .map(Brand::from)
            .ok_or_else(|| ApiError::new(ErrorCode::Internal, "benefit without a brand"))
    }

    /// Every revision, oldest first.
    async fn revisions(&self, ctx: &Context<'_>) -> Result<Vec<BenefitRevision>, ApiError> {
        loaders(ctx)?
            .benefit_revisions
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
            .benefit_revisions
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
            .benefit_events
            .load_one(self.row_id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(BenefitEvent::try_from)
            .collect()
    }
}

/// A benefit a cell gets.
#[derive(SimpleObject)]
pub struct AppliedBenefit {
    /// The benefit.
    benefit_id: ID,
    /// Its value in this cell.
    value: Option<i64>,
    /// The upgrade applies.
    upgraded: bool,
    /// Targeted dimensions the analysis does not split by: only part of
    /// the cell gets it.
    partial_on: Vec<DimensionName>,
}

/// Why a matching benefit does not apply.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::benefits::stacking::OverrideReason")]
pub enum OverrideReason {
    /// An exclusive benefit applies.
    ExclusiveApplies,
    /// It is exclusive and a higher-priority benefit applies.
    HigherPriorityApplies,
    /// A best-of benefit of the same kind is worth more here.
    BestOfLower,
    /// A higher-priority benefit applies that it may not combine with.
    NotCombinable,
}

/// A matching benefit that loses.
#[derive(SimpleObject)]
pub struct OverriddenBenefit {
    /// The benefit.
    benefit_id: ID,
    /// What it lost to.
    by: ID,
    /// Why.
    reason: OverrideReason,
}

/// Two benefits whose rules contradict in a cell.
#[derive(SimpleObject)]
pub struct StackingConflict {
    /// The one that applies.
    kept: ID,
    /// The one that lost.
    lost: ID,
    /// In words.
    reason: String,
}

/// One value of an extra dimension.
#[derive(SimpleObject)]
pub struct CellValue {
    /// The dimension.
    dimension: DimensionName,
    /// Its value code.
    value: String,
}

/// What members of one cell get.
#[derive(SimpleObject)]
pub struct BenefitCell {
    /// Growth tier.
    tier: GrowthTier,
    /// Paid members.
    paid_member: bool,
    /// Black-card holders.
    black_card: bool,
    /// Values of the extra dimensions.
    extras: Vec<CellValue>,
    /// The benefits that apply, highest priority first.
    applied: Vec<AppliedBenefit>,
    /// Those that match but lose.
    overridden: Vec<OverriddenBenefit>,
    /// Contradicting rules.
    conflicts: Vec<StackingConflict>,
}

/// Why a benefit is dead.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::benefits::stacking::DeadReason")]
pub enum DeadReason {
    /// No cell matches its targeting.
    NeverTargeted,
    /// It matches somewhere but always loses.
    AlwaysOverridden,
}

/// A benefit no member ever gets.
#[derive(SimpleObject)]
pub struct DeadBenefit {
    /// The benefit.
    benefit_id: ID,
    /// Why.
    reason: DeadReason,
}

/// Every cell's effective benefits.
#[derive(SimpleObject)]
pub struct CellAnalysis {
    /// One entry per cell.
    cells: Vec<BenefitCell>,
    /// Benefits no cell gets.
    dead: Vec<DeadBenefit>,
}

fn gid(id: i64) -> ID {
    ID(id.to_string())
}

impl From<stacking::Analysis> for CellAnalysis {
    fn from(a: stacking::Analysis) -> Self {
        Self {
            cells: a
                .cells
                .into_iter()
                .map(|o| BenefitCell {
                    tier: o.cell.tier.into(),
                    paid_member: o.cell.paid,
                    black_card: o.cell.black_card,
                    extras: o
                        .cell
                        .extras
                        .into_iter()
                        .map(|(d, value)| CellValue {
                            dimension: d.into(),
                            value,
                        })
                        .collect(),
                    applied: o
                        .applied
                        .into_iter()
                        .map(|x| AppliedBenefit {
                            benefit_id: gid(x.id),
                            value: x.value,
                            upgraded: x.upgraded,
                            partial_on: x.partial.into_iter().map(Into::into).collect(),
                        })
                        .collect(),
                    overridden: o
                        .overridden
                        .into_iter()
                        .map(|x| OverriddenBenefit {
                            benefit_id: gid(x.id),
                            by: gid(x.by),
                            reason: x.reason.into(),
                        })
                        .collect(),
                    conflicts: o
                        .conflicts
                        .into_iter()
                        .map(|c| StackingConflict {
                            kept: gid(c.kept),
                            lost: gid(c.lost),
                            reason: c.reason,
                        })
                        .collect(),
                })
                .collect(),
            dead: a
                .dead
                .into_iter()
                .map(|(id, reason)| DeadBenefit {
                    benefit_id: gid(id),
                    reason: reason.into(),
                })
                .collect(),
        }
    }
}

/// How much a benefit is used. Redemptions are the brand's own
/// transactions; the eligible-member count behind the usage rate comes from
/// the privacy engine (the benefit's platform reach, noisy and budgeted).
#[derive(SimpleObject)]
pub struct BenefitUsage {
    /// Redemptions granted.
    redemptions: i64,
    /// Distinct members granted it.
    unique_redeemers: i64,
    /// Money granted, in fen.
    spent_cents: i64,
    /// Eligible platform members (noisy: the shown members of the reach answer).
    eligible_members: i64,
    /// Unique redeemers ÷ eligible members; null when no cell is shown.
    usage_rate: Option<f64>,
    /// The least usage rate the programme keeps a benefit at.
    policy_min_usage_rate: f64,
    /// The reach answer the rate was computed from (its privacy metadata).
    reach: AudienceAnswer,
}

/// One group's renewal decisions (noisy; null when under the minimum cell size).
#[derive(SimpleObject)]
pub struct RenewalGroup {
    /// Renewal decisions.
    decisions: Option<i64>,
    /// Renewals.
    renewed: Option<i64>,
    /// Renewals ÷ decisions.
    rate: Option<f64>,
}

impl From<renewal::Group> for RenewalGroup {
    fn from(g: renewal::Group) -> Self {
        Self {
            decisions: g.decisions,
            renewed: g.renewed,
            rate: g.rate,
        }
    }
}

/// Renewal of paid members who used a benefit against eligible paid members
/// who did not, released through the privacy engine.
#[derive(SimpleObject)]
pub struct RenewalComparison {
    /// Paid members granted the benefit.
    used: RenewalGroup,
    /// Eligible paid members never granted it.
    did_not_use: RenewalGroup,
    /// ε this request spent; 0 when served again (until new redemptions).
    epsilon_spent: f64,
    /// Discrete Laplace scale on the four counts (Δ/ε, Δ = 2).
    noise_scale: f64,
    /// 95% of counts are within this much of the truth.
    interval95: i64,
    /// Your budget after this request.
    budget: PrivacyBudget,
}

/// One tier of a member centre.
#[derive(SimpleObject)]
pub struct MemberCentreTier {
    /// The tier.
    tier: GrowthTier,
    /// Its benefits, in display order.
    benefit_ids: Vec<ID>,
}

/// What one programme cell sees in the member centre.
#[derive(SimpleObject)]
pub struct MemberCentreCell {
    /// Growth tier.
    tier: GrowthTier,
    /// Paid members.
    paid_member: bool,
    /// Black-card holders.
    black_card: bool,
    /// Centre benefits shown (active and applying after stacking), in order.
    shown: Vec<AppliedBenefit>,
    /// Centre benefits of the tier that this cell does not get.
    hidden: Vec<ID>,
}

/// The result of `setMemberCentre`.
#[derive(SimpleObject)]
pub struct MemberCentrePayload {
    /// Every tier after the change.
    tiers: Option<Vec<MemberCentreTier>>,
    /// Why it was refused.
    user_errors: Vec<UserError>,
}

fn centre_tiers(centre: centre::Centre) -> Vec<MemberCentreTier> {
    centre
        .into_iter()
        .map(|(tier, ids)| MemberCentreTier {
            tier: tier.into(),
            benefit_ids: ids.into_iter().map(gid).collect(),
        })
        .collect()
}

/// The caller's own brand, for brand roles (platform roles get FORBIDDEN:
/// these answers spend or shape one brand's own budget and store).
fn own_brand(principal: &Principal, roles: &[Role], what: &str) -> Result<i64, ApiError> {
    require(principal, roles, what)?;
    principal
        .brand_id
        .ok_or_else(|| ApiError::new(ErrorCode::Forbidden, "this credential has no brand"))
}

/// The result of a benefit mutation.
#[derive(SimpleObject)]
pub struct BenefitPayload {
    /// The benefit after the step.
    benefit: Option<Benefit>,
    /// Why the step was refused.
    user_errors: Vec<UserError>,
}

fn payload(result: Result<benefits::Benefit, BenefitError>) -> Result<BenefitPayload, ApiError> {
    let (benefit, user_errors) = outcome(result, BenefitError::field)?;
    Ok(BenefitPayload {
        benefit: benefit.map(Into::into),
        user_errors,
    })
}

/// What eligibility decided.
#[derive(SimpleObject)]
pub struct BenefitEligibility {
    /// Whether the member gets it (before budgets).
    eligible: bool,
    /// GRANTED, or why not.
    outcome: RedemptionOutcome,
    /// The value the member gets.
    value: Option<i64>,
    /// The upgrade applies.
    upgraded: bool,
    /// Money off this order, in fen.
    amount_cents: i64,
}

/// A recorded redemption.
#[derive(SimpleObject)]
pub struct Redemption {
    /// Its id.
    id: ID,
    /// Granted or not.
    granted: bool,
    /// GRANTED, or why not.
    outcome: RedemptionOutcome,
    /// Money granted, in fen.
    amount_cents: i64,
    /// This call replayed an earlier one with the same key.
    replayed: bool,
    /// When it was first recorded.
    created_at: DateTime<Utc>,
}

/// The result of `redeemBenefit`.
#[derive(SimpleObject)]
pub struct RedeemPayload {
    /// The redemption (granted or refused) when the request was usable.
    redemption: Option<Redemption>,
    /// Why the request was unusable.
    user_errors: Vec<UserError>,
}

/// A redemption request.
#[derive(InputObject)]
pub struct RedeemBenefitInput {
    /// The benefit.
    benefit_id: ID,
    /// The platform's member reference.
    member_ref: ID,
    /// Unique per attempt; a replay returns the first result.
    idempotency_key: String,
    /// The order amount, in fen.
    order_cents: i64,
}

const OPERATOR: &[Role] = &[Role::BrandOperator];
const READERS: &[Role] = &[
    Role::BrandOperator,
    Role::BrandAnalyst,
    Role::Reviewer,
    Role::Admin,
    Role::Service,
];
const CONFIGURING: &str = "configuring benefits";

fn benefit_id(id: &ID) -> Result<i64, ApiError> {
    parse_id(id, "a benefit")
}

/// Benefit root fields.
#[derive(Default)]
pub struct BenefitQuery;

#[Object]
impl BenefitQuery {
    /// One benefit; another brand's answers NOT_FOUND for brand roles.
    async fn benefit(&self, ctx: &Context<'_>, id: ID) -> Result<Benefit, ApiError> {
        let principal = principal(ctx)?;
        require(principal, READERS, "reading benefits")?;
        Ok(
            benefits::get(db(ctx)?, principal.brand_scope(), benefit_id(&id)?)
                .await?
                .into(),
        )
    }

    /// The benefits the caller may see (its brand's, or all for platform
    /// roles), oldest first. Pass `first` or `last`, 1 to 100.
    #[graphql(complexity = "first.or(last).unwrap_or(1).clamp(1, 100) as usize * child_complexity")]
    async fn benefits(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        states: Option<Vec<BenefitState>>,
    ) -> Result<Connection<OpaqueCursor<i64>, Benefit>, ApiError> {
        let principal = principal(ctx)?;
        require(principal, READERS, "reading benefits")?;
        let request = PageRequest::new(first, decode_cursor(after)?, last, decode_cursor(before)?)?;
        let states: Vec<_> = states
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect();
        let page = benefits::list(db(ctx)?, principal.brand_scope(), &states, request).await?;
        Ok(connection(page, |b| b.row.id, Benefit::from))
    }

    /// For every cell of growth tier × paid member × black card (× up to
    /// two of AGE_BAND, CITY_TIER, INTEREST), the benefits a member there
    /// gets after stacking, with conflicts and dead benefits. Brand roles
    /// analyse their own brand (`brandId` may be omitted); platform roles
    /// name one. `includeDrafts` adds drafts and benefits in review to the
    /// approved, active and paused ones.
    async fn benefit_cell_analysis(
        &self,
        ctx: &Context<'_>,
        brand_id: Option<ID>,
        #[graphql(default)] extra_dimensions: Vec<DimensionName>,
        #[graphql(default)] include_drafts: bool,
    ) -> Result<CellAnalysis, ApiError> {
        let principal = principal(ctx)?;
        require(principal, READERS, "analysing benefits")?;
        let brand = match (principal.brand_scope(), brand_id) {
            (BrandScope::One(own), None) => own,
            (scope, Some(id)) => {
                let id = super::brands::parse_brand_id(&id)?;
                crate::brands::get(db(ctx)?, scope, id).await?.id
            }
            (BrandScope::All, None) => {
                return Err(ApiError::new(
                    ErrorCode::BadUserInput,
                    "`brandId` is required for platform roles",
                ));
            }
        };
        let extras: Vec<Dim> = extra_dimensions.into_iter().map(Into::into).collect();
        if extras.len() > 2
            || extras
                .iter()
                .any(|d| !stacking::EXTRA_DIMENSIONS.contains(d))
        {
            return Err(ApiError::new(
                ErrorCode::BadUserInput,
                "`extraDimensions` takes up to two of AGE_BAND, CITY_TIER, INTEREST",
            ));
        }
        use entity::enums::BenefitState as S;
        let mut states = vec![S::Approved, S::Active, S::Paused];
        if include_drafts {
            states.extend([S::Draft, S::PendingReview]);
        }
        let list = benefits::of_brand(db(ctx)?, brand, &states).await?;
        let candidates: Vec<stacking::Candidate<'_>> = list
            .iter()
            .map(|b| stacking::Candidate {
                id: b.row.id,
                definition: match (&b.live, include_drafts) {
                    (Some(live), false) => live,
                    _ => &b.current,
                },
            })
            .collect();
        Ok(stacking::analyse(&candidates, &extras).into())
    }

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

    /// How many members each targeted cell (growth tier × paid member)
    /// holds, through the privacy engine: noisy, small cells suppressed,
    /// paid from the brand's budget, the same answer again for free (brand
    /// roles, their own benefits).
    async fn benefit_reach_preview(
        &self,
        ctx: &Context<'_>,
        benefit_id: ID,
        #[graphql(default_with = "Population::Platform")] population: Population,
    ) -> Result<AudienceAnswer, ApiError> {
        let principal = principal(ctx)?;
        let brand = own_brand(
            principal,
            &[Role::BrandOperator, Role::BrandAnalyst],
            "reach previews",
        )?;
        let benefit = benefits::get(
            db(ctx)?,
            principal.brand_scope(),
            self::benefit_id(&benefit_id)?,
        )
        .await?;
        let question = reach::question(&benefit.current, population.into())
            .map_err(|e| ApiError::new(ErrorCode::BadUserInput, e.to_string()))?;
        Ok(
            segments::ask(db(ctx)?, privacy_settings(ctx)?, brand, &question)
                .await?
                .into(),
        )
    }

    /// A live benefit's usage: redemptions and the usage rate the
    /// retirement policy judges (brand roles, their own benefits).
    async fn benefit_usage(
        &self,
        ctx: &Context<'_>,
        benefit_id: ID,
    ) -> Result<BenefitUsage, ApiError> {
        let principal = principal(ctx)?;
        let brand = own_brand(
            principal,
            &[Role::BrandOperator, Role::BrandAnalyst],
            "benefit usage",
        )?;
        let db = db(ctx)?;
        let benefit =
            benefits::get(db, principal.brand_scope(), self::benefit_id(&benefit_id)?).await?;
        let definition = benefit.live.as_ref().unwrap_or(&benefit.current);
        let question = reach::question(definition, segments::Population::Platform)
            .map_err(|e| ApiError::new(ErrorCode::BadUserInput, e.to_string()))?;
        let answer = segments::ask(db, privacy_settings(ctx)?, brand, &question).await?;
        let redeemers = due::unique_redeemers(db, benefit.row.id).await?;
        let eligible = answer.shown_members;
        Ok(BenefitUsage {
            redemptions: benefit.row.redemptions,
            unique_redeemers: redeemers,
            spent_cents: benefit.row.spent_cents,
            eligible_members: eligible,
            usage_rate: (eligible > 0).then(|| redeemers as f64 / eligible as f64),
            policy_min_usage_rate: due::MIN_USAGE_RATE,
            reach: answer.into(),
        })
    }

    /// Renewal rate of paid members who used the benefit against eligible
    /// paid members who did not (brand roles, their own benefits; noisy,
    /// budgeted, the same answer again until new redemptions).
    async fn benefit_renewal(
        &self,
        ctx: &Context<'_>,
        benefit_id: ID,
    ) -> Result<RenewalComparison, ApiError> {
        let principal = principal(ctx)?;
        let brand = own_brand(
            principal,
            &[Role::BrandOperator, Role::BrandAnalyst],
            "renewal analytics",
        )?;
        let db = db(ctx)?;
        let benefit =
            benefits::get(db, principal.brand_scope(), self::benefit_id(&benefit_id)?).await?;
        let answer =
            renewal::renewal(db, privacy_settings(ctx)?, brand, &benefit, Utc::now()).await?;
        Ok(RenewalComparison {
            used: answer.used.into(),
            did_not_use: answer.not_used.into(),
            epsilon_spent: answer.epsilon_spent_micros as f64 / 1e6,
            noise_scale: answer.noise.scale,
            interval95: answer.noise.interval95,
            budget: answer.budget.into(),
        })
    }

    /// The caller's brand's member centre, every tier (brand roles).
    async fn member_centre(&self, ctx: &Context<'_>) -> Result<Vec<MemberCentreTier>, ApiError> {
        let brand = own_brand(
            principal(ctx)?,
            &[Role::BrandOperator, Role::BrandAnalyst],
            "member centres",
        )?;
        Ok(centre_tiers(centre::get(db(ctx)?, brand).await?))
    }

    /// What each programme cell sees in the caller's brand's member centre
    /// (brand roles).
    async fn member_centre_preview(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<MemberCentreCell>, ApiError> {
        let brand = own_brand(
            principal(ctx)?,
            &[Role::BrandOperator, Role::BrandAnalyst],
            "member centres",
        )?;
        Ok(centre::preview(db(ctx)?, brand)
            .await?
            .into_iter()
            .map(|view| MemberCentreCell {
                tier: view.cell.tier.into(),
                paid_member: view.cell.paid,
                black_card: view.cell.black_card,
                shown: view
                    .shown
                    .into_iter()
                    .map(|(id, value)| AppliedBenefit {
                        benefit_id: gid(id),
                        value,
                        upgraded: false,
                        partial_on: Vec::new(),
                    })
                    .collect(),
                hidden: view.hidden.into_iter().map(gid).collect(),
            })
            .collect())
    }

    /// Federation entity lookup, batched; the same roles as `benefit(id)`,
    /// and `null` (with a `NOT_FOUND` error at its index) for a benefit the
    /// caller does not see.
    #[graphql(entity)]
    async fn find_benefit_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<Option<Benefit>, ApiError> {
        require(principal(ctx)?, READERS, "reading benefits")?;
        Ok(super::entities::load(&loaders(ctx)?.benefits, &id)
            .await?
            .map(Benefit::from))
    }
}

/// Benefit mutations.
#[derive(Default)]
pub struct BenefitMutation;

impl BenefitMutation {
    async fn lifecycle(
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
}

#[Object]
impl BenefitMutation {
    /// Drafts a benefit for the caller's brand (BRAND_OPERATOR).
    async fn create_benefit(
        &self,
        ctx: &Context<'_>,
        input: BenefitInput,
    ) -> Result<BenefitPayload, ApiError> {
        let principal = principal(ctx)?;
        require(principal, OPERATOR, CONFIGURING)?;
        let brand = principal
            .brand_id
            .ok_or_else(|| ApiError::new(ErrorCode::Forbidden, "this credential has no brand"))?;
        payload(benefits::create(db(ctx)?, &Caller::now(principal), brand, &input.into()).await)
    }

    /// Writes a new revision (BRAND_OPERATOR). A live benefit keeps its live
    /// revision until a reviewer approves the new one.
    async fn edit_benefit(
        &self,
        ctx: &Context<'_>,
        benefit_id: ID,
        expected_version: i32,
        input: BenefitInput,
    ) -> Result<BenefitPayload, ApiError> {
        let principal = principal(ctx)?;
        require(principal, OPERATOR, CONFIGURING)?;
        let id = self::benefit_id(&benefit_id)?;
        payload(
            benefits::edit(
                db(ctx)?,
                &Caller::now(principal),
                id,
                expected_version,
                &input.into(),
            )
            .await,
        )
    }

    /// Moves a benefit through its lifecycle (BRAND_OPERATOR; ADMIN may
    /// also retire): SUBMIT a draft for review, PAUSE an active one,
    /// RESUME a paused one (also the brand's appeal against a low-usage
    /// pause), END it, or RETIRE it for good.
    async fn transition_benefit(
        &self,
        ctx: &Context<'_>,
        benefit_id: ID,
        expected_version: i32,
        action: BenefitTransition,
        note: Option<String>,
    ) -> Result<BenefitPayload, ApiError> {
        let roles: &[Role] = match action {
            BenefitTransition::Retire => &[Role::BrandOperator, Role::Admin],
            _ => OPERATOR,
        };
        Self::lifecycle(
            ctx,
            roles,
            &benefit_id,
            expected_version,
            action.into(),
            note,
        )
        .await
    }

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
        Self::lifecycle(
            ctx,
            &[Role::Reviewer],
            &benefit_id,
            expected_version,
            action,
            note,
        )
        .await
    }

    /// Sets the ordered benefits the caller's store shows to members of one
    /// tier (BRAND_OPERATOR). Each must be the brand's, live, and able to
    /// reach that tier.
    async fn set_member_centre(
        &self,
        ctx: &Context<'_>,
        tier: GrowthTier,
        benefit_ids: Vec<ID>,
    ) -> Result<MemberCentrePayload, ApiError> {
        let brand = own_brand(principal(ctx)?, OPERATOR, CONFIGURING)?;
        let ids = benefit_ids
            .iter()
            .map(benefit_id)
            .collect::<Result<Vec<_>, _>>()?;
        let result = centre::set(db(ctx)?, brand, tier.into(), &ids).await;
        let (centre, user_errors) = outcome(result, |_| "benefitIds".to_owned())?;
        Ok(MemberCentrePayload {
            tiers: centre.map(centre_tiers),
            user_errors,
        })
    }

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
