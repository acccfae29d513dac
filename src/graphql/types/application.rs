//! Applications to the programme and their append-only events.

use async_graphql::resolver_utils::EnumType;
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{application, application_event};

use crate::criteria::Reader;
use crate::graphql::{ApiError, UserError, loaders, principal};
use crate::onboarding::{self, Action};

use crate::graphql::types::{
    brand::Brand,
    criteria::Evaluation,
    qualification::{ApprovalCondition, ConditionInput, QualificationDocument, Qualifications},
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
    /// A document the category's policy requires is missing, unverified
    /// or expired.
    QualificationMissing,
    /// A condition of the approval was missed.
    ConditionMissed,
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

/// A step the applying brand takes.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum BrandStep {
    /// Send the draft (`submitApplication`).
    Submit,
    /// Answer the reviewer's question (`respondToInfoRequest`).
    Respond,
    /// Appeal the rejection, once, before its window closes
    /// (`appealApplication`).
    Appeal,
}

/// A reviewer's decision.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum DecisionKind {
    /// Admit (in review, or on appeal); the qualifications the category's
    /// policy requires must be complete.
    Approve,
    /// Admit on probation (`probationDays`, tracked `conditions`, or the
    /// one condition in `note`), in review or on appeal; needs complete
    /// qualifications like APPROVE.
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
pub(crate) struct ApplicationEvent {
    /// When (UTC).
    pub(crate) at: DateTime<Utc>,
    /// Who: a principal's subject, `screening` or `scheduler`.
    pub(crate) actor: String,
    /// What happened.
    pub(crate) action: ApplicationAction,
    /// The state before (null for creation).
    pub(crate) from_state: Option<ApplicationState>,
    /// The state after (the same as before for claims and warnings).
    pub(crate) to_state: ApplicationState,
    /// Why.
    pub(crate) reason_codes: Vec<ReasonCode>,
    /// The actor's note (the question, the answer, the conditions …).
    pub(crate) note: Option<String>,
    /// Why a refusal stands although the evaluation passed a measure one
    /// of its reasons names.
    pub(crate) override_note: Option<String>,
    /// The evaluation the step relied on.
    pub(crate) evaluation_id: Option<ID>,
    /// The deadline the step set or warned about.
    pub(crate) due_at: Option<DateTime<Utc>>,
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
            override_note: row.override_note,
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
    /// A deadline (or a document's expiry) is 30 days away or less.
    Warn,
    /// The brand filed a qualification document.
    FileDocument,
    /// A reviewer verified a document.
    VerifyDocument,
    /// A reviewer rejected a document, with a reason.
    RejectDocument,
    /// The brand sent evidence for a condition.
    SubmitEvidence,
    /// A reviewer found a condition met.
    MeetCondition,
    /// A condition was missed (found by a reviewer, or its deadline passed).
    MissCondition,
}

/// An application as the contract shows it: every field reads the row, so
/// the steps it offers are judged on exactly what it shows.
pub(crate) struct Application {
    row: application::Model,
}

impl From<application::Model> for Application {
    fn from(row: application::Model) -> Self {
        Self { row }
    }
}

