//! Deterministic synthetic platform data. Every draw comes from one ChaCha
//! stream seeded by `--seed`, in a fixed order, so a seed and an as-of day
//! always give the same rows. The shapes are the ones a reviewer expects:
//! a tier pyramid, paid members a few percent (only from 1000 points),
//! black cards about one in ten thousand (2500 points, skewed to high spend
//! and the 1980s), log-normal spend rising with tier, long-tail market
//! shares, brands with stable and with volatile prices.

use std::collections::HashSet;

use chrono::{Datelike as _, Duration, NaiveDate};
use entity::enums::{BrandStatus, CityTier, Gender};
use rand::{Rng, SeedableRng as _, seq::IndexedRandom as _};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution as _, LogNormal, Normal};

use crate::platform::{
    BLACK_CARD_MIN_POINTS, GrowthTier, Interest, PAID_MEMBER_MIN_POINTS, SERVICES, value_bit,
};

/// Categories: code, name, the interest that drives store affinity, and
/// yearly category GMV in yuan.
pub const CATEGORIES: [(&str, &str, Interest, f64); 8] = [
    ("BEAUTY", "Beauty & Skincare", Interest::Beauty, 9.0e9),
    ("SPORTSWEAR", "Sportswear", Interest::Sports, 6.0e9),
    ("DIGITAL", "Consumer Electronics", Interest::Digital, 12.0e9),
    ("HOME", "Home & Living", Interest::Home, 5.0e9),
    ("FOOD", "Food & Snacks", Interest::Food, 4.0e9),
    ("MOTHER_BABY", "Mother & Baby", Interest::MotherBaby, 3.0e9),
    ("PETS", "Pet Supplies", Interest::Pets, 1.5e9),
    ("LUXURY", "Luxury & Watches", Interest::Luxury, 7.0e9),
];

const NAME_HEADS: [&str; 24] = [
    "Aur", "Bel", "Cal", "Dor", "Evo", "Fen", "Gal", "Hal", "Iri", "Jun", "Kai", "Lum", "Mir",
    "Nov", "Ori", "Pel", "Qin", "Ros", "Sol", "Tal", "Vel", "Wen", "Yun", "Zen",
];
const NAME_TAILS: [&str; 10] = [
    "ora", "ique", "ton", "elle", "ara", "ix", "ano", "ea", "is", "um",
];

/// Tier shares of the pyramid, lowest tier first, and each tier's points ceiling.
const TIER_SHARES: [(GrowthTier, f64, i32); 6] = [
    (GrowthTier::Bronze, 0.45, 399),
    (GrowthTier::Silver, 0.28, 999),
    (GrowthTier::Gold, 0.15, 1799),
    (GrowthTier::Platinum, 0.08, 2499),
    (GrowthTier::Diamond, 0.035, 3999),
    (GrowthTier::BlackDiamond, 0.005, 6000),
];

/// A generated brand with the hidden traits that shape its data.
#[derive(Debug, Clone)]
pub struct BrandPlan {
    /// Brand id (1-based).
    pub id: i64,
    /// Unique display name.
    pub name: String,
    /// Index into [`CATEGORIES`].
    pub category: usize,
    /// Programme standing.
    pub status: BrandStatus,
    /// Share of its category's GMV.
    pub market_share: f64,
    /// Fraction of platform members in its store, before affinity.
    pub store_reach: f64,
    /// How much more likely a paid member is to join its store.
    pub paid_affinity: f64,
    /// Mean order value in yuan.
    pub order_value: f64,
    /// 0 stable, 1 promotional, 2 volatile prices.
    pub price_style: u8,
    /// Fraction of its mentions that are paid or brand-owned.
    pub paid_mention_share: f64,
    /// One of a category's long tail of smaller brands, drawn from the
    /// tail's own stream.
    pub long_tail: bool,
}

impl BrandPlan {
    /// The brand's row, created at `created_at`.
    pub fn row(&self, created_at: chrono::DateTime<chrono::Utc>) -> entity::brand::Model {
        entity::brand::Model {
            id: self.id,
            name: self.name.clone(),
            category_id: self.category as i64 + 1,
            status: self.status,
            created_at,
        }
    }
}

