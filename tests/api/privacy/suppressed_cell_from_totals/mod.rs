#![doc = include_str!("readme.md")]

use brand_gateway::auth::Role;
use serde_json::json;

use super::std_dev;
use crate::helpers::{Backend, TestApp};

pub async fn totals_exclude_suppressed_cells_and_differences_stay_noisy(backend: Backend) {
    let app = TestApp::spawn_with(backend, crate::helpers::GENEROUS_BUDGET).await;
    let token = app.token(Role::BrandAnalyst, Some(1)).await;
    let breakdown = json!({ "population": "PLATFORM", "breakdown": ["GROWTH_TIER"] });
    let total = json!({ "population": "PLATFORM" });
    let mut estimates = Vec::new();
    for _ in 0..15 {
        let answer = app.answer(&token, breakdown.clone()).await;
        let cells = answer["cells"].as_array().expect("cells");
        let hidden = cells.iter().filter(|c| c["suppressed"] == true).count();
        assert!(
            hidden >= 1,
            "the top tiers of a small store are suppressed: {answer}"
        );
        let shown: i64 = cells.iter().filter_map(|c| c["members"].as_i64()).sum();
        assert_eq!(answer["shownMembers"].as_i64(), Some(shown));
        let shares: f64 = cells.iter().filter_map(|c| c["share"].as_f64()).sum();
        assert!((shares - 1.0).abs() < 1e-9);
        let everyone = app.answer(&token, total.clone()).await["cells"][0]["members"]
            .as_i64()
            .expect("the whole store is shown");
        estimates.push((everyone - shown) as f64);
        app.refresh().await;
    }
    let spread = std_dev(&estimates);
    assert!(spread >= 8.0, "estimates {estimates:?} have std {spread}");
    app.stop().await;
}
