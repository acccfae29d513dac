//! A benefit's budget: what it has given, and taking or giving back one
//! grant without ever going past its caps.
//!
//! The counters live in [`SLOTS`] slot rows per benefit, not on the
//! benefit's row. A grant goes to its member's slot, and each slot holds a
//! share of what is left of the budget, so concurrent grants of a hot
//! benefit update different rows instead of all waiting on one. A slot
//! never takes past its share, and the shares add up to the cap (to what
//! was given, when a lowered cap is already passed: no slot has room), so
//! the benefit never overspends. When a member's slot has no room left,
//! or the caps changed since the shares were cut, the grant locks all of the
//! benefit's slots and cuts the shares again from the totals; only then is
//! a grant refused for want of budget, so the budget is spent to its last
//! fen whichever slots the last grants fall in.
//!
//! Nothing locks the benefit's own row any more: a grant checks that the
//! benefit is ACTIVE as it takes, so a grant already taking when a pause
//! or end commits may still commit after it (before the slots, the
//! counters' UPDATE waited for the pause). Quotes and grants judged after
//! the pause commits are refused.

use std::collections::HashMap;

use entity::{benefit, benefit_budget_slot as slot, enums::BenefitState};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait as _, ConnectionTrait, DbBackend, DbErr, EntityTrait as _, QueryFilter as _,
    QueryOrder as _, QuerySelect as _, QueryTrait as _, UpdateMany,
    sea_query::{Expr, ExprTrait as _, OnConflict, PostgresQueryBuilder, Query},
};

use super::{
    definition::{Definition, Kind},
    redemption::Outcome,
};

/// Slots per benefit: enough that a gateway's PostgreSQL connections
/// seldom meet on one, few enough that the last grants of a budget rarely
/// need all of them locked.
const SLOTS: i32 = 8;

/// The savepoint a [`first_try`] runs in (PostgreSQL).
const FIRST_TRY: &str = "budget_first_try";

/// What a benefit's budget has given and not had back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Used {
    /// Redemptions granted.
    pub redemptions: i64,
    /// Money granted, in fen.
    pub spent_cents: i64,
}

/// The caps a benefit's budget holds its grants to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Caps {
    /// Most redemptions in all: the budget's, or an offline experience's
    /// places, whichever is smaller.
    pub redemptions: Option<i64>,
    /// Most money in all, in fen.
    pub cents: Option<i64>,
}

impl Caps {
    /// The caps of a definition.
    pub(crate) fn of(definition: &Definition) -> Self {
        let places = match &definition.kind {
            Kind::OfflineExperience { capacity, .. } => Some(*capacity),
            _ => None,
        };
        let redemptions = match (definition.budget.total_redemptions, places) {
            (Some(a), Some(b)) => Some(Ord::min(a, b)),
            (a, b) => a.or(b),
        };
        Self {
            redemptions,
            cents: definition.budget.total_money_cents,
        }
    }

    /// Whether one more grant of `amount_cents` fits beside `used`: the one
    /// budget rule quotes, sold-out tells and [`take`] apply.
    pub(crate) fn room(self, used: Used, amount_cents: i64) -> Result<(), Outcome> {
        if self.redemptions.is_some_and(|cap| used.redemptions >= cap) {
            return Err(Outcome::BudgetExhausted);
        }
        if self
            .cents
            .is_some_and(|money| used.spent_cents > money - amount_cents)
        {
            return Err(Outcome::MoneyBudgetExhausted);
        }
        Ok(())
    }
}

