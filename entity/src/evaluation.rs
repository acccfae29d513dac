//! An immutable evaluation: measures, inputs, thresholds and verdicts of
//! one brand on one day, as a JSON snapshot.

use sea_orm::entity::prelude::*;

/// An evaluation row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "evaluation")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The brand evaluated.
    pub brand_id: i64,
    /// The day measured (Asia/Shanghai).
    pub as_of: Date,
    /// The policy version applied.
    pub policy_version: i32,
    /// Every measure passed.
    pub passed: bool,
    /// Measures, inputs, thresholds and verdicts (JSON).
    pub snapshot: String,
    /// When (UTC).
    pub created_at: DateTimeUtc,
    /// Who asked for it.
    pub created_by: String,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
