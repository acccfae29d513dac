//! One slot of a benefit's budget counters. A benefit's grants are spread
//! over a few slots (by member), each with its own share of the budget, so
//! concurrent grants of a hot benefit update different rows instead of
//! all waiting on one. The benefit's totals are the sums of its slots.

use sea_orm::entity::prelude::*;

/// A slot's counters and its share of the budget.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "benefit_budget_slot")]
pub struct Model {
    /// The benefit.
    #[sea_orm(primary_key, auto_increment = false)]
    pub benefit_id: i64,
    /// Which slot of the benefit's few.
    #[sea_orm(primary_key, auto_increment = false)]
    pub slot: i32,
    /// Redemptions granted through this slot and not refunded.
    pub redemptions: i64,
    /// Money granted through this slot and not refunded, in fen.
    pub spent_cents: i64,
    /// Most redemptions this slot may hold; none when uncapped.
    pub redemptions_allowed: Option<i64>,
    /// Most money this slot may hold, in fen; none when uncapped.
    pub cents_allowed: Option<i64>,
    /// The benefit's redemption cap the shares were cut from (a new cap
    /// means cutting them again).
    pub cap_redemptions: Option<i64>,
    /// The benefit's money cap the shares were cut from, in fen.
    pub cap_cents: Option<i64>,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
