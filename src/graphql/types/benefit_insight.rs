//! What a brand learns about its benefits: the cell analysis, usage,
//! renewal, its member centre and its benefits day by day.

use async_graphql::{Enum, ID, SimpleObject};
use chrono::{DateTime, Utc};

use crate::graphql::types::audience::{Dimension as DimensionName, PrivacyBudget};
use crate::{
    benefits::{calendar, centre, renewal, signals, stacking, usage_policy},
    graphql::{UserError, ids::gid, scalars::Date},
    privacy::once,
};

use super::benefit::{Benefit, GrowthTier};

/// A benefit a cell gets.
#[derive(SimpleObject)]
pub(crate) struct AppliedBenefit {
    /// The benefit.
    pub(crate) benefit_id: ID,
    /// Its value in this cell.
    pub(crate) value: Option<i64>,
    /// The upgrade applies.
    pub(crate) upgraded: bool,
    /// Targeted dimensions on which only part of the cell matches: those
    /// the analysis does not split by, and INTEREST in a cell of members
    /// holding another interest (they may hold the targeted one too).
    pub(crate) partial_on: Vec<DimensionName>,
}

impl From<stacking::Applied> for AppliedBenefit {
    fn from(applied: stacking::Applied) -> Self {
        Self {
            benefit_id: gid(applied.id),
            value: applied.value,
            upgraded: applied.upgraded,
            partial_on: applied.partial.into_iter().map(Into::into).collect(),
        }
    }
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
pub(crate) struct OverriddenBenefit {
    /// The benefit.
    pub(crate) benefit_id: ID,
    /// What it lost to.
    pub(crate) by: ID,
    /// Why.
    pub(crate) reason: OverrideReason,
}

/// Two benefits whose rules contradict in a cell.
#[derive(SimpleObject)]
pub(crate) struct StackingConflict {
    /// The one that applies.
    pub(crate) kept: ID,
    /// The one that lost.
    pub(crate) lost: ID,
    /// In words.
    pub(crate) reason: String,
}

impl From<stacking::Conflict> for StackingConflict {
    fn from(c: stacking::Conflict) -> Self {
        Self {
            kept: gid(c.kept),
            lost: gid(c.lost),
            reason: c.reason,
        }
    }
}

/// A cell of the programme axes.
#[derive(SimpleObject)]
pub(crate) struct ProgrammeCell {
    /// Growth tier.
    pub(crate) tier: GrowthTier,
    /// Paid members.
    pub(crate) paid_member: bool,
    /// Black-card holders.
    pub(crate) black_card: bool,
}

impl From<stacking::Cell> for ProgrammeCell {
    fn from(cell: stacking::Cell) -> Self {
        Self {
            tier: cell.tier.into(),
            paid_member: cell.paid,
            black_card: cell.black_card,
        }
    }
}

/// A better-placed cell that gets less than the cell one step below it.
#[derive(SimpleObject)]
pub(crate) struct LosingCell {
    /// The cell that gets the benefit.
    pub(crate) lower: ProgrammeCell,
    /// The cell one step up (paid, black card, or the next tier) that does
    /// not get it, nor one of its kind worth as much.
    pub(crate) higher: ProgrammeCell,
    /// The benefit it loses.
    pub(crate) benefit_id: ID,
    /// What it loses to there; null when it is not targeted there.
    pub(crate) by: Option<ID>,
}

impl From<stacking::LosingCell> for LosingCell {
    fn from(l: stacking::LosingCell) -> Self {
        Self {
            lower: l.lower.into(),
            higher: l.higher.into(),
            benefit_id: gid(l.benefit_id),
            by: l.by.map(gid),
        }
    }
}

/// What a reviewer should see before deciding: computed by the checkout's
/// stacking over the brand's active benefits with this one as currently
/// written.
#[derive(SimpleObject)]
pub(crate) struct ReviewSignals {
    /// No member would get it, and why.
    pub(crate) dead: Option<DeadReason>,
    /// Stacking conflicts it takes part in.
    pub(crate) conflicts: Vec<StackingConflict>,
    /// Better-placed cells that would get less, because of it or losing it.
    pub(crate) losing_cells: Vec<LosingCell>,
    /// The most money it can grant in all, in fen; null when nothing
    /// bounds it (no money budget, and no redemption budget for a
    /// percentage).
    pub(crate) exposure_cents: Option<i64>,
}

impl From<signals::Signals> for ReviewSignals {
    fn from(s: signals::Signals) -> Self {
        Self {
            dead: s.dead.map(Into::into),
            conflicts: s.conflicts.into_iter().map(Into::into).collect(),
            losing_cells: s.losing_cells.into_iter().map(Into::into).collect(),
            exposure_cents: s.exposure_cents,
        }
    }
}

/// One value of an extra dimension.
#[derive(SimpleObject)]
pub(crate) struct CellValue {
    /// The dimension.
    pub(crate) dimension: DimensionName,
    /// Its value code.
    pub(crate) value: String,
}

/// What members of one cell get.
#[derive(SimpleObject)]
pub(crate) struct BenefitCell {
    /// Growth tier.
    pub(crate) tier: GrowthTier,
    /// Paid members.
    pub(crate) paid_member: bool,
    /// Black-card holders.
    pub(crate) black_card: bool,
    /// Values of the extra dimensions.
    pub(crate) extras: Vec<CellValue>,
    /// The benefits that apply, highest priority first.
    pub(crate) applied: Vec<AppliedBenefit>,
    /// Those that match but lose.
    pub(crate) overridden: Vec<OverriddenBenefit>,
    /// Contradicting rules.
    pub(crate) conflicts: Vec<StackingConflict>,
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
pub(crate) struct DeadBenefit {
    /// The benefit.
    pub(crate) benefit_id: ID,
    /// Why.
    pub(crate) reason: DeadReason,
}

/// Every cell's effective benefits.
#[derive(SimpleObject)]
pub(crate) struct CellAnalysis {
    /// One entry per cell.
    pub(crate) cells: Vec<BenefitCell>,
    /// Benefits no cell gets.
    pub(crate) dead: Vec<DeadBenefit>,
    /// Warnings: better-placed cells (paid over free, black card over
    /// none, the next tier) that get less than the cell one step below.
    pub(crate) losing_cells: Vec<LosingCell>,
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
                    applied: o.applied.into_iter().map(AppliedBenefit::from).collect(),
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
                        .map(StackingConflict::from)
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
            losing_cells: a.losing.into_iter().map(Into::into).collect(),
        }
    }
}

