//! Outbound webhooks: endpoints per brand (or for the platform's queue),
//! and an outbox of deliveries written in the same transaction as the
//! event they announce, retried until the receiver takes them.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `webhook` and `webhook_delivery`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000015_webhooks"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("webhook")
                    .col(pk_auto("id").big_integer())
                    .col(big_integer_null("brand_id"))
                    .col(string_len("url", 2048))
                    .col(string_len("secret", 128))
                    .col(string_len("created_by", 128))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("deleted_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("webhook", "brand_id")
                            .to("brand", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("webhook_delivery")
                    .col(pk_auto("id").big_integer())
                    .col(big_integer("webhook_id"))
                    .col(big_integer("brand_id"))
                    .col(string_len("event", 32))
                    .col(text("payload"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(integer("attempts").default(0))
                    .col(timestamp_with_time_zone("next_attempt_at"))
                    .col(timestamp_with_time_zone_null("delivered_at"))
                    .col(integer_null("last_status"))
                    .col(string_len_null("last_error", 512))
                    .foreign_key(
                        ForeignKey::create()
                            .from("webhook_delivery", "webhook_id")
                            .to("webhook", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_delivery_pending")
                    .table("webhook_delivery")
                    .col("webhook_id")
                    .col("delivered_at")
                    .col("id")
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Alias::new("webhook_delivery")).take())
            .await?;
        manager
            .drop_table(Table::drop().table(Alias::new("webhook")).take())
            .await
    }
}
