//! The dimensions audiences are cut by, their value codes, and how each is
//! computed from member rows when the cube is built. Values are small
//! integers in the cube; codes (`GOLD`, `TIER1`, `AGE_30_34` …) on the wire.

use crate::platform::{self, GrowthTier, Interest, SERVICES};

/// A dimension of the member population. Displayed as the contract spells
/// it (`CITY_TIER`); serde names are the stored spelling of questions.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    strum::Display,
)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum Dimension {
    /// Growth tier from the points score.
    GrowthTier,
    /// Holds the paid membership.
    PaidMember,
    /// Holds the black card.
    BlackCard,
    /// Age this calendar year, banded.
    AgeBand,
    /// Declared gender.
    Gender,
    /// Tier of the member's city.
    CityTier,
    /// Trailing-year spend, banded.
    SpendBand,
    /// Interest category (multi-valued).
    Interest,
    /// Ecosystem service used (multi-valued).
    Service,
}

/// An age band: age this calendar year (Asia/Shanghai), banded. The stored
/// and wire name is the code (`AGE_30_34`).
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
pub enum AgeBand {
    /// Under 25.
    #[serde(rename = "AGE_UNDER_25")]
    #[strum(serialize = "AGE_UNDER_25")]
    Under25,
    /// 25 to 29.
    #[serde(rename = "AGE_25_29")]
    #[strum(serialize = "AGE_25_29")]
    From25To29,
    /// 30 to 34.
    #[serde(rename = "AGE_30_34")]
    #[strum(serialize = "AGE_30_34")]
    From30To34,
    /// 35 to 39.
    #[serde(rename = "AGE_35_39")]
    #[strum(serialize = "AGE_35_39")]
    From35To39,
    /// 40 to 49.
    #[serde(rename = "AGE_40_49")]
    #[strum(serialize = "AGE_40_49")]
    From40To49,
    /// 50 and over.
    #[serde(rename = "AGE_50_PLUS")]
    #[strum(serialize = "AGE_50_PLUS")]
    From50,
}

/// Age bands: upper bound (exclusive) of age this year, and band.
const AGE_BANDS: [(i32, AgeBand); 6] = [
    (25, AgeBand::Under25),
    (30, AgeBand::From25To29),
    (35, AgeBand::From30To34),
    (40, AgeBand::From35To39),
    (50, AgeBand::From40To49),
    (i32::MAX, AgeBand::From50),
];

impl AgeBand {
    /// The band of an age (years this calendar year).
    pub fn of_age(age: i32) -> Self {
        AGE_BANDS
            .iter()
            .find(|(upper, _)| age < *upper)
            .map_or(Self::From50, |(_, band)| *band)
    }

    /// The ages it holds: inclusive lower, exclusive upper bound.
    pub fn bounds(self) -> (i32, i32) {
        let index = AGE_BANDS
            .iter()
            .position(|(_, band)| *band == self)
            .unwrap_or(AGE_BANDS.len() - 1);
        let lower = index.checked_sub(1).map_or(0, |i| AGE_BANDS[i].0);
        (lower, AGE_BANDS[index].0)
    }

    /// The code (`AGE_30_34`).
    pub fn code(self) -> &'static str {
        self.into()
    }
}

/// Spend bands: upper bound (exclusive) in yuan, and code.
const SPEND_BANDS: [(i64, &str); 5] = [
    (1_000, "SPEND_UNDER_1K"),
    (5_000, "SPEND_1K_5K"),
    (20_000, "SPEND_5K_20K"),
    (50_000, "SPEND_20K_50K"),
    (i64::MAX, "SPEND_50K_PLUS"),
];

const TIERS: [&str; 6] = [
    "BRONZE",
    "SILVER",
    "GOLD",
    "PLATINUM",
    "DIAMOND",
    "BLACK_DIAMOND",
];
const BOOLEANS: [&str; 2] = ["NO", "YES"];
const GENDERS: [(&str, &str); 3] = [("F", "FEMALE"), ("M", "MALE"), ("U", "UNDECLARED")];
const CITY_TIERS: [&str; 6] = ["TIER1", "NEW_TIER1", "TIER2", "TIER3", "TIER4", "TIER5"];

