//! The platform release: once per data epoch, under the platform's own
//! ledger, every one- and two-way table of platform members (counts over
//! each pair of dimensions, spend sums over each dimension) is released
//! with noise, made consistent by post-processing and stored. A brand's
//! platform question is a slice of it: free, the same for every brand, and
//! independent of what any brand asked before. Questions it can't answer
//! (three dimensions, a share within a two-way breakdown) are released for
//! the asking brand alone, from its own budget.
//!
//! Noise: every count table gets the same scale `b = ΣΔ / ε_counts` (a
//! table's ε is proportional to its sensitivity Δ: 1, or the multi-value
//! cap for tables over interests or services), and so do spend tables.
//! Post-processing (free): each dimension's one-way counts are the
//! inverse-variance average of its two-way tables summed over the partner,
//! single-valued ones shifted to one common total, and each two-way table
//! is then moved (least squares) onto those one-way counts, so slicing any
//! table gives the same number for the same cells.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Instant,
};

use chrono::Utc;
use entity::{data_epoch, platform_release};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait as _};
use serde::{Deserialize, Serialize};

use super::{Cells, Dimension, Population, Released, TableKind, aggregate, cube};
use crate::privacy::{self, NoiseInfo, PrivacySettings};

/// The share of a release's ε that goes to member counts; the rest goes to
/// spend sums.
const COUNT_SHARE_PERCENT: u64 = 75;

/// A dense table over some dimensions, row-major in the order given.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Dense {
    dimensions: Vec<Dimension>,
    values: Vec<f64>,
}

impl Dense {
    fn zeros(dimensions: Vec<Dimension>) -> Self {
        let size = dimensions.iter().map(|d| d.cardinality()).product();
        Self {
            dimensions,
            values: vec![0.0; size],
        }
    }

    /// The value of every cell as the list of its dimension values.
    fn cells(&self) -> impl Iterator<Item = (Vec<i16>, f64)> + '_ {
        self.values.iter().enumerate().map(|(mut index, value)| {
            let mut key = vec![0; self.dimensions.len()];
            for (slot, dimension) in self.dimensions.iter().enumerate().rev() {
                let radix = dimension.cardinality();
                key[slot] = (index % radix) as i16;
                index /= radix;
            }
            (key, *value)
        })
    }

    fn index(&self, key: &[i16]) -> usize {
        self.dimensions
            .iter()
            .zip(key)
            .fold(0, |index, (d, v)| index * d.cardinality() + *v as usize)
    }

    /// Sums over every dimension but `keep` (which must be one of them).
    fn margin(&self, keep: Dimension) -> Vec<f64> {
        let slot = self
            .dimensions
            .iter()
            .position(|d| *d == keep)
            .expect("a table's own dimension");
        let mut out = vec![0.0; keep.cardinality()];
        for (key, value) in self.cells() {
            out[key[slot] as usize] += value;
        }
        out
    }
}

/// One released table with how its cells were noised.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Noisy {
    table: Dense,
    /// Noise on one cell as released (before post-processing).
    noise: NoiseInfo,
    /// Variance of one cell after post-processing (an upper bound).
    variance: f64,
}

/// The platform's released tables for one epoch.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PlatformRelease {
    /// ε the whole release spent, in millionths.
    pub epsilon_micros: u64,
    /// Platform members, consolidated over every single-valued dimension.
    total: Noisy,
    /// Member counts per dimension.
    marginals: Vec<Noisy>,
    /// Member counts per pair of dimensions (not two multi-valued ones).
    pairs: Vec<Noisy>,
    /// Clamped spend sums of everyone.
    spend_total: Noisy,
    /// Clamped spend sums per dimension.
    spend: Vec<Noisy>,
}

/// Variance of discrete Laplace noise of scale `b`.
fn laplace_variance(b: f64) -> f64 {
    let q = (-1.0 / b).exp();
    2.0 * q / ((1.0 - q) * (1.0 - q))
}

/// The pairs of dimensions released: every pair but interests × services
/// (a member's contribution to it would be the cap squared).
fn pairs() -> Vec<[Dimension; 2]> {
    let all = Dimension::ALL;
    let mut out = Vec::new();
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            if !(a.is_multi_valued() && b.is_multi_valued()) {
                out.push([*a, *b]);
            }
        }
    }
    out
}

