//! How a brand's privacy budget is split between its analysts and its
//! operators, when an admin set it (otherwise the documented default).

use sea_orm::entity::prelude::*;

/// A brand's split.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "privacy_split")]
pub struct Model {
    /// The brand.
    #[sea_orm(primary_key, auto_increment = false)]
    pub brand_id: i64,
    /// The analysts' share of the daily and 30-day limits (0–1); the
    /// operators have the rest.
    pub analyst_share: f64,
    /// Who set it.
    pub set_by: String,
    /// When (UTC).
    pub set_at: DateTimeUtc,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
