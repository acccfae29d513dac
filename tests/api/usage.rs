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
    assert_eq!(coupon["measure"], "ELIGIBLE_USE");
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
        note.contains("3.0% of its places taken, under the 20% minimum"),
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
