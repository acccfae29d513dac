//! What a brand learns about its own benefits: the cell analysis of its
//! set, and reach and usage through the privacy engine. The rules of which
//! benefits are analysed, which question measures reach, and how the usage
//! rate is computed live here, not in the GraphQL layer.

use chrono::{DateTime, Utc};
use entity::enums::BenefitState;
use sea_orm::DatabaseConnection;

use super::{
    Benefit, BenefitError, GRANTING, due, of_brand, reach, stacking,
    usage_policy::{self, UsagePolicy},
};
use crate::{
    error::{CodedError, ErrorCode},
    platform::business_day,
    privacy::{
        PrivacySettings, ledger,
        once::{self, Counts, ReleaseError, Released},
        shown,
    },
    segments::{self, Answer, Dimension, Population, RepeatCache, SegmentError},
    standing::{self, Conduct, NotInStanding},
};

/// Why an analysis, reach or usage question can't be answered.
#[derive(Debug, thiserror::Error)]
pub(crate) enum InsightError {
    /// Extra analysis dimensions outside the allowed ones, or too many.
    #[error("`extraDimensions` takes up to two of AGE_BAND, CITY_TIER, INTEREST")]
    ExtraDimensions,
    /// Reading the benefits failed.
    #[error(transparent)]
    Benefit(#[from] BenefitError),
    /// The privacy engine refused or failed.
    #[error(transparent)]
    Segment(#[from] SegmentError),
    /// Counts could not be released (budget, no data, storage).
    #[error(transparent)]
    Release(#[from] ReleaseError),
    /// The brand's standing does not allow it.
    #[error(transparent)]
    Standing(#[from] NotInStanding),
}

impl CodedError for InsightError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::ExtraDimensions => ErrorCode::BadUserInput,
            Self::Benefit(error) => error.code(),
            Self::Segment(error) => error.code(),
            Self::Release(error) => error.code(),
            Self::Standing(error) => error.code(),
        }
    }

    fn details(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::Segment(error) => error.details(),
            Self::Release(error) => error.details(),
            Self::ExtraDimensions | Self::Benefit(_) | Self::Standing(_) => Vec::new(),
        }
    }
}

impl From<sea_orm::DbErr> for InsightError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Benefit(error.into())
    }
}

/// Most extra dimensions one analysis splits by.
const MAX_EXTRA_DIMENSIONS: usize = 2;

/// The cell analysis of a brand's benefits: by default those a member can
/// be granted now ([`GRANTING`]), as their live revisions say, so a cell
/// shows what a quote grants its members; with `include_drafts`, approved,
/// paused, draft and in-review ones join as currently written, so an
/// operator sees what a change would do.
pub(crate) async fn analysis(
    db: &DatabaseConnection,
    brand_id: i64,
    extras: &[Dimension],
    include_drafts: bool,
) -> Result<stacking::Analysis, InsightError> {
    if extras.len() > MAX_EXTRA_DIMENSIONS
        || extras
            .iter()
            .any(|d| !stacking::EXTRA_DIMENSIONS.contains(d))
    {
        return Err(InsightError::ExtraDimensions);
    }
    let mut states = GRANTING.to_vec();
    if include_drafts {
        states.extend([
            BenefitState::Approved,
            BenefitState::Paused,
            BenefitState::Draft,
            BenefitState::PendingReview,
        ]);
    }
    let list = of_brand(db, brand_id, &states).await?;
    let candidates: Vec<stacking::Candidate<'_>> = list
        .iter()
        .map(|b| stacking::Candidate {
            id: b.row.id,
            definition: match (&b.live, include_drafts) {
                (Some(live), false) => live,
                _ => &b.current,
            },
        })
        .collect();
    Ok(stacking::analyse(&candidates, extras))
}

/// How many members of `population` the benefit's current definition
/// reaches, per growth tier × paid member: an audience question the
/// brand's budget pays for once.
pub(crate) async fn reach(
    db: &DatabaseConnection,
    cache: &RepeatCache,
    settings: &PrivacySettings,
    brand_id: i64,
    benefit: &Benefit,
    population: Population,
) -> Result<Answer, InsightError> {
    let question = reach::question(&benefit.current, population);
    Ok(segments::ask(db, cache, settings, brand_id, Conduct::Reach, &question).await?)
}

