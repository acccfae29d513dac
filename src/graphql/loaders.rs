//! Per-request data loaders. They are built for each request (never stored
//! in the schema), so no cache is shared across requests or brands.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::{DataLoader, Loader};
use entity::category;
use sea_orm::{DatabaseConnection, DbErr};

use crate::error::{CodedError, ErrorCode};

/// A batched load failed; shared by every key of the batch.
#[derive(Debug, Clone, thiserror::Error)]
#[error("batched load failed: {0}")]
pub struct LoadError(Arc<DbErr>);

impl CodedError for LoadError {
    fn code(&self) -> ErrorCode {
        ErrorCode::Internal
    }
}

/// Loads categories by id, one query per batch.
pub struct CategoryLoader {
    db: DatabaseConnection,
}

impl Loader<i64> for CategoryLoader {
    type Value = category::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let rows = crate::brands::categories_by_id(&self.db, keys)
            .await
            .map_err(|e| LoadError(Arc::new(e)))?;
        Ok(rows.into_iter().map(|row| (row.id, row)).collect())
    }
}

/// The loaders one request uses.
pub struct Loaders {
    /// Categories by id.
    pub categories: DataLoader<CategoryLoader>,
}

impl Loaders {
    /// Fresh loaders for one request.
    pub fn new(db: &DatabaseConnection) -> Self {
        Self {
            categories: DataLoader::new(CategoryLoader { db: db.clone() }, tokio::spawn),
        }
    }
}
