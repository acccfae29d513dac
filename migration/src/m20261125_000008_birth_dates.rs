//! Platform data: each member's birth date (when the platform knows it),
//! so a birthday gift is granted inside its window around the birthday.
//! The birth year stays the source of age bands.

use sea_orm_migration::{prelude::*, schema::*};

/// Adds `member.birth_date`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000008_birth_dates"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("member"))
                    .add_column(date_null("birth_date"))
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("member"))
                    .drop_column(Alias::new("birth_date"))
                    .take(),
            )
            .await
    }
}
