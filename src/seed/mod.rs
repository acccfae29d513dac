//! `seed`: fills an empty database with synthetic platform data, in one
//! transaction, showing progress. The generator is in [`generate`]; rows go
//! through the same bulk writer as `import`.

pub mod demo;
pub mod generate;

use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use entity::store_membership;
use sea_orm::{DatabaseConnection, DbErr};

use crate::{
    blobs::BlobStore,
    error::{CodedError, ErrorCode},
    platform_data::{self, LoadTransaction, PlatformWriter, RowCounts},
    progress::Progress,
    snapshot::SnapshotError,
};
use generate::{Generator, category_rows};

/// What to generate.
#[derive(Debug, Clone)]
pub struct SeedOptions {
    /// Members to generate.
    pub members: u32,
    /// Brands to generate.
    pub brands: u32,
    /// Most smaller brands per category beyond `brands` (0: none); each
    /// category gets between half that and that many.
    pub long_tail: u32,
    /// Random seed.
    pub seed: u64,
    /// Last day of the generated history (Asia/Shanghai).
    pub as_of: NaiveDate,
    /// Replace existing platform data instead of refusing.
    pub replace: bool,
}

/// What was generated and how long it took.
#[derive(Debug, Clone)]
pub struct SeedReport {
    /// Rows per table.
    pub rows: RowCounts,
    /// Wall-clock time of the data load.
    pub elapsed: Duration,
    /// The audience cube built from it.
    pub cube: crate::segments::cube::RefreshReport,
}

/// Why seeding failed; the database is left as it was.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// Platform data exists and `replace` was not asked for.
    #[error("the database already holds platform data; pass --replace to overwrite it")]
    NotEmpty,
    /// Sizes out of range.
    #[error("{0}")]
    BadSize(&'static str),
    /// Storage failed.
    #[error("database error while seeding: {0}")]
    Db(#[from] DbErr),
    /// The member snapshot or the cube built from it failed.
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
}

impl CodedError for SeedError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::NotEmpty => ErrorCode::Conflict,
            Self::BadSize(_) => ErrorCode::BadUserInput,
            Self::Db(_) | Self::Snapshot(_) => ErrorCode::Internal,
        }
    }
}

/// Generates and stores the data set described by `options`.
pub async fn run(
    db: &DatabaseConnection,
    blobs: &BlobStore,
    options: &SeedOptions,
) -> Result<SeedReport, SeedError> {
    if options.members == 0 || options.members > 50_000_000 {
        return Err(SeedError::BadSize(
            "--members must be between 1 and 50,000,000",
        ));
    }
    if !(1..=10_000).contains(&options.brands) {
        return Err(SeedError::BadSize("--brands must be between 1 and 10,000"));
    }
    let start = Instant::now();
    let txn = LoadTransaction::begin(db).await?;
    if !platform_data::is_empty(&txn).await? {
        if !options.replace {
            return Err(SeedError::NotEmpty);
        }
        platform_data::clear(&txn).await?;
    }
    let mut generator = Generator::new(options.seed, options.as_of);
    let created_at = Utc::now();
    let (rows, txn) = platform_data::load(txn, blobs, async |writer: &mut PlatformWriter| {
        category_rows()
            .into_iter()
            .for_each(|row| writer.categories.push(row));
        let brands = generator.brands(options.brands, options.long_tail);
        for plan in &brands {
            writer.brands.push(plan.row(created_at));
        }
        let mut progress = Progress::new("brand history", brands.len() as u64);
        for plan in &brands {
            let history = |g: &mut Generator| (g.sales(plan), g.prices(plan), g.mentions(plan));
            let (sales, prices, mentions) = if plan.long_tail {
                generator.on_tail(history)
            } else {
                history(&mut generator)
            };
            sales.into_iter().for_each(|row| writer.sales.push(row));
            prices.into_iter().for_each(|row| writer.prices.push(row));
            mentions
                .into_iter()
                .for_each(|row| writer.mentions.push(row));
            writer.flush_if_full().await?;
            progress.advance(1);
        }
        progress.finish();

        let mut progress = Progress::new("members", u64::from(options.members));
        for id in 1..=i64::from(options.members) {
            let plan = generator.member(id, &brands);
            if plan.member.paid_member {
                writer.renewals.push(generator.renewal(&plan.member));
            }
            writer.members.push(plan.member);
            for (brand_id, joined_on) in plan.stores {
                writer.store_memberships.push(store_membership::Model {
                    brand_id,
                    member_id: id,
                    joined_on,
                });
            }
            writer.flush_if_full().await?;
            if id % 10_000 == 0 {
                progress.advance(10_000);
            }
        }
        progress.advance(u64::from(options.members) % 10_000);
        progress.finish();
        Ok::<_, SeedError>(())
    })
    .await?;
    crate::audit::record(
        &txn,
        "cli",
        "data.seeded",
        "platform",
        serde_json::json!({
            "members": options.members,
            "brands": options.brands,
            "seed": options.seed,
            "as_of": options.as_of,
            "rows": rows,
        }),
    )
    .await?;
    txn.commit().await?;
    let elapsed = start.elapsed();
    let cube = platform_data::settle::<SeedError>(db, blobs, options.as_of).await?;
    Ok(SeedReport {
        rows,
        elapsed,
        cube,
    })
}