/// Releases `truth` with ε in proportion to its sensitivity out of a part
/// of the release with `epsilon_micros` over `total_sensitivity`.
fn noised(truth: &Dense, sensitivity: u64, epsilon_micros: u64, total_sensitivity: u64) -> Noisy {
    let epsilon = epsilon_micros * sensitivity / total_sensitivity;
    let values: Vec<i64> = truth.values.iter().map(|v| *v as i64).collect();
    let (noisy, noise) = privacy::release(
        &privacy::Table {
            values: &values,
            sensitivity,
        },
        epsilon,
    );
    Noisy {
        table: Dense {
            dimensions: truth.dimensions.clone(),
            values: noisy.into_iter().map(|v| v as f64).collect(),
        },
        noise,
        variance: laplace_variance(noise.scale),
    }
}

/// Inverse-variance average of estimates of the same cells, each given as
/// (values, variance of one value); with the combined variance.
fn combine(estimates: &[(Vec<f64>, f64)]) -> (Vec<f64>, f64) {
    let weight: f64 = estimates.iter().map(|(_, var)| 1.0 / var).sum();
    let mut out = vec![0.0; estimates[0].0.len()];
    for (values, var) in estimates {
        for (o, v) in out.iter_mut().zip(values) {
            *o += v / var / weight;
        }
    }
    (out, 1.0 / weight)
}

/// Builds the release of `epoch` with `epsilon_micros` from its cube.
pub(crate) async fn build(
    db: &impl ConnectionTrait,
    epoch: &data_epoch::Model,
    epsilon_micros: u64,
) -> Result<PlatformRelease, DbErr> {
    let cap = u64::try_from(epoch.multi_value_cap).unwrap_or(1).max(1);
    let sensitivity = |dims: &[Dimension]| {
        if dims.iter().any(|d| d.is_multi_valued()) {
            cap
        } else {
            1
        }
    };
    // The truth: one cube query per pair gives its counts and spend sums;
    // one-way spend sums are pair sums over a single-valued partner.
    let mut count_truth = Vec::new();
    let mut spend_by_pair = Vec::new();
    for pair in pairs() {
        let cells = Cells {
            population: Population::Platform,
            filters: BTreeMap::new(),
            breakdown: pair.to_vec(),
        };
        let truth = aggregate(db, epoch, 0, &cells).await?;
        let mut counts = Dense::zeros(pair.to_vec());
        let mut spend = Dense::zeros(pair.to_vec());
        // A value code the dimension no longer lists counts nowhere.
        let known = |key: &[i16]| {
            pair.iter()
                .zip(key)
                .all(|(d, v)| (0..d.cardinality() as i16).contains(v))
        };
        for (key, cell) in truth.into_iter().filter(|(key, _)| known(key)) {
            let index = counts.index(&key);
            counts.values[index] = cell.members as f64;
            spend.values[index] = cell.spend as f64;
        }
        count_truth.push(counts);
        spend_by_pair.push(spend);
    }
    let spend_truth: Vec<Dense> = Dimension::ALL
        .iter()
        .map(|d| {
            let table = spend_by_pair
                .iter()
                .find(|t| {
                    t.dimensions.contains(d)
                        && t.dimensions.iter().any(|p| p != d && !p.is_multi_valued())
                })
                .expect("every dimension pairs with a single-valued one");
            Dense {
                dimensions: vec![*d],
                values: table.margin(*d),
            }
        })
        .collect();

    let count_epsilon = epsilon_micros * COUNT_SHARE_PERCENT / 100;
    let spend_epsilon = epsilon_micros - count_epsilon;
    let count_sensitivity: u64 = count_truth.iter().map(|t| sensitivity(&t.dimensions)).sum();
    let raw_pairs: Vec<Noisy> = count_truth
        .iter()
        .map(|t| {
            noised(
                t,
                sensitivity(&t.dimensions),
                count_epsilon,
                count_sensitivity,
            )
        })
        .collect();
    let spend_sensitivity: u64 = spend_truth
        .iter()
        .map(|t| sensitivity(&t.dimensions) * cube::SPEND_CLAMP_YUAN as u64)
        .sum();
    let spend: Vec<Noisy> = spend_truth
        .iter()
        .map(|t| {
            noised(
                t,
                sensitivity(&t.dimensions) * cube::SPEND_CLAMP_YUAN as u64,
                spend_epsilon,
                spend_sensitivity,
            )
        })
        .collect();
    Ok(consistent(epsilon_micros, raw_pairs, spend))
}

