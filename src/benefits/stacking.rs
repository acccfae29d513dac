//! Cell analysis: for every segment cell (growth tier × paid member × black
//! card, optionally × age band, city tier or interest), which of a brand's
//! benefits a member there gets after targeting, upgrades and stacking, what
//! each one lost to, the conflicts between rules, and the benefits that are
//! dead (never targeted anywhere, or always overridden). Pure functions.

use serde::Serialize;

use super::{
    Benefit,
    definition::{Definition, KindCode, StackMode, Upgrade},
    targeting::{Holding, Match, Profile},
};
use crate::{platform::GrowthTier, segments::dimensions::Dimension};

/// Extra dimensions a cell analysis may add to the programme axes.
pub(crate) const EXTRA_DIMENSIONS: [Dimension; 3] =
    [Dimension::AgeBand, Dimension::CityTier, Dimension::Interest];

/// A cell of members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Cell {
    /// Growth tier.
    pub tier: GrowthTier,
    /// Paid members.
    pub paid: bool,
    /// Black-card holders.
    pub black_card: bool,
    /// Values of the extra dimensions asked for.
    pub extras: Vec<(Dimension, String)>,
}

/// A benefit taking part in the analysis.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate<'a> {
    /// The benefit's id.
    pub id: i64,
    /// Its definition.
    pub definition: &'a Definition,
}

impl<'a> Candidate<'a> {
    /// The benefits' live definitions, as they compete (those without one
    /// take no part).
    pub(crate) fn live(benefits: &'a [Benefit]) -> Vec<Self> {
        benefits
            .iter()
            .filter_map(|b| {
                b.live.as_ref().map(|definition| Candidate {
                    id: b.row.id,
                    definition,
                })
            })
            .collect()
    }
}

/// A benefit a cell gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Applied {
    /// The benefit.
    pub id: i64,
    /// Its headline value in this cell (upgraded or not).
    pub value: Option<i64>,
    /// The upgrade applies here.
    pub upgraded: bool,
    /// Dimensions the benefit targets that the analysis does not split
    /// by: only the cell's members who match them get it.
    pub partial: Vec<Dimension>,
}

/// Why a matching benefit does not apply. Serde names are stored in
/// orders' quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OverrideReason {
    /// An exclusive benefit applies.
    ExclusiveApplies,
    /// A higher-priority benefit applies and this one is exclusive.
    HigherPriorityApplies,
    /// Another best-of benefit of the same kind is worth more here.
    BestOfLower,
    /// A higher-priority benefit applies that it may not combine with.
    NotCombinable,
}

/// A matching benefit that does not apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Overridden {
    /// The benefit.
    pub id: i64,
    /// What it lost to.
    pub by: i64,
    /// Why.
    pub reason: OverrideReason,
}

/// Two benefits whose rules contradict each other in a cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Conflict {
    /// The one that applies.
    pub kept: i64,
    /// The one that lost.
    pub lost: i64,
    /// In words.
    pub reason: String,
}

/// What one cell gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CellOutcome {
    /// The cell.
    pub cell: Cell,
    /// The benefits that apply, highest priority first.
    pub applied: Vec<Applied>,
    /// Those that match but lose.
    pub overridden: Vec<Overridden>,
    /// Contradicting rules.
    pub conflicts: Vec<Conflict>,
}

/// Why a benefit is dead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadReason {
    /// No cell matches its targeting.
    NeverTargeted,
    /// It matches somewhere but always loses.
    AlwaysOverridden,
}

/// The whole analysis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Analysis {
    /// One outcome per cell.
    pub cells: Vec<CellOutcome>,
    /// Dead benefits.
    pub dead: Vec<(i64, DeadReason)>,
    /// Better-placed cells that get less than the cell one step below:
    /// an upgrade should replace, never remove.
    pub losing: Vec<LosingCell>,
}

/// A better-placed cell that gets less than the cell below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LosingCell {
    /// The cell that gets the benefit.
    pub lower: Cell,
    /// The better-placed cell one step up that does not get it (nor one of
    /// its kind worth as much).
    pub higher: Cell,
    /// The benefit the higher cell loses.
    pub benefit_id: i64,
    /// What it loses to there, if it is overridden (else it is not
    /// targeted there).
    pub by: Option<i64>,
}

