//! Helpdesk adapters: a Zendesk ticket in, Zendesk updates out.

use serde_json::{Value, json};

use crate::helpers::{TestApp, ticket_en};
use crate::on_both_backends;

fn zendesk_ticket() -> Value {
    json!({ "ticket": {
        "id": 35436,
        "subject": "Refund for order 7781",
        "description": "Hi, I'm John Smith, mail john.smith@example.com.",
        "priority": "normal",
        "status": "open",
        "tags": ["refund"],
        "via": { "channel": "email" },
        "custom_fields": [ { "id": 360001, "value": "pro" } ],
        "requester": { "name": "John Smith", "email": "john.smith@example.com", "locale": "en-US" },
        "comments": [ { "id": 1274, "author": { "name": "John Smith" }, "body": "Still waiting", "public": true } ]
    }})
}

async fn a_zendesk_ticket_is_shared_and_answered_in_zendesk_terms(app: TestApp) {
    let inhouse = app.inhouse();
    let created = app
        .post("/api/v1/inbound/zendesk", &inhouse, &zendesk_ticket())
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["routing"]["contract"], "acme-en");
    let id = created.body["id"].as_i64().unwrap_or_default();
    let stored = app.get(&format!("/api/v1/tickets/{id}"), &inhouse).await;
    assert_eq!(
        (
            &stored.body["source"],
            &stored.body["external_id"],
            &stored.body["channel"]
        ),
        (&json!("zendesk"), &json!("35436"), &json!("email"))
    );
    assert_eq!(stored.body["comments"][0]["body"], "Still waiting");
    // The same Zendesk ticket again is an update of the same gateway ticket.
    let again = app
        .post("/api/v1/inbound/zendesk", &inhouse, &zendesk_ticket())
        .await;
    assert_eq!((again.status, again.body["id"].as_i64()), (200, Some(id)));
    // The contractor answers; the feed says how to apply that in Zendesk.
    let reply = app
        .post(
            &format!("/api/v1/contractor/tickets/{id}/replies"),
            &app.contractor("acme"),
            &json!({ "body": "Refund sent to [EMAIL_1].", "public": true }),
        )
        .await;
    assert_eq!(reply.status, 201);
    let feed = app.get("/api/v1/events?format=zendesk", &inhouse).await;
    let replied = feed.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["type"] == "share.replied")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        replied["helpdesk"],
        json!({
            "source": "zendesk",
            "external_id": "35436",
            "update": { "ticket": { "comment": { "body": "Refund sent to john.smith@example.com.", "public": true } } },
        })
    );
    // Our own form goes through the generic adapter.
    let generic = app
        .post("/api/v1/inbound/generic", &inhouse, &ticket_en("G-1"))
        .await;
    assert_eq!(generic.status, 201, "{:?}", generic.body);
    // Unknown adapters, bad payloads, unknown formats.
    assert_eq!(
        app.post("/api/v1/inbound/freshdesk", &inhouse, &json!({}))
            .await
            .status,
        404
    );
    let mut bad = zendesk_ticket();
    bad["ticket"]["priority"] = json!("critical");
    let refused = app.post("/api/v1/inbound/zendesk", &inhouse, &bad).await;
    assert_eq!(
        (refused.status, refused.body["field"].as_str()),
        (400, Some("priority"))
    );
    let mut no_id = zendesk_ticket();
    no_id["ticket"]["id"] = Value::Null;
    let refused = app.post("/api/v1/inbound/zendesk", &inhouse, &no_id).await;
    assert_eq!(
        (refused.status, refused.body["field"].as_str()),
        (400, Some("ticket.id"))
    );
    assert_eq!(
        app.get("/api/v1/events?format=jira", &inhouse).await.status,
        400
    );
    let contractor = app
        .post(
            "/api/v1/inbound/zendesk",
            &app.contractor("acme"),
            &zendesk_ticket(),
        )
        .await;
    assert_eq!(contractor.status, 403);
}

on_both_backends!(a_zendesk_ticket_is_shared_and_answered_in_zendesk_terms);
