//! Audience questions for brand analysts: the GraphQL face of
//! [`crate::segments`]. Only `BRAND_ANALYST` may ask, and only about the
//! platform or its own store; there is no field that takes a brand id.

use async_graphql::{
    Context, Enum, ID, InputObject, Object, SimpleObject,
    connection::{Connection, OpaqueCursor},
};
use chrono::{DateTime, Utc};

use super::{ApiError, connection, db, decode_cursor, principal, privacy_settings};
use crate::{
    auth::{Principal, Role},
    error::ErrorCode,
    pagination::PageRequest,
    privacy::{NoiseInfo, ledger},
    segments::{self, Dimension as DomainDimension},
};

/// Whose members a question counts.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::segments::Population")]
pub enum Population {
    /// Every platform member. Answers are shared by all brands: the first
    /// brand to ask pays, everyone gets the same numbers.
    Platform,
    /// Members of your brand's own store.
    Store,
}

/// A member dimension. `audienceDimensions` lists each one's value codes.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::segments::Dimension")]
pub enum Dimension {
    /// Growth tier from the points score: BRONZE … BLACK_DIAMOND.
    GrowthTier,
    /// Holds the paid membership: YES or NO.
    PaidMember,
    /// Holds the black card: YES or NO.
    BlackCard,
    /// Age this calendar year, banded: AGE_UNDER_25 … AGE_50_PLUS.
    AgeBand,
    /// FEMALE, MALE or UNDECLARED.
    Gender,
    /// TIER1, NEW_TIER1, TIER2 … TIER5.
    CityTier,
    /// Trailing-year spend in yuan, banded: SPEND_UNDER_1K … SPEND_50K_PLUS.
    SpendBand,
    /// Interest category; a member can have several (at most 5 are counted).
    Interest,
    /// Ecosystem service used; a member can use several (at most 5 are counted).
    Service,
}

/// Metrics beyond member counts and shares, which every answer has. Each
/// one releases one more table, which costs one more table's ε unless it
/// was released for these cells earlier in the data epoch.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::segments::Metric")]
pub enum AudienceMetric {
    /// Share of each cell's members who hold the paid membership.
    PaidMemberShare,
    /// Share of each cell's members who hold the black card.
    BlackCardShare,
    /// Mean annual spend, each member's spend clamped to ¥50,000.
    MeanAnnualSpend,
    /// Target group index: the cell's share of your store's members ÷ its
    /// share of platform members × 100 (store population only).
    Tgi,
}

/// Keep only members with one of these values of a dimension.
#[derive(InputObject)]
pub struct DimensionFilter {
    /// The dimension.
    dimension: Dimension,
    /// Value codes, any of which matches (one only for INTEREST and SERVICE).
    values: Vec<String>,
}

/// An audience question.
#[derive(InputObject)]
pub struct AudienceQuestion {
    /// Platform members or your store's members.
    population: Population,
    /// Filters, all of which must match.
    #[graphql(default)]
    filters: Vec<DimensionFilter>,
    /// Up to two dimensions to break the answer down by.
    #[graphql(default)]
    breakdown: Vec<Dimension>,
    /// Extra metrics.
    #[graphql(default)]
    metrics: Vec<AudienceMetric>,
}

/// One dimension value of a cell.
#[derive(SimpleObject)]
pub struct DimensionValue {
    /// The dimension.
    dimension: Dimension,
    /// The value code.
    value: String,
}

/// One cell of an answer. A suppressed cell has no numbers at all.
#[derive(SimpleObject)]
pub struct AudienceCell {
    /// The cell's value of each breakdown dimension (empty without breakdown).
    key: Vec<DimensionValue>,
    /// Hidden because its noisy member count is under the minimum cell size.
    suppressed: bool,
    /// Members in the cell (noisy).
    members: Option<i64>,
    /// The cell's share of the answer's shown members.
    share: Option<f64>,
    /// Share of the cell's members who are paid members.
    paid_member_share: Option<f64>,
    /// Share of the cell's members who hold the black card.
    black_card_share: Option<f64>,
    /// Mean clamped annual spend, in fen.
    mean_annual_spend_cents: Option<i64>,
    /// Target group index (100 = same share as on the platform).
    tgi: Option<f64>,
}

