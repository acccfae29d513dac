//! The standing table (brand status × conduct) through the real server,
//! cell by cell, and suspension: it pauses the brand's live benefits, and
//! re-admission leaves them paused until an operator resumes each one.

use brand_gateway::auth::Role;
use chrono::{Duration, Utc};
use sea_orm::ConnectionTrait as _;
use serde_json::{Value, json};

use crate::{
    benefits::{self, REACH, input, live, local, redeem},
    helpers::{Backend, TestApp, error_codes},
    onboarding,
};

const STATUSES: [&str; 4] = ["PROSPECT", "ACTIVE", "WATCHLIST", "SUSPENDED"];

/// README's table: configure, submit, go live, grant, audience, reach.
fn allowed(status: &str) -> [bool; 6] {
    match status {
        "PROSPECT" => [true, false, false, false, false, false],
        "ACTIVE" | "WATCHLIST" => [true; 6],
        _ => [false; 6],
    }
}

/// Sets a brand's status directly, standing in for the workflow, so each
/// cell is tried on its own (suspension's side effects are the next test's).
pub(crate) async fn set_status(app: &TestApp, brand: i64, status: &str) {
    app.db
        .db
        .execute_unprepared(&format!(
            "UPDATE brand SET status = '{status}' WHERE id = {brand}"
        ))
        .await
        .expect("set status");
}

/// Whether a benefit mutation landed; a refusal must be by standing.
fn outcome(what: &str, (benefit, errors): (Value, Vec<(String, String)>)) -> bool {
    match errors.as_slice() {
        [] => {
            assert!(benefit.is_object(), "{what}: no benefit");
            true
        }
        [(code, _)] => {
            assert_eq!(code, "BRAND_NOT_IN_STANDING", "{what}");
            false
        }
        _ => panic!("{what}: {errors:?}"),
    }
}

