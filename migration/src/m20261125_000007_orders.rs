//! Checkout orders: one row per (brand, order reference) holding the basket
//! and the quote that was applied, so a replay returns the same result and
//! a refund gives back exactly what was granted, once. Redemptions made by
//! an order point at it and record their refund.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `checkout_order` and links redemptions to it.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000007_orders"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("checkout_order")
                    .col(big_integer("id").auto_increment().primary_key())
                    .col(big_integer("brand_id"))
                    .col(string_len("order_ref", 128))
                    .col(big_integer("member_id"))
                    .col(text("basket"))
                    .col(text("quote"))
                    .col(big_integer("subtotal_cents"))
                    .col(big_integer("discount_cents"))
                    .col(string_len("service", 128))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("refunded_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("checkout_order", "brand_id")
                            .to("brand", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_checkout_order_ref")
                    .table(Alias::new("checkout_order"))
                    .col(Alias::new("brand_id"))
                    .col(Alias::new("order_ref"))
                    .unique()
                    .take(),
            )
            .await?;
        // One statement per column: SQLite alters one column at a time.
        for column in [
            big_integer_null("order_id"),
            timestamp_with_time_zone_null("refunded_at"),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("redemption"))
                        .add_column(column)
                        .take(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["refunded_at", "order_id"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("redemption"))
                        .drop_column(Alias::new(column))
                        .take(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(Alias::new("checkout_order")).take())
            .await
    }
}
