//! A data subject's rights across contractors: who got the person's data (found by e-mail,
//! by phone in another spelling, by name in another case form; nothing for a stranger), and
//! its erasure everywhere — vault values destroyed, in-house copies redacted, one notice per
//! contractor, acknowledgements tracked, an overdue one escalated on the test's clock.

use base64::Engine as _;
use chrono::Duration;
use msp_bridge::auth::Role;
use msp_bridge::clock::Clock;
use msp_bridge::config::Config;
use serde_json::{Value, json};

use crate::helpers::{TestApp, use_contracts};
use crate::on_both_backends;

/// A Russian contract taking every ticket of one category, tokenising the requester and the
/// personal data in text.
fn contract(id: &str, contractor: &str, category: &str, ack_days: u32) -> String {
    format!(
        r#"id = "{id}"
contractor = "{contractor}"
display_name = "{contractor}"
valid_from = "2026-01-01"
timezone = "Europe/Moscow"

[scope]
channels = ["email", "chat"]
priorities = ["low", "normal", "high"]
categories = ["{category}"]

[overflow]
mode = "always"
max_open = 50

[sla]
[sla.calendar]
always_open = true
[[sla.targets]]
priority = "normal"
first_response = "1h"
resolution = "1d"

[confidentiality]
comments = "all"
rehydrate_replies = true
retention_days = 30

[confidentiality.fields]
subject = "redact"
description = "redact"
comments = "redact"
"requester.name" = "tokenize"
"requester.email" = "tokenize"
"requester.phone" = "tokenize"

[confidentiality.entities]
email = "tokenize"
phone = "tokenize"
person = "tokenize"

[processing]
purposes = ["customer support on the company's behalf"]
legal_basis = "contract"
data_categories = ["contact details"]
subject_categories = ["customers"]
actions = ["read", "reply", "store"]
safeguards = ["tokenisation per contract"]
location = "RU"
contact = "dpo@{contractor}.example"
retention_days = 30
erasure_ack_days = {ack_days}

[reporting]
schedule = "@monthly"
formats = ["json"]
locale = "ru"
"#
    )
}

fn two_contractors(config: &mut Config) {
    use_contracts(
        config,
        &[
            ("north.toml", &contract("north-ru", "north", "billing", 3)),
            ("south.toml", &contract("south-ru", "south", "delivery", 10)),
        ],
    );
}

fn ticket(external_id: &str, category: &str, requester: Value, description: &str) -> Value {
    json!({
        "source": "zendesk",
        "external_id": external_id,
        "subject": "Вопрос по заказу",
        "description": description,
        "requester": requester,
        "channel": "email",
        "priority": "normal",
        "category": category,
        "language": "ru",
        "tags": [],
        "custom_fields": {},
        "status": "open",
        "comments": [
            { "external_id": "c1", "author": "Клиент", "body": "Жду ответа, спасибо.", "public": true }
        ]
    })
}

async fn pushed(app: &TestApp, ticket: &Value) -> i64 {
    let answer = app.ingest(ticket).await;
    assert_eq!(
        answer.body["routing"]["outcome"], "shared",
        "{:?}",
        answer.body
    );
    answer.body["id"].as_i64().unwrap_or_default()
}

async fn disclosures(app: &TestApp, query: &str) -> crate::helpers::Answer {
    app.get(
        &format!("/api/v1/subjects/disclosures?{query}"),
        &app.token(Role::Compliance, None),
    )
    .await
}

/// The in-house copy of ticket `id` as JSON text, for looking for what was struck or kept.
async fn inhouse_copy(app: &TestApp, id: i64) -> String {
    app.get(&format!("/api/v1/tickets/{id}"), &app.inhouse())
        .await
        .body
        .to_string()
}

fn found_tickets(answer: &crate::helpers::Answer) -> Vec<i64> {
    answer.body["tickets"]
        .as_array()
        .map(|t| t.iter().filter_map(|t| t["id"].as_i64()).collect())
        .unwrap_or_default()
}

fn erase_requests(app: &TestApp, contract: &str) -> Vec<Value> {
    app.contractor_events(contract)
        .into_iter()
        .filter(|e| e["type"] == "subject.erase_requested")
        .collect()
}

