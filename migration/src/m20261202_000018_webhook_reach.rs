//! Whether a webhook may reach internal addresses is decided when it is
//! created (platform staff's may, brands' may not) and kept on the row, so
//! delivery applies the same rule to what a host name resolves to.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds `webhook.may_reach_internal`: true for existing platform-queue
/// endpoints (only staff create those), false for the rest.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000018_webhook_reach"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("webhook"))
                    .add_column(boolean("may_reach_internal").default(false))
                    .take(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table(Alias::new("webhook"))
                    .value(Alias::new("may_reach_internal"), true)
                    .and_where(Expr::col(Alias::new("brand_id")).is_null())
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("webhook"))
                    .drop_column(Alias::new("may_reach_internal"))
                    .take(),
            )
            .await
    }
}
