//! A member's interests and services move from a row per code
//! (`member_interest`, `member_service`) into two integers on the member
//! row, one bit per code: a member was about 5.7 rows, so loading members
//! was mostly inserting these, and checkout read them with a statement of
//! their own. Bit `i` stands for the code at index `i` of the vocabulary
//! below, which is the programme's vocabulary as of this migration (the
//! gateway's `platform` module is its home from here on).

use sea_orm_migration::{prelude::*, schema::*};

/// Adds `member.interests` and `member.services` and drops the code tables.
pub(crate) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000025_packed_member_codes"
    }
}

/// A packed column and the table it replaces.
struct Packed {
    /// The member column.
    column: &'static str,
    /// The table of one row per (member, code).
    table: &'static str,
    /// That table's code column.
    code: &'static str,
    /// That table's index on its code column.
    index: &'static str,
    /// The codes, in bit order.
    codes: &'static [&'static str],
}

/// The interest codes in bit order as this migration packed them: the
/// gateway's vocabulary must keep them in this order (new codes only
/// added after them), which a test checks.
pub const PACKED_INTERESTS: &[&str] = &[
    "BEAUTY",
    "FASHION",
    "SPORTS",
    "OUTDOOR",
    "DIGITAL",
    "HOME",
    "MOTHER_BABY",
    "PETS",
    "FOOD",
    "TRAVEL",
    "BOOKS",
    "GAMING",
    "LUXURY",
    "HEALTH",
];

/// The service codes in bit order as this migration packed them (see
/// [`PACKED_INTERESTS`]).
pub const PACKED_SERVICES: &[&str] = &["FOOD_DELIVERY", "TRAVEL", "VIDEO", "MOVIE_TICKETS", "MAPS"];

const PACKED: [Packed; 2] = [
    Packed {
        column: "interests",
        table: "member_interest",
        code: "interest",
        index: "idx_member_interest_interest",
        codes: PACKED_INTERESTS,
    },
    Packed {
        column: "services",
        table: "member_service",
        code: "service",
        index: "idx_member_service_service",
        codes: PACKED_SERVICES,
    },
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for packed in &PACKED {
            // SQLite adds a NOT NULL column only with a default.
            manager
                .alter_table(
                    Table::alter()
                        .table("member")
                        .add_column(integer(packed.column).default(0))
                        .take(),
                )
                .await?;
        }
        // Both columns in one pass over the members. A code outside the
        // vocabulary could not have been loaded (seed and import check
        // it); it would count as no bit.
        let sets = PACKED
            .iter()
            .map(|packed| {
                let bits = packed
                    .codes
                    .iter()
                    .enumerate()
                    .map(|(bit, value)| format!(" WHEN '{value}' THEN {}", 1 << bit))
                    .collect::<String>();
                format!(
                    "{} = COALESCE((SELECT SUM(CASE r.{}{bits} ELSE 0 END) FROM {} r \
                     WHERE r.member_id = member.id), 0)",
                    packed.column, packed.code, packed.table
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        manager
            .get_connection()
            .execute_unprepared(&format!("UPDATE member SET {sets}"))
            .await?;
        for packed in &PACKED {
            manager
                .drop_table(Table::drop().table(Alias::new(packed.table)).take())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for Packed {
            column,
            table,
            code,
            index,
            codes,
        } in PACKED
        {
            manager
                .create_table(
                    Table::create()
                        .table(Alias::new(table))
                        .col(big_integer("member_id"))
                        .col(string_len(code, 32))
                        .primary_key(Index::create().col("member_id").col(Alias::new(code)))
                        .foreign_key(
                            ForeignKey::create()
                                .from(Alias::new(table), "member_id")
                                .to("member", "id")
                                .on_delete(ForeignKeyAction::Cascade),
                        )
                        .take(),
                )
                .await?;
            for (bit, value) in codes.iter().enumerate() {
                db.execute_unprepared(&format!(
                    "INSERT INTO {table} (member_id, {code}) SELECT id, '{value}' FROM member \
                     WHERE ({column} & {}) <> 0",
                    1 << bit
                ))
                .await?;
            }
            manager
                .create_index(
                    Index::create()
                        .name(index)
                        .table(Alias::new(table))
                        .col(Alias::new(code))
                        .take(),
                )
                .await?;
            manager
                .alter_table(
                    Table::alter()
                        .table("member")
                        .drop_column(Alias::new(column))
                        .take(),
                )
                .await?;
        }
        Ok(())
    }
}
