//! brand-gateway: the partner-facing GraphQL gateway of the membership
//! programme. [`Application::build`] wires configuration, database, schema
//! and HTTP router together; `main.rs` and the integration tests both use it.

pub(crate) mod audit;
pub mod auth;
pub(crate) mod benefits;
pub mod blobs;
pub(crate) mod brands;
pub mod config;
pub(crate) mod criteria;
pub mod db;
pub mod due;
pub(crate) mod error;
pub mod graphql;
pub(crate) mod http;
pub mod import;
pub mod onboarding;
pub mod pagination;
pub mod platform;
pub mod platform_data;
pub(crate) mod privacy;
pub(crate) mod progress;
pub mod seed;
pub mod segments;
pub mod snapshot;
pub mod standing;
pub mod telemetry;
pub mod webhooks;

mod app;

/// mimalloc for every binary built on this crate (the server, the tests,
/// the benches): a request allocates and frees from many tokio threads,
/// and glibc's allocator spent about 15% of the gateway's CPU on it under
/// load (`perf`, `cargo bench --bench load`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub use app::{AppState, Application};
/// The privacy settings in force, part of [`config::Config`].
pub use privacy::PrivacySettings;
