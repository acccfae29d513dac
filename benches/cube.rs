//! Seeding throughput, and the audience cube built by the columnar engine
//! from the member snapshot, checked cell for cell against SQL over the
//! member rows and timed side by side with DuckDB on the same files.
//!
//! `cargo bench --bench cube` (1,000,000 members) or
//! `cargo bench --bench cube -- 10000000`. Seeds a fresh SQLite file (or the
//! database in `DATABASE_URL`), which writes the member snapshot and builds
//! the first epoch; times a second columnar `refresh`; fails unless every
//! cell equals the same aggregate computed by SQL from the member rows;
//! computes the cells again without writing them, with DataFusion and (when
//! `CUBE_BENCH_PYTHON` names a Python with `duckdb`) with DuckDB running the
//! same statements on the same Parquet files, and prints the ratio; and
//! times the epoch's platform release built from the cube.

use std::time::Instant;

use brand_gateway::{
    blobs::BlobStore,
    seed::{self, SeedOptions},
};
use chrono::NaiveDate;

#[tokio::main]
async fn main() {
    let members: u32 = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(1_000_000);
    println!("machine: {}", machine());
    let dir = tempfile::tempdir().expect("temp dir");
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}?mode=rwc", dir.path().join("cube.db").display()));
    let db = brand_gateway::db::connect_and_migrate(&url)
        .await
        .expect("database");
    let blobs = BlobStore::open(&dir.path().join("blobs").display().to_string()).expect("blobs");
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 20).expect("date");
    let options = SeedOptions {
        members,
        brands: 40,
        long_tail: 0,
        seed: 7,
        as_of,
        replace: true,
    };
    let report = seed::run(&db, &blobs, &options).await.expect("seed");
    let seconds_per_million = report.elapsed.as_secs_f64() * 1e6 / f64::from(members.max(1));
    println!(
        "data: {members} members, {} rows loaded (database and snapshot) in {:.1} s: \
         {seconds_per_million:.2} s per million members, 10M at this rate {:.0} s (target < 30 s)",
        report.rows.total(),
        report.elapsed.as_secs_f64(),
        seconds_per_million * 10.0
    );
    println!(
        "columnar cube (first, in seed): {} cells in {:.2} s",
        report.cube.cells,
        report.cube.elapsed.as_secs_f64()
    );
    let columnar = brand_gateway::segments::cube::refresh(&db, &blobs, as_of)
        .await
        .expect("refresh");
    let columnar_seconds = columnar.elapsed.as_secs_f64();
    println!(
        "columnar cube: {} cells in {columnar_seconds:.2} s",
        columnar.cells
    );
    // The cells against the same aggregates computed by SQL from the
    // member rows in the database (the path the cube replaced showed the
    // same cells at 1M members on both databases before it was removed).
    // `CUBE_BENCH_CHECK=0` skips it (about 110 s at 1M members on
    // PostgreSQL: one SQL aggregate per store).
    if std::env::var("CUBE_BENCH_CHECK").as_deref() == Ok("0") {
        println!("cells not checked against the member rows (CUBE_BENCH_CHECK=0)");
    } else {
        let start = Instant::now();
        let check = brand_gateway::segments::check_cube(&db)
            .await
            .expect("check");
        println!(
            "cells checked against SQL over the member rows: {} cells, {} differing; \
             {} store join days, {} differing; in {:.1} s",
            check.cells,
            check.differing,
            check.join_days,
            check.join_days_differing,
            start.elapsed().as_secs_f64()
        );
        assert_eq!(check.differing, 0, "the cube differs from the member rows");
        assert_eq!(
            check.join_days_differing, 0,
            "the join days differ from the member rows"
        );
    }

    side_by_side(&db, &blobs, dir.path(), as_of, &columnar.capped).await;

    // The epoch's platform release, as `serve` makes it at start-up.
    let settings = brand_gateway::PrivacySettings::default();
    let start = Instant::now();
    let release = brand_gateway::segments::prepare_platform_release(&db, &settings)
        .await
        .expect("platform release")
        .expect("an epoch");
    println!(
        "platform release: {} tables, {} cells, ε {} in {:.2} s",
        release.tables,
        release.cells,
        release.epsilon_micros as f64 / 1e6,
        start.elapsed().as_secs_f64()
    );
}

