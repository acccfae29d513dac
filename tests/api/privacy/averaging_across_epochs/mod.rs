#![doc = include_str!("readme.md")]

use brand_gateway::auth::Role;
use serde_json::json;

use crate::helpers::{Backend, TestApp};

pub(crate) async fn fresh_epochs_stop_at_the_platform_yearly_budget(backend: Backend) {
    let app = TestApp::spawn_with(backend, &["--privacy-platform-yearly-budget", "8"]).await;
    let token = app.token(Role::BrandAnalyst, Some(1)).await;
    let platform = json!({ "population": "PLATFORM", "breakdown": ["GENDER"] });
    for _ in 0..2 {
        let answer = app.answer(&token, platform.clone()).await;
        assert_eq!(answer["privacy"]["epsilonSpent"], 0.0, "{answer}");
        app.refresh().await;
    }
    let answer = app.answer(&token, platform.clone()).await;
    assert!(
        (answer["privacy"]["epsilonSpent"].as_f64().expect("ε") - 0.1).abs() < 1e-9,
        "{answer}"
    );
    assert_eq!(
        answer["privacy"]["platformReleaseEpsilon"],
        serde_json::Value::Null
    );
    let ledger = app
        .data(
            &token,
            "{ platformLedger { epsilonLast365Days yearlyLimit releases { dataEpoch } } }",
            json!({}),
        )
        .await["platformLedger"]
        .clone();
    assert_eq!(
        ledger,
        json!({ "epsilonLast365Days": 8.0, "yearlyLimit": 8.0, "releases": [{ "dataEpoch": "2" }, { "dataEpoch": "1" }] })
    );
    app.stop().await;
}
