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
    Benefit, BenefitError, Change, EventAction, commit, definition::Definition, load_many,
};
use crate::{
    auth::{BrandScope, Caller},
    onboarding::due::SCHEDULER,
    standing::{self, Conduct},
};

/// Least share of eligible members who must have used a benefit.
pub(crate) const MIN_USAGE_RATE: f64 = 0.001;
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

/// Members the targeting (and an interest service's interests) reaches on
/// the platform: an exact count for the platform's own decisions, never
/// shown to a brand.
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
        State::Paused
            if row
                .policy_paused_at
                .is_some_and(|at| at <= now - Duration::days(NOTICE_DAYS)) =>
        {
            Ok(Some((
                EventAction::Retire,
                Change {
                    state: Some(State::Retired),
                    ..Change::default()
                },
                format!(
                    "retired for low usage: not resumed within {NOTICE_DAYS} days of its pause"
                ),
                |r| &mut r.retired,
            )))
        }
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
    let eligible = eligible_members(db, live, now).await?;
    let redeemers = unique_redeemers(db, row.id).await?;
    let rate = if eligible == 0 {
        0.0
    } else {
        redeemers as f64 / eligible as f64
    };
    if rate >= MIN_USAGE_RATE {
        // Clearing the flag is recorded as FLAG too, as it always was; the
        // note says the usage recovered.
        return Ok(row.flagged_at.map(|_| {
            (
                EventAction::Flag,
                Change {
                    flagged_at: Some(None),
                    ..Change::default()
                },
                format!("usage recovered to {:.2}%", rate * 100.0),
                (|r: &mut DueReport| &mut r.flagged) as Counter,
            )
        }));
    }
    let usage = format!(
        "used by {:.3}% of eligible members, under the {:.1}% minimum",
        rate * 100.0,
        MIN_USAGE_RATE * 100.0
    );
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
        Some(flagged) if flagged <= now - Duration::days(NOTICE_DAYS) => Some((
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
