//! What more than one migration needs: building a list of indexes, and the
//! store-join-day aggregate that migration 20 fills and `refresh` computes.

use sea_orm_migration::prelude::*;

/// One secondary index a migration creates.
pub(crate) struct IndexSpec {
    /// The index's name, unique in the database.
    pub(crate) name: &'static str,
    /// The table it indexes.
    pub(crate) table: &'static str,
    /// Its columns, in key order.
    pub(crate) columns: &'static [&'static str],
    /// Whether it enforces uniqueness.
    pub(crate) unique: bool,
}

/// Creates each index of `specs`, in order.
pub(crate) async fn create_indexes(
    manager: &SchemaManager<'_>,
    specs: &[IndexSpec],
) -> Result<(), DbErr> {
    for spec in specs {
        let mut index = Index::create();
        index.name(spec.name).table(Alias::new(spec.table));
        for column in spec.columns {
            index.col(Alias::new(*column));
        }
        if spec.unique {
            index.unique();
        }
        manager.create_index(index.take()).await?;
    }
    Ok(())
}

/// Drops each index of `specs` (a migration's `down`).
pub(crate) async fn drop_indexes(
    manager: &SchemaManager<'_>,
    specs: &[IndexSpec],
) -> Result<(), DbErr> {
    for spec in specs {
        let mut index = Index::drop();
        index.name(spec.name).table(Alias::new(spec.table));
        manager.drop_index(index.to_owned()).await?;
    }
    Ok(())
}

/// Store members per brand and join day, with how many are paid members,
/// from the tables `store_membership` and `member`. Portable SQL: `refresh`
/// runs it with DataFusion over the member snapshot, `check_cube` over the
/// member rows, and migration 20 to fill an upgraded database; one text, so
/// the three cannot drift.
pub const STORE_JOIN_DAYS_SQL: &str = "SELECT s.brand_id, s.joined_on, \
     CAST(COUNT(*) AS BIGINT), CAST(SUM(CASE WHEN m.paid_member THEN 1 ELSE 0 END) AS BIGINT) \
     FROM store_membership s JOIN member m ON m.id = s.member_id GROUP BY s.brand_id, s.joined_on";
