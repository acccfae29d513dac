//! The platform release of one data epoch: the noisy platform-wide tables
//! every brand slices for free, and the platform ledger's entry for it.

use sea_orm::entity::prelude::*;

/// A release row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "platform_release")]
pub struct Model {
    /// The epoch released (one release per epoch).
    #[sea_orm(primary_key, auto_increment = false)]
    pub epoch_id: i64,
    /// ε the release spent, in millionths.
    pub epsilon_micros: i64,
    /// Noisy tables released.
    pub tables: i32,
    /// Cells in those tables.
    pub cells: i32,
    /// How long building it took, in milliseconds.
    pub build_ms: i64,
    /// The released tables after post-processing (JSON).
    pub release: String,
    /// When it was released (UTC).
    pub created_at: DateTimeUtc,
}

/// No navigable relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
