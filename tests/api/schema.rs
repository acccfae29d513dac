//! `schema.graphql` is the contract: it must equal what the server serves.

use brand_gateway::auth::Role;
use serde_json::json;

use crate::helpers::{Backend, TestApp};

pub(crate) async fn committed_schema_matches_the_code(backend: Backend) {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql is committed at the repository root");
    let generated = brand_gateway::graphql::sdl();
    assert!(
        committed == generated,
        "schema.graphql differs from the code's SDL. If the change is deliberate, run \
         `cargo run -- sdl > schema.graphql`, and say in the closing note whether it breaks clients."
    );
    let app = TestApp::spawn(backend).await;
    let token = app.token(Role::Service, None).await;
    let data = app.data(&token, "{ _service { sdl } }", json!({})).await;
    assert_eq!(data["_service"]["sdl"].as_str(), Some(committed.as_str()));
    app.stop().await;
}
