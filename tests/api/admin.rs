//! Administration through the server: brands and credentials, ADMIN only,
//! every change audited, a revoked token refused at once.

use brand_gateway::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, error_codes, scalar};

const CREATE: &str = r#"
mutation($input: CreateBrandInput!) { createBrand(input: $input) {
  brand { id name status category { code } } userErrors { field message code } } }"#;

const UPDATE: &str = r#"
mutation($input: UpdateBrandInput!) { updateBrand(input: $input) {
  brand { id name category { code } } userErrors { field message code } } }"#;

const ISSUE: &str = r#"
mutation($input: IssueCredentialInput!) { issueCredential(input: $input) {
  token credential { id subject role brandId expiresAt revokedAt } userErrors { field message code } } }"#;

const REVOKE: &str = r#"
mutation($id: ID!) { revokeCredential(id: $id) {
  credential { id revokedAt } userErrors { field code } } }"#;

const LIST: &str = r#"
query($brand: ID, $revoked: Boolean! = false) { credentials(brandId: $brand, includeRevoked: $revoked) { id subject revokedAt } }"#;

fn user_errors(payload: &Value) -> Vec<(String, String)> {
    payload["userErrors"]
        .as_array()
        .expect("userErrors")
        .iter()
        .map(|e| {
            let field: Vec<&str> = e["field"]
                .as_array()
                .expect("field")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            (
                field.join("."),
                e["code"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

pub(crate) async fn admins_manage_brands_and_credentials(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.token_as(Role::Admin, None, "ada").await;
    for role in [Role::Reviewer, Role::Service] {
        let other = app.token(role, None).await;
        let (_, body) = app
            .graphql(
                &other,
                CREATE,
                json!({ "input": { "name": "X", "category": "BEAUTY" } }),
            )
            .await;
        assert_eq!(error_codes(&body), ["FORBIDDEN"], "{role:?}");
        let (_, body) = app.graphql(&other, LIST, json!({})).await;
        assert_eq!(error_codes(&body), ["FORBIDDEN"], "{role:?}");
    }
    let analyst = app.token(Role::BrandAnalyst, Some(1)).await;
    let (_, body) = app.graphql(&analyst, LIST, json!({ "brand": "1" })).await;
    assert_eq!(error_codes(&body), ["FORBIDDEN"]);

    // Brands: created as prospects, names unique, categories known.
    let created = app
        .data(
            &admin,
            CREATE,
            json!({ "input": { "name": "  Nova Skin ", "category": "beauty" } }),
        )
        .await["createBrand"]
        .clone();
    assert_eq!(created["userErrors"], json!([]));
    let brand = created["brand"].clone();
    assert_eq!(
        (&brand["name"], &brand["status"], &brand["category"]["code"]),
        (&json!("Nova Skin"), &json!("PROSPECT"), &json!("BEAUTY"))
    );
    let id = brand["id"].as_str().expect("id").to_owned();
    let again = app
        .data(
            &admin,
            CREATE,
            json!({ "input": { "name": "nova skin", "category": "PETS" } }),
        )
        .await["createBrand"]
        .clone();
    assert_eq!(
        user_errors(&again),
        [("input.name".to_owned(), "CONFLICT".to_owned())]
    );
    // Two admins creating one name at once: exactly one brand, the other
    // refused like the check refuses (the unique index backs the check).
    let racing = futures_util::future::join_all((0..6).map(|i| {
        let name = if i % 2 == 0 {
            "Aster Home"
        } else {
            "ASTER HOME"
        };
        let (app, admin) = (&app, &admin);
        async move {
            app.data(
                admin,
                CREATE,
                json!({ "input": { "name": name, "category": "HOME" } }),
            )
            .await["createBrand"]
                .clone()
        }
    }))
    .await;
    let won = racing.iter().filter(|r| r["brand"].is_object()).count();
    assert_eq!(won, 1, "{racing:?}");
    for lost in racing.iter().filter(|r| r["brand"].is_null()) {
        assert_eq!(
            user_errors(lost),
            [("input.name".to_owned(), "CONFLICT".to_owned())]
        );
    }
    assert_eq!(
        scalar(
            &app.db.db,
            "SELECT COUNT(*) FROM brand WHERE lower(name) = 'aster home'"
        )
        .await,
        1
    );
    let unknown = app
        .data(
            &admin,
            CREATE,
            json!({ "input": { "name": "Shoe Co", "category": "SHOES" } }),
        )
        .await["createBrand"]
        .clone();
    assert_eq!(
        user_errors(&unknown),
        [("input.category".to_owned(), "BAD_USER_INPUT".to_owned())]
    );
    assert!(
        unknown["userErrors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("BEAUTY")),
        "{unknown}"
    );
    let updated = app
        .data(
            &admin,
            UPDATE,
            json!({ "input": { "id": id, "name": "Nova Pets", "category": "PETS" } }),
        )
        .await["updateBrand"]
        .clone();
    assert_eq!(
        (
            &updated["brand"]["name"],
            &updated["brand"]["category"]["code"]
        ),
        (&json!("Nova Pets"), &json!("PETS"))
    );
    let missing = app
        .data(
            &admin,
            UPDATE,
            json!({ "input": { "id": "9999", "name": "Ghost" } }),
        )
        .await["updateBrand"]
        .clone();
    assert_eq!(
        user_errors(&missing),
        [("input.id".to_owned(), "NOT_FOUND".to_owned())]
    );
    let audited = scalar(
        &app.db.db,
        &format!(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE actor = 'ada' AND target = 'brand:{id}' \
             AND action IN ('brand.created', 'brand.renamed', 'brand.recategorised')"
        ),
    )
    .await;
    assert_eq!(audited, 3);

    // Credentials: issued once with their token, listed, revoked at once.
    let refused = app
        .data(
            &admin,
            ISSUE,
            json!({ "input": { "role": "BRAND_ANALYST", "subject": "amy" } }),
        )
        .await["issueCredential"]
        .clone();
    assert_eq!(
        user_errors(&refused),
        [("input.brandId".to_owned(), "BAD_USER_INPUT".to_owned())]
    );
    let issued = app
        .data(
            &admin,
            ISSUE,
            json!({ "input": { "role": "BRAND_ANALYST", "brandId": id, "subject": "amy", "validHours": 2 } }),
        )
        .await["issueCredential"]
        .clone();
    assert_eq!(issued["userErrors"], json!([]));
    let token = issued["token"].as_str().expect("token").to_owned();
    let credential = issued["credential"]["id"].as_str().expect("id").to_owned();
    let viewer = app
        .data(
            &token,
            "{ viewer { subject role brand { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        viewer["viewer"],
        json!({ "subject": "amy", "role": "BRAND_ANALYST", "brand": { "id": id } })
    );
    let listed = app.data(&admin, LIST, json!({ "brand": id })).await["credentials"].clone();
    assert_eq!(
        listed,
        json!([{ "id": credential, "subject": "amy", "revokedAt": null }])
    );

    let revoked =
        app.data(&admin, REVOKE, json!({ "id": credential })).await["revokeCredential"].clone();
    assert!(revoked["credential"]["revokedAt"].is_string(), "{revoked}");
    let (_, body) = app.graphql(&token, "{ viewer { role } }", json!({})).await;
    assert_eq!(error_codes(&body), ["UNAUTHENTICATED"], "{body}");
    let twice =
        app.data(&admin, REVOKE, json!({ "id": credential })).await["revokeCredential"].clone();
    assert_eq!(
        user_errors(&twice),
        [("id".to_owned(), "ILLEGAL_TRANSITION".to_owned())]
    );
    let nobody = app
        .data(&admin, REVOKE, json!({ "id": "no-such-credential" }))
        .await["revokeCredential"]
        .clone();
    assert_eq!(
        user_errors(&nobody),
        [("id".to_owned(), "NOT_FOUND".to_owned())]
    );
    let live = app.data(&admin, LIST, json!({ "brand": id })).await["credentials"].clone();
    assert_eq!(live, json!([]));
    let all = app
        .data(&admin, LIST, json!({ "brand": id, "revoked": true }))
        .await["credentials"]
        .clone();
    assert_eq!(all.as_array().map(Vec::len), Some(1));
    app.stop().await;
}
