//! One targeting decides who gets a benefit everywhere: checkout's
//! eligibility, the cell analysis and the reach preview agree on an
//! interest service narrowed to one city tier.

use brand_gateway::auth::Role;
use serde_json::{Value, json};

use crate::{
    benefits::{REACH, input, live},
    helpers::{Backend, GENEROUS_BUDGET, TestApp, scalar},
};

const ELIGIBILITY: &str = r#"
query($b: ID!, $m: ID!) { benefitEligibility(benefitId: $b, memberRef: $m, orderCents: 10000) {
  eligible outcome
} }"#;

const ANALYSIS: &str = r#"
{ benefitCellAnalysis(extraDimensions: [INTEREST, CITY_TIER]) {
  cells { extras { dimension value } applied { benefitId partialOn } }
} }"#;

/// A member matching `condition` (SQL over `member m`).
async fn member_where(app: &TestApp, condition: &str) -> i64 {
    scalar(
        &app.db.db,
        &format!("SELECT MIN(m.id) FROM member m WHERE {condition}"),
    )
    .await
}

/// Holds the SPORTS interest: the third code, bit 2 (written out, not
/// through the gateway's own rule).
const SPORTS: &str = "(m.interests & 4) <> 0";

pub(crate) async fn one_targeting_decides_checkout_analysis_and_reach(backend: Backend) {
    let app = TestApp::spawn_with(backend, GENEROUS_BUDGET).await;
    let op = app.token(Role::BrandOperator, Some(1)).await;
    let reviewer = app.token(Role::Reviewer, None).await;
    let checkout = app.token(Role::Service, None).await;
    let mut yoga =
        input(json!({ "interestService": { "service": "Yoga class", "interests": ["SPORTS"] } }));
    yoga["targeting"] = json!({ "cityTiers": ["TIER1"] });
    let yoga = live(&app, &op, &reviewer, yoga).await;
    let id = yoga["id"].as_str().expect("id").to_owned();
    assert_eq!(yoga["definition"]["kind"], "INTEREST_SERVICE", "{yoga}");

    // Checkout: both clauses must hold.
    let tier1 = "m.city_tier = 'TIER1'";
    let sports = SPORTS;
    for (condition, outcome) in [
        (format!("{sports} AND {tier1}"), "GRANTED"),
        (format!("{sports} AND NOT {tier1}"), "NOT_TARGETED"),
        (format!("NOT {sports} AND {tier1}"), "NOT_TARGETED"),
    ] {
        let member = member_where(&app, &condition).await;
        assert!(member > 0, "the seed has a member where {condition}");
        let data = app
            .data(
                &checkout,
                ELIGIBILITY,
                json!({ "b": id, "m": member.to_string() }),
            )
            .await;
        assert_eq!(
            data["benefitEligibility"]["outcome"], outcome,
            "{condition}"
        );
    }

    // The analysis: SPORTS × TIER1 cells get it whole; cells of members
    // holding another interest in TIER1 only in part (they may hold SPORTS
    // too); no other city tier gets it.
    let data = app.data(&op, ANALYSIS, json!({})).await;
    let cells = data["benefitCellAnalysis"]["cells"]
        .as_array()
        .expect("cells")
        .clone();
    let value = |cell: &Value, dimension: &str| {
        cell["extras"]
            .as_array()
            .and_then(|e| e.iter().find(|x| x["dimension"] == dimension))
            .map(|x| x["value"].as_str().unwrap_or_default().to_owned())
            .expect("extra value")
    };
    let mut whole = 0;
    for cell in &cells {
        let applied = cell["applied"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["benefitId"] == id.as_str()))
            .cloned();
        let (interest, city) = (value(cell, "INTEREST"), value(cell, "CITY_TIER"));
        match (city.as_str(), applied) {
            ("TIER1", Some(applied)) if interest == "SPORTS" => {
                assert_eq!(applied["partialOn"], json!([]), "{cell}");
                whole += 1;
            }
            ("TIER1", Some(applied)) => {
                assert_eq!(applied["partialOn"], json!(["INTEREST"]), "{cell}");
            }
            (_, applied) => assert!(applied.is_none(), "{cell}"),
        }
    }
    assert_eq!(whole, 14, "one SPORTS × TIER1 cell per programme cell");

    // Reach asks the privacy engine the same filters: near the exact
    // count, far from everybody.
    let exact = scalar(
        &app.db.db,
        &format!("SELECT COUNT(*) FROM member m WHERE {sports} AND {tier1}"),
    )
    .await;
    let everybody = scalar(&app.db.db, "SELECT COUNT(*) FROM member").await;
    assert!(exact * 4 < everybody, "{exact} of {everybody}");
    let reach =
        app.data(&op, REACH, json!({ "id": id })).await["benefitReachPreview"]["shownMembers"]
            .as_i64()
            .expect("shown members");
    assert!(
        reach <= exact + exact / 3 + 60,
        "reach {reach} against {exact} exact"
    );
    app.stop().await;
}
