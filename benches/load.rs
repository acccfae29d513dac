//! Load: requests per second and latency of a typical audience question
//! (a store breakdown by growth tier with paid-member share, already
//! released in this epoch) through the whole gateway (auth, rate limit,
//! GraphQL, privacy engine), against three bare axum handlers: one that
//! sums the same cube cells and returns them as JSON, one that reads the
//! same stored answer by its key (the one read the gateway's repeat
//! question needed before servers held what it reads), and one that
//! returns the same answers held in memory, as the gateway now serves a
//! repeat question, without auth, GraphQL or the privacy engine. Every
//! response body is checked.
//!
//! Then the same stored answer again after the brand's data grew: 10,000
//! more stored answers in the epoch and 100 ledger rows in the last 30
//! days, to show the repeat question's cost stays flat in them (held in
//! memory, it reads neither).
//!
//! Last, how long a reviewer waits for the entry measures of 40 brands
//! (`brands(first: 40) { entryMeasures }`), which must not grow with the
//! number of members: once read from the platform data (nothing kept),
//! then from the figures that read kept.
//!
//! `cargo bench --bench load` (100,000 members, 16 clients, 10 s per target),
//! or `cargo bench --bench load -- 100000 16 10`.

mod common;

use std::{sync::Arc, time::Duration};

use axum::{Json, Router, extract::State, routing::get};
use brand_gateway::{
    auth::{self, Role},
    seed::{self, SeedOptions},
};
use chrono::NaiveDate;
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

/// The stored answers the bare `/stored` handler returns: where they are.
#[derive(Clone)]
struct StoredAnswers {
    db: DatabaseConnection,
    epoch: i64,
    keys: Vec<String>,
}

/// The other bare handler: the stored answers (one per table the question
/// released), read by their full keys in one query, as the gateway does.
async fn stored(State(at): State<StoredAnswers>) -> Json<Value> {
    let marks = vec!["?"; at.keys.len()].join(", ");
    let values = std::iter::once(at.epoch.into()).chain(at.keys.iter().map(|k| k.clone().into()));
    let rows = at
        .db
        .query_all_raw(Statement::from_sql_and_values(
            at.db.get_database_backend(),
            format!(
                "SELECT answer FROM segment_answer WHERE epoch_id = ? AND scope = 1 AND question_key IN ({marks})"
            ),
            values,
        ))
        .await
        .unwrap_or_default();
    let answers: Vec<Value> = rows
        .iter()
        .filter_map(|row| row.try_get_by_index::<String>(0).ok())
        .filter_map(|answer| serde_json::from_str(&answer).ok())
        .collect();
    Json(json!({ "answers": answers }))
}

