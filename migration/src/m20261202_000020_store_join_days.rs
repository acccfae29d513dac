//! Store members per brand and join day, with how many are paid members,
//! computed per data epoch from the member snapshot by `refresh`: the
//! super-member ratio reads these few rows per brand instead of joining
//! every store membership to its member on each request.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `store_join_day`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000020_store_join_days"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("store_join_day")
                    .col(big_integer("epoch_id"))
                    .col(big_integer("brand_id"))
                    .col(date("joined_on"))
                    .col(big_integer("members"))
                    .col(big_integer("paid_members"))
                    .primary_key(
                        Index::create()
                            .col("epoch_id")
                            .col("brand_id")
                            .col("joined_on"),
                    )
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("store_join_day").take())
            .await
    }
}
