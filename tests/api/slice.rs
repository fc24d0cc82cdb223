//! The first path through the gateway: ingest, routing, the contractor's work, the in-house view.

use msp_bridge::clock::Clock;
use serde_json::{Value, json};

use crate::helpers::{EN_SECRETS, TestApp, assert_documented, ticket_en};
use crate::on_both_backends;

fn assert_no_secrets(what: &str, body: &Value) {
    let text = body.to_string();
    for secret in EN_SECRETS {
        assert!(!text.contains(secret), "{what} leaked `{secret}`: {text}");
        let digits: String = secret.chars().filter(char::is_ascii_digit).collect();
        if digits.len() >= 6 {
            assert!(
                !text.contains(&digits),
                "{what} leaked digits of `{secret}`"
            );
        }
    }
}

async fn full_slice(app: TestApp) {
    let created = app.ingest(&ticket_en("T-1")).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_documented("post", "/api/v1/tickets", &created);
    let id = created.body["id"].as_i64().unwrap_or_default();
    assert!(id > 0);
    assert_eq!(created.body["routing"]["outcome"], "shared");
    assert_eq!(created.body["routing"]["contract"], "acme-en");
    let reason = created.body["routing"]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(
        reason.contains("acme") && reason.contains("always"),
        "{reason}"
    );
    // The Russian contract ranks first but was not chosen, and says why.
    assert_eq!(
        created.body["routing"]["considered"][0]["contract"],
        "volga-ru"
    );
    assert_eq!(
        created.body["routing"]["considered"][0]["reason"],
        "language en is not in scope"
    );

    let acme = app.contractor("acme");
    let list = app.get("/api/v1/contractor/tickets", &acme).await;
    assert_eq!(list.status, 200);
    assert_documented("get", "/api/v1/contractor/tickets", &list);
    assert_eq!(list.body["items"][0]["id"], id);
    assert_eq!(list.body["items"][0]["state"], "open");

    let view = app
        .get(&format!("/api/v1/contractor/tickets/{id}"), &acme)
        .await;
    assert_eq!(view.status, 200, "{:?}", view.body);
    assert_documented("get", "/api/v1/contractor/tickets/{id}", &view);
    assert_no_secrets("contractor view", &view.body);
    assert_eq!(view.body["channel"], "email");
    assert_eq!(view.body["custom_fields"], json!({ "plan": "pro" }));
    assert_eq!(view.body["tags"], json!(["refund"]));
    // SLA clocks start at share time (acme: 24/7, normal: first response 2 h, resolution 1 d).
    assert_eq!(view.body["first_response_at"], Value::Null);
    let clocks: Vec<_> = view.body["sla"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| (c["kind"].clone(), c["state"].clone(), c["due_at"].clone()))
        .collect();
    assert_eq!(
        clocks,
        [
            (
                json!("first_response"),
                json!("running"),
                json!("2026-06-01T12:00:00Z")
            ),
            (
                json!("resolution"),
                json!("running"),
                json!("2026-06-02T10:00:00Z")
            ),
        ]
    );
    // Free text is scanned and treated per kind; structured fields get their own action.
    assert_eq!(
        view.body["subject"],
        "Refund for order 7781 — card [REDACTED:CARD]"
    );
    assert_eq!(
        view.body["description"],
        "Hi, I'm J. S., call me on [REDACTED:PHONE] or mail [EMAIL_1]."
    );
    assert_eq!(
        view.body["requester"],
        json!({ "name": "J. S.", "email": "[EMAIL_1]" })
    );
    let comments = view.body["comments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(comments.len(), 1, "only the public comment: {comments:?}");
    assert_eq!(
        comments[0]["body"],
        "Still waiting, my IBAN is [REDACTED:IBAN]"
    );
    assert_eq!(comments[0]["author"], "in-house");
    // A real token of another contract: acme's replies must not unlock it.
    let keys = msp_bridge::redaction::VaultKeys::load(
        Some(crate::helpers::VAULT_KEY),
        std::path::Path::new("."),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let foreign = app
        .db
        .write(|c| {
            msp_bridge::redaction::Vault::new(c, &keys, "ural-ru", app.clock.now())
                .token_for("PHONE", "79123456789")
                .map_err(|e| msp_bridge::db::DbError::Task(e.to_string()))
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(foreign, "[PHONE_1]");
    let reply = app
        .post(
            &format!("/api/v1/contractor/tickets/{id}/replies"),
            &acme,
            &json!({ "body": "We have refunded the order, receipt sent to [EMAIL_1]. Ref [PHONE_1], [EMAIL_99].", "public": true }),
        )
        .await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    assert!(
        reply.body["body"]
            .as_str()
            .is_some_and(|b| b.contains("[EMAIL_1]")),
        "the contractor gets back what it wrote, not the real value: {:?}",
        reply.body
    );
    let note = app
        .post(
            &format!("/api/v1/contractor/tickets/{id}/replies"),
            &acme,
            &json!({ "body": "Checked with billing.", "public": false }),
        )
        .await;
    assert_eq!(note.status, 201);
    let pending = app
        .post(
            &format!("/api/v1/contractor/tickets/{id}/status"),
            &acme,
            &json!({ "status": "pending" }),
        )
        .await;
    assert_eq!(
        (pending.status, &pending.body["state"]),
        (200, &json!("pending"))
    );

    // The contractor sees its own replies back, and nothing more.
    let view = app
        .get(&format!("/api/v1/contractor/tickets/{id}"), &acme)
        .await;
    let comments = view.body["comments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(comments.len(), 3, "the public comment and both replies");
    assert_eq!(
        comments[1]["body"],
        "We have refunded the order, receipt sent to [EMAIL_1]. Ref [PHONE_1], [EMAIL_99].",
        "its own reply comes back with the same token"
    );
    assert_no_secrets("contractor view with replies", &view.body);
    assert_documented("get", "/api/v1/contractor/tickets/{id}", &view);

    let inhouse = app
        .get(&format!("/api/v1/tickets/{id}"), &app.inhouse())
        .await;
    assert_eq!(inhouse.status, 200);
    assert_documented("get", "/api/v1/tickets/{id}", &inhouse);
    assert_eq!(inhouse.body["subject"], ticket_en("T-1")["subject"]);
    assert_eq!(inhouse.body["requester"]["email"], "john.smith@example.com");
    assert_eq!(inhouse.body["share"]["state"], "pending");
    // The first public reply stopped the first-response clock.
    assert_eq!(
        inhouse.body["share"]["first_response_at"],
        "2026-06-01T10:00:00Z"
    );
    assert_eq!(inhouse.body["share"]["sla"][0]["kind"], "first_response");
    assert_eq!(inhouse.body["share"]["sla"][0]["state"], "met");
    assert_eq!(inhouse.body["share"]["sla"][0]["elapsed_seconds"], 0);
    // `pending` is in acme's pause_on: the resolution clock stands still.
    assert_eq!(inhouse.body["share"]["sla"][1]["state"], "paused");
    assert_eq!(inhouse.body["share"]["contractor"], "acme");
    assert_eq!(inhouse.body["routing"]["outcome"], "shared");
    let replies = inhouse.body["replies"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(replies.len(), 2);
    // Re-hydrated for the in-house side; tokens this contract never issued stay as written.
    assert_eq!(
        replies[0]["body"],
        "We have refunded the order, receipt sent to john.smith@example.com. Ref [PHONE_1], [EMAIL_99]."
    );
    assert_eq!(replies[0]["public"], true);
    assert_eq!(replies[1]["public"], false);
    assert_eq!(inhouse.body["comments"].as_array().map(Vec::len), Some(2));

    let solved = app
        .post(
            &format!("/api/v1/contractor/tickets/{id}/status"),
            &acme,
            &json!({ "status": "solved" }),
        )
        .await;
    assert_eq!(solved.body["state"], "solved");
    // A solved share takes no more replies, and cannot go back to pending.
    let late = app
        .post(
            &format!("/api/v1/contractor/tickets/{id}/replies"),
            &acme,
            &json!({ "body": "one more", "public": true }),
        )
        .await;
    assert_eq!(
        (late.status, late.body["code"].as_str()),
        (409, Some("conflict"))
    );
    let back = app
        .post(
            &format!("/api/v1/contractor/tickets/{id}/status"),
            &acme,
            &json!({ "status": "pending" }),
        )
        .await;
    assert_eq!(back.status, 409);

    // Every share, read, reply and status change is in the ledger, and the chain holds.
    let actions: Vec<String> = app.ledger().into_iter().map(|e| e.action).collect();
    let rehydration = app
        .ledger()
        .into_iter()
        .find(|e| e.action == "share.reply")
        .map(|e| {
            serde_json::from_str::<Value>(&e.details).unwrap_or_default()["rehydration"].clone()
        });
    assert_eq!(
        rehydration,
        Some(json!({ "replaced": 1, "unknown": 2, "foreign": 0 }))
    );
    let expected = [
        "contract.apply",
        "contract.apply",
        "contract.apply",
        "ticket.share",
        "share.read",
        "share.reply",
        "share.reply",
        "share.status",
        "share.read",
        "share.status",
    ];
    assert_eq!(actions, expected);
    let verify = app.get("/api/v1/audit/verify", &app.admin()).await;
    assert_eq!(verify.body["entries"], 10);
    assert_eq!(verify.body["first_broken"], Value::Null);
}

async fn receipts_hold_names_and_counts_never_values(app: TestApp) {
    let id = app.ingest(&ticket_en("T-R")).await.body["id"]
        .as_i64()
        .unwrap_or_default();
    app.get(
        &format!("/api/v1/contractor/tickets/{id}"),
        &app.contractor("acme"),
    )
    .await;
    let entries = app.ledger();
    let share = entries
        .iter()
        .find(|e| e.action == "ticket.share")
        .map(|e| e.details.clone())
        .unwrap_or_default();
    let details: Value = serde_json::from_str(&share).unwrap_or_default();
    assert_eq!(details["receipt"]["comments_sent"], 1);
    assert_eq!(details["receipt"]["comments_withheld"], 1);
    assert_eq!(
        details["receipt"]["fields_withheld"]["custom_fields.account_number"],
        "drop"
    );
    assert_eq!(
        details["receipt"]["fields_withheld"]["requester.phone"],
        "drop"
    );
    let entities = &details["receipt"]["entities"];
    assert_eq!(entities["CARD"]["redact"], 1, "{entities}");
    assert_eq!(entities["IBAN"]["redact"], 1, "{entities}");
    // The requester's e-mail and its mention in the text share one token.
    assert_eq!(entities["EMAIL"], json!({ "tokenize": 2 }), "{entities}");
    assert_eq!(entities["PHONE"], json!({ "redact": 1 }), "{entities}");
    // The field and its one mention in the text, `John Smith` masked whole.
    assert_eq!(
        entities["NAME"],
        json!({ "mask": 2 }),
        "requester.name and its mentions: {entities}"
    );
    assert!(
        details["contract_sha256"]
            .as_str()
            .is_some_and(|s| s.len() == 64)
    );
    for e in &entries {
        assert_no_secrets("ledger", &Value::String(e.details.clone()));
    }
}

async fn updates_and_comments_are_idempotent(app: TestApp) {
    let first = app.ingest(&ticket_en("T-2")).await;
    assert_eq!(
        (first.status, first.body["comments_added"].as_i64()),
        (201, Some(2))
    );
    let id = first.body["id"].clone();
    let mut changed = ticket_en("T-2");
    changed["subject"] = json!("Refund still missing");
    let again = app.ingest(&changed).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["id"], id);
    assert_eq!(again.body["created"], false);
    assert_eq!(again.body["comments_added"], 0);
    assert_eq!(again.body["routing"]["outcome"], "already_shared");
    assert_eq!(app.count("tickets"), 1);
    assert_eq!(app.count("shares"), 1);
    // The helpdesk re-sends the thread with one new comment: only that one is stored (on
    // PostgreSQL the thread is one multi-row statement, the old ones skipped by conflict).
    let mut longer = changed.clone();
    if let Some(thread) = longer["comments"].as_array_mut() {
        thread.push(json!({ "external_id": "c9", "author": "John Smith", "body": "Any news?", "public": true }));
    }
    let third = app.ingest(&longer).await;
    assert_eq!(
        (third.status, third.body["comments_added"].as_i64()),
        (200, Some(1)),
        "{:?}",
        third.body
    );
    assert_eq!(app.count("comments"), 3);

    let path = format!("/api/v1/tickets/{id}/comments");
    let body = json!({ "external_id": "c3", "author": "Agent Kim", "body": "Escalated to billing", "public": false });
    let added = app.post(&path, &app.inhouse(), &body).await;
    assert_eq!(added.status, 201, "{:?}", added.body);
    assert_eq!(added.body["origin"], "inhouse");
    let resent = app.post(&path, &app.inhouse(), &body).await;
    assert_eq!(
        (resent.status, &resent.body["duplicate"]),
        (200, &json!(true))
    );
    let view = app
        .get(&format!("/api/v1/tickets/{id}"), &app.inhouse())
        .await;
    assert_eq!(view.body["subject"], "Refund still missing");
    assert_eq!(view.body["comments"].as_array().map(Vec::len), Some(4));
    let missing = app
        .post("/api/v1/tickets/999999/comments", &app.inhouse(), &body)
        .await;
    assert_eq!(missing.status, 404);
}

async fn routing_keeps_what_no_contract_may_take(app: TestApp) {
    let mut urgent = ticket_en("T-U");
    urgent["priority"] = json!("urgent");
    let kept = app.ingest(&urgent).await;
    assert_eq!(kept.body["routing"]["outcome"], "kept");
    assert_eq!(
        kept.body["routing"]["considered"][1]["reason"],
        "priority urgent is not in scope"
    );

    let mut vip = ticket_en("T-V");
    vip["tags"] = json!(["VIP", "refund"]);
    let kept = app.ingest(&vip).await;
    assert_eq!(
        kept.body["routing"]["considered"][1]["reason"],
        "tag vip is excluded"
    );

    let mut closed = ticket_en("T-C");
    closed["status"] = json!("closed");
    assert_eq!(
        app.ingest(&closed).await.body["routing"]["reason"],
        "the ticket is closed"
    );

    // The Russian contract is manual: kept outside its peak window, shared inside it.
    let mut ru = ticket_en("T-RU");
    ru["language"] = json!("ru");
    let quiet = app.ingest(&ru).await;
    assert_eq!(quiet.body["routing"]["outcome"], "kept");
    assert_eq!(
        quiet.body["routing"]["considered"][0]["reason"],
        "overflow is switched off and no peak window is open"
    );
    // 2026-11-27 00:00 in Moscow is 2026-11-26 21:00 UTC.
    app.clock.set(
        chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 26, 21, 0, 0)
            .single()
            .unwrap_or_default(),
    );
    ru["external_id"] = json!("T-RU-2");
    let peak = app.ingest(&ru).await;
    assert_eq!(peak.body["routing"]["outcome"], "shared", "{:?}", peak.body);
    assert_eq!(peak.body["routing"]["contractor"], "volga");
    assert!(
        peak.body["routing"]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("Чёрная пятница")
    );
    assert_eq!(app.count("shares"), 1);
    assert_eq!(app.count("tickets"), 5);
}

async fn capacity_is_freed_by_handback_and_returns_stay_home(app: TestApp) {
    let acme = app.contractor("acme");
    let mut ids = Vec::new();
    for n in 0..4 {
        let a = app.ingest(&ticket_en(&format!("CAP-{n}"))).await;
        ids.push(a.body["id"].as_i64().unwrap_or_default());
        let expected = if n < 3 { "shared" } else { "kept" };
        assert_eq!(
            a.body["routing"]["outcome"], expected,
            "ticket {n}: {:?}",
            a.body["routing"]
        );
    }
    let full = app.ingest(&ticket_en("CAP-3")).await;
    assert_eq!(
        full.body["routing"]["considered"][1]["reason"],
        "at capacity (3 of 3 open)"
    );

    let back = app
        .post(
            &format!("/api/v1/contractor/tickets/{}/handback", ids[0]),
            &acme,
            &json!({ "reason": "needs a Spanish speaker" }),
        )
        .await;
    assert_eq!(
        (back.status, &back.body["state"]),
        (200, &json!("handed_back"))
    );
    let view = app
        .get(&format!("/api/v1/tickets/{}", ids[0]), &app.inhouse())
        .await;
    assert_eq!(view.body["share"]["state"], "handed_back");
    assert_eq!(
        view.body["share"]["handback_reason"],
        "needs a Spanish speaker"
    );
    // The contractor lost access to it.
    assert_eq!(
        app.get(&format!("/api/v1/contractor/tickets/{}", ids[0]), &acme)
            .await
            .status,
        404
    );

    // The freed place goes to the waiting ticket; the handed-back one is not sent back.
    let retry = app.ingest(&ticket_en("CAP-3")).await;
    assert_eq!(retry.body["routing"]["outcome"], "shared");
    let returned = app.ingest(&ticket_en("CAP-0")).await;
    assert_eq!(returned.body["routing"]["outcome"], "kept");
    assert_eq!(
        returned.body["routing"]["considered"][1]["reason"],
        "the ticket came back from this contractor before"
    );
}

async fn contractors_never_see_each_others_tickets(app: TestApp) {
    let id = app.ingest(&ticket_en("ISO-1")).await.body["id"]
        .as_i64()
        .unwrap_or_default();
    let other = app.contractor("volga");
    let list = app.get("/api/v1/contractor/tickets", &other).await;
    assert_eq!(list.body["items"], json!([]));
    let missing_id = id + 1000;
    for target in [id, missing_id] {
        let base = format!("/api/v1/contractor/tickets/{target}");
        let answers = [
            app.get(&base, &other).await,
            app.post(
                &format!("{base}/replies"),
                &other,
                &json!({ "body": "hi", "public": true }),
            )
            .await,
            app.post(
                &format!("{base}/status"),
                &other,
                &json!({ "status": "solved" }),
            )
            .await,
            app.post(
                &format!("{base}/handback"),
                &other,
                &json!({ "reason": "not ours" }),
            )
            .await,
        ];
        for a in answers {
            assert_eq!(a.status, 404, "{target}: {:?}", a.body);
            assert_eq!(a.body["code"], "not_found");
            assert_eq!(a.body["detail"], "no such resource");
        }
    }
    // Nothing was changed by the foreign attempts.
    let view = app
        .get(&format!("/api/v1/tickets/{id}"), &app.inhouse())
        .await;
    assert_eq!(view.body["share"]["state"], "open");
    assert_eq!(view.body["replies"], json!([]));
}

async fn contractor_list_pages(app: TestApp) {
    for n in 0..3 {
        app.ingest(&ticket_en(&format!("P-{n}"))).await;
    }
    let acme = app.contractor("acme");
    let first = app.get("/api/v1/contractor/tickets?limit=2", &acme).await;
    assert_eq!(first.body["items"].as_array().map(Vec::len), Some(2));
    let next = first.body["next_before"].as_i64().unwrap_or_default();
    let second = app
        .get(
            &format!("/api/v1/contractor/tickets?limit=2&before={next}"),
            &acme,
        )
        .await;
    assert_eq!(second.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(second.body["next_before"], Value::Null);
    assert_eq!(
        app.get("/api/v1/contractor/tickets?limit=0", &acme)
            .await
            .status,
        400
    );
}

on_both_backends!(
    full_slice,
    receipts_hold_names_and_counts_never_values,
    updates_and_comments_are_idempotent,
    routing_keeps_what_no_contract_may_take,
    capacity_is_freed_by_handback_and_returns_stay_home,
    contractors_never_see_each_others_tickets,
    contractor_list_pages,
);

async fn parallel_pushes_never_overfill_a_contract(app: TestApp) {
    let app = std::sync::Arc::new(app);
    let pushes = (0..12).map(|n| {
        let app = std::sync::Arc::clone(&app);
        tokio::spawn(async move { app.ingest(&ticket_en(&format!("PAR-{n}"))).await })
    });
    let mut shared = 0;
    for push in pushes {
        let answer = push.await.unwrap_or_else(|e| panic!("{e}"));
        assert!(answer.status == 201, "{:?}", answer.body);
        shared += usize::from(answer.body["routing"]["outcome"] == "shared");
    }
    assert_eq!(shared, 3, "max_open is 3");
    assert_eq!(app.count("shares"), 3);
    // A push that found the contract full after writing its share leaves nothing behind, and
    // every ticket stores the decision it was answered with.
    assert_eq!(
        app.count("sla_clocks WHERE share_id NOT IN (SELECT id FROM shares)"),
        0
    );
    assert_eq!(
        app.count("tickets WHERE routing LIKE '%\"outcome\":\"shared\"%'"),
        3
    );
    let contracts = app.get("/api/v1/contracts", &app.admin()).await;
    let acme = contracts.body["items"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["id"] == "acme-en").cloned());
    assert_eq!(acme.map(|c| c["open_shares"].clone()), Some(json!(3)));
}

on_both_backends!(parallel_pushes_never_overfill_a_contract);

/// The rare path of a contract filled by another push between routing and the reservation:
/// the push that lost finds every place gone and shares nothing (no share, no clocks). Only
/// PostgreSQL lets the two interleave (SQLite has one writer).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contract_filled_while_routing_leaves_no_share_behind() {
    use diesel::prelude::*;
    let Some(app) = crate::helpers::spawn(crate::helpers::Backend::Postgres).await else {
        eprintln!("BRIDGE_TEST_POSTGRES_URL unset: PostgreSQL-only test not run");
        return;
    };
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let db = app.db.clone();
    // Another writer fills acme-en (max_open 3) and holds its stripes until told to commit.
    let filler = std::thread::spawn(move || {
        db.write(|c| {
            diesel::sql_query(
                "UPDATE capacity_stripes SET open_shares = 3 WHERE contract_id = 'acme-en'",
            )
            .execute(c)?;
            let _ = locked_tx.send(());
            let _ = release_rx.recv();
            Ok::<_, msp_bridge::db::DbError>(())
        })
    });
    locked_rx.recv().unwrap_or_else(|e| panic!("{e}"));
    let push = {
        let (base, client, token) = (app.base.clone(), app.client.clone(), app.inhouse());
        tokio::spawn(async move {
            client
                .post(format!("{base}/api/v1/tickets"))
                .bearer_auth(token)
                .json(&ticket_en("RACE-1"))
                .send()
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .json::<Value>()
                .await
                .unwrap_or_else(|e| panic!("{e}"))
        })
    };
    // Commit the filler only once the push is queued behind its row lock.
    let waiting = || {
        app.db
            .read(|c| {
                crate::helpers::count_rows(
                    c,
                    "pg_stat_activity WHERE datname = current_database() \
                     AND wait_event_type = 'Lock' AND query LIKE 'UPDATE \"capacity_stripes\"%'",
                )
                .map_err(msp_bridge::db::DbError::from)
            })
            .unwrap_or_else(|e| panic!("{e}"))
    };
    while waiting() == 0 {
        tokio::task::yield_now().await;
    }
    release_tx.send(()).unwrap_or_else(|e| panic!("{e}"));
    filler
        .join()
        .unwrap_or_else(|_| panic!("filler panicked"))
        .unwrap_or_else(|e| panic!("{e}"));
    let answer = push.await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(answer["routing"]["outcome"], "kept", "{answer}");
    let acme = answer["routing"]["considered"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["contract"] == "acme-en").cloned())
        .unwrap_or_default();
    assert_eq!(
        acme["reason"], "at capacity (filled while this ticket was routed)",
        "{answer}"
    );
    assert_eq!(app.count("shares"), 0);
    assert_eq!(app.count("sla_clocks"), 0);
    assert_eq!(
        app.count("tickets WHERE routing LIKE '%\"outcome\":\"kept\"%'"),
        1
    );
}
