//! A paid member's latest yearly renewal decision (platform data).

use sea_orm::entity::prelude::*;

/// A renewal row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "paid_renewal")]
pub struct Model {
    /// The member (a paid member when the decision fell due).
    #[sea_orm(primary_key, auto_increment = false)]
    pub member_id: i64,
    /// When the paid membership came up for renewal.
    pub due_on: Date,
    /// Whether the member renewed.
    pub renewed: bool,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
