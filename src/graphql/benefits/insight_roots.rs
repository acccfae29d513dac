//! What a brand learns about its benefits: the cell analysis (reviewers
//! too), reach, usage and renewal through the privacy engine.

use async_graphql::{Context, ID, Object};
use chrono::Utc;

use super::{READERS, benefit_id, own_brand};
use crate::graphql::types::audience::{AudienceAnswer, Dimension as DimensionName, Population};
use crate::graphql::types::benefit_insight::{BenefitUsage, CellAnalysis, RenewalComparison};
use crate::{
    auth::{BrandScope, Role},
    benefits::{self, insight, renewal},
    error::ErrorCode,
    graphql::{ApiError, db, principal, privacy_settings, require},
    segments::Dimension as Dim,
};

/// Analysis and analytics of benefits.
#[derive(Default)]
pub(super) struct InsightQuery;

#[Object]
impl InsightQuery {
    /// For every cell of growth tier × paid member × black card (× up to
    /// two of AGE_BAND, CITY_TIER, INTEREST), the benefits a member there
    /// gets after stacking, with conflicts and dead benefits. Brand roles
    /// analyse their own brand (`brandId` may be omitted); platform roles
    /// name one. By default the ACTIVE benefits: exactly what the checkout
    /// grants (a quote for a member equals their cell here).
    /// `includeDrafts` adds approved, paused, draft and in-review ones as
    /// currently written, to see what a change would do.
    async fn benefit_cell_analysis(
        &self,
        ctx: &Context<'_>,
        brand_id: Option<ID>,
        #[graphql(default)] extra_dimensions: Vec<DimensionName>,
        #[graphql(default)] include_drafts: bool,
    ) -> Result<CellAnalysis, ApiError> {
        let principal = principal(ctx)?;
        require(principal, READERS, "analysing benefits")?;
        let brand = match (principal.brand_scope(), brand_id) {
            (BrandScope::One(own), None) => own,
            (scope, Some(id)) => {
                let id = crate::graphql::ids::parse_brand_id(&id)?;
                crate::brands::get(db(ctx)?, scope, id).await?.id
            }
            (BrandScope::All, None) => {
                return Err(ApiError::new(
                    ErrorCode::BadUserInput,
                    "`brandId` is required for platform roles",
                ));
            }
        };
        let extras: Vec<Dim> = extra_dimensions.into_iter().map(Into::into).collect();
        Ok(insight::analysis(db(ctx)?, brand, &extras, include_drafts)
            .await?
            .into())
    }

    /// How many members each targeted cell (growth tier × paid member)
    /// holds, through the privacy engine: noisy, small cells suppressed,
    /// paid from the brand's budget, the same answer again for free (brand
    /// roles, their own benefits).
    async fn benefit_reach_preview(
        &self,
        ctx: &Context<'_>,
        benefit_id: ID,
        #[graphql(default_with = "Population::Platform")] population: Population,
    ) -> Result<AudienceAnswer, ApiError> {
        let principal = principal(ctx)?;
        let brand = own_brand(
            principal,
            &[Role::BrandOperator, Role::BrandAnalyst],
            "reach previews",
        )?;
        let benefit = benefits::get(
            db(ctx)?,
            principal.brand_scope(),
            self::benefit_id(&benefit_id)?,
        )
        .await?;
        Ok(insight::reach(
            db(ctx)?,
            privacy_settings(ctx)?,
            brand,
            &benefit,
            population.into(),
        )
        .await?
        .into())
    }

    /// A live benefit's usage: redemptions and the usage rate the
    /// retirement policy judges (brand roles, their own benefits).
    async fn benefit_usage(
        &self,
        ctx: &Context<'_>,
        benefit_id: ID,
    ) -> Result<BenefitUsage, ApiError> {
        let principal = principal(ctx)?;
        let brand = own_brand(
            principal,
            &[Role::BrandOperator, Role::BrandAnalyst],
            "benefit usage",
        )?;
        let db = db(ctx)?;
        let benefit =
            benefits::get(db, principal.brand_scope(), self::benefit_id(&benefit_id)?).await?;
        let usage = insight::usage(db, privacy_settings(ctx)?, brand, &benefit, Utc::now()).await?;
        let t = usage.policy.thresholds;
        Ok(BenefitUsage {
            redemptions: usage.redemptions,
            unique_redeemers: usage.unique_redeemers,
            spent_cents: usage.spent_cents,
            measure: usage.measure.into(),
            eligible_buyers: usage.eligible_buyers,
            buyers_granted: usage.buyers_granted,
            usage_rate: usage.usage_rate,
            policy_min_usage_rate: usage.min_usage_rate,
            policy_version: usage.policy.version,
            period_days: t.period_days,
            sold_out: usage.sold_out,
            flagged_at: usage.dates.flagged_at,
            pauses_at: usage.dates.pauses_at,
            policy_paused_at: usage.dates.paused_at,
            retires_at: usage.dates.retires_at,
            grace_until: usage.dates.grace_until,
            release: usage.release.map(Into::into),
        })
    }

    /// Renewal rate of paid members who used the benefit against eligible
    /// paid members who did not (brand roles, their own benefits; noisy,
    /// budgeted, the same answer again until new redemptions).
    async fn benefit_renewal(
        &self,
        ctx: &Context<'_>,
        benefit_id: ID,
    ) -> Result<RenewalComparison, ApiError> {
        let principal = principal(ctx)?;
        let brand = own_brand(
            principal,
            &[Role::BrandOperator, Role::BrandAnalyst],
            "renewal analytics",
        )?;
        let db = db(ctx)?;
        let benefit =
            benefits::get(db, principal.brand_scope(), self::benefit_id(&benefit_id)?).await?;
        let answer =
            renewal::renewal(db, privacy_settings(ctx)?, brand, &benefit, Utc::now()).await?;
        Ok(RenewalComparison {
            used: answer.used.into(),
            did_not_use: answer.not_used.into(),
            epsilon_spent: answer.epsilon_spent_micros as f64 / 1e6,
            noise_scale: answer.noise.scale,
            interval95: answer.noise.interval95,
            budget: answer.budget.into(),
        })
    }
}
