//! The onboarding workflow through the real server: every transition, the
//! refusals, concurrent decisions, the due runner (`brand-gateway run-due`),
//! the reviewer queue and cross-brand access. The data set is imported and
//! dated relative to today, so screening always sees it inside its windows.

use brand_gateway::{auth::Role, import};
use chrono::{Datelike as _, Duration, Utc};
use entity::application;
use futures_util::future::join_all;
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, sea_query::Expr};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestDb, error_codes, scalar, write};

const FIELDS: &str = r#"
fragment A on Application {
  id state version dueAt dueKind claimedBy decidedBy appealed submittedAt claimable decisions
  brandSteps open
  brand { id status }
  latestEvaluation { id passed }
  events { action fromState toState reasonCodes note overrideNote actor evaluationId dueAt }
}"#;

/// Lumiere (10) and Rosa (11) have full data in BEAUTY; Pawly (12) is alone
/// in PETS with nothing; Olde (13) was admitted before (ACTIVE).
pub(crate) async fn case(backend: Backend) -> TestApp {
    case_with(backend, &[]).await
}

/// As [`case`], with server flags.
pub(crate) async fn case_with(backend: Backend, flags: &[&str]) -> TestApp {
    let dir = tempfile::tempdir().expect("dir");
    let today = brand_gateway::platform::business_today();
    let month = today.with_day(1).expect("first of month");
    let week = today - Duration::days(7);
    let yesterday = today - Duration::days(1);
    write(
        dir.path(),
        "categories.csv",
        "id,code,name\n1,BEAUTY,Beauty\n2,PETS,Pets\n",
    );
    write(
        dir.path(),
        "brands.csv",
        "id,name,category_code,status\n10,Lumiere,BEAUTY,PROSPECT\n11,Rosa,BEAUTY,PROSPECT\n\
         12,Pawly,PETS,PROSPECT\n13,Olde,BEAUTY,ACTIVE\n",
    );
    write(
        dir.path(),
        "members.csv",
        "id,points,paid_member,black_card,birth_year,gender,city_tier,annual_spend_cents\n\
         1,100,false,false,1990,F,TIER1,100\n2,1500,true,false,1990,F,TIER1,100\n3,2600,true,true,1985,M,TIER2,100\n",
    );
    write(
        dir.path(),
        "store_memberships.csv",
        "brand_id,member_id,joined_on\n10,1,2026-01-01\n10,2,2026-01-01\n10,3,2026-01-01\n11,1,2026-02-01\n11,2,2026-02-01\n",
    );
    write(
        dir.path(),
        "category_sales.csv",
        &format!(
            "brand_id,month,gmv_cents,refund_cents,orders\n10,{month},1000,100,3\n11,{month},500,0,1\n"
        ),
    );
    write(
        dir.path(),
        "social_mentions.csv",
        &format!("brand_id,period_start,voluntary,paid\n10,{week},300,100\n11,{week},100,0\n"),
    );
    write(
        dir.path(),
        "sku_prices.csv",
        &format!(
            "brand_id,sku,day,price_cents,units\n10,A,{yesterday},100,1\n11,C,{yesterday},990,3\n"
        ),
    );
    let db = TestDb::new(backend).await;
    import::run(&db.db, &crate::helpers::blobs(), dir.path(), false)
        .await
        .expect("import");
    TestApp::start(db, flags).await
}

