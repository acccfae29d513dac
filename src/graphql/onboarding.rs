//! Applications to the programme: the brand's side (create, submit, answer,
//! appeal), the reviewer's queue and decisions, on-demand re-evaluation.
//! Domain refusals come back as `userErrors`; only a missing role is a
//! GraphQL error.

use async_graphql::{
    Context, ID, Object,
    connection::{Connection, OpaqueCursor},
};
use entity::application;

use super::{
    ApiError, connection, db, decode_cursor, loaders, outcome, parse_id, principal, require,
};
use crate::graphql::types::{
    application::{
        Application, ApplicationFilterInput, ApplicationPayload, DecideApplicationInput,
    },
    qualification::{
        ConditionOutcome, ConditionPayload, DocumentPayload, DocumentRejection, DocumentVerdict,
        FileDocumentInput,
    },
};
use crate::{
    auth::{Caller, Principal, Role},
    error::ErrorCode,
    onboarding::{
        self, ApplicationFilter, Decision, OnboardingError,
        conditions::{self, ConditionSpec},
        documents::{self, DocumentStore, Verdict},
    },
    pagination::PageRequest,
};

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

/// Who applies for the brand: creates, submits, answers and appeals.
pub(crate) const BRAND_OPERATOR: &[Role] = &[Role::BrandOperator];
/// Who claims, releases and decides applications.
pub(crate) const REVIEWER: &[Role] = &[Role::Reviewer];
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
pub(super) struct OnboardingQuery;

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
        Ok(super::entities::load(loaders(ctx)?.applications(), &id)
            .await?
            .map(Application::from))
    }
}

/// A document step's outcome as a payload.
fn document_payload(
    result: Result<entity::application_document::Model, OnboardingError>,
    prefix: &str,
) -> Result<DocumentPayload, ApiError> {
    let (row, user_errors) = outcome(result, |e| format!("{prefix}{}", e.field()))?;
    Ok(DocumentPayload {
        document: row.map(Into::into),
        user_errors,
    })
}

/// A condition step's outcome as a payload.
fn condition_payload(
    result: Result<entity::application_condition::Model, OnboardingError>,
) -> Result<ConditionPayload, ApiError> {
    let (row, user_errors) = outcome(result, |e| e.field().to_owned())?;
    Ok(ConditionPayload {
        condition: row.map(Into::into),
        user_errors,
    })
}

/// Application mutations.
#[derive(Default)]
pub(super) struct OnboardingMutation;

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
            override_note: input.override_note,
            conditions: input
                .conditions
                .into_iter()
                .map(|c| ConditionSpec {
                    description: c.description,
                    due_in_days: c.due_in_days,
                })
                .collect(),
        };
        payload(onboarding::decide(db, &caller, id, input.expected_version, &decision).await)
    }

    /// Files a qualification document with an application of the caller's
    /// brand (BRAND_OPERATOR), as a GraphQL multipart request: the file is
    /// checked (PDF, PNG or JPEG by content; size), stored under its
    /// SHA-256 and waits for a reviewer.
    async fn file_document(
        &self,
        ctx: &Context<'_>,
        input: FileDocumentInput,
    ) -> Result<DocumentPayload, ApiError> {
        let (db, caller, _) = step_context(ctx, BRAND_OPERATOR, APPLYING)?;
        let store = ctx
            .data::<DocumentStore>()
            .map_err(|_| ApiError::internal("the schema has no document store"))?;
        let id = application_id(&input.application_id)?;
        let upload = input.file.value(ctx).map_err(|_| {
            ApiError::new(
                ErrorCode::BadUserInput,
                "`file` must be a part of a multipart request",
            )
        })?;
        let content = upload.content.to_vec();
        let new = input.into_new(upload.filename, content);
        document_payload(documents::file(db, store, &caller, id, new).await, "input.")
    }

    /// Verifies or rejects a pending document (REVIEWER); the brand's
    /// webhooks hear of it.
    async fn review_document(
        &self,
        ctx: &Context<'_>,
        document_id: ID,
        verdict: DocumentVerdict,
        rejection: Option<DocumentRejection>,
        note: Option<String>,
    ) -> Result<DocumentPayload, ApiError> {
        let (db, caller, _) = step_context(ctx, REVIEWER, "reviewing documents")?;
        let id = parse_id(&document_id, "a document")?;
        let verdict = match (verdict, rejection) {
            (DocumentVerdict::Verify, None) => Verdict::Verify,
            (DocumentVerdict::Reject, Some(reason)) => Verdict::Reject(reason.into(), note),
            (DocumentVerdict::Verify, Some(_)) => {
                return document_payload(
                    Err(OnboardingError::Invalid {
                        field: "rejection",
                        message: "is only for REJECT".to_owned(),
                    }),
                    "",
                );
            }
            (DocumentVerdict::Reject, None) => {
                return document_payload(
                    Err(OnboardingError::Invalid {
                        field: "rejection",
                        message: "is required to reject".to_owned(),
                    }),
                    "",
                );
            }
        };
        document_payload(documents::review(db, &caller, id, verdict).await, "")
    }

    /// Sends (or replaces) the evidence for an open condition before its
    /// deadline (BRAND_OPERATOR), optionally naming a document filed with
    /// the same application.
    async fn submit_condition_evidence(
        &self,
        ctx: &Context<'_>,
        condition_id: ID,
        evidence: String,
        document_id: Option<ID>,
    ) -> Result<ConditionPayload, ApiError> {
        let (db, caller, _) = step_context(ctx, BRAND_OPERATOR, APPLYING)?;
        let id = parse_id(&condition_id, "a condition")?;
        let document = document_id
            .map(|d| parse_id(&d, "a document"))
            .transpose()?;
        condition_payload(conditions::submit_evidence(db, &caller, id, &evidence, document).await)
    }

    /// Finds a condition met (after the brand's evidence) or missed (with
    /// a note) (REVIEWER). A missed condition re-evaluates the brand at
    /// once, with CONDITION_MISSED among the failures.
    async fn resolve_condition(
        &self,
        ctx: &Context<'_>,
        condition_id: ID,
        outcome: ConditionOutcome,
        note: Option<String>,
    ) -> Result<ConditionPayload, ApiError> {
        let (db, caller, _) = step_context(ctx, REVIEWER, "resolving conditions")?;
        let id = parse_id(&condition_id, "a condition")?;
        let met = outcome == ConditionOutcome::Met;
        condition_payload(conditions::resolve(db, &caller, id, met, note.as_deref()).await)
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
