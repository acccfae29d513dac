//! Exclusive member benefits: typed definitions ([`definition`]), stacking
//! and cell analysis ([`stacking`]), the lifecycle with revisions and
//! review (here), redemptions under budgets ([`redemption`]).
//!
//! Lifecycle: DRAFT → PENDING_REVIEW → APPROVED → ACTIVE ⇄ PAUSED → ENDED;
//! PENDING_REVIEW → REJECTED → (edit) DRAFT; RETIRED from any live state.
//! Editing a live benefit writes a new revision that waits for review while
//! the live one stays live. Every change bumps `version` in a conditional
//! UPDATE (a stale edit is refused, never applied over another) and appends
//! a `benefit_event`.

pub(crate) mod budget;
pub(crate) mod calendar;
pub(crate) mod centre;
pub(crate) mod checkout;
pub(crate) mod definition;
pub(crate) mod due;
pub(crate) mod insight;
pub(crate) mod reach;
pub(crate) mod redemption;
pub(crate) mod refund;
pub(crate) mod renewal;
pub(crate) mod signals;
pub(crate) mod stacking;
pub(crate) mod targeting;
pub(crate) mod usage_policy;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{benefit, benefit_event, benefit_revision, enums::BenefitState as State};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait as _, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait as _,
    QueryFilter as _, QueryOrder as _, Select, TransactionTrait as _,
    sea_query::{Expr, ExprTrait as _},
};

use crate::{
    auth::{BrandScope, Caller},
    brands::scoped,
    error::{CodedError, ErrorCode},
    pagination::{Page, PageRequest, fetch_page},
    standing::{self, Conduct, NotInStanding},
};
use definition::{Definition, Invalid};

/// What a benefit event records: a caller's step, the creation, or a
/// scheduled change. The strum names are the stored spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum EventAction {
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

impl From<Action> for EventAction {
    fn from(action: Action) -> Self {
        match action {
            Action::Edit => Self::Edit,
            Action::Submit => Self::Submit,
            Action::Approve => Self::Approve,
            Action::Reject => Self::Reject,
            Action::Pause => Self::Pause,
            Action::Resume => Self::Resume,
            Action::End => Self::End,
            Action::Retire => Self::Retire,
        }
    }
}

/// Where a revision stands in review. The strum names are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum Review {
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

/// A lifecycle step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum Action {
    /// Write a new revision.
    Edit,
    /// Send a draft for review.
    Submit,
    /// A reviewer approves the pending revision.
    Approve,
    /// A reviewer rejects it.
    Reject,
    /// Stop it for now.
    Pause,
    /// Start it again.
    Resume,
    /// Stop it for good.
    End,
    /// Retire it (final).
    Retire,
}

impl Action {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// What the step does in the standing table's terms; `None` for the
    /// steps that stop or refuse something, which no standing forbids.
    pub fn conduct(self) -> Option<Conduct> {
        match self {
            Self::Edit => Some(Conduct::Configure),
            Self::Submit => Some(Conduct::Submit),
            Self::Approve | Self::Resume => Some(Conduct::GoLive),
            Self::Reject | Self::Pause | Self::End | Self::Retire => None,
        }
    }

    /// The states it may start from (review also needs something pending).
    pub fn source_states(self) -> &'static [State] {
        use State::*;
        match self {
            Self::Edit => &[Draft, Rejected, Approved, Active, Paused],
            Self::Submit => &[Draft],
            Self::Approve | Self::Reject => &[PendingReview, Approved, Active, Paused],
            Self::Pause => &[Active],
            Self::Resume => &[Paused],
            Self::End => &[Approved, Active, Paused],
            Self::Retire => &[Approved, Active, Paused, Ended],
        }
    }
}

/// The states whose benefits a member can be granted now. The checkout,
/// the cell analysis (by default) and the member-centre preview all take
/// these, so they agree on what competes in stacking.
pub(crate) const GRANTING: &[State] = &[State::Active];

