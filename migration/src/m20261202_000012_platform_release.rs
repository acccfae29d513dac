//! The platform release: one set of noisy platform-wide tables per data
//! epoch, released under the platform's own ledger and sliced by every
//! brand for free. Each row is that ledger's entry for its epoch.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `platform_release`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000012_platform_release"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("platform_release")
                    .col(big_integer("epoch_id").primary_key())
                    .col(big_integer("epsilon_micros"))
                    .col(integer("tables"))
                    .col(integer("cells"))
                    .col(big_integer("build_ms"))
                    .col(text("release"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("platform_release", "epoch_id")
                            .to("data_epoch", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Alias::new("platform_release")).take())
            .await
    }
}
