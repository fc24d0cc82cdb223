//! Bad input: a clear 4xx problem naming the field, and nothing written.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, answer, ticket_en};
use crate::on_both_backends;

async fn raw(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> crate::helpers::Answer {
    let resp = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(app.inhouse())
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    answer(resp).await
}

fn with(mut ticket: Value, pointer: &str, value: Option<Value>) -> Value {
    let (parent, key) = pointer.rsplit_once('/').unwrap_or(("", pointer));
    if let Some(obj) = ticket.pointer_mut(parent).and_then(Value::as_object_mut) {
        match value {
            Some(v) => obj.insert(key.to_owned(), v),
            None => obj.remove(key),
        };
    }
    ticket
}

async fn every_bad_input_class_gets_a_problem(app: TestApp) {
    let cases: Vec<(&str, Value, u16, &str, &str)> = vec![
        (
            "missing subject",
            with(ticket_en("B"), "/subject", None),
            400,
            "missing_field",
            "subject",
        ),
        (
            "missing channel",
            with(ticket_en("B"), "/channel", None),
            400,
            "missing_field",
            "channel",
        ),
        (
            "number for text",
            with(ticket_en("B"), "/subject", Some(json!(42))),
            400,
            "wrong_type",
            "subject",
        ),
        (
            "nested wrong type",
            with(ticket_en("B"), "/requester/email", Some(json!(["x"]))),
            400,
            "wrong_type",
            "requester.email",
        ),
        (
            "unknown priority",
            with(ticket_en("B"), "/priority", Some(json!("asap"))),
            400,
            "unknown_value",
            "priority",
        ),
        (
            "unknown channel",
            with(ticket_en("B"), "/channel", Some(json!("fax"))),
            400,
            "unknown_value",
            "channel",
        ),
        (
            "unknown field",
            with(ticket_en("B"), "/colour", Some(json!("red"))),
            400,
            "unknown_field",
            "colour",
        ),
        (
            "bad comment",
            with(
                ticket_en("B"),
                "/comments",
                Some(json!([{ "author": "a" }])),
            ),
            400,
            "missing_field",
            "comments[0].body",
        ),
        (
            "empty subject",
            with(ticket_en("B"), "/subject", Some(json!("  "))),
            400,
            "invalid_field",
            "subject",
        ),
        (
            "bad language",
            with(ticket_en("B"), "/language", Some(json!("english"))),
            400,
            "invalid_field",
            "language",
        ),
        (
            "nested custom field",
            with(
                ticket_en("B"),
                "/custom_fields",
                Some(json!({ "x": { "y": 1 } })),
            ),
            400,
            "invalid_field",
            "custom_fields.x",
        ),
        (
            "not an object",
            json!("just text"),
            400,
            "wrong_type",
            "body",
        ),
    ];
    for (what, body, status, code, field) in cases {
        let a = app.ingest(&body).await;
        assert_eq!(a.status, status, "{what}: {:?}", a.body);
        assert_eq!(a.body["code"], code, "{what}: {:?}", a.body);
        assert_eq!(a.body["field"], field, "{what}: {:?}", a.body);
        assert!(
            a.content_type.starts_with("application/problem+json"),
            "{what}"
        );
    }
    // The offending value is never echoed (it may be personal data).
    let echoed = app
        .ingest(&with(
            ticket_en("B"),
            "/requester/email",
            Some(json!(12345678)),
        ))
        .await;
    assert!(
        !echoed.body.to_string().contains("12345678"),
        "{:?}",
        echoed.body
    );

    let malformed = raw(
        &app,
        "/api/v1/tickets",
        "application/json",
        b"{\"source\": \"zd\",".to_vec(),
    )
    .await;
    assert_eq!(
        (malformed.status, malformed.body["code"].as_str()),
        (400, Some("malformed_json"))
    );
    let invalid_utf8 = raw(
        &app,
        "/api/v1/tickets",
        "application/json",
        b"{\"source\": \"\xff\xfe\"}".to_vec(),
    )
    .await;
    assert_eq!(invalid_utf8.status, 400);
    let trailing = raw(
        &app,
        "/api/v1/tickets",
        "application/json",
        format!("{} x", ticket_en("B")).into_bytes(),
    )
    .await;
    assert_eq!(trailing.body["code"], "malformed_json");
    let deep = "[".repeat(100_000);
    assert_eq!(
        raw(
            &app,
            "/api/v1/tickets",
            "application/json",
            deep.into_bytes()
        )
        .await
        .status,
        400
    );
    let text = raw(&app, "/api/v1/tickets", "text/plain", b"hello".to_vec()).await;
    assert_eq!(
        (text.status, text.body["code"].as_str()),
        (415, Some("unsupported_media_type"))
    );

    // A request that may carry files takes 24 MiB; the others 1 MiB.
    let mut huge = ticket_en("B");
    huge["description"] = json!("x".repeat(24 * 1024 * 1024 + 1));
    let too_big = app.ingest(&huge).await;
    assert_eq!(
        (too_big.status, too_big.body["code"].as_str()),
        (413, Some("payload_too_large"))
    );
    let mut big = ticket_en("B");
    big["description"] = json!("x".repeat(1024 * 1024 + 1));
    let body = serde_json::to_vec(&big).unwrap_or_default();
    let too_big = raw(&app, "/api/v1/routing/preview", "application/json", body).await;
    assert_eq!(
        (too_big.status, too_big.body["code"].as_str()),
        (413, Some("payload_too_large"))
    );

    for path in [
        "/api/v1/tickets/424242",
        "/api/v1/tickets/abc",
        "/api/v1/tickets/-1",
        "/api/v1/nothing-here",
    ] {
        let a = app.get(path, &app.inhouse()).await;
        assert_eq!(
            (a.status, a.body["code"].as_str()),
            (404, Some("not_found")),
            "{path}"
        );
    }
    let wrong_method = app
        .send(
            Method::DELETE,
            "/api/v1/tickets",
            Some(&app.inhouse()),
            None,
        )
        .await;
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.body["code"], "method_not_allowed");

    // Contractor inputs are checked the same way.
    let id = app.ingest(&ticket_en("B-OK")).await.body["id"]
        .as_i64()
        .unwrap_or_default();
    let acme = app.contractor("acme");
    let base = format!("/api/v1/contractor/tickets/{id}");
    let bad = [
        app.post(
            &format!("{base}/status"),
            &acme,
            &json!({ "status": "closed" }),
        )
        .await,
        app.post(
            &format!("{base}/status"),
            &acme,
            &json!({ "status": "handed_back" }),
        )
        .await,
        app.post(
            &format!("{base}/replies"),
            &acme,
            &json!({ "body": "" , "public": true }),
        )
        .await,
        app.post(&format!("{base}/replies"), &acme, &json!({ "body": "hi" }))
            .await,
        app.post(
            &format!("{base}/handback"),
            &acme,
            &json!({ "reason": " " }),
        )
        .await,
    ];
    for a in bad {
        assert_eq!(a.status, 400, "{:?}", a.body);
    }
    assert_eq!(app.count("tickets"), 1, "only the valid ticket was stored");
    assert_eq!(app.count("comments"), 2, "no reply was stored");
}

