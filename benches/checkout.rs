//! Checkout: throughput and latency of `quote` and `placeOrder` through the
//! whole gateway (auth, rate limit, GraphQL, the benefit engine, the
//! order's transaction) at 16 and 64 clients, on SQLite and on PostgreSQL.
//!
//! The store is a demo brand's: its percent-off with an 88VIP upgrade, the
//! 88VIP coupon, the birthday gift, the member price and the third-order
//! rebate, all live. Each request is a two-line basket (a member-priced
//! serum and two masks) for a member picked across the whole population;
//! every order has its own reference, so every one is a new order (a
//! budget running out on the way is part of the run: a refused order,
//! `CONFLICT`, counts as an answer). Every response body is checked.
//!
//! `cargo bench --bench checkout` (20,000 members, 10 s per target), or
//! `cargo bench --bench checkout -- 20000 10`. PostgreSQL runs as the test
//! suite runs it (a throwaway cluster, or `TEST_DATABASE_URL`); without
//! PostgreSQL installed only SQLite is measured.

mod common;
#[path = "../tests/api/postgres.rs"]
mod postgres;

use std::{net::SocketAddr, time::Duration};

use brand_gateway::{
    auth::{self, Role},
    platform::business_today,
    seed::{self, SeedOptions},
};
use entity::{brand, enums::BrandStatus};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait as _, Database, DatabaseConnection, EntityTrait as _,
    QueryFilter as _, QueryOrder as _, Statement,
};
use serde_json::{Value, json};

const LINES: &str = r#"[
  { "sku": "SERUM-30ML", "quantity": 1, "unitCents": 19900 },
  { "sku": "MASK-5P", "quantity": 2, "unitCents": 9900 }
]"#;

const QUOTE: &str = "query($i: QuoteInput!) { quote(input: $i) { totalCents benefits { benefitId outcome amountCents } } }";

const ORDER: &str = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { orderRef quote { totalCents } } userErrors { code } } }";

/// How long orders are placed before the measured runs.
const WARM_UP: Duration = Duration::from_secs(2);

/// A quote came back with the store's benefits judged.
fn quoted(body: &Value) -> bool {
    body.get("errors").is_none()
        && body["data"]["quote"]["benefits"]
            .as_array()
            .is_some_and(|b| !b.is_empty())
}

/// An order was placed, or refused because a budget ran out meanwhile.
fn placed(body: &Value) -> bool {
    let payload = &body["data"]["placeOrder"];
    body.get("errors").is_none()
        && (payload["order"]["orderRef"].is_string()
            || payload["userErrors"][0]["code"] == "CONFLICT")
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(
        db.get_database_backend(),
        sql.to_owned(),
    ))
    .await
    .expect("count")
    .and_then(|row| row.try_get_by_index::<i64>(0).ok())
    .unwrap_or_default()
}

/// The `n`-th request of a run: `query` posted to the gateway with
/// `input(n)` as its `$i`.
fn request(
    gateway: SocketAddr,
    token: &str,
    query: &'static str,
    input: impl Fn(usize) -> Value + Clone + Send + Sync + 'static,
) -> impl Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Clone + Send + Sync + 'static {
    let token = token.to_owned();
    move |client: &reqwest::Client, n: usize| {
        client
            .post(format!("http://{gateway}/graphql"))
            .bearer_auth(&token)
            .json(&json!({ "query": query, "variables": { "i": input(n) } }))
    }
}

