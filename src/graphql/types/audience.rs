//! Audience questions and their privacy-protected answers as the contract
//! shows them.

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, SimpleObject};
use chrono::{DateTime, Utc};

use crate::{
    graphql::ApiError,
    privacy::{NoiseInfo, ledger},
    segments::{self},
};

/// Whose members a question counts.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::segments::Population")]
pub enum Population {
    /// Every platform member. One- and two-way answers are slices of the
    /// data epoch's platform release: free, the same for every brand.
    Platform,
    /// Members of your brand's own store.
    Store,
    /// Platform members not in your store: the platform release minus your
    /// store's table (you pay for the store side only; both are noisy).
    Prospects,
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
pub(crate) struct DimensionFilter {
    /// The dimension.
    pub(crate) dimension: Dimension,
    /// Value codes, any of which matches (one only for INTEREST and SERVICE).
    pub(crate) values: Vec<String>,
}

/// An audience question.
#[derive(InputObject)]
pub(crate) struct AudienceQuestion {
    /// Platform members or your store's members.
    pub(crate) population: Population,
    /// Filters, all of which must match.
    #[graphql(default)]
    pub(crate) filters: Vec<DimensionFilter>,
    /// Up to two dimensions to break the answer down by.
    #[graphql(default)]
    pub(crate) breakdown: Vec<Dimension>,
    /// Extra metrics.
    #[graphql(default)]
    pub(crate) metrics: Vec<AudienceMetric>,
}

/// One dimension value of a cell.
#[derive(SimpleObject)]
pub(crate) struct DimensionValue {
    /// The dimension.
    pub(crate) dimension: Dimension,
    /// The value code.
    pub(crate) value: String,
}

/// One cell of an answer. A suppressed cell has no numbers at all.
#[derive(SimpleObject)]
pub(crate) struct AudienceCell {
    /// The cell's value of each breakdown dimension (empty without breakdown).
    pub(crate) key: Vec<DimensionValue>,
    /// Hidden because its noisy member count is under the minimum cell size.
    pub(crate) suppressed: bool,
    /// Members in the cell (noisy).
    pub(crate) members: Option<i64>,
    /// The cell's share of the answer's shown members; for overlapping
    /// cells, of the population's members (`populationMembers`).
    pub(crate) share: Option<f64>,
    /// Share of the cell's members who are paid members. Unbiased, so it
    /// may fall just outside 0–1 where the truth is near the edge (read it
    /// with its interval); clamping would bias averages.
    pub(crate) paid_member_share: Option<f64>,
    /// Share of the cell's members who hold the black card; unbiased, like
    /// `paidMemberShare`.
    pub(crate) black_card_share: Option<f64>,
    /// Mean clamped annual spend, in fen.
    pub(crate) mean_annual_spend_cents: Option<i64>,
    /// Target group index (100 = same share as on the platform).
    pub(crate) tgi: Option<f64>,
    /// 95% of such member counts are within this many of the truth.
    pub(crate) members_interval95: Option<i64>,
    /// Half-width of an approximate 95% interval on `paidMemberShare`
    /// (first order, both counts' noise; 0 when the cell is split by
    /// PAID_MEMBER).
    pub(crate) paid_member_share_interval95: Option<f64>,
    /// Half-width of an approximate 95% interval on `blackCardShare`.
    pub(crate) black_card_share_interval95: Option<f64>,
    /// The noise is at least half the member count: read the cell as
    /// "few", not as a number.
    pub(crate) noise_dominates: bool,
}

/// How an answer was protected and what it cost.
#[derive(SimpleObject)]
#[graphql(complex)]
pub(crate) struct AnswerPrivacy {
    /// ε this request spent from your budget: 0 when every table came from
    /// the platform release or was already released to you in this data
    /// epoch (same question, same answer).
    pub(crate) epsilon_spent: f64,
    /// ε of this epoch's platform release, when cells (or TGI's platform
    /// side) were sliced from it: spent once for all brands by the
    /// platform ledger, never from your budget.
    pub(crate) platform_release_epsilon: Option<f64>,
    /// Discrete Laplace scale of the noise on member counts (Δ/ε).
    pub(crate) count_noise_scale: f64,
    /// 95% of member counts are within this many members of the truth.
    pub(crate) count_interval95: i64,
    /// Most a single member can change the member-count table (L1).
    pub(crate) count_sensitivity: i64,
    /// Noise scale on spend sums, in yuan, when the mean was asked.
    pub(crate) spend_noise_scale: Option<f64>,
    /// Cells hidden under the minimum cell size.
    pub(crate) suppressed_cells: i64,
    /// The minimum cell size, applied to noisy counts.
    pub(crate) minimum_cell_size: i64,
    /// The data epoch the answer comes from; a new epoch answers afresh.
    pub(crate) data_epoch: ID,
    /// The budget as the request left it, when it read it (it paid).
    #[graphql(skip)]
    pub(crate) budget_read: Option<ledger::BudgetStatus>,
    /// Whose budget: the brand and its share.
    #[graphql(skip)]
    pub(crate) payer: (i64, ledger::Pool),
}

#[ComplexObject]
impl AnswerPrivacy {
    /// Your budget after this request (read only when asked for: a free
    /// answer otherwise touches no ledger).
    async fn budget(&self, ctx: &Context<'_>) -> Result<PrivacyBudget, ApiError> {
        if let Some(read) = &self.budget_read {
            return Ok(read.clone().into());
        }
        let (brand, pool) = self.payer;
        let settings = crate::graphql::privacy_settings(ctx)?;
        Ok(
            ledger::status(crate::graphql::db(ctx)?, brand, pool, settings, Utc::now())
                .await?
                .into(),
        )
    }
}

/// An answer: cells, the total of the shown cells, privacy metadata.
#[derive(SimpleObject)]
pub(crate) struct AudienceAnswer {
    /// Every cell of the breakdown, empty and suppressed ones included.
    pub(crate) cells: Vec<AudienceCell>,
    /// Sum of the shown cells' members; suppressed cells are never in it,
    /// so it can't be used to recover them.
    pub(crate) shown_members: i64,
    /// A member may be in several cells (INTEREST, SERVICE breakdowns):
    /// each cell's `share` is then of `populationMembers`, and shares may
    /// sum past 1.
    pub(crate) overlapping: bool,
    /// The members the question's cells are drawn from (noisy), for
    /// overlapping cells; null otherwise or when under the minimum cell
    /// size.
    pub(crate) population_members: Option<i64>,
    /// Privacy metadata.
    pub(crate) privacy: AnswerPrivacy,
}

/// A brand's privacy budget.
#[derive(SimpleObject)]
pub(crate) struct PrivacyBudget {
    /// Whose share of the brand's budget this is.
    pub(crate) pool: PrivacyPool,
    /// ε that can be spent right now.
    pub(crate) epsilon_left: f64,
    /// ε allowed per calendar day (Asia/Shanghai).
    pub(crate) daily_limit: f64,
    /// ε spent today.
    pub(crate) daily_spent: f64,
    /// When today's budget resets (midnight, Asia/Shanghai).
    pub(crate) daily_resets_at: DateTime<Utc>,
    /// ε allowed in any 30 days.
    pub(crate) rolling_limit: f64,
    /// ε spent in the last 30 days.
    pub(crate) rolling_spent: f64,
}

/// Whose share of a brand's privacy budget.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entity::enums::PrivacyPool")]
pub enum PrivacyPool {
    /// The analysts' audience questions.
    Analysts,
    /// The operators' benefit insights: reach previews, usage, renewal.
    Operators,
}

/// One debit of the budget.
#[derive(SimpleObject)]
pub(crate) struct PrivacySpend {
    /// Ledger id.
    pub(crate) id: ID,
    /// When.
    pub(crate) at: DateTime<Utc>,
    /// ε spent.
    pub(crate) epsilon: f64,
    /// The normalised question that spent it.
    pub(crate) question: String,
    /// Whose share of the budget paid.
    pub(crate) pool: PrivacyPool,
}

/// A dimension and its value codes.
#[derive(SimpleObject)]
pub(crate) struct DimensionInfo {
    /// The dimension.
    pub(crate) dimension: Dimension,
    /// Its value codes, in order.
    pub(crate) values: Vec<String>,
    /// A member can hold several values.
    pub(crate) multi_valued: bool,
}

/// ε in micro-units as the decimal the contract shows.
pub(crate) fn epsilon(micros: u64) -> f64 {
    micros as f64 / 1_000_000.0
}

/// What a question would cost now.
#[derive(SimpleObject)]
pub(crate) struct QuestionCost {
    /// Tables you would pay for: those not in the platform release and not
    /// yet released to you this epoch.
    pub(crate) tables: i64,
    /// ε it would spend (0: asking it again is free).
    pub(crate) epsilon: f64,
    /// Your budget can pay for it now.
    pub(crate) affordable: bool,
    /// Your budget now.
    pub(crate) budget: PrivacyBudget,
}

impl From<AudienceQuestion> for segments::QuestionInput {
    fn from(question: AudienceQuestion) -> Self {
        Self {
            population: question.population.into(),
            filters: question
                .filters
                .into_iter()
                .map(|f| (segments::Dimension::from(f.dimension), f.values))
                .collect(),
            breakdown: question.breakdown.into_iter().map(Into::into).collect(),
            metrics: question.metrics.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<ledger::BudgetStatus> for PrivacyBudget {
    fn from(status: ledger::BudgetStatus) -> Self {
        Self {
            pool: status.pool.into(),
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
                    members_interval95: cell.members_interval95,
                    paid_member_share_interval95: cell.paid_member_share_interval95,
                    black_card_share_interval95: cell.black_card_share_interval95,
                    noise_dominates: cell.noise_dominates,
                })
                .collect(),
            shown_members: answer.shown_members,
            overlapping: answer.overlapping,
            population_members: answer.population_members,
            privacy: AnswerPrivacy {
                epsilon_spent: epsilon(privacy.epsilon_spent_micros),
                platform_release_epsilon: privacy.platform_release_epsilon_micros.map(epsilon),
                count_noise_scale,
                count_interval95,
                count_sensitivity,
                spend_noise_scale: privacy.spend_noise.map(|n| n.scale),
                suppressed_cells: privacy.suppressed_cells as i64,
                minimum_cell_size: privacy.min_cell,
                data_epoch: ID(privacy.epoch_id.to_string()),
                budget_read: privacy.budget,
                payer: privacy.payer,
            },
        }
    }
}

/// One data epoch's platform release: the platform ledger's entry.
#[derive(SimpleObject)]
pub(crate) struct PlatformRelease {
    /// The data epoch released.
    pub(crate) data_epoch: ID,
    /// ε it spent, once for every brand.
    pub(crate) epsilon: f64,
    /// Noisy tables released (every pair of dimensions, spend per dimension).
    pub(crate) tables: i32,
    /// Cells in them.
    pub(crate) cells: i32,
    /// How long building it took, in milliseconds.
    pub(crate) build_milliseconds: i64,
    /// When it was released.
    pub(crate) released_at: DateTime<Utc>,
}

/// The platform ledger: what platform-wide answers cost members' privacy,
/// whichever brands ask.
#[derive(SimpleObject)]
pub(crate) struct PlatformLedger {
    /// ε each new data epoch's release spends (configured).
    pub(crate) epsilon_per_epoch: f64,
    /// ε spent by releases in the last 365 days.
    pub(crate) epsilon_last_365_days: f64,
    /// ε releases may spend in any 365 days (configured); an epoch whose
    /// release would pass it has none, and platform questions about it are
    /// released per brand from the brand's own budget.
    pub(crate) yearly_limit: f64,
    /// The newest releases, newest first (at most 24).
    pub(crate) releases: Vec<PlatformRelease>,
}

impl From<segments::LedgerEntry> for PlatformRelease {
    fn from(entry: segments::LedgerEntry) -> Self {
        Self {
            data_epoch: ID(entry.epoch_id.to_string()),
            epsilon: epsilon(entry.epsilon_micros),
            tables: entry.tables,
            cells: entry.cells,
            build_milliseconds: entry.build_ms,
            released_at: entry.released_at,
        }
    }
}

/// One data epoch of a trend.
#[derive(SimpleObject)]
pub(crate) struct AudienceTrendPoint {
    /// The data epoch.
    pub(crate) data_epoch: ID,
    /// The day its data is as of.
    pub(crate) as_of: chrono::NaiveDate,
    /// The answer as released in that epoch; null when it was not released
    /// to you then.
    pub(crate) answer: Option<AudienceAnswer>,
}

impl From<segments::TrendPoint> for AudienceTrendPoint {
    fn from(point: segments::TrendPoint) -> Self {
        Self {
            data_epoch: ID(point.epoch_id.to_string()),
            as_of: point.as_of,
            answer: point.answer.map(Into::into),
        }
    }
}
