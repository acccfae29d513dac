//! A refusal whose reason a measure contradicts (MARKET_SHARE_LOW for a
//! brand whose share passed) carries the reviewer's explicit override note.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds `application_event.override_note`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000014_override_notes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("application_event"))
                    .add_column(text_null("override_note"))
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("application_event"))
                    .drop_column(Alias::new("override_note"))
                    .take(),
            )
            .await
    }
}
