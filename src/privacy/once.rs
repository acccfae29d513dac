//! A small table of counts released once per brand, question and data
//! epoch: the first ask debits the brand's budget (under its ledger lock),
//! computes the true counts in the same transaction, adds the noise and
//! stores the noisy table; every later ask of the same question is served
//! the stored table for free and learns nothing new. The benefit insights
//! that are not audience questions (renewal comparison, usage among the
//! store's buyers) release their numbers here.

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait as _};
use serde::{Deserialize, Serialize};

use super::{
    NoiseInfo, PrivacySettings, Table, answers,
    ledger::{self, BudgetStatus, LedgerError},
    release,
};
use crate::{
    error::{CodedError, ErrorCode},
    segments::cube,
};

/// What to release.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Counts<'a> {
    /// The brand asking (and paying).
    pub brand_id: i64,
    /// Whose share of its budget pays.
    pub pool: ledger::Pool,
    /// The question's stable key: the same key is the same answer.
    pub question: &'a str,
    /// What the ledger records the debit for.
    pub described: &'a str,
    /// How much one member can move the table (L1).
    pub sensitivity: u64,
    /// When.
    pub now: DateTime<Utc>,
}

/// The stored part of an answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Stored {
    noisy: Vec<i64>,
    noise: NoiseInfo,
}

/// A released table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Released {
    /// The noisy counts, in the order they were computed.
    pub noisy: Vec<i64>,
    /// The noise.
    pub noise: NoiseInfo,
    /// ε this ask spent (0 when served from the stored answer).
    pub epsilon_spent_micros: u64,
    /// The brand's budget after the ask.
    pub budget: BudgetStatus,
}

/// Why no table.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReleaseError {
    /// The budget can't pay.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// No data epoch exists yet (nothing was seeded or imported).
    #[error("no platform data has been loaded yet")]
    NoData,
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl CodedError for ReleaseError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Ledger(error) => error.code(),
            Self::NoData => ErrorCode::NotFound,
            Self::Db(_) => ErrorCode::Internal,
        }
    }

    fn details(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::Ledger(error) => error.details(),
            _ => Vec::new(),
        }
    }
}

/// The stored table for `question`, if it was released in `epoch`.
async fn stored(
    db: &impl sea_orm::ConnectionTrait,
    epoch: i64,
    counts: &Counts<'_>,
) -> Result<Option<Stored>, DbErr> {
    let question = counts.question.to_owned();
    Ok(
        answers::get_many(db, epoch, counts.brand_id, std::slice::from_ref(&question))
            .await?
            .into_iter()
            .next()
            .and_then(|r| serde_json::from_str(&r.answer).ok()),
    )
}

/// Releases the counts `truth` computes, once per question and epoch.
pub(crate) async fn release_once(
    db: &DatabaseConnection,
    settings: &PrivacySettings,
    counts: &Counts<'_>,
    truth: impl AsyncFnOnce(&DatabaseTransaction) -> Result<Vec<i64>, DbErr>,
) -> Result<Released, ReleaseError> {
    let epoch = cube::current_epoch(db)
        .await?
        .ok_or(ReleaseError::NoData)?
        .id;
    let again = async |table: Stored| -> Result<Released, ReleaseError> {
        Ok(Released {
            noisy: table.noisy,
            noise: table.noise,
            epsilon_spent_micros: 0,
            budget: ledger::status(db, counts.brand_id, counts.pool, settings, counts.now).await?,
        })
    };
    if let Some(table) = stored(db, epoch, counts).await? {
        return again(table).await;
    }
    let txn = db.begin().await?;
    ledger::lock(&txn, counts.brand_id).await?;
    if let Some(table) = stored(&txn, epoch, counts).await? {
        txn.commit().await?;
        return again(table).await;
    }
    let epsilon = settings.epsilon_per_table_micros;
    let budget = ledger::debit(
        &txn,
        (counts.brand_id, counts.pool),
        epsilon,
        epoch,
        counts.described,
        settings,
        counts.now,
    )
    .await?;
    let values = truth(&txn).await?;
    let (noisy, noise) = release(
        &Table {
            values: &values,
            sensitivity: counts.sensitivity,
        },
        epsilon,
    );
    let table = Stored { noisy, noise };
    let text = serde_json::to_string(&table).map_err(|e| DbErr::Custom(e.to_string()))?;
    answers::put(&txn, epoch, counts.brand_id, counts.question, &text).await?;
    txn.commit().await?;
    Ok(Released {
        noisy: table.noisy,
        noise: table.noise,
        epsilon_spent_micros: epsilon,
        budget,
    })
}
