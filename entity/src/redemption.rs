//! One redemption attempt by the checkout, keyed for idempotency: a replay
//! of the key returns this row's outcome.

use sea_orm::entity::prelude::*;

/// A redemption row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "redemption")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The benefit.
    pub benefit_id: i64,
    /// The member (platform member reference).
    pub member_id: i64,
    /// The caller's key; unique per benefit.
    pub idempotency_key: String,
    /// Whether the benefit was granted.
    pub granted: bool,
    /// GRANTED, or why not (e.g. BUDGET_EXHAUSTED).
    pub outcome: String,
    /// The order amount, in fen.
    pub order_cents: i64,
    /// The money granted, in fen.
    pub amount_cents: i64,
    /// The service principal that recorded it.
    pub service: String,
    /// When (UTC).
    pub created_at: DateTimeUtc,
    /// The checkout order that made it, if an order did.
    pub order_id: Option<i64>,
    /// When its order was refunded as far as this benefit goes (every
    /// line it discounted, or the whole order): it no longer counts
    /// against budgets or the member's caps.
    pub refunded_at: Option<DateTimeUtc>,
    /// Money given back to the budget by refunds so far, in fen (all of
    /// `amount_cents` once refunded).
    pub refunded_cents: i64,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
