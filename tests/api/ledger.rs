//! The audit ledger catches edits, deletions and reordering.

use serde_json::{Value, json};

use crate::helpers::{TestApp, count_rows, ticket_en};
use crate::on_both_backends;

async fn activity(app: &TestApp) {
    let id = app.ingest(&ticket_en("L-1")).await.body["id"]
        .as_i64()
        .unwrap_or_default();
    let acme = app.contractor("acme");
    app.get(&format!("/api/v1/contractor/tickets/{id}"), &acme)
        .await;
    app.post(
        &format!("/api/v1/contractor/tickets/{id}/replies"),
        &acme,
        &json!({ "body": "ok", "public": true }),
    )
    .await;
}

async fn verify(app: &TestApp) -> Value {
    app.get("/api/v1/audit/verify", &app.admin()).await.body
}

async fn an_edited_entry_is_named(app: TestApp) {
    activity(&app).await;
    assert_eq!(
        verify(&app).await,
        json!({ "entries": 6, "first_broken": null })
    );
    app.execute("UPDATE audit_log SET details = '{\"receipt\":\"nothing to see\"}' WHERE seq = 3");
    let v = verify(&app).await;
    assert_eq!(v["first_broken"]["seq"], 3, "{v}");
    assert_eq!(
        v["first_broken"]["problem"],
        "content does not match its hash"
    );
    assert_eq!(v["entries"], 2);
}

async fn a_rehashed_entry_breaks_the_next_link(app: TestApp) {
    activity(&app).await;
    // A forger who recomputes the edited entry's own hash still breaks the following link.
    app.execute("UPDATE audit_log SET actor = 'someone-else', hash = 'f00d' WHERE seq = 2");
    let v = verify(&app).await;
    assert_eq!(v["first_broken"]["seq"], 2);
    app.execute(
        "UPDATE audit_log SET hash = (SELECT prev_hash FROM audit_log WHERE seq = 3) WHERE seq = 2",
    );
    let v = verify(&app).await;
    assert_eq!(v["first_broken"]["seq"], 2, "{v}");
}

async fn deleted_entries_are_caught(app: TestApp) {
    activity(&app).await;
    app.execute("DELETE FROM audit_log WHERE seq = 5");
    let v = verify(&app).await;
    assert_eq!(v["first_broken"]["seq"], 5, "{v}");
    app.execute("DELETE FROM audit_log WHERE seq = 2");
    let v = verify(&app).await;
    assert_eq!(v["first_broken"]["seq"], 2, "{v}");
    assert_eq!(v["first_broken"]["problem"], "entry 2 is missing");
}

on_both_backends!(
    an_edited_entry_is_named,
    a_rehashed_entry_breaks_the_next_link,
    deleted_entries_are_caught
);

