//! Authentication: who gets in, who doesn't, and what they are told.

use brand_gateway::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{Backend, SECRET, TestApp, error_codes};

const VIEWER: &str = "{ viewer { role brand { id } } }";

async fn raw_post(app: &TestApp, authorization: Option<&str>) -> (u16, Option<String>, Value) {
    let mut request = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": VIEWER }));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    (status, challenge, response.json().await.expect("json"))
}

pub(crate) async fn requests_without_a_token_get_401_saying_why(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, challenge, body) = raw_post(&app, None).await;
    assert_eq!(status, 401);
    assert!(challenge.is_some_and(|c| c.starts_with("Bearer")));
    assert_eq!(error_codes(&body), ["UNAUTHENTICATED"]);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("missing bearer token")
    );
    app.stop().await;
}

fn forged_token(secret: &str, exp_offset_secs: i64, jti: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "sub": "mallory", "jti": jti, "role": "ADMIN",
        "iat": now, "exp": now + exp_offset_secs,
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("encode")
}

pub(crate) async fn malformed_forged_and_expired_tokens_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cases = [
        (
            "Basic dXNlcjpwYXNz".to_owned(),
            "malformed Authorization header",
        ),
        ("Bearer not-a-jwt".to_owned(), "malformed bearer token"),
        (
            format!(
                "Bearer {}",
                forged_token("another-secret-that-is-long-enough-000000", 3600, "x")
            ),
            "signature is not valid",
        ),
        // Signed with the right secret but never issued: no credential row.
        (
            format!(
                "Bearer {}",
                forged_token(SECRET, 3600, "00000000-0000-0000-0000-000000000000")
            ),
            "revoked or unknown",
        ),
        (
            format!("Bearer {}", forged_token(SECRET, -3600, "y")),
            "expired",
        ),
    ];
    for (header, expected) in cases {
        let (status, _, body) = raw_post(&app, Some(&header)).await;
        assert_eq!(status, 401, "{header}: {body}");
        assert_eq!(error_codes(&body), ["UNAUTHENTICATED"]);
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(expected), "{header}: {message}");
    }
    app.stop().await;
}

/// The credential cache time the revocation tests run with.
pub(crate) const CACHE_MS: u64 = 1000;

/// A server trusts a credential row it read for its cache time, sparing
/// each request the read; a revocation made elsewhere (here the CLI, in
/// another process) is obeyed once that time has passed.
pub(crate) async fn revoked_credentials_stop_working_within_the_cache_time(backend: Backend) {
    let app = TestApp::spawn_with(backend, &["--credential-cache-ms", &CACHE_MS.to_string()]).await;
    let issued = brand_gateway::auth::issue(&app.db.db, &app.keys, Role::Reviewer, None, "rita", 1)
        .await
        .expect("issue");
    let data = app.data(&issued.token, VIEWER, json!({})).await;
    assert_eq!(data["viewer"]["role"], "REVIEWER");
    // Held: a request that needs no data runs no statement at all. The
    // count is the server's, background tasks included, and a loaded
    // machine may let the entry age out between requests: the fewest of
    // up to 15 requests.
    let mut fewest = f64::MAX;
    for _ in 0..5 {
        let once = app.fewest_statements(&issued.token, "{ __typename }", json!({}));
        fewest = fewest.min(once.await);
        if fewest == 0.0 {
            break;
        }
    }
    assert_eq!(fewest, 0.0);

    // Revoked with the CLI, as an operator would; a second revoke (or an
    // unknown id) fails saying so.
    let revoke = || {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_brand-gateway"))
            .args([
                "revoke",
                "--credential",
                &issued.credential_id,
                "--subject",
                "ops",
            ])
            .env("DATABASE_URL", &app.db.url)
            .output()
    };
    let output = revoke().await.expect("run revoke");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let again = revoke().await.expect("run revoke again");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already revoked"));

    // Every row the server holds was read before the revocation began.
    tokio::time::sleep(std::time::Duration::from_millis(CACHE_MS + 50)).await;
    let (status, _, body) = raw_post(&app, Some(&format!("Bearer {}", issued.token))).await;
    assert_eq!(status, 401);
    assert_eq!(error_codes(&body), ["UNAUTHENTICATED"]);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("revoked"),
        "{body}"
    );
    app.stop().await;
}

