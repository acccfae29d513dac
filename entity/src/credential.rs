//! An issued API credential. A token is accepted only while its credential
//! exists and is not revoked, so a leaked token can be cut off.

use sea_orm::entity::prelude::*;

use crate::enums::Role;

/// A credential row; `id` is the token's `jti`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "credential")]
pub struct Model {
    /// The token id (`jti`), a UUID.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Who the holder is, for audit (`sub`).
    pub subject: String,
    /// The role granted.
    pub role: Role,
    /// The brand, for brand roles.
    pub brand_id: Option<i64>,
    /// When it was issued (UTC).
    pub issued_at: DateTimeUtc,
    /// When it stops working (UTC).
    pub expires_at: DateTimeUtc,
    /// When it was revoked, if it was (UTC).
    pub revoked_at: Option<DateTimeUtc>,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
