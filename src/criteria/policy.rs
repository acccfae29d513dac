//! Per-category threshold policies, versioned: a change appends a version
//! and never alters a past evaluation, which names the version it used.

use chrono::Utc;
use entity::{category, criteria_policy, enums::DocumentKind};
use sea_orm::{
    ActiveEnum as _, ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DbErr, EntityTrait as _,
    QueryFilter as _, QueryOrder as _, SqlErr,
};

use crate::error::{CodedError, ErrorCode};

/// A category's thresholds.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Thresholds {
    /// Least market share.
    pub min_market_share: f64,
    /// Least voluntary mention share.
    pub min_voluntary_mention_share: f64,
    /// Most price volatility.
    pub max_price_volatility: f64,
    /// Least super-member ratio, judged on its 95% Wilson lower bound.
    pub min_super_member_ratio: f64,
    /// Most share of deep-discount days.
    pub max_deep_discount_days: f64,
}

impl Default for Thresholds {
    /// Version 0, used until an admin sets one: 1% market share, 1% of the
    /// category's voluntary mentions, price CV at most 0.08, 5% paid
    /// members in the store, at most 10% deep-discount days.
    fn default() -> Self {
        Self {
            min_market_share: 0.01,
            min_voluntary_mention_share: 0.01,
            max_price_volatility: 0.08,
            min_super_member_ratio: 0.05,
            max_deep_discount_days: 0.10,
        }
    }
}

/// A category's policy in force.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Policy {
    /// The category's id.
    pub category_id: i64,
    /// The version (0 = built-in default).
    pub version: i32,
    /// Its thresholds.
    pub thresholds: Thresholds,
    /// Days a brand waits after a final refusal (REJECTED, UPHELD) before
    /// it may apply again.
    pub reapply_cooldown_days: u32,
    /// Documents an application must have verified before approval (and
    /// an admitted brand keep valid).
    pub required_documents: Vec<DocumentKind>,
    /// Who set it (`default` for version 0).
    pub created_by: String,
    /// When it was set; `None` for the default.
    pub created_at: Option<chrono::DateTime<Utc>>,
}

impl PolicyError {
    /// The input field a refusal is about.
    pub(crate) fn field(&self) -> &'static str {
        match self {
            Self::OutOfRange { field, .. } => field,
            Self::Conflict { .. } => "expectedVersion",
            Self::UnknownCategory(_) | Self::Db(_) => "category",
        }
    }
}

/// The cool-down of the built-in default policy (and of versions set
/// before cool-downs were policy data).
const DEFAULT_REAPPLY_COOLDOWN_DAYS: u32 = 90;

/// Longest cool-down a policy may set.
const MAX_REAPPLY_COOLDOWN_DAYS: u32 = 365;

/// A stored version as the policy it is.
impl From<criteria_policy::Model> for Policy {
    fn from(row: criteria_policy::Model) -> Self {
        Self {
            category_id: row.category_id,
            version: row.version,
            thresholds: Thresholds {
                min_market_share: row.min_market_share,
                min_voluntary_mention_share: row.min_voluntary_mention_share,
                max_price_volatility: row.max_price_volatility,
                min_super_member_ratio: row.min_super_member_ratio,
                max_deep_discount_days: row.max_deep_discount_days,
            },
            reapply_cooldown_days: u32::try_from(row.reapply_cooldown_days).unwrap_or(0),
            required_documents: row
                .required_documents
                .split(',')
                .filter_map(|kind| DocumentKind::try_from_value(&kind.to_owned()).ok())
                .collect(),
            created_by: row.created_by,
            created_at: Some(row.created_at),
        }
    }
}

/// Why a policy could not be read or set.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// No such category.
    #[error("no category with code `{0}`")]
    UnknownCategory(String),
    /// A threshold out of range, naming the field.
    #[error("`{field}` must be {range}")]
    OutOfRange {
        /// The input field.
        field: &'static str,
        /// The allowed range.
        range: &'static str,
    },
    /// The policy changed since the caller read it.
    #[error("the policy is at version {current}, not {expected}: read it again and retry")]
    Conflict {
        /// The version the caller based the change on.
        expected: i32,
        /// The version now in force.
        current: i32,
    },
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl CodedError for PolicyError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::UnknownCategory(_) => ErrorCode::NotFound,
            Self::OutOfRange { .. } => ErrorCode::BadUserInput,
            Self::Conflict { .. } => ErrorCode::Conflict,
            Self::Db(_) => ErrorCode::Internal,
        }
    }
}

pub(crate) async fn category_id(db: &impl ConnectionTrait, code: &str) -> Result<i64, PolicyError> {
    category::Entity::find()
        .filter(category::Column::Code.eq(code))
        .one(db)
        .await?
        .map(|c| c.id)
        .ok_or_else(|| PolicyError::UnknownCategory(code.to_owned()))
}

/// The policy in force for a category id.
pub(crate) async fn current(db: &impl ConnectionTrait, category_id: i64) -> Result<Policy, DbErr> {
    let row = criteria_policy::Entity::find()
        .filter(criteria_policy::Column::CategoryId.eq(category_id))
        .order_by_desc(criteria_policy::Column::Version)
        .one(db)
        .await?;
    Ok(match row {
        Some(row) => Policy::from(row),
        None => Policy {
            category_id,
            version: 0,
            thresholds: Thresholds::default(),
            reapply_cooldown_days: DEFAULT_REAPPLY_COOLDOWN_DAYS,
            required_documents: Vec::new(),
            created_by: "default".to_owned(),
            created_at: None,
        },
    })
}

