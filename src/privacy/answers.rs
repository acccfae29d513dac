//! Stored answers: a normalised question is answered once per data epoch
//! and served again from here at no privacy cost, so asking a thousand
//! times learns nothing more than asking once.

use chrono::Utc;
use entity::segment_answer;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait as _};
use sha2::{Digest as _, Sha256};

/// The scope of answers shared by every brand (platform-wide questions).
pub const PLATFORM_SCOPE: i64 = 0;

/// The storage key of a normalised question.
pub fn key(question: &str) -> String {
    hex::encode(Sha256::digest(question.as_bytes()))
}

/// The stored answer, if this question was answered in this epoch.
pub async fn get(
    db: &impl ConnectionTrait,
    epoch_id: i64,
    scope: i64,
    question: &str,
) -> Result<Option<String>, DbErr> {
    Ok(
        segment_answer::Entity::find_by_id((epoch_id, scope, key(question)))
            .one(db)
            .await?
            .map(|row| row.answer),
    )
}

/// Stores an answer. A concurrent release of the same question fails
/// here with a unique violation; the caller then serves the stored one.
pub async fn put(
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
