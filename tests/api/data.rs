//! Platform data in: `seed` (deterministic, realistic) and `import` (CSV,
//! all or nothing, errors that say where).

use std::path::Path;

use brand_gateway::{
    auth::Role,
    import,
    seed::{self, SeedError, SeedOptions},
};
use sea_orm::{ConnectionTrait as _, DatabaseBackend, DatabaseConnection, Statement};
use serde_json::json;

use crate::helpers::{
    BRANDS, Backend, MEMBERS, TestApp, TestDb, as_of, member_codes, pairs, scalar, write,
};

/// A fingerprint of the member data: equal data, equal fingerprint.
async fn fingerprint(db: &DatabaseConnection) -> Vec<i64> {
    let mut out = Vec::new();
    for sql in [
        "SELECT COUNT(*) FROM member",
        "SELECT SUM(points) FROM member",
        "SELECT SUM(annual_spend_cents) FROM member",
        "SELECT SUM(birth_year * id) FROM member",
        "SELECT SUM(id * (interests * 64 + services)) FROM member",
        "SELECT COUNT(*) FROM store_membership",
        "SELECT SUM(brand_id * member_id) FROM store_membership",
        "SELECT SUM(gmv_cents) FROM category_sales",
        "SELECT SUM(price_cents) FROM sku_price",
        "SELECT SUM(voluntary) FROM social_mention",
    ] {
        out.push(scalar(db, sql).await);
    }
    out
}

pub(crate) async fn seeding_is_deterministic_and_realistic(backend: Backend) {
    let first = TestDb::new(backend).await;
    first.seed().await;
    // The other seeding: the run's template, which every `TestApp::spawn`
    // starts from a copy of, so its copies hold the same data set too.
    let second = TestDb::seeded(backend).await;
    assert_eq!(fingerprint(&first.db).await, fingerprint(&second.db).await);

    let db = &first.db;
    assert_eq!(
        scalar(db, "SELECT COUNT(*) FROM member").await,
        i64::from(MEMBERS)
    );
    assert_eq!(
        scalar(db, "SELECT COUNT(*) FROM brand").await,
        i64::from(BRANDS)
    );
    // Programme rules hold for every generated member.
    assert_eq!(
        scalar(
            db,
            "SELECT COUNT(*) FROM member WHERE paid_member AND points < 1000"
        )
        .await,
        0
    );
    assert_eq!(
        scalar(
            db,
            "SELECT COUNT(*) FROM member WHERE black_card AND points < 2500"
        )
        .await,
        0
    );
    // Paid members are a few percent.
    let paid = scalar(db, "SELECT COUNT(*) FROM member WHERE paid_member").await;
    assert!(
        (20..=160).contains(&paid),
        "paid members: {paid} of {MEMBERS}"
    );
    // A pyramid: each growth tier holds fewer members than the one below.
    let mut tiers = Vec::new();
    for (low, high) in [
        (0, 399),
        (400, 999),
        (1000, 1799),
        (1800, 2499),
        (2500, 3999),
        (4000, 1_000_000),
    ] {
        tiers.push(
            scalar(
                db,
                &format!("SELECT COUNT(*) FROM member WHERE points BETWEEN {low} AND {high}"),
            )
            .await,
        );
    }
    assert!(
        tiers.windows(2).all(|w| w[0] > w[1]),
        "members per tier: {tiers:?}"
    );
    // Spend rises with tier.
    let low = scalar(
        db,
        "SELECT AVG(annual_spend_cents) FROM member WHERE points < 400",
    )
    .await;
    let high = scalar(
        db,
        "SELECT AVG(annual_spend_cents) FROM member WHERE points >= 1800",
    )
    .await;
    assert!(high > low * 4, "mean spend low {low}, high {high}");
    // Several interests per member on average, every member at least one.
    let interests = scalar(
        db,
        &format!("SELECT COUNT(*) FROM {} c", member_codes("interests")),
    )
    .await;
    assert!(interests > i64::from(MEMBERS) * 2);
    assert_eq!(
        scalar(db, "SELECT COUNT(*) FROM member WHERE interests = 0").await,
        0
    );
    let services = scalar(
        db,
        &format!("SELECT COUNT(*) FROM {} c", member_codes("services")),
    )
    .await;
    assert!(services > i64::from(MEMBERS), "services: {services}");
    // Store overlap with paid members differs by brand.
    let spread = scalar(
        db,
        "SELECT MAX(r) - MIN(r) FROM (SELECT s.brand_id, \
         1000 * SUM(CASE WHEN m.paid_member THEN 1 ELSE 0 END) / COUNT(*) AS r \
         FROM store_membership s JOIN member m ON m.id = s.member_id GROUP BY s.brand_id HAVING COUNT(*) >= 30) t",
    )
    .await;
    assert!(
        spread >= 30,
        "paid share per store spread (per mille): {spread}"
    );
}

