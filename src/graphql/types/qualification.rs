//! Qualification documents, the checklist against the category's policy,
//! and the tracked conditions of a conditional approval.

use async_graphql::{Enum, ID, InputObject, SimpleObject, Upload};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{application_condition, application_document};

use crate::graphql::{UserError, scalars::Date};
use crate::onboarding::documents;

/// What a qualification document is.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::DocumentKind")]
pub enum DocumentKind {
    /// A trademark registration (®) or filing (™) certificate.
    TrademarkRegistration,
    /// The trademark owner's authorisation to sell, with its chain.
    BrandAuthorization,
    /// The applying company's business licence.
    BusinessLicense,
}

/// Whether a trademark is registered or only filed.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::TrademarkStatus")]
pub enum TrademarkStatus {
    /// Registered (®).
    Registered,
    /// Filed, not yet registered (™).
    Filed,
}

/// Where a document stands with the reviewers.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::DocumentState")]
pub enum DocumentState {
    /// Uploaded, not yet checked.
    Pending,
    /// Checked and accepted.
    Verified,
    /// Refused, with a reason.
    Rejected,
}

/// Why a reviewer refused a document.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::DocumentRejection")]
pub enum DocumentRejection {
    /// The file cannot be read.
    Illegible,
    /// The file does not show what the stated details say.
    DetailsMismatch,
    /// The registry or issuer does not confirm it.
    NotConfirmed,
    /// Expired, or about to.
    Expired,
    /// A link in the authorisation chain is missing or unsigned.
    ChainIncomplete,
    /// The trademark's class does not cover the category's goods.
    WrongClass,
    /// Anything else; the note says what.
    Other,
}

/// What keeps a required qualification from counting.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::onboarding::documents::Problem")]
pub enum QualificationProblem {
    /// Nothing of this kind was filed.
    Missing,
    /// Filed, not yet reviewed.
    Pending,
    /// Filed and refused.
    Rejected,
    /// Verified, but past its last valid day.
    Expired,
    /// The trademark's owner is not the licensed company, and no verified
    /// authorisation chain leads from one to the other.
    ChainMismatch,
}

/// Where a condition stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::ConditionState")]
pub enum ConditionState {
    /// Waiting for the brand's evidence.
    Open,
    /// The brand sent evidence; a reviewer judges it.
    Evidenced,
    /// A reviewer found it met.
    Met,
    /// Found missed, or its deadline passed without evidence.
    Missed,
}

/// A document filed with an application.
#[derive(SimpleObject)]
pub(crate) struct QualificationDocument {
    /// Its id.
    pub(crate) id: ID,
    /// What it is.
    pub(crate) kind: DocumentKind,
    /// Registered or filed (trademarks only).
    pub(crate) trademark_status: Option<TrademarkStatus>,
    /// Registration number, licence code or authorisation reference.
    pub(crate) number: String,
    /// Who it names.
    pub(crate) holder: String,
    /// Nice class (trademarks only).
    pub(crate) nice_class: Option<i32>,
    /// Authorisations: every party from the trademark owner to the
    /// authorised company.
    pub(crate) chain: Vec<String>,
    /// Last valid day (Asia/Shanghai); null when it does not expire.
    pub(crate) expires_on: Option<Date>,
    /// The uploaded file's name.
    pub(crate) file_name: String,
    /// The media type found in the content.
    pub(crate) content_type: String,
    /// Size in bytes.
    pub(crate) size_bytes: i64,
    /// SHA-256 of the content, hex.
    pub(crate) sha256: String,
    /// Where an authorised caller downloads the file (GET, with the same
    /// bearer token).
    pub(crate) download_path: String,
    /// Pending, verified or rejected.
    pub(crate) state: DocumentState,
    /// Why it was rejected.
    pub(crate) rejection: Option<DocumentRejection>,
    /// The reviewer's note.
    pub(crate) review_note: Option<String>,
    /// Who reviewed it.
    pub(crate) reviewed_by: Option<String>,
    /// When.
    pub(crate) reviewed_at: Option<DateTime<Utc>>,
    /// Who uploaded it.
    pub(crate) uploaded_by: String,
    /// When.
    pub(crate) uploaded_at: DateTime<Utc>,
}

impl From<application_document::Model> for QualificationDocument {
    fn from(row: application_document::Model) -> Self {
        Self {
            id: ID(row.id.to_string()),
            kind: row.kind.into(),
            trademark_status: row.trademark_status.map(Into::into),
            number: row.number,
            holder: row.holder,
            nice_class: row.nice_class,
            chain: row
                .chain
                .as_deref()
                .and_then(|c| serde_json::from_str(c).ok())
                .unwrap_or_default(),
            expires_on: row.expires_on.map(Date),
            file_name: row.file_name,
            content_type: row.content_type,
            size_bytes: row.size_bytes,
            sha256: row.sha256,
            download_path: format!("/documents/{}/file", row.id),
            state: row.state.into(),
            rejection: row.rejection.map(Into::into),
            review_note: row.review_note,
            reviewed_by: row.reviewed_by,
            reviewed_at: row.reviewed_at,
            uploaded_by: row.uploaded_by,
            uploaded_at: row.uploaded_at,
        }
    }
}

/// A required qualification that does not count yet.
#[derive(SimpleObject)]
pub(crate) struct QualificationGap {
    /// The kind.
    pub(crate) kind: DocumentKind,
    /// Why it does not count.
    pub(crate) problem: QualificationProblem,
}

