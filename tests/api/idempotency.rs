//! `Idempotency-Key`: a retried write returns the first answer and changes nothing.

use serde_json::{Value, json};

use crate::helpers::{Answer, TestApp, answer, ticket_en};
use crate::on_both_backends;

/// Posts with an `Idempotency-Key`; the answer and whether it was marked as a replay.
async fn post_once(
    app: &TestApp,
    path: &str,
    token: &str,
    key: &str,
    body: &Value,
) -> (Answer, bool) {
    let response = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let replayed = response.headers().get("idempotent-replayed").is_some();
    (answer(response).await, replayed)
}

async fn a_retried_write_changes_nothing(app: TestApp) {
    let inhouse = app.inhouse();
    let ticket = ticket_en("I-1");
    let (first, replayed) = post_once(&app, "/api/v1/tickets", &inhouse, "push-1", &ticket).await;
    assert_eq!((first.status, replayed), (201, false), "{:?}", first.body);
    let ledger = app.ledger().len();
    let events = app.count("outbox_events");
    let (again, replayed) = post_once(&app, "/api/v1/tickets", &inhouse, "push-1", &ticket).await;
    assert_eq!((again.status, replayed), (201, true));
    assert_eq!(again.body, first.body, "the first answer, word for word");
    assert_eq!(app.ledger().len(), ledger, "nothing audited twice");
    assert_eq!(app.count("outbox_events"), events, "no event twice");
    // Without a key the same push is an update, as before.
    assert_eq!(app.ingest(&ticket).await.status, 200);
    // The same key with another body is refused.
    let mut other = ticket_en("I-2");
    other["subject"] = json!("Something else");
    let (reused, _) = post_once(&app, "/api/v1/tickets", &inhouse, "push-1", &other).await;
    assert_eq!(
        (reused.status, reused.body["code"].as_str()),
        (409, Some("conflict"))
    );
    assert_eq!(app.count("tickets"), 1);
    // Malformed keys.
    for bad in ["", &"k".repeat(256)] {
        let (refused, _) = post_once(&app, "/api/v1/tickets", &inhouse, bad, &ticket).await;
        assert_eq!(
            (refused.status, refused.body["field"].as_str()),
            (400, Some("Idempotency-Key")),
            "{bad:?}"
        );
    }
}

async fn concurrent_retries_of_a_reply_make_one_comment(app: TestApp) {
    let id = app.ingest(&ticket_en("I-3")).await.body["id"]
        .as_i64()
        .unwrap_or_default();
    let acme = app.contractor("acme");
    let path = format!("/api/v1/contractor/tickets/{id}/replies");
    let body = json!({ "body": "On it.", "public": true });
    let tries = (0..8).map(|_| post_once(&app, &path, &acme, "reply-1", &body));
    let answers = futures_util::future::join_all(tries).await;
    let first = &answers[0].0;
    for (a, _) in &answers {
        assert_eq!((a.status, &a.body), (201, &first.body));
    }
    assert_eq!(answers.iter().filter(|(_, replayed)| !replayed).count(), 1);
    let view = app
        .get(&format!("/api/v1/tickets/{id}"), &app.inhouse())
        .await;
    assert_eq!(view.body["replies"].as_array().map(Vec::len), Some(1));
    // The status change is idempotent too; keys are per target, so one key can serve both.
    let status = format!("/api/v1/contractor/tickets/{id}/status");
    let pending = json!({ "status": "pending" });
    let (a, _) = post_once(&app, &status, &acme, "reply-1", &pending).await;
    let (b, replayed) = post_once(&app, &status, &acme, "reply-1", &pending).await;
    assert_eq!((a.status, b.status, replayed), (200, 200, true));
    assert_eq!(a.body, b.body);
}

on_both_backends!(
    a_retried_write_changes_nothing,
    concurrent_retries_of_a_reply_make_one_comment,
);
