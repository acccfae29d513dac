//! The console in a real browser (Debian's chromium, driven through
//! chromedriver) against the real server: one journey per role, asserting
//! what is on screen. Screenshots go to `target/console-screens/` for a
//! human to look at.

use std::time::Duration;

use brand_gateway::auth::Role;
use serde_json::json;

use crate::{
    benefits,
    browser::Browser,
    helpers::{Backend, TestApp},
};

/// An analyst signs in with a token, asks a free platform question and
/// reads it as bars, then a two-way one as a heatmap, then a paid store
/// question with TGI (its cost shown before, the budget and the spend
/// history after), sees the operation in "Show GraphQL", and switches to
/// English.
pub(crate) async fn an_analyst_asks_and_reads_a_chart(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.token(Role::BrandAnalyst, Some(1)).await;
    let browser = Browser::start("zh-CN").await;

    browser.goto(&app.url("/console")).await;
    let html = browser.wait("html").await;
    assert_eq!(
        browser.attr(&html, "lang").await.as_deref(),
        Some("zh-CN"),
        "Accept-Language picks Chinese"
    );
    browser.wait_text("form.sign-in h2", "登录").await;
    browser.type_into("#token", &token).await;
    browser.click_text("登录").await;

    // Signed in: the brand and role in the header, the audience tab.
    browser.wait_text("header .who", "品牌分析师").await;
    browser.wait_text("nav.tabs", "人群洞察").await;
    // A one-way platform question is a slice of the platform release.
    browser.wait_text(".cost", "免费").await;
    browser.click_text("提问").await;
    let bars = browser.wait_all("svg.chart g.cell", 6).await;
    let mut labels = Vec::new();
    for bar in &bars {
        labels.push(browser.attr(bar, "data-label").await.unwrap_or_default());
    }
    assert_eq!(
        labels,
        ["青铜", "白银", "黄金", "铂金", "钻石", "黑钻"],
        "one bar per growth tier, in order, in Chinese"
    );
    browser.wait_text(".summary", "本次免费").await;
    browser.screenshot("analyst-bars-zh").await;
    // Its trend: this epoch's answer, one line per tier.
    browser.click_text("各数据期趋势").await;
    let lines = browser.wait_all("svg.lines g.series", 1).await;
    assert!(!lines.is_empty());
    // Kept by name, and loaded back after the builder changed.
    browser.type_into("#save-name", "各等级人数").await;
    browser.click_text("保存").await;
    let first = "fieldset.breakdown label.stacked:nth-of-type(1) select";
    browser.select(first, "AGE_BAND").await;
    browser.select("fieldset.saved select", "各等级人数").await;
    browser.wait_value(first, "GROWTH_TIER").await;
    // The first view marked when its data was on screen (the console bench
    // reads this mark).
    let ready = browser
        .execute("return performance.getEntriesByName('console:ready').length;")
        .await;
    assert_eq!(ready, 1, "one ready mark per page load");

    // Two breakdowns: a heatmap, tiers by city tier.
    let second = "fieldset.breakdown label.stacked:nth-of-type(2) select";
    browser.select(second, "CITY_TIER").await;
    browser.wait_text(".cost", "免费").await;
    browser.click_text("提问").await;
    let cells = browser.wait_all("svg.heatmap g.cell", 36).await;
    assert_eq!(cells.len(), 36, "6 tiers × 6 city tiers");
    browser.screenshot("analyst-heatmap-zh").await;

    // The store's members with TGI: paid, and the cost says so first.
    browser.select(second, "").await;
    browser.click("input[name=population][value=STORE]").await;
    browser
        .click("//label[contains(@class,'choice')][normalize-space(.)='TGI']/input")
        .await;
    let cost = browser.wait_text(".cost", "本次提问将花费 ε").await;
    let spends_before = browser.find_all("ol.spends li").await.len();
    browser.click_text("提问").await;
    browser.wait_text(".summary", "本次花费 ε").await;
    browser.select(".toolbar select", "TGI").await;
    browser.wait(".chart .reference").await;
    browser.wait_text(".legend", "TGI = 100").await;
    let spends = browser.wait_all("ol.spends li", spends_before + 1).await;
    assert_eq!(
        spends.len(),
        spends_before + 1,
        "the spend is listed ({cost})"
    );
    // Asked again, the same question is free.
    browser.wait_text(".cost", "免费").await;
    browser.wait_text("aside.budget", "重置").await;
    browser.screenshot("analyst-tgi-zh").await;
    // Beside the platform: the same breakdown's shares, free.
    browser.wait_text(".answer", "免费：平台发布切片").await;
    browser.click_text("与平台会员对比占比").await;
    let sides = browser.wait_all(".side-by-side svg.chart", 2).await;
    assert_eq!(sides.len(), 2);
    let platform_bars = browser
        .wait_all(".side-by-side figure:nth-of-type(2) g.cell", 6)
        .await;
    assert_eq!(platform_bars.len(), 6);

    // The operation, as a partner would send it.
    browser.click_text("显示 GraphQL").await;
    let shown = browser
        .wait_text(".graphql", "query Audience($question: AudienceQuestion!)")
        .await;
    assert!(shown.contains("\"population\": \"STORE\""), "{shown}");
    // GraphiQL, served from the binary, opens with it and the token.
    let console_tab = browser.window().await;
    browser
        .click("//div[@class='operation'][.//strong[.='Audience']]//button")
        .await;
    browser.switch_to_other_window(&console_tab).await;
    browser.wait(".graphiql-container").await;
    browser
        .wait_text(".graphiql-query-editor", "AudienceQuestion")
        .await;
    browser.click(".graphiql-execute-button").await;
    browser.wait_text(".result-window", "\"audience\"").await;
    browser.screenshot("graphiql").await;
    browser.close_window(&console_tab).await;

    // English, kept for the tab.
    browser.select("header select", "en").await;
    browser.wait_text("nav.tabs", "Audience").await;
    browser.wait_text("aside.budget", "Privacy budget").await;
    browser.screenshot("analyst-tgi-en").await;

    fits_a_tablet(&browser, "analyst-tablet-en").await;

    browser.close().await;
    app.stop().await;
}

