//! Escalation between agencies: an L1 contractor hands a ticket up to the L2 contract its
//! contract names, which receives it with the L1 replies under its own redaction rules (issue
//! 15, point 3).

use serde_json::{Value, json};

use crate::helpers::{TestApp, ticket_en};
use crate::on_both_backends;

/// acme-en escalating to expert-en: another agency on the same scope that takes escalations
/// only (overflow `off`), one at a time, and masks what acme tokenises.
fn acme_and_expert(config: &mut msp_bridge::config::Config) {
    let acme = std::fs::read_to_string(crate::helpers::test_contracts_dir().join("acme-en.toml"))
        .unwrap_or_default();
    let expert = acme
        .replace(r#"id = "acme-en""#, r#"id = "expert-en""#)
        .replace(r#"contractor = "acme""#, r#"contractor = "expert""#)
        .replace(r#"mode = "always""#, r#"mode = "off""#)
        .replace("max_open = 3", "max_open = 1")
        .replace("rank = 10", "rank = 30")
        .replace(
            r#""requester.email" = "tokenize""#,
            r#""requester.email" = "mask""#,
        );
    let acme = acme.replace("rank = 10\n", "rank = 10\nescalates_to = \"expert-en\"\n");
    crate::helpers::use_contracts(
        config,
        &[("acme-en.toml", &acme), ("expert-en.toml", &expert)],
    );
}

async fn hand_up(app: &TestApp, contractor: &str, id: i64) -> crate::helpers::Answer {
    app.post(
        &format!("/api/v1/contractor/tickets/{id}/handback"),
        &app.contractor(contractor),
        &json!({ "reason": "needs a billing specialist", "escalate": true }),
    )
    .await
}

/// Pushes `external_id`; acme takes it, replies publicly with the token it sees for the
/// requester's e-mail, and hands it up. Returns the ticket id.
async fn replied_and_handed_up(app: &TestApp, external_id: &str) -> i64 {
    let pushed = app.ingest(&ticket_en(external_id)).await;
    assert_eq!(
        pushed.body["routing"]["contract"], "acme-en",
        "{:?}",
        pushed.body
    );
    let id = pushed.body["id"].as_i64().unwrap_or_default();
    let acme_view = app.contractor_view("acme", id).await;
    let token = acme_view.body["requester"]["email"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(token.starts_with("[EMAIL_"), "{:?}", acme_view.body);
    let reply = app
        .post(
            &format!("/api/v1/contractor/tickets/{id}/replies"),
            &app.contractor("acme"),
            &json!({ "body": format!("Refund approved by L1; confirmation goes to {token}."), "public": true }),
        )
        .await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    let handed = hand_up(app, "acme", id).await;
    assert_eq!(
        (handed.status, &handed.body["state"]),
        (200, &json!("handed_back")),
        "{:?}",
        handed.body
    );
    assert!(
        !handed.body.to_string().contains("expert"),
        "{:?}",
        handed.body
    );
    id
}

async fn an_l1_agency_hands_a_ticket_up_to_its_l2(app: TestApp) {
    let id = replied_and_handed_up(&app, "ESC-1").await;
    let decision = app.routing(id).await;
    assert_eq!(
        (&decision["outcome"], &decision["contract"]),
        (&json!("shared"), &json!("expert-en")),
        "{decision}"
    );
    assert!(
        decision["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("escalated by acme under acme-en to expert-en")),
        "{decision}"
    );
    assert_eq!(app.contractor_view("acme", id).await.status, 404);
    // The L2 contractor reads the L1 reply, redacted under its own contract: the e-mail is
    // masked there, and acme's token means nothing to it.
    let expert = app.contractor_view("expert", id).await;
    assert_eq!(expert.status, 200, "{:?}", expert.body);
    let text = expert.body.to_string();
    assert!(!text.contains("[EMAIL_"), "{text}");
    assert!(!text.contains("john.smith@example.com"), "{text}");
    for secret in crate::helpers::EN_SECRETS {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    let handed_over = expert.body["comments"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| {
            c["body"]
                .as_str()
                .is_some_and(|b| b.starts_with("Refund approved by L1; confirmation goes to "))
        })
        .cloned();
    assert!(handed_over.is_some(), "the L1 reply reaches L2: {text}");
    // The ledger shows both steps: the hand-up and the L2 share that came of it.
    let ledger = app.ledger();
    let handback = ledger
        .iter()
        .find(|e| e.action == "share.handback")
        .and_then(|e| serde_json::from_str::<Value>(&e.details).ok())
        .unwrap_or_default();
    assert_eq!(handback["escalate_to"], "expert-en", "{handback}");
    let shared = ledger
        .iter()
        .filter(|e| e.action == "ticket.share" && e.contract_id.as_deref() == Some("expert-en"))
        .count();
    assert_eq!(shared, 1);
    // expert's contract names no L2 of its own.
    let refused = hand_up(&app, "expert", id).await;
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    assert!(
        refused.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("expert-en names no agency to escalate to")),
        "{:?}",
        refused.body
    );
    assert_eq!(app.contractor_view("expert", id).await.status, 200);
}

async fn an_escalation_waits_for_room_at_l2_and_goes_nowhere_else(app: TestApp) {
    let first = replied_and_handed_up(&app, "ESC-2").await;
    let second = replied_and_handed_up(&app, "ESC-3").await;
    let decision = app.routing(second).await;
    assert_eq!(decision["outcome"], "kept", "{decision}");
    assert!(
        decision["reason"].as_str().is_some_and(|r| r.contains(
            "escalated by acme under acme-en to expert-en, which cannot take it now (at capacity (1 of 1 open))"
        )),
        "{decision}"
    );
    // acme has room but gave it up; the drain waits for expert.
    assert_eq!(app.drain().await.shared, 0);
    let solved = app
        .post(
            &format!("/api/v1/contractor/tickets/{first}/status"),
            &app.contractor("expert"),
            &json!({ "status": "solved" }),
        )
        .await;
    assert_eq!(solved.status, 200, "{:?}", solved.body);
    assert_eq!(app.drain().await.shared, 1);
    assert_eq!(app.routing(second).await["contract"], "expert-en");
    assert_eq!(app.contractor_view("expert", second).await.status, 200);
}

on_both_backends!(with acme_and_expert: an_l1_agency_hands_a_ticket_up_to_its_l2);
on_both_backends!(with acme_and_expert: an_escalation_waits_for_room_at_l2_and_goes_nowhere_else);
