//! Query cost limits: depth, complexity (page size counts), aliases and
//! root fields; and that the GraphiQL introspection query still fits.

use brand_gateway::auth::Role;
use serde_json::json;

use crate::helpers::{Backend, TestApp, error_codes};

pub(crate) async fn deep_and_complex_queries_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.token(Role::Reviewer, None).await;

    let mut deep = String::from("__typename");
    for _ in 0..16 {
        deep = format!("ofType {{ {deep} }}");
    }
    let query = format!("{{ __type(name: \"Brand\") {{ fields {{ type {{ {deep} }} }} }} }}");
    let (status, body) = app.graphql(&token, &query, json!({})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(error_codes(&body), ["QUERY_TOO_EXPENSIVE"]);

    // Page size is part of the cost: 4 × 100 brands with their fields is
    // over the default 2000, the same query with first: 10 is not.
    let page = |n: u32| {
        (0..4)
            .map(|i| format!("b{i}: brands(first: {n}) {{ edges {{ node {{ id name status category {{ code name }} }} }} }}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let (status, body) = app
        .graphql(&token, &format!("{{ {} }}", page(100)), json!({}))
        .await;
    assert_eq!(
        (status, error_codes(&body)),
        (400, vec!["QUERY_TOO_EXPENSIVE".to_owned()]),
        "{body}"
    );
    let (status, body) = app
        .graphql(&token, &format!("{{ {} }}", page(10)), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    app.stop().await;
}

pub(crate) async fn alias_and_root_field_fan_out_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.token(Role::Reviewer, None).await;
    let aliases = (0..31)
        .map(|i| format!("a{i}: __typename"))
        .collect::<Vec<_>>()
        .join(" ");
    let (status, body) = app
        .graphql(&token, &format!("{{ viewer {{ {aliases} }} }}"), json!({}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(error_codes(&body), ["QUERY_TOO_EXPENSIVE"]);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("31 aliases")
    );

    // Root fields hidden behind a fragment still count.
    let fields = (0..21)
        .map(|i| format!("r{i}: viewer {{ role }}"))
        .collect::<Vec<_>>()
        .join(" ");
    let query = format!("query {{ ...F }} fragment F on Query {{ {fields} }}");
    let (status, body) = app.graphql(&token, &query, json!({})).await;
    assert_eq!(status, 400);
    assert_eq!(error_codes(&body), ["QUERY_TOO_EXPENSIVE"], "{body}");
    app.stop().await;
}

/// graphql-js's `getIntrospectionQuery()`, as GraphiQL sends it.
const INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) {
    name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }
}"#;

pub(crate) async fn graphiql_introspection_fits_the_limits(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.token(Role::BrandAnalyst, Some(1)).await;
    let data = app.data(&token, INTROSPECTION, json!({})).await;
    let types = data["__schema"]["types"].as_array().expect("types");
    assert!(types.iter().any(|t| t["name"] == "Brand"));
    app.stop().await;
}
