//! Applications to the programme: the brand's side (create, submit, answer,
//! appeal), the reviewer's queue and decisions, on-demand re-evaluation.
//! Domain refusals come back as `userErrors`; only a missing role is a
//! GraphQL error.

use async_graphql::{
    ComplexObject, Context, Enum, ID, InputObject, Object, SimpleObject,
    connection::{Connection, OpaqueCursor},
};
use chrono::{DateTime, Utc};
use entity::{application, application_event};

use super::{
    ApiError, UserError, brands::Brand, connection, criteria::Evaluation, db, decode_cursor,
    loaders, outcome, parse_id, principal, require,
};
use crate::{
    auth::{Caller, Principal, Role},
    error::ErrorCode,
    onboarding::{self, Action, ApplicationFilter, Decision, OnboardingError},
    pagination::PageRequest,
};

/// Where an application stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::ApplicationState")]
pub enum ApplicationState {
    /// Written by the brand, not yet sent.
    Draft,
    /// Sent; automatic screening runs next.
    Submitted,
    /// Screened; waiting for (or with) a reviewer.
    InReview,
    /// The brand must answer a question before `dueAt`.
    NeedsInfo,
    /// The brand missed the deadline to answer.
    Expired,
    /// Admitted; the brand is ACTIVE and re-evaluated quarterly.
    Approved,
    /// Admitted on probation until `dueAt`.
    ApprovedWithConditions,
    /// Refused, with reason codes; may be appealed once until `dueAt`.
    Rejected,
    /// Appealed; a different reviewer decides.
    Appealed,
    /// The appeal failed; the rejection stands.
    Upheld,
    /// Admitted but failing a re-evaluation; must pass by `dueAt`.
    Watchlist,
    /// Removed from the programme after a missed watchlist deadline.
    Suspended,
}

/// Why an application was refused or moved.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::onboarding::ReasonCode")]
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
    /// A risk the measures do not show.
    BrandRisk,
    /// Anything else; the note says what.
    Other,
}

/// What an application's `dueAt` means.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::onboarding::DueKind")]
pub enum DueKind {
    /// The brand must answer by then, or the application expires.
    InfoDeadline,
    /// Probation ends; the brand is re-evaluated.
    ProbationEnd,
    /// The next scheduled re-evaluation.
    Reevaluation,
    /// The brand must pass a re-evaluation by then, or is suspended.
    WatchlistDeadline,
    /// The last moment to appeal.
    AppealWindowEnd,
}

/// A reviewer's decision.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum DecisionKind {
    /// Admit (in review, or on appeal).
    Approve,
    /// Admit on probation (`probationDays`, conditions in `note`).
    ApproveWithConditions,
    /// Refuse (`reasonCodes` required).
    Reject,
    /// Ask the brand (`note`), with `infoDeadlineDays` (default 14).
    RequestInfo,
    /// Confirm the rejection on appeal (`reasonCodes` required).
    Uphold,
}

impl From<DecisionKind> for Action {
    fn from(kind: DecisionKind) -> Self {
        match kind {
            DecisionKind::Approve => Self::Approve,
            DecisionKind::ApproveWithConditions => Self::ApproveWithConditions,
            DecisionKind::Reject => Self::Reject,
            DecisionKind::RequestInfo => Self::RequestInfo,
            DecisionKind::Uphold => Self::Uphold,
        }
    }
}

/// One step in an application's history; events are never changed.
#[derive(SimpleObject)]
pub struct ApplicationEvent {
    /// When (UTC).
    at: DateTime<Utc>,
    /// Who: a principal's subject, `screening` or `scheduler`.
    actor: String,
    /// What happened.
    action: ApplicationAction,
    /// The state before (null for creation).
    from_state: Option<ApplicationState>,
    /// The state after (the same as before for claims and warnings).
    to_state: ApplicationState,
    /// Why.
    reason_codes: Vec<ReasonCode>,
    /// The actor's note (the question, the answer, the conditions …).
    note: Option<String>,
    /// The evaluation the step relied on.
    evaluation_id: Option<ID>,
    /// The deadline the step set or warned about.
    due_at: Option<DateTime<Utc>>,
}

impl TryFrom<application_event::Model> for ApplicationEvent {
    type Error = ApiError;

    fn try_from(row: application_event::Model) -> Result<Self, ApiError> {
        let action: Action = crate::db::stored("application_event.action", &row.action)?;
        Ok(Self {
            at: row.at,
            actor: row.actor,
            action: action.into(),
            from_state: row.from_state.map(Into::into),
            to_state: row.to_state.into(),
            reason_codes: onboarding::ReasonCode::parse_list(&row.reason_codes)
                .into_iter()
                .map(Into::into)
                .collect(),
            note: row.note,
            evaluation_id: row.evaluation_id.map(|id| ID(id.to_string())),
            due_at: row.due_at,
        })
    }
}

