//! Running the gateway: the listen backlog, `/metrics` on its own address,
//! migrations under a lock, several instances on one database, and secrets
//! kept out of debug output.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use brand_gateway::{
    Application,
    auth::{self, Role, TokenKeys},
    config::{Cli, Command, Config},
};
use clap::Parser as _;
use migration::MigratorTrait as _;
use sea_orm::ConnectionTrait as _;
use serde_json::json;
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
};

use crate::helpers::{self, Backend, SECRET, TestApp, TestDb, scalar};

/// Simultaneous clients in the burst: well past std's and tokio's backlog
/// of 128, within the default of 1024.
const BURST: usize = 600;

/// A burst of connections arriving faster than the server accepts them is
/// queued by the kernel, up to the listen backlog, instead of being dropped.
/// The clients connect before the server accepts a single one (the worst
/// case of a busy accept loop), so every connection the queue cannot hold
/// has its SYN dropped and retried a second later, which the deadline
/// catches: with a backlog of 128, some 470 of them would miss it.
pub(crate) async fn a_burst_of_connections_waits_in_the_listen_backlog(_: Backend) {
    let db = TestDb::new(Backend::Sqlite).await;
    let app = Application::build_with_db(helpers::config(&db.url, &[]), db.db.clone())
        .await
        .expect("build");
    let addr = app.local_addr().expect("addr");

    let connects = (0..BURST)
        .map(|_| tokio::time::timeout(Duration::from_millis(800), TcpStream::connect(addr)));
    let streams = futures_util::future::join_all(connects).await;

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        stopped.await.ok();
    }));
    let requests = streams.into_iter().map(|connected| async move {
        let mut stream = match connected {
            Ok(Ok(stream)) => stream,
            Ok(Err(error)) => return Err(format!("connect: {error}")),
            Err(_) => return Err("connect: not queued within 800 ms".to_owned()),
        };
        tokio::time::timeout(Duration::from_secs(4), healthz(&mut stream))
            .await
            .unwrap_or_else(|_| Err("no answer within 4 s".to_owned()))
    });
    let outcomes = futures_util::future::join_all(requests).await;
    let failures: Vec<&String> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {BURST} connections failed, e.g. {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    stop.send(()).ok();
    server.await.expect("server task").expect("server");
}

/// One `GET /healthz` on an open connection; the status line.
async fn healthz(stream: &mut TcpStream) -> Result<(), String> {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n")
        .await
        .map_err(|e| format!("write: {e}"))?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .await
        .map_err(|e| format!("read: {e}"))?;
    let response = String::from_utf8_lossy(&response);
    if response.starts_with("HTTP/1.1 200") {
        Ok(())
    } else {
        Err(format!(
            "answer: {:?}",
            response.lines().next().unwrap_or_default()
        ))
    }
}

/// `/metrics` is not on the public listener; its own address serves it, and
/// it counts the public listener's requests.
pub(crate) async fn metrics_are_served_only_on_their_own_address(_: Backend) {
    let defaults = Cli::parse_from(["brand-gateway", "serve"]);
    let Some(Command::Serve(serve)) = &defaults.command else {
        unreachable!("serve was given");
    };
    assert!(serve.metrics_listen.ip().is_loopback(), "{serve:?}");
    assert_eq!(serve.metrics_listen.port(), 9464);
    assert_eq!(serve.listen_backlog, 1024);

    let app = TestApp::start(TestDb::new(Backend::Sqlite).await, &[]).await;
    assert_ne!(app.metrics_addr, app.addr);
    let public = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("public /metrics");
    assert_eq!(public.status().as_u16(), 404);
    let health = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status().as_u16(), 200);

    let response = app
        .client
        .get(format!("http://{}/metrics", app.metrics_addr))
        .send()
        .await
        .expect("metrics");
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/plain; version=0.0.4"),
        "{:?}",
        response.headers()
    );
    let text = response.text().await.expect("text");
    for line in [
        r#"http_requests_total{method="GET",path="/healthz",status="200"} 1"#,
        r#"http_requests_total{method="GET",path="unmatched",status="404"} 1"#,
        "# TYPE http_request_duration_seconds histogram",
    ] {
        assert!(text.contains(line), "no `{line}` in {text}");
    }
    // The metrics address serves nothing else.
    let other = app
        .client
        .get(format!("http://{}/healthz", app.metrics_addr))
        .send()
        .await
        .expect("metrics address /healthz");
    assert_eq!(other.status().as_u16(), 404);
    app.stop().await;
}

