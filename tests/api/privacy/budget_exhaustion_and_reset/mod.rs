#![doc = include_str!("readme.md")]

use brand_gateway::auth::Role;
use chrono::{DateTime, Duration, Utc};
use sea_orm::ConnectionTrait as _;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, error_codes};

fn question(i: usize) -> Value {
    let cities = ["TIER1", "NEW_TIER1", "TIER2", "TIER3", "TIER4", "TIER5"];
    let genders = ["FEMALE", "MALE", "UNDECLARED"];
    json!({ "population": "STORE", "filters": [
        { "dimension": "CITY_TIER", "values": [cities[i % 6]] },
        { "dimension": "GENDER", "values": [genders[(i / 6) % 3]] }
    ] })
}

async fn backdate(app: &TestApp, days: i64) {
    let at = (Utc::now() - Duration::days(days)).to_rfc3339();
    app.db
        .db
        .execute_unprepared(&format!("UPDATE privacy_ledger SET at = '{at}'"))
        .await
        .expect("backdate");
}

pub(crate) async fn an_exhausted_budget_says_when_it_resets(backend: Backend) {
    // The analysts' share (0.8 by default): ε 0.8 a day, 1.2 in 30 days.
    let app = TestApp::spawn_with(backend, &["--privacy-30-day-budget", "1.5"]).await;
    let token = app.token(Role::BrandAnalyst, Some(1)).await;
    for i in 0..8 {
        app.answer(&token, question(i)).await;
    }
    let (_, body) = app.ask(&token, question(8)).await;
    assert_eq!(error_codes(&body), ["PRIVACY_BUDGET_EXHAUSTED"], "{body}");
    let resets_at: DateTime<Utc> = body["errors"][0]["extensions"]["resetsAt"]
        .as_str()
        .expect("resetsAt")
        .parse()
        .expect("RFC 3339");
    let budget = app
        .data(
            &token,
            "{ privacyBudget { epsilonLeft dailyResetsAt } }",
            json!({}),
        )
        .await;
    assert_eq!(budget["privacyBudget"]["epsilonLeft"], 0.0);
    let daily: DateTime<Utc> = budget["privacyBudget"]["dailyResetsAt"]
        .as_str()
        .expect("time")
        .parse()
        .expect("time");
    assert_eq!(resets_at, daily);
    // Midnight in Shanghai is 16:00 UTC.
    assert_eq!(resets_at.format("%H:%M:%S").to_string(), "16:00:00");
    // Stored answers are still served.
    let again = app.answer(&token, question(3)).await;
    assert_eq!(again["privacy"]["epsilonSpent"], 0.0);
    // Another brand's budget is its own.
    let other = app.token(Role::BrandAnalyst, Some(2)).await;
    app.answer(&other, question(8)).await;
    // So is the brand's operators' share.
    let operator = app.token(Role::BrandOperator, Some(1)).await;
    let budgets = app
        .data(
            &operator,
            "{ privacyBudgets { pool epsilonLeft } }",
            json!({}),
        )
        .await;
    assert_eq!(
        budgets["privacyBudgets"],
        json!([{ "pool": "ANALYSTS", "epsilonLeft": 0.0 }, { "pool": "OPERATORS", "epsilonLeft": 0.2 }])
    );

    // ADMIN may split a brand's budget otherwise; nobody else may.
    const SPLIT: &str =
        "mutation($b: ID!, $s: Float!) { setPrivacySplit(brandId: $b, analystShare: $s) {
      budgets { pool dailyLimit } userErrors { field code } } }";
    let admin = app.token(Role::Admin, None).await;
    let split = app.data(&admin, SPLIT, json!({ "b": "2", "s": 0.5 })).await;
    assert_eq!(
        split["setPrivacySplit"]["budgets"],
        json!([{ "pool": "ANALYSTS", "dailyLimit": 0.5 }, { "pool": "OPERATORS", "dailyLimit": 0.5 }])
    );
    let bad = app.data(&admin, SPLIT, json!({ "b": "2", "s": 1.5 })).await;
    assert_eq!(
        bad["setPrivacySplit"]["userErrors"],
        json!([{ "field": ["analystShare"], "code": "BAD_USER_INPUT" }])
    );
    let (_, body) = app
        .graphql(&operator, SPLIT, json!({ "b": "1", "s": 1.0 }))
        .await;
    assert_eq!(error_codes(&body), ["FORBIDDEN"]);

    // A day later the daily budget is back, but the 30-day limit (1.2) binds
    // after four more tables, until the first debits leave the window.
    backdate(&app, 2).await;
    for i in 9..13 {
        app.answer(&token, question(i)).await;
    }
    let (_, body) = app.ask(&token, question(13)).await;
    assert_eq!(error_codes(&body), ["PRIVACY_BUDGET_EXHAUSTED"], "{body}");
    let resets_at: DateTime<Utc> = body["errors"][0]["extensions"]["resetsAt"]
        .as_str()
        .expect("resetsAt")
        .parse()
        .expect("time");
    let expected = Utc::now() + Duration::days(28);
    assert!(
        (resets_at - expected).num_minutes().abs() < 10,
        "{resets_at} vs {expected}"
    );

    // A new split mid-window never lets the brand spend past its whole
    // budget: the analysts spent its 30-day 1.2 of 1.5, so giving the
    // operators 0.8 leaves them only the 0.3 the whole budget has left.
    let split = app.data(&admin, SPLIT, json!({ "b": "1", "s": 0.2 })).await;
    assert_eq!(split["setPrivacySplit"]["userErrors"], json!([]), "{split}");
    let budgets = app
        .data(
            &operator,
            "{ privacyBudgets { pool epsilonLeft } }",
            json!({}),
        )
        .await;
    assert_eq!(
        budgets["privacyBudgets"],
        json!([{ "pool": "ANALYSTS", "epsilonLeft": 0.0 }, { "pool": "OPERATORS", "epsilonLeft": 0.3 }])
    );
    // A side may get nothing, but not less than one table a day.
    let thin = app
        .data(&admin, SPLIT, json!({ "b": "1", "s": 0.95 }))
        .await;
    assert_eq!(
        thin["setPrivacySplit"]["userErrors"][0]["field"],
        json!(["analystShare"])
    );
    app.stop().await;
}
