//! A brand's standing in the programme decides what it may do. This is the
//! one table of brand status × conduct; every path that configures,
//! submits, launches or grants a brand's benefits, or answers a question for
//! it, applies it here and nowhere else: through [`require`], or, for a
//! free repeat answer alone, through [`check`] on a status held for a
//! stated bound (`segments::RepeatCache`).
//!
//! | status      | configure | submit | go live | grant | audience | reach |
//! |-------------|-----------|--------|---------|-------|----------|-------|
//! | `PROSPECT`  | yes       | no     | no      | no    | no       | no    |
//! | `ACTIVE`    | yes       | yes    | yes     | yes   | yes      | yes   |
//! | `WATCHLIST` | yes       | yes    | yes     | yes   | yes      | yes   |
//! | `SUSPENDED` | no        | no     | no      | no    | no       | no    |
//!
//! A prospect prepares drafts while it applies; the watchlist is a warning
//! with a deadline, and a brand keeps trading so it can recover; a
//! suspended brand is out of the programme until re-admitted. Stopping
//! things (pause, end, retire) is never refused. Suspension pauses the
//! brand's live benefits ([`crate::benefits::pause_for_suspension`]);
//! re-admission leaves them paused until an operator resumes each one.

use std::collections::HashMap;

use entity::{brand, enums::BrandStatus};
use sea_orm::{ColumnTrait as _, ConnectionTrait, DbErr, EntityTrait as _, QueryFilter as _};

use crate::error::{CodedError, ErrorCode};

/// What a brand (or the platform on its behalf) is about to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::EnumIter)]
pub enum Conduct {
    /// Create or edit benefits, set the member centre.
    Configure,
    /// Send a benefit (or a change to one) for review.
    Submit,
    /// Put a benefit live: a reviewer's approval, its scheduled start, a
    /// resume.
    GoLive,
    /// Grant a benefit to a member at checkout.
    Grant,
    /// Ask an audience question (analysts).
    Audience,
    /// Preview a benefit's reach or read its usage (operators).
    Reach,
}

impl Conduct {
    /// In words, for refusals.
    fn describe(self) -> &'static str {
        match self {
            Self::Configure => "configure benefits",
            Self::Submit => "submit benefits for review",
            Self::GoLive => "put benefits live",
            Self::Grant => "grant benefits to members",
            Self::Audience => "ask audience questions",
            Self::Reach => "preview reach or usage",
        }
    }
}

/// Whether a brand of `status` may do `conduct`: the table above.
pub fn permits(status: BrandStatus, conduct: Conduct) -> bool {
    match status {
        BrandStatus::Active | BrandStatus::Watchlist => true,
        BrandStatus::Prospect => conduct == Conduct::Configure,
        BrandStatus::Suspended => false,
    }
}

/// A refusal by standing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the brand is {} and may not {}{}", status_name(*.status), .conduct.describe(), remedy(*.status))]
pub struct NotInStanding {
    /// Where the brand stands.
    pub status: BrandStatus,
    /// What it tried.
    pub conduct: Conduct,
}

fn status_name(status: BrandStatus) -> String {
    sea_orm::ActiveEnum::to_value(&status)
}

fn remedy(status: BrandStatus) -> &'static str {
    match status {
        BrandStatus::Prospect => " until its application is approved",
        BrandStatus::Suspended => " until it is re-admitted to the programme",
        BrandStatus::Active | BrandStatus::Watchlist => "",
    }
}

impl CodedError for NotInStanding {
    fn code(&self) -> ErrorCode {
        ErrorCode::BrandNotInStanding
    }
}

/// The table applied to a known status.
pub fn check(status: BrandStatus, conduct: Conduct) -> Result<(), NotInStanding> {
    if permits(status, conduct) {
        Ok(())
    } else {
        Err(NotInStanding { status, conduct })
    }
}

/// The brand's status now.
pub async fn status(db: &impl ConnectionTrait, brand_id: i64) -> Result<BrandStatus, DbErr> {
    brand::Entity::find_by_id(brand_id)
        .one(db)
        .await?
        .map(|b| b.status)
        .ok_or_else(|| DbErr::RecordNotFound(format!("brand {brand_id}")))
}

/// The statuses of several brands, for a run over many benefits.
pub async fn statuses(
    db: &impl ConnectionTrait,
    brand_ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, BrandStatus>, DbErr> {
    Ok(brand::Entity::find()
        .filter(brand::Column::Id.is_in(brand_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|b| (b.id, b.status))
        .collect())
}

/// Reads the brand's status and applies the table.
pub async fn require<E>(db: &impl ConnectionTrait, brand_id: i64, conduct: Conduct) -> Result<(), E>
where
    E: From<NotInStanding> + From<DbErr>,
{
    Ok(check(status(db, brand_id).await?, conduct)?)
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator as _;

    use super::*;

    /// The table in README and the module docs, cell by cell.
    #[test]
    fn the_standing_table() {
        use BrandStatus::*;
        let expected = [
            (Prospect, [true, false, false, false, false, false]),
            (Active, [true; 6]),
            (Watchlist, [true; 6]),
            (Suspended, [false; 6]),
        ];
        for (status, row) in expected {
            for (conduct, allowed) in Conduct::iter().zip(row) {
                assert_eq!(
                    permits(status, conduct),
                    allowed,
                    "{status:?} × {conduct:?}"
                );
            }
        }
    }
}