/// Whether members can hold the benefit's live revision in `state`.
fn is_live(state: State) -> bool {
    matches!(state, State::Approved | State::Active | State::Paused)
}

/// A state's stored (and wire) name, e.g. `PENDING_REVIEW`.
fn state_name(state: State) -> String {
    sea_orm::ActiveEnum::to_value(&state)
}

/// Why a benefit step was refused.
#[derive(Debug, thiserror::Error)]
pub enum BenefitError {
    /// No such benefit, or not the caller's brand's.
    #[error("benefit not found")]
    NotFound,
    /// A definition field is wrong.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The step does not start from the benefit's state.
    #[error("cannot {} a benefit that is {}{}", .action.as_str(), state_name(*.state), if *.pending { " with a revision pending" } else { "" })]
    IllegalTransition {
        /// The step.
        action: Action,
        /// Where the benefit stands.
        state: State,
        /// Whether a revision is pending review.
        pending: bool,
    },
    /// A rejection without its reasons.
    #[error("a rejection must give the reasons in `note`")]
    NoteRequired,
    /// An edit identical to the latest revision.
    #[error("the edit changes nothing")]
    Unchanged,
    /// The benefit changed since the caller read it.
    #[error("the benefit is at version {current}, not {expected}: read it again and retry")]
    Conflict {
        /// The version the caller based the step on.
        expected: i32,
        /// The version now.
        current: i32,
    },
    /// The brand's standing does not allow the step.
    #[error(transparent)]
    Standing(#[from] NotInStanding),
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl CodedError for BenefitError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::NotFound => ErrorCode::NotFound,
            Self::Invalid(_) | Self::NoteRequired | Self::Unchanged => ErrorCode::BadUserInput,
            Self::IllegalTransition { .. } => ErrorCode::IllegalTransition,
            Self::Conflict { .. } => ErrorCode::Conflict,
            Self::Standing(error) => error.code(),
            Self::Db(_) => ErrorCode::Internal,
        }
    }
}

impl BenefitError {
    /// The input path a client should look at.
    pub fn field(&self) -> String {
        match self {
            Self::Invalid(invalid) => format!("input.{}", invalid.field),
            Self::Conflict { .. } => "expectedVersion".to_owned(),
            Self::NoteRequired => "note".to_owned(),
            Self::Unchanged => "input".to_owned(),
            Self::Standing(_) => "brandId".to_owned(),
            _ => "benefitId".to_owned(),
        }
    }
}

/// A benefit with the definitions it needs shown.
#[derive(Debug, Clone)]
pub struct Benefit {
    /// The row.
    pub row: benefit::Model,
    /// The latest revision's definition.
    pub current: Definition,
    /// The live revision's definition, once one was approved.
    pub live: Option<Definition>,
    /// What its budget has given so far.
    pub used: budget::Used,
}

fn parse(revision: &benefit_revision::Model) -> Result<Definition, DbErr> {
    serde_json::from_str(&revision.definition).map_err(|e| DbErr::Custom(e.to_string()))
}

async fn revision(
    db: &impl ConnectionTrait,
    benefit_id: i64,
    number: i64,
) -> Result<benefit_revision::Model, DbErr> {
    benefit_revision::Entity::find()
        .filter(benefit_revision::Column::BenefitId.eq(benefit_id))
        .filter(benefit_revision::Column::Number.eq(number))
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("revision {number} of benefit {benefit_id}")))
}

/// Reads the definitions of a benefit row.
pub(crate) async fn load(db: &impl ConnectionTrait, row: benefit::Model) -> Result<Benefit, DbErr> {
    let current = parse(&revision(db, row.id, row.current_revision).await?)?;
    let live = match row.live_revision {
        Some(n) if n == row.current_revision => Some(current.clone()),
        Some(n) => Some(parse(&revision(db, row.id, n).await?)?),
        None => None,
    };
    let used = budget::used_of(db, &[row.id])
        .await?
        .remove(&row.id)
        .unwrap_or_default();
    Ok(Benefit {
        row,
        current,
        live,
        used,
    })
}

