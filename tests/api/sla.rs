//! SLA clocks end to end: pauses, warnings and breaches at their exact boundaries, breach
//! actions, sweepers racing each other, per-period figures, the attainment floor and the
//! background sweeper. Time only moves when a test moves the injected clock.

use chrono::Duration;
use msp_bridge::clock::Clock;
use msp_bridge::jobs::SlaSweeper;
use msp_bridge::service::timekeeping::SweepReport;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_with, ticket_en};

/// A 24/7 contract with short targets: first response 1 h (warning at 50 %), next response
/// 30 min, resolution 8 h; `pending` and `on_hold` pause the clocks.
fn swift_contract(on_breach: &str) -> String {
    format!(
        r#"
id = "swift-en"
contractor = "swift"
display_name = "Swift Support"
valid_from = "2026-01-01"
valid_until = "2027-12-31"
timezone = "UTC"

[scope]
channels = ["email", "chat"]
priorities = ["low", "normal", "high"]
languages = ["en"]

[overflow]
mode = "always"
max_open = 100
rank = 10

[sla]
pause_on = ["pending", "on_hold"]
warn_at_percent = 50
on_breach = {on_breach}
attainment_floor_percent = 75
attainment_window = "1d"
attainment_min_clocks = 4
[sla.calendar]
always_open = true
[[sla.targets]]
priority = "normal"
first_response = "1h"
next_response = "30m"
resolution = "8h"

[confidentiality]
comments = "public_only"
rehydrate_replies = true
retention_days = 30
detectors = ["email", "phone", "card", "iban"]
[confidentiality.fields]
subject = "redact"
description = "redact"
comments = "redact"
channel = "pass"
priority = "pass"
status = "pass"

[processing]
purposes = ["customer support on the company's behalf"]
legal_basis = "contract"
data_categories = ["contact details", "order and payment details in ticket text"]
subject_categories = ["customers"]
actions = ["read", "reply", "store", "download"]
safeguards = ["redaction and tokenisation per contract", "access scoped per contractor", "tamper-evident audit"]
location = "GB"
contact = "dpo@contractor.example"
retention_days = 30

[reporting]
schedule = "0 6 * * 1"
formats = ["json"]
locale = "en"
"#
    )
}

async fn with_swift<F, Fut>(backend: Backend, on_breach: &str, sweep_ms: u64, scenario: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    with_contract(backend, &swift_contract(on_breach), sweep_ms, scenario).await;
}

async fn with_contract<F, Fut>(backend: Backend, contract: &str, sweep_ms: u64, scenario: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let scratch = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let folder = scratch.path().join("contracts");
    std::fs::create_dir_all(&folder).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(folder.join("swift-en.toml"), contract).unwrap_or_else(|e| panic!("{e}"));
    let configure = |c: &mut msp_bridge::config::Config| {
        c.contracts_dir = folder.clone();
        c.sla_sweep_ms = sweep_ms;
    };
    match spawn_with(backend, configure).await {
        Some(app) => scenario(app).await,
        None => eprintln!("BRIDGE_TEST_POSTGRES_URL unset: PostgreSQL variant not run"),
    }
}

macro_rules! swift_scenarios {
    ($($scenario:ident: $on_breach:literal),+ $(,)?) => {$(
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::with_swift($crate::helpers::Backend::Sqlite, $on_breach, 0, super::$scenario).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::with_swift($crate::helpers::Backend::Postgres, $on_breach, 0, super::$scenario).await;
            }
        }
    )+};
}

async fn sweep(sweeper: &SlaSweeper) -> SweepReport {
    let sweeper = sweeper.clone();
    tokio::task::spawn_blocking(move || sweeper.sweep())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|e| panic!("sweep: {e}"))
}

fn entries(app: &TestApp, action: &str) -> Vec<msp_bridge::ledger::Entry> {
    app.ledger()
        .into_iter()
        .filter(|e| e.action == action)
        .collect()
}

async fn share_ticket(app: &TestApp, external_id: &str) -> i64 {
    let created = app.ingest(&ticket_en(external_id)).await;
    assert_eq!(
        created.body["routing"]["outcome"], "shared",
        "{:?}",
        created.body
    );
    created.body["id"].as_i64().unwrap_or_default()
}

