//! GraphQL over HTTP: status codes, media types, methods, and the plain
//! HTTP endpoints around it.

use brand_gateway::auth::Role;
use serde_json::json;

use crate::helpers::{Backend, TestApp, error_codes};

async fn post_raw(
    app: &TestApp,
    token: &str,
    accept: Option<&str>,
    content_type: &str,
    body: &str,
) -> (u16, String, String) {
    let mut request = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body.to_owned());
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let media = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    (status, media, response.text().await.expect("body"))
}

pub(crate) async fn request_errors_are_400_under_graphql_response_json(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.token(Role::Reviewer, None).await;
    let accept = Some("application/graphql-response+json");
    for (query, code) in [
        ("{ viewer { role ", "GRAPHQL_PARSE_FAILED"),
        ("{ noSuchField }", "GRAPHQL_VALIDATION_FAILED"),
    ] {
        let body = json!({ "query": query }).to_string();
        let (status, media, text) = post_raw(&app, &token, accept, "application/json", &body).await;
        assert_eq!(status, 400, "{query}: {text}");
        assert!(media.starts_with("application/graphql-response+json"));
        let body: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert!(body.get("data").is_none() || body["data"].is_null());
        assert_eq!(error_codes(&body), [code]);
    }
    // A field error after execution started is still 200 with partial data.
    let body = json!({ "query": "{ viewer { role } brand(id: \"9999\") { id } }" }).to_string();
    let (status, _, text) = post_raw(&app, &token, accept, "application/json", &body).await;
    assert_eq!(status, 200, "{text}");
    let body: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(error_codes(&body), ["NOT_FOUND"]);
    // Malformed JSON is a 400 whatever the media type.
    let (status, _, _) = post_raw(&app, &token, accept, "application/json", "{not json").await;
    assert_eq!(status, 400);
    app.stop().await;
}

pub(crate) async fn legacy_json_clients_get_200_for_request_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.token(Role::Reviewer, None).await;
    let body = json!({ "query": "{ noSuchField }" }).to_string();
    for accept in [Some("application/json"), Some("*/*")] {
        let (status, media, text) = post_raw(&app, &token, accept, "application/json", &body).await;
        assert_eq!(status, 200, "{accept:?}: {text}");
        assert!(media.starts_with("application/json"), "{media}");
    }
    // Quality values decide; ties prefer graphql-response+json.
    let (status, media, _) = post_raw(
        &app,
        &token,
        Some("application/json;q=0.9, application/graphql-response+json"),
        "application/json",
        &body,
    )
    .await;
    assert_eq!(
        (
            status,
            media.starts_with("application/graphql-response+json")
        ),
        (400, true)
    );
    let (status, _, _) = post_raw(
        &app,
        &token,
        Some("application/graphql-response+json;q=0.5, application/json"),
        "application/json",
        &body,
    )
    .await;
    assert_eq!(status, 200);
    app.stop().await;
}

pub(crate) async fn unsupported_accept_and_content_types_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.token(Role::Reviewer, None).await;
    let body = json!({ "query": "{ viewer { role } }" }).to_string();
    let (status, _, _) = post_raw(&app, &token, Some("text/html"), "application/json", &body).await;
    assert_eq!(status, 406);
    let (status, _, text) = post_raw(&app, &token, None, "text/plain", &body).await;
    assert_eq!(status, 415, "{text}");
    let (status, _, _) =
        post_raw(&app, &token, None, "application/json; charset=utf-8", &body).await;
    assert_eq!(status, 200);
    app.stop().await;
}

pub(crate) async fn get_serves_queries_but_not_mutations(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.token(Role::BrandAnalyst, Some(4)).await;
    let response = app
        .client
        .get(app.url("/graphql"))
        .bearer_auth(&token)
        .query(&[
            ("query", "query Me($id: ID!) { brand(id: $id) { id } }"),
            ("variables", r#"{"id":"4"}"#),
            ("operationName", "Me"),
        ])
        .send()
        .await
        .expect("get");
    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["data"]["brand"]["id"], "4");

    let response = app
        .client
        .get(app.url("/graphql"))
        .bearer_auth(&token)
        .query(&[("query", "mutation { __typename }")])
        .send()
        .await
        .expect("get");
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    app.stop().await;
}

pub(crate) async fn health_metrics_and_request_ids(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let token = app.token(Role::BrandAnalyst, Some(1)).await;
    let response = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .expect("healthz");
    assert_eq!(response.headers()["x-request-id"], "trace-me-42");

    app.graphql(&token, "{ brand(id: \"2\") { id } }", json!({}))
        .await;
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"http_requests_total{method="POST",path="/graphql",status="200"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"graphql_errors_total{code="NOT_FOUND"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains("http_request_duration_seconds_bucket"));
    app.stop().await;
}

