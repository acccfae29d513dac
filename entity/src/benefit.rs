//! An exclusive member benefit of one brand: its lifecycle state, which
//! revision is live and which is the latest edit. Its budget counters are
//! its slots' (`benefit_budget_slot`).

use sea_orm::entity::prelude::*;

use crate::enums::BenefitState;

/// A benefit row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "benefit")]
pub struct Model {
    /// Surrogate key; also the federation key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The brand offering it.
    pub brand_id: i64,
    /// Lifecycle state.
    pub state: BenefitState,
    /// Bumped by every change (optimistic concurrency).
    pub version: i32,
    /// Number of the latest revision (the one being edited or reviewed).
    pub current_revision: i64,
    /// Number of the revision members get, once one was approved.
    pub live_revision: Option<i64>,
    /// The latest revision of a live benefit waits for review.
    pub revision_pending: bool,
    /// When it first became ACTIVE (UTC).
    pub activated_at: Option<DateTimeUtc>,
    /// When the usage policy flagged it as under-used (UTC).
    pub flagged_at: Option<DateTimeUtc>,
    /// When the usage policy paused it (UTC); retirement follows unless the
    /// brand resumes it.
    pub policy_paused_at: Option<DateTimeUtc>,
    /// Until when the usage policy leaves it alone after the brand's appeal (UTC).
    pub grace_until: Option<DateTimeUtc>,
    /// Who created it.
    pub created_by: String,
    /// When (UTC).
    pub created_at: DateTimeUtc,
    /// When it last changed (UTC).
    pub updated_at: DateTimeUtc,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
