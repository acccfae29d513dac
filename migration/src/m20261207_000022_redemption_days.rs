//! An index for a benefit's redemptions by time: the per-day series reads
//! one day's range of one benefit, which otherwise walks all its rows.

use sea_orm_migration::prelude::*;

use crate::shared::{IndexSpec, create_indexes, drop_indexes};

/// Creates the index.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000022_redemption_days"
    }
}

const INDEXES: [IndexSpec; 1] = [IndexSpec {
    name: "idx_redemption_benefit_time",
    table: "redemption",
    columns: &["benefit_id", "created_at"],
    unique: false,
}];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_indexes(manager, &INDEXES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_indexes(manager, &INDEXES).await
    }
}
