//! Audience segments: privacy-protected aggregates of platform members and
//! of a brand's store members. [`ask`] validates a question, pays for the
//! tables it has not released yet in this epoch (through the privacy
//! engine's ledger, before any noise is drawn), releases them, stores them,
//! and assembles the answer from released tables only.

mod cache;
pub mod cube;
pub mod dimensions;
mod members;
pub mod question;
mod release;

use std::{collections::HashMap, sync::Arc};

use chrono::Utc;
use entity::data_epoch;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbErr, SqlErr, Statement, TransactionTrait as _,
};
use serde::{Deserialize, Serialize};

use crate::{
    error::{CodedError, ErrorCode},
    privacy::{self, NoiseInfo, PrivacySettings, answers, ledger},
    standing::{self, Conduct, NotInStanding},
};
pub use cache::RepeatCache;
pub use dimensions::Dimension;
pub use question::{Cells, Metric, Population, Question, QuestionError, QuestionInput};
pub use release::{LedgerEntry, ledger};

/// Errors of audience questions.
#[derive(Debug, thiserror::Error)]
pub enum SegmentError {
    /// The question is malformed.
    #[error(transparent)]
    Question(#[from] QuestionError),
    /// The budget can't pay for it now.
    #[error(transparent)]
    Budget(#[from] ledger::LedgerError),
    /// The brand's standing does not allow the question.
    #[error(transparent)]
    Standing(#[from] NotInStanding),
    /// No cube has been built yet.
    #[error("no audience data yet: run `brand-gateway refresh` (seed and import do it too)")]
    NoEpoch,
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl CodedError for SegmentError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Question(e) => e.code(),
            Self::Budget(e) => e.code(),
            Self::Standing(e) => e.code(),
            Self::NoEpoch => ErrorCode::NotFound,
            Self::Db(_) => ErrorCode::Internal,
        }
    }

    fn details(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::Budget(e) => e.details(),
            _ => Vec::new(),
        }
    }
}

/// A kind of released table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
enum TableKind {
    Members,
    PaidMembers,
    BlackCardMembers,
    SpendSum,
    /// The population's members in one cell: a multi-valued breakdown's
    /// member shares divide by it.
    PopulationMembers,
}

/// A released (noisy) table as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Released {
    values: Vec<i64>,
    noise: NoiseInfo,
}

/// One cell of an answer. Suppressed cells carry no numbers at all.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerCell {
    /// One (dimension, code) per breakdown dimension.
    pub key: Vec<(Dimension, &'static str)>,
    /// Hidden because its noisy member count is under the minimum.
    pub suppressed: bool,
    /// Noisy member count.
    pub members: Option<i64>,
    /// Share of the shown members of the answer.
    pub share: Option<f64>,
    /// Share of the cell's members who are paid members.
    pub paid_member_share: Option<f64>,
    /// Share of the cell's members who hold the black card.
    pub black_card_share: Option<f64>,
    /// Mean clamped annual spend, in fen.
    pub mean_annual_spend_cents: Option<i64>,
    /// Store share ÷ platform share × 100.
    pub tgi: Option<f64>,
    /// 95% of such member counts are within this many of the truth.
    pub members_interval95: Option<i64>,
    /// Half-width of a 95% interval on `paid_member_share` (0 when the
    /// cell is split by paid membership, so the share is known).
    pub paid_member_share_interval95: Option<f64>,
    /// Half-width of a 95% interval on `black_card_share`.
    pub black_card_share_interval95: Option<f64>,
    /// The noise is at least half the member count: read the cell as
    /// "few", not as a number.
    pub noise_dominates: bool,
}

/// The half-width of a 95% interval on a ratio of two noisy counts with
/// 95% half-widths `numerator` and `denominator` (independent noise, first
/// order): √(n² + (r·d)²) ÷ count, at most 1.
fn ratio_interval95(ratio: f64, numerator: i64, denominator: i64, count: i64) -> f64 {
    if count <= 0 {
        return 1.0;
    }
    let (n, d) = (numerator as f64, ratio * denominator as f64);
    ((n * n + d * d).sqrt() / count as f64).min(1.0)
}

