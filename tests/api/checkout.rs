//! Checkout through the real server: a quote says what a member gets on a
//! basket and why (the same outcome the cell analysis shows for the
//! member's cell, and single-benefit eligibility agrees); an order applies
//! it once per reference; a refund gives budgets and caps back once.

use brand_gateway::auth::Role;
use serde_json::{Value, json};

use crate::{
    benefits::{input, live},
    helpers::{Backend, TestApp, error_codes, scalar},
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
    let read = |column: &str| format!("SELECT {column} FROM benefit WHERE id = {benefit}");
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

    // A BRONZE non-paid member gets the 5% instead.
    let (_, body) = quote(&app, &checkout, 1, &basket).await;
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
