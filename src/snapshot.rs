//! The platform's member-level data as a columnar snapshot: one Parquet
//! file per table (the format warehouses export) in the blob store, under
//! `snapshots/<uuid>/`. `seed` and `import` write it beside the member
//! rows as they load them, and `refresh` builds the audience cube from it
//! with an embedded vectorised engine (Apache DataFusion) that uses every
//! core, so the cube's cost no longer sits on the transactional database.
//! Checkout, targeting and the other per-member paths keep reading the
//! member rows in the database.
//!
//! DataFusion rather than DuckDB or Polars: it is Rust-native (no C++ build,
//! no FFI), reads Parquet through the same `object_store` crate the blob
//! store uses (so an S3 snapshot needs nothing more), and the same plan
//! runs distributed on Ballista when one machine is not enough.

use std::sync::Arc;

use chrono::Utc;
use datafusion::{
    arrow::{
        array::{
            ArrayRef, BooleanArray, Date32Array, Int32Array, Int64Array, RecordBatch, StringArray,
        },
        datatypes::{DataType, Date32Type, Field, Schema, SchemaRef},
    },
    error::DataFusionError,
    parquet::{
        arrow::AsyncArrowWriter, basic::Compression, errors::ParquetError,
        file::properties::WriterProperties,
    },
    prelude::{ParquetReadOptions, SessionContext},
};
use entity::{member, member_snapshot, store_membership};
use futures_util::{TryStreamExt as _, future::BoxFuture};
use object_store::{ObjectStoreExt as _, buffered::BufWriter, path::Path};
use sea_orm::{
    ActiveEnum as _, ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait as _, QueryOrder as _,
};

use crate::blobs::BlobStore;

/// Why a snapshot could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Encoding or writing a Parquet file failed.
    #[error("member snapshot: {0}")]
    Parquet(#[from] ParquetError),
    /// The columnar engine failed.
    #[error("columnar engine: {0}")]
    Engine(#[from] Box<DataFusionError>),
    /// Recording or finding the snapshot failed.
    #[error(transparent)]
    Db(#[from] DbErr),
    /// PostgreSQL refused the cells' `COPY`.
    #[error("writing the cube's cells: {0}")]
    Cells(sqlx::Error),
    /// The database records no snapshot (its platform data predates them),
    /// or one written before a column `refresh` reads was added (store
    /// join dates; interests and services packed into the member row).
    #[error(
        "no current member snapshot: load the platform data with `seed` or `import` (with --replace)"
    )]
    Missing,
}

impl From<DataFusionError> for SnapshotError {
    fn from(error: DataFusionError) -> Self {
        Self::Engine(Box::new(error))
    }
}

/// A member-level table kept in the snapshot: its name (the database
/// table's, so the same SQL reads either), its columns, and how a slice of
/// its rows becomes one columnar batch.
pub trait Columnar: Sized {
    /// The table's name.
    const TABLE: &'static str;
    /// The columns, named as in the database.
    fn schema() -> SchemaRef;
    /// The rows' columns, in [`Columnar::schema`] order.
    fn columns(rows: &[Self]) -> Vec<ArrayRef>;
}

fn schema(fields: &[(&str, DataType)]) -> SchemaRef {
    Arc::new(Schema::new(
        fields
            .iter()
            .map(|(name, kind)| Field::new(*name, kind.clone(), false))
            .collect::<Vec<_>>(),
    ))
}

fn int64<T>(rows: &[T], column: impl Fn(&T) -> i64) -> ArrayRef {
    Arc::new(rows.iter().map(column).collect::<Int64Array>())
}

fn text<T>(rows: &[T], column: impl Fn(&T) -> String) -> ArrayRef {
    Arc::new(rows.iter().map(column).map(Some).collect::<StringArray>())
}

/// The columns the cube reads; a member's birth date is for birthday gifts
/// (a per-member path), so it stays in the database only.
impl Columnar for member::Model {
    const TABLE: &'static str = "member";

    fn schema() -> SchemaRef {
        schema(&[
            ("id", DataType::Int64),
            ("points", DataType::Int32),
            ("paid_member", DataType::Boolean),
            ("black_card", DataType::Boolean),
            ("birth_year", DataType::Int32),
            ("gender", DataType::Utf8),
            ("city_tier", DataType::Utf8),
            ("annual_spend_cents", DataType::Int64),
            ("interests", DataType::Int32),
            ("services", DataType::Int32),
        ])
    }

