//! One immutable version of a benefit's definition (kind, value,
//! targeting, stacking, schedule, budget) as JSON.

use sea_orm::entity::prelude::*;

/// A revision row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "benefit_revision")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The benefit.
    pub benefit_id: i64,
    /// 1, 2, … per benefit.
    pub number: i32,
    /// The definition (JSON).
    pub definition: String,
    /// DRAFT, PENDING, APPROVED, REJECTED or SUPERSEDED.
    pub review: String,
    /// Who wrote it.
    pub created_by: String,
    /// When (UTC).
    pub created_at: DateTimeUtc,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
