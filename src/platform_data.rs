//! Writing platform data in bulk, shared by `seed` and `import`: batched
//! multi-row inserts sized to each engine's bind-parameter limit, inside
//! the caller's transaction so a failed load leaves nothing behind. The
//! rows are made (and written to the Parquet snapshot) while the database
//! inserts the previous batches.

use crate::{
    blobs::BlobStore,
    snapshot::{Columnar, Mirror, SnapshotError, SnapshotTarget},
};
use entity::{
    brand, category, category_sales, member, paid_renewal, sku_price, social_mention,
    store_membership,
};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction,
    DbErr, EntityTrait, IntoActiveModel, PaginatorTrait as _, QueryTrait as _, Statement,
};
use tokio::sync::mpsc;

/// Bind parameters per statement: under SQLite's 32,766 and PostgreSQL's 65,535.
const PARAMS_PER_STATEMENT: usize = 30_000;

/// Insert statements made and not yet run, at most: enough for the next
/// batch to be made while the database runs this one, few enough to keep
/// memory flat.
const QUEUED_STATEMENTS: usize = 4;

/// Tables in dependency order (parents first).
const TABLES: [&str; 8] = [
    "category",
    "brand",
    "member",
    "paid_renewal",
    "store_membership",
    "category_sales",
    "sku_price",
    "social_mention",
];

/// Where a load's insert statements go: the queue [`load`] runs them from.
#[derive(Clone)]
struct Inserts {
    queue: mpsc::Sender<Statement>,
    backend: DatabaseBackend,
}

/// Buffers rows of one table and inserts them in large batches, mirroring
/// them into the member snapshot when the table is part of it.
pub struct Batch<M: IntoActiveModel<A>, A: ActiveModelTrait> {
    rows: Vec<M>,
    capacity: usize,
    written: u64,
    mirror: Option<Box<dyn Mirror<M>>>,
    inserts: Inserts,
    _model: std::marker::PhantomData<A>,
}

