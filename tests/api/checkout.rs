//! Checkout through the real server: a quote says what a member gets on a
//! basket and why (the same outcome the cell analysis shows for the
//! member's cell, and single-benefit eligibility agrees); an order applies
//! it once per reference; a refund gives budgets and caps back once.

use brand_gateway::auth::Role;
use serde_json::{Value, json};

use crate::{
    benefits::{input, live, local},
    helpers::{Backend, TestApp, TestDb, error_codes, scalar, write},
    onboarding,
};

const QUOTE_FIELDS: &str = r#"
fragment Q on Quote {
  subtotalCents discountCents totalCents
  lines { sku quantity unitCents subtotalCents discountCents totalCents }
  benefits { benefitId kind outcome overriddenBy reason value amountCents }
}"#;

async fn quote(app: &TestApp, token: &str, member: i64, lines: &Value) -> (u16, Value) {
    app.graphql(
        token,
        &format!("query($i: QuoteInput!) {{ quote(input: $i) {{ ...Q }} }} {QUOTE_FIELDS}"),
        json!({ "i": { "brandId": "13", "memberRef": member.to_string(), "lines": lines } }),
    )
    .await
}

async fn sample_quote(app: &TestApp, token: &str, member: Value, lines: &Value) -> (u16, Value) {
    app.graphql(
        token,
        &format!(
            "query($i: SampleQuoteInput!) {{ sampleQuote(input: $i) {{ ...Q }} }} {QUOTE_FIELDS}"
        ),
        json!({ "i": { "member": member, "lines": lines } }),
    )
    .await
}

async fn place(app: &TestApp, token: &str, order: &str, member: i64, lines: &Value) -> Value {
    app.data(
        token,
        &format!(
            "mutation($i: PlaceOrderInput!) {{ placeOrder(input: $i) {{
               order {{ orderRef replayed refundedAt quote {{ ...Q }} }} userErrors {{ field code message }} }} }} {QUOTE_FIELDS}"
        ),
        json!({ "i": { "brandId": "13", "orderRef": order, "memberRef": member.to_string(), "lines": lines } }),
    )
    .await["placeOrder"]
        .clone()
}

async fn refund(app: &TestApp, token: &str, order: &str) -> Value {
    app.data(
        token,
        "mutation($o: String!) { refundOrder(brandId: \"13\", orderRef: $o) {
           order { replayed refundedAt quote { discountCents } } userErrors { field code } } }",
        json!({ "o": order }),
    )
    .await["refundOrder"]
        .clone()
}

/// `(benefitId, outcome, amountCents)` of a quote's benefits, in order.
fn outcomes(quote: &Value) -> Vec<(String, String, i64)> {
    quote["benefits"]
        .as_array()
        .expect("benefits")
        .iter()
        .map(|b| {
            (
                b["benefitId"].as_str().unwrap_or_default().to_owned(),
                b["outcome"].as_str().unwrap_or_default().to_owned(),
                b["amountCents"].as_i64().unwrap_or(-1),
            )
        })
        .collect()
}

fn stacking(mode: &str, combines: &[&str], priority: i64) -> Value {
    json!({ "mode": mode, "combinesWith": combines, "priority": priority })
}

async fn spent(app: &TestApp, benefit: &str) -> (i64, i64) {
    // The budget's counters are the sums of its slots.
    let read = |column: &str| {
        format!(
            "SELECT CAST(COALESCE(SUM({column}), 0) AS BIGINT) FROM benefit_budget_slot \
             WHERE benefit_id = {benefit}"
        )
    };
    (
        scalar(&app.db.db, &read("redemptions")).await,
        scalar(&app.db.db, &read("spent_cents")).await,
    )
}