/// One benefit row, if the caller may see its brand.
pub(crate) async fn get_row(
    db: &impl ConnectionTrait,
    scope: BrandScope,
    id: i64,
) -> Result<benefit::Model, BenefitError> {
    scoped(
        benefit::Entity::find_by_id(id),
        benefit::Column::BrandId,
        scope,
    )
    .one(db)
    .await?
    .ok_or(BenefitError::NotFound)
}

/// One benefit with its definitions, if the caller may see it.
pub(crate) async fn get(
    db: &impl ConnectionTrait,
    scope: BrandScope,
    id: i64,
) -> Result<Benefit, BenefitError> {
    Ok(load(db, get_row(db, scope, id).await?).await?)
}

/// A page of a brand's benefits (the caller has checked it may see the brand).
pub(crate) async fn list(
    db: &impl ConnectionTrait,
    scope: BrandScope,
    states: &[State],
    page: PageRequest,
) -> Result<Page<Benefit>, BenefitError> {
    let select = in_states(
        scoped(benefit::Entity::find(), benefit::Column::BrandId, scope),
        states,
    );
    let page = fetch_page(db, select, benefit::Column::Id, page).await?;
    Ok(Page {
        items: load_many(db, page.items).await?,
        has_next: page.has_next,
        has_previous: page.has_previous,
    })
}

/// Reads the definitions of many benefit rows in one query.
async fn load_many(
    db: &impl ConnectionTrait,
    rows: Vec<benefit::Model>,
) -> Result<Vec<Benefit>, DbErr> {
    let revisions = benefit_revision::Entity::find()
        .filter(benefit_revision::Column::BenefitId.is_in(rows.iter().map(|r| r.id)))
        .all(db)
        .await?;
    let find = |row: &benefit::Model, number: i64| {
        revisions
            .iter()
            .find(|r| r.benefit_id == row.id && i64::from(r.number) == number)
            .ok_or_else(|| {
                DbErr::RecordNotFound(format!("revision {number} of benefit {}", row.id))
            })
            .and_then(parse)
    };
    let used = budget::used_of(db, &rows.iter().map(|r| r.id).collect::<Vec<_>>()).await?;
    rows.into_iter()
        .map(|row| {
            let current = find(&row, row.current_revision)?;
            let live = row.live_revision.map(|n| find(&row, n)).transpose()?;
            let used = used.get(&row.id).copied().unwrap_or_default();
            Ok(Benefit {
                row,
                current,
                live,
                used,
            })
        })
        .collect()
}

