//! Writing platform data in bulk, shared by `seed` and `import`: batched
//! multi-row inserts sized to each engine's bind-parameter limit, inside
//! the caller's transaction so a failed load leaves nothing behind.

use crate::{
    blobs::BlobStore,
    snapshot::{Columnar, Mirror, SnapshotError, SnapshotTarget},
};
use entity::{
    brand, category, category_sales, member, member_interest, member_service, paid_renewal,
    sku_price, social_mention, store_membership,
};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, IntoActiveModel,
    PaginatorTrait as _,
};

/// Bind parameters per statement: under SQLite's 32,766 and PostgreSQL's 65,535.
const PARAMS_PER_STATEMENT: usize = 30_000;

/// Tables in dependency order (parents first).
const TABLES: [&str; 10] = [
    "category",
    "brand",
    "member",
    "member_interest",
    "member_service",
    "paid_renewal",
    "store_membership",
    "category_sales",
    "sku_price",
    "social_mention",
];

/// Buffers rows of one table and inserts them in large batches, mirroring
/// them into the member snapshot when the table is part of it.
pub struct Batch<M: IntoActiveModel<A>, A: ActiveModelTrait> {
    rows: Vec<M>,
    capacity: usize,
    written: u64,
    mirror: Option<Box<dyn Mirror<M>>>,
    _model: std::marker::PhantomData<A>,
}

impl<M, A> Batch<M, A>
where
    M: IntoActiveModel<A> + Send + Sync,
    A: ActiveModelTrait + Send,
{
    /// A buffer for a table with `columns` columns.
    pub fn new(columns: usize) -> Self {
        let capacity = PARAMS_PER_STATEMENT / columns;
        Self {
            rows: Vec::with_capacity(capacity),
            capacity,
            written: 0,
            mirror: None,
            _model: std::marker::PhantomData,
        }
    }

    /// A buffer whose rows also go to the snapshot's table.
    fn mirrored(columns: usize, snapshot: &SnapshotTarget) -> Result<Self, SnapshotError>
    where
        M: Columnar + 'static,
    {
        Ok(Self {
            mirror: Some(Box::new(snapshot.table::<M>()?)),
            ..Self::new(columns)
        })
    }

    /// Buffers a row; the caller flushes when [`Batch::is_full`], parents
    /// before children so foreign keys hold at every statement.
    pub fn push(&mut self, row: M) {
        self.rows.push(row);
    }

    /// Whether the next statement is as large as it may be.
    pub fn is_full(&self) -> bool {
        self.rows.len() >= self.capacity
    }

    /// Inserts what is buffered (and mirrors it); returns the rows written
    /// so far.
    pub async fn flush(&mut self, db: &impl ConnectionTrait) -> Result<u64, SnapshotError> {
        let rows = std::mem::replace(&mut self.rows, Vec::with_capacity(self.capacity));
        if let Some(mirror) = &mut self.mirror {
            mirror.write(&rows).await?;
        }
        self.written += rows.len() as u64;
        let mut rows: Vec<A> = rows
            .into_iter()
            .map(IntoActiveModel::into_active_model)
            .collect();
        // A batch may overshoot its capacity by one caller's group of rows;
        // each statement still stays under the parameter limit.
        while !rows.is_empty() {
            let rest = rows.split_off(rows.len().min(self.capacity));
            <A::Entity as EntityTrait>::insert_many(rows)
                .exec_without_returning(db)
                .await?;
            rows = rest;
        }
        Ok(self.written)
    }

    /// Completes the mirror, if any.
    async fn close(self) -> Result<(), SnapshotError> {
        if let Some(mirror) = self.mirror {
            mirror.close().await?;
        }
        Ok(())
    }
}

/// One batch per platform table.
pub struct PlatformWriter {
    /// Categories.
    pub categories: Batch<category::Model, category::ActiveModel>,
    /// Brands.
    pub brands: Batch<brand::Model, brand::ActiveModel>,
    /// Members.
    pub members: Batch<member::Model, member::ActiveModel>,
    /// Member interests.
    pub interests: Batch<member_interest::Model, member_interest::ActiveModel>,
    /// Member services.
    pub services: Batch<member_service::Model, member_service::ActiveModel>,
    /// Paid members' renewal decisions.
    pub renewals: Batch<paid_renewal::Model, paid_renewal::ActiveModel>,
    /// Store memberships.
    pub store_memberships: Batch<store_membership::Model, store_membership::ActiveModel>,
    /// Monthly sales.
    pub sales: Batch<category_sales::Model, category_sales::ActiveModel>,
    /// Daily SKU prices.
    pub prices: Batch<sku_price::Model, sku_price::ActiveModel>,
    /// Weekly mentions.
    pub mentions: Batch<social_mention::Model, social_mention::ActiveModel>,
    /// Where the member-level tables are mirrored.
    snapshot: SnapshotTarget,
}