/// On a tablet (820 px) the panels stack: nothing is wider than the screen.
async fn fits_a_tablet(browser: &Browser, screenshot: &str) {
    browser.resize(820, 1180).await;
    let overflow = browser
        .execute("return document.documentElement.scrollWidth - window.innerWidth;")
        .await;
    assert!(
        overflow.as_i64().is_some_and(|o| o <= 0),
        "{screenshot} overflows by {overflow}"
    );
    browser.screenshot(screenshot).await;
}

/// A store operator follows a sign-in link, starts a benefit with a
/// percentage the API refuses (the message under that field), fixes it,
/// saves the draft, previews its reach and submits it for review.
pub(crate) async fn an_operator_creates_previews_and_submits_a_benefit(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.token(Role::BrandOperator, Some(1)).await;
    let browser = Browser::start("zh-CN").await;

    browser
        .goto(&app.url(&format!("/console#token={token}")))
        .await;
    browser.wait_text("nav.tabs", "会员权益").await;
    let url = browser.current_url().await;
    assert!(
        !url.contains("token"),
        "the token leaves the address bar: {url}"
    );

    browser.click_text("新建权益").await;
    browser.type_into("[id='f-name']", "金卡会员专享折扣").await;
    browser
        .type_into("[id='f-kind.percentOff.percent']", "80")
        .await;
    browser.select("[id='f-targeting.minTier']", "GOLD").await;
    browser
        .type_into("[id='f-budget.totalMoneyCents']", "5000")
        .await;
    browser.click("#f-upgrading").await;
    browser
        .click("//label[contains(., '需付费会员')]/input")
        .await;
    browser.type_into("[id='f-upgrade.value']", "25").await;
    browser.click_text("保存为草稿").await;
    let error = browser
        .wait_text(
            "[data-field='kind.percentOff.percent'] .field-error",
            "1 to 50",
        )
        .await;
    assert!(
        error.contains("80"),
        "the API's message, on the field: {error}"
    );
    browser.screenshot("operator-field-error-zh").await;

    browser
        .type_into("[id='f-kind.percentOff.percent']", "20")
        .await;
    browser.click_text("保存为草稿").await;
    browser.wait_text("h2", "金卡会员专享折扣").await;
    browser.wait_text("h2 .badge", "草稿").await;
    browser.wait_text("dl.facts", "¥5,000").await;

    browser.click_text("预估覆盖").await;
    let reach = browser.wait_text(".reach", "约").await;
    assert!(reach.contains("名会员"), "{reach}");

    browser.click_text("提交审核").await;
    browser.wait_text("h2 .badge", "待审核").await;
    browser.wait_text("ol.timeline", "提交审核").await;
    browser.screenshot("operator-submitted-zh").await;

    // The API agrees with the screen.
    let data = app
        .data(
            &token,
            "{ benefits(first: 10, states: [PENDING_REVIEW]) { nodes { id definition { name value targeting { minTier } budget { totalMoneyCents } upgrade { paidMember value } } } } }",
            json!({}),
        )
        .await;
    let id = data["benefits"]["nodes"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        data["benefits"]["nodes"],
        json!([{ "id": id, "definition": {
            "name": "金卡会员专享折扣", "value": 20,
            "targeting": { "minTier": "GOLD" }, "budget": { "totalMoneyCents": 500_000 },
            "upgrade": { "paidMember": true, "value": 25 }
        } }])
    );

    browser.click_text("← 会员权益").await;
    browser.wait_text("table.list", "金卡会员专享折扣").await;
    browser.screenshot("operator-list-zh").await;

    // The stacking matrix: as written, the draft reaches gold and above.
    browser.click_text("叠加矩阵").await;
    let cells = browser.wait_all("td.matrix-cell", 6).await;
    assert!(cells.len() >= 6, "a cell per tier at least");
    browser
        .click("//label[contains(., '包含草稿')]/input")
        .await;
    let gold = browser
        .wait_text("td[data-cell='GOLD/false/false']", "金卡会员专享折扣")
        .await;
    assert!(!gold.is_empty());
    let silver = browser.wait("td[data-cell='SILVER/false/false']").await;
    let silver = browser.text(&silver).await.unwrap_or_default();
    assert!(
        !silver.contains("金卡会员专享折扣"),
        "below its lowest tier: {silver}"
    );
    browser.screenshot("operator-stacking-zh").await;

    // The member centre takes approved, active or paused benefits: the
    // draft in review is refused, with the API's reason, and nothing saved.
    browser.click_text("会员中心").await;
    browser.select("#centre-add", &id).await;
    browser.click_text("添加").await;
    browser.wait_text("ol.centre", "金卡会员专享折扣").await;
    browser.click_text("保存黄金页面").await;
    browser
        .wait_text(".error", "approved, active or paused")
        .await;
    let centre = app
        .data(&token, "{ memberCentre { tier benefitIds } }", json!({}))
        .await;
    let saved = centre["memberCentre"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| {
            c["benefitIds"]
                .as_array()
                .is_some_and(|ids| ids.contains(&json!(id)))
        });
    assert!(!saved, "refused, so not saved: {centre}");
    browser.screenshot("operator-centre-zh").await;

    // The calendar: the draft starts tomorrow (Shanghai), so tomorrow's
    // cell holds it and today's does not.
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    browser.click_text("权益日历").await;
    let tomorrow = today + chrono::Days::new(1);
    browser
        .wait_text(&format!("[data-day='{tomorrow}']"), "金卡会员专享折扣")
        .await;
    let today_cell = browser.wait(&format!("[data-day='{today}']")).await;
    let today_text = browser.text(&today_cell).await.unwrap_or_default();
    assert!(
        !today_text.contains("金卡会员专享折扣"),
        "it starts tomorrow: {today_text}"
    );
    browser.screenshot("operator-calendar-zh").await;

    // A live 10% for everyone, redeemed twice by the checkout today: its
    // page shows both in today's column.
    let reviewer = app.token(Role::Reviewer, None).await;
    let service = app.token(Role::Service, None).await;
    let mut ten = benefits::input(json!({ "percentOff": { "percent": 10 } }));
    ten["name"] = json!("全店九折");
    let ten = benefits::live(&app, &token, &reviewer, ten).await;
    let ten_id = ten["id"].as_str().unwrap_or_default().to_owned();
    for (member, key) in [(1, "r-1"), (2, "r-2")] {
        let redeemed = benefits::redeem(&app, &service, &ten_id, member, key, 10_000).await;
        assert_eq!(redeemed["redemption"]["granted"], true, "{redeemed}");
    }
    browser
        .goto(&app.url(&format!("/console#/benefits/{ten_id}")))
        .await;
    let total = browser.wait_text(".redemption-days", "30 天内 2 次").await;
    assert!(total.contains("¥20"), "two 10% of ¥100: {total}");
    let columns = browser.wait_all(".redemption-days g.column", 30).await;
    let last = browser
        .attr(columns.last().expect("30 columns"), "data-value")
        .await;
    assert_eq!(last.as_deref(), Some("2"), "today's column");

    // Try a basket on a made-up GOLD paid member: the screen shows what
    // the API's sampleQuote says.
    browser.click_text("试算订单").await;
    browser.select("#bk-tier", "GOLD").await;
    browser.click("#bk-paid").await;
    browser.type_into("#bk-unit-0", "299").await;
    browser.click_text("添加商品").await;
    browser.type_into("#bk-sku-1", "SKU-2").await;
    browser.type_into("#bk-quantity-1", "2").await;
    browser.type_into("#bk-unit-1", "50.5").await;
    browser.click("form button[type='submit']").await;
    let quote = app
        .data(
            &token,
            "query($i: SampleQuoteInput!) { sampleQuote(input: $i) { totalCents benefits { benefitId outcome } } }",
            json!({ "i": {
                "member": { "tier": "GOLD", "paidMember": true, "blackCard": false },
                "lines": [
                    { "sku": "SKU-1", "quantity": 1, "unitCents": 29_900 },
                    { "sku": "SKU-2", "quantity": 2, "unitCents": 5_050 },
                ],
            } }),
        )
        .await["sampleQuote"]
        .clone();
    let total_cents = quote["totalCents"].as_i64().expect("total");
    let yuan = format!("¥{}.{:02}", total_cents / 100, total_cents % 100);
    browser.wait_text("dd.total", &yuan).await;
    let granted = browser.wait(&format!("tr[data-benefit='{ten_id}']")).await;
    assert_eq!(
        browser.attr(&granted, "data-outcome").await.as_deref(),
        quote["benefits"]
            .as_array()
            .and_then(|b| b.iter().find(|b| b["benefitId"] == json!(ten_id)))
            .and_then(|b| b["outcome"].as_str())
    );
    browser.screenshot("operator-basket-zh").await;
    // A paid SILVER member is not in the programme: the API says so.
    browser.select("#bk-tier", "SILVER").await;
    browser.click("form button[type='submit']").await;
    browser.wait_text("form .error", "GOLD").await;
    fits_a_tablet(&browser, "operator-basket-tablet-zh").await;
    browser.click_text("权益日历").await;
    browser
        .wait_text(&format!("[data-day='{tomorrow}']"), "金卡会员专享折扣")
        .await;
    fits_a_tablet(&browser, "operator-calendar-tablet-zh").await;
    browser.close().await;
    app.stop().await;
}

