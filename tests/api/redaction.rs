//! Redaction over HTTP: previews, Russian text, fail-closed sharing, and the canary.

use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_backends;

/// A Russian ticket carrying every kind of personal data the gateway knows.
pub fn ticket_ru(external_id: &str) -> Value {
    json!({
        "source": "bitrix",
        "external_id": external_id,
        "subject": "Возврат по заказу 12345, Иванова Мария",
        "description": "Здравствуйте, я Мария Иванова (паспорт 45 06 123456, СНИЛС 112-233-445 95, ИНН 500100732259). \
    Перезвоните Марии на +7 (912) 345-67-89 или 8 912 345 67 89, пишите на maria.ivanova@example.ru. \
    Карта 4111 1111 1111 1111, счёт RU0204452560040702810412345678901. Карта лояльности LK-12345678. \
    Передайте привет Абрамовичу. IP 192.168.10.20. Заказ №9876543212. Контакт: Петров.",
        "requester": { "name": "Мария Иванова", "email": "Maria.Ivanova@example.ru", "phone": "+7 912 345-67-89" },
        "channel": "email",
        "priority": "normal",
        "language": "ru",
        "custom_fields": { "order_id": "12345", "contact_person": "Петров", "note": "Клиентка Иванова просила перезвонить на 8 912 345 67 89" },
        "comments": [{ "external_id": "k1", "author": "Оператор", "body": "Ивановой перезвонили на 89123456789", "public": false }]
    })
}

/// Values from [`ticket_ru`] that must never reach the contractor, with their digit forms.
pub const RU_SECRETS: &[&str] = &[
    "Иванова",
    "Ивановой",
    "Мария",
    "Марии",
    "Петров",
    "Абрамович",
    "45 06 123456",
    "4506123456",
    "112-233-445 95",
    "11223344595",
    "500100732259",
    "912 345",
    "9123456789",
    "79123456789",
    "maria.ivanova@example.ru",
    "Maria.Ivanova",
    "4111 1111 1111 1111",
    "4111111111111111",
    "RU0204452560040702810412345678901",
    "LK-12345678",
    "192.168.10.20",
];

pub fn assert_no_ru_secrets(what: &str, body: &Value) {
    let text = body.to_string();
    for secret in RU_SECRETS {
        assert!(!text.contains(secret), "{what} leaked `{secret}`: {text}");
    }
}

