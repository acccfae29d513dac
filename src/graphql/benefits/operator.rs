//! The brand operator: drafts, edits and lifecycle steps, and the member
//! centre (brand roles read it).

use async_graphql::{Context, ID, Object};

use super::{BenefitPayload, CONFIGURING, OPERATOR, benefit_id, lifecycle, own_brand, payload};
use crate::graphql::types::{
    benefit::{BenefitTransition, GrowthTier},
    benefit_input::BenefitInput,
    benefit_insight::{
        AppliedBenefit, MemberCentreCell, MemberCentrePayload, MemberCentreTier, centre_tiers,
    },
};
use crate::{
    auth::{Caller, Role},
    benefits::{self, centre},
    error::ErrorCode,
    graphql::{ApiError, db, ids::gid, outcome, principal, require},
};

/// The member centre's reads.
#[derive(Default)]
pub(super) struct CentreQuery;

#[Object]
impl CentreQuery {
    /// The caller's brand's member centre, every tier (brand roles).
    async fn member_centre(&self, ctx: &Context<'_>) -> Result<Vec<MemberCentreTier>, ApiError> {
        let brand = own_brand(
            principal(ctx)?,
            &[Role::BrandOperator, Role::BrandAnalyst],
            "member centres",
        )?;
        Ok(centre_tiers(centre::get(db(ctx)?, brand).await?))
    }

    /// What each programme cell sees in the caller's brand's member centre
    /// (brand roles).
    async fn member_centre_preview(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<MemberCentreCell>, ApiError> {
        let brand = own_brand(
            principal(ctx)?,
            &[Role::BrandOperator, Role::BrandAnalyst],
            "member centres",
        )?;
        Ok(centre::preview(db(ctx)?, brand)
            .await?
            .into_iter()
            .map(|view| MemberCentreCell {
                tier: view.cell.tier.into(),
                paid_member: view.cell.paid,
                black_card: view.cell.black_card,
                shown: view.shown.into_iter().map(AppliedBenefit::from).collect(),
                hidden: view.hidden.into_iter().map(gid).collect(),
            })
            .collect())
    }
}

/// The operator's mutations.
#[derive(Default)]
pub(super) struct OperatorMutation;

#[Object]
impl OperatorMutation {
    /// Drafts a benefit for the caller's brand (BRAND_OPERATOR).
    async fn create_benefit(
        &self,
        ctx: &Context<'_>,
        input: BenefitInput,
    ) -> Result<BenefitPayload, ApiError> {
        let principal = principal(ctx)?;
        require(principal, OPERATOR, CONFIGURING)?;
        let brand = principal
            .brand_id
            .ok_or_else(|| ApiError::new(ErrorCode::Forbidden, "this credential has no brand"))?;
        payload(benefits::create(db(ctx)?, &Caller::now(principal), brand, &input.into()).await)
    }

    /// Writes a new revision (BRAND_OPERATOR). A live benefit keeps its live
    /// revision until a reviewer approves the new one.
    async fn edit_benefit(
        &self,
        ctx: &Context<'_>,
        benefit_id: ID,
        expected_version: i32,
        input: BenefitInput,
    ) -> Result<BenefitPayload, ApiError> {
        let principal = principal(ctx)?;
        require(principal, OPERATOR, CONFIGURING)?;
        let id = self::benefit_id(&benefit_id)?;
        payload(
            benefits::edit(
                db(ctx)?,
                &Caller::now(principal),
                id,
                expected_version,
                &input.into(),
            )
            .await,
        )
    }

    /// Moves a benefit through its lifecycle (BRAND_OPERATOR; ADMIN may
    /// also retire): SUBMIT a draft for review, PAUSE an active one,
    /// RESUME a paused one (also the brand's appeal against a low-usage
    /// pause), END it, or RETIRE it for good.
    async fn transition_benefit(
        &self,
        ctx: &Context<'_>,
        benefit_id: ID,
        expected_version: i32,
        action: BenefitTransition,
        note: Option<String>,
    ) -> Result<BenefitPayload, ApiError> {
        let roles: &[Role] = match action {
            BenefitTransition::Retire => &[Role::BrandOperator, Role::Admin],
            _ => OPERATOR,
        };
        lifecycle(
            ctx,
            roles,
            &benefit_id,
            expected_version,
            action.into(),
            note,
        )
        .await
    }

    /// Sets the ordered benefits the caller's store shows to members of one
    /// tier (BRAND_OPERATOR). Each must be the brand's, live, and able to
    /// reach that tier.
    async fn set_member_centre(
        &self,
        ctx: &Context<'_>,
        tier: GrowthTier,
        benefit_ids: Vec<ID>,
    ) -> Result<MemberCentrePayload, ApiError> {
        let brand = own_brand(principal(ctx)?, OPERATOR, CONFIGURING)?;
        let ids = benefit_ids
            .iter()
            .map(benefit_id)
            .collect::<Result<Vec<_>, _>>()?;
        let result = centre::set(db(ctx)?, brand, tier.into(), &ids).await;
        let (centre, user_errors) = outcome(result, |_| "benefitIds".to_owned())?;
        Ok(MemberCentrePayload {
            tiers: centre.map(centre_tiers),
            user_errors,
        })
    }
}
