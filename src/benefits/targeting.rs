//! Whom a benefit is for: one typed targeting, and the one rule of who
//! matches it. Checkout, the member centre and the cell analysis ask
//! [`Targeting::matches`] of a member or a cell; the platform's own counts
//! (the usage policy, renewal) select the same members in SQL with
//! [`Targeting::members`]; the reach preview asks the privacy engine the
//! same filters. A test generates members and targetings and checks the
//! in-memory and SQL forms agree.

use chrono::{DateTime, Datelike as _, Utc};
use entity::{enums::CityTier, member};
use sea_orm::{
    ColumnTrait as _, Condition, EntityTrait as _, QueryFilter as _,
    sea_query::{Expr, ExprTrait as _},
};
use serde::{Deserialize, Serialize};

use crate::{
    platform::{self, GrowthTier, Interest},
    segments::dimensions::{AgeBand, Dimension},
};

/// Whom a benefit is for, by segment dimensions only (never member ids).
/// Each list is "any of" (empty: any); the clauses all must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Targeting {
    /// Lowest growth tier.
    pub min_tier: Option<GrowthTier>,
    /// Paid members only (true), non-paid only (false), or either.
    pub paid_member: Option<bool>,
    /// Black-card holders only (true), others only (false), or either.
    pub black_card: Option<bool>,
    /// Any of these interests.
    pub interests: Vec<Interest>,
    /// Any of these age bands.
    pub age_bands: Vec<AgeBand>,
    /// Any of these city tiers.
    pub city_tiers: Vec<CityTier>,
}

/// What is known of a member's interests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Holding {
    /// Exactly these (a member).
    Exactly(Vec<Interest>),
    /// At least these, maybe more (a cell of members holding them).
    AtLeast(Vec<Interest>),
}

/// What is known of one member, or of a cell of members: `None` where a
/// cell does not split by the dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Profile {
    /// Growth tier.
    pub tier: GrowthTier,
    /// Holds the paid membership.
    pub paid: bool,
    /// Holds the black card.
    pub black_card: bool,
    /// Age band this year.
    pub age_band: Option<AgeBand>,
    /// City tier.
    pub city_tier: Option<CityTier>,
    /// Interests.
    pub interests: Holding,
    /// Date of birth, when known (never of a cell): birthday gifts need it.
    pub birth_date: Option<chrono::NaiveDate>,
    /// When the member placed the orders of the store's last 366 days that
    /// still count (never of a cell): rebates need them.
    pub store_orders: Vec<DateTime<Utc>>,
}

impl Profile {
    /// A cell on the programme axes only.
    pub(crate) fn cell(tier: GrowthTier, paid: bool, black_card: bool) -> Self {
        Self {
            tier,
            paid,
            black_card,
            age_band: None,
            city_tier: None,
            interests: Holding::AtLeast(Vec::new()),
            birth_date: None,
            store_orders: Vec::new(),
        }
    }
}

/// How a targeting meets a profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Match {
    /// Nobody it describes.
    No,
    /// Everybody it describes.
    All,
    /// Only those of it who also match on these dimensions, which the
    /// profile does not know.
    Some(Vec<Dimension>),
}

/// One "any of" clause against a known (`Some`) or unknown value.
fn clause<T: PartialEq>(wanted: &[T], known: Option<&T>) -> Option<bool> {
    if wanted.is_empty() {
        return Some(true);
    }
    known.map(|value| wanted.contains(value))
}

impl Targeting {
    /// The one rule of who matches.
    pub(crate) fn matches(&self, p: &Profile) -> Match {
        if self.min_tier.is_some_and(|min| p.tier < min)
            || self.paid_member.is_some_and(|paid| paid != p.paid)
            || self.black_card.is_some_and(|black| black != p.black_card)
        {
            return Match::No;
        }
        let mut unknown = Vec::new();
        let interests = match &p.interests {
            _ if self.interests.is_empty() => Some(true),
            Holding::Exactly(held) => Some(held.iter().any(|i| self.interests.contains(i))),
            // Holding none of the wanted ones known, a member of the cell
            // may still hold one of them.
            Holding::AtLeast(held) => held
                .iter()
                .any(|i| self.interests.contains(i))
                .then_some(true),
        };
        for (dimension, known) in [
            (Dimension::Interest, interests),
            (
                Dimension::AgeBand,
                clause(&self.age_bands, p.age_band.as_ref()),
            ),
            (
                Dimension::CityTier,
                clause(&self.city_tiers, p.city_tier.as_ref()),
            ),
        ] {
            match known {
                Some(true) => {}
                Some(false) => return Match::No,
                None => unknown.push(dimension),
            }
        }
        if unknown.is_empty() {
            Match::All
        } else {
            Match::Some(unknown)
        }
    }

    /// The same rule in SQL: the platform members it matches, for ages in
    /// the Asia/Shanghai calendar year of `now`.
    pub(crate) fn members(&self, now: DateTime<Utc>) -> sea_orm::Select<member::Entity> {
        let mut select = member::Entity::find();
        if let Some(min) = self.min_tier {
            select = select.filter(member::Column::Points.gte(min.min_points()));
        }
        if let Some(paid) = self.paid_member {
            select = select.filter(member::Column::PaidMember.eq(paid));
        }
        if let Some(black) = self.black_card {
            select = select.filter(member::Column::BlackCard.eq(black));
        }
        if !self.city_tiers.is_empty() {
            select = select.filter(member::Column::CityTier.is_in(self.city_tiers.clone()));
        }
        if !self.age_bands.is_empty() {
            let year = platform::business_day(now).year();
            let mut any = Condition::any();
            for (lower, upper) in self.age_bands.iter().map(|band| band.bounds()) {
                // Age this year = year − birth year, in [lower, upper).
                any = any.add(
                    member::Column::BirthYear
                        .gt(year.saturating_sub(upper))
                        .and(member::Column::BirthYear.lte(year.saturating_sub(lower))),
                );
            }
            select = select.filter(any);
        }
        if !self.interests.is_empty() {
            let mask = self.interests.iter().fold(0, |mask, i| mask | i.bit());
            select = select.filter(
                Expr::col((member::Entity, member::Column::Interests))
                    .bit_and(mask)
                    .ne(0),
            );
        }
        select
    }
}

