//! What a brand learns about its own benefits: the cell analysis of its
//! set, and reach and usage through the privacy engine. The rules of which
//! benefits are analysed, which question measures reach, and how the usage
//! rate is computed live here, not in the GraphQL layer.

use entity::enums::BenefitState;
use sea_orm::DatabaseConnection;

use super::{
    Benefit, BenefitError, GRANTING, definition::Definition, due, of_brand, reach, stacking,
};
use crate::{
    error::{CodedError, ErrorCode},
    privacy::PrivacySettings,
    segments::{self, Answer, Dimension, Population, SegmentError},
    standing::Conduct,
};

/// Why an analysis, reach or usage question can't be answered.
#[derive(Debug, thiserror::Error)]
pub(crate) enum InsightError {
    /// Extra analysis dimensions outside the allowed ones, or too many.
    #[error("`extraDimensions` takes up to two of AGE_BAND, CITY_TIER, INTEREST")]
    ExtraDimensions,
    /// The targeting can't be one audience question.
    #[error(transparent)]
    SeveralInterests(#[from] reach::SeveralInterests),
    /// Reading the benefits failed.
    #[error(transparent)]
    Benefit(#[from] BenefitError),
    /// The privacy engine refused or failed.
    #[error(transparent)]
    Segment(#[from] SegmentError),
}

impl CodedError for InsightError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::ExtraDimensions | Self::SeveralInterests(_) => ErrorCode::BadUserInput,
            Self::Benefit(error) => error.code(),
            Self::Segment(error) => error.code(),
        }
    }

    fn details(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::Segment(error) => error.details(),
            Self::ExtraDimensions | Self::SeveralInterests(_) | Self::Benefit(_) => Vec::new(),
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
    settings: &PrivacySettings,
    brand_id: i64,
    benefit: &Benefit,
    population: Population,
) -> Result<Answer, InsightError> {
    reach_of(db, settings, brand_id, &benefit.current, population).await
}

/// The reach question of `definition`, answered by the privacy engine.
async fn reach_of(
    db: &DatabaseConnection,
    settings: &PrivacySettings,
    brand_id: i64,
    definition: &Definition,
    population: Population,
) -> Result<Answer, InsightError> {
    let question = reach::question(definition, population)?;
    Ok(segments::ask(db, settings, brand_id, Conduct::Reach, &question).await?)
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
    /// Eligible platform members, from the noisy reach.
    pub eligible_members: i64,
    /// Redeemers ÷ eligible members; none while nobody is shown eligible.
    pub usage_rate: Option<f64>,
    /// The least rate the programme keeps a benefit at.
    pub policy_min_usage_rate: f64,
    /// How the rate is measured for this kind.
    pub measure: due::UsageMeasure,
    /// Its budget is used up: the policy does not judge it.
    pub sold_out: bool,
    /// The policy's flag, pause, retirement and grace dates.
    pub dates: due::PolicyDates,
    /// The reach answer the rate divides by.
    pub reach: Answer,
}

/// The usage of a benefit's live revision (its current one before it went
/// live) against its noisy platform reach.
pub(crate) async fn usage(
    db: &DatabaseConnection,
    settings: &PrivacySettings,
    brand_id: i64,
    benefit: &Benefit,
) -> Result<Usage, InsightError> {
    let definition = benefit.live.as_ref().unwrap_or(&benefit.current);
    let answer = reach_of(db, settings, brand_id, definition, Population::Platform).await?;
    let redeemers = due::unique_redeemers(db, benefit.row.id).await?;
    let eligible = answer.shown_members;
    let measure = due::UsageMeasure::of(&definition.kind);
    // An event's fill rate comes from its own counters, exactly; other
    // kinds divide by the noisy reach.
    let usage_rate = due::fill_rate(definition, &benefit.row)
        .or((eligible > 0).then(|| redeemers as f64 / eligible as f64));
    Ok(Usage {
        redemptions: benefit.row.redemptions,
        unique_redeemers: redeemers,
        spent_cents: benefit.row.spent_cents,
        eligible_members: eligible,
        usage_rate,
        policy_min_usage_rate: measure.minimum(),
        measure,
        sold_out: super::redemption::sold_out(definition, &benefit.row),
        dates: due::PolicyDates::of(&benefit.row),
        reach: answer,
    })
}