    fn columns(rows: &[Self]) -> Vec<ArrayRef> {
        let int32 = |column: fn(&Self) -> i32| -> ArrayRef {
            Arc::new(rows.iter().map(column).collect::<Int32Array>())
        };
        let boolean = |column: fn(&Self) -> bool| -> ArrayRef {
            Arc::new(
                rows.iter()
                    .map(|m| Some(column(m)))
                    .collect::<BooleanArray>(),
            )
        };
        vec![
            int64(rows, |m| m.id),
            int32(|m| m.points),
            boolean(|m| m.paid_member),
            boolean(|m| m.black_card),
            int32(|m| m.birth_year),
            text(rows, |m| m.gender.to_value()),
            text(rows, |m| m.city_tier.to_value()),
            int64(rows, |m| m.annual_spend_cents),
            int32(|m| m.interests),
            int32(|m| m.services),
        ]
    }
}

/// Who belongs to which store, and since when (the super-member ratio of
/// a past day counts the members who had joined by then).
impl Columnar for store_membership::Model {
    const TABLE: &'static str = "store_membership";

    fn schema() -> SchemaRef {
        schema(&[
            ("brand_id", DataType::Int64),
            ("member_id", DataType::Int64),
            ("joined_on", DataType::Date32),
        ])
    }

    fn columns(rows: &[Self]) -> Vec<ArrayRef> {
        vec![
            int64(rows, |r| r.brand_id),
            int64(rows, |r| r.member_id),
            Arc::new(Date32Array::from_iter_values(
                rows.iter()
                    .map(|r| Date32Type::from_naive_date(r.joined_on)),
            )),
        ]
    }
}

/// A snapshot table's name and the columns it must have.
type Table = (&'static str, fn() -> SchemaRef);

/// The tables of a snapshot.
const TABLES: [Table; 2] = [
    (member::Model::TABLE, member::Model::schema),
    (
        store_membership::Model::TABLE,
        store_membership::Model::schema,
    ),
];

/// The names of a snapshot's tables (one Parquet file each, named
/// `<table>.parquet`).
pub fn table_names() -> impl Iterator<Item = &'static str> {
    TABLES.iter().map(|(name, _)| *name)
}

/// Where a snapshot is being written: its folder, shared by its tables.
#[derive(Debug, Clone)]
pub struct SnapshotTarget {
    blobs: BlobStore,
    location: String,
}

impl SnapshotTarget {
    /// A new, empty snapshot folder in `blobs`.
    pub fn new(blobs: &BlobStore) -> Self {
        Self {
            blobs: blobs.clone(),
            location: format!("snapshots/{}", uuid::Uuid::new_v4()),
        }
    }

    /// A streaming writer of one table of the snapshot.
    pub fn table<T: Columnar>(&self) -> Result<TableWriter<T>, SnapshotError> {
        let path = Path::from(format!("{}/{}.parquet", self.location, T::TABLE));
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build();
        Ok(TableWriter {
            writer: AsyncArrowWriter::try_new(
                BufWriter::new(self.blobs.object_store(), path),
                T::schema(),
                Some(properties),
            )?,
            rows: 0,
            _table: std::marker::PhantomData,
        })
    }

    /// Deletes the snapshot's files, going on past a file it could not
    /// delete (a file already gone counts as deleted); the first error, if
    /// any. A load that failed leaves no files nobody records.
    pub async fn discard(&self) -> Result<(), object_store::Error> {
        let store = self.blobs.object_store();
        let prefix = Path::from(self.location.as_str());
        let written: Vec<_> = store.list(Some(&prefix)).try_collect().await?;
        let mut first_error = None;
        for file in written {
            match store.delete(&file.location).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Records the written snapshot as the database's current one, in the
    /// caller's transaction (so it lands with the rows it mirrors).
    pub async fn record(
        self,
        db: &impl ConnectionTrait,
        members: u64,
    ) -> Result<member_snapshot::Model, DbErr> {
        member_snapshot::Entity::insert(member_snapshot::ActiveModel {
            created_at: Set(Utc::now()),
            location: Set(self.location),
            members: Set(members as i64),
            ..Default::default()
        })
        .exec_with_returning(db)
        .await
    }
}

/// Streams one table into its Parquet file, a batch at a time.
pub struct TableWriter<T> {
    writer: AsyncArrowWriter<BufWriter>,
    rows: u64,
    _table: std::marker::PhantomData<T>,
}

impl<T> std::fmt::Debug for TableWriter<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TableWriter({} rows)", self.rows)
    }
}

