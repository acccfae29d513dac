//! A brand's exclusive member centre: per growth tier, the ordered
//! benefits its store shows to members of that tier.

use sea_orm::entity::prelude::*;

/// One slot of a member centre.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "member_centre")]
pub struct Model {
    /// The brand.
    #[sea_orm(primary_key, auto_increment = false)]
    pub brand_id: i64,
    /// The growth tier code, e.g. `GOLD`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tier: String,
    /// 0, 1, … in display order.
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i32,
    /// The benefit shown there.
    pub benefit_id: i64,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
