//! Audience questions for brand analysts: the GraphQL face of
//! [`crate::segments`]. Only `BRAND_ANALYST` may ask, and only about the
//! platform or its own store; there is no field that takes a brand id.

use async_graphql::{
    Context, ID, Object,
    connection::{Connection, OpaqueCursor},
};
use chrono::Utc;

use super::{ApiError, connection, db, decode_cursor, principal, privacy_settings};
use crate::graphql::types::audience::{
    AudienceAnswer, AudienceQuestion, DimensionInfo, PrivacyBudget, PrivacySpend, QuestionCost,
    epsilon,
};
use crate::{
    auth::{Principal, Role},
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
            settings,
            brand,
            Conduct::Audience,
            &question.into(),
        )
        .await?
        .into())
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
        let cost = segments::cost(db(ctx)?, settings, brand, &question.into()).await?;
        Ok(QuestionCost {
            tables: i64::try_from(cost.tables).unwrap_or(i64::MAX),
            epsilon: epsilon(cost.epsilon_micros),
            affordable: cost.affordable(),
            budget: cost.budget.into(),
        })
    }

    /// Your brand's privacy budget now.
    async fn privacy_budget(&self, ctx: &Context<'_>) -> Result<PrivacyBudget, ApiError> {
        let brand = analyst_brand(principal(ctx)?)?;
        let settings = privacy_settings(ctx)?;
        Ok(ledger::status(db(ctx)?, brand, settings, Utc::now())
            .await
            .map_err(ApiError::from)?
            .into())
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
            },
        ))
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
