//! brand-gateway: the partner-facing GraphQL gateway of the membership
//! programme. [`Application::build`] wires configuration, database, schema
//! and HTTP router together; `main.rs` and the integration tests both use it.

pub mod audit;
pub mod auth;
pub mod benefits;
pub mod brands;
pub mod config;
pub mod criteria;
pub mod db;
pub mod due;
pub mod error;
pub mod graphql;
pub mod http;
pub mod import;
pub mod onboarding;
pub mod pagination;
pub mod platform;
pub mod platform_data;
pub mod privacy;
pub mod progress;
pub mod seed;
pub mod segments;
pub mod telemetry;

mod app;

pub use app::{AppState, Application};
