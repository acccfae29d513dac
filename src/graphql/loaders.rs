//! Per-request data loaders. They are built for each request (never stored
//! in the schema), so no cache is shared across requests or brands. Each
//! loader batches one kind of lookup by id into one query, but for
//! category figures, read once per category and day of a request. Lookups of
//! brand-owned objects by their own id (brands, applications, benefits:
//! what `_entities` asks for) are restricted to the caller's scope in SQL;
//! lookups by a parent's id (events, revisions) follow a parent the caller
//! was already allowed to see.

use std::{
    collections::HashMap,
    marker::PhantomData,
    sync::{Arc, OnceLock},
};

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use chrono::NaiveDate;
use entity::{
    application, application_condition, application_document, application_event, brand, category,
};
use sea_orm::{DatabaseConnection, DbErr};

use crate::{
    auth::BrandScope,
    benefits::Benefit,
    criteria::{
        CategoryFigures,
        evaluation::{self, Evaluation},
    },
    error::{CodedError, ErrorCode},
};

/// A batched load failed; shared by every key of the batch.
#[derive(Debug, Clone, thiserror::Error)]
#[error("batched load failed: {0}")]
pub struct LoadError(Arc<DbErr>);

impl From<DbErr> for LoadError {
    fn from(error: DbErr) -> Self {
        Self(Arc::new(error))
    }
}

impl CodedError for LoadError {
    fn code(&self) -> ErrorCode {
        ErrorCode::Internal
    }
}

/// One kind of batched lookup: many ids, one query.
pub trait Batch: Send + Sync + 'static {
    /// What one id loads.
    type Value: Clone + Send + Sync + 'static;

    /// Loads the values of `ids` the caller may see (missing ids are
    /// simply absent).
    fn load(
        db: &DatabaseConnection,
        scope: BrandScope,
        ids: &[i64],
    ) -> impl Future<Output = Result<HashMap<i64, Self::Value>, DbErr>> + Send;
}

/// A [`Loader`] over a [`Batch`].
pub struct ByKey<B> {
    db: DatabaseConnection,
    scope: BrandScope,
    batch: PhantomData<B>,
}

impl<B: Batch> Loader<i64> for ByKey<B> {
    type Value = B::Value;
    type Error = LoadError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        Ok(B::load(&self.db, self.scope, keys).await?)
    }
}

/// Categories by id.
pub struct Categories;

impl Batch for Categories {
    type Value = category::Model;

    async fn load(
        db: &DatabaseConnection,
        _: BrandScope,
        ids: &[i64],
    ) -> Result<HashMap<i64, Self::Value>, DbErr> {
        let rows = crate::brands::categories_by_id(db, ids).await?;
        Ok(rows.into_iter().map(|row| (row.id, row)).collect())
    }
}

/// Brands by id.
pub struct Brands;

impl Batch for Brands {
    type Value = brand::Model;

    async fn load(
        db: &DatabaseConnection,
        scope: BrandScope,
        ids: &[i64],
    ) -> Result<HashMap<i64, Self::Value>, DbErr> {
        let rows = crate::brands::by_ids(db, scope, ids).await?;
        Ok(rows.into_iter().map(|row| (row.id, row)).collect())
    }
}

/// Evaluations by id.
pub struct Evaluations;

impl Batch for Evaluations {
    type Value = Evaluation;

    async fn load(
        db: &DatabaseConnection,
        _: BrandScope,
        ids: &[i64],
    ) -> Result<HashMap<i64, Self::Value>, DbErr> {
        evaluation::by_ids(db, ids).await
    }
}

/// An application's events by application id.
pub struct Events;

impl Batch for Events {
    type Value = Vec<application_event::Model>;

    async fn load(
        db: &DatabaseConnection,
        _: BrandScope,
        ids: &[i64],
    ) -> Result<HashMap<i64, Self::Value>, DbErr> {
        crate::onboarding::events_of(db, ids).await
    }
}

/// Rows grouped by their application's id.
fn by_application<T>(rows: Vec<T>, application_id: impl Fn(&T) -> i64) -> HashMap<i64, Vec<T>> {
    let mut grouped: HashMap<i64, Vec<T>> = HashMap::new();
    for row in rows {
        grouped.entry(application_id(&row)).or_default().push(row);
    }
    grouped
}

/// An application's qualification documents by application id.
pub struct Documents;

impl Batch for Documents {
    type Value = Vec<application_document::Model>;

    async fn load(
        db: &DatabaseConnection,
        _: BrandScope,
        ids: &[i64],
    ) -> Result<HashMap<i64, Self::Value>, DbErr> {
        let rows = crate::onboarding::documents::of_applications(db, ids).await?;
        Ok(by_application(rows, |d| d.application_id))
    }
}

/// An application's conditions by application id.
pub struct Conditions;

impl Batch for Conditions {
    type Value = Vec<application_condition::Model>;

    async fn load(
        db: &DatabaseConnection,
        _: BrandScope,
        ids: &[i64],
    ) -> Result<HashMap<i64, Self::Value>, DbErr> {
        let rows = crate::onboarding::conditions::of_applications(db, ids).await?;
        Ok(by_application(rows, |c| c.application_id))
    }
}

/// A brand's latest application by brand id.
pub struct Standings;

impl Batch for Standings {
    type Value = application::Model;

