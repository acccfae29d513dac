//! What a repeat audience question reads, held in memory so that serving
//! it runs no statement at all. Each is held for a stated bound, or for
//! good where it never changes:
//! - the current data epoch, for the bound. Epochs are made by `refresh`,
//!   `seed` and `import`, which run as other processes, so no instance
//!   hears of a new one: each sees it once the epoch it holds is older than
//!   the bound, and until then answers from the previous epoch (whose
//!   answers stay true of that epoch and name it in `dataEpoch`).
//! - a brand's standing, for the bound, and only to let the free path
//!   serve what was released already: a suspension stops those answers
//!   within the bound, while anything that pays or releases reads the
//!   standing afresh in its transaction, and a refusal is never served from
//!   here (the status is read again first, so a re-admission counts at
//!   once).
//! - the held epoch's platform release, with the epoch and for the same
//!   bound (a release never changes once stored, but it belongs to the
//!   epoch: the two are read again together).
//! - stored answers, which are never changed once written, so they are
//!   held until the map's capacity evicts them. Only reads made outside a
//!   transaction fill it: an answer read inside the paying transaction
//!   could still be rolled back.
//!
//! A `Mutex` around the `lru` crate's maps, as the credential cache does:
//! the lock is held for a lookup or an insert, never across a statement.

use std::{
    num::NonZeroUsize,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use entity::{data_epoch, enums::BrandStatus};
use lru::LruCache;
use sea_orm::{DatabaseConnection, DbErr};

use super::{Released, SegmentError, cube, release::PlatformRelease};
use crate::standing::{self, Conduct};

/// Most stored tables held. A table is one value per cell (a few hundred
/// cells for a typical breakdown), so this is a few tens of MB at most.
const CAPACITY: NonZeroUsize = NonZeroUsize::new(4_096).expect("non-zero");

/// Most brands' standing held: a few bytes each.
const BRANDS: NonZeroUsize = NonZeroUsize::new(10_000).expect("non-zero");

/// A stored table's full key: its epoch, its scope (the brand) and its
/// question key.
type TableKey = (i64, i64, String);

/// The current epoch with its platform release, brands' standing and
/// stored answers an instance has read recently. Cheap to clone; one per instance, shared by its
/// request handlers.
#[derive(Clone)]
pub struct RepeatCache {
    bound: Duration,
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    /// The current epoch, with the instant its read began.
    epoch: Option<(Instant, data_epoch::Model)>,
    /// Brands' status by id, with the instant each read began.
    standing: LruCache<i64, (Instant, BrandStatus)>,
    /// The platform release of the newest epoch asked about: its epoch
    /// id, and the instant its read began.
    platform: Option<(i64, Instant, Arc<PlatformRelease>)>,
    /// Stored tables by their full key.
    tables: LruCache<TableKey, Released>,
}

impl std::fmt::Debug for RepeatCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RepeatCache")
            .field("bound", &self.bound)
            .finish_non_exhaustive()
    }
}

impl RepeatCache {
    /// A cache that trusts the epoch (with its platform release) and the
    /// standing it read for `bound` (zero reads them on every question).
    pub fn new(bound: Duration) -> Self {
        Self {
            bound,
            inner: Arc::new(Mutex::new(Inner {
                epoch: None,
                standing: LruCache::new(BRANDS),
                platform: None,
                tables: LruCache::new(CAPACITY),
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The current ready epoch as read within the bound, else read now.
    pub(super) async fn current_epoch(
        &self,
        db: &DatabaseConnection,
    ) -> Result<Option<data_epoch::Model>, DbErr> {
        if let Some((read_at, epoch)) = &self.lock().epoch
            && read_at.elapsed() < self.bound
        {
            return Ok(Some(epoch.clone()));
        }
        self.read_epoch(db).await
    }

    /// The current ready epoch read now (and held).
    pub(super) async fn read_epoch(
        &self,
        db: &DatabaseConnection,
    ) -> Result<Option<data_epoch::Model>, DbErr> {
        // The instant before the read, so the held epoch's age is never
        // understated.
        let read_at = Instant::now();
        let epoch = cube::current_epoch(db).await?;
        if let Some(epoch) = &epoch
            && !self.bound.is_zero()
        {
            let mut inner = self.lock();
            // A concurrent read may have held a newer epoch already.
            if inner
                .epoch
                .as_ref()
                .is_none_or(|(_, held)| held.id <= epoch.id)
            {
                inner.epoch = Some((read_at, epoch.clone()));
            }
        }
        Ok(epoch)
    }

    /// Whether the brand's standing lets it be served `conduct` from what
    /// was released already: a permission held within the bound, else the
    /// status read now (so every refusal is a fresh one).
    pub(super) async fn permits(
        &self,
        db: &DatabaseConnection,
        brand_id: i64,
        conduct: Conduct,
    ) -> Result<(), SegmentError> {
        let held = match self.lock().standing.get(&brand_id) {
            Some((read_at, status)) if read_at.elapsed() < self.bound => Some(*status),
            _ => None,
        };
        if held.is_some_and(|status| standing::permits(status, conduct)) {
            return Ok(());
        }
        let read_at = Instant::now();
        let status = standing::status(db, brand_id).await?;
        if !self.bound.is_zero() {
            self.lock().standing.put(brand_id, (read_at, status));
        }
        Ok(standing::check(status, conduct)?)
    }

    /// The platform release of `epoch_id`, if held within the bound.
    pub(super) fn platform_release(&self, epoch_id: i64) -> Option<Arc<PlatformRelease>> {
        match &self.lock().platform {
            Some((held, read_at, release))
                if *held == epoch_id && read_at.elapsed() < self.bound =>
            {
                Some(release.clone())
            }
            _ => None,
        }
    }

    /// Holds the platform release of `epoch_id` whose read began at
    /// `read_at`, unless a newer epoch's is held.
    pub(super) fn hold_platform_release(
        &self,
        epoch_id: i64,
        read_at: Instant,
        release: Arc<PlatformRelease>,
    ) {
        let mut inner = self.lock();
        if !self.bound.is_zero()
            && inner
                .platform
                .as_ref()
                .is_none_or(|(held, _, _)| *held <= epoch_id)
        {
            inner.platform = Some((epoch_id, read_at, release));
        }
    }

    /// The stored table under `key`, if held.
    pub(super) fn table(&self, key: &TableKey) -> Option<Released> {
        self.lock().tables.get(key).cloned()
    }

    /// Holds a stored table read outside any transaction.
    pub(super) fn hold(&self, key: TableKey, table: Released) {
        self.lock().tables.put(key, table);
    }
}