#[cfg(test)]
mod tests {
    use migration::MigratorTrait as _;
    use rand::{Rng as _, SeedableRng as _, rngs::StdRng, seq::IndexedRandom as _};
    use sea_orm::{
        ActiveValue::Set, Database, DatabaseConnection, Iterable as _, QuerySelect as _,
    };
    use strum::IntoEnumIterator as _;

    use super::*;

    fn some<T: Copy>(rng: &mut StdRng, all: &[T]) -> Vec<T> {
        match rng.random_range(0..3) {
            0 => Vec::new(),
            _ => (0..rng.random_range(1..=3))
                .filter_map(|_| all.choose(rng).copied())
                .collect(),
        }
    }

    fn targeting(rng: &mut StdRng) -> Targeting {
        let maybe = |rng: &mut StdRng| match rng.random_range(0..3) {
            0 => None,
            1 => Some(false),
            _ => Some(true),
        };
        Targeting {
            min_tier: GrowthTier::ALL
                .choose(rng)
                .copied()
                .filter(|_| rng.random_bool(0.5)),
            paid_member: maybe(rng),
            black_card: maybe(rng),
            interests: some(rng, &Interest::iter().collect::<Vec<_>>()),
            age_bands: some(rng, &AgeBand::iter().collect::<Vec<_>>()),
            city_tiers: some(rng, &CityTier::iter().collect::<Vec<_>>()),
        }
    }

    async fn database() -> DatabaseConnection {
        let db = Database::connect("sqlite::memory:").await.expect("sqlite");
        migration::Migrator::up(&db, None).await.expect("migrate");
        db
    }

    /// Generated members and targetings: the SQL form selects exactly the
    /// members the in-memory rule matches.
    #[tokio::test]
    async fn the_sql_and_in_memory_forms_agree() {
        let db = database().await;
        let mut rng = StdRng::seed_from_u64(20261125);
        let now = Utc::now();
        let year = platform::business_day(now).year();
        let interests: Vec<Interest> = Interest::iter().collect();
        let tiers: Vec<CityTier> = CityTier::iter().collect();
        let mut profiles = Vec::new();
        for id in 1..=400_i64 {
            let points = rng.random_range(0..5000);
            let birth_year = rng.random_range(year - 70..=year - 16);
            let held = some(&mut rng, &interests);
            let city_tier = *tiers.choose(&mut rng).expect("tiers");
            let mut distinct = held.clone();
            distinct.sort();
            distinct.dedup();
            let row = member::ActiveModel {
                id: Set(id),
                points: Set(points),
                paid_member: Set(rng.random_bool(0.4)),
                black_card: Set(rng.random_bool(0.2)),
                birth_year: Set(birth_year),
                gender: Set(entity::enums::Gender::Female),
                city_tier: Set(city_tier),
                annual_spend_cents: Set(0),
                interests: Set(distinct.iter().fold(0, |bits, i| bits | i.bit())),
                services: Set(0),
                birth_date: Set(None),
            };
            let model = member::Entity::insert(row)
                .exec_with_returning(&db)
                .await
                .expect("member");
            profiles.push((
                id,
                Profile {
                    tier: GrowthTier::from_points(model.points),
                    paid: model.paid_member,
                    black_card: model.black_card,
                    age_band: Some(AgeBand::of_age(year - birth_year)),
                    city_tier: Some(city_tier),
                    interests: Holding::Exactly(distinct),
                    birth_date: None,
                    store_orders: Vec::new(),
                },
            ));
        }
        let mut informative = 0;
        for case in 0..200 {
            let t = targeting(&mut rng);
            let mut in_sql: Vec<i64> = t
                .members(now)
                .select_only()
                .column(member::Column::Id)
                .into_tuple()
                .all(&db)
                .await
                .expect("select");
            in_sql.sort_unstable();
            let in_memory: Vec<i64> = profiles
                .iter()
                .filter(|(_, p)| t.matches(p) == Match::All)
                .map(|(id, _)| *id)
                .collect();
            assert_eq!(in_sql, in_memory, "case {case}: {t:?}");
            informative += usize::from(!in_sql.is_empty() && in_sql.len() < profiles.len());
        }
        assert!(
            informative > 60,
            "only {informative} cases split the members"
        );
    }

    #[test]
    fn a_cell_matches_partly_on_what_it_does_not_split_by() {
        let t = Targeting {
            interests: vec![Interest::Beauty],
            city_tiers: vec![CityTier::Tier1],
            ..Targeting::default()
        };
        let cell = Profile::cell(GrowthTier::Gold, true, false);
        assert_eq!(
            t.matches(&cell),
            Match::Some(vec![Dimension::Interest, Dimension::CityTier])
        );
        let sports = Profile {
            interests: Holding::AtLeast(vec![Interest::Sports]),
            city_tier: Some(CityTier::Tier1),
            ..cell.clone()
        };
        // Members holding SPORTS may hold BEAUTY too.
        assert_eq!(t.matches(&sports), Match::Some(vec![Dimension::Interest]));
        let elsewhere = Profile {
            city_tier: Some(CityTier::Tier2),
            ..cell
        };
        assert_eq!(t.matches(&elsewhere), Match::No);
    }
}
