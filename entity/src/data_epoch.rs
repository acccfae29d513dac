//! A data epoch: one build of the segment cube. Answers are stored per
//! epoch, so a question is answered once per epoch.

use sea_orm::entity::prelude::*;

/// An epoch row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "data_epoch")]
pub struct Model {
    /// Increasing id; the current epoch is the highest ready one.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// When the build started (UTC).
    pub created_at: DateTimeUtc,
    /// The day ages are computed for (Asia/Shanghai).
    pub as_of: Date,
    /// Platform members in the build.
    pub members: i64,
    /// Most values of one multi-valued dimension counted per member.
    pub multi_value_cap: i32,
    /// The cube is complete and may be read.
    pub ready: bool,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
