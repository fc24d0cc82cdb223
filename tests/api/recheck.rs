//! A shared ticket is checked against its contract again whenever the in-house side changes
//! it: one that no longer fits is recalled at once and routed again (issue 15, point 1).

use serde_json::{Value, json};

use crate::helpers::{TestApp, ticket_en};
use crate::on_both_backends;

/// Pushes `external_id` (an English ticket acme takes); returns its id.
async fn shared_with_acme(app: &TestApp, external_id: &str) -> i64 {
    let first = app.ingest(&ticket_en(external_id)).await;
    assert_eq!(
        first.body["routing"]["contract"], "acme-en",
        "{:?}",
        first.body
    );
    first.body["id"].as_i64().unwrap_or_default()
}

/// Shares `external_id` with acme (English, low to high priority, no `vip` tag), then pushes
/// it again changed by `change`; returns the ticket id and the second answer's routing.
async fn shared_then_changed(
    app: &TestApp,
    external_id: &str,
    change: impl Fn(&mut Value),
) -> (i64, Value) {
    let id = shared_with_acme(app, external_id).await;
    let mut changed = ticket_en(external_id);
    change(&mut changed);
    let second = app.ingest(&changed).await;
    assert_eq!(second.status, 200, "{:?}", second.body);
    (id, second.body["routing"].clone())
}

/// How a case changes the ticket.
type Change = fn(&mut Value);

async fn a_ticket_that_no_longer_fits_is_recalled_and_routed_again(app: TestApp) {
    let cases: [(&str, Change, &str); 4] = [
        (
            "RC-urgent",
            |t| t["priority"] = json!("urgent"),
            "priority urgent is not in scope",
        ),
        (
            "RC-vip",
            |t| t["tags"] = json!(["refund", "vip"]),
            "tag vip is excluded",
        ),
        (
            "RC-finance",
            |t| t["category"] = json!("finance"),
            "category finance is regulated and the contract does not name it",
        ),
        (
            "RC-german",
            |t| t["language"] = json!("de"),
            "language de is not in scope",
        ),
    ];
    for (external_id, change, why) in cases {
        let (id, routing) = shared_then_changed(&app, external_id, change).await;
        // No Russian contract takes an English ticket: it stays in-house, and says why.
        assert_eq!(routing["outcome"], "kept", "{external_id}: {routing}");
        let reason = routing["reason"].as_str().unwrap_or_default();
        assert!(
            reason.starts_with(&format!(
                "recalled from acme under acme-en: {why}; kept in-house"
            )),
            "{external_id}: {reason}"
        );
        // The contractor lost access at once.
        let view = app.contractor_view("acme", id).await;
        assert_eq!(view.status, 404, "{external_id}");
        let inhouse = app
            .get(&format!("/api/v1/tickets/{id}"), &app.inhouse())
            .await;
        assert_eq!(inhouse.body["share"]["state"], "recalled", "{external_id}");
        // It is told with a code only; the in-house side gets the reason.
        let told: Vec<Value> = app
            .contractor_events("acme-en")
            .into_iter()
            .filter(|e| e["ticket"] == id && e["type"] == "share.recalled")
            .collect();
        assert_eq!(told.len(), 1, "{external_id}: {told:?}");
        assert_eq!(told[0]["data"]["reason_code"], "out_of_scope");
        assert!(told[0]["data"].get("reason").is_none(), "{:?}", told[0]);
    }
    let recalls: Vec<_> = app
        .ledger()
        .into_iter()
        .filter(|e| e.action == "share.recall")
        .collect();
    assert_eq!(recalls.len(), 4);
    assert!(
        recalls
            .iter()
            .all(|e| e.details.contains("\"cause\":\"out_of_scope\""))
    );
}

async fn a_ticket_that_still_fits_stays_with_its_contractor(app: TestApp) {
    let (id, routing) =
        shared_then_changed(&app, "RC-high", |t| t["priority"] = json!("high")).await;
    assert_eq!(routing["outcome"], "already_shared", "{routing}");
    let view = app.contractor_view("acme", id).await;
    assert_eq!((view.status, &view.body["priority"]), (200, &json!("high")));
    assert!(app.ledger().iter().all(|e| e.action != "share.recall"));
}

/// acme-en, and beta-en: the same terms for another agency, ranked after it, taking `vip`.
fn two_agencies(config: &mut msp_bridge::config::Config) {
    agencies(config, "");
}

