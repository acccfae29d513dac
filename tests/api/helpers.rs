//! One way to start the real server for a test: its own database (SQLite
//! file or PostgreSQL database) holding a small deterministic data set, the
//! application on 127.0.0.1:0, and a client with helpers.
//!
//! Seeding that data set (2,000 members, 16 brands, the audience cube) is
//! most of a test's set-up, so each engine seeds it once per run into a
//! template and every test starts from a copy of it ([`TestDb::seeded`]):
//! PostgreSQL copies the template database (`CREATE DATABASE … TEMPLATE`),
//! SQLite copies the template file. Tests that seed or import themselves
//! start from an empty database ([`TestDb::new`]).

use std::{
    net::SocketAddr,
    path::PathBuf,
    sync::{
        Mutex, OnceLock,
        atomic::{AtomicU32, Ordering},
    },
};

use brand_gateway::{
    Application,
    auth::{self, Role, TokenKeys},
    config::{Cli, Command, Config},
    due::DueReport,
    seed::{self, SeedOptions},
};
use chrono::{NaiveDate, Utc};
use clap::Parser as _;
use sea_orm::{ConnectionTrait as _, DatabaseConnection, Statement};
use serde_json::{Value, json};

/// The database engine a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    /// A fresh SQLite file.
    Sqlite,
    /// A fresh database on the suite's PostgreSQL cluster.
    Postgres,
}

/// The suite's PostgreSQL maintenance URL, set by `main` before tests run.
pub(crate) static PG_ADMIN_URL: OnceLock<String> = OnceLock::new();

/// Members in the data set every test starts with.
pub(crate) const MEMBERS: u32 = 2_000;
/// Brands in that data set.
pub(crate) const BRANDS: u32 = 16;
/// The fixed as-of day, so data is the same every run.
pub(crate) fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 20).expect("valid date")
}

/// `serve` flags for tests that ask many new questions on purpose.
pub(crate) const GENEROUS_BUDGET: &[&str] = &[
    "--privacy-daily-budget",
    "100",
    "--privacy-30-day-budget",
    "1000",
];

/// A test's own migrated database: empty ([`TestDb::new`]) or a copy of the
/// seeded template ([`TestDb::seeded`]).
pub(crate) struct TestDb {
    /// Its URL.
    pub url: String,
    /// A connection.
    pub db: DatabaseConnection,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// Creates a fresh, empty one on `backend` and migrates it.
    pub(crate) async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = sqlite_url(&dir.path().join("test.db"));
                let db = brand_gateway::db::connect_and_migrate(&url)
                    .await
                    .expect("sqlite");
                Self {
                    url,
                    db,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let url = create_pg_database(&next_pg_name(), None).await;
                let db = brand_gateway::db::connect_and_migrate(&url)
                    .await
                    .expect("postgres");
                Self {
                    url,
                    db,
                    _dir: None,
                }
            }
        }
    }

    /// Creates one on `backend` holding the standard data set, as
    /// [`TestDb::new`] followed by [`TestDb::seed`] would, but copied from
    /// the engine's template (seeded by the first caller of the run; the
    /// others wait for it).
    pub(crate) async fn seeded(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let template = SQLITE_TEMPLATE.get_or_init(sqlite_template).await.clone();
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("test.db");
                tokio::fs::copy(&template, &path)
                    .await
                    .expect("copy the SQLite template");
                let url = sqlite_url(&path);
                let db = brand_gateway::db::connect(&url).await.expect("sqlite");
                Self {
                    url,
                    db,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let template = PG_TEMPLATE.get_or_init(pg_template).await;
                let url = create_pg_database(&next_pg_name(), Some(template)).await;
                let db = brand_gateway::db::connect(&url).await.expect("postgres");
                Self {
                    url,
                    db,
                    _dir: None,
                }
            }
        }
    }

    /// Another connection pool on the same database, as a second gateway
    /// instance opens (the first keeps the SQLite file's directory).
    pub(crate) async fn share(&self) -> Self {
        Self {
            url: self.url.clone(),
            db: brand_gateway::db::connect(&self.url)
                .await
                .expect("second connection"),
            _dir: None,
        }
    }

    /// Seeds the standard small data set.
    pub(crate) async fn seed(&self) {
        seed::run(
            &self.db,
            &blobs(),
            &SeedOptions {
                members: MEMBERS,
                brands: BRANDS,
                long_tail: 0,
                seed: 42,
                as_of: as_of(),
                replace: false,
            },
        )
        .await
        .expect("seed");
    }
}

/// The SQLite template file, once made.
static SQLITE_TEMPLATE: tokio::sync::OnceCell<PathBuf> = tokio::sync::OnceCell::const_new();
/// The directory holding it, removed by [`remove_templates`].
static SQLITE_TEMPLATE_DIR: Mutex<Option<tempfile::TempDir>> = Mutex::new(None);
/// The name of the PostgreSQL template database, once made.
static PG_TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

