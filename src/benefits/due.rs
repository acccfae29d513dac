//! The benefits' scheduled side, run by `brand-gateway run-due` and the
//! server's schedule: approved benefits go ACTIVE at their start, live ones
//! END at their end, and the usage policy ("survival of the fittest")
//! flags an under-used benefit, pauses it after a notice period, and
//! retires it after another unless the brand resumes it (its appeal, which
//! buys a new grace period). Each step is version-checked and time-gated,
//! so a second run at the same instant does nothing.

use chrono::{DateTime, Duration, Utc};
use entity::{benefit, enums::BenefitState as State, member, redemption};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait as _,
    PaginatorTrait as _, QueryFilter as _, QuerySelect as _,
};

use super::{
    Benefit, BenefitError, Change, EventAction, commit,
    definition::{Definition, Kind},
    load_many,
};
use crate::{
    auth::{BrandScope, Caller},
    onboarding::due::SCHEDULER,
    standing::{self, Conduct},
};

/// Least share of eligible members who must have used a benefit.
pub(crate) const MIN_USAGE_RATE: f64 = 0.001;
/// Least share of its places a capacity-bound event must have filled.
pub(crate) const MIN_FILL_RATE: f64 = 0.2;
/// Days a benefit is live before the usage policy looks at it (and the
/// grace an appeal buys).
pub(crate) const GRACE_DAYS: i64 = 30;
/// Days between a flag and the pause, and between the pause and retirement.
pub(crate) const NOTICE_DAYS: i64 = 7;

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
    /// Distinct redeemers ÷ the platform members it targets.
    EligibleUse,
}

impl UsageMeasure {
    /// The measure of a kind.
    pub(crate) fn of(kind: &Kind) -> Self {
        match kind {
            Kind::OfflineExperience { .. } => Self::FillRate,
            _ => Self::EligibleUse,
        }
    }

    /// The least rate the policy keeps a benefit at.
    pub(crate) fn minimum(self) -> f64 {
        match self {
            Self::FillRate => MIN_FILL_RATE,
            Self::EligibleUse => MIN_USAGE_RATE,
        }
    }
}

/// A capacity-bound event's fill rate from its own counters (no member
/// count involved, so the brand sees it exactly).
pub(crate) fn fill_rate(definition: &Definition, row: &benefit::Model) -> Option<f64> {
    match &definition.kind {
        Kind::OfflineExperience { capacity, .. } if *capacity > 0 => {
            Some(row.redemptions as f64 / *capacity as f64)
        }
        _ => None,
    }
}

/// When the usage policy's next steps fall for a benefit, from its row:
/// a flagged benefit is paused `NOTICE_DAYS` after its flag (or when its
/// grace ends, if later), a paused one retired `NOTICE_DAYS` after its
/// pause. The due run takes these steps by these dates, and the brand is
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
    pub(crate) fn of(row: &benefit::Model) -> Self {
        let notice = Duration::days(NOTICE_DAYS);
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
            grace_until: row
                .grace_until
                .or(row.activated_at.map(|at| at + Duration::days(GRACE_DAYS))),
        }
    }
}

/// Members the definition's audience reaches on the platform: an exact
/// count for the platform's own decisions, never shown to a brand.
pub(crate) async fn eligible_members(
    db: &impl ConnectionTrait,
    definition: &Definition,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    eligible(definition, now).count(db).await
}

/// The platform members a definition reaches, as a query to narrow further.
pub(crate) fn eligible(
    definition: &Definition,
    now: DateTime<Utc>,
) -> sea_orm::Select<member::Entity> {
    definition.audience().members(now)
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
    let statuses = standing::statuses(db, rows.iter().map(|r| r.brand_id)).await?;
    for b in load_many(db, rows).await? {
        // A brand out of standing gets no benefit live, not even at its
        // scheduled start; it waits, approved, for re-admission.
        let may_go_live = statuses
            .get(&b.row.brand_id)
            .is_some_and(|status| standing::permits(*status, Conduct::GoLive));
        let Some((action, change, note, counter)) = decide(db, &b, may_go_live, now).await? else {
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
    now: DateTime<Utc>,
) -> Result<Option<Step>, DbErr> {
    let Some(live) = &b.live else {
        return Ok(None);
    };
    let row = &b.row;
    if live.schedule.ends_at.is_some_and(|end| end <= now) {
        let change = Change {
            state: Some(State::Ended),
            ..Change::default()
        };
        return Ok(Some((
            EventAction::End,
            change,
            "its schedule ended".to_owned(),
            |r| &mut r.ended,
        )));
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
        State::Paused if PolicyDates::of(row).retires_at.is_some_and(|at| at <= now) => Ok(Some((
            EventAction::Retire,
            Change {
                state: Some(State::Retired),
                ..Change::default()
            },
            format!("retired for low usage: not resumed within {NOTICE_DAYS} days of its pause"),
            |r| &mut r.retired,
        ))),
        State::Active => usage_step(db, b, live, now).await,
        _ => Ok(None),
    }
}

/// The usage policy's step for an active benefit, if any.
async fn usage_step(
    db: &DatabaseConnection,
    b: &Benefit,
    live: &Definition,
    now: DateTime<Utc>,
) -> Result<Option<Step>, DbErr> {
    let row = &b.row;
    let watched = row
        .activated_at
        .is_some_and(|at| at <= now - Duration::days(GRACE_DAYS))
        && row.grace_until.is_none_or(|until| until <= now);
    if !watched {
        return Ok(None);
    }
    let measure = UsageMeasure::of(&live.kind);
    let rate = match fill_rate(live, row) {
        Some(fill) => fill,
        None => {
            let eligible = eligible_members(db, live, now).await?;
            let redeemers = unique_redeemers(db, row.id).await?;
            if eligible == 0 {
                0.0
            } else {
                redeemers as f64 / eligible as f64
            }
        }
    };
    let minimum = measure.minimum();
    // A sold-out benefit was used to the full: never flagged.
    let sold_out = super::redemption::sold_out(live, row);
    if sold_out || rate >= minimum {
        // Clearing the flag is recorded as FLAG too, as it always was; the
        // note says why.
        let why = if sold_out {
            "sold out: its budget is used up".to_owned()
        } else {
            format!("usage recovered to {:.2}%", rate * 100.0)
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
            "{:.1}% of its places taken, under the {:.0}% minimum",
            rate * 100.0,
            minimum * 100.0
        ),
        UsageMeasure::EligibleUse => format!(
            "used by {:.3}% of eligible members, under the {:.1}% minimum",
            rate * 100.0,
            minimum * 100.0
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
                (now + Duration::days(NOTICE_DAYS)).to_rfc3339()
            ),
            |r| &mut r.flagged,
        )),
        Some(_) if PolicyDates::of(row).pauses_at.is_some_and(|at| at <= now) => Some((
            EventAction::Pause,
            Change {
                state: Some(State::Paused),
                policy_paused_at: Some(Some(now)),
                ..Change::default()
            },
            format!(
                "{usage}; paused. Resume it by {} to appeal (a {GRACE_DAYS}-day grace), or it retires",
                (now + Duration::days(NOTICE_DAYS)).to_rfc3339()
            ),
            |r| &mut r.paused,
        )),
        Some(_) => None,
    })
}