async fn a_failed_transaction_leaves_nothing_behind(app: TestApp) {
    use diesel::prelude::*;
    use msp_bridge::db::schema::tickets;
    let before = app.count("tickets");
    let result: Result<(), msp_bridge::db::DbError> = app.db.write(|c| {
        diesel::insert_into(tickets::table)
            .values((
                tickets::source.eq("s"),
                tickets::external_id.eq("half"),
                tickets::subject.eq("x"),
                tickets::description.eq(""),
                tickets::channel.eq("email"),
                tickets::priority.eq("normal"),
                tickets::tags.eq("[]"),
                tickets::custom_fields.eq("{}"),
                tickets::status.eq("new"),
                tickets::routing.eq("{}"),
                tickets::created_at.eq(chrono::NaiveDateTime::default()),
                tickets::updated_at.eq(chrono::NaiveDateTime::default()),
            ))
            .execute(c)?;
        // A later step of the same request fails: the insert above must not survive.
        msp_bridge::ledger::append(
            c,
            chrono::Utc::now(),
            msp_bridge::ledger::NewEntry {
                actor: "test",
                action: msp_bridge::ledger::Action::TicketShare,
                contract_id: Some("no-such-contract-row-needed"),
                ticket_id: None,
                details: json!({}),
            },
        )?;
        Err(diesel::result::Error::RollbackTransaction.into())
    });
    assert!(result.is_err());
    assert_eq!(app.count("tickets"), before);
    assert_eq!(
        app.count("audit_log"),
        3,
        "only the three contract.apply entries remain"
    );
    let verify = app.get("/api/v1/audit/verify", &app.admin()).await;
    assert_eq!(
        verify.body["first_broken"],
        Value::Null,
        "the ledger head rolled back too"
    );
}

