//! A qualification document filed with an application: its stated details,
//! the stored file's name, type, size and content hash, and the reviewer's
//! verdict. The file itself is in the blob store under its hash.

use sea_orm::entity::prelude::*;

use crate::enums::{DocumentKind, DocumentRejection, DocumentState, TrademarkStatus};

/// A document row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "application_document")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The application it was filed with.
    pub application_id: i64,
    /// The application's brand (scoping without a join).
    pub brand_id: i64,
    /// What it is.
    pub kind: DocumentKind,
    /// Registered or filed (trademarks only).
    pub trademark_status: Option<TrademarkStatus>,
    /// Registration number, licence code or authorisation reference.
    pub number: String,
    /// The holder named on it (the trademark owner, the licensed company).
    pub holder: String,
    /// Nice class of the trademark (1–45; trademarks only).
    pub nice_class: Option<i32>,
    /// Authorisation chain, owner first, as a JSON array of names.
    pub chain: Option<String>,
    /// Last day it is valid (Asia/Shanghai); none for indefinite.
    pub expires_on: Option<Date>,
    /// The uploaded file's name (no path).
    pub file_name: String,
    /// The media type detected from the content.
    pub content_type: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// SHA-256 of the content, hex; also its blob key.
    pub sha256: String,
    /// Pending, verified or rejected.
    pub state: DocumentState,
    /// Why it was rejected.
    pub rejection: Option<DocumentRejection>,
    /// The reviewer's note.
    pub review_note: Option<String>,
    /// Who verified or rejected it.
    pub reviewed_by: Option<String>,
    /// When (UTC).
    pub reviewed_at: Option<DateTimeUtc>,
    /// Who uploaded it.
    pub uploaded_by: String,
    /// When (UTC).
    pub uploaded_at: DateTimeUtc,
    /// The expiry already warned about (one warning per expiry).
    pub warned_expires_on: Option<Date>,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