/// Post-processing: one-way counts from the pairs, one total, pairs moved
/// onto the one-way counts, a spend total from the one-way spend sums.
fn consistent(epsilon_micros: u64, mut pairs: Vec<Noisy>, spend: Vec<Noisy>) -> PlatformRelease {
    // One-way counts: each pair with a single-valued partner summed over
    // it, averaged by inverse variance (a sum of n cells has n times the
    // variance of one).
    let mut marginals: Vec<Noisy> = Dimension::ALL
        .iter()
        .map(|d| {
            let estimates: Vec<(Vec<f64>, f64)> = pairs
                .iter()
                .filter(|p| p.table.dimensions.contains(d))
                .filter_map(|p| {
                    let partner = *p.table.dimensions.iter().find(|x| *x != d)?;
                    (!partner.is_multi_valued()).then(|| {
                        (
                            p.table.margin(*d),
                            p.variance * partner.cardinality() as f64,
                        )
                    })
                })
                .collect();
            let (values, variance) = combine(&estimates);
            let noise = pairs
                .iter()
                .find(|p| p.table.dimensions.contains(d))
                .map(|p| p.noise)
                .expect("every dimension is in a pair");
            Noisy {
                table: Dense {
                    dimensions: vec![*d],
                    values,
                },
                noise,
                variance,
            }
        })
        .collect();
    // One total: the inverse-variance average of the sums of the pairs of
    // single-valued dimensions (independent noise, n cells each), every
    // single-valued one-way table shifted evenly onto it.
    let totals: Vec<(Vec<f64>, f64)> = pairs
        .iter()
        .filter(|p| p.table.dimensions.iter().all(|d| !d.is_multi_valued()))
        .map(|p| {
            let n = p.table.values.len() as f64;
            (vec![p.table.values.iter().sum::<f64>()], p.variance * n)
        })
        .collect();
    let (total, total_variance) = combine(&totals);
    let total = total[0];
    let single = |m: &&mut Noisy| !m.table.dimensions[0].is_multi_valued();
    for marginal in marginals.iter_mut().filter(single) {
        let n = marginal.table.values.len() as f64;
        let shift = (total - marginal.table.values.iter().sum::<f64>()) / n;
        marginal.table.values.iter_mut().for_each(|v| *v += shift);
    }
    // Each pair onto its one-way tables: rows and columns of two
    // single-valued dimensions (the least-squares projection), only the
    // multi-valued side's sums for a pair with one.
    for pair in &mut pairs {
        let [a, b] = [pair.table.dimensions[0], pair.table.dimensions[1]];
        let target = |d: Dimension| {
            marginals
                .iter()
                .find(|m| m.table.dimensions[0] == d)
                .map(|m| m.table.values.clone())
                .expect("every dimension has one-way counts")
        };
        let (rows, columns) = (pair.table.margin(a), pair.table.margin(b));
        let (ra, cb) = (a.cardinality() as f64, b.cardinality() as f64);
        let (target_a, target_b) = (target(a), target(b));
        let moves: Vec<(Vec<i16>, f64)> = pair
            .table
            .cells()
            .map(|(key, _)| {
                let (i, j) = (key[0] as usize, key[1] as usize);
                let delta = match (a.is_multi_valued(), b.is_multi_valued()) {
                    (false, false) => {
                        (target_a[i] - rows[i]) / cb + (target_b[j] - columns[j]) / ra
                            - (total - rows.iter().sum::<f64>()) / (ra * cb)
                    }
                    (true, _) => (target_a[i] - rows[i]) / cb,
                    (_, true) => (target_b[j] - columns[j]) / ra,
                };
                (key, delta)
            })
            .collect();
        for (key, delta) in moves {
            let index = pair.table.index(&key);
            pair.table.values[index] += delta;
        }
    }
    let spend_totals: Vec<(Vec<f64>, f64)> = spend
        .iter()
        .filter(|s| !s.table.dimensions[0].is_multi_valued())
        .map(|s| {
            (
                vec![s.table.values.iter().sum::<f64>()],
                s.variance * s.table.values.len() as f64,
            )
        })
        .collect();
    let (spend_total, spend_total_variance) = combine(&spend_totals);
    let spend_noise = spend[0].noise;
    let total_noise = marginals[0].noise;
    PlatformRelease {
        epsilon_micros,
        total: Noisy {
            table: Dense {
                dimensions: Vec::new(),
                values: vec![total],
            },
            noise: total_noise,
            variance: total_variance,
        },
        marginals,
        pairs,
        spend_total: Noisy {
            table: Dense {
                dimensions: Vec::new(),
                values: spend_total,
            },
            noise: spend_noise,
            variance: spend_total_variance,
        },
        spend,
    }
}

