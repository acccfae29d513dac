//! The usage policy measures use by kind: a capacity-bound event by the
//! places it filled, never a sold-out benefit; its flag survives a pause
//! and a resume, and the brand sees why and when.

use brand_gateway::auth::Role;
use serde_json::{Value, json};

use crate::{
    benefits::{self, backdate, input, live, local, read, redeem},
    helpers::{Backend, GENEROUS_BUDGET, TestApp},
};

const USAGE: &str = "query($id: ID!) { benefitUsage(benefitId: $id) {
  redemptions usageRate policyMinUsageRate measure soldOut flaggedAt pausesAt policyPausedAt retiresAt graceUntil } }";

fn event(capacity: i64) -> Value {
    let mut event = input(json!({ "offlineExperience": {
        "title": "Private preview", "locations": ["Shanghai IFC"],
        "slotStart": local(5), "slotEnd": local(6), "capacity": capacity } }));
    event["stacking"] =
        json!({ "mode": "COMBINABLE", "combinesWith": ["OFFLINE_EXPERIENCE"], "priority": 1 });
    event
}

pub(crate) async fn usage_is_measured_by_kind_and_spares_sold_out_benefits(backend: Backend) {
    let app = TestApp::spawn_with(backend, GENEROUS_BUDGET).await;
    let op = app.token(Role::BrandOperator, Some(1)).await;
    let reviewer = app.token(Role::Reviewer, None).await;
    let checkout = app.token(Role::Service, None).await;
    let full = live(&app, &op, &reviewer, event(5)).await;
    let empty = live(&app, &op, &reviewer, event(100)).await;
    let mut scarce =
        input(json!({ "fixedCoupon": { "amountCents": 500, "thresholdCents": 1000 } }));
    scarce["budget"] = json!({ "totalRedemptions": 2 });
    let scarce = live(&app, &op, &reviewer, scarce).await;
    let id = |b: &Value| b["id"].as_str().expect("id").to_owned();
    for member in 1..=5 {
        let r = redeem(
            &app,
            &checkout,
            &id(&full),
            member,
            &format!("f{member}"),
            100,
        )
        .await;
        assert_eq!(r["redemption"]["granted"], true, "{r}");
    }
    for member in 1..=3 {
        redeem(
            &app,
            &checkout,
            &id(&empty),
            member,
            &format!("e{member}"),
            100,
        )
        .await;
    }
    for member in 1..=2 {
        let r = redeem(
            &app,
            &checkout,
            &id(&scarce),
            member,
            &format!("s{member}"),
            5000,
        )
        .await;
        assert_eq!(r["redemption"]["granted"], true, "{r}");
    }
    for benefit in [&full, &empty, &scarce] {
        backdate(&app, benefit, "activated_at", 31).await;
    }
    let report = app.run_due().await.benefits;
    assert_eq!(report.flagged, 1, "only the 3%-filled event: {report:?}");
    let usage = |b: Value| {
        let (app, op) = (&app, &op);
        async move { app.data(op, USAGE, json!({ "id": b["id"] })).await["benefitUsage"].clone() }
    };
    let sold = usage(full.clone()).await;
    assert_eq!(
        (
            sold["measure"].as_str(),
            sold["usageRate"].as_f64(),
            sold["soldOut"].as_bool()
        ),
        (Some("FILL_RATE"), Some(1.0), Some(true))
    );
    assert!(sold["flaggedAt"].is_null());
    let coupon = usage(scarce.clone()).await;
    assert_eq!(coupon["measure"], "BUYER_USE");
    assert_eq!(coupon["soldOut"], true);
    assert!(coupon["flaggedAt"].is_null(), "sold out: never flagged");
    let flagged = usage(empty.clone()).await;
    assert_eq!(flagged["usageRate"], 0.03);
    assert_eq!(flagged["policyMinUsageRate"], 0.2);
    let at: chrono::DateTime<chrono::Utc> = flagged["flaggedAt"]
        .as_str()
        .expect("flagged")
        .parse()
        .expect("time");
    let pauses: chrono::DateTime<chrono::Utc> = flagged["pausesAt"]
        .as_str()
        .expect("pauses")
        .parse()
        .expect("time");
    assert_eq!(pauses - at, chrono::Duration::days(7));
    let note = read(&app, &op, &empty).await["events"]
        .as_array()
        .and_then(|e| e.last())
        .map(|e| e["note"].as_str().unwrap_or_default().to_owned())
        .expect("event");
    assert!(
        note.contains("3.0% of its places taken, under the 20.0% minimum of usage policy v0"),
        "{note}"
    );

    // Paused after the notice; the brand appeals by resuming it: the flag
    // stays, with a new grace period.
    backdate(&app, &empty, "flagged_at", 8).await;
    assert_eq!(app.run_due().await.benefits.paused, 1);
    let paused = usage(empty.clone()).await;
    assert!(
        paused["policyPausedAt"].is_string() && paused["retiresAt"].is_string(),
        "{paused}"
    );
    let resumed =
        benefits::landed(benefits::step(&app, &op, "RESUME", &read(&app, &op, &empty).await).await);
    assert_eq!(resumed["state"], "ACTIVE");
    let after = usage(empty.clone()).await;
    assert!(after["flaggedAt"].is_string(), "the flag survives: {after}");
    assert_eq!(after["flaggedAt"], paused["flaggedAt"]);
    assert!(after["policyPausedAt"].is_null());
    let grace: chrono::DateTime<chrono::Utc> = after["graceUntil"]
        .as_str()
        .expect("grace")
        .parse()
        .expect("time");
    assert!(grace > chrono::Utc::now() + chrono::Duration::days(29));
    assert_eq!(
        app.run_due().await.benefits,
        Default::default(),
        "in its grace"
    );
    app.stop().await;
}

