//! The `Brand` entity, brand lists and the caller's own identity.

use async_graphql::{
    Context, ID, Object,
    connection::{Connection, OpaqueCursor},
};

use super::{ApiError, connection, db, decode_cursor, loaders, principal};
use crate::graphql::ids::parse_brand_id;
use crate::graphql::types::brand::{Brand, BrandFilterInput, Category, Viewer};
use crate::{
    brands::{self, BrandFilter},
    pagination::PageRequest,
};

/// Brand root fields.
#[derive(Default)]
pub(super) struct BrandQuery;

#[Object]
impl BrandQuery {
    /// The caller's own identity and brand.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<Viewer, ApiError> {
        let principal = principal(ctx)?;
        let brand = match principal.brand_id {
            Some(id) => Some(
                brands::get(db(ctx)?, principal.brand_scope(), id)
                    .await?
                    .into(),
            ),
            None => None,
        };
        Ok(Viewer {
            subject: principal.subject.clone(),
            role: principal.role.into(),
            brand,
        })
    }

    /// One brand by id. Another brand's id answers `NOT_FOUND` for brand roles.
    async fn brand(&self, ctx: &Context<'_>, id: ID) -> Result<Brand, ApiError> {
        let principal = principal(ctx)?;
        Ok(
            brands::get(db(ctx)?, principal.brand_scope(), parse_brand_id(&id)?)
                .await?
                .into(),
        )
    }

    /// The brands the caller may see, in id order: its own for brand roles,
    /// all for platform roles. Pass `first` (with `after`) or `last` (with
    /// `before`), 1 to 100.
    #[graphql(complexity = "first.or(last).unwrap_or(1).clamp(1, 100) as usize * child_complexity")]
    async fn brands(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<BrandFilterInput>,
    ) -> Result<Connection<OpaqueCursor<i64>, Brand>, ApiError> {
        let principal = principal(ctx)?;
        let request = PageRequest::new(first, decode_cursor(after)?, last, decode_cursor(before)?)?;
        let filter = filter.unwrap_or_default();
        let filter = BrandFilter {
            category_code: filter.category,
            status: filter.status.map(Into::into),
        };
        let page = brands::list(db(ctx)?, principal.brand_scope(), &filter, request).await?;
        Ok(connection(page, |model| model.id, Brand::from))
    }

    /// Every product category, by code.
    async fn categories(&self, ctx: &Context<'_>) -> Result<Vec<Category>, ApiError> {
        principal(ctx)?;
        Ok(brands::categories(db(ctx)?)
            .await?
            .into_iter()
            .map(Category::from)
            .collect())
    }

    /// Federation entity lookup, batched; `null` (with a `NOT_FOUND`
    /// error at its index) for a brand the caller does not see.
    #[graphql(entity)]
    async fn find_brand_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Brand>, ApiError> {
        principal(ctx)?;
        Ok(super::entities::load(loaders(ctx)?.brands(), &id)
            .await?
            .map(Brand::from))
    }
}
