//! The price a SKU actually sold at on one day, for price volatility.

use sea_orm::entity::prelude::*;

/// One (brand, sku, day) price row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sku_price")]
pub struct Model {
    /// The brand selling the SKU.
    #[sea_orm(primary_key, auto_increment = false)]
    pub brand_id: i64,
    /// The brand's SKU code.
    #[sea_orm(primary_key, auto_increment = false)]
    pub sku: String,
    /// Calendar day (Asia/Shanghai).
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    /// Mean price paid that day, in fen.
    pub price_cents: i64,
    /// Units sold that day.
    pub units: i64,
}

/// No navigable relations; joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
