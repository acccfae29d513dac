//! Per-request data loaders. They are built for each request (never stored
//! in the schema), so no cache is shared across requests or brands. Each
//! loader batches one kind of lookup by id into one query. Lookups of
//! brand-owned objects by their own id (brands, applications, benefits:
//! what `_entities` asks for) are restricted to the caller's scope in SQL;
//! lookups by a parent's id (events, revisions) follow a parent the caller
//! was already allowed to see.

use std::{collections::HashMap, marker::PhantomData, sync::Arc};

use async_graphql::dataloader::{DataLoader, Loader};
use entity::{
    application, application_condition, application_document, application_event, brand, category,
};
use sea_orm::{DatabaseConnection, DbErr};

use crate::{
    auth::BrandScope,
    benefits::Benefit,
    criteria::evaluation::{self, Evaluation},
    error::{CodedError, ErrorCode},
};

/// A batched load failed; shared by every key of the batch.
#[derive(Debug, Clone, thiserror::Error)]
#[error("batched load failed: {0}")]
pub struct LoadError(Arc<DbErr>);

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
        B::load(&self.db, self.scope, keys)
            .await
            .map_err(|e| LoadError(Arc::new(e)))
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

/// The loaders one request uses.
pub struct Loaders {
    /// Categories by id.
    pub categories: DataLoader<ByKey<Categories>>,
    /// Brands by id.
    pub brands: DataLoader<ByKey<Brands>>,
    /// Applications by id.
    pub applications: DataLoader<ByKey<Applications>>,
    /// Benefits by id.
    pub benefits: DataLoader<ByKey<Benefits>>,
    /// Evaluations by id.
    pub evaluations: DataLoader<ByKey<Evaluations>>,
    /// Application events by application id.
    pub events: DataLoader<ByKey<Events>>,
    /// Qualification documents by application id.
    pub documents: DataLoader<ByKey<Documents>>,
    /// Conditions by application id.
    pub conditions: DataLoader<ByKey<Conditions>>,
    /// Latest application by brand id.
    pub standings: DataLoader<ByKey<Standings>>,
    /// Benefit revisions by benefit id.
    pub benefit_revisions: DataLoader<ByKey<BenefitRevisions>>,
    /// Benefit events by benefit id.
    pub benefit_events: DataLoader<ByKey<BenefitEvents>>,
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

impl Loaders {
    /// Fresh loaders for one request by a caller who sees `scope`.
    pub fn new(db: &DatabaseConnection, scope: BrandScope) -> Self {
        Self {
            categories: loader(db, scope),
            brands: loader(db, scope),
            applications: loader(db, scope),
            benefits: loader(db, scope),
            evaluations: loader(db, scope),
            events: loader(db, scope),
            documents: loader(db, scope),
            conditions: loader(db, scope),
            standings: loader(db, scope),
            benefit_revisions: loader(db, scope),
            benefit_events: loader(db, scope),
        }
    }
}