impl PlatformRelease {
    /// Noisy tables released (before post-processing).
    fn tables(&self) -> usize {
        self.pairs.len() + self.spend.len()
    }

    /// Cells in them.
    fn cells(&self) -> usize {
        self.pairs
            .iter()
            .chain(&self.spend)
            .map(|t| t.table.values.len())
            .sum()
    }

    /// The table `kind` over `cells` (platform population) sliced from the
    /// release, or `None` when the release does not hold those cells.
    pub(super) fn slice(&self, cells: &Cells, kind: TableKind) -> Option<Released> {
        if cells.population != Population::Platform || cells.needs_member_rows() {
            return None;
        }
        let mut allowed = cells.filters.clone();
        let holding = match kind {
            TableKind::PaidMembers => Some(Dimension::PaidMember),
            TableKind::BlackCardMembers => Some(Dimension::BlackCard),
            _ => None,
        };
        if let Some(holding) = holding {
            let yes = BTreeSet::from([1]);
            let held = match allowed.get(&holding) {
                Some(values) => values.intersection(&yes).copied().collect(),
                None => yes,
            };
            allowed.insert(holding, held);
        }
        let dimensions: BTreeSet<Dimension> =
            allowed.keys().chain(&cells.breakdown).copied().collect();
        let source = self.source(&dimensions, kind == TableKind::SpendSum)?;
        let mut summed = 0;
        let values = cells
            .keys()
            .iter()
            .map(|key| {
                let mut sum = 0.0;
                summed = 0;
                for (cell, value) in source.table.cells() {
                    let inside = source.table.dimensions.iter().zip(&cell).all(|(d, v)| {
                        let held = Some(*d) != holding || allowed[d].contains(v);
                        held && match cells.breakdown.iter().position(|b| b == d) {
                            Some(slot) => key[slot] == *v,
                            None => allowed.get(d).is_none_or(|set| set.contains(v)),
                        }
                    });
                    if inside {
                        sum += value;
                        summed += 1;
                    }
                }
                sum.round() as i64
            })
            .collect();
        // A sum of n cells: n times one cell's variance; never narrower
        // than one cell's own noise as released.
        let variance = source.variance * f64::from(summed.max(1));
        let raw_cell = summed <= 1 && source.table.dimensions.len() == 2;
        let floor = if raw_cell {
            source.noise.interval95 as f64
        } else {
            0.0
        };
        let interval95 = (1.96 * variance.sqrt()).max(floor);
        Some(Released {
            values,
            noise: NoiseInfo {
                interval95: interval95.ceil() as i64,
                ..source.noise
            },
        })
    }

    /// The released table over exactly `dimensions`, if there is one.
    fn source(&self, dimensions: &BTreeSet<Dimension>, spend: bool) -> Option<&Noisy> {
        let over = |t: &&Noisy| {
            t.table.dimensions.len() == dimensions.len()
                && t.table.dimensions.iter().all(|d| dimensions.contains(d))
        };
        match (dimensions.len(), spend) {
            (0, false) => Some(&self.total),
            (0, true) => Some(&self.spend_total),
            (1, false) => self.marginals.iter().find(over),
            (1, true) => self.spend.iter().find(over),
            (2, false) => self.pairs.iter().find(over),
            _ => None,
        }
    }
}

