//! The segment cube: member counts and clamped spend sums per combination
//! of the single-valued dimensions, for the platform (population 0) and for
//! each brand's store (population = brand id), plus the same per interest
//! and per service value. Built by `refresh` into a new data epoch from the
//! member snapshot ([`crate::snapshot`]) with the columnar engine, a
//! handful of `GROUP BY`s using every core, so requests read cells and
//! never scan members.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use chrono::{Datelike as _, NaiveDate, Utc};
use datafusion::arrow::{
    array::{AsArray as _, Int64Array, RecordBatch},
    datatypes::Int64Type,
};
use entity::data_epoch;
use futures_util::StreamExt as _;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait as _, PaginatorTrait as _, QueryFilter as _, QueryOrder as _,
    TransactionTrait as _,
};

use super::dimensions::{Dimension, capped_select, code_value_sql, member_rows, member_value_sql};
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
    multi_value: String,
    from: String,
}

impl Part {
    /// The parts, given the tables holding each multi-valued dimension's
    /// (capped) member rows.
    fn all(rows: impl Fn(Dimension) -> String) -> Vec<Part> {
        let mut parts = vec![
            Part {
                population: "0",
                multi_dim: 0,
                multi_value: "-1".to_owned(),
                from: "cube_member c".to_owned(),
            },
            Part {
                population: "s.brand_id",
                multi_dim: 0,
                multi_value: "-1".to_owned(),
                from: "store_membership s JOIN cube_member c ON c.member_id = s.member_id"
                    .to_owned(),
            },
        ];
        for dimension in [Dimension::Interest, Dimension::Service] {
            let table = rows(dimension);
            let (_, column) = member_rows(dimension);
            let value = code_value_sql(&format!("v.{column}"), dimension);
            parts.push(Part {
                population: "0",
                multi_dim: dimension.multi_dim(),
                multi_value: value.clone(),
                from: format!("{table} v JOIN cube_member c ON c.member_id = v.member_id"),
            });
            parts.push(Part {
                population: "s.brand_id",
                multi_dim: dimension.multi_dim(),
                multi_value: value,
                from: format!(
                    "store_membership s JOIN {table} v ON v.member_id = s.member_id \
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
        let group = [self.population, self.multi_value.as_str()]
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
    let mut rows = |dimension: Dimension| {
        let (table, column) = member_rows(dimension);
        if capped.contains(&dimension) {
            let name = format!("cube_{table}");
            tables.push((name.clone(), capped_select(table, column, MULTI_VALUE_CAP)));
            name
        } else {
            table.to_owned()
        }
    };
    let multi_rows: HashMap<Dimension, String> = [Dimension::Interest, Dimension::Service]
        .into_iter()
        .map(|dimension| (dimension, rows(dimension)))
        .collect();
    let parts = Part::all(|dimension| multi_rows[&dimension].clone())
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

/// Writes one batch of a part's cells into epoch `epoch`.
async fn write_cells(
    txn: &impl ConnectionTrait,
    epoch: i64,
    multi_dim: i16,
    batch: &RecordBatch,
) -> Result<u64, SnapshotError> {
    let columns: Vec<&Int64Array> = batch
        .columns()
        .iter()
        .map(|column| column.as_primitive::<Int64Type>())
        .collect();
    let insert = format!("INSERT INTO segment_cell ({}) VALUES ", cell_columns());
    let mut written = 0;
    for start in (0..batch.num_rows()).step_by(CELLS_PER_STATEMENT) {
        let end = (start + CELLS_PER_STATEMENT).min(batch.num_rows());
        let mut sql = insert.clone();
        for row in start..end {
            if row > start {
                sql.push(',');
            }
            sql.push_str(&format!("({epoch},{multi_dim}"));
            for column in &columns {
                sql.push_str(&format!(",{}", column.value(row)));
            }
            sql.push(')');
        }
        written += txn.execute_unprepared(&sql).await?.rows_affected();
    }
    Ok(written)
}

/// Builds a new epoch's cube for `as_of` from the database's current
/// member snapshot with the columnar engine, counting at most
/// [`MULTI_VALUE_CAP`] interests (and services) per member, then retires
/// older epochs' cells. Their stored answers and platform releases stay:
/// trends read them, and nothing is released for an old epoch again. The
/// new epoch becomes current only once complete.
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
        let (table, _) = member_rows(dimension);
        let over_cap = engine
            .sql(&format!(
                "SELECT member_id FROM {table} GROUP BY member_id HAVING COUNT(*) > {multi_value_cap} LIMIT 1"
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

    let txn = db.begin().await?;
    let epoch = data_epoch::Entity::insert(data_epoch::ActiveModel {
        created_at: Set(Utc::now()),
        as_of: Set(as_of),
        members: Set(snapshot.members),
        multi_value_cap: Set(multi_value_cap),
        ready: Set(false),
        ..Default::default()
    })
    .exec(&txn)
    .await?
    .last_insert_id;
    let mut cells = 0;
    let mut progress = crate::progress::Progress::new("audience cube", plan.parts.len() as u64);
    for (multi_dim, sql) in &plan.parts {
        let step = Instant::now();
        let mut stream = engine.sql(sql).await?.execute_stream().await?;
        let mut written = 0;
        while let Some(batch) = stream.next().await {
            written += write_cells(&txn, epoch, *multi_dim, &batch?).await?;
        }
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
    data_epoch::Entity::update_many()
        .col_expr(data_epoch::Column::Ready, true.into())
        .filter(data_epoch::Column::Id.eq(epoch))
        .exec(&txn)
        .await?;
    txn.execute_unprepared(&format!(
        "DELETE FROM segment_cell WHERE epoch_id < {epoch}"
    ))
    .await?;
    txn.commit().await?;
    Ok(RefreshReport {
        epoch_id: epoch,
        cells,
        capped,
        elapsed: start.elapsed(),
    })
}

/// The cube built inside the database with `INSERT … SELECT … GROUP BY`
/// over the member rows: the path [`refresh`] replaces, kept only until the
/// two are shown cell-for-cell identical (`benches/cube.rs`).
pub async fn refresh_in_database(
    db: &DatabaseConnection,
    as_of: NaiveDate,
) -> Result<RefreshReport, DbErr> {
    let multi_value_cap = MULTI_VALUE_CAP;
    let start = Instant::now();
    let txn = db.begin().await?;
    let members = entity::member::Entity::find().count(&txn).await? as i64;
    let epoch = data_epoch::Entity::insert(data_epoch::ActiveModel {
        created_at: Set(Utc::now()),
        as_of: Set(as_of),
        members: Set(members),
        multi_value_cap: Set(multi_value_cap),
        ready: Set(false),
        ..Default::default()
    })
    .exec(&txn)
    .await?
    .last_insert_id;
    txn.execute_unprepared(
        "CREATE TEMPORARY TABLE cube_member (member_id BIGINT PRIMARY KEY, cell BIGINT NOT NULL, spend BIGINT NOT NULL)",
    )
    .await?;
    txn.execute_unprepared(&format!(
        "INSERT INTO cube_member (member_id, cell, spend) SELECT m.id, {}, {} FROM member m",
        packed_cell_sql(as_of),
        clamped_spend_sql()
    ))
    .await?;
    let mut temporary = vec!["cube_member".to_owned()];
    let mut capped_tables = HashMap::new();
    for dimension in [Dimension::Interest, Dimension::Service] {
        let (table, column) = member_rows(dimension);
        let rows = capped(&txn, table, column, multi_value_cap, &mut temporary).await?;
        capped_tables.insert(dimension, rows);
    }
    let mut cells = 0;
    for part in Part::all(|dimension| capped_tables[&dimension].clone()) {
        let sql = format!(
            "INSERT INTO segment_cell ({}) SELECT {epoch}, {}, p.* FROM ({}) p",
            cell_columns(),
            part.multi_dim,
            part.cells_sql()
        );
        cells += txn.execute_unprepared(&sql).await?.rows_affected();
    }
    for table in temporary {
        txn.execute_unprepared(&format!("DROP TABLE {table}"))
            .await?;
    }
    data_epoch::Entity::update_many()
        .col_expr(data_epoch::Column::Ready, true.into())
        .filter(data_epoch::Column::Id.eq(epoch))
        .exec(&txn)
        .await?;
    txn.execute_unprepared(&format!(
        "DELETE FROM segment_cell WHERE epoch_id < {epoch}"
    ))
    .await?;
    txn.commit().await?;
    Ok(RefreshReport {
        epoch_id: epoch,
        cells,
        capped: Vec::new(),
        elapsed: start.elapsed(),
    })
}

/// The (member, value) rows of a multi-valued table with at most `cap`
/// values per member: the table itself when no member has more (the usual
/// case, and much cheaper), else a temporary table of the first `cap`
/// values in code order.
async fn capped(
    txn: &impl ConnectionTrait,
    table: &str,
    column: &str,
    cap: i32,
    temporary: &mut Vec<String>,
) -> Result<String, DbErr> {
    let over_cap = txn
        .query_one_raw(sea_orm::Statement::from_string(
            txn.get_database_backend(),
            format!(
                "SELECT member_id FROM {table} GROUP BY member_id HAVING COUNT(*) > {cap} LIMIT 1"
            ),
        ))
        .await?
        .is_some();
    if !over_cap {
        return Ok(table.to_owned());
    }
    let name = format!("cube_{table}");
    txn.execute_unprepared(&format!(
        "CREATE TEMPORARY TABLE {name} AS {}",
        capped_select(table, column, cap)
    ))
    .await?;
    temporary.push(name.clone());
    Ok(name)
}
