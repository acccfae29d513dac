//! Refunds of checkout orders, whole or some units at a time.
//!
//! Each benefit's money on an order sits on the lines it discounted (the
//! quote's line shares). Giving back units of a line gives back that
//! line's shares pro rata, counted cumulatively and rounded down, so the
//! units refunded so far always carry `floor(share × refunded ÷ quantity)`
//! and the last unit brings the share back whole. A benefit is released
//! (its redemption no longer counts against the budget's redemptions or
//! the member's caps, and the rest of its money comes back) once every
//! line it discounted is wholly refunded; a benefit with no money on any
//! line (a gift, free returns, points) once the whole order is. The order
//! counts as refunded (a rebate no longer counts it) once every unit is.
//!
//! A refund is idempotent per (order, refund reference): the same
//! reference with the same units answers the first result, with other
//! units `CONFLICT`. A refund of "everything left" needs no reference and
//! changes nothing once nothing is left. Refunds of one order are
//! serialised by a write to the order's row first (a row lock on
//! PostgreSQL, the write lock on SQLite).

use chrono::{DateTime, Utc};
use entity::{checkout_order, order_refund, redemption};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait as _, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait as _,
    QueryFilter as _, QueryOrder as _, SqlErr,
    sea_query::{Expr, ExprTrait as _},
};
use serde::{Deserialize, Serialize};

use super::{
    budget,
    checkout::{
        CheckoutError, MAX_LINES, MAX_QUANTITY, Order, Quote, check_ref, find, from_json, invalid,
        to_json,
    },
};

/// Units of one SKU to give back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RefundLine {
    /// The SKU, as on the order.
    pub sku: String,
    /// Units (1–9,999); taken from the order's lines of that SKU in
    /// order.
    pub quantity: i64,
}

/// A refund request.
#[derive(Debug, Clone)]
pub(crate) struct RefundRequest<'a> {
    /// The store's brand.
    pub brand_id: i64,
    /// The order.
    pub order_ref: &'a str,
    /// The checkout's reference for this refund (1–128 characters);
    /// required when `lines` are given.
    pub refund_ref: Option<&'a str>,
    /// The units to give back; `None`: everything left.
    pub lines: Option<&'a [RefundLine]>,
    /// When.
    pub now: DateTime<Utc>,
}

/// Units given back on one order line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RefundedUnits {
    /// The line's position on the order.
    pub line: usize,
    /// Its SKU.
    pub sku: String,
    /// Units.
    pub quantity: i64,
}

/// What one benefit gave back in a refund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GivenBack {
    /// The benefit.
    pub benefit_id: i64,
    /// Money back to its budget, in fen.
    pub amount_cents: i64,
    /// Its redemption was released: the member's cap and the budget's
    /// redemption count are back.
    pub released: bool,
}

/// One recorded refund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Refund {
    /// The checkout's reference, if it gave one.
    pub refund_ref: Option<String>,
    /// When.
    pub refunded_at: DateTime<Utc>,
    /// Units given back, per order line.
    pub lines: Vec<RefundedUnits>,
    /// Per granted benefit touched.
    pub benefits: Vec<GivenBack>,
}

/// An order's refunds, oldest first.
pub(super) async fn of_order(
    db: &impl ConnectionTrait,
    order_id: i64,
) -> Result<Vec<Refund>, DbErr> {
    order_refund::Entity::find()
        .filter(order_refund::Column::OrderId.eq(order_id))
        .order_by_asc(order_refund::Column::Id)
        .all(db)
        .await?
        .iter()
        .map(|row| from_json(&row.detail))
        .collect()
}

fn check_lines(lines: &[RefundLine]) -> Result<(), CheckoutError> {
    if lines.is_empty() || lines.len() > MAX_LINES {
        return Err(invalid(
            "lines".to_owned(),
            format!("takes 1 to {MAX_LINES} lines"),
        ));
    }
    for (i, line) in lines.iter().enumerate() {
        if !(1..=MAX_QUANTITY).contains(&line.quantity) {
            return Err(invalid(
                format!("lines.{i}.quantity"),
                format!("must be 1 to {MAX_QUANTITY}"),
            ));
        }
    }
    Ok(())
}