/// Serves a bare handler's router on a free loopback port.
async fn serve_bare(router: Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

#[tokio::main]
async fn main() {
    let args = common::numbers();
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
        &brand_gateway::blobs::BlobStore::open(&dir.path().join("blobs").display().to_string())
            .expect("blobs"),
        &SeedOptions {
            members,
            brands: 40,
            long_tail: 0,
            seed: 7,
            as_of,
            replace: false,
        },
    )
    .await
    .expect("seed");

    let (gateway, keys) = common::serve(&url, db.clone()).await;

    let bare = serve_bare(Router::new().route("/raw", get(raw)).with_state(db.clone())).await;

    let token = auth::issue(&db, &keys, Role::BrandAnalyst, Some(1), "load", 1)
        .await
        .expect("token")
        .token;
    let client = reqwest::Client::new();
    let ask = {
        let token = token.clone();
        move |client: &reqwest::Client, _: usize| {
            client
                .post(format!("http://{gateway}/graphql"))
                .bearer_auth(&token)
                .json(&json!({ "query": QUESTION }))
        }
    };
    // The first ask releases the tables (and pays); the rest are stored answers.
    let first: Value = ask(&client, 0)
        .send()
        .await
        .expect("warm-up")
        .json()
        .await
        .expect("json");
    assert!(first.get("errors").is_none(), "{first}");

    let ours = common::drive(client.clone(), clients, duration, ask.clone(), |body| {
        body.get("errors").is_none()
            && body["data"]["audience"]["cells"]
                .as_array()
                .is_some_and(|c| c.len() == 6)
    })
    .await;
    // What the warm-up stored for brand 1 is what the bare handler reads.
    let keys_stored = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT epoch_id, question_key FROM segment_answer WHERE scope = 1".to_owned(),
        ))
        .await
        .expect("stored answers");
    let answer_at = StoredAnswers {
        db: db.clone(),
        epoch: keys_stored[0].try_get_by_index(0).expect("epoch"),
        keys: keys_stored
            .iter()
            .map(|row| row.try_get_by_index(1).expect("key"))
            .collect(),
    };
    let stored_tables = answer_at.keys.len();
    // The same answers held in memory, as the gateway holds them for a
    // repeat question: what is left between the two is HTTP routing, auth,
    // GraphQL and the privacy engine's assembly.
    let held: Arc<Value> = Arc::new(stored(State(answer_at.clone())).await.0);
    let bare_held = serve_bare(
        Router::new()
            .route(
                "/held",
                get(async |State(held): State<Arc<Value>>| Json((*held).clone())),
            )
            .with_state(held),
    )
    .await;
    let memory = common::drive(
        client.clone(),
        clients,
        duration,
        move |c, _| c.get(format!("http://{bare_held}/held")),
        |body| body["answers"].as_array().is_some_and(|a| !a.is_empty()),
    )
    .await;
    let bare_stored = serve_bare(
        Router::new()
            .route("/stored", get(stored))
            .with_state(answer_at),
    )
    .await;
    let lookup = common::drive(
        client.clone(),
        clients,
        duration,
        move |c, _| c.get(format!("http://{bare_stored}/stored")),
        |body| body["answers"].as_array().is_some_and(|a| !a.is_empty()),
    )
    .await;
    let theirs = common::drive(
        client.clone(),
        clients,
        duration,
        move |c, _| c.get(format!("http://{bare}/raw")),
        |body| body["cells"].as_array().is_some_and(|c| !c.is_empty()),
    )
    .await;
    grow(&db).await;
    let grown = common::drive(client.clone(), clients, duration, ask, |body| {
        body.get("errors").is_none()
            && body["data"]["audience"]["cells"]
                .as_array()
                .is_some_and(|c| c.len() == 6)
    })
    .await;
    println!(
        "machine: {} cores; {members} members; {clients} clients for {} s each; client and servers share the machine",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        duration.as_secs()
    );
    println!("gateway  /graphql: {}", ours.line());
    println!("bare axum /raw:    {}", theirs.line());
    println!(
        "bare axum /stored ({stored_tables} stored tables by key): {}",
        lookup.line()
    );
    println!(
        "bare axum /held ({stored_tables} stored tables in memory): {}",
        memory.line()
    );
    println!(
        "ratio gateway / bare summing the cells: {:.2}; gateway / bare reading the stored answer: {:.2}; gateway / bare holding it in memory: {:.2}",
        ours.rps() / theirs.rps(),
        ours.rps() / lookup.rps(),
        ours.rps() / memory.rps()
    );
    println!(
        "gateway after 10,000 more stored answers and 100 ledger rows: {}",
        grown.line()
    );
    println!("ratio grown / first: {:.2}", grown.rps() / ours.rps());
    entry_measures(&client, gateway, &db, &keys).await;
}

