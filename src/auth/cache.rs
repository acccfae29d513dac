//! Credential rows recently read, so a request does not read its
//! credential row every time. The price is a stated revocation bound: the
//! instance that revokes a credential forgets it at once; every other
//! instance (and a revocation by the CLI) is obeyed once the entry it holds
//! is older than the cache's time to live.
//!
//! A `Mutex` around the `lru` crate's map (already in the build through
//! async-graphql) rather than a cache crate with its own clock: entries
//! carry the instant they were read and are ignored after the TTL, and the
//! map's capacity bounds the memory.

use std::{
    num::NonZeroUsize,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use entity::credential;
use lru::LruCache;

/// Most credentials held: each entry is a few hundred bytes.
const CAPACITY: NonZeroUsize = NonZeroUsize::new(10_000).expect("non-zero");

/// Recently read credential rows, shared by an instance's request handlers
/// and its `revokeCredential`. Cheap to clone.
#[derive(Clone)]
pub struct CredentialCache {
    ttl: Duration,
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    /// Rows by credential id, with the instant their read began.
    entries: LruCache<String, (Instant, credential::Model)>,
    /// When a credential was last forgotten: a read that began before it
    /// may have seen the row unrevoked, so it is not held.
    last_forget: Option<Instant>,
}

impl std::fmt::Debug for CredentialCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialCache")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl CredentialCache {
    /// A cache whose entries are trusted for `ttl`; zero caches nothing
    /// (every request reads its row).
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            inner: Arc::new(Mutex::new(Inner {
                entries: LruCache::new(CAPACITY),
                last_forget: None,
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How long another instance's revocation may go unnoticed here.
    pub fn revocation_bound(&self) -> Duration {
        self.ttl
    }

    /// The credential `id` as read within the TTL, if held.
    pub(super) fn get(&self, id: &str) -> Option<credential::Model> {
        let mut inner = self.lock();
        match inner.entries.get(id) {
            Some((read_at, row)) if read_at.elapsed() < self.ttl => Some(row.clone()),
            Some(_) => {
                inner.entries.pop(id);
                None
            }
            None => None,
        }
    }

    /// Holds a row just read, taken at `read_at` (before the read, so its
    /// age is never understated).
    pub(super) fn put(&self, read_at: Instant, row: credential::Model) {
        let mut inner = self.lock();
        if self.ttl.is_zero() || inner.last_forget.is_some_and(|forgot| read_at <= forgot) {
            return;
        }
        inner.entries.put(row.id.clone(), (read_at, row));
    }

    /// Forgets `id`, so this instance re-reads it on its next request
    /// (called once the revocation is committed).
    pub(super) fn forget(&self, id: &str) {
        let mut inner = self.lock();
        inner.entries.pop(id);
        inner.last_forget = Some(Instant::now());
    }
}
