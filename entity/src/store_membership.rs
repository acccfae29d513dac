//! Membership of a brand's own store: the brand's audience.

use sea_orm::entity::prelude::*;

/// One (brand, member) store membership.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "store_membership")]
pub struct Model {
    /// The brand whose store the member joined.
    #[sea_orm(primary_key, auto_increment = false)]
    pub brand_id: i64,
    /// The member.
    #[sea_orm(primary_key, auto_increment = false)]
    pub member_id: i64,
    /// When the member joined (Asia/Shanghai calendar day).
    pub joined_on: Date,
}

/// No navigable relations; joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