pub(crate) async fn quotes_orders_and_refunds_follow_one_engine(backend: Backend) {
    // Olde (13) is admitted and has no other benefits; member 2 is a GOLD
    // paid member, member 1 a BRONZE non-paid one.
    let app = onboarding::case(backend).await;
    let op = app.token(Role::BrandOperator, Some(13)).await;
    let reviewer = app.token(Role::Reviewer, None).await;
    let checkout = app.token(Role::Service, None).await;
    let mut ten = input(json!({ "percentOff": { "percent": 10 } }));
    ten["targeting"] = json!({ "paidMember": true });
    ten["stacking"] = stacking("BEST_OF", &["FIXED_COUPON"], 10);
    let mut five = input(json!({ "percentOff": { "percent": 5 } }));
    five["stacking"] = stacking("BEST_OF", &["FIXED_COUPON"], 10);
    let mut coupon =
        input(json!({ "fixedCoupon": { "amountCents": 2000, "thresholdCents": 19900 } }));
    coupon["stacking"] = stacking("COMBINABLE", &["PERCENT_OFF"], 5);
    coupon["budget"] = json!({ "perMember": 1 });
    let mut returns = input(json!({ "freeReturnShipping": true }));
    returns["stacking"] = stacking("EXCLUSIVE", &[], 1);
    let mut ids = Vec::new();
    for definition in [ten, five, coupon, returns] {
        let benefit = live(&app, &op, &reviewer, definition).await;
        ids.push(benefit["id"].as_str().expect("id").to_owned());
    }
    let [ten, five, coupon, returns] = [0, 1, 2, 3].map(|i| ids[i].clone());

    // ¥300 in two lines for the GOLD paid member: 10% (the 5% loses to it),
    // then the ¥20 coupon on what is left, free returns beside them.
    let basket = json!([
        { "sku": "SERUM", "quantity": 2, "unitCents": 10000 },
        { "sku": "MASK", "quantity": 1, "unitCents": 10000 },
    ]);
    let (status, body) = quote(&app, &checkout, 2, &basket).await;
    assert_eq!(status, 200, "{body}");
    let q = body["data"]["quote"].clone();
    assert_eq!(
        outcomes(&q),
        [
            (ten.clone(), "GRANTED".to_owned(), 3000),
            (coupon.clone(), "GRANTED".to_owned(), 2000),
            (returns.clone(), "GRANTED".to_owned(), 0),
            (five.clone(), "OVERRIDDEN".to_owned(), 0),
        ]
    );
    let lost = &q["benefits"][3];
    assert_eq!(
        (lost["overriddenBy"].as_str(), lost["reason"].as_str()),
        (Some(ten.as_str()), Some("BEST_OF_LOWER"))
    );
    assert_eq!(
        (
            q["subtotalCents"].as_i64(),
            q["discountCents"].as_i64(),
            q["totalCents"].as_i64()
        ),
        (Some(30_000), Some(5_000), Some(25_000))
    );
    // 5,000 over 20,000 : 10,000 is 3,333.33 and 1,666.67: the odd fen goes
    // to the larger remainder.
    let discounts: Vec<i64> = q["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| l["discountCents"].as_i64().unwrap_or(-1))
        .collect();
    assert_eq!(discounts, [3333, 1667]);

    // An operator trying the basket on a made-up GOLD paid member who has
    // used nothing gets the member's quote: the same engine and budgets.
    let sample =
        |tier: &str, paid: bool| json!({ "tier": tier, "paidMember": paid, "blackCard": false });
    let (status, body) = sample_quote(&app, &op, sample("GOLD", true), &basket).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["sampleQuote"], q);
    // The programme has no paid SILVER member; the checkout can't ask.
    let (_, body) = sample_quote(&app, &op, sample("SILVER", true), &basket).await;
    assert_eq!(error_codes(&body), ["BAD_USER_INPUT"], "{body}");
    assert!(body.to_string().contains("GOLD"), "{body}");
    let (_, body) = sample_quote(&app, &checkout, sample("GOLD", true), &basket).await;
    assert_eq!(error_codes(&body), ["FORBIDDEN"], "{body}");

    // The analysis shows the same for the member's cell, in the same order.
    let analysis = app
        .data(
            &op,
            "{ benefitCellAnalysis { cells { tier paidMember blackCard applied { benefitId } overridden { benefitId by reason } } } }",
            json!({}),
        )
        .await;
    let cell = analysis["benefitCellAnalysis"]["cells"]
        .as_array()
        .and_then(|cells| {
            cells
                .iter()
                .find(|c| c["tier"] == "GOLD" && c["paidMember"] == true && c["blackCard"] == false)
        })
        .cloned()
        .expect("GOLD paid cell");
    let applied: Vec<&str> = cell["applied"]
        .as_array()
        .expect("applied")
        .iter()
        .filter_map(|a| a["benefitId"].as_str())
        .collect();
    assert_eq!(applied, [ten.as_str(), coupon.as_str(), returns.as_str()]);
    assert_eq!(
        cell["overridden"],
        json!([{ "benefitId": five, "by": ten, "reason": "BEST_OF_LOWER" }])
    );
    // Single-benefit eligibility asks the same engine.
    let eligibility = app
        .data(
            &checkout,
            "query($b: ID!) { benefitEligibility(benefitId: $b, memberRef: \"2\", orderCents: 30000) { outcome amountCents } }",
            json!({ "b": five }),
        )
        .await;
    assert_eq!(
        eligibility["benefitEligibility"],
        json!({ "outcome": "OVERRIDDEN", "amountCents": 0 })
    );

    // What the store offers the member, whatever the basket: the same
    // outcomes, no money.
    let offers = app
        .data(
            &checkout,
            "{ memberOffers(brandId: \"13\", memberRef: \"2\") { benefitId kind outcome overriddenBy reason value amountCents } }",
            json!({}),
        )
        .await;
    let listed = outcomes(&json!({ "benefits": offers["memberOffers"] }));
    assert_eq!(
        listed,
        [
            (ten.clone(), "GRANTED".to_owned(), 0),
            (coupon.clone(), "GRANTED".to_owned(), 0),
            (returns.clone(), "GRANTED".to_owned(), 0),
            (five.clone(), "OVERRIDDEN".to_owned(), 0),
        ]
    );

    // An order applies the quote, once per reference.
    let first = place(&app, &checkout, "o-1", 2, &basket).await;
    assert_eq!(first["userErrors"], json!([]), "{first}");
    assert_eq!(first["order"]["quote"], q);
    assert_eq!(first["order"]["replayed"], false);
    assert_eq!(spent(&app, &ten).await, (1, 3000));
    assert_eq!(spent(&app, &coupon).await, (1, 2000));
    assert_eq!(spent(&app, &five).await, (0, 0));
    let again = place(&app, &checkout, "o-1", 2, &basket).await;
    assert_eq!(again["order"]["replayed"], true);
    assert_eq!(again["order"]["quote"], q);
    assert_eq!(spent(&app, &ten).await, (1, 3000), "a replay counts once");
    let other_basket = json!([{ "sku": "SERUM", "quantity": 1, "unitCents": 10000 }]);
    let reused = place(&app, &checkout, "o-1", 2, &other_basket).await;
    assert!(reused["order"].is_null());
    assert_eq!(reused["userErrors"][0]["code"], "CONFLICT");
    assert_eq!(
        reused["userErrors"][0]["field"],
        json!(["input", "orderRef"])
    );

    // The coupon is once per member: the next order goes without it.
    let second = place(&app, &checkout, "o-2", 2, &basket).await;
    let second_quote = &second["order"]["quote"];
    assert_eq!(second_quote["discountCents"], 3000);
    assert!(outcomes(second_quote).contains(&(coupon.clone(), "MEMBER_CAP_REACHED".to_owned(), 0)));

    // A refund gives the budgets and the member's cap back, once.
    let refunded = refund(&app, &checkout, "o-1").await;
    assert_eq!(refunded["userErrors"], json!([]));
    assert!(refunded["order"]["refundedAt"].is_string());
    assert_eq!(refunded["order"]["replayed"], false);
    assert_eq!(spent(&app, &ten).await, (1, 3000), "o-2 still counts");
    assert_eq!(spent(&app, &coupon).await, (0, 0));
    let twice = refund(&app, &checkout, "o-1").await;
    assert_eq!(twice["order"]["replayed"], true);
    assert_eq!(spent(&app, &coupon).await, (0, 0));
    let (_, body) = quote(&app, &checkout, 2, &basket).await;
    assert!(outcomes(&body["data"]["quote"]).contains(&(
        coupon.clone(),
        "GRANTED".to_owned(),
        2000
    )));

    // Per business day, the redemptions that still count and the money
    // kept add up to the benefit's counters: o-1 was refunded, o-2 not.
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let from = (today - chrono::Days::new(2)).to_string();
    let yesterday = (today - chrono::Days::new(1)).to_string();
    let three_days = async |benefit: &String| {
        app.data(
            &op,
            "query($b: ID!, $f: Date!) { benefitRedemptionsByDay(benefitId: $b, from: $f, days: 3) { date redemptions spentCents } }",
            json!({ "b": benefit, "f": from }),
        )
        .await["benefitRedemptionsByDay"]
        .clone()
    };
    for (benefit, kept) in [(&ten, (1, 3000)), (&coupon, (0, 0))] {
        assert_eq!(spent(&app, benefit).await, kept);
        assert_eq!(
            three_days(benefit).await,
            json!([
                { "date": from, "redemptions": 0, "spentCents": 0 },
                { "date": yesterday, "redemptions": 0, "spentCents": 0 },
                { "date": today.to_string(), "redemptions": kept.0, "spentCents": kept.1 },
            ])
        );
    }
    // Granted a day earlier, the same redemptions count on yesterday.
    {
        use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, sea_query::Expr};
        entity::redemption::Entity::update_many()
            .col_expr(
                entity::redemption::Column::CreatedAt,
                Expr::value(chrono::Utc::now() - chrono::Duration::days(1)),
            )
            .filter(entity::redemption::Column::BenefitId.eq(ten.parse::<i64>().expect("id")))
            .exec(&app.db.db)
            .await
            .expect("backdate");
    }
    assert_eq!(
        three_days(&ten).await,
        json!([
            { "date": from, "redemptions": 0, "spentCents": 0 },
            { "date": yesterday, "redemptions": 1, "spentCents": 3000 },
            { "date": today.to_string(), "redemptions": 0, "spentCents": 0 },
        ])
    );

    // A BRONZE non-paid member gets the 5% instead, made up or real.
    let (_, body) = sample_quote(&app, &op, sample("BRONZE", false), &basket).await;
    let made_up = body["data"]["sampleQuote"].clone();
    let (_, body) = quote(&app, &checkout, 1, &basket).await;
    assert_eq!(made_up, body["data"]["quote"]);
    let bronze = outcomes(&body["data"]["quote"]);
    assert!(
        bronze.contains(&(five.clone(), "GRANTED".to_owned(), 1500)),
        "{bronze:?}"
    );
    assert!(bronze.contains(&(ten.clone(), "NOT_TARGETED".to_owned(), 0)));

    // Bad baskets name the field; quotes and orders are the checkout's.
    let bad = place(
        &app,
        &checkout,
        "o-3",
        2,
        &json!([{ "sku": "SERUM", "quantity": 0, "unitCents": 100 }]),
    )
    .await;
    assert_eq!(
        bad["userErrors"][0]["field"],
        json!(["input", "lines", "0", "quantity"])
    );
    let huge = place(
        &app,
        &checkout,
        "o-3",
        2,
        &json!([{ "sku": "SERUM", "quantity": 9999, "unitCents": 1_000_000_000 }]),
    )
    .await;
    assert_eq!(
        huge["userErrors"][0]["field"],
        json!(["input", "lines", "0", "unitCents"])
    );
    assert_eq!(
        scalar(&app.db.db, "SELECT COUNT(*) FROM checkout_order").await,
        2
    );
    let (_, body) = quote(&app, &op, 2, &basket).await;
    assert_eq!(error_codes(&body), ["FORBIDDEN"]);
    let (_, body) = app
        .graphql(
            &checkout,
            "{ order(brandId: \"10\", orderRef: \"o-1\") { orderRef } }",
            json!({}),
        )
        .await;
    assert_eq!(error_codes(&body), ["NOT_FOUND"], "orders are per store");
    app.stop().await;
}

