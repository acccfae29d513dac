//! The usage policy's thresholds, versioned like the entry criteria: a
//! change appends a version and never alters what an earlier version
//! judged; the policy's flags name the version. Version 0 is the built-in
//! default, used until an admin sets one.

use chrono::{DateTime, Utc};
use entity::usage_policy;
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait as _, QueryOrder as _, SqlErr,
};

use crate::error::{CodedError, ErrorCode};

/// The thresholds and periods.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UsageThresholds {
    /// Least share of its places a capacity-bound event must fill.
    pub min_fill_rate: f64,
    /// Least share of the eligible members who bought from the store in
    /// the period who must have used a benefit.
    pub min_buyer_use: f64,
    /// The period use is measured over, in days (7–366).
    pub period_days: i64,
    /// Days a benefit is live (or resumed) before it is judged (1–366).
    pub grace_days: i64,
    /// Days from a flag to the pause, and from the pause to retirement
    /// (1–90).
    pub notice_days: i64,
}

impl Default for UsageThresholds {
    /// Version 0: an event fills 20% of its places; 2% of the eligible
    /// members who bought from the store in the last 30 days used the
    /// benefit; judged after 30 days live; 7 days' notice.
    fn default() -> Self {
        Self {
            min_fill_rate: 0.2,
            min_buyer_use: 0.02,
            period_days: 30,
            grace_days: 30,
            notice_days: 7,
        }
    }
}

/// The policy in force.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct UsagePolicy {
    /// The version (0 = built-in default).
    pub version: i32,
    /// Its thresholds.
    pub thresholds: UsageThresholds,
    /// Who set it (`default` for version 0).
    pub created_by: String,
    /// When it was set; `None` for the default.
    pub created_at: Option<DateTime<Utc>>,
}

/// Why the policy could not be set.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UsagePolicyError {
    /// A value out of range, naming the field.
    #[error("`{field}` must be {range}")]
    OutOfRange {
        /// The input field.
        field: &'static str,
        /// The allowed range.
        range: &'static str,
    },
    /// The policy changed since the caller read it.
    #[error("the usage policy is at version {current}, not {expected}: read it again and retry")]
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

impl CodedError for UsagePolicyError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::OutOfRange { .. } => ErrorCode::BadUserInput,
            Self::Conflict { .. } => ErrorCode::Conflict,
            Self::Db(_) => ErrorCode::Internal,
        }
    }
}

/// The policy in force.
pub(crate) async fn current(db: &impl ConnectionTrait) -> Result<UsagePolicy, DbErr> {
    let row = usage_policy::Entity::find()
        .order_by_desc(usage_policy::Column::Version)
        .one(db)
        .await?;
    Ok(match row {
        Some(row) => UsagePolicy {
            version: row.version,
            thresholds: UsageThresholds {
                min_fill_rate: row.min_fill_rate,
                min_buyer_use: row.min_buyer_use,
                period_days: row.period_days.into(),
                grace_days: row.grace_days.into(),
                notice_days: row.notice_days.into(),
            },
            created_by: row.created_by,
            created_at: Some(row.created_at),
        },
        None => UsagePolicy {
            version: 0,
            thresholds: UsageThresholds::default(),
            created_by: "default".to_owned(),
            created_at: None,
        },
    })
}

fn check(t: &UsageThresholds) -> Result<(), UsagePolicyError> {
    for (field, value) in [
        ("minFillRate", t.min_fill_rate),
        ("minBuyerUse", t.min_buyer_use),
    ] {
        if !(0.0..=1.0).contains(&value) {
            return Err(UsagePolicyError::OutOfRange {
                field,
                range: "between 0 and 1",
            });
        }
    }
    for (field, value, range, text) in [
        ("periodDays", t.period_days, 7..=366, "7 to 366"),
        ("graceDays", t.grace_days, 1..=366, "1 to 366"),
        ("noticeDays", t.notice_days, 1..=90, "1 to 90"),
    ] {
        if !range.contains(&value) {
            return Err(UsagePolicyError::OutOfRange { field, range: text });
        }
    }
    Ok(())
}

/// Appends a version based on `expected_version` (a concurrent change
/// makes this a conflict rather than silently winning).
pub(crate) async fn set(
    db: &impl ConnectionTrait,
    thresholds: UsageThresholds,
    expected_version: i32,
    actor: &str,
) -> Result<UsagePolicy, UsagePolicyError> {
    check(&thresholds)?;
    let now = current(db).await?;
    if now.version != expected_version {
        return Err(UsagePolicyError::Conflict {
            expected: expected_version,
            current: now.version,
        });
    }
    let version = expected_version + 1;
    let created_at = Utc::now();
    // Each bounded by `check` to at most 366.
    let days = |d: i64| i32::try_from(d).unwrap_or(i32::MAX);
    let inserted = usage_policy::Entity::insert(usage_policy::ActiveModel {
        version: Set(version),
        min_fill_rate: Set(thresholds.min_fill_rate),
        min_buyer_use: Set(thresholds.min_buyer_use),
        period_days: Set(days(thresholds.period_days)),
        grace_days: Set(days(thresholds.grace_days)),
        notice_days: Set(days(thresholds.notice_days)),
        created_at: Set(created_at),
        created_by: Set(actor.to_owned()),
        ..Default::default()
    })
    .exec(db)
    .await;
    match inserted {
        Ok(_) => {}
        Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Err(UsagePolicyError::Conflict {
                expected: expected_version,
                current: version,
            });
        }
        Err(error) => return Err(error.into()),
    }
    crate::audit::record(
        db,
        actor,
        "usage_policy.set",
        "usage_policy",
        serde_json::json!({ "version": version, "thresholds": thresholds }),
    )
    .await?;
    Ok(UsagePolicy {
        version,
        thresholds,
        created_by: actor.to_owned(),
        created_at: Some(created_at),
    })
}
