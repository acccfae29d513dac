//! One refund of a checkout order, whole or of some units: what was asked
//! (so a replay of its reference answers the same) and what each benefit
//! gave back.

use sea_orm::entity::prelude::*;

/// A refund row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_refund")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The order.
    pub order_id: i64,
    /// The checkout's refund reference, unique per order; none for a
    /// refund of everything left that named none.
    pub refund_ref: Option<String>,
    /// The units asked for (JSON; none: everything left).
    pub request: String,
    /// The units given back per line and the money per benefit (JSON).
    pub detail: String,
    /// When (UTC).
    pub created_at: DateTimeUtc,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