/// The benefits with these ids the caller may see, with definitions, in
/// two queries whatever the count (federation batches entity lookups).
pub(crate) async fn by_ids(
    db: &impl ConnectionTrait,
    scope: BrandScope,
    ids: &[i64],
) -> Result<Vec<Benefit>, DbErr> {
    let rows = scoped(benefit::Entity::find(), benefit::Column::BrandId, scope)
        .filter(benefit::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    load_many(db, rows).await
}

/// Benefits in `states`; every state when none is named.
fn in_states(select: Select<benefit::Entity>, states: &[State]) -> Select<benefit::Entity> {
    if states.is_empty() {
        select
    } else {
        select.filter(benefit::Column::State.is_in(states.to_vec()))
    }
}

/// Every benefit of one brand in the given states (every state when none
/// is named), with definitions.
pub(crate) async fn of_brand(
    db: &impl ConnectionTrait,
    brand_id: i64,
    states: &[State],
) -> Result<Vec<Benefit>, DbErr> {
    let rows = in_states(
        benefit::Entity::find().filter(benefit::Column::BrandId.eq(brand_id)),
        states,
    )
    .order_by_asc(benefit::Column::Id)
    .all(db)
    .await?;
    load_many(db, rows).await
}

/// The revisions of many benefits, oldest first, in one query.
pub(crate) async fn revisions_of(
    db: &impl ConnectionTrait,
    benefit_ids: &[i64],
) -> Result<HashMap<i64, Vec<(benefit_revision::Model, Definition)>>, DbErr> {
    let rows = benefit_revision::Entity::find()
        .filter(benefit_revision::Column::BenefitId.is_in(benefit_ids.iter().copied()))
        .order_by_asc(benefit_revision::Column::Number)
        .all(db)
        .await?;
    let mut out: HashMap<i64, Vec<_>> = HashMap::new();
    for row in rows {
        let definition = parse(&row)?;
        out.entry(row.benefit_id)
            .or_default()
            .push((row, definition));
    }
    Ok(out)
}

/// The events of many benefits, oldest first, in one query.
pub(crate) async fn events_of(
    db: &impl ConnectionTrait,
    benefit_ids: &[i64],
) -> Result<HashMap<i64, Vec<benefit_event::Model>>, DbErr> {
    let rows = benefit_event::Entity::find()
        .filter(benefit_event::Column::BenefitId.is_in(benefit_ids.iter().copied()))
        .order_by_asc(benefit_event::Column::Id)
        .all(db)
        .await?;
    let mut out: HashMap<i64, Vec<_>> = HashMap::new();
    for row in rows {
        out.entry(row.benefit_id).or_default().push(row);
    }
    Ok(out)
}

/// One changed field between two definitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldChange {
    /// Dotted path, e.g. `kind.percent` or `budget.perMember`.
    pub field: String,
    /// The value before (JSON), null when absent.
    pub before: Option<String>,
    /// The value after (JSON), null when absent.
    pub after: Option<String>,
}

fn flatten(prefix: &str, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&path, v, out);
            }
        }
        serde_json::Value::Null => {}
        other => out.push((prefix.to_owned(), other.to_string())),
    }
}

/// The field-level difference between two definitions.
pub(crate) fn diff(before: &Definition, after: &Definition) -> Vec<FieldChange> {
    let mut a = Vec::new();
    let mut b = Vec::new();
    flatten(
        "",
        &serde_json::to_value(before).unwrap_or_default(),
        &mut a,
    );
    flatten("", &serde_json::to_value(after).unwrap_or_default(), &mut b);
    let mut fields: Vec<&String> = a.iter().chain(b.iter()).map(|(k, _)| k).collect();
    fields.sort();
    fields.dedup();
    fields
        .into_iter()
        .filter_map(|field| {
            let old = a.iter().find(|(k, _)| k == field).map(|(_, v)| v.clone());
            let new = b.iter().find(|(k, _)| k == field).map(|(_, v)| v.clone());
            (old != new).then(|| FieldChange {
                field: field.clone(),
                before: old,
                after: new,
            })
        })
        .collect()
}

/// Pauses every live benefit (approved or active) of a brand that is being
/// suspended, inside the suspending transaction, each with a PAUSE event
/// saying why. Re-admission does not resume them: an operator resumes each
/// one once the brand is back in standing.
pub(crate) async fn pause_for_suspension(
    db: &impl ConnectionTrait,
    brand_id: i64,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let live = [State::Approved, State::Active];
    let rows = benefit::Entity::find()
        .filter(benefit::Column::BrandId.eq(brand_id))
        .filter(benefit::Column::State.is_in(live))
        .all(db)
        .await?;
    for row in rows {
        // Bumping the version makes any step based on the old one a
        // conflict; the state guard skips a benefit that stopped meanwhile.
        let paused = benefit::Entity::update_many()
            .col_expr(benefit::Column::State, Expr::value(State::Paused))
            .col_expr(
                benefit::Column::Version,
                Expr::col(benefit::Column::Version).add(1),
            )
            .col_expr(benefit::Column::UpdatedAt, Expr::value(now))
            .filter(benefit::Column::Id.eq(row.id))
            .filter(benefit::Column::State.is_in(live))
            .exec(db)
            .await?
            .rows_affected;
        if paused == 1 {
            append_event(
                db,
                row.id,
                (row.state, State::Paused),
                EventAction::Pause,
                (
                    row.live_revision,
                    Some(
                        "the brand was SUSPENDED: paused until it is re-admitted and an operator resumes it"
                            .to_owned(),
                    ),
                ),
                actor,
                now,
            )
            .await?;
        }
    }
    Ok(())
}