/// The database's index definitions, by name: what the migrations made.
async fn indexes(db: &DatabaseConnection) -> Vec<String> {
    let sql = match db.get_database_backend() {
        DatabaseBackend::Sqlite => {
            "SELECT name || ': ' || sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        }
        _ => "SELECT indexname || ': ' || indexdef FROM pg_indexes WHERE schemaname = 'public'",
    };
    let mut found: Vec<String> = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("indexes")
        .iter()
        .map(|row| row.try_get_by_index(0).expect("text"))
        .collect();
    found.sort();
    found
}

pub(crate) async fn seeding_refuses_a_database_with_data(backend: Backend) {
    let db = TestDb::new(backend).await;
    let migrated = indexes(&db.db).await;
    assert!(
        migrated
            .iter()
            .any(|index| index.starts_with("idx_store_membership_member_id")),
        "{migrated:?}"
    );
    db.seed().await;
    // SQLite loads without the secondary indexes and builds them at the
    // end: every one is back, as the migrations defined it.
    assert_eq!(indexes(&db.db).await, migrated);
    let options = SeedOptions {
        members: 100,
        brands: 3,
        long_tail: 0,
        seed: 1,
        as_of: as_of(),
        replace: false,
    };
    let before = fingerprint(&db.db).await;
    assert!(matches!(
        seed::run(&db.db, &crate::helpers::blobs(), &options).await,
        Err(SeedError::NotEmpty)
    ));
    assert_eq!(fingerprint(&db.db).await, before);
    let replaced = seed::run(
        &db.db,
        &crate::helpers::blobs(),
        &SeedOptions {
            replace: true,
            ..options
        },
    )
    .await
    .expect("replace");
    assert_eq!(replaced.rows.members, 100);
    assert_eq!(indexes(&db.db).await, migrated);
    assert_eq!(scalar(&db.db, "SELECT COUNT(*) FROM brand").await, 3);
}

/// A load the database refuses part way leaves nothing behind: the rows
/// are made while earlier statements run, and the refusal stops both.
pub(crate) async fn a_load_the_database_refuses_changes_nothing(backend: Backend) {
    let db = TestDb::new(backend).await;
    let migrated = indexes(&db.db).await;
    // A category the seed's own BEAUTY collides with; categories alone do
    // not count as platform data, so the seed goes ahead and is refused at
    // its first statement while it is still making members.
    db.db
        .execute_unprepared(
            "INSERT INTO category (id, code, name) VALUES (100, 'BEAUTY', 'Beauty')",
        )
        .await
        .expect("category");
    let options = SeedOptions {
        members: 20_000,
        brands: 3,
        long_tail: 0,
        seed: 1,
        as_of: as_of(),
        replace: false,
    };
    let error = seed::run(&db.db, &crate::helpers::blobs(), &options)
        .await
        .expect_err("the unique category code refuses the seed");
    assert!(matches!(error, SeedError::Db(_)), "{error:?}");
    assert_eq!(indexes(&db.db).await, migrated);
    for (table, rows) in [
        ("category", 1),
        ("brand", 0),
        ("member", 0),
        ("member_snapshot", 0),
        ("audit_log", 0),
    ] {
        assert_eq!(
            scalar(&db.db, &format!("SELECT COUNT(*) FROM {table}")).await,
            rows,
            "{table}"
        );
    }
}

/// A small, valid data set.
fn write_valid_csv(dir: &Path) {
    write(
        dir,
        "categories.csv",
        "id,code,name\n1,BEAUTY,Beauty\n2,PETS,Pet Supplies\n",
    );
    write(
        dir,
        "brands.csv",
        "id,name,category_code,status\n10,Lumiere,BEAUTY,ACTIVE\n11,Pawly,PETS,PROSPECT\n",
    );
    write(
        dir,
        "members.csv",
        "id,points,paid_member,black_card,birth_year,gender,city_tier,annual_spend_cents\n\
         1,120,false,false,1995,F,TIER2,150000\n\
         2,2600,true,true,1984,M,TIER1,9000000\n\
         3,1200,true,false,1990,U,NEW_TIER1,800000\n",
    );
    write(
        dir,
        "member_interests.csv",
        "member_id,interest\n1,BEAUTY\n2,LUXURY\n2,TRAVEL\n3,PETS\n",
    );
    write(
        dir,
        "member_services.csv",
        "member_id,service\n2,TRAVEL\n3,MAPS\n",
    );
    write(
        dir,
        "store_memberships.csv",
        "brand_id,member_id,joined_on\n10,1,2025-03-01\n10,2,2026-01-15\n11,3,2026-06-30\n",
    );
    write(
        dir,
        "category_sales.csv",
        "brand_id,month,gmv_cents,refund_cents,orders\n10,2026-10-01,5000000,200000,420\n",
    );
    write(
        dir,
        "sku_prices.csv",
        "brand_id,sku,day,price_cents,units\n10,L-1,2026-11-01,19900,12\n10,L-1,2026-11-02,18900,20\n",
    );
    write(
        dir,
        "social_mentions.csv",
        "brand_id,period_start,voluntary,paid\n10,2026-11-02,1200,300\n",
    );
    write(
        dir,
        "paid_renewals.csv",
        "member_id,due_on,renewed\n2,2026-06-01,true\n",
    );
}

pub(crate) async fn import_loads_csv_files(backend: Backend) {
    let dir = tempfile::tempdir().expect("dir");
    write_valid_csv(dir.path());
    let db = TestDb::new(backend).await;
    let report = import::run(&db.db, &crate::helpers::blobs(), dir.path(), false)
        .await
        .expect("import");
    assert_eq!(report.rows.members, 3);
    assert_eq!(report.rows.renewals, 1);
    assert_eq!(report.rows.total(), 2 + 2 + 3 + 1 + 3 + 1 + 2 + 1);
    // The load's transaction committed its records with its rows.
    let audited = "SELECT COUNT(*) FROM audit_log WHERE action = 'data.imported'";
    assert_eq!(scalar(&db.db, audited).await, 1);
    assert_eq!(
        scalar(&db.db, "SELECT members FROM member_snapshot").await,
        3
    );
    // Interests and services are packed into their members' rows.
    for (column, expected) in [
        (
            "interests",
            json!([[1, "BEAUTY"], [2, "LUXURY"], [2, "TRAVEL"], [3, "PETS"]]),
        ),
        ("services", json!([[2, "TRAVEL"], [3, "MAPS"]])),
    ] {
        let found = pairs(
            &db.db,
            &format!(
                "SELECT member_id, code FROM {} c ORDER BY member_id, code",
                member_codes(column)
            ),
        )
        .await;
        assert_eq!(json!(found), expected, "{column}");
    }

    // Imported brands are served, and new ids continue past imported ones.
    let app = TestApp::start(db, &[]).await;
    let token = app.token(Role::Reviewer, None).await;
    let data = app
        .data(
            &token,
            "{ brands(first: 10) { edges { node { id name category { code } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["brands"]["edges"][0]["node"],
        json!({ "id": "10", "name": "Lumiere", "category": { "code": "BEAUTY" } })
    );
    app.db
        .db
        .execute_unprepared("INSERT INTO category (code, name) VALUES ('HOME', 'Home')")
        .await
        .expect("a new row gets a fresh id");
    assert_eq!(scalar(&app.db.db, "SELECT MAX(id) FROM category").await, 3);
    app.stop().await;
}

/// A member holding more than five interests counts in the cube under the
/// first five in code order only (the cap that bounds a breakdown's
/// sensitivity), and the member-row aggregates cap it the same way.
pub(crate) async fn a_member_counts_under_at_most_five_of_its_interests(backend: Backend) {
    let dir = tempfile::tempdir().expect("dir");
    write_valid_csv(dir.path());
    write(
        dir.path(),
        "member_interests.csv",
        "member_id,interest\n1,BEAUTY\n\
         2,SPORTS\n2,OUTDOOR\n2,HOME\n2,MOTHER_BABY\n2,PETS\n2,BEAUTY\n\
         3,PETS\n3,GAMING\n",
    );
    let db = TestDb::new(backend).await;
    let report = import::run(&db.db, &crate::helpers::blobs(), dir.path(), false)
        .await
        .expect("import");
    assert_eq!(
        report.cube.capped,
        [brand_gateway::segments::Dimension::Interest]
    );
    let rows = db
        .db
        .query_all_raw(Statement::from_string(
            db.db.get_database_backend(),
            "SELECT CAST(multi_value AS BIGINT), CAST(SUM(members) AS BIGINT) FROM segment_cell \
             WHERE population = 0 AND multi_dim = 1 GROUP BY multi_value ORDER BY multi_value",
        ))
        .await
        .expect("cells");
    let codes = brand_gateway::platform::Interest::codes();
    let counted: Vec<(String, i64)> = rows
        .iter()
        .map(|row| {
            let value: i64 = row.try_get_by_index(0).expect("value");
            let members: i64 = row.try_get_by_index(1).expect("members");
            (codes[value as usize].to_owned(), members)
        })
        .collect();
    // Member 2's first five in code order: BEAUTY, HOME, MOTHER_BABY,
    // OUTDOOR, PETS; its SPORTS is not counted (the first five by value
    // would have left out PETS instead).
    assert_eq!(
        json!(counted),
        json!([
            ["BEAUTY", 2],
            ["OUTDOOR", 1],
            ["HOME", 1],
            ["MOTHER_BABY", 1],
            ["PETS", 2],
            ["GAMING", 1]
        ])
    );
    let check = brand_gateway::segments::check_cube(&db.db)
        .await
        .expect("check");
    assert_eq!(check.differing, 0, "{check:?}");
}

pub(crate) async fn a_bad_csv_row_names_file_line_and_column_and_changes_nothing(backend: Backend) {
    let cases: [(&str, &str, &str); 11] = [
        (
            "paid_renewals.csv",
            "member_id,due_on,renewed\n1,2026-05-01,true\n",
            "paid_renewals.csv, line 2, column `member_id`: only a paid member has a paid-membership renewal",
        ),
        (
            "brands.csv",
            "id,name,category_code,status\n0,Lumiere,BEAUTY,ACTIVE\n",
            "brands.csv, line 2, column `id`: brand ids start at 1",
        ),
        (
            "members.csv",
            "id,points,paid_member,black_card,birth_year,gender,city_tier,annual_spend_cents\n1,120,false,false,1995,F,TIER2,1\n2,900,true,false,1990,M,TIER1,5\n",
            "members.csv, line 3, column `paid_member`: a paid member needs at least 1000 points",
        ),
        (
            "members.csv",
            "id,points,paid_member,black_card,birth_year,gender,city_tier,annual_spend_cents\n1,abc,false,false,1995,F,TIER2,1\n",
            "members.csv, line 2, column `points`",
        ),
        (
            "members.csv",
            "id,points,paid_member,black_card,birth_year,gender,city_tier,annual_spend_cents\n1,1,false,false,1995,F,TIER9,1\n",
            "members.csv, line 2, column `city_tier`: `TIER9` is not one of",
        ),
        (
            "member_interests.csv",
            "member_id,interest\n1,BEAUTY\n1,BEAUTY\n",
            "member_interests.csv, line 3, column `interest`: duplicate row",
        ),
        (
            "member_interests.csv",
            "member_id,interest\n1,BEAUTY\n9,PETS\n8,PETS\n",
            "member_interests.csv, line 3, column `member_id`: unknown member id",
        ),
        // Named only in the services file (the valid set's interests file
        // names known members only).
        (
            "member_services.csv",
            "member_id,service\n2,TRAVEL\n3,MAPS\n7,MAPS\n",
            "member_services.csv, line 4, column `member_id`: unknown member id",
        ),
        (
            "member_interests.csv",
            "member_id,interest\n1,BEAUTY\n2,KNITTING\n",
            "member_interests.csv, line 3, column `interest`: unknown interest; use one of BEAUTY,",
        ),
        (
            "store_memberships.csv",
            "brand_id,member_id,joined_on\n10,1,2026-01-01\n99,1,2026-01-01\n",
            "store_memberships.csv, line 3, column `brand_id`: unknown brand id",
        ),
        (
            "brands.csv",
            "id,name,category,status\n10,Lumiere,BEAUTY,ACTIVE\n",
            "brands.csv, line 1, column `category_code`: missing column",
        ),
    ];
    let db = TestDb::new(backend).await;
    for (file, contents, expected) in cases {
        let dir = tempfile::tempdir().expect("dir");
        write_valid_csv(dir.path());
        write(dir.path(), file, contents);
        let error = import::run(&db.db, &crate::helpers::blobs(), dir.path(), false)
            .await
            .expect_err("must fail");
        let message = error.to_string();
        assert!(
            message.contains(expected),
            "expected `{expected}` in `{message}`"
        );
        for table in [
            "category",
            "brand",
            "member",
            "paid_renewal",
            "store_membership",
            "audit_log",
        ] {
            assert_eq!(
                scalar(&db.db, &format!("SELECT COUNT(*) FROM {table}")).await,
                0,
                "{table} after {file}"
            );
        }
    }
    // The command line says the same and exits non-zero.
    let dir = tempfile::tempdir().expect("dir");
    write_valid_csv(dir.path());
    write(
        dir.path(),
        "member_services.csv",
        "member_id,service\n1,TELEPORT\n",
    );
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_brand-gateway"))
        .arg("import")
        .arg(dir.path())
        .env("DATABASE_URL", &db.url)
        .env("BRAND_GATEWAY_BLOB_STORE", crate::helpers::blob_store())
        .output()
        .await
        .expect("run import");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("member_services.csv, line 2, column `service`: unknown service"),
        "{stderr}"
    );
}