/// The units to give back per order line: the asked SKUs' units from
/// their lines in order, or everything left.
fn units(
    quote: &Quote,
    refunded: &[i64],
    asked: Option<&[RefundLine]>,
) -> Result<Vec<i64>, CheckoutError> {
    let left: Vec<i64> = quote
        .lines
        .iter()
        .zip(refunded)
        .map(|(l, done)| l.line.quantity - done)
        .collect();
    let Some(asked) = asked else {
        return Ok(left);
    };
    let mut units = vec![0; left.len()];
    for (i, ask) in asked.iter().enumerate() {
        let sku = ask.sku.trim();
        let lines: Vec<usize> = (0..left.len())
            .filter(|l| quote.lines[*l].line.sku == sku)
            .collect();
        if lines.is_empty() {
            return Err(invalid(format!("lines.{i}.sku"), "is not on this order"));
        }
        let mut wanted = ask.quantity;
        for l in lines {
            let take = Ord::min(wanted, left[l] - units[l]);
            units[l] += take;
            wanted -= take;
        }
        if wanted > 0 {
            let available: i64 = (0..left.len())
                .filter(|l| quote.lines[*l].line.sku == sku)
                .map(|l| left[l])
                .sum();
            return Err(invalid(
                format!("lines.{i}.quantity"),
                format!("exceeds the {available} units of `{sku}` left to refund"),
            ));
        }
    }
    Ok(units)
}

/// The share of `share` that `units` of `quantity` carry, rounded down.
fn pro_rata(share: i64, units: i64, quantity: i64) -> i64 {
    // share ≤ ¥10,000,000 and units ≤ 9,999: inside i64.
    share * units / quantity
}

/// What each granted benefit gives back when `units` more are refunded on
/// top of `refunded`, given what its redemption gave back so far.
fn give_back(
    quote: &Quote,
    refunded: &[i64],
    units: &[i64],
    granted: &[redemption::Model],
) -> Vec<GivenBack> {
    let whole = |l: usize| refunded[l] + units[l] == quote.lines[l].line.quantity;
    let all_whole = (0..quote.lines.len()).all(whole);
    granted
        .iter()
        .filter(|r| r.refunded_at.is_none())
        .filter_map(|r| {
            let mut amount = 0;
            let mut touched = false;
            let mut released = true;
            for (l, line) in quote.lines.iter().enumerate() {
                for share in line.shares.iter().filter(|s| s.benefit_id == r.benefit_id) {
                    touched = true;
                    released &= whole(l);
                    let q = line.line.quantity;
                    amount += pro_rata(share.amount_cents, refunded[l] + units[l], q)
                        - pro_rata(share.amount_cents, refunded[l], q);
                }
            }
            let released = if touched { released } else { all_whole };
            // Released: whatever has not come back yet does now (orders
            // placed before line shares were kept have it all here).
            let amount = if released {
                r.amount_cents - r.refunded_cents
            } else {
                amount
            };
            (amount > 0 || released).then_some(GivenBack {
                benefit_id: r.benefit_id,
                amount_cents: amount,
                released,
            })
        })
        .collect()
}