/// Rows written per table, in [`TABLES`] order.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RowCounts {
    /// Categories.
    pub categories: u64,
    /// Brands.
    pub brands: u64,
    /// Members.
    pub members: u64,
    /// Member interests.
    pub interests: u64,
    /// Member services.
    pub services: u64,
    /// Paid renewal decisions.
    pub renewals: u64,
    /// Store memberships.
    pub store_memberships: u64,
    /// Monthly sales rows.
    pub sales: u64,
    /// Daily SKU price rows.
    pub prices: u64,
    /// Weekly mention rows.
    pub mentions: u64,
}

impl RowCounts {
    /// Every row written.
    pub fn total(&self) -> u64 {
        self.categories
            + self.brands
            + self.members
            + self.interests
            + self.services
            + self.renewals
            + self.store_memberships
            + self.sales
            + self.prices
            + self.mentions
    }
}

impl PlatformWriter {
    /// A writer whose member-level tables are also written, as a new
    /// snapshot, into `blobs`.
    pub fn new(blobs: &BlobStore) -> Result<Self, SnapshotError> {
        let snapshot = SnapshotTarget::new(blobs);
        Ok(Self {
            categories: Batch::new(3),
            brands: Batch::new(5),
            members: Batch::mirrored(9, &snapshot)?,
            interests: Batch::mirrored(2, &snapshot)?,
            services: Batch::mirrored(2, &snapshot)?,
            renewals: Batch::new(3),
            store_memberships: Batch::mirrored(3, &snapshot)?,
            sales: Batch::new(5),
            prices: Batch::new(5),
            mentions: Batch::new(4),
            snapshot,
        })
    }

    /// Flushes every table, parents first, once any of them is full.
    pub async fn flush_if_full(&mut self, db: &impl ConnectionTrait) -> Result<(), SnapshotError> {
        let full = self.categories.is_full()
            || self.brands.is_full()
            || self.members.is_full()
            || self.interests.is_full()
            || self.services.is_full()
            || self.renewals.is_full()
            || self.store_memberships.is_full()
            || self.sales.is_full()
            || self.prices.is_full()
            || self.mentions.is_full();
        if full {
            self.flush(db).await?;
        }
        Ok(())
    }

    /// Flushes every table, parents first; returns the rows written so far.
    pub async fn flush(&mut self, db: &impl ConnectionTrait) -> Result<RowCounts, SnapshotError> {
        Ok(RowCounts {
            categories: self.categories.flush(db).await?,
            brands: self.brands.flush(db).await?,
            members: self.members.flush(db).await?,
            interests: self.interests.flush(db).await?,
            services: self.services.flush(db).await?,
            renewals: self.renewals.flush(db).await?,
            store_memberships: self.store_memberships.flush(db).await?,
            sales: self.sales.flush(db).await?,
            prices: self.prices.flush(db).await?,
            mentions: self.mentions.flush(db).await?,
        })
    }

    /// Flushes everything, completes the snapshot and records it as the
    /// current one, and brings id sequences past the explicit ids.
    pub async fn finish(mut self, db: &impl ConnectionTrait) -> Result<RowCounts, SnapshotError> {
        let counts = self.flush(db).await?;
        self.members.close().await?;
        self.interests.close().await?;
        self.services.close().await?;
        self.store_memberships.close().await?;
        self.snapshot.record(db, counts.members).await?;
        if db.get_database_backend() == DatabaseBackend::Postgres {
            for table in ["category", "brand"] {
                db.execute_unprepared(&format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                     COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                ))
                .await?;
            }
        }
        Ok(counts)
    }
}

/// Whether any platform data (brands or members) is present.
pub async fn is_empty(db: &impl ConnectionTrait) -> Result<bool, DbErr> {
    Ok(brand::Entity::find().count(db).await? == 0 && member::Entity::find().count(db).await? == 0)
}

/// Deletes all platform data, children first, and the credentials of
/// brands that go with it.
pub async fn clear(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    db.execute_unprepared("DELETE FROM credential WHERE brand_id IS NOT NULL")
        .await?;
    for table in TABLES.iter().rev() {
        db.execute_unprepared(&format!("DELETE FROM {table}"))
            .await?;
    }
    Ok(())
}