/// Calls one application mutation; returns the application (or null) and
/// the user errors as `(code, field)`.
async fn call(
    app: &TestApp,
    token: &str,
    field: &str,
    params: &str,
    args: &str,
    variables: Value,
) -> (Value, Vec<(String, String)>) {
    let query = format!(
        "mutation({params}) {{ r: {field}({args}) {{ application {{ ...A }} userErrors {{ field message code }} }} }} {FIELDS}"
    );
    let data = app.data(token, &query, variables).await;
    let errors = data["r"]["userErrors"]
        .as_array()
        .expect("userErrors")
        .iter()
        .map(|e| {
            (
                e["code"].as_str().unwrap_or_default().to_owned(),
                e["field"]
                    .as_array()
                    .and_then(|f| f.last())
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    (data["r"]["application"].clone(), errors)
}

fn version(application: &Value) -> i64 {
    application["version"].as_i64().expect("version")
}

fn id(application: &Value) -> String {
    application["id"].as_str().expect("id").to_owned()
}

pub(crate) async fn create(app: &TestApp, token: &str) -> (Value, Vec<(String, String)>) {
    call(
        app,
        token,
        "createApplication",
        "$s: String!",
        "statement: $s",
        json!({ "s": "We sell skin care." }),
    )
    .await
}

/// submit, claim and reevaluate take just the id and the version.
pub(crate) async fn step(
    app: &TestApp,
    token: &str,
    field: &str,
    application: &Value,
) -> (Value, Vec<(String, String)>) {
    call(
        app,
        token,
        field,
        "$id: ID!, $v: Int!",
        "applicationId: $id, expectedVersion: $v",
        json!({ "id": id(application), "v": version(application) }),
    )
    .await
}

/// respond (answer) and appeal (note) take a text too.
pub(crate) async fn with_text(
    app: &TestApp,
    token: &str,
    field: &str,
    arg: &str,
    application: &Value,
) -> (Value, Vec<(String, String)>) {
    call(
        app,
        token,
        field,
        "$id: ID!, $v: Int!, $t: String!",
        &format!("applicationId: $id, expectedVersion: $v, {arg}: $t"),
        json!({ "id": id(application), "v": version(application), "t": "Our store numbers are attached." }),
    )
    .await
}

pub(crate) async fn decide(
    app: &TestApp,
    token: &str,
    application: &Value,
    decision: Value,
) -> (Value, Vec<(String, String)>) {
    let mut input =
        json!({ "applicationId": id(application), "expectedVersion": version(application) });
    input
        .as_object_mut()
        .expect("object")
        .extend(decision.as_object().expect("object").clone());
    call(
        app,
        token,
        "decideApplication",
        "$i: DecideApplicationInput!",
        "input: $i",
        json!({ "i": input }),
    )
    .await
}

/// Asserts a step landed and returns the application after it.
pub(crate) fn landed((application, errors): (Value, Vec<(String, String)>)) -> Value {
    assert!(errors.is_empty(), "user errors: {errors:?}");
    assert!(application.is_object(), "no application");
    application
}

/// Asserts a step was refused with `code` on `field`.
pub(crate) fn refused(
    (application, errors): (Value, Vec<(String, String)>),
    code: &str,
    field: &str,
) {
    assert!(application.is_null(), "{application}");
    assert_eq!(errors, [(code.to_owned(), field.to_owned())]);
}

pub(crate) fn actions(application: &Value) -> Vec<String> {
    application["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default().to_owned())
        .collect()
}

pub(crate) fn last_event(application: &Value) -> Value {
    application["events"]
        .as_array()
        .and_then(|e| e.last())
        .cloned()
        .expect("an event")
}

/// Sets BEAUTY's thresholds so every brand with data passes (lenient) or
/// none does (strict: 90% market share).
pub(crate) async fn policy(app: &TestApp, strict: bool) {
    policy_with(app, strict, json!({ "reapplyCooldownDays": 90 })).await;
}

/// As [`policy`], with more of the policy's fields (`extra`), e.g. the
/// cool-down after a final refusal or the documents it requires.
pub(crate) async fn policy_with(app: &TestApp, strict: bool, extra: Value) {
    let admin = app.token(Role::Admin, None).await;
    let current = app
        .data(
            &admin,
            r#"{ criteriaPolicy(category: "BEAUTY") { version } }"#,
            json!({}),
        )
        .await["criteriaPolicy"]["version"]
        .as_i64()
        .expect("version");
    let mut input = json!({
        "category": "BEAUTY", "expectedVersion": current,
        "minMarketShare": if strict { 0.9 } else { 0.0 }, "minVoluntaryMentionShare": 0.0,
        "maxPriceVolatility": 10.0, "minSuperMemberRatio": 0.0, "maxDeepDiscountDays": 1.0,
    });
    input
        .as_object_mut()
        .expect("object")
        .extend(extra.as_object().expect("object").clone());
    let data = app
        .data(
            &admin,
            "mutation($i: SetCriteriaPolicyInput!) { setCriteriaPolicy(input: $i) { userErrors { message } } }",
            json!({ "i": input }),
        )
        .await;
    assert_eq!(data["setCriteriaPolicy"]["userErrors"], json!([]));
}

/// Moves an application's deadline (standing in for the passage of time).
pub(crate) async fn set_due(app: &TestApp, application: &Value, due: chrono::DateTime<Utc>) {
    let id: i64 = id(application).parse().expect("numeric id");
    application::Entity::update_many()
        .col_expr(application::Column::DueAt, Expr::value(due))
        .filter(application::Column::Id.eq(id))
        .exec(&app.db.db)
        .await
        .expect("move the deadline");
}

pub(crate) async fn read(app: &TestApp, token: &str, application: &Value) -> Value {
    let query = format!("query($id: ID!) {{ application(id: $id) {{ ...A }} }} {FIELDS}");
    app.data(token, &query, json!({ "id": id(application) }))
        .await["application"]
        .clone()
}

pub(crate) async fn every_legal_transition_records_its_event(backend: Backend) {
    let app = case(backend).await;
    let op = app.token_as(Role::BrandOperator, Some(11), "rosa-op").await;
    let alice = app.token_as(Role::Reviewer, None, "alice").await;
    let bob = app.token_as(Role::Reviewer, None, "bob").await;
    policy(&app, false).await;

    let draft = landed(create(&app, &op).await);
    assert_eq!(draft["state"], "DRAFT");
    assert_eq!(draft["version"], 1);
    assert_eq!(actions(&draft), ["CREATE"]);
    assert_eq!(draft["brand"]["status"], "PROSPECT");
    // The brand's steps, as each state allows them (read as the brand).
    assert_eq!(draft["brandSteps"], json!(["SUBMIT"]));
    assert_eq!(draft["open"], true);

    // Submission screens at once: full data goes to a reviewer.
    let screened = landed(step(&app, &op, "submitApplication", &draft).await);
    assert_eq!(screened["state"], "IN_REVIEW");
    assert_eq!(actions(&screened), ["CREATE", "SUBMIT", "SCREEN"]);
    let events = screened["events"].as_array().expect("events");
    assert_eq!(
        (
            events[1]["fromState"].as_str(),
            events[1]["toState"].as_str()
        ),
        (Some("DRAFT"), Some("SUBMITTED"))
    );
    assert_eq!(
        (
            events[2]["fromState"].as_str(),
            events[2]["toState"].as_str()
        ),
        (Some("SUBMITTED"), Some("IN_REVIEW"))
    );
    assert_eq!(events[1]["actor"], "rosa-op");
    assert_eq!(events[2]["actor"], "screening");
    assert_eq!(
        events[2]["evaluationId"],
        screened["latestEvaluation"]["id"]
    );
    assert_eq!(screened["latestEvaluation"]["passed"], true);
    assert!(screened["submittedAt"].is_string());

    let claimed = landed(step(&app, &alice, "claimApplication", &screened).await);
    assert_eq!(claimed["claimedBy"], "alice");
    assert_eq!(last_event(&claimed)["action"], "CLAIM");

    let asked = landed(
        decide(&app, &alice, &claimed, json!({ "decision": "REQUEST_INFO", "note": "Send store numbers.", "infoDeadlineDays": 7 })).await,
    );
    assert_eq!(asked["state"], "NEEDS_INFO");
    assert_eq!(asked["dueKind"], "INFO_DEADLINE");
    assert!(asked["claimedBy"].is_null());
    let due: chrono::DateTime<Utc> = asked["dueAt"].as_str().expect("due").parse().expect("time");
    assert!(
        due > Utc::now() + Duration::days(7) && due <= Utc::now() + Duration::days(8),
        "{due}"
    );
    assert_eq!(last_event(&asked)["note"], "Send store numbers.");
    assert_eq!(
        read(&app, &op, &asked).await["brandSteps"],
        json!(["RESPOND"])
    );

    let answered = landed(with_text(&app, &op, "respondToInfoRequest", "answer", &asked).await);
    assert_eq!(answered["state"], "IN_REVIEW");
    assert_eq!(
        answered["claimedBy"], "alice",
        "the answer returns to the reviewer who asked"
    );
    assert!(answered["dueAt"].is_null());
    assert!(actions(&answered).ends_with(&["RESPOND".to_owned(), "SCREEN".to_owned()]));

    let claimed = landed(step(&app, &alice, "claimApplication", &answered).await);
    let rejected = landed(
        decide(&app, &alice, &claimed, json!({ "decision": "REJECT", "reasonCodes": ["BRAND_RISK"], "note": "Counterfeit reports." })).await,
    );
    assert_eq!(rejected["state"], "REJECTED");
    assert_eq!(rejected["dueKind"], "APPEAL_WINDOW_END");
    assert_eq!(rejected["decidedBy"], "alice");
    assert_eq!(last_event(&rejected)["reasonCodes"], json!(["BRAND_RISK"]));
    assert_eq!(
        read(&app, &op, &rejected).await["brandSteps"],
        json!(["APPEAL"])
    );
    // Once its window has closed, the appeal is neither offered nor taken.
    let window = rejected["dueAt"]
        .as_str()
        .expect("window")
        .parse()
        .expect("time");
    set_due(&app, &rejected, Utc::now() - Duration::minutes(1)).await;
    assert_eq!(read(&app, &op, &rejected).await["brandSteps"], json!([]));
    refused(
        with_text(&app, &op, "appealApplication", "note", &rejected).await,
        "ILLEGAL_TRANSITION",
        "applicationId",
    );
    set_due(&app, &rejected, window).await;

    let appealed = landed(with_text(&app, &op, "appealApplication", "note", &rejected).await);
    assert_eq!(appealed["state"], "APPEALED");
    assert_eq!(appealed["appealed"], true);
    assert_eq!(appealed["brandSteps"], json!([]), "one appeal");
    // Decided on a fresh evaluation, with the brand's evidence in the note.
    assert_ne!(
        appealed["latestEvaluation"]["id"],
        rejected["latestEvaluation"]["id"]
    );
    assert_eq!(
        last_event(&appealed)["evaluationId"],
        appealed["latestEvaluation"]["id"]
    );
    assert_eq!(
        last_event(&appealed)["note"],
        "Our store numbers are attached."
    );
    // The reviewer who rejected may not take the appeal.
    refused(
        step(&app, &alice, "claimApplication", &appealed).await,
        "ILLEGAL_TRANSITION",
        "applicationId",
    );
    let claimed = landed(step(&app, &bob, "claimApplication", &appealed).await);
    let approved = landed(decide(&app, &bob, &claimed, json!({ "decision": "APPROVE" })).await);
    assert_eq!(approved["state"], "APPROVED");
    assert_eq!(approved["brand"]["status"], "ACTIVE");
    assert_eq!(approved["dueKind"], "REEVALUATION");
    assert_eq!(approved["decidedBy"], "bob");

    // On-demand re-evaluations move an admitted brand both ways.
    policy(&app, true).await;
    let watched = landed(step(&app, &alice, "reevaluateApplication", &approved).await);
    assert_eq!(watched["state"], "WATCHLIST");
    assert_eq!(watched["brand"]["status"], "WATCHLIST");
    assert_eq!(watched["dueKind"], "WATCHLIST_DEADLINE");
    assert_eq!(
        last_event(&watched)["reasonCodes"],
        json!(["MARKET_SHARE_LOW"])
    );
    assert_eq!(watched["latestEvaluation"]["passed"], false);
    policy(&app, false).await;
    let recovered = landed(step(&app, &alice, "reevaluateApplication", &watched).await);
    assert_eq!(recovered["state"], "APPROVED");
    assert_eq!(recovered["brand"]["status"], "ACTIVE");
    policy(&app, true).await;
    let watched = landed(step(&app, &alice, "reevaluateApplication", &recovered).await);
    // Still failing at the watchlist deadline: suspended by the due runner.
    set_due(&app, &watched, Utc::now() - Duration::minutes(1)).await;
    let report = app.run_due().await.onboarding;
    assert_eq!((report.reevaluated, report.suspended), (1, 1), "{report:?}");
    let suspended = read(&app, &op, &watched).await;
    assert_eq!(suspended["state"], "SUSPENDED");
    assert_eq!(suspended["brand"]["status"], "SUSPENDED");
    assert_eq!(last_event(&suspended)["actor"], "scheduler");

    // A suspended brand applies again; this time the appeal is upheld.
    let again = landed(create(&app, &op).await);
    let again = landed(step(&app, &op, "submitApplication", &again).await);
    assert_eq!(
        again["latestEvaluation"]["passed"], false,
        "screening records the failure for the reviewer"
    );
    let again = landed(step(&app, &alice, "claimApplication", &again).await);
    let rejected = landed(
        decide(
            &app,
            &alice,
            &again,
            json!({ "decision": "REJECT", "reasonCodes": ["MARKET_SHARE_LOW"] }),
        )
        .await,
    );
    set_due(&app, &rejected, Utc::now() - Duration::minutes(1)).await;
    refused(
        with_text(&app, &op, "appealApplication", "note", &rejected).await,
        "ILLEGAL_TRANSITION",
        "applicationId",
    );
    set_due(&app, &rejected, Utc::now() + Duration::days(1)).await;
    let appealed = landed(with_text(&app, &op, "appealApplication", "note", &rejected).await);
    let claimed = landed(step(&app, &bob, "claimApplication", &appealed).await);
    refused(
        decide(&app, &bob, &claimed, json!({ "decision": "UPHOLD" })).await,
        "BAD_USER_INPUT",
        "reasonCodes",
    );
    let upheld = landed(
        decide(
            &app,
            &bob,
            &claimed,
            json!({ "decision": "UPHOLD", "reasonCodes": ["MARKET_SHARE_LOW"] }),
        )
        .await,
    );
    assert_eq!(upheld["state"], "UPHELD");
    assert_eq!(upheld["open"], false, "a final refusal frees the slot");
    refused(
        with_text(&app, &op, "appealApplication", "note", &upheld).await,
        "ILLEGAL_TRANSITION",
        "applicationId",
    );

    // Events are append-only: the first application's history is intact.
    let history = read(&app, &op, &draft).await;
    assert_eq!(
        actions(&history),
        [
            "CREATE",
            "SUBMIT",
            "SCREEN",
            "CLAIM",
            "REQUEST_INFO",
            "RESPOND",
            "SCREEN",
            "CLAIM",
            "REJECT",
            "APPEAL",
            "CLAIM",
            "APPROVE",
            "REEVALUATE",
            "REEVALUATE",
            "REEVALUATE",
            "REEVALUATE"
        ]
    );
    app.stop().await;
}

pub(crate) async fn refusals_name_the_rule_and_the_field(backend: Backend) {
    let app = case(backend).await;
    let op = app
        .token_as(Role::BrandOperator, Some(10), "lumiere-op")
        .await;
    let alice = app.token_as(Role::Reviewer, None, "alice").await;
    let bob = app.token_as(Role::Reviewer, None, "bob").await;
    policy(&app, false).await;

    refused(
        call(
            &app,
            &op,
            "createApplication",
            "$s: String!",
            "statement: $s",
            json!({ "s": "  " }),
        )
        .await,
        "BAD_USER_INPUT",
        "statement",
    );
    let draft = landed(create(&app, &op).await);
    refused(create(&app, &op).await, "CONFLICT", "applicationId");
    refused(
        with_text(&app, &op, "appealApplication", "note", &draft).await,
        "ILLEGAL_TRANSITION",
        "applicationId",
    );
    refused(
        with_text(&app, &op, "respondToInfoRequest", "answer", &draft).await,
        "ILLEGAL_TRANSITION",
        "applicationId",
    );
    refused(
        step(&app, &alice, "claimApplication", &draft).await,
        "ILLEGAL_TRANSITION",
        "applicationId",
    );
    refused(
        step(&app, &alice, "reevaluateApplication", &draft).await,
        "ILLEGAL_TRANSITION",
        "applicationId",
    );
    let (_, errors) = call(
        &app,
        &op,
        "submitApplication",
        "$id: ID!",
        "applicationId: $id, expectedVersion: 7",
        json!({ "id": id(&draft) }),
    )
    .await;
    assert_eq!(
        errors,
        [("CONFLICT".to_owned(), "expectedVersion".to_owned())]
    );

    let review = landed(step(&app, &op, "submitApplication", &draft).await);
    refused(
        step(&app, &op, "submitApplication", &review).await,
        "ILLEGAL_TRANSITION",
        "applicationId",
    );
    // The message says where it stands and where the step may start.
    let body = app
        .graphql(
            &op,
            "mutation($id: ID!, $v: Int!) { submitApplication(applicationId: $id, expectedVersion: $v) { userErrors { message } } }",
            json!({ "id": id(&review), "v": version(&review) }),
        )
        .await
        .1;
    assert_eq!(
        body["data"]["submitApplication"]["userErrors"][0]["message"],
        "cannot SUBMIT an application that is IN_REVIEW; allowed from: DRAFT"
    );
    refused(
        decide(&app, &alice, &review, json!({ "decision": "APPROVE" })).await,
        "ILLEGAL_TRANSITION",
        "applicationId",
    );
    refused(
        decide(
            &app,
            &alice,
            &review,
            json!({ "decision": "UPHOLD", "reasonCodes": ["OTHER"] }),
        )
        .await,
        "ILLEGAL_TRANSITION",
        "applicationId",
    );
    // What the application says a reviewer may do is what the steps accept.
    let seen_by_alice = read(&app, &alice, &review).await;
    assert_eq!(
        (&seen_by_alice["claimable"], &seen_by_alice["decisions"]),
        (
            &json!(true),
            &json!([
                "APPROVE",
                "APPROVE_WITH_CONDITIONS",
                "REJECT",
                "REQUEST_INFO"
            ])
        )
    );
    let claimed = landed(step(&app, &alice, "claimApplication", &review).await);
    assert_eq!(claimed["claimable"], true, "its holder may claim it again");
    assert_eq!(read(&app, &bob, &claimed).await["claimable"], false);
    refused(
        step(&app, &bob, "claimApplication", &claimed).await,
        "CONFLICT",
        "applicationId",
    );
    refused(
        decide(&app, &bob, &claimed, json!({ "decision": "APPROVE" })).await,
        "CONFLICT",
        "applicationId",
    );
    // Only the holder releases a claim; an admin may take it back from an
    // absent reviewer; a claim that isn't there can't be released.
    refused(
        step(&app, &bob, "releaseApplication", &claimed).await,
        "CONFLICT",
        "applicationId",
    );
    let released = landed(step(&app, &alice, "releaseApplication", &claimed).await);
    assert!(released["claimedBy"].is_null());
    assert_eq!(last_event(&released)["note"], "released the claim of alice");
    refused(
        step(&app, &alice, "releaseApplication", &released).await,
        "ILLEGAL_TRANSITION",
        "applicationId",
    );
    let admin = app.token_as(Role::Admin, None, "root").await;
    let taken = landed(step(&app, &bob, "claimApplication", &released).await);
    let freed = landed(step(&app, &admin, "releaseApplication", &taken).await);
    assert_eq!(last_event(&freed)["actor"], "root");
    let claimed = landed(step(&app, &alice, "claimApplication", &freed).await);
    for (decision, field) in [
        (json!({ "decision": "REJECT" }), "reasonCodes"),
        (
            json!({ "decision": "APPROVE_WITH_CONDITIONS", "probationDays": 60 }),
            "conditions",
        ),
        (
            json!({ "decision": "APPROVE_WITH_CONDITIONS", "probationDays": 0, "note": "x" }),
            "probationDays",
        ),
        (
            json!({ "decision": "REJECT", "reasonCodes": ["OTHER"], "probationDays": 5 }),
            "probationDays",
        ),
        (
            json!({ "decision": "REQUEST_INFO", "note": "?", "infoDeadlineDays": 91 }),
            "infoDeadlineDays",
        ),
        (json!({ "decision": "REQUEST_INFO", "note": " " }), "note"),
    ] {
        refused(
            decide(&app, &alice, &claimed, decision).await,
            "BAD_USER_INPUT",
            field,
        );
    }
    // Nothing refused left a trace.
    assert_eq!(
        actions(&read(&app, &op, &claimed).await),
        [
            "CREATE", "SUBMIT", "SCREEN", "CLAIM", "RELEASE", "CLAIM", "RELEASE", "CLAIM"
        ]
    );
    // A plain approval from review; a failing re-evaluation then watches it.
    let approved = landed(decide(&app, &alice, &claimed, json!({ "decision": "APPROVE" })).await);
    assert_eq!(approved["state"], "APPROVED");
    assert_eq!(approved["brand"]["status"], "ACTIVE");
    refused(
        step(&app, &alice, "claimApplication", &approved).await,
        "ILLEGAL_TRANSITION",
        "applicationId",
    );
    policy(&app, true).await;
    let watched = landed(step(&app, &alice, "reevaluateApplication", &approved).await);
    assert_eq!(watched["state"], "WATCHLIST");
    // Still failing before the deadline: it stays, the deadline does not move.
    let again = landed(step(&app, &alice, "reevaluateApplication", &watched).await);
    assert_eq!(again["state"], "WATCHLIST");
    assert_eq!(again["dueAt"], watched["dueAt"]);
    app.stop().await;
}

pub(crate) async fn probation_expiry_and_warnings_run_once(backend: Backend) {
    let app = case(backend).await;
    let lumiere = app
        .token_as(Role::BrandOperator, Some(10), "lumiere-op")
        .await;
    let pawly = app
        .token_as(Role::BrandOperator, Some(12), "pawly-op")
        .await;
    let olde = app.token_as(Role::BrandOperator, Some(13), "olde-op").await;
    let alice = app.token_as(Role::Reviewer, None, "alice").await;
    policy(&app, false).await;

    // Olde was ACTIVE in the imported data: its standing was recorded, with
    // its first quarterly re-evaluation 14 days out (1 + 13 mod 90).
    let standing = app
        .data(
            &olde,
            &format!("{{ viewer {{ brand {{ standing {{ ...A }} }} }} }} {FIELDS}"),
            json!({}),
        )
        .await["viewer"]["brand"]["standing"]
        .clone();
    assert_eq!(standing["state"], "APPROVED");
    assert_eq!(actions(&standing), ["IMPORT"]);

    let draft = landed(create(&app, &lumiere).await);
    let review = landed(step(&app, &lumiere, "submitApplication", &draft).await);
    let claimed = landed(step(&app, &alice, "claimApplication", &review).await);
    let probation = landed(
        decide(&app, &alice, &claimed, json!({ "decision": "APPROVE_WITH_CONDITIONS", "probationDays": 60, "note": "No deep discounts." })).await,
    );
    assert_eq!(probation["state"], "APPROVED_WITH_CONDITIONS");
    assert_eq!(probation["dueKind"], "PROBATION_END");
    assert_eq!(probation["brand"]["status"], "ACTIVE");
    // An early pass leaves the probation running.
    let early = landed(step(&app, &alice, "reevaluateApplication", &probation).await);
    assert_eq!(early["state"], "APPROVED_WITH_CONDITIONS");
    assert_eq!(early["dueAt"], probation["dueAt"]);
    // An early failure does not wait for the end of probation.
    let rosa = app.token_as(Role::BrandOperator, Some(11), "rosa-op").await;
    let other = landed(create(&app, &rosa).await);
    let other = landed(step(&app, &rosa, "submitApplication", &other).await);
    let other = landed(step(&app, &alice, "claimApplication", &other).await);
    let other = landed(
        decide(&app, &alice, &other, json!({ "decision": "APPROVE_WITH_CONDITIONS", "probationDays": 30, "note": "Grow the store." })).await,
    );
    policy(&app, true).await;
    let failed = landed(step(&app, &alice, "reevaluateApplication", &other).await);
    assert_eq!(failed["state"], "WATCHLIST");
    assert_eq!(failed["dueKind"], "WATCHLIST_DEADLINE");
    policy(&app, false).await;

    // Pawly has no data: screening asks for information, with a deadline.
    let draft = landed(create(&app, &pawly).await);
    let asked = landed(step(&app, &pawly, "submitApplication", &draft).await);
    assert_eq!(asked["state"], "NEEDS_INFO");
    assert_eq!(
        last_event(&asked)["reasonCodes"],
        json!(["INCOMPLETE_DATA"])
    );
    assert!(
        last_event(&asked)["note"]
            .as_str()
            .unwrap_or_default()
            .contains("no net sales"),
        "{asked}"
    );

    // Two deadlines lie within 30 days (Olde's re-evaluation, Pawly's
    // answer): one warning each, however often the runner runs.
    assert_eq!(
        app.run_due().await.onboarding,
        brand_gateway::onboarding::due::DueReport {
            warned: 2,
            ..Default::default()
        }
    );
    assert_eq!(app.run_due().await.onboarding, Default::default());
    let warned = read(&app, &pawly, &asked).await;
    assert_eq!(actions(&warned).iter().filter(|a| *a == "WARN").count(), 1);
    assert_eq!(last_event(&warned)["dueAt"], asked["dueAt"]);
    assert_eq!(last_event(&warned)["toState"], "NEEDS_INFO");

    // Deadlines pass: probation ends with a passing re-evaluation, the
    // unanswered request expires. A second run changes nothing.
    set_due(&app, &early, Utc::now() - Duration::minutes(1)).await;
    set_due(&app, &asked, Utc::now() - Duration::minutes(1)).await;
    let report = app.run_due().await.onboarding;
    assert_eq!(
        (report.expired, report.reevaluated, report.suspended),
        (1, 1, 0),
        "{report:?}"
    );
    let events_before = scalar(&app.db.db, "SELECT COUNT(*) FROM application_event").await;
    assert_eq!(app.run_due().await.onboarding, Default::default());
    assert_eq!(
        scalar(&app.db.db, "SELECT COUNT(*) FROM application_event").await,
        events_before
    );

    let admitted = read(&app, &lumiere, &early).await;
    assert_eq!(admitted["state"], "APPROVED");
    assert_eq!(admitted["dueKind"], "REEVALUATION");
    assert_eq!(last_event(&admitted)["actor"], "scheduler");
    let expired = read(&app, &pawly, &asked).await;
    assert_eq!(expired["state"], "EXPIRED");
    refused(
        with_text(&app, &pawly, "respondToInfoRequest", "answer", &expired).await,
        "ILLEGAL_TRANSITION",
        "applicationId",
    );
    // An expired application is closed: the brand may apply again.
    landed(create(&app, &pawly).await);
    app.stop().await;
}

pub(crate) async fn concurrent_claims_and_decisions_have_one_winner(backend: Backend) {
    let app = case(backend).await;
    let op = app.token_as(Role::BrandOperator, Some(11), "rosa-op").await;
    let draft = landed(create(&app, &op).await);
    let review = landed(step(&app, &op, "submitApplication", &draft).await);

    let mut reviewers = Vec::new();
    for n in 0..8 {
        reviewers.push(
            app.token_as(Role::Reviewer, None, &format!("reviewer-{n}"))
                .await,
        );
    }
    let claims = join_all(
        reviewers
            .iter()
            .map(|t| step(&app, t, "claimApplication", &review)),
    )
    .await;
    let winners: Vec<&Value> = claims
        .iter()
        .filter(|(a, _)| a.is_object())
        .map(|(a, _)| a)
        .collect();
    assert_eq!(winners.len(), 1, "{claims:?}");
    for (_, errors) in claims.iter().filter(|(a, _)| a.is_null()) {
        assert_eq!(
            errors,
            &[("CONFLICT".to_owned(), "expectedVersion".to_owned())]
        );
    }
    let claimed = winners[0].clone();
    let holder = reviewers[claims
        .iter()
        .position(|(a, _)| a.is_object())
        .expect("winner")]
    .clone();

    let decisions = [
        json!({ "decision": "APPROVE" }),
        json!({ "decision": "REJECT", "reasonCodes": ["OTHER"] }),
    ];
    let results =
        join_all((0..8).map(|n| decide(&app, &holder, &claimed, decisions[n % 2].clone()))).await;
    assert_eq!(
        results.iter().filter(|(a, _)| a.is_object()).count(),
        1,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .filter(|(a, _)| a.is_null())
            .all(|(_, e)| e[0].0 == "CONFLICT")
    );
    let after = read(&app, &op, &claimed).await;
    let decided = actions(&after)
        .iter()
        .filter(|a| *a == "APPROVE" || *a == "REJECT")
        .count();
    assert_eq!(decided, 1, "{after}");
    app.stop().await;
}

pub(crate) async fn another_brands_application_is_not_found(backend: Backend) {
    let app = case(backend).await;
    let rosa = app.token_as(Role::BrandOperator, Some(11), "rosa-op").await;
    let lumiere = app
        .token_as(Role::BrandOperator, Some(10), "lumiere-op")
        .await;
    let lumiere_analyst = app.token(Role::BrandAnalyst, Some(10)).await;
    let rosa_analyst = app.token(Role::BrandAnalyst, Some(11)).await;
    let draft = landed(create(&app, &rosa).await);

    // Every field and mutation, tried with Rosa's application id by Lumiere.
    for token in [&lumiere, &lumiere_analyst] {
        let query = format!("query($id: ID!) {{ application(id: $id) {{ ...A }} }} {FIELDS}");
        let (_, body) = app
            .graphql(token, &query, json!({ "id": id(&draft) }))
            .await;
        assert_eq!(error_codes(&body), ["NOT_FOUND"], "{body}");
        let (_, body) = app
            .graphql(
                token,
                "query($r: [_Any!]!) { _entities(representations: $r) { ... on Application { id statement } } }",
                json!({ "r": [{ "__typename": "Application", "id": id(&draft) }] }),
            )
            .await;
        assert_eq!(error_codes(&body), ["NOT_FOUND"], "{body}");
        assert!(!body.to_string().contains("skin care"), "leaked: {body}");
        let list = app
            .data(
                token,
                "{ applications(first: 100) { edges { node { id brand { id } } } } }",
                json!({}),
            )
            .await;
        assert_eq!(list["applications"]["edges"], json!([]), "{list}");
    }
    refused(
        step(&app, &lumiere, "submitApplication", &draft).await,
        "NOT_FOUND",
        "applicationId",
    );
    refused(
        with_text(&app, &lumiere, "respondToInfoRequest", "answer", &draft).await,
        "NOT_FOUND",
        "applicationId",
    );
    refused(
        with_text(&app, &lumiere, "appealApplication", "note", &draft).await,
        "NOT_FOUND",
        "applicationId",
    );
    assert_eq!(
        read(&app, &rosa, &draft).await["version"],
        1,
        "nothing changed"
    );

    // Rosa's analyst reads its own application but may not act on it; the
    // other roles may not act as a brand.
    assert_eq!(read(&app, &rosa_analyst, &draft).await["state"], "DRAFT");
    let reviewer = app.token(Role::Reviewer, None).await;
    let admin = app.token(Role::Admin, None).await;
    let service = app.token(Role::Service, None).await;
    for token in [&rosa_analyst, &reviewer, &admin] {
        let (_, body) = app
            .graphql(
                token,
                "mutation { createApplication(statement: \"x\") { userErrors { code } } }",
                json!({}),
            )
            .await;
        assert_eq!(error_codes(&body), ["FORBIDDEN"], "{body}");
    }
    for token in [&rosa, &rosa_analyst, &admin] {
        let (_, body) = app
            .graphql(
                token,
                "mutation($id: ID!) { claimApplication(applicationId: $id, expectedVersion: 1) { userErrors { code } } }",
                json!({ "id": id(&draft) }),
            )
            .await;
        assert_eq!(error_codes(&body), ["FORBIDDEN"], "{body}");
    }
    let (_, body) = app
        .graphql(
            &service,
            "{ applications(first: 1) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&body), ["FORBIDDEN"], "{body}");
    // Platform roles see it; a malformed id names what it should be.
    assert_eq!(read(&app, &reviewer, &draft).await["brand"]["id"], "11");
    let (_, body) = app
        .graphql(&reviewer, "{ application(id: \"x\") { id } }", json!({}))
        .await;
    assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{body}");
    app.stop().await;
}

async fn fewest_statements(app: &TestApp, token: &str, variables: Value) -> f64 {
    app.fewest_statements(token, QUEUE, variables).await
}

const QUEUE: &str = r#"
query($first: Int, $after: String, $last: Int, $before: String, $f: ApplicationFilterInput) {
  applications(first: $first, after: $after, last: $last, before: $before, filter: $f) {
    pageInfo { hasNextPage hasPreviousPage endCursor startCursor }
    edges { node {
      id state claimedBy dueAt submittedAt
      brand { id name status category { code } }
      latestEvaluation { passed verdicts { measure passed whatIf } }
      events { action toState }
    } }
  }
}"#;

fn ids(data: &Value) -> Vec<String> {
    data["applications"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["id"].as_str().expect("id").to_owned())
        .collect()
}

pub(crate) async fn the_queue_filters_pages_and_batches(backend: Backend) {
    // More brands than the standard set, so several are prospects.
    let db = TestDb::new(backend).await;
    brand_gateway::seed::run(
        &db.db,
        &crate::helpers::blobs(),
        &brand_gateway::seed::SeedOptions {
            members: crate::helpers::MEMBERS,
            brands: 30,
            long_tail: 0,
            seed: 42,
            as_of: crate::helpers::as_of(),
            replace: false,
        },
    )
    .await
    .expect("seed");
    let app = TestApp::start(db, &[]).await;
    let reviewer = app.token_as(Role::Reviewer, None, "alice").await;
    // Admitted brands got their standing from the seed; every prospect applies.
    let all = app.data(&reviewer, QUEUE, json!({ "first": 50 })).await;
    let adopted = ids(&all).len();
    let prospects = app
        .data(
            &reviewer,
            "{ brands(first: 100, filter: {status: PROSPECT}) { edges { node { id } } } }",
            json!({}),
        )
        .await["brands"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| {
            e["node"]["id"]
                .as_str()
                .expect("id")
                .parse::<i64>()
                .expect("id")
        })
        .collect::<Vec<_>>();
    assert!(
        adopted >= 4 && prospects.len() >= 4,
        "{adopted} adopted, {} prospects",
        prospects.len()
    );
    let mut submitted = Vec::new();
    for brand in &prospects {
        let op = app.token(Role::BrandOperator, Some(*brand)).await;
        let draft = landed(create(&app, &op).await);
        submitted.push(landed(step(&app, &op, "submitApplication", &draft).await));
    }
    let all = app.data(&reviewer, QUEUE, json!({ "first": 50 })).await;
    assert_eq!(ids(&all).len(), adopted + prospects.len());

    // Screening stored an evaluation for each: the queue shows them.
    for node in all["applications"]["edges"].as_array().expect("edges") {
        let screened = node["node"]["events"]
            .as_array()
            .expect("events")
            .iter()
            .any(|e| e["action"] == "SCREEN");
        assert_eq!(
            screened,
            node["node"]["latestEvaluation"].is_object(),
            "{node}"
        );
    }

    // Filters: state, claimed, category, deadline, age.
    let in_review: Vec<&Value> = submitted
        .iter()
        .filter(|a| a["state"] == "IN_REVIEW")
        .collect();
    let first = in_review
        .first()
        .copied()
        .expect("a screened application in review");
    landed(step(&app, &reviewer, "claimApplication", first).await);
    let review = app
        .data(
            &reviewer,
            QUEUE,
            json!({ "first": 50, "f": { "states": ["IN_REVIEW"], "claimed": false } }),
        )
        .await;
    assert_eq!(ids(&review).len(), in_review.len() - 1);
    assert!(!ids(&review).contains(&id(first)));
    let mine = app
        .data(
            &reviewer,
            QUEUE,
            json!({ "first": 50, "f": { "claimed": true } }),
        )
        .await;
    assert_eq!(ids(&mine), [id(first)]);
    let category = first_category(&all, &id(first));
    let by_category = app
        .data(
            &reviewer,
            QUEUE,
            json!({ "first": 50, "f": { "category": category } }),
        )
        .await;
    for edge in by_category["applications"]["edges"]
        .as_array()
        .expect("edges")
    {
        assert_eq!(edge["node"]["brand"]["category"]["code"], category);
    }
    assert!(ids(&by_category).contains(&id(first)));
    let soon = (Utc::now() + Duration::days(20)).to_rfc3339();
    let due = app
        .data(
            &reviewer,
            QUEUE,
            json!({ "first": 50, "f": { "dueBefore": soon } }),
        )
        .await;
    let expected_due = all["applications"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter(|e| {
            e["node"]["dueAt"].as_str().is_some_and(|d| {
                d.parse::<chrono::DateTime<Utc>>().expect("time") <= Utc::now() + Duration::days(20)
            })
        })
        .count();
    assert!(expected_due > 0);
    assert_eq!(ids(&due).len(), expected_due);
    let old = app
        .data(&reviewer, QUEUE, json!({ "first": 50, "f": { "submittedBefore": (Utc::now() - Duration::days(1)).to_rfc3339() } }))
        .await;
    assert_eq!(
        ids(&old),
        Vec::<String>::new(),
        "everything was submitted just now"
    );

    // Relay pages, forwards and backwards, cover the queue once.
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = app
            .data(&reviewer, QUEUE, json!({ "first": 3, "after": after }))
            .await;
        seen.extend(ids(&page));
        if page["applications"]["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["applications"]["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, ids(&all));
    let tail = app.data(&reviewer, QUEUE, json!({ "last": 2 })).await;
    assert_eq!(ids(&tail), ids(&all)[ids(&all).len() - 2..]);

    // The statement count per request does not grow with the page size:
    // brands, categories, evaluations and events load in one query each.
    // (The last two were screened, so they load evaluations too.) A loader
    // batches what arrives within 1 ms; on a loaded machine a preempted
    // request may split a batch in two, so each size takes its fewest
    // statements of three runs and 30 items may cost at most two more
    // statements than 2; a per-item query adds ~30 every run (measured: 7
    // statements against 36).
    let small = fewest_statements(&app, &reviewer, json!({ "last": 2 })).await;
    let large = fewest_statements(&app, &reviewer, json!({ "first": 50 })).await;
    let big = app.data(&reviewer, QUEUE, json!({ "first": 50 })).await;
    assert!(ids(&big).len() >= 10);
    assert!(
        large <= small + 2.0,
        "2 items: {small} statements, {} items: {large}",
        ids(&big).len()
    );
    assert!(large <= 8.0, "{large} statements");
    app.stop().await;
}

fn first_category(all: &Value, application: &str) -> String {
    all["applications"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .find(|e| e["node"]["id"] == application)
        .and_then(|e| e["node"]["brand"]["category"]["code"].as_str())
        .expect("category")
        .to_owned()
}

/// The demo: categories of 10 to 40 brands, and a queue with a pass, a
/// failure, a boundary, documents to verify, conditions to follow up and
/// an appeal.
pub(crate) async fn the_demo_has_every_state_a_reviewer_meets(backend: Backend) {
    let db = TestDb::new(backend).await;
    brand_gateway::seed::run(
        &db.db,
        &crate::helpers::blobs(),
        &brand_gateway::seed::demo::options(),
    )
    .await
    .expect("seed");
    let documents = brand_gateway::onboarding::documents::DocumentStore {
        blobs: brand_gateway::blobs::BlobStore::open(&crate::helpers::blob_store()).expect("blobs"),
        max_bytes: 1 << 20,
    };
    let staged = brand_gateway::seed::demo::stage(&db.db, &documents)
        .await
        .expect("stage");
    for category in 1..=8 {
        let brands = scalar(
            &db.db,
            &format!("SELECT COUNT(*) FROM brand WHERE category_id = {category}"),
        )
        .await;
        assert!(
            (10..=40).contains(&brands),
            "category {category}: {brands} brands"
        );
    }
    let app = TestApp::start(db, &[]).await;
    let reviewer = app.token(Role::Reviewer, None).await;
    assert!(staged.iter().any(|s| s.passed && !s.boundary), "{staged:?}");
    assert!(staged.iter().any(|s| !s.passed), "{staged:?}");
    let boundary = staged
        .iter()
        .find(|s| s.boundary)
        .expect("a boundary applicant");
    // Through the API: the boundary applicant's market share equals its
    // threshold, margin zero, and it passes that measure.
    let data = app
        .data(
            &reviewer,
            "query($id: ID!) { application(id: $id) { state latestEvaluation { verdicts { measure value threshold margin passed } } } }",
            json!({ "id": boundary.application_id.to_string() }),
        )
        .await;
    let verdicts = data["application"]["latestEvaluation"]["verdicts"]
        .as_array()
        .expect("verdicts");
    let share = verdicts
        .iter()
        .find(|v| v["measure"] == "MARKET_SHARE")
        .expect("market share");
    assert_eq!(share["value"], share["threshold"], "{share}");
    assert_eq!(share["margin"], 0.0);
    assert_eq!(share["passed"], true);
    // All but the one admitted on probation wait for a reviewer, page by page.
    let mut waiting = 0;
    let mut after = Value::Null;
    loop {
        let queue = app
            .data(
                &reviewer,
                QUEUE,
                json!({ "first": 50, "after": after,
                        "f": { "states": ["IN_REVIEW", "NEEDS_INFO", "APPEALED"] } }),
            )
            .await;
        waiting += ids(&queue).len();
        let page = &queue["applications"]["pageInfo"];
        if page["hasNextPage"] != true {
            break;
        }
        after = page["endCursor"].clone();
    }
    assert_eq!(waiting, staged.len() - 1);
    let scene = |state: &str| {
        staged
            .iter()
            .find(|s| s.scene.is_some() && sea_orm::ActiveEnum::to_value(&s.state) == state)
            .map(|s| s.application_id.to_string())
            .unwrap_or_else(|| panic!("no staged {state} application in {staged:?}"))
    };
    let read = |id: String| {
        let app = &app;
        let reviewer = &reviewer;
        async move {
            app.data(
                reviewer,
                "query($id: ID!) { application(id: $id) { documents { kind state } conditions { state } } }",
                json!({ "id": id }),
            )
            .await["application"]
                .clone()
        }
    };
    let documents = read(scene("IN_REVIEW")).await["documents"].clone();
    assert_eq!(
        documents,
        json!([{ "kind": "BUSINESS_LICENSE", "state": "PENDING" },
               { "kind": "TRADEMARK_REGISTRATION", "state": "PENDING" }])
    );
    let conditions = read(scene("APPROVED_WITH_CONDITIONS")).await["conditions"].clone();
    assert_eq!(
        conditions,
        json!([{ "state": "EVIDENCED" }, { "state": "OPEN" }])
    );
    scene("APPEALED");
    app.stop().await;
}

/// A refusal for a reason a measure contradicts needs an override note;
/// after a rejection the brand waits out its category's cool-down before
/// applying again (an appeal is the way back meanwhile); a policy with no
/// cool-down lets it apply at once.
pub(crate) async fn a_refused_brand_waits_out_the_cool_down(backend: Backend) {
    let app = case(backend).await;
    let op = app
        .token_as(Role::BrandOperator, Some(10), "lumiere-op")
        .await;
    let alice = app.token_as(Role::Reviewer, None, "alice").await;
    policy(&app, false).await;
    let draft = landed(create(&app, &op).await);
    let screened = landed(step(&app, &op, "submitApplication", &draft).await);
    let claimed = landed(step(&app, &alice, "claimApplication", &screened).await);
    // Every measure passed: a measure's reason needs an explicit override,
    // and an override is only for such a reason.
    let low_share = json!({ "decision": "REJECT", "reasonCodes": ["MARKET_SHARE_LOW", "BRAND_RISK"], "note": "Counterfeit reports." });
    refused(
        decide(&app, &alice, &claimed, low_share.clone()).await,
        "BAD_USER_INPUT",
        "overrideNote",
    );
    refused(
        decide(
            &app,
            &alice,
            &claimed,
            json!({ "decision": "REJECT", "reasonCodes": ["BRAND_RISK"], "overrideNote": "?" }),
        )
        .await,
        "BAD_USER_INPUT",
        "overrideNote",
    );
    let mut overridden = low_share;
    overridden["overrideNote"] = json!("Share inflated by one wholesale order.");
    let rejected = landed(decide(&app, &alice, &claimed, overridden).await);
    assert_eq!(rejected["state"], "REJECTED");
    assert_eq!(
        last_event(&rejected)["overrideNote"],
        "Share inflated by one wholesale order."
    );
    refused(
        create(&app, &op).await,
        "ILLEGAL_TRANSITION",
        "applicationId",
    );
    let (_, body) = app
        .graphql(
            &op,
            "mutation { createApplication(statement: \"again\") { userErrors { message } } }",
            json!({}),
        )
        .await;
    let message = body["data"]["createApplication"]["userErrors"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("cool-down"), "{body}");
    policy_with(&app, false, json!({ "reapplyCooldownDays": 0 })).await;
    landed(create(&app, &op).await);
    // A new version that does not mention the cool-down keeps it.
    let admin = app.token(Role::Admin, None).await;
    let read = r#"{ criteriaPolicy(category: "BEAUTY") { version reapplyCooldownDays } }"#;
    let before = app.data(&admin, read, json!({})).await["criteriaPolicy"].clone();
    let set = app
        .data(
            &admin,
            "mutation($i: SetCriteriaPolicyInput!) { setCriteriaPolicy(input: $i) { policy { reapplyCooldownDays } userErrors { field } } }",
            json!({ "i": {
                "category": "BEAUTY", "expectedVersion": before["version"],
                "minMarketShare": 0.0, "minVoluntaryMentionShare": 0.0,
                "maxPriceVolatility": 10.0, "minSuperMemberRatio": 0.0, "maxDeepDiscountDays": 1.0,
            } }),
        )
        .await["setCriteriaPolicy"]
        .clone();
    assert_eq!(set["policy"]["reapplyCooldownDays"], 0, "{set}");
    app.stop().await;
}
