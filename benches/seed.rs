//! Seeding throughput: generates the synthetic platform data set into a
//! fresh SQLite file and prints the time and rows per second.
//!
//! `cargo bench --bench seed` (1,000,000 members, 40 brands), or
//! `cargo bench --bench seed -- 200000` for another member count. Set
//! `DATABASE_URL` to a PostgreSQL database to measure that engine instead.

use std::time::Instant;

use brand_gateway::seed::{self, SeedOptions};
use chrono::NaiveDate;

#[tokio::main]
async fn main() {
    let members: u32 = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| {
        format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        )
    });
    let db = brand_gateway::db::connect_and_migrate(&url)
        .await
        .expect("database");
    let options = SeedOptions {
        members,
        brands: 40,
        seed: 7,
        as_of: NaiveDate::from_ymd_opt(2026, 11, 20).expect("date"),
        replace: true,
    };
    let start = Instant::now();
    let report = seed::run(&db, &options).await.expect("seed");
    let seconds = start.elapsed().as_secs_f64();
    let rows = report.rows.total();
    let load = report.elapsed.as_secs_f64();
    println!(
        "seed: {members} members, {rows} rows: load {load:.2} s ({:.0} rows/s), audience cube {:.2} s ({} cells), total {seconds:.2} s",
        rows as f64 / load,
        report.cube.elapsed.as_secs_f64(),
        report.cube.cells
    );
    println!(
        "rows: {}",
        serde_json::to_string(&report.rows).expect("json")
    );
}
