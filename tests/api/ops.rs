//! Health, readiness, metrics, TLS.

use crate::helpers::{Backend, TestApp, spawn_with, ticket_en};
use crate::on_both_backends;

async fn health_readiness_and_metrics(app: TestApp) {
    let health = app.send(reqwest::Method::GET, "/healthz", None, None).await;
    assert_eq!(
        (health.status, &health.body["status"]),
        (200, &serde_json::json!("ok"))
    );
    let ready = app.send(reqwest::Method::GET, "/readyz", None, None).await;
    assert_eq!(
        (ready.status, &ready.body["database"]),
        (200, &serde_json::json!("ok"))
    );

    app.ingest(&ticket_en("M-1")).await;
    let mut urgent = ticket_en("M-2");
    urgent["priority"] = serde_json::json!("urgent");
    app.ingest(&urgent).await;
    let metrics = app.send(reqwest::Method::GET, "/metrics", None, None).await;
    let text = metrics.body.as_str().unwrap_or_default().to_owned();
    assert!(text.contains("bridge_tickets_ingested_total 2"), "{text}");
    assert!(
        text.contains(r#"bridge_tickets_shared_total{contract="acme-en"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"bridge_http_requests_total{method="POST",route="/api/v1/tickets",status="201"} 2"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"bridge_http_request_duration_seconds_count{route="/api/v1/tickets"} 2"#),
        "{text}"
    );
    assert!(!text.contains("M-1"), "no ids or values in labels");

    // The API's document is served without a token, and is what the code generates.
    let document = app
        .send(reqwest::Method::GET, "/openapi.json", None, None)
        .await;
    assert_eq!(document.status, 200);
    let generated: serde_json::Value =
        serde_json::from_str(msp_bridge::http::openapi::document_json()).unwrap_or_default();
    assert_eq!(document.body, generated);
    // Every documented operation answers with a status the document lists for it, when called
    // without a token (or without the body it needs).
    let mut called = 0;
    for (path, item) in document.body["paths"].as_object().into_iter().flatten() {
        if path.starts_with("/console") || path.contains('{') {
            continue;
        }
        for (method, operation) in item.as_object().into_iter().flatten() {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes())
                .unwrap_or(reqwest::Method::GET);
            let answer = app.send(method.clone(), path, None, None).await;
            let status = answer.status.to_string();
            assert!(
                operation["responses"].get(&status).is_some(),
                "{method} {path}: {status} is not documented"
            );
            called += 1;
        }
    }
    assert_eq!(called, 24, "operations without a path parameter");
    // A method a known resource does not take is 405 with the ones it does take; an unknown
    // path stays 404.
    for (method, path, allow) in [
        ("TRACE", "/readyz", "GET"),
        ("DELETE", "/api/v1/reports", "GET, POST"),
        ("PUT", "/api/v1/reports/schedule", "GET"),
        ("PATCH", "/api/v1/tickets/7", "GET"),
        ("GET", "/api/v1/tickets/7/recall", "POST"),
    ] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let answer = app
            .client
            .request(method.clone(), format!("{}{path}", app.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(answer.status(), 405, "{method} {path}");
        let allowed = answer
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        assert_eq!(allowed.as_deref(), Some(allow), "{method} {path}");
        let body: serde_json::Value = answer.json().await.unwrap_or_default();
        assert_eq!(body["code"], "method_not_allowed", "{body}");
    }
    let unknown = app
        .send(reqwest::Method::GET, "/api/v1/nothing", None, None)
        .await;
    assert_eq!(unknown.status, 404);
}

on_both_backends!(health_readiness_and_metrics);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_https_when_given_a_certificate() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
        .unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap_or_else(|e| panic!("{e}"));
    let app = spawn_with(Backend::Sqlite, |c| {
        c.tls_cert = Some(cert_path.clone());
        c.tls_key = Some(key_path.clone());
    })
    .await
    .unwrap_or_else(|| panic!("sqlite always runs"));
    assert!(app.base.starts_with("https://"));
    let root = reqwest::Certificate::from_pem(cert.cert.pem().as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    msp_bridge::crypto::tls_provider();
    let client = reqwest::Client::builder()
        .tls_certs_only([root])
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let resp = client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status().as_u16(), 200);
    // Over TLS the console's cookies are `Secure`.
    let sign_in = client
        .get(format!("{}/console/sign-in", app.base))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let cookie = sign_in
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        cookie.starts_with("bridge_console_login=") && cookie.contains("Secure"),
        "{cookie}"
    );
    // Plain HTTP to the TLS port is not served.
    let plain = app
        .client
        .get(format!("{}/healthz", app.base.replace("https", "http")))
        .send()
        .await;
    assert!(plain.map(|r| r.status().as_u16() != 200).unwrap_or(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_fails_when_the_database_is_gone() {
    let Some(app) =
        crate::helpers::spawn_with(Backend::Postgres, |c| c.db_pool_wait_ms = 300).await
    else {
        eprintln!("BRIDGE_TEST_POSTGRES_URL unset: needs a PostgreSQL database to drop");
        return;
    };
    let id = app.ingest(&ticket_en("HERE")).await.body["id"]
        .as_i64()
        .unwrap_or_default();
    assert_eq!(
        app.send(reqwest::Method::GET, "/readyz", None, None)
            .await
            .status,
        200
    );
    app.drop_postgres_database();
    let ready = app.send(reqwest::Method::GET, "/readyz", None, None).await;
    assert_eq!(
        (ready.status, ready.body["code"].as_str()),
        (503, Some("unavailable"))
    );
    let health = app.send(reqwest::Method::GET, "/healthz", None, None).await;
    assert_eq!(health.status, 200, "the process itself is still alive");
    // Every request meets the outage as 503 `unavailable` — the pooled connections that the
    // server closed under it as well as the new ones that cannot be opened — never as 500.
    for _ in 0..4 {
        let push = app.ingest(&ticket_en("GONE")).await;
        assert_eq!(
            (push.status, push.body["code"].as_str()),
            (503, Some("unavailable")),
            "{:?}",
            push.body
        );
        assert!(
            !push.body.to_string().contains("bridge_test_"),
            "no internal detail leaks: {:?}",
            push.body
        );
        let read = app
            .get(
                &format!("/api/v1/contractor/tickets/{id}"),
                &app.contractor("acme"),
            )
            .await;
        assert_eq!(read.status, 503, "{:?}", read.body);
        let inhouse = app
            .get(&format!("/api/v1/tickets/{id}"), &app.inhouse())
            .await;
        assert_eq!(inhouse.status, 503, "{:?}", inhouse.body);
    }
}
