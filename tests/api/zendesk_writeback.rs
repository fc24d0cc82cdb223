//! Zendesk write-back. Zendesk is a hosted service, so this test runs it against a local HTTP
//! server on 127.0.0.1 that answers with recorded Zendesk responses — the shapes of Zendesk's
//! documented answers to `PUT /api/v2/tickets/{id}.json` and `GET …/comments.json`: success,
//! 429 with and without `Retry-After`, 422 `RecordInvalid`, and an HTML error page from the
//! edge. It is not the real Zendesk.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use actix_web::web::{Bytes, Data};
use actix_web::{HttpRequest, HttpResponse};
use msp_bridge::connectors::ConnectorError;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_with};

/// One recorded answer.
#[derive(Clone, Debug)]
struct Recorded {
    status: u16,
    retry_after: Option<&'static str>,
    content_type: &'static str,
    body: String,
}

impl Recorded {
    fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            retry_after: None,
            content_type: "application/json; charset=utf-8",
            body: body.to_string(),
        }
    }
}

fn updated() -> Recorded {
    Recorded::json(
        200,
        json!({ "ticket": { "id": 35436, "status": "open", "updated_at": "2026-06-01T10:05:00Z" },
                "audit": { "id": 9001, "ticket_id": 35436, "events": [] } }),
    )
}

fn rate_limited(retry_after: Option<&'static str>) -> Recorded {
    Recorded {
        retry_after,
        ..Recorded::json(
            429,
            json!({ "error": "APIRateLimitExceeded",
                    "description": "Number of allowed API requests per minute exceeded" }),
        )
    }
}

fn record_invalid() -> Recorded {
    Recorded::json(
        422,
        json!({ "error": "RecordInvalid", "description": "Record validation errors",
                "details": { "status": [ { "description": "Status: closed prevents ticket update",
                                           "error": "InvalidValue" } ] } }),
    )
}

fn html_error() -> Recorded {
    Recorded {
        status: 503,
        retry_after: None,
        content_type: "text/html",
        body: "<html><head><title>503 Service Unavailable</title></head><body><h1>Service \
               Unavailable</h1></body></html>"
            .into(),
    }
}

fn comments(bodies: &[&str]) -> Recorded {
    let list: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| {
            json!({ "id": 7000 + i, "type": "Comment", "author_id": 42, "body": b,
                    "plain_body": b, "public": true, "created_at": "2099-01-01T00:00:00Z" })
        })
        .collect();
    Recorded::json(
        200,
        json!({ "comments": list, "next_page": null, "count": list.len() }),
    )
}

/// What the server was asked.
#[derive(Clone, Debug)]
struct Asked {
    method: String,
    path: String,
    authorization: String,
    body: Value,
}

#[derive(Clone, Default)]
struct FakeZendesk {
    script: Arc<Mutex<VecDeque<Recorded>>>,
    asked: Arc<Mutex<Vec<Asked>>>,
}

async fn answer(req: HttpRequest, body: Bytes, fake: Data<FakeZendesk>) -> HttpResponse {
    fake.asked
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(Asked {
            method: req.method().to_string(),
            path: req.uri().to_string(),
            authorization: req
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        });
    let recorded = fake
        .script
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .pop_front()
        .unwrap_or_else(|| Recorded::json(500, json!({ "error": "script exhausted" })));
    let mut response = HttpResponse::build(
        actix_web::http::StatusCode::from_u16(recorded.status)
            .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR),
    );
    if let Some(after) = recorded.retry_after {
        response.insert_header(("retry-after", after));
    }
    response
        .content_type(recorded.content_type)
        .body(recorded.body)
}

impl FakeZendesk {
    fn start() -> (Self, String) {
        let fake = Self::default();
        let port = crate::receiver::serve_on_loopback(fake.clone(), answer);
        (fake, format!("http://127.0.0.1:{port}"))
    }

    fn will(&self, answers: &[Recorded]) {
        self.script
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(answers.iter().cloned());
    }

