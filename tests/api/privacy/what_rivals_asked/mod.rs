#![doc = include_str!("readme.md")]

use brand_gateway::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};

const COST: &str = "query($q: AudienceQuestion!) { audienceCost(question: $q) { tables epsilon } }";

pub(crate) async fn a_brands_cost_and_answer_never_show_what_rivals_asked(backend: Backend) {
    // Every cell shown, so the two draws can be told apart.
    let flags = [
        crate::helpers::GENEROUS_BUDGET,
        &["--privacy-min-cell", "1"],
    ]
    .concat();
    let app = TestApp::spawn_with(backend, &flags).await;
    let rival = app.token(Role::BrandAnalyst, Some(1)).await;
    let brand = app.token(Role::BrandAnalyst, Some(2)).await;
    let platform = |breakdown: Value, filters: Value| json!({ "population": "PLATFORM", "breakdown": breakdown, "filters": filters });
    let held = platform(json!(["AGE_BAND", "CITY_TIER"]), json!([]));
    let held_unasked = platform(json!(["GENDER", "SPEND_BAND"]), json!([]));
    let deep = platform(
        json!(["AGE_BAND", "CITY_TIER"]),
        json!([{ "dimension": "GENDER", "values": ["MALE"] }]),
    );
    let deep_unasked = platform(
        json!(["GENDER", "SPEND_BAND"]),
        json!([{ "dimension": "CITY_TIER", "values": ["TIER1"] }]),
    );
    let rivals_held = app.answer(&rival, held.clone()).await;
    let rivals_deep = app.answer(&rival, deep.clone()).await;

    let cost = |q: &Value| {
        let q = q.clone();
        let app = &app;
        let brand = brand.clone();
        async move { app.data(&brand, COST, json!({ "q": q })).await["audienceCost"].clone() }
    };
    assert_eq!(cost(&held).await, cost(&held_unasked).await);
    assert_eq!(cost(&held).await, json!({ "tables": 0, "epsilon": 0.0 }));
    assert_eq!(cost(&deep).await, cost(&deep_unasked).await);
    assert_eq!(cost(&deep).await, json!({ "tables": 1, "epsilon": 0.1 }));

    let brands_held = app.answer(&brand, held).await;
    assert_eq!(
        brands_held["cells"], rivals_held["cells"],
        "one release for all"
    );
    let brands_deep = app.answer(&brand, deep).await;
    let spent = brands_deep["privacy"]["epsilonSpent"].as_f64().expect("ε");
    assert!((spent - 0.1).abs() < 1e-9, "{brands_deep}");
    // Its own draw: 36 cells of independent noise (scale 10) all equal to
    // the rival's would be a shared answer.
    let members = |a: &Value| -> Vec<Value> {
        a["cells"]
            .as_array()
            .expect("cells")
            .iter()
            .map(|c| c["members"].clone())
            .collect()
    };
    assert_ne!(members(&brands_deep), members(&rivals_deep));
    app.stop().await;
}