/// The category rows, numbered from 1 in [`CATEGORIES`] order (a brand's
/// `category` is an index into it).
pub fn category_rows() -> Vec<entity::category::Model> {
    CATEGORIES
        .iter()
        .enumerate()
        .map(|(index, (code, name, _, _))| entity::category::Model {
            id: index as i64 + 1,
            code: (*code).to_owned(),
            name: (*name).to_owned(),
        })
        .collect()
}

/// A generated member and the stores it joined.
#[derive(Debug, Clone)]
pub struct MemberPlan {
    /// The member row, its interests and services packed in it.
    pub member: entity::member::Model,
    /// Brand ids whose stores the member joined, with the join day.
    pub stores: Vec<(i64, NaiveDate)>,
}

/// The generator: one RNG stream for the data set, a second one for the
/// paid renewals and a third for the long tail of smaller brands (so
/// adding either left every other row as it was), and the as-of day.
pub struct Generator {
    rng: ChaCha8Rng,
    renewals: ChaCha8Rng,
    tail: ChaCha8Rng,
    as_of: NaiveDate,
}

impl Generator {
    /// A generator for `seed`, with data ending on `as_of`.
    pub fn new(seed: u64, as_of: NaiveDate) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            renewals: ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_0f7e_7ea1),
            tail: ChaCha8Rng::seed_from_u64(seed ^ 0x007a_11b4_a2d5),
            as_of,
        }
    }

    /// Runs `draw` on the long tail's stream (a long-tail brand's rows).
    pub fn on_tail<T>(&mut self, draw: impl FnOnce(&mut Self) -> T) -> T {
        std::mem::swap(&mut self.rng, &mut self.tail);
        let drawn = draw(self);
        std::mem::swap(&mut self.rng, &mut self.tail);
        drawn
    }

    /// A paid member's latest renewal decision: due in the past year,
    /// renewed about three times in four, more often the more they spend.
    pub fn renewal(&mut self, member: &entity::member::Model) -> entity::paid_renewal::Model {
        let rng = &mut self.renewals;
        let spend_yuan = member.annual_spend_cents as f64 / 100.0;
        let p = 0.68 + 0.22 * (spend_yuan / 20_000.0).min(1.0);
        entity::paid_renewal::Model {
            member_id: member.id,
            due_on: self.as_of - chrono::Duration::days(rng.random_range(0..365)),
            renewed: rng.random_bool(p),
        }
    }

    /// The brands, spread over the categories with Zipf-like shares:
    /// `count` listed brands, and in each category up to `long_tail`
    /// smaller ones (at least half that many) sharing most of what the
    /// listed ones leave, numbered after every listed brand.
    pub fn brands(&mut self, count: u32, long_tail: u32) -> Vec<BrandPlan> {
        let per_category =
            |c: usize| (count as usize + CATEGORIES.len() - 1 - c) / CATEGORIES.len();
        let zipf = |rank: usize| 1.0 / (rank as f64).powf(1.15);
        let mut names = HashSet::new();
        let mut brands = Vec::with_capacity(count as usize);
        let mut tail = Vec::new();
        for category in 0..CATEGORIES.len() {
            let n = per_category(category);
            // Zipf weights with a long tail of other (unlisted) sellers.
            let weights: Vec<f64> = (1..=n).map(zipf).collect();
            let listed_share = self.rng.random_range(0.55..0.8);
            let total: f64 = weights.iter().sum();
            for (rank, weight) in weights.iter().enumerate() {
                let share = listed_share * weight / total;
                brands.push(self.brand(category, rank, share, &mut names));
            }
            if long_tail > 0 {
                self.on_tail(|g| {
                    let size = g.rng.random_range(long_tail.div_ceil(2)..=long_tail) as usize;
                    let weights: Vec<f64> = (n + 1..=n + size).map(zipf).collect();
                    let total: f64 = weights.iter().sum();
                    let tail_share = (1.0 - listed_share) * g.rng.random_range(0.6..0.9);
                    for (offset, weight) in weights.iter().enumerate() {
                        let share = tail_share * weight / total;
                        let mut plan = g.brand(category, n + offset, share, &mut names);
                        plan.long_tail = true;
                        tail.push(plan);
                    }
                });
            }
        }
        brands.extend(tail);
        for (index, brand) in brands.iter_mut().enumerate() {
            brand.id = index as i64 + 1;
        }
        brands
    }

    /// One brand of `category` at `rank` (0 = the leader) with `market_share`.
    fn brand(
        &mut self,
        category: usize,
        rank: usize,
        market_share: f64,
        names: &mut HashSet<String>,
    ) -> BrandPlan {
        let code = CATEGORIES[category].0;
        let mut name = format!(
            "{}{} {}",
            NAME_HEADS.choose(&mut self.rng).unwrap_or(&"Nov"),
            NAME_TAILS.choose(&mut self.rng).unwrap_or(&"a"),
            title_case(code),
        );
        while !names.insert(name.clone()) {
            name.push_str(" Plus");
        }
        // Few brands under 1% of their category are in the programme (those
        // that are were admitted before, and are at risk now).
        let small = market_share < 0.01;
        let status = match self.rng.random_range(0.0..1.0) {
            _ if rank == 0 => BrandStatus::Active,
            x if small && x < 0.2 => BrandStatus::Active,
            x if small && x < 0.25 => BrandStatus::Watchlist,
            _ if small => BrandStatus::Prospect,
            x if x < 0.7 => BrandStatus::Active,
            x if x < 0.92 => BrandStatus::Prospect,
            x if x < 0.97 => BrandStatus::Watchlist,
            _ => BrandStatus::Suspended,
        };
        let luxury = code == "LUXURY";
        BrandPlan {
            id: 0,
            name,
            category,
            status,
            market_share,
            store_reach: (0.004 + market_share * 0.12) * self.rng.random_range(0.6..1.4),
            paid_affinity: if luxury {
                4.0
            } else {
                self.rng.random_range(0.6..3.5)
            },
            order_value: if luxury {
                self.rng.random_range(1500.0..6000.0)
            } else {
                self.rng.random_range(60.0..900.0)
            },
            price_style: match self.rng.random_range(0.0..1.0) {
                x if x < 0.6 => 0,
                x if x < 0.85 => 1,
                _ => 2,
            },
            paid_mention_share: self.rng.random_range(0.05..0.6),
            long_tail: false,
        }
    }

    /// The next member, `id`, and the stores among `brands` it joined.
    pub fn member(&mut self, id: i64, brands: &[BrandPlan]) -> MemberPlan {
        let as_of = self.as_of;
        let rng = &mut self.rng;
        let roll: f64 = rng.random_range(0.0..1.0);
        let mut cumulative = 0.0;
        let (tier, ceiling) = TIER_SHARES
            .iter()
            .find(|(_, share, _)| {
                cumulative += share;
                roll < cumulative
            })
            .map_or((GrowthTier::BlackDiamond, 6000), |(t, _, c)| (*t, *c));
        let points = rng.random_range(tier.min_points()..=ceiling);
        let tier_rank = tier as usize;

        let age_center: f64 = if tier >= GrowthTier::Diamond {
            1986.0
        } else {
            1994.0
        };
        let latest = as_of.year() - 16;
        let birth_year = (Normal::new(age_center, 8.5)
            .map_or(age_center, |d| d.sample(rng))
            .round() as i32)
            .clamp(1945, latest);
        // Spread over the year by id, not drawn, so the rest of the data
        // set stays what it was before birth dates existed.
        let day_of_year = u32::try_from(id.rem_euclid(365)).unwrap_or_default() + 1;
        let birth_date = NaiveDate::from_yo_opt(birth_year, day_of_year);
        let gender = match rng.random_range(0.0..1.0) {
            x if x < 0.56 => Gender::Female,
            x if x < 0.97 => Gender::Male,
            _ => Gender::Unknown,
        };
        let city_shift = tier_rank as f64 * 0.03;
        let city_tier = match rng.random_range(0.0..1.0) - city_shift {
            x if x < 0.09 => CityTier::Tier1,
            x if x < 0.26 => CityTier::NewTier1,
            x if x < 0.46 => CityTier::Tier2,
            x if x < 0.68 => CityTier::Tier3,
            x if x < 0.86 => CityTier::Tier4,
            _ => CityTier::Tier5,
        };
        let paid_member = points >= PAID_MEMBER_MIN_POINTS
            && rng.random_bool([0.0, 0.0, 0.08, 0.16, 0.3, 0.5][tier_rank]);
        let median_yuan = [700.0, 2200.0, 5500.0, 11000.0, 24000.0, 60000.0][tier_rank]
            * if paid_member { 1.5 } else { 1.0 }
            * if city_tier <= CityTier::NewTier1 {
                1.3
            } else {
                1.0
            };
        let spend_yuan =
            LogNormal::new(f64::ln(median_yuan), 0.75).map_or(median_yuan, |d| d.sample(rng));
        let annual_spend_cents = (spend_yuan * 100.0).round() as i64;
        let black_card = points >= BLACK_CARD_MIN_POINTS && {
            let era: f64 = if (1980..1990).contains(&birth_year) {
                2.4
            } else {
                0.5
            };
            let spend = if spend_yuan > 50_000.0 { 2.0 } else { 0.4 };
            rng.random_bool((0.0021 * era * spend).min(1.0))
        };

        // Interests: 1 to 5, weighted by gender, age and spend.
        let age = as_of.year() - birth_year;
        let mut weights: Vec<f64> = <Interest as strum::IntoEnumIterator>::iter()
            .map(|interest| match interest {
                Interest::Beauty if gender == Gender::Female => 3.0,
                Interest::Fashion if gender == Gender::Female => 2.5,
                Interest::Digital | Interest::Gaming if gender == Gender::Male => 2.5,
                Interest::MotherBaby if (26..=40).contains(&age) => 1.8,
                Interest::MotherBaby => 0.2,
                Interest::Luxury if spend_yuan > 30_000.0 => 2.5,
                Interest::Luxury => 0.25,
                Interest::Gaming if age > 40 => 0.3,
                Interest::Health if age > 40 => 2.0,
                _ => 1.0,
            })
            .collect();
        let count = 1 + (0..4).filter(|_| rng.random_bool(0.45)).count();
        let interests = weighted_sample(rng, &mut weights, count);

        let services = SERVICES
            .iter()
            .zip([0.55, 0.2, 0.45, 0.15, 0.5])
            .enumerate()
            .filter(|(_, (_, base))| {
                rng.random_bool(if paid_member {
                    (base + 0.25_f64).min(0.95)
                } else {
                    *base
                })
            })
            .fold(0, |bits, (value, _)| bits | value_bit(value));

        let tier_factor = 0.6 + 0.25 * tier_rank as f64;
        // The long tail's stores are drawn from its own stream.
        let tail = &mut self.tail;
        let stores = brands
            .iter()
            .filter_map(|brand| {
                let rng = if brand.long_tail {
                    &mut *tail
                } else {
                    &mut *rng
                };
                let affinity = if interests & CATEGORIES[brand.category].2.bit() != 0 {
                    3.0
                } else {
                    0.45
                };
                let paid = if paid_member {
                    brand.paid_affinity
                } else {
                    1.0
                };
                let p = (brand.store_reach * affinity * paid * tier_factor).min(0.9);
                rng.random_bool(p).then(|| {
                    let days = rng.random_range(0..1100);
                    (brand.id, as_of - Duration::days(days))
                })
            })
            .collect();

        MemberPlan {
            member: entity::member::Model {
                id,
                points,
                paid_member,
                black_card,
                birth_year,
                gender,
                city_tier,
                annual_spend_cents,
                interests,
                services,
                birth_date,
            },
            stores,
        }
    }

    /// Monthly sales for the 24 months up to the as-of month.
    pub fn sales(&mut self, brand: &BrandPlan) -> Vec<entity::category_sales::Model> {
        let yearly = CATEGORIES[brand.category].3 * brand.market_share;
        let this_month = first_of_month(self.as_of);
        (0..24)
            .map(|back| {
                let month = months_before(this_month, back);
                let season = match month.month() {
                    11 => 2.2,
                    6 => 1.6,
                    1 | 2 => 0.8,
                    _ => 0.92,
                };
                let noise = LogNormal::new(0.0, 0.12).map_or(1.0, |d| d.sample(&mut self.rng));
                let gmv_yuan = yearly / 12.0 * season * noise;
                let refund_rate = self.rng.random_range(0.04..0.15);
                entity::category_sales::Model {
                    brand_id: brand.id,
                    month,
                    gmv_cents: (gmv_yuan * 100.0).round() as i64,
                    refund_cents: (gmv_yuan * refund_rate * 100.0).round() as i64,
                    orders: (gmv_yuan / brand.order_value).round().max(1.0) as i64,
                }
            })
            .collect()
    }

    /// Daily prices of the brand's SKUs over the last 120 days.
    pub fn prices(&mut self, brand: &BrandPlan) -> Vec<entity::sku_price::Model> {
        let skus = self.rng.random_range(3..=10);
        let (noise, promo_chance, promo_depth) = match brand.price_style {
            0 => (0.015, 0.02, 0.9),
            1 => (0.05, 0.12, 0.8),
            _ => (0.1, 0.25, 0.55),
        };
        let mut rows = Vec::with_capacity(skus * 120);
        for sku in 1..=skus {
            let list = brand.order_value * self.rng.random_range(0.4..1.6);
            let base_units = self.rng.random_range(5.0..400.0) / (1.0 + list / 500.0);
            for back in (0..120).rev() {
                let day = self.as_of - Duration::days(back);
                let promo = self.rng.random_bool(promo_chance);
                let jitter = Normal::new(1.0, noise).map_or(1.0, |d| d.sample(&mut self.rng));
                let price = list * jitter * if promo { promo_depth } else { 1.0 };
                let units =
                    base_units * if promo { 2.5 } else { 1.0 } * self.rng.random_range(0.5..1.5);
                rows.push(entity::sku_price::Model {
                    brand_id: brand.id,
                    sku: format!("B{}-SKU{sku:02}", brand.id),
                    day,
                    price_cents: (price.max(1.0) * 100.0).round() as i64,
                    units: units.round() as i64,
                });
            }
        }
        rows
    }

    /// Weekly mentions for the last 26 weeks.
    pub fn mentions(&mut self, brand: &BrandPlan) -> Vec<entity::social_mention::Model> {
        let weekly = 40_000.0 * brand.market_share.powf(0.75);
        (0..26)
            .rev()
            .map(|back| {
                let noise = LogNormal::new(0.0, 0.25).map_or(1.0, |d| d.sample(&mut self.rng));
                let total = weekly * noise;
                let paid = total * brand.paid_mention_share;
                entity::social_mention::Model {
                    brand_id: brand.id,
                    period_start: self.as_of - Duration::days(7 * back + 6),
                    voluntary: (total - paid).round() as i64,
                    paid: paid.round() as i64,
                }
            })
            .collect()
    }
}

fn title_case(code: &str) -> String {
    let lower = code.replace('_', " ").to_lowercase();
    let mut chars = lower.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn first_of_month(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

fn months_before(month: NaiveDate, back: u32) -> NaiveDate {
    month
        .checked_sub_months(chrono::Months::new(back))
        .unwrap_or(month)
}

/// Draws up to `count` indices into `weights`, each with probability
/// proportional to its weight (a drawn one's weight is zeroed), and packs
/// them as a member's `interests` hold them: bit `value_bit(index)` for
/// each index drawn.
fn weighted_sample<R: Rng>(rng: &mut R, weights: &mut [f64], count: usize) -> i32 {
    let mut chosen = 0;
    for _ in 0..count.min(weights.len()) {
        let total: f64 = weights.iter().sum();
        let mut roll = rng.random_range(0.0..total);
        let index = weights
            .iter()
            .position(|w| {
                roll -= w;
                roll < 0.0
            })
            .unwrap_or(weights.len() - 1);
        chosen |= value_bit(index);
        weights[index] = 0.0;
    }
    chosen
}