/// How much a benefit is used. Redemptions are the brand's own
/// transactions; the buyer counts behind the usage rate leave through the
/// privacy engine (noisy, budgeted, the same answer all day until new
/// redemptions).
#[derive(SimpleObject)]
pub(crate) struct BenefitUsage {
    /// Redemptions granted.
    pub(crate) redemptions: i64,
    /// Distinct members granted it.
    pub(crate) unique_redeemers: i64,
    /// Money granted, in fen.
    pub(crate) spent_cents: i64,
    /// How the rate is measured for this kind.
    pub(crate) measure: UsageMeasure,
    /// BUYER_USE: the members it targets who bought from the store in the
    /// policy's period (noisy); null when under the minimum cell size, and
    /// for FILL_RATE.
    pub(crate) eligible_buyers: Option<i64>,
    /// BUYER_USE: of them, the ones it was granted to in the period
    /// (noisy, at most `eligibleBuyers`).
    pub(crate) buyers_granted: Option<i64>,
    /// The rate the usage policy judges: places taken ÷ places, or
    /// `buyersGranted ÷ eligibleBuyers`; null while suppressed.
    pub(crate) usage_rate: Option<f64>,
    /// The least rate the policy in force keeps a benefit of this kind at.
    pub(crate) policy_min_usage_rate: f64,
    /// The usage policy version in force.
    pub(crate) policy_version: i32,
    /// The period buyer use is measured over, in days.
    pub(crate) period_days: i64,
    /// Its budget is used up: the usage policy does not judge it.
    pub(crate) sold_out: bool,
    /// When the usage policy flagged it as under-used.
    pub(crate) flagged_at: Option<DateTime<Utc>>,
    /// When it will be paused unless usage recovers.
    pub(crate) pauses_at: Option<DateTime<Utc>>,
    /// When the policy paused it.
    pub(crate) policy_paused_at: Option<DateTime<Utc>>,
    /// When it retires unless the brand resumes it (its appeal).
    pub(crate) retires_at: Option<DateTime<Utc>>,
    /// The policy leaves it alone until then.
    pub(crate) grace_until: Option<DateTime<Utc>>,
    /// How the buyer counts were released; null for FILL_RATE (it counts
    /// places, not members).
    pub(crate) release: Option<CountsRelease>,
}

