//! Retention: token values and contractor events older than a contract's `retention_days`
//! go, the purge is audited and reported, and a purged number is never issued again.

use msp_bridge::clock::Clock;
use serde_json::{Value, json};

use crate::helpers::{TestApp, ticket_en};
use crate::on_both_backends;

fn ticket_with_email(external_id: &str, email: &str) -> Value {
    let mut t = ticket_en(external_id);
    t["requester"]["email"] = json!(email);
    t["description"] = json!(format!("Please write to {email}."));
    t
}

/// Shares `ticket` with acme and returns its id and the token acme sees for the e-mail.
async fn email_token_seen_by_acme(app: &TestApp, ticket: &Value) -> (Value, String) {
    let answer = app.ingest(ticket).await;
    assert_eq!(
        answer.body["routing"]["outcome"], "shared",
        "{:?}",
        answer.body
    );
    let id = answer.body["id"].clone();
    let view = app
        .get(
            &format!("/api/v1/contractor/tickets/{id}"),
            &app.contractor("acme"),
        )
        .await;
    let token = view.body["requester"]["email"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        token.starts_with('[') && !token.contains('@'),
        "{:?}",
        view.body
    );
    (id, token)
}

async fn copies_past_retention_are_purged_once(app: TestApp) {
    let t0 = app.clock.now();
    let (first, old) =
        email_token_seen_by_acme(&app, &ticket_with_email("RET-1", "old@example.com")).await;
    app.clock.set(t0 + chrono::Duration::days(10));
    let (second, recent) =
        email_token_seen_by_acme(&app, &ticket_with_email("RET-2", "recent@example.com")).await;
    // Let the delivery worker settle the events (acme-en has no endpoint: skipped).
    for _ in 0..200 {
        if app.count("outbox_events WHERE state = 'pending'") == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(app.count("outbox_events WHERE state = 'pending'"), 0);
    let events_before = app.count("outbox_events WHERE audience = 'contractor'");
    // acme-en keeps copies 30 days: at day 35, what was last used on day 0 goes.
    app.clock.set(t0 + chrono::Duration::days(35));
    let purge = || {
        let job = app.retention.clone();
        async move {
            tokio::task::spawn_blocking(move || job.run_once())
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .unwrap_or_else(|e| panic!("{e}"))
        }
    };
    let purged = purge().await;
    let acme = purged
        .iter()
        .find(|p| p.contract == "acme-en")
        .cloned()
        .unwrap_or_else(|| panic!("{purged:?}"));
    assert!(acme.tokens >= 1, "{acme:?}");
    assert!(acme.events >= 1, "{acme:?}");
    assert_eq!(
        app.count("outbox_events WHERE audience = 'contractor'"),
        events_before - i64::try_from(acme.events).unwrap_or(0)
    );
    assert_eq!(
        app.count("audit_log WHERE action = 'retention.purge' AND contract_id = 'acme-en'"),
        1
    );
    // The erased value is gone from the vault, and its number is never reused: the same
    // address gets a new token; the recently used one keeps its own.
    assert_eq!(
        app.count("vault_tokens WHERE purged_at IS NOT NULL AND ciphertext = ''"),
        i64::try_from(acme.tokens).unwrap_or(0),
        "every purged token lost its value"
    );
    assert_eq!(
        app.count("vault_tokens WHERE purged_at IS NOT NULL AND ciphertext <> ''"),
        0
    );
    let (_, again) =
        email_token_seen_by_acme(&app, &ticket_with_email("RET-3", "old@example.com")).await;
    assert_ne!(again, old, "a purged token number must not come back");
    // acme-en takes three at a time: the contractor solves one to make room.
    let solved = app
        .post(
            &format!("/api/v1/contractor/tickets/{second}/status"),
            &app.contractor("acme"),
            &json!({ "status": "solved" }),
        )
        .await;
    assert_eq!(solved.status, 200, "{:?}", solved.body);
    let (_, still) =
        email_token_seen_by_acme(&app, &ticket_with_email("RET-4", "recent@example.com")).await;
    assert_eq!(still, recent);
    // A contractor reply quoting the purged token stays a token in-house.
    let reply = app
        .post(
            &format!("/api/v1/contractor/tickets/{first}/replies"),
            &app.contractor("acme"),
            &json!({ "body": format!("Wrote to {old}"), "public": true }),
        )
        .await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    let inhouse = app
        .get(&format!("/api/v1/tickets/{first}"), &app.inhouse())
        .await;
    let replies = inhouse.body["replies"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(replies.len(), 1, "{:?}", inhouse.body);
    assert_eq!(
        replies[0]["body"],
        format!("Wrote to {old}"),
        "a purged token is not turned back into a value"
    );
    // Nothing more to purge at the same moment: no second audit entry.
    purge().await;
    assert_eq!(
        app.count("audit_log WHERE action = 'retention.purge' AND contract_id = 'acme-en'"),
        1
    );
    // The report of the period states it.
    let report = app
        .post(
            "/api/v1/reports",
            &app.admin(),
            &json!({ "contract": "acme-en", "from": t0, "to": t0 + chrono::Duration::days(40), "formats": ["json"] }),
        )
        .await;
    let id = report.body["items"][0]["id"].clone();
    let json = app
        .get(&format!("/api/v1/reports/{id}"), &app.admin())
        .await
        .body;
    assert_eq!(json["purges"]["runs"], 1);
    assert_eq!(json["purges"]["tokens"], acme.tokens);
    assert_eq!(json["purges"]["events"], acme.events);
}

on_both_backends!(copies_past_retention_are_purged_once);