/// Instances starting together on one fresh database: every one migrates
/// successfully and each migration is applied exactly once.
pub(crate) async fn concurrent_starts_apply_each_migration_once(backend: Backend) {
    let (url, _dir) = empty_database(backend).await;
    let starts = (0..4).map(|_| brand_gateway::db::connect_and_migrate(&url));
    let dbs: Vec<_> = futures_util::future::join_all(starts)
        .await
        .into_iter()
        .enumerate()
        .map(|(i, db)| db.unwrap_or_else(|e| panic!("instance {i} failed to start: {e}")))
        .collect();
    let db = &dbs[0];
    let expected = migration::Migrator::migrations().len();
    assert_eq!(
        scalar(db, "SELECT COUNT(*) FROM seaql_migrations").await,
        i64::try_from(expected).expect("small")
    );
    assert_eq!(
        scalar(db, "SELECT COUNT(DISTINCT version) FROM seaql_migrations").await,
        i64::try_from(expected).expect("small")
    );
    // The schema is usable, and a later start finds nothing to do.
    assert_eq!(scalar(db, "SELECT COUNT(*) FROM brand").await, 0);
    let again = brand_gateway::db::connect_and_migrate(&url)
        .await
        .expect("a later start");
    assert_eq!(
        scalar(&again, "SELECT COUNT(*) FROM seaql_migrations").await,
        i64::try_from(expected).expect("small")
    );
    for db in dbs.into_iter().chain([again]) {
        db.close().await.ok();
    }
}

/// A fresh database nobody has migrated: its URL, and the directory that
/// holds it for SQLite.
async fn empty_database(backend: Backend) -> (String, Option<tempfile::TempDir>) {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("fresh.db").display()
            );
            (url, Some(dir))
        }
        Backend::Postgres => {
            let admin_url = helpers::PG_ADMIN_URL.get().expect("PostgreSQL cluster");
            let name = format!(
                "fresh_{}_{}",
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
            (format!("{base}/{name}"), None)
        }
    }
}

/// The JWT secret never shows in debug output of the flags or the config,
/// and a secret created in `--jwt-secret-file` signs tokens the server
/// accepts after being read back.
pub(crate) async fn secrets_stay_out_of_debug_output(_: Backend) {
    let cli = Cli::parse_from(["brand-gateway", "--jwt-secret", SECRET, "serve"]);
    assert!(!format!("{cli:?}").contains(SECRET), "{cli:?}");
    let config = helpers::config("sqlite::memory:", &[]);
    assert!(!format!("{config:?}").contains(SECRET), "{config:?}");

    let db = TestDb::new(Backend::Sqlite).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let secret_file = dir.path().join("jwt-secret");
    let secret_file = secret_file.to_str().expect("utf-8 path");
    let cli = Cli::parse_from([
        "brand-gateway",
        "--database-url",
        &db.url,
        "--jwt-secret-file",
        secret_file,
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--metrics-listen",
        "127.0.0.1:0",
    ]);
    let Some(Command::Serve(serve)) = &cli.command else {
        unreachable!("serve was given");
    };
    // The first load creates the secret file.
    let config = Config::from_args(&cli.database, &cli.auth, serve).expect("config");
    let created = std::fs::read_to_string(secret_file).expect("secret file");
    assert!(created.len() >= 32);
    assert!(
        !format!("{config:?}").contains(created.trim()),
        "{config:?}"
    );
    let app = Application::build_with_db(config, db.db.clone())
        .await
        .expect("build");
    let addr: SocketAddr = app.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        stopped.await.ok();
    }));
    // A second load reads the same secret back.
    let keys = TokenKeys::new(&cli.auth.load().expect("keys")).expect("keys");
    let token = auth::issue(&db.db, &keys, Role::Reviewer, None, "ops", 1)
        .await
        .expect("issue")
        .token;
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": "{ viewer { role } }" }))
        .send()
        .await
        .expect("graphql");
    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["data"]["viewer"]["role"], "REVIEWER", "{body}");
    stop.send(()).ok();
    server.await.expect("server task").expect("server");
}

