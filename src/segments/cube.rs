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

use super::dimensions::{Dimension, code_value_sql, member_value_sql};

/// Spend above this (in yuan) counts as this much in spend sums, so one
/// member moves a sum by at most this much (the sum's sensitivity).
pub const SPEND_CLAMP_YUAN: i64 = 50_000;

/// Most values of one multi-valued dimension (interests, services) counted
/// per member: a member's contribution to a table broken down by interest
/// is capped at this many cells, which bounds the table's sensitivity.
pub const MULTI_VALUE_CAP: i32 = 5;

/// The cube columns of the single-valued dimensions, in table order.
pub(crate) const BASE_COLUMNS: [&str; 7] = [
    "tier",
    "paid",
    "black",
    "age_band",
    "gender",
    "city_tier",
    "spend_band",
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

/// Builds a new epoch's cube for `as_of`, counting at most
/// [`MULTI_VALUE_CAP`] interests (and services) per member, then retires
/// older epochs' cells and stored answers. The new epoch becomes current
/// only once complete.
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

    let values = member_value_sql(as_of.year());
    let value_list = values
        .iter()
        .map(|(column, sql)| format!("{sql} AS {column}"))
        .collect::<Vec<_>>()
        .join(", ");
    let columns = BASE_COLUMNS.join(", ");
    let spend = format!(
        "CASE WHEN m.annual_spend_cents / 100 > {SPEND_CLAMP_YUAN} THEN {SPEND_CLAMP_YUAN} ELSE m.annual_spend_cents / 100 END"
    );
    // One source per (population, multi-valued dimension): the rows each
    // member contributes, with the population and the multi value.
    let mut sources = vec![
        (
            "0".to_owned(),
            "0".to_owned(),
            "-1".to_owned(),
            "member m".to_owned(),
        ),
        (
            "s.brand_id".to_owned(),
            "0".to_owned(),
            "-1".to_owned(),
            "store_membership s JOIN member m ON m.id = s.member_id".to_owned(),
        ),
    ];
    for (dimension, table, column) in [
        (Dimension::Interest, "member_interest", "interest"),
        (Dimension::Service, "member_service", "service"),
    ] {
        let capped = format!(
            "(SELECT member_id, {column}, ROW_NUMBER() OVER (PARTITION BY member_id ORDER BY {column}) AS rn \
             FROM {table}) v JOIN member m ON m.id = v.member_id AND v.rn <= {multi_value_cap}"
        );
        let value = code_value_sql(&format!("v.{column}"), dimension);
        sources.push((
            "0".to_owned(),
            dimension.multi_dim().to_string(),
            value.clone(),
            capped.clone(),
        ));
        sources.push((
            "s.brand_id".to_owned(),
            dimension.multi_dim().to_string(),
            value,
            format!("{capped} JOIN store_membership s ON s.member_id = m.id"),
        ));
    }
    let mut cells = 0;
    for (population, multi_dim, multi_value, from) in sources {
        let sql = format!(
            "INSERT INTO segment_cell (epoch_id, population, multi_dim, multi_value, {columns}, members, spend_sum) \
             SELECT {epoch}, population, {multi_dim}, multi_value, {columns}, COUNT(*), SUM(spend) FROM \
             (SELECT {population} AS population, {multi_value} AS multi_value, {value_list}, {spend} AS spend FROM {from}) c \
             GROUP BY population, multi_value, {columns}"
        );
        cells += txn.execute_unprepared(&sql).await?.rows_affected();
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
    txn.execute_unprepared(&format!(
        "DELETE FROM segment_answer WHERE epoch_id < {epoch}"
    ))
    .await?;
    txn.commit().await?;
    Ok(RefreshReport {
        epoch_id: epoch,
        cells,
        elapsed: start.elapsed(),
    })
}
