//! Conditions of a conditional approval as tracked items: each has a
//! deadline, the brand sends evidence, a reviewer finds it met or missed.
//! A missed condition (found by a reviewer, or past its deadline with no
//! evidence) re-evaluates the brand with `CONDITION_MISSED` among the
//! failures: the same path as a failed re-evaluation.

use chrono::{DateTime, Utc};
use entity::{
    application, application_condition as condition, application_document as document,
    enums::ConditionState,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait as _, QueryFilter as _, QueryOrder as _, TransactionTrait as _,
};

use super::{
    Action, OnboardingError, ReasonCode, Step, get as get_application, invalid, mark,
    reevaluate_row, rules, text,
};
use crate::{
    auth::{BrandScope, Caller},
    brands::scoped,
};

/// Most conditions one approval may set.
pub const MAX_CONDITIONS: usize = 20;

/// A condition as the reviewer sets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionSpec {
    /// What the brand must do.
    pub description: String,
    /// Days the brand has (1 to the probation length; default the whole
    /// probation).
    pub due_in_days: Option<u32>,
}

/// A checked condition, ready to store with the approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NewCondition {
    pub(super) description: String,
    pub(super) due_at: DateTime<Utc>,
}

/// Checks an approval's conditions. Without any, the note is the one
/// condition, due at the end of probation.
pub(super) fn plan(
    specs: &[ConditionSpec],
    note: Option<&str>,
    probation_days: u32,
    now: DateTime<Utc>,
) -> Result<Vec<NewCondition>, OnboardingError> {
    if specs.is_empty() {
        let note = note.ok_or_else(|| {
            invalid(
                "conditions",
                "must list the conditions (or the note state them)",
            )
        })?;
        return Ok(vec![NewCondition {
            description: note.to_owned(),
            due_at: rules::deadline_after_days(now, probation_days),
        }]);
    }
    if specs.len() > MAX_CONDITIONS {
        return Err(invalid(
            "conditions",
            &format!("may hold at most {MAX_CONDITIONS} conditions"),
        ));
    }
    specs
        .iter()
        .map(|spec| {
            let days = spec.due_in_days.unwrap_or(probation_days);
            if !(1..=probation_days).contains(&days) {
                return Err(invalid(
                    "conditions.dueInDays",
                    "must be 1 to the probation's length",
                ));
            }
            Ok(NewCondition {
                description: text("conditions.description", &spec.description)?,
                due_at: rules::deadline_after_days(now, days),
            })
        })
        .collect()
}

/// Stores an approval's conditions (inside its transaction).
pub(super) async fn insert(
    db: &impl ConnectionTrait,
    (application_id, brand_id): (i64, i64),
    conditions: &[NewCondition],
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if conditions.is_empty() {
        return Ok(());
    }
    condition::Entity::insert_many(conditions.iter().map(|c| condition::ActiveModel {
        application_id: Set(application_id),
        brand_id: Set(brand_id),
        description: Set(c.description.clone()),
        due_at: Set(c.due_at),
        state: Set(ConditionState::Open),
        evidence: Set(None),
        evidence_document_id: Set(None),
        evidence_by: Set(None),
        evidence_at: Set(None),
        resolved_by: Set(None),
        resolved_at: Set(None),
        resolution_note: Set(None),
        created_by: Set(actor.to_owned()),
        created_at: Set(now),
        warned_due_at: Set(None),
        ..Default::default()
    }))
    .exec(db)
    .await?;
    Ok(())
}

/// One condition, if the caller may see its brand.
pub async fn get(
    db: &impl ConnectionTrait,
    scope: BrandScope,
    id: i64,
) -> Result<condition::Model, OnboardingError> {
    scoped(
        condition::Entity::find_by_id(id),
        condition::Column::BrandId,
        scope,
    )
    .one(db)
    .await?
    .ok_or(OnboardingError::ConditionNotFound)
}

/// The conditions of many applications, in order, in one query.
pub async fn of_applications(
    db: &impl ConnectionTrait,
    application_ids: &[i64],
) -> Result<Vec<condition::Model>, DbErr> {
    condition::Entity::find()
        .filter(condition::Column::ApplicationId.is_in(application_ids.iter().copied()))
        .order_by_asc(condition::Column::Id)
        .all(db)
        .await
}

/// Moves a condition from one of `from` to its next state and records the
/// step on its application's timeline, in one transaction; a condition
/// that moved meanwhile is refused.
async fn advance(
    db: &DatabaseConnection,
    current: &condition::Model,
    from: &[ConditionState],
    change: condition::ActiveModel,
    action: Action,
    note: String,
    (actor, now): (&str, DateTime<Utc>),
) -> Result<application::Model, OnboardingError> {
    let application = get_application(db, BrandScope::All, current.application_id).await?;
    if !action.allowed_from(application.state) {
        return Err(OnboardingError::IllegalTransition {
            action,
            state: application.state,
        });
    }
    let txn = db.begin().await?;
    let moved = condition::Entity::update_many()
        .set(change)
        .filter(condition::Column::Id.eq(current.id))
        .filter(condition::Column::State.is_in(from.iter().copied()))
        .exec(&txn)
        .await?;
    if moved.rows_affected == 0 {
        return Err(OnboardingError::ConditionClosed(current.id));
    }
    let mut step = Step::marking(
        action,
        &application,
        format!("condition {}: {note}", current.id),
    );
    if action == Action::MissCondition {
        step.reasons = vec![ReasonCode::ConditionMissed];
    }
    mark(&txn, &application, &step, actor, now).await?;
    txn.commit().await?;
    Ok(application)
}