/// A checksum of a part's cells (weights on every column, `MULTI_DIM`
/// replaced by the part's), the same on every engine.
const CHECKSUM: &str = "members * (1 + population * 31 + (multi_value + 1) * 37 + tier * 41 + paid * 43 \
    + black * 47 + age_band * 53 + gender * 59 + city_tier * 61 + spend_band * 67 + MULTI_DIM * 71) + spend";

/// The cube's statements on the snapshot, computing the cells without
/// writing them, with DataFusion here and, when `CUBE_BENCH_PYTHON` names
/// a Python with `duckdb` installed, with DuckDB on the same files.
async fn side_by_side(
    db: &sea_orm::DatabaseConnection,
    blobs: &BlobStore,
    dir: &std::path::Path,
    as_of: NaiveDate,
    capped: &[brand_gateway::segments::Dimension],
) {
    let snapshot = brand_gateway::snapshot::current(db)
        .await
        .expect("snapshot")
        .expect("a snapshot");
    let plan = brand_gateway::segments::cube::plan(as_of, capped);
    let engine = brand_gateway::snapshot::open(blobs, &snapshot)
        .await
        .expect("engine");
    let start = Instant::now();
    for (name, sql) in &plan.tables {
        let table = engine
            .sql(sql)
            .await
            .expect("sql")
            .cache()
            .await
            .expect("table");
        engine
            .register_table(name.as_str(), table.into_view())
            .expect("register");
    }
    for (index, (_, sql)) in plan.parts.iter().enumerate() {
        let part = engine
            .sql(sql)
            .await
            .expect("sql")
            .cache()
            .await
            .expect("part");
        engine
            .register_table(format!("part_{index}").as_str(), part.into_view())
            .expect("register");
    }
    let seconds = start.elapsed().as_secs_f64();
    let (mut cells, mut checksum) = (0_i64, 0_i128);
    for (index, (multi_dim, _)) in plan.parts.iter().enumerate() {
        let sum = CHECKSUM.replace("MULTI_DIM", &multi_dim.to_string());
        let batches = engine
            .sql(&format!(
                "SELECT COUNT(*), CAST(COALESCE(SUM({sum}), 0) AS BIGINT) FROM part_{index}"
            ))
            .await
            .expect("sql")
            .collect()
            .await
            .expect("checksum");
        use datafusion::arrow::{array::AsArray as _, datatypes::Int64Type};
        cells += batches[0].column(0).as_primitive::<Int64Type>().value(0);
        checksum += i128::from(batches[0].column(1).as_primitive::<Int64Type>().value(0));
    }
    println!(
        "datafusion (compute only, {} threads): {cells} cells, checksum {checksum}, in {seconds:.2} s",
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    let Ok(python) = std::env::var("CUBE_BENCH_PYTHON") else {
        println!("duckdb: not run (set CUBE_BENCH_PYTHON to a Python with duckdb installed)");
        return;
    };
    let plan_file = dir.join("plan.json");
    std::fs::write(
        &plan_file,
        serde_json::json!({
            "snapshot": dir.join("blobs").join(&snapshot.location),
            "snapshot_tables": brand_gateway::snapshot::table_names().collect::<Vec<_>>(),
            "tables": plan.tables,
            "parts": plan.parts,
            "checksum": CHECKSUM,
        })
        .to_string(),
    )
    .expect("plan");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/engines/cube_duckdb.py"
    );
    let output = std::process::Command::new(python)
        .arg(script)
        .arg(&plan_file)
        .output()
        .expect("run duckdb");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let theirs: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("duckdb's figures");
    let their_seconds = theirs["seconds"].as_f64().expect("seconds");
    println!(
        "{}: {} cells, checksum {}, in {their_seconds:.2} s",
        theirs["engine"].as_str().unwrap_or("duckdb"),
        theirs["cells"],
        theirs["checksum"]
    );
    assert_eq!(
        theirs["cells"].as_i64(),
        Some(cells),
        "the engines' cells differ"
    );
    assert_eq!(
        theirs["checksum"].to_string(),
        checksum.to_string(),
        "the engines' cells differ"
    );
    println!(
        "datafusion / duckdb: {:.2}× the time (target ≤ 2)",
        seconds / their_seconds
    );
}

/// The CPU model and cores, for the figures' context.
fn machine() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|name| name.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    format!("{model}, {cores} cores")
}