/// A brand's application to the programme and, once admitted, its standing.
#[Object]
impl Application {
    /// Its id; also its federation key.
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }

    /// Where it stands.
    async fn state(&self) -> ApplicationState {
        self.row.state.into()
    }

    /// Pass this as `expectedVersion` to change it.
    async fn version(&self) -> i32 {
        self.row.version
    }

    /// The brand's statement.
    async fn statement(&self) -> &str {
        &self.row.statement
    }

    /// The reviewer holding it.
    async fn claimed_by(&self) -> Option<&str> {
        self.row.claimed_by.as_deref()
    }

    /// The reviewer of the last decision.
    async fn decided_by(&self) -> Option<&str> {
        self.row.decided_by.as_deref()
    }

    /// The brand has used its one appeal.
    async fn appealed(&self) -> bool {
        self.row.appealed
    }

    /// The current state's deadline, if it has one.
    async fn due_at(&self) -> Option<DateTime<Utc>> {
        self.row.due_at
    }

    /// What `dueAt` means.
    async fn due_kind(&self) -> Option<DueKind> {
        self.row
            .due_at
            .and(onboarding::rules::due_kind(self.row.state))
            .map(Into::into)
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }

    /// When it was first submitted.
    async fn submitted_at(&self) -> Option<DateTime<Utc>> {
        self.row.submitted_at
    }

    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.row.updated_at
    }

    /// You may claim it now (`claimApplication`): its state allows a
    /// claim, no other reviewer holds it, and you did not decide what is
    /// appealed.
    async fn claimable(&self, ctx: &Context<'_>) -> Result<bool, ApiError> {
        let principal = principal(ctx)?;
        Ok(
            crate::graphql::onboarding::REVIEWER.contains(&principal.role)
                && onboarding::claim_refusal(&self.row, &principal.subject).is_none(),
        )
    }

    /// It is the brand's one open application: no other may start while
    /// it is (a closed one is followed by a new application, an appeal
    /// aside).
    async fn open(&self) -> bool {
        onboarding::rules::is_open(self.row.state)
    }

    /// The steps its brand's operator may take now.
    async fn brand_steps(&self, ctx: &Context<'_>) -> Result<Vec<BrandStep>, ApiError> {
        let principal = principal(ctx)?;
        if !crate::graphql::onboarding::BRAND_OPERATOR.contains(&principal.role) {
            return Ok(Vec::new());
        }
        let row = &self.row;
        let mut steps = Vec::new();
        if Action::Submit.allowed_from(row.state) {
            steps.push(BrandStep::Submit);
        }
        if Action::Respond.allowed_from(row.state) {
            steps.push(BrandStep::Respond);
        }
        if onboarding::appeal_refusal(row, Utc::now()).is_none() {
            steps.push(BrandStep::Appeal);
        }
        Ok(steps)
    }

    /// The decisions `decideApplication` accepts from its state (the
    /// reviewer must hold it).
    async fn decisions(&self) -> Vec<DecisionKind> {
        <DecisionKind as EnumType>::items()
            .iter()
            .map(|item| item.value)
            .filter(|d| Action::from(*d).allowed_from(self.row.state))
            .collect()
    }

    /// The applying brand.
    async fn brand(&self, ctx: &Context<'_>) -> Result<Brand, ApiError> {
        Brand::owner_of(ctx, self.row.brand_id, "application").await
    }

    /// The latest evaluation (screening or re-evaluation).
    async fn latest_evaluation(&self, ctx: &Context<'_>) -> Result<Option<Evaluation>, ApiError> {
        let Some(id) = self.row.evaluation_id else {
            return Ok(None);
        };
        let reader = Reader::of(principal(ctx)?.brand_scope());
        Ok(loaders(ctx)?
            .evaluations()
            .load_one(id)
            .await?
            .map(|e| Evaluation::seen_by(e, reader)))
    }

    /// The qualification documents filed with it, oldest first.
    async fn documents(&self, ctx: &Context<'_>) -> Result<Vec<QualificationDocument>, ApiError> {
        Ok(loaders(ctx)?
            .documents()
            .load_one(self.row.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Its documents against the category's policy in force: what approval
    /// needs and what is missing.
    async fn qualifications(&self, ctx: &Context<'_>) -> Result<Qualifications, ApiError> {
        let documents = loaders(ctx)?
            .documents()
            .load_one(self.row.id)
            .await?
            .unwrap_or_default();
        let (required, gaps) = onboarding::documents::checklist(
            crate::graphql::db(ctx)?,
            self.row.category_id,
            &documents,
            chrono::Utc::now(),
        )
        .await?;
        Ok(Qualifications::new(&required, gaps))
    }

    /// The tracked conditions of a conditional approval, in order.
    async fn conditions(&self, ctx: &Context<'_>) -> Result<Vec<ApprovalCondition>, ApiError> {
        Ok(loaders(ctx)?
            .conditions()
            .load_one(self.row.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Every step so far, oldest first.
    async fn events(&self, ctx: &Context<'_>) -> Result<Vec<ApplicationEvent>, ApiError> {
        loaders(ctx)?
            .events()
            .load_one(self.row.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(ApplicationEvent::try_from)
            .collect()
    }
}

/// Narrows `applications` (the reviewer queue).
#[derive(InputObject, Default)]
pub(crate) struct ApplicationFilterInput {
    /// Only these states.
    pub(crate) states: Option<Vec<ApplicationState>>,
    /// Only brands in the category with this code.
    pub(crate) category: Option<String>,
    /// Only applications first submitted at or before this instant (how old).
    pub(crate) submitted_before: Option<DateTime<Utc>>,
    /// Only applications whose deadline falls at or before this instant.
    pub(crate) due_before: Option<DateTime<Utc>>,
    /// Only claimed (true) or unclaimed (false) applications.
    pub(crate) claimed: Option<bool>,
}

/// A reviewer's decision on an application they hold.
#[derive(InputObject)]
pub(crate) struct DecideApplicationInput {
    /// The application.
    pub(crate) application_id: ID,
    /// The version the decision is based on.
    pub(crate) expected_version: i32,
    /// What is decided.
    pub(crate) decision: DecisionKind,
    /// Why (required to reject or uphold).
    #[graphql(default)]
    pub(crate) reason_codes: Vec<ReasonCode>,
    /// The question (REQUEST_INFO), the conditions (APPROVE_WITH_CONDITIONS) or a remark.
    pub(crate) note: Option<String>,
    /// Probation length in days, 1–365 (APPROVE_WITH_CONDITIONS only).
    pub(crate) probation_days: Option<u32>,
    /// Days the brand has to answer, 1–90, default 14 (REQUEST_INFO only).
    pub(crate) info_deadline_days: Option<u32>,
    /// For REJECT or UPHOLD with a reason the evaluation contradicts (say
    /// MARKET_SHARE_LOW when the share passed): why the refusal stands.
    /// Required then, refused otherwise.
    pub(crate) override_note: Option<String>,
    /// APPROVE_WITH_CONDITIONS: the conditions, each tracked with its
    /// deadline (at most 20); without any, the note is the one condition.
    #[graphql(default)]
    pub(crate) conditions: Vec<ConditionInput>,
}

/// The result of an application mutation.
#[derive(SimpleObject)]
pub(crate) struct ApplicationPayload {
    /// The application after the step.
    pub(crate) application: Option<Application>,
    /// Why the step was refused.
    pub(crate) user_errors: Vec<UserError>,
}