/// Seeds `members` into `url`, stages the demo's benefits, serves, and
/// drives quotes then orders at 16 and 64 clients.
async fn measure(engine: &str, url: &str, members: u32, duration: Duration) {
    let db = brand_gateway::db::connect_and_migrate(url)
        .await
        .expect("database");
    let blobs = tempfile::tempdir().expect("temp dir");
    seed::run(
        &db,
        &brand_gateway::blobs::BlobStore::open(&blobs.path().display().to_string()).expect("blobs"),
        &SeedOptions {
            members,
            brands: 24,
            long_tail: 0,
            seed: 7,
            as_of: business_today(),
            replace: false,
        },
    )
    .await
    .expect("seed");
    seed::demo::stage_benefits(&db).await.expect("benefits");
    let store = brand::Entity::find()
        .filter(brand::Column::Status.eq(BrandStatus::Active))
        .order_by_asc(brand::Column::Id)
        .one(&db)
        .await
        .expect("brand")
        .expect("an admitted brand")
        .id;
    let (gateway, keys) = common::serve(url, db.clone()).await;
    let token = auth::issue(&db, &keys, Role::Service, None, "bench", 1)
        .await
        .expect("token")
        .token;
    let lines: Value = serde_json::from_str(LINES).expect("lines");
    let client = reqwest::Client::new();
    let member = move |n: usize| (n * 7919 % members as usize + 1).to_string();
    // Orders whose references start with `prefix`, each for another member.
    let order_for = |prefix: &str| {
        let (lines, prefix) = (lines.clone(), prefix.to_owned());
        request(gateway, &token, ORDER, move |n| {
            json!({
                "brandId": store.to_string(),
                "orderRef": format!("{prefix}-{n}"),
                "memberRef": member(n),
                "lines": lines,
            })
        })
    };
    for clients in [16, 64] {
        let lines = lines.clone();
        let ask = request(
            gateway,
            &token,
            QUOTE,
            move |n| json!({ "brandId": store.to_string(), "memberRef": member(n), "lines": lines }),
        );
        let run = common::drive(client.clone(), clients, duration, ask, quoted).await;
        println!(
            "{engine:<10} quote      {clients:>2} clients: {}",
            run.line()
        );
    }
    // A running store has orders behind it, and PostgreSQL's autovacuum
    // has analyzed its tables within a minute; a 5-second run on empty
    // tables would keep the plans PostgreSQL cached while they were empty
    // (whole-table scans of `redemption`), so orders are placed for
    // WARM_UP first and PostgreSQL analyzes, as autovacuum would.
    let warm = order_for("warm");
    let run = common::drive(client.clone(), 16, WARM_UP, warm, placed).await;
    if engine == "PostgreSQL" {
        db.execute_unprepared("ANALYZE").await.expect("analyze");
    }
    println!(
        "{engine:<10} warm-up: {} orders, then ANALYZE on PostgreSQL",
        run.requests
    );
    for clients in [16, 64] {
        let before = count(&db, "SELECT COUNT(*) FROM checkout_order").await;
        let order = order_for(&format!("bench-{clients}"));
        let run = common::drive(client.clone(), clients, duration, order, placed).await;
        let orders = count(&db, "SELECT COUNT(*) FROM checkout_order").await - before;
        println!(
            "{engine:<10} placeOrder {clients:>2} clients: {} — {orders} orders recorded",
            run.line()
        );
    }
}

#[tokio::main]
async fn main() {
    let args = common::numbers();
    let members = args.first().copied().unwrap_or(20_000) as u32;
    let duration = Duration::from_secs(args.get(1).copied().unwrap_or(10));
    println!(
        "machine: {} cores; {members} members; {} s per target; clients and server share the machine",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        duration.as_secs()
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("checkout.db").display()
    );
    measure("SQLite", &url, members, duration).await;

    match postgres::Cluster::start() {
        Ok(Some(cluster)) => {
            let admin = Database::connect(cluster.admin_url())
                .await
                .expect("PostgreSQL");
            admin
                .execute_unprepared("CREATE DATABASE bench_checkout")
                .await
                .expect("create database");
            let url = format!(
                "{}/bench_checkout",
                cluster
                    .admin_url()
                    .rsplit_once('/')
                    .map_or(cluster.admin_url(), |(server, _)| server)
            );
            measure("PostgreSQL", &url, members, duration).await;
        }
        Ok(None) => println!("PostgreSQL: not installed, not measured"),
        Err(error) => println!("PostgreSQL: could not start ({error}), not measured"),
    }
}