impl Dimension {
    /// Every dimension.
    pub const ALL: [Self; 9] = [
        Self::GrowthTier,
        Self::PaidMember,
        Self::BlackCard,
        Self::AgeBand,
        Self::Gender,
        Self::CityTier,
        Self::SpendBand,
        Self::Interest,
        Self::Service,
    ];

    /// Whether a member can hold several values at once.
    pub fn is_multi_valued(self) -> bool {
        matches!(self, Self::Interest | Self::Service)
    }

    /// The cube's `multi_dim` for a multi-valued dimension.
    pub(crate) fn multi_dim(self) -> i16 {
        match self {
            Self::Interest => 1,
            Self::Service => 2,
            _ => 0,
        }
    }

    /// The cube column holding this dimension's value.
    pub(crate) fn column(self) -> &'static str {
        match self {
            Self::GrowthTier => "tier",
            Self::PaidMember => "paid",
            Self::BlackCard => "black",
            Self::AgeBand => "age_band",
            Self::Gender => "gender",
            Self::CityTier => "city_tier",
            Self::SpendBand => "spend_band",
            Self::Interest | Self::Service => "multi_value",
        }
    }

    /// The value codes, in value order (value = index).
    pub fn codes(self) -> Vec<&'static str> {
        match self {
            Self::GrowthTier => TIERS.to_vec(),
            Self::PaidMember | Self::BlackCard => BOOLEANS.to_vec(),
            Self::AgeBand => AGE_BANDS.iter().map(|(_, band)| band.code()).collect(),
            Self::Gender => GENDERS.iter().map(|(_, c)| *c).collect(),
            Self::CityTier => CITY_TIERS.to_vec(),
            Self::SpendBand => SPEND_BANDS.iter().map(|(_, c)| *c).collect(),
            Self::Interest => Interest::codes(),
            Self::Service => SERVICES.to_vec(),
        }
    }

    /// The value of a code (case-insensitive), if it is one of this dimension's.
    pub fn parse(self, code: &str) -> Option<i16> {
        let code = code.trim().to_ascii_uppercase();
        let alias = match (self, code.as_str()) {
            (Self::PaidMember | Self::BlackCard, "TRUE") => "YES",
            (Self::PaidMember | Self::BlackCard, "FALSE") => "NO",
            _ => code.as_str(),
        };
        self.codes()
            .iter()
            .position(|c| *c == alias)
            .map(|i| i as i16)
    }

    /// The code of a value.
    pub fn code(self, value: i16) -> &'static str {
        self.codes().get(value as usize).copied().unwrap_or("?")
    }

    /// How many values the dimension has.
    pub fn cardinality(self) -> usize {
        self.codes().len()
    }
}