/// [`two_agencies`], with acme's hand-backs kept in-house.
fn two_agencies_no_reroute(config: &mut msp_bridge::config::Config) {
    agencies(config, "reroute_on_handback = false\n");
}

fn agencies(config: &mut msp_bridge::config::Config, acme_overflow: &str) {
    let acme = std::fs::read_to_string(crate::helpers::test_contracts_dir().join("acme-en.toml"))
        .unwrap_or_default()
        .replace("rank = 10\n", &format!("rank = 10\n{acme_overflow}"));
    let beta = acme
        .replace(r#"id = "acme-en""#, r#"id = "beta-en""#)
        .replace(r#"contractor = "acme""#, r#"contractor = "beta""#)
        .replace(r#"exclude_tags = ["vip"]"#, "")
        .replace("reroute_on_handback = false\n", "")
        .replace("rank = 10", "rank = 20");
    crate::helpers::use_contracts(config, &[("acme-en.toml", &acme), ("beta-en.toml", &beta)]);
}

async fn a_ticket_recalled_from_one_contract_goes_to_the_next_that_fits(app: TestApp) {
    let (id, routing) =
        shared_then_changed(&app, "RC-next", |t| t["tags"] = json!(["refund", "vip"])).await;
    assert_eq!(
        (&routing["outcome"], &routing["contract"]),
        (&json!("shared"), &json!("beta-en")),
        "{routing}"
    );
    let reason = routing["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with(
            "recalled from acme under acme-en: tag vip is excluded; shared with beta under beta-en"
        ),
        "{reason}"
    );
    // Never back to the one it left, whatever else it could take.
    let acme = routing["considered"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["contract"] == "acme-en")
        .cloned()
        .unwrap_or_default();
    assert_eq!(acme["eligible"], false, "{routing}");
    let beta = app.contractor_view("beta", id).await;
    assert_eq!(beta.status, 200, "{:?}", beta.body);
    let gone = app.contractor_view("acme", id).await;
    assert_eq!(gone.status, 404);
}

/// acme hands `external_id` back; returns the ticket id and acme's answer.
async fn handed_back(app: &TestApp, external_id: &str) -> (i64, Value) {
    let id = shared_with_acme(app, external_id).await;
    let answer = app
        .post(
            &format!("/api/v1/contractor/tickets/{id}/handback"),
            &app.contractor("acme"),
            &json!({ "reason": "needs the billing system" }),
        )
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    (id, answer.body)
}

async fn a_handed_back_ticket_goes_to_the_next_contract(app: TestApp) {
    let (id, answer) = handed_back(&app, "HB-1").await;
    // acme is not told where it went.
    assert!(!answer.to_string().contains("beta"), "{answer}");
    let beta = app.contractor_view("beta", id).await;
    assert_eq!(beta.status, 200, "{:?}", beta.body);
    let inhouse = app
        .get(&format!("/api/v1/tickets/{id}"), &app.inhouse())
        .await;
    assert_eq!(
        inhouse.body["routing"]["contract"], "beta-en",
        "{:?}",
        inhouse.body["routing"]
    );
    assert_eq!(inhouse.body["share"]["contract"], "beta-en");
    let acme = inhouse.body["routing"]["considered"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["contract"] == "acme-en")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        acme["eligible"], false,
        "never back to the one that gave it up"
    );
}

async fn a_contract_can_keep_its_hand_backs_in_house(app: TestApp) {
    let (id, _) = handed_back(&app, "HB-2").await;
    let beta = app.contractor_view("beta", id).await;
    assert_eq!(beta.status, 404);
    let inhouse = app
        .get(&format!("/api/v1/tickets/{id}"), &app.inhouse())
        .await;
    assert_eq!(inhouse.body["share"]["state"], "handed_back");
    assert_eq!(inhouse.body["share"]["contract"], "acme-en");
    // It stays with the in-house team: neither the next push nor the drain sends it out.
    let pushed = app.ingest(&ticket_en("HB-2")).await;
    assert_eq!(
        pushed.body["routing"]["outcome"], "kept",
        "{:?}",
        pushed.body
    );
    assert_eq!(
        pushed.body["routing"]["reason"],
        "kept in-house: acme handed it back under acme-en, which keeps hand-backs in-house"
    );
    assert_eq!(app.drain().await.shared, 0);
    assert_eq!(app.contractor_view("beta", id).await.status, 404);
}

on_both_backends!(with two_agencies: a_ticket_recalled_from_one_contract_goes_to_the_next_that_fits);
on_both_backends!(with two_agencies: a_handed_back_ticket_goes_to_the_next_contract);
on_both_backends!(with two_agencies_no_reroute: a_contract_can_keep_its_hand_backs_in_house);

/// acme-en with a `high` target: first response 30 minutes, resolution 4 hours.
fn acme_with_high_targets(config: &mut msp_bridge::config::Config) {
    let acme = std::fs::read_to_string(crate::helpers::test_contracts_dir().join("acme-en.toml"))
        .unwrap_or_default()
        .replace(
            "[confidentiality]",
            "[[sla.targets]]\npriority = \"high\"\nfirst_response = \"30m\"\nresolution = \"4h\"\n\n[confidentiality]",
        );
    crate::helpers::use_contracts(config, &[("acme-en.toml", &acme)]);
}

/// The due times of the share's clocks, as the contractor sees them.
async fn due_times(app: &TestApp, id: i64) -> Vec<(String, String)> {
    let view = app.contractor_view("acme", id).await;
    view.body["sla"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            (text(&c["kind"]), text(&c["due_at"]))
        })
        .collect()
}