/// The console and GraphiQL pages load only this server's files, which
/// come from the binary with an ETag to revalidate; the console's
/// language follows `Accept-Language`.
pub(crate) async fn the_console_and_graphiql_are_served_from_the_binary(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let get = |path: &str, headers: &[(&str, &str)]| {
        let mut request = app.client.get(app.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };
    for (accept, lang) in [
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9", "zh-CN"),
        ("fr", "zh-CN"),
    ] {
        let response = get("/console", &[("accept-language", accept)])
            .await
            .expect("console");
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.headers()["vary"], "accept-language");
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .expect("ASCII header")
            .to_owned();
        assert!(csp.starts_with("default-src 'self'"), "{csp}");
        let html = response.text().await.expect("html");
        assert!(
            html.contains(&format!("<html lang=\"{lang}\">")),
            "{accept}: {html}"
        );
    }
    for page in ["/console", "/graphiql"] {
        let html = get(page, &[])
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        let references: Vec<&str> = html
            .split(['"', '\''])
            .skip(1)
            .step_by(2)
            .filter(|v| v.ends_with(".js") || v.ends_with(".css"))
            .collect();
        assert!(references.len() >= 2, "{page} loads its scripts: {html}");
        for reference in references {
            assert!(
                reference.starts_with("/console/"),
                "{page} loads {reference} from outside"
            );
            let response = get(reference, &[]).await.expect("asset");
            assert_eq!(response.status().as_u16(), 200, "{reference}");
        }
    }
    let response = get("/console/app.js", &[]).await.expect("app.js");
    assert!(response.headers().get("content-encoding").is_none());
    assert_eq!(
        response.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    let etag = response.headers()["etag"]
        .to_str()
        .expect("ASCII header")
        .to_owned();
    let again = get("/console/app.js", &[("if-none-match", &etag)])
        .await
        .expect("again");
    assert_eq!(
        again.status().as_u16(),
        304,
        "an unchanged file is not sent again"
    );
    let plain = response.bytes().await.expect("app.js");
    // Browsers that take gzip get it: the same bytes, smaller, with an
    // ETag of their own.
    let zipped = get("/console/app.js", &[("accept-encoding", "gzip, br")])
        .await
        .expect("gzipped");
    assert_eq!(zipped.headers()["content-encoding"], "gzip");
    assert_eq!(zipped.headers()["vary"], "accept-encoding");
    let zipped_etag = zipped.headers()["etag"]
        .to_str()
        .expect("ASCII header")
        .to_owned();
    assert_ne!(zipped_etag, etag);
    let body = zipped.bytes().await.expect("body");
    assert!(
        body.len() < plain.len() / 2,
        "{} of {}",
        body.len(),
        plain.len()
    );
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut unzipped)
        .expect("gunzip");
    assert_eq!(unzipped, plain);
    let again = get(
        "/console/app.js",
        &[("accept-encoding", "gzip"), ("if-none-match", &zipped_etag)],
    )
    .await
    .expect("again");
    assert_eq!(again.status().as_u16(), 304);
    let refused = get("/console/app.js", &[("accept-encoding", "gzip;q=0")])
        .await
        .expect("identity");
    assert!(refused.headers().get("content-encoding").is_none());
    let missing = get("/console/nothing.js", &[]).await.expect("missing");
    assert_eq!(missing.status().as_u16(), 404);
    app.stop().await;
}

pub(crate) async fn readyz_checks_the_database(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(response.status().as_u16(), 200);
    app.db.db.clone().close().await.expect("close pool");
    let response = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(response.status().as_u16(), 503);
    app.stop().await;
}

pub(crate) async fn oversized_bodies_are_413(backend: Backend) {
    let app = TestApp::spawn_with(backend, &["--max-body-bytes", "1024"]).await;
    let token = app.token(Role::Reviewer, None).await;
    let padding = " ".repeat(2048);
    let body = json!({ "query": format!("{{ viewer {{ role }} }}{padding}") }).to_string();
    let (status, _, _) = post_raw(&app, &token, None, "application/json", &body).await;
    assert_eq!(status, 413);
    app.stop().await;
}

pub(crate) async fn rate_limit_answers_429_with_retry_after(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &["--rate-limit-per-second", "1", "--rate-limit-burst", "3"],
    )
    .await;
    let limited = app.token(Role::BrandAnalyst, Some(1)).await;
    let other = app.token(Role::BrandAnalyst, Some(2)).await;
    for _ in 0..3 {
        let (status, _) = app
            .graphql(&limited, "{ viewer { role } }", json!({}))
            .await;
        assert_eq!(status, 200);
    }
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&limited)
        .json(&json!({ "query": "{ viewer { role } }" }))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 429);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=2).contains(&retry));
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(error_codes(&body), ["RATE_LIMITED"]);
    // Buckets are per principal: another caller is unaffected.
    let (status, _) = app.graphql(&other, "{ viewer { role } }", json!({})).await;
    assert_eq!(status, 200);
    app.stop().await;
}

pub(crate) async fn slow_requests_time_out_with_503(backend: Backend) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let app = TestApp::spawn_with(backend, &["--request-timeout-secs", "1"]).await;
    let token = app.token(Role::Reviewer, None).await;
    // Promise a body and send only part of it: the handler waits for the
    // rest until the timeout answers for it.
    let mut stream = tokio::net::TcpStream::connect(app.addr)
        .await
        .expect("connect");
    let head = format!(
        "POST /graphql HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"query\":",
        app.addr
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut response = vec![0u8; 4096];
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read(&mut response),
    )
    .await
    .expect("answered within 10 s")
    .expect("read");
    let text = String::from_utf8_lossy(&response[..read]);
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    app.stop().await;
}
