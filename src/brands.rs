//! Brands as the caller may see them. Every read takes the caller's
//! [`BrandScope`], so another brand's data is, for a brand principal, as if
//! it did not exist.

use entity::{brand, category, enums::BrandStatus};
use sea_orm::{
    ColumnTrait as _, DatabaseConnection, DbErr, EntityTrait as _, QueryFilter as _,
    QueryOrder as _, Select,
};

use crate::{
    auth::BrandScope,
    error::{CodedError, ErrorCode},
    pagination::{Page, PageRequest, fetch_page},
};

/// Errors of brand reads.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BrandError {
    /// No such brand, or not visible to the caller.
    #[error("brand not found")]
    NotFound,
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl CodedError for BrandError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::NotFound => ErrorCode::NotFound,
            Self::Db(_) => ErrorCode::Internal,
        }
    }
}

/// Narrows a brand list.
#[derive(Debug, Clone, Default)]
pub(crate) struct BrandFilter {
    /// Only brands of the category with this code.
    pub category_code: Option<String>,
    /// Only brands with this status.
    pub status: Option<BrandStatus>,
}

/// Restricts any query over a brand-keyed table to the caller's scope: the
/// one helper every brand-data read goes through.
pub(crate) fn scoped<E: sea_orm::EntityTrait>(
    select: Select<E>,
    brand_column: impl sea_orm::ColumnTrait,
    scope: BrandScope,
) -> Select<E> {
    match scope {
        BrandScope::One(id) => select.filter(brand_column.eq(id)),
        BrandScope::All => select,
    }
}

/// One brand, if the caller may see it.
pub(crate) async fn get(
    db: &DatabaseConnection,
    scope: BrandScope,
    id: i64,
) -> Result<brand::Model, BrandError> {
    scoped(brand::Entity::find_by_id(id), brand::Column::Id, scope)
        .one(db)
        .await?
        .ok_or(BrandError::NotFound)
}

/// A page of the brands the caller may see, in id order.
pub(crate) async fn list(
    db: &DatabaseConnection,
    scope: BrandScope,
    filter: &BrandFilter,
    page: PageRequest,
) -> Result<Page<brand::Model>, BrandError> {
    let mut select = scoped(brand::Entity::find(), brand::Column::Id, scope);
    if let Some(status) = filter.status {
        select = select.filter(brand::Column::Status.eq(status));
    }
    if let Some(code) = &filter.category_code {
        let Some(category) = category::Entity::find()
            .filter(category::Column::Code.eq(code.as_str()))
            .one(db)
            .await?
        else {
            return Ok(Page {
                items: Vec::new(),
                has_next: false,
                has_previous: false,
            });
        };
        select = select.filter(brand::Column::CategoryId.eq(category.id));
    }
    Ok(fetch_page(db, select, brand::Column::Id, page).await?)
}

/// Categories by id, for batching (categories are platform reference data,
/// visible to everyone).
pub(crate) async fn categories_by_id(
    db: &DatabaseConnection,
    ids: &[i64],
) -> Result<Vec<category::Model>, DbErr> {
    category::Entity::find()
        .filter(category::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

/// The brands with these ids the caller may see, in one query (loaders
/// batch every brand lookup of a request through it).
pub(crate) async fn by_ids(
    db: &DatabaseConnection,
    scope: BrandScope,
    ids: &[i64],
) -> Result<Vec<brand::Model>, DbErr> {
    scoped(brand::Entity::find(), brand::Column::Id, scope)
        .filter(brand::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

/// All categories, by code.
pub(crate) async fn categories(db: &DatabaseConnection) -> Result<Vec<category::Model>, DbErr> {
    category::Entity::find()
        .order_by_asc(category::Column::Code)
        .all(db)
        .await
}
