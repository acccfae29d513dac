//! The onboarding workflow: a brand applies, screening measures it, a
//! reviewer decides, the brand may appeal once, and an admitted brand is
//! re-evaluated until it is suspended or stays. Plain Rust over the
//! `application` and `application_event` tables; the rules are in
//! [`rules`], the scheduled side in [`due`].
//!
//! Every change is one transaction whose first statement is a conditional
//! `UPDATE … WHERE version = expected`, so of two concurrent decisions
//! exactly one lands and the other gets [`OnboardingError::Conflict`]; the
//! same transaction appends the events and moves the brand's status.

pub mod conditions;
pub mod documents;
pub mod due;
pub mod rules;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{
    application, application_event, brand, category,
    enums::{ApplicationState as State, BrandStatus},
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait as _, QueryFilter as _, QueryOrder as _, SqlErr, TransactionTrait as _,
};

pub use rules::{Action, DueKind};

use crate::{
    auth::{BrandScope, Caller},
    brands::scoped,
    criteria::{
        CriteriaError,
        evaluation::{self, MeasureName},
    },
    error::{CodedError, ErrorCode},
    pagination::{Page, PageRequest, fetch_page},
    platform::business_day,
    webhooks::WebhookEvent,
};

/// Longest statement, answer or note, in characters.
pub const MAX_TEXT_CHARS: usize = 4000;

/// Why an application was refused, or why it was moved automatically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum ReasonCode {
    /// Market share below the category's threshold.
    MarketShareLow,
    /// Voluntary mention share below the threshold.
    MentionShareLow,
    /// Price volatility above the threshold.
    PriceVolatile,
    /// Too many deep-discount days.
    DeepDiscounting,
    /// Super-member ratio (its Wilson lower bound) below the threshold.
    SuperMemberRatioLow,
    /// A measure could not be computed from the platform's data.
    IncompleteData,
    /// A risk the measures do not show (counterfeits, complaints …).
    BrandRisk,
    /// A document the category's policy requires is missing, unverified
    /// or expired.
    QualificationMissing,
    /// A condition of the approval was missed.
    ConditionMissed,
    /// Anything else; the note says what.
    Other,
}

impl ReasonCode {
    /// The stored name, e.g. `MARKET_SHARE_LOW`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Parses a stored list (comma-separated); unknown names are skipped.
    pub fn parse_list(stored: &str) -> Vec<Self> {
        stored
            .split(',')
            .filter_map(|name| name.parse().ok())
            .collect()
    }

    fn join(codes: &[Self]) -> String {
        codes
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The reason a failing measure gives.
    pub fn failing(measure: MeasureName) -> Self {
        MEASURE_REASONS
            .iter()
            .find(|(_, m)| *m == measure)
            .map_or(Self::Other, |(reason, _)| *reason)
    }

    /// The measure a reason names, if it names one.
    pub fn measure(self) -> Option<MeasureName> {
        MEASURE_REASONS
            .iter()
            .find(|(reason, _)| *reason == self)
            .map(|(_, measure)| *measure)
    }

    /// The reasons an evaluation failed, one per failing measure (an
    /// undefined measure adds [`ReasonCode::IncompleteData`] once).
    pub fn of(evaluation: &evaluation::Evaluation) -> Vec<Self> {
        let mut codes = Vec::new();
        for verdict in evaluation.snapshot.verdicts.iter().filter(|v| !v.passed) {
            codes.push(Self::failing(verdict.measure));
            if verdict.value.is_none() && !codes.contains(&Self::IncompleteData) {
                codes.push(Self::IncompleteData);
            }
        }
        codes
    }
}

/// Each measure's reason code: the one table both directions read.
const MEASURE_REASONS: [(ReasonCode, MeasureName); 5] = [
    (ReasonCode::MarketShareLow, MeasureName::MarketShare),
    (
        ReasonCode::MentionShareLow,
        MeasureName::VoluntaryMentionShare,
    ),
    (ReasonCode::PriceVolatile, MeasureName::PriceVolatility),
    (ReasonCode::DeepDiscounting, MeasureName::DeepDiscountDays),
    (
        ReasonCode::SuperMemberRatioLow,
        MeasureName::SuperMemberRatio,
    ),
];

/// Why a workflow step was refused.
#[derive(Debug, thiserror::Error)]
pub enum OnboardingError {
    /// No such application or brand, or not visible to the caller.
    #[error("application not found")]
    NotFound,
    /// The step does not start from the application's state.
    #[error("cannot {action} an application that is {state}; allowed from: {allowed}", action = .action.as_str(), state = state_name(*.state), allowed = allowed(*.action))]
    IllegalTransition {
        /// The refused step.
        action: Action,
        /// Where the application stands.
        state: State,
    },
    /// The application changed since the caller read it.
    #[error("the application is at version {current}, not {expected}: read it again and retry")]
    Conflict {
        /// The version the caller based the step on.
        expected: i32,
        /// The version now.
        current: i32,
    },
    /// The brand already has an open application.
    #[error("the brand already has an open application ({0})")]
    AlreadyOpen(i64),
    /// Another reviewer holds the application.
    #[error("claimed by another reviewer ({0})")]
    ClaimedByOther(String),
    /// A decision needs the application claimed by the decider first (and
    /// a release needs a claim to give back).
    #[error("the application is not claimed: claim it before deciding it")]
    NotClaimed,
    /// The reviewer who rejected may not decide (or claim) the appeal.
    #[error("an appeal is decided by a different reviewer than the one who rejected")]
    SameReviewer,
    /// More than 30 days since the rejection.
    #[error("the appeal window closed at {0}")]
    AppealWindowClosed(DateTime<Utc>),
    /// The brand was refused lately; its category's policy makes it wait.
    #[error(
        "the brand's last application was refused; it may apply again from {0} (the category's cool-down)"
    )]
    CoolingDown(DateTime<Utc>),
    /// No such document, or not visible to the caller.
    #[error("document not found")]
    DocumentNotFound,
    /// No such condition, or not visible to the caller.
    #[error("condition not found")]
    ConditionNotFound,
    /// The document was verified or rejected already.
    #[error("document {0} was reviewed already")]
    AlreadyReviewed(i64),
    /// The condition was resolved already, or its deadline passed.
    #[error("condition {0} is closed: resolved already or past its deadline")]
    ConditionClosed(i64),
    /// Approval needs the qualifications the category's policy requires.
    #[error("the qualifications are incomplete: {0}")]
    QualificationsIncomplete(String),
    /// Bad input, naming the field.
    #[error("`{field}` {message}")]
    Invalid {
        /// The input field.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// Measuring failed.
    #[error(transparent)]
    Criteria(#[from] CriteriaError),
    /// The blob store failed.
    #[error(transparent)]
    Blob(#[from] crate::blobs::BlobError),
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// A state's stored (and wire) name, e.g. `IN_REVIEW`.
fn state_name(state: State) -> String {
    sea_orm::ActiveEnum::to_value(&state)
}

fn allowed(action: Action) -> String {
    let states: Vec<String> = action
        .source_states()
        .iter()
        .map(|s| state_name(*s))
        .collect();
    states.join(", ")
}

impl CodedError for OnboardingError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::NotFound | Self::DocumentNotFound | Self::ConditionNotFound => {
                ErrorCode::NotFound
            }
            Self::IllegalTransition { .. }
            | Self::QualificationsIncomplete(_)
            | Self::ConditionClosed(_)
            | Self::NotClaimed
            | Self::SameReviewer
            | Self::AppealWindowClosed(_)
            | Self::CoolingDown(_) => ErrorCode::IllegalTransition,
            Self::Conflict { .. }
            | Self::AlreadyOpen(_)
            | Self::ClaimedByOther(_)
            | Self::AlreadyReviewed(_) => ErrorCode::Conflict,
            Self::Invalid { .. } => ErrorCode::BadUserInput,
            Self::Criteria(error) => error.code(),
            Self::Db(_) | Self::Blob(_) => ErrorCode::Internal,
        }
    }
}