/// An application's qualifications against its category's policy in
/// force: what approval (and, once admitted, re-evaluation) checks.
#[derive(SimpleObject)]
pub(crate) struct Qualifications {
    /// What the policy requires.
    pub(crate) required: Vec<DocumentKind>,
    /// Nothing is missing: the application may be approved.
    pub(crate) complete: bool,
    /// What is missing, and why.
    pub(crate) gaps: Vec<QualificationGap>,
}

impl Qualifications {
    /// The checklist from the policy's requirements and the gaps found.
    pub(crate) fn new(required: &[entity::enums::DocumentKind], gaps: Vec<documents::Gap>) -> Self {
        Self {
            required: required.iter().map(|k| (*k).into()).collect(),
            complete: gaps.is_empty(),
            gaps: gaps
                .into_iter()
                .map(|g| QualificationGap {
                    kind: g.kind.into(),
                    problem: g.problem.into(),
                })
                .collect(),
        }
    }
}

/// A condition of a conditional approval.
#[derive(SimpleObject)]
pub(crate) struct ApprovalCondition {
    /// Its id.
    pub(crate) id: ID,
    /// What the brand must do.
    pub(crate) description: String,
    /// By when.
    pub(crate) due_at: DateTime<Utc>,
    /// Open, evidenced, met or missed.
    pub(crate) state: ConditionState,
    /// The brand's evidence.
    pub(crate) evidence: Option<String>,
    /// A document given as evidence.
    pub(crate) evidence_document_id: Option<ID>,
    /// When the evidence was sent.
    pub(crate) evidence_at: Option<DateTime<Utc>>,
    /// Who found it met or missed (`scheduler` for a passed deadline).
    pub(crate) resolved_by: Option<String>,
    /// When.
    pub(crate) resolved_at: Option<DateTime<Utc>>,
    /// The finding's note.
    pub(crate) resolution_note: Option<String>,
}

impl From<application_condition::Model> for ApprovalCondition {
    fn from(row: application_condition::Model) -> Self {
        Self {
            id: ID(row.id.to_string()),
            description: row.description,
            due_at: row.due_at,
            state: row.state.into(),
            evidence: row.evidence,
            evidence_document_id: row.evidence_document_id.map(|id| ID(id.to_string())),
            evidence_at: row.evidence_at,
            resolved_by: row.resolved_by,
            resolved_at: row.resolved_at,
            resolution_note: row.resolution_note,
        }
    }
}

/// A document to file with an application (a GraphQL multipart upload:
/// the file travels as a part of the request).
#[derive(InputObject)]
pub(crate) struct FileDocumentInput {
    /// The application.
    pub(crate) application_id: ID,
    /// What it is.
    pub(crate) kind: DocumentKind,
    /// Registered or filed (trademark registrations only, required there).
    pub(crate) trademark_status: Option<TrademarkStatus>,
    /// Registration number, the licence's unified social credit code, or
    /// the authorisation's reference.
    pub(crate) number: String,
    /// The trademark owner, the licensed company, or the authorised company.
    pub(crate) holder: String,
    /// Nice class, 1–45 (trademark registrations only, required there).
    pub(crate) nice_class: Option<i32>,
    /// Authorisations only: every party from the trademark owner to the
    /// authorised company (the `holder`), 2 to 5.
    #[graphql(default)]
    pub(crate) chain: Vec<String>,
    /// Last valid day; required for registered trademarks and
    /// authorisations.
    pub(crate) expires_on: Option<Date>,
    /// The file: PDF, PNG or JPEG.
    pub(crate) file: Upload,
}

impl FileDocumentInput {
    /// The stated details, with the file's name and content.
    pub(crate) fn into_new(self, file_name: String, content: Vec<u8>) -> documents::NewDocument {
        documents::NewDocument {
            kind: self.kind.into(),
            trademark_status: self.trademark_status.map(Into::into),
            number: self.number,
            holder: self.holder,
            nice_class: self.nice_class,
            chain: self.chain,
            expires_on: self.expires_on.map(|d| -> NaiveDate { d.0 }),
            file_name,
            content,
        }
    }
}

/// A reviewer's verdict on a document.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum DocumentVerdict {
    /// Genuine, and it says what the brand stated.
    Verify,
    /// Refused (`rejection` required).
    Reject,
}

/// A reviewer's finding on a condition.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ConditionOutcome {
    /// Met (the brand's evidence is needed first).
    Met,
    /// Missed (a note is required); the brand is re-evaluated at once.
    Missed,
}

/// A condition of an APPROVE_WITH_CONDITIONS decision.
#[derive(InputObject)]
pub(crate) struct ConditionInput {
    /// What the brand must do.
    pub(crate) description: String,
    /// Days the brand has, 1 to `probationDays` (default: all of them).
    pub(crate) due_in_days: Option<u32>,
}

/// The result of a document mutation.
#[derive(SimpleObject)]
pub(crate) struct DocumentPayload {
    /// The document after the step.
    pub(crate) document: Option<QualificationDocument>,
    /// Why the step was refused.
    pub(crate) user_errors: Vec<UserError>,
}

/// The result of a condition mutation.
#[derive(SimpleObject)]
pub(crate) struct ConditionPayload {
    /// The condition after the step.
    pub(crate) condition: Option<ApprovalCondition>,
    /// Why the step was refused.
    pub(crate) user_errors: Vec<UserError>,
}
