//! Audience questions for brand analysts: the GraphQL face of
//! [`crate::segments`]. Only `BRAND_ANALYST` may ask, and only about the
//! platform or its own store; there is no field that takes a brand id.

use async_graphql::{
    Context, ID, Object, SimpleObject,
    connection::{Connection, OpaqueCursor},
};
use chrono::Utc;

use super::{
    ApiError, UserError, connection, db, decode_cursor, ids::parse_brand_id, outcome, principal,
    privacy_settings, repeat_cache, require,
};
use crate::graphql::types::audience::{
    AudienceAnswer, AudienceQuestion, AudienceTrendPoint, DimensionInfo, PlatformLedger,
    PrivacyBudget, PrivacySpend, QuestionCost, epsilon,
};
use crate::{
    auth::{BrandScope, Principal, Role},
    brands,
    error::ErrorCode,
    pagination::PageRequest,
    privacy::ledger,
    segments::{self, Dimension as DomainDimension},
    standing::Conduct,
};

/// The analyst's brand, or FORBIDDEN for every other role.
fn analyst_brand(principal: &Principal) -> Result<i64, ApiError> {
    match (principal.role, principal.brand_id) {
        (Role::BrandAnalyst, Some(brand)) => Ok(brand),
        _ => Err(ApiError::new(
            ErrorCode::Forbidden,
            "audience questions are for brand analysts (role BRAND_ANALYST)",
        )),
    }
}

/// Audience root fields.
#[derive(Default)]
pub(super) struct AudienceQuery;

#[Object]
impl AudienceQuery {
    /// Asks an audience question about the platform or your store. Every
    /// number is noisy, small cells are suppressed, and new tables cost
    /// privacy budget; asking the same question again in the same data
    /// epoch returns the same answer for free.
    async fn audience(
        &self,
        ctx: &Context<'_>,
        question: AudienceQuestion,
    ) -> Result<AudienceAnswer, ApiError> {
        let brand = analyst_brand(principal(ctx)?)?;
        let settings = privacy_settings(ctx)?;
        Ok(segments::ask(
            db(ctx)?,
            repeat_cache(ctx)?,
            settings,
            brand,
            Conduct::Audience,
            &question.into(),
        )
        .await?
        .into())
    }

    /// A question over the last `epochs` data epochs (1 to 24), newest
    /// first, from what was released in each: platform slices, and your
    /// answers as you asked them then. Free, and it never releases
    /// anything: an epoch where you did not ask has no answer.
    async fn audience_trend(
        &self,
        ctx: &Context<'_>,
        question: AudienceQuestion,
        #[graphql(default = 6)] epochs: i32,
    ) -> Result<Vec<AudienceTrendPoint>, ApiError> {
        let brand = analyst_brand(principal(ctx)?)?;
        let points = segments::trend(
            db(ctx)?,
            privacy_settings(ctx)?,
            brand,
            Conduct::Audience,
            &question.into(),
            u64::try_from(epochs).unwrap_or(0),
        )
        .await?;
        Ok(points.into_iter().map(Into::into).collect())
    }

    /// What asking a question would cost now, by the rule `audience`
    /// charges: nothing is asked, spent or recorded.
    async fn audience_cost(
        &self,
        ctx: &Context<'_>,
        question: AudienceQuestion,
    ) -> Result<QuestionCost, ApiError> {
        let brand = analyst_brand(principal(ctx)?)?;
        let settings = privacy_settings(ctx)?;
        let cost = segments::cost(
            db(ctx)?,
            repeat_cache(ctx)?,
            settings,
            brand,
            &question.into(),
        )
        .await?;
        Ok(QuestionCost {
            tables: i64::try_from(cost.tables).unwrap_or(i64::MAX),
            epsilon: epsilon(cost.epsilon_micros),
            affordable: cost.affordable(),
            budget: cost.budget.into(),
        })
    }

    /// Your analysts' share of the brand's privacy budget now.
    async fn privacy_budget(&self, ctx: &Context<'_>) -> Result<PrivacyBudget, ApiError> {
        let brand = analyst_brand(principal(ctx)?)?;
        let settings = privacy_settings(ctx)?;
        let pool = ledger::pool_of(Conduct::Audience);
        Ok(ledger::status(db(ctx)?, brand, pool, settings, Utc::now())
            .await
            .map_err(ApiError::from)?
            .into())
    }

