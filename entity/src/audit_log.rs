//! Append-only record of who did what, for reviewers and incident response.

use sea_orm::entity::prelude::*;

/// An audit row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    /// Insertion order.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// When it happened (UTC).
    pub at: DateTimeUtc,
    /// Who did it: a credential subject, or `cli` for local commands.
    pub actor: String,
    /// What was done, e.g. `credential.issued`, `data.seeded`.
    pub action: String,
    /// What it was done to, e.g. `brand:12`.
    pub target: String,
    /// Details as JSON.
    pub detail: Json,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
