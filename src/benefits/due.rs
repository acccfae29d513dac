//! The benefits' scheduled side, run by `brand-gateway run-due` and the
//! server's schedule: approved benefits go ACTIVE at their start, live ones
//! END at their end, and the usage policy ("survival of the fittest")
//! flags an under-used benefit, pauses it after a notice period, and
//! retires it after another unless the brand resumes it (its appeal, which
//! buys a new grace period). Each step is version-checked and time-gated,
//! so a second run at the same instant does nothing.

use chrono::{DateTime, Duration, Utc};
use entity::{benefit, checkout_order, enums::BenefitState as State, member, redemption};
use sea_orm::{
    ColumnTrait as _, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait as _,
    PaginatorTrait as _, QueryFilter as _, QuerySelect as _,
    sea_query::{Expr, ExprTrait as _, Func, Query},
};

use super::{
    Benefit, BenefitError, Change, EventAction,
    budget::Used,
    commit,
    definition::{Definition, Kind},
    load_many,
    usage_policy::{self, UsagePolicy, UsageThresholds},
};
use crate::{
    auth::{BrandScope, Caller},
    onboarding::due::SCHEDULER,
    standing::{self, Conduct},
};

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DueReport {
    /// Approved benefits whose start came.
    pub activated: u32,
    /// Benefits past their end.
    pub ended: u32,
    /// Under-used benefits flagged.
    pub flagged: u32,
    /// Flagged benefits paused after the notice.
    pub paused: u32,
    /// Policy-paused benefits retired after the notice.
    pub retired: u32,
    /// Steps another writer got to first.
    pub skipped: u32,
}

/// How the usage policy measures a benefit's use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageMeasure {
    /// A capacity-bound event: places taken ÷ places.
    FillRate,
    /// Of the members it targets who bought from the store in the
    /// policy's period, the share who used it then.
    BuyerUse,
}

impl UsageMeasure {
    /// The measure of a kind.
    pub(crate) fn of(kind: &Kind) -> Self {
        match kind {
            Kind::OfflineExperience { .. } => Self::FillRate,
            _ => Self::BuyerUse,
        }
    }

    /// The least rate the policy keeps a benefit at.
    pub(crate) fn minimum(self, policy: &UsageThresholds) -> f64 {
        match self {
            Self::FillRate => policy.min_fill_rate,
            Self::BuyerUse => policy.min_buyer_use,
        }
    }
}

/// A capacity-bound event's fill rate from its own counters (no member
/// count involved, so the brand sees it exactly).
pub(crate) fn fill_rate(definition: &Definition, used: Used) -> Option<f64> {
    match &definition.kind {
        Kind::OfflineExperience { capacity, .. } if *capacity > 0 => {
            Some(used.redemptions as f64 / *capacity as f64)
        }
        _ => None,
    }
}

/// When the usage policy's next steps fall for a benefit, from its row:
/// a flagged benefit is paused the policy's notice days after its flag (or
/// when its grace ends, if later), a paused one retired the notice days
/// after its pause. The due run takes these steps by these dates, and the brand is
/// shown the same dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PolicyDates {
    /// Flagged as under-used.
    pub flagged_at: Option<DateTime<Utc>>,
    /// When it will be paused unless usage recovers.
    pub pauses_at: Option<DateTime<Utc>>,
    /// Paused by the policy.
    pub paused_at: Option<DateTime<Utc>>,
    /// When it retires unless the brand resumes it.
    pub retires_at: Option<DateTime<Utc>>,
    /// The policy leaves it alone until then (after going live, or an
    /// appeal by resuming).
    pub grace_until: Option<DateTime<Utc>>,
}

impl PolicyDates {
    /// The dates of a benefit row.
    pub(crate) fn of(row: &benefit::Model, policy: &UsageThresholds) -> Self {
        let notice = Duration::days(policy.notice_days);
        let paused = row.state == State::Paused;
        Self {
            flagged_at: row.flagged_at,
            pauses_at: row
                .flagged_at
                .filter(|_| row.state == State::Active)
                .map(|at| Ord::max(at + notice, row.grace_until.unwrap_or(at))),
            paused_at: row.policy_paused_at.filter(|_| paused),
            retires_at: row
                .policy_paused_at
                .filter(|_| paused)
                .map(|at| at + notice),
            grace_until: row.grace_until.or(row
                .activated_at
                .map(|at| at + Duration::days(policy.grace_days))),
        }
    }
}

/// The platform members a definition reaches, as a query to narrow further.
pub(crate) fn eligible(
    definition: &Definition,
    now: DateTime<Utc>,
) -> sea_orm::Select<member::Entity> {
    definition.audience().members(now)
}

