//! A real Apollo Federation v2 gateway (Node, pinned in
//! tests/federation/package.json) composes our SDL with a second subgraph
//! that extends `Brand` and `Application`, and fetches our entities through
//! `_entities`.

use std::path::Path;

use brand_gateway::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};

fn federation_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/federation"))
}

/// Installs the pinned npm packages when they are missing.
async fn ensure_packages() {
    let dir = federation_dir();
    if dir.join("node_modules/@apollo/gateway").exists() {
        return;
    }
    let output = tokio::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir)
        .output()
        .await
        .expect("npm must be installed to run the federation test");
    assert!(
        output.status.success(),
        "npm ci failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

pub(crate) async fn a_federation_gateway_fetches_our_brand_entities(backend: Backend) {
    ensure_packages().await;
    let app = TestApp::spawn(backend).await;
    let applications = json!({
        "application1": standing(&app, 1).await,
        "application2": standing(&app, 2).await,
    });
    let tokens = json!({
        "reviewer": app.token(Role::Reviewer, None).await,
        "brand1": app.token(Role::BrandAnalyst, Some(1)).await,
    });
    let output = tokio::process::Command::new("node")
        .arg("gateway.mjs")
        .current_dir(federation_dir())
        .env("BRAND_GATEWAY_URL", app.url("/graphql"))
        .env(
            "BRAND_GATEWAY_SDL",
            concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"),
        )
        .env("TOKENS", tokens.to_string())
        .env("APPLICATIONS", applications.to_string())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(std::time::Duration::from_secs(120), output)
        .await
        .expect("the gateway script finished in time")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "gateway script failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results: Value =
        serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("JSON results");

    // The reviewer sees both brands, with fields from both subgraphs.
    let reviewer = &results["reviewer"]["featured"];
    assert!(reviewer.get("errors").is_none(), "{reviewer}");
    let featured = reviewer["data"]["featuredBrands"].as_array().expect("list");
    assert_eq!(featured.len(), 2);
    for (brand, id) in featured.iter().zip(["1", "2"]) {
        assert_eq!(brand["id"], id);
        assert_eq!(brand["partnerNote"], format!("note for brand {id}"));
        assert!(
            brand["name"].as_str().is_some_and(|n| !n.is_empty()),
            "{brand}"
        );
        assert!(brand["category"]["code"].as_str().is_some(), "{brand}");
    }
    let own_name = featured[0]["name"].as_str().expect("name");
    let other_name = featured[1]["name"].as_str().expect("name");

    // Brand 1's analyst gets its own entity through the gateway...
    let own = &results["brand1"]["brand1"];
    assert!(own.get("errors").is_none(), "{own}");
    assert_eq!(own["data"]["brandNote"]["name"], own_name);
    // ...and brand 2's answers NOT_FOUND from our subgraph, leaking nothing.
    for other in [&results["brand1"]["brand2"], &results["brand1"]["featured"]] {
        let text = other.to_string();
        assert!(other["errors"].is_array(), "{other}");
        assert!(
            !text.contains(other_name),
            "leaked brand 2 through the gateway: {other}"
        );
    }
    assert!(
        results["brand1"]["brand2"]
            .to_string()
            .contains("NOT_FOUND"),
        "{}",
        results["brand1"]["brand2"]
    );

    // Applications are entities too, with the same scope.
    let own = &results["brand1"]["application1"];
    assert!(own.get("errors").is_none(), "{own}");
    assert_eq!(own["data"]["applicationChecklist"]["brand"]["id"], "1");
    assert!(
        own["data"]["applicationChecklist"]["checklist"]
            .as_str()
            .is_some(),
        "{own}"
    );
    let other = &results["brand1"]["application2"];
    assert!(other.to_string().contains("NOT_FOUND"), "{other}");
    assert!(
        !other.to_string().contains("statement\":\""),
        "leaked: {other}"
    );
    let seen = &results["reviewer"]["application2"];
    assert_eq!(
        seen["data"]["applicationChecklist"]["brand"]["id"], "2",
        "{seen}"
    );
    app.stop().await;
}

/// The id of a brand's application: its recorded standing, or a new draft.
async fn standing(app: &TestApp, brand: i64) -> String {
    let operator = app.token(Role::BrandOperator, Some(brand)).await;
    let data = app
        .data(
            &operator,
            "{ viewer { brand { standing { id } } } }",
            json!({}),
        )
        .await;
    if let Some(id) = data["viewer"]["brand"]["standing"]["id"].as_str() {
        return id.to_owned();
    }
    let data = app
        .data(
            &operator,
            "mutation { createApplication(statement: \"We apply.\") { application { id } } }",
            json!({}),
        )
        .await;
    data["createApplication"]["application"]["id"]
        .as_str()
        .expect("created")
        .to_owned()
}