const POLICY: &str = "mutation($i: SetUsagePolicyInput!) { setUsagePolicy(input: $i) {
  policy { version minFillRate minBuyerUse periodDays graceDays noticeDays createdBy } userErrors { field code } } }";

fn thresholds(expected: i64, min_buyer_use: f64) -> Value {
    json!({ "i": { "expectedVersion": expected, "minFillRate": 0.2, "minBuyerUse": min_buyer_use,
                   "periodDays": 30, "graceDays": 30, "noticeDays": 3 } })
}

pub(crate) async fn the_usage_policy_is_versioned_and_judges_use_among_buyers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let op = app.token(Role::BrandOperator, Some(1)).await;
    let reviewer = app.token(Role::Reviewer, None).await;
    let checkout = app.token(Role::Service, None).await;
    let admin = app.token(Role::Admin, None).await;

    // Version 0 is the built-in default; only ADMIN appends a version,
    // based on the one it read.
    let read_policy =
        "{ usagePolicy { version minBuyerUse periodDays graceDays noticeDays createdBy } }";
    assert_eq!(
        app.data(&op, read_policy, json!({})).await["usagePolicy"],
        json!({ "version": 0, "minBuyerUse": 0.02, "periodDays": 30, "graceDays": 30, "noticeDays": 7, "createdBy": "default" })
    );
    let (_, body) = app.graphql(&reviewer, POLICY, thresholds(0, 0.5)).await;
    assert_eq!(crate::helpers::error_codes(&body), ["FORBIDDEN"]);
    for (input, field, code) in [
        (thresholds(0, 1.5), "minBuyerUse", "BAD_USER_INPUT"),
        (thresholds(1, 0.5), "expectedVersion", "CONFLICT"),
    ] {
        let refused = app.data(&admin, POLICY, input).await["setUsagePolicy"].clone();
        assert_eq!(
            refused["userErrors"],
            json!([{ "field": ["input", field], "code": code }])
        );
    }
    let set = app.data(&admin, POLICY, thresholds(0, 0.5)).await["setUsagePolicy"].clone();
    assert_eq!(set["policy"]["version"], 1, "{set}");
    assert_eq!(
        app.data(&op, read_policy, json!({})).await["usagePolicy"]["version"],
        1
    );

    // Ten members bought from the store: all used the percentage, four
    // the points. Under version 1 (half of the buyers) the points are
    // flagged, with version 1's three days' notice.
    let percent = live(
        &app,
        &op,
        &reviewer,
        input(json!({ "percentOff": { "percent": 5 } })),
    )
    .await;
    let points = live(
        &app,
        &op,
        &reviewer,
        input(json!({ "pointsMultiplier": { "multiplierTenths": 20 } })),
    )
    .await;
    // A welcome perk, once per member: the ten used it 40 days ago, so
    // none of them can use it in the period and it is not judged on them.
    let mut welcome = input(json!({ "freeReturnShipping": true }));
    welcome["budget"] = json!({ "perMember": 1 });
    let welcome = live(&app, &op, &reviewer, welcome).await;
    let id = |b: &Value| b["id"].as_str().expect("id").to_owned();
    for member in 1..=10 {
        let r = redeem(
            &app,
            &checkout,
            &id(&welcome),
            member,
            &format!("w{member}"),
            1000,
        )
        .await;
        assert_eq!(r["redemption"]["granted"], true, "{r}");
    }
    {
        use entity::redemption;
        use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, sea_query::Expr};
        let welcome_id: i64 = id(&welcome).parse().expect("numeric");
        redemption::Entity::update_many()
            .col_expr(
                redemption::Column::CreatedAt,
                Expr::value(chrono::Utc::now() - chrono::Duration::days(40)),
            )
            .filter(redemption::Column::BenefitId.eq(welcome_id))
            .exec(&app.db.db)
            .await
            .expect("backdate");
    }
    for member in 1..=10 {
        let r = redeem(
            &app,
            &checkout,
            &id(&percent),
            member,
            &format!("p{member}"),
            1000,
        )
        .await;
        assert_eq!(r["redemption"]["granted"], true, "{r}");
        if member <= 4 {
            let r = redeem(
                &app,
                &checkout,
                &id(&points),
                member,
                &format!("x{member}"),
                1000,
            )
            .await;
            assert_eq!(r["redemption"]["granted"], true, "{r}");
        }
    }
    for benefit in [&percent, &points, &welcome] {
        backdate(&app, benefit, "activated_at", 31).await;
    }
    let report = app.run_due().await.benefits;
    assert_eq!(report.flagged, 1, "{report:?}");
    let flagged = read(&app, &op, &points).await;
    let note = flagged["events"]
        .as_array()
        .and_then(|e| e.last())
        .map(|e| e["note"].as_str().unwrap_or_default().to_owned())
        .expect("event");
    assert!(
        note.contains("used by fewer than 50.0% of the eligible members who bought from the store in the last 30 days (the minimum of usage policy v1)"),
        "{note}"
    );
    let usage = app.data(&op, USAGE, json!({ "id": points["id"] })).await["benefitUsage"].clone();
    let at = |field: &str| -> chrono::DateTime<chrono::Utc> {
        usage[field].as_str().expect(field).parse().expect("time")
    };
    assert_eq!(at("pausesAt") - at("flaggedAt"), chrono::Duration::days(3));
    assert_eq!(usage["policyMinUsageRate"], 0.5);
    let kept = app.data(&op, USAGE, json!({ "id": percent["id"] })).await["benefitUsage"].clone();
    assert!(kept["flaggedAt"].is_null(), "{kept}");
    assert_eq!(kept["measure"], "BUYER_USE");
    app.stop().await;
}