/// What each of `benefit_ids` has given, in one query (nothing for a
/// benefit that never granted).
pub(crate) async fn used_of(
    db: &impl ConnectionTrait,
    benefit_ids: &[i64],
) -> Result<HashMap<i64, Used>, DbErr> {
    let sums: Vec<(i64, Option<i64>, Option<i64>)> = slot::Entity::find()
        .filter(slot::Column::BenefitId.is_in(benefit_ids.iter().copied()))
        .select_only()
        .column(slot::Column::BenefitId)
        // PostgreSQL sums BIGINT as NUMERIC: cast back.
        .expr(Expr::col(slot::Column::Redemptions).sum().cast_as("BIGINT"))
        .expr(Expr::col(slot::Column::SpentCents).sum().cast_as("BIGINT"))
        .group_by(slot::Column::BenefitId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(sums
        .into_iter()
        .map(|(id, redemptions, spent_cents)| {
            let used = Used {
                redemptions: redemptions.unwrap_or_default(),
                spent_cents: spent_cents.unwrap_or_default(),
            };
            (id, used)
        })
        .collect())
}

/// The member's slot of any benefit.
fn slot_of(member_id: i64) -> i32 {
    i32::try_from(member_id.rem_euclid(i64::from(SLOTS))).unwrap_or_default()
}

/// Takes one grant of `amount_cents` from an ACTIVE benefit's budget for
/// `member_id`, inside the caller's transaction, or says why it could not.
/// Usually one UPDATE of the member's slot; see the module docs for when
/// all slots are locked.
pub(crate) async fn take(
    txn: &impl ConnectionTrait,
    benefit_id: i64,
    member_id: i64,
    caps: Caps,
    amount_cents: i64,
) -> Result<Result<(), Outcome>, DbErr> {
    let own = slot_of(member_id);
    let active = Query::select()
        .column(benefit::Column::Id)
        .from(benefit::Entity)
        .and_where(benefit::Column::Id.eq(benefit_id))
        .and_where(benefit::Column::State.eq(BenefitState::Active))
        .to_owned();
    let mut bump = slot::Entity::update_many()
        .col_expr(
            slot::Column::Redemptions,
            Expr::col(slot::Column::Redemptions).add(1),
        )
        .col_expr(
            slot::Column::SpentCents,
            Expr::col(slot::Column::SpentCents).add(amount_cents),
        )
        .filter(slot::Column::BenefitId.eq(benefit_id))
        .filter(slot::Column::Slot.eq(own))
        .filter(slot::Column::BenefitId.in_subquery(active));
    bump = match caps.redemptions {
        Some(cap) => bump.filter(slot::Column::CapRedemptions.eq(cap)).filter(
            Expr::col(slot::Column::Redemptions).lt(Expr::col(slot::Column::RedemptionsAllowed)),
        ),
        None => bump.filter(slot::Column::CapRedemptions.is_null()),
    };
    bump = match caps.cents {
        Some(cap) => bump.filter(slot::Column::CapCents.eq(cap)).filter(
            Expr::col(slot::Column::SpentCents)
                .lte(Expr::col(slot::Column::CentsAllowed).sub(amount_cents)),
        ),
        None => bump.filter(slot::Column::CapCents.is_null()),
    };
    if first_try(txn, bump).await? {
        return Ok(Ok(()));
    }
    let state = benefit::Entity::find_by_id(benefit_id)
        .select_only()
        .column(benefit::Column::State)
        .into_tuple::<BenefitState>()
        .one(txn)
        .await?;
    if state != Some(BenefitState::Active) {
        return Ok(Err(Outcome::NotActive));
    }
    // A used-up budget is refused from an unlocked read: refusing is safe.
    let seen = slots(txn, benefit_id, false).await?;
    let cut_for_these_caps = seen.len() == SLOTS as usize
        && seen
            .iter()
            .all(|s| s.cap_redemptions == caps.redemptions && s.cap_cents == caps.cents);
    if cut_for_these_caps && let Err(outcome) = caps.room(total(&seen)?, amount_cents) {
        return Ok(Err(outcome));
    }
    if seen.len() < SLOTS as usize {
        let missing = (0..SLOTS).map(|n| slot::ActiveModel {
            benefit_id: Set(benefit_id),
            slot: Set(n),
            redemptions: Set(0),
            spent_cents: Set(0),
            redemptions_allowed: Set(None),
            cents_allowed: Set(None),
            cap_redemptions: Set(None),
            cap_cents: Set(None),
        });
        slot::Entity::insert_many(missing)
            .on_conflict(
                OnConflict::columns([slot::Column::BenefitId, slot::Column::Slot])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    let mut locked = slots(txn, benefit_id, true).await?;
    if locked.len() != SLOTS as usize {
        // Never judged on part of the budget.
        return Err(DbErr::Custom(format!(
            "benefit {benefit_id} has {} budget slots, not {SLOTS}",
            locked.len()
        )));
    }
    if let Err(outcome) = caps.room(total(&locked)?, amount_cents) {
        return Ok(Err(outcome));
    }
    let mine = locked
        .iter_mut()
        .find(|s| s.slot == own)
        .ok_or_else(|| DbErr::Custom(format!("benefit {benefit_id} has no budget slot {own}")))?;
    mine.redemptions = add(mine.redemptions, 1)?;
    mine.spent_cents = add(mine.spent_cents, amount_cents)?;
    let after = total(&locked)?;
    let redemption_shares = caps.redemptions.map(|cap| shares(cap - after.redemptions));
    let cent_shares = caps.cents.map(|cap| shares(cap - after.spent_cents));
    for (n, row) in locked.iter_mut().enumerate() {
        row.redemptions_allowed = redemption_shares
            .as_ref()
            .map(|s| add(row.redemptions, s[n]))
            .transpose()?;
        row.cents_allowed = cent_shares
            .as_ref()
            .map(|s| add(row.spent_cents, s[n]))
            .transpose()?;
        row.cap_redemptions = caps.redemptions;
        row.cap_cents = caps.cents;
    }
    rewrite(txn, locked).await?;
    Ok(Ok(()))
}

/// Gives back to a benefit's budget what a refund returns: `redemptions`
/// (0 or 1) and `cents`, from the member's slot, or from whichever slots
/// hold them. The slots' shares shrink with them, so a cap lowered below
/// what was given stays unreachable; what comes back is shared out again
/// at the next cut.
pub(crate) async fn give_back(
    txn: &impl ConnectionTrait,
    benefit_id: i64,
    member_id: i64,
    redemptions: i64,
    cents: i64,
) -> Result<(), DbErr> {
    let less = |column: slot::Column, by: i64| (column, Expr::col(column).sub(by));
    let mut back = slot::Entity::update_many();
    for (column, value) in [
        less(slot::Column::Redemptions, redemptions),
        less(slot::Column::SpentCents, cents),
        less(slot::Column::RedemptionsAllowed, redemptions),
        less(slot::Column::CentsAllowed, cents),
    ] {
        back = back.col_expr(column, value);
    }
    let back = back
        .filter(slot::Column::BenefitId.eq(benefit_id))
        .filter(slot::Column::Slot.eq(slot_of(member_id)))
        .filter(slot::Column::Redemptions.gte(redemptions))
        .filter(slot::Column::SpentCents.gte(cents));
    if first_try(txn, back).await? {
        return Ok(());
    }
    let mut locked = slots(txn, benefit_id, true).await?;
    let (mut redemptions, mut cents) = (redemptions, cents);
    for row in &mut locked {
        let r = Ord::min(redemptions, Ord::max(row.redemptions, 0));
        let c = Ord::min(cents, Ord::max(row.spent_cents, 0));
        row.redemptions -= r;
        row.spent_cents -= c;
        row.redemptions_allowed = row.redemptions_allowed.map(|a| a - r);
        row.cents_allowed = row.cents_allowed.map(|a| a - c);
        redemptions -= r;
        cents -= c;
    }
    if redemptions > 0 || cents > 0 {
        // The slots hold less than the refund returns: the counters were
        // off before; they stay at zero rather than going negative.
        tracing::warn!(
            benefit_id,
            redemptions,
            cents,
            "a refund returned more than the budget slots held"
        );
    }
    rewrite(txn, locked).await
}

/// Runs a first try at one slot: whether it changed the row. On
/// PostgreSQL an UPDATE that waited for the row and then found its
/// condition false keeps the row locked, and a second try locks all the
/// benefit's slots in order: holding one out of order could deadlock with
/// another grant doing the same. So the UPDATE runs in a savepoint, sent
/// with it in one round trip (its values are our own numbers and a state
/// name, inlined by sea-query), and a failed try lets go of the slot. A
/// try that succeeds leaves its savepoint open (releasing it would cost a
/// round trip): an order granting more than 64 benefits would pass what
/// PostgreSQL caches of a transaction's subtransactions, which slows
/// snapshots while it runs, though nothing goes wrong.
async fn first_try(
    txn: &impl ConnectionTrait,
    update: UpdateMany<slot::Entity>,
) -> Result<bool, DbErr> {
    if txn.get_database_backend() != DbBackend::Postgres {
        // SQLite has one writer: nothing is waited for or held.
        return Ok(update.exec(txn).await?.rows_affected > 0);
    }
    let update = update.into_query().to_string(PostgresQueryBuilder);
    let sql = format!("SAVEPOINT {FIRST_TRY}; {update}");
    if txn.execute_unprepared(&sql).await?.rows_affected() > 0 {
        return Ok(true);
    }
    txn.execute_unprepared(&format!("ROLLBACK TO SAVEPOINT {FIRST_TRY}"))
        .await?;
    Ok(false)
}

/// A benefit's slots in order, locked for this transaction if asked
/// (PostgreSQL; SQLite has one writer).
async fn slots(
    db: &impl ConnectionTrait,
    benefit_id: i64,
    lock: bool,
) -> Result<Vec<slot::Model>, DbErr> {
    let mut select = slot::Entity::find()
        .filter(slot::Column::BenefitId.eq(benefit_id))
        .order_by_asc(slot::Column::Slot);
    if lock {
        select = select.lock_exclusive();
    }
    select.all(db).await
}

/// What slots hold between them.
fn total(slots: &[slot::Model]) -> Result<Used, DbErr> {
    slots.iter().try_fold(Used::default(), |sum, s| {
        Ok(Used {
            redemptions: add(sum.redemptions, s.redemptions)?,
            spent_cents: add(sum.spent_cents, s.spent_cents)?,
        })
    })
}

/// Checked counter arithmetic: inputs are bounded, so an overflow means
/// corrupt counters, said rather than wrapped.
fn add(a: i64, b: i64) -> Result<i64, DbErr> {
    a.checked_add(b)
        .ok_or_else(|| DbErr::Custom("budget counters overflow".to_owned()))
}

/// `left` cut into [`SLOTS`] shares as even as can be (none below zero).
fn shares(left: i64) -> Vec<i64> {
    let left = Ord::max(left, 0);
    let (each, odd) = (left / i64::from(SLOTS), left % i64::from(SLOTS));
    (0..i64::from(SLOTS))
        .map(|n| each + i64::from(n < odd))
        .collect()
}

/// Writes locked slots back in one statement.
async fn rewrite(txn: &impl ConnectionTrait, rows: Vec<slot::Model>) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    slot::Entity::insert_many(rows.into_iter().map(slot::ActiveModel::from))
        .on_conflict(
            OnConflict::columns([slot::Column::BenefitId, slot::Column::Slot])
                .update_columns([
                    slot::Column::Redemptions,
                    slot::Column::SpentCents,
                    slot::Column::RedemptionsAllowed,
                    slot::Column::CentsAllowed,
                    slot::Column::CapRedemptions,
                    slot::Column::CapCents,
                ])
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_to_what_is_left_and_differ_by_at_most_one() {
        for left in [0, 1, 7, 8, 9, 1_000_003] {
            let cut = shares(left);
            assert_eq!(cut.len(), SLOTS as usize);
            assert_eq!(cut.iter().sum::<i64>(), left);
            let (min, max) = (cut.iter().min(), cut.iter().max());
            assert!(max.zip(min).is_some_and(|(a, b)| a - b <= 1), "{cut:?}");
        }
        assert_eq!(shares(-5), vec![0; SLOTS as usize]);
    }

    #[test]
    fn every_member_has_a_slot() {
        for member in [0, 1, 7, 8, i64::MAX, -3] {
            assert!((0..SLOTS).contains(&slot_of(member)));
        }
    }
}