/// What an answer cost and how it was protected.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerPrivacy {
    /// ε this request spent (0 when every table was already released).
    pub epsilon_spent_micros: u64,
    /// Noise on member counts.
    pub count_noise: NoiseInfo,
    /// Noise on spend sums, when the mean was asked.
    pub spend_noise: Option<NoiseInfo>,
    /// Cells suppressed.
    pub suppressed_cells: usize,
    /// Cells at or above the minimum size.
    pub min_cell: i64,
    /// The brand's budget after this request, when the request read it
    /// (one that paid did); a free answer leaves it unread, so a stored
    /// answer costs no ledger read unless the caller asks for the budget
    /// ([`AnswerPrivacy::payer`] says whose to read).
    pub budget: Option<ledger::BudgetStatus>,
    /// Whose budget the request was charged to: the brand and its share.
    pub payer: (i64, ledger::Pool),
    /// The data epoch answered from.
    pub epoch_id: i64,
    /// ε of the epoch's platform release when some of the answer's tables
    /// were sliced from it (free to the brand, shared by all brands).
    pub platform_release_epsilon_micros: Option<u64>,
}

/// An answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The normalised question's cells.
    pub cells: Vec<AnswerCell>,
    /// Sum of the shown cells' members (never includes suppressed cells).
    pub shown_members: i64,
    /// A member may be in several cells (a multi-valued breakdown): each
    /// cell's share is of the population's members.
    pub overlapping: bool,
    /// The population's members (noisy), for overlapping cells; none when
    /// under the minimum cell size.
    pub population_members: Option<i64>,
    /// Metadata.
    pub privacy: AnswerPrivacy,
}

/// True per-cell aggregates read from the cube.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct TrueCell {
    members: i64,
    paid: i64,
    black: i64,
    spend: i64,
}

/// The selected key columns of an aggregate: each breakdown expression as a
/// BIGINT, then a constant (so a query with no breakdown has the same
/// shape: the values start one column after the keys).
fn key_columns(keys: &[impl std::fmt::Display]) -> String {
    keys.iter()
        .map(|k| format!("CAST(({k}) AS BIGINT)"))
        .chain(std::iter::once("CAST(0 AS BIGINT)".to_owned()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The cube query for `cells` of `population` in epoch `epoch_id`: the
/// breakdown's values, then members, paid members, black-card holders and
/// clamped spend per cell.
fn cube_sql(epoch_id: i64, population: i64, cells: &Cells) -> String {
    let multi = cells.multi_valued();
    let mut conditions = vec![
        format!("epoch_id = {epoch_id}"),
        format!("population = {population}"),
        format!("multi_dim = {}", multi.map_or(0, Dimension::multi_dim)),
    ];
    for (dimension, values) in &cells.filters {
        let list = values
            .iter()
            .map(i16::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        conditions.push(format!("{} IN ({list})", dimension.column()));
    }
    let group: Vec<&str> = cells.breakdown.iter().map(|d| d.column()).collect();
    let select_keys = key_columns(&group);
    format!(
        "SELECT {select_keys}, CAST(SUM(members) AS BIGINT), \
         CAST(SUM(CASE WHEN paid = 1 THEN members ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN black = 1 THEN members ELSE 0 END) AS BIGINT), \
         CAST(SUM(spend_sum) AS BIGINT) FROM segment_cell WHERE {}{}",
        conditions.join(" AND "),
        if group.is_empty() {
            String::new()
        } else {
            format!(" GROUP BY {}", group.join(", "))
        }
    )
}

/// Reads the true aggregates of `cells` of `population` (0: the platform,
/// else a brand's store): from the epoch's cube, or from member rows for
/// the cells the cube can't hold ([`Cells::needs_member_rows`]).
async fn aggregate(
    db: &impl ConnectionTrait,
    epoch: &data_epoch::Model,
    population: i64,
    cells: &Cells,
) -> Result<HashMap<Vec<i16>, TrueCell>, DbErr> {
    let sql = if cells.needs_member_rows() {
        members::sql(epoch, population, cells)
    } else {
        cube_sql(epoch.id, population, cells)
    };
    read_aggregates(db, sql, cells.breakdown.len()).await
}

/// Runs an aggregate query ([`cube_sql`]'s or [`members::sql`]'s shape)
/// whose breakdown has `width` dimensions.
async fn read_aggregates(
    db: &impl ConnectionTrait,
    sql: String,
    width: usize,
) -> Result<HashMap<Vec<i16>, TrueCell>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    let mut out = HashMap::new();
    for row in rows {
        let mut key = Vec::with_capacity(width);
        for index in 0..width {
            key.push(row.try_get_by_index::<i64>(index)? as i16);
        }
        let value = |offset: usize| {
            row.try_get_by_index::<Option<i64>>(width + 1 + offset)
                .map(Option::unwrap_or_default)
        };
        out.insert(
            key,
            TrueCell {
                members: value(0)?,
                paid: value(1)?,
                black: value(2)?,
                spend: value(3)?,
            },
        );
    }
    Ok(out)
}

/// How the current cube compares with the member rows in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CubeCheck {
    /// Cells compared.
    pub cells: usize,
    /// Cells whose aggregates differ, or that only one side has.
    pub differing: usize,
    /// Store join days compared (brands × days).
    pub join_days: usize,
    /// Join days whose counts differ, or that only one side has.
    pub join_days_differing: usize,
}

/// Compares every cell of the current epoch's cube (the platform's and
/// every store's, by all seven single-valued dimensions, alone and with
/// each multi-valued one) with the same aggregates computed from the
/// member rows in the database. The cube is built from the member
/// snapshot while per-member paths (checkout, targeting, the aggregates
/// the cube can't hold) read the rows, so the two copies must agree.
pub async fn check_cube(db: &impl ConnectionTrait) -> Result<CubeCheck, SegmentError> {
    let epoch = cube::current_epoch(db)
        .await?
        .ok_or(SegmentError::NoEpoch)?;
    let populations = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT 0 UNION SELECT brand_id FROM store_membership \
                 UNION SELECT population FROM segment_cell WHERE epoch_id = {}",
                epoch.id
            ),
        ))
        .await?
        .into_iter()
        .map(|row| row.try_get_by_index::<i64>(0))
        .collect::<Result<Vec<_>, _>>()?;
    let mut check = CubeCheck {
        cells: 0,
        differing: 0,
        join_days: 0,
        join_days_differing: 0,
    };
    for population in populations {
        for multi in [None, Some(Dimension::Interest), Some(Dimension::Service)] {
            let cells = Cells {
                population: if population == 0 {
                    Population::Platform
                } else {
                    Population::Store
                },
                filters: Default::default(),
                breakdown: cube::BASE_DIMENSIONS.into_iter().chain(multi).collect(),
            };
            let width = cells.breakdown.len();
            let from_cube =
                read_aggregates(db, cube_sql(epoch.id, population, &cells), width).await?;
            let from_rows =
                read_aggregates(db, members::sql(&epoch, population, &cells), width).await?;
            let (cells, differing) = compare(&from_cube, &from_rows);
            check.cells += cells;
            check.differing += differing;
        }
    }
    let built = join_days(
        db,
        &format!(
            "SELECT brand_id, joined_on, members, paid_members FROM store_join_day WHERE epoch_id = {}",
            epoch.id
        ),
    )
    .await?;
    let from_rows = join_days(db, migration::STORE_JOIN_DAYS_SQL).await?;
    (check.join_days, check.join_days_differing) = compare(&built, &from_rows);
    Ok(check)
}

