//! Outbound webhooks through the real server and a receiver on 127.0.0.1:
//! events written with the step that made them, delivered in order per
//! endpoint, signed, retried while the receiver is down, once each.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use axum::{Router, extract::State, http::HeaderMap, routing::post};
use brand_gateway::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, error_codes};
use crate::onboarding::{case_with, create, decide, landed, policy, step, with_text};

/// What the receiver was sent: delivery id, event, timestamp, signature, body.
type Received = Arc<Mutex<Vec<(String, String, i64, String, String)>>>;

/// A receiver on 127.0.0.1 that answers 503 while `up` is false.
async fn receiver(up: Arc<AtomicBool>) -> (String, Received) {
    let received: Received = Arc::default();
    let state = (up, received.clone());
    let app = Router::new()
        .route(
            "/hook",
            post(
                |State((up, received)): State<(Arc<AtomicBool>, Received)>,
                 headers: HeaderMap,
                 body: String| async move {
                    if !up.load(Ordering::SeqCst) {
                        return axum::http::StatusCode::SERVICE_UNAVAILABLE;
                    }
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    received.lock().expect("lock").push((
                        header("x-brand-gateway-delivery"),
                        header("x-brand-gateway-event"),
                        header("x-brand-gateway-timestamp")
                            .parse()
                            .unwrap_or_default(),
                        header("x-brand-gateway-signature"),
                        body,
                    ));
                    axum::http::StatusCode::NO_CONTENT
                },
            ),
        )
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

const CREATE: &str = r#"
mutation($input: CreateWebhookInput!) { createWebhook(input: $input) {
  webhook { id brandId url } secret userErrors { field code } } }"#;

const LIST: &str = "{ webhooks { id brandId deliveries { id event status attempts lastError } } }";

pub(crate) async fn events_reach_webhooks_in_order_once_despite_a_down_receiver(backend: Backend) {
    let app = case_with(backend, &["--webhook-retry-base-ms", "50"]).await;
    let up = Arc::new(AtomicBool::new(false));
    let (url, received) = receiver(up.clone()).await;
    let admin = app.token(Role::Admin, None).await;
    let lumiere = app
        .token_as(Role::BrandOperator, Some(10), "lumiere-op")
        .await;
    let rosa = app.token_as(Role::BrandOperator, Some(11), "rosa-op").await;
    let alice = app.token_as(Role::Reviewer, None, "alice").await;

    // Who may manage which endpoints.
    let (_, body) = app.graphql(&alice, LIST, json!({})).await;
    assert_eq!(error_codes(&body), ["FORBIDDEN"]);
    let refused = app
        .data(
            &rosa,
            CREATE,
            json!({ "input": { "brandId": "10", "url": url } }),
        )
        .await["createWebhook"]
        .clone();
    assert_eq!(
        refused["userErrors"],
        json!([{ "field": ["input", "brandId"], "code": "NOT_FOUND" }])
    );
    let bad = app
        .data(
            &lumiere,
            CREATE,
            json!({ "input": { "url": "ftp://example" } }),
        )
        .await["createWebhook"]
        .clone();
    assert_eq!(
        bad["userErrors"],
        json!([{ "field": ["input", "url"], "code": "BAD_USER_INPUT" }])
    );
    // A brand may not point the platform at an internal address; platform
    // staff may (the receiver here is on 127.0.0.1).
    let internal = app
        .data(&lumiere, CREATE, json!({ "input": { "url": url } }))
        .await["createWebhook"]
        .clone();
    assert_eq!(
        internal["userErrors"],
        json!([{ "field": ["input", "url"], "code": "BAD_USER_INPUT" }])
    );
    let own = app
        .data(
            &admin,
            CREATE,
            json!({ "input": { "brandId": "10", "url": url } }),
        )
        .await["createWebhook"]
        .clone();
    assert_eq!(own["webhook"]["brandId"], "10");
    let lumieres = app.data(&lumiere, LIST, json!({})).await["webhooks"].clone();
    assert_eq!(
        lumieres.as_array().map(Vec::len),
        Some(1),
        "its own endpoint"
    );
    let platform = app
        .data(&admin, CREATE, json!({ "input": { "url": url } }))
        .await["createWebhook"]
        .clone();
    assert_eq!(platform["webhook"]["brandId"], Value::Null);
    let secrets = [
        own["secret"].as_str().expect("secret").to_owned(),
        platform["secret"].as_str().expect("secret").to_owned(),
    ];
    let rosas = app.data(&rosa, LIST, json!({})).await["webhooks"].clone();
    assert_eq!(rosas, json!([]), "another brand's endpoints are not listed");

    // Three announced steps while the receiver is down: a request for
    // information, a rejection, a warning is not due yet.
    policy(&app, false).await;
    let draft = landed(create(&app, &lumiere).await);
    let screened = landed(step(&app, &lumiere, "submitApplication", &draft).await);
    let claimed = landed(step(&app, &alice, "claimApplication", &screened).await);
    let asked = landed(
        decide(
            &app,
            &alice,
            &claimed,
            json!({ "decision": "REQUEST_INFO", "note": "Send store numbers." }),
        )
        .await,
    );
    let answered =
        landed(with_text(&app, &lumiere, "respondToInfoRequest", "answer", &asked).await);
    landed(
        decide(
            &app,
            &alice,
            &answered,
            json!({ "decision": "REJECT", "reasonCodes": ["BRAND_RISK"] }),
        )
        .await,
    );
    // Retried while down: attempts pile up, nothing is lost.
    let mut retried = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let hooks = app.data(&admin, LIST, json!({})).await["webhooks"].clone();
        if hooks[0]["deliveries"]
            .as_array()
            .is_some_and(|d| d.iter().any(|x| x["attempts"].as_i64().unwrap_or(0) >= 2))
        {
            retried = true;
            break;
        }
    }
    assert!(retried, "deliveries are retried while the receiver is down");
    assert!(received.lock().expect("lock").is_empty());

    up.store(true, Ordering::SeqCst);
    let mut delivered = Value::Null;
    for _ in 0..200 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        delivered = app.data(&admin, LIST, json!({})).await["webhooks"].clone();
        let all = delivered
            .as_array()
            .expect("hooks")
            .iter()
            .flat_map(|h| h["deliveries"].as_array().cloned().unwrap_or_default())
            .all(|d| d["status"] == "DELIVERED");
        if all {
            break;
        }
    }
    for hook in delivered.as_array().expect("hooks") {
        for d in hook["deliveries"].as_array().expect("deliveries") {
            assert_eq!(d["status"], "DELIVERED", "{delivered}");
            assert_eq!(d["lastError"], Value::Null);
        }
    }
    let got = received.lock().expect("lock").clone();
    // Two events, to two endpoints: four deliveries, each once.
    assert_eq!(got.len(), 4, "{got:?}");
    let mut ids: Vec<&String> = got.iter().map(|g| &g.0).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4, "no delivery twice");
    // In order per endpoint: each endpoint saw the request, then the decision.
    for hook in delivered.as_array().expect("hooks") {
        let mine: Vec<String> = hook["deliveries"]
            .as_array()
            .expect("deliveries")
            .iter()
            .map(|d| d["id"].as_str().expect("id").to_owned())
            .collect();
        let order: Vec<&str> = got
            .iter()
            .filter(|g| mine.contains(&g.0))
            .map(|g| g.1.as_str())
            .collect();
        assert_eq!(order, ["INFO_REQUESTED", "APPLICATION_DECIDED"], "{hook}");
    }
    // Signed with the endpoint's secret over timestamp and body.
    for (_, event, timestamp, signature, body) in &got {
        assert!(
            secrets
                .iter()
                .any(|s| &brand_gateway::webhooks::signature(s, *timestamp, body) == signature),
            "{event}: bad signature"
        );
        let parsed: Value = serde_json::from_str(body).expect("json");
        assert_eq!(parsed["event"], event.as_str());
        assert_eq!(parsed["brandId"], 10);
    }
    app.stop().await;
}

