//! Documents recently parsed, by their text, shared by every request: a
//! client sends the same few queries again and again, and parsing them
//! (pest, with its stack guard) was about a tenth of the gateway's CPU on a
//! repeat audience question. Only the parse is saved: the limits, validation
//! and everything after still run on every request.
//!
//! A `Mutex` around the `lru` crate's map, bounded in count and in the
//! length of text held (a longer document is parsed every time).

use std::{
    num::NonZeroUsize,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use async_graphql::{Request, parser::types::ExecutableDocument};
use lru::LruCache;

/// Most documents held.
const HELD: NonZeroUsize = NonZeroUsize::new(512).expect("non-zero");

/// Longest document text held, in bytes.
const LONGEST_HELD: usize = 8 * 1024;

/// Parsed documents by their text. Cheap to clone; one per instance.
#[derive(Clone)]
pub struct ParsedDocuments(Arc<Mutex<LruCache<String, ExecutableDocument>>>);

impl std::fmt::Debug for ParsedDocuments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedDocuments").finish_non_exhaustive()
    }
}

impl Default for ParsedDocuments {
    fn default() -> Self {
        Self(Arc::new(Mutex::new(LruCache::new(HELD))))
    }
}

impl ParsedDocuments {
    fn lock(&self) -> MutexGuard<'_, LruCache<String, ExecutableDocument>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Gives `request` its parsed document: the one held for its text, or
    /// parsed now (and held). A document that fails to parse, or is longer
    /// than is held, is left for the schema to parse and report.
    pub fn parse(&self, request: &mut Request) {
        if request.query.len() > LONGEST_HELD {
            return;
        }
        let held = self.lock().get(request.query.as_str()).cloned();
        if let Some(document) = held {
            request.set_parsed_query(document);
            return;
        }
        if let Ok(document) = request.parsed_query() {
            let document = document.clone();
            self.lock().put(request.query.clone(), document);
        }
    }
}
