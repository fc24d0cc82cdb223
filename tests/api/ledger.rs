//! The audit ledger catches edits, deletions and reordering.

use serde_json::{Value, json};

use crate::helpers::{TestApp, ticket_en};
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
