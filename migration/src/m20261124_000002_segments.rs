//! Audience segments: data epochs, the pre-computed cube every audience
//! answer is read from, the per-brand privacy ledger, and stored answers
//! (same question, same answer, once per epoch).

use sea_orm_migration::{prelude::*, schema::*};

/// Creates the segment and privacy tables.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000002_segments"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("data_epoch")
                    .col(big_integer("id").auto_increment().primary_key())
                    .col(timestamp_with_time_zone("created_at"))
                    .col(date("as_of"))
                    .col(big_integer("members"))
                    .col(integer("multi_value_cap"))
                    .col(boolean("ready"))
                    .take(),
            )
            .await?;
        let mut cell = Table::create();
        cell.table("segment_cell")
            .col(big_integer("epoch_id"))
            .col(big_integer("population"))
            .col(small_integer("multi_dim"))
            .col(small_integer("multi_value"));
        for dim in [
            "tier",
            "paid",
            "black",
            "age_band",
            "gender",
            "city_tier",
            "spend_band",
        ] {
            cell.col(small_integer(dim));
        }
        cell.col(big_integer("members"))
            .col(big_integer("spend_sum"));
        manager.create_table(cell.take()).await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_segment_cell_lookup")
                    .table("segment_cell")
                    .col("epoch_id")
                    .col("population")
                    .col("multi_dim")
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("privacy_ledger")
                    .col(big_integer("id").auto_increment().primary_key())
                    .col(big_integer("brand_id"))
                    .col(timestamp_with_time_zone("at"))
                    .col(big_integer("epsilon_micros"))
                    .col(big_integer("epoch_id"))
                    .col(text("question"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("privacy_ledger", "brand_id")
                            .to("brand", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_privacy_ledger_brand_at")
                    .table("privacy_ledger")
                    .col("brand_id")
                    .col("at")
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("privacy_lock")
                    .col(big_integer("brand_id").primary_key())
                    .col(big_integer("debits"))
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("segment_answer")
                    .col(big_integer("epoch_id"))
                    .col(big_integer("scope"))
                    .col(string_len("question_key", 64))
                    .col(text("question"))
                    .col(text("answer"))
                    .col(timestamp_with_time_zone("created_at"))
                    .primary_key(
                        Index::create()
                            .col("epoch_id")
                            .col("scope")
                            .col("question_key"),
                    )
                    .take(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "segment_answer",
            "privacy_lock",
            "privacy_ledger",
            "segment_cell",
            "data_epoch",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).take())
                .await?;
        }
        Ok(())
    }
}