/// `refundOrder` with units under a reference, as the checkout sends it.
async fn refund_units(app: &TestApp, token: &str, reference: Option<&str>, lines: Value) -> Value {
    app.data(
        token,
        "mutation($r: String, $l: [RefundLineInput!]) {
           refundOrder(brandId: \"13\", orderRef: \"p-1\", refundRef: $r, lines: $l) {
             order { replayed refundedAt refunds { refundRef lines { line sku quantity } benefits { benefitId amountCents released } } }
             userErrors { field code message } } }",
        json!({ "r": reference, "l": lines }),
    )
    .await["refundOrder"]
        .clone()
}

pub(crate) async fn partial_refunds_give_back_their_part_once(backend: Backend) {
    let app = onboarding::case(backend).await;
    let op = app.token(Role::BrandOperator, Some(13)).await;
    let reviewer = app.token(Role::Reviewer, None).await;
    let checkout = app.token(Role::Service, None).await;
    let mut ten = input(json!({ "percentOff": { "percent": 10 } }));
    ten["stacking"] = stacking("COMBINABLE", &["FIXED_COUPON"], 10);
    let mut coupon =
        input(json!({ "fixedCoupon": { "amountCents": 2000, "thresholdCents": 19900 } }));
    coupon["stacking"] = stacking("COMBINABLE", &["PERCENT_OFF"], 5);
    coupon["budget"] = json!({ "perMember": 1 });
    let mut returns = input(json!({ "freeReturnShipping": true }));
    returns["stacking"] = stacking("COMBINABLE", &[], 1);
    let mut ids = Vec::new();
    for definition in [ten, coupon, returns] {
        let benefit = live(&app, &op, &reviewer, definition).await;
        ids.push(benefit["id"].as_str().expect("id").to_owned());
    }
    let [ten, coupon, returns] = [0, 1, 2].map(|i| ids[i].clone());
    let basket = json!([
        { "sku": "SERUM", "quantity": 2, "unitCents": 10000 },
        { "sku": "MASK", "quantity": 1, "unitCents": 10000 },
    ]);
    let placed = app
        .data(
            &checkout,
            "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) {
               order { quote { lines { sku discountCents benefits { benefitId amountCents } } } } userErrors { code } } }",
            json!({ "i": { "brandId": "13", "orderRef": "p-1", "memberRef": "2", "lines": basket } }),
        )
        .await;
    // 10% of ¥300 is ¥20 + ¥10 by line; the ¥20 coupon on the ¥270 left
    // splits 18,000 : 9,000, the odd fen to the larger remainder.
    assert_eq!(
        placed["placeOrder"]["order"]["quote"]["lines"],
        json!([
            { "sku": "SERUM", "discountCents": 3333, "benefits": [
                { "benefitId": ten, "amountCents": 2000 }, { "benefitId": coupon, "amountCents": 1333 } ] },
            { "sku": "MASK", "discountCents": 1667, "benefits": [
                { "benefitId": ten, "amountCents": 1000 }, { "benefitId": coupon, "amountCents": 667 } ] },
        ])
    );
    assert_eq!(spent(&app, &ten).await, (1, 3000));
    assert_eq!(spent(&app, &coupon).await, (1, 2000));

    // One serum back: half of each share on its line, nothing released.
    let one = refund_units(
        &app,
        &checkout,
        Some("r-1"),
        json!([{ "sku": "SERUM", "quantity": 1 }]),
    )
    .await;
    assert_eq!(one["userErrors"], json!([]), "{one}");
    assert_eq!(one["order"]["replayed"], false);
    assert!(one["order"]["refundedAt"].is_null());
    assert_eq!(
        one["order"]["refunds"],
        json!([{ "refundRef": "r-1", "lines": [{ "line": 0, "sku": "SERUM", "quantity": 1 }], "benefits": [
            { "benefitId": ten, "amountCents": 1000, "released": false },
            { "benefitId": coupon, "amountCents": 666, "released": false } ] }])
    );
    assert_eq!(spent(&app, &ten).await, (1, 2000));
    assert_eq!(spent(&app, &coupon).await, (1, 1334));
    // The same reference answers the same; with other units it conflicts.
    let replay = refund_units(
        &app,
        &checkout,
        Some("r-1"),
        json!([{ "sku": "SERUM", "quantity": 1 }]),
    )
    .await;
    assert_eq!(replay["order"]["replayed"], true);
    assert_eq!(spent(&app, &coupon).await, (1, 1334));
    let reused = refund_units(
        &app,
        &checkout,
        Some("r-1"),
        json!([{ "sku": "MASK", "quantity": 1 }]),
    )
    .await;
    assert_eq!(
        (
            reused["userErrors"][0]["code"].as_str(),
            reused["userErrors"][0]["field"].clone()
        ),
        (Some("CONFLICT"), json!(["refundRef"]))
    );
    // Bad asks name their field and change nothing.
    for (reference, lines, field) in [
        (
            Some("r-2"),
            json!([{ "sku": "SERUM", "quantity": 2 }]),
            json!(["lines", "0", "quantity"]),
        ),
        (
            Some("r-2"),
            json!([{ "sku": "LIPSTICK", "quantity": 1 }]),
            json!(["lines", "0", "sku"]),
        ),
        (
            None,
            json!([{ "sku": "MASK", "quantity": 1 }]),
            json!(["refundRef"]),
        ),
    ] {
        let bad = refund_units(&app, &checkout, reference, lines).await;
        assert_eq!(bad["userErrors"][0]["field"], field, "{bad}");
        assert_eq!(bad["userErrors"][0]["code"], "BAD_USER_INPUT");
    }
    assert_eq!(spent(&app, &ten).await, (1, 2000));
    // The coupon is not back for the member while the order stands.
    let (_, body) = quote(&app, &checkout, 2, &basket).await;
    assert!(outcomes(&body["data"]["quote"]).contains(&(
        coupon.clone(),
        "MEMBER_CAP_REACHED".to_owned(),
        0
    )));

    // Everything left: the rest of every share, every benefit released.
    let rest = refund_units(&app, &checkout, None, Value::Null).await;
    assert_eq!(rest["userErrors"], json!([]), "{rest}");
    assert!(rest["order"]["refundedAt"].is_string());
    assert_eq!(
        rest["order"]["refunds"][1],
        json!({ "refundRef": null, "lines": [
            { "line": 0, "sku": "SERUM", "quantity": 1 }, { "line": 1, "sku": "MASK", "quantity": 1 } ],
            "benefits": [
            { "benefitId": ten, "amountCents": 2000, "released": true },
            { "benefitId": coupon, "amountCents": 1334, "released": true },
            { "benefitId": returns, "amountCents": 0, "released": true } ] })
    );
    assert_eq!(spent(&app, &ten).await, (0, 0));
    assert_eq!(spent(&app, &coupon).await, (0, 0));
    assert_eq!(spent(&app, &returns).await, (0, 0));
    let again = refund_units(&app, &checkout, None, Value::Null).await;
    assert_eq!(again["order"]["replayed"], true);
    let more = refund_units(
        &app,
        &checkout,
        Some("r-3"),
        json!([{ "sku": "MASK", "quantity": 1 }]),
    )
    .await;
    assert_eq!(
        more["userErrors"][0]["message"],
        "`lines.0.quantity` exceeds the 0 units of `MASK` left to refund"
    );
    assert_eq!(spent(&app, &ten).await, (0, 0));
    let (_, body) = quote(&app, &checkout, 2, &basket).await;
    assert!(outcomes(&body["data"]["quote"]).contains(&(
        coupon.clone(),
        "GRANTED".to_owned(),
        2000
    )));
    app.stop().await;
}

