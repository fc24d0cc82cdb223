//! Overflow operations: the manual switch, recall, and the routing preview.

use serde_json::{Value, json};

use crate::helpers::{TestApp, ticket_en};
use crate::on_both_backends;

fn ticket_ru_plain(external_id: &str) -> Value {
    let mut t = ticket_en(external_id);
    t["language"] = json!("ru");
    t
}

async fn the_manual_switch_turns_overflow_on_and_off(app: TestApp) {
    let quiet = app.ingest(&ticket_ru_plain("M-1")).await;
    assert_eq!(quiet.body["routing"]["outcome"], "kept");

    let path = "/api/v1/contracts/volga-ru/overflow";
    let on = app
        .post(
            path,
            &app.admin(),
            &json!({ "on": true, "reason": "Очередь 400+, сезон" }),
        )
        .await;
    assert_eq!(
        (on.status, &on.body["manual_overflow"], &on.body["was_on"]),
        (200, &json!(true), &json!(false))
    );
    let shared = app.ingest(&ticket_ru_plain("M-2")).await;
    assert_eq!(
        shared.body["routing"]["contractor"], "volga",
        "{:?}",
        shared.body["routing"]
    );
    assert!(
        shared.body["routing"]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("switched on manually")
    );

    let off = app
        .post(
            path,
            &app.inhouse(),
            &json!({ "on": false, "reason": "queue back to normal" }),
        )
        .await;
    assert_eq!(off.status, 200, "operators may switch it too");
    assert_eq!(
        app.ingest(&ticket_ru_plain("M-3")).await.body["routing"]["outcome"],
        "kept"
    );

    // Audited with who and why; compliance and contractors cannot switch; unknown is 404.
    let switches: Vec<Value> = app.ledger()
        .into_iter()
        .filter(|e| e.action == "contract.overflow")
        .map(|e| json!({ "actor": e.actor, "details": serde_json::from_str::<Value>(&e.details).unwrap_or_default() }))
        .collect();
    assert_eq!(switches.len(), 2);
    assert_eq!(switches[0]["actor"], "admin:tester");
    assert_eq!(switches[0]["details"]["reason"], "Очередь 400+, сезон");
    assert_eq!(switches[1]["details"]["on"], false);
    let compliance = app.token(msp_bridge::auth::Role::Compliance, None);
    assert_eq!(
        app.post(path, &compliance, &json!({ "on": true, "reason": "x" }))
            .await
            .status,
        403
    );
    assert_eq!(
        app.post(
            path,
            &app.contractor("volga"),
            &json!({ "on": true, "reason": "x" })
        )
        .await
        .status,
        403
    );
    assert_eq!(
        app.post(
            "/api/v1/contracts/nope/overflow",
            &app.admin(),
            &json!({ "on": true, "reason": "x" })
        )
        .await
        .status,
        404
    );
    assert_eq!(
        app.post(path, &app.admin(), &json!({ "on": true, "reason": " " }))
            .await
            .status,
        400
    );
    assert_eq!(
        app.post(path, &app.admin(), &json!({ "on": "yes", "reason": "x" }))
            .await
            .status,
        400
    );
}

async fn a_recalled_ticket_leaves_the_contractor_at_once(app: TestApp) {
    let id = app.ingest(&ticket_en("R-1")).await.body["id"]
        .as_i64()
        .unwrap_or_default();
    let acme = app.contractor("acme");
    let view = format!("/api/v1/contractor/tickets/{id}");
    assert_eq!(app.get(&view, &acme).await.status, 200);
    let recall = app
        .post(
            &format!("/api/v1/tickets/{id}/recall"),
            &app.inhouse(),
            &json!({ "reason": "VIP escalation" }),
        )
        .await;
    assert_eq!(recall.status, 200, "{:?}", recall.body);
    assert_eq!(recall.body["share"]["state"], "recalled");
    assert_eq!(
        app.get(&view, &acme).await.status,
        404,
        "access ends at once"
    );
    assert_eq!(
        app.post(
            &format!("{view}/replies"),
            &acme,
            &json!({ "body": "late", "public": true })
        )
        .await
        .status,
        404
    );
    let list = app.get("/api/v1/contractor/tickets", &acme).await;
    assert_eq!(list.body["items"], json!([]));
    // The place is free again, and the ticket does not go back to the same contractor.
    let contracts = app.get("/api/v1/contracts", &app.admin()).await;
    let acme_row = contracts.body["items"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["id"] == "acme-en").cloned());
    assert_eq!(acme_row.map(|c| c["open_shares"].clone()), Some(json!(0)));
    let again = app.ingest(&ticket_en("R-1")).await;
    assert_eq!(again.body["routing"]["outcome"], "kept");
    // Recalling twice, or a ticket that is not out, is a conflict; unknown is 404.
    let twice = app
        .post(
            &format!("/api/v1/tickets/{id}/recall"),
            &app.inhouse(),
            &json!({ "reason": "again" }),
        )
        .await;
    assert_eq!(twice.status, 409);
    assert_eq!(
        app.post(
            "/api/v1/tickets/999999/recall",
            &app.inhouse(),
            &json!({ "reason": "x" })
        )
        .await
        .status,
        404
    );
    assert_eq!(
        app.post(
            &format!("/api/v1/tickets/{id}/recall"),
            &acme,
            &json!({ "reason": "x" })
        )
        .await
        .status,
        403
    );
    let audited = app
        .ledger()
        .iter()
        .filter(|e| e.action == "share.recall")
        .count();
    assert_eq!(audited, 1);
}

