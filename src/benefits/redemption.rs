//! Eligibility and redemption of one benefit for the platform's checkout
//! (SERVICE role), by member reference: judged alone here ([`judge`]), then
//! by the checkout engine among the brand's other active benefits, so a
//! single-benefit call agrees with a quote. Budgets and caps hold under
//! any concurrency ([`take`], also what orders use): a redemption's
//! transaction first inserts the redemption under its idempotency key,
//! then locks the member (so one member's grants are judged one after
//! another against their caps), checks the caps, and last takes each
//! grant from its benefit's budget (the member's budget slot, see
//! [`budget`]), so a hot benefit's grants wait on each other only within a
//! slot, and only from that UPDATE to the commit. A replayed key returns the
//! stored outcome and counts once.

use std::collections::HashMap;

use chrono::{DateTime, Datelike as _, NaiveDate, Utc};
use entity::{
    checkout_order,
    enums::{BenefitState, BrandStatus},
    member, redemption,
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait as _, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait as _,
    QueryFilter as _, QuerySelect as _, QueryTrait as _, SqlErr,
    sea_query::{Expr, UnionType},
};

use super::{
    Benefit, BenefitError,
    budget::{self, Caps, Used},
    checkout,
    definition::{Definition, Kind},
    get,
    stacking::upgrade_applies,
    targeting::{Holding, Match, Profile},
};
use crate::{
    auth::BrandScope,
    platform::{self, GrowthTier, Interest},
    segments::dimensions::AgeBand,
    standing::{self, Conduct},
};

/// Why a member does or does not get a benefit. The names (strum and
/// serde alike) are stored.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    strum::IntoStaticStr,
    strum::EnumString,
    serde::Serialize,
    serde::Deserialize,
)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Outcome {
    /// Granted.
    Granted,
    /// The benefit is not ACTIVE.
    NotActive,
    /// The brand's standing (prospect, suspended) does not allow grants.
    BrandNotInStanding,
    /// Outside the benefit's schedule.
    OutsideSchedule,
    /// The member is not in the targeted segment.
    NotTargeted,
    /// Another benefit takes precedence under the stacking rules (a quote
    /// says which and why).
    Overridden,
    /// The order is below the coupon's threshold.
    BelowThreshold,
    /// A birthday gift, but the platform does not know the member's birth
    /// date.
    BirthDateUnknown,
    /// A rebate, but this order is not yet the member's Nth in its period.
    OrderCountNotReached,
    /// A birthday gift, outside the window around the member's birthday
    /// (Asia/Shanghai days).
    OutsideBirthdayWindow,
    /// Early access, but not now: before its early window opens or once
    /// the public may buy.
    OutsideEarlyAccessWindow,
    /// Early access, but the basket holds none of its SKUs.
    NoEarlyAccessSku,
    /// The member used it as often as allowed (in all, today, this year,
    /// or this birthday).
    MemberCapReached,
    /// No redemptions (or places) left.
    BudgetExhausted,
    /// Not enough money left in the budget.
    MoneyBudgetExhausted,
}

impl Outcome {
    /// The stored and displayed name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Why a redemption request is unusable.
#[derive(Debug, thiserror::Error)]
pub enum RedeemError {
    /// The benefit does not exist.
    #[error(transparent)]
    Benefit(#[from] BenefitError),
    /// No member with that reference.
    #[error("no member with reference {0}")]
    UnknownMember(i64),
    /// Bad input, naming the field.
    #[error("`{field}` {message}")]
    Invalid {
        /// The input field.
        field: &'static str,
        /// What is wrong.
        message: &'static str,
    },
    /// The idempotency key was used for a different request.
    #[error("idempotency key already used for another member or amount")]
    KeyReused,
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl crate::error::CodedError for RedeemError {
    fn code(&self) -> crate::error::ErrorCode {
        use crate::error::ErrorCode;
        match self {
            Self::Benefit(error) => error.code(),
            Self::UnknownMember(_) => ErrorCode::NotFound,
            Self::Invalid { .. } => ErrorCode::BadUserInput,
            Self::KeyReused => ErrorCode::Conflict,
            Self::Db(_) => ErrorCode::Internal,
        }
    }
}

impl RedeemError {
    /// The input field a client should look at.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Benefit(_) => "benefitId",
            Self::UnknownMember(_) => "memberRef",
            Self::Invalid { field, .. } => field,
            Self::KeyReused => "idempotencyKey",
            Self::Db(_) => "",
        }
    }
}

/// What eligibility decided for one member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Eligibility {
    /// Granted, or why not (budgets and caps as they stand; a redemption
    /// takes them atomically).
    pub outcome: Outcome,
    /// The headline value the member would get (upgraded or not).
    pub value: Option<i64>,
    /// The upgrade applies.
    pub upgraded: bool,
    /// The money off this order, in fen.
    pub amount_cents: i64,
}

