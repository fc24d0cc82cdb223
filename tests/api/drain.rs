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

/// `GET /api/v1/routing/backlog`, checked against the served document.
async fn backlog_preview(app: &TestApp) -> Value {
    let answer = app.get("/api/v1/routing/backlog", &app.inhouse()).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    crate::helpers::assert_documented("get", "/api/v1/routing/backlog", &answer);
    answer.body
}

async fn the_backlog_goes_out_by_priority_when_overflow_is_switched_on(app: TestApp) {
    let low = waiting(&app, "D-low", "low").await;
    let high = waiting(&app, "D-high", "high").await;
    let normal = waiting(&app, "D-normal", "normal").await;
    // Switched off: nothing can take more, and the backlog is not even read.
    assert_eq!(app.drain().await, DrainReport::default());
    let before = backlog_preview(&app).await;
    assert_eq!(before["waiting"], 3, "{before}");
    assert_eq!(before["contracts"][0]["can_take_more"], false, "{before}");
    assert_eq!(before["next_drain"], json!([]), "{before}");
    switch_on(&app).await;
    // The preview says what the next pass will do, and does none of it.
    let preview = backlog_preview(&app).await;
    let steps: Vec<(Value, Value)> = preview["next_drain"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| (s["ticket"].clone(), s["verdict"].clone()))
        .collect();
    let shared = json!("would be shared by the next drain");
    assert_eq!(
        steps,
        [(json!(high), shared.clone()), (json!(normal), shared)],
        "{preview}"
    );
    assert_eq!(preview["next_drain"][0]["decision"]["contract"], "volga-ru");
    assert_eq!(app.count("shares"), 0);
    let bad = app
        .get("/api/v1/routing/backlog?limit=0", &app.inhouse())
        .await;
    assert_eq!((bad.status, &bad.body["field"]), (400, &json!("limit")));
    let contractor = app
        .get("/api/v1/routing/backlog", &app.contractor("volga"))
        .await;
    assert_eq!(contractor.status, 403);
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
    // The decision is audited once, with each contract's verdict.
    let kept: Vec<Value> = app
        .ledger()
        .into_iter()
        .filter(|e| e.action == "ticket.kept" && e.actor == "system:drain")
        .filter_map(|e| serde_json::from_str(&e.details).ok())
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(
        kept[0]["reason"],
        "kept in-house: no contract could take it"
    );
    assert_eq!(kept[0]["considered"][0]["contract"], "volga-ru");
    assert_eq!(
        kept[0]["considered"][0]["reason"],
        "language en is not in scope"
    );
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

/// volga-ru with one place, answering a normal chat within 10 minutes and a normal e-mail
/// within 4 hours.
fn volga_one_place_fast_chats(config: &mut msp_bridge::config::Config) {
    let volga = std::fs::read_to_string(crate::helpers::test_contracts_dir().join("volga-ru.toml"))
        .unwrap_or_default()
        .replace("max_open = 100", "max_open = 1")
        .replace(
            "[confidentiality]",
            "[[sla.targets]]\npriority = \"normal\"\nchannel = \"chat\"\nfirst_response = \"10m\"\nresolution = \"1d\"\n\n[confidentiality]",
        );
    crate::helpers::use_contracts(config, &[("volga-ru.toml", &volga)]);
}

async fn within_a_priority_the_ticket_nearest_its_first_response_goes_first(app: TestApp) {
    let email = waiting(&app, "D-email", "normal").await;
    app.clock.advance(chrono::Duration::minutes(30));
    let mut chat = ticket_en("D-chat");
    chat["language"] = json!("ru");
    chat["channel"] = json!("chat");
    let chat = app.ingest(&chat).await;
    assert_eq!(chat.body["routing"]["outcome"], "kept", "{:?}", chat.body);
    let chat = chat.body["id"].as_i64().unwrap_or_default();
    // The chat is younger, but due in 10 minutes; the e-mail has hours left.
    switch_on(&app).await;
    let report = app.drain().await;
    assert_eq!(report.shared, 1, "{report:?}");
    assert_eq!(app.routing(chat).await["outcome"], "shared");
    assert_eq!(app.routing(email).await["outcome"], "kept");
}

on_both_backends!(with volga_two_places: the_backlog_goes_out_by_priority_when_overflow_is_switched_on);
on_both_backends!(with volga_one_place_fast_chats: within_a_priority_the_ticket_nearest_its_first_response_goes_first);
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

/// volga-ru with one place, and the drain job running on an interval no test waits for.
fn volga_with_a_drain_job(config: &mut msp_bridge::config::Config) {
    volga_with_room(config, 1);
    config.drain_poll_ms = 3_600_000;
}

/// The drain passes run so far, from `/metrics`.
async fn passes(app: &TestApp) -> u64 {
    let metrics = app.send(reqwest::Method::GET, "/metrics", None, None).await;
    metrics
        .body
        .as_str()
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("bridge_drain_passes_total "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_default()
}

/// Waits (a few seconds at most) until the drain job has run `n` passes in all.
async fn passes_run(app: &TestApp, n: u64) {
    for _ in 0..500 {
        if passes(app).await >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the drain job ran {} passes, not {n}", passes(app).await);
}

async fn a_freed_place_wakes_the_drain_at_once(app: TestApp) {
    // The pass the job runs when it starts.
    passes_run(&app, 1).await;
    let first = waiting(&app, "D-wake-1", "normal").await;
    // The switch wakes it: the ticket goes out without waiting for the hourly pass.
    switch_on(&app).await;
    passes_run(&app, 2).await;
    assert_eq!(app.routing(first).await["contract"], "volga-ru");
    // The only place is taken: the next ticket waits, and no pass is due for an hour.
    let second = waiting(&app, "D-wake-2", "normal").await;
    let solved = app
        .post(
            &format!("/api/v1/contractor/tickets/{first}/status"),
            &app.contractor("volga"),
            &json!({ "status": "solved" }),
        )
        .await;
    assert_eq!(solved.status, 200, "{:?}", solved.body);
    // The freed place wakes it again.
    passes_run(&app, 3).await;
    assert_eq!(app.routing(second).await["contract"], "volga-ru");
    let metrics = app.send(reqwest::Method::GET, "/metrics", None, None).await;
    let text = metrics.body.as_str().unwrap_or_default();
    assert!(
        text.contains(r#"bridge_tickets_shared_total{contract="volga-ru"} 2"#),
        "{text}"
    );
}

on_both_backends!(with volga_with_a_drain_job: a_freed_place_wakes_the_drain_at_once);

/// volga-ru with room, at most two new tickets an hour, its switch left off.
fn volga_hourly_cap(config: &mut msp_bridge::config::Config) {
    let volga = std::fs::read_to_string(crate::helpers::test_contracts_dir().join("volga-ru.toml"))
        .unwrap_or_default()
        .replace("max_open = 100", "max_open = 100\nmax_new_per_hour = 2");
    crate::helpers::use_contracts(config, &[("volga-ru.toml", &volga)]);
}

async fn a_peak_window_opening_drains_within_the_hourly_cap(app: TestApp) {
    for n in 0..3 {
        waiting(&app, &format!("D-peak-{n}"), "normal").await;
    }
    assert_eq!(app.drain().await.shared, 0);
    // Friday 27 November, 12:00 in Moscow: inside the Black Friday window, open hours.
    app.clock.set(
        chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 27, 9, 0, 0)
            .single()
            .unwrap_or_default(),
    );
    let first = app.drain().await;
    assert_eq!(first.shared, 2, "two an hour: {first:?}");
    assert_eq!(app.drain().await.shared, 0);
    app.clock.advance(chrono::Duration::minutes(61));
    assert_eq!(app.drain().await.shared, 1);
}

/// volga-ru on the queue threshold (above 2 waiting), taking half of the tickets.
fn volga_threshold_half(config: &mut msp_bridge::config::Config) {
    let volga = std::fs::read_to_string(crate::helpers::test_contracts_dir().join("volga-ru.toml"))
        .unwrap_or_default()
        .replace(
            r#"mode = "manual""#,
            "mode = \"threshold\"\nqueue_depth_above = 2\nshare_percent = 50",
        );
    crate::helpers::use_contracts(config, &[("volga-ru.toml", &volga)]);
}

/// An external id whose `share_percent` bucket is below 50 (`inside`) or not.
fn external_id(inside: bool) -> String {
    (0..)
        .map(|n| format!("D-half-{n}"))
        .find(|id| (msp_bridge::routing::share_bucket(&format!("zendesk/{id}")) < 50) == inside)
        .unwrap_or_default()
}

async fn the_queue_crossing_its_threshold_drains_the_share_percent(app: TestApp) {
    let inside = waiting(&app, &external_id(true), "normal").await;
    let outside = waiting(&app, &external_id(false), "normal").await;
    // Two waiting: not above the threshold.
    assert_eq!(app.drain().await.shared, 0);
    let reported = app
        .send(
            reqwest::Method::PUT,
            "/api/v1/queue",
            Some(&app.inhouse()),
            Some(&json!({ "depth": 40 })),
        )
        .await;
    assert_eq!(reported.status, 200, "{:?}", reported.body);
    let report = app.drain().await;
    assert_eq!((report.shared, report.kept), (1, 1), "{report:?}");
    assert_eq!(app.routing(inside).await["contract"], "volga-ru");
    let kept = app.routing(outside).await;
    assert!(
        kept["considered"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("outside the contract's 50 % share")),
        "{kept}"
    );
}

fn volga_one_place_switched_on(config: &mut msp_bridge::config::Config) {
    let volga = std::fs::read_to_string(crate::helpers::test_contracts_dir().join("volga-ru.toml"))
        .unwrap_or_default()
        .replace("max_open = 100", "max_open = 1")
        .replace(r#"mode = "manual""#, r#"mode = "always""#);
    crate::helpers::use_contracts(config, &[("volga-ru.toml", &volga)]);
}

async fn a_new_contract_version_drains_what_the_old_one_could_not_take(app: TestApp) {
    let mut first = ticket_en("D-v1");
    first["language"] = json!("ru");
    assert_eq!(
        app.ingest(&first).await.body["routing"]["outcome"],
        "shared"
    );
    let second = waiting(&app, "D-v2", "normal").await;
    assert_eq!(app.drain().await.shared, 0, "full");
    // The contract is applied again with more places, as a deploy would.
    let file = app.config().contracts_dir.join("volga-ru.toml");
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    std::fs::write(&file, text.replace("max_open = 1", "max_open = 5"))
        .unwrap_or_else(|e| panic!("{e}"));
    let app = app.restarted().await;
    assert_eq!(app.drain().await.shared, 1);
    assert_eq!(app.routing(second).await["contract"], "volga-ru");
}

on_both_backends!(with volga_hourly_cap: a_peak_window_opening_drains_within_the_hourly_cap);
on_both_backends!(with volga_threshold_half: the_queue_crossing_its_threshold_drains_the_share_percent);
on_both_backends!(with volga_one_place_switched_on: a_new_contract_version_drains_what_the_old_one_could_not_take);

fn volga_always_on(config: &mut msp_bridge::config::Config) {
    let volga = std::fs::read_to_string(crate::helpers::test_contracts_dir().join("volga-ru.toml"))
        .unwrap_or_default()
        .replace(r#"mode = "manual""#, r#"mode = "always""#);
    crate::helpers::use_contracts(config, &[("volga-ru.toml", &volga)]);
}

async fn a_chat_outside_hours_waits_for_the_opening(app: TestApp) {
    // Monday 1 June, 23:00 in Moscow: volga works 09:00–18:00.
    app.clock.set(
        chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 6, 1, 20, 0, 0)
            .single()
            .unwrap_or_default(),
    );
    let mut chat = ticket_en("D-night-chat");
    chat["language"] = json!("ru");
    chat["channel"] = json!("chat");
    let pushed = app.ingest(&chat).await;
    assert_eq!(
        pushed.body["routing"]["considered"][0]["reason"],
        "closed until 09:00 MSK (a chat is not sent to a closed agency)",
        "{:?}",
        pushed.body
    );
    let chat = pushed.body["id"].as_i64().unwrap_or_default();
    // An e-mail can wait for the morning at the agency.
    let mut email = ticket_en("D-night-email");
    email["language"] = json!("ru");
    let email = app.ingest(&email).await;
    assert_eq!(
        email.body["routing"]["outcome"], "shared",
        "{:?}",
        email.body
    );
    // The night's passes keep the chat; the first one after opening sends it.
    assert_eq!(app.drain().await.shared, 0);
    assert_eq!(app.drain().await.shared, 0);
    app.clock.advance(chrono::Duration::hours(10));
    assert_eq!(app.drain().await.shared, 1);
    assert_eq!(app.routing(chat).await["contract"], "volga-ru");
}

on_both_backends!(with volga_always_on: a_chat_outside_hours_waits_for_the_opening);