/// Refunds units of an order (or everything left): gives back budgets
/// and, where a benefit is wholly refunded, the member's caps.
#[tracing::instrument(skip_all, fields(brand = request.brand_id, order = request.order_ref))]
pub(crate) async fn refund(
    db: &DatabaseConnection,
    request: &RefundRequest<'_>,
) -> Result<Order, CheckoutError> {
    let order_ref = check_ref(request.order_ref, "orderRef")?;
    let refund_ref = request
        .refund_ref
        .map(|r| check_ref(r, "refundRef"))
        .transpose()?;
    if let Some(lines) = request.lines {
        if refund_ref.is_none() {
            return Err(invalid(
                "refundRef".to_owned(),
                "is required when `lines` are given",
            ));
        }
        check_lines(lines)?;
    }
    let asked = to_json(&request.lines)?;
    let row = find(db, request.brand_id, order_ref)
        .await?
        .ok_or_else(|| CheckoutError::UnknownOrder(order_ref.to_owned()))?;
    let (_turn, txn) = crate::db::begin_write(db).await?;
    // Serialises this order's refunds: nothing changes, but the row is
    // written.
    checkout_order::Entity::update_many()
        .col_expr(
            checkout_order::Column::RefundedAt,
            Expr::col(checkout_order::Column::RefundedAt),
        )
        .filter(checkout_order::Column::Id.eq(row.id))
        .exec(&txn)
        .await?;
    // Read again under the lock: a refund that just finished counts.
    let row = checkout_order::Entity::find_by_id(row.id)
        .one(&txn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("order {}", row.id)))?;
    if let Some(reference) = refund_ref {
        let earlier = order_refund::Entity::find()
            .filter(order_refund::Column::OrderId.eq(row.id))
            .filter(order_refund::Column::RefundRef.eq(reference))
            .one(&txn)
            .await?;
        if let Some(earlier) = earlier {
            if earlier.request != asked {
                return Err(CheckoutError::RefundReused(reference.to_owned()));
            }
            return Ok(Order::load(&txn, row, true).await?);
        }
    }
    let quote: Quote = from_json(&row.quote)?;
    let mut refunded = vec![0_i64; quote.lines.len()];
    if row.refunded_at.is_some() {
        // Every unit (also of orders refunded whole before refunds were
        // kept per unit).
        refunded = quote.lines.iter().map(|l| l.line.quantity).collect();
    } else {
        for earlier in of_order(&txn, row.id).await? {
            for units in earlier.lines {
                refunded[units.line] += units.quantity;
            }
        }
    }
    let units = units(&quote, &refunded, request.lines)?;
    if units.iter().all(|u| *u == 0) {
        // Everything was refunded already.
        return Ok(Order::load(&txn, row, true).await?);
    }
    let granted = redemption::Entity::find()
        .filter(redemption::Column::OrderId.eq(row.id))
        .filter(redemption::Column::Granted.eq(true))
        // In benefit order, as grants take them (one grant per benefit
        // and order): the two never wait on benefit rows crosswise.
        .order_by_asc(redemption::Column::BenefitId)
        .all(&txn)
        .await?;
    let given = give_back(&quote, &refunded, &units, &granted);
    let refund = Refund {
        refund_ref: refund_ref.map(str::to_owned),
        refunded_at: request.now,
        lines: units
            .iter()
            .enumerate()
            .filter(|(_, u)| **u > 0)
            .map(|(line, quantity)| RefundedUnits {
                line,
                sku: quote.lines[line].line.sku.clone(),
                quantity: *quantity,
            })
            .collect(),
        benefits: given.clone(),
    };
    let inserted = order_refund::Entity::insert(order_refund::ActiveModel {
        id: NotSet,
        order_id: Set(row.id),
        refund_ref: Set(refund.refund_ref.clone()),
        request: Set(asked),
        detail: Set(to_json(&refund)?),
        created_at: Set(request.now),
    })
    .exec(&txn)
    .await;
    if let Err(error) = inserted {
        return Err(match error.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                CheckoutError::RefundReused(refund_ref.unwrap_or_default().to_owned())
            }
            _ => error.into(),
        });
    }
    // In benefit order, as grants take them, so a refund and an order
    // never wait on each other's budget slots crosswise.
    let mut in_order: Vec<&GivenBack> = given.iter().collect();
    in_order.sort_by_key(|back| back.benefit_id);
    for back in in_order {
        let mut released = redemption::Entity::update_many()
            .col_expr(
                redemption::Column::RefundedCents,
                Expr::col(redemption::Column::RefundedCents).add(back.amount_cents),
            )
            .filter(redemption::Column::OrderId.eq(row.id))
            .filter(redemption::Column::BenefitId.eq(back.benefit_id))
            .filter(redemption::Column::Granted.eq(true));
        if back.released {
            released = released.col_expr(redemption::Column::RefundedAt, Expr::value(request.now));
        }
        released.exec(&txn).await?;
        budget::give_back(
            &txn,
            back.benefit_id,
            row.member_id,
            i64::from(back.released),
            back.amount_cents,
        )
        .await?;
    }
    let everything = quote
        .lines
        .iter()
        .enumerate()
        .all(|(l, line)| refunded[l] + units[l] == line.line.quantity);
    if everything {
        checkout_order::Entity::update_many()
            .col_expr(checkout_order::Column::RefundedAt, Expr::value(request.now))
            .filter(checkout_order::Column::Id.eq(row.id))
            .exec(&txn)
            .await?;
    }
    let row = checkout_order::Entity::find_by_id(row.id)
        .one(&txn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("order {}", row.id)))?;
    let order = Order::load(&txn, row, false).await?;
    txn.commit().await?;
    Ok(order)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::benefits::checkout::{Line, QuotedLine, Share};

    fn line(sku: &str, quantity: i64, shares: &[(i64, i64)]) -> QuotedLine {
        QuotedLine {
            line: Line {
                sku: sku.to_owned(),
                quantity,
                unit_cents: 10_000,
            },
            subtotal_cents: quantity * 10_000,
            discount_cents: shares.iter().map(|(_, a)| a).sum(),
            shares: shares
                .iter()
                .map(|(benefit_id, amount_cents)| Share {
                    benefit_id: *benefit_id,
                    amount_cents: *amount_cents,
                })
                .collect(),
        }
    }

    fn granted(benefit_id: i64, amount_cents: i64) -> redemption::Model {
        redemption::Model {
            id: benefit_id,
            benefit_id,
            member_id: 1,
            idempotency_key: "k".to_owned(),
            granted: true,
            outcome: "GRANTED".to_owned(),
            order_cents: 0,
            amount_cents,
            service: "s".to_owned(),
            created_at: Utc::now(),
            order_id: Some(1),
            refunded_at: None,
            refunded_cents: 0,
        }
    }

    /// Refunding a line unit by unit gives back exactly its share, and a
    /// benefit is released only with the last line it discounted.
    #[test]
    fn unit_by_unit_gives_back_exactly_what_was_granted() {
        // Benefit 1 (a member price) on line 0 only; benefit 2 (a
        // percentage) over both lines; benefit 3 (a gift) on none.
        let quote = Quote {
            subtotal_cents: 50_000,
            discount_cents: 1_000 + 1_001,
            lines: vec![
                line("A", 3, &[(1, 1_000), (2, 667)]),
                line("B", 2, &[(2, 334)]),
            ],
            benefits: Vec::new(),
        };
        let mut redemptions = vec![granted(1, 1_000), granted(2, 1_001), granted(3, 0)];
        let mut refunded = vec![0, 0];
        let mut back: BTreeMap<i64, i64> = BTreeMap::new();
        let steps: [(usize, bool, bool, bool); 5] = [
            // (line, released 1, released 2, released 3) after the step
            (0, false, false, false),
            (0, false, false, false),
            (0, true, false, false),
            (1, true, false, false),
            (1, true, true, true),
        ];
        for (l, one, two, three) in steps {
            let mut units = vec![0, 0];
            units[l] = 1;
            for given in give_back(&quote, &refunded, &units, &redemptions) {
                *back.entry(given.benefit_id).or_default() += given.amount_cents;
                let r = redemptions
                    .iter_mut()
                    .find(|r| r.benefit_id == given.benefit_id)
                    .expect("redemption");
                r.refunded_cents += given.amount_cents;
                if given.released {
                    r.refunded_at = Some(Utc::now());
                }
            }
            refunded[l] += 1;
            let released: Vec<bool> = redemptions
                .iter()
                .map(|r| r.refunded_at.is_some())
                .collect();
            assert_eq!(released, [one, two, three], "after a unit of line {l}");
        }
        assert_eq!(back.get(&1), Some(&1_000));
        assert_eq!(back.get(&2), Some(&1_001));
        assert_eq!(back.get(&3), Some(&0), "a gift has no money to give back");
    }

    #[test]
    fn units_come_from_the_skus_lines_and_never_exceed_what_is_left() {
        let quote = Quote {
            subtotal_cents: 0,
            discount_cents: 0,
            lines: vec![line("A", 2, &[]), line("B", 1, &[]), line("A", 1, &[])],
            benefits: Vec::new(),
        };
        let ask = |sku: &str, quantity| RefundLine {
            sku: sku.to_owned(),
            quantity,
        };
        assert_eq!(
            units(&quote, &[1, 0, 0], Some(&[ask("A", 2)])).expect("units"),
            [1, 0, 1]
        );
        assert_eq!(units(&quote, &[1, 0, 0], None).expect("units"), [1, 1, 1]);
        let too_many = units(&quote, &[1, 0, 0], Some(&[ask("A", 3)])).expect_err("too many");
        assert_eq!(too_many.field(), "lines.0.quantity");
        let unknown =
            units(&quote, &[0, 0, 0], Some(&[ask("B", 1), ask("C", 1)])).expect_err("unknown");
        assert_eq!(unknown.field(), "lines.1.sku");
    }
}