async fn routing_preview_answers_without_writing(app: TestApp) {
    let tables = ["tickets", "shares", "comments", "audit_log", "vault_tokens"];
    let before: Vec<i64> = tables.iter().map(|t| app.count(t)).collect();
    let mut medical = ticket_en("PV-1");
    medical["category"] = json!("medical");
    let a = app
        .post("/api/v1/routing/preview", &app.inhouse(), &medical)
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert_eq!(a.body["outcome"], "kept");
    let reasons: Vec<&str> = a.body["considered"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["reason"].as_str())
        .collect();
    assert!(
        reasons.contains(&"category medical is regulated and the contract does not name it"),
        "{reasons:?}"
    );
    assert_eq!(reasons.len(), 3, "every contract is considered");
    let b = app
        .post("/api/v1/routing/preview", &app.admin(), &ticket_en("PV-2"))
        .await;
    assert_eq!(
        (b.body["outcome"].as_str(), b.body["contract"].as_str()),
        (Some("shared"), Some("acme-en"))
    );
    let after: Vec<i64> = tables.iter().map(|t| app.count(t)).collect();
    assert_eq!(before, after, "a preview writes nothing");
    assert_eq!(
        app.post(
            "/api/v1/routing/preview",
            &app.contractor("acme"),
            &ticket_en("PV-3")
        )
        .await
        .status,
        403
    );
}

on_both_backends!(
    the_manual_switch_turns_overflow_on_and_off,
    a_recalled_ticket_leaves_the_contractor_at_once,
    routing_preview_answers_without_writing,
);

/// The fixture contracts plus a threshold contract for German tickets, in a folder of its own.
fn contracts_with_threshold(dir: &std::path::Path) -> std::path::PathBuf {
    let folder = dir.join("contracts");
    std::fs::create_dir_all(&folder).unwrap_or_else(|e| panic!("{e}"));
    for entry in std::fs::read_dir(crate::helpers::test_contracts_dir())
        .into_iter()
        .flatten()
        .flatten()
    {
        std::fs::copy(entry.path(), folder.join(entry.file_name()))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let threshold = std::fs::read_to_string(folder.join("acme-en.toml"))
        .unwrap_or_default()
        .replace("id = \"acme-en\"", "id = \"rhein-de\"")
        .replace("contractor = \"acme\"", "contractor = \"rhein\"")
        .replace("languages = [\"en\"]", "languages = [\"de\"]")
        .replace(
            "mode = \"always\"",
            "mode = \"threshold\"\nqueue_depth_above = 2",
        )
        .replace("rank = 10", "rank = 30");
    std::fs::write(folder.join("rhein-de.toml"), threshold).unwrap_or_else(|e| panic!("{e}"));
    folder
}

fn german(external_id: &str) -> Value {
    let mut t = ticket_en(external_id);
    t["language"] = json!("de");
    t
}

async fn queue_depth_switches_threshold_overflow(backend: crate::helpers::Backend) {
    let scratch = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let folder = contracts_with_threshold(scratch.path());
    let Some(app) = crate::helpers::spawn_with(backend, |c| c.contracts_dir = folder.clone()).await
    else {
        eprintln!("BRIDGE_TEST_POSTGRES_URL unset: PostgreSQL variant not run");
        return;
    };
    let outcome = |a: &crate::helpers::Answer| {
        a.body["routing"]["outcome"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    // The helpdesk reports a deep queue: overflow is on.
    let report = app
        .send(
            reqwest::Method::PUT,
            "/api/v1/queue",
            Some(&app.inhouse()),
            Some(&json!({ "depth": 10 })),
        )
        .await;
    assert_eq!(report.status, 200, "{:?}", report.body);
    let busy = app.ingest(&german("Q-1")).await;
    assert_eq!(outcome(&busy), "shared");
    assert!(
        busy.body["routing"]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("in-house queue at 10, above 2")
    );
    // The report goes stale after 15 minutes: the gateway counts what it holds itself.
    app.clock.advance(chrono::Duration::minutes(16));
    assert_eq!(outcome(&app.ingest(&german("Q-2")).await), "kept", "1 held");
    assert_eq!(outcome(&app.ingest(&german("Q-3")).await), "kept", "2 held");
    let third = app.ingest(&german("Q-4")).await;
    assert_eq!(
        outcome(&third),
        "shared",
        "3 held, above 2: {:?}",
        third.body["routing"]
    );
    // Bad reports.
    let negative = app
        .send(
            reqwest::Method::PUT,
            "/api/v1/queue",
            Some(&app.inhouse()),
            Some(&json!({ "depth": -1 })),
        )
        .await;
    assert_eq!(
        (negative.status, negative.body["field"].as_str()),
        (400, Some("depth"))
    );
    let foreign = app
        .send(
            reqwest::Method::PUT,
            "/api/v1/queue",
            Some(&app.contractor("rhein")),
            Some(&json!({ "depth": 1 })),
        )
        .await;
    assert_eq!(foreign.status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_depth_switches_threshold_overflow_sqlite() {
    queue_depth_switches_threshold_overflow(crate::helpers::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_depth_switches_threshold_overflow_postgres() {
    queue_depth_switches_threshold_overflow(crate::helpers::Backend::Postgres).await;
}
