//! A columnar snapshot of the platform's member-level data: the Parquet
//! files `seed` and `import` write beside the member rows, which `refresh`
//! builds the segment cube from. The newest one is the current data.

use sea_orm::entity::prelude::*;

/// A snapshot row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "member_snapshot")]
pub struct Model {
    /// Increasing id; the highest is the current snapshot.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// When it was written (UTC).
    pub created_at: DateTimeUtc,
    /// Its folder in the blob store (`snapshots/<uuid>`).
    pub location: String,
    /// Members in it.
    pub members: i64,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