async fn a_new_priority_moves_running_clocks_keeping_what_they_ran(app: TestApp) {
    use chrono::Duration;
    let first = app.ingest(&ticket_en("RT-1")).await;
    assert_eq!(first.body["routing"]["contract"], "acme-en");
    let id = first.body["id"].as_i64().unwrap_or_default();
    let pair = |kind: &str, due: &str| (kind.to_owned(), due.to_owned());
    assert_eq!(
        due_times(&app, id).await,
        [
            pair("first_response", "2026-06-01T12:00:00Z"),
            pair("resolution", "2026-06-02T10:00:00Z")
        ]
    );
    // 20 minutes in, raised to high: 30 min and 4 h targets, 20 minutes already run.
    app.clock.advance(Duration::minutes(20));
    let mut high = ticket_en("RT-1");
    high["priority"] = json!("high");
    let answer = app.ingest(&high).await;
    assert_eq!(
        answer.body["routing"]["outcome"], "already_shared",
        "{:?}",
        answer.body
    );
    assert_eq!(
        due_times(&app, id).await,
        [
            pair("first_response", "2026-06-01T10:30:00Z"),
            pair("resolution", "2026-06-01T14:00:00Z")
        ]
    );
    // The same push again moves nothing.
    assert_eq!(app.ingest(&high).await.status, 200);
    // Back to normal five minutes later: 25 minutes run, 2 h and 1 d targets again.
    app.clock.advance(Duration::minutes(5));
    assert_eq!(app.ingest(&ticket_en("RT-1")).await.status, 200);
    assert_eq!(
        due_times(&app, id).await,
        [
            pair("first_response", "2026-06-01T12:00:00Z"),
            pair("resolution", "2026-06-02T10:00:00Z")
        ]
    );
    // Recorded, and both sides told, once per clock per change.
    let moves: Vec<_> = app
        .ledger()
        .into_iter()
        .filter(|e| e.action == "sla.retarget")
        .collect();
    assert_eq!(moves.len(), 4, "{moves:?}");
    assert!(
        moves[0].details.contains("\"from_seconds\":7200"),
        "{}",
        moves[0].details
    );
    assert!(
        moves[0].details.contains("\"target_seconds\":1800"),
        "{}",
        moves[0].details
    );
    let told: Vec<Value> = app
        .contractor_events("acme-en")
        .into_iter()
        .filter(|e| e["type"] == "sla.retargeted")
        .collect();
    assert_eq!(told.len(), 4);
    assert_eq!(told[0]["data"]["due_at"], "2026-06-01T10:30:00Z");
    let inhouse = app.get("/api/v1/events", &app.inhouse()).await;
    let inhouse_told = inhouse.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["type"] == "sla.retargeted")
        .count();
    assert_eq!(inhouse_told, 4);
}

on_both_backends!(with acme_with_high_targets: a_new_priority_moves_running_clocks_keeping_what_they_ran);

on_both_backends!(
    a_ticket_that_no_longer_fits_is_recalled_and_routed_again,
    a_ticket_that_still_fits_stays_with_its_contractor,
);