    async fn load(
        db: &DatabaseConnection,
        _: BrandScope,
        ids: &[i64],
    ) -> Result<HashMap<i64, Self::Value>, DbErr> {
        crate::onboarding::latest_of(db, ids).await
    }
}

/// A benefit's revisions (with definitions) by benefit id.
pub struct BenefitRevisions;

impl Batch for BenefitRevisions {
    type Value = Vec<(
        entity::benefit_revision::Model,
        crate::benefits::definition::Definition,
    )>;

    async fn load(
        db: &DatabaseConnection,
        _: BrandScope,
        ids: &[i64],
    ) -> Result<HashMap<i64, Self::Value>, DbErr> {
        crate::benefits::revisions_of(db, ids).await
    }
}

/// A benefit's events by benefit id.
pub struct BenefitEvents;

impl Batch for BenefitEvents {
    type Value = Vec<entity::benefit_event::Model>;

    async fn load(
        db: &DatabaseConnection,
        _: BrandScope,
        ids: &[i64],
    ) -> Result<HashMap<i64, Self::Value>, DbErr> {
        crate::benefits::events_of(db, ids).await
    }
}

/// Applications by id.
pub struct Applications;

impl Batch for Applications {
    type Value = application::Model;

    async fn load(
        db: &DatabaseConnection,
        scope: BrandScope,
        ids: &[i64],
    ) -> Result<HashMap<i64, Self::Value>, DbErr> {
        let rows = crate::onboarding::by_ids(db, scope, ids).await?;
        Ok(rows.into_iter().map(|row| (row.id, row)).collect())
    }
}

/// Benefits (with their current and live definitions) by id.
pub struct Benefits;

impl Batch for Benefits {
    type Value = Benefit;

    async fn load(
        db: &DatabaseConnection,
        scope: BrandScope,
        ids: &[i64],
    ) -> Result<HashMap<i64, Self::Value>, DbErr> {
        let rows = crate::benefits::by_ids(db, scope, ids).await?;
        Ok(rows.into_iter().map(|b| (b.row.id, b)).collect())
    }
}

/// Category figures by `(category id, as-of day)`: the brands of a list
/// read each of their categories once ([`CategoryFigures`]). Platform-wide
/// figures: the caller shows a brand only its own measures, as it reads
/// them through the privacy engine.
pub(crate) struct CategoryFiguresByDay {
    db: DatabaseConnection,
}

impl Loader<(i64, NaiveDate)> for CategoryFiguresByDay {
    type Value = Arc<CategoryFigures>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[(i64, NaiveDate)],
    ) -> Result<HashMap<(i64, NaiveDate), Self::Value>, Self::Error> {
        let mut read = HashMap::with_capacity(keys.len());
        for &(category_id, as_of) in keys {
            let figures = CategoryFigures::read(&self.db, category_id, as_of).await?;
            read.insert((category_id, as_of), Arc::new(figures));
        }
        Ok(read)
    }
}

/// Declares [`Loaders`]: one loader per batch, each made on first use
/// (a request uses one or two of them, and making all eleven for every
/// request showed in the gateway's profile).
macro_rules! loaders {
    ($($(#[$doc:meta])* $name:ident: $batch:ty,)*) => {
        /// The loaders one request uses.
        pub struct Loaders {
            db: DatabaseConnection,
            scope: BrandScope,
            $($name: OnceLock<DataLoader<ByKey<$batch>>>,)*
            category_figures: OnceLock<DataLoader<CategoryFiguresByDay, HashMapCache>>,
        }

        impl Loaders {
            /// Loaders for one request by a caller who sees `scope`; none
            /// is made until asked for.
            pub fn new(db: &DatabaseConnection, scope: BrandScope) -> Self {
                Self {
                    db: db.clone(),
                    scope,
                    $($name: OnceLock::new(),)*
                    category_figures: OnceLock::new(),
                }
            }

            /// Category figures by category and as-of day.
            pub(crate) fn category_figures(
                &self,
            ) -> &DataLoader<CategoryFiguresByDay, HashMapCache> {
                self.category_figures.get_or_init(|| {
                    // Cached for the request: a category asked for again
                    // in a later round of resolution is not read again.
                    DataLoader::with_cache(
                        CategoryFiguresByDay { db: self.db.clone() },
                        tokio::spawn,
                        HashMapCache::default(),
                    )
                })
            }

            $($(#[$doc])*
            pub fn $name(&self) -> &DataLoader<ByKey<$batch>> {
                self.$name.get_or_init(|| loader(&self.db, self.scope))
            })*
        }
    };
}

loaders! {
    /// Categories by id.
    categories: Categories,
    /// Brands by id.
    brands: Brands,
    /// Applications by id.
    applications: Applications,
    /// Benefits by id.
    benefits: Benefits,
    /// Evaluations by id.
    evaluations: Evaluations,
    /// Application events by application id.
    events: Events,
    /// Qualification documents by application id.
    documents: Documents,
    /// Conditions by application id.
    conditions: Conditions,
    /// Latest application by brand id.
    standings: Standings,
    /// Benefit revisions by benefit id.
    benefit_revisions: BenefitRevisions,
    /// Benefit events by benefit id.
    benefit_events: BenefitEvents,
}

fn loader<B: Batch>(db: &DatabaseConnection, scope: BrandScope) -> DataLoader<ByKey<B>> {
    DataLoader::new(
        ByKey {
            db: db.clone(),
            scope,
            batch: PhantomData,
        },
        tokio::spawn,
    )
}
