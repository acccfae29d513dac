//! The segment cube: member counts and clamped spend sums per combination
//! of the single-valued dimensions, for the platform (population 0) and for
//! each brand's store (population = brand id), plus the same per interest
//! and per service value. Built by `refresh` into a new data epoch from the
//! member snapshot ([`crate::snapshot`]) with the columnar engine, a
//! handful of `GROUP BY`s using every core, so requests read cells and
//! never scan members.

use std::time::{Duration, Instant};

use chrono::{Datelike as _, NaiveDate, Utc};
use datafusion::{
    arrow::{
        array::{AsArray as _, Int64Array, RecordBatch},
        datatypes::{Date32Type, Int64Type},
    },
    error::DataFusionError,
    execution::SendableRecordBatchStream,
};
use entity::{data_epoch, store_join_day};
use futures_util::StreamExt as _;
use migration::STORE_JOIN_DAYS_SQL;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DatabaseConnection, DbBackend, DbErr,
    EntityTrait as _, QueryFilter as _, QueryOrder as _, TransactionTrait as _,
};

use super::dimensions::{
    Dimension, bit_count_sql, member_value_sql, member_values_sql, packed_column,
};
use crate::{
    blobs::BlobStore,
    snapshot::{self, SnapshotError},
};

/// Spend above this (in yuan) counts as this much in spend sums, so one
/// member moves a sum by at most this much (the sum's sensitivity).
pub const SPEND_CLAMP_YUAN: i64 = 50_000;

/// Most values of one multi-valued dimension (interests, services) counted
/// per member: a member's contribution to a table broken down by interest
/// is capped at this many cells, which bounds the table's sensitivity.
pub const MULTI_VALUE_CAP: i32 = 5;

/// The single-valued dimensions, in the cube's column order (the order of
/// [`super::dimensions::member_value_sql`]).
pub(crate) const BASE_DIMENSIONS: [Dimension; 7] = [
    Dimension::GrowthTier,
    Dimension::PaidMember,
    Dimension::BlackCard,
    Dimension::AgeBand,
    Dimension::Gender,
    Dimension::CityTier,
    Dimension::SpendBand,
];

/// What a refresh built.
#[derive(Debug, Clone)]
pub struct RefreshReport {
    /// The new epoch.
    pub epoch_id: i64,
    /// Cells written.
    pub cells: u64,
    /// The multi-valued dimensions some member had more than
    /// [`MULTI_VALUE_CAP`] values of (their rows were capped).
    pub capped: Vec<Dimension>,
    /// Wall-clock time.
    pub elapsed: Duration,
}

/// The epoch answers are read from: the newest ready one.
pub async fn current_epoch(db: &impl ConnectionTrait) -> Result<Option<data_epoch::Model>, DbErr> {
    data_epoch::Entity::find()
        .filter(data_epoch::Column::Ready.eq(true))
        .order_by_desc(data_epoch::Column::Id)
        .one(db)
        .await
}