/// How a table of counts was released by the privacy engine.
#[derive(SimpleObject)]
pub(crate) struct CountsRelease {
    /// ε this request spent; 0 when served again.
    pub(crate) epsilon_spent: f64,
    /// Discrete Laplace scale on each count (Δ/ε).
    pub(crate) noise_scale: f64,
    /// 95% of counts are within this much of the truth.
    pub(crate) interval95: i64,
    /// Your budget after this request.
    pub(crate) budget: PrivacyBudget,
}

impl From<once::Released> for CountsRelease {
    fn from(r: once::Released) -> Self {
        Self {
            epsilon_spent: r.epsilon_spent_micros as f64 / 1e6,
            noise_scale: r.noise.scale,
            interval95: r.noise.interval95,
            budget: r.budget.into(),
        }
    }
}

/// How the usage policy measures a benefit's use.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::benefits::due::UsageMeasure")]
pub enum UsageMeasure {
    /// A capacity-bound event: places taken ÷ places (exact; a sold-out
    /// event is never flagged).
    FillRate,
    /// Of the members it targets who bought from the store in the policy's
    /// period, the share it was granted to (a period without such buyers
    /// is not judged).
    BuyerUse,
}

/// The usage policy in force: versioned, the built-in defaults are
/// version 0.
#[derive(SimpleObject)]
pub(crate) struct UsagePolicy {
    /// The version.
    pub(crate) version: i32,
    /// Least share of its places a capacity-bound event must fill.
    pub(crate) min_fill_rate: f64,
    /// Least buyer use of every other kind.
    pub(crate) min_buyer_use: f64,
    /// The period buyer use is measured over, in days.
    pub(crate) period_days: i64,
    /// Days a benefit is live (or resumed, its appeal) before it is judged.
    pub(crate) grace_days: i64,
    /// Days from a flag to the pause, and from the pause to retirement.
    pub(crate) notice_days: i64,
    /// Who set it (`default` for version 0).
    pub(crate) created_by: String,
    /// When it was set; null for the default.
    pub(crate) created_at: Option<DateTime<Utc>>,
}

impl From<usage_policy::UsagePolicy> for UsagePolicy {
    fn from(p: usage_policy::UsagePolicy) -> Self {
        let t = p.thresholds;
        Self {
            version: p.version,
            min_fill_rate: t.min_fill_rate,
            min_buyer_use: t.min_buyer_use,
            period_days: t.period_days,
            grace_days: t.grace_days,
            notice_days: t.notice_days,
            created_by: p.created_by,
            created_at: p.created_at,
        }
    }
}