/// A recorded redemption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Redemption {
    /// The row.
    pub row: redemption::Model,
    /// This call replayed an earlier one with the same key.
    pub replayed: bool,
}

/// What targeting knows of one member, read from platform data.
pub(super) async fn member(
    db: &impl ConnectionTrait,
    brand_id: i64,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Profile, RedeemError> {
    let row = member::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(RedeemError::UnknownMember(id))?;
    let year = platform::business_day(now).year();
    Ok(Profile {
        tier: GrowthTier::from_points(row.points),
        paid: row.paid_member,
        black_card: row.black_card,
        age_band: Some(AgeBand::of_age(year - row.birth_year)),
        city_tier: Some(row.city_tier),
        interests: Holding::Exactly(Interest::unpack(row.interests)),
        birth_date: row.birth_date,
        store_orders: checkout_order::Entity::find()
            .select_only()
            .column(checkout_order::Column::CreatedAt)
            .filter(checkout_order::Column::BrandId.eq(brand_id))
            .filter(checkout_order::Column::MemberId.eq(id))
            .filter(checkout_order::Column::RefundedAt.is_null())
            .filter(checkout_order::Column::CreatedAt.gte(recent_since(now)))
            .into_tuple()
            .all(db)
            .await?,
    })
}

/// Eligibility of a member for a definition on an order, before budgets.
pub(super) fn judge(
    (status, state): (BrandStatus, BenefitState),
    definition: &Definition,
    member: &Profile,
    order_cents: i64,
    now: DateTime<Utc>,
) -> Eligibility {
    let upgraded = definition
        .upgrade
        .as_ref()
        .is_some_and(|u| upgrade_applies(u, member.tier, member.paid, member.black_card));
    let value = match (&definition.upgrade, upgraded) {
        (Some(u), true) => Some(u.value),
        _ => definition.kind.value(),
    };
    let refuse = |outcome| Eligibility {
        outcome,
        value,
        upgraded,
        amount_cents: 0,
    };
    if state != BenefitState::Active {
        return refuse(Outcome::NotActive);
    }
    if standing::check(status, Conduct::Grant).is_err() {
        return refuse(Outcome::BrandNotInStanding);
    }
    if !definition.schedule.window().contains(now) {
        return refuse(Outcome::OutsideSchedule);
    }
    let targeted = definition.audience().matches(member) == Match::All;
    if !targeted {
        return refuse(Outcome::NotTargeted);
    }
    if let Kind::BirthdayGift { .. } = &definition.kind
        && let Err(outcome) = birthday_window(definition, member, now)
    {
        return refuse(outcome);
    }
    if definition
        .kind
        .early_access_window()
        .is_some_and(|window| !window.contains(now))
    {
        return refuse(Outcome::OutsideEarlyAccessWindow);
    }
    if let Kind::OrderRebate {
        nth_order,
        period_days,
        ..
    } = &definition.kind
    {
        // This order counts too.
        let since = now - chrono::Duration::days(*period_days);
        let placed = member
            .store_orders
            .iter()
            .filter(|at| **at >= since)
            .count();
        if i64::try_from(placed).unwrap_or(i64::MAX) + 1 < *nth_order {
            return refuse(Outcome::OrderCountNotReached);
        }
    }
    match definition
        .kind
        .money_off(value.unwrap_or_default(), order_cents)
    {
        Some(amount_cents) => Eligibility {
            outcome: Outcome::Granted,
            value,
            upgraded,
            amount_cents,
        },
        None => refuse(Outcome::BelowThreshold),
    }
}

/// Whether a member gets a benefit on a one-line order, as the checkout
/// engine decides it (nothing is taken).
pub(crate) async fn eligibility(
    db: &DatabaseConnection,
    benefit_id: i64,
    member_id: i64,
    order_cents: i64,
    now: DateTime<Utc>,
) -> Result<Eligibility, RedeemError> {
    check_order(order_cents)?;
    Ok(decide(db, benefit_id, member_id, order_cents, now).await?.2)
}

/// What a member gets from one benefit on an order: judged alone, then,
/// if it qualifies, by the checkout engine among the brand's other active
/// benefits (stacking, budgets as read), so a single-benefit call agrees
/// with a quote.
async fn decide(
    db: &DatabaseConnection,
    benefit_id: i64,
    member_id: i64,
    order_cents: i64,
    now: DateTime<Utc>,
) -> Result<(Benefit, Profile, Eligibility), RedeemError> {
    let benefit = get(db, BrandScope::All, benefit_id).await?;
    let status = standing::status(db, benefit.row.brand_id).await?;
    let member = member(db, benefit.row.brand_id, member_id, now).await?;
    let (state, definition) = match &benefit.live {
        Some(live) => (benefit.row.state, live),
        None => (BenefitState::Draft, &benefit.current),
    };
    let judged = judge((status, state), definition, &member, order_cents, now);
    if judged.outcome != Outcome::Granted {
        return Ok((benefit, member, judged));
    }
    let engine =
        checkout::one_benefit(db, status, &benefit, &member, member_id, order_cents, now).await?;
    let decided = match engine {
        Some(quoted) => Eligibility {
            outcome: quoted.outcome,
            value: quoted.value,
            upgraded: quoted.upgraded,
            amount_cents: quoted.amount_cents,
        },
        None => judged,
    };
    Ok((benefit, member, decided))
}

/// The largest order a checkout may send: ¥10,000,000, in fen. Every
/// amount computed from an order stays far inside `i64` below it.
pub(crate) const MAX_ORDER_CENTS: i64 = 1_000_000_000;

/// The one check of an order amount, for eligibility and redemption alike.
pub(super) fn check_order(order_cents: i64) -> Result<(), RedeemError> {
    if (0..=MAX_ORDER_CENTS).contains(&order_cents) {
        Ok(())
    } else {
        Err(RedeemError::Invalid {
            field: "orderCents",
            message: "must be 0 to 1000000000 fen (¥10,000,000)",
        })
    }
}

async fn replay(
    db: &impl ConnectionTrait,
    benefit_id: i64,
    key: &str,
    member_id: i64,
    order_cents: i64,
) -> Result<Option<Redemption>, RedeemError> {
    let Some(row) = redemption::Entity::find()
        .filter(redemption::Column::BenefitId.eq(benefit_id))
        .filter(redemption::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if row.member_id != member_id || row.order_cents != order_cents {
        return Err(RedeemError::KeyReused);
    }
    Ok(Some(Redemption {
        row,
        replayed: true,
    }))
}

/// The request of one redemption.
#[derive(Debug, Clone)]
pub(crate) struct Request<'a> {
    /// The benefit.
    pub benefit_id: i64,
    /// The member.
    pub member_id: i64,
    /// The caller's key for this attempt.
    pub idempotency_key: &'a str,
    /// The order amount, in fen.
    pub order_cents: i64,
    /// The service recording it.
    pub service: &'a str,
    /// When.
    pub now: DateTime<Utc>,
}

/// Records a redemption attempt (granted or refused) exactly once per key.
#[tracing::instrument(skip_all, fields(
    benefit = request.benefit_id,
    member = request.member_id,
    key = request.idempotency_key,
    order_cents = request.order_cents,
))]
pub(crate) async fn redeem(
    db: &DatabaseConnection,
    request: &Request<'_>,
) -> Result<Redemption, RedeemError> {
    let key = request.idempotency_key.trim();
    if key.is_empty() || key.len() > 128 {
        return Err(RedeemError::Invalid {
            field: "idempotencyKey",
            message: "must be 1 to 128 characters",
        });
    }
    check_order(request.order_cents)?;
    let (id, member_id) = (request.benefit_id, request.member_id);
    if let Some(done) = replay(db, id, key, member_id, request.order_cents).await? {
        return Ok(done);
    }
    let (benefit, member, judged) =
        decide(db, id, member_id, request.order_cents, request.now).await?;
    let outcome = match (&benefit.live, judged.outcome) {
        (Some(live), Outcome::Granted) => {
            let taking = Grant {
                benefit_id: id,
                definition: live,
                amount_cents: judged.amount_cents,
            };
            let taker = Taker {
                member_id,
                member: &member,
                now: request.now,
            };
            grant(db, request, key, &taker, taking).await?
        }
        (_, refused) => Err(refused),
    };
    let refusal = match outcome {
        Ok(done) => return Ok(done),
        Err(refusal) => refusal,
    };
    match insert(db, request, key, refusal, 0).await {
        Ok(row) => Ok(Redemption {
            row,
            replayed: false,
        }),
        Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            replay(db, id, key, member_id, request.order_cents)
                .await?
                .ok_or(RedeemError::Db(error))
        }
        Err(error) => Err(error.into()),
    }
}