/// A load the database refuses after the snapshot's files were written
/// (here as the snapshot is recorded, by a trigger) deletes those files:
/// nothing records them, and they would stay in the blob store for good.
pub(crate) async fn a_refused_load_deletes_its_snapshot_files(backend: Backend) {
    let dir = tempfile::tempdir().expect("dir");
    write_valid_csv(dir.path());
    let db = TestDb::new(backend).await;
    let refuse: &[&str] = match backend {
        Backend::Sqlite => &["CREATE TRIGGER refuse BEFORE INSERT ON member_snapshot \
             BEGIN SELECT RAISE(ABORT, 'refused'); END"],
        Backend::Postgres => &[
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql \
             AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$",
            "CREATE TRIGGER refuse BEFORE INSERT ON member_snapshot \
             FOR EACH ROW EXECUTE FUNCTION refuse()",
        ],
    };
    for sql in refuse {
        db.db.execute_unprepared(sql).await.expect("trigger");
    }
    let (blob_dir, blobs) = own_blob_store();
    import::run(&db.db, &blobs, dir.path(), false)
        .await
        .expect_err("the trigger refuses the load");
    assert_eq!(
        files_under(blob_dir.path()),
        Vec::<std::path::PathBuf>::new()
    );
    assert_eq!(
        scalar(&db.db, "SELECT COUNT(*) FROM member_snapshot").await,
        0
    );
}