/// The cells one step better placed than `cell`: paid, black card, the
/// next tier (the programme's rules permitting).
fn steps_up(cell: &Cell) -> Vec<Cell> {
    let mut up = Vec::new();
    if !cell.paid && cell.tier.may_hold(true, cell.black_card) {
        up.push(Cell {
            paid: true,
            ..cell.clone()
        });
    }
    if !cell.black_card && cell.tier.may_hold(cell.paid, true) {
        up.push(Cell {
            black_card: true,
            ..cell.clone()
        });
    }
    let next = GrowthTier::ALL
        .iter()
        .position(|t| *t == cell.tier)
        .and_then(|i| GrowthTier::ALL.get(i + 1));
    if let Some(tier) = next {
        up.push(Cell {
            tier: *tier,
            ..cell.clone()
        });
    }
    up
}

/// What `higher` gets less of than `lower`: each benefit `lower` gets that
/// `higher` gets neither itself nor one of its kind worth as much.
fn losses(lower: &CellOutcome, higher: &CellOutcome, all: &[Candidate<'_>]) -> Vec<LosingCell> {
    let kind_of = |benefit: i64| {
        all.iter()
            .find(|c| c.id == benefit)
            .map(|c| c.definition.kind.code())
    };
    lower
        .applied
        .iter()
        .filter(|got| {
            let kept = higher.applied.iter().any(|a| {
                a.id == got.id || (kind_of(a.id) == kind_of(got.id) && a.value >= got.value)
            });
            !kept
        })
        .map(|got| LosingCell {
            lower: lower.cell.clone(),
            higher: higher.cell.clone(),
            benefit_id: got.id,
            by: higher
                .overridden
                .iter()
                .find(|o| o.id == got.id)
                .map(|o| o.by),
        })
        .collect()
}

impl Cell {
    /// The programme cell a member is in.
    pub(crate) fn of(member: &Profile) -> Self {
        Self {
            tier: member.tier,
            paid: member.paid,
            black_card: member.black_card,
            extras: Vec::new(),
        }
    }

    /// What targeting knows of the cell's members.
    fn profile(&self) -> Profile {
        let mut profile = Profile::cell(self.tier, self.paid, self.black_card);
        for (dimension, code) in &self.extras {
            match dimension {
                Dimension::AgeBand => profile.age_band = code.parse().ok(),
                Dimension::CityTier => {
                    profile.city_tier = sea_orm::ActiveEnum::try_from_value(code).ok();
                }
                Dimension::Interest => {
                    profile.interests = Holding::AtLeast(code.parse().ok().into_iter().collect());
                }
                _ => {}
            }
        }
        profile
    }
}

/// Whether a cell's members match a definition's audience: `None` for
/// no, else the dimensions it narrows that the cell does not split by.
fn matches(definition: &Definition, cell: &Cell) -> Option<Vec<Dimension>> {
    match definition.audience().matches(&cell.profile()) {
        Match::No => None,
        Match::All => Some(Vec::new()),
        Match::Some(partial) => Some(partial),
    }
}

/// Whether a definition reaches any member of a growth tier, in any of
/// the tier's programme cells.
pub(crate) fn reaches_tier(definition: &Definition, tier: GrowthTier) -> bool {
    cells(&[])
        .iter()
        .filter(|cell| cell.tier == tier)
        .any(|cell| matches(definition, cell).is_some())
}

/// Whether a cell earns an upgrade.
pub(crate) fn upgrade_applies(
    upgrade: &Upgrade,
    tier: GrowthTier,
    paid: bool,
    black_card: bool,
) -> bool {
    upgrade.min_tier.is_none_or(|min| tier >= min)
        && (!upgrade.paid_member || paid)
        && (!upgrade.black_card || black_card)
}

fn combinable(a: &Definition, b: &Definition) -> bool {
    a.stacking.combines_with.contains(&b.kind.code())
        && b.stacking.combines_with.contains(&a.kind.code())
}

/// What one cell gets from `candidates`.
pub(crate) fn resolve(candidates: &[Candidate<'_>], cell: &Cell) -> CellOutcome {
    let mut matched: Vec<(Candidate<'_>, Applied)> = candidates
        .iter()
        .filter_map(|c| {
            let partial = matches(c.definition, cell)?;
            let upgraded = c
                .definition
                .upgrade
                .as_ref()
                .is_some_and(|u| upgrade_applies(u, cell.tier, cell.paid, cell.black_card));
            let value = match (&c.definition.upgrade, upgraded) {
                (Some(u), true) => Some(u.value),
                _ => c.definition.kind.value(),
            };
            Some((
                *c,
                Applied {
                    id: c.id,
                    value,
                    upgraded,
                    partial,
                },
            ))
        })
        .collect();
    let mut overridden = Vec::new();
    // Best-of: per kind, only the most valuable (then highest priority,
    // then oldest) stays in the running.
    let best: Vec<(KindCode, i64)> = {
        let mut best: Vec<(KindCode, (i64, i64, i64), i64)> = Vec::new();
        for (c, a) in matched
            .iter()
            .filter(|(c, _)| c.definition.stacking.mode == StackMode::BestOf)
        {
            let rank = (a.value.unwrap_or(0), c.definition.stacking.priority, -c.id);
            let code = c.definition.kind.code();
            match best.iter_mut().find(|(k, _, _)| *k == code) {
                Some(entry) if entry.1 < rank => *entry = (code, rank, c.id),
                Some(_) => {}
                None => best.push((code, rank, c.id)),
            }
        }
        best.into_iter().map(|(k, _, id)| (k, id)).collect()
    };
    matched.retain(|(c, _)| {
        if c.definition.stacking.mode != StackMode::BestOf {
            return true;
        }
        let code = c.definition.kind.code();
        match best.iter().find(|(k, _)| *k == code) {
            Some((_, winner)) if *winner != c.id => {
                overridden.push(Overridden {
                    id: c.id,
                    by: *winner,
                    reason: OverrideReason::BestOfLower,
                });
                false
            }
            _ => true,
        }
    });
    matched.sort_by_key(|(c, _)| (-c.definition.stacking.priority, c.id));
    let mut applied: Vec<(Candidate<'_>, Applied)> = Vec::new();
    let mut conflicts = Vec::new();
    for (c, a) in matched {
        let mode = c.definition.stacking.mode;
        // Rules bind within a class only: a shipping benefit never takes
        // an order discount away, whatever either says.
        let class = c.definition.kind.code().class();
        let rivals: Vec<&Candidate<'_>> = applied
            .iter()
            .map(|(x, _)| x)
            .filter(|x| x.definition.kind.code().class() == class)
            .collect();
        let blocker = if let Some(x) = rivals
            .iter()
            .find(|x| x.definition.stacking.mode == StackMode::Exclusive)
        {
            if mode == StackMode::Exclusive {
                conflicts.push(Conflict {
                    kept: x.id,
                    lost: c.id,
                    reason:
                        "two exclusive benefits of one class match; the higher priority applies"
                            .to_owned(),
                });
            }
            Some((x.id, OverrideReason::ExclusiveApplies))
        } else if let Some(x) = rivals.first().filter(|_| mode == StackMode::Exclusive) {
            Some((x.id, OverrideReason::HigherPriorityApplies))
        } else if let Some(x) = rivals
            .iter()
            .find(|x| !combinable(x.definition, c.definition))
        {
            conflicts.push(Conflict {
                kept: x.id,
                lost: c.id,
                reason: format!(
                    "{} and {} are both {} and do not list each other's kind in combinesWith",
                    x.definition.kind.code(),
                    c.definition.kind.code(),
                    class,
                ),
            });
            Some((x.id, OverrideReason::NotCombinable))
        } else {
            None
        };
        match blocker {
            Some((by, reason)) => overridden.push(Overridden {
                id: c.id,
                by,
                reason,
            }),
            None => applied.push((c, a)),
        }
    }
    CellOutcome {
        cell: cell.clone(),
        applied: applied.into_iter().map(|(_, a)| a).collect(),
        overridden,
        conflicts,
    }
}

/// Every cell of the programme axes (skipping combinations the programme's
/// rules exclude: paid below GOLD, black card below DIAMOND), crossed with
/// the values of `extras`.
pub(crate) fn cells(extras: &[Dimension]) -> Vec<Cell> {
    let mut cells = Vec::new();
    for tier in GrowthTier::ALL {
        for paid in [false, true] {
            for black_card in [false, true] {
                if !tier.may_hold(paid, black_card) {
                    continue;
                }
                cells.push(Cell {
                    tier,
                    paid,
                    black_card,
                    extras: Vec::new(),
                });
            }
        }
    }
    for dimension in extras {
        cells = cells
            .into_iter()
            .flat_map(|cell| {
                dimension.codes().into_iter().map(move |code| {
                    let mut cell = cell.clone();
                    cell.extras.push((*dimension, code.to_owned()));
                    cell
                })
            })
            .collect();
    }
    cells
}

/// Analyses `candidates` over every cell.
pub(crate) fn analyse(candidates: &[Candidate<'_>], extras: &[Dimension]) -> Analysis {
    let cells: Vec<CellOutcome> = cells(extras)
        .iter()
        .map(|cell| resolve(candidates, cell))
        .collect();
    let dead = candidates
        .iter()
        .filter_map(|c| {
            let applies = cells.iter().any(|o| o.applied.iter().any(|a| a.id == c.id));
            let loses = cells
                .iter()
                .any(|o| o.overridden.iter().any(|x| x.id == c.id));
            match (applies, loses) {
                (true, _) => None,
                (false, true) => Some((c.id, DeadReason::AlwaysOverridden)),
                (false, false) => Some((c.id, DeadReason::NeverTargeted)),
            }
        })
        .collect();
    let outcome_of = |cell: &Cell| cells.iter().find(|o| o.cell == *cell);
    let mut losing = Vec::new();
    for lower in &cells {
        for higher in steps_up(&lower.cell).iter().filter_map(&outcome_of) {
            losing.extend(losses(lower, higher, candidates));
        }
    }
    Analysis {
        cells,
        dead,
        losing,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{
        benefits::definition::{Budget, Kind, Schedule, Stacking, Targeting},
        platform::Interest,
        segments::dimensions::AgeBand,
    };

    /// A definition for everyone, live since the epoch, no budgets.
    pub(crate) fn benefit(
        kind: Kind,
        mode: StackMode,
        combines: &[KindCode],
        priority: i64,
    ) -> Definition {
        Definition {
            name: "b".to_owned(),
            description: None,
            kind,
            targeting: Targeting::default(),
            stacking: Stacking {
                mode,
                combines_with: combines.to_vec(),
                priority,
            },
            upgrade: None,
            schedule: Schedule {
                starts_at: chrono::DateTime::UNIX_EPOCH,
                ends_at: None,
            },
            budget: Budget::default(),
        }
    }

    fn cell(tier: GrowthTier, paid: bool, black_card: bool) -> Cell {
        Cell {
            tier,
            paid,
            black_card,
            extras: Vec::new(),
        }
    }

    #[test]
    fn the_programme_has_fourteen_cells() {
        // BRONZE, SILVER: 1 each; GOLD, PLATINUM: 2 each; DIAMOND, BLACK_DIAMOND: 4 each.
        assert_eq!(cells(&[]).len(), 14);
        assert_eq!(cells(&[Dimension::CityTier]).len(), 14 * 6);
    }

    /// A hand-checked matrix: 5% off for everyone (best-of), 10% off for
    /// paid members (best-of), a ¥20 coupon that combines with percent-off,
    /// free returns (exclusive, priority 50) for black-card holders, and a
    /// 2× points multiplier that lists nothing (alone in its class).
    #[test]
    fn stacking_matrix() {
        use GrowthTier::*;
        let five = benefit(
            Kind::PercentOff { percent: 5 },
            StackMode::BestOf,
            &[KindCode::FixedCoupon],
            10,
        );
        let mut ten = benefit(
            Kind::PercentOff { percent: 10 },
            StackMode::BestOf,
            &[KindCode::FixedCoupon],
            10,
        );
        ten.targeting.paid_member = Some(true);
        let coupon = benefit(
            Kind::FixedCoupon {
                amount_cents: 2000,
                threshold_cents: 19900,
            },
            StackMode::Combinable,
            &[KindCode::PercentOff],
            5,
        );
        let mut returns = benefit(Kind::FreeReturnShipping, StackMode::Exclusive, &[], 50);
        returns.targeting.black_card = Some(true);
        let points = benefit(
            Kind::PointsMultiplier {
                multiplier_tenths: 20,
            },
            StackMode::Combinable,
            &[],
            1,
        );
        let all = [
            Candidate {
                id: 1,
                definition: &five,
            },
            Candidate {
                id: 2,
                definition: &ten,
            },
            Candidate {
                id: 3,
                definition: &coupon,
            },
            Candidate {
                id: 4,
                definition: &returns,
            },
            Candidate {
                id: 5,
                definition: &points,
            },
        ];
        let applied =
            |c: Cell| -> Vec<i64> { resolve(&all, &c).applied.iter().map(|a| a.id).collect() };
        assert_eq!(applied(cell(Bronze, false, false)), [1, 3, 5]);
        assert_eq!(applied(cell(Gold, true, false)), [2, 3, 5]);
        // The exclusive returns benefit is alone in SHIPPING: it takes no
        // discount or points away.
        assert_eq!(applied(cell(Diamond, true, true)), [4, 2, 3, 5]);
        let outcome = resolve(&all, &cell(Gold, true, false));
        assert_eq!(
            outcome.overridden,
            [Overridden {
                id: 1,
                by: 2,
                reason: OverrideReason::BestOfLower
            }]
        );
        assert!(outcome.conflicts.is_empty());
        assert!(analyse(&all, &[]).dead.is_empty());

        // Within a class the rules bind: a second, exclusive points
        // multiplier for paid members knocks the first out there, and a
        // percent-off that lists no coupon keeps the coupon out.
        let mut triple = benefit(
            Kind::PointsMultiplier {
                multiplier_tenths: 30,
            },
            StackMode::Exclusive,
            &[],
            2,
        );
        triple.targeting.paid_member = Some(true);
        let alone = benefit(
            Kind::PercentOff { percent: 7 },
            StackMode::Combinable,
            &[],
            20,
        );
        let more = [
            all.as_slice(),
            &[
                Candidate {
                    id: 6,
                    definition: &triple,
                },
                Candidate {
                    id: 7,
                    definition: &alone,
                },
            ],
        ]
        .concat();
        let gold = resolve(&more, &cell(Gold, true, false));
        assert_eq!(
            gold.applied.iter().map(|a| a.id).collect::<Vec<_>>(),
            [7, 6]
        );
        assert!(gold.overridden.contains(&Overridden {
            id: 5,
            by: 6,
            reason: OverrideReason::ExclusiveApplies
        }));
        assert!(gold.overridden.contains(&Overridden {
            id: 3,
            by: 7,
            reason: OverrideReason::NotCombinable
        }));
    }

    #[test]
    fn upgrades_and_partial_targeting() {
        use GrowthTier::*;
        let mut five = benefit(
            Kind::PercentOff { percent: 5 },
            StackMode::Combinable,
            &[],
            0,
        );
        five.upgrade = Some(Upgrade {
            min_tier: Some(Platinum),
            paid_member: true,
            black_card: false,
            value: 10,
        });
        five.targeting.interests = vec![Interest::Beauty];
        let all = [Candidate {
            id: 1,
            definition: &five,
        }];
        let gold = resolve(&all, &cell(Gold, true, false));
        assert_eq!(
            (gold.applied[0].value, gold.applied[0].upgraded),
            (Some(5), false)
        );
        assert_eq!(gold.applied[0].partial, [Dimension::Interest]);
        let platinum = resolve(&all, &cell(Platinum, true, false));
        assert_eq!(
            (platinum.applied[0].value, platinum.applied[0].upgraded),
            (Some(10), true)
        );
        let by_interest = analyse(&all, &[Dimension::Interest]);
        // A cell of members holding an interest: those holding BEAUTY all
        // get it; those holding another get it only if they hold BEAUTY too.
        let fully = by_interest
            .cells
            .iter()
            .filter(|o| o.applied.iter().any(|a| a.partial.is_empty()))
            .count();
        assert_eq!(fully, 14, "one interest value per programme cell");
        assert!(by_interest.cells.iter().all(|o| o.applied.len() == 1));
        assert!(by_interest.cells.iter().all(|o| {
            let holds_beauty = o.cell.extras == [(Dimension::Interest, "BEAUTY".to_owned())];
            o.applied[0].partial.is_empty() == holds_beauty
        }));
        let mut nobody = benefit(Kind::FreeReturnShipping, StackMode::Combinable, &[], 0);
        nobody.targeting.paid_member = Some(true);
        nobody.targeting.min_tier = Some(Bronze);
        nobody.targeting.black_card = Some(true);
        nobody.targeting.age_bands = vec![AgeBand::Under25];
        let cand = [Candidate {
            id: 9,
            definition: &nobody,
        }];
        assert!(
            analyse(&cand, &[]).dead.is_empty(),
            "black-card paid members exist at DIAMOND"
        );
    }
}