/// What an application event records: a step of the brand, a reviewer,
/// screening or the scheduler.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::onboarding::Action")]
pub enum ApplicationAction {
    /// The brand created a draft.
    Create,
    /// A standing loaded with platform data (admitted before this system).
    Import,
    /// The brand sent its draft.
    Submit,
    /// Automatic screening after a submission.
    Screen,
    /// The brand answered a request for information.
    Respond,
    /// A reviewer took the application.
    Claim,
    /// The claim was given back.
    Release,
    /// A reviewer admitted the brand.
    Approve,
    /// A reviewer admitted the brand on probation.
    ApproveWithConditions,
    /// A reviewer refused, with reason codes.
    Reject,
    /// A reviewer asked the brand a question, with a deadline.
    RequestInfo,
    /// The brand appealed a rejection.
    Appeal,
    /// A second reviewer confirmed the rejection.
    Uphold,
    /// The admitted brand was measured again.
    Reevaluate,
    /// A request for information went unanswered past its deadline.
    Expire,
    /// A deadline is 30 days away or less.
    Warn,
}

/// A brand's application to the programme and, once admitted, its standing.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Application {
    /// Its id; also its federation key.
    id: ID,
    /// Where it stands.
    state: ApplicationState,
    /// Pass this as `expectedVersion` to change it.
    version: i32,
    /// The brand's statement.
    statement: String,
    /// The reviewer holding it.
    claimed_by: Option<String>,
    /// The reviewer of the last decision.
    decided_by: Option<String>,
    /// The brand has used its one appeal.
    appealed: bool,
    /// The current state's deadline, if it has one.
    due_at: Option<DateTime<Utc>>,
    /// What `dueAt` means.
    due_kind: Option<DueKind>,
    /// When it was created.
    created_at: DateTime<Utc>,
    /// When it was first submitted.
    submitted_at: Option<DateTime<Utc>>,
    /// When it last changed.
    updated_at: DateTime<Utc>,
    #[graphql(skip)]
    row_id: i64,
    #[graphql(skip)]
    brand_id: i64,
    #[graphql(skip)]
    evaluation_id: Option<i64>,
}

impl From<application::Model> for Application {
    fn from(row: application::Model) -> Self {
        Self {
            id: ID(row.id.to_string()),
            state: row.state.into(),
            version: row.version,
            statement: row.statement,
            claimed_by: row.claimed_by,
            decided_by: row.decided_by,
            appealed: row.appealed,
            due_at: row.due_at,
            due_kind: row
                .due_at
                .and(onboarding::rules::due_kind(row.state))
                .map(Into::into),
            created_at: row.created_at,
            submitted_at: row.submitted_at,
            updated_at: row.updated_at,
            row_id: row.id,
            brand_id: row.brand_id,
            evaluation_id: row.evaluation_id,
        }
    }
}

#[ComplexObject]
impl Application {
    /// The applying brand.
    async fn brand(&self, ctx: &Context<'_>) -> Result<Brand, ApiError> {
        loaders(ctx)?
            .brands
            .load_one(self.brand_id)
            .await?
            .map(Brand::from)
            .ok_or_else(|| ApiError::new(ErrorCode::Internal, "application without a brand"))
    }

    /// The latest evaluation (screening or re-evaluation).
    async fn latest_evaluation(&self, ctx: &Context<'_>) -> Result<Option<Evaluation>, ApiError> {
        let Some(id) = self.evaluation_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)?
            .evaluations
            .load_one(id)
            .await?
            .map(Evaluation::from))
    }

    /// Every step so far, oldest first.
    async fn events(&self, ctx: &Context<'_>) -> Result<Vec<ApplicationEvent>, ApiError> {
        loaders(ctx)?
            .events
            .load_one(self.row_id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(ApplicationEvent::try_from)
            .collect()
    }
}

/// Narrows `applications` (the reviewer queue).
#[derive(InputObject, Default)]
pub struct ApplicationFilterInput {
    /// Only these states.
    states: Option<Vec<ApplicationState>>,
    /// Only brands in the category with this code.
    category: Option<String>,
    /// Only applications first submitted at or before this instant (how old).
    submitted_before: Option<DateTime<Utc>>,
    /// Only applications whose deadline falls at or before this instant.
    due_before: Option<DateTime<Utc>>,
    /// Only claimed (true) or unclaimed (false) applications.
    claimed: Option<bool>,
}

