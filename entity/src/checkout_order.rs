//! One checkout order of a brand's store: the basket, the quote applied to
//! it (as JSON, so a replay answers the same), and its refund.

use sea_orm::entity::prelude::*;

/// An order row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "checkout_order")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The store's brand.
    pub brand_id: i64,
    /// The checkout's order reference; unique per brand.
    pub order_ref: String,
    /// The member (platform member reference).
    pub member_id: i64,
    /// The basket lines as sent (JSON).
    pub basket: String,
    /// The applied quote (JSON).
    pub quote: String,
    /// The basket before benefits, in fen.
    pub subtotal_cents: i64,
    /// Money off granted, in fen.
    pub discount_cents: i64,
    /// The service principal that placed it.
    pub service: String,
    /// When (UTC).
    pub created_at: DateTimeUtc,
    /// When it was refunded, if it was.
    pub refunded_at: Option<DateTimeUtc>,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
