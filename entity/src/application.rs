//! A brand's application to the programme, and after admission its standing:
//! the current state of the onboarding workflow. Its history is in
//! [`super::application_event`], which is append-only.

use sea_orm::entity::prelude::*;

use crate::enums::ApplicationState;

/// An application row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "application")]
pub struct Model {
    /// Surrogate key; also the federation key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The applying brand.
    pub brand_id: i64,
    /// The brand's category when it applied (the reviewer queue filters on it).
    pub category_id: i64,
    /// The brand's id while the application is open, null once closed: a
    /// unique index on it keeps one open application per brand.
    pub open_brand_id: Option<i64>,
    /// Where it stands.
    pub state: ApplicationState,
    /// Bumped by every transition (optimistic concurrency).
    pub version: i32,
    /// The brand's statement in support of its application.
    pub statement: String,
    /// The reviewer who holds it, while in review or appeal.
    pub claimed_by: Option<String>,
    /// The reviewer of the last decision (an appeal needs another one).
    pub decided_by: Option<String>,
    /// The brand has used its one appeal.
    pub appealed: bool,
    /// When the current state's deadline falls (UTC), if it has one.
    pub due_at: Option<DateTimeUtc>,
    /// The deadline a warning was last recorded for (so it is recorded once).
    pub warned_due_at: Option<DateTimeUtc>,
    /// The latest evaluation (screening or re-evaluation).
    pub evaluation_id: Option<i64>,
    /// Who created it.
    pub created_by: String,
    /// When it was created (UTC).
    pub created_at: DateTimeUtc,
    /// When it was first submitted (UTC).
    pub submitted_at: Option<DateTimeUtc>,
    /// When it last changed (UTC).
    pub updated_at: DateTimeUtc,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