/// A reviewer finds a screened application in the queue, reads its
/// scorecard, claims it, is told a rejection needs a reason (under the
/// reasons), and asks the brand for information instead, which the
/// brand's operator answers in their own console; then rejects a
/// brand's benefit, after reading its risk signals, with the note a
/// rejection needs.
pub(crate) async fn a_reviewer_claims_and_decides(backend: Backend) {
    use crate::onboarding::{case, create, landed, policy, step};
    let app = case(backend).await;
    let op = app
        .token_as(Role::BrandOperator, Some(10), "lumiere-op")
        .await;
    let reviewer = app.token_as(Role::Reviewer, None, "alice").await;
    policy(&app, false).await;
    let draft = landed(create(&app, &op).await);
    let review = landed(step(&app, &op, "submitApplication", &draft).await);
    assert_eq!(review["state"], "IN_REVIEW");
    // An admitted brand's benefit waits for review too.
    let olde = app.token_as(Role::BrandOperator, Some(13), "olde-op").await;
    let offer = crate::benefits::input(json!({ "percentOff": { "percent": 8 } }));
    let offer = crate::benefits::landed(crate::benefits::create(&app, &olde, offer).await);
    let sent = crate::benefits::step(&app, &olde, "SUBMIT", &offer).await;
    assert_eq!(crate::benefits::landed(sent)["state"], "PENDING_REVIEW");
    let browser = Browser::start("zh-CN").await;

    browser
        .goto(&app.url(&format!("/console#token={reviewer}")))
        .await;
    browser.wait_text("nav.tabs", "入驻审核").await;
    browser.wait_text("table.list", "Lumiere").await;
    browser.screenshot("reviewer-queue-zh").await;
    browser.click("//a[normalize-space(.)='Lumiere']").await;

    let verdicts = browser.wait_all("table.scorecard tbody tr", 5).await;
    assert_eq!(verdicts.len(), 5, "one row per measure");
    browser.wait_text("table.scorecard", "市场份额").await;
    browser.wait_text("table.scorecard", "≥").await;
    browser.click_text("领取").await;
    browser.wait_text("h2", "Lumiere").await;
    browser.wait_text(".columns", "由 alice 处理中").await;

    browser.select("#decision", "REJECT").await;
    browser.click_text("提交决定").await;
    let error = browser
        .wait_text("[data-field='reasonCodes'] .field-error", "reason")
        .await;
    assert!(!error.is_empty());
    browser.screenshot("reviewer-decide-error-zh").await;

    browser.select("#decision", "REQUEST_INFO").await;
    browser
        .type_into("#note", "请提供近三个月的品牌授权书。")
        .await;
    browser.click_text("提交决定").await;
    browser.wait_text("h2 .badge", "待补充").await;
    browser.wait_text("ol.timeline", "要求补充信息").await;
    browser
        .wait_text("ol.timeline", "请提供近三个月的品牌授权书。")
        .await;
    browser.screenshot("reviewer-decided-zh").await;

    let seen = crate::onboarding::read(&app, &reviewer, &review).await;
    assert_eq!(seen["state"], "NEEDS_INFO");

    // The brand's operator sees the question and answers it in their tab.
    let brand = Browser::start("zh-CN").await;
    brand.goto(&app.url(&format!("/console#token={op}"))).await;
    brand.click_text("入驻申请").await;
    brand
        .wait_text("main", "请提供近三个月的品牌授权书。")
        .await;
    brand.wait_text("main .badge", "待补充").await;
    brand
        .type_into("#applying-text", "授权书已上传至资质文件。")
        .await;
    brand.click_text("发送答复").await;
    brand.wait_text("main .badge", "审核中").await;
    brand.wait_text("ol.timeline", "品牌答复").await;
    brand.screenshot("operator-application-answered-zh").await;
    brand.close().await;
    let seen = crate::onboarding::read(&app, &reviewer, &review).await;
    assert_eq!(
        seen["state"], "IN_REVIEW",
        "answered, back with the reviewer"
    );

    // The benefit: its risk signals, and a rejection needs a note.
    browser.click_text("权益审核").await;
    browser.wait_text("table.list", "Olde").await;
    browser
        .click("//a[normalize-space(.)='Member price']")
        .await;
    browser.wait_text(".signals", "无上限").await;
    browser.click_text("驳回").await;
    browser.wait("[data-field='note'] .field-error").await;
    browser
        .type_into("#review-note", "本类目折扣不超过 5%。")
        .await;
    browser.click_text("驳回").await;
    browser.wait_text("h2 .badge", "已驳回").await;
    browser.screenshot("reviewer-benefit-rejected-zh").await;

    // The at-risk list shows what the API finds.
    let at_risk = app
        .data(&reviewer, "{ atRiskBrands { brand { name } } }", json!({}))
        .await;
    let at_risk = at_risk["atRiskBrands"].as_array().map_or(0, Vec::len);
    browser.click_text("风险品牌").await;
    browser.wait_text("main", "不再达标的已入驻品牌").await;
    if at_risk == 0 {
        browser.wait_text("main", "所有已入驻品牌均达标").await;
    } else {
        let rows = browser.wait_all("main table.list tbody tr", at_risk).await;
        assert_eq!(rows.len(), at_risk);
    }
    browser.close().await;
    app.stop().await;
}