/// A redemption row to insert: one shape for single-benefit redemptions
/// and for the grants an order records (`order_id`).
pub(super) fn row(
    request: &Request<'_>,
    key: &str,
    outcome: Outcome,
    amount_cents: i64,
    order_id: Option<i64>,
) -> redemption::ActiveModel {
    redemption::ActiveModel {
        benefit_id: Set(request.benefit_id),
        member_id: Set(request.member_id),
        idempotency_key: Set(key.to_owned()),
        granted: Set(outcome == Outcome::Granted),
        outcome: Set(outcome.as_str().to_owned()),
        order_cents: Set(request.order_cents),
        amount_cents: Set(amount_cents),
        service: Set(request.service.to_owned()),
        created_at: Set(request.now),
        order_id: Set(order_id),
        refunded_at: Set(None),
        refunded_cents: Set(0),
        ..Default::default()
    }
}

async fn insert(
    db: &impl ConnectionTrait,
    request: &Request<'_>,
    key: &str,
    outcome: Outcome,
    amount_cents: i64,
) -> Result<redemption::Model, DbErr> {
    // One round trip: the row comes back with the insert (RETURNING, on
    // both engines), not read again inside the granting transaction.
    redemption::Entity::insert(row(request, key, outcome, amount_cents, None))
        .exec_with_returning(db)
        .await
}

