#![doc = include_str!("readme.md")]

use brand_gateway::auth::Role;
use serde_json::json;

use super::spent;
use crate::helpers::{Backend, TestApp};

pub(crate) async fn rewordings_read_the_same_released_tables(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.token(Role::BrandAnalyst, Some(1)).await;
    let original = json!({
        "population": "STORE",
        "filters": [
            { "dimension": "CITY_TIER", "values": ["TIER1", "NEW_TIER1", "TIER2"] },
            { "dimension": "PAID_MEMBER", "values": ["NO"] }
        ],
        "breakdown": ["GROWTH_TIER", "GENDER"]
    });
    let first = app.answer(&token, original).await;
    assert!((spent(&first) - 0.1).abs() < 1e-9);
    let members = |answer: &serde_json::Value| -> Vec<serde_json::Value> {
        let mut cells: Vec<serde_json::Value> = answer["cells"]
            .as_array()
            .expect("cells")
            .iter()
            .map(|c| json!([c["key"], c["members"]]))
            .collect();
        cells.sort_by_key(|c| c.to_string());
        cells
    };
    let rewordings = [
        json!({ "population": "STORE",
            "filters": [
                { "dimension": "PAID_MEMBER", "values": ["false"] },
                { "dimension": "CITY_TIER", "values": ["tier2", "TIER1", "new_tier1", "TIER1"] }
            ],
            "breakdown": ["GENDER", "GROWTH_TIER"] }),
        json!({ "population": "STORE",
            "filters": [
                { "dimension": "CITY_TIER", "values": ["TIER1", "NEW_TIER1", "TIER2"] },
                { "dimension": "PAID_MEMBER", "values": ["No"] },
                { "dimension": "SPEND_BAND", "values": ["SPEND_UNDER_1K", "SPEND_1K_5K", "SPEND_5K_20K", "SPEND_20K_50K", "SPEND_50K_PLUS"] }
            ],
            "breakdown": ["GROWTH_TIER", "GENDER"] }),
    ];
    for question in rewordings {
        let again = app.answer(&token, question).await;
        assert_eq!(spent(&again), 0.0, "a rewording was charged");
        assert_eq!(members(&again), members(&first));
    }
    // Aliases and literals instead of variables change nothing either.
    let literal = r#"{ a: audience(question: { population: STORE, breakdown: [GENDER, GROWTH_TIER],
        filters: [{ dimension: PAID_MEMBER, values: ["NO"] }, { dimension: CITY_TIER, values: ["TIER2", "TIER1", "NEW_TIER1"] }] })
        { cells { key { dimension value } members } privacy { epsilonSpent } } }"#;
    let data = app.data(&token, literal, json!({})).await;
    assert_eq!(spent(&data["a"]), 0.0);
    assert_eq!(members(&data["a"]), members(&first));
    // An extra metric pays for its own table only, and counts stay the same.
    let wider = app
        .answer(&token, json!({ "population": "STORE",
            "filters": [{ "dimension": "CITY_TIER", "values": ["TIER1", "NEW_TIER1", "TIER2"] }, { "dimension": "PAID_MEMBER", "values": ["NO"] }],
            "breakdown": ["GROWTH_TIER", "GENDER"], "metrics": ["BLACK_CARD_SHARE"] }))
        .await;
    assert!((spent(&wider) - 0.1).abs() < 1e-9);
    assert_eq!(members(&wider), members(&first));
    app.stop().await;
}
