//! A brand's exclusive member centre: per growth tier, the ordered live
//! benefits its store shows, and a preview of what each programme cell
//! (tier × paid member × black card) actually sees after targeting and
//! stacking.

use entity::{enums::BenefitState as State, member_centre};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait as _, QueryFilter as _, QueryOrder as _, TransactionTrait as _,
};

use super::{
    BenefitError, GRANTING,
    definition::Invalid,
    of_brand,
    stacking::{self, Applied, Candidate, Cell},
};
use crate::{
    platform::GrowthTier,
    segments::Dimension,
    standing::{self, Conduct},
};

/// Most benefits one tier's centre shows.
pub(crate) const MAX_PER_TIER: usize = 20;

/// One tier's ordered benefit ids.
pub(crate) type Centre = Vec<(GrowthTier, Vec<i64>)>;

/// A tier's code, as the audience dimension spells it (`GOLD`).
fn tier_code(tier: GrowthTier) -> String {
    Dimension::GrowthTier.code(tier as i16).to_owned()
}

/// The brand's centre, every tier (empty tiers included), lowest first.
pub(crate) async fn get(db: &impl ConnectionTrait, brand_id: i64) -> Result<Centre, DbErr> {
    let rows = member_centre::Entity::find()
        .filter(member_centre::Column::BrandId.eq(brand_id))
        .order_by_asc(member_centre::Column::Position)
        .all(db)
        .await?;
    Ok(GrowthTier::ALL
        .into_iter()
        .map(|tier| {
            let code = tier_code(tier);
            let ids = rows
                .iter()
                .filter(|r| r.tier == code)
                .map(|r| r.benefit_id)
                .collect();
            (tier, ids)
        })
        .collect())
}

fn invalid(message: String) -> BenefitError {
    BenefitError::Invalid(Invalid {
        field: "benefitIds".to_owned(),
        message,
    })
}

/// Replaces one tier's list. Each benefit must be the brand's, live
/// (approved, active or paused) and able to reach members of that tier.
pub(crate) async fn set(
    db: &DatabaseConnection,
    brand_id: i64,
    tier: GrowthTier,
    benefit_ids: &[i64],
) -> Result<Centre, BenefitError> {
    if benefit_ids.len() > MAX_PER_TIER {
        return Err(invalid(format!("takes at most {MAX_PER_TIER} benefits")));
    }
    standing::require::<BenefitError>(db, brand_id, Conduct::Configure).await?;
    let live = of_brand(
        db,
        brand_id,
        &[State::Approved, State::Active, State::Paused],
    )
    .await?;
    for (i, id) in benefit_ids.iter().enumerate() {
        if benefit_ids[..i].contains(id) {
            return Err(invalid(format!("lists benefit {id} twice")));
        }
        let Some(benefit) = live.iter().find(|b| b.row.id == *id) else {
            return Err(invalid(format!(
                "benefit {id} is not one of this brand's approved, active or paused benefits"
            )));
        };
        let reachable = benefit
            .live
            .as_ref()
            .is_some_and(|live| stacking::reaches_tier(live, tier));
        if !reachable {
            return Err(invalid(format!(
                "benefit {id} cannot reach any {} member",
                tier_code(tier)
            )));
        }
    }
    let code = tier_code(tier);
    let txn = db.begin().await?;
    member_centre::Entity::delete_many()
        .filter(member_centre::Column::BrandId.eq(brand_id))
        .filter(member_centre::Column::Tier.eq(code.as_str()))
        .exec(&txn)
        .await?;
    for (position, id) in benefit_ids.iter().enumerate() {
        member_centre::Entity::insert(member_centre::ActiveModel {
            brand_id: Set(brand_id),
            tier: Set(code.clone()),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
            benefit_id: Set(*id),
        })
        .exec(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(get(db, brand_id).await?)
}

/// What one cell sees in the centre.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CellView {
    /// The cell.
    pub cell: Cell,
    /// Centre benefits that apply there, in centre order, as the stacking
    /// outcome has them (value, upgrade, partial targeting).
    pub shown: Vec<Applied>,
    /// Centre benefits of the tier that do not apply there.
    pub hidden: Vec<i64>,
}

/// What every programme cell sees: the tier's list, kept to the benefits
/// that are ACTIVE and apply to the cell after stacking against all the
/// brand's active benefits.
pub(crate) async fn preview(
    db: &impl ConnectionTrait,
    brand_id: i64,
) -> Result<Vec<CellView>, DbErr> {
    let centre = get(db, brand_id).await?;
    let active = of_brand(db, brand_id, GRANTING).await?;
    let candidates = Candidate::live(&active);
    Ok(stacking::cells(&[])
        .into_iter()
        .map(|cell| {
            let outcome = stacking::resolve(&candidates, &cell);
            let listed = centre
                .iter()
                .find(|(tier, _)| *tier == cell.tier)
                .map(|(_, ids)| ids.clone())
                .unwrap_or_default();
            let (shown, hidden): (Vec<i64>, Vec<i64>) = listed
                .into_iter()
                .partition(|id| outcome.applied.iter().any(|a| a.id == *id));
            let shown = shown
                .into_iter()
                .filter_map(|id| outcome.applied.iter().find(|a| a.id == id).cloned())
                .collect();
            CellView {
                cell,
                shown,
                hidden,
            }
        })
        .collect())
}
