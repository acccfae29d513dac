//! A brand's privacy budget in two shares: its analysts' audience
//! questions and its operators' benefit insights, so one side running out
//! never blocks the other. Debits say whose share paid (earlier ones were
//! all analysts'); an admin may set a brand's split.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds `privacy_ledger.pool` and creates `privacy_split`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000011_privacy_pools"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("privacy_ledger"))
                    .add_column(string_len("pool", 16).default("ANALYSTS"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("privacy_split")
                    .col(big_integer("brand_id").primary_key())
                    .col(double("analyst_share"))
                    .col(string_len("set_by", 128))
                    .col(timestamp_with_time_zone("set_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("privacy_split", "brand_id")
                            .to("brand", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Alias::new("privacy_split")).take())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("privacy_ledger"))
                    .drop_column(Alias::new("pool"))
                    .take(),
            )
            .await
    }
}
