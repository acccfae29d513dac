//! Entry measures against small, hand-computed cases, loaded through
//! `import` so every input is known.

use std::path::Path;

use brand_gateway::{auth::Role, import};
use sea_orm::ConnectionTrait as _;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestDb, error_codes, write};

const MEASURES: &str = r#"
query($id: ID!) { brand(id: $id) { entryMeasures(asOf: "2026-11-20") {
  formulaVersion categoryHhi
  marketShare { ...M } voluntaryMentionShare { ...M } priceVolatility { ...M }
  deepDiscountDays { ...M } superMemberRatio { ...M }
} } }
fragment M on Measure { value undefinedReason inputs { name value } periodFrom periodTo categoryPercentile }"#;

/// Two beauty brands with sales, mentions, prices and stores; a third
/// beauty brand with nothing; a pet brand alone in its category with nothing.
fn write_case(dir: &Path) {
    write(
        dir,
        "categories.csv",
        "id,code,name\n1,BEAUTY,Beauty\n2,PETS,Pets\n",
    );
    write(
        dir,
        "brands.csv",
        "id,name,category_code,status\n10,Lumiere,BEAUTY,ACTIVE\n11,Rosa,BEAUTY,PROSPECT\n12,Pawly,PETS,PROSPECT\n13,Quiet,BEAUTY,PROSPECT\n",
    );
    write(
        dir,
        "members.csv",
        "id,points,paid_member,black_card,birth_year,gender,city_tier,annual_spend_cents\n\
         1,100,false,false,1990,F,TIER1,100\n2,1500,true,false,1990,F,TIER1,100\n3,2600,true,true,1985,M,TIER2,100\n",
    );
    write(
        dir,
        "store_memberships.csv",
        "brand_id,member_id,joined_on\n10,1,2026-01-01\n10,2,2026-01-01\n10,3,2026-01-01\n11,1,2026-02-01\n",
    );
    // The 12 months end with November 2026; October 2025 is outside.
    write(
        dir,
        "category_sales.csv",
        "brand_id,month,gmv_cents,refund_cents,orders\n\
         10,2026-10-01,1000,100,3\n10,2026-11-01,600,0,2\n11,2026-11-01,500,0,1\n11,2025-10-01,99999,0,9\n",
    );
    // 90 days back from 2026-11-20 start on 2026-08-23; July is outside.
    write(
        dir,
        "social_mentions.csv",
        "brand_id,period_start,voluntary,paid\n10,2026-11-02,300,100\n11,2026-10-01,100,0\n11,2026-07-01,5000,0\n",
    );
    write(
        dir,
        "sku_prices.csv",
        "brand_id,sku,day,price_cents,units\n\
         10,A,2026-11-01,100,1\n10,A,2026-11-02,100,1\n10,B,2026-11-01,100,2\n10,B,2026-11-02,50,4\n\
         11,C,2026-11-01,990,3\n",
    );
}

fn input(measure: &Value, name: &str) -> f64 {
    measure["inputs"]
        .as_array()
        .expect("inputs")
        .iter()
        .find(|i| i["name"] == name)
        .and_then(|i| i["value"].as_f64())
        .unwrap_or_else(|| panic!("no input {name} in {measure}"))
}

fn close(value: &Value, expected: f64) -> bool {
    value.as_f64().is_some_and(|v| (v - expected).abs() < 1e-4)
}

/// A fresh database holding [`write_case`]'s data, loaded by `import`.
async fn imported_case(backend: Backend) -> TestDb {
    let dir = tempfile::tempdir().expect("dir");
    write_case(dir.path());
    let db = TestDb::new(backend).await;
    import::run(&db.db, &crate::helpers::blobs(), dir.path(), false)
        .await
        .expect("import");
    db
}