impl OnboardingError {
    /// The input field a client should look at, for user errors.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Invalid { field, .. } => field,
            Self::Conflict { .. } => "expectedVersion",
            Self::DocumentNotFound | Self::AlreadyReviewed(_) => "documentId",
            Self::ConditionNotFound | Self::ConditionClosed(_) => "conditionId",
            _ => "applicationId",
        }
    }
}

/// Checks a required free text.
fn text(field: &'static str, value: &str) -> Result<String, OnboardingError> {
    let value = value.trim();
    let chars = value.chars().count();
    if chars == 0 || chars > MAX_TEXT_CHARS {
        return Err(OnboardingError::Invalid {
            field,
            message: format!("must be 1 to {MAX_TEXT_CHARS} characters"),
        });
    }
    Ok(value.to_owned())
}

/// One event to append.
struct Step {
    action: Action,
    to: State,
    reasons: Vec<ReasonCode>,
    note: Option<String>,
    /// A reviewer's override of a reason a measure contradicts.
    override_note: Option<String>,
    evaluation_id: Option<i64>,
    due_at: Option<DateTime<Utc>>,
    /// Who took the step when not the caller (automatic screening).
    by: Option<&'static str>,
    /// Conditions an approval sets, stored with its event.
    conditions: Vec<conditions::NewCondition>,
}

impl Step {
    fn to(action: Action, to: State) -> Self {
        Self {
            action,
            to,
            reasons: Vec::new(),
            note: None,
            override_note: None,
            evaluation_id: None,
            due_at: None,
            by: None,
            conditions: Vec::new(),
        }
    }

    fn due(mut self, due_at: DateTime<Utc>) -> Self {
        self.due_at = Some(due_at);
        self
    }

    /// A step that marks `application` without moving it (documents,
    /// conditions): its state and deadline stay, the note says what.
    fn marking(action: Action, application: &application::Model, note: String) -> Self {
        Self {
            due_at: application.due_at,
            note: Some(note),
            ..Self::to(action, application.state)
        }
    }
}

/// Appends `step` to `application`'s timeline where the step starts from
/// its current state (a mark, a warning).
async fn mark(
    db: &impl ConnectionTrait,
    application: &application::Model,
    step: &Step,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    append(
        db,
        (application.id, application.brand_id),
        Some(application.state),
        step,
        actor,
        at,
    )
    .await
}

/// Row fields a step sets besides state, deadline, version and evaluation.
#[derive(Default)]
struct Marks {
    claimed_by: Option<Option<String>>,
    decided_by: Option<String>,
    appealed: bool,
    submitted_at: Option<DateTime<Utc>>,
}

/// Refuses a step based on a stale version or from the wrong state.
fn check(
    current: &application::Model,
    expected: i32,
    action: Action,
) -> Result<(), OnboardingError> {
    if current.version != expected {
        return Err(OnboardingError::Conflict {
            expected,
            current: current.version,
        });
    }
    if !action.allowed_from(current.state) {
        return Err(OnboardingError::IllegalTransition {
            action,
            state: current.state,
        });
    }
    Ok(())
}

