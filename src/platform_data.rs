//! Writing platform data in bulk, shared by `seed` and `import`: batched
//! multi-row inserts sized to each engine's bind-parameter limit, inside
//! the caller's [`LoadTransaction`] so a failed load leaves nothing behind.
//! The rows are made, written to the Parquet snapshot and their values
//! encoded for the driver while the database inserts the previous batches.

use crate::{
    blobs::BlobStore,
    snapshot::{Columnar, Mirror, SnapshotError, SnapshotTarget},
};
use entity::{
    brand, category, category_sales, member, paid_renewal, sku_price, social_mention,
    store_membership,
};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, EntityName as _,
    EntityTrait, IntoActiveModel, Iterable as _, ModelTrait, PaginatorTrait as _, QueryTrait as _,
    Statement,
};
use tokio::sync::mpsc;
use tracing::Instrument as _;
pub use transaction::LoadTransaction;
use transaction::{Encoded, Engine};

mod transaction;

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
    queue: mpsc::Sender<Encoded>,
    engine: Engine,
}

/// A row of a platform table, as the bulk writer takes it: sea-orm makes
/// its statements, and a reused statement lists the row's values itself.
pub trait Row<A: ActiveModelTrait>:
    IntoActiveModel<A> + ModelTrait<Entity = A::Entity> + Clone + Send + Sync
{
}

impl<M, A> Row<A> for M
where
    A: ActiveModelTrait,
    M: IntoActiveModel<A> + ModelTrait<Entity = A::Entity> + Clone + Send + Sync,
{
}

/// Buffers rows of one table and inserts them in large batches, mirroring
/// them into the member snapshot when the table is part of it.
pub struct Batch<M: IntoActiveModel<A>, A: ActiveModelTrait> {
    rows: Vec<M>,
    capacity: usize,
    written: u64,
    mirror: Option<Box<dyn Mirror<M>>>,
    inserts: Inserts,
    /// The table's place in [`TABLES`]: parents are written before it.
    position: usize,
    /// The text of a full statement (`capacity` rows), once sea-orm has
    /// made one.
    full_text: Option<String>,
    _model: std::marker::PhantomData<A>,
}

impl<M: Row<A>, A: ActiveModelTrait + Send> Batch<M, A> {
    /// A buffer for the entity's table, which must be one of [`TABLES`].
    fn new(inserts: &Inserts) -> Self {
        let columns = <A::Entity as EntityTrait>::Column::iter().count();
        let capacity = PARAMS_PER_STATEMENT / columns;
        let table = A::Entity::default().table_name();
        let position = TABLES
            .iter()
            .position(|name| *name == table)
            .unwrap_or_else(|| panic!("{table} is not a platform table"));
        Self {
            rows: Vec::with_capacity(capacity),
            capacity,
            written: 0,
            mirror: None,
            inserts: inserts.clone(),
            position,
            full_text: None,
            _model: std::marker::PhantomData,
        }
    }