pub(crate) async fn token_command_prints_only_a_working_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_brand-gateway"))
        .args(["token", "--role", "brand_analyst", "--brand", "3"])
        .env("DATABASE_URL", &app.db.url)
        .env("BRAND_GATEWAY_JWT_SECRET", SECRET)
        .output()
        .await
        .expect("run token");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("utf8");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "stdout must hold the token alone: {stdout:?}"
    );
    let data = app.data(lines[0], VIEWER, json!({})).await;
    assert_eq!(
        data["viewer"],
        json!({ "role": "BRAND_ANALYST", "brand": { "id": "3" } })
    );

    // A brand role without a brand is refused with a clear message.
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_brand-gateway"))
        .args(["token", "--role", "BRAND_OPERATOR"])
        .env("DATABASE_URL", &app.db.url)
        .env("BRAND_GATEWAY_JWT_SECRET", SECRET)
        .output()
        .await
        .expect("run token");
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("needs --brand"));
    app.stop().await;
}

fn openssl(args: &[&str]) {
    let status = std::process::Command::new("openssl")
        .args(args)
        .status()
        .expect("openssl runs");
    assert!(status.success(), "openssl {args:?}");
}

fn rs256_token(private_pem: &[u8], claims: Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_rsa_pem(private_pem).expect("private key"),
    )
    .expect("encode")
}

pub(crate) async fn identity_service_rs256_tokens_are_accepted_when_configured(backend: Backend) {
    let dir = tempfile::tempdir().expect("dir");
    let path = |name: &str| dir.path().join(name).display().to_string();
    for name in ["idp", "other"] {
        openssl(&[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            &path(&format!("{name}.pem")),
        ]);
    }
    openssl(&[
        "pkey",
        "-in",
        &path("idp.pem"),
        "-pubout",
        "-out",
        &path("idp.pub.pem"),
    ]);
    let idp = std::fs::read(path("idp.pem")).expect("key");
    let other = std::fs::read(path("other.pem")).expect("key");
    let now = chrono::Utc::now().timestamp();
    let claims = |role: &str, brand: Option<i64>| json!({ "sub": "idp-user", "jti": "idp-1", "role": role, "brand": brand, "iat": now, "exp": now + 600 });

    let app = TestApp::spawn_with(backend, &["--jwt-rs256-public-key", &path("idp.pub.pem")]).await;
    let token = rs256_token(&idp, claims("BRAND_ANALYST", Some(1)));
    let data = app.data(&token, VIEWER, json!({})).await;
    assert_eq!(
        data["viewer"],
        json!({ "role": "BRAND_ANALYST", "brand": { "id": "1" } })
    );
    let (_, body) = app
        .graphql(&token, "{ brand(id: \"2\") { id } }", json!({}))
        .await;
    assert_eq!(error_codes(&body), ["NOT_FOUND"]);
    for bad in [
        rs256_token(&other, claims("BRAND_ANALYST", Some(1))),
        rs256_token(&idp, claims("BRAND_ANALYST", None)),
        rs256_token(&idp, claims("ADMIN", Some(1))),
    ] {
        let (status, _, body) = raw_post(&app, Some(&format!("Bearer {bad}"))).await;
        assert_eq!(status, 401, "{body}");
    }
    app.stop().await;

    // Without a configured public key, RS256 tokens are refused.
    let app = TestApp::spawn(backend).await;
    let (status, _, _) = raw_post(&app, Some(&format!("Bearer {token}"))).await;
    assert_eq!(status, 401);
    app.stop().await;
}
