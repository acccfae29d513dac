//! Entry criteria: versioned per-category threshold policies and immutable
//! evaluation snapshots.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates the criteria tables.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000003_criteria"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("criteria_policy")
                    .col(big_integer("id").auto_increment().primary_key())
                    .col(big_integer("category_id"))
                    .col(integer("version"))
                    .col(double("min_market_share"))
                    .col(double("min_voluntary_mention_share"))
                    .col(double("max_price_volatility"))
                    .col(double("min_super_member_ratio"))
                    .col(double("max_deep_discount_days"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(string_len("created_by", 128))
                    .foreign_key(
                        ForeignKey::create()
                            .from("criteria_policy", "category_id")
                            .to("category", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_criteria_policy_category_version")
                    .table("criteria_policy")
                    .col("category_id")
                    .col("version")
                    .unique()
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("evaluation")
                    .col(big_integer("id").auto_increment().primary_key())
                    .col(big_integer("brand_id"))
                    .col(date("as_of"))
                    .col(integer("policy_version"))
                    .col(boolean("passed"))
                    .col(text("snapshot"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(string_len("created_by", 128))
                    .foreign_key(
                        ForeignKey::create()
                            .from("evaluation", "brand_id")
                            .to("brand", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_evaluation_brand")
                    .table("evaluation")
                    .col("brand_id")
                    .col("id")
                    .take(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["evaluation", "criteria_policy"] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).take())
                .await?;
        }
        Ok(())
    }
}