    /// Both shares of your brand's privacy budget now: the analysts' and
    /// the operators' (brand roles). One running out never blocks the
    /// other.
    async fn privacy_budgets(&self, ctx: &Context<'_>) -> Result<Vec<PrivacyBudget>, ApiError> {
        let principal = principal(ctx)?;
        require(
            principal,
            &[Role::BrandAnalyst, Role::BrandOperator],
            "reading the privacy budget",
        )?;
        let brand = principal
            .brand_id
            .ok_or_else(|| ApiError::new(ErrorCode::Forbidden, "this credential has no brand"))?;
        let statuses = ledger::statuses(db(ctx)?, brand, privacy_settings(ctx)?, Utc::now())
            .await
            .map_err(ApiError::from)?;
        Ok(statuses.into_iter().map(Into::into).collect())
    }

    /// Your brand's budget debits, oldest first. Pass `first` or `last`, 1 to 100.
    #[graphql(complexity = "first.or(last).unwrap_or(1).clamp(1, 100) as usize * child_complexity")]
    async fn privacy_spends(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<OpaqueCursor<i64>, PrivacySpend>, ApiError> {
        let brand = analyst_brand(principal(ctx)?)?;
        let request = PageRequest::new(first, decode_cursor(after)?, last, decode_cursor(before)?)?;
        let page = ledger::history(db(ctx)?, brand, request)
            .await
            .map_err(ApiError::from)?;
        Ok(connection(
            page,
            |row| row.id,
            |row| PrivacySpend {
                id: ID(row.id.to_string()),
                at: row.at,
                epsilon: epsilon(row.epsilon_micros.max(0) as u64),
                question: row.question,
                pool: row.pool.into(),
            },
        ))
    }

    /// The platform ledger: each data epoch's platform release, which every
    /// brand's platform-wide answers are sliced from for free.
    async fn platform_ledger(&self, ctx: &Context<'_>) -> Result<PlatformLedger, ApiError> {
        principal(ctx)?;
        let now = Utc::now();
        let (releases, spent) = segments::ledger(db(ctx)?, 24, now - chrono::Duration::days(365))
            .await
            .map_err(ApiError::from)?;
        let settings = privacy_settings(ctx)?;
        Ok(PlatformLedger {
            epsilon_per_epoch: epsilon(settings.platform_epsilon_per_epoch_micros),
            epsilon_last_365_days: epsilon(spent),
            yearly_limit: epsilon(settings.platform_yearly_budget_micros),
            releases: releases.into_iter().map(Into::into).collect(),
        })
    }

    /// The dimensions questions can use, with their value codes.
    async fn audience_dimensions(&self, ctx: &Context<'_>) -> Result<Vec<DimensionInfo>, ApiError> {
        analyst_brand(principal(ctx)?)?;
        Ok(DomainDimension::ALL
            .into_iter()
            .map(|d| DimensionInfo {
                dimension: d.into(),
                values: d.codes().into_iter().map(str::to_owned).collect(),
                multi_valued: d.is_multi_valued(),
            })
            .collect())
    }
}

/// The result of `setPrivacySplit`.
#[derive(SimpleObject)]
pub(super) struct SetPrivacySplitPayload {
    /// The brand's two shares after the change.
    budgets: Vec<PrivacyBudget>,
    /// Why it was not set.
    user_errors: Vec<UserError>,
}

/// Privacy budget settings.
#[derive(Default)]
pub(super) struct AudienceMutation;

#[Object]
impl AudienceMutation {
    /// Splits a brand's privacy budget between its analysts (this share of
    /// the daily and 30-day limits) and its operators (the rest); the
    /// default is 0.8 (ADMIN).
    async fn set_privacy_split(
        &self,
        ctx: &Context<'_>,
        brand_id: ID,
        analyst_share: f64,
    ) -> Result<SetPrivacySplitPayload, ApiError> {
        let principal = principal(ctx)?;
        require(principal, &[Role::Admin], "splitting privacy budgets")?;
        let (db, settings) = (db(ctx)?, privacy_settings(ctx)?);
        let brand = brands::get(db, BrandScope::All, parse_brand_id(&brand_id)?).await?;
        let result =
            ledger::set_split(db, (brand.id, analyst_share), settings, &principal.subject).await;
        let (set, user_errors) = outcome(result, |_| "analystShare".to_owned())?;
        let budgets = match set {
            Some(()) => ledger::statuses(db, brand.id, settings, Utc::now())
                .await
                .map_err(ApiError::from)?
                .into_iter()
                .map(Into::into)
                .collect(),
            None => Vec::new(),
        };
        Ok(SetPrivacySplitPayload {
            budgets,
            user_errors,
        })
    }
}