async fn preview(app: &TestApp, contract: &str, ticket: Value) -> Value {
    let a = app
        .post(
            "/api/v1/redaction/preview",
            &app.admin(),
            &json!({ "contract": contract, "ticket": ticket }),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    crate::helpers::assert_documented("post", "/api/v1/redaction/preview", &a);
    a.body["view"].clone()
}

/// Every detector runs whatever a contract's `detectors` list says, on `pass` fields too;
/// `raw` is the only way out unscanned, and a kind is let through only explicitly. acme-en
/// lists only e-mail, phone, card and IBAN detectors.
async fn every_detector_runs_on_every_field_that_leaves(app: TestApp) {
    let mut ticket = crate::helpers::ticket_en("D-1");
    ticket["description"] = json!(
        "Мой паспорт 4506 123456, СНИЛС 112-233-445 95, ИНН 7707083893, SSN 460-89-9847, д.р. 12.03.1985"
    );
    ticket["custom_fields"]["plan"] =
        json!("passport 4510 654321, tel +7 (912) 345-67-89, John Smith");
    let view = preview(&app, "acme-en", ticket.clone()).await;
    let description = view["description"].as_str().unwrap_or_default();
    assert_eq!(
        description,
        "Мой паспорт [REDACTED:PASSPORT], СНИЛС [REDACTED:SNILS], ИНН [REDACTED:INN], SSN [REDACTED:SSN], д.р. [REDACTED:BIRTH_DATE]"
    );
    // A `pass` field may leave, but what it holds is treated: detected kinds redacted, the
    // requester's name as requester.name is (masked).
    assert_eq!(
        view["custom_fields"]["plan"],
        "passport [REDACTED:PASSPORT], tel [REDACTED:PHONE], J. S."
    );
    // The defects the attack found, through the preview as users meet them.
    for (text, expected) in [
        (
            "Карта 4111 1111 1111 1111. 8 908 808 80 01",
            "Карта [REDACTED:CARD]. [REDACTED:PHONE]",
        ),
        (
            "Заказ № 794401547123. Мой телефон 8 987 033 11 71.",
            "Заказ № 794401547123. Мой телефон [REDACTED:PHONE].",
        ),
        (
            "Order #794401547123. Please call me at +44 20 7946 0958.",
            "Order #794401547123. Please call me at [REDACTED:PHONE].",
        ),
        (
            "встреча 05.10.2026 15:30, шоу «+100500»",
            "встреча 05.10.2026 15:30, шоу «+100500»",
        ),
    ] {
        let mut t = crate::helpers::ticket_en("D-2");
        t["description"] = json!(text);
        let view = preview(&app, "acme-en", t).await;
        assert_eq!(view["description"], expected, "{text}");
    }
}

/// acme-en with one field passed unscanned (`raw`) and passports let through explicitly.
fn relaxed_contracts(config: &mut msp_bridge::config::Config) {
    let acme = std::fs::read_to_string(crate::helpers::test_contracts_dir().join("acme-en.toml"))
        .unwrap_or_default()
        .replace(
            r#""custom_fields.plan" = "pass""#,
            r#""custom_fields.plan" = "raw""#,
        )
        + "\n[confidentiality.entities]\nru_passport = \"pass\"\n";
    crate::helpers::use_contracts(config, &[("acme-en.toml", &acme)]);
}

async fn raw_fields_and_passed_kinds_leave_as_they_are(app: TestApp) {
    let mut ticket = crate::helpers::ticket_en("R-1");
    ticket["description"] = json!("паспорт 4506 123456, СНИЛС 112-233-445 95");
    ticket["custom_fields"]["plan"] = json!("passport 4510 654321, tel +7 (912) 345-67-89");
    let view = preview(&app, "acme-en", ticket).await;
    assert_eq!(
        view["description"],
        "паспорт 4506 123456, СНИЛС [REDACTED:SNILS]"
    );
    assert_eq!(
        view["custom_fields"]["plan"],
        "passport 4510 654321, tel +7 (912) 345-67-89"
    );
}

on_both_backends!(with relaxed_contracts: raw_fields_and_passed_kinds_leave_as_they_are);

async fn preview_shows_the_contractors_view_and_writes_nothing(app: TestApp) {
    let tables = ["tickets", "comments", "vault_tokens", "audit_log", "shares"];
    let before: Vec<i64> = tables.iter().map(|t| app.count(t)).collect();
    let a = app
        .post(
            "/api/v1/redaction/preview",
            &app.admin(),
            &json!({ "contract": "ural-ru", "ticket": ticket_ru("P-1") }),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let after: Vec<i64> = tables.iter().map(|t| app.count(t)).collect();
    assert_eq!(before, after, "a preview writes nothing");
    let view = &a.body["view"];
    assert_no_ru_secrets("preview", view);
    assert_eq!(a.body["shared"], true);
    assert_eq!(
        view["requester"],
        json!({ "name": "М. И.", "email": "[EMAIL_1]", "phone": "[PHONE_1]" })
    );
    assert_eq!(view["subject"], "Возврат по заказу 12345, И. М.");
    let description = view["description"].as_str().unwrap_or_default();
    for expected in [
        "я М. И. (паспорт [REDACTED:PASSPORT], СНИЛС [SNILS#",
        "Перезвоните М. на [PHONE_1] или [PHONE_1], пишите на [EMAIL_1].",
        "Карта **** **** **** 1111, счёт [REDACTED:IBAN].",
        "Карта лояльности [REDACTED:LOYALTY_CARD].",
        "Передайте привет [REDACTED:VIP].",
        "IP [REDACTED:IP].",
        "Заказ №9876543212.",
        "Контакт: [CONTACT_PERSON#",
    ] {
        assert!(
            description.contains(expected),
            "missing `{expected}` in {description}"
        );
    }
    // Keyed hashes are stable: the custom field and its mention in the text agree.
    let hashed = view["custom_fields"]["contact_person"]
        .as_str()
        .unwrap_or_default();
    assert!(hashed.starts_with("[CONTACT_PERSON#") && description.contains(hashed));
    assert_eq!(view["comments"][0]["body"], "И. перезвонили на [PHONE_1]");
    assert_eq!(view["custom_fields"]["order_id"], "12345");
    // A custom field declared as free text is scanned like the description.
    assert_eq!(
        view["custom_fields"]["note"],
        "Клиентка И. просила перезвонить на [PHONE_1]"
    );
    let entities = &a.body["receipt"]["entities"];
    for (kind, action) in [
        ("PASSPORT", "redact"),
        ("SNILS", "hash"),
        ("INN", "hash"),
        ("CARD", "mask"),
        ("IBAN", "redact"),
        ("IP", "redact"),
        ("LOYALTY_CARD", "redact"),
        ("VIP", "redact"),
        ("EMAIL", "tokenize"),
        ("PHONE", "tokenize"),
    ] {
        assert!(
            entities[kind][action].as_u64() >= Some(1),
            "{kind} {action}: {entities}"
        );
    }
    assert_eq!(a.body["receipt"]["fields_withheld"]["priority"], "drop");

    // Bad previews get problems, not half-answers.
    let unknown = app
        .post(
            "/api/v1/redaction/preview",
            &app.admin(),
            &json!({ "contract": "nope", "ticket": ticket_ru("P-2") }),
        )
        .await;
    assert_eq!(
        (unknown.status, unknown.body["field"].as_str()),
        (400, Some("contract"))
    );
    let mut bad = ticket_ru("P-3");
    bad["priority"] = json!("asap");
    let invalid = app
        .post(
            "/api/v1/redaction/preview",
            &app.admin(),
            &json!({ "contract": "ural-ru", "ticket": bad }),
        )
        .await;
    assert_eq!(
        (invalid.status, invalid.body["field"].as_str()),
        (400, Some("ticket.priority"))
    );
    let forbidden = app
        .post(
            "/api/v1/redaction/preview",
            &app.inhouse(),
            &json!({ "contract": "ural-ru", "ticket": ticket_ru("P-4") }),
        )
        .await;
    assert_eq!(forbidden.status, 403);
}

async fn a_ticket_that_cannot_be_scanned_safely_is_not_shared(app: TestApp) {
    let mut huge = crate::helpers::ticket_en("BIG-1");
    // Within the ingest limits, beyond what one field may hold for scanning.
    huge["description"] = json!(format!(
        "call me on +44 20 7946 0958 {}",
        "1 ".repeat(100_000)
    ));
    let a = app.ingest(&huge).await;
    assert_eq!(a.status, 201, "{:?}", a.body);
    assert_eq!(a.body["routing"]["outcome"], "kept");
    let reason = a.body["routing"]["considered"][1]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(
        reason.starts_with("redaction failed, not shared: field description"),
        "{reason}"
    );
    assert_eq!(app.count("shares"), 0);
    assert_eq!(
        app.count("vault_tokens"),
        0,
        "the failed projection left no tokens behind"
    );
    let refused = app
        .ledger()
        .into_iter()
        .filter(|e| e.action == "ticket.share_refused")
        .count();
    assert_eq!(refused, 1);
}

on_both_backends!(
    every_detector_runs_on_every_field_that_leaves,
    preview_shows_the_contractors_view_and_writes_nothing,
    a_ticket_that_cannot_be_scanned_safely_is_not_shared
);

/// The requester's name is found as people write it: a short form in any case (Маша, Машей for
/// Мария) and in Latin letters (Maria Ivanova), each with requester.name's treatment (`mask`);
/// another person gets the contract's `person = "mask"`: initials.
async fn the_requesters_name_is_found_in_short_and_latin_forms(app: TestApp) {
    let mut ticket = ticket_ru("N-1");
    ticket["description"] = json!(
        "Маша просила перезвонить. С Машей говорили вчера. Signed: Maria Ivanova (mariya). Курьер Олег Сидоренко приедет."
    );
    let view = preview(&app, "ural-ru", ticket).await;
    assert_eq!(
        view["description"],
        "М. просила перезвонить. С М. говорили вчера. Signed: M. I. (m.). Курьер О. С. приедет."
    );
}

on_both_backends!(the_requesters_name_is_found_in_short_and_latin_forms);

/// Tokenises the people a ticket names and redacts addresses; replies come home re-hydrated.
const PEOPLE_CONTRACT: &str = r#"
id = "people-ru"
contractor = "people"
display_name = "People Desk"
valid_from = "2026-01-01"
valid_until = "2027-12-31"
timezone = "UTC"

[scope]
channels = ["email"]
priorities = ["normal"]

[overflow]
mode = "always"
max_open = 100
rank = 10

[sla]
[sla.calendar]
always_open = true
[[sla.targets]]
priority = "normal"
first_response = "2h"
resolution = "1d"

[confidentiality]
comments = "all"
rehydrate_replies = true
retention_days = 30
[confidentiality.fields]
subject = "redact"
description = "redact"
comments = "redact"
channel = "pass"
priority = "pass"
[confidentiality.entities]
person = "tokenize"

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
locale = "ru"
"#;

fn people_contracts(config: &mut msp_bridge::config::Config) {
    crate::helpers::use_contracts(config, &[("people-ru.toml", PEOPLE_CONTRACT)]);
}

/// People and addresses the ticket's fields do not name are found in the text: names
/// become `[PERSON_n]` tokens that turn back into the name in a reply, addresses are
/// redacted, and the receipt counts both.
async fn names_and_addresses_in_the_text_are_found_and_people_come_home(app: TestApp) {
    let created = app
        .ingest(&json!({
            "source": "helpdesk",
            "external_id": "PEOPLE-1",
            "subject": "Доставка для Кузнецовой",
            "description": "Здравствуйте! Передайте, пожалуйста, Ольге Сергеевне Кузнецовой: \
                доставка по адресу г. Москва, ул. Ленина, д. 5, кв. 12. My husband Ivan \
                Petrov lives at 350 Fifth Avenue, New York, NY 10118.\nС уважением, Пётр Васильев",
            "requester": { "name": "Анна Смирнова", "email": "anna@example.ru" },
            "channel": "email",
            "priority": "normal",
            "language": "ru",
        }))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["routing"]["outcome"], "shared");
    let id = created.body["id"].as_i64().unwrap_or_default();
    let contractor = app.contractor("people");
    let view = app
        .get(&format!("/api/v1/contractor/tickets/{id}"), &contractor)
        .await;
    assert_eq!(view.status, 200, "{:?}", view.body);
    let text = view.body.to_string();
    for secret in [
        "Кузнецов",
        "Ольг",
        "Сергеевн",
        "Ленина",
        "д. 5",
        "Ivan",
        "Petrov",
        "Fifth",
        "10118",
        "Пётр",
        "Васильев",
    ] {
        assert!(
            !text.contains(secret),
            "`{secret}` reached the contractor: {text}"
        );
    }
    let description = view.body["description"].as_str().unwrap_or_default();
    assert!(
        description.starts_with("Здравствуйте! Передайте, пожалуйста, [PERSON_"),
        "{description}"
    );
    assert_eq!(
        description.matches("[REDACTED:ADDRESS]").count(),
        2,
        "{description}"
    );
    assert!(description.contains("My husband [PERSON_"), "{description}");
    assert!(
        description.contains("С уважением, [PERSON_"),
        "{description}"
    );
    let token = description
        .split_once("пожалуйста, ")
        .and_then(|(_, rest)| rest.split_once(':'))
        .map(|(token, _)| token.to_owned())
        .unwrap_or_default();
    assert!(
        token.starts_with("[PERSON_") && token.ends_with(']'),
        "{token}"
    );

    let reply = app
        .post(
            &format!("/api/v1/contractor/tickets/{id}/replies"),
            &contractor,
            &json!({ "body": format!("Передали {token}, курьер в пути"), "public": true }),
        )
        .await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    let stored = app
        .get(&format!("/api/v1/tickets/{id}"), &app.inhouse())
        .await;
    assert_eq!(
        stored.body["replies"][0]["body"],
        "Передали Ольге Сергеевне Кузнецовой, курьер в пути"
    );

    let share = app
        .ledger()
        .into_iter()
        .find(|e| e.action == "ticket.share")
        .map(|e| serde_json::from_str::<Value>(&e.details).unwrap_or_default())
        .unwrap_or_default();
    let entities = &share["receipt"]["entities"];
    assert_eq!(entities["ADDRESS"], json!({ "redact": 2 }), "{entities}");
    // Кузнецовой in the subject and the text, Ivan Petrov, Пётр Васильев.
    assert_eq!(entities["PERSON"], json!({ "tokenize": 4 }), "{entities}");

    // The compliance report counts the new kinds like every other.
    use msp_bridge::clock::Clock;
    let now = app.clock.now();
    let report = app
        .post(
            "/api/v1/reports",
            &app.admin(),
            &json!({
                "contract": "people-ru",
                "from": now - chrono::Duration::days(1),
                "to": now + chrono::Duration::days(1),
                "formats": ["json"],
            }),
        )
        .await;
    assert_eq!(report.status, 201, "{:?}", report.body);
    let content = app
        .get(
            &format!("/api/v1/reports/{}", report.body["items"][0]["id"]),
            &app.admin(),
        )
        .await;
    let personal = content.body["personal_data"].clone();
    for (kind, action, count) in [("PERSON", "tokenize", 4), ("ADDRESS", "redact", 2)] {
        assert!(
            personal
                .as_array()
                .into_iter()
                .flatten()
                .any(|row| row == &json!({ "name": kind, "action": action, "count": count })),
            "{kind} in {personal}"
        );
    }
}

on_both_backends!(with people_contracts: names_and_addresses_in_the_text_are_found_and_people_come_home);

/// Seeds tickets full of known personal values, drives every contractor-facing endpoint of
/// both contractors, and checks that no value, nor its digits-only form, comes back.
async fn canary_no_personal_value_reaches_a_contractor(app: TestApp) {
    // Third parties and addresses no field of the ticket names.
    let mut en_ticket = crate::helpers::ticket_en("CANARY-EN");
    en_ticket["description"] = json!(format!(
        "{} My colleague Ivan Petrov works at 350 Fifth Avenue, New York, NY 10118.",
        en_ticket["description"].as_str().unwrap_or_default()
    ));
    en_ticket["subject"] = json!("Refund for Mrs. Eleanor Whitfield");
    let mut ru_ticket = ticket_ru("CANARY-RU");
    ru_ticket["subject"] = json!(format!(
        "{} — для Ольги Сергеевны Кузнецовой, г. Москва, ул. Ленина, д. 5, кв. 12",
        ru_ticket["subject"].as_str().unwrap_or_default()
    ));
    let en = app.ingest(&en_ticket).await;
    assert_eq!(en.body["routing"]["contractor"], "acme");
    // Inside the Russian contract's Black Friday window.
    app.clock.set(
        chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 27, 9, 0, 0)
            .single()
            .unwrap_or_default(),
    );
    let ru = app.ingest(&ru_ticket).await;
    assert_eq!(
        ru.body["routing"]["contractor"], "volga",
        "{:?}",
        ru.body["routing"]
    );
    let mut seen: Vec<Value> = Vec::new();
    for (contractor, id) in [
        ("acme", en.body["id"].clone()),
        ("volga", ru.body["id"].clone()),
    ] {
        let token = app.contractor(contractor);
        let base = format!("/api/v1/contractor/tickets/{id}");
        seen.push(app.get("/api/v1/contractor/tickets", &token).await.body);
        seen.push(app.get(&base, &token).await.body);
        seen.push(
            app.post(
                &format!("{base}/replies"),
                &token,
                &json!({ "body": "Проверили, всё верно", "public": true }),
            )
            .await
            .body,
        );
        seen.push(app.get(&base, &token).await.body);
        seen.push(
            app.post(
                &format!("{base}/status"),
                &token,
                &json!({ "status": "pending" }),
            )
            .await
            .body,
        );
        seen.push(
            app.post(
                &format!("{base}/status"),
                &token,
                &json!({ "status": "bogus" }),
            )
            .await
            .body,
        );
        seen.push(
            app.post(&format!("{base}/replies"), &token, &json!({ "body": 5 }))
                .await
                .body,
        );
        seen.push(
            app.post(
                &format!("{base}/handback"),
                &token,
                &json!({ "reason": "не наш профиль" }),
            )
            .await
            .body,
        );
        seen.push(app.get(&base, &token).await.body);
    }
    assert!(
        seen.iter()
            .any(|b| b.get("description").is_some() || b.get("subject").is_some()),
        "the views were really read"
    );
    let secrets: Vec<&str> = crate::helpers::EN_SECRETS
        .iter()
        .chain(RU_SECRETS)
        .copied()
        .chain([
            "Ivan",
            "Petrov",
            "Fifth Avenue",
            "10118",
            "Eleanor",
            "Whitfield",
            "Ольг",
            "Кузнецов",
            "Ленина",
            "кв. 12",
        ])
        .collect();
    for body in &seen {
        let text = body.to_string();
        for secret in &secrets {
            assert!(
                !text.contains(secret),
                "`{secret}` reached a contractor: {text}"
            );
            let digits: String = secret.chars().filter(char::is_ascii_digit).collect();
            if digits.len() >= 6 {
                let text_digits: String = text.chars().filter(char::is_ascii_digit).collect();
                assert!(
                    !text_digits.contains(&digits),
                    "the digits of `{secret}` reached a contractor: {text}"
                );
            }
        }
    }
}