/// How many keys two computations of the same table cover, and at how
/// many they differ (a value differs, or only one side has the key).
fn compare<K: Eq + std::hash::Hash, V: PartialEq>(
    built: &HashMap<K, V>,
    from_rows: &HashMap<K, V>,
) -> (usize, usize) {
    let differing = built
        .iter()
        .filter(|(key, value)| from_rows.get(*key) != Some(value))
        .count()
        + from_rows
            .keys()
            .filter(|key| !built.contains_key(*key))
            .count();
    (built.len().max(from_rows.len()), differing)
}

/// Rows of (brand, join day, members, paid members) read by `sql`.
async fn join_days(
    db: &impl ConnectionTrait,
    sql: &str,
) -> Result<HashMap<(i64, chrono::NaiveDate), (i64, i64)>, DbErr> {
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        sql.to_owned(),
    ))
    .await?
    .iter()
    .map(|row| {
        Ok((
            (row.try_get_by_index(0)?, row.try_get_by_index(1)?),
            (row.try_get_by_index(2)?, row.try_get_by_index(3)?),
        ))
    })
    .collect()
}

/// A table needed by a question: which cells, which kind.
#[derive(Debug, Clone)]
struct Need {
    cells: Cells,
    kind: TableKind,
}

/// Where a released table is kept in an answer: platform and store tables
/// of the same kind are different tables.
type TableKey = (Population, TableKind);

impl Need {
    fn question(&self) -> String {
        format!("{}#{:?}", self.cells.canonical(), self.kind)
    }

    fn key(&self) -> TableKey {
        (self.cells.population, self.kind)
    }
}

/// The tables a question needs; a prospects question needs each as a
/// platform and a store table (prospects are their difference).
fn needs(question: &Question) -> Vec<Need> {
    let needs = direct_needs(question);
    if question.cells.population != Population::Prospects {
        return needs;
    }
    needs
        .into_iter()
        .flat_map(|need| {
            [Population::Platform, Population::Store].map(|population| Need {
                cells: Cells {
                    population,
                    ..need.cells.clone()
                },
                kind: need.kind,
            })
        })
        .collect()
}

