//! An outbound webhook endpoint: a brand's, or the platform queue's (no
//! brand: every brand's events).

use sea_orm::entity::prelude::*;

/// A webhook row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The brand whose events it receives; none for the platform queue.
    pub brand_id: Option<i64>,
    /// Where deliveries are POSTed.
    pub url: String,
    /// The HMAC-SHA256 key deliveries are signed with (hex).
    pub secret: String,
    /// Who created it.
    pub created_by: String,
    /// When (UTC).
    pub created_at: DateTimeUtc,
    /// When it was deleted; it receives nothing new from then on.
    pub deleted_at: Option<DateTimeUtc>,
    /// Whether deliveries may go to loopback, private or link-local
    /// addresses (platform staff's endpoints), also through DNS.
    pub may_reach_internal: bool,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