async fn append_event(
    db: &impl ConnectionTrait,
    benefit_id: i64,
    (from, to): (State, State),
    action: EventAction,
    (revision, note): (Option<i64>, Option<String>),
    actor: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let action: &'static str = action.into();
    benefit_event::Entity::insert(benefit_event::ActiveModel {
        benefit_id: Set(benefit_id),
        at: Set(at),
        actor: Set(actor.to_owned()),
        action: Set(action.to_owned()),
        from_state: Set(from),
        to_state: Set(to),
        revision: Set(revision.and_then(|n| i32::try_from(n).ok())),
        note: Set(note),
        ..Default::default()
    })
    .exec(db)
    .await
    .map(drop)
}

async fn insert_revision(
    db: &impl ConnectionTrait,
    benefit_id: i64,
    number: i64,
    definition: &Definition,
    review: Review,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    benefit_revision::Entity::insert(benefit_revision::ActiveModel {
        benefit_id: Set(benefit_id),
        number: Set(i32::try_from(number).unwrap_or(i32::MAX)),
        definition: Set(
            serde_json::to_string(definition).map_err(|e| DbErr::Custom(e.to_string()))?
        ),
        review: Set(<&str>::from(review).to_owned()),
        created_by: Set(actor.to_owned()),
        created_at: Set(at),
        ..Default::default()
    })
    .exec(db)
    .await
    .map(drop)
}

async fn set_review(
    db: &impl ConnectionTrait,
    benefit_id: i64,
    number: i64,
    review: Review,
) -> Result<(), DbErr> {
    benefit_revision::Entity::update_many()
        .set(benefit_revision::ActiveModel {
            review: Set(<&str>::from(review).to_owned()),
            ..Default::default()
        })
        .filter(benefit_revision::Column::BenefitId.eq(benefit_id))
        .filter(benefit_revision::Column::Number.eq(number))
        .exec(db)
        .await
        .map(drop)
}

/// Creates a draft benefit for a brand (the caller's scope must include it).
pub(crate) async fn create(
    db: &DatabaseConnection,
    caller: &Caller,
    brand_id: i64,
    definition: &Definition,
) -> Result<Benefit, BenefitError> {
    definition.check(caller.now)?;
    standing::require::<BenefitError>(db, brand_id, Conduct::Configure).await?;
    let txn = db.begin().await?;
    let id = benefit::Entity::insert(benefit::ActiveModel {
        brand_id: Set(brand_id),
        state: Set(State::Draft),
        version: Set(1),
        current_revision: Set(1),
        live_revision: Set(None),
        revision_pending: Set(false),
        activated_at: Set(None),
        flagged_at: Set(None),
        policy_paused_at: Set(None),
        grace_until: Set(None),
        created_by: Set(caller.subject.clone()),
        created_at: Set(caller.now),
        updated_at: Set(caller.now),
        ..Default::default()
    })
    .exec(&txn)
    .await?
    .last_insert_id;
    insert_revision(
        &txn,
        id,
        1,
        definition,
        Review::Draft,
        &caller.subject,
        caller.now,
    )
    .await?;
    append_event(
        &txn,
        id,
        (State::Draft, State::Draft),
        EventAction::Create,
        (Some(1), None),
        &caller.subject,
        caller.now,
    )
    .await?;
    txn.commit().await?;
    get(db, BrandScope::All, id).await
}