/// Two gateway instances on one database, as a deployment behind a load
/// balancer runs them: they start together and migrate once; a rush of
/// orders spread over both grants a coupon exactly its budget; a rush of
/// questions spread over both spends the analyst's budget exactly once;
/// a revocation is obeyed at once by the instance that made it, and by the
/// other within its credential cache time.
pub(crate) async fn two_instances_share_one_database(backend: Backend) {
    let (url, _dir) = empty_database(backend).await;
    let config = || helpers::config(&url, &[]);
    let (first, second) = tokio::join!(Application::build(config()), Application::build(config()));
    let (first, second) = (
        first.expect("first instance"),
        second.expect("second instance"),
    );
    let expected = i64::try_from(migration::Migrator::migrations().len()).expect("small");
    for app in [&first, &second] {
        assert_eq!(
            scalar(
                &app.state().db,
                "SELECT COUNT(DISTINCT version) FROM seaql_migrations"
            )
            .await,
            expected
        );
        assert_eq!(
            scalar(&app.state().db, "SELECT COUNT(*) FROM seaql_migrations").await,
            expected
        );
    }
    drop((first, second));

    let cache_ms = crate::auth::CACHE_MS.to_string();
    let flags = [
        "--rate-limit-burst",
        "100000",
        "--rate-limit-per-second",
        "1000",
        "--credential-cache-ms",
        &cache_ms,
    ];
    let first = Arc::new(TestApp::spawn_with(backend, &flags).await);
    let second = Arc::new(first.beside(&flags).await);
    let apps = [first.clone(), second.clone()];
    crate::checkout::orders_never_overspend(&apps).await;
    crate::privacy::parallel_queries_at_budget_edge::questions_never_overspend(&apps).await;

    let admin = first.token(Role::Admin, None).await;
    let issued = auth::issue(
        &first.db.db,
        &first.keys,
        Role::BrandAnalyst,
        Some(1),
        "amy",
        1,
    )
    .await
    .expect("issue");
    for app in &apps {
        let (status, body) = app
            .graphql(&issued.token, "{ __typename }", json!({}))
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let revoked = first
        .data(
            &admin,
            "mutation($id: ID!) { revokeCredential(id: $id) { userErrors { code } } }",
            json!({ "id": issued.credential_id }),
        )
        .await;
    let revoked_at = tokio::time::Instant::now();
    assert_eq!(revoked["revokeCredential"]["userErrors"], json!([]));
    let (status, body) = first
        .graphql(&issued.token, "{ __typename }", json!({}))
        .await;
    assert_eq!(status, 401, "the revoking instance refuses at once: {body}");
    tokio::time::sleep_until(revoked_at + Duration::from_millis(crate::auth::CACHE_MS + 50)).await;
    let (status, body) = second
        .graphql(&issued.token, "{ __typename }", json!({}))
        .await;
    assert_eq!(status, 401, "the other within its cache time: {body}");

    drop(apps);
    for app in [first, second] {
        if let Ok(app) = Arc::try_unwrap(app) {
            app.stop().await;
        }
    }
}