/// A benefit's use, as the usage policy judges it.
#[derive(Debug, Clone)]
pub(crate) struct Usage {
    /// Redemptions granted.
    pub redemptions: i64,
    /// Distinct members who redeemed it.
    pub unique_redeemers: i64,
    /// Money granted, in fen.
    pub spent_cents: i64,
    /// How the rate is measured for this kind.
    pub measure: due::UsageMeasure,
    /// Buyer use: the members it targets who bought from the store in
    /// the policy's period (noisy); none when under the minimum cell size,
    /// and for a fill rate.
    pub eligible_buyers: Option<i64>,
    /// Of them, the ones it was granted to then (noisy, at most
    /// `eligible_buyers`).
    pub buyers_granted: Option<i64>,
    /// The rate the policy judges; none while suppressed.
    pub usage_rate: Option<f64>,
    /// The least rate the policy in force keeps a benefit of this kind at.
    pub min_usage_rate: f64,
    /// The policy in force.
    pub policy: UsagePolicy,
    /// Its budget is used up: the policy does not judge it.
    pub sold_out: bool,
    /// The policy's flag, pause, retirement and grace dates.
    pub dates: due::PolicyDates,
    /// How the buyer counts were released (none for a fill rate, which
    /// counts places, not members).
    pub release: Option<Released>,
}

/// The usage of a benefit's live revision (its current one before it went
/// live), measured as the usage policy in force measures it: an event's
/// fill rate exactly from its own counters; other kinds' buyer use from
/// counts released through the privacy engine (Δ = 2: a member is in
/// both counts; the same answer all day until new redemptions).
pub(crate) async fn usage(
    db: &DatabaseConnection,
    settings: &PrivacySettings,
    brand_id: i64,
    benefit: &Benefit,
    now: DateTime<Utc>,
) -> Result<Usage, InsightError> {
    standing::require::<InsightError>(db, brand_id, Conduct::Reach).await?;
    let definition = benefit.live.as_ref().unwrap_or(&benefit.current);
    let policy = usage_policy::current(db).await?;
    let t = policy.thresholds;
    let (eligible_buyers, buyers_granted, usage_rate, release) = match due::fill_rate(
        definition,
        benefit.used,
    ) {
        Some(fill) => (None, None, Some(fill), None),
        None => {
            let id = benefit.row.id;
            let question = format!(
                "usage-buyers:benefit={id}:revision={}:redemptions={}:period={}:on={}",
                benefit
                    .row
                    .live_revision
                    .unwrap_or(benefit.row.current_revision),
                benefit.used.redemptions,
                t.period_days,
                business_day(now)
            );
            let described = format!(
                "use of benefit {id} among the eligible members who bought from the store in the last {} days",
                t.period_days
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
                Ok(due::buyer_use(txn, benefit, definition, t.period_days, now)
                    .await?
                    .to_vec())
            })
            .await?;
            let n = |i: usize| released.noisy.get(i).copied().unwrap_or_default();
            let buyers = n(0);
            if shown(buyers, settings) {
                let granted = n(1).clamp(0, buyers);
                (
                    Some(buyers),
                    Some(granted),
                    Some(granted as f64 / buyers as f64),
                    Some(released),
                )
            } else {
                (None, None, None, Some(released))
            }
        }
    };
    let measure = due::UsageMeasure::of(&definition.kind);
    Ok(Usage {
        redemptions: benefit.used.redemptions,
        unique_redeemers: due::unique_redeemers(db, benefit.row.id).await?,
        spent_cents: benefit.used.spent_cents,
        measure,
        min_usage_rate: measure.minimum(&t),
        eligible_buyers,
        buyers_granted,
        usage_rate,
        sold_out: super::redemption::sold_out(definition, benefit.used),
        dates: due::PolicyDates::of(&benefit.row, &t),
        policy,
        release,
    })
}