/// Whether `action` may be taken on a benefit in `state` (with a revision
/// pending review or not): the one rule that steps are checked against and
/// that clients are shown.
pub(crate) fn allows(state: State, revision_pending: bool, action: Action) -> bool {
    let review_of_live = matches!(action, Action::Approve | Action::Reject) && is_live(state);
    action.source_states().contains(&state)
        && (!review_of_live || revision_pending)
        && !(action == Action::Edit && state == State::PendingReview)
}

/// Refuses a step on a stale version or from the wrong state.
fn check(row: &benefit::Model, expected: i32, action: Action) -> Result<(), BenefitError> {
    if row.version != expected {
        return Err(BenefitError::Conflict {
            expected,
            current: row.version,
        });
    }
    if allows(row.state, row.revision_pending, action) {
        Ok(())
    } else {
        Err(BenefitError::IllegalTransition {
            action,
            state: row.state,
            pending: row.revision_pending,
        })
    }
}

/// The row changes of one step.
#[derive(Default)]
struct Change {
    state: Option<State>,
    current_revision: Option<i64>,
    live_revision: Option<i64>,
    revision_pending: Option<bool>,
    activated_at: Option<DateTime<Utc>>,
    flagged_at: Option<Option<DateTime<Utc>>>,
    policy_paused_at: Option<Option<DateTime<Utc>>>,
    grace_until: Option<Option<DateTime<Utc>>>,
}

/// Applies a step: the conditional UPDATE first (so of two concurrent
/// steps one lands), then whatever `then` writes, then the event.
async fn commit(
    db: &DatabaseConnection,
    row: &benefit::Model,
    action: EventAction,
    change: Change,
    revision_note: (Option<i64>, Option<String>),
    writes: impl AsyncFnOnce(&sea_orm::DatabaseTransaction) -> Result<(), DbErr>,
    caller: &Caller,
) -> Result<Benefit, BenefitError> {
    let (actor, now) = (caller.subject.as_str(), caller.now);
    let to = change.state.unwrap_or(row.state);
    let mut update = benefit::ActiveModel {
        state: Set(to),
        version: Set(row.version + 1),
        updated_at: Set(now),
        ..Default::default()
    };
    if let Some(n) = change.current_revision {
        update.current_revision = Set(n);
    }
    if let Some(n) = change.live_revision {
        update.live_revision = Set(Some(n));
    }
    if let Some(p) = change.revision_pending {
        update.revision_pending = Set(p);
    }
    if let Some(at) = change.activated_at.filter(|_| row.activated_at.is_none()) {
        update.activated_at = Set(Some(at));
    }
    if let Some(flag) = change.flagged_at {
        update.flagged_at = Set(flag);
    }
    if let Some(at) = change.policy_paused_at {
        update.policy_paused_at = Set(at);
    }
    if let Some(until) = change.grace_until {
        update.grace_until = Set(until);
    }
    let txn = db.begin().await?;
    let updated = benefit::Entity::update_many()
        .set(update)
        .filter(benefit::Column::Id.eq(row.id))
        .filter(benefit::Column::Version.eq(row.version))
        .exec(&txn)
        .await?
        .rows_affected;
    if updated == 0 {
        let current = benefit::Entity::find_by_id(row.id)
            .one(&txn)
            .await?
            .map_or(row.version, |b| b.version);
        return Err(BenefitError::Conflict {
            expected: row.version,
            current,
        });
    }
    writes(&txn).await?;
    append_event(
        &txn,
        row.id,
        (row.state, to),
        action,
        revision_note,
        actor,
        now,
    )
    .await?;
    txn.commit().await?;
    get(db, BrandScope::All, row.id).await
}

