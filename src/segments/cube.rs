//! The segment cube: member counts and clamped spend sums per combination
//! of the single-valued dimensions, for the platform (population 0) and for
//! each brand's store (population = brand id), plus the same per interest
//! and per service value. Built by `refresh` into a new data epoch with a
//! handful of `INSERT … SELECT … GROUP BY` statements, so requests read
//! cells and never scan members.

use std::time::{Duration, Instant};

use chrono::{Datelike as _, NaiveDate, Utc};
use entity::data_epoch;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait as _, PaginatorTrait as _, QueryFilter as _, QueryOrder as _,
    TransactionTrait as _,
};

use super::dimensions::{Dimension, capped_select, code_value_sql, member_rows, member_value_sql};

/// Spend above this (in yuan) counts as this much in spend sums, so one
/// member moves a sum by at most this much (the sum's sensitivity).
pub const SPEND_CLAMP_YUAN: i64 = 50_000;

/// Most values of one multi-valued dimension (interests, services) counted
/// per member: a member's contribution to a table broken down by interest
/// is capped at this many cells, which bounds the table's sensitivity.
pub const MULTI_VALUE_CAP: i32 = 5;

/// The single-valued dimensions, in the cube's column order (the order of
/// [`super::dimensions::member_value_sql`]).
const BASE_DIMENSIONS: [Dimension; 7] = [
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

/// Builds a new epoch's cube for `as_of`, counting at most
/// [`MULTI_VALUE_CAP`] interests (and services) per member, then retires
/// older epochs' cells. Their stored answers and platform releases stay:
/// trends read them, and nothing is released for an old epoch again. The
/// new epoch becomes current only once complete.
pub async fn refresh(db: &DatabaseConnection, as_of: NaiveDate) -> Result<RefreshReport, DbErr> {
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

    // Each member's dimension values, computed once: every part of the cube
    // joins this instead of evaluating the CASE expressions again.
    // All seven single-valued dimensions packed into one integer, so each
    // part of the cube groups (sorts) on one column instead of seven.
    let radices: Vec<i64> = BASE_DIMENSIONS
        .iter()
        .map(|d| d.cardinality() as i64)
        .collect();
    let values = member_value_sql(as_of.year());
    let mut packed = String::from("0");
    for ((_, sql), radix) in values.iter().zip(&radices).rev() {
        packed = format!("({packed}) * {radix} + ({sql})");
    }
    txn.execute_unprepared(
        "CREATE TEMPORARY TABLE cube_member (member_id BIGINT PRIMARY KEY, cell BIGINT NOT NULL, spend BIGINT NOT NULL)",
    )
    .await?;
    txn.execute_unprepared(&format!(
        "INSERT INTO cube_member (member_id, cell, spend) SELECT m.id, {packed}, \
         CASE WHEN m.annual_spend_cents / 100 > {SPEND_CLAMP_YUAN} THEN {SPEND_CLAMP_YUAN} \
         ELSE m.annual_spend_cents / 100 END FROM member m"
    ))
    .await?;
    let mut divisor = 1;
    let unpacked = radices
        .iter()
        .map(|radix| {
            let term = format!("(g.cell / {divisor}) % {radix}");
            divisor *= radix;
            term
        })
        .collect::<Vec<_>>()
        .join(", ");
    let columns = BASE_DIMENSIONS.map(Dimension::column).join(", ");
    let mut temporary = vec!["cube_member".to_owned()];

    // One source per (population, multi-valued dimension): the rows each
    // member contributes, with the population and the multi value.
    let mut sources = vec![
        (
            "0",
            "0".to_owned(),
            "-1".to_owned(),
            "cube_member c".to_owned(),
        ),
        (
            "s.brand_id",
            "0".to_owned(),
            "-1".to_owned(),
            "store_membership s JOIN cube_member c ON c.member_id = s.member_id".to_owned(),
        ),
    ];
    for dimension in [Dimension::Interest, Dimension::Service] {
        let (table, column) = member_rows(dimension);
        let rows = capped(&txn, table, column, multi_value_cap, &mut temporary).await?;
        let value = code_value_sql(&format!("v.{column}"), dimension);
        let from = format!("{rows} v JOIN cube_member c ON c.member_id = v.member_id");
        sources.push((
            "0",
            dimension.multi_dim().to_string(),
            value.clone(),
            from.clone(),
        ));
        sources.push((
            "s.brand_id",
            dimension.multi_dim().to_string(),
            value,
            format!(
                "store_membership s JOIN {rows} v ON v.member_id = s.member_id \
                 JOIN cube_member c ON c.member_id = s.member_id"
            ),
        ));
    }
    let mut cells = 0;
    let mut progress = crate::progress::Progress::new("audience cube", sources.len() as u64);
    for (population, multi_dim, multi_value, from) in sources {
        let step = Instant::now();
        // Constants stay out of GROUP BY (SQLite reads an integer there as a
        // column position).
        let group = [population, multi_value.as_str()]
            .into_iter()
            .filter(|term| term.parse::<i64>().is_err())
            .chain(std::iter::once("c.cell"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO segment_cell (epoch_id, population, multi_dim, multi_value, {columns}, members, spend_sum) \
             SELECT {epoch}, g.population, {multi_dim}, g.multi_value, {unpacked}, g.members, g.spend FROM \
             (SELECT {population} AS population, {multi_value} AS multi_value, c.cell AS cell, \
             COUNT(*) AS members, SUM(c.spend) AS spend FROM {from} GROUP BY {group}) g"
        );
        let written = txn.execute_unprepared(&sql).await?.rows_affected();
        tracing::debug!(
            population,
            multi_dim,
            written,
            elapsed_ms = step.elapsed().as_millis() as u64,
            "cube part built"
        );
        cells += written;
        progress.advance(1);
    }
    progress.finish();
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
