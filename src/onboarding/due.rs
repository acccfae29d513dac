//! The scheduled side of the workflow: expiries, re-evaluations at their
//! date (quarterly, probation end, watchlist deadline) and warnings 30 days
//! before a deadline. Idempotent: a second run at the same instant finds
//! nothing to do, and two concurrent runs cannot apply one step twice (each
//! step is version-checked; the loser skips it).

use chrono::{DateTime, Duration, Utc};
use entity::{
    application, application_condition as condition, application_document as document, brand,
    enums::{ApplicationState as State, ConditionState, DocumentState},
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait as _, DatabaseConnection, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    TransactionTrait as _,
    sea_query::{Expr, ExprTrait as _, SimpleExpr},
};

use super::{
    Action, OnboardingError, ReasonCode, Step, commit, conditions, documents, mark, reevaluate_row,
    rules,
};
use crate::{auth::BrandScope, criteria::risk, platform::business_day};

/// The actor due steps are recorded under.
pub const SCHEDULER: &str = "scheduler";

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DueReport {
    /// NEEDS_INFO applications expired.
    pub expired: u32,
    /// Conditions past their deadline without evidence, marked missed
    /// (each re-evaluating its brand).
    pub conditions_missed: u32,
    /// Admitted brands re-evaluated (of which some moved).
    pub reevaluated: u32,
    /// Brands suspended after a missed watchlist deadline.
    pub suspended: u32,
    /// Warnings recorded.
    pub warned: u32,
    /// Steps another writer got to first.
    pub skipped: u32,
}