/// An admin finds a credential by its holder, revokes it, and the token
/// it was issued with stops working at once; an issued token is shown
/// once; a criteria policy gets a new version after a refused threshold.
/// In English.
pub(crate) async fn an_admin_revokes_a_credential_and_its_token_stops(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.token(Role::Admin, None).await;
    let doomed = app
        .token_as(Role::BrandAnalyst, Some(1), "leaving-analyst")
        .await;
    let probe = "{ viewer { role } }";
    assert_eq!(app.graphql(&doomed, probe, json!({})).await.0, 200);
    let browser = Browser::start("en-US").await;

    browser
        .goto(&app.url(&format!("/console#token={admin}")))
        .await;
    browser.wait_text("nav.tabs", "Credentials").await;
    let row = "//tr[@data-subject='leaving-analyst']";
    browser.wait(row).await;
    browser.screenshot("admin-credentials-en").await;
    browser.click(&format!("{row}//button")).await;
    for _ in 0..100 {
        if browser.find_all(row).await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        browser.find_all(row).await.is_empty(),
        "a revoked credential leaves the list of live ones"
    );
    let (status, body) = app.graphql(&doomed, probe, json!({})).await;
    assert_eq!(status, 401, "the revoked token is refused: {body}");

    browser.type_into("#issue-brand", "1").await;
    browser.type_into("#issue-subject", "new-analyst").await;
    browser.click_text("Issue").await;
    let shown = browser.wait_text(".issued", "shown this once").await;
    assert!(!shown.is_empty());
    let token = browser.wait("textarea.token").await;
    let token = browser.property(&token, "value").await;
    let fresh = app.graphql(&token, probe, json!({})).await;
    assert_eq!(fresh.0, 200, "the issued token works: {:?}", fresh.1);
    assert_eq!(fresh.1["data"]["viewer"]["role"], "BRAND_ANALYST");
    browser.wait("//tr[@data-subject='new-analyst']").await;
    browser.screenshot("admin-issued-en").await;

    // A category's criteria: a threshold out of range is refused on its
    // field, a valid one becomes the next version, newest first.
    browser.click_text("Criteria policies").await;
    browser.wait_text("table.policies tbody tr", "v0").await;
    browser.type_into("#po-minMarketShare", "150").await;
    browser
        .click("//button[starts-with(normalize-space(.), 'Save as v')]")
        .await;
    browser
        .wait("[data-field='minMarketShare'] .field-error")
        .await;
    browser.type_into("#po-minMarketShare", "2.5").await;
    browser
        .click("//button[starts-with(normalize-space(.), 'Save as v')]")
        .await;
    let newest = browser.wait_text("table.policies tbody tr", "v1").await;
    assert!(
        newest.contains("2.50%"),
        "the new version, newest first: {newest}"
    );
    // Previewing a much higher market-share floor lists the admitted
    // brands that would newly fail it: the API's list, nothing saved.
    browser.type_into("#po-minMarketShare", "50").await;
    browser.click_text("Preview the effect").await;
    let heading = browser
        .wait_text(".policy-preview", "Would newly fail")
        .await;
    let policy = app
        .data(
            &admin,
            "{ criteriaPolicy(category: \"BEAUTY\") { version minVoluntaryMentionShare maxPriceVolatility minSuperMemberRatio maxDeepDiscountDays } }",
            json!({}),
        )
        .await["criteriaPolicy"]
        .clone();
    assert_eq!(policy["version"], 1, "the preview saved nothing");
    let mut input = policy.clone();
    input.as_object_mut().expect("policy").remove("version");
    input["category"] = json!("BEAUTY");
    input["minMarketShare"] = json!(0.5);
    let preview = app
        .data(
            &admin,
            "query($i: PreviewCriteriaPolicyInput!) { previewCriteriaPolicy(input: $i) { newlyFailing { brand { id } } } }",
            json!({ "i": input }),
        )
        .await;
    let failing: Vec<String> = preview["previewCriteriaPolicy"]["newlyFailing"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["brand"]["id"].as_str().map(str::to_owned))
        .collect();
    assert!(!failing.is_empty(), "a 50% floor fails someone: {preview}");
    assert!(
        heading.contains(&format!("Would newly fail: {}", failing.len())),
        "{heading}"
    );
    let mut shown = Vec::new();
    for row in browser.find_all(".policy-preview tr[data-brand]").await {
        shown.extend(browser.attr(&row, "data-brand").await);
    }
    assert_eq!(shown, failing);
    browser.screenshot("admin-policies-en").await;

    // A new brand: a taken name is refused on the field, a new one listed.
    browser.click_text("Brands").await;
    browser.wait("table.brands tbody tr").await;
    browser.type_into("#brand-name", "Dorum Beauty").await;
    browser.click_text("Create the brand").await;
    browser.wait("[data-field='name'] .field-error").await;
    browser.type_into("#brand-name", "Nova Skin Lab").await;
    browser.click_text("Create the brand").await;
    let created = browser
        .wait_text("form [role=status]", "Nova Skin Lab")
        .await;
    let listed = app
        .data(
            &admin,
            "{ brands(first: 50, filter: { status: PROSPECT }) { nodes { id name status } } }",
            json!({}),
        )
        .await;
    let nova = listed["brands"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|b| b["name"] == "Nova Skin Lab")
        .unwrap_or_else(|| panic!("the new brand is a prospect: {listed}"));
    let id = nova["id"].as_str().unwrap_or_default();
    assert!(created.contains(&format!("id {id}")), "{created}");

    // Brand 1's privacy budget: 150% is refused on its field; 60% to the
    // analysts is what the brand's own budgets then say.
    browser.select("#split-brand", "1").await;
    browser.type_into("#split-share", "150").await;
    browser.click_text("Save the split").await;
    browser
        .wait("[data-field='analystShare'] .field-error")
        .await;
    browser.type_into("#split-share", "60").await;
    browser.click_text("Save the split").await;
    browser
        .wait_text("table.split-budgets tr[data-pool='ANALYSTS']", "Analysts")
        .await;
    let analyst = app.token(Role::BrandAnalyst, Some(1)).await;
    let budgets = app
        .data(
            &analyst,
            "{ privacyBudgets { pool dailyLimit } }",
            json!({}),
        )
        .await;
    let limit = |pool: &str| {
        budgets["privacyBudgets"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|b| b["pool"] == pool)
            .and_then(|b| b["dailyLimit"].as_f64())
            .unwrap_or_else(|| panic!("{pool}: {budgets}"))
    };
    let share = limit("ANALYSTS") / (limit("ANALYSTS") + limit("OPERATORS"));
    assert!((share - 0.6).abs() < 1e-9, "{budgets}");
    browser.screenshot("admin-brands-en").await;
    browser.close().await;
    app.stop().await;
}