/// How an answer was protected and what it cost.
#[derive(SimpleObject)]
pub struct AnswerPrivacy {
    /// ε this request spent; 0 when every table was already released in
    /// this data epoch (same question, same answer).
    epsilon_spent: f64,
    /// Discrete Laplace scale of the noise on member counts (Δ/ε).
    count_noise_scale: f64,
    /// 95% of member counts are within this many members of the truth.
    count_interval95: i64,
    /// Most a single member can change the member-count table (L1).
    count_sensitivity: i64,
    /// Noise scale on spend sums, in yuan, when the mean was asked.
    spend_noise_scale: Option<f64>,
    /// Cells hidden under the minimum cell size.
    suppressed_cells: i64,
    /// The minimum cell size, applied to noisy counts.
    minimum_cell_size: i64,
    /// Your budget after this request.
    budget: PrivacyBudget,
    /// The data epoch the answer comes from; a new epoch answers afresh.
    data_epoch: ID,
}

/// An answer: cells, the total of the shown cells, privacy metadata.
#[derive(SimpleObject)]
pub struct AudienceAnswer {
    /// Every cell of the breakdown, empty and suppressed ones included.
    cells: Vec<AudienceCell>,
    /// Sum of the shown cells' members; suppressed cells are never in it,
    /// so it can't be used to recover them.
    shown_members: i64,
    /// Privacy metadata.
    privacy: AnswerPrivacy,
}

/// A brand's privacy budget.
#[derive(SimpleObject)]
pub struct PrivacyBudget {
    /// ε that can be spent right now.
    epsilon_left: f64,
    /// ε allowed per calendar day (Asia/Shanghai).
    daily_limit: f64,
    /// ε spent today.
    daily_spent: f64,
    /// When today's budget resets (midnight, Asia/Shanghai).
    daily_resets_at: DateTime<Utc>,
    /// ε allowed in any 30 days.
    rolling_limit: f64,
    /// ε spent in the last 30 days.
    rolling_spent: f64,
}

/// One debit of the budget.
#[derive(SimpleObject)]
pub struct PrivacySpend {
    /// Ledger id.
    id: ID,
    /// When.
    at: DateTime<Utc>,
    /// ε spent.
    epsilon: f64,
    /// The normalised question that spent it.
    question: String,
}

/// A dimension and its value codes.
#[derive(SimpleObject)]
pub struct DimensionInfo {
    /// The dimension.
    dimension: Dimension,
    /// Its value codes, in order.
    values: Vec<String>,
    /// A member can hold several values.
    multi_valued: bool,
}

fn epsilon(micros: u64) -> f64 {
    micros as f64 / 1_000_000.0
}

impl From<ledger::BudgetStatus> for PrivacyBudget {
    fn from(status: ledger::BudgetStatus) -> Self {
        Self {
            epsilon_left: epsilon(status.left()),
            daily_limit: epsilon(status.daily_limit),
            daily_spent: epsilon(status.daily_spent),
            daily_resets_at: status.daily_resets_at,
            rolling_limit: epsilon(status.rolling_limit),
            rolling_spent: epsilon(status.rolling_spent),
        }
    }
}

fn noise_fields(noise: &NoiseInfo) -> (f64, i64, i64) {
    (noise.scale, noise.interval95, noise.sensitivity as i64)
}