/// The URL of a SQLite file (created on first connection).
fn sqlite_url(path: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// Seeds the SQLite template: a migrated, seeded file whose WAL has been
/// checkpointed into it and whose pool is closed, so copying the one file
/// copies the whole database.
async fn sqlite_template() -> PathBuf {
    let dir = tempfile::Builder::new()
        .prefix("brand-gateway-template-")
        .tempdir()
        .expect("template dir");
    let path = dir.path().join("template.db");
    let url = sqlite_url(&path);
    let template = TestDb {
        db: brand_gateway::db::connect_and_migrate(&url)
            .await
            .expect("sqlite template"),
        url,
        _dir: None,
    };
    template.seed().await;
    template
        .db
        .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
        .await
        .expect("checkpoint the SQLite template");
    template
        .db
        .close()
        .await
        .expect("close the SQLite template");
    let wal = dir.path().join("template.db-wal");
    assert!(
        !std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0),
        "the SQLite template's WAL was not checkpointed"
    );
    *SQLITE_TEMPLATE_DIR.lock().expect("template dir lock") = Some(dir);
    path
}

/// Seeds the PostgreSQL template: a migrated, seeded database with no open
/// connection left (copying needs that).
async fn pg_template() -> String {
    let name = format!("tpl_{}", std::process::id());
    let url = create_pg_database(&name, None).await;
    let template = TestDb {
        db: brand_gateway::db::connect_and_migrate(&url)
            .await
            .expect("postgres template"),
        url,
        _dir: None,
    };
    template.seed().await;
    template
        .db
        .close()
        .await
        .expect("close the PostgreSQL template");
    name
}

/// A new database name on the suite's cluster.
fn next_pg_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "t_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Creates database `name` on the suite's cluster, empty or a copy of
/// `template`, and returns its URL.
async fn create_pg_database(name: &str, template: Option<&str>) -> String {
    let admin_url = PG_ADMIN_URL.get().expect("PostgreSQL cluster");
    let admin = brand_gateway::db::connect(admin_url)
        .await
        .expect("admin connection");
    let sql = match template {
        Some(template) => format!("CREATE DATABASE {name} TEMPLATE {template}"),
        None => format!("CREATE DATABASE {name}"),
    };
    admin
        .execute_unprepared(&sql)
        .await
        .expect("create database");
    admin.close().await.ok();
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url.as_str(), |(base, _)| base);
    format!("{base}/{name}")
}

/// Removes what the run made outside its test databases: the blob store,
/// the SQLite template's directory, and the PostgreSQL template database
/// when `drop_postgres` (a server the suite did not start and so will not
/// throw away).
pub(crate) fn remove_templates(drop_postgres: bool) {
    if let Some(dir) = BLOB_DIR.get()
        && let Err(error) = std::fs::remove_dir_all(dir)
    {
        eprintln!("could not remove the blob store {}: {error}", dir.display());
    }
    drop(
        SQLITE_TEMPLATE_DIR
            .lock()
            .map(|mut dir| dir.take())
            .unwrap_or_default(),
    );
    let (true, Some(name), Some(admin_url)) =
        (drop_postgres, PG_TEMPLATE.get(), PG_ADMIN_URL.get())
    else {
        return;
    };
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    runtime.block_on(async {
        if let Ok(admin) = brand_gateway::db::connect(admin_url).await {
            if let Err(error) = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
                .await
            {
                eprintln!("could not drop the template database {name}: {error}");
            }
            admin.close().await.ok();
        }
    });
}

/// The secret every test app signs tokens with.
pub(crate) const SECRET: &str = "test-secret-that-is-long-enough-for-hs256-0123456789";

/// The test process's blob store directory, made on first use and removed
/// with the templates when the run ends.
static BLOB_DIR: OnceLock<PathBuf> = OnceLock::new();

/// Where test apps store filed documents: one directory per test process
/// (files are stored under their hash, so tests never see each other's).
pub(crate) fn blob_store() -> String {
    BLOB_DIR
        .get_or_init(|| {
            tempfile::Builder::new()
                .prefix("brand-gateway-blobs-")
                .tempdir()
                .expect("blob store directory")
                .keep()
        })
        .to_string_lossy()
        .into_owned()
}

/// The test process's blob store, where seeds and imports write member
/// snapshots (the templates' too, so every copy of a template finds its
/// snapshot). Two loads into a copy of a template would prune the
/// template's snapshot from it: tests load into `TestDb::new` databases.
pub(crate) fn blobs() -> brand_gateway::blobs::BlobStore {
    brand_gateway::blobs::BlobStore::open(&blob_store()).expect("blob store")
}

