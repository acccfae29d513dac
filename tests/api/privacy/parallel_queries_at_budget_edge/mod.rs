#![doc = include_str!("readme.md")]

use std::sync::Arc;

use brand_gateway::auth::Role;
use serde_json::json;

use crate::helpers::{Backend, TestApp, error_codes};

pub(crate) async fn parallel_questions_never_overspend(backend: Backend) {
    let flags = [
        "--rate-limit-burst",
        "1000",
        "--rate-limit-per-second",
        "1000",
    ];
    let app = Arc::new(TestApp::spawn_with(backend, &flags).await);
    questions_never_overspend(std::slice::from_ref(&app)).await;
    if let Ok(app) = Arc::try_unwrap(app) {
        app.stop().await;
    }
}

/// 200 different paid questions at once from brand 1's analyst, spread
/// over the gateway instances `apps` (one database): the analysts' daily
/// share pays for exactly 8 and every instance then reports it spent.
pub(crate) async fn questions_never_overspend(apps: &[Arc<TestApp>]) {
    let token = apps[0].token(Role::BrandAnalyst, Some(1)).await;
    let cities = ["TIER1", "NEW_TIER1", "TIER2", "TIER3", "TIER4", "TIER5"];
    let ages = [
        "AGE_UNDER_25",
        "AGE_25_29",
        "AGE_30_34",
        "AGE_35_39",
        "AGE_40_49",
        "AGE_50_PLUS",
    ];
    let spends = [
        "SPEND_UNDER_1K",
        "SPEND_1K_5K",
        "SPEND_5K_20K",
        "SPEND_20K_50K",
        "SPEND_50K_PLUS",
    ];
    let genders = ["FEMALE", "MALE"];
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let question = json!({ "population": "STORE", "filters": [
                { "dimension": "CITY_TIER", "values": [cities[i % 6]] },
                { "dimension": "AGE_BAND", "values": [ages[(i / 6) % 6]] },
                { "dimension": "SPEND_BAND", "values": [spends[(i / 36) % 5]] },
                { "dimension": "GENDER", "values": [genders[(i / 180) % 2]] }
            ] });
            let (app, token) = (apps[i % apps.len()].clone(), token.clone());
            tokio::spawn(async move { app.ask(&token, question).await })
        })
        .collect();
    let mut answered = 0;
    let mut refused = 0;
    for task in tasks {
        let (status, body) = task.await.expect("task");
        assert_eq!(status, 200, "{body}");
        match error_codes(&body).as_slice() {
            [] => answered += 1,
            [code] if code == "PRIVACY_BUDGET_EXHAUSTED" => refused += 1,
            other => panic!("unexpected errors {other:?}: {body}"),
        }
    }
    // The analysts' share of ε 1 a day: 0.8.
    assert_eq!((answered, refused), (8, 192));
    for app in apps {
        let budget = app
            .data(
                &token,
                "{ privacyBudget { dailySpent epsilonLeft } }",
                json!({}),
            )
            .await;
        assert!(
            (budget["privacyBudget"]["dailySpent"]
                .as_f64()
                .expect("spent")
                - 0.8)
                .abs()
                < 1e-9
        );
        assert_eq!(budget["privacyBudget"]["epsilonLeft"], 0.0);
    }
}