/// Whether a query answered; a refusal must be by standing.
fn answered(what: &str, (status, body): (u16, Value)) -> bool {
    let codes = error_codes(&body);
    if codes.is_empty() {
        assert_eq!(status, 200, "{what}: {body}");
        return true;
    }
    assert_eq!(codes, ["BRAND_NOT_IN_STANDING"], "{what}: {body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("the brand is "), "{what}: {message}");
    false
}

pub(crate) async fn every_cell_of_the_standing_table_holds(backend: Backend) {
    let app = onboarding::case(backend).await;
    // Olde (13) was admitted; it has a live 5%-off benefit for everyone.
    let brand = 13;
    let op = app.token(Role::BrandOperator, Some(brand)).await;
    let analyst = app.token(Role::BrandAnalyst, Some(brand)).await;
    let reviewer = app.token(Role::Reviewer, None).await;
    let checkout = app.token_as(Role::Service, None, "checkout").await;
    let five = || input(json!({ "percentOff": { "percent": 5 } }));
    let granted = live(&app, &op, &reviewer, five()).await;
    let granted_id = granted["id"].as_str().expect("id").to_owned();
    // One draft to submit and one pending benefit to approve per status.
    let mut drafts = Vec::new();
    let mut pending = Vec::new();
    for _ in STATUSES {
        drafts.push(benefits::landed(benefits::create(&app, &op, five()).await));
        let draft = benefits::landed(benefits::create(&app, &op, five()).await);
        pending.push(benefits::landed(
            benefits::step(&app, &op, "SUBMIT", &draft).await,
        ));
    }

    for (i, status) in STATUSES.into_iter().enumerate() {
        set_status(&app, brand, status).await;
        let configure = outcome("configure", benefits::create(&app, &op, five()).await);
        let submit = outcome(
            "submit",
            benefits::step(&app, &op, "SUBMIT", &drafts[i]).await,
        );
        let go_live = outcome(
            "go live",
            benefits::review(&app, &reviewer, &pending[i], true, None).await,
        );
        let redemption = redeem(
            &app,
            &checkout,
            &granted_id,
            1,
            &format!("k-{status}"),
            10_000,
        )
        .await["redemption"]
            .clone();
        let grant = redemption["granted"] == true;
        if !grant {
            assert_eq!(redemption["outcome"], "BRAND_NOT_IN_STANDING", "{status}");
        }
        let audience = answered(
            "audience",
            app.ask(
                &analyst,
                json!({ "population": "PLATFORM", "breakdown": ["PAID_MEMBER"] }),
            )
            .await,
        );
        let reach = answered(
            "reach",
            app.graphql(&op, REACH, json!({ "id": granted_id })).await,
        );
        assert_eq!(
            [configure, submit, go_live, grant, audience, reach],
            allowed(status),
            "{status}: configure, submit, go live, grant, audience, reach"
        );
    }
    app.stop().await;
}

pub(crate) async fn suspension_pauses_live_benefits_until_an_operator_resumes(backend: Backend) {
    let app = onboarding::case(backend).await;
    // Lumiere (10) has full data: it is admitted, then fails re-evaluation.
    let brand = 10;
    let op = app.token(Role::BrandOperator, Some(brand)).await;
    let reviewer = app.token_as(Role::Reviewer, None, "alice").await;
    let checkout = app.token_as(Role::Service, None, "checkout").await;
    onboarding::policy(&app, false).await;
    let admit = async |app: &TestApp| {
        let draft = onboarding::landed(onboarding::create(app, &op).await);
        let screened =
            onboarding::landed(onboarding::step(app, &op, "submitApplication", &draft).await);
        let claimed = onboarding::landed(
            onboarding::step(app, &reviewer, "claimApplication", &screened).await,
        );
        onboarding::landed(
            onboarding::decide(app, &reviewer, &claimed, json!({ "decision": "APPROVE" })).await,
        )
    };
    let admitted = admit(&app).await;
    assert_eq!(admitted["brand"]["status"], "ACTIVE");

    let running = live(
        &app,
        &op,
        &reviewer,
        input(json!({ "percentOff": { "percent": 5 } })),
    )
    .await;
    assert_eq!(running["state"], "ACTIVE");
    let mut later = input(json!({ "percentOff": { "percent": 8 } }));
    later["schedule"] = json!({ "startsAt": local(3), "endsAt": local(30) });
    let scheduled = live(&app, &op, &reviewer, later).await;
    assert_eq!(scheduled["state"], "APPROVED");
    let id = running["id"].as_str().expect("id").to_owned();
    let first = redeem(&app, &checkout, &id, 1, "before", 10_000).await;
    assert_eq!(first["redemption"]["granted"], true);

    // Failing at the watchlist deadline: suspended by the due runner.
    onboarding::policy(&app, true).await;
    let watched = onboarding::landed(
        onboarding::step(&app, &reviewer, "reevaluateApplication", &admitted).await,
    );
    assert_eq!(watched["state"], "WATCHLIST");
    onboarding::set_due(&app, &watched, Utc::now() - Duration::minutes(1)).await;
    assert_eq!(app.run_due().await.onboarding.suspended, 1);
    for benefit in [&running, &scheduled] {
        let paused = benefits::read(&app, &op, benefit).await;
        assert_eq!(paused["state"], "PAUSED", "{paused}");
        let event = paused["events"].as_array().and_then(|e| e.last()).cloned();
        let event = event.expect("an event");
        assert_eq!(event["action"], "PAUSE");
        assert_eq!(event["actor"], "scheduler");
        assert!(
            event["note"]
                .as_str()
                .is_some_and(|n| n.contains("SUSPENDED")),
            "{event}"
        );
    }
    let refused = redeem(&app, &checkout, &id, 2, "while-suspended", 10_000).await;
    assert_eq!(refused["redemption"]["granted"], false);
    let paused = benefits::read(&app, &op, &running).await;
    benefits::refused(
        benefits::step(&app, &op, "RESUME", &paused).await,
        "BRAND_NOT_IN_STANDING",
        "brandId",
    );
    // A later run does not bring the scheduled one live either.
    assert_eq!(app.run_due().await.benefits.activated, 0);

    // Re-admitted: the benefits stay paused until the operator resumes each.
    onboarding::policy(&app, false).await;
    let readmitted = admit(&app).await;
    assert_eq!(readmitted["brand"]["status"], "ACTIVE");
    app.run_due().await;
    let still = benefits::read(&app, &op, &running).await;
    assert_eq!(still["state"], "PAUSED");
    let resumed = benefits::landed(benefits::step(&app, &op, "RESUME", &still).await);
    assert_eq!(resumed["state"], "ACTIVE");
    let waiting = benefits::read(&app, &op, &scheduled).await;
    let waiting = benefits::landed(benefits::step(&app, &op, "RESUME", &waiting).await);
    assert_eq!(
        waiting["state"], "APPROVED",
        "resumes to wait for its start"
    );
    let after = redeem(&app, &checkout, &id, 2, "after", 10_000).await;
    assert_eq!(after["redemption"]["granted"], true);
    app.stop().await;
}
