//! One way to start the real server for a test: a fresh database (SQLite
//! file or PostgreSQL database), seeded with a small deterministic data
//! set, the application on 127.0.0.1:0, and a client with helpers.

use std::{
    net::SocketAddr,
    sync::{
        OnceLock,
        atomic::{AtomicU32, Ordering},
    },
};

use brand_gateway::{
    Application,
    auth::{self, Role, TokenKeys},
    config::{Cli, Command, Config},
    seed::{self, SeedOptions},
};
use chrono::NaiveDate;
use clap::Parser as _;
use sea_orm::{ConnectionTrait as _, DatabaseConnection, Statement};
use serde_json::{Value, json};

/// The database engine a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A fresh SQLite file.
    Sqlite,
    /// A fresh database on the suite's PostgreSQL cluster.
    Postgres,
}

/// The suite's PostgreSQL maintenance URL, set by `main` before tests run.
pub static PG_ADMIN_URL: OnceLock<String> = OnceLock::new();

/// Members in the data set every test starts with.
pub const MEMBERS: u32 = 2_000;
/// Brands in that data set.
pub const BRANDS: u32 = 16;
/// The fixed as-of day, so data is the same every run.
pub fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 20).expect("valid date")
}

/// `serve` flags for tests that ask many new questions on purpose.
pub const GENEROUS_BUDGET: &[&str] = &[
    "--privacy-daily-budget",
    "100",
    "--privacy-30-day-budget",
    "1000",
];

/// A fresh, empty, migrated database.
pub struct TestDb {
    /// Its URL.
    pub url: String,
    /// A connection.
    pub db: DatabaseConnection,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// Creates one on `backend`.
    pub async fn new(backend: Backend) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
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
                let admin_url = PG_ADMIN_URL.get().expect("PostgreSQL cluster");
                let name = format!(
                    "t_{}_{}",
                    std::process::id(),
                    NEXT.fetch_add(1, Ordering::Relaxed)
                );
                let admin = brand_gateway::db::connect(admin_url)
                    .await
                    .expect("admin connection");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create database");
                admin.close().await.ok();
                let base = admin_url
                    .rsplit_once('/')
                    .map_or(admin_url.as_str(), |(base, _)| base);
                let url = format!("{base}/{name}");
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

    /// Seeds the standard small data set.
    pub async fn seed(&self) {
        seed::run(
            &self.db,
            &SeedOptions {
                members: MEMBERS,
                brands: BRANDS,
                seed: 42,
                as_of: as_of(),
                replace: false,
            },
        )
        .await
        .expect("seed");
    }
}

/// The secret every test app signs tokens with.
pub const SECRET: &str = "test-secret-that-is-long-enough-for-hs256-0123456789";

/// Builds the config a test app runs with, from the real CLI defaults.
pub fn config(url: &str, extra_flags: &[&str]) -> Config {
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
    args.extend_from_slice(extra_flags);
    let cli = Cli::parse_from(args);
    let Some(Command::Serve(serve)) = &cli.command else {
        unreachable!("serve was given");
    };
    Config::from_args(&cli.database, &cli.auth, serve).expect("config")
}

/// A running server with its database.
pub struct TestApp {
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
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, &[]).await
    }

    /// A seeded app with extra `serve` flags.
    pub async fn spawn_with(backend: Backend, flags: &[&str]) -> Self {
        let db = TestDb::new(backend).await;
        db.seed().await;
        Self::start(db, flags).await
    }

    /// Starts the server on an existing database.
    pub async fn start(db: TestDb, flags: &[&str]) -> Self {
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

    /// Stops the server, waiting for it to drain.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            tx.send(()).ok();
        }
        if let Some(server) = self.server.take() {
            server.await.ok();
        }
    }

    /// A URL on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The Prometheus text served on the metrics address.
    pub async fn metrics(&self) -> String {
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

    /// Issues a credential and returns its token.
    pub async fn token(&self, role: Role, brand: Option<i64>) -> String {
        self.token_as(role, brand, "test").await
    }

    /// Issues a credential for a named subject (e.g. two different reviewers).
    pub async fn token_as(&self, role: Role, brand: Option<i64>, subject: &str) -> String {
        auth::issue(&self.db.db, &self.keys, role, brand, subject, 1)
            .await
            .expect("issue token")
            .token
    }

    /// POSTs a GraphQL request with a token; returns status and body.
    pub async fn graphql(&self, token: &str, query: &str, variables: Value) -> (u16, Value) {
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
    pub async fn data(&self, token: &str, query: &str, variables: Value) -> Value {
        let (status, body) = self.graphql(token, query, variables).await;
        assert_eq!(status, 200, "body: {body}");
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }
}

/// The `extensions.code` of each error in a response.
pub fn error_codes(body: &Value) -> Vec<String> {
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
pub const AUDIENCE: &str = r#"
query($q: AudienceQuestion!) {
  audience(question: $q) {
    shownMembers
    cells { key { dimension value } suppressed members share paidMemberShare blackCardShare meanAnnualSpendCents tgi }
    privacy {
      epsilonSpent countNoiseScale countInterval95 countSensitivity spendNoiseScale
      suppressedCells minimumCellSize dataEpoch
      budget { epsilonLeft dailyLimit dailySpent dailyResetsAt rollingLimit rollingSpent }
    }
  }
}"#;

impl TestApp {
    /// Asks an audience question; returns status and body.
    pub async fn ask(&self, token: &str, question: Value) -> (u16, Value) {
        self.graphql(token, AUDIENCE, json!({ "q": question }))
            .await
    }

    /// Asks and expects an answer.
    pub async fn answer(&self, token: &str, question: Value) -> Value {
        self.data(token, AUDIENCE, json!({ "q": question })).await["audience"].clone()
    }

    /// How many debits the analyst's privacy ledger holds.
    pub async fn spend_count(&self, token: &str) -> usize {
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
    pub async fn refresh(&self) {
        brand_gateway::segments::cube::refresh(&self.db.db, as_of())
            .await
            .expect("refresh");
    }
}

impl TestApp {
    /// Runs `brand-gateway run-due` against this app's database and returns
    /// its report line that starts with `prefix` (`due onboarding steps`,
    /// `due benefit steps`).
    pub async fn run_due(&self, prefix: &str) -> String {
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_brand-gateway"))
            .arg("run-due")
            .env("DATABASE_URL", &self.db.url)
            .output()
            .await
            .expect("run run-due");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "{stderr}");
        stderr
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` report in {stderr}"))
            .to_owned()
    }
}

/// One integer from `sql`, cast so SUM and AVG read alike on both engines.
pub async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    let sql = format!("SELECT CAST(({sql}) AS BIGINT)");
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("query")
        .expect("a row");
    row.try_get_by_index::<i64>(0).expect("an integer")
}

/// Writes one CSV file of an import test case.
pub fn write(dir: &std::path::Path, name: &str, contents: &str) {
    std::fs::write(dir.join(name), contents).expect("write csv");
}
