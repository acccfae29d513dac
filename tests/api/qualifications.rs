//! Qualification documents and tracked conditions through the real server:
//! multipart uploads checked by content and size, stored by hash and
//! served back only to their brand and reviewers; the category's required
//! documents gating approval (the authorisation chain included); expiry
//! warnings; conditions with deadlines, evidence and findings, a missed one
//! sending the brand to the watchlist.

use brand_gateway::auth::Role;
use chrono::{Duration, Utc};
use entity::{application_condition, application_document};
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, sea_query::Expr};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::helpers::{Backend, TestApp};
use crate::onboarding::{
    actions, case, case_with, create, decide, landed, last_event, policy_with, read, refused, step,
};

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n";
const LICENCE_CODE: &str = "91350100M000100Y43";

const DOCUMENT: &str = "id kind state number holder chain expiresOn fileName contentType \
    sizeBytes sha256 downloadPath rejection reviewNote reviewedBy";

/// Sets BEAUTY's policy: every brand with data passes the measures, and
/// `required` documents are needed.
async fn require_documents(app: &TestApp, required: Value) {
    policy_with(app, false, json!({ "requiredDocuments": required })).await;
}

/// Files a document by a GraphQL multipart request; returns the HTTP
/// status and the body.
async fn upload(
    app: &TestApp,
    token: &str,
    input: Value,
    file_name: &str,
    content: &[u8],
) -> (u16, Value) {
    // The spec's placeholder: the file part replaces this null.
    let mut input = input;
    input["file"] = Value::Null;
    let operations = json!({
        "query": format!("mutation($i: FileDocumentInput!) {{ fileDocument(input: $i) {{ \
            document {{ {DOCUMENT} }} userErrors {{ field message code }} }} }}"),
        "variables": { "i": input },
    });
    let boundary = "brand-gateway-test-boundary";
    let mut body = Vec::new();
    for (name, value) in [
        ("operations", operations.to_string()),
        ("map", json!({ "0": ["variables.i.file"] }).to_string()),
    ] {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"0\"; filename=\"{file_name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("upload");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

/// Files a document that must land; returns it.
async fn filed(app: &TestApp, token: &str, input: Value, content: &[u8]) -> Value {
    let (status, body) = upload(app, token, input, "scan.pdf", content).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["fileDocument"]["userErrors"],
        json!([]),
        "{body}"
    );
    body["data"]["fileDocument"]["document"].clone()
}

/// The `(code, last field segment)` of a refused upload.
async fn upload_refused(
    app: &TestApp,
    token: &str,
    input: Value,
    content: &[u8],
) -> (String, String) {
    let (status, body) = upload(app, token, input, "scan.pdf", content).await;
    assert_eq!(status, 200, "{body}");
    let errors = &body["data"]["fileDocument"]["userErrors"];
    assert!(body["data"]["fileDocument"]["document"].is_null(), "{body}");
    assert!(errors.as_array().is_some_and(|e| e.len() == 1), "{body}");
    (
        errors[0]["code"].as_str().unwrap_or_default().to_owned(),
        errors[0]["field"]
            .as_array()
            .and_then(|f| f.last())
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
    )
}

fn licence(application: &Value, holder: &str) -> Value {
    json!({
        "applicationId": application["id"], "kind": "BUSINESS_LICENSE",
        "number": LICENCE_CODE, "holder": holder,
    })
}

fn trademark(application: &Value, holder: &str, expires_on: &str) -> Value {
    json!({
        "applicationId": application["id"], "kind": "TRADEMARK_REGISTRATION",
        "trademarkStatus": "REGISTERED", "niceClass": 3, "number": "30123456",
        "holder": holder, "expiresOn": expires_on,
    })
}

async fn review(app: &TestApp, token: &str, document: &Value, verdict: Value) -> Value {
    let mut args = json!({ "id": document["id"] });
    args.as_object_mut()
        .expect("object")
        .extend(verdict.as_object().expect("object").clone());
    app.data(
        token,
        &format!(
            "mutation($id: ID!, $verdict: DocumentVerdict!, $rejection: DocumentRejection, $note: String) {{ \
             r: reviewDocument(documentId: $id, verdict: $verdict, rejection: $rejection, note: $note) {{ \
             document {{ {DOCUMENT} }} userErrors {{ field message code }} }} }}"
        ),
        args,
    )
    .await["r"]
        .clone()
}

async fn qualifications(app: &TestApp, token: &str, application: &Value) -> Value {
    app.data(
        token,
        "query($id: ID!) { application(id: $id) { qualifications { required complete gaps { kind problem } } \
         documents { id state } } }",
        json!({ "id": application["id"] }),
    )
    .await["application"]
        .clone()
}

async fn download(app: &TestApp, token: &str, document: &Value) -> reqwest::Response {
    let path = document["downloadPath"].as_str().expect("downloadPath");
    app.client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("download")
}

pub(crate) async fn documents_are_checked_and_gate_approval(backend: Backend) {
    let app = case_with(backend, &["--max-document-bytes", "4096"]).await;
    let lumiere = app
        .token_as(Role::BrandOperator, Some(10), "lumiere-op")
        .await;
    let rosa = app.token_as(Role::BrandOperator, Some(11), "rosa-op").await;
    let alice = app.token_as(Role::Reviewer, None, "alice").await;
    require_documents(&app, json!(["TRADEMARK_REGISTRATION", "BUSINESS_LICENSE"])).await;
    let draft = landed(create(&app, &lumiere).await);
    let next_year = (Utc::now() + Duration::days(365)).date_naive().to_string();

    // Checked by content, size and the stated details, each naming its field.
    let cases = [
        (
            licence(&draft, "Lumiere Trading Co."),
            b"MZ\x90\x00 not a scan".as_slice(),
            "file",
        ),
        (
            json!({ "applicationId": draft["id"], "kind": "BUSINESS_LICENSE", "number": "91350100M000100Y44", "holder": "x" }),
            PDF,
            "number",
        ),
        (
            json!({ "applicationId": draft["id"], "kind": "TRADEMARK_REGISTRATION", "trademarkStatus": "REGISTERED",
                    "number": "1", "holder": "x", "expiresOn": next_year }),
            PDF,
            "niceClass",
        ),
        (trademark(&draft, "x", "2020-01-01"), PDF, "expiresOn"),
        (
            json!({ "applicationId": draft["id"], "kind": "BRAND_AUTHORIZATION", "number": "A-1",
                    "holder": "Lumiere Trading Co.", "chain": ["Lumiere Trading Co."], "expiresOn": next_year }),
            PDF,
            "chain",
        ),
    ];
    for (input, content, field) in cases {
        assert_eq!(
            upload_refused(&app, &lumiere, input, content).await,
            ("BAD_USER_INPUT".to_owned(), field.to_owned())
        );
    }
    let (status, _) = upload(
        &app,
        &lumiere,
        licence(&draft, "x"),
        "big.pdf",
        &[b'%'; 5000],
    )
    .await;
    assert_eq!(status, 413, "larger than --max-document-bytes");
    // Another brand's application is not found.
    assert_eq!(
        upload_refused(&app, &rosa, licence(&draft, "x"), PDF).await,
        ("NOT_FOUND".to_owned(), "applicationId".to_owned())
    );

    let licence_doc = filed(&app, &lumiere, licence(&draft, "Lumiere Trading Co."), PDF).await;
    assert_eq!(licence_doc["state"], "PENDING");
    assert_eq!(licence_doc["contentType"], "application/pdf");
    assert_eq!(licence_doc["fileName"], "scan.pdf");
    assert_eq!(licence_doc["sha256"], hex::encode(Sha256::digest(PDF)));
    // The file comes back to its brand and to reviewers, byte for byte.
    for token in [&lumiere, &alice] {
        let response = download(&app, token, &licence_doc).await;
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.headers()["content-type"], "application/pdf");
        assert!(
            response.headers()["content-disposition"]
                .to_str()
                .expect("header")
                .starts_with("attachment")
        );
        assert_eq!(response.bytes().await.expect("body").as_ref(), PDF);
    }
    assert_eq!(
        download(&app, &rosa, &licence_doc).await.status().as_u16(),
        404
    );
    let owned = filed(
        &app,
        &lumiere,
        trademark(&draft, "Lumiere Holdings Ltd.", &next_year),
        PDF,
    )
    .await;

    let review_ready = landed(step(&app, &lumiere, "submitApplication", &draft).await);
    let claimed = landed(step(&app, &alice, "claimApplication", &review_ready).await);
    let checklist = qualifications(&app, &alice, &claimed).await;
    assert_eq!(
        checklist["qualifications"],
        json!({
            "required": ["BUSINESS_LICENSE", "TRADEMARK_REGISTRATION"], "complete": false,
            "gaps": [
                { "kind": "BUSINESS_LICENSE", "problem": "PENDING" },
                { "kind": "TRADEMARK_REGISTRATION", "problem": "PENDING" },
            ],
        })
    );
    refused(
        decide(&app, &alice, &claimed, json!({ "decision": "APPROVE" })).await,
        "ILLEGAL_TRANSITION",
        "applicationId",
    );

    // Reviews: a brand may not review; a rejection needs its reason (and a
    // note for OTHER); a document is reviewed once.
    let (status, body) = app
        .graphql(
            &lumiere,
            "mutation($id: ID!) { reviewDocument(documentId: $id, verdict: VERIFY) { userErrors { code } } }",
            json!({ "id": licence_doc["id"] }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(crate::helpers::error_codes(&body), ["FORBIDDEN"]);
    let missing_reason = review(&app, &alice, &licence_doc, json!({ "verdict": "REJECT" })).await;
    assert_eq!(
        missing_reason["userErrors"][0]["field"],
        json!(["rejection"])
    );
    let no_note = review(
        &app,
        &alice,
        &licence_doc,
        json!({ "verdict": "REJECT", "rejection": "OTHER" }),
    )
    .await;
    assert_eq!(no_note["userErrors"][0]["field"], json!(["note"]));
    let verified = review(&app, &alice, &licence_doc, json!({ "verdict": "VERIFY" })).await;
    assert_eq!(verified["document"]["state"], "VERIFIED");
    assert_eq!(verified["document"]["reviewedBy"], "alice");
    let again = review(&app, &alice, &licence_doc, json!({ "verdict": "VERIFY" })).await;
    assert_eq!(again["userErrors"][0]["code"], "CONFLICT");
    assert_eq!(
        review(&app, &alice, &owned, json!({ "verdict": "VERIFY" })).await["document"]["state"],
        "VERIFIED"
    );

    // The mark belongs to another company: an authorisation chain must lead
    // from its owner to the licensed company.
    assert_eq!(
        qualifications(&app, &alice, &claimed).await["qualifications"]["gaps"],
        json!([{ "kind": "BRAND_AUTHORIZATION", "problem": "CHAIN_MISMATCH" }])
    );
    let wrong_chain = filed(
        &app,
        &lumiere,
        json!({ "applicationId": draft["id"], "kind": "BRAND_AUTHORIZATION", "number": "A-1",
                "holder": "Lumiere Trading Co.", "chain": ["Someone Else", "Lumiere Trading Co."],
                "expiresOn": next_year }),
        PDF,
    )
    .await;
    let rejected = review(
        &app,
        &alice,
        &wrong_chain,
        json!({ "verdict": "REJECT", "rejection": "CHAIN_INCOMPLETE", "note": "The owner is Lumiere Holdings." }),
    )
    .await;
    assert_eq!(rejected["document"]["rejection"], "CHAIN_INCOMPLETE");
    let chain = filed(
        &app,
        &lumiere,
        json!({ "applicationId": draft["id"], "kind": "BRAND_AUTHORIZATION", "number": "A-2",
                "holder": "Lumiere Trading Co.",
                "chain": ["Lumiere Holdings Ltd.", "Lumiere Distribution", "Lumiere Trading Co."],
                "expiresOn": next_year }),
        PDF,
    )
    .await;
    assert_eq!(chain["chain"].as_array().map(Vec::len), Some(3));
    review(&app, &alice, &chain, json!({ "verdict": "VERIFY" })).await;
    assert_eq!(
        qualifications(&app, &alice, &claimed).await["qualifications"]["complete"],
        true
    );
    let claimed = read(&app, &alice, &claimed).await;
    let approved = landed(decide(&app, &alice, &claimed, json!({ "decision": "APPROVE" })).await);
    assert_eq!(approved["state"], "APPROVED");
    let timeline = actions(&approved);
    for action in ["FILE_DOCUMENT", "VERIFY_DOCUMENT", "REJECT_DOCUMENT"] {
        assert!(timeline.iter().any(|a| a == action), "{timeline:?}");
    }

    // The trademark's last valid day comes within 30 days: one warning,
    // however often the scheduler runs.
    app.run_due().await; // other brands' deadlines out of the way
    let soon = (Utc::now() + Duration::days(10)).date_naive();
    let owned_id: i64 = owned["id"]
        .as_str()
        .and_then(|i| i.parse().ok())
        .expect("id");
    application_document::Entity::update_many()
        .col_expr(application_document::Column::ExpiresOn, Expr::value(soon))
        .filter(application_document::Column::Id.eq(owned_id))
        .exec(&app.db.db)
        .await
        .expect("bring the expiry near");
    assert_eq!(app.run_due().await.onboarding.warned, 1);
    assert_eq!(app.run_due().await.onboarding.warned, 0);
    let warned = read(&app, &lumiere, &approved).await;
    let warning = last_event(&warned);
    assert_eq!(warning["action"], "WARN");
    assert!(
        warning["note"]
            .as_str()
            .unwrap_or_default()
            .contains(&format!("valid until {soon}")),
        "{warning}"
    );

    // Once it has expired, a re-evaluation fails on the qualification.
    application_document::Entity::update_many()
        .col_expr(
            application_document::Column::ExpiresOn,
            Expr::value(Utc::now().date_naive() - chrono::Days::new(2)),
        )
        .filter(application_document::Column::Id.eq(owned_id))
        .exec(&app.db.db)
        .await
        .expect("let it expire");
    let lapsed = landed(step(&app, &alice, "reevaluateApplication", &warned).await);
    assert_eq!(lapsed["state"], "WATCHLIST");
    assert_eq!(
        last_event(&lapsed)["reasonCodes"],
        json!(["QUALIFICATION_MISSING"])
    );
    app.stop().await;
}

async fn condition_call(app: &TestApp, token: &str, field: &str, args: Value) -> Value {
    let (params, call_args) = match field {
        "submitConditionEvidence" => (
            "$id: ID!, $evidence: String!, $document: ID",
            "conditionId: $id, evidence: $evidence, documentId: $document",
        ),
        _ => (
            "$id: ID!, $outcome: ConditionOutcome!, $note: String",
            "conditionId: $id, outcome: $outcome, note: $note",
        ),
    };
    app.data(
        token,
        &format!(
            "mutation({params}) {{ r: {field}({call_args}) {{ condition {{ id state evidence \
             resolvedBy resolutionNote }} userErrors {{ field code }} }} }}"
        ),
        args,
    )
    .await["r"]
        .clone()
}

pub(crate) async fn conditions_are_tracked_and_a_missed_one_watchlists(backend: Backend) {
    let app = case(backend).await;
    let lumiere = app
        .token_as(Role::BrandOperator, Some(10), "lumiere-op")
        .await;
    let rosa = app.token_as(Role::BrandOperator, Some(11), "rosa-op").await;
    let alice = app.token_as(Role::Reviewer, None, "alice").await;
    require_documents(&app, json!([])).await;
    let draft = landed(create(&app, &lumiere).await);
    let review_ready = landed(step(&app, &lumiere, "submitApplication", &draft).await);
    let claimed = landed(step(&app, &alice, "claimApplication", &review_ready).await);
    let conditions = json!([
        { "description": "Keep the price CV under 0.05 for the launch month.", "dueInDays": 20 },
        { "description": "Publish the returns policy in the store." },
    ]);
    refused(
        decide(
            &app,
            &alice,
            &claimed,
            json!({ "decision": "APPROVE", "conditions": conditions }),
        )
        .await,
        "BAD_USER_INPUT",
        "conditions",
    );
    refused(
        decide(
            &app,
            &alice,
            &claimed,
            json!({ "decision": "APPROVE_WITH_CONDITIONS", "probationDays": 10,
            "conditions": conditions }),
        )
        .await,
        "BAD_USER_INPUT",
        "dueInDays",
    );
    let probation = landed(
        decide(
            &app,
            &alice,
            &claimed,
            json!({ "decision": "APPROVE_WITH_CONDITIONS", "probationDays": 60,
            "conditions": conditions }),
        )
        .await,
    );
    let listed = app
        .data(
            &lumiere,
            "query($id: ID!) { application(id: $id) { dueAt conditions { id description dueAt state } } }",
            json!({ "id": probation["id"] }),
        )
        .await["application"]
        .clone();
    let items = listed["conditions"].as_array().expect("conditions").clone();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|c| c["state"] == "OPEN"));
    assert!(items[0]["dueAt"].as_str() < items[1]["dueAt"].as_str());
    assert_eq!(
        items[1]["dueAt"], listed["dueAt"],
        "the whole probation by default"
    );

    // Only the brand sends evidence, only for its own conditions.
    let theirs = condition_call(
        &app,
        &rosa,
        "submitConditionEvidence",
        json!({ "id": items[0]["id"], "evidence": "x" }),
    )
    .await;
    assert_eq!(
        theirs["userErrors"],
        json!([{ "field": ["conditionId"], "code": "NOT_FOUND" }])
    );
    let too_early = condition_call(
        &app,
        &alice,
        "resolveCondition",
        json!({ "id": items[1]["id"], "outcome": "MET" }),
    )
    .await;
    assert_eq!(
        too_early["userErrors"],
        json!([{ "field": ["outcome"], "code": "BAD_USER_INPUT" }])
    );
    let evidenced = condition_call(
        &app,
        &lumiere,
        "submitConditionEvidence",
        json!({ "id": items[0]["id"], "evidence": "Price log for the month attached to the store report." }),
    )
    .await;
    assert_eq!(evidenced["condition"]["state"], "EVIDENCED");
    let met = condition_call(
        &app,
        &alice,
        "resolveCondition",
        json!({ "id": items[0]["id"], "outcome": "MET" }),
    )
    .await;
    assert_eq!(met["condition"]["state"], "MET");
    assert_eq!(met["condition"]["resolvedBy"], "alice");
    let unexplained = condition_call(
        &app,
        &alice,
        "resolveCondition",
        json!({ "id": items[1]["id"], "outcome": "MISSED" }),
    )
    .await;
    assert_eq!(
        unexplained["userErrors"],
        json!([{ "field": ["note"], "code": "BAD_USER_INPUT" }])
    );

    // The second condition's deadline passes with no evidence: the
    // scheduler marks it missed, and the brand goes to the watchlist on
    // the same path as a failed re-evaluation.
    let second: i64 = items[1]["id"]
        .as_str()
        .and_then(|i| i.parse().ok())
        .expect("id");
    application_condition::Entity::update_many()
        .col_expr(
            application_condition::Column::DueAt,
            Expr::value(Utc::now() - Duration::minutes(1)),
        )
        .filter(application_condition::Column::Id.eq(second))
        .exec(&app.db.db)
        .await
        .expect("let the deadline pass");
    let report = app.run_due().await.onboarding;
    assert_eq!(
        (report.conditions_missed, report.reevaluated),
        (1, 0),
        "{report:?}"
    );
    let after = read(&app, &lumiere, &probation).await;
    assert_eq!(after["state"], "WATCHLIST");
    assert_eq!(after["dueKind"], "WATCHLIST_DEADLINE");
    let timeline = actions(&after);
    assert_eq!(
        &timeline[timeline.len() - 2..],
        ["MISS_CONDITION", "REEVALUATE"],
        "{timeline:?}"
    );
    assert_eq!(
        last_event(&after)["reasonCodes"],
        json!(["CONDITION_MISSED"])
    );
    assert_eq!(last_event(&after)["actor"], "scheduler");
    let late = condition_call(
        &app,
        &lumiere,
        "submitConditionEvidence",
        json!({ "id": items[1]["id"], "evidence": "Too late." }),
    )
    .await;
    assert_eq!(
        late["userErrors"],
        json!([{ "field": ["conditionId"], "code": "ILLEGAL_TRANSITION" }])
    );
    assert_eq!(app.run_due().await.onboarding.conditions_missed, 0);

    // A conditional approval without a list tracks its note as the one condition.
    let rosa_draft = landed(create(&app, &rosa).await);
    let rosa_review = landed(step(&app, &rosa, "submitApplication", &rosa_draft).await);
    let rosa_claimed = landed(step(&app, &alice, "claimApplication", &rosa_review).await);
    let rosa_probation = landed(
        decide(
            &app,
            &alice,
            &rosa_claimed,
            json!({ "decision": "APPROVE_WITH_CONDITIONS", "probationDays": 30,
            "note": "Grow the store." }),
        )
        .await,
    );
    let rosa_conditions = app
        .data(
            &rosa,
            "query($id: ID!) { application(id: $id) { conditions { description state } } }",
            json!({ "id": rosa_probation["id"] }),
        )
        .await["application"]["conditions"]
        .clone();
    assert_eq!(
        rosa_conditions,
        json!([{ "description": "Grow the store.", "state": "OPEN" }])
    );
    app.stop().await;
}

