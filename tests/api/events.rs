//! The outbox seen from outside: the in-house pull feed, and the events written for a
//! contractor (redacted projections and ids only).

use msp_bridge::outbox;
use serde_json::{Value, json};

use crate::helpers::{EN_SECRETS, TestApp, ticket_en};
use crate::on_both_backends;

fn types(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default())
        .collect()
}

async fn feed(app: &TestApp, query: &str) -> crate::helpers::Answer {
    app.get(&format!("/api/v1/events{query}"), &app.inhouse())
        .await
}

async fn the_feed_carries_the_contractors_work_in_order(app: TestApp) {
    let id = app.ingest(&ticket_en("E-1")).await.body["id"]
        .as_i64()
        .unwrap_or_default();
    let acme = app.contractor("acme");
    let base = format!("/api/v1/contractor/tickets/{id}");
    let reply = app
        .post(
            &format!("{base}/replies"),
            &acme,
            &json!({ "body": "I wrote to [EMAIL_1] just now.", "public": true }),
        )
        .await;
    assert_eq!(reply.status, 201);
    app.post(
        &format!("{base}/status"),
        &acme,
        &json!({ "status": "pending" }),
    )
    .await;
    app.post(
        &format!("{base}/handback"),
        &acme,
        &json!({ "reason": "needs the billing team" }),
    )
    .await;
    let all = feed(&app, "").await;
    assert_eq!(all.status, 200, "{:?}", all.body);
    let items = all.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        types(&items),
        [
            "ticket.shared",
            "share.replied",
            "share.status",
            "share.handed_back"
        ]
    );
    // The in-house side gets the real value back, never the token.
    assert_eq!(
        items[1]["data"]["body"],
        "I wrote to john.smith@example.com just now."
    );
    assert_eq!(items[2]["data"]["to"], "pending");
    assert_eq!(items[3]["data"]["reason"], "needs the billing team");
    assert!(items.iter().all(|e| e["ticket"] == id));
    let seqs: Vec<i64> = items.iter().filter_map(|e| e["seq"].as_i64()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    let mut ids: Vec<&str> = items.iter().filter_map(|e| e["id"].as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 4, "event ids are unique");
    // Paging with the cursor gives the same events, once each.
    let first = feed(&app, "?limit=3").await;
    let next = first.body["next_after"].as_i64().unwrap_or_default();
    let rest = feed(&app, &format!("?after={next}")).await;
    let paged: Vec<Value> = first.body["items"]
        .as_array()
        .into_iter()
        .chain(rest.body["items"].as_array())
        .flatten()
        .cloned()
        .collect();
    assert_eq!(paged, items);
    assert_eq!(
        rest.body["next_after"],
        seqs.last().copied().unwrap_or_default()
    );
    // Bad requests.
    assert_eq!(feed(&app, "?limit=0").await.status, 400);
    assert_eq!(feed(&app, "?after=-1").await.status, 400);
    assert_eq!(feed(&app, "?after=soon").await.status, 400);
    let foreign = app.get("/api/v1/events", &acme).await;
    assert_eq!(foreign.status, 403);
}

async fn the_contractor_is_told_redacted_changes_and_the_recall(app: TestApp) {
    let id = app.ingest(&ticket_en("E-2")).await.body["id"]
        .as_i64()
        .unwrap_or_default();
    // The in-house side changes the ticket and comments on it.
    // A re-push that changes nothing the contractor sees sends nothing; a change in a field
    // the contract withholds (the phone is dropped) is not news to the contractor either.
    assert_eq!(app.ingest(&ticket_en("E-2")).await.status, 200);
    let mut unseen = ticket_en("E-2");
    unseen["requester"]["phone"] = json!("+44 20 7946 0000");
    assert_eq!(app.ingest(&unseen).await.status, 200);
    let mut changed = ticket_en("E-2");
    changed["priority"] = json!("high");
    assert_eq!(app.ingest(&changed).await.status, 200);
    let comment = app
        .post(
            &format!("/api/v1/tickets/{id}/comments"),
            &app.inhouse(),
            &json!({ "external_id": "c9", "author": "John Smith", "body": "Call me on +44 20 7946 0958", "public": true }),
        )
        .await;
    assert_eq!(comment.status, 201);
    let recall = app
        .post(
            &format!("/api/v1/tickets/{id}/recall"),
            &app.inhouse(),
            &json!({ "reason": "John Smith is a VIP" }),
        )
        .await;
    assert_eq!(recall.status, 200);
    let events = app.contractor_events("acme-en");
    assert_eq!(
        types(&events),
        [
            "ticket.shared",
            "ticket.updated",
            "ticket.updated",
            "share.recalled"
        ]
    );
    assert_eq!(events[1]["data"]["priority"], "high");
    assert_eq!(
        events[0]["data"]["description"],
        "Hi, I'm J. S., call me on [REDACTED:PHONE] or mail [EMAIL_1]."
    );
    // Nothing personal in any contractor event: values, digits, the recall reason.
    let text = Value::Array(events.clone()).to_string();
    for secret in EN_SECRETS {
        assert!(!text.contains(secret), "`{secret}` in {text}");
        let digits: String = secret.chars().filter(char::is_ascii_digit).collect();
        if digits.len() >= 6 {
            assert!(!text.contains(&digits), "digits of `{secret}` in {text}");
        }
    }
    assert!(!text.contains("VIP"));
    assert_eq!(
        events[3]["data"],
        json!({ "share_id": events[3]["data"]["share_id"], "reason_code": "operator" }),
        "a code, never the operator's words"
    );
    // The in-house side sees the recall with its reason.
    let feed = feed(&app, "").await;
    let items = feed.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(types(&items), ["ticket.shared", "share.recalled"]);
    assert_eq!(items[1]["data"]["reason"], "John Smith is a VIP");
    // Another contractor's events are its own: none here.
    assert!(app.contractor_events("volga-ru").is_empty());
}

