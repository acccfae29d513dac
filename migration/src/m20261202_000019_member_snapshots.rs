//! The platform's member-level data is also kept as a columnar snapshot
//! (Parquet files in the blob store) that `refresh` builds the cube from;
//! this table says which snapshot the database's platform data is.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `member_snapshot`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000019_member_snapshots"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("member_snapshot")
                    .col(pk_auto("id").big_integer())
                    .col(timestamp_with_time_zone("created_at"))
                    .col(string_len("location", 255))
                    .col(big_integer("members"))
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("member_snapshot").take())
            .await
    }
}
