//! Audience questions through the server: who may ask, what a bad question
//! is told, what an answer holds, and how close it is to the truth.

use brand_gateway::auth::Role;
use migration::MigratorTrait as _;
use sea_orm::{ConnectionTrait as _, Statement};
use serde_json::json;

use std::collections::HashMap;

use brand_gateway::segments::Dimension;

use crate::helpers::{Backend, TestApp, error_codes};

/// The GraphQL enum name of a dimension.
fn graphql_name(dimension: Dimension) -> &'static str {
    match dimension {
        Dimension::GrowthTier => "GROWTH_TIER",
        Dimension::PaidMember => "PAID_MEMBER",
        Dimension::BlackCard => "BLACK_CARD",
        Dimension::AgeBand => "AGE_BAND",
        Dimension::Gender => "GENDER",
        Dimension::CityTier => "CITY_TIER",
        Dimension::SpendBand => "SPEND_BAND",
        Dimension::Interest => "INTEREST",
        Dimension::Service => "SERVICE",
    }
}

/// The cube column of a single-valued dimension.
fn column(dimension: Dimension) -> &'static str {
    match dimension {
        Dimension::GrowthTier => "tier",
        Dimension::PaidMember => "paid",
        Dimension::BlackCard => "black",
        Dimension::AgeBand => "age_band",
        Dimension::Gender => "gender",
        Dimension::CityTier => "city_tier",
        Dimension::SpendBand => "spend_band",
        Dimension::Interest | Dimension::Service => "multi_value",
    }
}

pub(crate) async fn only_a_brands_own_analyst_gets_audience_answers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let question = json!({ "population": "STORE", "breakdown": ["GROWTH_TIER"] });
    for role in [Role::BrandOperator] {
        let token = app.token(role, Some(1)).await;
        let (_, body) = app.ask(&token, question.clone()).await;
        assert_eq!(error_codes(&body), ["FORBIDDEN"], "{role:?}: {body}");
    }
    for role in [Role::Reviewer, Role::Admin, Role::Service] {
        let token = app.token(role, None).await;
        let (_, body) = app.ask(&token, question.clone()).await;
        assert_eq!(error_codes(&body), ["FORBIDDEN"], "{role:?}: {body}");
        let (_, body) = app
            .graphql(&token, "{ privacyBudget { epsilonLeft } }", json!({}))
            .await;
        assert_eq!(error_codes(&body), ["FORBIDDEN"]);
    }
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": "{ audienceDimensions { dimension } }" }))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 401);

    // Two brands' analysts: each sees its own store, pays from its own budget.
    let first = app.token(Role::BrandAnalyst, Some(1)).await;
    let second = app.token(Role::BrandAnalyst, Some(2)).await;
    let a = app.answer(&first, question.clone()).await;
    let b = app.answer(&second, question.clone()).await;
    assert!((a["privacy"]["epsilonSpent"].as_f64().expect("ε") - 0.1).abs() < 1e-9);
    assert!(
        (b["privacy"]["epsilonSpent"].as_f64().expect("ε") - 0.1).abs() < 1e-9,
        "brand 2 pays for its own store: {b}"
    );
    let truth = |brand: i64| {
        let sql = format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM store_membership WHERE brand_id = {brand}"
        );
        let db = app.db.db.clone();
        async move {
            db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .expect("query")
                .expect("row")
                .try_get_by_index::<i64>(0)
                .expect("count")
        }
    };
    let (size1, size2) = (truth(1).await, truth(2).await);
    for (answer, size) in [(&a, size1), (&b, size2)] {
        let total = answer["shownMembers"].as_i64().expect("total");
        assert!(total <= size + 150, "answer {total} for a store of {size}");
    }
    assert_eq!(app.spend_count(&second).await, 1);

    // Platform-wide answers are slices of the epoch's platform release:
    // free for every brand, the same for every brand, whoever asked first.
    let platform = json!({ "population": "PLATFORM", "breakdown": ["CITY_TIER"] });
    let a = app.answer(&first, platform.clone()).await;
    let b = app.answer(&second, platform.clone()).await;
    for answer in [&a, &b] {
        assert_eq!(answer["privacy"]["epsilonSpent"], 0.0, "{answer}");
        assert_eq!(answer["privacy"]["platformReleaseEpsilon"], 4.0, "{answer}");
    }
    assert_eq!(a["cells"], b["cells"], "the same release");
    assert_eq!(app.spend_count(&second).await, 1);
    // The release is consistent: a two-way slice sums to the one-way one.
    let by_age = app
        .answer(
            &first,
            json!({ "population": "PLATFORM", "breakdown": ["CITY_TIER", "AGE_BAND"] }),
        )
        .await;
    let members = |answer: &serde_json::Value, city: &str| -> i64 {
        answer["cells"]
            .as_array()
            .expect("cells")
            .iter()
            .filter(|c| c["key"][0]["value"] == city)
            .map(|c| c["members"].as_i64().unwrap_or(0))
            .sum()
    };
    let hidden = by_age["privacy"]["suppressedCells"]
        .as_i64()
        .expect("count");
    if hidden == 0 {
        for city in ["TIER1", "TIER3"] {
            let (one_way, two_way) = (members(&a, city), members(&by_age, city));
            // Each cell is rounded on its own: six cells, at most ±3.
            assert!(
                (one_way - two_way).abs() <= 3,
                "{city}: {one_way} vs {two_way}"
            );
        }
    }

    // What the release does not hold (three dimensions) a brand releases
    // for itself: it pays whether or not another brand asked the same, and
    // gets its own noise.
    let deep = json!({ "population": "PLATFORM", "breakdown": ["CITY_TIER", "AGE_BAND"], "filters": [{ "dimension": "GENDER", "values": ["FEMALE"] }] });
    let a = app.answer(&first, deep.clone()).await;
    let b = app.answer(&second, deep.clone()).await;
    for answer in [&a, &b] {
        assert!(
            (answer["privacy"]["epsilonSpent"].as_f64().expect("ε") - 0.1).abs() < 1e-9,
            "{answer}"
        );
        assert_eq!(
            answer["privacy"]["platformReleaseEpsilon"],
            serde_json::Value::Null
        );
    }
    let again = app.answer(&second, deep).await;
    assert_eq!(again["privacy"]["epsilonSpent"], 0.0);
    assert_eq!(again["cells"], b["cells"]);
    assert_eq!(app.spend_count(&second).await, 2);

    // The platform ledger shows the release, readable by every role.
    let ledger = app
        .data(
            &first,
            "{ platformLedger { epsilonPerEpoch epsilonLast365Days releases { dataEpoch epsilon tables cells } } }",
            json!({}),
        )
        .await["platformLedger"]
        .clone();
    assert_eq!(ledger["epsilonPerEpoch"], 4.0);
    assert_eq!(ledger["epsilonLast365Days"], 4.0);
    assert_eq!(
        ledger["releases"],
        json!([{ "dataEpoch": "1", "epsilon": 4.0, "tables": 44, "cells": 994 }])
    );
    app.stop().await;
}