/// SQL expressions computing each single-valued dimension from a `member`
/// row aliased `m`, for members' ages in the calendar year `year`. Only
/// integer literals from this module are interpolated.
pub(crate) fn member_value_sql(year: i32) -> [(&'static str, String); 7] {
    let tier = {
        let mut sql = String::from("CASE");
        for (value, tier) in GrowthTier::ALL.iter().enumerate().rev() {
            sql.push_str(&format!(
                " WHEN m.points >= {} THEN {value}",
                tier.min_points()
            ));
        }
        sql.push_str(" ELSE 0 END");
        sql
    };
    let age = {
        let mut sql = String::from("CASE");
        for (value, (upper, _)) in AGE_BANDS.iter().enumerate().take(AGE_BANDS.len() - 1) {
            sql.push_str(&format!(
                " WHEN m.birth_year > {} THEN {value}",
                year - upper
            ));
        }
        sql.push_str(&format!(" ELSE {} END", AGE_BANDS.len() - 1));
        sql
    };
    let spend = {
        let mut sql = String::from("CASE");
        for (value, (upper, _)) in SPEND_BANDS.iter().enumerate().take(SPEND_BANDS.len() - 1) {
            sql.push_str(&format!(
                " WHEN m.annual_spend_cents < {} THEN {value}",
                upper * 100
            ));
        }
        sql.push_str(&format!(" ELSE {} END", SPEND_BANDS.len() - 1));
        sql
    };
    let by_code = |column: &str, codes: &[&str]| {
        let mut sql = format!("CASE m.{column}");
        for (value, code) in codes.iter().enumerate() {
            sql.push_str(&format!(" WHEN '{code}' THEN {value}"));
        }
        sql.push_str(" ELSE 0 END");
        sql
    };
    let genders: Vec<&str> = GENDERS.iter().map(|(stored, _)| *stored).collect();
    [
        ("tier", tier),
        (
            "paid",
            "CASE WHEN m.paid_member THEN 1 ELSE 0 END".to_owned(),
        ),
        (
            "black",
            "CASE WHEN m.black_card THEN 1 ELSE 0 END".to_owned(),
        ),
        ("age_band", age),
        ("gender", by_code("gender", &genders)),
        ("city_tier", by_code("city_tier", &CITY_TIERS)),
        ("spend_band", spend),
    ]
}

/// The member column holding a multi-valued dimension's codes, packed one
/// bit per value ([`platform::value_bit`]); callers pass a multi-valued
/// dimension (any other reads as interests).
pub(crate) fn packed_column(dimension: Dimension) -> &'static str {
    match dimension {
        Dimension::Service => "services",
        _ => "interests",
    }
}

/// The packed-column mask holding any of `values`, the dimension's own
/// (from [`Dimension::parse`]).
pub(crate) fn values_mask(values: impl IntoIterator<Item = i16>) -> i32 {
    values
        .into_iter()
        .filter_map(|value| usize::try_from(value).ok())
        .fold(0, |mask, value| mask | platform::value_bit(value))
}

/// SQL counting the set bits of `packed`, a packed column's value (or a
/// part of it) of `dimension`: plain integer arithmetic, so every engine
/// runs it.
pub(crate) fn bit_count_sql(packed: &str, dimension: Dimension) -> String {
    (0..dimension.cardinality())
        .map(|value| format!("((({packed}) >> {value}) & 1)"))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// A SELECT of `(member_id, value)`, one row per value a member holds of a
/// multi-valued dimension, unpacked from the `member` table's packed
/// column by joining the dimension's codes; with a `cap`, at most that
/// many values per member, the first in code order (a value is kept when
/// fewer than `cap` of the member's values come before its code). The one
/// rule the cube and the member-row aggregates count multi-valued
/// dimensions by.
pub(crate) fn member_values_sql(dimension: Dimension, cap: Option<i32>) -> String {
    let codes = dimension.codes();
    let vocabulary = codes
        .iter()
        .enumerate()
        .map(|(value, code)| {
            let before = codes
                .iter()
                .enumerate()
                .filter(|(_, earlier)| *earlier < code)
                .fold(0, |mask, (index, _)| mask | platform::value_bit(index));
            format!(
                "SELECT {value} AS value, {} AS bit, {before} AS before",
                platform::value_bit(value)
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let column = packed_column(dimension);
    let capped = cap.map_or_else(String::new, |cap| {
        format!(
            " AND {} < {cap}",
            bit_count_sql(&format!("m.{column} & v.before"), dimension)
        )
    });
    format!(
        "SELECT m.id AS member_id, v.value AS value FROM member m \
         JOIN ({vocabulary}) v ON (m.{column} & v.bit) <> 0{capped}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_case_insensitively_with_boolean_aliases() {
        assert_eq!(Dimension::GrowthTier.parse("gold"), Some(2));
        assert_eq!(Dimension::PaidMember.parse("true"), Some(1));
        assert_eq!(Dimension::PaidMember.parse("No"), Some(0));
        assert_eq!(Dimension::CityTier.parse("TIER9"), None);
        assert_eq!(Dimension::Interest.code(0), "BEAUTY");
    }
}
