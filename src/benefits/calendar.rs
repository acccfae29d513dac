//! A brand's benefits day by day (Asia/Shanghai business days): on which
//! days each one grants, opens early access or holds its experience (the
//! same windows the checkout tests an instant against), and how many
//! redemptions each day granted.

use chrono::{DateTime, Days, NaiveDate, Utc};
use entity::redemption;
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, DbErr, EntityTrait as _, QueryFilter as _, QuerySelect as _,
    sea_query::{CaseStatement, Expr, ExprTrait as _},
};

use super::{Benefit, definition::Window};
use crate::{
    error::{CodedError, ErrorCode},
    platform::start_of_business_day,
};

/// Most days one calendar or one series covers: a month view with the
/// weeks around it, or a quarter of redemptions.
pub(crate) const MAX_DAYS: u32 = 92;

/// Why a day range is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("`days` takes 1 to {MAX_DAYS}")]
pub(crate) struct DaysOutOfRange;

impl CodedError for DaysOutOfRange {
    fn code(&self) -> ErrorCode {
        ErrorCode::BadUserInput
    }
}

/// The business days `from`, `from + 1`, … (`days` of them), each with the
/// instants it starts and ends at.
fn days(from: NaiveDate, days: u32) -> Result<Vec<Day>, DaysOutOfRange> {
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(DaysOutOfRange);
    }
    (0..u64::from(days))
        .map(|i| {
            let date = from.checked_add_days(Days::new(i)).ok_or(DaysOutOfRange)?;
            let next = date.checked_add_days(Days::new(1)).ok_or(DaysOutOfRange)?;
            Ok(Day {
                date,
                starts_at: start_of_business_day(date),
                ends_at: start_of_business_day(next),
            })
        })
        .collect()
}

/// One business day and the instants it starts and ends at.
struct Day {
    date: NaiveDate,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
}

impl Day {
    fn touched_by(&self, window: &Window) -> bool {
        window.overlaps(self.starts_at, self.ends_at)
    }
}

/// What a calendar entry marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Occasion {
    /// The benefit's schedule: it grants then (when active); not for
    /// early access, which grants only in its early hours.
    Runs,
    /// Early access's hours before the public launch, within its schedule.
    EarlyAccess,
    /// An offline experience's slot.
    Experience,
}

/// One window of one benefit, with the days of the range it touches.
#[derive(Debug, Clone)]
pub(crate) struct Entry<'a> {
    /// The benefit.
    pub benefit: &'a Benefit,
    /// What the window is.
    pub occasion: Occasion,
    /// The window.
    pub window: Window,
    /// The days of the range it touches, in order (never empty).
    pub days: Vec<NaiveDate>,
}

/// Every window of `benefits` that touches one of the `count` days from
/// `from`: a benefit's schedule, its early access window and its
/// experience slot, as the revision members meet (the live one, else the
/// one being written).
pub(crate) fn entries(
    benefits: &[Benefit],
    from: NaiveDate,
    count: u32,
) -> Result<Vec<Entry<'_>>, DaysOutOfRange> {
    let range = days(from, count)?;
    let mut found = Vec::new();
    for benefit in benefits {
        let definition = benefit.live.as_ref().unwrap_or(&benefit.current);
        let schedule = definition.schedule.window();
        // Early access grants only in its early hours within the schedule
        // (the checkout tests both), so it has no RUNS of its own.
        let granting = match definition.kind.early_access_window() {
            Some(early) => (Occasion::EarlyAccess, early.within(&schedule)),
            None => (Occasion::Runs, Some(schedule)),
        };
        let windows = [
            granting,
            (Occasion::Experience, definition.kind.experience_slot()),
        ];
        for (occasion, window) in windows {
            let Some(window) = window else { continue };
            let touched: Vec<NaiveDate> = range
                .iter()
                .filter(|day| day.touched_by(&window))
                .map(|day| day.date)
                .collect();
            if !touched.is_empty() {
                found.push(Entry {
                    benefit,
                    occasion,
                    window,
                    days: touched,
                });
            }
        }
    }
    Ok(found)
}

/// One day's redemptions of a benefit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DayRedemptions {
    /// The business day.
    pub date: NaiveDate,
    /// Redemptions granted that day that still count (not released by a
    /// refund): summed over every day, the benefit's `redemptions`.
    pub redemptions: i64,
    /// Money granted that day less what refunds gave back, in fen: summed
    /// over every day, the benefit's `spent_cents`.
    pub spent_cents: i64,
}