/// A reviewer's decision on an application they hold.
#[derive(InputObject)]
pub struct DecideApplicationInput {
    /// The application.
    application_id: ID,
    /// The version the decision is based on.
    expected_version: i32,
    /// What is decided.
    decision: DecisionKind,
    /// Why (required to reject or uphold).
    #[graphql(default)]
    reason_codes: Vec<ReasonCode>,
    /// The question (REQUEST_INFO), the conditions (APPROVE_WITH_CONDITIONS) or a remark.
    note: Option<String>,
    /// Probation length in days, 1–365 (APPROVE_WITH_CONDITIONS only).
    probation_days: Option<u32>,
    /// Days the brand has to answer, 1–90, default 14 (REQUEST_INFO only).
    info_deadline_days: Option<u32>,
}

/// The result of an application mutation.
#[derive(SimpleObject)]
pub struct ApplicationPayload {
    /// The application after the step.
    application: Option<Application>,
    /// Why the step was refused.
    user_errors: Vec<UserError>,
}

/// A step's outcome as a payload: refusals become user errors naming the
/// input field, storage failures stay (masked) GraphQL errors.
fn payload(
    result: Result<application::Model, OnboardingError>,
) -> Result<ApplicationPayload, ApiError> {
    let (row, user_errors) = outcome(result, |e| e.field().to_owned())?;
    Ok(ApplicationPayload {
        application: row.map(Into::into),
        user_errors,
    })
}

const BRAND_OPERATOR: &[Role] = &[Role::BrandOperator];
const REVIEWER: &[Role] = &[Role::Reviewer];
const READERS: &[Role] = &[
    Role::BrandOperator,
    Role::BrandAnalyst,
    Role::Reviewer,
    Role::Admin,
];

fn application_id(id: &ID) -> Result<i64, ApiError> {
    parse_id(id, "an application")
}

const APPLYING: &str = "applying for the programme";

/// Application root fields.
#[derive(Default)]
pub struct OnboardingQuery;

#[Object]
impl OnboardingQuery {
    /// One application; another brand's answers NOT_FOUND for brand roles.
    async fn application(&self, ctx: &Context<'_>, id: ID) -> Result<Application, ApiError> {
        let principal = principal(ctx)?;
        require(principal, READERS, "reading applications")?;
        Ok(
            onboarding::get(db(ctx)?, principal.brand_scope(), application_id(&id)?)
                .await?
                .into(),
        )
    }

    /// Applications the caller may see, oldest first: the reviewer queue
    /// for platform roles, the brand's own for brand roles. Pass `first`
    /// or `last`, 1 to 100.
    #[graphql(complexity = "first.or(last).unwrap_or(1).clamp(1, 100) as usize * child_complexity")]
    async fn applications(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<ApplicationFilterInput>,
    ) -> Result<Connection<OpaqueCursor<i64>, Application>, ApiError> {
        let principal = principal(ctx)?;
        require(principal, READERS, "reading applications")?;
        let request = PageRequest::new(first, decode_cursor(after)?, last, decode_cursor(before)?)?;
        let filter = filter.unwrap_or_default();
        let filter = ApplicationFilter {
            states: filter
                .states
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            category_code: filter.category,
            submitted_before: filter.submitted_before,
            due_before: filter.due_before,
            claimed: filter.claimed,
        };
        let page = onboarding::list(db(ctx)?, principal.brand_scope(), &filter, request).await?;
        Ok(connection(page, |row| row.id, Application::from))
    }

    /// Federation entity lookup, batched; the same roles as
    /// `application(id)`, and `null` (with a `NOT_FOUND` error at its
    /// index) for an application the caller does not see.
    #[graphql(entity)]
    async fn find_application_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<Option<Application>, ApiError> {
        require(principal(ctx)?, READERS, "reading applications")?;
        Ok(super::entities::load(&loaders(ctx)?.applications, &id)
            .await?
            .map(Application::from))
    }
}

/// Application mutations.
#[derive(Default)]
pub struct OnboardingMutation;

/// The parts every step starts from: the database, the caller (after the
/// role check) and the principal behind it.
fn step_context<'a>(
    ctx: &Context<'a>,
    roles: &[Role],
    what: &str,
) -> Result<(&'a sea_orm::DatabaseConnection, Caller, &'a Principal), ApiError> {
    let principal = principal(ctx)?;
    require(principal, roles, what)?;
    Ok((db(ctx)?, Caller::now(principal), principal))
}

