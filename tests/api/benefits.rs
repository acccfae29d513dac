//! Exclusive benefits through the real server: validation of every kind,
//! the lifecycle with revisions and review, stacking on a hand-checked
//! matrix, budgets under 1,000 concurrent redemptions, idempotency and
//! cross-brand access.

use std::sync::Arc;

use brand_gateway::auth::Role;
use chrono::{Duration, Utc};
use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, error_codes, scalar};

const FIELDS: &str = r#"
fragment B on Benefit {
  id state version currentRevision liveRevision revisionPending redemptions spentCents
  transitions editable reviewable
  brand { id }
  definition { name kind value parameters stacking { mode priority } schedule { startsAt startsAtLocal } }
  liveDefinition { value }
  events { action fromState toState revision note actor }
}"#;

/// Shanghai wall-clock time `days` from now, as the API takes it.
pub(crate) fn local(days: i64) -> String {
    (Utc::now() + Duration::days(days))
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .naive_local()
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

/// A valid definition of the given kind, running from yesterday for 30 days.
pub(crate) fn input(kind: Value) -> Value {
    json!({
        "name": "Member price",
        "kind": kind,
        "stacking": { "mode": "COMBINABLE", "combinesWith": [], "priority": 10 },
        "schedule": { "startsAt": local(-1), "endsAt": local(30) },
    })
}

fn with(mut value: Value, path: &[&str], leaf: Value) -> Value {
    let mut at = &mut value;
    for key in &path[..path.len() - 1] {
        at = at
            .as_object_mut()
            .expect("object")
            .entry(key.to_string())
            .or_insert_with(|| json!({}));
    }
    at[path[path.len() - 1]] = leaf;
    value
}

type Outcome = (Value, Vec<(String, String)>);

async fn call(
    app: &TestApp,
    token: &str,
    field: &str,
    params: &str,
    args: &str,
    variables: Value,
) -> Outcome {
    let query = format!(
        "mutation({params}) {{ r: {field}({args}) {{ benefit {{ ...B }} userErrors {{ field message code }} }} }} {FIELDS}"
    );
    let data = app.data(token, &query, variables).await;
    let errors = data["r"]["userErrors"]
        .as_array()
        .expect("userErrors")
        .iter()
        .map(|e| {
            let path: Vec<&str> = e["field"]
                .as_array()
                .expect("field")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            (
                e["code"].as_str().unwrap_or_default().to_owned(),
                path.join("."),
            )
        })
        .collect();
    (data["r"]["benefit"].clone(), errors)
}

pub(crate) async fn create(app: &TestApp, token: &str, input: Value) -> Outcome {
    call(
        app,
        token,
        "createBenefit",
        "$i: BenefitInput!",
        "input: $i",
        json!({ "i": input }),
    )
    .await
}

async fn edit(app: &TestApp, token: &str, benefit: &Value, input: Value) -> Outcome {
    call(
        app,
        token,
        "editBenefit",
        "$id: ID!, $v: Int!, $i: BenefitInput!",
        "benefitId: $id, expectedVersion: $v, input: $i",
        json!({ "id": benefit["id"], "v": benefit["version"], "i": input }),
    )
    .await
}

/// A lifecycle step (SUBMIT, PAUSE, RESUME, END, RETIRE).
pub(crate) async fn step(app: &TestApp, token: &str, action: &str, benefit: &Value) -> Outcome {
    call(
        app,
        token,
        "transitionBenefit",
        "$id: ID!, $v: Int!, $a: BenefitTransition!",
        "benefitId: $id, expectedVersion: $v, action: $a",
        json!({ "id": benefit["id"], "v": benefit["version"], "a": action }),
    )
    .await
}

pub(crate) async fn review(
    app: &TestApp,
    token: &str,
    benefit: &Value,
    approve: bool,
    note: Option<&str>,
) -> Outcome {
    call(
        app,
        token,
        "reviewBenefit",
        "$id: ID!, $v: Int!, $a: Boolean!, $n: String",
        "benefitId: $id, expectedVersion: $v, approve: $a, note: $n",
        json!({ "id": benefit["id"], "v": benefit["version"], "a": approve, "n": note }),
    )
    .await
}

pub(crate) fn landed((benefit, errors): Outcome) -> Value {
    assert!(errors.is_empty(), "user errors: {errors:?}");
    assert!(benefit.is_object(), "no benefit");
    benefit
}

pub(crate) fn refused((benefit, errors): Outcome, code: &str, field: &str) {
    assert!(benefit.is_null(), "{benefit}");
    assert_eq!(errors, [(code.to_owned(), field.to_owned())]);
}

/// Creates, submits and approves; returns the live benefit.
pub(crate) async fn live(app: &TestApp, operator: &str, reviewer: &str, input: Value) -> Value {
    let draft = landed(create(app, operator, input).await);
    let pending = landed(step(app, operator, "SUBMIT", &draft).await);
    landed(review(app, reviewer, &pending, true, None).await)
}

fn actions(benefit: &Value) -> Vec<String> {
    benefit["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default().to_owned())
        .collect()
}

pub(crate) async fn every_kind_validates_and_names_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let op = app.token(Role::BrandOperator, Some(1)).await;
    let slot = json!({ "title": "Spring tasting", "locations": ["Shanghai IFC"], "slotStart": local(5), "slotEnd": local(6), "capacity": 40 });
    let kinds = [
        json!({ "percentOff": { "percent": 5 } }),
        json!({ "fixedCoupon": { "amountCents": 2000, "thresholdCents": 19900 } }),
        json!({ "freeReturnShipping": true }),
        json!({ "birthdayGift": { "gift": "Travel kit", "daysBefore": 7, "daysAfter": 7 } }),
        json!({ "interestService": { "service": "Skin consultation", "interests": ["BEAUTY"] } }),
        json!({ "offlineExperience": slot }),
        json!({ "earlyAccess": { "hoursEarly": 24, "skus": ["SKU-1", "SKU-2"], "publicAt": local(3) } }),
        json!({ "pointsMultiplier": { "multiplierTenths": 20 } }),
        json!({ "memberPrice": { "prices": [{ "sku": "SERUM-30ML", "priceCents": 15000 }] } }),
        json!({ "orderRebate": { "nthOrder": 3, "periodDays": 30, "amountCents": 1000 } }),
    ];
    let expected = [
        "PERCENT_OFF",
        "FIXED_COUPON",
        "FREE_RETURN_SHIPPING",
        "BIRTHDAY_GIFT",
        "INTEREST_SERVICE",
        "OFFLINE_EXPERIENCE",
        "EARLY_ACCESS",
        "POINTS_MULTIPLIER",
        "MEMBER_PRICE",
        "ORDER_REBATE",
    ];
    for (kind, code) in kinds.iter().zip(expected) {
        let benefit = landed(create(&app, &op, input(kind.clone())).await);
        assert_eq!(benefit["definition"]["kind"], code);
        assert_eq!(benefit["state"], "DRAFT");
    }

    let pct = input(kinds[0].clone());
    let bad: Vec<(Value, &str)> = vec![
        (
            input(json!({ "percentOff": { "percent": 0 } })),
            "input.kind.percentOff.percent",
        ),
        (
            input(json!({ "percentOff": { "percent": 51 } })),
            "input.kind.percentOff.percent",
        ),
        (
            input(json!({ "fixedCoupon": { "amountCents": 50, "thresholdCents": 100 } })),
            "input.kind.fixedCoupon.amountCents",
        ),
        (
            input(json!({ "fixedCoupon": { "amountCents": 2000, "thresholdCents": 1000 } })),
            "input.kind.fixedCoupon.thresholdCents",
        ),
        (
            input(json!({ "birthdayGift": { "gift": "Kit", "daysBefore": 31, "daysAfter": 0 } })),
            "input.kind.birthdayGift.daysBefore",
        ),
        (
            input(json!({ "interestService": { "service": "S", "interests": [] } })),
            "input.kind.interestService.interests",
        ),
        (
            with(
                input(json!({ "interestService": { "service": "S", "interests": ["SPORTS"] } })),
                &["targeting", "interests"],
                json!(["BEAUTY"]),
            ),
            "input.targeting.interests",
        ),
        (
            input(json!({ "offlineExperience": with(slot.clone(), &["capacity"], json!(0)) })),
            "input.kind.offlineExperience.capacity",
        ),
        (
            input(
                json!({ "offlineExperience": with(slot.clone(), &["slotEnd"], json!(local(4))) }),
            ),
            "input.kind.offlineExperience.slotEnd",
        ),
        (
            input(
                json!({ "earlyAccess": { "hoursEarly": 0, "skus": ["A"], "publicAt": local(3) } }),
            ),
            "input.kind.earlyAccess.hoursEarly",
        ),
        (
            input(json!({ "earlyAccess": { "hoursEarly": 2, "skus": [], "publicAt": local(3) } })),
            "input.kind.earlyAccess.skus",
        ),
        (
            input(
                json!({ "earlyAccess": { "hoursEarly": 2, "skus": ["A"], "publicAt": local(-2) } }),
            ),
            "input.kind.earlyAccess.publicAt",
        ),
        (
            input(json!({ "pointsMultiplier": { "multiplierTenths": 10 } })),
            "input.kind.pointsMultiplier.multiplierTenths",
        ),
        (
            input(
                json!({ "memberPrice": { "prices": [{ "sku": "A", "priceCents": 100 }, { "sku": "A", "priceCents": 90 }] } }),
            ),
            "input.kind.memberPrice.prices",
        ),
        (
            input(json!({ "memberPrice": { "prices": [{ "sku": "A", "priceCents": -1 }] } })),
            "input.kind.memberPrice.prices.priceCents",
        ),
        (
            input(
                json!({ "orderRebate": { "nthOrder": 1, "periodDays": 30, "amountCents": 1000 } }),
            ),
            "input.kind.orderRebate.nthOrder",
        ),
        (with(pct.clone(), &["name"], json!(" ")), "input.name"),
        (
            with(pct.clone(), &["stacking", "priority"], json!(1001)),
            "input.stacking.priority",
        ),
        (
            with(
                with(pct.clone(), &["stacking", "mode"], json!("EXCLUSIVE")),
                &["stacking", "combinesWith"],
                json!(["FIXED_COUPON"]),
            ),
            "input.stacking.combinesWith",
        ),
        (
            with(
                input(kinds[2].clone()),
                &["upgrade"],
                json!({ "paidMember": true, "value": 5 }),
            ),
            "input.upgrade",
        ),
        (
            with(
                pct.clone(),
                &["upgrade"],
                json!({ "paidMember": true, "value": 5 }),
            ),
            "input.upgrade.value",
        ),
        (
            with(pct.clone(), &["upgrade"], json!({ "value": 8 })),
            "input.upgrade",
        ),
        (
            with(pct.clone(), &["schedule", "endsAt"], json!(local(-2))),
            "input.schedule.endsAt",
        ),
        (
            with(
                pct.clone(),
                &["budget"],
                json!({ "totalRedemptions": 5, "perMember": 6 }),
            ),
            "input.budget.perMember",
        ),
        (
            with(pct.clone(), &["budget"], json!({ "totalMoneyCents": 0 })),
            "input.budget.totalMoneyCents",
        ),
    ];
    for (input, field) in bad {
        refused(create(&app, &op, input).await, "BAD_USER_INPUT", field);
    }
    // Targeting values are enums: an unknown one is a validation error
    // naming the argument, before anything runs.
    for (path, value) in [
        (&["targeting", "ageBands"][..], json!(["AGE_12"])),
        (&["targeting", "cityTiers"][..], json!(["TIER9"])),
        (&["targeting", "interests"][..], json!(["ASTROLOGY"])),
    ] {
        let (status, body) = app
            .graphql(
                &op,
                "mutation($i: BenefitInput!) { createBenefit(input: $i) { userErrors { code } } }",
                json!({ "i": with(pct.clone(), path, value) }),
            )
            .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(error_codes(&body), ["GRAPHQL_VALIDATION_FAILED"]);
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(&format!("input.{}", path.join("."))),
            "{message}"
        );
    }
    // Exactly one kind: two is a GraphQL validation error.
    let (status, body) = app
        .graphql(
            &op,
            "mutation($i: BenefitInput!) { createBenefit(input: $i) { userErrors { code } } }",
            json!({ "i": input(json!({ "percentOff": { "percent": 5 }, "freeReturnShipping": true })) }),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        scalar(&app.db.db, "SELECT COUNT(*) FROM benefit").await,
        10,
        "nothing invalid was stored"
    );
    app.stop().await;
}