    /// A buffer whose rows also go to the snapshot's table.
    fn mirrored(inserts: &Inserts, snapshot: &SnapshotTarget) -> Result<Self, SnapshotError>
    where
        M: Columnar + 'static,
    {
        Ok(Self {
            mirror: Some(Box::new(snapshot.table::<M>()?)),
            ..Self::new(inserts)
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

    /// The table's place in [`TABLES`] if it [`Batch::is_full`].
    fn full_position(&self) -> Option<usize> {
        self.is_full().then_some(self.position)
    }

    /// Queues what [`PlatformWriter::write_up_to`] asks of this table:
    /// everything when it comes before the `whole`-th table, full
    /// statements when it is that one, nothing after it. Returns the rows
    /// written so far.
    async fn write_for(&mut self, whole: usize) -> Result<u64, SnapshotError> {
        match self.position.cmp(&whole) {
            std::cmp::Ordering::Less => self.flush().await,
            std::cmp::Ordering::Equal => self.flush_whole().await,
            std::cmp::Ordering::Greater => Ok(self.written),
        }
    }

    /// Queues what is buffered for insertion (and mirrors it); returns the
    /// rows written so far.
    pub async fn flush(&mut self) -> Result<u64, SnapshotError> {
        self.flush_rows(self.rows.len()).await
    }

    /// Queues as many full statements as are buffered, keeping the rest
    /// for later: a full statement reuses the text of the first.
    async fn flush_whole(&mut self) -> Result<u64, SnapshotError> {
        self.flush_rows(self.rows.len() / self.capacity * self.capacity)
            .await
    }

    /// Queues the first `count` buffered rows for insertion, in statements
    /// of at most the batch's capacity, and mirrors them.
    async fn flush_rows(&mut self, count: usize) -> Result<u64, SnapshotError> {
        if count == 0 {
            return Ok(self.written);
        }
        // Taken out and put back, so the buffer keeps its allocation
        // from one statement to the next.
        let mut buffered = std::mem::take(&mut self.rows);
        let rows = &buffered[..count];
        if let Some(mirror) = &mut self.mirror {
            mirror.write(rows).await?;
        }
        for chunk in rows.chunks(self.capacity) {
            // Encoded here, so the inserting task only hands it over.
            let encoded = Encoded::new(self.statement(chunk), self.inserts.engine);
            // The inserting task stops taking statements only when one
            // failed; the load then reports the database's own error.
            self.inserts.queue.send(encoded).await.map_err(|_| {
                DbErr::Custom("the database stopped taking the load's rows".to_owned())
            })?;
        }
        buffered.drain(..count);
        self.rows = buffered;
        self.written += count as u64;
        Ok(self.written)
    }

    /// The insert statement for `rows`. A full statement's text depends
    /// only on its row count, so sea-orm makes the first one and later
    /// full statements take its text and only list their values, in the
    /// order sea-orm does (its per-value conversions were the largest part
    /// of making a statement); `reused_statements_match_sea_orms` holds
    /// the two equal. A partial statement is sea-orm's.
    fn statement(&mut self, rows: &[M]) -> Statement {
        let full = rows.len() == self.capacity;
        if full && let Some(text) = &self.full_text {
            return Statement::from_sql_and_values(
                self.inserts.engine.backend(),
                text.clone(),
                rows.iter().flat_map(|row| {
                    <A::Entity as EntityTrait>::Column::iter().map(|column| row.get(column))
                }),
            );
        }
        let statement = <A::Entity as EntityTrait>::insert_many(
            rows.iter().cloned().map(IntoActiveModel::into_active_model),
        )
        .build(self.inserts.engine.backend());
        if full {
            self.full_text = Some(statement.sql.clone());
        }
        statement
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
            categories: Batch::new(inserts),
            brands: Batch::new(inserts),
            members: Batch::mirrored(inserts, &snapshot)?,
            renewals: Batch::new(inserts),
            store_memberships: Batch::mirrored(inserts, &snapshot)?,
            sales: Batch::new(inserts),
            prices: Batch::new(inserts),
            mentions: Batch::new(inserts),
            snapshot,
        })
    }

    /// Once any table is full, writes full statements of the last full
    /// table (in [`TABLES`] order), after everything the tables before it
    /// hold: a row's parents come earlier in that order, so they are
    /// always written first, and the tables that fill up mostly write full
    /// statements, whose text is made once (a partial statement is new
    /// text for sea-orm to make and the database to parse).
    pub async fn flush_if_full(&mut self) -> Result<(), SnapshotError> {
        let last_full = [
            self.categories.full_position(),
            self.brands.full_position(),
            self.members.full_position(),
            self.renewals.full_position(),
            self.store_memberships.full_position(),
            self.sales.full_position(),
            self.prices.full_position(),
            self.mentions.full_position(),
        ]
        .into_iter()
        .flatten()
        .max();
        if let Some(last) = last_full {
            self.write_up_to(last).await?;
        }
        Ok(())
    }

    /// Writes all that the tables before the `whole`-th (in [`TABLES`]
    /// order) hold and full statements of that one; `TABLES.len()` writes
    /// everything. The tables are visited in [`TABLES`] order (held by
    /// `tests::a_writer_writes_parents_first`). Returns the rows written so
    /// far.
    async fn write_up_to(&mut self, whole: usize) -> Result<RowCounts, SnapshotError> {
        Ok(RowCounts {
            categories: self.categories.write_for(whole).await?,
            brands: self.brands.write_for(whole).await?,
            members: self.members.write_for(whole).await?,
            renewals: self.renewals.write_for(whole).await?,
            store_memberships: self.store_memberships.write_for(whole).await?,
            sales: self.sales.write_for(whole).await?,
            prices: self.prices.write_for(whole).await?,
            mentions: self.mentions.write_for(whole).await?,
        })
    }

    /// Flushes everything and completes the snapshot's files; dropping the
    /// batches closes the insert queue.
    async fn finish(mut self) -> Result<(RowCounts, SnapshotTarget), SnapshotError> {
        let counts = self.write_up_to(TABLES.len()).await?;
        self.members.close().await?;
        self.store_memberships.close().await?;
        Ok((counts, self.snapshot))
    }
}

/// Loads platform data in `txn`: `fill` pushes rows into the writer while
/// the statements it makes (values already encoded) run on `txn`, in the
/// order they were made, on a task of their own, so making rows (and their
/// Parquet) overlaps the database's work and a finished statement is
/// followed by the next at once. Then the snapshot is recorded as the
/// current one, in the same transaction, and id sequences are brought past
/// the explicit ids; `txn` is handed back for the caller to finish. A load
/// that returns an error deletes the snapshot files it wrote.
pub async fn load<E>(
    txn: LoadTransaction,
    blobs: &BlobStore,
    fill: impl AsyncFnOnce(&mut PlatformWriter) -> Result<(), E>,
) -> Result<(RowCounts, LoadTransaction), E>
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

/// A new data epoch for `as_of` from the current member snapshot: its
/// cube and store join days ([`crate::segments::cube::refresh`]), then
/// every category's entry figures for that day, so the first list of entry
/// measures finds them kept.
pub async fn refresh(
    db: &DatabaseConnection,
    blobs: &BlobStore,
    as_of: chrono::NaiveDate,
) -> Result<crate::segments::cube::RefreshReport, SnapshotError> {
    let cube = crate::segments::cube::refresh(db, blobs, as_of).await?;
    crate::criteria::keep_all(db, as_of).await;
    Ok(cube)
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
    let cube = refresh(db, blobs, as_of).await?;
    crate::snapshot::prune(db, blobs).await;
    let standings = crate::onboarding::adopt_existing(db, chrono::Utc::now()).await?;
    tracing::info!(standings, "recorded the standing of admitted brands");
    Ok(cube)
}

/// [`load`], writing the snapshot into `snapshot`.
async fn load_into<E>(
    txn: LoadTransaction,
    snapshot: SnapshotTarget,
    fill: impl AsyncFnOnce(&mut PlatformWriter) -> Result<(), E>,
) -> Result<(RowCounts, LoadTransaction), E>
where
    E: From<SnapshotError> + From<DbErr>,
{
    let (queue, mut queued) = mpsc::channel(QUEUED_STATEMENTS);
    let inserts = Inserts {
        queue,
        engine: txn.engine(),
    };
    let mut writer = PlatformWriter::new(snapshot, &inserts)?;
    drop(inserts);
    let set_aside = set_aside_indexes(&txn).await?;
    // The task owns the transaction while the rows go in, and hands it
    // back when the queue closes or a statement fails.
    let inserting = tokio::spawn(
        async move {
            while let Some(encoded) = queued.recv().await {
                if let Err(error) = txn.execute_encoded(encoded).await {
                    return (Err(error), txn);
                }
            }
            (Ok(()), txn)
        }
        .instrument(tracing::Span::current()),
    );
    // The writer holds the queue's senders: finishing or dropping it ends
    // the inserting task.
    let made = match fill(&mut writer).await {
        Ok(()) => writer.finish().await.map_err(E::from),
        Err(error) => {
            drop(writer);
            Err(error)
        }
    };
    let (inserted, txn) = match inserting.await {
        Ok(ended) => ended,
        Err(failed) if failed.is_panic() => std::panic::resume_unwind(failed.into_panic()),
        Err(_) => {
            let stopped = "the load's insert task was cancelled: the runtime is shutting down";
            return Err(DbErr::Custom(stopped.to_owned()).into());
        }
    };
    // The database's own error explains a writer that could not queue.
    inserted?;
    let (counts, snapshot) = made?;
    for index in set_aside {
        txn.execute_unprepared(&index).await?;
    }
    snapshot.record(&txn, counts.members).await?;
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        for table in ["category", "brand"] {
            txn.execute_unprepared(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                 COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            ))
            .await?;
        }
    }
    Ok((counts, txn))
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
async fn set_aside_indexes(txn: &LoadTransaction) -> Result<Vec<String>, DbErr> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::generate::{Generator, category_rows};

    /// A full statement that reuses the text of an earlier one is the
    /// statement sea-orm makes for its rows, on both engines: `rows` are
    /// repeated to a full statement's length, and the reused statement
    /// lists them shifted by one, so each row sits where another was.
    fn reused_statement_is_sea_orms<M: Row<A>, A: ActiveModelTrait + Send>(rows: &[M]) {
        assert!(rows.len() > 1);
        for engine in [Engine::Sqlite, Engine::Postgres] {
            let (queue, _queued) = mpsc::channel(1);
            let mut batch = Batch::<M, A>::new(&Inserts { queue, engine });
            let full = |skip: usize| -> Vec<M> {
                rows.iter()
                    .cycle()
                    .skip(skip)
                    .take(batch.capacity)
                    .cloned()
                    .collect()
            };
            let (first, second) = (full(0), full(1));
            batch.statement(&first);
            assert!(batch.full_text.is_some());
            let made_by_sea_orm = A::Entity::insert_many(
                second
                    .iter()
                    .cloned()
                    .map(IntoActiveModel::into_active_model),
            )
            .build(engine.backend());
            let table = std::any::type_name::<M>();
            assert!(
                batch.statement(&second) == made_by_sea_orm,
                "{table} on {engine:?}"
            );
        }
    }

    /// Whatever the order of the writer's fields, a write visits the
    /// tables in [`TABLES`] order, so a row's parents go in before it (the
    /// foreign keys are checked per statement).
    #[tokio::test]
    async fn a_writer_writes_parents_first() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let blobs = BlobStore::open(&dir.path().to_string_lossy()).expect("a blob store");
        let (queue, mut queued) = mpsc::channel(TABLES.len());
        let inserts = Inserts {
            queue,
            engine: Engine::Sqlite,
        };
        let mut writer =
            PlatformWriter::new(SnapshotTarget::new(&blobs), &inserts).expect("a writer");
        drop(inserts);
        let as_of = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).expect("a date");
        let mut generator = Generator::new(7, as_of);
        let plans = generator.brands(1, 0);
        let member = (1..)
            .map(|id| generator.member(id, &plans).member)
            .find(|member| member.paid_member)
            .expect("a paid member");
        // Pushed children first, so only the write's own order can put
        // the parents first.
        writer
            .mentions
            .push(generator.mentions(&plans[0]).remove(0));
        writer.prices.push(generator.prices(&plans[0]).remove(0));
        writer.sales.push(generator.sales(&plans[0]).remove(0));
        writer.store_memberships.push(store_membership::Model {
            brand_id: plans[0].id,
            member_id: member.id,
            joined_on: as_of,
        });
        writer.renewals.push(generator.renewal(&member));
        writer.members.push(member);
        writer.brands.push(plans[0].row(chrono::Utc::now()));
        writer.categories.push(category_rows().remove(0));
        let counts = writer.write_up_to(TABLES.len()).await.expect("written");
        assert_eq!(counts.total(), TABLES.len() as u64);
        let mut written = Vec::new();
        while let Ok(statement) = queued.try_recv() {
            let table = statement.sql.split('"').nth(1).expect("a quoted table");
            written.push(table.to_owned());
        }
        assert_eq!(written, TABLES);
    }

    #[test]
    fn reused_statements_match_sea_orms() {
        let as_of = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).expect("a date");
        let mut generator = Generator::new(7, as_of);
        let plans = generator.brands(3, 0);
        let categories = category_rows();
        reused_statement_is_sea_orms(&categories);
        let brands: Vec<_> = plans
            .iter()
            .map(|plan| plan.row(chrono::Utc::now()))
            .collect();
        reused_statement_is_sea_orms(&brands);
        let members: Vec<_> = (1..=300).map(|id| generator.member(id, &plans)).collect();
        let mut rows: Vec<_> = members.iter().map(|plan| plan.member.clone()).collect();
        rows[0].birth_date = None;
        assert!(rows.iter().any(|m| m.birth_date.is_some()));
        reused_statement_is_sea_orms(&rows);
        let renewals: Vec<_> = rows
            .iter()
            .filter(|m| m.paid_member)
            .map(|m| generator.renewal(m))
            .collect();
        reused_statement_is_sea_orms(&renewals);
        let stores: Vec<_> = members
            .iter()
            .flat_map(|plan| {
                plan.stores
                    .iter()
                    .map(|&(brand_id, joined_on)| store_membership::Model {
                        brand_id,
                        member_id: plan.member.id,
                        joined_on,
                    })
            })
            .collect();
        reused_statement_is_sea_orms(&stores);
        reused_statement_is_sea_orms(&generator.sales(&plans[0]));
        reused_statement_is_sea_orms(&generator.prices(&plans[0]));
        reused_statement_is_sea_orms(&generator.mentions(&plans[0]));
    }
}