/// A benefit's redemptions per business day for `count` days from `from`,
/// every day present (zero when nothing was granted). One grouped query
/// over the `(benefit_id, created_at)` index: each row's day is the index
/// of the first day it falls before the end of, from the same day cuts as
/// the calendar's.
pub(crate) async fn redemptions_by_day(
    db: &impl ConnectionTrait,
    benefit_id: i64,
    from: NaiveDate,
    count: u32,
) -> Result<Vec<DayRedemptions>, RedemptionDaysError> {
    let range = days(from, count)?;
    let (Some(first), Some(last)) = (range.first(), range.last()) else {
        return Ok(Vec::new());
    };
    let created = || Expr::col(redemption::Column::CreatedAt);
    let mut day = CaseStatement::new();
    for (i, d) in range.iter().enumerate() {
        day = day.case(created().lt(d.ends_at), i as i64);
    }
    // PostgreSQL sums BIGINT as NUMERIC and types literals as INTEGER:
    // cast both back.
    let day = Expr::expr(day).cast_as("BIGINT");
    let totals: Vec<(i64, Option<i64>, Option<i64>)> = redemption::Entity::find()
        .select_only()
        .expr(day)
        .expr(
            Expr::case(redemption::Column::RefundedAt.is_null(), 1)
                .finally(0)
                .sum()
                .cast_as("BIGINT"),
        )
        .expr(
            Expr::col(redemption::Column::AmountCents)
                .sub(Expr::col(redemption::Column::RefundedCents))
                .sum()
                .cast_as("BIGINT"),
        )
        .filter(redemption::Column::BenefitId.eq(benefit_id))
        .filter(redemption::Column::Granted.eq(true))
        .filter(created().gte(first.starts_at))
        .filter(created().lt(last.ends_at))
        // By position: the CASE binds its cuts as parameters, and
        // PostgreSQL would not see a second copy as the same expression.
        .group_by(Expr::cust("1"))
        .into_tuple()
        .all(db)
        .await?;
    Ok(range
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let found = totals.iter().find(|(day, _, _)| *day == i as i64);
            DayRedemptions {
                date: d.date,
                redemptions: found.and_then(|t| t.1).unwrap_or_default(),
                spent_cents: found.and_then(|t| t.2).unwrap_or_default(),
            }
        })
        .collect())
}

/// Why a redemption series can't be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RedemptionDaysError {
    /// The range is refused.
    #[error(transparent)]
    Days(#[from] DaysOutOfRange),
    /// Reading failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl CodedError for RedemptionDaysError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Days(error) => error.code(),
            Self::Db(error) => error.code(),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    #[test]
    fn a_window_touches_the_shanghai_days_it_overlaps() {
        let from = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
        let range = days(from, 3).expect("range");
        // 15:30 UTC on the 1st is 23:30 in Shanghai; until 16:30 UTC is
        // 00:30 on the 2nd: both days.
        let late = Window {
            starts_at: Utc.with_ymd_and_hms(2026, 12, 1, 15, 30, 0).unwrap(),
            ends_at: Some(Utc.with_ymd_and_hms(2026, 12, 1, 16, 30, 0).unwrap()),
        };
        let touched: Vec<u32> = range
            .iter()
            .filter(|d| d.touched_by(&late))
            .map(|d| chrono::Datelike::day(&d.date))
            .collect();
        assert_eq!(touched, [1, 2]);
        // Ending exactly at midnight Shanghai leaves the next day out.
        let to_midnight = Window {
            starts_at: Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
            ends_at: Some(Utc.with_ymd_and_hms(2026, 12, 1, 16, 0, 0).unwrap()),
        };
        assert!(range[0].touched_by(&to_midnight));
        assert!(!range[1].touched_by(&to_midnight));
        // Open ended: every day from its start.
        let open = Window {
            starts_at: Utc.with_ymd_and_hms(2026, 12, 2, 3, 0, 0).unwrap(),
            ends_at: None,
        };
        let open_days = range.iter().filter(|d| d.touched_by(&open)).count();
        assert_eq!(open_days, 2);
    }

    #[test]
    fn both_windows_admit_what_their_overlap_admits() {
        let at = |h: i64| {
            Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap() + chrono::Duration::hours(h)
        };
        let windows = [
            Window {
                starts_at: at(0),
                ends_at: Some(at(10)),
            },
            Window {
                starts_at: at(5),
                ends_at: None,
            },
            Window {
                starts_at: at(12),
                ends_at: Some(at(20)),
            },
            Window {
                starts_at: at(-5),
                ends_at: Some(at(6)),
            },
        ];
        for a in &windows {
            for b in &windows {
                let both = a.within(b);
                for h in -8..24 {
                    assert_eq!(
                        both.is_some_and(|w| w.contains(at(h))),
                        a.contains(at(h)) && b.contains(at(h)),
                        "{a:?} and {b:?} at {h}"
                    );
                }
            }
        }
    }

    #[test]
    fn ranges_are_bounded() {
        let from = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
        assert_eq!(days(from, 0).err(), Some(DaysOutOfRange));
        assert_eq!(days(from, MAX_DAYS + 1).err(), Some(DaysOutOfRange));
        assert_eq!(days(from, MAX_DAYS).map(|d| d.len()), Ok(MAX_DAYS as usize));
        assert_eq!(days(NaiveDate::MAX, 2).err(), Some(DaysOutOfRange));
    }
}
