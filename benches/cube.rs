//! Seeding throughput, and the audience cube's build time against plain
//! `GROUP BY`s over the same rows.
//!
//! `cargo bench --bench cube` (1,000,000 members) or
//! `cargo bench --bench cube -- 10000000`. Seeds a fresh SQLite file (or the
//! database in `DATABASE_URL`), times its `refresh` (a new data epoch), then
//! times plain `SELECT … GROUP BY` queries computing the same aggregates
//! (members by all seven single-valued dimensions, for the platform and per
//! store, and per interest and per service), and prints both and the ratio;
//! and times the epoch's platform release built from the cube.

use std::time::Instant;

use brand_gateway::seed::{self, SeedOptions};
use chrono::NaiveDate;
use sea_orm::{ConnectionTrait as _, Statement};

const DIMENSIONS: &str = "CASE WHEN m.points >= 4000 THEN 5 WHEN m.points >= 2500 THEN 4 WHEN m.points >= 1800 THEN 3 \
    WHEN m.points >= 1000 THEN 2 WHEN m.points >= 400 THEN 1 ELSE 0 END, m.paid_member, m.black_card, \
    CASE WHEN m.birth_year > 2001 THEN 0 WHEN m.birth_year > 1996 THEN 1 WHEN m.birth_year > 1991 THEN 2 \
    WHEN m.birth_year > 1986 THEN 3 WHEN m.birth_year > 1976 THEN 4 ELSE 5 END, m.gender, m.city_tier, \
    CASE WHEN m.annual_spend_cents < 100000 THEN 0 WHEN m.annual_spend_cents < 500000 THEN 1 \
    WHEN m.annual_spend_cents < 2000000 THEN 2 WHEN m.annual_spend_cents < 5000000 THEN 3 ELSE 4 END";

#[tokio::main]
async fn main() {
    let members: u32 = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}?mode=rwc", dir.path().join("cube.db").display()));
    let db = brand_gateway::db::connect_and_migrate(&url)
        .await
        .expect("database");
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 20).expect("date");
    let options = SeedOptions {
        members,
        brands: 40,
        long_tail: 0,
        seed: 7,
        as_of,
        replace: true,
    };
    let report = seed::run(&db, &options).await.expect("seed");
    println!(
        "data: {members} members, {} rows loaded in {:.1} s",
        report.rows.total(),
        report.elapsed.as_secs_f64()
    );

    // `seed` ends with a refresh, exactly what `brand-gateway refresh` runs.
    let cube_seconds = report.cube.elapsed.as_secs_f64();
    println!("cube: {} cells in {cube_seconds:.2} s", report.cube.cells);

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

    let plain = [
        (
            "platform",
            format!("SELECT {DIMENSIONS}, COUNT(*) FROM member m GROUP BY {DIMENSIONS}"),
        ),
        (
            "stores",
            format!(
                "SELECT s.brand_id, {DIMENSIONS}, COUNT(*) FROM store_membership s JOIN member m ON m.id = s.member_id \
                 GROUP BY s.brand_id, {DIMENSIONS}"
            ),
        ),
        (
            "platform x interest",
            format!(
                "SELECT i.interest, {DIMENSIONS}, COUNT(*) FROM member_interest i JOIN member m ON m.id = i.member_id \
                 GROUP BY i.interest, {DIMENSIONS}"
            ),
        ),
        (
            "stores x interest",
            format!(
                "SELECT s.brand_id, i.interest, {DIMENSIONS}, COUNT(*) FROM store_membership s \
                 JOIN member_interest i ON i.member_id = s.member_id JOIN member m ON m.id = s.member_id \
                 GROUP BY s.brand_id, i.interest, {DIMENSIONS}"
            ),
        ),
        (
            "platform x service",
            format!(
                "SELECT v.service, {DIMENSIONS}, COUNT(*) FROM member_service v JOIN member m ON m.id = v.member_id \
                 GROUP BY v.service, {DIMENSIONS}"
            ),
        ),
        (
            "stores x service",
            format!(
                "SELECT s.brand_id, v.service, {DIMENSIONS}, COUNT(*) FROM store_membership s \
                 JOIN member_service v ON v.member_id = s.member_id JOIN member m ON m.id = s.member_id \
                 GROUP BY s.brand_id, v.service, {DIMENSIONS}"
            ),
        ),
    ];
    let mut plain_total = 0.0;
    for (name, sql) in plain {
        let start = Instant::now();
        let rows = db
            .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .expect("group by");
        let seconds = start.elapsed().as_secs_f64();
        plain_total += seconds;
        println!(
            "plain GROUP BY {name}: {} groups in {seconds:.2} s",
            rows.len()
        );
    }
    println!(
        "cube build {cube_seconds:.2} s vs the same aggregates as plain GROUP BYs {plain_total:.2} s: ratio {:.2}",
        cube_seconds / plain_total
    );
}