/// The release of `epoch`: stored, or built now with the settings' ε per
/// epoch and stored (the platform ledger's entry for the epoch) — unless
/// that would take the releases of the last 365 days past the platform's
/// yearly budget: then the epoch has none, and platform questions are
/// released per brand from its own budget. Two builders racing both
/// build; the first insert wins and the other's tables, never shown, are
/// dropped for the stored ones.
pub(crate) async fn of_epoch(
    db: &impl ConnectionTrait,
    epoch: &data_epoch::Model,
    settings: &PrivacySettings,
) -> Result<Option<PlatformRelease>, DbErr> {
    if let Some(stored) = load(db, epoch.id).await? {
        return Ok(Some(stored));
    }
    let epsilon_micros = settings.platform_epsilon_per_epoch_micros;
    let spent = spent_since(db, Utc::now() - chrono::Duration::days(365)).await?;
    if spent.saturating_add(epsilon_micros) > settings.platform_yearly_budget_micros {
        tracing::warn!(
            epoch = epoch.id,
            spent_micros = spent,
            "the platform's yearly budget can't pay for this epoch's release"
        );
        return Ok(None);
    }
    let start = Instant::now();
    let release = build(db, epoch, epsilon_micros).await?;
    let json = serde_json::to_string(&release).map_err(|e| DbErr::Custom(e.to_string()))?;
    let inserted = platform_release::Entity::insert(platform_release::ActiveModel {
        epoch_id: Set(epoch.id),
        epsilon_micros: Set(i64::try_from(epsilon_micros).unwrap_or(i64::MAX)),
        tables: Set(release.tables() as i32),
        cells: Set(release.cells() as i32),
        build_ms: Set(start.elapsed().as_millis() as i64),
        release: Set(json),
        created_at: Set(Utc::now()),
    })
    .exec_without_returning(db)
    .await;
    match inserted {
        Ok(_) => {
            tracing::info!(
                epoch = epoch.id,
                tables = release.tables(),
                cells = release.cells(),
                elapsed_ms = start.elapsed().as_millis() as u64,
                "platform release built"
            );
            Ok(Some(release))
        }
        Err(error) => load(db, epoch.id).await?.ok_or(error).map(Some),
    }
}

/// One entry of the platform ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// The epoch released.
    pub epoch_id: i64,
    /// ε spent.
    pub epsilon_micros: u64,
    /// Noisy tables released.
    pub tables: i32,
    /// Cells in them.
    pub cells: i32,
    /// Build time in milliseconds.
    pub build_ms: i64,
    /// When.
    pub released_at: chrono::DateTime<Utc>,
}

/// The platform ledger: the newest `limit` releases, newest first, and the
/// ε spent by releases since `since`.
pub async fn ledger(
    db: &impl ConnectionTrait,
    limit: u64,
    since: chrono::DateTime<Utc>,
) -> Result<(Vec<LedgerEntry>, u64), DbErr> {
    Ok((newest(db, limit).await?, spent_since(db, since).await?))
}

