//! The onboarding workflow: applications (current state, one open per
//! brand) and their append-only events.

use sea_orm_migration::{prelude::*, schema::*};

use crate::shared::{IndexSpec, create_indexes};

/// Creates the onboarding tables.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000004_onboarding"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("application")
                    .col(big_integer("id").auto_increment().primary_key())
                    .col(big_integer("brand_id"))
                    .col(big_integer("category_id"))
                    .col(big_integer_null("open_brand_id"))
                    .col(string_len("state", 32))
                    .col(integer("version"))
                    .col(text("statement"))
                    .col(string_len_null("claimed_by", 128))
                    .col(string_len_null("decided_by", 128))
                    .col(boolean("appealed"))
                    .col(timestamp_with_time_zone_null("due_at"))
                    .col(timestamp_with_time_zone_null("warned_due_at"))
                    .col(big_integer_null("evaluation_id"))
                    .col(string_len("created_by", 128))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("submitted_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("application", "brand_id")
                            .to("brand", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from("application", "evaluation_id")
                            .to("evaluation", "id")
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .take(),
            )
            .await?;
        create_indexes(
            manager,
            &[
                IndexSpec {
                    name: "idx_application_open_brand",
                    table: "application",
                    columns: &["open_brand_id"],
                    unique: true,
                },
                IndexSpec {
                    name: "idx_application_brand",
                    table: "application",
                    columns: &["brand_id", "id"],
                    unique: false,
                },
                IndexSpec {
                    name: "idx_application_state",
                    table: "application",
                    columns: &["state", "id"],
                    unique: false,
                },
                IndexSpec {
                    name: "idx_application_due",
                    table: "application",
                    columns: &["due_at"],
                    unique: false,
                },
            ],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("application_event")
                    .col(big_integer("id").auto_increment().primary_key())
                    .col(big_integer("application_id"))
                    .col(timestamp_with_time_zone("at"))
                    .col(string_len("actor", 128))
                    .col(string_len("action", 32))
                    .col(string_len_null("from_state", 32))
                    .col(string_len("to_state", 32))
                    .col(string_len("reason_codes", 512))
                    .col(text_null("note"))
                    .col(big_integer_null("evaluation_id"))
                    .col(timestamp_with_time_zone_null("due_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("application_event", "application_id")
                            .to("application", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_application_event_application")
                    .table("application_event")
                    .col("application_id")
                    .col("id")
                    .take(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["application_event", "application"] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).take())
                .await?;
        }
        Ok(())
    }
}