/// Builds the config a test app runs with, from the real CLI defaults.
pub(crate) fn config(url: &str, extra_flags: &[&str]) -> Config {
    let mut args = vec![
        "brand-gateway",
        "--database-url",
        url,
        "--jwt-secret",
        SECRET,
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--metrics-listen",
        "127.0.0.1:0",
    ];
    let blobs = blob_store();
    if !extra_flags.contains(&"--blob-store") {
        args.extend(["--blob-store", blobs.as_str()]);
    }
    // Tests make new epochs in process and ask at once; the epoch's
    // cache has its own test.
    if !extra_flags.contains(&"--repeat-cache-ms") {
        args.extend(["--repeat-cache-ms", "0"]);
    }
    args.extend_from_slice(extra_flags);
    let cli = Cli::parse_from(args);
    let Some(Command::Serve(serve)) = &cli.command else {
        unreachable!("serve was given");
    };
    Config::from_args(&cli.database, &cli.auth, serve).expect("config")
}

/// A running server with its database.
pub(crate) struct TestApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Where it serves `/metrics`.
    pub metrics_addr: SocketAddr,
    /// Its database.
    pub db: TestDb,
    /// Token keys matching the server's.
    pub keys: TokenKeys,
    /// HTTP client.
    pub client: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl TestApp {
    /// A seeded app with default settings.
    pub(crate) async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, &[]).await
    }

    /// A seeded app with extra `serve` flags (its database a copy of the
    /// seeded template).
    pub(crate) async fn spawn_with(backend: Backend, flags: &[&str]) -> Self {
        Self::start(TestDb::seeded(backend).await, flags).await
    }

    /// Starts the server on an existing database.
    pub(crate) async fn start(db: TestDb, flags: &[&str]) -> Self {
        let config = config(&db.url, flags);
        let keys = TokenKeys::new(&config.auth).expect("keys");
        let app = Application::build_with_db(config, db.db.clone())
            .await
            .expect("build");
        let addr = app.local_addr().expect("addr");
        let metrics_addr = app.metrics_addr().expect("metrics addr");
        let (tx, rx) = tokio::sync::oneshot::channel();
        let server = tokio::spawn(async move {
            app.run_until(async {
                rx.await.ok();
            })
            .await
            .expect("server");
        });
        Self {
            addr,
            metrics_addr,
            db,
            keys,
            client: reqwest::Client::new(),
            shutdown: Some(tx),
            server: Some(server),
        }
    }

    /// A second instance on this one's database, with its own pool,
    /// caches and background tasks, as a deployment runs several.
    pub(crate) async fn beside(&self, flags: &[&str]) -> Self {
        Self::start(self.db.share().await, flags).await
    }

    /// Stops the server, waiting for it to drain.
    pub(crate) async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            tx.send(()).ok();
        }
        if let Some(server) = self.server.take() {
            server.await.ok();
        }
    }

    /// A URL on this server.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The Prometheus text served on the metrics address.
    pub(crate) async fn metrics(&self) -> String {
        self.client
            .get(format!("http://{}/metrics", self.metrics_addr))
            .send()
            .await
            .expect("metrics")
            .error_for_status()
            .expect("metrics status")
            .text()
            .await
            .expect("metrics text")
    }

    /// SQL statements the server has run so far (`db_statements_total`).
    pub(crate) async fn statements(&self) -> f64 {
        let text = self.metrics().await;
        text.lines()
            .find_map(|l| l.strip_prefix("db_statements_total "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no db_statements_total in {text}"))
    }

    /// The fewest statements `query` ran in three tries: under load a
    /// preempted request may split a loader batch. Errors (entities not
    /// found) may be part of the answer.
    pub(crate) async fn fewest_statements(
        &self,
        token: &str,
        query: &str,
        variables: Value,
    ) -> f64 {
        let mut fewest = f64::MAX;
        for _ in 0..3 {
            let before = self.statements().await;
            self.graphql(token, query, variables.clone()).await;
            fewest = fewest.min(self.statements().await - before);
        }
        fewest
    }

    /// Issues a credential and returns its token.
    pub(crate) async fn token(&self, role: Role, brand: Option<i64>) -> String {
        self.token_as(role, brand, "test").await
    }

    /// Issues a credential for a named subject (e.g. two different reviewers).
    pub(crate) async fn token_as(&self, role: Role, brand: Option<i64>, subject: &str) -> String {
        auth::issue(&self.db.db, &self.keys, role, brand, subject, 1)
            .await
            .expect("issue token")
            .token
    }

    /// POSTs a GraphQL request with a token; returns status and body.
    pub(crate) async fn graphql(&self, token: &str, query: &str, variables: Value) -> (u16, Value) {
        let response = self
            .client
            .post(self.url("/graphql"))
            .bearer_auth(token)
            .header("accept", "application/graphql-response+json")
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON body"))
    }

    /// As [`TestApp::graphql`], asserting no errors and returning `data`.
    pub(crate) async fn data(&self, token: &str, query: &str, variables: Value) -> Value {
        let (status, body) = self.graphql(token, query, variables).await;
        assert_eq!(status, 200, "body: {body}");
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }
}

/// The `extensions.code` of each error in a response.
pub(crate) fn error_codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    e["extensions"]["code"]
                        .as_str()
                        .unwrap_or("<none>")
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The selection every audience test reads.
pub(crate) const AUDIENCE: &str = r#"
query($q: AudienceQuestion!) {
  audience(question: $q) {
    shownMembers overlapping populationMembers
    cells { key { dimension value } suppressed members share paidMemberShare blackCardShare meanAnnualSpendCents tgi
            membersInterval95 paidMemberShareInterval95 blackCardShareInterval95 noiseDominates }
    privacy {
      epsilonSpent platformReleaseEpsilon countNoiseScale countInterval95 countSensitivity spendNoiseScale
      suppressedCells minimumCellSize dataEpoch
      budget { epsilonLeft dailyLimit dailySpent dailyResetsAt rollingLimit rollingSpent }
    }
  }
}"#;

impl TestApp {
    /// Asks an audience question; returns status and body.
    pub(crate) async fn ask(&self, token: &str, question: Value) -> (u16, Value) {
        self.graphql(token, AUDIENCE, json!({ "q": question }))
            .await
    }

    /// Asks and expects an answer.
    pub(crate) async fn answer(&self, token: &str, question: Value) -> Value {
        self.data(token, AUDIENCE, json!({ "q": question })).await["audience"].clone()
    }

    /// How many debits the analyst's privacy ledger holds.
    pub(crate) async fn spend_count(&self, token: &str) -> usize {
        let data = self
            .data(
                token,
                "{ privacySpends(first: 100) { edges { node { epsilon } } } }",
                json!({}),
            )
            .await;
        data["privacySpends"]["edges"]
            .as_array()
            .expect("edges")
            .len()
    }

    /// Builds a new data epoch, as `brand-gateway refresh` does.
    pub(crate) async fn refresh(&self) {
        brand_gateway::platform_data::refresh(&self.db.db, &blobs(), as_of())
            .await
            .expect("refresh");
    }
}

impl TestApp {
    /// Runs the due steps (onboarding and benefits) on this app's database
    /// now, in process, as `brand-gateway run-due` does, and returns what
    /// they did.
    pub(crate) async fn run_due(&self) -> DueReport {
        brand_gateway::due::run(&self.db.db, Utc::now())
            .await
            .expect("run the due steps")
    }
}

/// One integer from `sql`, cast so SUM and AVG read alike on both engines.
pub(crate) async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    let sql = format!("SELECT CAST(({sql}) AS BIGINT)");
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("query")
        .expect("a row");
    row.try_get_by_index::<i64>(0).expect("an integer")
}