pub(crate) async fn measures_match_hand_computed_cases(backend: Backend) {
    let db = imported_case(backend).await;
    let app = TestApp::start(db, &[]).await;
    let reviewer = app.token(Role::Reviewer, None).await;

    let m = &app.data(&reviewer, MEASURES, json!({ "id": "10" })).await["brand"]["entryMeasures"];
    // Market share: net 900 + 600 of the category's 2,000; HHI 75² + 25² + 0².
    assert!(close(&m["marketShare"]["value"], 0.75), "{m}");
    assert_eq!(input(&m["marketShare"], "categoryNetGmvCents"), 2_000.0);
    assert_eq!(m["marketShare"]["periodFrom"], "2025-12-01");
    assert_eq!(m["marketShare"]["periodTo"], "2026-11-20");
    assert!(close(&m["marketShare"]["categoryPercentile"], 1.0));
    assert!(close(&m["categoryHhi"], 6_250.0));
    // Mentions: 300 of 400 voluntary; July is outside the 90 days.
    assert!(close(&m["voluntaryMentionShare"]["value"], 0.75));
    assert_eq!(
        input(&m["voluntaryMentionShare"], "brandVoluntaryFraction"),
        0.75
    );
    assert_eq!(m["voluntaryMentionShare"]["periodFrom"], "2026-08-23");
    // Prices: SKU A flat (GMV 200), SKU B 100 → 50 (CV 1/3, half the days deep; GMV 400).
    assert!(close(
        &m["priceVolatility"]["value"],
        (1.0 / 3.0) * 400.0 / 600.0
    ));
    assert!(close(&m["deepDiscountDays"]["value"], 0.5 * 400.0 / 600.0));
    // Super members: 2 of 3; category 2 of 4 → lift 4/3; Wilson lower bound of 2/3.
    assert!(close(&m["superMemberRatio"]["value"], 2.0 / 3.0));
    assert_eq!(input(&m["superMemberRatio"], "categoryRatio"), 0.5);
    assert!((input(&m["superMemberRatio"], "lift") - 4.0 / 3.0).abs() < 1e-9);
    assert!((input(&m["superMemberRatio"], "wilsonLowerBound95") - 0.2077).abs() < 1e-3);
    assert_eq!(m["formulaVersion"], "criteria-2026.11");

    // A single SKU sold on a single day has no variation.
    let m = &app.data(&reviewer, MEASURES, json!({ "id": "11" })).await["brand"]["entryMeasures"];
    assert!(close(&m["priceVolatility"]["value"], 0.0));
    assert!(close(&m["superMemberRatio"]["value"], 0.0));
    // A past day counts the members the store had then: brand 11's one
    // member joined on 2026-02-01.
    let before = MEASURES.replace("2026-11-20", "2026-01-15");
    let m = &app.data(&reviewer, &before, json!({ "id": "11" })).await["brand"]["entryMeasures"];
    assert_eq!(
        m["superMemberRatio"]["undefinedReason"], "the store has no members",
        "{m}"
    );

    // A brand with nothing: zero share, undefined volatility and ratio, with reasons.
    let m = &app.data(&reviewer, MEASURES, json!({ "id": "13" })).await["brand"]["entryMeasures"];
    assert!(close(&m["marketShare"]["value"], 0.0));
    assert!(m["priceVolatility"]["value"].is_null());
    assert_eq!(
        m["priceVolatility"]["undefinedReason"],
        "no SKU sold in the period"
    );
    assert!(m["superMemberRatio"]["value"].is_null());
    assert_eq!(
        m["superMemberRatio"]["undefinedReason"],
        "the store has no members"
    );

    // An empty category: no share can be defined.
    let m = &app.data(&reviewer, MEASURES, json!({ "id": "12" })).await["brand"]["entryMeasures"];
    assert!(m["marketShare"]["value"].is_null());
    assert_eq!(
        m["marketShare"]["undefinedReason"],
        "the category has no net sales in the period"
    );
    assert!(m["categoryHhi"].is_null());

    // A brand sees its own figures only: no HHI or category totals (with
    // three brands, Σs² = HHI solves both rivals' GMV), no member counts
    // or what they can be solved from, its percentile as a quarter.
    let lumiere = app.token(Role::BrandAnalyst, Some(10)).await;
    let m = &app.data(&lumiere, MEASURES, json!({ "id": "10" })).await["brand"]["entryMeasures"];
    assert!(m["categoryHhi"].is_null(), "{m}");
    // Two brands with sales: its share and its own GMV would give the
    // rival's, so the share itself is withheld.
    assert!(m["marketShare"]["value"].is_null(), "{m}");
    assert_eq!(
        m["marketShare"]["undefinedReason"],
        "too few brands in the category to show a share without revealing a rival's figures"
    );
    assert!(m["voluntaryMentionShare"]["value"].is_null(), "{m}");
    assert_eq!(
        m["marketShare"]["inputs"],
        json!([{ "name": "brandNetGmvCents", "value": 1500.0 }])
    );
    // Three brands in the category: too few for even a band of its rank.
    assert!(m["marketShare"]["categoryPercentile"].is_null(), "{m}");
    let names = |measure: &Value| -> Vec<String> {
        measure["inputs"]
            .as_array()
            .expect("inputs")
            .iter()
            .map(|i| i["name"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(
        names(&m["voluntaryMentionShare"]),
        [
            "brandVoluntaryMentions",
            "brandPaidMentions",
            "brandVoluntaryFraction"
        ]
        .map(str::to_owned)
    );
    assert!(names(&m["superMemberRatio"]).is_empty(), "{m}");
    // Its super-member ratio leaves through the privacy engine: three
    // store members are (almost always, with noise of scale 20) under the
    // minimum cell size, so no ratio; when the noise lifts them over it,
    // the ratio of the noisy counts.
    let ratio = &m["superMemberRatio"];
    match ratio["value"].as_f64() {
        None => assert_eq!(
            ratio["undefinedReason"],
            "fewer store members than the minimum cell size"
        ),
        Some(value) => assert!((0.0..=1.0).contains(&value) && ratio["undefinedReason"].is_null()),
    }
    let spent = app
        .data(&lumiere, "{ privacyBudget { dailySpent } }", json!({}))
        .await;
    assert_eq!(
        spent["privacyBudget"]["dailySpent"], 0.1,
        "the release was paid for"
    );
    app.data(&lumiere, MEASURES, json!({ "id": "10" })).await;
    let again = app
        .data(&lumiere, "{ privacyBudget { dailySpent } }", json!({}))
        .await;
    assert_eq!(
        again["privacyBudget"]["dailySpent"], 0.1,
        "once per day and epoch"
    );

    // A brand sees its own measures and not another's.
    let own = app.token(Role::BrandOperator, Some(11)).await;
    app.data(&own, MEASURES, json!({ "id": "11" })).await;
    // An operator's read is paid from the operators' share, not the
    // analysts'.
    let budgets = app
        .data(&own, "{ privacyBudgets { pool dailySpent } }", json!({}))
        .await;
    assert_eq!(
        budgets["privacyBudgets"],
        json!([{ "pool": "ANALYSTS", "dailySpent": 0.0 }, { "pool": "OPERATORS", "dailySpent": 0.1 }])
    );
    let (_, body) = app.graphql(&own, MEASURES, json!({ "id": "10" })).await;
    assert_eq!(error_codes(&body), ["NOT_FOUND"]);
    app.stop().await;
}

/// A list of brands reads each of its categories once for all of them
/// (the two categories here in one batch); every brand's measures in the
/// list are the ones it reads alone.
pub(crate) async fn a_list_reads_each_brands_own_measures(backend: Backend) {
    let db = imported_case(backend).await;
    let app = TestApp::start(db, &[]).await;
    let reviewer = app.token(Role::Reviewer, None).await;
    let list = measures_list();
    let listed = app.data(&reviewer, &list, json!({})).await;
    let nodes = listed["brands"]["nodes"].as_array().expect("brands");
    let ids: Vec<&Value> = nodes.iter().map(|node| &node["id"]).collect();
    assert_eq!(
        ids,
        [&json!("10"), &json!("11"), &json!("12"), &json!("13")]
    );
    for node in nodes {
        let alone = app
            .data(&reviewer, MEASURES, json!({ "id": node["id"] }))
            .await;
        assert_eq!(
            node["entryMeasures"], alone["brand"]["entryMeasures"],
            "brand {}",
            node["id"]
        );
    }
    // Rosa's figures are its own, not Lumiere's read from the same category.
    assert_ne!(nodes[0]["entryMeasures"], nodes[1]["entryMeasures"]);
    app.stop().await;
}

/// Every brand's entry measures as of 2026-11-20, as a list.
fn measures_list() -> String {
    MEASURES
        .replacen(
            "query($id: ID!) { brand(id: $id) {",
            "{ brands(first: 10) { nodes { id",
            1,
        )
        .replacen("} } }\nfragment", "} } } }\nfragment", 1)
}

/// Entry figures are kept per data epoch and category and read back for
/// the next question. What is read back must be what reading the data
/// gives: the epoch's day kept by the load, and any other day at first,
/// once the category has gained a brand (whose zero share moves its peers'
/// percentiles), after a load whose epoch build failed and after a new load.
pub(crate) async fn kept_figures_are_the_figures_read(backend: Backend) {
    let dir = tempfile::tempdir().expect("dir");
    write_case(dir.path());
    let app = TestApp::start(imported_case(backend).await, &[]).await;
    let reviewer = app.token(Role::Reviewer, None).await;
    let admin = app.token(Role::Admin, None).await;
    let db = &app.db.db;
    let list = measures_list();
    let ask = async |query: &str| app.data(&reviewer, query, json!({})).await;
    // What reading the data gives, with nothing kept.
    let read = async |query: &str| {
        db.execute_unprepared("DELETE FROM entry_figures")
            .await
            .expect("forget");
        ask(query).await
    };
    // Figures read are kept by a task of their own: waits (at most 30 s)
    // until a category's are kept as of 2026-11-20, from the newest load.
    let kept = async |category: i64, rows: i64| {
        let sql = format!(
            "SELECT COUNT(*) FROM entry_figures WHERE as_of = '2026-11-20' \
             AND category_id = {category} AND snapshot_id = (SELECT MAX(id) FROM member_snapshot)"
        );
        for _ in 0..1_200 {
            if crate::helpers::scalar(db, &sql).await == rows {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("category {category}'s figures are not kept as {rows} rows");
    };

    // The load kept every category's figures as of its epoch's day (today).
    assert_eq!(
        crate::helpers::scalar(db, "SELECT COUNT(*) FROM entry_figures").await,
        4
    );
    let today = list.replacen(r#"(asOf: "2026-11-20")"#, "", 1);
    assert_eq!(ask(&today).await, read(&today).await);

    let measured = read(&list).await;
    kept(1, 3).await;
    kept(2, 1).await;
    assert_eq!(ask(&list).await, measured);

    let created = app
        .data(
            &admin,
            r#"mutation { createBrand(input: { name: "Nova", category: "BEAUTY" }) { brand { id } } }"#,
            json!({}),
        )
        .await;
    assert!(
        created["createBrand"]["brand"]["id"].is_string(),
        "{created}"
    );
    let joined = ask(&list).await;
    kept(1, 4).await;
    kept(2, 1).await;
    assert_eq!(ask(&list).await, joined);
    assert_eq!(read(&list).await, joined);
    // Rosa's share percentile was 2 of 3 defined shares, now 3 of 4.
    let rosa = |listed: &Value| listed["brands"]["nodes"][1]["entryMeasures"].clone();
    assert_eq!(
        rosa(&measured)["marketShare"]["categoryPercentile"],
        json!(2.0 / 3.0)
    );
    assert_eq!(
        rosa(&joined)["marketShare"]["categoryPercentile"],
        json!(0.75)
    );

    // A load whose epoch build failed: its rows and snapshot record are
    // committed, the epoch is the one the figures were kept in.
    kept(1, 4).await;
    kept(2, 1).await;
    for sql in [
        "UPDATE category_sales SET gmv_cents = 900 WHERE brand_id = 10 AND month = '2026-11-01'",
        "INSERT INTO member_snapshot (created_at, location, members) \
         SELECT created_at, location, members FROM member_snapshot ORDER BY id DESC LIMIT 1",
    ] {
        db.execute_unprepared(sql).await.expect("a load");
    }
    let loaded = ask(&list).await;
    let lumiere =
        |listed: &Value| listed["brands"]["nodes"][0]["entryMeasures"]["marketShare"].clone();
    assert_eq!(input(&lumiere(&loaded), "brandNetGmvCents"), 1_800.0);
    kept(1, 4).await;
    kept(2, 1).await;
    assert_eq!(ask(&list).await, loaded);
    assert_eq!(read(&list).await, loaded);

    // A new load: Lumiere's November doubles, and Nova is gone.
    write(
        dir.path(),
        "category_sales.csv",
        "brand_id,month,gmv_cents,refund_cents,orders\n\
         10,2026-10-01,1000,100,3\n10,2026-11-01,1200,0,2\n11,2026-11-01,500,0,1\n",
    );
    import::run(db, &crate::helpers::blobs(), dir.path(), true)
        .await
        .expect("import again");
    let reloaded = ask(&list).await;
    assert_eq!(input(&lumiere(&reloaded), "brandNetGmvCents"), 2_100.0);
    assert_eq!(input(&lumiere(&reloaded), "categoryNetGmvCents"), 2_600.0);
    kept(1, 3).await;
    kept(2, 1).await;
    assert_eq!(ask(&list).await, reloaded);
    assert_eq!(read(&list).await, reloaded);
    app.stop().await;
}

const SET_POLICY: &str = r#"
mutation($input: SetCriteriaPolicyInput!) { setCriteriaPolicy(input: $input) {
  policy { category version minMarketShare createdBy }
  userErrors { field message code }
} }"#;

const EVALUATE: &str = r#"
mutation($id: ID!) { evaluateBrand(brandId: $id, asOf: "2026-11-20") {
  evaluation { id brandId passed policyVersion formulaVersion verdicts { measure value judgedValue judgedOn comparison threshold passed margin whatIf } }
  userErrors { field message code }
} }"#;

const EVALUATION: &str = r#"
query($id: ID!) { evaluation(id: $id) { id passed policyVersion verdicts { measure passed threshold whatIf } } }"#;

fn policy(expected: i32, min_market_share: f64) -> Value {
    json!({ "input": {
        "category": "BEAUTY", "expectedVersion": expected, "minMarketShare": min_market_share,
        "minVoluntaryMentionShare": 0.1, "maxPriceVolatility": 0.5, "minSuperMemberRatio": 0.1, "maxDeepDiscountDays": 0.5
    } })
}

fn verdict<'a>(evaluation: &'a Value, measure: &str) -> &'a Value {
    evaluation["verdicts"]
        .as_array()
        .expect("verdicts")
        .iter()
        .find(|v| v["measure"] == measure)
        .expect("verdict")
}

pub(crate) async fn policies_are_versioned_and_evaluations_immutable(backend: Backend) {
    let db = imported_case(backend).await;
    let app = std::sync::Arc::new(TestApp::start(db, &[]).await);
    let admin = app.token(Role::Admin, None).await;
    let reviewer = app.token(Role::Reviewer, None).await;

    let defaults = app
        .data(
            &reviewer,
            "{ criteriaPolicy(category: \"BEAUTY\") { version minMarketShare } }",
            json!({}),
        )
        .await;
    assert_eq!(
        defaults["criteriaPolicy"],
        json!({ "version": 0, "minMarketShare": 0.01 })
    );

    // Invalid input comes back as user errors naming the field.
    for (variables, field, code) in [
        (policy(0, 1.5), "minMarketShare", "BAD_USER_INPUT"),
        (
            json!({ "input": { "category": "NOPE", "expectedVersion": 0, "minMarketShare": 0.1, "minVoluntaryMentionShare": 0.1,
            "maxPriceVolatility": 0.5, "minSuperMemberRatio": 0.1, "maxDeepDiscountDays": 0.5 } }),
            "category",
            "NOT_FOUND",
        ),
    ] {
        let data = app.data(&admin, SET_POLICY, variables).await;
        let errors = &data["setCriteriaPolicy"]["userErrors"];
        assert_eq!(errors[0]["field"], json!(["input", field]), "{data}");
        assert_eq!(errors[0]["code"], code);
        assert!(data["setCriteriaPolicy"]["policy"].is_null());
    }
    // Only admins set policies; only reviewers and admins evaluate.
    let (_, body) = app.graphql(&reviewer, SET_POLICY, policy(0, 0.8)).await;
    assert_eq!(error_codes(&body), ["FORBIDDEN"]);
    let operator = app.token(Role::BrandOperator, Some(10)).await;
    let (_, body) = app
        .graphql(&operator, EVALUATE, json!({ "id": "10" }))
        .await;
    assert_eq!(error_codes(&body), ["FORBIDDEN"]);

    // Two admins change version 0 at once: exactly one wins.
    let tasks: Vec<_> = [0.8, 0.9]
        .into_iter()
        .map(|share| {
            let (app, admin) = (app.clone(), admin.clone());
            tokio::spawn(async move { app.data(&admin, SET_POLICY, policy(0, share)).await })
        })
        .collect();
    let mut won = Vec::new();
    for task in tasks {
        let data = task.await.expect("task");
        let payload = &data["setCriteriaPolicy"];
        if payload["policy"].is_null() {
            assert_eq!(payload["userErrors"][0]["code"], "CONFLICT", "{data}");
            assert_eq!(
                payload["userErrors"][0]["field"],
                json!(["input", "expectedVersion"])
            );
        } else {
            won.push(payload["policy"]["minMarketShare"].as_f64().expect("share"));
        }
    }
    assert_eq!(won.len(), 1, "exactly one concurrent change wins");
    let winner = won[0];

    // Evaluated against version 1: 75% market share fails the winner's bar.
    let data = app.data(&reviewer, EVALUATE, json!({ "id": "10" })).await;
    let first = data["evaluateBrand"]["evaluation"].clone();
    assert_eq!(first["policyVersion"], 1);
    assert_eq!(first["passed"], false);
    let share = verdict(&first, "MARKET_SHARE");
    assert_eq!(share["passed"], false);
    assert!((share["margin"].as_f64().expect("margin") - (0.75 - winner)).abs() < 1e-9);
    assert_eq!(
        share["whatIf"],
        format!("needs market share ≥ {:.2}%, has 75.00%", winner * 100.0)
    );
    let ratio = verdict(&first, "SUPER_MEMBER_RATIO");
    assert_eq!(ratio["judgedOn"], "WILSON_LOWER_BOUND_95");
    assert_eq!(ratio["passed"], true);

    // Version 2 lowers the bar; the brand now passes, the first evaluation doesn't change.
    let data = app.data(&admin, SET_POLICY, policy(1, 0.5)).await;
    assert_eq!(data["setCriteriaPolicy"]["policy"]["version"], 2);
    let second =
        app.data(&reviewer, EVALUATE, json!({ "id": "10" })).await["evaluateBrand"]["evaluation"]
            .clone();
    assert_eq!(second["policyVersion"], 2);
    assert_eq!(second["passed"], true, "{second}");
    let again = app
        .data(&reviewer, EVALUATION, json!({ "id": first["id"] }))
        .await;
    assert_eq!(again["evaluation"]["policyVersion"], 1);
    assert_eq!(again["evaluation"]["passed"], false);

    // The brand sees its own evaluations, and nobody else's.
    let own = app
        .data(
            &operator,
            "{ brand(id: \"10\") { evaluations(first: 10) { edges { node { id passed } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        own["brand"]["evaluations"]["edges"]
            .as_array()
            .expect("edges")
            .len(),
        2
    );
    // The brand reads its evaluation without what the store's member count
    // can be solved from (the ratio's Wilson bound, its margin, what-if).
    let seen = app
        .data(
            &operator,
            "query($id: ID!) { evaluation(id: $id) { categoryHhi verdicts { measure formula value judgedValue margin whatIf passed } } }",
            json!({ "id": first["id"] }),
        )
        .await;
    assert!(seen["evaluation"]["categoryHhi"].is_null(), "{seen}");
    let ratio = verdict(&seen["evaluation"], "SUPER_MEMBER_RATIO");
    assert_eq!(
        (
            &ratio["value"],
            &ratio["judgedValue"],
            &ratio["margin"],
            &ratio["whatIf"],
            &ratio["passed"]
        ),
        (
            &Value::Null,
            &Value::Null,
            &Value::Null,
            &Value::Null,
            &json!(true)
        )
    );
    let share = verdict(&seen["evaluation"], "MARKET_SHARE");
    // Each verdict says the formula it was judged by.
    let formula = |v: &Value| v["formula"].as_str().unwrap_or_default().to_owned();
    assert!(formula(share).contains("12 months"), "{share}");
    assert!(formula(ratio).contains("Wilson"), "{ratio}");
    assert_eq!(
        (
            &share["value"],
            &share["margin"],
            &share["whatIf"],
            &share["passed"]
        ),
        (&Value::Null, &Value::Null, &Value::Null, &json!(false))
    );
    assert!(verdict(&seen["evaluation"], "PRICE_VOLATILITY")["margin"].is_number());
    let other = app.data(&reviewer, EVALUATE, json!({ "id": "11" })).await["evaluateBrand"]["evaluation"]["id"].clone();
    let (_, body) = app
        .graphql(&operator, EVALUATION, json!({ "id": other }))
        .await;
    assert_eq!(error_codes(&body), ["NOT_FOUND"]);
    // An unknown brand is a user error.
    let data = app.data(&reviewer, EVALUATE, json!({ "id": "999" })).await;
    assert_eq!(data["evaluateBrand"]["userErrors"][0]["code"], "NOT_FOUND");
    if let Ok(app) = std::sync::Arc::try_unwrap(app) {
        app.stop().await;
    }
}

const AT_RISK: &str = r#"
{ atRiskBrands { brand { id status category { code } } policyVersion failing { measure passed threshold margin whatIf } } }"#;

const PREVIEW: &str = r#"
query($input: PreviewCriteriaPolicyInput!) { previewCriteriaPolicy(input: $input) {
  currentVersion newlyFailing { brand { id } failing { measure } } newlyPassing { id } userErrors { field code } } }"#;

/// The at-risk list and a policy preview judge by the rule evaluations
/// use: the brands listed fail an evaluation on the same measures, and a
/// preview of the policy in force changes nothing.
pub(crate) async fn at_risk_brands_and_policy_previews(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let reviewer = app.token(Role::Reviewer, None).await;
    let admin = app.token(Role::Admin, None).await;
    let analyst = app.token(Role::BrandAnalyst, Some(1)).await;
    let (_, body) = app.graphql(&analyst, AT_RISK, json!({})).await;
    assert_eq!(error_codes(&body), ["FORBIDDEN"]);

    let at_risk = app.data(&reviewer, AT_RISK, json!({})).await["atRiskBrands"].clone();
    let listed = at_risk.as_array().expect("list");
    assert!(
        !listed.is_empty(),
        "the seeded data has admitted brands that fail today"
    );
    let measures = |verdicts: &Value, failing_only: bool| -> Vec<String> {
        verdicts
            .as_array()
            .expect("verdicts")
            .iter()
            .filter(|v| !failing_only || v["passed"] == false)
            .map(|v| v["measure"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    for entry in listed {
        assert!(["ACTIVE", "WATCHLIST"].contains(&entry["brand"]["status"].as_str().unwrap_or("")));
        let id = entry["brand"]["id"].as_str().expect("id");
        let evaluated = app
            .data(
                &reviewer,
                "mutation($id: ID!) { evaluateBrand(brandId: $id) { evaluation { passed verdicts { measure passed } } } }",
                json!({ "id": id }),
            )
            .await["evaluateBrand"]["evaluation"]
            .clone();
        assert_eq!(evaluated["passed"], false, "{id}");
        assert_eq!(
            measures(&evaluated["verdicts"], true),
            measures(&entry["failing"], false),
            "the same rule on both paths for brand {id}"
        );
    }
    // Every admitted brand not listed passes an evaluation.
    let admitted = app
        .data(
            &reviewer,
            "{ brands(first: 100, filter: { status: ACTIVE }) { edges { node { id category { code } } } } }",
            json!({}),
        )
        .await["brands"]["edges"]
        .clone();
    let mut passing_category = None;
    for edge in admitted.as_array().expect("edges") {
        let id = edge["node"]["id"].as_str().expect("id");
        if listed.iter().any(|e| e["brand"]["id"] == id) {
            continue;
        }
        let evaluated = app
            .data(
                &reviewer,
                "mutation($id: ID!) { evaluateBrand(brandId: $id) { evaluation { passed } } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(
            evaluated["evaluateBrand"]["evaluation"]["passed"], true,
            "{id}"
        );
        passing_category = edge["node"]["category"]["code"].as_str().map(str::to_owned);
    }
    let category = passing_category.expect("an admitted brand that passes");

    // A preview of the policy in force changes nothing; one that asks for
    // nearly the whole market fails every brand that passes today.
    let current = app
        .data(
            &reviewer,
            "query($c: String!) { criteriaPolicy(category: $c) { version minMarketShare minVoluntaryMentionShare maxPriceVolatility minSuperMemberRatio maxDeepDiscountDays } }",
            json!({ "c": category }),
        )
        .await["criteriaPolicy"]
        .clone();
    let mut input = current.clone();
    let object = input.as_object_mut().expect("object");
    object.remove("version");
    object.insert("category".to_owned(), json!(category));
    let same =
        app.data(&admin, PREVIEW, json!({ "input": input })).await["previewCriteriaPolicy"].clone();
    assert_eq!(same["currentVersion"], current["version"]);
    assert_eq!(
        (&same["newlyFailing"], &same["newlyPassing"]),
        (&json!([]), &json!([]))
    );
    input["minMarketShare"] = json!(0.99);
    let strict =
        app.data(&admin, PREVIEW, json!({ "input": input })).await["previewCriteriaPolicy"].clone();
    let newly = strict["newlyFailing"].as_array().expect("list");
    assert!(!newly.is_empty(), "{strict}");
    for entry in newly {
        assert!(measures(&entry["failing"], false).contains(&"MARKET_SHARE".to_owned()));
    }
    input["minMarketShare"] = json!(1.5);
    let bad =
        app.data(&admin, PREVIEW, json!({ "input": input })).await["previewCriteriaPolicy"].clone();
    assert_eq!(
        bad["userErrors"],
        json!([{ "field": ["input", "minMarketShare"], "code": "BAD_USER_INPUT" }])
    );

    // History: every version, newest first.
    let mut set = input.clone();
    set["minMarketShare"] = current["minMarketShare"].clone();
    for expected in [
        current["version"].as_i64().expect("v"),
        current["version"].as_i64().expect("v") + 1,
    ] {
        set["expectedVersion"] = json!(expected);
        let saved = app
            .data(&admin, SET_POLICY, json!({ "input": set }))
            .await["setCriteriaPolicy"]["userErrors"]
            .clone();
        assert_eq!(saved, json!([]));
    }
    let history = app
        .data(
            &analyst,
            "query($c: String!) { criteriaPolicyHistory(category: $c) { version } }",
            json!({ "c": category }),
        )
        .await["criteriaPolicyHistory"]
        .clone();
    let versions: Vec<i64> = history
        .as_array()
        .expect("versions")
        .iter()
        .filter_map(|v| v["version"].as_i64())
        .collect();
    let top = current["version"].as_i64().expect("v") + 2;
    assert_eq!(versions.first(), Some(&top), "{history}");
    assert!(versions.windows(2).all(|w| w[0] > w[1]), "{history}");
    app.stop().await;
}
