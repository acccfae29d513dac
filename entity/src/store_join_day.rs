//! Store members of one brand who joined on one day, and how many of them
//! are paid members, in one data epoch: what the super-member ratio of any
//! as-of day sums, built by `refresh` from the member snapshot.

use sea_orm::entity::prelude::*;

/// A brand's joins of one day.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "store_join_day")]
pub struct Model {
    /// The data epoch it was computed for.
    #[sea_orm(primary_key, auto_increment = false)]
    pub epoch_id: i64,
    /// The brand whose store was joined.
    #[sea_orm(primary_key, auto_increment = false)]
    pub brand_id: i64,
    /// The day they joined.
    #[sea_orm(primary_key, auto_increment = false)]
    pub joined_on: Date,
    /// Members who joined that day.
    pub members: i64,
    /// Of them, paid members (as the platform data says now).
    pub paid_members: i64,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
