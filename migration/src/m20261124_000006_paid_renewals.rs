//! Platform data: each paid member's latest yearly renewal decision, which
//! benefit analytics compare between members who used a benefit and
//! members who did not.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `paid_renewal`.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000006_paid_renewals"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("paid_renewal")
                    .col(big_integer("member_id").primary_key())
                    .col(date("due_on"))
                    .col(boolean("renewed"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("paid_renewal", "member_id")
                            .to("member", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Alias::new("paid_renewal")).take())
            .await
    }
}