on_both_backends!(
    the_feed_carries_the_contractors_work_in_order,
    the_contractor_is_told_redacted_changes_and_the_recall,
);

/// On PostgreSQL an event's `seq` is drawn before its transaction commits, so a transaction
/// that drew a lower `seq` can commit after a feed reader has moved past a higher one. The
/// feed's positions are given after commit: the late event comes on the next page, not never.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_that_commits_late_is_not_skipped_by_the_feed() {
    let Some(app) = crate::helpers::spawn_with(crate::helpers::Backend::Postgres, |c| {
        // No delivery worker: only the feed gives positions here.
        c.delivery_poll_ms = 0;
    })
    .await
    else {
        eprintln!("BRIDGE_TEST_POSTGRES_URL unset: PostgreSQL-only test not run");
        return;
    };
    let first = app.ingest(&ticket_en("LATE-1")).await.body["id"]
        .as_i64()
        .unwrap_or_default();
    // Another ticket: writers of one ticket take turns (the second waits for the first to
    // commit), so a late commit can only overtake across tickets.
    let other = app.ingest(&ticket_en("LATE-2")).await.body["id"]
        .as_i64()
        .unwrap_or_default();
    let start = feed(&app, "").await.body["next_after"]
        .as_i64()
        .unwrap_or_default();
    let (drawn_tx, drawn_rx) = std::sync::mpsc::channel();
    let (commit_tx, commit_rx) = std::sync::mpsc::channel::<()>();
    let db = app.db.clone();
    // This writer draws its seq first and commits last.
    let late = std::thread::spawn(move || {
        db.write(|c| {
            outbox::enqueue(
                c,
                chrono::Utc::now(),
                vec![outbox::NewEvent::inhouse(
                    first,
                    msp_bridge::model::EventType::TicketUpdated,
                    json!({ "n": "late" }),
                )],
            )?;
            let _ = drawn_tx.send(());
            let _ = commit_rx.recv();
            Ok::<_, msp_bridge::db::DbError>(())
        })
    });
    drawn_rx.recv().unwrap_or_else(|e| panic!("{e}"));
    app.db
        .write(|c| {
            outbox::enqueue(
                c,
                chrono::Utc::now(),
                vec![outbox::NewEvent::inhouse(
                    other,
                    msp_bridge::model::EventType::TicketUpdated,
                    json!({ "n": "early" }),
                )],
            )
            .map_err(msp_bridge::db::DbError::from)
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let page = feed(&app, &format!("?after={start}")).await;
    let items = page.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1, "{:?}", page.body);
    assert_eq!(items[0]["data"]["n"], "early");
    let early_seq = items[0]["seq"].as_i64();
    let next = page.body["next_after"].as_i64().unwrap_or_default();
    commit_tx.send(()).unwrap_or_else(|e| panic!("{e}"));
    late.join()
        .unwrap_or_else(|_| panic!("writer panicked"))
        .unwrap_or_else(|e| panic!("{e}"));
    let page = feed(&app, &format!("?after={next}")).await;
    let items = page.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1, "{:?}", page.body);
    assert_eq!(items[0]["data"]["n"], "late");
    // Its seq is the lower one: drawn first, committed last.
    assert!(items[0]["seq"].as_i64() < early_seq, "{items:?}");
}
