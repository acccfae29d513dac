//! Social-media mentions of a brand over one period (a week).

use sea_orm::entity::prelude::*;

/// One (brand, period) mention count.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "social_mention")]
pub struct Model {
    /// The brand mentioned.
    #[sea_orm(primary_key, auto_increment = false)]
    pub brand_id: i64,
    /// First day of the period (Asia/Shanghai calendar).
    #[sea_orm(primary_key, auto_increment = false)]
    pub period_start: Date,
    /// Organic mentions, neither paid for nor posted by the brand.
    pub voluntary: i64,
    /// Paid or brand-owned mentions.
    pub paid: i64,
}

/// No navigable relations; joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
