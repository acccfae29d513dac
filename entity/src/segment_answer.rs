//! A released audience answer, stored so the same question in the same
//! epoch gets the same answer at no further privacy cost.

use sea_orm::entity::prelude::*;

/// An answer row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "segment_answer")]
pub struct Model {
    /// The epoch answered from.
    #[sea_orm(primary_key, auto_increment = false)]
    pub epoch_id: i64,
    /// 0 for platform-wide answers shared by all brands, else the brand.
    #[sea_orm(primary_key, auto_increment = false)]
    pub scope: i64,
    /// SHA-256 (hex) of the normalised question.
    #[sea_orm(primary_key, auto_increment = false)]
    pub question_key: String,
    /// The normalised question.
    pub question: String,
    /// The released answer (JSON).
    pub answer: String,
    /// When it was released (UTC).
    pub created_at: DateTimeUtc,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