/// The buyer-use counts of a benefit over the `period_days` before
/// `now`: the members it targets who bought from the store then (an order
/// not refunded, or a grant of any of the store's benefits) and could
/// still use it (not already at its lifetime per-member cap before the
/// period), and those of them it was granted to. Exact: the due run
/// judges by them; a brand sees them only released.
pub(crate) async fn buyer_use(
    db: &impl ConnectionTrait,
    b: &Benefit,
    definition: &Definition,
    period_days: i64,
    now: DateTime<Utc>,
) -> Result<[i64; 2], DbErr> {
    let since = now - Duration::days(period_days);
    let granted_in_period = || {
        Query::select()
            .column(redemption::Column::MemberId)
            .from(redemption::Entity)
            .and_where(redemption::Column::Granted.eq(true))
            .and_where(redemption::Column::RefundedAt.is_null())
            .and_where(redemption::Column::CreatedAt.gte(since))
            .take()
    };
    let granted = granted_in_period()
        .and_where(redemption::Column::BenefitId.eq(b.row.id))
        .take();
    let store_benefits = Query::select()
        .column(benefit::Column::Id)
        .from(benefit::Entity)
        .and_where(benefit::Column::BrandId.eq(b.row.brand_id))
        .take();
    let granted_any = granted_in_period()
        .and_where(redemption::Column::BenefitId.in_subquery(store_benefits))
        .take();
    let ordered = Query::select()
        .column(checkout_order::Column::MemberId)
        .from(checkout_order::Entity)
        .and_where(checkout_order::Column::BrandId.eq(b.row.brand_id))
        .and_where(checkout_order::Column::RefundedAt.is_null())
        .and_where(checkout_order::Column::CreatedAt.gte(since))
        .take();
    let mut buyers = eligible(definition, now).filter(
        Condition::any()
            .add(member::Column::Id.in_subquery(ordered))
            .add(member::Column::Id.in_subquery(granted_any)),
    );
    if let Some(cap) = definition.budget.per_member {
        let used_up = Query::select()
            .column(redemption::Column::MemberId)
            .from(redemption::Entity)
            .and_where(redemption::Column::BenefitId.eq(b.row.id))
            .and_where(redemption::Column::Granted.eq(true))
            .and_where(redemption::Column::RefundedAt.is_null())
            .and_where(redemption::Column::CreatedAt.lt(since))
            .group_by_col(redemption::Column::MemberId)
            .and_having(Expr::expr(Func::count(Expr::col(redemption::Column::Id))).gte(cap))
            .take();
        buyers = buyers.filter(member::Column::Id.not_in_subquery(used_up));
    }
    let buyers = buyers.count(db).await?;
    let used = eligible(definition, now)
        .filter(member::Column::Id.in_subquery(granted))
        .count(db)
        .await?;
    Ok([buyers, used].map(|n| i64::try_from(n).unwrap_or(i64::MAX)))
}

/// Distinct members granted the benefit.
pub(crate) async fn unique_redeemers(
    db: &impl ConnectionTrait,
    benefit_id: i64,
) -> Result<i64, DbErr> {
    Ok(redemption::Entity::find()
        .select_only()
        .column(redemption::Column::MemberId)
        .distinct()
        .filter(redemption::Column::BenefitId.eq(benefit_id))
        .filter(redemption::Column::Granted.eq(true))
        .filter(redemption::Column::RefundedAt.is_null())
        .count(db)
        .await?
        .try_into()
        .unwrap_or(i64::MAX))
}

fn scheduler(now: DateTime<Utc>) -> Caller {
    Caller {
        scope: BrandScope::All,
        subject: SCHEDULER.to_owned(),
        now,
    }
}