    fn asked(&self) -> Vec<Asked> {
        std::mem::take(&mut *self.asked.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

async fn start(backend: Backend) -> Option<(TestApp, FakeZendesk)> {
    let (fake, url) = FakeZendesk::start();
    let app = spawn_with(backend, move |config| {
        write_connector_file(&config.connectors_dir, &url);
    })
    .await?;
    Some((app, fake))
}

fn write_connector_file(dir: &std::path::Path, url: &str) {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("zendesk.token"), "zd-api-token\n").unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        dir.join("zendesk.toml"),
        format!(
            "id = \"zendesk-main\"\nkind = \"zendesk\"\nurl = \"{url}\"\n\
             token_file = \"zendesk.token\"\nuser = \"agent@example.com\"\npoll_ms = 3600000\n"
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
}

async fn write_back(
    app: &TestApp,
) -> Result<msp_bridge::jobs::connector_poll::WriteReport, ConnectorError> {
    app.pollers[0].write_back_once().await
}

async fn zendesk_updates_are_sent_once_within_its_rate_limits(app: TestApp, fake: FakeZendesk) {
    let ticket = json!({ "ticket": {
        "id": 35436, "subject": "Refund", "description": "Mail me at john.smith@example.com",
        "priority": "normal", "status": "open", "via": { "channel": "email" },
        "requester": { "name": "John Smith", "email": "john.smith@example.com", "locale": "en-US" }
    }});
    let created = app
        .post("/api/v1/inbound/zendesk", &app.inhouse(), &ticket)
        .await;
    assert_eq!(
        created.body["routing"]["outcome"], "shared",
        "{:?}",
        created.body
    );
    let id = created.body["id"].as_i64().unwrap_or_default();
    let acme = app.contractor("acme");
    let reply = app
        .post(
            &format!("/api/v1/contractor/tickets/{id}/replies"),
            &acme,
            &json!({ "body": "Refund sent to [EMAIL_1].", "public": true }),
        )
        .await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);

    // 429 with Retry-After: the round stops and says how long to wait.
    fake.will(&[rate_limited(Some("7"))]);
    match write_back(&app).await {
        Err(ConnectorError::RateLimited { retry_after, .. }) => {
            assert_eq!(retry_after, Some(std::time::Duration::from_secs(7)));
        }
        other => panic!("{other:?}"),
    }
    let first = fake.asked();
    assert_eq!(first.len(), 1);
    assert_eq!(
        (first[0].method.as_str(), first[0].path.as_str()),
        ("PUT", "/api/v2/tickets/35436.json")
    );
    // API-token authentication: `{e-mail}/token:{token}`, Basic.
    use base64::Engine as _;
    let expected =
        base64::engine::general_purpose::STANDARD.encode("agent@example.com/token:zd-api-token");
    assert_eq!(first[0].authorization, format!("Basic {expected}"));
    // The customer's real address goes home, as a public comment.
    assert_eq!(
        first[0].body,
        json!({ "ticket": { "comment": { "body": "Refund sent to john.smith@example.com.",
                                         "public": true } } })
    );

    // 429 without Retry-After (on the check whether the first try took effect): backed off.
    fake.will(&[rate_limited(None)]);
    assert!(matches!(
        write_back(&app).await,
        Err(ConnectorError::RateLimited {
            retry_after: None,
            ..
        })
    ));
    // Then: not there yet, so it is sent, once.
    fake.will(&[comments(&[]), updated()]);
    let sent = write_back(&app).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((sent.written, sent.found), (1, 0), "{sent:?}");
    let asked = fake.asked();
    let calls: Vec<(&str, &str)> = asked
        .iter()
        .map(|a| (a.method.as_str(), a.path.as_str()))
        .collect();
    assert_eq!(
        calls,
        [
            ("GET", "/api/v2/tickets/35436/comments.json?sort_order=desc"),
            ("GET", "/api/v2/tickets/35436/comments.json?sort_order=desc"),
            ("PUT", "/api/v2/tickets/35436.json")
        ]
    );
    let idle = write_back(&app).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(idle.written, 0);
    assert!(fake.asked().is_empty(), "nothing is sent twice");

    // 422 RecordInvalid: refused for good, noted dead; the next event still goes.
    let pending = app
        .post(
            &format!("/api/v1/contractor/tickets/{id}/status"),
            &acme,
            &json!({ "status": "pending" }),
        )
        .await;
    assert!(pending.status < 300, "{:?}", pending.body);
    let second = app
        .post(
            &format!("/api/v1/contractor/tickets/{id}/replies"),
            &acme,
            &json!({ "body": "Anything else?", "public": true }),
        )
        .await;
    assert_eq!(second.status, 201);
    // An HTML error page from the edge: the outcome is unknown, so it is checked before a
    // second try; the check finds the comment there, and it is not sent again.
    fake.will(&[record_invalid(), html_error()]);
    match write_back(&app).await {
        Err(ConnectorError::Status { status: 503, .. }) => {}
        other => panic!("{other:?}"),
    }
    fake.will(&[comments(&[
        "Refund sent to john.smith@example.com.",
        "Anything else?",
    ])]);
    let checked = write_back(&app).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((checked.written, checked.found), (0, 1), "{checked:?}");
    let asked = fake.asked();
    assert_eq!(asked[0].body, json!({ "ticket": { "status": "pending" } }));
    assert_eq!(asked.len(), 3, "{asked:?}");
    let ready = app.get("/readyz", "").await;
    let health = &ready.body["connectors"][0];
    assert_eq!(health["connector"], "zendesk-main");
    assert_eq!(
        app.count("connector_writes WHERE state = 'dead' AND last_error LIKE '%HTTP 422%'"),
        1
    );
    assert_eq!(app.count("connector_writes WHERE state = 'done'"), 2);
}

/// A connection configured on a gateway that has run for a while writes back only what
/// happens from then on: the earlier events were the in-house side's to apply.
async fn earlier_events_are_not_written_back(backend: Backend) {
    let Some(app) = spawn_with(backend, |_| {}).await else {
        eprintln!("BRIDGE_TEST_POSTGRES_URL unset: PostgreSQL variant not run");
        return;
    };
    let ticket = json!({ "ticket": {
        "id": 501, "subject": "Old", "description": "Hello", "priority": "normal",
        "status": "open", "via": { "channel": "email" },
        "requester": { "name": "Ann Lee", "email": "ann@example.com", "locale": "en-US" }
    }});
    let created = app
        .post("/api/v1/inbound/zendesk", &app.inhouse(), &ticket)
        .await;
    let id = created.body["id"].as_i64().unwrap_or_default();
    let replies = format!("/api/v1/contractor/tickets/{id}/replies");
    let old = app
        .post(
            &replies,
            &app.contractor("acme"),
            &json!({ "body": "Applied long ago by the in-house side.", "public": true }),
        )
        .await;
    assert_eq!(old.status, 201, "{:?}", old.body);
    let (fake, url) = FakeZendesk::start();
    write_connector_file(&app.config().connectors_dir, &url);
    let app = app.restarted().await;
    let nothing = write_back(&app).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(nothing.written, 0);
    assert!(fake.asked().is_empty(), "history is not sent");
    let new = app
        .post(
            &replies,
            &app.contractor("acme"),
            &json!({ "body": "New since the connection.", "public": true }),
        )
        .await;
    assert_eq!(new.status, 201, "{:?}", new.body);
    fake.will(&[updated()]);
    let sent = write_back(&app).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sent.written, 1);
    assert_eq!(
        fake.asked()[0].body["ticket"]["comment"]["body"],
        "New since the connection."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn earlier_events_sqlite() {
    earlier_events_are_not_written_back(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn earlier_events_postgres() {
    earlier_events_are_not_written_back(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    let (app, fake) = start(Backend::Sqlite)
        .await
        .unwrap_or_else(|| panic!("sqlite always runs"));
    zendesk_updates_are_sent_once_within_its_rate_limits(app, fake).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    match start(Backend::Postgres).await {
        Some((app, fake)) => zendesk_updates_are_sent_once_within_its_rate_limits(app, fake).await,
        None => eprintln!("BRIDGE_TEST_POSTGRES_URL unset: PostgreSQL variant not run"),
    }
}

/// Files: a comment's `content_url` is fetched from the connection's own Zendesk (and from no
/// other host); a contractor's reply file is uploaded and its token put on the comment.
async fn zendesk_files_come_in_and_go_out(app: TestApp, fake: FakeZendesk, url: String) {
    use base64::Engine as _;
    let with_file = |id: u64, content_url: &str| {
        json!({ "ticket": {
            "id": id, "subject": "Crash", "description": "See the log",
            "priority": "normal", "status": "open", "via": { "channel": "email" },
            "requester": { "name": "John Smith", "email": "john.smith@example.com", "locale": "en-US" },
            "comments": [ { "id": 1274, "author_id": 42, "body": "Log attached", "public": true,
                "attachments": [ { "id": 498483, "file_name": "crash.log", "content_type": "text/plain",
                                   "size": 31, "content_url": content_url } ] } ]
        }})
    };
    // A URL on a host the gateway has no connection to is never fetched.
    let elsewhere = app
        .post(
            "/api/v1/inbound/zendesk",
            &app.inhouse(),
            &with_file(
                35437,
                "http://127.0.0.1:9/attachments/token/x/?name=crash.log",
            ),
        )
        .await;
    assert_eq!(elsewhere.status, 400, "{}", elsewhere.body);
    assert_eq!(
        elsewhere.body["field"],
        "comments[0].attachments[0].content"
    );
    assert!(fake.asked().is_empty());
    assert_eq!(app.count("tickets"), 0);

    let log = "login by john.smith@example.com";
    fake.will(&[Recorded {
        status: 200,
        retry_after: None,
        content_type: "text/plain",
        body: log.into(),
    }]);
    let content_url = format!("{url}/attachments/token/vx9/?name=crash.log");
    let created = app
        .post(
            "/api/v1/inbound/zendesk",
            &app.inhouse(),
            &with_file(35436, &content_url),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let fetched = fake.asked();
    assert_eq!(fetched.len(), 1);
    assert_eq!(fetched[0].path, "/attachments/token/vx9/?name=crash.log");
    assert!(fetched[0].authorization.starts_with("Basic "));
    let id = created.body["id"].as_i64().unwrap_or_default();
    let ticket = app
        .get(&format!("/api/v1/tickets/{id}"), &app.inhouse())
        .await;
    let file = &ticket.body["attachments"][0];
    assert_eq!(file["file_name"], "crash.log");
    assert_eq!(
        file["sha256"],
        msp_bridge::crypto::sha256_hex(log.as_bytes())
    );
    assert!(file["comment_id"].is_i64(), "{file}");

    // A reply's file: uploaded first, then the comment names its token.
    let summary = "Refund sent to [EMAIL_1].";
    let reply = app
        .post(
            &format!("/api/v1/contractor/tickets/{id}/replies"),
            &app.contractor("acme"),
            &json!({ "body": "See the summary.", "public": true, "attachments": [
                { "file_name": "summary.txt", "media_type": "text/plain",
                  "content": base64::engine::general_purpose::STANDARD.encode(summary) } ] }),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    fake.will(&[
        Recorded::json(
            201,
            json!({ "upload": { "token": "6bk3gql82em5nmf", "attachment": { "id": 498490,
                    "file_name": "summary.txt", "content_type": "text/plain" } } }),
        ),
        updated(),
    ]);
    let sent = write_back(&app).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sent.written, 1, "{sent:?}");
    let asked = fake.asked();
    assert_eq!(
        (asked[0].method.as_str(), asked[0].path.as_str()),
        ("POST", "/api/v2/uploads.json?filename=summary.txt")
    );
    assert_eq!(
        asked[1].body["ticket"]["comment"],
        json!({ "body": "See the summary.", "public": true, "uploads": ["6bk3gql82em5nmf"] })
    );

    // An in-house comment may name its file by URL too: fetched the same way.
    fake.will(&[Recorded {
        status: 200,
        retry_after: None,
        content_type: "text/plain",
        body: "second log".into(),
    }]);
    let comment = app
        .post(
            &format!("/api/v1/tickets/{id}/comments"),
            &app.inhouse(),
            &json!({ "external_id": "1275", "author": "agent", "body": "One more", "attachments": [
                { "file_name": "more.log", "media_type": "text/plain",
                  "url": format!("{url}/attachments/token/vx10/?name=more.log") } ] }),
        )
        .await;
    assert_eq!(comment.status, 201, "{}", comment.body);
    assert_eq!(
        fake.asked()[0].path,
        "/attachments/token/vx10/?name=more.log"
    );
    assert_eq!(app.count(&format!("attachments WHERE ticket_id = {id}")), 3);
}

async fn start_with_url(backend: Backend) -> Option<(TestApp, FakeZendesk, String)> {
    let (fake, url) = FakeZendesk::start();
    let file_url = url.clone();
    let app = spawn_with(backend, move |config| {
        write_connector_file(&config.connectors_dir, &file_url);
    })
    .await?;
    Some((app, fake, url))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_sqlite() {
    let (app, fake, url) = start_with_url(Backend::Sqlite)
        .await
        .unwrap_or_else(|| panic!("sqlite always runs"));
    zendesk_files_come_in_and_go_out(app, fake, url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_postgres() {
    match start_with_url(Backend::Postgres).await {
        Some((app, fake, url)) => zendesk_files_come_in_and_go_out(app, fake, url).await,
        None => eprintln!("BRIDGE_TEST_POSTGRES_URL unset: PostgreSQL variant not run"),
    }
}
