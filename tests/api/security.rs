//! Holes found by attacking the gateway as a hostile contractor would, each kept shut by a
//! test: tokens turned back only on the ticket they were given for, a contractor's own text
//! shown as it wrote it.

use serde_json::{Value, json};

use msp_bridge::app::Application;

use crate::helpers::{Backend, TestApp, spawn_with, use_contracts};
use crate::on_both_backends;
use crate::receiver::Receiver;

/// Tokenises e-mails and phones everywhere and hashes INNs: every kind of token or hash a
/// hostile contractor could try to turn back or use as an oracle.
const PROBE_CONTRACT: &str = r#"
id = "probe-en"
contractor = "probe"
display_name = "Probe Support"
valid_from = "2026-01-01"
valid_until = "2027-12-31"
timezone = "UTC"

[scope]
channels = ["email", "chat"]
priorities = ["low", "normal", "high"]

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
detectors = ["email", "phone", "card", "iban", "ip", "ru_passport", "snils", "inn"]
[confidentiality.fields]
subject = "tokenize"
description = "tokenize"
comments = "tokenize"
"requester.name" = "mask"
"requester.email" = "tokenize"
"requester.phone" = "tokenize"
channel = "pass"
priority = "pass"
status = "pass"
[confidentiality.entities]
email = "tokenize"
phone = "tokenize"
inn = "hash"

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
"#;

fn probe_contracts(config: &mut msp_bridge::config::Config) {
    use_contracts(config, &[("probe-en.toml", PROBE_CONTRACT)]);
}

fn customer(external_id: &str, name: &str, email: &str, phone: &str) -> Value {
    json!({
        "source": "helpdesk",
        "external_id": external_id,
        "subject": "Order question",
        "description": format!("Please call me on {phone} or write to {email}. ИНН 7707083893."),
        "requester": { "name": name, "email": email, "phone": phone },
        "channel": "email",
        "priority": "normal",
        "language": "en",
    })
}

async fn shared_ticket(app: &TestApp, ticket: &Value) -> i64 {
    let created = app.ingest(ticket).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["routing"]["outcome"], "shared");
    created.body["id"].as_i64().unwrap_or_default()
}

async fn reply(app: &TestApp, ticket: i64, body: &str) -> crate::helpers::Answer {
    let answer = app
        .post(
            &format!("/api/v1/contractor/tickets/{ticket}/replies"),
            &app.contractor("probe"),
            &json!({ "body": body, "public": true }),
        )
        .await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    answer
}

/// The body of the contractor's reply `comment_id` as the contractor reads its ticket now.
async fn reply_as_seen(app: &TestApp, ticket: i64, comment_id: &Value) -> Value {
    let view = app
        .get(
            &format!("/api/v1/contractor/tickets/{ticket}"),
            &app.contractor("probe"),
        )
        .await;
    assert_eq!(view.status, 200, "{:?}", view.body);
    view.body["comments"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["id"] == *comment_id)
        .map(|c| c["body"].clone())
        .unwrap_or_default()
}

fn rehydration_audits(app: &TestApp) -> Vec<Value> {
    app.ledger()
        .into_iter()
        .filter(|e| e.action == "share.reply")
        .map(|e| {
            serde_json::from_str::<Value>(&e.details).unwrap_or_default()["rehydration"].clone()
        })
        .collect()
}

