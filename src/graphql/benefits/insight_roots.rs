//! What a brand learns about its benefits: the cell analysis (reviewers
//! too), a basket tried on a made-up member, the calendar, redemptions
//! per day, and reach, usage and renewal through the privacy engine.

use async_graphql::{Context, ID, Object};
use chrono::Utc;

use super::{READERS, benefit_id, own_brand};
use crate::graphql::types::audience::{AudienceAnswer, Dimension as DimensionName, Population};
use crate::graphql::types::{
    benefit::BenefitState,
    benefit_insight::{
        BenefitUsage, CalendarEntry, CellAnalysis, RedemptionDay, RenewalComparison,
    },
    checkout::{Quote, SampleQuoteInput},
};
use crate::{
    auth::{BrandScope, Role},
    benefits::{self, calendar, checkout, insight, renewal},
    error::ErrorCode,
    graphql::{ApiError, db, principal, privacy_settings, repeat_cache, require, scalars::Date},
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

    /// What a made-up member would get on a basket in the caller's
    /// brand's store now: the same engine and budgets as the checkout's
    /// `quote`, for a member who has used none of the benefits; nothing is
    /// recorded (brand roles).
    async fn sample_quote(
        &self,
        ctx: &Context<'_>,
        input: SampleQuoteInput,
    ) -> Result<Quote, ApiError> {
        let principal = principal(ctx)?;
        let brand = own_brand(
            principal,
            &[Role::BrandOperator, Role::BrandAnalyst],
            "trying baskets",
        )?;
        let lines: Vec<checkout::Line> = input.lines.into_iter().map(Into::into).collect();
        let quote =
            checkout::sample_quote(db(ctx)?, brand, input.member.into(), &lines, Utc::now())
                .await?;
        Ok(quote.into())
    }

    /// The caller's brand's benefits on the `days` business days
    /// (Asia/Shanghai, 1–92) from `from`: each window (schedule, early
    /// access, experience slot) that touches one of them, with the days it
    /// touches, as the revision members meet (the live one, else the one
    /// being written); `states` narrows (brand roles).
    async fn benefit_calendar(
        &self,
        ctx: &Context<'_>,
        from: Date,
        #[graphql(default = 42)] days: u32,
        states: Option<Vec<BenefitState>>,
    ) -> Result<Vec<CalendarEntry>, ApiError> {
        let principal = principal(ctx)?;
        let brand = own_brand(
            principal,
            &[Role::BrandOperator, Role::BrandAnalyst],
            "the benefit calendar",
        )?;
        let states: Vec<_> = states
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect();
        let listed = benefits::of_brand(db(ctx)?, brand, &states).await?;
        Ok(calendar::entries(&listed, from.0, days)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// A benefit's redemptions per business day (Asia/Shanghai) for the
    /// `days` days (1–92) from `from`, every day present (brand roles,
    /// their own benefits).
    async fn benefit_redemptions_by_day(
        &self,
        ctx: &Context<'_>,
        benefit_id: ID,
        from: Date,
        #[graphql(default = 30)] days: u32,
    ) -> Result<Vec<RedemptionDay>, ApiError> {
        let principal = principal(ctx)?;
        own_brand(
            principal,
            &[Role::BrandOperator, Role::BrandAnalyst],
            "benefit redemptions",
        )?;
        let db = db(ctx)?;
        let row =
            benefits::get_row(db, principal.brand_scope(), self::benefit_id(&benefit_id)?).await?;
        Ok(calendar::redemptions_by_day(db, row.id, from.0, days)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
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
            repeat_cache(ctx)?,
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
