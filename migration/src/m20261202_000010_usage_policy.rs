//! The usage policy's thresholds as versioned data: each change appends a
//! version (the built-in defaults are version 0, never stored), and the
//! policy's flags name the version that judged them.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `usage_policy`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000010_usage_policy"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("usage_policy")
                    .col(big_integer("id").auto_increment().primary_key())
                    .col(integer("version").unique_key())
                    .col(double("min_fill_rate"))
                    .col(double("min_buyer_use"))
                    .col(integer("period_days"))
                    .col(integer("grace_days"))
                    .col(integer("notice_days"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(string_len("created_by", 128))
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Alias::new("usage_policy")).take())
            .await
    }
}