/// The newest `limit` releases' ledger entries, newest first.
pub(crate) async fn newest(
    db: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<LedgerEntry>, DbErr> {
    use platform_release::Column;
    use sea_orm::{QueryOrder as _, QuerySelect as _};
    // Never the stored tables themselves: the ledger is their metadata.
    let newest = platform_release::Entity::find()
        .select_only()
        .columns([
            Column::EpochId,
            Column::EpsilonMicros,
            Column::Tables,
            Column::Cells,
            Column::BuildMs,
            Column::CreatedAt,
        ])
        .order_by_desc(Column::EpochId)
        .limit(limit)
        .into_tuple::<(i64, i64, i32, i32, i64, chrono::DateTime<Utc>)>()
        .all(db)
        .await?
        .into_iter()
        .map(
            |(epoch_id, epsilon, tables, cells, build_ms, released_at)| LedgerEntry {
                epoch_id,
                epsilon_micros: epsilon.max(0) as u64,
                tables,
                cells,
                build_ms,
                released_at,
            },
        )
        .collect();
    Ok(newest)
}

/// ε spent by the releases made since `since`.
async fn spent_since(
    db: &impl ConnectionTrait,
    since: chrono::DateTime<Utc>,
) -> Result<u64, DbErr> {
    use sea_orm::{ColumnTrait as _, QueryFilter as _, QuerySelect as _};
    Ok(platform_release::Entity::find()
        .select_only()
        .column(platform_release::Column::EpsilonMicros)
        .filter(platform_release::Column::CreatedAt.gte(since))
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .map(|e| e.max(0) as u64)
        .sum())
}

/// The stored release of epoch `epoch_id`, if one was made.
pub(crate) async fn load(
    db: &impl ConnectionTrait,
    epoch_id: i64,
) -> Result<Option<PlatformRelease>, DbErr> {
    platform_release::Entity::find_by_id(epoch_id)
        .one(db)
        .await?
        .map(|row| serde_json::from_str(&row.release).map_err(|e| DbErr::Custom(e.to_string())))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noisy(dimensions: Vec<Dimension>, values: Vec<f64>) -> Noisy {
        Noisy {
            table: Dense { dimensions, values },
            noise: NoiseInfo {
                scale: 10.0,
                interval95: 30,
                sensitivity: 1,
            },
            variance: laplace_variance(10.0),
        }
    }

    /// A release of the given pair values (constant spend).
    fn release_of(mut value: impl FnMut() -> f64) -> PlatformRelease {
        let raw: Vec<Noisy> = pairs()
            .into_iter()
            .map(|pair| {
                let size = pair[0].cardinality() * pair[1].cardinality();
                noisy(pair.to_vec(), (0..size).map(|_| value()).collect())
            })
            .collect();
        let spend: Vec<Noisy> = Dimension::ALL
            .iter()
            .map(|d| noisy(vec![*d], vec![1.0; d.cardinality()]))
            .collect();
        consistent(1_000_000, raw, spend)
    }

    /// Paid members broken down by paid membership: the NO cell holds
    /// none, whatever the counts.
    #[test]
    fn a_holders_table_counts_only_holders() {
        let release = release_of(|| 10.0);
        let cells = Cells {
            population: Population::Platform,
            filters: BTreeMap::new(),
            breakdown: vec![Dimension::PaidMember],
        };
        let members = release.slice(&cells, TableKind::Members).expect("held");
        let paid = release.slice(&cells, TableKind::PaidMembers).expect("held");
        assert_eq!(paid.values[0], 0);
        assert_eq!(paid.values[1], members.values[1]);
        assert!(members.values[0] > 0);
    }

    /// After post-processing every pair sums to its dimensions' one-way
    /// counts, and every single-valued one-way table to the one total.
    #[test]
    fn post_processing_makes_the_tables_agree() {
        let mut rng_state = 7_u64;
        let release = release_of(|| {
            rng_state = rng_state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            ((rng_state >> 33) % 1_000) as f64
        });
        let total = release.total.table.values[0];
        for marginal in &release.marginals {
            let d = marginal.table.dimensions[0];
            if !d.is_multi_valued() {
                let sum: f64 = marginal.table.values.iter().sum();
                assert!((sum - total).abs() < 1e-6, "{d}: {sum} vs {total}");
            }
        }
        for pair in &release.pairs {
            for d in &pair.table.dimensions {
                let partner = pair.table.dimensions.iter().find(|p| *p != d).expect("two");
                if partner.is_multi_valued() {
                    continue;
                }
                let one_way = &release
                    .marginals
                    .iter()
                    .find(|m| m.table.dimensions[0] == *d)
                    .expect("one-way")
                    .table
                    .values;
                for (got, want) in pair.table.margin(*d).iter().zip(one_way) {
                    assert!(
                        (got - want).abs() < 1e-6,
                        "{d} in {:?}",
                        pair.table.dimensions
                    );
                }
            }
        }
    }
}