#[Object]
impl OnboardingMutation {
    /// Starts a draft application for the caller's brand (BRAND_OPERATOR).
    /// A brand has at most one open application.
    async fn create_application(
        &self,
        ctx: &Context<'_>,
        statement: String,
    ) -> Result<ApplicationPayload, ApiError> {
        let (db, caller, principal) = step_context(ctx, BRAND_OPERATOR, APPLYING)?;
        let brand = principal
            .brand_id
            .ok_or_else(|| ApiError::new(ErrorCode::Forbidden, "this credential has no brand"))?;
        payload(onboarding::create(db, &caller, brand, &statement).await)
    }

    /// Sends a draft (BRAND_OPERATOR); screening evaluates the brand at once
    /// and moves it to IN_REVIEW, or to NEEDS_INFO when a measure cannot be
    /// computed.
    async fn submit_application(
        &self,
        ctx: &Context<'_>,
        application_id: ID,
        expected_version: i32,
    ) -> Result<ApplicationPayload, ApiError> {
        let (db, caller, _) = step_context(ctx, BRAND_OPERATOR, APPLYING)?;
        let id = self::application_id(&application_id)?;
        payload(onboarding::submit(db, &caller, id, expected_version).await)
    }

    /// Answers a request for information (BRAND_OPERATOR); the application
    /// is submitted and screened again.
    async fn respond_to_info_request(
        &self,
        ctx: &Context<'_>,
        application_id: ID,
        expected_version: i32,
        answer: String,
    ) -> Result<ApplicationPayload, ApiError> {
        let (db, caller, _) = step_context(ctx, BRAND_OPERATOR, APPLYING)?;
        let id = self::application_id(&application_id)?;
        payload(onboarding::respond(db, &caller, id, expected_version, &answer).await)
    }

    /// Appeals a rejection, once, within 30 days (BRAND_OPERATOR).
    async fn appeal_application(
        &self,
        ctx: &Context<'_>,
        application_id: ID,
        expected_version: i32,
        note: String,
    ) -> Result<ApplicationPayload, ApiError> {
        let (db, caller, _) = step_context(ctx, BRAND_OPERATOR, APPLYING)?;
        let id = self::application_id(&application_id)?;
        payload(onboarding::appeal(db, &caller, id, expected_version, &note).await)
    }

    /// Takes an application in review or in appeal (REVIEWER).
    async fn claim_application(
        &self,
        ctx: &Context<'_>,
        application_id: ID,
        expected_version: i32,
    ) -> Result<ApplicationPayload, ApiError> {
        let (db, caller, _) = step_context(ctx, REVIEWER, "claiming applications")?;
        let id = self::application_id(&application_id)?;
        payload(onboarding::claim(db, &caller, id, expected_version).await)
    }

    /// Gives a claim back (REVIEWER holding it, or ADMIN taking it from a
    /// reviewer who is away).
    async fn release_application(
        &self,
        ctx: &Context<'_>,
        application_id: ID,
        expected_version: i32,
    ) -> Result<ApplicationPayload, ApiError> {
        let (db, caller, principal) =
            step_context(ctx, &[Role::Reviewer, Role::Admin], "releasing claims")?;
        let id = self::application_id(&application_id)?;
        let take_over = principal.role == Role::Admin;
        payload(onboarding::release(db, &caller, id, expected_version, take_over).await)
    }

    /// Decides an application the caller holds (REVIEWER).
    async fn decide_application(
        &self,
        ctx: &Context<'_>,
        input: DecideApplicationInput,
    ) -> Result<ApplicationPayload, ApiError> {
        let (db, caller, _) = step_context(ctx, REVIEWER, "deciding applications")?;
        let id = application_id(&input.application_id)?;
        let decision = Decision {
            action: input.decision.into(),
            reasons: input.reason_codes.into_iter().map(Into::into).collect(),
            note: input.note,
            probation_days: input.probation_days,
            info_days: input.info_deadline_days,
        };
        payload(onboarding::decide(db, &caller, id, input.expected_version, &decision).await)
    }

    /// Re-evaluates an admitted brand now (REVIEWER, ADMIN): a failure puts
    /// it on the watchlist; a pass takes it off.
    async fn reevaluate_application(
        &self,
        ctx: &Context<'_>,
        application_id: ID,
        expected_version: i32,
    ) -> Result<ApplicationPayload, ApiError> {
        let (db, caller, _) =
            step_context(ctx, &[Role::Reviewer, Role::Admin], "re-evaluating brands")?;
        let id = self::application_id(&application_id)?;
        payload(onboarding::reevaluate(db, &caller, id, expected_version).await)
    }
}