async fn a_persons_data_is_found_across_contractors_and_erased_everywhere(app: TestApp) {
    let maria = json!({ "name": "Мария Иванова", "email": "Maria.Ivanova@mail.ru", "phone": "+7 (912) 345-67-89" });
    let mut first = ticket(
        "S-1",
        "billing",
        maria.clone(),
        "Здравствуйте, я Мария Иванова, мой телефон +7 912 345-67-89, почта maria.ivanova@mail.ru.",
    );
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    first["attachments"] = json!([
        { "external_id": "f-1", "file_name": "заметки.txt", "media_type": "text/plain; charset=utf-8",
          "content": b64("Клиентка Мария Иванова, maria.ivanova@mail.ru, +7 912 345-67-89\n".as_bytes()) },
        { "external_id": "f-2", "file_name": "scan.png", "media_type": "image/png", "content": b64(b"\x89PNG\r\n\x1a\n") },
    ]);
    let north_ticket = pushed(&app, &first).await;
    let south_ticket = pushed(
        &app,
        &ticket(
            "S-2",
            "delivery",
            json!({ "name": "Иванова Мария", "email": "maria.ivanova@mail.ru", "phone": "89123456789" }),
            "Доставка не пришла. Позвоните Марии Ивановой: 8 912 345 67 89.",
        ),
    )
    .await;
    let stranger_ticket = pushed(
        &app,
        &ticket(
            "S-3",
            "billing",
            json!({ "name": "Ольга Петрова", "email": "olga@example.org", "phone": "+7 903 111-22-33" }),
            "Верните деньги за заказ.",
        ),
    )
    .await;
    // The contractor reads the ticket and answers with the token it sees for the address.
    let seen = app.contractor_view("north", north_ticket).await;
    assert_eq!(seen.status, 200, "{:?}", seen.body);
    let email_token = seen.body["requester"]["email"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(email_token.starts_with("[EMAIL_"), "{:?}", seen.body);
    let reply = |body: String| {
        let app = &app;
        async move {
            app.post(
                &format!("/api/v1/contractor/tickets/{north_ticket}/replies"),
                &app.contractor("north"),
                &json!({ "body": body, "public": true }),
            )
            .await
        }
    };
    let sent = reply(format!("Ответ отправлен на {email_token}")).await;
    assert_eq!(sent.status, 201, "{:?}", sent.body);
    let home = inhouse_copy(&app, north_ticket).await;
    assert!(
        home.contains("Ответ отправлен на Maria.Ivanova@mail.ru")
            || home.contains("Ответ отправлен на maria.ivanova@mail.ru"),
        "re-hydrated before the erasure: {home}"
    );

    // Found by e-mail (another case), by phone in another spelling, by name in another case
    // form; the same two tickets under two contracts each time.
    for query in [
        "email=MARIA.IVANOVA%40mail.ru",
        "phone=8%20(912)%20345%2067%2089",
        "name=%D0%9C%D0%B0%D1%80%D0%B8%D0%B8%20%D0%98%D0%B2%D0%B0%D0%BD%D0%BE%D0%B2%D0%BE%D0%B9",
    ] {
        let found = disclosures(&app, query).await;
        assert_eq!(found.status, 200, "{query}: {:?}", found.body);
        assert_eq!(
            found_tickets(&found),
            vec![north_ticket, south_ticket],
            "{query}: {:?}",
            found.body
        );
        assert_eq!(found.body["contracts"], json!(["north-ru", "south-ru"]));
        crate::helpers::assert_documented("get", "/api/v1/subjects/disclosures", &found);
    }
    let found = disclosures(&app, "email=maria.ivanova%40mail.ru").await;
    let of = |contract: &str| {
        found.body["disclosures"]
            .as_array()
            .and_then(|d| d.iter().find(|d| d["contract"] == contract).cloned())
            .unwrap_or_default()
    };
    let north = of("north-ru");
    assert_eq!(north["ticket"], north_ticket);
    assert_eq!(north["contractor"], "north");
    assert_eq!(north["disclosures"], 1, "{north}");
    assert!(north["reads"].as_u64().unwrap_or(0) >= 1, "{north}");
    assert_eq!(north["replies"], 1, "{north}");
    assert!(
        north["fields"]
            .as_array()
            .is_some_and(|f| f.contains(&json!("requester.email"))),
        "{north}"
    );
    assert!(
        north["tokens"]
            .as_array()
            .is_some_and(|t| t.contains(&json!(email_token))),
        "{north}"
    );
    let south = of("south-ru");
    assert_eq!(south["ticket"], south_ticket);
    assert!(
        south["tokens"].as_array().is_some_and(|t| !t.is_empty()),
        "{south}"
    );
    // Nothing for a stranger; the namesake's ticket is not hers.
    let nobody = disclosures(&app, "email=nobody%40example.org").await;
    assert_eq!(nobody.status, 200);
    assert_eq!(found_tickets(&nobody), Vec::<i64>::new());
    assert_eq!(nobody.body["disclosures"], json!([]));
    let olga = disclosures(&app, "phone=%2B79031112233").await;
    assert_eq!(found_tickets(&olga), vec![stranger_ticket]);
    // The report reads in Russian and English, and shows no value.
    for (locale, heading) in [
        ("ru", "Передача подрядчикам"),
        ("en", "Disclosures to contractors"),
    ] {
        let page = disclosures(
            &app,
            &format!("email=maria.ivanova%40mail.ru&format=html&locale={locale}"),
        )
        .await;
        assert_eq!(page.status, 200);
        assert!(
            page.content_type.starts_with("text/html"),
            "{}",
            page.content_type
        );
        let text = page.body.as_str().unwrap_or_default();
        assert!(
            text.contains(heading) && text.contains("north-ru") && text.contains(&email_token),
            "{text}"
        );
        assert!(
            !text.to_lowercase().contains("maria.ivanova") && !text.contains("Иванов"),
            "{text}"
        );
    }
    // Each look-up is on the record, by kind, without the value.
    let looked_up: Vec<_> = app
        .ledger()
        .into_iter()
        .filter(|e| e.action == "subject.access")
        .collect();
    assert_eq!(looked_up.len(), 8);
    assert!(
        looked_up
            .iter()
            .all(|e| !e.details.to_lowercase().contains("maria")
                && !e.details.contains("9123456789")
                && !e.details.contains("Марии"))
    );
    assert!(
        looked_up[0].details.contains("\"selectors\":[\"email\"]"),
        "{}",
        looked_up[0].details
    );

    // Refused: no selector, a lone word for a name, an unknown parameter, another role.
    for (query, field) in [
        ("", "email"),
        ("name=Мария", "name"),
        ("email=not-an-address", "email"),
        ("phone=12", "phone"),
    ] {
        let refused = disclosures(&app, query).await;
        assert_eq!(
            (refused.status, refused.body["field"].as_str()),
            (400, Some(field)),
            "{query}: {:?}",
            refused.body
        );
    }
    let unknown = disclosures(&app, "mail=x%40y.z").await;
    assert_eq!(unknown.status, 400);
    let contractor = app
        .get(
            "/api/v1/subjects/disclosures?email=maria.ivanova%40mail.ru",
            &app.contractor("north"),
        )
        .await;
    assert_eq!(contractor.status, 403);
    let no_reason = app
        .post(
            "/api/v1/subjects/erase",
            &app.token(Role::Compliance, None),
            &json!({ "email": "maria.ivanova@mail.ru", "reason": " " }),
        )
        .await;
    assert_eq!(
        (no_reason.status, no_reason.body["field"].as_str()),
        (400, Some("reason"))
    );
    assert!(
        erase_requests(&app, "north-ru").is_empty(),
        "nothing happened"
    );

    // Erasure.
    let erased = app
        .post(
            "/api/v1/subjects/erase",
            &app.token(Role::Compliance, None),
            &json!({ "email": "maria.ivanova@mail.ru", "phone": "+79123456789", "reason": "Требование Марии Ивановой от 01.06.2026" }),
        )
        .await;
    assert_eq!(erased.status, 200, "{:?}", erased.body);
    crate::helpers::assert_documented("post", "/api/v1/subjects/erase", &erased);
    assert_eq!(erased.body["tickets"], json!([north_ticket, south_ticket]));
    assert!(
        erased.body["tokens_erased"].as_u64().unwrap_or(0) >= 2,
        "{:?}",
        erased.body
    );
    assert_eq!(erased.body["notices"].as_array().map(Vec::len), Some(2));
    // Exactly one signed event per contractor, naming its own tickets and tokens.
    let north_told = erase_requests(&app, "north-ru");
    let south_told = erase_requests(&app, "south-ru");
    assert_eq!((north_told.len(), south_told.len()), (1, 1));
    assert_eq!(north_told[0]["data"]["tickets"], json!([north_ticket]));
    assert_eq!(south_told[0]["data"]["tickets"], json!([south_ticket]));
    assert!(
        north_told[0]["data"]["tokens"]
            .as_array()
            .is_some_and(|t| t.contains(&json!(email_token)))
    );
    let told = format!("{north_told:?}{south_told:?}");
    assert!(
        !told.to_lowercase().contains("maria")
            && !told.contains("Иванов")
            && !told.contains("3456789")
            && !told.contains("345-67"),
        "{told}"
    );
    // The token can never be turned back into the address.
    let after = reply(format!("Повторно пишем на {email_token}")).await;
    assert_eq!(after.status, 201, "{:?}", after.body);
    let stored = inhouse_copy(&app, north_ticket).await;
    assert!(
        stored.contains(&format!("Повторно пишем на {email_token}")),
        "{stored}"
    );
    // The gateway's copies no longer hold her identifiers.
    for id in [north_ticket, south_ticket] {
        let copy = inhouse_copy(&app, id).await;
        for value in [
            "maria.ivanova",
            "Maria.Ivanova",
            "Иванов",
            "Марии",
            "345-67-89",
            "345 67 89",
            "89123456789",
        ] {
            assert!(!copy.contains(value), "{value} in ticket {id}: {copy}");
        }
        assert!(copy.contains("[ERASED]"), "{copy}");
    }
    // The text file is struck too; the image is kept as it is.
    let files = app
        .get(&format!("/api/v1/tickets/{north_ticket}"), &app.inhouse())
        .await
        .body["attachments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let notes = files
        .iter()
        .find(|f| f["file_name"] == "заметки.txt")
        .and_then(|f| f["href"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let text = app.get(&notes, &app.inhouse()).await;
    assert_eq!(text.status, 200, "{notes}: {:?}", text.body);
    assert_eq!(
        text.body.as_str().unwrap_or_default(),
        "Клиентка [ERASED] [ERASED], [ERASED], [ERASED]\n"
    );
    let olga_copy = app
        .get(
            &format!("/api/v1/tickets/{stranger_ticket}"),
            &app.inhouse(),
        )
        .await
        .body
        .to_string();
    assert!(
        olga_copy.contains("olga@example.org"),
        "a stranger's ticket is left alone"
    );
    // Once erased, nothing is found of her.
    assert_eq!(
        found_tickets(&disclosures(&app, "email=maria.ivanova%40mail.ru").await),
        Vec::<i64>::new()
    );
    // The ledger keeps the proof without the values; the in-house side is told too.
    let ledger = app.ledger();
    let erase = ledger
        .iter()
        .find(|e| e.action == "subject.erase")
        .map(|e| e.details.clone())
        .unwrap_or_default();
    assert!(
        erase.contains("\"selectors\":[\"email\",\"phone\"]"),
        "{erase}"
    );
    let all: String = ledger.iter().map(|e| e.details.clone()).collect();
    assert!(
        !all.to_lowercase().contains("maria")
            && !all.contains("Иванов")
            && !all.contains("9123456789"),
        "values in the ledger"
    );
    assert_eq!(
        ledger
            .iter()
            .filter(|e| e.action == "subject.erase_requested")
            .count(),
        2
    );
    assert!(
        app.inhouse_events()
            .iter()
            .any(|e| e["type"] == "subject.erased")
    );

    // Acknowledgements: south acknowledges its own notice; north cannot touch it.
    let south_notice = south_told[0]["data"]["notice"].as_i64().unwrap_or_default();
    let north_notice = north_told[0]["data"]["notice"].as_i64().unwrap_or_default();
    let stolen = app
        .post(
            &format!("/api/v1/contractor/erasures/{south_notice}/ack"),
            &app.contractor("north"),
            &json!({}),
        )
        .await;
    assert_eq!(stolen.status, 404);
    let listed = app
        .get(
            "/api/v1/contractor/erasures?open=true",
            &app.contractor("south"),
        )
        .await;
    assert_eq!(
        listed.body.as_array().map(Vec::len),
        Some(1),
        "{:?}",
        listed.body
    );
    crate::helpers::assert_documented("get", "/api/v1/contractor/erasures", &listed);
    let acked = app
        .post(
            &format!("/api/v1/contractor/erasures/{south_notice}/ack"),
            &app.contractor("south"),
            &json!({}),
        )
        .await;
    assert_eq!(
        (acked.status, acked.body["state"].as_str()),
        (200, Some("acknowledged")),
        "{:?}",
        acked.body
    );
    crate::helpers::assert_documented("post", "/api/v1/contractor/erasures/{id}/ack", &acked);
    let again = app
        .post(
            &format!("/api/v1/contractor/erasures/{south_notice}/ack"),
            &app.contractor("south"),
            &json!({}),
        )
        .await;
    assert_eq!(again.body["acknowledged_at"], acked.body["acknowledged_at"]);
    assert_eq!(
        app.ledger()
            .iter()
            .filter(|e| e.action == "subject.erase_ack")
            .count(),
        1
    );

    // North's deadline (three days) passes without an acknowledgement: escalated once.
    let sweeper = app.sweeper.clone();
    assert_eq!(
        sweeper.escalate_erasures().map(|n| n.len()).unwrap_or(99),
        0,
        "not due yet"
    );
    app.clock.advance(Duration::days(3) + Duration::minutes(1));
    let overdue = sweeper
        .escalate_erasures()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        overdue.iter().map(|n| n.id).collect::<Vec<_>>(),
        vec![north_notice]
    );
    assert_eq!(
        sweeper.escalate_erasures().map(|n| n.len()).unwrap_or(99),
        0,
        "once"
    );
    assert!(
        app.inhouse_events()
            .iter()
            .any(|e| e["type"] == "subject.erase_overdue" && e["data"]["notice"] == north_notice)
    );
    let states = app
        .get(
            "/api/v1/subjects/erasures",
            &app.token(Role::Compliance, None),
        )
        .await;
    crate::helpers::assert_documented("get", "/api/v1/subjects/erasures", &states);
    let state_of = |id: i64| {
        states
            .body
            .as_array()
            .and_then(|l| l.iter().find(|n| n["id"] == id))
            .map(|n| n["state"].clone())
            .unwrap_or_default()
    };
    assert_eq!(
        (state_of(north_notice), state_of(south_notice)),
        (json!("overdue"), json!("acknowledged"))
    );
    // The console's overview lists what is still unacknowledged, the overdue notice marked.
    let signed = crate::console::sign_in(&app, &app.token(Role::Compliance, None)).await;
    let (cookie, _) = crate::console::set_cookie(&signed, "bridge_console");
    let home = crate::console::get_page(&app, "/console", &cookie)
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(home.contains("id=\"erasures\""), "{home}");
    assert!(
        home.contains("north-ru") && home.contains("overdue"),
        "{home}"
    );
    // The report of the period lists it.
    let now = app.clock.now();
    let reports = crate::reports::report_of(
        &app,
        &json!({ "contract": "north-ru", "from": (now - Duration::days(10)).to_rfc3339(), "to": (now + Duration::days(1)).to_rfc3339(), "formats": ["json", "html"] }),
    )
    .await;
    let document = reports
        .iter()
        .find(|r| r.0 == "json")
        .map(|r| r.1.clone())
        .unwrap_or_default();
    let page = reports
        .iter()
        .find(|r| r.0 == "html")
        .and_then(|r| r.1.as_str().map(str::to_owned))
        .unwrap_or_default();
    assert!(page.contains("id=\"erasures\""), "{page}");
    assert_eq!(
        document["erasures"][0]["state"], "overdue",
        "{:?}",
        document["erasures"]
    );
    assert_eq!(document["erasures"][0]["contract"], "north-ru");
}

/// `msp-bridge subject report` answers the same question from the command line, audited.
async fn the_command_line_reports_a_persons_disclosures(app: TestApp) {
    let id = pushed(
        &app,
        &ticket(
            "S-9",
            "billing",
            json!({ "name": "Мария Иванова", "email": "maria.ivanova@mail.ru" }),
            "Здравствуйте.",
        ),
    )
    .await;
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_msp-bridge"))
            .args(args)
            .env("BRIDGE_DATABASE_URL", app.config().database_url.expose())
            .env("BRIDGE_DATA_DIR", &app.config().data_dir)
            .env("BRIDGE_CONTRACTS_DIR", &app.config().contracts_dir)
            .env("BRIDGE_VAULT_KEY", crate::helpers::VAULT_KEY)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let out = run(&["subject", "report", "--name", "Марией Ивановой"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(report["tickets"][0]["id"], id, "{report}");
    assert_eq!(report["disclosures"][0]["contract"], "north-ru");
    let html = run(&[
        "subject",
        "report",
        "--email",
        "maria.ivanova@mail.ru",
        "--format",
        "html",
        "--locale",
        "ru",
    ]);
    assert!(String::from_utf8_lossy(&html.stdout).contains("Обращения о субъекте"));
    let bad = run(&["subject", "report", "--name", "Мария"]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("--name"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let audited = app
        .ledger()
        .into_iter()
        .filter(|e| e.action == "subject.access")
        .collect::<Vec<_>>();
    assert_eq!(audited.len(), 2);
    assert!(audited[0].actor.starts_with("cli:"));
}

/// A ticket of someone else that mentions the person is found (and struck) as a mention; a
/// namesake with another e-mail is neither found nor touched, and the token of the name they
/// share keeps its value for her.
async fn a_mention_is_found_and_a_namesake_is_left_alone(app: TestApp) {
    let maria = pushed(
        &app,
        &ticket(
            "N-1",
            "billing",
            json!({ "name": "Мария Иванова", "email": "maria.ivanova@mail.ru" }),
            "Где мой заказ?",
        ),
    )
    .await;
    let neighbour = pushed(
        &app,
        &ticket(
            "N-2",
            "billing",
            json!({ "name": "Ольга Петрова", "email": "olga@example.org" }),
            "Соседка просила передать: пишите ей на maria.ivanova@mail.ru",
        ),
    )
    .await;
    let passer_on = pushed(
        &app,
        &ticket(
            "N-4",
            "billing",
            json!({ "name": "Пётр Сидоров", "email": "petr@example.org" }),
            "Передайте Марии Ивановой, что заказ готов.",
        ),
    )
    .await;
    let namesake = pushed(
        &app,
        &ticket(
            "N-3",
            "billing",
            json!({ "name": "Мария Иванова", "email": "other.maria@example.org" }),
            "Другой вопрос.",
        ),
    )
    .await;
    let found = disclosures(&app, "email=maria.ivanova%40mail.ru").await;
    assert_eq!(
        found_tickets(&found),
        vec![maria, neighbour, passer_on],
        "{:?}",
        found.body
    );
    assert_eq!(found.body["tickets"][1]["found_by"], json!(["mention"]));
    // Her name with her e-mail: the namesake's ticket is found by name, but its e-mail says it
    // is someone else's.
    let both = disclosures(
        &app,
        "email=maria.ivanova%40mail.ru&name=%D0%9C%D0%B0%D1%80%D0%B8%D1%8F%20%D0%98%D0%B2%D0%B0%D0%BD%D0%BE%D0%B2%D0%B0",
    )
    .await;
    assert_eq!(
        found_tickets(&both),
        vec![maria, neighbour, passer_on],
        "{:?}",
        both.body
    );
    let by_name = disclosures(
        &app,
        "name=%D0%9C%D0%B0%D1%80%D0%B8%D1%8F%20%D0%98%D0%B2%D0%B0%D0%BD%D0%BE%D0%B2%D0%B0",
    )
    .await;
    assert!(
        found_tickets(&by_name).contains(&namesake),
        "{:?}",
        by_name.body
    );

    let name_token = app.contractor_view("north", namesake).await.body["requester"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(name_token.starts_with("[NAME_"), "{name_token}");
    let erased = app
        .post(
            "/api/v1/subjects/erase",
            &app.token(Role::Compliance, None),
            &json!({ "email": "maria.ivanova@mail.ru", "reason": "DSR-7" }),
        )
        .await;
    assert_eq!(erased.status, 200, "{:?}", erased.body);
    assert_eq!(erased.body["tickets"], json!([maria, neighbour, passer_on]));
    let passed_on = inhouse_copy(&app, passer_on).await;
    assert!(
        passed_on.contains("Передайте [ERASED] [ERASED], что заказ готов")
            && passed_on.contains("petr@example.org"),
        "named in a case form in someone else's ticket: struck there, the rest kept: {passed_on}"
    );
    assert!(
        erased.body["tokens_kept"].as_u64().unwrap_or(0) >= 1,
        "{:?}",
        erased.body
    );
    let neighbour_copy = inhouse_copy(&app, neighbour).await;
    assert!(
        !neighbour_copy.contains("maria.ivanova"),
        "{neighbour_copy}"
    );
    assert!(
        neighbour_copy.contains("пишите ей на [ERASED]")
            && neighbour_copy.contains("olga@example.org"),
        "the mention is struck, its own requester kept: {neighbour_copy}"
    );
    let namesake_copy = inhouse_copy(&app, namesake).await;
    assert!(
        namesake_copy.contains("Мария Иванова")
            && namesake_copy.contains("other.maria@example.org"),
        "{namesake_copy}"
    );
    // The name token they share still turns back into the name on the namesake's ticket.
    let sent = app
        .post(
            &format!("/api/v1/contractor/tickets/{namesake}/replies"),
            &app.contractor("north"),
            &json!({ "body": format!("Здравствуйте, {name_token}!"), "public": true }),
        )
        .await;
    assert_eq!(sent.status, 201, "{:?}", sent.body);
    let home = inhouse_copy(&app, namesake).await;
    assert!(home.contains("Здравствуйте, Мария Иванова!"), "{home}");
}

/// Tickets stored before the index existed are indexed once, at the next start.
async fn tickets_stored_before_the_index_are_found_after_a_restart(app: TestApp) {
    let id = pushed(
        &app,
        &ticket(
            "B-1",
            "delivery",
            json!({ "name": "Мария Иванова", "phone": "+7 912 345-67-89" }),
            "Здравствуйте.",
        ),
    )
    .await;
    // As a database migrated from the version before: no keys, the backfill mark at the last
    // ticket.
    app.execute("DELETE FROM subject_keys");
    app.execute(&format!("UPDATE subject_backfill SET up_to = {id}"));
    // Only through the token its share carried, as a mention.
    let before = disclosures(&app, "phone=89123456789").await;
    assert_eq!(found_tickets(&before), vec![id]);
    assert_eq!(before.body["tickets"][0]["found_by"], json!(["mention"]));
    let app = app.restarted().await;
    let after = disclosures(&app, "phone=89123456789").await;
    assert_eq!(
        after.body["tickets"][0]["found_by"],
        json!(["phone", "mention"]),
        "{:?}",
        after.body
    );
    assert_eq!(app.count("subject_backfill WHERE up_to > 0"), 0, "once");
    // A re-push with another requester is indexed anew: the new e-mail finds it, the old
    // phone only through the token its share carried.
    let changed = ticket(
        "B-1",
        "delivery",
        json!({ "name": "Мария Иванова", "email": "new.maria@example.org" }),
        "Здравствуйте.",
    );
    assert_eq!(app.ingest(&changed).await.status, 200);
    let by_email = disclosures(&app, "email=new.maria%40example.org").await;
    // (and as a mention: the update sent its token for the new address)
    assert_eq!(
        by_email.body["tickets"][0]["found_by"],
        json!(["email", "mention"])
    );
    let by_phone = disclosures(&app, "phone=89123456789").await;
    assert_eq!(by_phone.body["tickets"][0]["found_by"], json!(["mention"]));
}

on_both_backends!(with two_contractors:
    a_persons_data_is_found_across_contractors_and_erased_everywhere,
    the_command_line_reports_a_persons_disclosures,
    a_mention_is_found_and_a_namesake_is_left_alone,
    tickets_stored_before_the_index_are_found_after_a_restart,
);
