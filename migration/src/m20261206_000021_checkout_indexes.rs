//! Indexes for checkout's per-request reads, which otherwise grow with
//! the store's orders: a member's recent orders at the store (every quote
//! and order reads them for rebates), and an order's redemptions (refunds).

use sea_orm_migration::prelude::*;

use crate::shared::{IndexSpec, create_indexes, drop_indexes};

/// Creates the two indexes.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000021_checkout_indexes"
    }
}

const INDEXES: [IndexSpec; 2] = [
    IndexSpec {
        name: "idx_checkout_order_member",
        table: "checkout_order",
        columns: &["brand_id", "member_id", "created_at"],
        unique: false,
    },
    IndexSpec {
        name: "idx_redemption_order",
        table: "redemption",
        columns: &["order_id"],
        unique: false,
    },
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_indexes(manager, &INDEXES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_indexes(manager, &INDEXES).await
    }
}