on_both_backends!(canary_no_personal_value_reaches_a_contractor);

/// Concurrent transactions issuing tokens for one contract (the PostgreSQL race found under
/// load): every one succeeds, numbers are distinct and gapless, equal values share a token.
async fn concurrent_token_issuance_is_serialised(app: TestApp) {
    let keys = msp_bridge::redaction::VaultKeys::load(
        Some(crate::helpers::VAULT_KEY),
        std::path::Path::new("."),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let own = issue_in_parallel(&app, &keys);
    let mut expected: Vec<String> = (1..=17).map(|n| format!("[EMAIL_{n}]")).collect();
    expected.sort();
    assert_eq!(own, expected);
}

on_both_backends!(concurrent_token_issuance_is_serialised);

/// The same with numbers from reserved blocks, as the gateway runs on PostgreSQL: no lock is
/// held for numbering, yet numbers stay distinct and equal values still share one token (a
/// number drawn for a value another transaction stored first is simply not used).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_token_issuance_from_number_blocks() {
    let Some(app) = crate::helpers::spawn(crate::helpers::Backend::Postgres).await else {
        eprintln!("BRIDGE_TEST_POSTGRES_URL unset: PostgreSQL-only test not run");
        return;
    };
    let keys = msp_bridge::redaction::VaultKeys::load(
        Some(crate::helpers::VAULT_KEY),
        std::path::Path::new("."),
    )
    .unwrap_or_else(|e| panic!("{e}"))
    .with_number_blocks(msp_bridge::redaction::NumberBlocks::new(app.db.for_jobs()));
    let own = issue_in_parallel(&app, &keys);
    let numbers: Vec<i64> = own
        .iter()
        .filter_map(|t| {
            t.trim_start_matches("[EMAIL_")
                .trim_end_matches(']')
                .parse()
                .ok()
        })
        .collect();
    assert_eq!(numbers.len(), 17, "{own:?}");
    assert_eq!(app.count("vault_tokens WHERE contract_id = 'acme-en'"), 17);
    // Every number given lies within what the counter has reserved: none can come again.
    let highest = numbers.iter().max().copied().unwrap_or_default();
    assert_eq!(
        app.count(&format!(
            "vault_numbers WHERE contract_id = 'acme-en' AND kind = 'EMAIL' AND last >= {highest}"
        )),
        1
    );
}