/// A blob store of the test's own (its directory, removed when dropped),
/// so the files a load leaves can be counted.
fn own_blob_store() -> (tempfile::TempDir, brand_gateway::blobs::BlobStore) {
    let dir = tempfile::tempdir().expect("blob dir");
    let blobs = brand_gateway::blobs::BlobStore::open(&dir.path().display().to_string())
        .expect("blob store");
    (dir, blobs)
}

/// Every file below `dir`.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// Each load keeps the newest two snapshots (the current one, and the one
/// a refresh that started before the load may still read) and deletes the
/// older ones, record and files.
pub(crate) async fn a_load_prunes_older_snapshots(backend: Backend) {
    let dir = tempfile::tempdir().expect("dir");
    write_valid_csv(dir.path());
    let db = TestDb::new(backend).await;
    let (blob_dir, blobs) = own_blob_store();
    for replace in [false, true, true] {
        import::run(&db.db, &blobs, dir.path(), replace)
            .await
            .expect("import");
    }
    let kept = db
        .db
        .query_all_raw(Statement::from_string(
            db.db.get_database_backend(),
            "SELECT location FROM member_snapshot".to_owned(),
        ))
        .await
        .expect("snapshots");
    let mut kept: Vec<String> = kept
        .iter()
        .map(|row| row.try_get_by_index(0).expect("location"))
        .collect();
    kept.sort();
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert_eq!(
        scalar(&db.db, "SELECT MIN(id) FROM member_snapshot").await,
        2,
        "the newest two are kept"
    );
    let mut folders: Vec<String> = files_under(blob_dir.path())
        .iter()
        .filter_map(|file| {
            let folder = file.parent()?.strip_prefix(blob_dir.path()).ok()?;
            Some(folder.display().to_string())
        })
        .collect();
    folders.sort();
    folders.dedup();
    assert_eq!(folders, kept, "only the kept snapshots' files remain");
}
