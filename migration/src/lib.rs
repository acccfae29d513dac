//! Schema migrations, one module per step, applied in order by `serve` and
//! `migrate`. The same migrations run on SQLite and PostgreSQL, so they use
//! sea-query's portable builders and never engine-specific SQL.

pub use m20261207_000025_packed_member_codes::{PACKED_INTERESTS, PACKED_SERVICES};
pub use sea_orm_migration::prelude::*;
pub use shared::STORE_JOIN_DAYS_SQL;

mod shared;

mod m20261124_000001_platform_data;
mod m20261124_000002_segments;
mod m20261124_000003_criteria;
mod m20261124_000004_onboarding;
mod m20261124_000005_benefits;
mod m20261124_000006_paid_renewals;
mod m20261125_000007_orders;
mod m20261125_000008_birth_dates;
mod m20261202_000009_partial_refunds;
mod m20261202_000010_usage_policy;
mod m20261202_000011_privacy_pools;
mod m20261202_000012_platform_release;
mod m20261202_000013_reapply_cooldown;
mod m20261202_000014_override_notes;
mod m20261202_000015_webhooks;
mod m20261202_000016_qualifications;
mod m20261202_000017_brand_name_unique;
mod m20261202_000018_webhook_reach;
mod m20261202_000019_member_snapshots;
mod m20261202_000020_store_join_days;
mod m20261206_000021_checkout_indexes;
mod m20261207_000022_redemption_days;
mod m20261207_000023_member_redemption_times;
mod m20261207_000024_budget_slots;
mod m20261207_000025_packed_member_codes;
mod m20261208_000026_entry_figures;

/// The ordered list of migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_platform_data::Migration),
            Box::new(m20261124_000002_segments::Migration),
            Box::new(m20261124_000003_criteria::Migration),
            Box::new(m20261124_000004_onboarding::Migration),
            Box::new(m20261124_000005_benefits::Migration),
            Box::new(m20261124_000006_paid_renewals::Migration),
            Box::new(m20261125_000007_orders::Migration),
            Box::new(m20261125_000008_birth_dates::Migration),
            Box::new(m20261202_000009_partial_refunds::Migration),
            Box::new(m20261202_000010_usage_policy::Migration),
            Box::new(m20261202_000011_privacy_pools::Migration),
            Box::new(m20261202_000012_platform_release::Migration),
            Box::new(m20261202_000013_reapply_cooldown::Migration),
            Box::new(m20261202_000014_override_notes::Migration),
            Box::new(m20261202_000015_webhooks::Migration),
            Box::new(m20261202_000016_qualifications::Migration),
            Box::new(m20261202_000017_brand_name_unique::Migration),
            Box::new(m20261202_000018_webhook_reach::Migration),
            Box::new(m20261202_000019_member_snapshots::Migration),
            Box::new(m20261202_000020_store_join_days::Migration),
            Box::new(m20261206_000021_checkout_indexes::Migration),
            Box::new(m20261207_000022_redemption_days::Migration),
            Box::new(m20261207_000023_member_redemption_times::Migration),
            Box::new(m20261207_000024_budget_slots::Migration),
            Box::new(m20261207_000025_packed_member_codes::Migration),
            Box::new(m20261208_000026_entry_figures::Migration),
        ]
    }
}
