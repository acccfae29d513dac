//! A platform ecosystem service a member uses (multi-valued): food delivery, travel …

use sea_orm::entity::prelude::*;

/// One (member, service) pair.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "member_service")]
pub struct Model {
    /// The member.
    #[sea_orm(primary_key, auto_increment = false)]
    pub member_id: i64,
    /// The service code, from the platform vocabulary.
    #[sea_orm(primary_key, auto_increment = false)]
    pub service: String,
}

/// No navigable relations; joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
