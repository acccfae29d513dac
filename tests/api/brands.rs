//! Brand visibility: a brand sees itself only, through every door;
//! platform roles see and page through all.

use brand_gateway::auth::Role;
use sea_orm::ConnectionTrait as _;
use serde_json::{Value, json};

use crate::helpers::{BRANDS, Backend, TestApp, error_codes};

const BRANDS_PAGE: &str = r#"
query($first: Int, $after: String, $last: Int, $before: String, $filter: BrandFilterInput) {
  brands(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
    edges { cursor node { id name status category { code } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"#;

fn ids(data: &Value) -> Vec<String> {
    data["brands"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["id"].as_str().expect("id").to_owned())
        .collect()
}

pub(crate) async fn a_brand_principal_sees_only_its_own_brand(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for role in [Role::BrandAnalyst, Role::BrandOperator] {
        let token = app.token(role, Some(2)).await;
        let data = app.data(&token, BRANDS_PAGE, json!({ "first": 100 })).await;
        assert_eq!(ids(&data), ["2"]);
        assert_eq!(data["brands"]["pageInfo"]["hasNextPage"], false);
        let data = app
            .data(
                &token,
                "{ brand(id: \"2\") { id name category { code } } }",
                json!({}),
            )
            .await;
        assert_eq!(data["brand"]["id"], "2");
    }
    app.stop().await;
}

pub(crate) async fn another_brands_id_is_not_found_everywhere(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.token(Role::BrandAnalyst, Some(1)).await;
    // Another brand that exists, and one that does not: the same answer.
    for id in ["2", "9999"] {
        let (status, body) = app
            .graphql(
                &token,
                "query($id: ID!) { brand(id: $id) { id name } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(error_codes(&body), ["NOT_FOUND"], "brand({id}): {body}");
        assert_eq!(body["errors"][0]["message"], "brand not found");

        let (_, body) = app
            .graphql(
                &token,
                "query($r: [_Any!]!) { _entities(representations: $r) { ... on Brand { id name } } }",
                json!({ "r": [{ "__typename": "Brand", "id": id }] }),
            )
            .await;
        assert_eq!(error_codes(&body), ["NOT_FOUND"], "_entities({id}): {body}");
        assert!(
            !body.to_string().contains("\"name\":\""),
            "leaked a name: {body}"
        );
    }
    // Filters can't widen the scope either.
    let data = app
        .data(
            &token,
            BRANDS_PAGE,
            json!({ "first": 100, "filter": { "status": "ACTIVE" } }),
        )
        .await;
    assert!(ids(&data).iter().all(|id| id == "1"));
    app.stop().await;
}

pub(crate) async fn platform_roles_page_through_every_brand(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for role in [Role::Reviewer, Role::Admin, Role::Service] {
        let token = app.token(role, None).await;
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..20 {
            let data = app
                .data(&token, BRANDS_PAGE, json!({ "first": 5, "after": after }))
                .await;
            seen.extend(ids(&data));
            let info = &data["brands"]["pageInfo"];
            if info["hasNextPage"] == false {
                break;
            }
            after = info["endCursor"].as_str().map(str::to_owned);
        }
        let expected: Vec<String> = (1..=i64::from(BRANDS)).map(|i| i.to_string()).collect();
        assert_eq!(seen, expected, "{role:?} forward");

        // Backwards from the end: the last page, then the one before it.
        let data = app.data(&token, BRANDS_PAGE, json!({ "last": 5 })).await;
        assert_eq!(ids(&data), ["12", "13", "14", "15", "16"]);
        assert_eq!(data["brands"]["pageInfo"]["hasPreviousPage"], true);
        let before = data["brands"]["pageInfo"]["startCursor"].clone();
        let data = app
            .data(&token, BRANDS_PAGE, json!({ "last": 5, "before": before }))
            .await;
        assert_eq!(ids(&data), ["7", "8", "9", "10", "11"]);
        assert_eq!(data["brands"]["pageInfo"]["hasNextPage"], true);
    }
    app.stop().await;
}

pub(crate) async fn brands_filter_by_category_and_status(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.token(Role::Reviewer, None).await;
    let data = app
        .data(
            &token,
            BRANDS_PAGE,
            json!({ "first": 100, "filter": { "category": "BEAUTY" } }),
        )
        .await;
    let edges = data["brands"]["edges"].as_array().expect("edges");
    assert!(!edges.is_empty());
    assert!(
        edges
            .iter()
            .all(|e| e["node"]["category"]["code"] == "BEAUTY")
    );

    let all = app.data(&token, BRANDS_PAGE, json!({ "first": 100 })).await;
    let active = app
        .data(
            &token,
            BRANDS_PAGE,
            json!({ "first": 100, "filter": { "status": "ACTIVE" } }),
        )
        .await;
    let expected: Vec<String> = all["brands"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter(|e| e["node"]["status"] == "ACTIVE")
        .map(|e| e["node"]["id"].as_str().expect("id").to_owned())
        .collect();
    assert!(!expected.is_empty() && expected.len() < BRANDS as usize);
    assert_eq!(ids(&active), expected);

    let none = app
        .data(
            &token,
            BRANDS_PAGE,
            json!({ "first": 10, "filter": { "category": "NO_SUCH" } }),
        )
        .await;
    assert_eq!(ids(&none), Vec::<String>::new());
    app.stop().await;
}

pub(crate) async fn page_arguments_are_validated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.token(Role::Reviewer, None).await;
    for variables in [
        json!({}),
        json!({ "first": 0 }),
        json!({ "first": 101 }),
        json!({ "last": -1 }),
        json!({ "first": 5, "last": 5 }),
        json!({ "first": 5, "before": "x" }),
        json!({ "first": 5, "after": "not-a-cursor" }),
    ] {
        let (status, body) = app.graphql(&token, BRANDS_PAGE, variables.clone()).await;
        assert_eq!(status, 200);
        assert_eq!(
            error_codes(&body),
            ["BAD_USER_INPUT"],
            "{variables}: {body}"
        );
    }
    let (_, body) = app
        .graphql(&token, "{ brand(id: \"abc\") { id } }", json!({}))
        .await;
    assert_eq!(error_codes(&body), ["BAD_USER_INPUT"]);
    app.stop().await;
}

pub(crate) async fn internal_errors_are_masked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.token(Role::Reviewer, None).await;
    app.db
        .db
        .execute_unprepared("ALTER TABLE category RENAME TO category_moved")
        .await
        .expect("rename");
    let (status, body) = app
        .graphql(&token, "{ categories { code } }", json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(error_codes(&body), ["INTERNAL"]);
    let text = body.to_string().to_lowercase();
    for leak in ["category", "sql", "table", "relation", "select"] {
        assert!(!text.contains(leak), "leaked `{leak}`: {body}");
    }
    app.stop().await;
}
