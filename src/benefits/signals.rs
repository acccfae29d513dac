//! What a reviewer should see before deciding a benefit: whether any
//! member would get it, the stacking conflicts it takes part in, the cells
//! where a better-placed member (a higher tier, paid over free, black card
//! over none) would get less because of it, and the most money it can
//! cost. Computed by the same stacking the checkout uses, over the brand's
//! granting benefits with this one as currently written.

use sea_orm::{ConnectionTrait, DbErr};

use super::{
    GRANTING,
    definition::{Definition, Kind},
    of_brand,
    redemption::MAX_ORDER_CENTS,
    stacking::{self, Candidate, Conflict, DeadReason, LosingCell},
};

/// The signals of one benefit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Signals {
    /// No member would get it, and why.
    pub dead: Option<DeadReason>,
    /// Stacking conflicts it takes part in (in any cell, once each).
    pub conflicts: Vec<Conflict>,
    /// Cells one step up that get less, because of it or losing it.
    pub losing_cells: Vec<LosingCell>,
    /// The most money it can grant in all, in fen; `None` when nothing
    /// bounds it (no money budget, and no redemption budget for a
    /// percentage).
    pub exposure_cents: Option<i64>,
}

/// The most money a definition can grant in all.
fn exposure(definition: &Definition) -> Option<i64> {
    let best = definition
        .upgrade
        .as_ref()
        .map_or(definition.kind.value(), |u| Some(u.value));
    let per_grant = match &definition.kind {
        Kind::PercentOff { .. } => best.map(|percent| {
            i64::try_from(i128::from(MAX_ORDER_CENTS) * i128::from(percent) / 100)
                .unwrap_or(i64::MAX)
        }),
        Kind::FixedCoupon { .. } | Kind::OrderRebate { .. } => best,
        // A saving per unit over any quantity: only a money budget bounds it.
        Kind::MemberPrice { .. } => None,
        _ => return Some(0),
    };
    let by_count = definition
        .budget
        .total_redemptions
        .zip(per_grant)
        .map(|(n, each)| n.saturating_mul(each));
    match (definition.budget.total_money_cents, by_count) {
        (Some(money), Some(count)) => Some(money.min(count)),
        (money, count) => money.or(count),
    }
}

/// The signals of benefit `id` (as `definition`) among `others`. Pure.
pub(crate) fn signals(id: i64, definition: &Definition, others: &[Candidate<'_>]) -> Signals {
    let mut all: Vec<Candidate<'_>> = others.iter().filter(|c| c.id != id).copied().collect();
    all.push(Candidate { id, definition });
    let analysis = stacking::analyse(&all, &[]);
    let dead = analysis
        .dead
        .iter()
        .find(|(d, _)| *d == id)
        .map(|(_, reason)| *reason);
    let mut conflicts: Vec<Conflict> = Vec::new();
    for conflict in analysis.cells.iter().flat_map(|o| &o.conflicts) {
        if (conflict.kept == id || conflict.lost == id) && !conflicts.contains(conflict) {
            conflicts.push(conflict.clone());
        }
    }
    let losing_cells = analysis
        .losing
        .into_iter()
        .filter(|loss| loss.benefit_id == id || loss.by == Some(id))
        .collect();
    Signals {
        dead,
        conflicts,
        losing_cells,
        exposure_cents: exposure(definition),
    }
}

/// The signals of benefit `id` of `brand_id`, written as `current`, among
/// its brand's granting benefits.
pub(crate) async fn of(
    db: &impl ConnectionTrait,
    brand_id: i64,
    id: i64,
    current: &Definition,
) -> Result<Signals, DbErr> {
    let granting = of_brand(db, brand_id, GRANTING).await?;
    Ok(signals(id, current, &Candidate::live(&granting)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        benefits::definition::{KindCode, StackMode, Upgrade},
        platform::GrowthTier,
    };

    fn definition(kind: Kind, mode: StackMode, priority: i64) -> Definition {
        crate::benefits::stacking::tests::benefit(kind, mode, &[], priority)
    }

    /// An exclusive 3% for black-card holders takes the everyone-10% away
    /// from them: black card gets less than DIAMOND, and the reviewer is
    /// told, with the money the 10% can cost.
    #[test]
    fn a_black_card_benefit_that_leaves_holders_worse_off_is_signalled() {
        let mut ten = definition(Kind::PercentOff { percent: 10 }, StackMode::Combinable, 5);
        ten.budget.total_redemptions = Some(1_000);
        let mut three = definition(Kind::PercentOff { percent: 3 }, StackMode::Exclusive, 50);
        three.targeting.black_card = Some(true);
        let others = [Candidate {
            id: 1,
            definition: &ten,
        }];
        let s = signals(2, &three, &others);
        assert_eq!(s.dead, None);
        let diamond_to_black: Vec<&LosingCell> = s
            .losing_cells
            .iter()
            .filter(|l| {
                l.lower.tier == GrowthTier::Diamond && !l.lower.black_card && l.higher.black_card
            })
            .collect();
        assert_eq!(
            diamond_to_black.len(),
            2,
            "paid and not: {:?}",
            s.losing_cells
        );
        assert!(
            diamond_to_black
                .iter()
                .all(|l| l.benefit_id == 1 && l.by == Some(2))
        );
        // 3% of the largest order, unbounded in count.
        assert_eq!(s.exposure_cents, None);
        assert_eq!(
            signals(1, &ten, &[]).exposure_cents,
            Some(1_000 * 100_000_000)
        );
    }

    #[test]
    fn dead_benefits_conflicts_and_bounded_exposure() {
        let mut coupon = definition(
            Kind::FixedCoupon {
                amount_cents: 2_000,
                threshold_cents: 10_000,
            },
            StackMode::Combinable,
            1,
        );
        coupon.budget.total_money_cents = Some(50_000);
        coupon.upgrade = Some(Upgrade {
            min_tier: Some(GrowthTier::Platinum),
            paid_member: false,
            black_card: false,
            value: 3_000,
        });
        let five = definition(Kind::PercentOff { percent: 5 }, StackMode::Exclusive, 9);
        let others = [Candidate {
            id: 1,
            definition: &five,
        }];
        let s = signals(2, &coupon, &others);
        assert_eq!(s.dead, Some(DeadReason::AlwaysOverridden));
        assert!(
            s.conflicts.is_empty(),
            "an exclusive override is no conflict"
        );
        assert_eq!(s.exposure_cents, Some(50_000));
        let mut combinable = coupon.clone();
        combinable.stacking.combines_with = vec![KindCode::PercentOff];
        let mut listed = five.clone();
        listed.stacking.mode = StackMode::Combinable;
        let others = [Candidate {
            id: 1,
            definition: &listed,
        }];
        let s = signals(2, &combinable, &others);
        assert_eq!(s.dead, Some(DeadReason::AlwaysOverridden));
        assert_eq!(s.conflicts.len(), 1, "the 5% does not list coupons");
        let gift = definition(
            Kind::BirthdayGift {
                gift: "g".to_owned(),
                days_before: 1,
                days_after: 1,
            },
            StackMode::Combinable,
            0,
        );
        assert_eq!(signals(3, &gift, &[]).exposure_cents, Some(0));
    }
}
