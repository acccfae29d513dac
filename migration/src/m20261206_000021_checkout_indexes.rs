//! Indexes for checkout's per-request reads, which otherwise grow with
//! the store's orders: a member's recent orders at the store (every quote
//! and order reads them for rebates), and an order's redemptions (refunds).

use sea_orm_migration::prelude::*;

/// Creates the two indexes.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000021_checkout_indexes"
    }
}

/// (name, table, columns).
const INDEXES: [(&str, &str, &[&str]); 2] = [
    (
        "idx_checkout_order_member",
        "checkout_order",
        &["brand_id", "member_id", "created_at"],
    ),
    ("idx_redemption_order", "redemption", &["order_id"]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, columns) in INDEXES {
            let mut index = Index::create();
            index.name(name).table(Alias::new(table));
            for column in columns {
                index.col(Alias::new(*column));
            }
            manager.create_index(index.take()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, _) in INDEXES {
            let mut index = Index::drop();
            index.name(name).table(Alias::new(table));
            manager.drop_index(index.to_owned()).await?;
        }
        Ok(())
    }
}