pub(crate) async fn bad_questions_get_user_errors_naming_the_problem(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.token(Role::BrandAnalyst, Some(1)).await;
    for (question, expected) in [
        (
            json!({ "population": "STORE", "filters": [{ "dimension": "CITY_TIER", "values": ["TIER9"] }] }),
            "`TIER9` is not a value of CITY_TIER",
        ),
        (
            json!({ "population": "STORE", "breakdown": ["GENDER", "CITY_TIER", "AGE_BAND"] }),
            "at most 2",
        ),
        (
            json!({ "population": "PLATFORM", "metrics": ["TGI"] }),
            "population STORE",
        ),
        (
            json!({ "population": "STORE", "filters": [{ "dimension": "GENDER", "values": [] }] }),
            "lists no values",
        ),
    ] {
        let (status, body) = app.ask(&token, question.clone()).await;
        assert_eq!(status, 200);
        assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{question}: {body}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(expected), "{message}");
    }
    // Bad questions cost nothing.
    let budget = app
        .data(&token, "{ privacyBudget { dailySpent } }", json!({}))
        .await;
    assert_eq!(budget["privacyBudget"]["dailySpent"], 0.0);
    app.stop().await;
}

pub(crate) async fn answers_carry_metrics_and_privacy_metadata(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.token(Role::BrandAnalyst, Some(1)).await;
    let dims = app
        .data(
            &token,
            "{ audienceDimensions { dimension values multiValued } }",
            json!({}),
        )
        .await;
    assert_eq!(
        dims["audienceDimensions"].as_array().expect("dims").len(),
        9
    );

    let metrics = json!(["PAID_MEMBER_SHARE", "BLACK_CARD_SHARE", "MEAN_ANNUAL_SPEND"]);
    let store = json!({ "population": "STORE", "breakdown": ["PAID_MEMBER"], "metrics": metrics });
    // A dry run says what it will cost, by the rule that charges it, and
    // costs nothing itself.
    const COST: &str = "query($q: AudienceQuestion!) { audienceCost(question: $q) { tables epsilon affordable budget { epsilonLeft } } }";
    let cost = app.data(&token, COST, json!({ "q": store })).await["audienceCost"].clone();
    assert_eq!(
        cost,
        json!({ "tables": 4, "epsilon": 0.4, "affordable": true, "budget": { "epsilonLeft": 0.8 } })
    );
    let answer = app.answer(&token, store.clone()).await;
    let after = app.data(&token, COST, json!({ "q": store })).await["audienceCost"].clone();
    assert_eq!(
        (&after["tables"], &after["epsilon"]),
        (&json!(0), &json!(0.0))
    );
    // The spend history says what was asked, in the contract's names.
    let spends = app
        .data(
            &token,
            "{ privacySpends(first: 1) { edges { node { question pool } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        spends["privacySpends"]["edges"][0]["node"]["pool"],
        "ANALYSTS"
    );
    assert_eq!(
        spends["privacySpends"]["edges"][0]["node"]["question"],
        "STORE members by PAID_MEMBER; metrics PAID_MEMBER_SHARE, BLACK_CARD_SHARE, MEAN_ANNUAL_SPEND"
    );
    let privacy = &answer["privacy"];
    // Four tables: members, paid members, black-card members, spend sums.
    assert!(
        (privacy["epsilonSpent"].as_f64().expect("ε") - 0.4).abs() < 1e-9,
        "{privacy}"
    );
    assert_eq!(privacy["countNoiseScale"], 10.0);
    assert_eq!(privacy["countSensitivity"], 1);
    assert_eq!(privacy["minimumCellSize"], 50);
    assert!(privacy["countInterval95"].as_i64().expect("interval") >= 25);
    // The analysts' share: ε 0.8 a day.
    assert!((privacy["budget"]["epsilonLeft"].as_f64().expect("left") - 0.4).abs() < 1e-9);

    // The same on the platform: every table is a slice of the platform
    // release, so it is free; the dry run says so.
    let platform =
        json!({ "population": "PLATFORM", "breakdown": ["PAID_MEMBER"], "metrics": metrics });
    let cost = app.data(&token, COST, json!({ "q": platform })).await["audienceCost"].clone();
    assert_eq!(
        (&cost["tables"], &cost["epsilon"]),
        (&json!(0), &json!(0.0))
    );
    let answer = app.answer(&token, platform).await;
    let privacy = &answer["privacy"];
    assert_eq!(privacy["epsilonSpent"], 0.0);
    assert_eq!(privacy["platformReleaseEpsilon"], 4.0);
    // ε 3 of the release's 4 for counts, over 21 tables of Δ 1 and 14 of
    // Δ 5 (interests, services): one scale, 91 / 3.
    let release_scale = privacy["countNoiseScale"].as_f64().expect("scale");
    assert!((release_scale - 91.0 / 3.0).abs() < 0.01, "{privacy}");
    assert!(privacy["spendNoiseScale"].as_f64().is_some());
    let cells = answer["cells"].as_array().expect("cells");
    assert_eq!(cells.len(), 2);
    // Every shown cell says how far it may be off, and when the noise is
    // as large as the number; a share known from the breakdown is exact.
    for cell in cells.iter().filter(|c| c["suppressed"] == false) {
        let members = cell["members"].as_i64().expect("members");
        let interval = cell["membersInterval95"].as_i64().expect("interval");
        assert_eq!(
            interval,
            privacy["countInterval95"].as_i64().expect("count interval")
        );
        assert_eq!(cell["noiseDominates"], 2 * interval >= members, "{cell}");
        assert_eq!(
            cell["paidMemberShareInterval95"], 0.0,
            "known from the breakdown"
        );
        let black = cell["blackCardShareInterval95"]
            .as_f64()
            .expect("black interval");
        assert!(black > 0.0 && black <= 1.0, "{cell}");
    }
    let no = &cells[0];
    let yes = &cells[1];
    assert_eq!(
        no["key"][0],
        json!({ "dimension": "PAID_MEMBER", "value": "NO" })
    );
    assert!(no["paidMemberShare"].as_f64().expect("share") < 0.1, "{no}");
    // ~75 paid members, each of two noisy counts within ±30 or so.
    assert!(
        yes["suppressed"] == true || yes["paidMemberShare"].as_f64().expect("share") > 0.2,
        "{yes}"
    );
    let shares: f64 = cells.iter().filter_map(|c| c["share"].as_f64()).sum();
    assert!((shares - 1.0).abs() < 1e-9);

    // An interest breakdown: a member counts under up to 5 interests, so
    // its tables move by 5 per member; they get five times the ε, so the
    // release keeps one scale, and the answer says Δ 5.
    let answer = app
        .answer(
            &token,
            json!({ "population": "PLATFORM", "breakdown": ["INTEREST"] }),
        )
        .await;
    assert_eq!(answer["privacy"]["countSensitivity"], 5);
    let scale = answer["privacy"]["countNoiseScale"]
        .as_f64()
        .expect("scale");
    assert!((scale - release_scale).abs() < 0.01, "{scale}");
    assert_eq!(answer["cells"].as_array().expect("cells").len(), 14);
    // Its shares are of members (who hold several interests), not of
    // interest mentions: they sum past 1, each is members ÷ the
    // population's (noisy) members.
    assert_eq!(answer["overlapping"], true);
    let population = answer["populationMembers"].as_i64().expect("population");
    assert!((population - 2_000).abs() < 100, "{population}");
    let mut sum = 0.0;
    for cell in answer["cells"].as_array().expect("cells") {
        if let (Some(members), Some(share)) = (cell["members"].as_i64(), cell["share"].as_f64()) {
            assert!(
                (share - (members as f64 / population as f64).min(1.0)).abs() < 1e-9,
                "{cell}"
            );
            sum += share;
        }
    }
    assert!(sum > 1.2, "members hold several interests: {sum}");

    // TGI: the store against the platform, on the same cells.
    let answer = app
        .answer(
            &token,
            json!({ "population": "STORE", "breakdown": ["PAID_MEMBER"], "metrics": ["TGI"] }),
        )
        .await;
    let tgis: Vec<Option<f64>> = answer["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .map(|c| c["tgi"].as_f64())
        .collect();
    assert!(tgis[0].is_some_and(|t| t > 0.0), "{answer}");
    app.stop().await;
}

/// A server over a platform of `members` members (8 brands, seed 11).
async fn larger_platform(backend: Backend, members: u32) -> TestApp {
    let db = crate::helpers::TestDb::new(backend).await;
    brand_gateway::seed::run(
        &db.db,
        &crate::helpers::blobs(),
        &brand_gateway::seed::SeedOptions {
            members,
            brands: 8,
            long_tail: 0,
            seed: 11,
            as_of: crate::helpers::as_of(),
            replace: false,
        },
    )
    .await
    .expect("seed");
    TestApp::start(db, crate::helpers::GENEROUS_BUDGET).await
}

/// Relative error of member counts on cells of at least 1,000 members at
/// default settings, measured against the true counts; the target is 5%.
pub(crate) async fn utility_on_large_cells_meets_the_target(backend: Backend) {
    let app = larger_platform(backend, 60_000).await;
    let token = app.token(Role::BrandAnalyst, Some(1)).await;
    let mut errors = Vec::new();
    for (first, second) in [
        (Dimension::GrowthTier, Dimension::CityTier),
        (Dimension::AgeBand, Dimension::Gender),
        (Dimension::SpendBand, Dimension::PaidMember),
    ] {
        let answer = app
            .answer(&token, json!({ "population": "PLATFORM", "breakdown": [graphql_name(first), graphql_name(second)] }))
            .await;
        let truth_sql = format!(
            "SELECT CAST({a} AS BIGINT), CAST({b} AS BIGINT), CAST(SUM(members) AS BIGINT) FROM segment_cell \
             WHERE population = 0 AND multi_dim = 0 GROUP BY {a}, {b}",
            a = column(first),
            b = column(second)
        );
        let truth: HashMap<(i64, i64), i64> = app
            .db
            .db
            .query_all_raw(Statement::from_string(
                app.db.db.get_database_backend(),
                truth_sql,
            ))
            .await
            .expect("truth")
            .iter()
            .map(|row| {
                let get = |i| row.try_get_by_index::<i64>(i).expect("integer");
                ((get(0), get(1)), get(2))
            })
            .collect();
        for cell in answer["cells"].as_array().expect("cells") {
            let Some(noisy) = cell["members"].as_i64() else {
                continue;
            };
            let value = |d: Dimension| {
                let code = cell["key"]
                    .as_array()
                    .expect("key")
                    .iter()
                    .find(|k| k["dimension"] == graphql_name(d))
                    .and_then(|k| k["value"].as_str())
                    .expect("key value");
                i64::from(d.parse(code).expect("known code"))
            };
            let truth = truth
                .get(&(value(first), value(second)))
                .copied()
                .unwrap_or(0);
            if truth >= 1_000 {
                errors.push((noisy - truth).abs() as f64 / truth as f64);
            }
        }
    }
    assert!(errors.len() >= 20, "too few large cells: {}", errors.len());
    let mean = errors.iter().sum::<f64>() / errors.len() as f64;
    let worst = errors.iter().copied().fold(0.0, f64::max);
    println!(
        "utility: {} cells >= 1000 members, mean relative error {:.3}%, worst {:.3}%",
        errors.len(),
        mean * 100.0,
        worst * 100.0
    );
    // The target is on the typical cell; a single cell of ~1,000 members
    // exceeds 5% with probability e^-5 ≈ 0.7%, so the worst is reported only.
    assert!(mean <= 0.05, "mean relative error {mean}");
    app.stop().await;
}

/// The platform release is one consistent set of tables: a one-way slice
/// equals the two-way one summed over the other dimension, for every
/// brand, at no cost.
pub(crate) async fn platform_slices_agree_with_each_other(backend: Backend) {
    // Consistency, not noise, is under test: a release at ε 100 (count
    // noise of scale ~1.2) and only cells under 1 hidden, so none is.
    let app = TestApp::spawn_with(
        backend,
        &[
            "--privacy-min-cell",
            "1",
            "--privacy-platform-epsilon-per-epoch",
            "100",
            "--privacy-platform-yearly-budget",
            "1000",
        ],
    )
    .await;
    let token = app.token(Role::BrandAnalyst, Some(3)).await;
    let one_way = app
        .answer(
            &token,
            json!({ "population": "PLATFORM", "breakdown": ["GENDER"] }),
        )
        .await;
    let two_way = app
        .answer(
            &token,
            json!({ "population": "PLATFORM", "breakdown": ["CITY_TIER", "GENDER"] }),
        )
        .await;
    let total = app
        .answer(&token, json!({ "population": "PLATFORM" }))
        .await;
    for answer in [&one_way, &two_way, &total] {
        assert_eq!(answer["privacy"]["epsilonSpent"], 0.0, "{answer}");
    }
    // Each gender's one-way count against its six cities summed.
    let mut compared = 0;
    let mut one_way_sum = 0;
    for cell in one_way["cells"].as_array().expect("cells") {
        let gender = &cell["key"][0]["value"];
        let parts: Vec<&serde_json::Value> = two_way["cells"]
            .as_array()
            .expect("cells")
            .iter()
            .filter(|c| {
                c["key"]
                    .as_array()
                    .expect("key")
                    .iter()
                    .any(|k| k["dimension"] == "GENDER" && &k["value"] == gender)
            })
            .collect();
        let members = cell["members"].as_i64().unwrap_or(0);
        one_way_sum += members;
        if cell["suppressed"] == true || parts.iter().any(|c| c["suppressed"] == true) {
            continue;
        }
        let sum: i64 = parts
            .iter()
            .map(|c| c["members"].as_i64().expect("shown"))
            .sum();
        // Six cells rounded on their own: within ±3 of the one-way cell.
        assert!((sum - members).abs() <= 3, "{gender}: {members} vs {sum}");
        compared += 1;
    }
    assert!(
        compared >= 2,
        "only {compared} genders without a hidden cell"
    );
    let everyone = total["cells"][0]["members"].as_i64().expect("shown");
    if one_way["privacy"]["suppressedCells"] == 0 {
        // Three cells rounded on their own.
        assert!(
            (everyone - one_way_sum).abs() <= 2,
            "{everyone} vs {one_way_sum}"
        );
    }
    app.stop().await;
}

/// A rare population (black card, about 1 in 10,000 members) is estimated
/// without bias: the black-card share released by many platform releases
/// averages to the truth, within four standard errors.
pub(crate) async fn a_rare_population_is_unbiased_over_epochs(backend: Backend) {
    let app = larger_platform(backend, 30_000).await;
    let token = app.token(Role::BrandAnalyst, Some(1)).await;
    let holders = crate::helpers::scalar(
        &app.db.db,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM member WHERE black_card",
    )
    .await;
    let truth = holders as f64 / 30_000.0;
    assert!(
        (1..=10).contains(&holders),
        "a rare population: {holders} of 30,000"
    );
    let question = json!({ "population": "PLATFORM", "metrics": ["BLACK_CARD_SHARE"] });
    let epochs = 40;
    let mut shares = Vec::new();
    let mut half_widths = Vec::new();
    for _ in 0..epochs {
        let answer = app.answer(&token, question.clone()).await;
        let cell = &answer["cells"][0];
        shares.push(cell["blackCardShare"].as_f64().expect("share"));
        half_widths.push(cell["blackCardShareInterval95"].as_f64().expect("interval"));
        // The next epoch's release of the same members: a new draw of the
        // platform release, as a refresh of unchanged data would make.
        app.db
            .db
            .execute_unprepared("DELETE FROM platform_release")
            .await
            .expect("next release");
    }
    let mean = shares.iter().sum::<f64>() / epochs as f64;
    // The standard error of the mean, from the intervals the answers state
    // (half-width ≈ 1.96 σ).
    let sigma = half_widths.iter().sum::<f64>() / epochs as f64 / 1.96;
    let standard_error = sigma / (epochs as f64).sqrt();
    println!(
        "rare population: truth {truth:.5}, mean over {epochs} epochs {mean:.5}, standard error {standard_error:.5}"
    );
    assert!(
        (mean - truth).abs() <= 4.0 * standard_error,
        "mean {mean} vs truth {truth} (standard error {standard_error}): {shares:?}"
    );
    assert!(
        shares.iter().any(|s| *s < 0.0),
        "an unbiased estimate near 0 falls below it sometimes: {shares:?}"
    );
    app.stop().await;
}

/// Prospects (platform members not in my store) are the platform release
/// minus the store's own table: the brand pays for the store side once,
/// and the numbers are exactly the difference of the two answers.
pub(crate) async fn prospects_are_the_platform_minus_the_store(backend: Backend) {
    let app = TestApp::spawn_with(backend, &["--privacy-min-cell", "1"]).await;
    let token = app.token(Role::BrandAnalyst, Some(2)).await;
    let asked =
        |population: &str| json!({ "population": population, "metrics": ["PAID_MEMBER_SHARE"] });
    let prospects = app.answer(&token, asked("PROSPECTS")).await;
    // Two store tables (members, paid members); the platform side is free.
    assert!(
        (prospects["privacy"]["epsilonSpent"].as_f64().expect("ε") - 0.2).abs() < 1e-9,
        "{prospects}"
    );
    assert_eq!(prospects["privacy"]["platformReleaseEpsilon"], 4.0);
    let platform = app.answer(&token, asked("PLATFORM")).await;
    let store = app.answer(&token, asked("STORE")).await;
    assert_eq!(store["privacy"]["epsilonSpent"], 0.0, "already released");
    let members =
        |answer: &serde_json::Value| answer["cells"][0]["members"].as_i64().expect("shown");
    assert_eq!(members(&prospects), members(&platform) - members(&store));
    // Near the truth: the platform's members not in brand 2's store.
    let truth = crate::helpers::scalar(
        &app.db.db,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM member m WHERE NOT EXISTS \
         (SELECT 1 FROM store_membership s WHERE s.member_id = m.id AND s.brand_id = 2)",
    )
    .await;
    let shown = prospects["shownMembers"].as_i64().expect("total");
    assert!((shown - truth).abs() < 400, "{shown} vs {truth}");
    // TGI compares the store with the platform; prospects can't ask it.
    let (_, body) = app
        .ask(
            &token,
            json!({ "population": "PROSPECTS", "metrics": ["TGI"] }),
        )
        .await;
    assert_eq!(error_codes(&body), ["BAD_USER_INPUT"]);
    app.stop().await;
}

/// A trend reads what each epoch released, for free: the brand's own
/// answers as they were, platform slices of each stored release, and
/// nothing for an epoch where the question was not released.
pub(crate) async fn trends_read_past_releases_without_releasing_again(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.token(Role::BrandAnalyst, Some(1)).await;
    let store = json!({ "population": "STORE", "breakdown": ["PAID_MEMBER"] });
    let platform = json!({ "population": "PLATFORM", "breakdown": ["AGE_BAND"] });
    let mut asked = Vec::new();
    for _ in 0..2 {
        asked.push((
            app.answer(&token, store.clone()).await,
            app.answer(&token, platform.clone()).await,
        ));
        app.refresh().await;
    }
    let spent = app.spend_count(&token).await;
    assert_eq!(spent, 2, "one store table per epoch");
    const TREND: &str = "query($q: AudienceQuestion!, $n: Int!) { audienceTrend(question: $q, epochs: $n) { dataEpoch asOf answer { cells { members suppressed } privacy { epsilonSpent dataEpoch } } } }";
    for (question, pick) in [(&store, 0), (&platform, 1)] {
        let trend = app
            .data(&token, TREND, json!({ "q": question, "n": 3 }))
            .await["audienceTrend"]
            .clone();
        let points = trend.as_array().expect("points");
        assert_eq!(points.len(), 3, "{trend}");
        let epochs: Vec<&str> = points
            .iter()
            .map(|p| p["dataEpoch"].as_str().expect("epoch"))
            .collect();
        assert_eq!(epochs, ["3", "2", "1"]);
        // Epoch 3 is current and nothing was asked in it yet.
        assert_eq!(points[0]["answer"], serde_json::Value::Null, "{trend}");
        for (point, then) in points[1..].iter().zip(asked.iter().rev()) {
            let then = if pick == 0 { &then.0 } else { &then.1 };
            let cells: Vec<serde_json::Value> = then["cells"]
                .as_array()
                .expect("cells")
                .iter()
                .map(|c| json!({ "members": c["members"], "suppressed": c["suppressed"] }))
                .collect();
            assert_eq!(point["answer"]["cells"], json!(cells), "{point}");
            assert_eq!(point["answer"]["privacy"]["epsilonSpent"], 0.0);
        }
    }
    assert_eq!(
        app.spend_count(&token).await,
        spent,
        "a trend spends nothing"
    );
    let (_, body) = app
        .graphql(&token, TREND, json!({ "q": store, "n": 25 }))
        .await;
    assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{body}");
    app.stop().await;
}

/// Members holding any of several interests are counted once each, and
/// interests × services is a table of its own (a member in up to 5 × 5
/// cells, and the noise says so): both read from member rows, released for
/// the asking brand.
pub(crate) async fn any_of_interests_and_interests_by_services(backend: Backend) {
    // ε 1 a table: noise of scale 1 on a count of Δ 1, so the count can be
    // checked against the truth.
    let flags = [
        crate::helpers::GENEROUS_BUDGET,
        &["--privacy-epsilon-per-table", "1"],
    ]
    .concat();
    let app = TestApp::spawn_with(backend, &flags).await;
    let token = app.token(Role::BrandAnalyst, Some(1)).await;
    let holders = |interests: &str| {
        format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM store_membership s WHERE s.brand_id = 1 AND EXISTS \
             (SELECT 1 FROM {} i WHERE i.member_id = s.member_id AND i.code IN ({interests}))",
            crate::helpers::member_codes("interests")
        )
    };
    let either = crate::helpers::scalar(&app.db.db, &holders("'BEAUTY', 'PETS'")).await;
    let beauty = crate::helpers::scalar(&app.db.db, &holders("'BEAUTY'")).await;
    let pets = crate::helpers::scalar(&app.db.db, &holders("'PETS'")).await;
    assert!(
        either < beauty + pets,
        "some hold both: {either} {beauty} {pets}"
    );
    let answer = app
        .answer(
            &token,
            json!({ "population": "STORE", "filters": [{ "dimension": "INTEREST", "values": ["PETS", "BEAUTY"] }] }),
        )
        .await;
    let members = answer["cells"][0]["members"].as_i64().expect("shown");
    assert!((members - either).abs() <= 15, "{members} vs {either}");
    assert_eq!(answer["privacy"]["countSensitivity"], 1);
    assert_eq!(answer["overlapping"], false);

    // On the platform the release holds one interest at a time, so any-of
    // is the brand's own release.
    let answer = app
        .answer(
            &token,
            json!({ "population": "PLATFORM", "filters": [{ "dimension": "INTEREST", "values": ["BEAUTY", "PETS"] }], "breakdown": ["GENDER"] }),
        )
        .await;
    assert_eq!(answer["privacy"]["epsilonSpent"], 1.0, "{answer}");
    assert_eq!(
        answer["privacy"]["platformReleaseEpsilon"],
        serde_json::Value::Null
    );

    let answer = app
        .answer(
            &token,
            json!({ "population": "PLATFORM", "breakdown": ["INTEREST", "SERVICE"] }),
        )
        .await;
    assert_eq!(answer["privacy"]["countSensitivity"], 25);
    assert_eq!(answer["overlapping"], true);
    let cells = answer["cells"].as_array().expect("cells");
    assert_eq!(cells.len(), 14 * 5);
    let truth = crate::helpers::scalar(
        &app.db.db,
        &format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM {} i JOIN {} v \
             ON v.member_id = i.member_id WHERE i.code = 'BEAUTY' AND v.code = 'FOOD_DELIVERY'",
            crate::helpers::member_codes("interests"),
            crate::helpers::member_codes("services")
        ),
    )
    .await;
    let cell = cells
        .iter()
        .find(|c| c["key"][0]["value"] == "BEAUTY" && c["key"][1]["value"] == "FOOD_DELIVERY")
        .expect("cell");
    // Scale 25: within ±375 but for a chance of e^-15.
    let noisy = cell["members"].as_i64().unwrap_or(0);
    assert!((noisy - truth).abs() <= 375, "{noisy} vs {truth}");
    app.stop().await;
}