/// Prospects' tables: each platform table minus the store's, cell by cell
/// (post-processing; the noise of both adds up).
fn prospects(tables: &HashMap<TableKey, Released>) -> HashMap<TableKey, Released> {
    tables
        .iter()
        .filter(|((population, _), _)| *population == Population::Platform)
        .filter_map(|((_, kind), platform)| {
            let store = tables.get(&(Population::Store, *kind))?;
            let values = platform
                .values
                .iter()
                .zip(&store.values)
                .map(|(p, s)| p.saturating_sub(*s))
                .collect();
            let (a, b) = (platform.noise, store.noise);
            let noise = NoiseInfo {
                scale: a.scale.hypot(b.scale),
                interval95: (a.interval95 as f64).hypot(b.interval95 as f64).ceil() as i64,
                sensitivity: a.sensitivity.max(b.sensitivity),
            };
            Some(((Population::Prospects, *kind), Released { values, noise }))
        })
        .collect()
}

fn direct_needs(question: &Question) -> Vec<Need> {
    let own = |kind| Need {
        cells: question.cells.clone(),
        kind,
    };
    let mut needs = vec![own(TableKind::Members)];
    if question.cells.overlapping() {
        needs.push(Need {
            cells: question.cells.population_total(),
            kind: TableKind::PopulationMembers,
        });
    }
    for metric in &question.metrics {
        needs.push(match metric {
            Metric::PaidMemberShare => own(TableKind::PaidMembers),
            Metric::BlackCardShare => own(TableKind::BlackCardMembers),
            Metric::MeanAnnualSpend => own(TableKind::SpendSum),
            Metric::Tgi => Need {
                cells: question.cells.on_platform(),
                kind: TableKind::Members,
            },
        });
    }
    needs
}

/// Where a question's tables come from, read in at most two queries.
struct Found<'a> {
    /// The released tables: slices of the platform release, and the
    /// brand's own releases stored in this epoch.
    tables: HashMap<TableKey, Released>,
    /// Needs the brand has to release (and pay for) now.
    missing: Vec<&'a Need>,
    /// ε of the platform release, when a table was sliced from it.
    release_epsilon_micros: Option<u64>,
}

/// Whether any need is a platform table.
fn on_platform(needs: &[Need]) -> bool {
    needs
        .iter()
        .any(|n| n.cells.population == Population::Platform)
}

/// The current epoch's platform release when the needs use it: the one
/// `cache` holds within its bound, else read (or built now if it is the
/// epoch's first) and then held.
async fn current_release(
    db: &DatabaseConnection,
    cache: &RepeatCache,
    settings: &PrivacySettings,
    epoch: &data_epoch::Model,
    needs: &[Need],
) -> Result<Option<Arc<release::PlatformRelease>>, DbErr> {
    if !on_platform(needs) {
        return Ok(None);
    }
    if let Some(held) = cache.platform_release(epoch.id) {
        return Ok(Some(held));
    }
    let read_at = std::time::Instant::now();
    let release = match release::load(db, epoch.id).await? {
        Some(stored) => Some(stored),
        // Built only for the epoch that is current now: a held epoch may
        // have been superseded since, and its cells deleted. The read
        // refreshes the cache's epoch too.
        None if cache
            .read_epoch(db)
            .await?
            .is_some_and(|current| current.id == epoch.id) =>
        {
            release::of_epoch(db, epoch, settings).await?
        }
        None => None,
    }
    .map(Arc::new);
    if let Some(release) = &release {
        cache.hold_platform_release(epoch.id, read_at, release.clone());
    }
    Ok(release)
}