/// Times `brands(first: 40) { entryMeasures }` as a reviewer: once with
/// no figures kept (the categories read from the platform data), then five
/// times once that read's figures are kept; prints both and their ratio.
async fn entry_measures(
    client: &reqwest::Client,
    gateway: std::net::SocketAddr,
    db: &DatabaseConnection,
    keys: &auth::TokenKeys,
) {
    const MEASURES: &str = "{ brands(first: 40) { nodes { entryMeasures { \
        marketShare { value } voluntaryMentionShare { value } priceVolatility { value } \
        deepDiscountDays { value } superMemberRatio { value } } } } }";
    let token = auth::issue(db, keys, Role::Reviewer, None, "load", 1)
        .await
        .expect("reviewer token")
        .token;
    let ask = async || {
        let start = std::time::Instant::now();
        let body: Value = client
            .post(format!("http://{gateway}/graphql"))
            .bearer_auth(&token)
            .json(&json!({ "query": MEASURES }))
            .send()
            .await
            .expect("entry measures")
            .json()
            .await
            .expect("json");
        let brands = body["data"]["brands"]["nodes"].as_array();
        assert!(
            body.get("errors").is_none() && brands.is_some_and(|b| b.len() == 40),
            "{body}"
        );
        (start.elapsed(), body)
    };
    let count = |sql: &str| {
        let sql = Statement::from_string(db.get_database_backend(), sql);
        async move {
            db.query_one_raw(sql)
                .await
                .expect("count")
                .and_then(|row| row.try_get_by_index::<i64>(0).ok())
                .unwrap_or_default()
        }
    };
    db.execute_unprepared("DELETE FROM entry_figures")
        .await
        .expect("forget the kept figures");
    let (read, first) = ask().await;
    // The read's figures are kept by a task of its own: wait (at most
    // 30 s) for them.
    let brands = count("SELECT COUNT(*) FROM brand").await;
    let mut waits = 0;
    while count("SELECT COUNT(*) FROM entry_figures").await < brands {
        waits += 1;
        assert!(waits <= 1_200, "the read's entry figures were not kept");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let mut took = Vec::new();
    for _ in 0..5 {
        let (elapsed, body) = ask().await;
        assert_eq!(body, first, "kept figures answer as read ones");
        took.push(elapsed);
    }
    took.sort();
    println!(
        "brands(first: 40) {{ entryMeasures }} as a reviewer: read from the data {:.0} ms; \
         kept: fastest {:.0} ms, median {:.0} ms of 5; ratio read / kept median {:.0}",
        read.as_secs_f64() * 1000.0,
        took[0].as_secs_f64() * 1000.0,
        took[2].as_secs_f64() * 1000.0,
        read.as_secs_f64() / took[2].as_secs_f64()
    );
}

/// Brand 1's data as a busy brand's: 10,000 more stored answers in the
/// current epoch (other questions) and 100 debits in the last 30 days.
async fn grow(db: &DatabaseConnection) {
    use entity::{enums::PrivacyPool, privacy_ledger, segment_answer};
    use sea_orm::{ActiveValue::Set, EntityTrait as _};
    let epoch: i64 = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT MAX(id) FROM data_epoch WHERE ready".to_owned(),
        ))
        .await
        .ok()
        .flatten()
        .and_then(|row| row.try_get_by_index(0).ok())
        .expect("an epoch");
    let now = chrono::Utc::now();
    for chunk in (0..10_000).collect::<Vec<i64>>().chunks(500) {
        segment_answer::Entity::insert_many(chunk.iter().map(|i| segment_answer::ActiveModel {
            epoch_id: Set(epoch),
            scope: Set(1),
            question_key: Set(format!("bench-filler-{i}")),
            question: Set(format!("filler question {i}")),
            answer: Set("{}".to_owned()),
            created_at: Set(now),
        }))
        .exec(db)
        .await
        .expect("stored answers");
    }
    privacy_ledger::Entity::insert_many((0..100).map(|i| privacy_ledger::ActiveModel {
        brand_id: Set(1),
        at: Set(now - chrono::Duration::hours(i)),
        epsilon_micros: Set(1),
        epoch_id: Set(epoch),
        question: Set(format!("filler debit {i}")),
        pool: Set(PrivacyPool::Analysts),
        ..Default::default()
    }))
    .exec(db)
    .await
    .expect("ledger rows");
}
