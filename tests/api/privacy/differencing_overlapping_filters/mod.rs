#![doc = include_str!("readme.md")]

use brand_gateway::auth::Role;
use serde_json::json;

use super::std_dev;
use crate::helpers::{Backend, TestApp};

pub(crate) async fn differences_of_overlapping_answers_stay_noisy(backend: Backend) {
    let app = TestApp::spawn_with(backend, crate::helpers::GENEROUS_BUDGET).await;
    let token = app.token(Role::BrandAnalyst, Some(1)).await;
    let wide = json!({ "population": "PLATFORM", "filters": [{ "dimension": "CITY_TIER", "values": ["TIER1", "NEW_TIER1"] }] });
    let narrow = json!({ "population": "PLATFORM", "filters": [
        { "dimension": "CITY_TIER", "values": ["TIER1", "NEW_TIER1"] },
        { "dimension": "AGE_BAND", "values": ["AGE_UNDER_25", "AGE_25_29", "AGE_30_34", "AGE_35_39", "AGE_40_49"] }
    ] });
    let cohort = crate::helpers::scalar(
        &app.db.db,
        "SELECT SUM(members) FROM segment_cell WHERE population = 0 AND multi_dim = 0 AND city_tier IN (0, 1) AND age_band = 5",
    )
    .await;
    assert!(
        cohort < 50,
        "the target cohort is small enough to be suppressed if asked: {cohort}"
    );

    let mut estimates = Vec::new();
    for _ in 0..15 {
        let a = app.answer(&token, wide.clone()).await;
        let b = app.answer(&token, narrow.clone()).await;
        let members = |v: &serde_json::Value| v["cells"][0]["members"].as_i64().expect("shown");
        estimates.push((members(&a) - members(&b)) as f64);
        app.refresh().await;
    }
    let spread = std_dev(&estimates);
    assert!(
        spread >= 8.0,
        "difference estimates {estimates:?} have std {spread}"
    );
    app.stop().await;
}