/// The tables a question needs in epoch `epoch_id`: platform ones sliced
/// from that epoch's platform `release`, the rest from the brand's stored
/// releases: those held in `cache`, when given, and the others read (and
/// then held). Give a cache only when `db` is not a transaction.
async fn stored<'a>(
    db: &impl ConnectionTrait,
    cache: Option<&RepeatCache>,
    release: Option<&release::PlatformRelease>,
    epoch_id: i64,
    needs: &'a [Need],
    brand_id: i64,
) -> Result<Found<'a>, DbErr> {
    let mut found = Found {
        tables: HashMap::new(),
        missing: Vec::new(),
        release_epsilon_micros: None,
    };
    let mut own = Vec::new();
    for need in needs {
        match release.and_then(|r| r.slice(&need.cells, need.kind)) {
            Some(table) => {
                found.tables.insert(need.key(), table);
                found.release_epsilon_micros = release.map(|r| r.epsilon_micros);
            }
            None => own.push(need),
        }
    }
    let mut unread = Vec::new();
    for need in own {
        let key = (epoch_id, brand_id, answers::key(&need.question()));
        match cache.and_then(|cache| cache.table(&key)) {
            Some(table) => {
                found.tables.insert(need.key(), table);
            }
            None => unread.push((need, key)),
        }
    }
    let questions: Vec<String> = unread.iter().map(|(n, _)| n.question()).collect();
    let rows = answers::get_many(db, epoch_id, brand_id, &questions).await?;
    for (need, key) in unread {
        match rows.iter().find(|s| s.key == key.2) {
            Some(row) => {
                let released: Released =
                    serde_json::from_str(&row.answer).map_err(|e| DbErr::Custom(e.to_string()))?;
                if let Some(cache) = cache {
                    cache.hold(key, released.clone());
                }
                found.tables.insert(need.key(), released);
            }
            None => found.missing.push(need),
        }
    }
    Ok(found)
}

/// What the current epoch has released of `needs` for `brand_id`: the
/// epoch, its platform release and the tables found or missing. The epoch
/// `cache` holds serves a question found whole; one with tables missing
/// (which would be paid for) is looked up again in the epoch read afresh,
/// since only the current epoch may release, and a new epoch's platform
/// release may hold them for free. [`cost`] and the free path of [`ask`]
/// both read it here, so the preview charges what the question would.
async fn released_now<'a>(
    db: &DatabaseConnection,
    cache: &RepeatCache,
    settings: &PrivacySettings,
    needs: &'a [Need],
    brand_id: i64,
) -> Result<
    (
        data_epoch::Model,
        Option<Arc<release::PlatformRelease>>,
        Found<'a>,
    ),
    SegmentError,
> {
    let epoch = cache
        .current_epoch(db)
        .await?
        .ok_or(SegmentError::NoEpoch)?;
    let look = async |epoch: data_epoch::Model| {
        let release = current_release(db, cache, settings, &epoch, needs).await?;
        let found = stored(
            db,
            Some(cache),
            release.as_deref(),
            epoch.id,
            needs,
            brand_id,
        )
        .await?;
        Ok::<_, SegmentError>((epoch, release, found))
    };
    let (epoch, release, found) = look(epoch).await?;
    if found.missing.is_empty() {
        return Ok((epoch, release, found));
    }
    match cache.read_epoch(db).await? {
        Some(current) if current.id != epoch.id => look(current).await,
        _ => Ok((epoch, release, found)),
    }
}

/// Makes the current epoch's platform release if it has none yet, and
/// says what the platform ledger holds for it; `None` before any cube or
/// when the platform's yearly budget can't pay for it.
pub async fn prepare_platform_release(
    db: &DatabaseConnection,
    settings: &PrivacySettings,
) -> Result<Option<LedgerEntry>, DbErr> {
    let Some(epoch) = cube::current_epoch(db).await? else {
        return Ok(None);
    };
    // Its ledger entry, without reading the tables, when it exists (the
    // usual case for the server's periodic check).
    let current = |entries: Vec<LedgerEntry>| entries.into_iter().find(|e| e.epoch_id == epoch.id);
    if let Some(entry) = current(release::newest(db, 1).await?) {
        return Ok(Some(entry));
    }
    release::of_epoch(db, &epoch, settings).await?;
    Ok(current(release::newest(db, 1).await?))
}

/// What asking a question would cost a brand now; asking costs nothing
/// and changes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cost {
    /// Tables the brand would release for itself (those the platform
    /// release does not hold and it has not released in this epoch).
    pub tables: u64,
    /// ε that would be debited, in millionths.
    pub epsilon_micros: u64,
    /// The brand's budget now.
    pub budget: ledger::BudgetStatus,
}

impl Cost {
    /// The budget can pay for it now.
    pub fn affordable(&self) -> bool {
        self.epsilon_micros <= self.budget.left()
    }
}

/// The cost of `input` for `brand_id`, by the same rule [`ask`] charges.
pub async fn cost(
    db: &DatabaseConnection,
    cache: &RepeatCache,
    settings: &PrivacySettings,
    brand_id: i64,
    input: &QuestionInput,
) -> Result<Cost, SegmentError> {
    let question = Question::parse(input)?;
    let needs = needs(&question);
    let (_, _, found) = released_now(db, cache, settings, &needs, brand_id).await?;
    let tables = found.missing.len() as u64;
    Ok(Cost {
        tables,
        epsilon_micros: settings.epsilon_per_table_micros * tables,
        budget: ledger::status(
            db,
            brand_id,
            ledger::pool_of(Conduct::Audience),
            settings,
            Utc::now(),
        )
        .await?,
    })
}

