//! Where uploaded files live: a local directory by default, or an
//! S3-compatible bucket named by URL (`s3://bucket/prefix`), configured by
//! the usual `AWS_*` variables and, for what is not secret, the URL's query
//! (`?endpoint=http://127.0.0.1:9000&region=cn-north-1&allow_http=true`:
//! any `object_store` S3 option, which overrides the environment). Files are
//! stored under their SHA-256, so a file is stored once however often it is
//! filed, and every read is checked against its hash.
//!
//! `object_store` (the Arrow project's crate, which DataFusion also reads
//! Parquet through) gives both back ends one interface; writing an S3
//! client by hand (signing, retries, multipart) is not worth owning.

use std::sync::Arc;

use object_store::{
    ObjectStore, ObjectStoreExt as _, PutPayload,
    aws::{AmazonS3Builder, AmazonS3ConfigKey},
    local::LocalFileSystem,
    path::Path,
    prefix::PrefixStore,
};
use sha2::{Digest as _, Sha256};

/// Why the blob store could not be opened, written or read.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The store's URL or directory is unusable.
    #[error("cannot open the blob store {location}: {reason}")]
    Open {
        /// The configured location.
        location: String,
        /// Why not.
        reason: String,
    },
    /// The store refused or failed a read or write.
    #[error("blob store: {0}")]
    Store(#[from] object_store::Error),
    /// A stored file no longer matches its hash.
    #[error("the stored file {0} does not match its hash")]
    Corrupt(String),
}

/// A content-addressed file store.
#[derive(Clone)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlobStore({})", self.store)
    }
}

/// The SHA-256 of `content`, lower-case hex.
pub fn sha256_hex(content: &[u8]) -> String {
    hex::encode(Sha256::digest(content))
}

impl BlobStore {
    /// Opens `location`: `s3://bucket[/prefix]` for an S3-compatible store
    /// (configured from `AWS_*` variables), anything else a local
    /// directory, created if missing.
    pub fn open(location: &str) -> Result<Self, BlobError> {
        // The query may carry options; it is never repeated in messages.
        let shown = location.split('?').next().unwrap_or_default();
        let failed = |reason: String| BlobError::Open {
            location: shown.to_owned(),
            reason,
        };
        let store: Arc<dyn ObjectStore> = if location.starts_with("s3://") {
            let mut url = url::Url::parse(location).map_err(|e| failed(e.to_string()))?;
            let mut builder = AmazonS3Builder::from_env();
            for (key, value) in url.query_pairs() {
                let key: AmazonS3ConfigKey = key
                    .parse()
                    .map_err(|_| failed(format!("unknown S3 option `{key}`")))?;
                builder = builder.with_config(key, value);
            }
            url.set_query(None);
            let bucket = builder
                .with_url(url.as_str())
                .build()
                .map_err(|e| failed(e.to_string()))?;
            let prefix = url.path().trim_matches('/');
            if prefix.is_empty() {
                Arc::new(bucket)
            } else {
                Arc::new(PrefixStore::new(bucket, prefix))
            }
        } else {
            let dir = location.strip_prefix("file://").unwrap_or(location);
            std::fs::create_dir_all(dir).map_err(|e| failed(e.to_string()))?;
            Arc::new(LocalFileSystem::new_with_prefix(dir).map_err(|e| failed(e.to_string()))?)
        };
        Ok(Self { store })
    }

    /// The underlying store, for readers that address their own paths in
    /// it (the member snapshots' Parquet files).
    pub fn object_store(&self) -> Arc<dyn ObjectStore> {
        self.store.clone()
    }

    fn path(hash: &str) -> Path {
        Path::from(format!("documents/{hash}"))
    }

    /// Stores `content` and returns its hash (the key to read it back).
    pub async fn put(&self, content: Vec<u8>) -> Result<String, BlobError> {
        let hash = sha256_hex(&content);
        self.store
            .put(&Self::path(&hash), PutPayload::from(content))
            .await?;
        Ok(hash)
    }

    /// The content stored under `hash`, checked against it.
    pub async fn get(&self, hash: &str) -> Result<Vec<u8>, BlobError> {
        let content = self.store.get(&Self::path(hash)).await?.bytes().await?;
        if sha256_hex(&content) != hash {
            return Err(BlobError::Corrupt(hash.to_owned()));
        }
        Ok(content.to_vec())
    }
}