/// The attack: a contractor lists tokens of other tickets in a reply, glued to other
/// characters so that re-redaction misses them, and reads its reply back. Nothing of another
/// customer may come back, to the contractor or into this customer's ticket.
async fn tokens_turn_back_only_on_the_ticket_they_were_given_for(app: TestApp) {
    let maria = shared_ticket(
        &app,
        &customer("A", "Maria Petrova", "maria@example.ru", "+7 903 777-66-55"),
    )
    .await;
    let john = shared_ticket(
        &app,
        &customer("B", "John Smith", "john@example.com", "+44 20 7946 0958"),
    )
    .await;
    let contractor = app.contractor("probe");
    let maria_view = app
        .get(&format!("/api/v1/contractor/tickets/{maria}"), &contractor)
        .await;
    let maria_email = maria_view.body["requester"]["email"]
        .as_str()
        .unwrap_or("?")
        .to_owned();
    let maria_phone = maria_view.body["requester"]["phone"]
        .as_str()
        .unwrap_or("?")
        .to_owned();
    let john_view = app
        .get(&format!("/api/v1/contractor/tickets/{john}"), &contractor)
        .await;
    let john_email = john_view.body["requester"]["email"]
        .as_str()
        .unwrap_or("?")
        .to_owned();
    assert!(maria_email.starts_with("[EMAIL_") && maria_phone.starts_with("[PHONE_"));
    assert_ne!(maria_email, john_email);

    // On John's ticket: Maria's tokens glued, wrapped and enumerated, and one of John's own.
    let enumeration: String = (1..=15)
        .map(|n| format!("[EMAIL_{n}] [PHONE_{n}] "))
        .collect();
    let written = format!(
        "x{maria_email}0x\nx{maria_phone}0x\nзаказ {maria_phone}, order #{maria_phone}, 1{maria_phone}\n\
         {enumeration}\nyours: {john_email}"
    );
    let answer = reply(&app, john, &written).await;
    assert_eq!(answer.body["body"], written.as_str());
    assert_eq!(
        reply_as_seen(&app, john, &answer.body["id"]).await,
        written.as_str(),
        "the contractor reads its reply exactly as it wrote it"
    );
    let stored = app
        .get(&format!("/api/v1/tickets/{john}"), &app.inhouse())
        .await;
    let in_house = stored.body["replies"][0]["body"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for leaked in ["maria@example.ru", "79037776655"] {
        assert!(
            !in_house.contains(leaked),
            "John's ticket got `{leaked}`: {in_house}"
        );
    }
    assert!(in_house.ends_with("yours: john@example.com"), "{in_house}");
    assert!(
        in_house.contains(&format!("x{maria_email}0x")),
        "{in_house}"
    );
    // Nor does the helpdesk update that would post the reply to John.
    let feed = app
        .get("/api/v1/events?format=zendesk&limit=500", &app.inhouse())
        .await;
    assert_eq!(feed.status, 200);
    assert!(!feed.body.to_string().contains("maria@example.ru"));
    // Every token-shaped string is counted: John's own turned back, Maria's counted as
    // foreign (issued by this contract, not for this ticket), the rest unknown.
    let count = |tokens: &[&str]| {
        tokens
            .iter()
            .map(|t| written.matches(t).count())
            .sum::<usize>()
    };
    let johns = count(&[
        &john_email,
        john_view.body["requester"]["phone"].as_str().unwrap_or("?"),
    ]);
    let marias = count(&[&maria_email, &maria_phone]);
    assert_eq!(
        rehydration_audits(&app),
        vec![json!({ "replaced": johns, "unknown": 36 - johns, "foreign": marias })]
    );
    assert!(johns >= 3 && marias >= 7, "{johns} {marias}");
    // A reply made of a thousand tokens is answered, and counted, all the same.
    let many: String = (1..=1_200).map(|n| format!("[EMAIL_{n}]")).collect();
    reply(&app, john, &many).await;
    let last = rehydration_audits(&app).pop().unwrap_or_default();
    assert_eq!(
        last,
        json!({ "replaced": 1, "unknown": 1_199, "foreign": 1 })
    );
    // The compliance report counts the probe.
    let made = app
        .post(
            "/api/v1/reports",
            &app.admin(),
            &json!({ "contract": "probe-en", "from": "2026-06-01T00:00:00Z", "to": "2026-06-02T00:00:00Z", "formats": ["json"] }),
        )
        .await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let report = app
        .get(
            &format!("/api/v1/reports/{}", made.body["items"][0]["id"]),
            &app.admin(),
        )
        .await;
    assert_eq!(report.body["rehydrations"]["foreign_tokens"], marias + 1);

    // On Maria's own ticket her tokens do turn back for the in-house side, however wrapped,
    // while the contractor still reads only what it wrote (no glued values to read off).
    let own = format!("x{maria_email}0x заказ {maria_phone}");
    let answer = reply(&app, maria, &own).await;
    assert_eq!(
        reply_as_seen(&app, maria, &answer.body["id"]).await,
        own.as_str()
    );
    let stored = app
        .get(&format!("/api/v1/tickets/{maria}"), &app.inhouse())
        .await;
    assert_eq!(
        stored.body["replies"][0]["body"],
        "xmaria@example.ru0x заказ 79037776655"
    );
}

/// A value the contractor writes itself is never hashed or tokenised back to it: a hash it
/// could compare with its view would confirm a guess.
async fn a_guess_in_a_reply_confirms_nothing(app: TestApp) {
    let maria = shared_ticket(
        &app,
        &customer("A", "Maria Petrova", "maria@example.ru", "+7 903 777-66-55"),
    )
    .await;
    let view = app
        .get(
            &format!("/api/v1/contractor/tickets/{maria}"),
            &app.contractor("probe"),
        )
        .await;
    let description = view.body["description"].as_str().unwrap_or_default();
    assert!(description.contains("[INN#"), "{description}");
    let guess = "Is it ИНН 7707083893 and maria@example.ru, x7707083893x?";
    let answer = reply(&app, maria, guess).await;
    let seen = reply_as_seen(&app, maria, &answer.body["id"]).await;
    assert_eq!(
        seen, guess,
        "shown as written: no hash, no token to compare"
    );
}

on_both_backends!(with probe_contracts:
    tokens_turn_back_only_on_the_ticket_they_were_given_for,
    a_guess_in_a_reply_confirms_nothing,
);

/// `probe-en`, ending on 30 June 2026 (the tests start on 1 June).
fn expiring_contracts(config: &mut msp_bridge::config::Config) {
    let ending = PROBE_CONTRACT.replace(
        r#"valid_until = "2027-12-31""#,
        r#"valid_until = "2026-06-30""#,
    );
    use_contracts(config, &[("probe-en.toml", &ending)]);
}

/// Every contractor endpoint, answered for `ticket`: (list length, read, reply, status,
/// hand-back statuses).
async fn contractor_reach(app: &TestApp, ticket: i64) -> (usize, [u16; 4]) {
    let token = app.contractor("probe");
    let base = format!("/api/v1/contractor/tickets/{ticket}");
    let list = app.get("/api/v1/contractor/tickets", &token).await;
    assert_eq!(list.status, 200);
    let listed = list.body["items"].as_array().map_or(0, Vec::len);
    let read = app.get(&base, &token).await.status;
    let replied = app
        .post(
            &format!("{base}/replies"),
            &token,
            &json!({ "body": "hello", "public": true }),
        )
        .await
        .status;
    let status = app
        .post(
            &format!("{base}/status"),
            &token,
            &json!({ "status": "pending" }),
        )
        .await
        .status;
    let handback = app
        .post(
            &format!("{base}/handback"),
            &token,
            &json!({ "reason": "not ours" }),
        )
        .await
        .status;
    (listed, [read, replied, status, handback])
}

/// A contract past its `valid_until` lets its contractor neither see nor change anything, at
/// once; the sweeper then takes its shares back, audited, and tells both sides why.
async fn a_contract_past_its_dates_grants_nothing_and_its_shares_come_back(app: TestApp) {
    let ticket = shared_ticket(
        &app,
        &customer("A", "Maria Petrova", "maria@example.ru", "+7 903 777-66-55"),
    )
    .await;
    let listed = app
        .get("/api/v1/contractor/tickets", &app.contractor("probe"))
        .await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        app.sweeper.recall_lapsed().unwrap_or(99),
        0,
        "in force: nothing to do"
    );

    // The last day still counts, in the contract's timezone.
    app.clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-06-30T23:59:59Z")
            .map(Into::into)
            .unwrap_or_default(),
    );
    assert_eq!(
        app.get("/api/v1/contractor/tickets", &app.contractor("probe"))
            .await
            .body["items"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    app.clock.set(
        chrono::DateTime::parse_from_rfc3339("2026-07-01T00:00:01Z")
            .map(Into::into)
            .unwrap_or_default(),
    );
    let denied_before = app
        .ledger()
        .iter()
        .filter(|e| e.action == "access.denied")
        .count();
    assert_eq!(
        contractor_reach(&app, ticket).await,
        (0, [404, 404, 404, 404])
    );
    let denied = app
        .ledger()
        .iter()
        .filter(|e| e.action == "access.denied")
        .count();
    assert_eq!(denied - denied_before, 4, "each refused attempt is audited");
    let stored = app
        .get(&format!("/api/v1/tickets/{ticket}"), &app.inhouse())
        .await;
    assert_eq!(
        stored.body["share"]["state"], "open",
        "nothing was changed by the contractor"
    );
    assert_eq!(stored.body["replies"].as_array().map(Vec::len), Some(0));

    let sweeper = app.sweeper.clone();
    let recalled = tokio::task::spawn_blocking(move || sweeper.recall_lapsed())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(recalled, 1);
    assert_eq!(app.sweeper.recall_lapsed().unwrap_or(99), 0, "once");
    let stored = app
        .get(&format!("/api/v1/tickets/{ticket}"), &app.inhouse())
        .await;
    assert_eq!(stored.body["share"]["state"], "recalled");
    let recall = app
        .ledger()
        .into_iter()
        .find(|e| e.action == "share.recall")
        .map(|e| {
            (
                e.actor,
                serde_json::from_str::<Value>(&e.details).unwrap_or_default(),
            )
        })
        .unwrap_or_default();
    assert_eq!(recall.0, "system:contracts");
    assert_eq!(recall.1["cause"], "contract_not_in_force");
    let told = app.contractor_events("probe-en");
    let recalled_event = told
        .iter()
        .find(|e| e["type"] == "share.recalled")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        recalled_event["data"]["reason_code"],
        "contract_not_in_force"
    );
    // The end is carried out once: the contractor is told to delete, naming the tickets taken
    // back; every token value of the contract is erased at once; the ledger says so.
    let last = told.last().cloned().unwrap_or_default();
    assert_eq!(last["type"], "contract.ended", "{told:?}");
    assert_eq!(last["data"]["tickets"], json!([ticket]));
    assert_eq!(last["data"]["reason_code"], "contract_not_in_force");
    assert!(
        last["data"]["delete"]
            .as_str()
            .is_some_and(|d| d.contains("every copy"))
    );
    assert_eq!(
        app.count("vault_tokens WHERE contract_id = 'probe-en' AND purged_at IS NULL"),
        0,
        "no token of the ended contract can be turned back into a value"
    );
    assert!(app.count("vault_tokens WHERE contract_id = 'probe-en'") > 0);
    let ends: Vec<_> = app
        .ledger()
        .into_iter()
        .filter(|e| e.action == "contract.end")
        .collect();
    assert_eq!(ends.len(), 1);
    assert!(
        ends[0].details.contains("\"tickets_recalled\":1"),
        "{}",
        ends[0].details
    );
    assert_eq!(app.sweeper.recall_lapsed().unwrap_or(99), 0);
    assert_eq!(
        app.ledger()
            .iter()
            .filter(|e| e.action == "contract.end")
            .count(),
        1,
        "ended once"
    );
    // The report for the last period says so.
    let report = crate::reports::report_of(
        &app,
        &json!({ "contract": "probe-en", "from": "2026-06-01", "to": "2026-07-02", "formats": ["json", "html"] }),
    )
    .await;
    assert_eq!(report[0].1["contract_ends"][0]["tickets_recalled"], 1);
    assert_eq!(
        report[0].1["contract_ends"][0]["reason_code"],
        "contract_not_in_force"
    );
    let html = report[1].1.as_str().unwrap_or_default();
    assert!(
        html.contains("Contracts ended") && html.contains("its validity dates passed"),
        "{html}"
    );
    let feed = app.get("/api/v1/events?limit=500", &app.inhouse()).await;
    let inhouse = feed.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["type"] == "share.recalled")
        .cloned()
        .unwrap_or_default();
    assert_eq!(inhouse["data"]["reason_code"], "contract_not_in_force");
    assert!(
        inhouse["data"]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("ended on 2026-06-30"),
        "{inhouse}"
    );
}