/// The brand sends (or replaces) its evidence for an open condition before
/// its deadline, optionally pointing at a document filed with the same
/// application.
pub async fn submit_evidence(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
    evidence: &str,
    document_id: Option<i64>,
) -> Result<condition::Model, OnboardingError> {
    let evidence = text("evidence", evidence)?;
    let current = get(db, caller.scope, id).await?;
    if current.due_at <= caller.now {
        return Err(OnboardingError::ConditionClosed(id));
    }
    if let Some(document_id) = document_id {
        let filed = scoped(
            document::Entity::find_by_id(document_id),
            document::Column::BrandId,
            caller.scope,
        )
        .one(db)
        .await?;
        if filed.is_none_or(|d| d.application_id != current.application_id) {
            return Err(invalid(
                "documentId",
                "must be a document filed with the same application",
            ));
        }
    }
    let change = condition::ActiveModel {
        state: Set(ConditionState::Evidenced),
        evidence: Set(Some(evidence.clone())),
        evidence_document_id: Set(document_id),
        evidence_by: Set(Some(caller.subject.clone())),
        evidence_at: Set(Some(caller.now)),
        ..Default::default()
    };
    advance(
        db,
        &current,
        &[ConditionState::Open, ConditionState::Evidenced],
        change,
        Action::SubmitEvidence,
        evidence,
        (&caller.subject, caller.now),
    )
    .await?;
    get(db, BrandScope::All, id).await
}

/// A reviewer finds a condition met (it must have evidence) or missed (with
/// a note); a missed one re-evaluates the brand at once.
pub async fn resolve(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
    met: bool,
    note: Option<&str>,
) -> Result<condition::Model, OnboardingError> {
    let note = note.map(|n| text("note", n)).transpose()?;
    let current = get(db, caller.scope, id).await?;
    let (to, from, action): (_, &[ConditionState], _) = if met {
        if current.state == ConditionState::Open {
            return Err(invalid("outcome", "MET needs the brand's evidence first"));
        }
        (
            ConditionState::Met,
            &[ConditionState::Evidenced],
            Action::MeetCondition,
        )
    } else {
        if note.is_none() {
            return Err(invalid("note", "must say why the condition is missed"));
        }
        (
            ConditionState::Missed,
            &[ConditionState::Open, ConditionState::Evidenced],
            Action::MissCondition,
        )
    };
    let summary = note.clone().unwrap_or_else(|| "met".to_owned());
    close(
        db,
        &current,
        (to, from, action),
        note,
        summary,
        (&caller.subject, caller.now),
    )
    .await?;
    get(db, BrandScope::All, id).await
}

/// Closes a condition as met or missed; a miss re-evaluates the brand.
async fn close(
    db: &DatabaseConnection,
    current: &condition::Model,
    (to, from, action): (ConditionState, &[ConditionState], Action),
    note: Option<String>,
    summary: String,
    (actor, now): (&str, DateTime<Utc>),
) -> Result<(), OnboardingError> {
    let change = condition::ActiveModel {
        state: Set(to),
        resolved_by: Set(Some(actor.to_owned())),
        resolved_at: Set(Some(now)),
        resolution_note: Set(note),
        ..Default::default()
    };
    let application = advance(db, current, from, change, action, summary, (actor, now)).await?;
    if to == ConditionState::Missed {
        let application = get_application(db, BrandScope::All, application.id).await?;
        reevaluate_row(db, &application, &[ReasonCode::ConditionMissed], actor, now).await?;
    }
    Ok(())
}

/// Marks every open condition past its deadline missed (the scheduler),
/// each re-evaluating its brand. Returns how many.
pub(super) async fn miss_overdue(
    db: &DatabaseConnection,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<u32, OnboardingError> {
    // Only where conditions still count: an application that is no longer
    // admitted keeps its open conditions as they were.
    let admitted = sea_orm::sea_query::Query::select()
        .column(application::Column::Id)
        .from(application::Entity)
        .and_where(application::Column::State.is_in(Action::MissCondition.source_states().to_vec()))
        .take();
    let overdue = condition::Entity::find()
        .filter(condition::Column::State.eq(ConditionState::Open))
        .filter(condition::Column::DueAt.lte(now))
        .filter(condition::Column::ApplicationId.in_subquery(admitted))
        .order_by_asc(condition::Column::Id)
        .all(db)
        .await?;
    let mut missed = 0;
    for current in overdue {
        let outcome = close(
            db,
            &current,
            (
                ConditionState::Missed,
                &[ConditionState::Open],
                Action::MissCondition,
            ),
            Some("no evidence before the deadline".to_owned()),
            "no evidence before the deadline".to_owned(),
            (actor, now),
        )
        .await;
        match outcome {
            Ok(()) => missed += 1,
            // Resolved meanwhile, or the brand is no longer admitted.
            Err(
                OnboardingError::ConditionClosed(_)
                | OnboardingError::Conflict { .. }
                | OnboardingError::IllegalTransition { .. },
            ) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(missed)
}