impl From<segments::Answer> for AudienceAnswer {
    fn from(answer: segments::Answer) -> Self {
        let privacy = answer.privacy;
        let (count_noise_scale, count_interval95, count_sensitivity) =
            noise_fields(&privacy.count_noise);
        Self {
            cells: answer
                .cells
                .into_iter()
                .map(|cell| AudienceCell {
                    key: cell
                        .key
                        .into_iter()
                        .map(|(dimension, value)| DimensionValue {
                            dimension: dimension.into(),
                            value: value.to_owned(),
                        })
                        .collect(),
                    suppressed: cell.suppressed,
                    members: cell.members,
                    share: cell.share,
                    paid_member_share: cell.paid_member_share,
                    black_card_share: cell.black_card_share,
                    mean_annual_spend_cents: cell.mean_annual_spend_cents,
                    tgi: cell.tgi,
                })
                .collect(),
            shown_members: answer.shown_members,
            privacy: AnswerPrivacy {
                epsilon_spent: epsilon(privacy.epsilon_spent_micros),
                count_noise_scale,
                count_interval95,
                count_sensitivity,
                spend_noise_scale: privacy.spend_noise.map(|n| n.scale),
                suppressed_cells: privacy.suppressed_cells as i64,
                minimum_cell_size: privacy.min_cell,
                budget: privacy.budget.into(),
                data_epoch: ID(privacy.epoch_id.to_string()),
            },
        }
    }
}

/// The analyst's brand, or FORBIDDEN for every other role.
fn analyst_brand(principal: &Principal) -> Result<i64, ApiError> {
    match (principal.role, principal.brand_id) {
        (Role::BrandAnalyst, Some(brand)) => Ok(brand),
        _ => Err(ApiError::new(
            ErrorCode::Forbidden,
            "audience questions are for brand analysts (role BRAND_ANALYST)",
        )),
    }
}

/// Audience root fields.
#[derive(Default)]
pub struct AudienceQuery;

#[Object]
impl AudienceQuery {
    /// Asks an audience question about the platform or your store. Every
    /// number is noisy, small cells are suppressed, and new tables cost
    /// privacy budget; asking the same question again in the same data
    /// epoch returns the same answer for free.
    async fn audience(
        &self,
        ctx: &Context<'_>,
        question: AudienceQuestion,
    ) -> Result<AudienceAnswer, ApiError> {
        let brand = analyst_brand(principal(ctx)?)?;
        let input = segments::QuestionInput {
            population: question.population.into(),
            filters: question
                .filters
                .into_iter()
                .map(|f| (DomainDimension::from(f.dimension), f.values))
                .collect(),
            breakdown: question.breakdown.into_iter().map(Into::into).collect(),
            metrics: question.metrics.into_iter().map(Into::into).collect(),
        };
        let settings = privacy_settings(ctx)?;
        Ok(segments::ask(db(ctx)?, settings, brand, &input)
            .await?
            .into())
    }

    /// Your brand's privacy budget now.
    async fn privacy_budget(&self, ctx: &Context<'_>) -> Result<PrivacyBudget, ApiError> {
        let brand = analyst_brand(principal(ctx)?)?;
        let settings = privacy_settings(ctx)?;
        Ok(ledger::status(db(ctx)?, brand, settings, Utc::now())
            .await
            .map_err(ApiError::from)?
            .into())
    }

    /// Your brand's budget debits, oldest first. Pass `first` or `last`, 1 to 100.
    #[graphql(complexity = "first.or(last).unwrap_or(1).clamp(1, 100) as usize * child_complexity")]
    async fn privacy_spends(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<OpaqueCursor<i64>, PrivacySpend>, ApiError> {
        let brand = analyst_brand(principal(ctx)?)?;
        let request = PageRequest::new(first, decode_cursor(after)?, last, decode_cursor(before)?)?;
        let page = ledger::history(db(ctx)?, brand, request)
            .await
            .map_err(ApiError::from)?;
        Ok(connection(
            page,
            |row| row.id,
            |row| PrivacySpend {
                id: ID(row.id.to_string()),
                at: row.at,
                epsilon: epsilon(row.epsilon_micros.max(0) as u64),
                question: row.question,
            },
        ))
    }

    /// The dimensions questions can use, with their value codes.
    async fn audience_dimensions(&self, ctx: &Context<'_>) -> Result<Vec<DimensionInfo>, ApiError> {
        analyst_brand(principal(ctx)?)?;
        Ok(DomainDimension::ALL
            .into_iter()
            .map(|d| DimensionInfo {
                dimension: d.into(),
                values: d.codes().into_iter().map(str::to_owned).collect(),
                multi_valued: d.is_multi_valued(),
            })
            .collect())
    }
}
