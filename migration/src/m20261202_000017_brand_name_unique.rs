//! Brand names are unique case-insensitively: the admin API checks it, and
//! this index makes the check hold when two admins create (or rename) at
//! once.

use sea_orm_migration::prelude::*;

/// Adds the unique index on `lower(brand.name)`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000017_brand_name_unique"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // An expression index, which both engines take in the same words.
        manager
            .get_connection()
            .execute_unprepared("CREATE UNIQUE INDEX idx_brand_name_lower ON brand (lower(name))")
            .await
            .map(drop)
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX idx_brand_name_lower")
            .await
            .map(drop)
    }
}