/// The birthday window the member is in now, as UTC instants from the
/// first Asia/Shanghai day's start; refused when the birth date is unknown
/// or today is outside it. Only for birthday gifts.
fn birthday_window(
    definition: &Definition,
    member: &Profile,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, Outcome> {
    let Kind::BirthdayGift {
        days_before,
        days_after,
        ..
    } = &definition.kind
    else {
        return Err(Outcome::NotTargeted);
    };
    let born = member.birth_date.ok_or(Outcome::BirthDateUnknown)?;
    let today = platform::business_day(now);
    let (start, _) = platform::birthday_window(born, today, *days_before, *days_after)
        .ok_or(Outcome::OutsideBirthdayWindow)?;
    Ok(platform::start_of_business_day(start))
}

/// A member's grants of one benefit that still count (not refunded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MemberUses {
    /// In all.
    pub lifetime: u64,
    /// When each grant since [`recent_since`] was made.
    pub recent: Vec<DateTime<Utc>>,
}

/// How far back [`MemberUses::recent`] and a member's store orders
/// reach: 366 days, the longest period a cap or rebate looks at (it
/// covers the Asia/Shanghai year so far and any birthday window).
pub(super) fn recent_since(now: DateTime<Utc>) -> DateTime<Utc> {
    now - chrono::Duration::days(366)
}

