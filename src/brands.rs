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

/// Why an admin's change to a brand was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BrandChangeError {
    /// The name is empty or too long.
    #[error("a brand's name is 1 to {MAX_NAME} characters")]
    BadName,
    /// Another brand has the name.
    #[error("a brand named `{0}` already exists")]
    NameTaken(String),
    /// The category code is unknown.
    #[error("`{code}` is not a category; use one of {allowed}")]
    UnknownCategory {
        /// The code given.
        code: String,
        /// The codes there are.
        allowed: String,
    },
    /// No such brand.
    #[error("brand not found")]
    NotFound,
    /// The brand changed between the checks and the write.
    #[error("the brand changed meanwhile: read it again and retry")]
    Changed,
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl CodedError for BrandChangeError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::BadName | Self::UnknownCategory { .. } => ErrorCode::BadUserInput,
            Self::NameTaken(_) | Self::Changed => ErrorCode::Conflict,
            Self::NotFound => ErrorCode::NotFound,
            Self::Db(_) => ErrorCode::Internal,
        }
    }
}

impl BrandChangeError {
    /// The input field the refusal is about.
    pub(crate) fn field(&self) -> &'static str {
        match self {
            Self::BadName | Self::NameTaken(_) => "input.name",
            Self::UnknownCategory { .. } => "input.category",
            Self::NotFound | Self::Changed | Self::Db(_) => "input.id",
        }
    }
}

/// Longest brand name, in characters.
const MAX_NAME: usize = 80;

/// A valid, trimmed name no other brand (but `except`) has, compared
/// case-insensitively.
async fn free_name(
    db: &impl sea_orm::ConnectionTrait,
    name: &str,
    except: Option<i64>,
) -> Result<String, BrandChangeError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(BrandChangeError::BadName);
    }
    use sea_orm::sea_query::{Expr, ExprTrait, Func};
    let lower = Expr::expr(Func::lower(Expr::col(brand::Column::Name)));
    let mut same = brand::Entity::find().filter(ExprTrait::eq(lower, name.to_lowercase()));
    if let Some(id) = except {
        same = same.filter(brand::Column::Id.ne(id));
    }
    if same.one(db).await?.is_some() {
        return Err(BrandChangeError::NameTaken(name.to_owned()));
    }
    Ok(name.to_owned())
}

/// A write refused by the unique name index (a concurrent admin took the
/// name between the check and the write) as the same refusal the check
/// gives; any other failure as it is.
fn taken_or(error: sea_orm::DbErr, name: &str) -> BrandChangeError {
    match error.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            BrandChangeError::NameTaken(name.to_owned())
        }
        _ => error.into(),
    }
}

/// The category with `code`.
async fn category_of(
    db: &impl sea_orm::ConnectionTrait,
    code: &str,
) -> Result<category::Model, BrandChangeError> {
    let all = category::Entity::find().all(db).await?;
    let code = code.trim().to_ascii_uppercase();
    let allowed = all
        .iter()
        .map(|c| c.code.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    all.iter()
        .find(|c| c.code == code)
        .cloned()
        .ok_or(BrandChangeError::UnknownCategory { code, allowed })
}

/// Creates a brand (a prospect until admitted), recorded in the audit log.
///
/// The checks read before the transaction, whose first statement is the
/// write (so SQLite takes its write lock at once instead of failing a
/// read-to-write upgrade under concurrency); the unique name index settles
/// a race between the check and the write.
pub(crate) async fn create(
    db: &DatabaseConnection,
    name: &str,
    category_code: &str,
    actor: &str,
) -> Result<brand::Model, BrandChangeError> {
    use sea_orm::{ActiveValue::Set, TransactionTrait as _};
    let name = free_name(db, name, None).await?;
    let category = category_of(db, category_code).await?;
    let txn = db.begin().await?;
    let created = brand::Entity::insert(brand::ActiveModel {
        name: Set(name.clone()),
        category_id: Set(category.id),
        status: Set(BrandStatus::Prospect),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    })
    .exec_with_returning(&txn)
    .await
    .map_err(|e| taken_or(e, &name))?;
    crate::audit::record(
        &txn,
        actor,
        "brand.created",
        &format!("brand:{}", created.id),
        serde_json::json!({ "name": name, "category": category.code }),
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

/// Renames and/or recategorises a brand; each change is an audit event
/// with what it was before. As in [`create`], the checks read first and
/// the transaction starts with its write: the update, conditional on the
/// row still being what the checks read (a concurrent change is a
/// conflict, never overwritten unseen).
pub(crate) async fn change(
    db: &DatabaseConnection,
    id: i64,
    (name, category_code): (Option<&str>, Option<&str>),
    actor: &str,
) -> Result<brand::Model, BrandChangeError> {
    use sea_orm::{ActiveValue::Set, TransactionTrait as _};
    let before = brand::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(BrandChangeError::NotFound)?;
    let name = match name {
        Some(name) => Some(free_name(db, name, Some(id)).await?).filter(|n| *n != before.name),
        None => None,
    };
    let category = match category_code {
        Some(code) => Some(category_of(db, code).await?).filter(|c| c.id != before.category_id),
        None => None,
    };
    let txn = db.begin().await?;
    let updated = brand::Entity::update_many()
        .set(brand::ActiveModel {
            name: Set(name.clone().unwrap_or_else(|| before.name.clone())),
            category_id: Set(category.as_ref().map_or(before.category_id, |c| c.id)),
            ..Default::default()
        })
        .filter(brand::Column::Id.eq(id))
        .filter(brand::Column::Name.eq(before.name.as_str()))
        .filter(brand::Column::CategoryId.eq(before.category_id))
        .exec(&txn)
        .await
        .map_err(|e| taken_or(e, name.as_deref().unwrap_or_default()))?;
    if updated.rows_affected == 0 {
        return Err(BrandChangeError::Changed);
    }
    let target = format!("brand:{id}");
    if let Some(name) = &name {
        crate::audit::record(
            &txn,
            actor,
            "brand.renamed",
            &target,
            serde_json::json!({ "from": before.name, "to": name }),
        )
        .await?;
    }
    if let Some(category) = &category {
        crate::audit::record(
            &txn,
            actor,
            "brand.recategorised",
            &target,
            serde_json::json!({ "from": before.category_id, "to": category.id, "category": category.code }),
        )
        .await?;
    }
    let after = brand::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(BrandChangeError::NotFound)?;
    txn.commit().await?;
    Ok(after)
}