/// Where a bulk writer mirrors the rows it inserts (the snapshot's table
/// writers); boxed futures because the bulk writer holds it as a trait
/// object, one per table type.
pub trait Mirror<T>: Send {
    /// Appends `rows`.
    fn write<'a>(&'a mut self, rows: &'a [T]) -> BoxFuture<'a, Result<(), SnapshotError>>;
    /// Completes the table; returns the rows written.
    fn close(self: Box<Self>) -> BoxFuture<'static, Result<u64, SnapshotError>>;
}

impl<T: Columnar + Send + Sync + 'static> Mirror<T> for TableWriter<T> {
    fn write<'a>(&'a mut self, rows: &'a [T]) -> BoxFuture<'a, Result<(), SnapshotError>> {
        Box::pin(TableWriter::write(self, rows))
    }

    fn close(self: Box<Self>) -> BoxFuture<'static, Result<u64, SnapshotError>> {
        Box::pin(TableWriter::close(*self))
    }
}

impl<T: Columnar> TableWriter<T> {
    /// Appends `rows`.
    pub async fn write(&mut self, rows: &[T]) -> Result<(), SnapshotError> {
        if rows.is_empty() {
            return Ok(());
        }
        let batch =
            RecordBatch::try_new(T::schema(), T::columns(rows)).map_err(ParquetError::from)?;
        self.writer.write(&batch).await?;
        self.rows += rows.len() as u64;
        Ok(())
    }

    /// Completes the file; returns the rows written.
    pub async fn close(self) -> Result<u64, SnapshotError> {
        self.writer.close().await?;
        Ok(self.rows)
    }
}

/// Snapshots kept when a load prunes: the current one, and the one
/// before it, which a `refresh` that started before the load may still be
/// reading (one that runs across two loads loses its files and fails; it
/// is run again).
const KEPT: usize = 2;

/// Deletes the snapshots older than the newest [`KEPT`], their files
/// first, then their record once every file is gone (so files that could
/// not be deleted stay recorded and are tried again by the next load); run
/// after a load. Failures are logged: the load itself succeeded.
pub async fn prune(db: &impl ConnectionTrait, blobs: &BlobStore) {
    // All of them (few: each load prunes), skipped in Rust: SQLite has no
    // OFFSET without a LIMIT.
    let old = match member_snapshot::Entity::find()
        .order_by_desc(member_snapshot::Column::Id)
        .all(db)
        .await
    {
        Ok(old) => old,
        Err(error) => {
            tracing::warn!(%error, "could not list old member snapshots");
            return;
        }
    };
    for snapshot in old.into_iter().skip(KEPT) {
        let target = SnapshotTarget {
            blobs: blobs.clone(),
            location: snapshot.location,
        };
        if let Err(error) = target.discard().await {
            tracing::warn!(%error, location = target.location, "could not delete an old snapshot's files");
            continue;
        }
        match member_snapshot::Entity::delete_by_id(snapshot.id)
            .exec(db)
            .await
        {
            Ok(_) => tracing::info!(location = target.location, "pruned an old member snapshot"),
            Err(error) => {
                tracing::warn!(%error, snapshot = snapshot.id, "could not delete an old snapshot's record")
            }
        }
    }
}

/// The database's current snapshot: the newest recorded.
pub async fn current(db: &impl ConnectionTrait) -> Result<Option<member_snapshot::Model>, DbErr> {
    member_snapshot::Entity::find()
        .order_by_desc(member_snapshot::Column::Id)
        .one(db)
        .await
}

/// A columnar engine session over `snapshot`: its tables registered under
/// their database names, read from the blob store with every core. A
/// snapshot written before a column was added is refused as missing (it
/// is re-made by loading the data again).
pub async fn open(
    blobs: &BlobStore,
    snapshot: &member_snapshot::Model,
) -> Result<SessionContext, SnapshotError> {
    let engine = SessionContext::new();
    let root = url::Url::parse("blobs://store/")
        .map_err(|error| DataFusionError::External(Box::new(error)))?;
    engine.register_object_store(&root, blobs.object_store());
    for (table, columns) in TABLES {
        engine
            .register_parquet(
                table,
                format!("{root}{}/{table}.parquet", snapshot.location),
                ParquetReadOptions::default(),
            )
            .await?;
        let found = engine.table(table).await?.schema().clone();
        if columns()
            .fields()
            .iter()
            .any(|field| found.field_with_unqualified_name(field.name()).is_err())
        {
            return Err(SnapshotError::Missing);
        }
    }
    Ok(engine)
}
