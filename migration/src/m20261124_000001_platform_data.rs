//! The platform data every capability reads (categories, brands, members
//! and their dimensions, store memberships, sales, prices, mentions) and the
//! gateway's own credentials and audit log.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates the platform-data tables.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000001_platform_data"
    }
}

/// A 64-bit auto-increment primary key that SQLite and PostgreSQL both accept.
fn id_pk() -> ColumnDef {
    big_integer(Alias::new("id"))
        .auto_increment()
        .primary_key()
        .take()
}

fn fk(table: &str, column: &str, to: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(Alias::new(table), Alias::new(column))
        .to(Alias::new(to), Alias::new("id"))
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

fn index(table: &str, columns: &[&str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index
        .name(format!("idx_{table}_{}", columns.join("_")))
        .table(Alias::new(table));
    for column in columns {
        index.col(Alias::new(*column));
    }
    index.take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            Table::create()
                .table("category")
                .col(id_pk())
                .col(string_len_uniq("code", 32))
                .col(string_len("name", 128))
                .take(),
            Table::create()
                .table("brand")
                .col(id_pk())
                .col(string_len_uniq("name", 128))
                .col(big_integer("category_id"))
                .col(string_len("status", 16))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("brand", "category_id", "category"))
                .take(),
            Table::create()
                .table("member")
                .col(big_integer("id").primary_key())
                .col(integer("points"))
                .col(boolean("paid_member"))
                .col(boolean("black_card"))
                .col(integer("birth_year"))
                .col(string_len("gender", 8))
                .col(string_len("city_tier", 16))
                .col(big_integer("annual_spend_cents"))
                .take(),
            Table::create()
                .table("member_interest")
                .col(big_integer("member_id"))
                .col(string_len("interest", 32))
                .primary_key(Index::create().col("member_id").col("interest"))
                .foreign_key(&mut fk("member_interest", "member_id", "member"))
                .take(),
            Table::create()
                .table("member_service")
                .col(big_integer("member_id"))
                .col(string_len("service", 32))
                .primary_key(Index::create().col("member_id").col("service"))
                .foreign_key(&mut fk("member_service", "member_id", "member"))
                .take(),
            Table::create()
                .table("store_membership")
                .col(big_integer("brand_id"))
                .col(big_integer("member_id"))
                .col(date("joined_on"))
                .primary_key(Index::create().col("brand_id").col("member_id"))
                .foreign_key(&mut fk("store_membership", "brand_id", "brand"))
                .foreign_key(&mut fk("store_membership", "member_id", "member"))
                .take(),
            Table::create()
                .table("category_sales")
                .col(big_integer("brand_id"))
                .col(date("month"))
                .col(big_integer("gmv_cents"))
                .col(big_integer("refund_cents"))
                .col(big_integer("orders"))
                .primary_key(Index::create().col("brand_id").col("month"))
                .foreign_key(&mut fk("category_sales", "brand_id", "brand"))
                .take(),
            Table::create()
                .table("sku_price")
                .col(big_integer("brand_id"))
                .col(string_len("sku", 64))
                .col(date("day"))
                .col(big_integer("price_cents"))
                .col(big_integer("units"))
                .primary_key(Index::create().col("brand_id").col("sku").col("day"))
                .foreign_key(&mut fk("sku_price", "brand_id", "brand"))
                .take(),
            Table::create()
                .table("social_mention")
                .col(big_integer("brand_id"))
                .col(date("period_start"))
                .col(big_integer("voluntary"))
                .col(big_integer("paid"))
                .primary_key(Index::create().col("brand_id").col("period_start"))
                .foreign_key(&mut fk("social_mention", "brand_id", "brand"))
                .take(),
            Table::create()
                .table("credential")
                .col(string_len("id", 36).primary_key())
                .col(string_len("subject", 128))
                .col(string_len("role", 16))
                .col(big_integer_null("brand_id"))
                .col(timestamp_with_time_zone("issued_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .foreign_key(&mut fk("credential", "brand_id", "brand"))
                .take(),
            Table::create()
                .table("audit_log")
                .col(id_pk())
                .col(timestamp_with_time_zone("at"))
                .col(string_len("actor", 128))
                .col(string_len("action", 64))
                .col(string_len("target", 128))
                .col(json("detail"))
                .take(),
        ];
        for table in tables {
            manager.create_table(table).await?;
        }
        for index in [
            index("brand", &["category_id", "status"]),
            index("member_interest", &["interest"]),
            index("member_service", &["service"]),
            index("store_membership", &["member_id"]),
            index("audit_log", &["target"]),
        ] {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "audit_log",
            "credential",
            "social_mention",
            "sku_price",
            "category_sales",
            "store_membership",
            "member_service",
            "member_interest",
            "member",
            "brand",
            "category",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).take())
                .await?;
        }
        Ok(())
    }
}