/// Where the test installs the pinned S3-compatible server (moto).
fn moto_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/moto")
}

/// Installs the pinned moto packages when they are missing.
async fn ensure_moto() {
    let dir = moto_dir();
    if dir.join("moto").exists() {
        return;
    }
    let requirements = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/s3/requirements.txt");
    let output = tokio::process::Command::new("python3")
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .arg("--target")
        .arg(&dir)
        .args(["-r", requirements])
        .output()
        .await
        .expect("python3 with pip must be installed to run the S3 blob-store test");
    assert!(
        output.status.success(),
        "pip install failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

pub(crate) async fn documents_go_to_an_s3_compatible_store(backend: Backend) {
    ensure_moto().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let _server = tokio::process::Command::new("python3")
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .env("PYTHONPATH", moto_dir())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start moto");
    let endpoint = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    // Bounded wait for the server, then the bucket.
    let mut created = false;
    for _ in 0..100 {
        if let Ok(response) = client.put(format!("{endpoint}/docs")).send().await {
            created = response.status().is_success();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(created, "moto did not start on {endpoint}");

    let store = format!(
        "s3://docs/filed?endpoint={endpoint}&allow_http=true&region=us-east-1\
         &access_key_id=test&secret_access_key=test"
    );
    let app = case_with(backend, &["--blob-store", &store]).await;
    let lumiere = app
        .token_as(Role::BrandOperator, Some(10), "lumiere-op")
        .await;
    let draft = landed(create(&app, &lumiere).await);
    let document = filed(&app, &lumiere, licence(&draft, "Lumiere Trading Co."), PDF).await;
    let response = download(&app, &lumiere, &document).await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.bytes().await.expect("body").as_ref(), PDF);
    // The object is in the bucket, under the prefix, named by its hash.
    let listing = client
        .get(format!("{endpoint}/docs?list-type=2"))
        .send()
        .await
        .expect("list the bucket")
        .text()
        .await
        .expect("listing");
    let key = format!(
        "<Key>filed/documents/{}</Key>",
        hex::encode(Sha256::digest(PDF))
    );
    assert!(listing.contains(&key), "{listing}");
    app.stop().await;
}
