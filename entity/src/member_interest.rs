//! An interest category a member shows (multi-valued).

use sea_orm::entity::prelude::*;

/// One (member, interest) pair.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "member_interest")]
pub struct Model {
    /// The member.
    #[sea_orm(primary_key, auto_increment = false)]
    pub member_id: i64,
    /// The interest code, from the platform vocabulary.
    #[sea_orm(primary_key, auto_increment = false)]
    pub interest: String,
}

/// No navigable relations; joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
