//! A brand's sales in its category for one calendar month.

use sea_orm::entity::prelude::*;

/// One (brand, month) sales row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "category_sales")]
pub struct Model {
    /// The brand; its category is the brand's category.
    #[sea_orm(primary_key, auto_increment = false)]
    pub brand_id: i64,
    /// First day of the month (Asia/Shanghai calendar).
    #[sea_orm(primary_key, auto_increment = false)]
    pub month: Date,
    /// Gross merchandise value in fen.
    pub gmv_cents: i64,
    /// Refunds in fen; net GMV is `gmv_cents - refund_cents`.
    pub refund_cents: i64,
    /// Number of orders.
    pub orders: i64,
}

/// No navigable relations; joins are written where they are needed.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