/// A repeat question is served from stored tables; its budget is read only
/// when the caller selects it (and then it is the budget the ledger has).
pub(crate) async fn a_repeat_question_reads_the_budget_only_when_asked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.token(Role::BrandAnalyst, Some(1)).await;
    let store = json!({ "population": "STORE", "breakdown": ["PAID_MEMBER"] });
    const BARE: &str = "query($q: AudienceQuestion!) { audience(question: $q) { shownMembers } }";
    const WITH_BUDGET: &str = "query($q: AudienceQuestion!) { audience(question: $q) { shownMembers \
        privacy { epsilonSpent budget { epsilonLeft dailySpent } } } }";
    let paid = app.data(&token, WITH_BUDGET, json!({ "q": store })).await["audience"].clone();
    assert!(
        paid["privacy"]["epsilonSpent"].as_f64() > Some(0.0),
        "{paid}"
    );
    let repeat = app.data(&token, WITH_BUDGET, json!({ "q": store })).await["audience"].clone();
    assert_eq!(repeat["shownMembers"], paid["shownMembers"]);
    assert_eq!(repeat["privacy"]["epsilonSpent"], 0.0);
    assert_eq!(repeat["privacy"]["budget"], paid["privacy"]["budget"]);
    let budget = app
        .data(
            &token,
            "{ privacyBudget { epsilonLeft dailySpent } }",
            json!({}),
        )
        .await["privacyBudget"]
        .clone();
    assert_eq!(repeat["privacy"]["budget"], budget);
    // The server's own background work (the webhook worker's idle query
    // every 250 ms) lands in some windows under load: the fewest of many
    // tries is the request's own count.
    let mut bare = f64::MAX;
    let mut with_budget = f64::MAX;
    for _ in 0..5 {
        let once = app.fewest_statements(&token, BARE, json!({ "q": store }));
        bare = bare.min(once.await);
        let once = app.fewest_statements(&token, WITH_BUDGET, json!({ "q": store }));
        with_budget = with_budget.min(once.await);
    }
    assert!(
        with_budget > bare,
        "the budget costs its ledger read only when selected: {bare} vs {with_budget}"
    );
    app.stop().await;
}