pub(crate) async fn lifecycle_revisions_and_review(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let op = app.token_as(Role::BrandOperator, Some(1), "store-op").await;
    let reviewer = app.token_as(Role::Reviewer, None, "carol").await;
    let five = input(json!({ "percentOff": { "percent": 5 } }));
    let six = input(json!({ "percentOff": { "percent": 6 } }));
    let eight = input(json!({ "percentOff": { "percent": 8 } }));

    let draft = landed(create(&app, &op, five.clone()).await);
    let draft = landed(edit(&app, &op, &draft, six.clone()).await);
    assert_eq!(
        (draft["state"].as_str(), draft["currentRevision"].as_i64()),
        (Some("DRAFT"), Some(2))
    );
    refused(
        edit(&app, &op, &draft, six.clone()).await,
        "BAD_USER_INPUT",
        "input",
    );
    // What the benefit says it allows is what the steps accept.
    assert_eq!(
        (&draft["transitions"], &draft["editable"]),
        (&json!(["SUBMIT"]), &json!(true))
    );
    let pending = landed(step(&app, &op, "SUBMIT", &draft).await);
    assert_eq!(pending["state"], "PENDING_REVIEW");
    assert_eq!(
        (
            &pending["transitions"],
            &pending["editable"],
            &pending["reviewable"]
        ),
        (&json!([]), &json!(false), &json!(true))
    );
    assert_eq!(draft["reviewable"], false, "a draft is not sent yet");
    refused(
        edit(&app, &op, &pending, five.clone()).await,
        "ILLEGAL_TRANSITION",
        "benefitId",
    );
    refused(
        step(&app, &op, "PAUSE", &pending).await,
        "ILLEGAL_TRANSITION",
        "benefitId",
    );
    refused(
        review(&app, &reviewer, &pending, false, None).await,
        "BAD_USER_INPUT",
        "note",
    );
    let rejected = landed(
        review(
            &app,
            &reviewer,
            &pending,
            false,
            Some("5% at most in this category"),
        )
        .await,
    );
    assert_eq!(rejected["state"], "REJECTED");
    let draft = landed(edit(&app, &op, &rejected, five.clone()).await);
    assert_eq!(draft["state"], "DRAFT");
    let pending = landed(step(&app, &op, "SUBMIT", &draft).await);
    let active = landed(review(&app, &reviewer, &pending, true, None).await);
    assert_eq!(active["state"], "ACTIVE", "its start has come");
    assert_eq!(active["liveRevision"], 3);
    assert_eq!(
        (&active["transitions"], &active["editable"]),
        (&json!(["PAUSE", "END", "RETIRE"]), &json!(true))
    );

    // Editing a live benefit: the new revision waits, the live one stays.
    assert_eq!(active["reviewable"], false, "nothing new to review");
    let edited = landed(edit(&app, &op, &active, eight.clone()).await);
    assert_eq!(edited["state"], "ACTIVE");
    assert_eq!(edited["revisionPending"], true);
    assert_eq!(edited["reviewable"], true, "its new revision waits");
    assert_eq!(
        (
            edited["definition"]["value"].as_i64(),
            edited["liveDefinition"]["value"].as_i64()
        ),
        (Some(8), Some(5))
    );
    let diff = app
        .data(&op, r#"query($id: ID!) { benefit(id: $id) { diff(from: 3, to: 4) { field before after } } }"#, json!({ "id": edited["id"] }))
        .await;
    assert_eq!(
        diff["benefit"]["diff"],
        json!([{ "field": "kind.percent", "before": "5", "after": "8" }])
    );
    // A stale edit is refused, not applied over the newer one.
    refused(
        edit(&app, &op, &active, six.clone()).await,
        "CONFLICT",
        "expectedVersion",
    );
    let kept = landed(review(&app, &reviewer, &edited, false, Some("too deep")).await);
    assert_eq!(
        (
            kept["liveRevision"].as_i64(),
            kept["currentRevision"].as_i64()
        ),
        (Some(3), Some(3))
    );
    assert_eq!(kept["revisionPending"], false);
    let edited = landed(edit(&app, &op, &kept, eight.clone()).await);
    let upgraded = landed(review(&app, &reviewer, &edited, true, None).await);
    assert_eq!(
        (
            upgraded["liveRevision"].as_i64(),
            upgraded["liveDefinition"]["value"].as_i64()
        ),
        (Some(5), Some(8))
    );
    refused(
        review(&app, &reviewer, &upgraded, true, None).await,
        "ILLEGAL_TRANSITION",
        "benefitId",
    );

    let paused = landed(step(&app, &op, "PAUSE", &upgraded).await);
    assert_eq!(paused["state"], "PAUSED");
    let resumed = landed(step(&app, &op, "RESUME", &paused).await);
    assert_eq!(resumed["state"], "ACTIVE");
    let ended = landed(step(&app, &op, "END", &resumed).await);
    assert_eq!(ended["state"], "ENDED");
    refused(
        step(&app, &op, "RESUME", &ended).await,
        "ILLEGAL_TRANSITION",
        "benefitId",
    );
    let retired = landed(step(&app, &op, "RETIRE", &ended).await);
    assert_eq!(retired["state"], "RETIRED");
    refused(
        edit(&app, &op, &retired, six.clone()).await,
        "ILLEGAL_TRANSITION",
        "benefitId",
    );
    assert_eq!(
        actions(&retired),
        [
            "CREATE", "EDIT", "SUBMIT", "REJECT", "EDIT", "SUBMIT", "APPROVE", "EDIT", "REJECT",
            "EDIT", "APPROVE", "PAUSE", "RESUME", "END", "RETIRE"
        ]
    );
    let events = retired["events"].as_array().expect("events");
    assert!(
        events
            .iter()
            .all(|e| e["actor"] == "store-op" || e["actor"] == "carol")
    );
    assert_eq!(events[1]["note"], "changed: kind.percent");

    // A start still to come: approved, not active.
    // (One reading of the clock: two could straddle a second.)
    let starts = local(3);
    let later = with(five.clone(), &["schedule", "startsAt"], json!(starts));
    let scheduled = live(&app, &op, &reviewer, later).await;
    assert_eq!(scheduled["state"], "APPROVED");
    assert_eq!(scheduled["definition"]["schedule"]["startsAtLocal"], starts);

    // Roles: reviewers don't configure, operators don't review.
    let (_, body) = app
        .graphql(
            &reviewer,
            "mutation($i: BenefitInput!) { createBenefit(input: $i) { userErrors { code } } }",
            json!({ "i": five }),
        )
        .await;
    assert_eq!(error_codes(&body), ["FORBIDDEN"]);
    let (_, body) = app
        .graphql(
            &op,
            "mutation($id: ID!) { reviewBenefit(benefitId: $id, expectedVersion: 1, approve: true) { userErrors { code } } }",
            json!({ "id": scheduled["id"] }),
        )
        .await;
    assert_eq!(error_codes(&body), ["FORBIDDEN"]);
    app.stop().await;
}

const ANALYSIS: &str = r#"
query($extra: [Dimension!]! = []) { benefitCellAnalysis(extraDimensions: $extra) {
  cells { tier paidMember blackCard extras { dimension value }
          applied { benefitId value upgraded partialOn } overridden { benefitId by reason } conflicts { kept lost } }
  dead { benefitId reason }
  losingCells { lower { tier paidMember blackCard } higher { tier paidMember blackCard } benefitId by }
} }"#;

/// The matrix of `src/benefits/stacking.rs`'s unit test, through the API:
/// 5% off for all (best-of, upgraded to 7% for paid PLATINUM+), 10% off
/// for paid members (best-of), a ¥20 coupon that combines with percent-off,
/// free returns (exclusive, priority 50) for black-card holders, a 2×
/// points multiplier that combines with nothing.
pub(crate) async fn stacking_outcomes_match_the_hand_checked_matrix(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let op = app.token(Role::BrandOperator, Some(1)).await;
    let reviewer = app.token(Role::Reviewer, None).await;
    let stacking = |mode: &str, with: &[&str], priority: i64| json!({ "mode": mode, "combinesWith": with, "priority": priority });
    let mut five = input(json!({ "percentOff": { "percent": 5 } }));
    five["stacking"] = stacking("BEST_OF", &["FIXED_COUPON"], 10);
    five["upgrade"] = json!({ "minTier": "PLATINUM", "paidMember": true, "value": 7 });
    let mut ten = input(json!({ "percentOff": { "percent": 10 } }));
    ten["stacking"] = stacking("BEST_OF", &["FIXED_COUPON"], 10);
    ten["targeting"] = json!({ "paidMember": true });
    let mut coupon =
        input(json!({ "fixedCoupon": { "amountCents": 2000, "thresholdCents": 19900 } }));
    coupon["stacking"] = stacking("COMBINABLE", &["PERCENT_OFF"], 5);
    let mut returns = input(json!({ "freeReturnShipping": true }));
    returns["stacking"] = stacking("EXCLUSIVE", &[], 50);
    returns["targeting"] = json!({ "blackCard": true });
    let mut points = input(json!({ "pointsMultiplier": { "multiplierTenths": 20 } }));
    points["stacking"] = stacking("COMBINABLE", &[], 1);
    let mut ids = Vec::new();
    for definition in [five, ten, coupon, returns, points] {
        ids.push(
            live(&app, &op, &reviewer, definition).await["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    let [five, ten, coupon, returns, points] = [0, 1, 2, 3, 4].map(|i| ids[i].clone());
    let analysis = app.data(&op, ANALYSIS, json!({})).await["benefitCellAnalysis"].clone();
    let cells = analysis["cells"].as_array().expect("cells");
    assert_eq!(cells.len(), 14);
    let cell = |tier: &str, paid: bool, black: bool| {
        cells
            .iter()
            .find(|c| c["tier"] == tier && c["paidMember"] == paid && c["blackCard"] == black)
            .cloned()
            .expect("cell")
    };
    let applied = |c: &Value| -> Vec<(String, i64)> {
        c["applied"]
            .as_array()
            .expect("applied")
            .iter()
            .map(|a| {
                (
                    a["benefitId"].as_str().unwrap_or_default().to_owned(),
                    a["value"].as_i64().unwrap_or(-1),
                )
            })
            .collect()
    };
    // Hand-checked: (tier, paid, black card) → what applies, with values.
    // Rules bind within a class: the exclusive returns benefit (SHIPPING)
    // and the points multiplier (POINTS) take nothing from the discounts.
    let (five_v, ten_v, coupon_v, points_v, returns_v) = (
        (five.clone(), 5),
        (ten.clone(), 10),
        (coupon.clone(), 2000),
        (points.clone(), 20),
        (returns.clone(), -1),
    );
    let matrix = [
        (
            "BRONZE",
            false,
            false,
            vec![five_v.clone(), coupon_v.clone(), points_v.clone()],
        ),
        (
            "GOLD",
            false,
            false,
            vec![five_v.clone(), coupon_v.clone(), points_v.clone()],
        ),
        (
            "GOLD",
            true,
            false,
            vec![ten_v.clone(), coupon_v.clone(), points_v.clone()],
        ),
        (
            "PLATINUM",
            true,
            false,
            vec![ten_v.clone(), coupon_v.clone(), points_v.clone()],
        ),
        (
            "DIAMOND",
            false,
            true,
            vec![
                returns_v.clone(),
                five_v.clone(),
                coupon_v.clone(),
                points_v.clone(),
            ],
        ),
        (
            "BLACK_DIAMOND",
            true,
            true,
            vec![returns_v, ten_v, coupon_v, points_v],
        ),
    ];
    for (tier, paid, black, expected) in matrix {
        assert_eq!(
            applied(&cell(tier, paid, black)),
            expected,
            "{tier} paid={paid} black={black}"
        );
    }
    let gold_paid = cell("GOLD", true, false);
    assert_eq!(
        gold_paid["overridden"],
        json!([{ "benefitId": five, "by": ten, "reason": "BEST_OF_LOWER" }])
    );
    assert_eq!(gold_paid["conflicts"], json!([]));
    assert_eq!(analysis["dead"], json!([]));
    // Paid members trade the 5% for the 10%: nobody better placed loses.
    assert_eq!(analysis["losingCells"], json!([]));

    // With an extra dimension, a city-tier-targeted benefit is exact per
    // cell instead of partial.
    let by_city = app
        .data(&op, ANALYSIS, json!({ "extra": ["CITY_TIER"] }))
        .await;
    assert_eq!(
        by_city["benefitCellAnalysis"]["cells"]
            .as_array()
            .expect("cells")
            .len(),
        14 * 6
    );
    let (_, body) = app
        .graphql(&op, ANALYSIS, json!({ "extra": ["GENDER"] }))
        .await;
    assert_eq!(error_codes(&body), ["BAD_USER_INPUT"]);
    app.stop().await;
}

const REDEEM: &str = r#"
mutation($i: RedeemBenefitInput!) { redeemBenefit(input: $i) {
  redemption { id granted outcome amountCents replayed } userErrors { field code }
} }"#;

pub(crate) async fn redeem(
    app: &TestApp,
    token: &str,
    benefit: &str,
    member: i64,
    key: &str,
    order: i64,
) -> Value {
    app.data(
        token,
        REDEEM,
        json!({ "i": { "benefitId": benefit, "memberRef": member.to_string(), "idempotencyKey": key, "orderCents": order } }),
    )
    .await["redeemBenefit"]
        .clone()
}

pub(crate) async fn budgets_hold_under_concurrent_redemptions(backend: Backend) {
    let app = Arc::new(
        TestApp::spawn_with(
            backend,
            &[
                "--rate-limit-per-second",
                "100000",
                "--rate-limit-burst",
                "100000",
            ],
        )
        .await,
    );
    let op = app.token(Role::BrandOperator, Some(1)).await;
    let reviewer = app.token(Role::Reviewer, None).await;
    let checkout = app.token_as(Role::Service, None, "checkout").await;
    let mut definition = input(json!({ "percentOff": { "percent": 5 } }));
    definition["budget"] = json!({ "totalRedemptions": 100, "perMember": 1 });
    let benefit = live(&app, &op, &reviewer, definition).await;
    let id = benefit["id"].as_str().expect("id").to_owned();

    // 1,000 members redeem at once; the budget is 100.
    let results = join_all((1..=1000).map(|member| {
        let (app, checkout, id) = (app.clone(), checkout.clone(), id.clone());
        tokio::spawn(async move {
            redeem(
                &app,
                &checkout,
                &id,
                member,
                &format!("order-{member}"),
                10_000,
            )
            .await
        })
    }))
    .await;
    let results: Vec<Value> = results.into_iter().map(|r| r.expect("task")).collect();
    let granted = results
        .iter()
        .filter(|r| r["redemption"]["granted"] == true)
        .count();
    assert_eq!(granted, 100, "exactly the budget is granted");
    assert!(
        results
            .iter()
            .filter(|r| r["redemption"]["granted"] == false)
            .all(|r| r["redemption"]["outcome"] == "BUDGET_EXHAUSTED")
    );
    assert_eq!(
        scalar(&app.db.db, "SELECT COUNT(*) FROM redemption WHERE granted").await,
        100
    );
    assert_eq!(
        scalar(
            &app.db.db,
            "SELECT CAST(SUM(redemptions) AS BIGINT) FROM benefit_budget_slot"
        )
        .await,
        100
    );
    // 5% of ¥100 per order.
    assert_eq!(
        scalar(
            &app.db.db,
            "SELECT CAST(COALESCE(SUM(spent_cents), 0) AS BIGINT) FROM benefit_budget_slot"
        )
        .await,
        100 * 500
    );

    // A replayed key returns the first result and counts once; a key
    // reused for another request is a conflict.
    let first = results
        .iter()
        .find(|r| r["redemption"]["granted"] == true)
        .expect("a grant");
    let member: i64 = results
        .iter()
        .position(|r| r == first)
        .map(|i| i as i64 + 1)
        .expect("index");
    let again = redeem(
        &app,
        &checkout,
        &id,
        member,
        &format!("order-{member}"),
        10_000,
    )
    .await;
    assert_eq!(again["redemption"]["id"], first["redemption"]["id"]);
    assert_eq!(again["redemption"]["replayed"], true);
    assert_eq!(
        scalar(&app.db.db, "SELECT COUNT(*) FROM redemption").await,
        1000
    );
    let reused = redeem(
        &app,
        &checkout,
        &id,
        member + 1,
        &format!("order-{member}"),
        10_000,
    )
    .await;
    assert_eq!(
        reused["userErrors"],
        json!([{ "field": ["input", "idempotencyKey"], "code": "CONFLICT" }])
    );

    // Per-member cap and money budget, on a second benefit.
    let mut coupon =
        input(json!({ "fixedCoupon": { "amountCents": 2000, "thresholdCents": 10000 } }));
    coupon["budget"] = json!({ "perMember": 1, "totalMoneyCents": 5000 });
    let coupon = live(&app, &op, &reviewer, coupon).await;
    let cid = coupon["id"].as_str().expect("id");
    let below = redeem(&app, &checkout, cid, 7, "c-0", 9_999).await;
    assert_eq!(below["redemption"]["outcome"], "BELOW_THRESHOLD");
    assert_eq!(
        redeem(&app, &checkout, cid, 7, "c-1", 10_000).await["redemption"]["granted"],
        true
    );
    assert_eq!(
        redeem(&app, &checkout, cid, 7, "c-2", 10_000).await["redemption"]["outcome"],
        "MEMBER_CAP_REACHED"
    );
    assert_eq!(
        redeem(&app, &checkout, cid, 8, "c-3", 10_000).await["redemption"]["granted"],
        true
    );
    assert_eq!(
        redeem(&app, &checkout, cid, 9, "c-4", 10_000).await["redemption"]["outcome"],
        "MONEY_BUDGET_EXHAUSTED"
    );
    // One member's redemptions at once, each with its own key: judged
    // one after another against the member's cap (PostgreSQL takes them
    // in parallel but locks the member's row).
    let mut twice = input(json!({ "percentOff": { "percent": 3 } }));
    twice["budget"] = json!({ "perMember": 2 });
    let twice = live(&app, &op, &reviewer, twice).await;
    let twice = twice["id"].as_str().expect("id").to_owned();
    let rush = join_all((0..30).map(|attempt| {
        let (app, checkout, twice) = (app.clone(), checkout.clone(), twice.clone());
        tokio::spawn(async move {
            redeem(&app, &checkout, &twice, 11, &format!("t-{attempt}"), 10_000).await
        })
    }))
    .await;
    let outcomes: Vec<String> = rush
        .into_iter()
        .map(|r| {
            r.expect("task")["redemption"]["outcome"]
                .as_str()
                .expect("outcome")
                .to_owned()
        })
        .collect();
    assert_eq!(
        outcomes.iter().filter(|o| *o == "GRANTED").count(),
        2,
        "{outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .filter(|o| *o != "GRANTED")
            .all(|o| o == "MEMBER_CAP_REACHED"),
        "{outcomes:?}"
    );

    let unknown = redeem(&app, &checkout, cid, 999_999, "c-5", 10_000).await;
    assert_eq!(
        unknown["userErrors"],
        json!([{ "field": ["input", "memberRef"], "code": "NOT_FOUND" }])
    );

    // Eligibility is for the checkout only, and says why.
    let eligibility = app
        .data(
            &checkout,
            "query($id: ID!) { benefitEligibility(benefitId: $id, memberRef: \"7\", orderCents: 50000) { eligible outcome amountCents } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        eligibility["benefitEligibility"],
        json!({ "eligible": false, "outcome": "BUDGET_EXHAUSTED", "amountCents": 0 })
    );
    let (_, body) = app
        .graphql(&op, "query($id: ID!) { benefitEligibility(benefitId: $id, memberRef: \"7\", orderCents: 1) { eligible } }", json!({ "id": id }))
        .await;
    assert_eq!(error_codes(&body), ["FORBIDDEN"]);
    match Arc::try_unwrap(app) {
        Ok(app) => app.stop().await,
        Err(_) => panic!("app still shared"),
    }
}

pub(crate) async fn another_brands_benefit_is_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let own = app.token(Role::BrandOperator, Some(1)).await;
    let other = app.token(Role::BrandOperator, Some(2)).await;
    let other_analyst = app.token(Role::BrandAnalyst, Some(2)).await;
    let reviewer = app.token(Role::Reviewer, None).await;
    let benefit = live(
        &app,
        &own,
        &reviewer,
        input(json!({ "percentOff": { "percent": 5 } })),
    )
    .await;
    let five = input(json!({ "percentOff": { "percent": 6 } }));
    for token in [&other, &other_analyst] {
        let (_, body) = app
            .graphql(
                token,
                &format!("query($id: ID!) {{ benefit(id: $id) {{ ...B }} }} {FIELDS}"),
                json!({ "id": benefit["id"] }),
            )
            .await;
        assert_eq!(error_codes(&body), ["NOT_FOUND"], "{body}");
        let (_, body) = app
            .graphql(
                token,
                "query($r: [_Any!]!) { _entities(representations: $r) { ... on Benefit { id definition { name } } } }",
                json!({ "r": [{ "__typename": "Benefit", "id": benefit["id"] }] }),
            )
            .await;
        assert_eq!(error_codes(&body), ["NOT_FOUND"], "{body}");
        assert!(!body.to_string().contains("Member price"), "leaked: {body}");
        let list = app
            .data(
                token,
                "{ benefits(first: 100) { edges { node { id } } } }",
                json!({}),
            )
            .await;
        assert_eq!(list["benefits"]["edges"], json!([]));
        let (_, body) = app
            .graphql(
                token,
                ANALYSIS
                    .replace(
                        "extraDimensions: $extra",
                        "brandId: \"1\", extraDimensions: $extra",
                    )
                    .as_str(),
                json!({}),
            )
            .await;
        assert_eq!(error_codes(&body), ["NOT_FOUND"], "{body}");
        let (_, body) = app
            .graphql(
                token,
                "query($b: ID!) { benefitRedemptionsByDay(benefitId: $b, from: \"2026-12-01\") { redemptions } }",
                json!({ "b": benefit["id"] }),
            )
            .await;
        assert_eq!(error_codes(&body), ["NOT_FOUND"], "{body}");
    }
    refused(
        edit(&app, &other, &benefit, five).await,
        "NOT_FOUND",
        "benefitId",
    );
    for field in ["PAUSE", "END", "RETIRE", "SUBMIT"] {
        refused(
            step(&app, &other, field, &benefit).await,
            "NOT_FOUND",
            "benefitId",
        );
    }
    // The owner's analyst reads it; the reviewer sees every brand's.
    let analyst = app.token(Role::BrandAnalyst, Some(1)).await;
    let read = app
        .data(
            &analyst,
            "query($id: ID!) { benefit(id: $id) { state brand { id } } }",
            json!({ "id": benefit["id"] }),
        )
        .await;
    assert_eq!(
        read["benefit"],
        json!({ "state": "ACTIVE", "brand": { "id": "1" } })
    );
    let read = app
        .data(
            &reviewer,
            "query($id: ID!) { benefit(id: $id) { state } }",
            json!({ "id": benefit["id"] }),
        )
        .await;
    assert_eq!(read["benefit"]["state"], "ACTIVE");
    let (_, body) = app
        .graphql(
            &analyst,
            "mutation($i: BenefitInput!) { createBenefit(input: $i) { userErrors { code } } }",
            json!({ "i": input(json!({ "freeReturnShipping": true })) }),
        )
        .await;
    assert_eq!(error_codes(&body), ["FORBIDDEN"]);
    app.stop().await;
}

const CALENDAR: &str = "query($f: Date!, $d: Int!, $s: [BenefitState!]) {
  benefitCalendar(from: $f, days: $d, states: $s) { benefit { id state } occasion startsAt endsAt days } }";

pub(crate) async fn the_calendar_marks_each_window_on_its_days(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let op = app.token(Role::BrandOperator, Some(1)).await;
    let reviewer = app.token(Role::Reviewer, None).await;
    let running = live(
        &app,
        &op,
        &reviewer,
        input(json!({ "percentOff": { "percent": 5 } })),
    )
    .await;
    let mut later = input(json!({ "percentOff": { "percent": 8 } }));
    later["schedule"] = json!({ "startsAt": local(2), "endsAt": local(4) });
    let later = landed(create(&app, &op, later).await);
    let early = landed(
        create(
            &app,
            &op,
            input(json!({ "earlyAccess": { "hoursEarly": 24, "skus": ["SKU-1"], "publicAt": local(3) } })),
        )
        .await,
    );
    let tasting = landed(
        create(
            &app,
            &op,
            input(json!({ "offlineExperience": { "title": "Tasting", "locations": ["Shanghai IFC"], "slotStart": local(5), "slotEnd": local(6), "capacity": 40 } })),
        )
        .await,
    );
    let today = Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let on = |offsets: std::ops::RangeInclusive<u64>| -> Vec<String> {
        offsets
            .map(|d| (today + chrono::Days::new(d)).to_string())
            .collect()
    };
    let calendar = |states: Value| {
        let app = &app;
        let op = &op;
        async move {
            app.data(
                op,
                CALENDAR,
                json!({ "f": today.to_string(), "d": 7, "s": states }),
            )
            .await["benefitCalendar"]
                .as_array()
                .expect("entries")
                .iter()
                .map(|e| {
                    (
                        e["benefit"]["id"].as_str().unwrap_or_default().to_owned(),
                        e["occasion"].as_str().unwrap_or_default().to_owned(),
                        serde_json::from_value::<Vec<String>>(e["days"].clone()).expect("days"),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let id = |b: &Value| b["id"].as_str().expect("id").to_owned();
    let runs = |b: &Value, days| (id(b), "RUNS".to_owned(), days);
    // Every window on the Shanghai days it touches, drafts included.
    assert_eq!(
        calendar(Value::Null).await,
        [
            runs(&running, on(0..=6)),
            runs(&later, on(2..=4)),
            (id(&early), "EARLY_ACCESS".to_owned(), on(2..=3)),
            runs(&tasting, on(0..=6)),
            (id(&tasting), "EXPERIENCE".to_owned(), on(5..=6)),
        ]
    );
    assert_eq!(
        calendar(json!(["ACTIVE"])).await,
        [runs(&running, on(0..=6))]
    );
    // Another brand's calendar holds none of them; ranges are bounded.
    let other = app.token(Role::BrandOperator, Some(2)).await;
    let theirs = app
        .data(&other, CALENDAR, json!({ "f": today.to_string(), "d": 7 }))
        .await;
    assert_eq!(theirs["benefitCalendar"], json!([]));
    for days in [0, 93] {
        let (_, body) = app
            .graphql(&op, CALENDAR, json!({ "f": today.to_string(), "d": days }))
            .await;
        assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{body}");
    }
    let (_, body) = app
        .graphql(
            &reviewer,
            CALENDAR,
            json!({ "f": today.to_string(), "d": 7 }),
        )
        .await;
    assert_eq!(error_codes(&body), ["FORBIDDEN"], "{body}");
    app.stop().await;
}

/// Moves a benefit's live schedule (standing in for time passing).
async fn move_schedule(app: &TestApp, benefit: &Value, field: &str, to: chrono::DateTime<Utc>) {
    use entity::benefit_revision;
    use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, sea_query::Expr};
    let id: i64 = benefit["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("numeric");
    let number = benefit["liveRevision"].as_i64().expect("a live revision");
    let row = benefit_revision::Entity::find()
        .filter(benefit_revision::Column::BenefitId.eq(id))
        .filter(benefit_revision::Column::Number.eq(number))
        .one(&app.db.db)
        .await
        .expect("query")
        .expect("revision");
    let mut definition: Value = serde_json::from_str(&row.definition).expect("json");
    definition["schedule"][field] = json!(to.to_rfc3339());
    benefit_revision::Entity::update_many()
        .col_expr(
            benefit_revision::Column::Definition,
            Expr::value(definition.to_string()),
        )
        .filter(benefit_revision::Column::Id.eq(row.id))
        .exec(&app.db.db)
        .await
        .expect("update");
}

/// Moves a benefit's clock-driven columns (standing in for time passing).
pub(crate) async fn backdate(app: &TestApp, benefit: &Value, column: &str, days: i64) {
    use entity::benefit;
    use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, sea_query::Expr};
    let id: i64 = benefit["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("numeric");
    let column = match column {
        "activated_at" => benefit::Column::ActivatedAt,
        "flagged_at" => benefit::Column::FlaggedAt,
        _ => benefit::Column::PolicyPausedAt,
    };
    benefit::Entity::update_many()
        .col_expr(column, Expr::value(Utc::now() - Duration::days(days)))
        .filter(benefit::Column::Id.eq(id))
        .exec(&app.db.db)
        .await
        .expect("backdate");
}

pub(crate) async fn read(app: &TestApp, token: &str, benefit: &Value) -> Value {
    app.data(
        token,
        &format!("query($id: ID!) {{ benefit(id: $id) {{ ...B }} }} {FIELDS}"),
        json!({ "id": benefit["id"] }),
    )
    .await["benefit"]
        .clone()
}

/// The action of a benefit's latest event (a `BenefitEventAction` value).
pub(crate) fn last_action(benefit: &Value) -> Value {
    benefit["events"]
        .as_array()
        .and_then(|e| e.last())
        .map_or(Value::Null, |e| e["action"].clone())
}

pub(crate) async fn schedules_and_the_usage_policy_run_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let op = app.token(Role::BrandOperator, Some(1)).await;
    let reviewer = app.token(Role::Reviewer, None).await;
    let checkout = app.token(Role::Service, None).await;

    // Approved for a start in the future, then the start comes.
    let scheduled = live(
        &app,
        &op,
        &reviewer,
        with(
            input(json!({ "percentOff": { "percent": 5 } })),
            &["schedule", "startsAt"],
            json!(local(2)),
        ),
    )
    .await;
    assert_eq!(scheduled["state"], "APPROVED");
    assert_eq!(app.run_due().await.benefits.activated, 0);
    // Its start comes.
    move_schedule(
        &app,
        &scheduled,
        "startsAt",
        Utc::now() - Duration::minutes(1),
    )
    .await;
    let report = app.run_due().await.benefits;
    assert_eq!(report.activated, 1, "{report:?}");
    let activated = read(&app, &op, &scheduled).await;
    assert_eq!(activated["state"], "ACTIVE");
    // Each scheduled step records its own action, as a contract enum value.
    assert_eq!(last_action(&activated), "ACTIVATE");

    // A benefit whose end comes is ENDED by the runner, once.
    let ending = live(
        &app,
        &op,
        &reviewer,
        input(json!({ "percentOff": { "percent": 3 } })),
    )
    .await;
    move_schedule(&app, &ending, "endsAt", Utc::now() - Duration::minutes(1)).await;
    assert_eq!(app.run_due().await.benefits.ended, 1);
    assert_eq!(app.run_due().await.benefits.ended, 0);
    let ended = read(&app, &op, &ending).await;
    assert_eq!(ended["state"], "ENDED");
    assert_eq!(last_action(&ended), "END");
    assert_eq!(
        ended["events"]
            .as_array()
            .and_then(|e| e.last())
            .map(|e| e["actor"].clone()),
        Some(json!("scheduler"))
    );

    // Under-used for 30 days: flagged, paused after 7 days' notice, retired
    // after 7 more unless resumed. The policy runs once per step.
    let idle = live(
        &app,
        &op,
        &reviewer,
        input(json!({ "pointsMultiplier": { "multiplierTenths": 20 } })),
    )
    .await;
    let used = live(
        &app,
        &op,
        &reviewer,
        input(json!({ "freeReturnShipping": true })),
    )
    .await;
    for member in 1..=40 {
        let r = redeem(
            &app,
            &checkout,
            used["id"].as_str().expect("id"),
            member,
            &format!("k{member}"),
            100,
        )
        .await;
        assert_eq!(r["redemption"]["granted"], true, "{r}");
    }
    for benefit in [&idle, &used, &scheduled] {
        backdate(&app, benefit, "activated_at", 31).await;
    }
    let report = app.run_due().await.benefits;
    assert_eq!(
        report.flagged, 2,
        "the idle one and the scheduled one: {report:?}"
    );
    assert_eq!(
        app.run_due().await.benefits,
        Default::default(),
        "a second run does nothing"
    );
    let flagged = read(&app, &op, &idle).await;
    let notice = flagged["events"]
        .as_array()
        .and_then(|e| e.last())
        .cloned()
        .expect("event");
    assert_eq!(notice["action"], "FLAG");
    assert!(
        notice["note"]
            .as_str()
            .expect("note")
            .contains("will be paused on"),
        "{notice}"
    );
    assert_eq!(read(&app, &op, &used).await["state"], "ACTIVE");

    for benefit in [&idle, &scheduled] {
        backdate(&app, benefit, "flagged_at", 8).await;
    }
    assert_eq!(app.run_due().await.benefits.paused, 2);
    let paused = read(&app, &op, &idle).await;
    assert_eq!(paused["state"], "PAUSED");
    assert_eq!(last_action(&paused), "PAUSE");
    // The brand appeals one by resuming it: a new grace period.
    let appealed = landed(step(&app, &op, "RESUME", &read(&app, &op, &scheduled).await).await);
    assert_eq!(appealed["state"], "ACTIVE");
    for benefit in [&idle, &scheduled] {
        backdate(&app, benefit, "policy_paused_at", 8).await;
    }
    let report = app.run_due().await.benefits;
    assert_eq!((report.retired, report.flagged), (1, 0), "{report:?}");
    let retired = read(&app, &op, &idle).await;
    assert_eq!(retired["state"], "RETIRED");
    assert_eq!(last_action(&retired), "RETIRE");
    assert_eq!(
        read(&app, &op, &scheduled).await["state"],
        "ACTIVE",
        "in its grace period"
    );
    app.stop().await;
}

pub(crate) const REACH: &str = r#"
query($id: ID!) { benefitReachPreview(benefitId: $id) {
  shownMembers cells { key { dimension value } suppressed members }
  privacy { epsilonSpent suppressedCells budget { dailySpent } }
} }"#;

pub(crate) async fn reach_usage_and_the_member_centre(backend: Backend) {
    // The checkout redeems for 200 members below: past the default burst.
    let flags = [
        crate::helpers::GENEROUS_BUDGET,
        &["--rate-limit-burst", "1000"],
    ]
    .concat();
    let app = TestApp::spawn_with(backend, &flags).await;
    let op = app.token(Role::BrandOperator, Some(1)).await;
    let other = app.token(Role::BrandOperator, Some(2)).await;
    let reviewer = app.token(Role::Reviewer, None).await;
    let checkout = app.token(Role::Service, None).await;
    let mut everyone = input(json!({ "percentOff": { "percent": 5 } }));
    everyone["stacking"]["combinesWith"] = json!(["FIXED_COUPON"]);
    let everyone = live(&app, &op, &reviewer, everyone).await;
    let mut paid =
        input(json!({ "fixedCoupon": { "amountCents": 2000, "thresholdCents": 19900 } }));
    paid["targeting"] = json!({ "paidMember": true });
    paid["stacking"]["combinesWith"] = json!(["PERCENT_OFF"]);
    let paid = live(&app, &op, &reviewer, paid).await;

    // Reach goes through the privacy engine: cells by tier × paid, noisy,
    // small ones suppressed; over the platform's members it is a slice of
    // the epoch's platform release, so it costs the brand nothing.
    let first =
        app.data(&op, REACH, json!({ "id": paid["id"] })).await["benefitReachPreview"].clone();
    assert_eq!(first["privacy"]["epsilonSpent"], 0.0, "{first}");
    let cells = first["cells"].as_array().expect("cells");
    assert!(
        cells.iter().all(|c| c["key"][1]["value"] == "YES"),
        "paid members only: {first}"
    );
    assert!(
        cells
            .iter()
            .any(|c| c["suppressed"] == true && c["members"].is_null()),
        "{first}"
    );
    let again =
        app.data(&op, REACH, json!({ "id": paid["id"] })).await["benefitReachPreview"].clone();
    assert_eq!(again["privacy"]["epsilonSpent"], 0.0);
    assert_eq!(again["cells"], first["cells"]);
    let (_, body) = app
        .graphql(&other, REACH, json!({ "id": paid["id"] }))
        .await;
    assert_eq!(error_codes(&body), ["NOT_FOUND"]);
    let (_, body) = app
        .graphql(&reviewer, REACH, json!({ "id": paid["id"] }))
        .await;
    assert_eq!(error_codes(&body), ["FORBIDDEN"]);

    // Usage: of the eligible members who bought from the store in the
    // policy's period, the share granted it; both counts noisy, released
    // once (Δ 2, scale 20 at ε 0.1), the same answer when asked again.
    for member in 1..=200 {
        redeem(
            &app,
            &checkout,
            everyone["id"].as_str().expect("id"),
            member,
            &format!("u{member}"),
            1000,
        )
        .await;
    }
    const USAGE: &str = "query($id: ID!) { benefitUsage(benefitId: $id) {
      redemptions uniqueRedeemers spentCents measure eligibleBuyers buyersGranted usageRate
      policyMinUsageRate policyVersion periodDays release { epsilonSpent noiseScale } } }";
    let usage = app.data(&op, USAGE, json!({ "id": everyone["id"] })).await["benefitUsage"].clone();
    assert_eq!(
        (
            usage["redemptions"].as_i64(),
            usage["uniqueRedeemers"].as_i64(),
            usage["spentCents"].as_i64(),
            usage["measure"].as_str(),
            usage["policyVersion"].as_i64(),
            usage["periodDays"].as_i64(),
            usage["policyMinUsageRate"].as_f64(),
        ),
        (
            Some(200),
            Some(200),
            Some(200 * 50),
            Some("BUYER_USE"),
            Some(0),
            Some(30),
            Some(0.02)
        )
    );
    assert_eq!(
        usage["release"],
        json!({ "epsilonSpent": 0.1, "noiseScale": 20.0 })
    );
    let buyers = usage["eligibleBuyers"].as_i64().expect("shown");
    let granted = usage["buyersGranted"].as_i64().expect("shown");
    // 200 of each, noise scale 20: outside ±190 about once in 6,000 runs.
    assert!(
        (buyers - 200).abs() < 190 && (granted - 200).abs() < 190 && granted <= buyers,
        "{usage}"
    );
    assert!(
        (usage["usageRate"].as_f64().expect("rate") - granted as f64 / buyers as f64).abs() < 1e-9
    );
    let again = app.data(&op, USAGE, json!({ "id": everyone["id"] })).await["benefitUsage"].clone();
    assert_eq!(again["release"]["epsilonSpent"], 0.0);
    assert_eq!(
        (&again["eligibleBuyers"], &again["buyersGranted"]),
        (&usage["eligibleBuyers"], &usage["buyersGranted"])
    );

    // The member centre: per tier, ordered, validated; the preview shows
    // what each cell gets.
    let set = |tier: &str, ids: Vec<Value>| {
        let app = &app;
        let op = op.clone();
        let tier = tier.to_owned();
        async move {
            app.data(
                &op,
                "mutation($t: GrowthTier!, $ids: [ID!]!) { setMemberCentre(tier: $t, benefitIds: $ids) { tiers { tier benefitIds } userErrors { field code message } } }",
                json!({ "t": tier, "ids": ids }),
            )
            .await["setMemberCentre"]
                .clone()
        }
    };
    let refused_paid = set("SILVER", vec![paid["id"].clone()]).await;
    assert_eq!(
        refused_paid["userErrors"][0]["field"],
        json!(["benefitIds"])
    );
    assert!(
        refused_paid["userErrors"][0]["message"]
            .as_str()
            .expect("msg")
            .contains("cannot reach any SILVER member")
    );
    let foreign = live(
        &app,
        &other,
        &reviewer,
        input(json!({ "freeReturnShipping": true })),
    )
    .await;
    assert_eq!(
        set("GOLD", vec![foreign["id"].clone()]).await["userErrors"][0]["code"],
        "BAD_USER_INPUT"
    );
    let ok = set("GOLD", vec![paid["id"].clone(), everyone["id"].clone()]).await;
    assert_eq!(ok["userErrors"], json!([]));
    let gold = ok["tiers"]
        .as_array()
        .expect("tiers")
        .iter()
        .find(|t| t["tier"] == "GOLD")
        .cloned()
        .expect("gold");
    assert_eq!(gold["benefitIds"], json!([paid["id"], everyone["id"]]));
    let preview = app
        .data(&op, "{ memberCentrePreview { tier paidMember blackCard shown { benefitId value } hidden } }", json!({}))
        .await["memberCentrePreview"]
        .clone();
    let cell = |paid_member: bool| {
        preview
            .as_array()
            .expect("cells")
            .iter()
            .find(|c| c["tier"] == "GOLD" && c["paidMember"] == paid_member)
            .cloned()
            .expect("cell")
    };
    assert_eq!(
        cell(true)["shown"],
        json!([{ "benefitId": paid["id"], "value": 2000 }, { "benefitId": everyone["id"], "value": 5 }])
    );
    assert_eq!(
        cell(false)["shown"],
        json!([{ "benefitId": everyone["id"], "value": 5 }])
    );
    assert_eq!(cell(false)["hidden"], json!([paid["id"]]));
    let theirs = app
        .data(&other, "{ memberCentre { tier benefitIds } }", json!({}))
        .await;
    assert!(
        theirs["memberCentre"]
            .as_array()
            .expect("tiers")
            .iter()
            .all(|t| t["benefitIds"] == json!([]))
    );
    app.stop().await;
}

pub(crate) async fn concurrent_edits_have_one_winner(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let op = app.token(Role::BrandOperator, Some(1)).await;
    let draft = landed(create(&app, &op, input(json!({ "percentOff": { "percent": 5 } }))).await);
    let edits = join_all((6..=13).map(|percent| {
        edit(
            &app,
            &op,
            &draft,
            input(json!({ "percentOff": { "percent": percent } })),
        )
    }))
    .await;
    let won: Vec<&Value> = edits
        .iter()
        .filter(|(b, _)| b.is_object())
        .map(|(b, _)| b)
        .collect();
    assert_eq!(won.len(), 1, "{edits:?}");
    assert!(
        edits
            .iter()
            .filter(|(b, _)| b.is_null())
            .all(|(_, e)| e[0].0 == "CONFLICT")
    );
    let after = read(&app, &op, &draft).await;
    assert_eq!(after["currentRevision"], 2);
    assert_eq!(after["definition"]["value"], won[0]["definition"]["value"]);
    app.stop().await;
}

const RENEWAL: &str = r#"
query($id: ID!) { benefitRenewal(benefitId: $id) {
  used { decisions renewed rate } didNotUse { decisions renewed rate }
  epsilonSpent noiseScale interval95 budget { dailySpent }
} }"#;

pub(crate) async fn renewal_rates_leave_only_through_the_privacy_engine(backend: Backend) {
    // ε 5 per table keeps the noise small enough to compare with the truth.
    let app = TestApp::spawn_with(
        backend,
        &[
            "--privacy-epsilon-per-table",
            "5",
            "--privacy-daily-budget",
            "100",
            "--privacy-30-day-budget",
            "1000",
            "--rate-limit-burst",
            "1000",
        ],
    )
    .await;
    let op = app.token(Role::BrandOperator, Some(1)).await;
    let other = app.token(Role::BrandOperator, Some(2)).await;
    let reviewer = app.token(Role::Reviewer, None).await;
    let checkout = app.token(Role::Service, None).await;
    let benefit = live(
        &app,
        &op,
        &reviewer,
        input(json!({ "freeReturnShipping": true })),
    )
    .await;
    let id = benefit["id"].as_str().expect("id").to_owned();
    let paid = scalar(&app.db.db, "SELECT COUNT(*) FROM paid_renewal").await;
    assert_eq!(
        paid,
        scalar(&app.db.db, "SELECT COUNT(*) FROM member WHERE paid_member").await,
        "the seed gives every paid member a decision"
    );
    // The first 55 paid members use it.
    let mut users = Vec::new();
    for member in 1..=2000 {
        if users.len() == 55 {
            break;
        }
        let is_paid = scalar(
            &app.db.db,
            &format!("SELECT COUNT(*) FROM member WHERE id = {member} AND paid_member"),
        )
        .await;
        if is_paid == 1 {
            redeem(&app, &checkout, &id, member, &format!("r{member}"), 100).await;
            users.push(member);
        }
    }
    let list = users
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let used_renewed = scalar(
        &app.db.db,
        &format!("SELECT COUNT(*) FROM paid_renewal WHERE renewed AND member_id IN ({list})"),
    )
    .await;
    let first = app.data(&op, RENEWAL, json!({ "id": id })).await["benefitRenewal"].clone();
    assert_eq!(first["epsilonSpent"], 5.0);
    assert_eq!(first["noiseScale"], 0.4, "Δ 2 / ε 5");
    let decisions = first["used"]["decisions"].as_i64().expect("shown");
    assert!((decisions - 55).abs() <= 5, "{first}");
    let rate = first["used"]["rate"].as_f64().expect("rate");
    assert!(
        (rate - used_renewed as f64 / 55.0).abs() < 0.1,
        "{first} vs {used_renewed}/55"
    );
    // The others are the paid members left: fewer than 50, so suppressed.
    let others = paid - 55;
    assert_eq!(
        first["didNotUse"]["decisions"].is_null(),
        others < 45,
        "{others} others: {first}"
    );
    // Asked again: the same numbers, nothing spent.
    let again = app.data(&op, RENEWAL, json!({ "id": id })).await["benefitRenewal"].clone();
    assert_eq!(again["epsilonSpent"], 0.0);
    assert_eq!(again["used"], first["used"]);
    // Another brand can't ask about it; platform roles don't spend brands' budgets.
    let (_, body) = app.graphql(&other, RENEWAL, json!({ "id": id })).await;
    assert_eq!(error_codes(&body), ["NOT_FOUND"]);
    let (_, body) = app.graphql(&reviewer, RENEWAL, json!({ "id": id })).await;
    assert_eq!(error_codes(&body), ["FORBIDDEN"]);
    app.stop().await;
}

/// Guards (checkout issue): `orderCents: 2000000000000000000` on a 5%-off
/// benefit was granted a negative amount and drove `spentCents` negative.
/// Orders are bounded (¥10,000,000) in eligibility and redemption alike.
pub(crate) async fn order_amounts_are_bounded_and_never_wrap(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let op = app.token(Role::BrandOperator, Some(1)).await;
    let reviewer = app.token(Role::Reviewer, None).await;
    let checkout = app.token_as(Role::Service, None, "checkout").await;
    let mut definition = input(json!({ "percentOff": { "percent": 5 } }));
    definition["budget"] = json!({ "totalMoneyCents": 10_000 });
    let benefit = live(&app, &op, &reviewer, definition).await;
    let id = benefit["id"].as_str().expect("id").to_owned();

    let huge: i64 = 2_000_000_000_000_000_000;
    let refused = redeem(&app, &checkout, &id, 1, "huge", huge).await;
    assert!(refused["redemption"].is_null(), "{refused}");
    assert_eq!(
        refused["userErrors"],
        json!([{ "field": ["input", "orderCents"], "code": "BAD_USER_INPUT" }])
    );
    let (_, body) = app
        .graphql(
            &checkout,
            "query($b: ID!, $o: Int!) { benefitEligibility(benefitId: $b, memberRef: \"1\", orderCents: $o) { amountCents } }",
            json!({ "b": id, "o": huge }),
        )
        .await;
    assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{body}");
    assert_eq!(
        scalar(
            &app.db.db,
            "SELECT CAST(COALESCE(SUM(spent_cents), 0) AS BIGINT) FROM benefit_budget_slot"
        )
        .await,
        0
    );
    assert_eq!(
        scalar(&app.db.db, "SELECT COUNT(*) FROM redemption").await,
        0
    );

    // The largest order is fine: 5% of ¥10,000,000 is over the ¥100
    // budget, so it is refused for money, not granted a wrapped amount.
    let largest = redeem(&app, &checkout, &id, 2, "largest", 1_000_000_000).await;
    assert_eq!(
        largest["redemption"]["outcome"], "MONEY_BUDGET_EXHAUSTED",
        "{largest}"
    );
    let small = redeem(&app, &checkout, &id, 3, "small", 10_001).await;
    // 5% of ¥100.01 rounds down to the fen: ¥5.00.
    assert_eq!(small["redemption"]["amountCents"], 500, "{small}");
    assert_eq!(
        scalar(
            &app.db.db,
            "SELECT CAST(COALESCE(SUM(spent_cents), 0) AS BIGINT) FROM benefit_budget_slot"
        )
        .await,
        500
    );
    app.stop().await;
}

/// Budget slots (scale issue): a benefit's grants are spread over slots,
/// each with a share of what is left. A grant larger than its member's
/// share is still given while the budget as a whole has room (the shares
/// are cut again), and the budget is spent to the last fen, never past it.
pub(crate) async fn a_money_budget_is_spent_to_the_last_fen_across_slots(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let op = app.token(Role::BrandOperator, Some(1)).await;
    let reviewer = app.token(Role::Reviewer, None).await;
    let checkout = app.token_as(Role::Service, None, "checkout").await;
    let mut definition = input(json!({ "percentOff": { "percent": 10 } }));
    definition["budget"] = json!({ "totalMoneyCents": 10_000 });
    let benefit = live(&app, &op, &reviewer, definition).await;
    let id = benefit["id"].as_str().expect("id").to_owned();

    // Members fall in slots by their number mod 8. The first grant cuts
    // the ¥50 left into shares of ¥6.25; a grant that fits its member's
    // share takes it alone and cuts nothing again; grants larger than
    // their shares are still given while the budget has room.
    let shares = "SELECT CAST(SUM(cents_allowed * (slot + 1)) AS BIGINT) FROM benefit_budget_slot";
    let mut cut = 0;
    for (member, order_cents, granted, outcome) in [
        (1, 50_000, true, "GRANTED"),
        (6, 1_000, true, "GRANTED"),
        (2, 40_000, true, "GRANTED"),
        (3, 15_000, false, "MONEY_BUDGET_EXHAUSTED"),
        (4, 9_000, true, "GRANTED"),
        (5, 100, false, "MONEY_BUDGET_EXHAUSTED"),
    ] {
        let got = redeem(
            &app,
            &checkout,
            &id,
            member,
            &format!("o-{member}"),
            order_cents,
        )
        .await;
        assert_eq!(
            got["redemption"]["granted"], granted,
            "member {member}: {got}"
        );
        assert_eq!(
            got["redemption"]["outcome"], outcome,
            "member {member}: {got}"
        );
        let now = scalar(&app.db.db, shares).await;
        if member == 6 {
            assert_eq!(now, cut, "a grant within its share cuts nothing again");
        }
        cut = now;
    }
    let read = app
        .data(
            &op,
            &format!("query($id: ID!) {{ benefit(id: $id) {{ ...B }} }} {FIELDS}"),
            json!({ "id": id }),
        )
        .await;
    assert_eq!(read["benefit"]["spentCents"], 10_000, "{read}");
    assert_eq!(read["benefit"]["redemptions"], 4, "{read}");
    assert_eq!(
        scalar(&app.db.db, "SELECT COUNT(*) FROM benefit_budget_slot").await,
        8,
        "one row per slot"
    );
    app.stop().await;
}