/// Sixteen transactions each tokenise a value of their own and one value they all share;
/// returns the distinct tokens issued, sorted, after checking the shared value got one.
fn issue_in_parallel(app: &TestApp, keys: &msp_bridge::redaction::VaultKeys) -> Vec<String> {
    use msp_bridge::clock::Clock;
    let now = app.clock.now();
    let workers: Vec<_> = (0..16)
        .map(|n| {
            let (db, keys) = (app.db.clone(), keys.clone());
            std::thread::spawn(move || {
                db.write(|c| {
                    let mut vault = msp_bridge::redaction::Vault::new(c, &keys, "acme-en", now);
                    let own = vault.token_for("EMAIL", &format!("user{n}@example.com"))?;
                    let shared = vault.token_for("EMAIL", "everyone@example.com")?;
                    Ok::<_, msp_bridge::redaction::RedactionError>((own, shared))
                })
            })
        })
        .collect();
    let mut own = Vec::new();
    let mut shared = std::collections::BTreeSet::new();
    for w in workers {
        let (o, s) = w
            .join()
            .unwrap_or_else(|_| panic!("worker panicked"))
            .unwrap_or_else(|e| panic!("{e}"));
        own.push(o);
        shared.insert(s);
    }
    assert_eq!(shared.len(), 1, "one value, one token: {shared:?}");
    own.extend(shared);
    own.sort();
    own.dedup();
    assert_eq!(own.len(), 17);
    own
}
