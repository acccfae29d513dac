//! The platform's member vocabulary: growth tiers derived from points, the
//! eligibility rules of the paid membership and the black card, age and
//! spend bands, and the fixed lists of interest and service codes. Seeding,
//! import validation and (later) segments all use these, so each rule lives
//! here once.

use chrono::{DateTime, Datelike as _, NaiveDate, NaiveDateTime, Offset as _, TimeZone as _, Utc};

/// Points needed for the paid membership (88VIP-like).
pub const PAID_MEMBER_MIN_POINTS: i32 = 1000;
/// Points needed for a black-card invitation (APASS-like).
pub const BLACK_CARD_MIN_POINTS: i32 = 2500;

/// The calendar the business runs on.
pub const BUSINESS_TZ: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

/// Today's date in the business calendar.
pub fn business_today() -> NaiveDate {
    business_day(chrono::Utc::now())
}

/// The business day an instant falls on.
pub fn business_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&BUSINESS_TZ).date_naive()
}

/// Midnight at the start of a business day, as an instant: every "per
/// day" rule (budgets, caps, deadlines, calendars) cuts days here.
pub fn start_of_business_day(day: NaiveDate) -> DateTime<Utc> {
    from_business_local(day.and_time(chrono::NaiveTime::MIN))
}

/// A business-calendar wall-clock time as an instant. A time the zone
/// skips (none in Shanghai since 1991) takes the zone's offset at that
/// moment.
pub fn from_business_local(local: NaiveDateTime) -> DateTime<Utc> {
    local
        .and_local_timezone(BUSINESS_TZ)
        .earliest()
        .map(|at| at.with_timezone(&Utc))
        .unwrap_or_else(|| {
            let offset = BUSINESS_TZ.offset_from_utc_datetime(&local).fix();
            local.checked_sub_offset(offset).unwrap_or(local).and_utc()
        })
}

/// An instant as a business-calendar wall-clock time.
pub fn to_business_local(at: DateTime<Utc>) -> NaiveDateTime {
    at.with_timezone(&BUSINESS_TZ).naive_local()
}

/// Growth tier, from lowest to highest, derived from the points score.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GrowthTier {
    /// 0–399 points.
    Bronze,
    /// 400–999 points.
    Silver,
    /// 1000–1799 points: paid membership becomes available.
    Gold,
    /// 1800–2499 points.
    Platinum,
    /// 2500–3999 points: black-card invitations become possible.
    Diamond,
    /// 4000 points and more.
    BlackDiamond,
}

impl GrowthTier {
    /// Every tier, lowest first.
    pub const ALL: [Self; 6] = [
        Self::Bronze,
        Self::Silver,
        Self::Gold,
        Self::Platinum,
        Self::Diamond,
        Self::BlackDiamond,
    ];

    /// The lowest points score of the tier.
    pub fn min_points(self) -> i32 {
        match self {
            Self::Bronze => 0,
            Self::Silver => 400,
            Self::Gold => PAID_MEMBER_MIN_POINTS,
            Self::Platinum => 1800,
            Self::Diamond => BLACK_CARD_MIN_POINTS,
            Self::BlackDiamond => 4000,
        }
    }

    /// Whether the tier's members can hold the paid membership and the
    /// black card as asked: the points each needs, read per tier (GOLD
    /// starts where the paid membership does, DIAMOND where the black card
    /// does).
    pub fn may_hold(self, paid: bool, black_card: bool) -> bool {
        (!paid || self.min_points() >= PAID_MEMBER_MIN_POINTS)
            && (!black_card || self.min_points() >= BLACK_CARD_MIN_POINTS)
    }

    /// The tier a points score falls in.
    pub fn from_points(points: i32) -> Self {
        Self::ALL
            .into_iter()
            .rev()
            .find(|tier| points >= tier.min_points())
            .unwrap_or(Self::Bronze)
    }
}

