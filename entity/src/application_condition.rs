//! A condition of a conditional approval, tracked: its deadline, the
//! brand's evidence and the reviewer's finding.

use sea_orm::entity::prelude::*;

use crate::enums::ConditionState;

/// A condition row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "application_condition")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The application approved with it.
    pub application_id: i64,
    /// The application's brand (scoping without a join).
    pub brand_id: i64,
    /// What the brand must do.
    pub description: String,
    /// By when (UTC; the end of a Shanghai day).
    pub due_at: DateTimeUtc,
    /// Open, evidenced, met or missed.
    pub state: ConditionState,
    /// The brand's evidence.
    pub evidence: Option<String>,
    /// A qualification document given as evidence.
    pub evidence_document_id: Option<i64>,
    /// Who sent the evidence.
    pub evidence_by: Option<String>,
    /// When (UTC).
    pub evidence_at: Option<DateTimeUtc>,
    /// Who found it met or missed (`scheduler` for a passed deadline).
    pub resolved_by: Option<String>,
    /// When (UTC).
    pub resolved_at: Option<DateTimeUtc>,
    /// The finding's note.
    pub resolution_note: Option<String>,
    /// The reviewer who set it.
    pub created_by: String,
    /// When (UTC).
    pub created_at: DateTimeUtc,
    /// The deadline already warned about.
    pub warned_due_at: Option<DateTimeUtc>,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