/// The per-member caps: in all, per Asia/Shanghai day and year, once per
/// birthday for a birthday gift and once per period for a rebate. One rule
/// for quotes and grants.
fn within_caps(
    definition: &Definition,
    member: &Profile,
    uses: &MemberUses,
    now: DateTime<Utc>,
) -> Result<(), Outcome> {
    let budget = &definition.budget;
    let local = platform::business_day(now);
    let day_start = platform::start_of_business_day(local);
    let year_start =
        platform::start_of_business_day(NaiveDate::from_yo_opt(local.year(), 1).unwrap_or(local));
    let since = |start: DateTime<Utc>| uses.recent.iter().filter(|at| **at >= start).count();
    let reached = |cap: Option<i64>, used: u64| {
        cap.is_some_and(|cap| used >= u64::try_from(cap).unwrap_or(u64::MAX))
    };
    let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
    let once_used = match &definition.kind {
        Kind::BirthdayGift { .. } => birthday_window(definition, member, now)
            .map(|start| since(start) > 0)
            .unwrap_or(false),
        Kind::OrderRebate { period_days, .. } => {
            since(now - chrono::Duration::days(*period_days)) > 0
        }
        _ => false,
    };
    if reached(budget.per_member, uses.lifetime)
        || reached(budget.per_member_per_day, count(since(day_start)))
        || reached(budget.per_member_per_year, count(since(year_start)))
        || once_used
    {
        return Err(Outcome::MemberCapReached);
    }
    Ok(())
}

/// Whether the benefit's budget is used up: every redemption (or place)
/// taken, or less money left than one grant needs. The usage policy never
/// judges a sold-out benefit.
pub(crate) fn sold_out(definition: &Definition, used: Used) -> bool {
    let smallest_grant = match &definition.kind {
        Kind::FixedCoupon { amount_cents, .. } => *amount_cents,
        _ => 1,
    };
    Caps::of(definition).room(used, smallest_grant).is_err()
}

/// Whether budgets and the member's caps could pay for one more grant of
/// `amount_cents`, read without taking anything: what a quote shows.
/// [`take`] decides.
pub(super) fn affordable(
    definition: &Definition,
    used: Used,
    member: &Profile,
    uses: &MemberUses,
    amount_cents: i64,
    now: DateTime<Utc>,
) -> Result<(), Outcome> {
    Caps::of(definition).room(used, amount_cents)?;
    within_caps(definition, member, uses, now)
}

/// The member's uses of each of `benefit_ids` (one query for all: the
/// counts in all and the recent grants' times, as one UNION ALL), not
/// counting the redemption `except` (the one being decided).
pub(super) async fn member_uses(
    db: &impl ConnectionTrait,
    benefit_ids: &[i64],
    member_id: i64,
    now: DateTime<Utc>,
    except: Option<i64>,
) -> Result<Vec<(i64, MemberUses)>, DbErr> {
    let counting = || {
        redemption::Entity::find()
            .filter(redemption::Column::BenefitId.is_in(benefit_ids.iter().copied()))
            .filter(redemption::Column::MemberId.eq(member_id))
            .filter(redemption::Column::Granted.eq(true))
            .filter(redemption::Column::RefundedAt.is_null())
            .apply_if(except, |select, id| {
                select.filter(redemption::Column::Id.ne(id))
            })
            .select_only()
            .column(redemption::Column::BenefitId)
    };
    // A bare NULL takes the other branch's column type on both engines.
    let lifetime = counting()
        .column_as(redemption::Column::Id.count(), "uses")
        .expr_as(Expr::cust("NULL"), "at")
        .group_by(redemption::Column::BenefitId)
        .into_query();
    let recent = counting()
        .expr_as(Expr::cust("NULL"), "uses")
        .column_as(redemption::Column::CreatedAt, "at")
        .filter(redemption::Column::CreatedAt.gte(recent_since(now)))
        .into_query();
    let both = lifetime.to_owned().union(UnionType::All, recent).to_owned();
    let mut uses: HashMap<i64, MemberUses> = HashMap::new();
    for row in db.query_all(&both).await? {
        let used = uses.entry(row.try_get_by_index(0)?).or_default();
        if let Some(count) = row.try_get_by_index::<Option<i64>>(1)? {
            used.lifetime = u64::try_from(count).unwrap_or_default();
        }
        if let Some(at) = row.try_get_by_index::<Option<DateTime<Utc>>>(2)? {
            used.recent.push(at);
        }
    }
    Ok(benefit_ids
        .iter()
        .map(|id| (*id, uses.remove(id).unwrap_or_default()))
        .collect())
}

