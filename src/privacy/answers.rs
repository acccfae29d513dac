//! Stored answers: a normalised question is answered once per data epoch
//! and served again from here at no privacy cost, so asking a thousand
//! times learns nothing more than asking once.

use chrono::Utc;
use entity::segment_answer;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait as _, Statement};
use sha2::{Digest as _, Sha256};

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
    /// Its question key.
    pub key: String,
    /// The answer.
    pub answer: String,
}

/// The stored answers to `questions` of `scope` (a brand) in epoch
/// `epoch_id`, in one query by their full key.
pub(crate) async fn get_many(
    db: &impl ConnectionTrait,
    epoch_id: i64,
    scope: i64,
    questions: &[String],
) -> Result<Vec<Stored>, DbErr> {
    if questions.is_empty() {
        return Ok(Vec::new());
    }
    // Keys are hex digests made here, so they are safe to inline.
    let keys = questions
        .iter()
        .map(|q| format!("'{}'", key(q)))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT question_key, answer FROM segment_answer \
         WHERE epoch_id = {epoch_id} AND scope = {scope} AND question_key IN ({keys})"
    );
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .iter()
        .map(|row| {
            Ok(Stored {
                key: row.try_get_by_index(0)?,
                answer: row.try_get_by_index(1)?,
            })
        })
        .collect()
}
