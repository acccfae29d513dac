//! A category's policy says how long a brand waits after a final refusal
//! (REJECTED, UPHELD) before it may apply again, so an appeal is not moot.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds `criteria_policy.reapply_cooldown_days` (90 for existing versions).
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000013_reapply_cooldown"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("criteria_policy"))
                    .add_column(integer("reapply_cooldown_days").default(90))
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("criteria_policy"))
                    .drop_column(Alias::new("reapply_cooldown_days"))
                    .take(),
            )
            .await
    }
}