/// One group's renewal decisions (noisy; null when under the minimum cell size).
#[derive(SimpleObject)]
pub(crate) struct RenewalGroup {
    /// Renewal decisions.
    pub(crate) decisions: Option<i64>,
    /// Renewals.
    pub(crate) renewed: Option<i64>,
    /// Renewals ÷ decisions.
    pub(crate) rate: Option<f64>,
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
pub(crate) struct RenewalComparison {
    /// Paid members granted the benefit.
    pub(crate) used: RenewalGroup,
    /// Eligible paid members never granted it.
    pub(crate) did_not_use: RenewalGroup,
    /// ε this request spent; 0 when served again (until new redemptions).
    pub(crate) epsilon_spent: f64,
    /// Discrete Laplace scale on the four counts (Δ/ε, Δ = 2).
    pub(crate) noise_scale: f64,
    /// 95% of counts are within this much of the truth.
    pub(crate) interval95: i64,
    /// Your budget after this request.
    pub(crate) budget: PrivacyBudget,
}

/// One tier of a member centre.
#[derive(SimpleObject)]
pub(crate) struct MemberCentreTier {
    /// The tier.
    pub(crate) tier: GrowthTier,
    /// Its benefits, in display order.
    pub(crate) benefit_ids: Vec<ID>,
}

/// What one programme cell sees in the member centre.
#[derive(SimpleObject)]
pub(crate) struct MemberCentreCell {
    /// Growth tier.
    pub(crate) tier: GrowthTier,
    /// Paid members.
    pub(crate) paid_member: bool,
    /// Black-card holders.
    pub(crate) black_card: bool,
    /// Centre benefits shown (active and applying after stacking), in order.
    pub(crate) shown: Vec<AppliedBenefit>,
    /// Centre benefits of the tier that this cell does not get.
    pub(crate) hidden: Vec<ID>,
}

/// The result of `setMemberCentre`.
#[derive(SimpleObject)]
pub(crate) struct MemberCentrePayload {
    /// Every tier after the change.
    pub(crate) tiers: Option<Vec<MemberCentreTier>>,
    /// Why it was refused.
    pub(crate) user_errors: Vec<UserError>,
}

pub(crate) fn centre_tiers(centre: centre::Centre) -> Vec<MemberCentreTier> {
    centre
        .into_iter()
        .map(|(tier, ids)| MemberCentreTier {
            tier: tier.into(),
            benefit_ids: ids.into_iter().map(gid).collect(),
        })
        .collect()
}

/// What a calendar entry marks.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::benefits::calendar::Occasion")]
pub(crate) enum CalendarOccasion {
    /// The benefit's schedule: it grants then, while ACTIVE (not for
    /// early access, which grants only in its early hours).
    Runs,
    /// Early access's hours before the public launch, within its
    /// schedule: when it grants.
    EarlyAccess,
    /// An offline experience's slot.
    Experience,
}

/// One window of one benefit on the calendar.
#[derive(SimpleObject)]
pub(crate) struct CalendarEntry {
    /// The benefit (its state says whether it grants yet).
    pub(crate) benefit: Benefit,
    /// What the window is.
    pub(crate) occasion: CalendarOccasion,
    /// When the window opens.
    pub(crate) starts_at: DateTime<Utc>,
    /// When it closes; null when it runs until ended.
    pub(crate) ends_at: Option<DateTime<Utc>>,
    /// The days of the asked range it touches (Asia/Shanghai), in order.
    pub(crate) days: Vec<Date>,
}

impl From<calendar::Entry<'_>> for CalendarEntry {
    fn from(entry: calendar::Entry<'_>) -> Self {
        Self {
            benefit: entry.benefit.clone().into(),
            occasion: entry.occasion.into(),
            starts_at: entry.window.starts_at,
            ends_at: entry.window.ends_at,
            days: entry.days.into_iter().map(Date).collect(),
        }
    }
}

/// One day's redemptions of a benefit.
#[derive(SimpleObject)]
pub(crate) struct RedemptionDay {
    /// The day (Asia/Shanghai).
    pub(crate) date: Date,
    /// Redemptions granted that day that still count (a refund releases
    /// one): over every day, the benefit's `redemptions`.
    pub(crate) redemptions: i64,
    /// Money granted that day less what refunds gave back, in fen.
    pub(crate) spent_cents: i64,
}

impl From<calendar::DayRedemptions> for RedemptionDay {
    fn from(day: calendar::DayRedemptions) -> Self {
        Self {
            date: Date(day.date),
            redemptions: day.redemptions,
            spent_cents: day.spent_cents,
        }
    }
}