/// Why a member's dimensions contradict the programme's rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MemberRuleError {
    /// Negative points do not exist.
    #[error("points must be 0 or more, got {0}")]
    NegativePoints(i32),
    /// Paid membership needs enough points.
    #[error("a paid member needs at least {PAID_MEMBER_MIN_POINTS} points, has {0}")]
    PaidBelowThreshold(i32),
    /// The black card needs enough points.
    #[error("a black-card holder needs at least {BLACK_CARD_MIN_POINTS} points, has {0}")]
    BlackCardBelowThreshold(i32),
    /// Spend is never negative.
    #[error("annual spend must be 0 or more, got {0}")]
    NegativeSpend(i64),
    /// The birth year is outside any plausible member's.
    #[error("birth year {0} is outside 1900..=current year")]
    ImplausibleBirthYear(i32),
}

/// Checks a member's dimensions against the eligibility rules.
pub fn check_member(
    points: i32,
    paid_member: bool,
    black_card: bool,
    birth_year: i32,
    annual_spend_cents: i64,
) -> Result<(), MemberRuleError> {
    if points < 0 {
        return Err(MemberRuleError::NegativePoints(points));
    }
    if paid_member && points < PAID_MEMBER_MIN_POINTS {
        return Err(MemberRuleError::PaidBelowThreshold(points));
    }
    if black_card && points < BLACK_CARD_MIN_POINTS {
        return Err(MemberRuleError::BlackCardBelowThreshold(points));
    }
    if annual_spend_cents < 0 {
        return Err(MemberRuleError::NegativeSpend(annual_spend_cents));
    }
    if !(1900..=business_today().year()).contains(&birth_year) {
        return Err(MemberRuleError::ImplausibleBirthYear(birth_year));
    }
    Ok(())
}

/// The birthday window containing `today`, if any: `before` days before a
/// birthday to `after` days after it (a 29 February birthday falls on
/// 28 February in other years). Dates are Asia/Shanghai business days.
pub fn birthday_window(
    birth_date: NaiveDate,
    today: NaiveDate,
    before: i64,
    after: i64,
) -> Option<(NaiveDate, NaiveDate)> {
    [today.year() - 1, today.year(), today.year() + 1]
        .into_iter()
        .filter_map(|year| {
            birth_date
                .with_year(year)
                .or_else(|| NaiveDate::from_ymd_opt(year, 2, 28))
        })
        .map(|birthday| {
            (
                birthday - chrono::Duration::days(before),
                birthday + chrono::Duration::days(after),
            )
        })
        .find(|(start, end)| (*start..=*end).contains(&today))
}

/// Interest categories a member can show (multi-valued). The stored and
/// wire name is the SCREAMING_SNAKE_CASE code (`MOTHER_BABY`). The order is
/// stored too, as each code's bit in a member's row: add new ones last.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    strum::EnumIter,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum Interest {
    /// Beauty and skin care.
    Beauty,
    /// Fashion.
    Fashion,
    /// Sports.
    Sports,
    /// Outdoor.
    Outdoor,
    /// Digital and electronics.
    Digital,
    /// Home.
    Home,
    /// Mother and baby.
    MotherBaby,
    /// Pets.
    Pets,
    /// Food.
    Food,
    /// Travel.
    Travel,
    /// Books.
    Books,
    /// Gaming.
    Gaming,
    /// Luxury.
    Luxury,
    /// Health.
    Health,
}

impl Interest {
    /// The code (`MOTHER_BABY`).
    pub fn code(self) -> &'static str {
        self.into()
    }

    /// Every code, in value order (the cube's value is the index).
    pub fn codes() -> Vec<&'static str> {
        <Self as strum::IntoEnumIterator>::iter()
            .map(Self::code)
            .collect()
    }

    /// Its bit in a member's packed `interests` (its value is its place
    /// in declaration order, as in [`Interest::codes`]).
    pub fn bit(self) -> i32 {
        value_bit(self as usize)
    }

    /// The interests set in a member's packed `interests`.
    pub fn unpack(bits: i32) -> Vec<Self> {
        <Self as strum::IntoEnumIterator>::iter()
            .filter(|interest| bits & interest.bit() != 0)
            .collect()
    }
}