fn counted(app: &TestApp, table: &str) -> i64 {
    app.db
        .read(|c| count_rows(c, table).map_err(msp_bridge::db::DbError::from))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn append_one(c: &mut msp_bridge::db::AnyConnection, actor: &str) -> diesel::QueryResult<()> {
    msp_bridge::ledger::append(
        c,
        chrono::Utc::now(),
        msp_bridge::ledger::NewEntry {
            actor,
            action: msp_bridge::ledger::Action::ShareRead,
            contract_id: Some("acme-en"),
            ticket_id: None,
            details: json!({ "fields": ["subject"] }),
        },
    )
}

/// An entry is written pending with its change; a seal chains it after the entries before it,
/// and a second seal finds nothing to do. (Inside one transaction, so the delivery worker's
/// own seals cannot interleave.)
async fn entries_are_chained_when_sealed(app: TestApp) {
    app.seal_ledger();
    let (pending, sealed_before, sealed, sealed_after, again) = app
        .db
        .write(|c| {
            let sealed_before = count_rows(c, "audit_log")?;
            append_one(c, "test:pending")?;
            let pending = count_rows(c, "audit_pending")?;
            let sealed = msp_bridge::ledger::seal(c)?;
            let sealed_after = count_rows(c, "audit_log")?;
            let again = msp_bridge::ledger::seal(c)?;
            Ok::<_, msp_bridge::db::DbError>((pending, sealed_before, sealed, sealed_after, again))
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((pending, sealed, again), (1, 1, 0));
    assert_eq!(sealed_after, sealed_before + 1);
    assert_eq!(counted(&app, "audit_pending"), 0);
    let last = app.ledger().pop().unwrap_or_else(|| panic!("empty ledger"));
    assert_eq!(
        (last.actor.as_str(), last.seq),
        ("test:pending", sealed_after)
    );
    assert_eq!(verify(&app).await["first_broken"], Value::Null);
}

on_both_backends!(entries_are_chained_when_sealed);

/// Writers append in parallel while sealers chain in parallel (PostgreSQL): every entry is
/// chained exactly once and the chain has no fork.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_writers_and_sealers_keep_one_chain() {
    let Some(app) = crate::helpers::spawn(crate::helpers::Backend::Postgres).await else {
        eprintln!("BRIDGE_TEST_POSTGRES_URL unset: PostgreSQL-only test not run");
        return;
    };
    app.seal_ledger();
    let before = counted(&app, "audit_log");
    let (writers, per_writer) = (6, 40);
    let mut threads = Vec::new();
    for w in 0..writers {
        let db = app.db.clone();
        threads.push(std::thread::spawn(move || {
            for i in 0..per_writer {
                db.write(|c| {
                    append_one(c, &format!("test:w{w}-{i}"))?;
                    // Some writers also seal, as delivery workers of several replicas do.
                    if i % 3 == 0 {
                        msp_bridge::ledger::seal(c)?;
                    }
                    Ok::<_, msp_bridge::db::DbError>(())
                })
                .unwrap_or_else(|e| panic!("{e}"));
            }
        }));
    }
    for t in threads {
        t.join().unwrap_or_else(|_| panic!("writer panicked"));
    }
    app.seal_ledger();
    assert_eq!(counted(&app, "audit_pending"), 0);
    let ledger = app.ledger();
    assert_eq!(ledger.len() as i64, before + writers * per_writer);
    let mut actors: Vec<&str> = ledger.iter().map(|e| e.actor.as_str()).collect();
    actors.sort_unstable();
    actors.dedup();
    assert_eq!(
        actors.len() as i64,
        ledger.len() as i64 - before + 1,
        "each entry once"
    );
    assert_eq!(verify(&app).await["first_broken"], Value::Null);
}

/// A change of a shared ticket that reaches its contractor is a disclosure like the share:
/// recorded with its receipt, and counted in the report; a re-push that changes nothing the
/// contractor sees sends and records nothing.
async fn updates_sent_to_a_contractor_are_recorded(app: TestApp) {
    let id = app.ingest(&ticket_en("L-U")).await.body["id"]
        .as_i64()
        .unwrap_or_default();
    let mut changed = ticket_en("L-U");
    changed["comments"][0]["external_id"] = json!("c3");
    changed["comments"][0]["body"] = json!("Call me on +44 20 7946 0958 today");
    let pushed = app.ingest(&changed).await;
    assert_eq!(pushed.status, 200, "{}", pushed.body);
    let again = app.ingest(&changed).await;
    assert_eq!(again.status, 200);
    let updates: Vec<Value> = app
        .ledger()
        .into_iter()
        .filter(|e| e.action == "share.update" && e.ticket_id == Some(id))
        .map(|e| serde_json::from_str(&e.details).unwrap_or_default())
        .collect();
    assert_eq!(updates.len(), 1, "{updates:?}");
    let receipt = &updates[0]["receipt"];
    assert_eq!(receipt["comments_sent"], 2, "{receipt}");
    assert!(receipt["entities"]["PHONE"].is_object(), "{receipt}");
    assert!(!updates[0].to_string().contains("7946"));
    let updated = app
        .contractor_events("acme-en")
        .into_iter()
        .filter(|e| e["type"] == "ticket.updated")
        .count();
    assert_eq!(updated, 1);

    let now = msp_bridge::clock::Clock::now(&app.clock);
    let (from, to) = (
        now - chrono::Duration::days(1),
        now + chrono::Duration::days(1),
    );
    let report = app
        .post(
            "/api/v1/reports",
            &app.admin(),
            &json!({ "contract": "acme-en", "from": from, "to": to, "formats": ["csv"] }),
        )
        .await;
    let rid = report.body["items"][0]["id"].clone();
    let csv = app
        .get(&format!("/api/v1/reports/{rid}"), &app.admin())
        .await;
    let csv = csv.body.as_str().unwrap_or_default().to_owned();
    assert_eq!(
        csv.lines().filter(|r| r.contains(",share.update,")).count(),
        1,
        "{csv}"
    );
}

on_both_backends!(updates_sent_to_a_contractor_are_recorded);
