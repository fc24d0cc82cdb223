//! How a contractor answers under its contract: approved replies (macros) rendered over what it
//! sees, categories answered only by macro, and free text that waits for in-house approval
//! while the SLA clocks run on.

use chrono::Duration;
use msp_bridge::clock::Clock;
use msp_bridge::config::Config;
use serde_json::{Value, json};

use crate::helpers::{TestApp, ticket_en, use_contracts};
use crate::on_both_backends;

const ACME: &str = include_str!("../fixtures/contracts/acme-en.toml");

const MACROS: &str = r#"
[[replies.macros]]
id = "refund-issued"
title = "Refund issued"
body = """Hello, the refund of {{vars.amount}} is on its way; the confirmation goes to {{requester.email}}."""
vars = ["amount"]
status = "solved"

[[replies.macros]]
id = "call-back"
title = "We will call you"
body = "We will call you on {{requester.phone}}."
"#;

fn with_replies(config: &mut Config, rules: &str) {
    let contract = format!("{ACME}\n[replies]\n{rules}\n{MACROS}");
    use_contracts(config, &[("acme-en.toml", &contract)]);
}

fn macros(config: &mut Config) {
    with_replies(config, "");
}

fn macro_only_billing(config: &mut Config) {
    with_replies(config, r#"macro_only_categories = ["billing"]"#);
}

fn approval_of_free_text(config: &mut Config) {
    with_replies(config, r#"approval = "free_text""#);
}

async fn shared(app: &TestApp, external_id: &str) -> i64 {
    let pushed = app.ingest(&ticket_en(external_id)).await;
    assert_eq!(
        pushed.body["routing"]["outcome"], "shared",
        "{:?}",
        pushed.body
    );
    pushed.body["id"].as_i64().unwrap_or_default()
}

async fn reply(app: &TestApp, id: i64, body: &Value) -> crate::helpers::Answer {
    app.post(
        &format!("/api/v1/contractor/tickets/{id}/replies"),
        &app.contractor("acme"),
        body,
    )
    .await
}

fn in_house_replies(app: &TestApp) -> Vec<Value> {
    app.ledger();
    app.db
        .write(|c| {
            msp_bridge::outbox::sequence(c)?;
            msp_bridge::outbox::list(c, &msp_bridge::outbox::Audience::Inhouse, 0, 1_000)
                .map_err(msp_bridge::db::DbError::from)
        })
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .filter_map(|row| row.envelope().ok())
        .map(|e| serde_json::to_value(e).unwrap_or_default())
        .filter(|e| e["type"] == "share.replied")
        .collect()
}

async fn macros_render_what_the_contractor_sees_and_go_home_with_values(app: TestApp) {
    let id = shared(&app, "M-1").await;
    // Refused by name, before anything is sent.
    for (body, field) in [
        (json!({ "macro": "no-such" }), "macro"),
        (json!({ "macro": "refund-issued" }), "vars.amount"),
        (
            json!({ "macro": "refund-issued", "vars": { "amount": "5", "note": "x" } }),
            "vars.note",
        ),
        (
            json!({ "macro": "refund-issued", "vars": { "amount": "5" }, "body": "hi" }),
            "body",
        ),
        (
            json!({ "macro": "refund-issued", "vars": { "amount": "5" }, "public": false }),
            "public",
        ),
        (json!({ "vars": { "amount": "5" }, "body": "hi" }), "vars"),
        (json!({ "public": true }), "body"),
    ] {
        let refused = reply(&app, id, &body).await;
        assert_eq!(
            (refused.status, refused.body["field"].as_str()),
            (400, Some(field)),
            "{body}: {:?}",
            refused.body
        );
    }
    // A placeholder for what the contract does not show is named, never filled.
    let hidden = reply(&app, id, &json!({ "macro": "call-back" })).await;
    assert_eq!(hidden.status, 400, "{:?}", hidden.body);
    let detail = hidden.body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("requester.phone"), "{detail}");
    assert!(!hidden.body.to_string().contains("7946"));
    assert!(in_house_replies(&app).is_empty());

    let sent = reply(
        &app,
        id,
        &json!({ "macro": "refund-issued", "vars": { "amount": "42 EUR" } }),
    )
    .await;
    assert_eq!(sent.status, 201, "{:?}", sent.body);
    crate::helpers::assert_documented("post", "/api/v1/contractor/tickets/{id}/replies", &sent);
    // The contractor gets back what it sent: the token it sees, never the address.
    let written = sent.body["body"].as_str().unwrap_or_default();
    assert!(
        written.starts_with("Hello, the refund of 42 EUR is on its way; the confirmation goes to "),
        "{written}"
    );
    assert!(!written.contains("john.smith@example.com"), "{written}");
    // Home, the token is the customer's address again.
    let home = in_house_replies(&app);
    assert_eq!(home.len(), 1);
    assert!(
        home[0]["data"]["body"]
            .as_str()
            .unwrap_or_default()
            .ends_with("goes to john.smith@example.com."),
        "{home:?}"
    );
    // The macro's status change and the ledger's note.
    let view = app.contractor_view("acme", id).await;
    assert_eq!(view.body["state"], "solved");
    let replies: Vec<_> = app
        .ledger()
        .into_iter()
        .filter(|e| e.action == "share.reply")
        .collect();
    assert_eq!(replies.len(), 1);
    assert!(
        replies[0].details.contains("\"macro\":\"refund-issued\""),
        "{}",
        replies[0].details
    );
    // The report counts the macro's use.
    let now = app.clock.now();
    let report = crate::reports::report_of(
        &app,
        &json!({
            "contract": "acme-en",
            "from": now - Duration::days(1),
            "to": now + Duration::days(1),
            "formats": ["json", "html"],
        }),
    )
    .await;
    assert_eq!(
        report[0].1["replies"],
        json!({ "sent": 1, "by_macro": 1, "queued": 0, "approved": 0, "rejected": 0, "void": 0 })
    );
    assert_eq!(
        report[0].1["macros"],
        json!([{ "contract": "acme-en", "macro": "refund-issued", "uses": 1 }])
    );
    let html = report[1].1.as_str().unwrap_or_default();
    assert!(
        html.contains("<td>acme-en</td><td>refund-issued</td>"),
        "{html}"
    );
}

async fn categories_answered_only_by_macro(app: TestApp) {
    let id = shared(&app, "M-2").await;
    let free = reply(&app, id, &json!({ "body": "Refund done.", "public": true })).await;
    assert_eq!(
        (free.status, free.body["field"].as_str()),
        (400, Some("body")),
        "{:?}",
        free.body
    );
    assert!(
        free.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("billing")
    );
    let by_macro = reply(
        &app,
        id,
        &json!({ "macro": "refund-issued", "vars": { "amount": "10 EUR" } }),
    )
    .await;
    assert_eq!(by_macro.status, 201, "{:?}", by_macro.body);
}

async fn free_text_waits_for_approval_with_clocks_running(app: TestApp) {
    let id = shared(&app, "M-3").await;
    let shared_at = app.clock.now();
    let queued = reply(
        &app,
        id,
        &json!({ "body": "Hello, your refund is on its way.", "public": true }),
    )
    .await;
    assert_eq!(queued.status, 202, "{:?}", queued.body);
    crate::helpers::assert_documented("post", "/api/v1/contractor/tickets/{id}/replies", &queued);
    let approval = queued.body["approval_id"].as_i64().unwrap_or_default();
    assert_eq!(queued.body["state"], "pending");
    // Nothing reached the customer; the first-response clock runs on.
    assert!(in_house_replies(&app).is_empty());
    let waiting = app.contractor_view("acme", id).await;
    assert_eq!(waiting.body["first_response_at"], Value::Null);
    assert!(
        waiting.body["comments"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|c| c["from_contractor"] != true)
    );
    let events = app
        .get("/api/v1/events?after=0&limit=500", &app.inhouse())
        .await;
    assert!(
        events.body["items"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|e| e["type"] == "share.reply_awaiting_approval"
                && e["data"]["approval_id"] == approval),
        "{:?}",
        events.body
    );

    app.clock.advance(Duration::minutes(30));
    let listed = app.get("/api/v1/approvals", &app.inhouse()).await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    crate::helpers::assert_documented("get", "/api/v1/approvals", &listed);
    assert_eq!(listed.body[0]["id"], approval);
    assert_eq!(listed.body[0]["body"], "Hello, your refund is on its way.");
    assert_eq!(listed.body[0]["author"], "tester");
    let contractor = app.get("/api/v1/approvals", &app.contractor("acme")).await;
    assert_eq!(contractor.status, 403);

    let approved = app
        .post(
            &format!("/api/v1/approvals/{approval}/approve"),
            &app.inhouse(),
            &json!({}),
        )
        .await;
    assert_eq!(approved.status, 200, "{:?}", approved.body);
    crate::helpers::assert_documented("post", "/api/v1/approvals/{id}/approve", &approved);
    assert_eq!(approved.body["state"], "approved");
    assert!(approved.body["comment_id"].as_i64().is_some());
    assert_eq!(in_house_replies(&app).len(), 1);
    // The clock stopped when the reply went out, not when it was written.
    let answered = app.contractor_view("acme", id).await;
    let first = answered.body["first_response_at"]
        .as_str()
        .unwrap_or_default();
    let first =
        chrono::DateTime::parse_from_rfc3339(first).unwrap_or_else(|e| panic!("{first}: {e}"));
    assert_eq!(
        first.with_timezone(&chrono::Utc) - shared_at,
        Duration::minutes(30)
    );
    let twice = app
        .post(
            &format!("/api/v1/approvals/{approval}/approve"),
            &app.inhouse(),
            &json!({}),
        )
        .await;
    assert_eq!(twice.status, 409, "{:?}", twice.body);

    // A rejected reply is never sent; the contractor is told which.
    let second = reply(
        &app,
        id,
        &json!({ "body": "Anything else?", "public": true }),
    )
    .await;
    let second_id = second.body["approval_id"].as_i64().unwrap_or_default();
    let rejected = app
        .post(
            &format!("/api/v1/approvals/{second_id}/reject"),
            &app.admin(),
            &json!({}),
        )
        .await;
    assert_eq!(rejected.body["state"], "rejected", "{:?}", rejected.body);
    assert_eq!(in_house_replies(&app).len(), 1);
    let told = app.contractor_events("acme-en");
    assert!(
        told.iter()
            .any(|e| e["type"] == "share.reply_rejected" && e["data"]["approval_id"] == second_id),
        "{told:?}"
    );
    let ledger = app.ledger();
    assert_eq!(
        ledger
            .iter()
            .filter(|e| e.action == "share.reply_queued")
            .count(),
        2
    );
    assert_eq!(
        ledger
            .iter()
            .filter(|e| e.action == "share.reply_decided")
            .count(),
        2
    );
    let now = app.clock.now();
    let report = crate::reports::report_of(
        &app,
        &json!({ "contract": "acme-en", "from": now - Duration::days(1), "to": now + Duration::days(1), "formats": ["json"] }),
    )
    .await;
    assert_eq!(
        report[0].1["replies"],
        json!({ "sent": 1, "by_macro": 0, "queued": 2, "approved": 1, "rejected": 1, "void": 0 })
    );
    let sent = ledger
        .iter()
        .find(|e| e.action == "share.reply")
        .map(|e| e.details.clone())
        .unwrap_or_default();
    assert!(
        sent.contains(&format!("\"approval_id\":{approval}")),
        "{sent}"
    );
    // Macros do not wait.
    let other = shared(&app, "M-4").await;
    let by_macro = reply(
        &app,
        other,
        &json!({ "macro": "refund-issued", "vars": { "amount": "7 EUR" } }),
    )
    .await;
    assert_eq!(by_macro.status, 201, "{:?}", by_macro.body);
    // Unknown approvals and bad states are refused clearly.
    let unknown = app
        .post(
            "/api/v1/approvals/999999/approve",
            &app.inhouse(),
            &json!({}),
        )
        .await;
    assert_eq!(unknown.status, 404);
    let bad = app
        .get("/api/v1/approvals?state=maybe", &app.inhouse())
        .await;
    assert_eq!(bad.status, 400);
}

on_both_backends!(with macros: macros_render_what_the_contractor_sees_and_go_home_with_values);
on_both_backends!(with macro_only_billing: categories_answered_only_by_macro);
on_both_backends!(with approval_of_free_text: free_text_waits_for_approval_with_clocks_running);
