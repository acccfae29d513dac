//! Reading benefits: one, a page, or a federation entity (every role).

use async_graphql::{
    Context, ID, Object,
    connection::{Connection, OpaqueCursor},
};

use super::{READERS, benefit_id};
use crate::graphql::types::benefit::{Benefit, BenefitState};
use crate::{
    benefits::{self},
    graphql::{ApiError, connection, db, decode_cursor, principal, require},
    pagination::PageRequest,
};

/// Reads of benefits.
#[derive(Default)]
pub(super) struct ReadQuery;

#[Object]
impl ReadQuery {
    /// One benefit; another brand's answers NOT_FOUND for brand roles.
    async fn benefit(&self, ctx: &Context<'_>, id: ID) -> Result<Benefit, ApiError> {
        let principal = principal(ctx)?;
        require(principal, READERS, "reading benefits")?;
        Ok(
            benefits::get(db(ctx)?, principal.brand_scope(), benefit_id(&id)?)
                .await?
                .into(),
        )
    }

    /// The benefits the caller may see (its brand's, or all for platform
    /// roles), oldest first. Pass `first` or `last`, 1 to 100.
    #[graphql(complexity = "first.or(last).unwrap_or(1).clamp(1, 100) as usize * child_complexity")]
    async fn benefits(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        states: Option<Vec<BenefitState>>,
    ) -> Result<Connection<OpaqueCursor<i64>, Benefit>, ApiError> {
        let principal = principal(ctx)?;
        require(principal, READERS, "reading benefits")?;
        let request = PageRequest::new(first, decode_cursor(after)?, last, decode_cursor(before)?)?;
        let states: Vec<_> = states
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect();
        let page = benefits::list(db(ctx)?, principal.brand_scope(), &states, request).await?;
        Ok(connection(page, |b| b.row.id, Benefit::from))
    }

    /// Federation entity lookup, batched; the same roles as `benefit(id)`,
    /// and `null` (with a `NOT_FOUND` error at its index) for a benefit the
    /// caller does not see.
    #[graphql(entity)]
    async fn find_benefit_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<Option<Benefit>, ApiError> {
        require(principal(ctx)?, READERS, "reading benefits")?;
        Ok(
            crate::graphql::entities::load(crate::graphql::loaders(ctx)?.benefits(), &id)
                .await?
                .map(Benefit::from),
        )
    }
}
