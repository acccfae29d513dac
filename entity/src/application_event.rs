//! One transition (or warning) of an application: append-only, never
//! updated or deleted.

use sea_orm::entity::prelude::*;

use crate::enums::ApplicationState;

/// An event row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "application_event")]
pub struct Model {
    /// Surrogate key; orders an application's events.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The application.
    pub application_id: i64,
    /// When (UTC).
    pub at: DateTimeUtc,
    /// Who: a principal's subject, or `scheduler` for due tasks.
    pub actor: String,
    /// What happened, e.g. `SUBMIT`, `SCREEN`, `DECIDE`, `WARN`.
    pub action: String,
    /// The state before (null for creation).
    pub from_state: Option<ApplicationState>,
    /// The state after (equal to `from_state` for warnings).
    pub to_state: ApplicationState,
    /// Reason codes, comma-separated.
    pub reason_codes: String,
    /// Free text from the actor.
    pub note: Option<String>,
    /// Why a refusal stands although a measure contradicts one of its
    /// reasons (the reviewer's explicit override).
    pub override_note: Option<String>,
    /// The evaluation the event relied on.
    pub evaluation_id: Option<i64>,
    /// The deadline set (or warned about) by this event.
    pub due_at: Option<DateTimeUtc>,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