async fn the_work_list_shows_priority_and_the_next_due_time(app: TestApp) {
    let acme = app.contractor("acme");
    let mut ids = Vec::new();
    for (external_id, priority) in [("WL-a", "normal"), ("WL-b", "high"), ("WL-c", "normal")] {
        let mut ticket = ticket_en(external_id);
        ticket["priority"] = json!(priority);
        let answer = app.ingest(&ticket).await;
        assert_eq!(
            answer.body["routing"]["contract"], "acme-en",
            "{:?}",
            answer.body
        );
        ids.push(answer.body["id"].as_i64().unwrap_or_default());
    }
    // The third waits for the customer: its clocks pause.
    let pending = app
        .post(
            &format!("/api/v1/contractor/tickets/{}/status", ids[2]),
            &acme,
            &json!({ "status": "pending" }),
        )
        .await;
    assert_eq!(pending.status, 200, "{:?}", pending.body);
    let newest = app.get("/api/v1/contractor/tickets", &acme).await;
    crate::helpers::assert_documented("get", "/api/v1/contractor/tickets", &newest);
    let order = |body: &Value| -> Vec<i64> {
        body["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["id"].as_i64())
            .collect()
    };
    assert_eq!(order(&newest.body), [ids[2], ids[1], ids[0]]);
    let by_due = app.get("/api/v1/contractor/tickets?sort=due", &acme).await;
    assert_eq!(by_due.status, 200, "{:?}", by_due.body);
    assert_eq!(order(&by_due.body)[0], ids[1], "{:?}", by_due.body);
    let first = &by_due.body["items"][0];
    assert_eq!(first["priority"], "high");
    assert_eq!(
        first["next_due"],
        json!({ "clock": "first_response", "due_at": "2026-06-01T10:30:00Z", "state": "running" })
    );
    let paused = app
        .get("/api/v1/contractor/tickets?state=pending", &acme)
        .await;
    assert_eq!(order(&paused.body), [ids[2]]);
    assert_eq!(paused.body["items"][0]["next_due"]["state"], "paused");
    // Refused plainly: a state a contractor never sees, and paging the due-time order.
    let hidden = app
        .get("/api/v1/contractor/tickets?state=recalled", &acme)
        .await;
    assert_eq!(
        (hidden.status, &hidden.body["field"]),
        (400, &json!("state"))
    );
    let paged = app
        .get(
            &format!("/api/v1/contractor/tickets?sort=due&before={}", ids[2]),
            &acme,
        )
        .await;
    assert_eq!(
        (paged.status, &paged.body["field"]),
        (400, &json!("before"))
    );
}

on_both_backends!(with acme_with_high_targets: the_work_list_shows_priority_and_the_next_due_time);

/// Rows of the tables a push writes to.
fn written(app: &TestApp) -> Vec<i64> {
    [
        "tickets",
        "comments",
        "shares",
        "outbox_events",
        "audit_log",
        "vault_tokens",
    ]
    .iter()
    .map(|t| app.count(t))
    .collect()
}

async fn a_re_push_that_changes_nothing_writes_nothing(app: TestApp) {
    let first = app.ingest(&ticket_en("FP-1")).await;
    assert_eq!(
        first.body["routing"]["outcome"], "shared",
        "{:?}",
        first.body
    );
    let id = first.body["id"].as_i64().unwrap_or_default();
    let before = written(&app);
    // The helpdesk sends the same ticket again, comments and all.
    let again = app.ingest(&ticket_en("FP-1")).await;
    assert_eq!(again.status, 200, "{:?}", again.body);
    assert_eq!(
        again.body["routing"], first.body["routing"],
        "answered from what is stored"
    );
    assert_eq!(again.body["comments_added"], 0);
    assert_eq!(written(&app), before);
    // A change is routed as ever.
    let mut changed = ticket_en("FP-1");
    changed["subject"] = json!("Refund for order 7781, second request");
    let routed = app.ingest(&changed).await;
    assert_eq!(routed.body["routing"]["outcome"], "already_shared");
    // Once the share changes, the next push routes again, even an unchanged one.
    let pending = app
        .post(
            &format!("/api/v1/contractor/tickets/{id}/status"),
            &app.contractor("acme"),
            &json!({ "status": "pending" }),
        )
        .await;
    assert_eq!(pending.status, 200, "{:?}", pending.body);
    app.clock.advance(chrono::Duration::minutes(1));
    let after_share_change = app.ingest(&changed).await;
    assert_ne!(
        after_share_change.body["routing"]["decided_at"],
        routed.body["routing"]["decided_at"]
    );
    app.clock.advance(chrono::Duration::minutes(1));
    let unchanged = app.ingest(&changed).await;
    assert_eq!(
        unchanged.body["routing"]["decided_at"],
        after_share_change.body["routing"]["decided_at"]
    );
}

on_both_backends!(a_re_push_that_changes_nothing_writes_nothing);