/// Whose grants [`take`] takes, and when: one member per transaction.
pub(super) struct Taker<'a> {
    /// The member's reference.
    pub member_id: i64,
    /// What targeting and caps know of the member.
    pub member: &'a Profile,
    /// When.
    pub now: DateTime<Utc>,
}

/// One grant to take: the benefit, its definition and the money.
pub(super) struct Grant<'a> {
    /// The benefit.
    pub benefit_id: i64,
    /// Its live definition.
    pub definition: &'a Definition,
    /// Money granted, in fen.
    pub amount_cents: i64,
}

/// Takes one member's grants (of one order, or a single redemption)
/// inside `txn`, whose first write is already done (its own row, so that
/// SQLite's write lock is held from the start): the member's row is
/// locked (PostgreSQL; SQLite has one writer), so the member's concurrent
/// grants are judged against their caps one after another; the caps are
/// read, not counting the redemption `except` of this transaction; last,
/// each grant is taken from its benefit's budget ([`budget::take`]), in
/// benefit order (so two orders never wait on each other's rows
/// crosswise), usually by one UPDATE of the member's budget slot, held
/// from there to the commit. `Err((benefit,
/// outcome))` for the first grant a cap or budget refuses; the caller then
/// drops the transaction.
pub(super) async fn take(
    txn: &impl ConnectionTrait,
    taker: &Taker<'_>,
    grants: &[Grant<'_>],
    except: Option<i64>,
) -> Result<Result<(), (i64, Outcome)>, DbErr> {
    if grants.is_empty() {
        return Ok(Ok(()));
    }
    member::Entity::find_by_id(taker.member_id)
        .lock_exclusive()
        .one(txn)
        .await?;
    let ids: Vec<i64> = grants.iter().map(|g| g.benefit_id).collect();
    let uses = member_uses(txn, &ids, taker.member_id, taker.now, except).await?;
    for grant in grants {
        let used = uses
            .iter()
            .find(|(id, _)| *id == grant.benefit_id)
            .map(|(_, uses)| uses.clone())
            .unwrap_or_default();
        if let Err(outcome) = within_caps(grant.definition, taker.member, &used, taker.now) {
            return Ok(Err((grant.benefit_id, outcome)));
        }
    }
    let mut in_order: Vec<&Grant<'_>> = grants.iter().collect();
    in_order.sort_by_key(|g| g.benefit_id);
    for grant in in_order {
        let caps = Caps::of(grant.definition);
        let taken = budget::take(
            txn,
            grant.benefit_id,
            taker.member_id,
            caps,
            grant.amount_cents,
        )
        .await?;
        if let Err(outcome) = taken {
            return Ok(Err((grant.benefit_id, outcome)));
        }
    }
    Ok(Ok(()))
}

/// The granting transaction: the redemption row first, then [`take`];
/// `Err(outcome)` when a cap or budget refuses (nothing is kept).
async fn grant(
    db: &DatabaseConnection,
    request: &Request<'_>,
    key: &str,
    taker: &Taker<'_>,
    grant: Grant<'_>,
) -> Result<Result<Redemption, Outcome>, RedeemError> {
    let (_turn, txn) = crate::db::begin_write(db).await?;
    let row = match insert(&txn, request, key, Outcome::Granted, grant.amount_cents).await {
        Ok(row) => row,
        Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            drop(txn);
            let done = replay(
                db,
                request.benefit_id,
                key,
                request.member_id,
                request.order_cents,
            )
            .await?
            .ok_or(RedeemError::Db(error))?;
            return Ok(Ok(done));
        }
        Err(error) => return Err(error.into()),
    };
    if let Err((_, outcome)) = take(&txn, taker, std::slice::from_ref(&grant), Some(row.id)).await?
    {
        drop(txn);
        return Ok(Err(outcome));
    }
    txn.commit().await?;
    Ok(Ok(Redemption {
        row,
        replayed: false,
    }))
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use entity::enums::CityTier;

    use crate::{
        benefits::definition::{Upgrade, tests::percent_off},
        platform::Interest,
    };

    fn gold_member() -> Profile {
        Profile {
            tier: GrowthTier::Gold,
            paid: true,
            black_card: false,
            age_band: Some(AgeBand::From30To34),
            city_tier: Some(CityTier::Tier1),
            interests: Holding::Exactly(vec![Interest::Beauty]),
            birth_date: None,
            store_orders: Vec::new(),
        }
    }

    #[test]
    fn judging_checks_state_schedule_targeting_and_threshold_in_that_order() {
        let now = Utc::now();
        let five = percent_off(5, now);
        let member = gold_member();
        let granted = judge(
            (BrandStatus::Active, BenefitState::Active),
            &five,
            &member,
            20_000,
            now,
        );
        assert_eq!(
            (granted.outcome, granted.value, granted.amount_cents),
            (Outcome::Granted, Some(5), 1_000)
        );
        let outcome = |state, definition: &Definition, member: &Profile, order| {
            judge((BrandStatus::Active, state), definition, member, order, now).outcome
        };
        assert_eq!(
            outcome(BenefitState::Paused, &five, &member, 20_000),
            Outcome::NotActive
        );
        let mut later = five.clone();
        later.schedule.starts_at = now + Duration::hours(1);
        assert_eq!(
            outcome(BenefitState::Active, &later, &member, 20_000),
            Outcome::OutsideSchedule
        );

        let targeted = |change: fn(&mut Definition)| {
            let mut definition = five.clone();
            change(&mut definition);
            outcome(BenefitState::Active, &definition, &member, 20_000)
        };
        assert_eq!(
            targeted(|d| d.targeting.min_tier = Some(GrowthTier::Platinum)),
            Outcome::NotTargeted
        );
        assert_eq!(
            targeted(|d| d.targeting.paid_member = Some(false)),
            Outcome::NotTargeted
        );
        assert_eq!(
            targeted(|d| d.targeting.black_card = Some(true)),
            Outcome::NotTargeted
        );
        assert_eq!(
            targeted(|d| d.targeting.interests = vec![Interest::Sports]),
            Outcome::NotTargeted
        );
        assert_eq!(
            targeted(|d| d.targeting.city_tiers = vec![CityTier::Tier1]),
            Outcome::Granted
        );
        assert_eq!(
            targeted(|d| d.targeting.age_bands = vec![AgeBand::From35To39]),
            Outcome::NotTargeted
        );

        let mut coupon = five.clone();
        coupon.kind = Kind::FixedCoupon {
            amount_cents: 2_000,
            threshold_cents: 10_000,
        };
        assert_eq!(
            outcome(BenefitState::Active, &coupon, &member, 9_999),
            Outcome::BelowThreshold
        );
        assert_eq!(
            judge(
                (BrandStatus::Active, BenefitState::Active),
                &coupon,
                &member,
                10_000,
                now
            )
            .amount_cents,
            2_000
        );
    }

    #[test]
    fn an_upgrade_raises_the_value_for_the_members_it_names() {
        let now = Utc::now();
        let mut upgraded = percent_off(5, now);
        upgraded.upgrade = Some(Upgrade {
            min_tier: Some(GrowthTier::Gold),
            paid_member: true,
            black_card: false,
            value: 8,
        });
        let paid = judge(
            (BrandStatus::Active, BenefitState::Active),
            &upgraded,
            &gold_member(),
            10_000,
            now,
        );
        assert_eq!(
            (paid.upgraded, paid.value, paid.amount_cents),
            (true, Some(8), 800)
        );
        let free = Profile {
            paid: false,
            ..gold_member()
        };
        let plain = judge(
            (BrandStatus::Active, BenefitState::Active),
            &upgraded,
            &free,
            10_000,
            now,
        );
        assert_eq!(
            (plain.upgraded, plain.value, plain.amount_cents),
            (false, Some(5), 500)
        );
    }
}