/// A store (brand 1) whose members' birthdays are known relative to today
/// in Asia/Shanghai: member 1's is today, member 2's was 20 days ago,
/// member 3's is unknown.
async fn birthday_case(backend: Backend) -> TestApp {
    use chrono::{Datelike as _, Duration};
    let dir = tempfile::tempdir().expect("dir");
    let today = brand_gateway::platform::business_today();
    // A leap-day today would make "1990-02-29" invalid: use the 28th then.
    let on = |day: chrono::NaiveDate| {
        day.with_year(1990)
            .unwrap_or_else(|| chrono::NaiveDate::from_ymd_opt(1990, 2, 28).expect("date"))
    };
    let (today_1990, earlier_1990) = (on(today), on(today - Duration::days(20)));
    write(
        dir.path(),
        "categories.csv",
        "id,code,name\n1,BEAUTY,Beauty\n",
    );
    write(
        dir.path(),
        "brands.csv",
        "id,name,category_code,status\n1,Lumiere,BEAUTY,ACTIVE\n",
    );
    write(
        dir.path(),
        "members.csv",
        &format!(
            "id,points,paid_member,black_card,birth_year,gender,city_tier,annual_spend_cents,birth_date\n\
             1,1500,true,false,1990,F,TIER1,100,{today_1990}\n\
             2,1500,true,false,1990,F,TIER1,100,{earlier_1990}\n\
             3,1500,true,false,1990,F,TIER1,100,\n"
        ),
    );
    let db = TestDb::new(backend).await;
    brand_gateway::import::run(&db.db, &crate::helpers::blobs(), dir.path(), false)
        .await
        .expect("import");
    TestApp::start(db, &[]).await
}