/// The newest `limit` ready epochs, newest first.
pub async fn recent_epochs(
    db: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<data_epoch::Model>, DbErr> {
    use sea_orm::QuerySelect as _;
    data_epoch::Entity::find()
        .filter(data_epoch::Column::Ready.eq(true))
        .order_by_desc(data_epoch::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The SQL packing a member's seven single-valued dimension values into
/// one integer (mixed radix, in [`BASE_DIMENSIONS`] order), so each part of
/// the cube groups on one column instead of seven.
fn packed_cell_sql(as_of: NaiveDate) -> String {
    let values = member_value_sql(as_of.year());
    let mut packed = String::from("0");
    for ((_, sql), dimension) in values.iter().zip(BASE_DIMENSIONS).rev() {
        packed = format!("({packed}) * {} + ({sql})", dimension.cardinality());
    }
    packed
}

/// The SQL of a member's clamped spend, in yuan.
fn clamped_spend_sql() -> String {
    format!(
        "CASE WHEN m.annual_spend_cents / 100 > {SPEND_CLAMP_YUAN} THEN {SPEND_CLAMP_YUAN} \
         ELSE m.annual_spend_cents / 100 END"
    )
}

/// The SQL unpacking `g.cell` into the seven dimension columns.
fn unpacked_cell_sql() -> String {
    let mut divisor = 1;
    BASE_DIMENSIONS
        .iter()
        .map(|dimension| {
            let radix = dimension.cardinality() as i64;
            let term = format!(
                "CAST((g.cell / {divisor}) % {radix} AS BIGINT) AS {}",
                dimension.column()
            );
            divisor *= radix;
            term
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One part of the cube: the rows each member contributes to one
/// (population, multi-valued dimension), as SQL.
struct Part {
    population: &'static str,
    multi_dim: i16,
    multi_value: &'static str,
    from: String,
}

impl Part {
    /// The parts, given the relation (a table or a parenthesised SELECT)
    /// of each multi-valued dimension's `(member_id, value)` rows, capped
    /// where some member holds more than the cap.
    fn all(mut rows: impl FnMut(Dimension) -> String) -> Vec<Part> {
        let mut parts = vec![
            Part {
                population: "0",
                multi_dim: 0,
                multi_value: "-1",
                from: "cube_member c".to_owned(),
            },
            Part {
                population: "s.brand_id",
                multi_dim: 0,
                multi_value: "-1",
                from: "store_membership s JOIN cube_member c ON c.member_id = s.member_id"
                    .to_owned(),
            },
        ];
        for dimension in [Dimension::Interest, Dimension::Service] {
            let values = rows(dimension);
            parts.push(Part {
                population: "0",
                multi_dim: dimension.multi_dim(),
                multi_value: "v.value",
                from: format!("{values} v JOIN cube_member c ON c.member_id = v.member_id"),
            });
            parts.push(Part {
                population: "s.brand_id",
                multi_dim: dimension.multi_dim(),
                multi_value: "v.value",
                from: format!(
                    "store_membership s JOIN {values} v ON v.member_id = s.member_id \
                     JOIN cube_member c ON c.member_id = s.member_id"
                ),
            });
        }
        parts
    }

    /// The part's cells: population, multi value, the seven dimension
    /// values, members and spend sum, all BIGINT.
    fn cells_sql(&self) -> String {
        // Constants stay out of GROUP BY (SQLite reads an integer there as a
        // column position).
        let group = [self.population, self.multi_value]
            .into_iter()
            .filter(|term| term.parse::<i64>().is_err())
            .chain(std::iter::once("c.cell"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "SELECT g.population, g.multi_value, {unpacked}, g.members, g.spend FROM \
             (SELECT CAST({population} AS BIGINT) AS population, CAST({multi_value} AS BIGINT) AS multi_value, \
             c.cell AS cell, CAST(COUNT(*) AS BIGINT) AS members, CAST(SUM(c.spend) AS BIGINT) AS spend \
             FROM {from} GROUP BY {group}) g",
            unpacked = unpacked_cell_sql(),
            population = self.population,
            multi_value = self.multi_value,
            from = self.from,
        )
    }
}

/// What the columnar build runs, in order: the tables it derives (each
/// member's packed cell and clamped spend, and the capped rows of each
/// multi-valued dimension that needs capping), then one query per part of
/// the cube with the multi-valued dimension its cells are written under.
/// Public so the cube bench runs the very same statements on another
/// engine side by side.
#[derive(Debug, Clone)]
pub struct CubePlan {
    /// (table name, SELECT) to materialise first.
    pub tables: Vec<(String, String)>,
    /// (multi_dim, SELECT of the part's cells in [`Part::cells_sql`]'s shape).
    pub parts: Vec<(i16, String)>,
}

/// The plan for `as_of`, capping the rows of the `capped` dimensions.
pub fn plan(as_of: NaiveDate, capped: &[Dimension]) -> CubePlan {
    let mut tables = vec![(
        "cube_member".to_owned(),
        format!(
            "SELECT m.id AS member_id, CAST({} AS BIGINT) AS cell, CAST({} AS BIGINT) AS spend FROM member m",
            packed_cell_sql(as_of),
            clamped_spend_sql()
        ),
    )];
    // Capped values are computed once and held (every part of their
    // dimension reads them); uncapped ones are read straight off the members.
    let mut rows = |dimension: Dimension| {
        if capped.contains(&dimension) {
            let name = format!("cube_{}", packed_column(dimension));
            tables.push((
                name.clone(),
                member_values_sql(dimension, Some(MULTI_VALUE_CAP)),
            ));
            name
        } else {
            format!("({})", member_values_sql(dimension, None))
        }
    };
    let parts = Part::all(&mut rows)
        .iter()
        .map(|part| (part.multi_dim, part.cells_sql()))
        .collect();
    CubePlan { tables, parts }
}

/// The columns a cell row is inserted with, in [`Part::cells_sql`] order
/// after the epoch and multi-valued dimension.
fn cell_columns() -> String {
    let columns = BASE_DIMENSIONS.map(Dimension::column).join(", ");
    format!("epoch_id, multi_dim, population, multi_value, {columns}, members, spend_sum")
}

/// Cell rows per INSERT statement (integer literals, no bind parameters).
const CELLS_PER_STATEMENT: usize = 2_000;

/// The cells of `batch[range]` as text: the epoch and multi_dim, then the
/// batch's columns, joined by `field`; each row wrapped in `wrap`, rows
/// joined by `between` (COPY's text format and an INSERT's VALUES).
fn cell_rows(
    batch: &RecordBatch,
    range: std::ops::Range<usize>,
    (epoch, multi_dim): (i64, i16),
    field: char,
    wrap: (&str, &str),
    between: &str,
) -> String {
    let columns: Vec<&Int64Array> = batch
        .columns()
        .iter()
        .map(|column| column.as_primitive::<Int64Type>())
        .collect();
    let mut text = String::new();
    for row in range {
        if !text.is_empty() {
            text.push_str(between);
        }
        text.push_str(wrap.0);
        text.push_str(&format!("{epoch}{field}{multi_dim}"));
        for column in &columns {
            text.push(field);
            text.push_str(&column.value(row).to_string());
        }
        text.push_str(wrap.1);
    }
    text
}

/// Where a refresh writes the cells it computes: PostgreSQL takes them by
/// `COPY` on a connection of its own (several times faster than INSERTs),
/// SQLite by multi-row INSERTs in one transaction.
enum CellWriter {
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
    Sqlite(sea_orm::DatabaseTransaction),
}

impl CellWriter {
    async fn open(db: &DatabaseConnection) -> Result<Self, SnapshotError> {
        Ok(match db.get_database_backend() {
            DbBackend::Postgres => Self::Postgres(
                db.get_postgres_connection_pool()
                    .acquire()
                    .await
                    .map_err(SnapshotError::Cells)?,
            ),
            _ => Self::Sqlite(db.begin().await?),
        })
    }

    /// Writes a part's cells, batch by batch, into epoch `epoch`.
    async fn write(
        &mut self,
        epoch: i64,
        multi_dim: i16,
        mut batches: SendableRecordBatchStream,
    ) -> Result<u64, SnapshotError> {
        let mut written = 0;
        match self {
            Self::Postgres(connection) => {
                let mut copy = connection
                    .copy_in_raw(&format!(
                        "COPY segment_cell ({}) FROM STDIN",
                        cell_columns()
                    ))
                    .await
                    .map_err(SnapshotError::Cells)?;
                while let Some(batch) = batches.next().await {
                    let batch = batch?;
                    let text = cell_rows(
                        &batch,
                        0..batch.num_rows(),
                        (epoch, multi_dim),
                        '\t',
                        ("", "\n"),
                        "",
                    );
                    copy.send(text.into_bytes())
                        .await
                        .map_err(SnapshotError::Cells)?;
                }
                written += copy.finish().await.map_err(SnapshotError::Cells)?;
            }
            Self::Sqlite(txn) => {
                while let Some(batch) = batches.next().await {
                    let batch = batch?;
                    for start in (0..batch.num_rows()).step_by(CELLS_PER_STATEMENT) {
                        let end = (start + CELLS_PER_STATEMENT).min(batch.num_rows());
                        let values =
                            cell_rows(&batch, start..end, (epoch, multi_dim), ',', ("(", ")"), ",");
                        let sql = format!(
                            "INSERT INTO segment_cell ({}) VALUES {values}",
                            cell_columns()
                        );
                        written += txn.execute_unprepared(&sql).await?.rows_affected();
                    }
                }
            }
        }
        Ok(written)
    }

    async fn finish(self) -> Result<(), SnapshotError> {
        if let Self::Sqlite(txn) = self {
            txn.commit().await?;
        }
        Ok(())
    }
}

/// The tables kept per epoch: `refresh` fills the cells and join days, the
/// entry figures are kept as they are read
/// ([`crate::criteria::CategoryFigures`]), and a new epoch deletes the rows
/// of older ones (figures a reader keeps for an older epoch after that stay
/// until the next).
const EPOCH_TABLES: [&str; 3] = ["segment_cell", "store_join_day", "entry_figures"];

/// Computes [`STORE_JOIN_DAYS_SQL`] with `engine` into epoch `epoch` (a
/// few rows per brand and day, in one transaction); returns the rows.
async fn write_store_join_days(
    db: &DatabaseConnection,
    engine: &datafusion::prelude::SessionContext,
    epoch: i64,
) -> Result<usize, SnapshotError> {
    let mut rows = Vec::new();
    for batch in engine.sql(STORE_JOIN_DAYS_SQL).await?.collect().await? {
        let brand = batch.column(0).as_primitive::<Int64Type>();
        let day = batch.column(1).as_primitive::<Date32Type>();
        let members = batch.column(2).as_primitive::<Int64Type>();
        let paid = batch.column(3).as_primitive::<Int64Type>();
        for i in 0..batch.num_rows() {
            let joined_on = Date32Type::to_naive_date_opt(day.value(i)).ok_or_else(|| {
                DataFusionError::Execution(format!("join day {} out of range", day.value(i)))
            })?;
            rows.push(store_join_day::ActiveModel {
                epoch_id: Set(epoch),
                brand_id: Set(brand.value(i)),
                joined_on: Set(joined_on),
                members: Set(members.value(i)),
                paid_members: Set(paid.value(i)),
            });
        }
    }
    let written = rows.len();
    let txn = db.begin().await?;
    for chunk in rows.chunks(JOIN_DAYS_PER_STATEMENT) {
        store_join_day::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(written)
}

/// Rows per `INSERT` of store join days (5 parameters each, within
/// SQLite's and PostgreSQL's limits).
const JOIN_DAYS_PER_STATEMENT: usize = 1000;

/// Computes every part of `plan` with `engine` and writes its cells into
/// epoch `epoch`; returns the cells written.
async fn write_parts(
    db: &DatabaseConnection,
    engine: &datafusion::prelude::SessionContext,
    plan: &CubePlan,
    epoch: i64,
) -> Result<u64, SnapshotError> {
    let mut writer = CellWriter::open(db).await?;
    let mut cells = 0;
    let mut progress = crate::progress::Progress::new("audience cube", plan.parts.len() as u64);
    for (multi_dim, sql) in &plan.parts {
        let step = Instant::now();
        let batches = engine.sql(sql).await?.execute_stream().await?;
        let written = writer.write(epoch, *multi_dim, batches).await?;
        tracing::debug!(
            multi_dim,
            written,
            elapsed_ms = step.elapsed().as_millis() as u64,
            "cube part built"
        );
        cells += written;
        progress.advance(1);
    }
    progress.finish();
    writer.finish().await?;
    Ok(cells)
}

/// Builds a new epoch's cube for `as_of` from the database's current
/// member snapshot with the columnar engine, counting at most
/// [`MULTI_VALUE_CAP`] interests (and services) per member, and its store
/// join days (what the super-member ratio sums), then retires older
/// epochs' cells, join days and kept entry figures. Their stored answers
/// and platform releases stay: trends read them, and nothing is released
/// for an old epoch again. The new epoch becomes current only once
/// complete.
pub async fn refresh(
    db: &DatabaseConnection,
    blobs: &BlobStore,
    as_of: NaiveDate,
) -> Result<RefreshReport, SnapshotError> {
    let multi_value_cap = MULTI_VALUE_CAP;
    let start = Instant::now();
    let snapshot = snapshot::current(db).await?.ok_or(SnapshotError::Missing)?;
    let engine = snapshot::open(blobs, &snapshot).await?;
    let mut capped = Vec::new();
    for dimension in [Dimension::Interest, Dimension::Service] {
        let over_cap = engine
            .sql(&format!(
                "SELECT id FROM member m WHERE {} > {multi_value_cap} LIMIT 1",
                bit_count_sql(&format!("m.{}", packed_column(dimension)), dimension)
            ))
            .await?
            .count()
            .await?
            > 0;
        if over_cap {
            capped.push(dimension);
        }
    }
    let plan = plan(as_of, &capped);
    // Derived tables are computed once and held in memory: every part
    // joins them.
    for (name, sql) in &plan.tables {
        let table = engine.sql(sql).await?.cache().await?;
        engine.register_table(name.as_str(), table.into_view())?;
    }

    // The epoch is recorded first, not ready: readers never see it until
    // its cells are complete, and a failed build is removed.
    let epoch = data_epoch::Entity::insert(data_epoch::ActiveModel {
        created_at: Set(Utc::now()),
        as_of: Set(as_of),
        members: Set(snapshot.members),
        multi_value_cap: Set(multi_value_cap),
        ready: Set(false),
        ..Default::default()
    })
    .exec(db)
    .await?
    .last_insert_id;
    let built = match write_parts(db, &engine, &plan, epoch).await {
        Ok(cells) => write_store_join_days(db, &engine, epoch)
            .await
            .map(|_| cells),
        Err(error) => Err(error),
    };
    let cells = match built {
        Ok(cells) => cells,
        Err(error) => {
            for table in EPOCH_TABLES {
                db.execute_unprepared(&format!("DELETE FROM {table} WHERE epoch_id = {epoch}"))
                    .await?;
            }
            data_epoch::Entity::delete_by_id(epoch).exec(db).await?;
            return Err(error);
        }
    };
    let txn = db.begin().await?;
    data_epoch::Entity::update_many()
        .col_expr(data_epoch::Column::Ready, true.into())
        .filter(data_epoch::Column::Id.eq(epoch))
        .exec(&txn)
        .await?;
    for table in EPOCH_TABLES {
        txn.execute_unprepared(&format!("DELETE FROM {table} WHERE epoch_id < {epoch}"))
            .await?;
    }
    txn.commit().await?;
    Ok(RefreshReport {
        epoch_id: epoch,
        cells,
        capped,
        elapsed: start.elapsed(),
    })
}
