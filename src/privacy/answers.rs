//! Stored answers: a normalised question is answered once per data epoch
//! and served again from here at no privacy cost, so asking a thousand
//! times learns nothing more than asking once.

use chrono::Utc;
use entity::segment_answer;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait as _, Statement};
use sha2::{Digest as _, Sha256};

/// The scope of answers shared by every brand (platform-wide questions).
pub(crate) const PLATFORM_SCOPE: i64 = 0;

/// The storage key of a normalised question.
pub(crate) fn key(question: &str) -> String {
    hex::encode(Sha256::digest(question.as_bytes()))
}

/// Stores an answer. A concurrent release of the same question fails
/// here with a unique violation; the caller then serves the stored one.
pub(crate) async fn put(
    db: &impl ConnectionTrait,
    epoch_id: i64,
    scope: i64,
    question: &str,
    answer: &str,
) -> Result<(), DbErr> {
    segment_answer::Entity::insert(segment_answer::ActiveModel {
        epoch_id: Set(epoch_id),
        scope: Set(scope),
        question_key: Set(key(question)),
        question: Set(question.to_owned()),
        answer: Set(answer.to_owned()),
        created_at: Set(Utc::now()),
    })
    .exec_without_returning(db)
    .await
    .map(drop)
}

/// A stored answer.
pub(crate) struct Stored {
    /// The epoch it belongs to.
    pub epoch_id: i64,
    /// Its scope.
    pub scope: i64,
    /// Its question key.
    pub key: String,
    /// The answer.
    pub answer: String,
}

/// The stored answers to `questions` in one query: in epoch `epoch_id`, or
/// in the current data epoch when `None` (the hot path of repeated questions).
pub(crate) async fn get_many(
    db: &impl ConnectionTrait,
    epoch_id: Option<i64>,
    questions: &[String],
) -> Result<Vec<Stored>, DbErr> {
    // Keys are hex digests made here, so they are safe to inline.
    let keys = questions
        .iter()
        .map(|q| format!("'{}'", key(q)))
        .collect::<Vec<_>>()
        .join(", ");
    let epoch = epoch_id.map_or_else(
        || "(SELECT MAX(id) FROM data_epoch WHERE ready)".to_owned(),
        |id| id.to_string(),
    );
    let sql = format!(
        "SELECT epoch_id, scope, question_key, answer FROM segment_answer \
         WHERE epoch_id = {epoch} AND question_key IN ({keys})"
    );
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .iter()
        .map(|row| {
            Ok(Stored {
                epoch_id: row.try_get_by_index(0)?,
                scope: row.try_get_by_index(1)?,
                key: row.try_get_by_index(2)?,
                answer: row.try_get_by_index(3)?,
            })
        })
        .collect()
}