/// The policy in force for a category code.
pub(crate) async fn current_by_code(
    db: &impl ConnectionTrait,
    code: &str,
) -> Result<Policy, PolicyError> {
    Ok(current(db, category_id(db, code).await?).await?)
}

pub(crate) fn check(thresholds: &Thresholds) -> Result<(), PolicyError> {
    let shares = [
        ("minMarketShare", thresholds.min_market_share),
        (
            "minVoluntaryMentionShare",
            thresholds.min_voluntary_mention_share,
        ),
        ("minSuperMemberRatio", thresholds.min_super_member_ratio),
        ("maxDeepDiscountDays", thresholds.max_deep_discount_days),
    ];
    for (field, value) in shares {
        if !(0.0..=1.0).contains(&value) {
            return Err(PolicyError::OutOfRange {
                field,
                range: "between 0 and 1",
            });
        }
    }
    if !(0.0..=10.0).contains(&thresholds.max_price_volatility) {
        return Err(PolicyError::OutOfRange {
            field: "maxPriceVolatility",
            range: "between 0 and 10",
        });
    }
    Ok(())
}

/// What a new policy version sets; what is omitted carries over from the
/// version in force.
#[derive(Debug, Clone)]
pub(crate) struct PolicyChange {
    /// The thresholds (always given).
    pub thresholds: Thresholds,
    /// Days to wait after a final refusal.
    pub reapply_cooldown_days: Option<u32>,
    /// Documents required before approval.
    pub required_documents: Option<Vec<DocumentKind>>,
}

/// Appends a new version of a category's policy, based on version
/// `expected_version` (optimistic: a concurrent change makes this fail with
/// a conflict instead of silently winning).
pub(crate) async fn set(
    db: &impl ConnectionTrait,
    code: &str,
    change: PolicyChange,
    expected_version: i32,
    actor: &str,
) -> Result<Policy, PolicyError> {
    let PolicyChange {
        thresholds,
        reapply_cooldown_days,
        required_documents,
    } = change;
    check(&thresholds)?;
    if reapply_cooldown_days.is_some_and(|days| days > MAX_REAPPLY_COOLDOWN_DAYS) {
        return Err(PolicyError::OutOfRange {
            field: "reapplyCooldownDays",
            range: "between 0 and 365",
        });
    }
    let category_id = category_id(db, code).await?;
    let now = current(db, category_id).await?;
    if now.version != expected_version {
        return Err(PolicyError::Conflict {
            expected: expected_version,
            current: now.version,
        });
    }
    // Not given: the version in force's cool-down carries over.
    let reapply_cooldown_days = reapply_cooldown_days.unwrap_or(now.reapply_cooldown_days);
    let mut required_documents = required_documents.unwrap_or(now.required_documents);
    required_documents.sort_by_key(|kind| kind.to_value());
    required_documents.dedup();
    let stored_documents = required_documents
        .iter()
        .map(|kind| kind.to_value())
        .collect::<Vec<_>>()
        .join(",");
    let version = expected_version + 1;
    let created_at = Utc::now();
    let inserted = criteria_policy::Entity::insert(criteria_policy::ActiveModel {
        category_id: Set(category_id),
        version: Set(version),
        min_market_share: Set(thresholds.min_market_share),
        min_voluntary_mention_share: Set(thresholds.min_voluntary_mention_share),
        max_price_volatility: Set(thresholds.max_price_volatility),
        min_super_member_ratio: Set(thresholds.min_super_member_ratio),
        max_deep_discount_days: Set(thresholds.max_deep_discount_days),
        reapply_cooldown_days: Set(reapply_cooldown_days as i32),
        required_documents: Set(stored_documents.clone()),
        created_at: Set(created_at),
        created_by: Set(actor.to_owned()),
        ..Default::default()
    })
    .exec(db)
    .await;
    match inserted {
        Ok(_) => {}
        // Another admin appended the same version first.
        Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Err(PolicyError::Conflict {
                expected: expected_version,
                current: version,
            });
        }
        Err(error) => return Err(error.into()),
    }
    crate::audit::record(
        db,
        actor,
        "criteria_policy.set",
        &format!("category:{code}"),
        serde_json::json!({
            "version": version,
            "thresholds": thresholds,
            "reapply_cooldown_days": reapply_cooldown_days,
            "required_documents": stored_documents,
        }),
    )
    .await?;
    Ok(Policy {
        category_id,
        version,
        thresholds,
        reapply_cooldown_days,
        required_documents,
        created_by: actor.to_owned(),
        created_at: Some(created_at),
    })
}

/// Every version of a category's thresholds, newest first (the default
/// version 0 is not stored, so a category never set has none).
pub(crate) async fn history(
    db: &impl ConnectionTrait,
    code: &str,
) -> Result<Vec<Policy>, PolicyError> {
    let category_id = category_id(db, code).await?;
    Ok(criteria_policy::Entity::find()
        .filter(criteria_policy::Column::CategoryId.eq(category_id))
        .order_by_desc(criteria_policy::Column::Version)
        .all(db)
        .await?
        .into_iter()
        .map(Policy::from)
        .collect())
}