/// A brand's endpoint named by a host name that resolves to an internal
/// address (here the machine's own name, which its hosts file maps to
/// loopback) is accepted when created, but no delivery reaches it; the
/// same URL created by platform staff is delivered.
pub(crate) async fn a_brands_webhook_never_reaches_an_internal_address_by_name(backend: Backend) {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|n| n.trim().to_owned())
        .unwrap_or_default();
    let resolved: Vec<std::net::SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
        .await
        .map(Iterator::collect)
        .unwrap_or_default();
    if !resolved.iter().any(|a| a.ip().is_loopback()) {
        eprintln!(
            "!!! SKIPPED: this machine's name `{name}` does not resolve to loopback ({resolved:?}),\n\
             !!! so it cannot stand in for an internal host name here"
        );
        return;
    }
    let app = case_with(backend, &["--webhook-retry-base-ms", "20"]).await;
    let lumiere = app
        .token_as(Role::BrandOperator, Some(10), "lumiere-op")
        .await;
    let admin = app.token_as(Role::Admin, None, "ada").await;
    let alice = app.token_as(Role::Reviewer, None, "alice").await;
    let up = Arc::new(AtomicBool::new(true));
    let (url, received) = receiver(up).await;
    let port = url.rsplit(':').next().unwrap_or_default();
    let by_name = format!("http://{name}:{port}");
    let brands = app
        .data(&lumiere, CREATE, json!({ "input": { "url": by_name } }))
        .await["createWebhook"]
        .clone();
    assert_eq!(
        brands["userErrors"],
        json!([]),
        "a name is not refused up front"
    );
    let staff = app
        .data(
            &admin,
            CREATE,
            json!({ "input": { "brandId": "10", "url": by_name } }),
        )
        .await["createWebhook"]
        .clone();
    assert_eq!(staff["userErrors"], json!([]));

    policy(&app, false).await;
    let draft = landed(create(&app, &lumiere).await);
    let screened = landed(step(&app, &lumiere, "submitApplication", &draft).await);
    let claimed = landed(step(&app, &alice, "claimApplication", &screened).await);
    landed(decide(&app, &alice, &claimed, json!({ "decision": "APPROVE" })).await);

    let mut hooks = Value::Null;
    for _ in 0..200 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        hooks = app.data(&admin, LIST, json!({})).await["webhooks"].clone();
        let delivery = |i: usize| hooks[i]["deliveries"][0].clone();
        if delivery(0)["lastError"].is_string() && delivery(1)["status"] == "DELIVERED" {
            break;
        }
    }
    let by_id = |id: &Value| {
        hooks
            .as_array()
            .and_then(|h| h.iter().find(|w| w["id"] == *id))
            .map(|w| w["deliveries"][0].clone())
            .unwrap_or_default()
    };
    let refused = by_id(&brands["webhook"]["id"]);
    assert_eq!(refused["status"], "RETRYING", "{hooks}");
    assert_eq!(
        refused["lastError"],
        "the receiver's name resolves only to internal addresses"
    );
    assert_eq!(
        by_id(&staff["webhook"]["id"])["status"],
        "DELIVERED",
        "{hooks}"
    );
    // The receiver saw the staff endpoint's delivery only.
    assert_eq!(received.lock().expect("lock").len(), 1);
    app.stop().await;
}
