//! The backlog drain: tickets kept in-house go out as soon as a contract can take them, highest
//! priority first, within the contract's caps, once across replicas (issue 15, point 2).

use msp_bridge::jobs::backlog_drain::DrainReport;
use serde_json::{Value, json};

use crate::helpers::{TestApp, ticket_en};
use crate::on_both_backends;

/// volga-ru alone (manual overflow, switched off), with room for `max_open` tickets.
fn volga_with_room(config: &mut msp_bridge::config::Config, max_open: u32) {
    let volga = std::fs::read_to_string(crate::helpers::test_contracts_dir().join("volga-ru.toml"))
        .unwrap_or_default()
        .replace("max_open = 100", &format!("max_open = {max_open}"));
    crate::helpers::use_contracts(config, &[("volga-ru.toml", &volga)]);
}

fn volga_two_places(config: &mut msp_bridge::config::Config) {
    volga_with_room(config, 2);
}

fn volga_many_places(config: &mut msp_bridge::config::Config) {
    volga_with_room(config, 100);
}

/// A Russian ticket of `priority`, pushed; its id, kept in-house.
async fn waiting(app: &TestApp, external_id: &str, priority: &str) -> i64 {
    let mut ticket = ticket_en(external_id);
    ticket["language"] = json!("ru");
    ticket["priority"] = json!(priority);
    let answer = app.ingest(&ticket).await;
    assert_eq!(
        answer.body["routing"]["outcome"], "kept",
        "{:?}",
        answer.body
    );
    answer.body["id"].as_i64().unwrap_or_default()
}

async fn switch_on(app: &TestApp) {
    let answer = app
        .post(
            "/api/v1/contracts/volga-ru/overflow",
            &app.admin(),
            &json!({ "on": true, "reason": "queue over 400" }),
        )
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
}

async fn the_backlog_goes_out_by_priority_when_overflow_is_switched_on(app: TestApp) {
    let low = waiting(&app, "D-low", "low").await;
    let high = waiting(&app, "D-high", "high").await;
    let normal = waiting(&app, "D-normal", "normal").await;
    // Switched off: nothing can take more, and the backlog is not even read.
    assert_eq!(app.drain().await, DrainReport::default());
    switch_on(&app).await;
    // Two places: the high and the normal ticket go, the low one waits.
    let first = app.drain().await;
    assert_eq!((first.shared, first.kept), (2, 0), "{first:?}");
    let share_of = |id: i64| {
        let app = &app;
        async move {
            let view = app
                .get(&format!("/api/v1/tickets/{id}"), &app.inhouse())
                .await;
            view.body["share"]["contract"].clone()
        }
    };
    assert_eq!(share_of(high).await, "volga-ru");
    assert_eq!(share_of(normal).await, "volga-ru");
    assert_eq!(share_of(low).await, Value::Null);
    let decided = app
        .get(&format!("/api/v1/tickets/{high}"), &app.inhouse())
        .await;
    assert_eq!(decided.body["routing"]["outcome"], "shared");
    // Full: nothing more to do until a place frees up.
    assert_eq!(app.drain().await, DrainReport::default());
    // The contractor solves one: its place goes to the low ticket.
    let solved = app
        .post(
            &format!("/api/v1/contractor/tickets/{high}/status"),
            &app.contractor("volga"),
            &json!({ "status": "solved" }),
        )
        .await;
    assert_eq!(solved.status, 200, "{:?}", solved.body);
    let second = app.drain().await;
    assert_eq!(second.shared, 1, "{second:?}");
    assert_eq!(share_of(low).await, "volga-ru");
    let shares = app
        .ledger()
        .into_iter()
        .filter(|e| e.action == "ticket.share" && e.actor == "system:drain")
        .count();
    assert_eq!(shares, 3);
}

async fn tickets_nobody_can_take_are_not_routed_again_and_again(app: TestApp) {
    // English: volga never takes it, however much room it has.
    let english = app.ingest(&ticket_en("D-en")).await;
    assert_eq!(english.body["routing"]["outcome"], "kept");
    switch_on(&app).await;
    let first = app.drain().await;
    assert_eq!((first.shared, first.kept), (0, 1), "{first:?}");
    let again = app.drain().await;
    assert_eq!((again.kept, again.skipped), (0, 1), "{again:?}");
}

async fn a_ticket_an_operator_took_back_is_left_in_house(app: TestApp) {
    let id = waiting(&app, "D-op", "normal").await;
    switch_on(&app).await;
    assert_eq!(app.drain().await.shared, 1);
    let recalled = app
        .post(
            &format!("/api/v1/tickets/{id}/recall"),
            &app.inhouse(),
            &json!({ "reason": "VIP: we answer this one ourselves" }),
        )
        .await;
    assert_eq!(recalled.status, 200, "{:?}", recalled.body);
    // Waiting in-house again, but for the operator: the drain does not touch it, nor does
    // the next push.
    let report = app.drain().await;
    assert_eq!(report, DrainReport::default(), "{report:?}");
    let mut pushed = ticket_en("D-op");
    pushed["language"] = json!("ru");
    let pushed = app.ingest(&pushed).await;
    assert_eq!(
        pushed.body["routing"]["reason"],
        "kept in-house: an operator took it back from volga under volga-ru to work it in-house",
        "{:?}",
        pushed.body
    );
    let view = app
        .get(&format!("/api/v1/tickets/{id}"), &app.inhouse())
        .await;
    assert_eq!(view.body["share"]["state"], "recalled");
    // It still counts in the in-house queue.
    let now = msp_bridge::clock::Clock::now(&app.clock);
    let depth = app
        .db
        .read(|c| {
            msp_bridge::tickets::queue_depth(c, now)
                .map_err(|e| msp_bridge::db::DbError::Task(e.to_string()))
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(depth, 1);
}

on_both_backends!(with volga_two_places: the_backlog_goes_out_by_priority_when_overflow_is_switched_on);
on_both_backends!(with volga_many_places: a_ticket_an_operator_took_back_is_left_in_house);
on_both_backends!(with volga_many_places: tickets_nobody_can_take_are_not_routed_again_and_again);

/// Two replicas drain one backlog at once on PostgreSQL: every ticket is shared exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_drain_one_backlog_once() {
    let Some(app) =
        crate::helpers::spawn_with(crate::helpers::Backend::Postgres, volga_many_places).await
    else {
        eprintln!("BRIDGE_TEST_POSTGRES_URL unset: PostgreSQL-only test not run");
        return;
    };
    for n in 0..30 {
        waiting(&app, &format!("D-{n}"), "normal").await;
    }
    switch_on(&app).await;
    let other = msp_bridge::jobs::BacklogDrain {
        kept: Default::default(),
        ..app.drainer.clone()
    };
    let (a, b) = tokio::join!(app.drain(), async {
        tokio::task::spawn_blocking(move || other.run_once())
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|e| panic!("{e}"))
    });
    assert_eq!(a.shared + b.shared, 30, "{a:?} {b:?}");
    assert_eq!(app.count("shares"), 30);
}
