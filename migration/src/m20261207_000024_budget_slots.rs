//! A benefit's budget counters move from its row to a few slots, each with
//! its own share of the budget: every grant used to update the benefit's
//! row, so all orders granting a hot benefit waited on one row lock
//! (placeOrder on PostgreSQL spent most of its time in that UPDATE). A
//! benefit's existing totals become its first slot; the shares are cut at
//! its next grant.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `benefit_budget_slot` and moves the counters into it.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000024_budget_slots"
    }
}

/// The counters that move.
const COUNTERS: [&str; 2] = ["redemptions", "spent_cents"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("benefit_budget_slot")
                    .col(big_integer("benefit_id"))
                    .col(integer("slot"))
                    .col(big_integer("redemptions"))
                    .col(big_integer("spent_cents"))
                    .col(big_integer_null("redemptions_allowed"))
                    .col(big_integer_null("cents_allowed"))
                    .col(big_integer_null("cap_redemptions"))
                    .col(big_integer_null("cap_cents"))
                    .primary_key(Index::create().col("benefit_id").col("slot"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("benefit_budget_slot", "benefit_id")
                            .to("benefit", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO benefit_budget_slot (benefit_id, slot, redemptions, spent_cents) \
                 SELECT id, 0, redemptions, spent_cents FROM benefit",
            )
            .await?;
        for column in COUNTERS {
            manager
                .alter_table(
                    Table::alter()
                        .table("benefit")
                        .drop_column(Alias::new(column))
                        .take(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The columns come back with a default of 0 (SQLite adds a NOT NULL
        // column only with one), then hold the sums of the slots.
        for column in COUNTERS {
            manager
                .alter_table(
                    Table::alter()
                        .table("benefit")
                        .add_column(big_integer(column).default(0))
                        .take(),
                )
                .await?;
            manager
                .get_connection()
                .execute_unprepared(&format!(
                    "UPDATE benefit SET {column} = COALESCE((SELECT SUM(s.{column}) \
                     FROM benefit_budget_slot s WHERE s.benefit_id = benefit.id), 0)"
                ))
                .await?;
        }
        manager
            .drop_table(Table::drop().table("benefit_budget_slot").take())
            .await
    }
}