impl<M, A> Batch<M, A>
where
    M: IntoActiveModel<A> + Send + Sync,
    A: ActiveModelTrait + Send,
{
    /// A buffer for a table with `columns` columns.
    fn new(columns: usize, inserts: &Inserts) -> Self {
        let capacity = PARAMS_PER_STATEMENT / columns;
        Self {
            rows: Vec::with_capacity(capacity),
            capacity,
            written: 0,
            mirror: None,
            inserts: inserts.clone(),
            _model: std::marker::PhantomData,
        }
    }

    /// A buffer whose rows also go to the snapshot's table.
    fn mirrored(
        columns: usize,
        inserts: &Inserts,
        snapshot: &SnapshotTarget,
    ) -> Result<Self, SnapshotError>
    where
        M: Columnar + 'static,
    {
        Ok(Self {
            mirror: Some(Box::new(snapshot.table::<M>()?)),
            ..Self::new(columns, inserts)
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

    /// Queues what is buffered for insertion (and mirrors it); returns the
    /// rows written so far.
    pub async fn flush(&mut self) -> Result<u64, SnapshotError> {
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
            let statement =
                <A::Entity as EntityTrait>::insert_many(rows).build(self.inserts.backend);
            // The receiving end lives as long as the load, which reports
            // the database's own error when that side fails.
            self.inserts.queue.send(statement).await.map_err(|_| {
                DbErr::Custom("the database stopped taking the load's rows".to_owned())
            })?;
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
            + self.renewals
            + self.store_memberships
            + self.sales
            + self.prices
            + self.mentions
    }
}

impl PlatformWriter {
    /// A writer whose statements go to `inserts` and whose member-level
    /// tables are also written into the new `snapshot`.
    fn new(snapshot: SnapshotTarget, inserts: &Inserts) -> Result<Self, SnapshotError> {
        Ok(Self {
            categories: Batch::new(3, inserts),
            brands: Batch::new(5, inserts),
            members: Batch::mirrored(11, inserts, &snapshot)?,
            renewals: Batch::new(3, inserts),
            store_memberships: Batch::mirrored(3, inserts, &snapshot)?,
            sales: Batch::new(5, inserts),
            prices: Batch::new(5, inserts),
            mentions: Batch::new(4, inserts),
            snapshot,
        })
    }

    /// Flushes every table, parents first, once any of them is full.
    pub async fn flush_if_full(&mut self) -> Result<(), SnapshotError> {
        let full = self.categories.is_full()
            || self.brands.is_full()
            || self.members.is_full()
            || self.renewals.is_full()
            || self.store_memberships.is_full()
            || self.sales.is_full()
            || self.prices.is_full()
            || self.mentions.is_full();
        if full {
            self.flush().await?;
        }
        Ok(())
    }

    /// Flushes every table, parents first; returns the rows written so far.
    async fn flush(&mut self) -> Result<RowCounts, SnapshotError> {
        Ok(RowCounts {
            categories: self.categories.flush().await?,
            brands: self.brands.flush().await?,
            members: self.members.flush().await?,
            renewals: self.renewals.flush().await?,
            store_memberships: self.store_memberships.flush().await?,
            sales: self.sales.flush().await?,
            prices: self.prices.flush().await?,
            mentions: self.mentions.flush().await?,
        })
    }

    /// Flushes everything and completes the snapshot's files; dropping the
    /// batches closes the insert queue.
    async fn finish(mut self) -> Result<(RowCounts, SnapshotTarget), SnapshotError> {
        let counts = self.flush().await?;
        self.members.close().await?;
        self.store_memberships.close().await?;
        Ok((counts, self.snapshot))
    }
}

/// Loads platform data in `txn`: `fill` pushes rows into the writer while
/// the statements it makes run on `txn` in the order they were made, so
/// making rows (and their Parquet) overlaps the database's own work. Then
/// the snapshot is recorded as the current one, in the same transaction,
/// and id sequences are brought past the explicit ids. A load that fails
/// deletes the snapshot files it wrote.
pub async fn load<E>(
    txn: &DatabaseTransaction,
    blobs: &BlobStore,
    fill: impl AsyncFnOnce(&mut PlatformWriter) -> Result<(), E>,
) -> Result<RowCounts, E>
where
    E: From<SnapshotError> + From<DbErr>,
{
    let snapshot = SnapshotTarget::new(blobs);
    let loaded = load_into(txn, snapshot.clone(), fill).await;
    if loaded.is_err()
        && let Err(error) = snapshot.discard().await
    {
        tracing::warn!(%error, "could not delete a failed load's snapshot files");
    }
    loaded
}

/// What follows a committed load: the cube built from its snapshot for
/// `as_of`, the snapshots before the newest two pruned, and the standing of
/// admitted brands recorded; returns what the cube build made.
pub async fn settle<E>(
    db: &DatabaseConnection,
    blobs: &BlobStore,
    as_of: chrono::NaiveDate,
) -> Result<crate::segments::cube::RefreshReport, E>
where
    E: From<SnapshotError> + From<DbErr>,
{
    let cube = crate::segments::cube::refresh(db, blobs, as_of).await?;
    crate::snapshot::prune(db, blobs).await;
    let standings = crate::onboarding::adopt_existing(db, chrono::Utc::now()).await?;
    tracing::info!(standings, "recorded the standing of admitted brands");
    Ok(cube)
}

/// [`load`], writing the snapshot into `snapshot`.
async fn load_into<E>(
    txn: &DatabaseTransaction,
    snapshot: SnapshotTarget,
    fill: impl AsyncFnOnce(&mut PlatformWriter) -> Result<(), E>,
) -> Result<RowCounts, E>
where
    E: From<SnapshotError> + From<DbErr>,
{
    let (queue, mut queued) = mpsc::channel(QUEUED_STATEMENTS);
    let inserts = Inserts {
        queue,
        backend: txn.get_database_backend(),
    };
    let mut writer = PlatformWriter::new(snapshot, &inserts)?;
    drop(inserts);
    let set_aside = set_aside_indexes(txn).await?;
    let make = async move {
        fill(&mut writer).await?;
        Ok::<_, E>(writer.finish().await?)
    };
    let insert = async {
        while let Some(statement) = queued.recv().await {
            txn.execute_raw(statement).await?;
        }
        Ok::<_, E>(())
    };
    let ((counts, snapshot), ()) = tokio::try_join!(make, insert)?;
    for index in set_aside {
        txn.execute_unprepared(&index).await?;
    }
    snapshot.record(txn, counts.members).await?;
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        for table in ["category", "brand"] {
            txn.execute_unprepared(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                 COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            ))
            .await?;
        }
    }
    Ok(counts)
}

/// On SQLite, drops the platform tables' secondary indexes for the load
/// and returns the statements that build them again at its end, in the
/// same transaction (unique ones stay, so a duplicate is refused at its
/// statement): sorting once costs less than keeping an index up row
/// by row (about a fifth of SQLite's share of a seed), and readers keep
/// the old indexes until the commit. The statements are the database's
/// own (`sqlite_master`), so the migrations stay their one home.
/// PostgreSQL keeps its indexes: dropping one there would lock the table
/// against readers, such as the checkout, until the load commits.
async fn set_aside_indexes(txn: &DatabaseTransaction) -> Result<Vec<String>, DbErr> {
    if txn.get_database_backend() != DatabaseBackend::Sqlite {
        return Ok(Vec::new());
    }
    let tables = TABLES.map(|table| format!("'{table}'")).join(", ");
    let indexes = txn
        .query_all_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            format!(
                "SELECT name, sql FROM sqlite_master \
                 WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({tables}) \
                 AND sql NOT LIKE 'CREATE UNIQUE%'"
            ),
        ))
        .await?;
    let mut rebuild = Vec::with_capacity(indexes.len());
    for index in indexes {
        let name: String = index.try_get_by_index(0)?;
        txn.execute_unprepared(&format!("DROP INDEX \"{name}\""))
            .await?;
        rebuild.push(index.try_get_by_index(1)?);
    }
    Ok(rebuild)
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
