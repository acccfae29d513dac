//! Store members per brand and join day, with how many are paid members,
//! computed per data epoch from the member snapshot by `refresh`: the
//! super-member ratio reads these few rows per brand instead of joining
//! every store membership to its member on each request. A database
//! upgraded with data gets the current epoch's rows from its member rows
//! at once (the same aggregate `refresh` computes), so its ratios do not
//! wait for the next load.

use sea_orm_migration::{prelude::*, schema::*};

use crate::shared::STORE_JOIN_DAYS_SQL;

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
            .await?;
        // The current ready epoch's rows, by the aggregate `refresh` runs;
        // nothing when no epoch is ready.
        let fill = format!(
            "INSERT INTO store_join_day (epoch_id, brand_id, joined_on, members, paid_members) \
             SELECT e.id, j.* FROM ({STORE_JOIN_DAYS_SQL}) j \
             JOIN (SELECT MAX(id) AS id FROM data_epoch WHERE ready) e ON e.id IS NOT NULL"
        );
        manager.get_connection().execute_unprepared(&fill).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("store_join_day").take())
            .await
    }
}