/// Writes a new revision. A draft (or rejected) benefit is edited in
/// place as a draft; a live one keeps its live revision and the new one
/// waits for review. The event notes the changed fields.
pub(crate) async fn edit(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
    expected_version: i32,
    definition: &Definition,
) -> Result<Benefit, BenefitError> {
    definition.check(caller.now)?;
    let current = get(db, caller.scope, id).await?;
    check(&current.row, expected_version, Action::Edit)?;
    standing::require::<BenefitError>(db, current.row.brand_id, Conduct::Configure).await?;
    // After a rejected edit of a live benefit, the current revision is the
    // live one again while the rejected one keeps its number.
    let number = benefit_revision::Entity::find()
        .filter(benefit_revision::Column::BenefitId.eq(id))
        .order_by_desc(benefit_revision::Column::Number)
        .one(db)
        .await?
        .map_or(1, |row| i64::from(row.number) + 1);
    let live = is_live(current.row.state);
    let changed = diff(&current.current, definition);
    if changed.is_empty() {
        return Err(BenefitError::Unchanged);
    }
    let note = changed
        .iter()
        .map(|c| c.field.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let change = Change {
        state: (!live).then_some(State::Draft),
        current_revision: Some(number),
        revision_pending: live.then_some(true),
        ..Change::default()
    };
    let superseded = (live && current.row.revision_pending).then_some(current.row.current_revision);
    let review = if live { Review::Pending } else { Review::Draft };
    commit(
        db,
        &current.row,
        EventAction::Edit,
        change,
        (Some(number), Some(format!("changed: {note}"))),
        async |txn| {
            if let Some(old) = superseded {
                set_review(txn, id, old, Review::Superseded).await?;
            }
            insert_revision(
                txn,
                id,
                number,
                definition,
                review,
                &caller.subject,
                caller.now,
            )
            .await
        },
        caller,
    )
    .await
}

/// A lifecycle step without a new definition: submit, pause, resume, end,
/// retire (brand operator), approve or reject (reviewer).
pub(crate) async fn step(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
    expected_version: i32,
    action: Action,
    note: Option<String>,
) -> Result<Benefit, BenefitError> {
    let current = get(db, caller.scope, id).await?;
    check(&current.row, expected_version, action)?;
    let row = &current.row;
    if let Some(conduct) = action.conduct() {
        standing::require::<BenefitError>(db, row.brand_id, conduct).await?;
    }
    let number = row.current_revision;
    let now = caller.now;
    let mut review = None;
    let change = match action {
        Action::Submit => {
            review = Some(Review::Pending);
            Change {
                state: Some(State::PendingReview),
                ..Change::default()
            }
        }
        Action::Approve => {
            review = Some(Review::Approved);
            let starts = current.current.schedule.starts_at;
            let state = if row.state == State::PendingReview {
                Some(if starts <= now {
                    State::Active
                } else {
                    State::Approved
                })
            } else {
                None
            };
            Change {
                activated_at: (state == Some(State::Active)).then_some(now),
                state,
                live_revision: Some(number),
                revision_pending: Some(false),
                ..Change::default()
            }
        }
        Action::Reject => {
            if note.as_deref().is_none_or(|n| n.trim().is_empty()) {
                return Err(BenefitError::NoteRequired);
            }
            review = Some(Review::Rejected);
            if row.state == State::PendingReview {
                Change {
                    state: Some(State::Rejected),
                    ..Change::default()
                }
            } else {
                Change {
                    current_revision: row.live_revision,
                    revision_pending: Some(false),
                    ..Change::default()
                }
            }
        }
        Action::Pause => Change {
            state: Some(State::Paused),
            ..Change::default()
        },
        // Resuming a benefit the usage policy paused is the brand's appeal:
        // the policy leaves it alone for a new grace period. Its flag stays:
        // still under-used when the grace ends, it is paused again at once.
        // A benefit paused before its start (a suspension pauses approved
        // ones too) resumes to wait for it.
        Action::Resume => {
            let grace = usage_policy::current(db).await?.thresholds.grace_days;
            Change {
                state: Some(
                    if current
                        .live
                        .as_ref()
                        .is_some_and(|live| live.schedule.starts_at > now)
                    {
                        State::Approved
                    } else {
                        State::Active
                    },
                ),
                activated_at: current
                    .live
                    .as_ref()
                    .is_none_or(|live| live.schedule.starts_at <= now)
                    .then_some(now),
                policy_paused_at: Some(None),
                grace_until: row
                    .policy_paused_at
                    .map(|_| Some(now + chrono::Duration::days(grace))),
                ..Change::default()
            }
        }
        Action::End => Change {
            state: Some(State::Ended),
            ..Change::default()
        },
        Action::Retire => Change {
            state: Some(State::Retired),
            ..Change::default()
        },
        // Editing writes a revision: that is `edit`, not a bare step.
        Action::Edit => {
            return Err(BenefitError::IllegalTransition {
                action,
                state: row.state,
                pending: row.revision_pending,
            });
        }
    };
    commit(
        db,
        row,
        action.into(),
        change,
        (Some(number), note),
        async |txn| match review {
            Some(review) => set_review(txn, id, number, review).await,
            None => Ok(()),
        },
        caller,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::{EventAction, Review, redemption::Outcome};

    /// Each value writes `stored` and reads back from it.
    fn round_trip<T>(pairs: &[(T, &str)])
    where
        T: Copy + PartialEq + std::fmt::Debug + Into<&'static str> + std::str::FromStr,
    {
        for (value, stored) in pairs {
            assert_eq!((*value).into(), *stored);
            assert_eq!(stored.parse::<T>().ok(), Some(*value));
        }
    }

    /// The spelling stored before these were derived: rows already written
    /// must still read.
    #[test]
    fn stored_names_round_trip() {
        use EventAction as E;
        round_trip(&[
            (E::Create, "CREATE"),
            (E::Edit, "EDIT"),
            (E::Submit, "SUBMIT"),
            (E::Approve, "APPROVE"),
            (E::Reject, "REJECT"),
            (E::Pause, "PAUSE"),
            (E::Resume, "RESUME"),
            (E::End, "END"),
            (E::Retire, "RETIRE"),
            (E::Activate, "ACTIVATE"),
            (E::Flag, "FLAG"),
        ]);
        round_trip(&[
            (Review::Draft, "DRAFT"),
            (Review::Pending, "PENDING"),
            (Review::Approved, "APPROVED"),
            (Review::Rejected, "REJECTED"),
            (Review::Superseded, "SUPERSEDED"),
        ]);
        round_trip(&[
            (Outcome::Granted, "GRANTED"),
            (Outcome::NotActive, "NOT_ACTIVE"),
            (Outcome::BrandNotInStanding, "BRAND_NOT_IN_STANDING"),
            (Outcome::OutsideSchedule, "OUTSIDE_SCHEDULE"),
            (Outcome::NotTargeted, "NOT_TARGETED"),
            (Outcome::Overridden, "OVERRIDDEN"),
            (Outcome::BelowThreshold, "BELOW_THRESHOLD"),
            (Outcome::BirthDateUnknown, "BIRTH_DATE_UNKNOWN"),
            (Outcome::OrderCountNotReached, "ORDER_COUNT_NOT_REACHED"),
            (Outcome::OutsideBirthdayWindow, "OUTSIDE_BIRTHDAY_WINDOW"),
            (
                Outcome::OutsideEarlyAccessWindow,
                "OUTSIDE_EARLY_ACCESS_WINDOW",
            ),
            (Outcome::NoEarlyAccessSku, "NO_EARLY_ACCESS_SKU"),
            (Outcome::MemberCapReached, "MEMBER_CAP_REACHED"),
            (Outcome::BudgetExhausted, "BUDGET_EXHAUSTED"),
            (Outcome::MoneyBudgetExhausted, "MONEY_BUDGET_EXHAUSTED"),
        ]);
    }
}