/// Runs every step due at `now`.
pub async fn run(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<DueReport, OnboardingError> {
    let mut report = DueReport {
        conditions_missed: conditions::miss_overdue(db, SCHEDULER, now).await?,
        ..DueReport::default()
    };
    let due = application::Entity::find()
        .filter(application::Column::DueAt.lte(now))
        .filter(application::Column::State.is_in([
            State::NeedsInfo,
            State::Approved,
            State::ApprovedWithConditions,
            State::Watchlist,
        ]))
        .order_by_asc(application::Column::Id)
        .all(db)
        .await?;
    for current in due {
        let result = if current.state == State::NeedsInfo {
            let mut step = Step::to(Action::Expire, State::Expired);
            step.note = Some("no answer before the deadline".to_owned());
            commit(db, &current, vec![step], Default::default(), SCHEDULER, now).await
        } else {
            reevaluate_row(db, &current, &[], SCHEDULER, now).await
        };
        match result {
            Ok(after) => match after.state {
                State::Expired => report.expired += 1,
                State::Suspended => {
                    report.reevaluated += 1;
                    report.suspended += 1;
                }
                _ => report.reevaluated += 1,
            },
            Err(OnboardingError::Conflict { .. }) => report.skipped += 1,
            Err(error) => return Err(error),
        }
    }
    report.warned =
        warn(db, now).await? + warn_documents(db, now).await? + warn_conditions(db, now).await?;
    Ok(report)
}

/// Records one warning per deadline that is [`rules::WARNING_DAYS`] away or
/// less. The warned deadline is kept on the row, so a deadline is warned
/// about once; warnings do not bump the version (they change no state).
async fn warn(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u32, OnboardingError> {
    let horizon = now + Duration::days(rules::WARNING_DAYS);
    let candidates = application::Entity::find()
        .filter(application::Column::DueAt.gt(now))
        .filter(application::Column::DueAt.lte(horizon))
        .filter(application::Column::State.is_in(Action::Warn.source_states().to_vec()))
        .order_by_asc(application::Column::Id)
        .all(db)
        .await?;
    let mut warned = 0;
    for current in candidates {
        let Some(due_at) = current
            .due_at
            .filter(|due| current.warned_due_at != Some(*due))
        else {
            continue;
        };
        // An admitted brand's warning says whether it would fail today; a
        // measuring failure leaves the verdict out, never the warning.
        let admitted = rules::brand_status(current.state).is_some();
        let brand = if admitted {
            brand::Entity::find_by_id(current.brand_id).one(db).await?
        } else {
            None
        };
        let today = match brand {
            Some(brand) => match risk::failing_today(db, &brand, business_day(now)).await {
                Ok(today) => Some(today),
                Err(error) => {
                    tracing::warn!(%error, brand = brand.id, "warning without today's verdict");
                    None
                }
            },
            None => None,
        };
        let txn = db.begin().await?;
        let marked = application::Entity::update_many()
            .set(application::ActiveModel {
                warned_due_at: Set(Some(due_at)),
                ..Default::default()
            })
            .filter(application::Column::Id.eq(current.id))
            .filter(application::Column::Version.eq(current.version))
            .filter(not_yet_warned(
                application::Column::WarnedDueAt,
                application::Column::DueAt,
            ))
            .exec(&txn)
            .await?;
        if marked.rows_affected == 0 {
            continue;
        }
        let kind = rules::due_kind(current.state).map_or("deadline", rules::DueKind::describe);
        let mut step = Step::to(Action::Warn, current.state).due(due_at);
        let verdict = match &today {
            None => String::new(),
            Some((version, failing)) if failing.is_empty() => {
                format!("; passes policy version {version} today")
            }
            // The brand reads this note (and its webhooks get it): the
            // reasons, never measured values a brand may not see.
            Some((version, failing)) => {
                step.reasons = failing
                    .iter()
                    .map(|v| ReasonCode::failing(v.measure))
                    .collect();
                let reasons: Vec<&str> = step.reasons.iter().map(|r| r.as_str()).collect();
                format!(
                    "; would fail policy version {version} today: {}",
                    reasons.join(", ")
                )
            }
        };
        step.note = Some(format!("{kind} at {}{verdict}", due_at.to_rfc3339()));
        mark(&txn, &current, &step, SCHEDULER, now).await?;
        txn.commit().await?;
        warned += 1;
    }
    Ok(warned)
}

/// The row's deadline differs from the one last warned about (or none was).
fn not_yet_warned(
    warned: impl sea_orm::ColumnTrait + Copy,
    due: impl sea_orm::ColumnTrait,
) -> SimpleExpr {
    Expr::col(warned)
        .is_null()
        .or(Expr::col(warned).ne(Expr::col(due)))
}

/// Records a warning on an application's timeline when `note_warned` (a
/// conditional update that notes the deadline as warned) changes a row:
/// one warning per deadline, however often the scheduler runs.
async fn warn_about<E: sea_orm::EntityTrait>(
    db: &DatabaseConnection,
    application_id: i64,
    note_warned: sea_orm::UpdateMany<E>,
    (due_at, note): (DateTime<Utc>, String),
    now: DateTime<Utc>,
) -> Result<bool, OnboardingError> {
    let current = super::get(db, BrandScope::All, application_id).await?;
    if !Action::Warn.allowed_from(current.state) {
        return Ok(false);
    }
    let txn = db.begin().await?;
    if note_warned.exec(&txn).await?.rows_affected == 0 {
        return Ok(false);
    }
    let mut step = Step::to(Action::Warn, current.state).due(due_at);
    step.note = Some(note);
    mark(&txn, &current, &step, SCHEDULER, now).await?;
    txn.commit().await?;
    Ok(true)
}

/// Warns, once per expiry, about a filed document (not rejected) whose
/// last valid day is [`rules::WARNING_DAYS`] away or less: the brand files
/// a renewal before it stops counting.
async fn warn_documents(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<u32, OnboardingError> {
    let today = business_day(now);
    let horizon = today + chrono::Days::new(rules::WARNING_DAYS.unsigned_abs());
    let expiring = document::Entity::find()
        .filter(document::Column::ExpiresOn.gte(today))
        .filter(document::Column::ExpiresOn.lte(horizon))
        .filter(document::Column::State.ne(DocumentState::Rejected))
        .order_by_asc(document::Column::Id)
        .all(db)
        .await?;
    let mut warned = 0;
    for doc in expiring {
        let Some(last_day) = doc.expires_on.filter(|d| doc.warned_expires_on != Some(*d)) else {
            continue;
        };
        let mark = document::Entity::update_many()
            .set(document::ActiveModel {
                warned_expires_on: Set(Some(last_day)),
                ..Default::default()
            })
            .filter(document::Column::Id.eq(doc.id))
            .filter(not_yet_warned(
                document::Column::WarnedExpiresOn,
                document::Column::ExpiresOn,
            ));
        let note = format!(
            "document {}: {} {} is valid until {last_day}; file a renewal",
            doc.id,
            documents::kind_name(doc.kind),
            doc.number
        );
        let due = (rules::end_of(last_day), note);
        if warn_about(db, doc.application_id, mark, due, now).await? {
            warned += 1;
        }
    }
    Ok(warned)
}

/// Warns, once per deadline, about an open condition due
/// [`rules::WARNING_DAYS`] from now or sooner.
async fn warn_conditions(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<u32, OnboardingError> {
    let horizon = now + Duration::days(rules::WARNING_DAYS);
    let due_soon = condition::Entity::find()
        .filter(condition::Column::State.eq(ConditionState::Open))
        .filter(condition::Column::DueAt.gt(now))
        .filter(condition::Column::DueAt.lte(horizon))
        .order_by_asc(condition::Column::Id)
        .all(db)
        .await?;
    let mut warned = 0;
    for item in due_soon {
        if item.warned_due_at == Some(item.due_at) {
            continue;
        }
        let mark = condition::Entity::update_many()
            .set(condition::ActiveModel {
                warned_due_at: Set(Some(item.due_at)),
                ..Default::default()
            })
            .filter(condition::Column::Id.eq(item.id))
            .filter(not_yet_warned(
                condition::Column::WarnedDueAt,
                condition::Column::DueAt,
            ));
        let note = format!(
            "condition {} is due at {} without evidence yet: {}",
            item.id,
            item.due_at.to_rfc3339(),
            item.description
        );
        if warn_about(db, item.application_id, mark, (item.due_at, note), now).await? {
            warned += 1;
        }
    }
    Ok(warned)
}