/// Ecosystem services a member can use (multi-valued). The order is stored
/// as each code's bit in a member's row: add new ones last.
pub const SERVICES: &[&str] = &["FOOD_DELIVERY", "TRAVEL", "VIDEO", "MOVIE_TICKETS", "MAPS"];

/// The bit a multi-valued code sets in a member's packed `interests` or
/// `services`: bit `value`, the code's value (its index in
/// [`Interest::codes`] or [`SERVICES`]). The one rule every reader and
/// writer of the packed columns follows, SQL included.
pub const fn value_bit(value: usize) -> i32 {
    1 << value
}

/// The bit of `code` among `codes` ([`Interest::codes`] or [`SERVICES`]),
/// if it is one of them.
pub fn code_bit(codes: &[&str], code: &str) -> Option<i32> {
    codes.iter().position(|c| *c == code).map(value_bit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_codes_round_trip_with_one_bit_per_value() {
        let codes = Interest::codes();
        assert!(codes.len() < 31 && SERVICES.len() < 31, "codes fit an i32");
        for (value, interest) in <Interest as strum::IntoEnumIterator>::iter().enumerate() {
            assert_eq!(Some(interest.bit()), code_bit(&codes, interest.code()));
            assert_eq!(interest.bit(), value_bit(value));
        }
        let held = [Interest::Beauty, Interest::Pets, Interest::Health];
        let bits = held.iter().fold(0, |bits, i| bits | i.bit());
        assert_eq!(Interest::unpack(bits), held);
        assert_eq!(code_bit(SERVICES, "MAPS"), Some(1 << 4));
        assert_eq!(code_bit(SERVICES, "BEAUTY"), None);
        // Stored bits keep their meaning: the codes migration 25 packed
        // come first, in its order; new codes may only follow them.
        for (packed, current) in [
            (migration::PACKED_INTERESTS, codes.as_slice()),
            (migration::PACKED_SERVICES, SERVICES),
        ] {
            for (bit, code) in packed.iter().enumerate() {
                assert_eq!(code_bit(current, code), Some(1 << bit), "{code}");
            }
        }
    }

    #[test]
    fn birthday_windows_cross_years_and_leap_days() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
        let born = day(1990, 1, 2);
        assert_eq!(
            birthday_window(born, day(2026, 12, 30), 5, 3),
            Some((day(2026, 12, 28), day(2027, 1, 5)))
        );
        assert_eq!(birthday_window(born, day(2026, 1, 6), 5, 3), None);
        assert_eq!(
            birthday_window(born, day(2026, 1, 2), 0, 0),
            Some((day(2026, 1, 2), day(2026, 1, 2)))
        );
        let leap = day(2000, 2, 29);
        assert_eq!(
            birthday_window(leap, day(2026, 2, 28), 0, 0),
            Some((day(2026, 2, 28), day(2026, 2, 28)))
        );
        assert_eq!(
            birthday_window(leap, day(2028, 2, 29), 0, 0),
            Some((day(2028, 2, 29), day(2028, 2, 29)))
        );
    }

    #[test]
    fn tiers_follow_points_thresholds() {
        assert_eq!(GrowthTier::from_points(0), GrowthTier::Bronze);
        assert_eq!(GrowthTier::from_points(399), GrowthTier::Bronze);
        assert_eq!(GrowthTier::from_points(400), GrowthTier::Silver);
        assert_eq!(GrowthTier::from_points(1000), GrowthTier::Gold);
        assert_eq!(GrowthTier::from_points(2499), GrowthTier::Platinum);
        assert_eq!(GrowthTier::from_points(2500), GrowthTier::Diamond);
        assert_eq!(GrowthTier::from_points(9000), GrowthTier::BlackDiamond);
    }

    #[test]
    fn paid_and_black_card_need_their_points() {
        assert_eq!(
            check_member(999, true, false, 1990, 0),
            Err(MemberRuleError::PaidBelowThreshold(999))
        );
        assert_eq!(
            check_member(2400, true, true, 1985, 0),
            Err(MemberRuleError::BlackCardBelowThreshold(2400))
        );
        assert_eq!(check_member(2600, true, true, 1985, 1), Ok(()));
    }
}