/// A contract whose file is removed is withdrawn when the gateway next starts: its shares are
/// recalled at once, and restoring the file brings the contract back as a new version.
async fn a_removed_contract_is_withdrawn_and_its_shares_recalled(backend: Backend) {
    let (receiver, url) = Receiver::start(&[]);
    let with_endpoint = format!(
        "{PROBE_CONTRACT}\n[endpoint]\nurl = \"{url}\"\nsecret_env = \"BRIDGE_TEST_WEBHOOK_SECRET\"\n"
    );
    let Some(app) = spawn_with(backend, |c| {
        use_contracts(c, &[("probe-en.toml", &with_endpoint)]);
    })
    .await
    else {
        return eprintln!("BRIDGE_TEST_POSTGRES_URL unset: PostgreSQL variant not run");
    };
    let ticket = shared_ticket(
        &app,
        &customer("A", "Maria Petrova", "maria@example.ru", "+7 903 777-66-55"),
    )
    .await;
    let file = app.config().contracts_dir.join("probe-en.toml");
    std::fs::remove_file(&file).unwrap_or_else(|e| panic!("{e}"));
    // An empty folder is taken for a mistake: the gateway refuses to start rather than take
    // every ticket back.
    let refused = Application::build(app.config(), std::sync::Arc::new(app.clock.clone()));
    let error = refused.err().map(|e| format!("{e:#}")).unwrap_or_default();
    assert!(error.contains("holds no contract"), "{error}");
    let still = app
        .get(
            &format!("/api/v1/contractor/tickets/{ticket}"),
            &app.contractor("probe"),
        )
        .await;
    assert_eq!(still.status, 200, "nothing changed");

    // With another contract in the folder, probe-en's absence is a withdrawal.
    std::fs::write(
        app.config().contracts_dir.join("other.toml"),
        PROBE_CONTRACT
            .replace("probe-en", "other-en")
            .replace(r#"contractor = "probe""#, r#"contractor = "other""#),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let app = app.restarted().await;
    assert_eq!(
        contractor_reach(&app, ticket).await,
        (0, [404, 404, 404, 404])
    );
    let stored = app
        .get(&format!("/api/v1/tickets/{ticket}"), &app.inhouse())
        .await;
    assert_eq!(stored.body["share"]["state"], "recalled");
    let actions: Vec<(String, Value)> = app
        .ledger()
        .into_iter()
        .map(|e| {
            (
                e.action,
                serde_json::from_str(&e.details).unwrap_or_default(),
            )
        })
        .collect();
    assert!(
        actions
            .iter()
            .any(|(a, d)| a == "contract.withdraw" && d["reason"] == "file_removed")
    );
    assert!(
        actions
            .iter()
            .any(|(a, d)| a == "share.recall" && d["cause"] == "contract_withdrawn")
    );
    let last = app
        .contractor_events("probe-en")
        .last()
        .cloned()
        .unwrap_or_default();
    assert_eq!(last["data"]["reason_code"], "contract_withdrawn");
    // Its contractor is told, at the endpoint of the contract as last stored. (An event the
    // stopped gateway had claimed but not sent is sent again once its claim runs out, on the
    // gateway's clock.)
    app.clock.advance(chrono::Duration::minutes(1));
    receiver
        .wait_until(
            |r| {
                r.delivered()
                    .iter()
                    .any(|d| d.envelope()["data"]["reason_code"] == "contract_withdrawn")
            },
            || {},
        )
        .await;

    // The file comes back: a new version, in force again (the recalled ticket stays recalled).
    std::fs::write(&file, &with_endpoint).unwrap_or_else(|e| panic!("{e}"));
    std::fs::remove_file(app.config().contracts_dir.join("other.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let app = app.restarted().await;
    let history = app
        .db
        .read(|c| {
            msp_bridge::contracts::history(c, "probe-en").map_err(msp_bridge::db::DbError::from)
        })
        .unwrap_or_default();
    assert_eq!(history.len(), 2, "restored as version 2");
    let again = shared_ticket(
        &app,
        &customer("B", "John Smith", "john@example.com", "+44 20 7946 0958"),
    )
    .await;
    assert_eq!(contractor_reach(&app, again).await.1[0], 200);
    let stored = app
        .get(&format!("/api/v1/tickets/{ticket}"), &app.inhouse())
        .await;
    assert_eq!(stored.body["share"]["state"], "recalled");
}

mod a_removed_contract_is_withdrawn_and_its_shares_recalled {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::a_removed_contract_is_withdrawn_and_its_shares_recalled(
            crate::helpers::Backend::Sqlite,
        )
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::a_removed_contract_is_withdrawn_and_its_shares_recalled(
            crate::helpers::Backend::Postgres,
        )
        .await;
    }
}

on_both_backends!(with expiring_contracts:
    a_contract_past_its_dates_grants_nothing_and_its_shares_come_back,
);

/// A client that sends its headers and then never finishes the body is answered 408 once the
/// body deadline passes, instead of holding the request open for as long as it likes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_never_arrives_times_out() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_with(Backend::Sqlite, |c| c.body_timeout_ms = 200)
        .await
        .unwrap_or_else(|| panic!("sqlite always runs"));
    let address = app.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let head = format!(
        "POST /api/v1/tickets HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"subject\": \"slow",
        app.inhouse()
    );
    stream
        .write_all(head.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut answer = Vec::new();
    let mut buf = [0_u8; 4096];
    while !String::from_utf8_lossy(&answer).contains("request_timeout") {
        let n = tokio::time::timeout(std::time::Duration::from_secs(30), stream.read(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("no answer: {}", String::from_utf8_lossy(&answer)))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            n > 0,
            "closed without an answer: {}",
            String::from_utf8_lossy(&answer)
        );
        answer.extend_from_slice(&buf[..n]);
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert_eq!(app.count("tickets"), 0);
}

/// Answers are never cached or sniffed; an HTML report from the API runs no script; the
/// metrics, which name contracts and their figures, can be kept to a bearer of their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_carry_protective_headers_and_metrics_can_be_closed() {
    let app = spawn_with(Backend::Sqlite, |c| {
        c.metrics_token = Some(msp_bridge::sensitive::Sensitive(
            "metrics-only-secret".into(),
        ));
    })
    .await
    .unwrap_or_else(|| panic!("sqlite always runs"));
    let ticket = app.ingest(&crate::helpers::ticket_en("H-1")).await.body["id"]
        .as_i64()
        .unwrap_or_default();
    for (path, token) in [
        (
            format!("/api/v1/contractor/tickets/{ticket}"),
            app.contractor("acme"),
        ),
        (format!("/api/v1/tickets/{ticket}"), app.inhouse()),
        ("/api/v1/tickets/999".to_owned(), app.inhouse()),
        ("/healthz".to_owned(), String::new()),
    ] {
        let resp = app
            .client
            .get(format!("{}{path}", app.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(header("cache-control"), "no-store", "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
    }
    let made = app
        .post(
            "/api/v1/reports",
            &app.admin(),
            &json!({ "from": "2026-06-01T00:00:00Z", "to": "2026-06-02T00:00:00Z", "formats": ["html"] }),
        )
        .await;
    let html = app
        .client
        .get(format!(
            "{}/api/v1/reports/{}",
            app.base, made.body["items"][0]["id"]
        ))
        .bearer_auth(app.admin())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let csp = html
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");

    let metrics = |token: Option<&'static str>| {
        let mut req = app.client.get(format!("{}/metrics", app.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let closed = metrics(None).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(closed.status().as_u16(), 401);
    assert!(!closed.text().await.unwrap_or_default().contains("acme-en"));
    assert_eq!(
        metrics(Some("wrong"))
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or_default(),
        401
    );
    let open = metrics(Some("metrics-only-secret"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(open.status().as_u16(), 200);
    assert!(
        open.text()
            .await
            .unwrap_or_default()
            .contains("bridge_tickets_ingested_total")
    );
}