/// Applies `steps` to `current` in one transaction: the conditional update
/// first (the version check that makes concurrent steps exclusive), then
/// the events, then the brand's status.
async fn commit(
    db: &DatabaseConnection,
    current: &application::Model,
    steps: Vec<Step>,
    marks: Marks,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<application::Model, OnboardingError> {
    let Some(last) = steps.last() else {
        return Ok(current.clone());
    };
    let state = last.to;
    let moved = state != current.state;
    let mut row = application::ActiveModel {
        state: Set(state),
        version: Set(current.version + 1),
        updated_at: Set(now),
        open_brand_id: Set(rules::is_open(state).then_some(current.brand_id)),
        ..Default::default()
    };
    row.due_at = Set(last.due_at);
    if moved {
        row.claimed_by = Set(None);
    }
    if let Some(id) = steps.iter().rev().find_map(|s| s.evaluation_id) {
        row.evaluation_id = Set(Some(id));
    }
    if let Some(claimed_by) = marks.claimed_by {
        row.claimed_by = Set(claimed_by);
    }
    if let Some(decided_by) = marks.decided_by {
        row.decided_by = Set(Some(decided_by));
    }
    if marks.appealed {
        row.appealed = Set(true);
    }
    if let Some(at) = marks
        .submitted_at
        .filter(|_| current.submitted_at.is_none())
    {
        row.submitted_at = Set(Some(at));
    }
    let txn = db.begin().await?;
    let updated = application::Entity::update_many()
        .set(row)
        .filter(application::Column::Id.eq(current.id))
        .filter(application::Column::Version.eq(current.version))
        .exec(&txn)
        .await;
    let updated = match updated {
        Ok(result) => result.rows_affected,
        Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            let open = open_application(&txn, current.brand_id).await?;
            return Err(OnboardingError::AlreadyOpen(open.map_or(0, |a| a.id)));
        }
        Err(error) => return Err(error.into()),
    };
    if updated == 0 {
        let now_version = application::Entity::find_by_id(current.id)
            .one(&txn)
            .await?
            .map_or(current.version, |a| a.version);
        return Err(OnboardingError::Conflict {
            expected: current.version,
            current: now_version,
        });
    }
    let by = steps.last().and_then(|step| step.by).unwrap_or(actor);
    let mut from = current.state;
    for step in &steps {
        append(
            &txn,
            (current.id, current.brand_id),
            Some(from),
            step,
            actor,
            now,
        )
        .await?;
        from = step.to;
    }
    if let Some(status) = rules::brand_status(state).filter(|_| moved) {
        set_brand_status(&txn, current.brand_id, status, by, now).await?;
    }
    txn.commit().await?;
    application::Entity::find_by_id(current.id)
        .one(db)
        .await?
        .ok_or(OnboardingError::NotFound)
}

async fn append(
    db: &impl ConnectionTrait,
    (application_id, brand_id): (i64, i64),
    from: Option<State>,
    step: &Step,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let actor = step.by.unwrap_or(actor);
    application_event::Entity::insert(application_event::ActiveModel {
        application_id: Set(application_id),
        at: Set(at),
        actor: Set(actor.to_owned()),
        action: Set(step.action.as_str().to_owned()),
        from_state: Set(from),
        to_state: Set(step.to),
        reason_codes: Set(ReasonCode::join(&step.reasons)),
        note: Set(step.note.clone()),
        override_note: Set(step.override_note.clone()),
        evaluation_id: Set(step.evaluation_id),
        due_at: Set(step.due_at),
        ..Default::default()
    })
    .exec(db)
    .await?;
    conditions::insert(db, (application_id, brand_id), &step.conditions, actor, at).await?;
    // Announced in the same transaction as the event: never one without
    // the other.
    if let Some(event) = announced(step) {
        let payload = serde_json::json!({
            "applicationId": application_id,
            "action": step.action.as_str(),
            "fromState": from.map(state_name),
            "toState": state_name(step.to),
            "reasonCodes": step.reasons.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            "note": step.note,
            "dueAt": step.due_at,
            "actor": actor,
        });
        crate::webhooks::enqueue(db, brand_id, event, &payload, at).await?;
    }
    Ok(())
}

/// What a step announces to the brand's (and the platform's) webhooks.
fn announced(step: &Step) -> Option<WebhookEvent> {
    match step.action {
        Action::Approve | Action::ApproveWithConditions | Action::Reject | Action::Uphold => {
            Some(WebhookEvent::ApplicationDecided)
        }
        Action::RequestInfo => Some(WebhookEvent::InfoRequested),
        Action::Screen if step.to == State::NeedsInfo => Some(WebhookEvent::InfoRequested),
        Action::Warn => Some(WebhookEvent::DeadlineWarning),
        Action::Reevaluate if step.to == State::Suspended => Some(WebhookEvent::BrandSuspended),
        Action::VerifyDocument | Action::RejectDocument => Some(WebhookEvent::DocumentReviewed),
        Action::MeetCondition | Action::MissCondition => Some(WebhookEvent::ConditionResolved),
        _ => None,
    }
}

/// Sets the brand's status; a suspension pauses its live benefits in the
/// same transaction (see [`crate::standing`]).
async fn set_brand_status(
    db: &impl ConnectionTrait,
    brand_id: i64,
    status: BrandStatus,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    brand::Entity::update_many()
        .set(brand::ActiveModel {
            status: Set(status),
            ..Default::default()
        })
        .filter(brand::Column::Id.eq(brand_id))
        .exec(db)
        .await?;
    if status == BrandStatus::Suspended {
        crate::benefits::pause_for_suspension(db, brand_id, actor, now).await?;
    }
    Ok(())
}

async fn open_application(
    db: &impl ConnectionTrait,
    brand_id: i64,
) -> Result<Option<application::Model>, DbErr> {
    application::Entity::find()
        .filter(application::Column::OpenBrandId.eq(brand_id))
        .one(db)
        .await
}

