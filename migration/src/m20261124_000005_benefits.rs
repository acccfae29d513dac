//! Exclusive member benefits: the benefit (lifecycle, live and pending
//! revisions, budget counters), its immutable revisions, its audit events,
//! redemptions keyed for idempotency, and each brand's member centre.

use sea_orm_migration::{prelude::*, schema::*};

use crate::shared::{IndexSpec, create_indexes};

/// Creates the benefit tables.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000005_benefits"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("benefit")
                    .col(big_integer("id").auto_increment().primary_key())
                    .col(big_integer("brand_id"))
                    .col(string_len("state", 32))
                    .col(integer("version"))
                    .col(big_integer("current_revision"))
                    .col(big_integer_null("live_revision"))
                    .col(boolean("revision_pending"))
                    .col(big_integer("redemptions"))
                    .col(big_integer("spent_cents"))
                    .col(timestamp_with_time_zone_null("activated_at"))
                    .col(timestamp_with_time_zone_null("flagged_at"))
                    .col(timestamp_with_time_zone_null("policy_paused_at"))
                    .col(timestamp_with_time_zone_null("grace_until"))
                    .col(string_len("created_by", 128))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("benefit", "brand_id")
                            .to("brand", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("benefit_revision")
                    .col(big_integer("id").auto_increment().primary_key())
                    .col(big_integer("benefit_id"))
                    .col(integer("number"))
                    .col(text("definition"))
                    .col(string_len("review", 16))
                    .col(string_len("created_by", 128))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("benefit_revision", "benefit_id")
                            .to("benefit", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("benefit_event")
                    .col(big_integer("id").auto_increment().primary_key())
                    .col(big_integer("benefit_id"))
                    .col(timestamp_with_time_zone("at"))
                    .col(string_len("actor", 128))
                    .col(string_len("action", 32))
                    .col(string_len("from_state", 32))
                    .col(string_len("to_state", 32))
                    .col(integer_null("revision"))
                    .col(text_null("note"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("benefit_event", "benefit_id")
                            .to("benefit", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("redemption")
                    .col(big_integer("id").auto_increment().primary_key())
                    .col(big_integer("benefit_id"))
                    .col(big_integer("member_id"))
                    .col(string_len("idempotency_key", 128))
                    .col(boolean("granted"))
                    .col(string_len("outcome", 32))
                    .col(big_integer("order_cents"))
                    .col(big_integer("amount_cents"))
                    .col(string_len("service", 128))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("redemption", "benefit_id")
                            .to("benefit", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("member_centre")
                    .col(big_integer("brand_id"))
                    .col(string_len("tier", 16))
                    .col(integer("position"))
                    .col(big_integer("benefit_id"))
                    .primary_key(Index::create().col("brand_id").col("tier").col("position"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("member_centre", "benefit_id")
                            .to("benefit", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        create_indexes(
            manager,
            &[
                IndexSpec {
                    name: "idx_benefit_brand",
                    table: "benefit",
                    columns: &["brand_id", "id"],
                    unique: false,
                },
                IndexSpec {
                    name: "idx_benefit_revision_number",
                    table: "benefit_revision",
                    columns: &["benefit_id", "number"],
                    unique: true,
                },
                IndexSpec {
                    name: "idx_benefit_event_benefit",
                    table: "benefit_event",
                    columns: &["benefit_id", "id"],
                    unique: false,
                },
                IndexSpec {
                    name: "idx_redemption_key",
                    table: "redemption",
                    columns: &["benefit_id", "idempotency_key"],
                    unique: true,
                },
                IndexSpec {
                    name: "idx_redemption_member",
                    table: "redemption",
                    columns: &["benefit_id", "member_id"],
                    unique: false,
                },
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "member_centre",
            "redemption",
            "benefit_event",
            "benefit_revision",
            "benefit",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).take())
                .await?;
        }
        Ok(())
    }
}
