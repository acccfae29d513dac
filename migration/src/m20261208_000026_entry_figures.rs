//! Every brand's entry figures per formula version, data epoch, member
//! snapshot, category and as-of day: a category's figures (sales,
//! mentions, 90 days of every SKU's prices, store join days) took a second
//! or more to read at a few hundred brands, on every list of entry
//! measures, at-risk list and policy preview. They change only with the
//! data and the formulas, so `refresh` keeps its epoch's as-of day and any
//! other day is kept when first read.
//! Nothing to fill on upgrade: what is missing is read when asked for.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `entry_figures`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_000026_entry_figures"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("entry_figures")
                    .col(big_integer("epoch_id"))
                    .col(string_len("formula_version", 32))
                    .col(big_integer("snapshot_id"))
                    .col(big_integer("category_id"))
                    .col(date("as_of"))
                    .col(big_integer("brand_id"))
                    .col(big_integer("net_gmv_cents"))
                    .col(big_integer("voluntary_mentions"))
                    .col(big_integer("paid_mentions"))
                    .col(double_null("price_cv"))
                    .col(double_null("deep_discount_days"))
                    .col(big_integer("priced_skus"))
                    .col(double("priced_gmv_cents"))
                    .col(big_integer("store_members"))
                    .col(big_integer("paid_store_members"))
                    .primary_key(
                        Index::create()
                            .col("epoch_id")
                            .col("formula_version")
                            .col("snapshot_id")
                            .col("category_id")
                            .col("as_of")
                            .col("brand_id"),
                    )
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("entry_figures").take())
            .await
    }
}