async fn reply(app: &TestApp, id: i64) {
    let r = app
        .post(
            &format!("/api/v1/contractor/tickets/{id}/replies"),
            &app.contractor("swift"),
            &json!({ "body": "On it.", "public": true }),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
}

async fn set_status(app: &TestApp, id: i64, status: &str) {
    let r = app
        .post(
            &format!("/api/v1/contractor/tickets/{id}/status"),
            &app.contractor("swift"),
            &json!({ "status": status }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

async fn customer_writes(app: &TestApp, id: i64, external_id: &str) {
    let r = app
        .post(
            &format!("/api/v1/tickets/{id}/comments"),
            &app.inhouse(),
            &json!({ "external_id": external_id, "author": "John Smith", "body": "Any news?", "public": true }),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
}

/// The in-house view's clocks: (kind, state, due_at, elapsed_seconds).
async fn clocks(app: &TestApp, id: i64) -> Vec<(String, String, String, Value)> {
    let view = app
        .get(&format!("/api/v1/tickets/{id}"), &app.inhouse())
        .await;
    assert_eq!(view.status, 200, "{:?}", view.body);
    view.body["share"]["sla"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap_or_default().to_owned(),
                c["state"].as_str().unwrap_or_default().to_owned(),
                c["due_at"].as_str().unwrap_or_default().to_owned(),
                c["elapsed_seconds"].clone(),
            )
        })
        .collect()
}

fn clock(kind: &str, state: &str, due: &str, elapsed: Value) -> (String, String, String, Value) {
    (kind.into(), state.into(), due.into(), elapsed)
}

async fn pauses_shift_due_times(app: TestApp) {
    // Shared Monday 10:00: first response due 11:00, resolution 18:00.
    let id = share_ticket(&app, "P-1").await;
    app.clock.advance(Duration::minutes(20));
    set_status(&app, id, "pending").await;
    assert_eq!(
        clocks(&app, id).await,
        [
            clock(
                "first_response",
                "paused",
                "2026-06-01T11:00:00Z",
                Value::Null
            ),
            clock("resolution", "paused", "2026-06-01T18:00:00Z", Value::Null),
        ]
    );
    // Long past the original due time, but paused: nothing to warn about or breach.
    app.clock.advance(Duration::hours(3));
    let report = sweep(&app.sweeper).await;
    assert_eq!(report.claimed, 0);
    // The customer answers at 13:20: the share is open again, due times moved by 3 h.
    customer_writes(&app, id, "c-answer").await;
    let view = app
        .get(&format!("/api/v1/tickets/{id}"), &app.inhouse())
        .await;
    assert_eq!(view.body["share"]["state"], "open");
    assert_eq!(
        clocks(&app, id).await,
        [
            clock(
                "first_response",
                "running",
                "2026-06-01T14:00:00Z",
                Value::Null
            ),
            clock("resolution", "running", "2026-06-01T21:00:00Z", Value::Null),
        ]
    );
    // 13:30 is exactly half of the first-response target (the warning moved with the pause).
    app.clock.advance(Duration::minutes(10));
    let report = sweep(&app.sweeper).await;
    assert_eq!((report.warnings.len(), report.breaches.len()), (1, 0));
    // The in-house side puts the ticket on hold for an hour: its status pauses the clocks too.
    let mut on_hold = ticket_en("P-1");
    on_hold["status"] = json!("on_hold");
    assert_eq!(app.ingest(&on_hold).await.status, 200);
    assert_eq!(clocks(&app, id).await[0].1, "paused");
    app.clock.advance(Duration::hours(1));
    assert_eq!(app.ingest(&ticket_en("P-1")).await.status, 200);
    assert_eq!(clocks(&app, id).await[0].2, "2026-06-01T15:00:00Z");
    // The reply lands exactly at the shifted due time: met, after 1 h of business time.
    app.clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-06-01T15:00:00Z")
            .unwrap_or_else(|e| panic!("{e}"))
            .into(),
    );
    reply(&app, id).await;
    assert_eq!(
        clocks(&app, id).await[0],
        clock("first_response", "met", "2026-06-01T15:00:00Z", json!(3600))
    );
    assert!(entries(&app, "sla.breach").is_empty());
}

async fn breaches_fall_exactly_after_the_due_time(app: TestApp) {
    let late = share_ticket(&app, "B-1").await;
    let on_time = share_ticket(&app, "B-2").await;
    // 11:00 sharp is the due time: warned (10:30 passed) but not breached.
    app.clock.advance(Duration::hours(1));
    let report = sweep(&app.sweeper).await;
    assert_eq!((report.warnings.len(), report.breaches.len()), (2, 0));
    // A reply exactly at the due time is in time.
    reply(&app, on_time).await;
    assert_eq!(clocks(&app, on_time).await[0].1, "met");
    // One microsecond later the other one is breached, once.
    app.clock.advance(Duration::microseconds(1));
    let report = sweep(&app.sweeper).await;
    assert_eq!(report.breaches, ["swift-en"]);
    assert!(sweep(&app.sweeper).await.breaches.is_empty());
    let breaches = entries(&app, "sla.breach");
    assert_eq!(breaches.len(), 1);
    assert_eq!(breaches[0].ticket_id, Some(late));
    assert_eq!(breaches[0].actor, "system:sla");
    assert_eq!(entries(&app, "sla.warning").len(), 2);
    assert_eq!(clocks(&app, late).await[0].1, "breached");
    // Both sides are told, by events carrying ids and times only.
    let feed = app.get("/api/v1/events", &app.inhouse()).await;
    let sla_events = |events: &[Value]| {
        events
            .iter()
            .filter(|e| e["type"].as_str().is_some_and(|t| t.starts_with("sla.")))
            .map(|e| {
                (
                    e["type"].clone(),
                    e["ticket"].clone(),
                    e["data"]["clock"].clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    let expected = [
        (json!("sla.warning"), json!(late), json!("first_response")),
        (
            json!("sla.warning"),
            json!(on_time),
            json!("first_response"),
        ),
        (json!("sla.breach"), json!(late), json!("first_response")),
    ];
    let inhouse = sla_events(feed.body["items"].as_array().map_or(&[][..], |v| v));
    assert_eq!(inhouse, expected);
    let to_contractor: Vec<Value> = app
        .db
        .write(|c| {
            msp_bridge::outbox::sequence(c)?;
            msp_bridge::outbox::list(
                c,
                &msp_bridge::outbox::Audience::Contractor("swift-en".into()),
                0,
                100,
            )
            .map_err(msp_bridge::db::DbError::from)
        })
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .map(|row| {
            row.envelope()
                .map(|e| serde_json::to_value(e).unwrap_or_default())
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    assert_eq!(sla_events(&to_contractor), expected);
    // Answering late stops the clock as breached without recording the breach again.
    reply(&app, late).await;
    assert_eq!(
        clocks(&app, late).await[0],
        clock(
            "first_response",
            "breached",
            "2026-06-01T11:00:00Z",
            json!(3600)
        )
    );
    assert_eq!(entries(&app, "sla.breach").len(), 1);
    // The contractor sees its clocks too.
    let view = app
        .get(
            &format!("/api/v1/contractor/tickets/{late}"),
            &app.contractor("swift"),
        )
        .await;
    assert_eq!(view.body["sla"][0]["state"], "breached");
}

async fn a_late_stop_records_the_breach_the_sweeper_missed(app: TestApp) {
    let id = share_ticket(&app, "L-1").await;
    let other = share_ticket(&app, "L-2").await;
    // Nobody swept for two hours.
    app.clock.advance(Duration::hours(2));
    reply(&app, id).await;
    let handback = app
        .post(
            &format!("/api/v1/contractor/tickets/{other}/handback"),
            &app.contractor("swift"),
            &json!({ "reason": "wrong language" }),
        )
        .await;
    assert_eq!(handback.status, 200);
    let breaches = entries(&app, "sla.breach");
    assert_eq!(breaches.len(), 2, "{breaches:?}");
    assert!(breaches.iter().all(|e| e.details.contains("at_stop")));
    // The hand-back cancelled the resolution clock, which was not due yet.
    assert_eq!(
        clocks(&app, other).await[1],
        clock(
            "resolution",
            "cancelled",
            "2026-06-01T18:00:00Z",
            Value::Null
        )
    );
    // The sweeper finds nothing more to record.
    let report = sweep(&app.sweeper).await;
    assert!(report.breaches.is_empty(), "{report:?}");
    assert_eq!(entries(&app, "sla.breach").len(), 2);
}

async fn a_breach_escalates_and_recalls(app: TestApp) {
    let id = share_ticket(&app, "R-1").await;
    app.clock.advance(Duration::hours(1) + Duration::seconds(1));
    let report = sweep(&app.sweeper).await;
    assert_eq!((report.escalated, report.recalled), (1, 1), "{report:?}");
    // The contractor lost the ticket at once.
    let gone = app
        .get(
            &format!("/api/v1/contractor/tickets/{id}"),
            &app.contractor("swift"),
        )
        .await;
    assert_eq!(gone.status, 404);
    let view = app
        .get(&format!("/api/v1/tickets/{id}"), &app.inhouse())
        .await;
    assert_eq!(view.body["share"]["state"], "recalled");
    let reason = view.body["escalation"]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(reason.contains("first response"), "{reason}");
    assert_eq!(
        clocks(&app, id).await,
        [
            clock(
                "first_response",
                "breached",
                "2026-06-01T11:00:00Z",
                Value::Null
            ),
            clock(
                "resolution",
                "cancelled",
                "2026-06-01T18:00:00Z",
                Value::Null
            ),
        ]
    );
    let recalls = entries(&app, "share.recall");
    assert_eq!(recalls.len(), 1);
    assert_eq!(recalls[0].actor, "system:sla");
    assert_eq!(entries(&app, "sla.escalate").len(), 1);
    // Its place is free again, and a second sweep does nothing more.
    let contracts = app.get("/api/v1/contracts", &app.admin()).await;
    assert_eq!(contracts.body["items"][0]["open_shares"], 0);
    let again = sweep(&app.sweeper).await;
    assert_eq!((again.recalled, again.escalated), (0, 0));
}

async fn parallel_sweepers_record_each_breach_once(app: TestApp) {
    const TICKETS: usize = 30;
    for n in 0..TICKETS {
        share_ticket(&app, &format!("S-{n}")).await;
    }
    app.clock.advance(Duration::hours(1) + Duration::seconds(1));
    // Four sweepers at once, as four replicas would run them.
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let sweeper = app.sweeper.clone();
            tokio::task::spawn_blocking(move || sweeper.sweep())
        })
        .collect();
    let mut breaches = 0;
    let mut warnings = 0;
    for run in runs {
        let report = run
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|e| panic!("sweep: {e}"));
        breaches += report.breaches.len();
        warnings += report.warnings.len();
    }
    assert_eq!((breaches, warnings), (TICKETS, TICKETS));
    assert_eq!(entries(&app, "sla.breach").len(), TICKETS);
    assert_eq!(entries(&app, "sla.warning").len(), TICKETS);
    let verify = app.get("/api/v1/audit/verify", &app.admin()).await;
    // 1 contract applied, 30 shares, 30 warnings, 30 breaches: a whole, unbroken chain.
    assert_eq!(
        verify.body,
        json!({ "entries": 1 + 3 * TICKETS, "first_broken": null })
    );
}

async fn figures_for_a_period(app: TestApp) {
    let a = share_ticket(&app, "F-A").await;
    let b = share_ticket(&app, "F-B").await;
    let c = share_ticket(&app, "F-C").await;
    let d = share_ticket(&app, "F-D").await;
    let at = |minutes: i64| crate::helpers::start_time() + Duration::minutes(minutes);
    app.clock.set(at(30));
    reply(&app, a).await;
    let recall = app
        .post(
            &format!("/api/v1/tickets/{d}/recall"),
            &app.inhouse(),
            &json!({ "reason": "VIP after all" }),
        )
        .await;
    assert_eq!(recall.status, 200);
    app.clock.set(at(45));
    set_status(&app, a, "solved").await;
    app.clock.set(at(90));
    reply(&app, b).await;
    app.clock.set(at(100));
    customer_writes(&app, b, "c-b-2").await;
    app.clock.set(at(120));
    reply(&app, b).await;
    set_status(&app, b, "solved").await;
    let handback = app
        .post(
            &format!("/api/v1/contractor/tickets/{c}/handback"),
            &app.contractor("swift"),
            &json!({ "reason": "needs a specialist" }),
        )
        .await;
    assert_eq!(handback.status, 200);
    for (ticket, score) in [(a, 5), (b, 3)] {
        let rated = app
            .post(
                &format!("/api/v1/tickets/{ticket}/satisfaction"),
                &app.inhouse(),
                &json!({ "score": score }),
            )
            .await;
        assert_eq!(rated.status, 200, "{:?}", rated.body);
    }
    let figures = app
        .get(
            "/api/v1/contracts/swift-en/sla?from=2026-06-01T10:00:00Z&to=2026-06-01T13:00:00Z",
            &app.admin(),
        )
        .await;
    assert_eq!(figures.status, 200, "{:?}", figures.body);
    let f = &figures.body;
    assert_eq!(f["shared"], 4);
    assert_eq!(
        f["first_response"],
        json!({ "stopped": 2, "median_seconds": 1800, "p90_seconds": 5400 })
    );
    assert_eq!(
        f["next_response"],
        json!({ "stopped": 1, "median_seconds": 1200, "p90_seconds": 1200 })
    );
    assert_eq!(
        f["resolution"],
        json!({ "stopped": 2, "median_seconds": 2700, "p90_seconds": 7200 })
    );
    // Met: A's two clocks, B's next response and resolution; breached: B's and C's first
    // responses; D's clocks and C's resolution were cancelled before they were due.
    assert_eq!(
        f["attainment"],
        json!({ "met": 4, "breached": 2, "running": 0, "percent": 66.7 })
    );
    assert_eq!(f["solved"], 2);
    assert_eq!(
        f["one_touch_resolution"],
        json!({ "count": 1, "percent": 50.0 })
    );
    assert_eq!(f["handed_back"], json!({ "count": 1, "percent": 25.0 }));
    assert_eq!(f["recalled"], json!({ "count": 1, "percent": 25.0 }));
    assert_eq!(
        f["csat"],
        json!({ "ratings": 2, "average": 4.0, "satisfied_percent": 50.0, "with_comment": 0 })
    );
    // A was solved with one reply and never reopened; B took two replies.
    assert_eq!(
        f["first_contact_resolution"],
        json!({ "count": 1, "percent": 50.0 })
    );
    assert_eq!(f["reopened"], json!({ "count": 0, "percent": 0.0 }));
    // Another period holds nothing; bad requests are refused clearly.
    let empty = app
        .get(
            "/api/v1/contracts/swift-en/sla?from=2026-06-02T00:00:00Z&to=2026-06-03T00:00:00Z",
            &app.inhouse(),
        )
        .await;
    assert_eq!(
        (
            empty.status,
            &empty.body["shared"],
            &empty.body["attainment"]["percent"]
        ),
        (200, &json!(0), &Value::Null)
    );
    let backwards = app
        .get(
            "/api/v1/contracts/swift-en/sla?from=2026-06-02T00:00:00Z&to=2026-06-01T00:00:00Z",
            &app.admin(),
        )
        .await;
    assert_eq!(
        (backwards.status, backwards.body["field"].as_str()),
        (400, Some("to"))
    );
    let garbled = app
        .get(
            "/api/v1/contracts/swift-en/sla?from=yesterday",
            &app.admin(),
        )
        .await;
    assert_eq!(garbled.status, 400);
    let unknown = app.get("/api/v1/contracts/nobody/sla", &app.admin()).await;
    assert_eq!(unknown.status, 404);
    let contractor = app
        .get("/api/v1/contracts/swift-en/sla", &app.contractor("swift"))
        .await;
    assert_eq!(contractor.status, 403);
    let bad_score = app
        .post(
            &format!("/api/v1/tickets/{a}/satisfaction"),
            &app.inhouse(),
            &json!({ "score": 6 }),
        )
        .await;
    assert_eq!(
        (bad_score.status, bad_score.body["field"].as_str()),
        (400, Some("score"))
    );
}

async fn rate(app: &TestApp, id: i64, body: Value) -> crate::helpers::Answer {
    app.post(
        &format!("/api/v1/tickets/{id}/satisfaction"),
        &app.inhouse(),
        &body,
    )
    .await
}

async fn feedback_reopens_and_the_contractors_own_figures(app: TestApp) {
    let a = share_ticket(&app, "Q-A").await;
    let b = share_ticket(&app, "Q-B").await;
    for id in [a, b] {
        reply(&app, id).await;
        set_status(&app, id, "solved").await;
    }
    // The customer writes on solved B: it goes back to the contractor, counted as reopened.
    customer_writes(&app, b, "q-b-2").await;
    let view = app.contractor_view("swift", b).await;
    assert_eq!(view.body["state"], "open", "{:?}", view.body);
    let reopens = entries(&app, "share.reopen");
    assert_eq!(reopens.len(), 1);
    assert_eq!(reopens[0].ticket_id, Some(b));
    let running: Vec<_> = clocks(&app, b)
        .await
        .into_iter()
        .filter(|c| c.1 == "running")
        .map(|c| c.0)
        .collect();
    assert_eq!(
        running,
        ["next_response"],
        "the customer waits for an answer"
    );
    reply(&app, b).await;
    set_status(&app, b, "solved").await;

    // Feedback: CSAT and NPS with the customer's words, which reach the contractor redacted.
    let rated = rate(
        &app,
        a,
        json!({ "score": 5, "nps": 10, "comment": "Great help, write to john.smith@example.com" }),
    )
    .await;
    assert_eq!(rated.status, 200, "{:?}", rated.body);
    crate::helpers::assert_documented("post", "/api/v1/tickets/{id}/satisfaction", &rated);
    assert_eq!(
        (rated.body["score"].clone(), rated.body["nps"].clone()),
        (json!(5), json!(10))
    );
    assert_eq!(rate(&app, b, json!({ "nps": 3 })).await.status, 200);
    // The contractor is sent the fresh view, which shows the feedback, words redacted.
    let updates = app.contractor_events("swift-en");
    let told = updates
        .iter()
        .rev()
        .find(|e| e["type"] == "ticket.updated" && e["ticket"] == a)
        .unwrap_or_else(|| panic!("no update for {a}: {updates:?}"));
    assert_eq!(told["data"]["feedback"][0]["score"], 5, "{told}");
    assert!(!told.to_string().contains("john.smith@example.com"));
    let seen = app.contractor_view("swift", a).await;
    let feedback = &seen.body["feedback"];
    assert_eq!(feedback[0]["kind"], "csat");
    assert_eq!(feedback[1]["kind"], "nps");
    assert_eq!(feedback[1]["score"], 10);
    let words = feedback[0]["comment"].as_str().unwrap_or_default();
    assert!(words.starts_with("Great help"), "{words}");
    assert!(!words.contains("john.smith@example.com"), "{words}");
    assert!(!seen.body.to_string().contains("john.smith@example.com"));
    // The same answer again writes nothing; bad answers are refused by field.
    let before = entries(&app, "ticket.satisfaction").len();
    let again = rate(
        &app,
        a,
        json!({ "score": 5, "nps": 10, "comment": "Great help, write to john.smith@example.com" }),
    )
    .await;
    assert_eq!(
        (again.status, again.body["replaced"].clone()),
        (200, json!(false))
    );
    assert_eq!(entries(&app, "ticket.satisfaction").len(), before);
    let ledger_text: String = entries(&app, "ticket.satisfaction")
        .iter()
        .map(|e| e.details.clone())
        .collect();
    assert!(!ledger_text.contains("john.smith"), "{ledger_text}");
    for (body, field) in [
        (json!({ "nps": 11 }), "nps"),
        (json!({ "score": 0 }), "score"),
        (json!({ "comment": "no score" }), "score"),
        (
            json!({ "score": 3, "comment": "x".repeat(4_001) }),
            "comment",
        ),
    ] {
        let refused = rate(&app, a, body).await;
        assert_eq!(
            (refused.status, refused.body["field"].as_str()),
            (400, Some(field)),
            "{:?}",
            refused.body
        );
    }

    // The contractor's own figures: the numbers the company's API and report show.
    let period = "from=2026-06-01T00:00:00Z&to=2026-06-02T00:00:00Z";
    let own = app
        .get(
            &format!("/api/v1/contractor/figures?{period}"),
            &app.contractor("swift"),
        )
        .await;
    assert_eq!(own.status, 200, "{:?}", own.body);
    crate::helpers::assert_documented("get", "/api/v1/contractor/figures", &own);
    let f = &own.body["contracts"][0];
    assert_eq!(f["contract"], "swift-en");
    assert_eq!(f["solved"], 2);
    assert_eq!(
        f["first_contact_resolution"],
        json!({ "count": 1, "percent": 50.0 }),
        "B was reopened: not resolved at first contact"
    );
    assert_eq!(f["reopened"], json!({ "count": 1, "percent": 50.0 }));
    assert_eq!(
        f["one_touch_resolution"],
        json!({ "count": 1, "percent": 50.0 })
    );
    assert_eq!(
        f["csat"],
        json!({ "ratings": 1, "average": 5.0, "satisfied_percent": 100.0, "with_comment": 1 })
    );
    assert_eq!(
        f["nps"],
        json!({ "responses": 2, "promoters": 1, "passives": 0, "detractors": 1, "score": 0.0 })
    );
    let company = app
        .get(
            &format!("/api/v1/contracts/swift-en/sla?{period}"),
            &app.admin(),
        )
        .await;
    assert_eq!(&company.body, f);
    let report = crate::reports::report_of(
        &app,
        &json!({ "contract": "swift-en", "from": "2026-06-01", "to": "2026-06-02", "formats": ["json", "html", "figures_csv"], "locale": "ru" }),
    )
    .await;
    assert_eq!(&report[0].1["sla"][0], f);
    // The figures CSV: one row per contract, numbers as spreadsheets read them.
    let csv = report[2].1.as_str().unwrap_or_default();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    assert_eq!(header.len(), row.len(), "{csv}");
    let cell = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .map(|i| row[i])
            .unwrap_or_else(|| panic!("no {name} in {csv}"))
    };
    assert_eq!(cell("contract"), "swift-en");
    assert_eq!(cell("first_contact_resolution_percent"), "50.0");
    assert_eq!(cell("reopened_percent"), "50.0");
    assert_eq!(cell("csat_average"), "5.0");
    assert_eq!(cell("nps_score"), "0.0");
    assert_eq!(cell("nps_responses"), "2");
    assert!(lines.next().is_none(), "{csv}");
    // The HTML report shows the same figures, in the report's language.
    let html = report[1].1.as_str().unwrap_or_default();
    let quality = html
        .split("<table id=\"quality\">")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .unwrap_or_else(|| panic!("no quality table: {html}"));
    assert!(
        html.contains("Оценки клиентов и решение обращений"),
        "{html}"
    );
    for shown in [
        "swift-en",
        "5,0 (1)",
        "100,0\u{a0}%",
        "0,0 (2)",
        "50,0\u{a0}%",
    ] {
        assert!(quality.contains(shown), "{shown} not in {quality}");
    }
    // Only the caller's contracts; other roles are refused.
    let stranger = app
        .get(
            &format!("/api/v1/contractor/figures?{period}"),
            &app.contractor("acme"),
        )
        .await;
    assert_eq!(stranger.body["contracts"], json!([]));
    let staff = app.get("/api/v1/contractor/figures", &app.inhouse()).await;
    assert_eq!(staff.status, 403);
}

async fn feedback_comes_with_zendesk_tickets(app: TestApp) {
    let mut ticket = json!({ "ticket": {
        "id": 5150,
        "subject": "Where is my parcel",
        "description": "Ordered last week.",
        "priority": "normal",
        "status": "open",
        "via": { "channel": "email" },
        "requester": { "name": "John Smith", "email": "john.smith@example.com", "locale": "en-US" },
        "satisfaction_rating": { "score": "offered" }
    }});
    let pushed = app
        .post("/api/v1/inbound/zendesk", &app.inhouse(), &ticket)
        .await;
    assert_eq!(
        pushed.body["routing"]["outcome"], "shared",
        "{:?}",
        pushed.body
    );
    let id = pushed.body["id"].as_i64().unwrap_or_default();
    assert!(
        entries(&app, "ticket.satisfaction").is_empty(),
        "offered is no answer"
    );
    ticket["ticket"]["status"] = json!("solved");
    ticket["ticket"]["satisfaction_rating"] =
        json!({ "score": "bad", "comment": "Call me on +44 20 7946 0958, nobody did" });
    let rated = app
        .post("/api/v1/inbound/zendesk", &app.inhouse(), &ticket)
        .await;
    assert_eq!(rated.status, 200, "{:?}", rated.body);
    let recorded = entries(&app, "ticket.satisfaction");
    assert_eq!(recorded.len(), 1);
    assert!(
        recorded[0].details.contains("\"source\":\"zendesk\""),
        "{}",
        recorded[0].details
    );
    assert!(recorded[0].details.contains("\"score\":1"));
    let seen = app.contractor_view("swift", id).await;
    assert_eq!(seen.body["feedback"][0]["score"], 1);
    let words = seen.body["feedback"][0]["comment"]
        .as_str()
        .unwrap_or_default();
    assert!(
        words.contains("nobody did") && !words.contains("7946"),
        "{words}"
    );
    // Zendesk re-sends the rating with every update: recorded once.
    let again = app
        .post("/api/v1/inbound/zendesk", &app.inhouse(), &ticket)
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(entries(&app, "ticket.satisfaction").len(), 1);
}

async fn the_attainment_floor_raises_and_clears_an_alert(app: TestApp) {
    let sweeper = app.sweeper.clone();
    let check = || {
        let sweeper = sweeper.clone();
        async move {
            tokio::task::spawn_blocking(move || sweeper.check_floors())
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .unwrap_or_else(|e| panic!("floors: {e}"))
        }
    };
    // Three breaches are not yet a trend (at least four decided clocks are needed).
    for n in 0..3 {
        share_ticket(&app, &format!("A-{n}")).await;
    }
    app.clock.advance(Duration::hours(1) + Duration::seconds(1));
    sweep(&app.sweeper).await;
    assert!(!check().await[0].below);
    share_ticket(&app, "A-3").await;
    app.clock.advance(Duration::hours(1) + Duration::seconds(1));
    sweep(&app.sweeper).await;
    let status = check().await;
    assert!(status[0].below && status[0].alert_raised, "{status:?}");
    assert!(!check().await[0].alert_raised, "raised once");
    assert_eq!(entries(&app, "sla.attainment_alert").len(), 1);
    assert_eq!(
        quality_events(&app).await,
        [("quality.alert".to_owned(), "sla_attainment".to_owned())],
        "the in-house side is told once"
    );
    let metrics = app.send(reqwest::Method::GET, "/metrics", None, None).await;
    let text = metrics.body.as_str().unwrap_or_default().to_owned();
    assert!(
        text.contains(r#"bridge_sla_below_floor{contract="swift-en"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"bridge_sla_attainment_percent{contract="swift-en"} 0.0"#));
    // Four shares hold places; their four first-response clocks are overdue, and all eight
    // clocks (first response and resolution) are still running.
    for gauge in [
        r#"bridge_open_shares{contract="swift-en"} 4"#,
        r#"bridge_sla_clocks_overdue{contract="swift-en"} 4"#,
        r#"bridge_sla_clocks_running{contract="swift-en"} 8"#,
        r#"bridge_sla_clocks_paused{contract="swift-en"} 0"#,
        r#"bridge_sla_breaches_total{contract="swift-en"} 4"#,
    ] {
        assert!(text.contains(gauge), "{gauge} missing from {text}");
    }
    // Twelve answers in time: 12 of 16 is 75 %, the floor itself: the alert clears.
    for n in 0..12 {
        let id = share_ticket(&app, &format!("G-{n}")).await;
        reply(&app, id).await;
    }
    let status = check().await;
    assert!(!status[0].below && status[0].alert_cleared, "{status:?}");
    assert_eq!(entries(&app, "sla.attainment_restored").len(), 1);
}

swift_scenarios!(
    pauses_shift_due_times: r#"["notify"]"#,
    breaches_fall_exactly_after_the_due_time: r#"["notify"]"#,
    a_late_stop_records_the_breach_the_sweeper_missed: r#"["notify"]"#,
    a_breach_escalates_and_recalls: r#"["notify", "escalate", "recall"]"#,
    parallel_sweepers_record_each_breach_once: r#"["notify"]"#,
    figures_for_a_period: r#"["notify"]"#,
    feedback_reopens_and_the_contractors_own_figures: r#"["notify"]"#,
    feedback_comes_with_zendesk_tickets: r#"["notify"]"#,
    the_attainment_floor_raises_and_clears_an_alert: r#"["notify"]"#,
);

/// The in-house feed's quality events: (type, metric).
async fn quality_events(app: &TestApp) -> Vec<(String, String)> {
    let feed = app
        .get("/api/v1/events?after=0&limit=500", &app.inhouse())
        .await;
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    feed.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| text(&e["type"]).starts_with("quality."))
        .map(|e| (text(&e["type"]), text(&e["data"]["metric"])))
        .collect()
}

/// Swift with floors for CSAT, NPS and first-contact resolution, judged on two answers.
fn swift_with_quality_floors() -> String {
    swift_contract(r#"["notify"]"#)
        + "\n[quality]\ncsat_floor_percent = 80\nnps_floor = 0\nfcr_floor_percent = 60\n\
           window = \"1d\"\nmin_answers = 2\n"
}

async fn quality_floors_alert_once_per_crossing(app: TestApp) {
    let sweeper = app.sweeper.clone();
    let check = || {
        let sweeper = sweeper.clone();
        async move {
            let statuses = tokio::task::spawn_blocking(move || sweeper.check_quality())
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .unwrap_or_else(|e| panic!("quality: {e}"));
            statuses
                .into_iter()
                .map(|s| (s.metric, s.below, s.alert_raised, s.alert_cleared))
                .collect::<Vec<_>>()
        }
    };
    let a = share_ticket(&app, "QF-A").await;
    let b = share_ticket(&app, "QF-B").await;
    for id in [a, b] {
        reply(&app, id).await;
        set_status(&app, id, "solved").await;
    }
    // One answer is not yet a trend.
    assert_eq!(
        rate(&app, a, json!({ "score": 2, "nps": 3 })).await.status,
        200
    );
    let fine = check().await;
    assert!(fine.iter().all(|s| !s.1), "{fine:?}");
    // Two unhappy customers: CSAT (0 % satisfied) and NPS (−100) cross their floors, once.
    assert_eq!(
        rate(&app, b, json!({ "score": 1, "nps": 2 })).await.status,
        200
    );
    assert_eq!(
        check().await,
        [
            ("csat", true, true, false),
            ("nps", true, true, false),
            ("first_contact_resolution", false, false, false),
        ]
    );
    assert!(check().await.iter().all(|s| !s.2 && !s.3), "announced once");
    assert_eq!(entries(&app, "quality.alert").len(), 2);
    assert_eq!(
        quality_events(&app).await,
        [
            ("quality.alert".to_owned(), "csat".to_owned()),
            ("quality.alert".to_owned(), "nps".to_owned()),
        ]
    );
    // A reopened ticket was not resolved at first contact: 1 of 2 is below 60 %.
    customer_writes(&app, a, "qf-a-2").await;
    reply(&app, a).await;
    set_status(&app, a, "solved").await;
    let after_reopen = check().await;
    assert_eq!(
        after_reopen[2],
        ("first_contact_resolution", true, true, false)
    );
    // Happier answers clear CSAT and NPS, once each.
    for id in [a, b] {
        assert_eq!(
            rate(&app, id, json!({ "score": 5, "nps": 10 }))
                .await
                .status,
            200
        );
    }
    assert_eq!(
        check().await,
        [
            ("csat", false, false, true),
            ("nps", false, false, true),
            ("first_contact_resolution", true, false, false),
        ]
    );
    assert!(check().await.iter().all(|s| !s.2 && !s.3));
    assert_eq!(entries(&app, "quality.restored").len(), 2);
    let restored = entries(&app, "quality.restored");
    assert!(
        restored[0].details.contains("\"value\":100.0"),
        "{}",
        restored[0].details
    );
    assert_eq!(quality_events(&app).await.len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quality_floors_alert_once_per_crossing_sqlite() {
    with_contract(
        Backend::Sqlite,
        &swift_with_quality_floors(),
        0,
        quality_floors_alert_once_per_crossing,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quality_floors_alert_once_per_crossing_postgres() {
    with_contract(
        Backend::Postgres,
        &swift_with_quality_floors(),
        0,
        quality_floors_alert_once_per_crossing,
    )
    .await;
}

async fn the_background_sweeper_runs_by_itself(app: TestApp) {
    share_ticket(&app, "W-1").await;
    app.clock.advance(Duration::hours(1) + Duration::seconds(1));
    // Poll for the job's work, with a generous deadline: the job is on real time.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while entries(&app, "sla.breach").is_empty() {
        assert!(std::time::Instant::now() < deadline, "no sweep happened");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(entries(&app, "sla.breach").len(), 1);
    assert_eq!(
        app.clock.now(),
        crate::helpers::start_time() + Duration::seconds(3601)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_sweeper_runs_by_itself_sqlite() {
    with_swift(
        Backend::Sqlite,
        r#"["notify"]"#,
        20,
        the_background_sweeper_runs_by_itself,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_sweeper_runs_by_itself_postgres() {
    with_swift(
        Backend::Postgres,
        r#"["notify"]"#,
        20,
        the_background_sweeper_runs_by_itself,
    )
    .await;
}