/// The `(integer, text)` rows of `sql`, in its order.
pub(crate) async fn pairs(db: &DatabaseConnection, sql: &str) -> Vec<(i64, String)> {
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        sql.to_owned(),
    ))
    .await
    .expect("query")
    .iter()
    .map(|row| {
        (
            row.try_get_by_index(0).expect("integer"),
            row.try_get_by_index(1).expect("text"),
        )
    })
    .collect()
}

/// Writes one CSV file of an import test case.
pub(crate) fn write(dir: &std::path::Path, name: &str, contents: &str) {
    std::fs::write(dir.join(name), contents).expect("write csv");
}

/// Each member's interests (`column` "interests") or services ("services")
/// as rows `(member_id, code)`, unpacked from the member row's packed
/// column as a derived table (bit i for the i-th code): what checks in SQL
/// compare with.
pub(crate) fn member_codes(column: &str) -> String {
    let codes = match column {
        "services" => brand_gateway::platform::SERVICES.to_vec(),
        "interests" => brand_gateway::platform::Interest::codes(),
        other => panic!("no packed column {other}"),
    };
    let vocabulary = codes
        .iter()
        .enumerate()
        // Written out here rather than through the gateway's own rule, so
        // the checks that use it hold that rule to bit i for the i-th code.
        .map(|(value, code)| format!("SELECT '{code}' AS code, {} AS bit", 1 << value))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    format!(
        "(SELECT p.id AS member_id, v.code AS code FROM member p \
         JOIN ({vocabulary}) v ON (p.{column} & v.bit) <> 0)"
    )
}