/// Answers `input` for `brand_id`, asked as `conduct` (an analyst's
/// question, an operator's reach preview): the brand's standing must allow
/// it. A repeat question is served from `cache` where it can be.
#[tracing::instrument(skip_all, fields(brand = brand_id))]
pub async fn ask(
    db: &DatabaseConnection,
    cache: &RepeatCache,
    settings: &PrivacySettings,
    brand_id: i64,
    conduct: Conduct,
    input: &QuestionInput,
) -> Result<Answer, SegmentError> {
    let question = Question::parse(input)?;
    // Two requests building the epoch's platform release at once: the
    // loser's insert fails, and the second attempt reads the winner's.
    match ask_once(db, cache, settings, (brand_id, conduct), &question).await {
        Err(SegmentError::Db(error))
            if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) =>
        {
            ask_once(db, cache, settings, (brand_id, conduct), &question).await
        }
        other => other,
    }
}

async fn ask_once(
    db: &DatabaseConnection,
    cache: &RepeatCache,
    settings: &PrivacySettings,
    (brand_id, conduct): (i64, Conduct),
    question: &Question,
) -> Result<Answer, SegmentError> {
    let pool = ledger::pool_of(conduct);
    // Fast path: every table in the platform release or already released
    // by the brand in the current epoch. Serving it costs nothing and
    // writes nothing, so it takes no lock, and the standing it needs may
    // be the one held.
    cache.permits(db, brand_id, conduct).await?;
    let needs = needs(question);
    let (epoch, release, found) = released_now(db, cache, settings, &needs, brand_id).await?;
    if found.missing.is_empty() {
        return Ok(assemble(
            question,
            &found.tables,
            settings,
            AnswerPrivacyParts {
                epsilon_spent_micros: 0,
                budget: None,
                payer: (brand_id, pool),
                epoch_id: epoch.id,
                release_epsilon_micros: found.release_epsilon_micros,
            },
        ));
    }
    // Slow path: take the brand's lock, then look again (a concurrent
    // request of the brand may have released the tables meanwhile), pay,
    // release.
    let fast_epoch = epoch.id;
    let txn = db.begin().await?;
    ledger::lock(&txn, brand_id).await?;
    standing::require::<SegmentError>(&txn, brand_id, conduct).await?;
    let epoch = cube::current_epoch(&txn)
        .await?
        .ok_or(SegmentError::NoEpoch)?;
    // The release read above, unless a refresh made a new epoch meanwhile:
    // then only a stored one (building it here, under the brand's lock,
    // could lose a race that aborts this transaction on PostgreSQL).
    let release = if epoch.id == fast_epoch || !on_platform(&needs) {
        release
    } else {
        release::load(&txn, epoch.id).await?.map(Arc::new)
    };
    let Found {
        mut tables,
        missing,
        release_epsilon_micros,
    } = stored(&txn, None, release.as_deref(), epoch.id, &needs, brand_id).await?;
    let cost = settings.epsilon_per_table_micros * missing.len() as u64;
    let now = Utc::now();
    let budget = if cost > 0 {
        ledger::debit(
            &txn,
            (brand_id, pool),
            cost,
            epoch.id,
            &question.describe(),
            settings,
            now,
        )
        .await?
    } else {
        ledger::status(&txn, brand_id, pool, settings, now).await?
    };
    // Noise is drawn only now, after the debit.
    let cap = u64::try_from(epoch.multi_value_cap).unwrap_or(1).max(1);
    for need in missing {
        // Needs are platform or store tables, never prospects (derived).
        let population = match need.cells.population {
            Population::Platform => 0,
            Population::Store | Population::Prospects => brand_id,
        };
        let truth = aggregate(&txn, &epoch, population, &need.cells).await?;
        let values: Vec<i64> = need
            .cells
            .keys()
            .iter()
            .map(|key| {
                let cell = truth.get(key).copied().unwrap_or_default();
                match need.kind {
                    TableKind::Members | TableKind::PopulationMembers => cell.members,
                    TableKind::PaidMembers => cell.paid,
                    TableKind::BlackCardMembers => cell.black,
                    TableKind::SpendSum => cell.spend,
                }
            })
            .collect();
        let per_member = need.cells.copies_per_member(cap);
        let sensitivity = match need.kind {
            TableKind::SpendSum => per_member * cube::SPEND_CLAMP_YUAN as u64,
            _ => per_member,
        };
        let (noisy, noise) = privacy::release(
            &privacy::Table {
                values: &values,
                sensitivity,
            },
            settings.epsilon_per_table_micros,
        );
        let released = Released {
            values: noisy,
            noise,
        };
        let stored = serde_json::to_string(&released).map_err(|e| DbErr::Custom(e.to_string()))?;
        answers::put(&txn, epoch.id, brand_id, &need.question(), &stored).await?;
        tables.insert(need.key(), released);
    }
    txn.commit().await?;
    Ok(assemble(
        question,
        &tables,
        settings,
        AnswerPrivacyParts {
            epsilon_spent_micros: cost,
            budget: Some(budget),
            payer: (brand_id, pool),
            epoch_id: epoch.id,
            release_epsilon_micros,
        },
    ))
}

