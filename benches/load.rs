//! Load: requests per second and latency of a typical audience question
//! (a store breakdown by growth tier with paid-member share, already
//! released in this epoch) through the whole gateway (auth, rate limit,
//! GraphQL, privacy engine), against a bare axum handler that reads the
//! same cube cells and returns them as JSON. Every response body is checked.
//!
//! `cargo bench --bench load` (100,000 members, 16 clients, 10 s per target),
//! or `cargo bench --bench load -- 100000 16 10`.

use std::time::{Duration, Instant};

use axum::{Json, Router, extract::State, routing::get};
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

const QUESTION: &str = r#"{ audience(question: { population: STORE, breakdown: [GROWTH_TIER], metrics: [PAID_MEMBER_SHARE] }) { cells { key { value } suppressed members paidMemberShare } } }"#;

/// The bare handler: the same cells, straight from the cube.
async fn raw(State(db): State<DatabaseConnection>) -> Json<Value> {
    let sql = "SELECT CAST(tier AS BIGINT), CAST(SUM(members) AS BIGINT), \
               CAST(SUM(CASE WHEN paid = 1 THEN members ELSE 0 END) AS BIGINT) FROM segment_cell \
               WHERE epoch_id = (SELECT MAX(id) FROM data_epoch WHERE ready) AND population = 1 AND multi_dim = 0 \
               GROUP BY tier";
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .unwrap_or_default();
    let cells: Vec<Value> = rows
        .iter()
        .map(|row| {
            let get = |i| row.try_get_by_index::<i64>(i).unwrap_or_default();
            json!({ "tier": get(0), "members": get(1), "paid": get(2) })
        })
        .collect();
    Json(json!({ "cells": cells }))
}

struct Run {
    requests: usize,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
}

async fn drive(
    client: reqwest::Client,
    clients: usize,
    duration: Duration,
    make: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync + Clone + 'static,
    check: fn(&Value) -> bool,
) -> Run {
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (client, make) = (client.clone(), make.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while start.elapsed() < duration {
                    let sent = Instant::now();
                    let response = make(&client).send().await.expect("request");
                    assert!(
                        response.status().is_success(),
                        "status {}",
                        response.status()
                    );
                    let body: Value = response.json().await.expect("json");
                    assert!(check(&body), "unexpected body: {body}");
                    latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("client"));
    }
    let seconds = start.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Run {
        requests: latencies.len(),
        seconds,
        p50_ms: at(0.5),
        p99_ms: at(0.99),
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let members = args.first().copied().unwrap_or(100_000) as u32;
    let clients = args.get(1).copied().unwrap_or(16) as usize;
    let duration = Duration::from_secs(args.get(2).copied().unwrap_or(10));

    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("load.db").display());
    let db = brand_gateway::db::connect_and_migrate(&url)
        .await
        .expect("database");
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 20).expect("date");
    seed::run(
        &db,
        &SeedOptions {
            members,
            brands: 40,
            seed: 7,
            as_of,
            replace: false,
        },
    )
    .await
    .expect("seed");

    let cli = Cli::parse_from([
        "brand-gateway",
        "--database-url",
        &url,
        "--jwt-secret",
        "load-test-secret-that-is-long-enough-0123456789",
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--metrics-listen",
        "127.0.0.1:0",
        "--rate-limit-per-second",
        "1000000",
        "--rate-limit-burst",
        "1000000",
    ]);
    let Some(Command::Serve(serve)) = &cli.command else {
        unreachable!("serve was given")
    };
    let config = Config::from_args(&cli.database, &cli.auth, serve).expect("config");
    let keys = TokenKeys::new(&config.auth).expect("keys");
    let app = Application::build_with_db(config, db.clone())
        .await
        .expect("app");
    let gateway = app.local_addr().expect("addr");
    tokio::spawn(app.run_until_stopped());

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let bare = listener.local_addr().expect("addr");
    let router = Router::new().route("/raw", get(raw)).with_state(db.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });

    let token = auth::issue(&db, &keys, Role::BrandAnalyst, Some(1), "load", 1)
        .await
        .expect("token")
        .token;
    let client = reqwest::Client::new();
    let ask = {
        let token = token.clone();
        move |client: &reqwest::Client| {
            client
                .post(format!("http://{gateway}/graphql"))
                .bearer_auth(&token)
                .json(&json!({ "query": QUESTION }))
        }
    };
    // The first ask releases the tables (and pays); the rest are stored answers.
    let first: Value = ask(&client)
        .send()
        .await
        .expect("warm-up")
        .json()
        .await
        .expect("json");
    assert!(first.get("errors").is_none(), "{first}");

    let ours = drive(client.clone(), clients, duration, ask, |body| {
        body.get("errors").is_none()
            && body["data"]["audience"]["cells"]
                .as_array()
                .is_some_and(|c| c.len() == 6)
    })
    .await;
    let theirs = drive(
        client,
        clients,
        duration,
        move |c| c.get(format!("http://{bare}/raw")),
        |body| body["cells"].as_array().is_some_and(|c| !c.is_empty()),
    )
    .await;
    let rps = |r: &Run| r.requests as f64 / r.seconds;
    println!(
        "machine: {} cores; {members} members; {clients} clients for {} s each; client and servers share the machine",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        duration.as_secs()
    );
    println!(
        "gateway  /graphql: {:.0} rps, p50 {:.2} ms, p99 {:.2} ms ({} requests)",
        rps(&ours),
        ours.p50_ms,
        ours.p99_ms,
        ours.requests
    );
    println!(
        "bare axum /raw:    {:.0} rps, p50 {:.2} ms, p99 {:.2} ms ({} requests)",
        rps(&theirs),
        theirs.p50_ms,
        theirs.p99_ms,
        theirs.requests
    );
    println!("ratio gateway / bare: {:.2}", rps(&ours) / rps(&theirs));
}
