//! Aggregates the cube can't hold, read from member rows when a question
//! is first released: members holding any of several interests (or
//! services), and interests × services. The cube keeps one multi-valued
//! value per row, so it would count such a member once per value. A
//! breakdown by a multi-valued dimension has the cube's cap: at most
//! [`cube::MULTI_VALUE_CAP`] values per member, the first in code order (the
//! cap bounds the table's sensitivity); a filter counts a member once, so
//! it reads every value. Member rows are read as they are now; they change
//! only by `seed` and `import`, which build a new epoch right after.
//!
//! Only integer literals and this crate's own value codes are interpolated.

use chrono::Datelike as _;
use entity::data_epoch;

use super::{
    Cells, Dimension, cube,
    dimensions::{member_value_sql, member_values_sql, packed_column, values_mask},
    key_columns,
};

fn list(values: impl IntoIterator<Item = i16>) -> String {
    values
        .into_iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The query for `cells` of `population` (0: the platform, else a
/// brand's store) in `epoch`: the breakdown's values, then members, paid
/// members, black-card holders and clamped spend per cell.
pub(super) fn sql(epoch: &data_epoch::Model, population: i64, cells: &Cells) -> String {
    let singles = member_value_sql(epoch.as_of.year());
    let single = |d: Dimension| {
        singles
            .iter()
            .find(|(column, _)| *column == d.column())
            .map(|(_, sql)| sql.clone())
            .unwrap_or_else(|| "0".to_owned())
    };
    let mut from = if population == 0 {
        "member m".to_owned()
    } else {
        "store_membership s JOIN member m ON m.id = s.member_id".to_owned()
    };
    let mut conditions = Vec::new();
    if population != 0 {
        conditions.push(format!("s.brand_id = {population}"));
    }
    let mut keys = Vec::new();
    for (slot, dimension) in cells.breakdown.iter().enumerate() {
        let expression = if dimension.is_multi_valued() {
            let alias = format!("b{slot}");
            from.push_str(&format!(
                " JOIN ({}) {alias} ON {alias}.member_id = m.id",
                member_values_sql(*dimension, Some(epoch.multi_value_cap))
            ));
            format!("{alias}.value")
        } else {
            single(*dimension)
        };
        if let Some(values) = cells.filters.get(dimension) {
            conditions.push(format!(
                "({expression}) IN ({})",
                list(values.iter().copied())
            ));
        }
        keys.push(expression);
    }
    for (dimension, values) in &cells.filters {
        if cells.breakdown.contains(dimension) {
            continue;
        }
        // A filter counts a member once whatever it holds, so it needs no
        // cap: every value counts, as targeting reads them at checkout.
        conditions.push(if dimension.is_multi_valued() {
            format!(
                "(m.{} & {}) <> 0",
                packed_column(*dimension),
                values_mask(values.iter().copied())
            )
        } else {
            format!(
                "({}) IN ({})",
                single(*dimension),
                list(values.iter().copied())
            )
        });
    }
    let clamp = cube::SPEND_CLAMP_YUAN;
    let select = key_columns(&keys);
    let mut sql = format!(
        "SELECT {select}, CAST(COUNT(*) AS BIGINT), \
         CAST(SUM(CASE WHEN m.paid_member THEN 1 ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN m.black_card THEN 1 ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN m.annual_spend_cents / 100 > {clamp} THEN {clamp} \
         ELSE m.annual_spend_cents / 100 END) AS BIGINT) FROM {from}"
    );
    if !conditions.is_empty() {
        sql.push_str(&format!(" WHERE {}", conditions.join(" AND ")));
    }
    if !keys.is_empty() {
        sql.push_str(&format!(" GROUP BY {}", keys.join(", ")));
    }
    sql
}