/// One data epoch of a trend.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendPoint {
    /// The epoch.
    pub epoch_id: i64,
    /// The day its data is as of.
    pub as_of: chrono::NaiveDate,
    /// The answer as released in that epoch; `None` when the question was
    /// not released to the brand then (a trend never releases anything).
    pub answer: Option<Answer>,
}

/// Most data epochs one trend reads.
pub const MAX_TREND_EPOCHS: u64 = 24;

/// `input` over the last `epochs` data epochs, newest first, from what was
/// released in each (the platform release, the brand's stored answers):
/// free, and never a new release, so a trend can't average fresh noise.
pub async fn trend(
    db: &DatabaseConnection,
    settings: &PrivacySettings,
    brand_id: i64,
    conduct: Conduct,
    input: &QuestionInput,
    epochs: u64,
) -> Result<Vec<TrendPoint>, SegmentError> {
    let question = Question::parse(input)?;
    if !(1..=MAX_TREND_EPOCHS).contains(&epochs) {
        return Err(QuestionError::TrendEpochs(MAX_TREND_EPOCHS).into());
    }
    standing::require::<SegmentError>(db, brand_id, conduct).await?;
    let needs = needs(&question);
    let pool = ledger::pool_of(conduct);
    let mut points = Vec::new();
    for epoch in cube::recent_epochs(db, epochs).await? {
        let release = if on_platform(&needs) {
            release::load(db, epoch.id).await?
        } else {
            None
        };
        let found = stored(db, None, release.as_ref(), epoch.id, &needs, brand_id).await?;
        let answer = found.missing.is_empty().then(|| {
            assemble(
                &question,
                &found.tables,
                settings,
                AnswerPrivacyParts {
                    epsilon_spent_micros: 0,
                    budget: None,
                    payer: (brand_id, pool),
                    epoch_id: epoch.id,
                    release_epsilon_micros: found.release_epsilon_micros,
                },
            )
        });
        points.push(TrendPoint {
            epoch_id: epoch.id,
            as_of: epoch.as_of,
            answer,
        });
    }
    Ok(points)
}

struct AnswerPrivacyParts {
    epsilon_spent_micros: u64,
    budget: Option<ledger::BudgetStatus>,
    payer: (i64, ledger::Pool),
    epoch_id: i64,
    release_epsilon_micros: Option<u64>,
}

