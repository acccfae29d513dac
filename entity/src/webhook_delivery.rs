//! One event to deliver to one webhook: the outbox row, written with the
//! event, kept with its delivery status.

use sea_orm::entity::prelude::*;

/// A delivery row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_delivery")]
pub struct Model {
    /// Id; deliveries to one webhook go out in id order.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The webhook.
    pub webhook_id: i64,
    /// The brand the event is about.
    pub brand_id: i64,
    /// The event kind (`APPLICATION_DECIDED` …).
    pub event: String,
    /// The JSON body sent.
    pub payload: String,
    /// When the event happened (UTC).
    pub created_at: DateTimeUtc,
    /// Attempts so far.
    pub attempts: i32,
    /// Not to be tried before (UTC).
    pub next_attempt_at: DateTimeUtc,
    /// When the receiver took it (2xx).
    pub delivered_at: Option<DateTimeUtc>,
    /// The last HTTP status received.
    pub last_status: Option<i32>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