/// Inserts a new application in `start.to` with its first event.
async fn insert(
    db: &impl ConnectionTrait,
    brand: &brand::Model,
    statement: String,
    start: &Step,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<i64, DbErr> {
    let id = application::Entity::insert(application::ActiveModel {
        brand_id: Set(brand.id),
        category_id: Set(brand.category_id),
        open_brand_id: Set(rules::is_open(start.to).then_some(brand.id)),
        state: Set(start.to),
        version: Set(1),
        statement: Set(statement),
        claimed_by: Set(None),
        decided_by: Set(None),
        appealed: Set(false),
        due_at: Set(start.due_at),
        warned_due_at: Set(None),
        evaluation_id: Set(None),
        created_by: Set(actor.to_owned()),
        created_at: Set(now),
        submitted_at: Set(None),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(db)
    .await?
    .last_insert_id;
    append(db, (id, brand.id), None, start, actor, now).await?;
    Ok(id)
}

/// One application, if the caller may see its brand.
pub async fn get(
    db: &impl ConnectionTrait,
    scope: BrandScope,
    id: i64,
) -> Result<application::Model, OnboardingError> {
    scoped(
        application::Entity::find_by_id(id),
        application::Column::BrandId,
        scope,
    )
    .one(db)
    .await?
    .ok_or(OnboardingError::NotFound)
}

/// The applications with these ids the caller may see, in one query.
pub async fn by_ids(
    db: &impl ConnectionTrait,
    scope: BrandScope,
    ids: &[i64],
) -> Result<Vec<application::Model>, DbErr> {
    scoped(
        application::Entity::find(),
        application::Column::BrandId,
        scope,
    )
    .filter(application::Column::Id.is_in(ids.iter().copied()))
    .all(db)
    .await
}

/// Creates a draft for the caller's brand; a brand has at most one open
/// application (a rejected, expired, upheld or suspended one is closed).
pub async fn create(
    db: &DatabaseConnection,
    caller: &Caller,
    brand_id: i64,
    statement: &str,
) -> Result<application::Model, OnboardingError> {
    let statement = text("statement", statement)?;
    let brand = scoped(
        brand::Entity::find_by_id(brand_id),
        brand::Column::Id,
        caller.scope,
    )
    .one(db)
    .await?
    .ok_or(OnboardingError::NotFound)?;
    if let Some(open) = open_application(db, brand_id).await? {
        return Err(OnboardingError::AlreadyOpen(open.id));
    }
    if let Some(until) = cooling_down_until(db, &brand, caller.now).await? {
        return Err(OnboardingError::CoolingDown(until));
    }
    let txn = db.begin().await?;
    let start = Step::to(Action::Create, State::Draft);
    let id = match insert(&txn, &brand, statement, &start, &caller.subject, caller.now).await {
        Ok(id) => id,
        Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            drop(txn);
            let open = open_application(db, brand.id).await?;
            return Err(OnboardingError::AlreadyOpen(open.map_or(0, |a| a.id)));
        }
        Err(error) => return Err(error.into()),
    };
    txn.commit().await?;
    get(db, BrandScope::All, id).await
}

/// When a brand whose latest application was finally refused (REJECTED,
/// UPHELD) may apply again, if that is after `now`: its category's
/// cool-down counted from the refusal.
async fn cooling_down_until(
    db: &DatabaseConnection,
    brand: &brand::Model,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, OnboardingError> {
    let latest = application::Entity::find()
        .filter(application::Column::BrandId.eq(brand.id))
        .order_by_desc(application::Column::Id)
        .one(db)
        .await?;
    let Some(refused) = latest.filter(|a| matches!(a.state, State::Rejected | State::Upheld))
    else {
        return Ok(None);
    };
    let decided = application_event::Entity::find()
        .filter(application_event::Column::ApplicationId.eq(refused.id))
        .filter(
            application_event::Column::Action
                .is_in([Action::Reject.as_str(), Action::Uphold.as_str()]),
        )
        .order_by_desc(application_event::Column::Id)
        .one(db)
        .await?;
    let Some(decided) = decided else {
        return Ok(None);
    };
    let days = crate::criteria::policy::current(db, brand.category_id)
        .await?
        .reapply_cooldown_days;
    if days == 0 {
        return Ok(None);
    }
    let until = rules::deadline_after_days(decided.at, days);
    Ok((until > now).then_some(until))
}

/// Gives every brand that has a programme status but no application one
/// that records its standing (for data loaded by `seed` or `import`):
/// ACTIVE brands are APPROVED with their first scheduled re-evaluation
/// spread over the coming quarter, WATCHLIST brands get the watchlist
/// deadline, SUSPENDED ones a closed record. Prospects get nothing: they
/// apply. Returns how many were recorded.
pub async fn adopt_existing(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let known: std::collections::HashSet<i64> = application::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.brand_id)
        .collect();
    let brands = brand::Entity::find()
        .filter(brand::Column::Status.ne(BrandStatus::Prospect))
        .order_by_asc(brand::Column::Id)
        .all(db)
        .await?;
    let txn = db.begin().await?;
    let mut adopted = 0;
    for brand in brands.into_iter().filter(|b| !known.contains(&b.id)) {
        let (state, due_at) = match brand.status {
            BrandStatus::Watchlist => (
                State::Watchlist,
                Some(rules::deadline_after_days(now, rules::WATCHLIST_DAYS)),
            ),
            BrandStatus::Suspended => (State::Suspended, None),
            _ => (
                State::Approved,
                // Deterministic spread so a quarter's re-evaluations don't all fall on one day.
                Some(rules::deadline_after_days(
                    now,
                    1 + (brand.id.rem_euclid(90)) as u32,
                )),
            ),
        };
        let step = Step {
            due_at,
            ..Step::to(Action::Import, state)
        };
        insert(
            &txn,
            &brand,
            "admitted before onboarding was recorded here".to_owned(),
            &step,
            IMPORTER,
            now,
        )
        .await?;
        adopted += 1;
    }
    txn.commit().await?;
    Ok(adopted)
}

/// The actor of automatic screening steps.
pub const SCREENING: &str = "screening";

/// The actor of standings recorded by [`adopt_existing`].
pub const IMPORTER: &str = "import";

/// Screening after a submission or an answer: the brand is evaluated; a
/// measure that cannot be computed asks the brand for information, anything
/// else goes to a reviewer with the evaluation attached.
async fn screen(
    db: &DatabaseConnection,
    caller: &Caller,
    current: &application::Model,
    first: Step,
    marks: Marks,
) -> Result<application::Model, OnboardingError> {
    let now = caller.now;
    let evaluation = evaluation::run(db, current.brand_id, business_day(now), SCREENING).await?;
    let mut undefined: Vec<&str> = Vec::new();
    for reason in evaluation
        .snapshot
        .verdicts
        .iter()
        .filter_map(|v| v.undefined_reason.as_deref())
    {
        if !undefined.contains(&reason) {
            undefined.push(reason);
        }
    }
    let mut screened = if undefined.is_empty() {
        Step::to(Action::Screen, State::InReview)
    } else {
        let mut step = Step::to(Action::Screen, State::NeedsInfo)
            .due(rules::deadline_after_days(now, rules::DEFAULT_INFO_DAYS));
        step.reasons = vec![ReasonCode::IncompleteData];
        step.note = Some(format!(
            "automatic screening could not compute every measure: {}",
            undefined.join("; ")
        ));
        step
    };
    screened.evaluation_id = Some(evaluation.id);
    screened.by = Some(SCREENING);
    // Only an application in review is held by a reviewer.
    let mut marks = marks;
    if screened.to != State::InReview {
        marks.claimed_by = None;
    }
    commit(
        db,
        current,
        vec![first, screened],
        marks,
        &caller.subject,
        now,
    )
    .await
}

/// The brand sends its draft; screening runs at once.
pub async fn submit(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
    expected_version: i32,
) -> Result<application::Model, OnboardingError> {
    let current = get(db, caller.scope, id).await?;
    check(&current, expected_version, Action::Submit)?;
    let marks = Marks {
        submitted_at: Some(caller.now),
        ..Marks::default()
    };
    let submitted = Step::to(Action::Submit, State::Submitted);
    screen(db, caller, &current, submitted, marks).await
}

/// The brand answers a request for information; the application is
/// submitted again and screened again.
pub async fn respond(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
    expected_version: i32,
    answer: &str,
) -> Result<application::Model, OnboardingError> {
    let answer = text("answer", answer)?;
    let current = get(db, caller.scope, id).await?;
    check(&current, expected_version, Action::Respond)?;
    let mut responded = Step::to(Action::Respond, State::Submitted);
    responded.note = Some(answer);
    // The answer goes back to the reviewer who asked, not to the queue.
    let asker = application_event::Entity::find()
        .filter(application_event::Column::ApplicationId.eq(id))
        .filter(application_event::Column::Action.eq(Action::RequestInfo.as_str()))
        .order_by_desc(application_event::Column::Id)
        .one(db)
        .await?
        .map(|event| event.actor);
    // Only while the asker can still review (a live reviewer or admin
    // credential); otherwise the answer goes to the queue.
    let asker = match asker {
        Some(subject) if crate::auth::can_review(db, &subject, caller.now).await? => Some(subject),
        _ => None,
    };
    let marks = Marks {
        claimed_by: asker.map(Some),
        ..Marks::default()
    };
    screen(db, caller, &current, responded, marks).await
}

/// Why `reviewer` may not claim `current` now, if anything: the one rule
/// that [`claim`] applies and that clients are shown. Its state must allow
/// a claim, no other reviewer may hold it, and an appeal goes to someone
/// other than the reviewer who decided it.
pub fn claim_refusal(current: &application::Model, reviewer: &str) -> Option<OnboardingError> {
    if !Action::Claim.allowed_from(current.state) {
        return Some(OnboardingError::IllegalTransition {
            action: Action::Claim,
            state: current.state,
        });
    }
    if let Some(holder) = current.claimed_by.as_deref().filter(|h| *h != reviewer) {
        return Some(OnboardingError::ClaimedByOther(holder.to_owned()));
    }
    if current.state == State::Appealed && current.decided_by.as_deref() == Some(reviewer) {
        return Some(OnboardingError::SameReviewer);
    }
    None
}

/// Why the brand may not appeal `current` at `now`, if anything: the one
/// rule that [`appeal`] applies and that clients are shown. Only a
/// rejection is appealed, and only before its window closes.
pub fn appeal_refusal(current: &application::Model, now: DateTime<Utc>) -> Option<OnboardingError> {
    if !Action::Appeal.allowed_from(current.state) {
        return Some(OnboardingError::IllegalTransition {
            action: Action::Appeal,
            state: current.state,
        });
    }
    current
        .due_at
        .filter(|due| *due <= now)
        .map(OnboardingError::AppealWindowClosed)
}

/// A reviewer takes an application in review, or an appeal.
pub async fn claim(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
    expected_version: i32,
) -> Result<application::Model, OnboardingError> {
    let reviewer = caller.subject.as_str();
    let current = get(db, caller.scope, id).await?;
    check(&current, expected_version, Action::Claim)?;
    if let Some(refusal) = claim_refusal(&current, reviewer) {
        return Err(refusal);
    }
    let marks = Marks {
        claimed_by: Some(Some(reviewer.to_owned())),
        ..Marks::default()
    };
    let step = Step {
        due_at: current.due_at,
        ..Step::to(Action::Claim, current.state)
    };
    commit(db, &current, vec![step], marks, reviewer, caller.now).await
}

/// Gives a claim back so another reviewer can take the application: the
/// holder may, and so may an admin (`take_over`) when the holder is away.
pub async fn release(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
    expected_version: i32,
    take_over: bool,
) -> Result<application::Model, OnboardingError> {
    let current = get(db, caller.scope, id).await?;
    check(&current, expected_version, Action::Release)?;
    let holder = current
        .claimed_by
        .clone()
        .ok_or(OnboardingError::NotClaimed)?;
    if holder != caller.subject && !take_over {
        return Err(OnboardingError::ClaimedByOther(holder));
    }
    let marks = Marks {
        claimed_by: Some(None),
        ..Marks::default()
    };
    let step = Step {
        due_at: current.due_at,
        note: Some(format!("released the claim of {holder}")),
        ..Step::to(Action::Release, current.state)
    };
    commit(db, &current, vec![step], marks, &caller.subject, caller.now).await
}

/// What a reviewer decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Approve, ApproveWithConditions, Reject, RequestInfo or Uphold.
    pub action: Action,
    /// Why (required to reject or uphold).
    pub reasons: Vec<ReasonCode>,
    /// The reviewer's note: the question for RequestInfo, the conditions
    /// for ApproveWithConditions.
    pub note: Option<String>,
    /// Probation length, for ApproveWithConditions (1–365).
    pub probation_days: Option<u32>,
    /// Days the brand has to answer, for RequestInfo (1–90, default 14).
    pub info_days: Option<u32>,
    /// Why a refusal stands although the evaluation passed a measure one
    /// of its reasons names: required then, refused otherwise.
    pub override_note: Option<String>,
    /// The tracked conditions of an ApproveWithConditions (without any,
    /// the note is the one condition).
    pub conditions: Vec<conditions::ConditionSpec>,
}

impl Decision {
    /// A decision with nothing but its action; the rest is filled in.
    pub fn new(action: Action) -> Self {
        Self {
            action,
            reasons: Vec::new(),
            note: None,
            probation_days: None,
            info_days: None,
            override_note: None,
            conditions: Vec::new(),
        }
    }
}

fn invalid(field: &'static str, message: &str) -> OnboardingError {
    OnboardingError::Invalid {
        field,
        message: message.to_owned(),
    }
}

/// Validates a decision and turns it into the step it makes.
fn decision_step(decision: &Decision, now: DateTime<Utc>) -> Result<Step, OnboardingError> {
    let note = decision
        .note
        .as_deref()
        .map(|n| text("note", n))
        .transpose()?;
    if decision.probation_days.is_some() && decision.action != Action::ApproveWithConditions {
        return Err(invalid(
            "probationDays",
            "is only for APPROVE_WITH_CONDITIONS",
        ));
    }
    if decision.info_days.is_some() && decision.action != Action::RequestInfo {
        return Err(invalid("infoDeadlineDays", "is only for REQUEST_INFO"));
    }
    if !decision.conditions.is_empty() && decision.action != Action::ApproveWithConditions {
        return Err(invalid(
            "conditions",
            "are only for APPROVE_WITH_CONDITIONS",
        ));
    }
    let mut step = match decision.action {
        Action::Approve => {
            Step::to(Action::Approve, State::Approved).due(rules::next_reevaluation(now))
        }
        Action::ApproveWithConditions => {
            let days = decision.probation_days.ok_or_else(|| {
                invalid("probationDays", "is required to approve with conditions")
            })?;
            if !(1..=365).contains(&days) {
                return Err(invalid("probationDays", "must be 1 to 365"));
            }
            let mut step = Step::to(Action::ApproveWithConditions, State::ApprovedWithConditions)
                .due(rules::deadline_after_days(now, days));
            step.conditions = conditions::plan(&decision.conditions, note.as_deref(), days, now)?;
            step
        }
        Action::Reject | Action::Uphold => {
            if decision.reasons.is_empty() {
                return Err(invalid("reasonCodes", "needs at least one reason code"));
            }
            Step::to(
                decision.action,
                if decision.action == Action::Reject {
                    State::Rejected
                } else {
                    State::Upheld
                },
            )
        }
        Action::RequestInfo => {
            let days = decision.info_days.unwrap_or(rules::DEFAULT_INFO_DAYS);
            if !(1..=90).contains(&days) {
                return Err(invalid("infoDeadlineDays", "must be 1 to 90"));
            }
            if note.is_none() {
                return Err(invalid("note", "must ask the question"));
            }
            Step::to(Action::RequestInfo, State::NeedsInfo)
                .due(rules::deadline_after_days(now, days))
        }
        // Named, not `_`: a new action must be placed on one side or the other.
        Action::Create
        | Action::Import
        | Action::Submit
        | Action::Screen
        | Action::Respond
        | Action::Claim
        | Action::Release
        | Action::Appeal
        | Action::Reevaluate
        | Action::Expire
        | Action::Warn
        | Action::FileDocument
        | Action::VerifyDocument
        | Action::RejectDocument
        | Action::SubmitEvidence
        | Action::MeetCondition
        | Action::MissCondition => return Err(invalid("decision", "is not a decision")),
    };
    if decision.action == Action::Reject {
        step.due_at = Some(rules::deadline_after_days(now, rules::APPEAL_WINDOW_DAYS));
    }
    step.reasons.clone_from(&decision.reasons);
    step.note = note;
    Ok(step)
}

/// A reviewer decides an application they hold (in review, or an appeal
/// they did not reject themselves).
pub async fn decide(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
    expected_version: i32,
    decision: &Decision,
) -> Result<application::Model, OnboardingError> {
    let reviewer = caller.subject.as_str();
    let step = decision_step(decision, caller.now)?;
    let current = get(db, caller.scope, id).await?;
    check(&current, expected_version, decision.action)?;
    if current.claimed_by.as_deref() != Some(reviewer) {
        return Err(match current.claimed_by {
            Some(holder) => OnboardingError::ClaimedByOther(holder),
            None => OnboardingError::NotClaimed,
        });
    }
    if matches!(
        decision.action,
        Action::Approve | Action::ApproveWithConditions
    ) {
        let gaps = documents::gaps_of(db, &current, caller.now).await?;
        if !gaps.is_empty() {
            return Err(OnboardingError::QualificationsIncomplete(describe_gaps(
                &gaps,
            )));
        }
    }
    let refusal = matches!(decision.action, Action::Reject | Action::Uphold);
    let contradicted = match current.evaluation_id.filter(|_| refusal) {
        Some(evaluation) => contradicted(db, &decision.reasons, evaluation).await?,
        None => Vec::new(),
    };
    let override_note = match (&decision.override_note, contradicted.is_empty()) {
        (Some(note), false) => Some(text("overrideNote", note)?),
        (None, false) => {
            return Err(invalid(
                "overrideNote",
                &format!(
                    "is required: the evaluation passed {}; say why the refusal stands",
                    contradicted.join(", ")
                ),
            ));
        }
        (Some(_), true) => {
            return Err(invalid(
                "overrideNote",
                "is only for a reason the evaluation contradicts",
            ));
        }
        (None, true) => None,
    };
    let step = Step {
        evaluation_id: current.evaluation_id,
        override_note,
        ..step
    };
    let marks = Marks {
        decided_by: Some(reviewer.to_owned()),
        ..Marks::default()
    };
    commit(db, &current, vec![step], marks, reviewer, caller.now).await
}

/// Gaps as a reviewer reads them, e.g. `BUSINESS_LICENSE missing`.
fn describe_gaps(gaps: &[documents::Gap]) -> String {
    gaps.iter()
        .map(|gap| {
            let problem = match gap.problem {
                documents::Problem::Missing => "missing",
                documents::Problem::Pending => "not yet verified",
                documents::Problem::Rejected => "rejected",
                documents::Problem::Expired => "expired",
                documents::Problem::ChainMismatch => {
                    "needed: no verified chain from the trademark's owner to the licensed company"
                }
            };
            format!("{} {problem}", documents::kind_name(gap.kind))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The reasons among `reasons` that evaluation `evaluation_id` contradicts
/// (the measure a reason names passed), each with what it measured.
async fn contradicted(
    db: &DatabaseConnection,
    reasons: &[ReasonCode],
    evaluation_id: i64,
) -> Result<Vec<String>, OnboardingError> {
    let evaluation = evaluation::get(db, BrandScope::All, evaluation_id).await?;
    Ok(reasons
        .iter()
        .filter_map(|reason| {
            let measure = reason.measure()?;
            let verdict = evaluation
                .snapshot
                .verdicts
                .iter()
                .find(|v| v.measure == measure && v.passed)?;
            let judged = verdict
                .judged_value
                .map_or_else(|| "none".to_owned(), |v| measure.show(v));
            Some(format!(
                "{} ({} {judged} against {})",
                reason.as_str(),
                measure.label(),
                measure.show(verdict.threshold)
            ))
        })
        .collect())
}

/// The brand appeals a rejection: once, within the window.
pub async fn appeal(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
    expected_version: i32,
    note: &str,
) -> Result<application::Model, OnboardingError> {
    let note = text("note", note)?;
    let current = get(db, caller.scope, id).await?;
    // Once: an appeal ends APPROVED (with or without conditions) or
    // UPHELD, never REJECTED again.
    check(&current, expected_version, Action::Appeal)?;
    if let Some(refusal) = appeal_refusal(&current, caller.now) {
        return Err(refusal);
    }
    // The appeal is decided on a fresh evaluation (today's data, the
    // policy in force), with the brand's new evidence in the note.
    let evaluation =
        evaluation::run(db, current.brand_id, business_day(caller.now), SCREENING).await?;
    let mut step = Step::to(Action::Appeal, State::Appealed);
    step.note = Some(note);
    step.evaluation_id = Some(evaluation.id);
    let marks = Marks {
        appealed: true,
        ..Marks::default()
    };
    commit(db, &current, vec![step], marks, &caller.subject, caller.now).await
}

/// Measures an admitted brand again and moves it by the result: a pass
/// keeps (or restores) APPROVED with the next quarterly date; a failure puts
/// it on the WATCHLIST, or, on the watchlist past its deadline, SUSPENDS it.
/// During probation, an early pass leaves the probation running.
///
/// Besides the measures, the brand fails when a document its category's
/// policy requires no longer counts (`QUALIFICATION_MISSING`) and when the
/// caller found a failure of its own (`also_failing`: a missed condition).
pub(crate) async fn reevaluate_row(
    db: &DatabaseConnection,
    current: &application::Model,
    also_failing: &[ReasonCode],
    actor: &str,
    now: DateTime<Utc>,
) -> Result<application::Model, OnboardingError> {
    let evaluation = evaluation::run(db, current.brand_id, business_day(now), actor).await?;
    let mut reasons = ReasonCode::of(&evaluation);
    reasons.extend_from_slice(also_failing);
    if !documents::gaps_of(db, current, now).await?.is_empty() {
        reasons.push(ReasonCode::QualificationMissing);
    }
    let passed = evaluation.passed && reasons.is_empty();
    let due_passed = current.due_at.is_some_and(|due| due <= now);
    let step = match (current.state, passed) {
        (State::ApprovedWithConditions, true) if !due_passed => Step {
            due_at: current.due_at,
            ..Step::to(Action::Reevaluate, State::ApprovedWithConditions)
        },
        (_, true) => {
            Step::to(Action::Reevaluate, State::Approved).due(rules::next_reevaluation(now))
        }
        (State::Watchlist, false) if due_passed => Step::to(Action::Reevaluate, State::Suspended),
        (State::Watchlist, false) => Step {
            due_at: current.due_at,
            ..Step::to(Action::Reevaluate, State::Watchlist)
        },
        (_, false) => Step::to(Action::Reevaluate, State::Watchlist)
            .due(rules::deadline_after_days(now, rules::WATCHLIST_DAYS)),
    };
    let step = Step {
        reasons,
        evaluation_id: Some(evaluation.id),
        ..step
    };
    commit(db, current, vec![step], Marks::default(), actor, now).await
}

/// A reviewer or admin re-evaluates an admitted brand on demand.
pub async fn reevaluate(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i64,
    expected_version: i32,
) -> Result<application::Model, OnboardingError> {
    let current = get(db, caller.scope, id).await?;
    check(&current, expected_version, Action::Reevaluate)?;
    reevaluate_row(db, &current, &[], &caller.subject, caller.now).await
}

/// Narrows the application list (the reviewer queue).
#[derive(Debug, Clone, Default)]
pub struct ApplicationFilter {
    /// Only these states (empty: all).
    pub states: Vec<State>,
    /// Only this category (by code).
    pub category_code: Option<String>,
    /// Only applications first submitted at or before this instant (age).
    pub submitted_before: Option<DateTime<Utc>>,
    /// Only applications whose deadline falls at or before this instant.
    pub due_before: Option<DateTime<Utc>>,
    /// Only claimed (true) or unclaimed (false) ones.
    pub claimed: Option<bool>,
}

/// A page of the applications the caller may see, oldest first.
pub async fn list(
    db: &impl ConnectionTrait,
    scope: BrandScope,
    filter: &ApplicationFilter,
    page: PageRequest,
) -> Result<Page<application::Model>, OnboardingError> {
    let mut select = scoped(
        application::Entity::find(),
        application::Column::BrandId,
        scope,
    );
    if !filter.states.is_empty() {
        select = select.filter(application::Column::State.is_in(filter.states.clone()));
    }
    if let Some(code) = &filter.category_code {
        select = select.filter(
            application::Column::CategoryId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(category::Column::Id)
                    .from(category::Entity)
                    .and_where(category::Column::Code.eq(code.as_str()))
                    .take(),
            ),
        );
    }
    if let Some(before) = filter.submitted_before {
        select = select.filter(application::Column::SubmittedAt.lte(before));
    }
    if let Some(before) = filter.due_before {
        select = select.filter(application::Column::DueAt.lte(before));
    }
    select = match filter.claimed {
        Some(true) => select.filter(application::Column::ClaimedBy.is_not_null()),
        Some(false) => select.filter(application::Column::ClaimedBy.is_null()),
        None => select,
    };
    Ok(fetch_page(db, select, application::Column::Id, page).await?)
}

/// The events of many applications, in order, in one query.
pub async fn events_of(
    db: &impl ConnectionTrait,
    application_ids: &[i64],
) -> Result<HashMap<i64, Vec<application_event::Model>>, DbErr> {
    let rows = application_event::Entity::find()
        .filter(application_event::Column::ApplicationId.is_in(application_ids.iter().copied()))
        .order_by_asc(application_event::Column::Id)
        .all(db)
        .await?;
    let mut by_application: HashMap<i64, Vec<_>> = HashMap::new();
    for row in rows {
        by_application
            .entry(row.application_id)
            .or_default()
            .push(row);
    }
    Ok(by_application)
}

/// The latest application of each of many brands, in one query.
pub async fn latest_of(
    db: &impl ConnectionTrait,
    brand_ids: &[i64],
) -> Result<HashMap<i64, application::Model>, DbErr> {
    let rows = application::Entity::find()
        .filter(application::Column::BrandId.is_in(brand_ids.iter().copied()))
        .order_by_asc(application::Column::Id)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|row| (row.brand_id, row)).collect())
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone as _, Utc};

    use super::*;

    fn decision(action: Action) -> Decision {
        Decision::new(action)
    }

    #[test]
    fn decisions_become_their_step_or_name_the_missing_field() {
        // 2026-11-20 12:00 UTC is 20:00 in Shanghai.
        let now = Utc
            .with_ymd_and_hms(2026, 11, 20, 12, 0, 0)
            .single()
            .expect("instant");
        let approve = decision_step(&decision(Action::Approve), now).expect("approve");
        assert_eq!(
            (approve.action, approve.to),
            (Action::Approve, State::Approved)
        );
        assert_eq!(approve.due_at, Some(rules::next_reevaluation(now)));

        let reject = Decision {
            reasons: vec![ReasonCode::MarketShareLow],
            ..decision(Action::Reject)
        };
        let step = decision_step(&reject, now).expect("reject");
        assert_eq!(step.to, State::Rejected);
        assert_eq!(step.reasons, [ReasonCode::MarketShareLow]);
        assert_eq!(
            step.due_at,
            Some(rules::deadline_after_days(now, rules::APPEAL_WINDOW_DAYS)),
            "a rejection opens the appeal window"
        );

        let conditional = Decision {
            probation_days: Some(90),
            note: Some("  keep prices stable  ".to_owned()),
            ..decision(Action::ApproveWithConditions)
        };
        let step = decision_step(&conditional, now).expect("conditions");
        assert_eq!(step.to, State::ApprovedWithConditions);
        assert_eq!(step.note.as_deref(), Some("keep prices stable"));
        assert_eq!(step.due_at, Some(rules::deadline_after_days(now, 90)));

        let refused = |d: Decision| match decision_step(&d, now) {
            Err(error) => error.field(),
            Ok(step) => panic!("{:?} was accepted as {:?}", d, step.to),
        };
        assert_eq!(refused(decision(Action::Reject)), "reasonCodes");
        assert_eq!(refused(decision(Action::Uphold)), "reasonCodes");
        assert_eq!(
            refused(decision(Action::ApproveWithConditions)),
            "probationDays"
        );
        assert_eq!(
            refused(Decision {
                probation_days: Some(366),
                note: Some("x".to_owned()),
                ..decision(Action::ApproveWithConditions)
            }),
            "probationDays"
        );
        assert_eq!(
            refused(Decision {
                probation_days: Some(30),
                ..decision(Action::ApproveWithConditions)
            }),
            "conditions",
            "neither tracked conditions nor a note stating them"
        );
        assert_eq!(
            refused(Decision {
                conditions: vec![conditions::ConditionSpec {
                    description: "x".to_owned(),
                    due_in_days: None,
                }],
                ..decision(Action::Approve)
            }),
            "conditions"
        );
        assert_eq!(refused(decision(Action::RequestInfo)), "note");
        assert_eq!(
            refused(Decision {
                info_days: Some(91),
                note: Some("which licence?".to_owned()),
                ..decision(Action::RequestInfo)
            }),
            "infoDeadlineDays"
        );
        assert_eq!(
            refused(Decision {
                probation_days: Some(30),
                ..decision(Action::Approve)
            }),
            "probationDays"
        );
        assert_eq!(refused(decision(Action::Submit)), "decision");
    }
}