pub(crate) async fn birthdays_and_caps_follow_the_calendar(backend: Backend) {
    let app = birthday_case(backend).await;
    let op = app.token(Role::BrandOperator, Some(1)).await;
    let reviewer = app.token(Role::Reviewer, None).await;
    let checkout = app.token(Role::Service, None).await;
    let mut gift =
        input(json!({ "birthdayGift": { "gift": "Lip balm", "daysBefore": 7, "daysAfter": 7 } }));
    gift["stacking"] = stacking("COMBINABLE", &[], 1);
    let gift = live(&app, &op, &reviewer, gift).await;
    let gift = gift["id"].as_str().expect("id").to_owned();
    let mut daily = input(json!({ "pointsMultiplier": { "multiplierTenths": 20 } }));
    daily["budget"] = json!({ "perMemberPerDay": 1, "perMemberPerYear": 5 });
    let daily = live(&app, &op, &reviewer, daily).await;
    let daily = daily["id"].as_str().expect("id").to_owned();
    // Xiaomi UP style: ¥10 back on the second order within 30 days.
    let rebate =
        input(json!({ "orderRebate": { "nthOrder": 2, "periodDays": 30, "amountCents": 1000 } }));
    let rebate = live(&app, &op, &reviewer, rebate).await;
    let rebate = rebate["id"].as_str().expect("id").to_owned();
    let basket = json!([{ "sku": "SERUM", "quantity": 1, "unitCents": 10000 }]);
    let order = |reference: &str, member: i64| {
        let (app, checkout, basket) = (&app, &checkout, &basket);
        let reference = reference.to_owned();
        async move {
            let placed = app
                .data(
                    checkout,
                    &format!(
                        "mutation($i: PlaceOrderInput!) {{ placeOrder(input: $i) {{ order {{ quote {{ ...Q }} }} userErrors {{ code }} }} }} {QUOTE_FIELDS}"
                    ),
                    json!({ "i": { "brandId": "1", "orderRef": reference, "memberRef": member.to_string(), "lines": basket } }),
                )
                .await;
            outcomes(&placed["placeOrder"]["order"]["quote"])
        }
    };
    let outcome_of = |outcomes: &[(String, String, i64)], id: &str| {
        outcomes
            .iter()
            .find(|(b, _, _)| b == id)
            .map(|(_, o, _)| o.clone())
            .expect("benefit in quote")
    };

    // Inside the window: granted once; the next order the same birthday
    // is capped; outside the window or without a birth date, never.
    let first = order("b-1", 1).await;
    assert_eq!(outcome_of(&first, &gift), "GRANTED");
    assert_eq!(outcome_of(&first, &daily), "GRANTED");
    assert_eq!(outcome_of(&first, &rebate), "ORDER_COUNT_NOT_REACHED");
    let second = order("b-2", 1).await;
    assert!(
        second.contains(&(rebate.clone(), "GRANTED".to_owned(), 1000)),
        "{second:?}"
    );
    assert_eq!(outcome_of(&second, &gift), "MEMBER_CAP_REACHED");
    assert_eq!(
        outcome_of(&second, &daily),
        "MEMBER_CAP_REACHED",
        "one a day"
    );
    assert_eq!(
        outcome_of(&order("b-3", 2).await, &gift),
        "OUTSIDE_BIRTHDAY_WINDOW"
    );
    assert_eq!(
        outcome_of(&order("b-4", 3).await, &gift),
        "BIRTH_DATE_UNKNOWN"
    );
    // A refunded order gives the birthday back.
    let refunded = app
        .data(
            &checkout,
            "mutation { refundOrder(brandId: \"1\", orderRef: \"b-1\") { userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(refunded["refundOrder"]["userErrors"], json!([]));
    let again = order("b-5", 1).await;
    assert_eq!(outcome_of(&again, &gift), "GRANTED");
    assert_eq!(outcome_of(&again, &daily), "GRANTED");
    // Its second order again, but the rebate is once per 30 days.
    assert_eq!(outcome_of(&again, &rebate), "MEMBER_CAP_REACHED");

    // Early access: inside its early hours and only on a basket holding
    // one of its SKUs; a window not yet open grants nothing.
    let open = input(
        json!({ "earlyAccess": { "hoursEarly": 48, "skus": ["NEW-1", "NEW-2"], "publicAt": local(1) } }),
    );
    let open = live(&app, &op, &reviewer, open).await;
    let open = open["id"].as_str().expect("id").to_owned();
    let later = input(
        json!({ "earlyAccess": { "hoursEarly": 2, "skus": ["NEW-1"], "publicAt": local(3) } }),
    );
    let later = live(&app, &op, &reviewer, later).await;
    let later = later["id"].as_str().expect("id").to_owned();
    let early = |lines: Value| {
        let (app, checkout) = (&app, &checkout);
        async move {
            let body = app
                .data(
                    checkout,
                    &format!(
                        "query($i: QuoteInput!) {{ quote(input: $i) {{ ...Q }} }} {QUOTE_FIELDS}"
                    ),
                    json!({ "i": { "brandId": "1", "memberRef": "2", "lines": lines } }),
                )
                .await;
            outcomes(&body["quote"])
        }
    };
    let with_sku = early(json!([
        { "sku": "SERUM", "quantity": 1, "unitCents": 10000 },
        { "sku": "NEW-2", "quantity": 1, "unitCents": 50000 }
    ]))
    .await;
    assert_eq!(outcome_of(&with_sku, &open), "GRANTED");
    assert_eq!(outcome_of(&with_sku, &later), "OUTSIDE_EARLY_ACCESS_WINDOW");
    let without = early(json!([{ "sku": "SERUM", "quantity": 1, "unitCents": 10000 }])).await;
    assert_eq!(outcome_of(&without, &open), "NO_EARLY_ACCESS_SKU");
    // The member's offers and the single-benefit check are not about a
    // basket: both say the open one is granted.
    let offers = app
        .data(
            &checkout,
            "{ memberOffers(brandId: \"1\", memberRef: \"2\") { benefitId outcome } }",
            json!({}),
        )
        .await;
    let offered: Vec<(String, String)> = offers["memberOffers"]
        .as_array()
        .expect("offers")
        .iter()
        .map(|o| {
            (
                o["benefitId"].as_str().unwrap_or_default().to_owned(),
                o["outcome"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert!(
        offered.contains(&(open.clone(), "GRANTED".to_owned())),
        "{offered:?}"
    );
    assert!(
        offered.contains(&(later.clone(), "OUTSIDE_EARLY_ACCESS_WINDOW".to_owned())),
        "{offered:?}"
    );

    // Nested caps are checked on input.
    let mut bad = input(json!({ "pointsMultiplier": { "multiplierTenths": 20 } }));
    bad["budget"] = json!({ "perMemberPerDay": 3, "perMemberPerYear": 2 });
    let (benefit, errors) = crate::benefits::create(&app, &op, bad).await;
    assert!(benefit.is_null());
    assert_eq!(
        errors,
        [(
            "BAD_USER_INPUT".to_owned(),
            "input.budget.perMemberPerDay".to_owned()
        )]
    );
    app.stop().await;
}

pub(crate) async fn reviewers_see_risk_signals_before_deciding(backend: Backend) {
    let app = onboarding::case(backend).await;
    let op = app.token(Role::BrandOperator, Some(13)).await;
    let reviewer = app.token(Role::Reviewer, None).await;
    let mut ten = input(json!({ "percentOff": { "percent": 10 } }));
    ten["budget"] = json!({ "totalRedemptions": 1000 });
    let ten = live(&app, &op, &reviewer, ten).await;
    // An exclusive 3% for black-card holders, in review.
    let mut three = input(json!({ "percentOff": { "percent": 3 } }));
    three["targeting"] = json!({ "blackCard": true });
    three["stacking"] = stacking("EXCLUSIVE", &[], 50);
    let draft = crate::benefits::landed(crate::benefits::create(&app, &op, three).await);
    let pending = crate::benefits::landed(crate::benefits::step(&app, &op, "SUBMIT", &draft).await);
    let signals = |id: Value| {
        let (app, reviewer) = (&app, &reviewer);
        async move {
            app.data(
                reviewer,
                "query($id: ID!) { benefit(id: $id) { reviewSignals {
                   dead exposureCents conflicts { kept lost }
                   losingCells { lower { tier paidMember blackCard } higher { tier paidMember blackCard } benefitId by } } } }",
                json!({ "id": id }),
            )
            .await["benefit"]["reviewSignals"]
                .clone()
        }
    };
    let s = signals(pending["id"].clone()).await;
    assert!(s["dead"].is_null(), "{s}");
    assert!(
        s["exposureCents"].is_null(),
        "a percentage without budgets is unbounded"
    );
    let losing = s["losingCells"].as_array().expect("losing cells");
    assert!(
        losing.contains(&json!({
            "lower": { "tier": "DIAMOND", "paidMember": true, "blackCard": false },
            "higher": { "tier": "DIAMOND", "paidMember": true, "blackCard": true },
            "benefitId": ten["id"], "by": pending["id"],
        })),
        "{s}"
    );
    // The 10% itself: 1,000 grants of at most 10% of ¥10,000,000.
    let s = signals(ten["id"].clone()).await;
    assert_eq!(s["exposureCents"], 100_000_000_000_i64);
    // The brand's operator sees the same; another brand's does not.
    let other = app.token(Role::BrandOperator, Some(10)).await;
    let (_, body) = app
        .graphql(
            &other,
            "query($id: ID!) { benefit(id: $id) { reviewSignals { dead } } }",
            json!({ "id": pending["id"] }),
        )
        .await;
    assert_eq!(error_codes(&body), ["NOT_FOUND"]);
    app.stop().await;
}

/// 200 members order at once from a store whose coupon has 20 redemptions
/// left: exactly 20 orders get it, and an order either lands whole (with
/// or without the coupon, as its quote said) or is refused `CONFLICT` with
/// nothing recorded when the coupon ran out between its quote and its
/// grant.
pub(crate) async fn concurrent_orders_never_overspend(backend: Backend) {
    let app = TestApp::spawn_with(backend, &["--rate-limit-burst", "100000"]).await;
    orders_never_overspend(&[std::sync::Arc::new(app)]).await;
}

/// 200 orders at once for a coupon with a budget of 20, spread over the
/// gateway instances `apps` (one database): exactly 20 get it, and every
/// order lands or is refused whole.
pub(crate) async fn orders_never_overspend(apps: &[std::sync::Arc<TestApp>]) {
    let app = &apps[0];
    let op = app.token(Role::BrandOperator, Some(1)).await;
    let reviewer = app.token(Role::Reviewer, None).await;
    let checkout = app.token(Role::Service, None).await;
    let mut coupon =
        input(json!({ "fixedCoupon": { "amountCents": 1000, "thresholdCents": 5000 } }));
    coupon["stacking"] = stacking("COMBINABLE", &["PERCENT_OFF"], 5);
    coupon["budget"] = json!({ "totalRedemptions": 20 });
    let coupon = live(app, &op, &reviewer, coupon).await;
    let coupon = coupon["id"].as_str().expect("id").to_owned();
    let mut percent = input(json!({ "percentOff": { "percent": 5 } }));
    percent["stacking"] = stacking("COMBINABLE", &["FIXED_COUPON"], 10);
    live(app, &op, &reviewer, percent).await;
    let basket = json!([{ "sku": "SERUM", "quantity": 1, "unitCents": 10000 }]);
    let results = futures_util::future::join_all((1..=200).map(|member| {
        let app = apps[member % apps.len()].clone();
        let (checkout, basket) = (checkout.clone(), basket.clone());
        tokio::spawn(async move {
            app.data(
                &checkout,
                "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) {
                   order { quote { benefits { benefitId outcome } } } userErrors { code } } }",
                json!({ "i": { "brandId": "1", "orderRef": format!("c-{member}"),
                               "memberRef": member.to_string(), "lines": basket } }),
            )
            .await["placeOrder"]
                .clone()
        })
    }))
    .await;
    let results: Vec<Value> = results.into_iter().map(|r| r.expect("task")).collect();
    let placed: Vec<&Value> = results.iter().filter(|r| r["order"].is_object()).collect();
    let refused = results
        .iter()
        .filter(|r| r["userErrors"][0]["code"] == "CONFLICT")
        .count();
    assert_eq!(
        placed.len() + refused,
        200,
        "every order lands or is refused whole"
    );
    let with_coupon = placed
        .iter()
        .filter(|r| {
            r["order"]["quote"]["benefits"].as_array().is_some_and(|b| {
                b.iter()
                    .any(|b| b["benefitId"] == coupon && b["outcome"] == "GRANTED")
            })
        })
        .count();
    assert_eq!(with_coupon, 20, "exactly the coupon's budget");
    let (redemptions, spent) = spent(app, &coupon).await;
    assert_eq!((redemptions, spent), (20, 20 * 1000));
    assert_eq!(
        scalar(&app.db.db, "SELECT COUNT(*) FROM checkout_order").await,
        i64::try_from(placed.len()).expect("count")
    );
    assert_eq!(
        scalar(&app.db.db, "SELECT COUNT(*) FROM redemption WHERE granted").await,
        i64::try_from(placed.len() + 20).expect("count"),
        "a refused order recorded nothing"
    );
}
