//! The per-brand privacy budget ledger. A debit happens inside the caller's
//! transaction after [`lock`] has serialised that brand's debits (a row
//! lock on PostgreSQL, the write lock on SQLite), so parallel requests can
//! never overspend; noise is drawn only after the debit succeeded.

use chrono::{DateTime, Duration, Utc};
pub(crate) use entity::enums::PrivacyPool as Pool;
use entity::{privacy_ledger, privacy_split};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DbErr, EntityTrait as _, QueryFilter as _,
    QueryOrder as _, sea_query::OnConflict,
};

use super::PrivacySettings;
use crate::{
    error::{CodedError, ErrorCode},
    platform,
    standing::Conduct,
};

/// The analysts' share of a brand's daily and 30-day limits when no admin
/// set one; the operators keep the rest (at the defaults, ε 0.2 a day:
/// two benefit insights).
pub(crate) const DEFAULT_ANALYST_SHARE: f64 = 0.8;

/// Whose share pays for an ask: analysts' audience questions, operators'
/// benefit insights (reach, usage, renewal).
pub(crate) fn pool_of(conduct: Conduct) -> Pool {
    match conduct {
        Conduct::Audience => Pool::Analysts,
        _ => Pool::Operators,
    }
}

/// The share of its brand's budget a brand role's reads spend (analysts',
/// or operators'), for reads that are not one conduct's, such as entry
/// measures.
pub(crate) fn pool_of_role(role: crate::auth::Role) -> Pool {
    match role {
        crate::auth::Role::BrandAnalyst => Pool::Analysts,
        _ => Pool::Operators,
    }
}

/// A brand's analyst share: the admin's, or the default.
pub(crate) async fn analyst_share(db: &impl ConnectionTrait, brand_id: i64) -> Result<f64, DbErr> {
    Ok(privacy_split::Entity::find_by_id(brand_id)
        .one(db)
        .await?
        .map_or(DEFAULT_ANALYST_SHARE, |split| split.analyst_share))
}

/// Why a split could not be set.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SplitError {
    /// The share is not between 0 and 1.
    #[error("`analystShare` must be between 0 and 1")]
    OutOfRange,
    /// A side would get some budget, but less than one table a day.
    #[error(
        "`analystShare` leaves one side less than one table (ε {0}) a day: give it at least that, or 0"
    )]
    BelowOneTable(String),
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl CodedError for SplitError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::OutOfRange | Self::BelowOneTable(_) => ErrorCode::BadUserInput,
            Self::Db(_) => ErrorCode::Internal,
        }
    }
}

/// Sets a brand's split (the caller checked the brand exists), audited.
pub(crate) async fn set_split(
    db: &impl ConnectionTrait,
    (brand_id, analyst_share): (i64, f64),
    settings: &PrivacySettings,
    actor: &str,
) -> Result<(), SplitError> {
    if !(0.0..=1.0).contains(&analyst_share) {
        return Err(SplitError::OutOfRange);
    }
    let table = settings.epsilon_per_table_micros;
    for pool in [Pool::Analysts, Pool::Operators] {
        let daily = share_of(settings.daily_budget_micros, pool, analyst_share);
        if daily > 0 && daily < table {
            return Err(SplitError::BelowOneTable(format_epsilon(table)));
        }
    }
    privacy_split::Entity::insert(privacy_split::ActiveModel {
        brand_id: Set(brand_id),
        analyst_share: Set(analyst_share),
        set_by: Set(actor.to_owned()),
        set_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(privacy_split::Column::BrandId)
            .update_columns([
                privacy_split::Column::AnalystShare,
                privacy_split::Column::SetBy,
                privacy_split::Column::SetAt,
            ])
            .to_owned(),
    )
    .exec(db)
    .await?;
    crate::audit::record(
        db,
        actor,
        "privacy_split.set",
        &format!("brand:{brand_id}"),
        serde_json::json!({ "analystShare": analyst_share }),
    )
    .await?;
    Ok(())
}

/// Length of the rolling window.
pub(crate) const ROLLING_WINDOW_DAYS: i64 = 30;

/// A brand's budget at one moment, for one pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetStatus {
    /// Whose share it is.
    pub pool: Pool,
    /// ε allowed per calendar day (Asia/Shanghai), in millionths.
    pub daily_limit: u64,
    /// ε spent today, in millionths.
    pub daily_spent: u64,
    /// When today's budget resets (next midnight, Asia/Shanghai), UTC.
    pub daily_resets_at: DateTime<Utc>,
    /// ε allowed in any 30 days, in millionths.
    pub rolling_limit: u64,
    /// ε spent in the last 30 days, in millionths.
    pub rolling_spent: u64,
}

