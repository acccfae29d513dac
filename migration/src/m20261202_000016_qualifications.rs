//! Qualification documents (trademark registrations, authorisations from
//! the brand owner, business licences) filed with an application and
//! checked by a reviewer; conditions of a conditional approval as tracked
//! items; and which documents a category's policy requires.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates `application_document` and `application_condition`, and adds
/// `criteria_policy.required_documents` (none for existing versions).
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000016_qualifications"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("application_document")
                    .col(pk_auto("id").big_integer())
                    .col(big_integer("application_id"))
                    .col(big_integer("brand_id"))
                    .col(string_len("kind", 32))
                    .col(string_len_null("trademark_status", 16))
                    .col(string_len("number", 64))
                    .col(string_len("holder", 200))
                    .col(integer_null("nice_class"))
                    .col(text_null("chain"))
                    .col(date_null("expires_on"))
                    .col(string_len("file_name", 255))
                    .col(string_len("content_type", 64))
                    .col(big_integer("size_bytes"))
                    .col(string_len("sha256", 64))
                    .col(string_len("state", 16))
                    .col(string_len_null("rejection", 32))
                    .col(text_null("review_note"))
                    .col(string_len_null("reviewed_by", 128))
                    .col(timestamp_with_time_zone_null("reviewed_at"))
                    .col(string_len("uploaded_by", 128))
                    .col(timestamp_with_time_zone("uploaded_at"))
                    .col(date_null("warned_expires_on"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("application_document", "application_id")
                            .to("application", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_application_document_application")
                    .table("application_document")
                    .col("application_id")
                    .take(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("application_condition")
                    .col(pk_auto("id").big_integer())
                    .col(big_integer("application_id"))
                    .col(big_integer("brand_id"))
                    .col(text("description"))
                    .col(timestamp_with_time_zone("due_at"))
                    .col(string_len("state", 16))
                    .col(text_null("evidence"))
                    .col(big_integer_null("evidence_document_id"))
                    .col(string_len_null("evidence_by", 128))
                    .col(timestamp_with_time_zone_null("evidence_at"))
                    .col(string_len_null("resolved_by", 128))
                    .col(timestamp_with_time_zone_null("resolved_at"))
                    .col(text_null("resolution_note"))
                    .col(string_len("created_by", 128))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("warned_due_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("application_condition", "application_id")
                            .to("application", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .take(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_application_condition_application")
                    .table("application_condition")
                    .col("application_id")
                    .take(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("criteria_policy"))
                    .add_column(string_len("required_documents", 128).default(""))
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("criteria_policy"))
                    .drop_column(Alias::new("required_documents"))
                    .take(),
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(Alias::new("application_condition"))
                    .take(),
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(Alias::new("application_document"))
                    .take(),
            )
            .await
    }
}