/// Runs every benefit step due at `now`.
pub(crate) async fn run(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<DueReport, BenefitError> {
    let mut report = DueReport::default();
    let rows = benefit::Entity::find()
        .filter(benefit::Column::State.is_in([State::Approved, State::Active, State::Paused]))
        .all(db)
        .await?;
    let caller = scheduler(now);
    let policy = usage_policy::current(db).await?;
    let statuses = standing::statuses(db, rows.iter().map(|r| r.brand_id)).await?;
    for b in load_many(db, rows).await? {
        // A brand out of standing gets no benefit live, not even at its
        // scheduled start; it waits, approved, for re-admission.
        let may_go_live = statuses
            .get(&b.row.brand_id)
            .is_some_and(|status| standing::permits(*status, Conduct::GoLive));
        let Some((action, change, note, counter)) =
            decide(db, &b, may_go_live, &policy, now).await?
        else {
            continue;
        };
        let result = commit(
            db,
            &b.row,
            action,
            change,
            (b.row.live_revision, Some(note)),
            async |_| Ok(()),
            &caller,
        )
        .await;
        match result {
            Ok(_) => *counter(&mut report) += 1,
            Err(BenefitError::Conflict { .. }) => report.skipped += 1,
            Err(error) => return Err(error),
        }
    }
    Ok(report)
}

type Counter = fn(&mut DueReport) -> &mut u32;

/// A due step: the event it records, the change, its note and the report
/// counter it adds to. Each step names its own action.
type Step = (EventAction, Change, String, Counter);

/// The one step due for a benefit now, if any.
async fn decide(
    db: &DatabaseConnection,
    b: &Benefit,
    may_go_live: bool,
    policy: &UsagePolicy,
    now: DateTime<Utc>,
) -> Result<Option<Step>, DbErr> {
    let t = &policy.thresholds;
    let Some(live) = &b.live else {
        return Ok(None);
    };
    let row = &b.row;
    if live.closes_at().is_some_and(|end| end <= now) {
        let change = Change {
            state: Some(State::Ended),
            ..Change::default()
        };
        let why = if live.schedule.ends_at.is_some_and(|end| end <= now) {
            "its schedule ended"
        } else {
            "its public launch came: nobody is early any more"
        };
        return Ok(Some((EventAction::End, change, why.to_owned(), |r| {
            &mut r.ended
        })));
    }
    match row.state {
        State::Approved if may_go_live && live.schedule.starts_at <= now => Ok(Some((
            EventAction::Activate,
            Change {
                state: Some(State::Active),
                activated_at: Some(now),
                ..Change::default()
            },
            "its schedule started".to_owned(),
            |r| &mut r.activated,
        ))),
        State::Paused
            if PolicyDates::of(row, t)
                .retires_at
                .is_some_and(|at| at <= now) =>
        {
            Ok(Some((
                EventAction::Retire,
                Change {
                    state: Some(State::Retired),
                    ..Change::default()
                },
                format!(
                    "retired for low usage: not resumed within {} days of its pause (usage policy v{})",
                    t.notice_days, policy.version
                ),
                |r| &mut r.retired,
            )))
        }
        State::Active => usage_step(db, b, live, policy, now).await,
        _ => Ok(None),
    }
}

/// The usage policy's step for an active benefit, if any.
async fn usage_step(
    db: &DatabaseConnection,
    b: &Benefit,
    live: &Definition,
    policy: &UsagePolicy,
    now: DateTime<Utc>,
) -> Result<Option<Step>, DbErr> {
    let (row, t) = (&b.row, &policy.thresholds);
    let watched = row
        .activated_at
        .is_some_and(|at| at <= now - Duration::days(t.grace_days))
        && row.grace_until.is_none_or(|until| until <= now);
    if !watched {
        return Ok(None);
    }
    let measure = UsageMeasure::of(&live.kind);
    let rate = match fill_rate(live, b.used) {
        Some(fill) => fill,
        None => {
            let [buyers, used] = buyer_use(db, b, live, t.period_days, now).await?;
            if buyers == 0 {
                // Nobody it targets bought from the store: nothing to
                // judge it by.
                return Ok(None);
            }
            used as f64 / buyers as f64
        }
    };
    let minimum = measure.minimum(t);
    // A sold-out benefit was used to the full: never flagged.
    let sold_out = super::redemption::sold_out(live, b.used);
    if sold_out || rate >= minimum {
        // Clearing the flag is recorded as FLAG too, as it always was; the
        // note says why.
        let why = if sold_out {
            "sold out: its budget is used up".to_owned()
        } else {
            format!(
                "usage recovered to the {:.1}% minimum of usage policy v{}",
                minimum * 100.0,
                policy.version
            )
        };
        return Ok(row.flagged_at.map(|_| {
            (
                EventAction::Flag,
                Change {
                    flagged_at: Some(None),
                    ..Change::default()
                },
                why,
                (|r: &mut DueReport| &mut r.flagged) as Counter,
            )
        }));
    }
    let usage = match measure {
        UsageMeasure::FillRate => format!(
            "{:.1}% of its places taken, under the {:.1}% minimum of usage policy v{}",
            rate * 100.0,
            minimum * 100.0,
            policy.version
        ),
        // The exact rate stays out of the note (the brand reads events):
        // benefitUsage shows it released through the privacy engine.
        UsageMeasure::BuyerUse => format!(
            "used by fewer than {:.1}% of the eligible members who bought from the store in the last {} days (the minimum of usage policy v{})",
            minimum * 100.0,
            t.period_days,
            policy.version
        ),
    };
    Ok(match row.flagged_at {
        None => Some((
            EventAction::Flag,
            Change {
                flagged_at: Some(Some(now)),
                ..Change::default()
            },
            format!(
                "{usage}; it will be paused on {} unless usage recovers",
                (now + Duration::days(t.notice_days)).to_rfc3339()
            ),
            |r| &mut r.flagged,
        )),
        Some(_)
            if PolicyDates::of(row, t)
                .pauses_at
                .is_some_and(|at| at <= now) =>
        {
            Some((
                EventAction::Pause,
                Change {
                    state: Some(State::Paused),
                    policy_paused_at: Some(Some(now)),
                    ..Change::default()
                },
                format!(
                    "{usage}; paused. Resume it by {} to appeal (a {}-day grace), or it retires",
                    (now + Duration::days(t.notice_days)).to_rfc3339(),
                    t.grace_days
                ),
                |r| &mut r.paused,
            ))
        }
        Some(_) => None,
    })
}