/// Builds the answer from released tables only: post-processing, no truth.
fn assemble(
    question: &Question,
    tables: &HashMap<TableKey, Released>,
    settings: &PrivacySettings,
    parts: AnswerPrivacyParts,
) -> Answer {
    let asked = question.cells.population;
    let derived = if asked == Population::Prospects {
        prospects(tables)
    } else {
        HashMap::new()
    };
    let table = |population: Population, kind| {
        derived
            .get(&(population, kind))
            .or_else(|| tables.get(&(population, kind)))
    };
    let members = table(asked, TableKind::Members).expect("the members table is always released");
    let platform = question
        .metrics
        .contains(&Metric::Tgi)
        .then(|| table(Population::Platform, TableKind::Members))
        .flatten();
    let shown: Vec<bool> = members
        .values
        .iter()
        .map(|m| privacy::shown(*m, settings))
        .collect();
    let shown_members: i64 = members
        .values
        .iter()
        .zip(&shown)
        .filter(|(_, s)| **s)
        .map(|(m, _)| *m)
        .sum();
    let platform_shown: i64 = platform
        .map(|p| {
            p.values
                .iter()
                .filter(|m| privacy::shown(**m, settings))
                .sum()
        })
        .unwrap_or(0);
    let ratio = |num: i64, den: i64| (den > 0).then(|| (num as f64 / den as f64).clamp(0.0, 1.0));
    // Paid and black-card shares are not clamped: clamping a share near 0
    // or 1 biases it (averaged over epochs, a 0.1% population would read
    // as several percent); an estimate just outside [0, 1] and its
    // interval say the truth is near the edge.
    let unclamped = |num: i64, den: i64| (den > 0).then(|| num as f64 / den as f64);
    // A multi-valued breakdown's population, when shown.
    let population = table(asked, TableKind::PopulationMembers).map(|t| {
        t.values
            .first()
            .copied()
            .filter(|total| privacy::shown(*total, settings))
    });
    let keys = question.cells.keys();
    let cells = keys
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let labels = question
                .cells
                .breakdown
                .iter()
                .zip(key)
                .map(|(d, v)| (*d, d.code(*v)))
                .collect();
            if !shown[i] {
                return AnswerCell {
                    key: labels,
                    suppressed: true,
                    members: None,
                    share: None,
                    paid_member_share: None,
                    black_card_share: None,
                    mean_annual_spend_cents: None,
                    tgi: None,
                    members_interval95: None,
                    paid_member_share_interval95: None,
                    black_card_share_interval95: None,
                    noise_dominates: false,
                };
            }
            let m = members.values[i];
            let count_i95 = members.noise.interval95;
            // A share of the cell's members from another noisy table, with
            // its interval; known exactly when the cell is split by it.
            let share_of = |kind, dimension| {
                let t = table(asked, kind)?;
                Some(match question.cells.known_share(key, dimension) {
                    Some(known) => (known, 0.0),
                    None => {
                        let r = unclamped(t.values[i], m)?;
                        (r, ratio_interval95(r, t.noise.interval95, count_i95, m))
                    }
                })
            };
            let paid = share_of(TableKind::PaidMembers, Dimension::PaidMember);
            let black = share_of(TableKind::BlackCardMembers, Dimension::BlackCard);
            // TGI compares like with like: both sides' shares of their
            // shown cells.
            let cell_share = ratio(m, shown_members);
            let tgi = platform.and_then(|p| {
                let platform_m = p.values[i];
                let platform_share = ratio(platform_m, platform_shown)
                    .filter(|_| privacy::shown(platform_m, settings))?;
                (platform_share > 0.0).then(|| cell_share.unwrap_or(0.0) / platform_share * 100.0)
            });
            // Cells that overlap are shares of the population's members
            // (they may sum past 1); others of the shown cells.
            let share = match population {
                Some(total) => total.and_then(|t| ratio(m, t)),
                None => cell_share,
            };
            AnswerCell {
                key: labels,
                suppressed: false,
                members: Some(m),
                share,
                paid_member_share: paid.map(|(share, _)| share),
                black_card_share: black.map(|(share, _)| share),
                mean_annual_spend_cents: table(asked, TableKind::SpendSum).map(|t| {
                    (t.values[i].max(0) * 100 / m.max(1)).min(cube::SPEND_CLAMP_YUAN * 100)
                }),
                tgi,
                members_interval95: Some(count_i95),
                paid_member_share_interval95: paid.map(|(_, interval)| interval),
                black_card_share_interval95: black.map(|(_, interval)| interval),
                noise_dominates: count_i95.saturating_mul(2) >= m,
            }
        })
        .collect::<Vec<_>>();
    Answer {
        shown_members,
        overlapping: question.cells.overlapping(),
        population_members: population.flatten(),
        privacy: AnswerPrivacy {
            epsilon_spent_micros: parts.epsilon_spent_micros,
            count_noise: members.noise,
            spend_noise: table(asked, TableKind::SpendSum).map(|t| t.noise),
            suppressed_cells: shown.iter().filter(|s| !**s).count(),
            min_cell: settings.min_cell,
            budget: parts.budget,
            payer: parts.payer,
            epoch_id: parts.epoch_id,
            platform_release_epsilon_micros: parts.release_epsilon_micros,
        },
        cells,
    }
}

#[cfg(test)]
mod tests {
    use super::ratio_interval95;

    /// Both counts' noise adds in quadrature, over the count; capped at 1.
    #[test]
    fn a_ratio_interval_adds_both_noises() {
        // r = 0.5 of 1,000 members, each count ±30: √(30² + 15²) ÷ 1,000.
        let half = ratio_interval95(0.5, 30, 30, 1_000);
        assert!((half - (900.0_f64 + 225.0).sqrt() / 1_000.0).abs() < 1e-12);
        assert_eq!(ratio_interval95(0.5, 30, 30, 10), 1.0);
        assert_eq!(ratio_interval95(0.5, 30, 30, 0), 1.0);
    }
}
