//! Renewal rate of paid members who used a benefit against eligible paid
//! members who did not, from the platform's renewal decisions. The four
//! counts (decisions and renewals per group) leave only through the
//! privacy engine: one table, each member in one group moving two cells by
//! one (Δ = 2), discrete Laplace noise at the table ε debited from the
//! brand's budget, groups under the minimum cell size suppressed, and the
//! answer stored per data epoch and redemption count ([`once`]), so asking
//! again costs nothing and learns nothing new.

use chrono::{DateTime, Utc};
use entity::{member, paid_renewal, redemption};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait as _,
    PaginatorTrait as _, QueryFilter as _, sea_query::Query,
};
use serde::{Deserialize, Serialize};

use super::{Benefit, due::eligible};
use crate::{
    error::{CodedError, ErrorCode},
    privacy::{
        NoiseInfo, PrivacySettings,
        ledger::{self, BudgetStatus},
        once::{self, Counts, ReleaseError},
        shown,
    },
    standing::{self, Conduct, NotInStanding},
};

/// One group's released numbers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct Group {
    /// Renewal decisions (noisy); null when suppressed.
    pub decisions: Option<i64>,
    /// Renewals (noisy); null when suppressed.
    pub renewed: Option<i64>,
    /// Renewals ÷ decisions; null when suppressed.
    pub rate: Option<f64>,
}

/// The answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RenewalAnswer {
    /// Paid members who were granted the benefit.
    pub used: Group,
    /// Eligible paid members who were not.
    pub not_used: Group,
    /// ε this request spent (0 when served from the stored answer).
    pub epsilon_spent_micros: u64,
    /// The noise.
    pub noise: NoiseInfo,
    /// The brand's budget after the request.
    pub budget: BudgetStatus,
}

/// Why no answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RenewalError {
    /// The counts could not be released (budget, no data, storage).
    #[error(transparent)]
    Release(#[from] ReleaseError),
    /// The brand's standing does not allow it.
    #[error(transparent)]
    Standing(#[from] NotInStanding),
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl CodedError for RenewalError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Release(error) => error.code(),
            Self::Standing(error) => error.code(),
            Self::Db(_) => ErrorCode::Internal,
        }
    }

    fn details(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::Release(error) => error.details(),
            _ => Vec::new(),
        }
    }
}

fn group(decisions: i64, renewed: i64, settings: &PrivacySettings) -> Group {
    if shown(decisions, settings) {
        Group {
            decisions: Some(decisions),
            renewed: Some(renewed.clamp(0, decisions)),
            rate: Some(renewed.clamp(0, decisions) as f64 / decisions as f64),
        }
    } else {
        Group {
            decisions: None,
            renewed: None,
            rate: None,
        }
    }
}

/// The true counts: (used decisions, used renewals, other decisions,
/// other renewals).
async fn counts(
    db: &impl ConnectionTrait,
    benefit: &Benefit,
    now: DateTime<Utc>,
) -> Result<[i64; 4], DbErr> {
    let redeemers = || {
        Query::select()
            .column(redemption::Column::MemberId)
            .from(redemption::Entity)
            .and_where(redemption::Column::BenefitId.eq(benefit.row.id))
            .and_where(redemption::Column::Granted.eq(true))
            .take()
    };
    let renewed_members = || {
        Query::select()
            .column(paid_renewal::Column::MemberId)
            .from(paid_renewal::Entity)
            .and_where(paid_renewal::Column::Renewed.eq(true))
            .take()
    };
    let decided_members = || {
        Query::select()
            .column(paid_renewal::Column::MemberId)
            .from(paid_renewal::Entity)
            .take()
    };
    let used = paid_renewal::Entity::find()
        .filter(paid_renewal::Column::MemberId.in_subquery(redeemers()));
    let used_decisions = used.clone().count(db).await?;
    let used_renewed = used
        .filter(paid_renewal::Column::Renewed.eq(true))
        .count(db)
        .await?;
    let definition = benefit.live.as_ref().unwrap_or(&benefit.current);
    let others = eligible(definition, now)
        .filter(member::Column::PaidMember.eq(true))
        .filter(member::Column::Id.in_subquery(decided_members()))
        .filter(member::Column::Id.not_in_subquery(redeemers()));
    let other_decisions = others.clone().count(db).await?;
    let other_renewed = others
        .filter(member::Column::Id.in_subquery(renewed_members()))
        .count(db)
        .await?;
    Ok(
        [used_decisions, used_renewed, other_decisions, other_renewed]
            .map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
    )
}

/// Answers the renewal comparison for a benefit of `brand_id`.
pub(crate) async fn renewal(
    db: &DatabaseConnection,
    settings: &PrivacySettings,
    brand_id: i64,
    benefit: &Benefit,
    now: DateTime<Utc>,
) -> Result<RenewalAnswer, RenewalError> {
    standing::require::<RenewalError>(db, brand_id, Conduct::Reach).await?;
    let question = format!(
        "renewal-counts:benefit={}:redemptions={}",
        benefit.row.id, benefit.used.redemptions
    );
    let described = format!(
        "renewal of paid members granted benefit {} against those not granted it ({} redemptions)",
        benefit.row.id, benefit.used.redemptions
    );
    let asked = Counts {
        brand_id,
        pool: ledger::pool_of(Conduct::Reach),
        question: &question,
        described: &described,
        sensitivity: 2,
        now,
    };
    let released = once::release_once(db, settings, &asked, async |txn| {
        Ok(counts(txn, benefit, now).await?.to_vec())
    })
    .await?;
    let n = |i: usize| released.noisy.get(i).copied().unwrap_or_default();
    Ok(RenewalAnswer {
        used: group(n(0), n(1), settings),
        not_used: group(n(2), n(3), settings),
        epsilon_spent_micros: released.epsilon_spent_micros,
        noise: released.noise,
        budget: released.budget,
    })
}