impl BudgetStatus {
    /// ε that can still be spent now, in millionths.
    pub fn left(&self) -> u64 {
        (self.daily_limit.saturating_sub(self.daily_spent))
            .min(self.rolling_limit.saturating_sub(self.rolling_spent))
    }
}

/// Why a debit was refused.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// Not enough budget left; says when enough will be back.
    #[error(
        "privacy budget exhausted: this question needs ε {needed}, {left} is left; the budget resets at {resets_at}"
    )]
    Exhausted {
        /// ε needed (decimal).
        needed: String,
        /// ε left (decimal).
        left: String,
        /// When the binding window frees enough budget (UTC, RFC 3339).
        resets_at: DateTime<Utc>,
    },
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl CodedError for LedgerError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Exhausted { .. } => ErrorCode::PrivacyBudgetExhausted,
            Self::Db(_) => ErrorCode::Internal,
        }
    }

    fn details(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::Exhausted { resets_at, .. } => vec![("resetsAt", resets_at.to_rfc3339())],
            Self::Db(_) => Vec::new(),
        }
    }
}

/// ε in millionths as a decimal string, e.g. `0.1`.
pub(crate) fn format_epsilon(micros: u64) -> String {
    let text = format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Start of the business day containing `now`, and the next one (UTC).
fn business_day(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let day = platform::business_day(now);
    (
        platform::start_of_business_day(day),
        platform::start_of_business_day(day + Duration::days(1)),
    )
}

/// Serialises debits of one brand until the transaction ends. Must be the
/// first statement of the transaction (a write, so SQLite takes its write
/// lock before reading anything).
pub(crate) async fn lock(txn: &impl ConnectionTrait, brand_id: i64) -> Result<(), DbErr> {
    txn.execute_unprepared(&format!(
        "INSERT INTO privacy_lock (brand_id, debits) VALUES ({brand_id}, 0) ON CONFLICT (brand_id) DO NOTHING"
    ))
    .await?;
    txn.execute_unprepared(&format!(
        "UPDATE privacy_lock SET debits = debits + 1 WHERE brand_id = {brand_id}"
    ))
    .await?;
    Ok(())
}

/// The brand's debits of the last 30 days, both pools, oldest first.
async fn recent(
    db: &impl ConnectionTrait,
    brand_id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<privacy_ledger::Model>, DbErr> {
    privacy_ledger::Entity::find()
        .filter(privacy_ledger::Column::BrandId.eq(brand_id))
        .filter(privacy_ledger::Column::At.gt(now - Duration::days(ROLLING_WINDOW_DAYS)))
        .order_by_asc(privacy_ledger::Column::At)
        .all(db)
        .await
}

/// A pool's share of a limit (in ε millionths), the share taken to the
/// nearest millionth so 0.8 and 0.2 split ε 1 into exactly 0.8 and 0.2.
fn share_of(limit: u64, pool: Pool, analyst_share: f64) -> u64 {
    let analysts = (analyst_share.clamp(0.0, 1.0) * 1e6).round() as u64;
    let ppm = match pool {
        Pool::Analysts => analysts,
        Pool::Operators => 1_000_000 - analysts,
    };
    // Limits are at most a few ε, so the product stays far inside u64.
    limit.saturating_mul(ppm) / 1_000_000
}

fn summarise(
    entries: &[privacy_ledger::Model],
    settings: &PrivacySettings,
    (pool, analyst_share): (Pool, f64),
    now: DateTime<Utc>,
) -> BudgetStatus {
    let (day_start, day_end) = business_day(now);
    let spent = |from: DateTime<Utc>| -> u64 {
        entries
            .iter()
            .filter(|e| e.at >= from)
            .map(|e| e.epsilon_micros.max(0) as u64)
            .sum()
    };
    BudgetStatus {
        pool,
        daily_limit: share_of(settings.daily_budget_micros, pool, analyst_share),
        daily_spent: spent(day_start),
        daily_resets_at: day_end,
        rolling_limit: share_of(settings.thirty_day_budget_micros, pool, analyst_share),
        rolling_spent: spent(now - Duration::days(ROLLING_WINDOW_DAYS)),
    }
}

/// A pool's share and the brand's whole budget, from the brand's debits:
/// a pool may spend within its share and within what the whole budget has
/// left, so the shares are sub-limits and the brand never spends past its
/// limits (a change of split mid-window included).
struct Budgets {
    /// The pool's debits.
    entries: Vec<privacy_ledger::Model>,
    /// Its share.
    pool: BudgetStatus,
    /// Every debit.
    all: Vec<privacy_ledger::Model>,
    /// The whole budget.
    whole: BudgetStatus,
}

impl Budgets {
    async fn read(
        db: &impl ConnectionTrait,
        (brand_id, pool): (i64, Pool),
        settings: &PrivacySettings,
        now: DateTime<Utc>,
    ) -> Result<Self, DbErr> {
        let share = analyst_share(db, brand_id).await?;
        let all = recent(db, brand_id, now).await?;
        Ok(Self::of(all, (pool, share), settings, now))
    }

    /// The budgets of `pool` from the brand's debits and its split.
    fn of(
        all: Vec<privacy_ledger::Model>,
        (pool, share): (Pool, f64),
        settings: &PrivacySettings,
        now: DateTime<Utc>,
    ) -> Self {
        let entries: Vec<_> = all.iter().filter(|e| e.pool == pool).cloned().collect();
        Self {
            pool: summarise(&entries, settings, (pool, share), now),
            whole: summarise(&all, settings, (Pool::Analysts, 1.0), now),
            entries,
            all,
        }
    }

    /// The pool's budget as it can be spent: its share, narrowed to what
    /// the whole budget has left beside the other pool's spending.
    fn effective(&self) -> BudgetStatus {
        let (pool, whole) = (&self.pool, &self.whole);
        let others_daily = whole.daily_spent.saturating_sub(pool.daily_spent);
        let others_rolling = whole.rolling_spent.saturating_sub(pool.rolling_spent);
        BudgetStatus {
            daily_limit: pool
                .daily_limit
                .min(whole.daily_limit.saturating_sub(others_daily)),
            rolling_limit: pool
                .rolling_limit
                .min(whole.rolling_limit.saturating_sub(others_rolling)),
            ..pool.clone()
        }
    }
}

/// Why `epsilon_micros` does not fit in `status` (computed from
/// `entries`), with the time enough of it is back; `None` when it fits.
fn refusal(
    entries: &[privacy_ledger::Model],
    status: &BudgetStatus,
    epsilon_micros: u64,
    now: DateTime<Utc>,
) -> Option<LedgerError> {
    let daily_ok = status.daily_spent + epsilon_micros <= status.daily_limit;
    let rolling_ok = status.rolling_spent + epsilon_micros <= status.rolling_limit;
    if daily_ok && rolling_ok {
        return None;
    }
    // The rolling window frees budget as old debits age out of it.
    let mut rolling_reset = now;
    let mut freed = 0u64;
    for entry in entries {
        if status.rolling_spent.saturating_sub(freed) + epsilon_micros <= status.rolling_limit {
            break;
        }
        freed += entry.epsilon_micros.max(0) as u64;
        rolling_reset = entry.at + Duration::days(ROLLING_WINDOW_DAYS);
    }
    let fits_ever = epsilon_micros <= status.daily_limit.min(status.rolling_limit);
    let resets_at = match (daily_ok, rolling_ok) {
        _ if !fits_ever => DateTime::<Utc>::MAX_UTC,
        (false, true) => status.daily_resets_at,
        (true, false) => rolling_reset,
        _ => status.daily_resets_at.max(rolling_reset),
    };
    Some(LedgerError::Exhausted {
        needed: format_epsilon(epsilon_micros),
        left: format_epsilon(status.left()),
        resets_at,
    })
}

/// The brand's budget now, for one pool, as it can be spent.
pub(crate) async fn status(
    db: &impl ConnectionTrait,
    brand_id: i64,
    pool: Pool,
    settings: &PrivacySettings,
    now: DateTime<Utc>,
) -> Result<BudgetStatus, DbErr> {
    Ok(Budgets::read(db, (brand_id, pool), settings, now)
        .await?
        .effective())
}

/// Both shares of the brand's budget now, analysts' first.
pub(crate) async fn statuses(
    db: &impl ConnectionTrait,
    brand_id: i64,
    settings: &PrivacySettings,
    now: DateTime<Utc>,
) -> Result<Vec<BudgetStatus>, DbErr> {
    // One read of the split and the debits for both shares.
    let share = analyst_share(db, brand_id).await?;
    let debits = recent(db, brand_id, now).await?;
    Ok([Pool::Analysts, Pool::Operators]
        .map(|pool| Budgets::of(debits.clone(), (pool, share), settings, now).effective())
        .to_vec())
}

/// Debits `epsilon_micros` from the brand's `pool`, or refuses with the
/// time the budget allows it again: it must fit in the pool's share and in
/// the brand's whole budget. Call after [`lock`], in the same transaction.
#[tracing::instrument(skip(txn, question, settings))]
pub(crate) async fn debit(
    txn: &impl ConnectionTrait,
    (brand_id, pool): (i64, Pool),
    epsilon_micros: u64,
    epoch_id: i64,
    question: &str,
    settings: &PrivacySettings,
    now: DateTime<Utc>,
) -> Result<BudgetStatus, LedgerError> {
    let budgets = Budgets::read(txn, (brand_id, pool), settings, now).await?;
    if let Some(refused) = refusal(&budgets.entries, &budgets.pool, epsilon_micros, now)
        .or_else(|| refusal(&budgets.all, &budgets.whole, epsilon_micros, now))
    {
        return Err(refused);
    }
    privacy_ledger::Entity::insert(privacy_ledger::ActiveModel {
        brand_id: Set(brand_id),
        at: Set(now),
        epsilon_micros: Set(epsilon_micros as i64),
        epoch_id: Set(epoch_id),
        question: Set(question.to_owned()),
        pool: Set(pool),
        ..Default::default()
    })
    .exec(txn)
    .await?;
    let status = budgets.effective();
    Ok(BudgetStatus {
        daily_spent: status.daily_spent + epsilon_micros,
        rolling_spent: status.rolling_spent + epsilon_micros,
        ..status
    })
}

/// The brand's debits, newest first, `limit` at most, before id `before`.
pub(crate) async fn history(
    db: &impl ConnectionTrait,
    brand_id: i64,
    page: crate::pagination::PageRequest,
) -> Result<crate::pagination::Page<privacy_ledger::Model>, DbErr> {
    let select =
        privacy_ledger::Entity::find().filter(privacy_ledger::Column::BrandId.eq(brand_id));
    crate::pagination::fetch_page(db, select, privacy_ledger::Column::Id, page).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    #[test]
    fn the_split_divides_a_limit_exactly() {
        for share in [0.8, 0.7, 0.0, 1.0, 0.333_333] {
            let analysts = share_of(1_000_000, Pool::Analysts, share);
            let operators = share_of(1_000_000, Pool::Operators, share);
            assert_eq!(analysts + operators, 1_000_000, "{share}");
        }
        assert_eq!(share_of(1_000_000, Pool::Operators, 0.8), 200_000);
    }

    #[test]
    fn epsilon_formats_as_a_short_decimal() {
        assert_eq!(format_epsilon(100_000), "0.1");
        assert_eq!(format_epsilon(1_000_000), "1");
        assert_eq!(format_epsilon(1_250_000), "1.25");
    }

    #[test]
    fn business_days_run_midnight_to_midnight_in_shanghai() {
        let now = Utc
            .with_ymd_and_hms(2026, 11, 24, 17, 0, 0)
            .single()
            .expect("time");
        let (start, end) = business_day(now);
        // 17:00 UTC is 01:00 on the 25th in Shanghai.
        assert_eq!(
            start,
            Utc.with_ymd_and_hms(2026, 11, 24, 16, 0, 0)
                .single()
                .expect("time")
        );
        assert_eq!(
            end,
            Utc.with_ymd_and_hms(2026, 11, 25, 16, 0, 0)
                .single()
                .expect("time")
        );
    }
}