/// A NUL character is refused the same way on both databases (PostgreSQL cannot store one):
/// 400 naming the field, for every kind of input, and nothing written.
async fn a_nul_is_refused_naming_where_it_is(app: TestApp) {
    let id = app.ingest(&ticket_en("N-OK")).await.body["id"]
        .as_i64()
        .unwrap_or_default();
    let (tickets, comments) = (app.count("tickets"), app.count("comments"));
    let acme = app.contractor("acme");
    let nul = |pointer: &str| with(ticket_en("N"), pointer, Some(json!("a\u{0}b")));
    let cases: Vec<(&str, &str, String, Value, &str)> = vec![
        (
            "ticket subject",
            "inhouse",
            "/api/v1/tickets".into(),
            nul("/subject"),
            "subject",
        ),
        (
            "requester",
            "inhouse",
            "/api/v1/tickets".into(),
            nul("/requester/email"),
            "requester.email",
        ),
        (
            "a key",
            "inhouse",
            "/api/v1/tickets".into(),
            with(ticket_en("N"), "/custom_fields/a\u{0}", Some(json!(1))),
            "custom_fields.a\\0",
        ),
        (
            "comment",
            "inhouse",
            format!("/api/v1/tickets/{id}/comments"),
            json!({ "author": "a", "body": "x\u{0}" }),
            "body",
        ),
        (
            "routing preview",
            "inhouse",
            "/api/v1/routing/preview".into(),
            nul("/description"),
            "description",
        ),
        (
            "zendesk",
            "inhouse",
            "/api/v1/inbound/zendesk".into(),
            json!({ "ticket": { "id": 1, "subject": "\u{0}" } }),
            "ticket.subject",
        ),
        (
            "redaction preview",
            "admin",
            "/api/v1/redaction/preview".into(),
            json!({ "contract": "acme-en", "ticket": nul("/subject") }),
            "ticket.subject",
        ),
        (
            "reply",
            "acme",
            format!("/api/v1/contractor/tickets/{id}/replies"),
            json!({ "body": "\u{0}", "public": true }),
            "body",
        ),
        (
            "hand-back",
            "acme",
            format!("/api/v1/contractor/tickets/{id}/handback"),
            json!({ "reason": "\u{0}" }),
            "reason",
        ),
    ];
    for (what, who, path, body, field) in cases {
        let token = match who {
            "admin" => app.admin(),
            "acme" => acme.clone(),
            _ => app.inhouse(),
        };
        let a = app.post(&path, &token, &body).await;
        assert_eq!(
            (a.status, a.body["code"].as_str(), a.body["field"].as_str()),
            (400, Some("invalid_field"), Some(field)),
            "{what}: {:?}",
            a.body
        );
    }
    // In the path and the query string: refused before any handler.
    for (path, code) in [
        ("/api/v1/reports?scope=%00", "invalid_query"),
        ("/api/v1/events?after=%00", "invalid_query"),
        ("/api/v1/deliveries/%00/replay", "invalid_path"),
        ("/api/v1/tickets/1%00", "invalid_path"),
    ] {
        let a = app.get(path, &app.admin()).await;
        assert_eq!(
            (a.status, a.body["code"].as_str()),
            (400, Some(code)),
            "{path}"
        );
    }
    let replay = app
        .post("/api/v1/deliveries/%00/replay", &app.admin(), &json!({}))
        .await;
    assert_eq!(replay.status, 400);
    assert_eq!(app.count("tickets"), tickets);
    assert_eq!(app.count("comments"), comments);
    // `\\u0000` is an escaped backslash, not a NUL: a ticket may say it.
    let mut fine = ticket_en("N-TEXT");
    fine["description"] = json!("path C:\\u0000\\x");
    assert_eq!(app.ingest(&fine).await.status, 201);
}

/// A refused value is never repeated, by any adapter: it may be personal data.
async fn refused_values_are_never_repeated(app: TestApp) {
    let secret = "card 4111 1111 1111 1111 ivan@mail.ru";
    let snils = "SNILS 112-233-445 95";
    let answers = [
        app.post(
            "/api/v1/inbound/generic",
            &app.inhouse(),
            &with(ticket_en("E"), "/channel", Some(json!(secret))),
        )
        .await,
        app.post(
            "/api/v1/inbound/zendesk",
            &app.inhouse(),
            &json!({ "ticket": { "id": 7, "subject": "s", "status": snils } }),
        )
        .await,
        app.post(
            "/api/v1/inbound/zendesk",
            &app.inhouse(),
            &json!({ "ticket": { "id": 7, "subject": "s", "priority": secret } }),
        )
        .await,
        app.post(
            "/api/v1/tickets",
            &app.inhouse(),
            &with(ticket_en("E"), "/priority", Some(json!(secret))),
        )
        .await,
        app.get(
            &format!("/api/v1/events?after={}", "4111111111111111x"),
            &app.inhouse(),
        )
        .await,
        app.get(
            "/api/v1/contractor/tickets?before=ivan%40mail.ru",
            &app.contractor("acme"),
        )
        .await,
    ];
    for a in answers {
        assert_eq!(a.status, 400, "{:?}", a.body);
        let text = a.body.to_string();
        for leaked in ["4111", "ivan@mail.ru", "112-233", "ivan%40"] {
            assert!(!text.contains(leaked), "`{leaked}` repeated: {text}");
        }
    }
}

on_both_backends!(
    every_bad_input_class_gets_a_problem,
    a_failed_transaction_leaves_nothing_behind,
    a_nul_is_refused_naming_where_it_is,
    refused_values_are_never_repeated,
);