/// A repeat question is served from what the instance holds: the current
/// epoch and the brand's standing, for its `--repeat-cache-ms`, and the
/// stored answer, so it runs no statement. A suspension or a new epoch
/// (made by `refresh`, another process) is not seen by an instance holding
/// the old state until its time is up, and then is; a question that pays
/// is refused at once, and a re-admission counts at once.
pub(crate) async fn repeat_answers_follow_epochs_and_standing_within_the_cache_time(
    backend: Backend,
) {
    let holding = TestApp::spawn_with(backend, &["--repeat-cache-ms", "300000"]).await;
    let short = holding.beside(&["--repeat-cache-ms", "500"]).await;
    let token = holding.token(Role::BrandAnalyst, Some(1)).await;
    let store = json!({ "population": "STORE", "breakdown": ["PAID_MEMBER"] });
    const EPOCH: &str = "query($q: AudienceQuestion!) { audience(question: $q) { shownMembers \
        privacy { epsilonSpent dataEpoch } } }";
    let ask = async |app: &TestApp| app.graphql(&token, EPOCH, json!({ "q": store })).await.1;
    let paid = ask(&holding).await["data"]["audience"].clone();
    assert!(
        paid["privacy"]["epsilonSpent"].as_f64() > Some(0.0),
        "{paid}"
    );
    let first_epoch = paid["privacy"]["dataEpoch"].clone();
    // Released in the first epoch only (for the new epoch's preview below).
    let by_city = json!({ "population": "STORE", "breakdown": ["CITY_TIER"] });
    let city = holding.data(&token, EPOCH, json!({ "q": by_city })).await["audience"].clone();
    assert_eq!(city["privacy"]["dataEpoch"], first_epoch, "{city}");
    for app in [&holding, &short] {
        let repeat = ask(app).await["data"]["audience"].clone();
        assert_eq!(repeat["shownMembers"], paid["shownMembers"]);
        assert_eq!(repeat["privacy"]["epsilonSpent"], 0.0);
        assert_eq!(repeat["privacy"]["dataEpoch"], first_epoch);
    }
    // Held: the repeat runs no statement, whether its tables are the
    // brand's own or slices of the platform release. The count is the
    // server's, background tasks included: the fewest of many.
    let platform = json!({ "population": "PLATFORM", "breakdown": ["AGE_BAND"] });
    for question in [&store, &platform] {
        let mut fewest = f64::MAX;
        for _ in 0..5 {
            let once = holding.fewest_statements(&token, EPOCH, json!({ "q": question }));
            fewest = fewest.min(once.await);
            if fewest == 0.0 {
                break;
            }
        }
        assert_eq!(fewest, 0.0, "a held repeat reads nothing: {question}");
    }

    // Suspended: the holding instance still serves what was released, but
    // refuses a question that would pay; the other stops within its time.
    crate::standing::set_status(&holding, 1, "SUSPENDED").await;
    let held = ask(&holding).await;
    assert_eq!(
        held["data"]["audience"]["shownMembers"], paid["shownMembers"],
        "{held}"
    );
    let new_table = json!({ "population": "STORE", "breakdown": ["GROWTH_TIER"] });
    let (_, refused) = holding
        .graphql(&token, EPOCH, json!({ "q": new_table }))
        .await;
    assert_eq!(
        error_codes(&refused),
        ["BRAND_NOT_IN_STANDING"],
        "{refused}"
    );
    let mut stopped = false;
    for _ in 0..100 {
        if error_codes(&ask(&short).await) == ["BRAND_NOT_IN_STANDING"] {
            stopped = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(stopped, "the suspension is seen once the short time is up");
    // A refusal is never held: an instance that read the suspension (and
    // would hold it for 300 s) serves the brand once it is re-admitted.
    let late = holding.beside(&["--repeat-cache-ms", "300000"]).await;
    assert_eq!(error_codes(&ask(&late).await), ["BRAND_NOT_IN_STANDING"]);
    crate::standing::set_status(&holding, 1, "ACTIVE").await;
    let readmitted = ask(&late).await;
    assert_eq!(
        readmitted["data"]["audience"]["shownMembers"], paid["shownMembers"],
        "a refusal is never held: {readmitted}"
    );
    late.stop().await;

    // A new epoch: held by one instance, seen by the other in its time and
    // answered afresh there.
    holding.refresh().await;
    let held = ask(&holding).await["data"]["audience"].clone();
    assert_eq!(held["privacy"]["dataEpoch"], first_epoch, "{held}");
    assert_eq!(held["privacy"]["epsilonSpent"], 0.0);
    let mut seen = None;
    for _ in 0..100 {
        let answer = ask(&short).await["data"]["audience"].clone();
        if answer["privacy"]["dataEpoch"] != first_epoch {
            seen = Some(answer);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let seen = seen.expect("the new epoch is seen once the short time is up");
    assert!(
        seen["privacy"]["epsilonSpent"].as_f64() > Some(0.0),
        "answered afresh in the new epoch: {seen}"
    );
    // A question with a table to pay for is released in the new epoch even
    // where the old one is still held, and costs what the preview said: the
    // table released in the old epoch is paid for again with the new one.
    let mixed = json!({ "population": "STORE", "breakdown": ["CITY_TIER"], "metrics": ["BLACK_CARD_SHARE"] });
    let cost = holding
        .data(
            &token,
            "query($q: AudienceQuestion!) { audienceCost(question: $q) { tables epsilon } }",
            json!({ "q": mixed }),
        )
        .await["audienceCost"]
        .clone();
    let bought = holding.data(&token, EPOCH, json!({ "q": mixed })).await["audience"].clone();
    assert_ne!(bought["privacy"]["dataEpoch"], first_epoch, "{bought}");
    assert_eq!(
        bought["privacy"]["epsilonSpent"], cost["epsilon"],
        "{bought} vs {cost}"
    );
    assert!(cost["tables"].as_i64() >= Some(2), "{cost}");
    short.stop().await;
    holding.stop().await;
}

/// The cube, built by the columnar engine from the member snapshot, holds
/// exactly the aggregates of the member rows the per-member paths read,
/// for the platform and every store; the check notices when the two copies
/// drift; and a database whose platform data has no snapshot gets a
/// refresh error saying how to make one. Undoing and redoing the later
/// migrations keeps the join days, the benefits' budget counters and the
/// members' interests and services.
pub(crate) async fn the_cube_matches_the_member_rows(backend: Backend) {
    let seeded = crate::helpers::TestDb::seeded(backend).await;
    let check = brand_gateway::segments::check_cube(&seeded.db)
        .await
        .expect("check");
    assert!(check.cells > 1_000, "{check:?}");
    assert_eq!(check.differing, 0, "{check:?}");
    assert!(check.join_days > 0, "{check:?}");
    assert_eq!(check.join_days_differing, 0, "{check:?}");

    // A database upgraded with its data in place (the join days' migration
    // undone and applied again) has the current epoch's join days at once.
    let since = migration::Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261202_000020_store_join_days")
        .expect("the join days' migration");
    let undo = u32::try_from(migration::Migrator::migrations().len() - since).expect("few");
    // Through one connection: SQLite checks an index's name against the
    // schema the connection read last, so an index dropped through one
    // pooled connection and created again through another could be found
    // "already existing" (this test failed so about once in six runs).
    let given = "SELECT CAST(COALESCE(SUM(redemptions * 1000000 + spent_cents), 0) AS BIGINT) \
                 FROM benefit_budget_slot";
    // A benefit with counters in two slots, as grants leave them.
    for sql in [
        "INSERT INTO benefit (brand_id, state, version, current_revision, revision_pending, \
         created_by, created_at, updated_at) SELECT MIN(id), 'DRAFT', 1, 1, false, 'test', \
         '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z' FROM brand",
        "INSERT INTO benefit_budget_slot (benefit_id, slot, redemptions, spent_cents) \
         SELECT id, s.n, s.n, 100 * s.n FROM benefit, (SELECT 2 AS n UNION ALL SELECT 5) s",
    ] {
        seeded
            .db
            .execute_unprepared(sql)
            .await
            .expect("budget slots");
    }
    let before = crate::helpers::scalar(&seeded.db, given).await;
    let codes = "SELECT CAST(SUM(id * (interests * 64 + services)) AS BIGINT) FROM member";
    let codes_before = crate::helpers::scalar(&seeded.db, codes).await;
    let unpacked = |column: &str| {
        format!(
            "SELECT member_id, code FROM {} c ORDER BY member_id, code",
            crate::helpers::member_codes(column)
        )
    };
    let interests = crate::helpers::pairs(&seeded.db, &unpacked("interests")).await;
    let services = crate::helpers::pairs(&seeded.db, &unpacked("services")).await;
    let mut one = sea_orm::ConnectOptions::new(seeded.url.clone());
    one.max_connections(1).sqlx_logging(false);
    let one = sea_orm::Database::connect(one)
        .await
        .expect("one connection");
    // Migration 25's undo (after 26's, which only drops the kept entry
    // figures) gives every member's codes back as rows, each code where the
    // bit the tests write out says.
    migration::Migrator::down(&one, Some(2))
        .await
        .expect("undo 26 and 25");
    for (rows, table, column) in [
        (&interests, "member_interest", "interest"),
        (&services, "member_service", "service"),
    ] {
        let sql = format!("SELECT member_id, {column} FROM {table} ORDER BY member_id, {column}");
        assert_eq!(&crate::helpers::pairs(&one, &sql).await, rows, "{table}");
    }
    migration::Migrator::down(&one, Some(undo - 2))
        .await
        .expect("undo");
    migration::Migrator::up(&one, None).await.expect("redo");
    one.close().await.expect("close");
    // Migration 24 moved the benefits' counters to budget slots and back.
    assert_eq!(before, 7 * 1_000_000 + 700);
    assert_eq!(crate::helpers::scalar(&seeded.db, given).await, before);
    let upgraded = brand_gateway::segments::check_cube(&seeded.db)
        .await
        .expect("check");
    assert_eq!(
        (upgraded.join_days, upgraded.join_days_differing),
        (check.join_days, 0),
        "{upgraded:?}"
    );
    // Migration 25 unpacked the members' interests and services into rows
    // of their own and packed them again: the same members hold the same
    // codes, and the cube still matches them.
    assert_eq!(
        crate::helpers::scalar(&seeded.db, codes).await,
        codes_before
    );
    assert_eq!(upgraded.differing, 0, "{upgraded:?}");

    // The member rows change in the database only: the check must notice.
    let drift = async |sql: &str| {
        seeded.db.execute_unprepared(sql).await.expect("change");
        brand_gateway::segments::check_cube(&seeded.db)
            .await
            .expect("check")
    };
    // One member's interests.
    let drifted =
        drift("UPDATE member SET interests = 0 WHERE id = (SELECT MIN(id) FROM member)").await;
    assert!(drifted.differing > 0, "{drifted:?}");
    assert_eq!(drifted.join_days_differing, 0, "{drifted:?}");
    // A store member's paid status.
    let drifted = drift(
        "UPDATE member SET paid_member = NOT paid_member WHERE id = (SELECT MIN(member_id) FROM store_membership)",
    )
    .await;
    assert!(drifted.join_days_differing > 0, "{drifted:?}");

    seeded
        .db
        .execute_unprepared("DELETE FROM member_snapshot")
        .await
        .expect("delete");
    let error = brand_gateway::segments::cube::refresh(
        &seeded.db,
        &crate::helpers::blobs(),
        crate::helpers::as_of(),
    )
    .await
    .expect_err("no snapshot");
    assert_eq!(
        error.to_string(),
        "no current member snapshot: load the platform data with `seed` or `import` (with --replace)"
    );
}
