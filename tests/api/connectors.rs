//! Helpdesk connectors against a real Request Tracker 5 (`scripts/rt up` installs and starts
//! one on loopback and prints the `BRIDGE_TEST_RT_*` variables; `scripts/test` does this).
//! Without them the RT scenarios say so and do not run; the failure scenarios need no RT.

use diesel::prelude::*;
use msp_bridge::clock::Clock as _;
use msp_bridge::config::Config;
use msp_bridge::connectors::ConnectorError;
use serde_json::{Value, json};

use crate::helpers::{TestApp, use_contracts};
use crate::on_both_backends;

/// The agent's side of the test RT: what a helpdesk user does there.
struct Rt {
    url: String,
    agent: String,
    gateway: String,
    client: reqwest::Client,
}

impl Rt {
    fn from_env() -> Option<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let Some(url) = var("BRIDGE_TEST_RT_URL") else {
            eprintln!(
                "BRIDGE_TEST_RT_URL unset (run `eval \"$(scripts/rt up)\"`): RT scenario not run"
            );
            return None;
        };
        Some(Self {
            url,
            agent: var("BRIDGE_TEST_RT_AGENT_TOKEN").unwrap_or_default(),
            gateway: var("BRIDGE_TEST_RT_GATEWAY_TOKEN").unwrap_or_default(),
            client: reqwest::Client::new(),
        })
    }

    async fn call(&self, token: &str, method: reqwest::Method, path: &str, body: Value) -> Value {
        let response = self
            .client
            .request(method, format!("{}{path}", self.url))
            .header("Authorization", format!("token {token}"))
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{path}: {status} {answer}");
        answer
    }

    async fn as_agent(&self, path: &str, body: Value) -> Value {
        self.call(&self.agent, reqwest::Method::POST, path, body)
            .await
    }

    /// Creates a ticket in `queue` as the agent; returns its RT id.
    async fn create(&self, queue: &str, subject: &str, content: &str) -> String {
        let created = self
            .as_agent(
                "/ticket",
                json!({ "Queue": queue, "Subject": subject, "Content": content,
                        "ContentType": "text/plain", "Requestor": "ivan.petrov@example.ru",
                        "Priority": 50 }),
            )
            .await;
        created["id"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("{created}"))
    }
}

/// The queue the connector of this app reads.
fn queue_of(app: &TestApp) -> String {
    app.pollers[0].client.connector().queues[0].clone()
}

/// A contract that shares every RT ticket (they come in through the API, in any language).
fn rt_contract(config: &mut Config) {
    let acme = std::fs::read_to_string(crate::helpers::test_contracts_dir().join("acme-en.toml"))
        .unwrap_or_else(|e| panic!("{e}"))
        .replace(
            "channels = [\"email\", \"chat\"]",
            "channels = [\"email\", \"chat\", \"api\"]",
        )
        .replace("languages = [\"en\"]\n", "");
    use_contracts(config, &[("acme-en.toml", &acme)]);
}

/// Writes a connector file for a fresh queue of the test RT, polled only on demand.
fn rt_connector(config: &mut Config) {
    rt_contract(config);
    match std::env::var("BRIDGE_TEST_RT_URL") {
        Ok(url) => write_connector(
            config,
            &url,
            Token::Env("BRIDGE_TEST_RT_GATEWAY_TOKEN"),
            3_600_000,
        ),
        // No RT: the scenario will not run, but the gateway must still start.
        Err(_) => unreachable_helpdesk(config),
    }
}

/// Where a connector file says its token is.
enum Token {
    Env(&'static str),
    File(&'static str),
}

fn write_connector(config: &mut Config, url: &str, token: Token, poll_ms: u64) {
    let token = match token {
        Token::Env(var) => format!("token_env = \"{var}\""),
        Token::File(path) => format!("token_file = \"{path}\""),
    };
    let queue = format!("gw-{}", msp_bridge::random::random_hex(6));
    std::fs::create_dir_all(&config.connectors_dir).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        config.connectors_dir.join("rt.toml"),
        format!(
            "id = \"rt-test\"\nkind = \"rt\"\nurl = \"{url}\"\n{token}\n\
             user = \"msp-bridge\"\nqueues = [\"{queue}\"]\npoll_ms = {poll_ms}\n"
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
}

/// The gateway's id of RT ticket `rt_id`, if it was taken in.
fn gateway_id(app: &TestApp, rt_id: &str) -> Option<i64> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }
    let rt_id = rt_id.to_owned();
    app.db
        .read(move |c| {
            diesel::sql_query(format!(
                "SELECT id FROM tickets WHERE source = 'rt-test' AND external_id = '{rt_id}'"
            ))
            .get_result::<Id>(c)
            .optional()
            .map_err(msp_bridge::db::DbError::from)
        })
        .unwrap_or_else(|e| panic!("{e}"))
        .map(|row| row.id)
}

async fn poll(app: &TestApp) -> msp_bridge::jobs::connector_poll::PollReport {
    app.pollers[0]
        .poll_once()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn rt_tickets_are_taken_in_once_with_their_messages(app: TestApp) {
    let Some(rt) = Rt::from_env() else { return };
    let queue = queue_of(&app);
    rt.as_agent("/queue", json!({ "Name": queue })).await;
    let ticket = rt
        .create(&queue, "Refund", "Please call me on +7 912 345-67-89.")
        .await;
    rt.as_agent(
        &format!("/ticket/{ticket}/correspond"),
        json!({ "Content": "We are on it.", "ContentType": "text/plain" }),
    )
    .await;
    rt.as_agent(
        &format!("/ticket/{ticket}/comment"),
        json!({ "Content": "Internal: VIP customer", "ContentType": "text/plain" }),
    )
    .await;

    let first = poll(&app).await;
    assert_eq!(first.ingested, 1, "{first:?}");
    assert!(first.rejected.is_empty());
    let id = gateway_id(&app, &ticket).unwrap_or_else(|| panic!("RT ticket {ticket} not taken in"));
    let stored = app
        .get(&format!("/api/v1/tickets/{id}"), &app.inhouse())
        .await;
    assert_eq!(stored.status, 200, "{:?}", stored.body);
    assert_eq!(stored.body["category"], json!(queue));
    assert_eq!(
        stored.body["description"],
        "Please call me on +7 912 345-67-89."
    );
    let bodies = |v: &Value| -> Vec<(String, bool)> {
        v["comments"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                (
                    c["body"].as_str().unwrap_or_default().to_owned(),
                    c["public"].as_bool().unwrap_or_default(),
                )
            })
            .collect()
    };
    assert_eq!(
        bodies(&stored.body),
        [
            ("We are on it.".to_owned(), true),
            ("Internal: VIP customer".to_owned(), false)
        ]
    );
    // Shared, and the contractor sees it redacted: no phone, no address, no internal note.
    assert_eq!(
        stored.body["routing"]["outcome"], "shared",
        "{:?}",
        stored.body
    );
    let seen = app.contractor_view("acme", id).await;
    assert_eq!(seen.status, 200);
    let text = seen.body.to_string();
    for secret in ["345-67-89", "ivan.petrov@example.ru", "VIP customer"] {
        assert!(
            !text.contains(secret),
            "{secret} reached the contractor: {text}"
        );
    }

    // Nothing new: nothing read again.
    let idle = poll(&app).await;
    assert_eq!((idle.changes, idle.ingested), (0, 0), "{idle:?}");

    // What the gateway writes as its own RT user is not news (no echo) …
    rt.call(
        &rt.gateway,
        reqwest::Method::POST,
        &format!("/ticket/{ticket}/correspond"),
        json!({ "Content": "Reply from the contractor", "ContentType": "text/plain" }),
    )
    .await;
    let own = poll(&app).await;
    assert_eq!(own.ingested, 0, "{own:?}");
    // … and a later change by the agent brings only the agent's message.
    rt.as_agent(
        &format!("/ticket/{ticket}/correspond"),
        json!({ "Content": "Any news?", "ContentType": "text/plain" }),
    )
    .await;
    let app = app.restarted().await;
    let next = poll(&app).await;
    assert_eq!(next.ingested, 1, "{next:?}");
    let stored = app
        .get(&format!("/api/v1/tickets/{id}"), &app.inhouse())
        .await;
    let comments = bodies(&stored.body);
    assert_eq!(comments.len(), 3, "{comments:?}");
    assert_eq!(comments[2], ("Any news?".to_owned(), true));
    assert!(
        !comments
            .iter()
            .any(|(b, _)| b.contains("from the contractor")),
        "{comments:?}"
    );
    // The cursor survived the restart: the earlier changes were not read again.
    let after = poll(&app).await;
    assert_eq!(after.changes, 0);
    let ready = app.get("/readyz", "").await;
    assert_eq!(ready.body["connectors"][0]["connector"], "rt-test");
    assert_eq!(ready.body["connectors"][0]["failures"], 0);
    assert!(ready.body["connectors"][0]["position"].as_i64() > Some(0));
}

/// The messages the gateway's RT user wrote into ticket `id`: (type, text).
/// The gateway's messages in RT ticket `id`: (type, transaction id), oldest first.
async fn gateway_messages(rt: &Rt, id: &str) -> Vec<(String, String)> {
    let history = rt
        .call(
            &rt.agent,
            reqwest::Method::GET,
            &format!("/ticket/{id}/history?per_page=100&fields=Type,Creator"),
            Value::Null,
        )
        .await;
    let mut out = Vec::new();
    for item in history["items"].as_array().into_iter().flatten() {
        let kind = item["Type"].as_str().unwrap_or_default();
        if item["Creator"]["id"] != "msp-bridge" || !matches!(kind, "Correspond" | "Comment") {
            continue;
        }
        let txn = item["id"].as_str().unwrap_or_default();
        out.push((kind.to_owned(), txn.to_owned()));
    }
    out
}

async fn written_by_gateway(rt: &Rt, id: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (kind, txn) in gateway_messages(rt, id).await {
        let parts = rt
            .call(
                &rt.agent,
                reqwest::Method::GET,
                &format!("/transaction/{txn}/attachments?fields=Content"),
                Value::Null,
            )
            .await;
        let text = parts["items"][0]["Content"].as_str().unwrap_or_default();
        out.push((kind, text.trim_end().to_owned()));
    }
    out
}

async fn rt_status(rt: &Rt, id: &str) -> (String, String) {
    let ticket = rt
        .call(
            &rt.agent,
            reqwest::Method::GET,
            &format!("/ticket/{id}"),
            Value::Null,
        )
        .await;
    (
        ticket["Status"].as_str().unwrap_or_default().to_owned(),
        ticket["Priority"].as_str().unwrap_or_default().to_owned(),
    )
}

async fn contractor_work_is_written_back_into_rt_once(app: TestApp) {
    let Some(rt) = Rt::from_env() else { return };
    let queue = queue_of(&app);
    rt.as_agent("/queue", json!({ "Name": queue })).await;
    let ticket = rt
        .create(&queue, "Refund", "Mail me at ivan.petrov@example.ru")
        .await;
    poll(&app).await;
    let id = gateway_id(&app, &ticket).unwrap_or_else(|| panic!("not taken in"));
    let acme = app.contractor("acme");
    let seen = app.contractor_view("acme", id).await;
    // The contractor answers with the token it sees; RT gets the real address back.
    let token = seen.body["requester"]["email"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(token, "[EMAIL_1]", "{:?}", seen.body);
    for (path, body) in [
        (
            "replies",
            json!({ "body": format!("Refund sent to {token}."), "public": true }),
        ),
        (
            "replies",
            json!({ "body": "Checked with billing.", "public": false }),
        ),
        ("status", json!({ "status": "pending" })),
    ] {
        let done = app
            .post(
                &format!("/api/v1/contractor/tickets/{id}/{path}"),
                &acme,
                &body,
            )
            .await;
        assert!(done.status < 300, "{path}: {:?}", done.body);
    }
    let report = app.pollers[0]
        .write_back_once()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (report.written, report.found, report.dead),
        (3, 0, 0),
        "{report:?}"
    );
    let expected_reply = "Refund sent to ivan.petrov@example.ru.".to_owned();
    assert_eq!(
        written_by_gateway(&rt, &ticket).await,
        [
            ("Correspond".to_owned(), expected_reply.clone()),
            ("Comment".to_owned(), "Checked with billing.".to_owned())
        ]
    );
    assert_eq!(rt_status(&rt, &ticket).await.0, "stalled");
    // Written once: a second round has nothing to do, and reading RT brings no echo.
    let again = app.pollers[0]
        .write_back_once()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.written, 0, "{again:?}");
    let comments = app.count(&format!("comments WHERE ticket_id = {id}"));
    poll(&app).await;
    assert_eq!(
        app.count(&format!("comments WHERE ticket_id = {id}")),
        comments
    );

    // A crash after RT answered but before the gateway noted it: the writes are found in RT
    // and not made again (the status, which is the same sent twice, is simply sent again).
    app.execute(
        "UPDATE connector_writes SET state = 'failed'; \
         UPDATE connector_cursors SET write_position = 0",
    );
    let recovered = app.pollers[0]
        .write_back_once()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (recovered.found, recovered.written),
        (2, 1),
        "{recovered:?}"
    );
    assert_eq!(written_by_gateway(&rt, &ticket).await.len(), 2);

    // A write claimed but never made (the process died before calling RT) is made once.
    let later = app
        .post(
            &format!("/api/v1/contractor/tickets/{id}/replies"),
            &acme,
            &json!({ "body": "One more thing.", "public": true }),
        )
        .await;
    assert_eq!(later.status, 201, "{:?}", later.body);
    app.execute(
        "INSERT INTO connector_writes (connector, event_id, state, attempted_at, attempts) \
         SELECT 'rt-test', event_id, 'failed', created_at, 1 FROM outbox_events \
         WHERE audience = 'inhouse' AND event_type = 'share.replied' \
         AND event_id NOT IN (SELECT event_id FROM connector_writes)",
    );
    let resumed = app.pollers[0]
        .write_back_once()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((resumed.found, resumed.written), (0, 1), "{resumed:?}");
    let written = written_by_gateway(&rt, &ticket).await;
    assert_eq!(
        written.last(),
        Some(&("Correspond".to_owned(), "One more thing.".to_owned()))
    );
    assert_eq!(written.len(), 3);
}

async fn replicas_take_each_rt_change_once(app: TestApp) {
    let Some(rt) = Rt::from_env() else { return };
    let queue = queue_of(&app);
    rt.as_agent("/queue", json!({ "Name": queue })).await;
    let ticket = rt.create(&queue, "Two readers", "Hello").await;
    rt.as_agent(
        &format!("/ticket/{ticket}/correspond"),
        json!({ "Content": "Once", "ContentType": "text/plain" }),
    )
    .await;
    let other = app.replica();
    let (a, b) = tokio::join!(app.pollers[0].poll_once(), other.pollers[0].poll_once());
    let mut ingested = 0;
    for round in [a, b] {
        match round {
            Ok(report) => ingested += report.ingested,
            Err(ConnectorError::Overtaken) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(ingested, 1, "the changes were taken by exactly one replica");
    let id = gateway_id(&app, &ticket).unwrap_or_else(|| panic!("not taken in"));
    assert_eq!(
        app.count(&format!("comments WHERE ticket_id = {id}")),
        1,
        "one comment, once"
    );
    // The replica that lost finds nothing left.
    let again = other.pollers[0].poll_once().await;
    assert!(matches!(again, Ok(ref r) if r.changes == 0), "{again:?}");
}

/// As [`rt_connector`], with the background job on and polling every 0.2 s.
fn rt_connector_polling(config: &mut Config) {
    rt_connector(config);
    config.connector_jobs = true;
    let file = config.connectors_dir.join("rt.toml");
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&file, text.replace("poll_ms = 3600000", "poll_ms = 200"))
        .unwrap_or_else(|e| panic!("{e}"));
}

async fn the_background_poll_takes_rt_tickets_in(app: TestApp) {
    let Some(rt) = Rt::from_env() else { return };
    let queue = queue_of(&app);
    rt.as_agent("/queue", json!({ "Name": queue })).await;
    let ticket = rt.create(&queue, "By itself", "Hello").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    // RT is a real server on its own clock: the test waits for the job as a user would.
    while gateway_id(&app, &ticket).is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "the job did not take RT ticket {ticket} in within 30 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let metrics = app.get("/metrics", "").await;
    let text = metrics.body.as_str().unwrap_or_default().to_owned();
    assert!(
        text.contains("bridge_connector_rounds_total{connector=\"rt-test\"}"),
        "{text}"
    );
}

/// As [`rt_connector`] (polled once an hour), with the background job on.
fn rt_connector_job(config: &mut Config) {
    rt_connector(config);
    config.connector_jobs = true;
}

async fn a_contractor_reply_is_written_into_rt_at_once(app: TestApp) {
    let Some(rt) = Rt::from_env() else { return };
    let queue = queue_of(&app);
    rt.as_agent("/queue", json!({ "Name": queue })).await;
    let ticket = rt.create(&queue, "Quick", "Hello").await;
    poll(&app).await;
    let id = gateway_id(&app, &ticket).unwrap_or_else(|| panic!("not taken in"));
    let reply = app
        .post(
            &format!("/api/v1/contractor/tickets/{id}/replies"),
            &app.contractor("acme"),
            &json!({ "body": "On it.", "public": true }),
        )
        .await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    // The job polls once an hour, but the reply's event wakes it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while written_by_gateway(&rt, &ticket).await.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the reply did not reach RT within 30 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        written_by_gateway(&rt, &ticket).await,
        [("Correspond".to_owned(), "On it.".to_owned())]
    );
}

fn unreachable_helpdesk(config: &mut Config) {
    std::fs::create_dir_all(&config.connectors_dir).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(config.connectors_dir.join("rt.token"), "1-2-nothing")
        .unwrap_or_else(|e| panic!("{e}"));
    // Port 9 (discard) is closed on loopback: the connection is refused at once.
    write_connector(
        config,
        "http://127.0.0.1:9/REST/2.0",
        Token::File("rt.token"),
        3_600_000,
    );
}

async fn an_unreachable_helpdesk_is_noted_and_moves_nothing(app: TestApp) {
    for round in 1..=2 {
        let failed = app.pollers[0].poll_once().await;
        assert!(
            matches!(failed, Err(ConnectorError::Unreachable { .. })),
            "{failed:?}"
        );
        let ready = app.get("/readyz", "").await;
        assert_eq!(
            ready.status, 200,
            "a helpdesk outage leaves the gateway ready"
        );
        let health = &ready.body["connectors"][0];
        assert_eq!(
            (&health["failures"], &health["position"]),
            (&json!(round), &json!(0))
        );
        let why = health["last_error"].as_str().unwrap_or_default();
        assert!(why.starts_with("read: GET /transactions"), "{why}");
        assert!(!why.contains("nothing"), "the token is never shown: {why}");
    }
    let metrics = app.get("/metrics", "").await;
    let text = metrics.body.as_str().unwrap_or_default().to_owned();
    assert!(
        text.contains("bridge_connector_failures_total{connector=\"rt-test\"} 2"),
        "{text}"
    );
}

on_both_backends!(with rt_connector:
    rt_tickets_are_taken_in_once_with_their_messages,
    contractor_work_is_written_back_into_rt_once,
    replicas_take_each_rt_change_once,
);
on_both_backends!(with rt_connector_polling: the_background_poll_takes_rt_tickets_in);

/// [`rt_connector`], under a contract that sends text files (scanned) and no other type.
fn rt_connector_with_files(config: &mut Config) {
    rt_connector(config);
    let path = config.contracts_dir.join("acme-en.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
    let text = text.replace(
        "[confidentiality]\n",
        "[confidentiality]\nattachments = [\"text/plain\"]\n",
    );
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
}

/// The files of the gateway's messages in RT ticket `id`: (name, type, content).
async fn files_written_by_gateway(rt: &Rt, id: &str) -> Vec<(String, String, Vec<u8>)> {
    use base64::Engine as _;
    let mut out = Vec::new();
    for (_, txn) in gateway_messages(rt, id).await {
        let parts = rt
            .call(
                &rt.agent,
                reqwest::Method::GET,
                &format!("/transaction/{txn}/attachments?fields=Filename,ContentType"),
                Value::Null,
            )
            .await;
        for part in parts["items"].as_array().into_iter().flatten() {
            let name = part["Filename"].as_str().unwrap_or_default();
            if name.is_empty() {
                continue;
            }
            let record = rt
                .call(
                    &rt.agent,
                    reqwest::Method::GET,
                    &format!("/attachment/{}", part["id"].as_str().unwrap_or_default()),
                    Value::Null,
                )
                .await;
            let encoded: String = record["Content"]
                .as_str()
                .unwrap_or_default()
                .split_whitespace()
                .collect();
            let content = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .unwrap_or_default();
            let media = part["ContentType"].as_str().unwrap_or_default().to_owned();
            out.push((name.to_owned(), media, content));
        }
    }
    out
}

async fn rt_files_are_redacted_or_withheld_and_reply_files_go_back(app: TestApp) {
    use base64::Engine as _;
    let Some(rt) = Rt::from_env() else { return };
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let queue = queue_of(&app);
    rt.as_agent("/queue", json!({ "Name": queue })).await;
    let scan = "Паспорт 4510 654321, почта ivan.petrov@example.ru\n";
    let png: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x01\xff";
    let created = rt
        .as_agent(
            "/ticket",
            json!({ "Queue": queue, "Subject": "Документы", "Content": "Файлы во вложении",
                    "ContentType": "text/plain", "Requestor": "ivan.petrov@example.ru",
                    "Attachments": [
                        { "FileName": "scan.txt", "FileType": "text/plain", "FileContent": b64(scan.as_bytes()) },
                        { "FileName": "shot.png", "FileType": "image/png", "FileContent": b64(png) },
                    ] }),
        )
        .await;
    let ticket = created["id"].as_str().unwrap_or_default().to_owned();
    poll(&app).await;
    let id = gateway_id(&app, &ticket).unwrap_or_else(|| panic!("not taken in"));

    // The in-house copy holds both files byte for byte (binary content read from each file's
    // own record, not from RT's listing, which mangles it); the text part is not a file.
    let inhouse = app
        .get(&format!("/api/v1/tickets/{id}"), &app.inhouse())
        .await;
    assert_eq!(inhouse.body["description"], "Файлы во вложении");
    let files = inhouse.body["attachments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(files.len(), 2, "{files:?}");
    let shot = files
        .iter()
        .find(|f| f["file_name"] == "shot.png")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        shot["sha256"],
        msp_bridge::crypto::sha256_hex(png),
        "{shot}"
    );

    // The contractor: the text file redacted, the image withheld (not a passed type).
    let acme = app.contractor("acme");
    let view = app.contractor_view("acme", id).await;
    let listed = view.body["attachments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let find = |name: &str| {
        listed
            .iter()
            .find(|f| f["file_name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} not in {listed:?}"))
    };
    assert_eq!(find("shot.png")["withheld"], "type_not_allowed");
    let text = find("scan.txt");
    assert_eq!(text["disposition"], "redacted");
    let got = app
        .client
        .get(format!(
            "{}/api/v1/contractor/tickets/{id}/attachments/{}",
            app.base, text["id"]
        ))
        .bearer_auth(&acme)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .text()
        .await
        .unwrap_or_default();
    assert!(got.starts_with("Паспорт"), "{got}");
    for secret in ["4510 654321", "ivan.petrov@example.ru"] {
        assert!(!got.contains(secret), "{secret} in {got}");
    }
    let token = view.body["requester"]["email"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(got.contains(&token), "{got}");

    // A reply's file goes into RT with the correspondence, its token turned back.
    let summary = format!("Возврат отправлен на {token}\n");
    let reply = app
        .post(
            &format!("/api/v1/contractor/tickets/{id}/replies"),
            &acme,
            &json!({ "body": "Готово, справка во вложении.", "public": true,
                     "attachments": [{ "file_name": "справка.txt", "media_type": "text/plain",
                                       "content": b64(summary.as_bytes()) }] }),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let report = app.pollers[0]
        .write_back_once()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.written, 1, "{report:?}");
    let written = files_written_by_gateway(&rt, &ticket).await;
    assert_eq!(written.len(), 1, "{written:?}");
    let (name, media, content) = &written[0];
    assert_eq!(
        (name.as_str(), media.as_str()),
        ("справка.txt", "text/plain")
    );
    assert_eq!(
        String::from_utf8_lossy(content),
        "Возврат отправлен на ivan.petrov@example.ru\n"
    );
    // The gateway's own correspondence is not read back as news.
    let files_before = app.count(&format!("attachments WHERE ticket_id = {id}"));
    poll(&app).await;
    assert_eq!(
        app.count(&format!("attachments WHERE ticket_id = {id}")),
        files_before
    );
}

on_both_backends!(with rt_connector_with_files: rt_files_are_redacted_or_withheld_and_reply_files_go_back);
on_both_backends!(with rt_connector_job: a_contractor_reply_is_written_into_rt_at_once);
async fn a_connection_held_by_another_replica_is_left_alone(app: TestApp) {
    let now = app.clock.now();
    let held = app
        .db
        .write(move |c| {
            msp_bridge::connectors::cursor::take_lease(
                c,
                "rt-test",
                "another-replica",
                now,
                chrono::Duration::minutes(5),
            )
            .map_err(msp_bridge::db::DbError::from)
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(held);
    // The helpdesk is unreachable: a round that talked to it would fail.
    let read = app.pollers[0]
        .poll_once()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let write = app.pollers[0]
        .write_back_once()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(read.skipped && write.skipped, "{read:?} {write:?}");
    // The other replica died holding it: once its lease has run out, this one takes over.
    app.clock.advance(chrono::Duration::minutes(6));
    let taken = app.pollers[0].poll_once().await;
    assert!(
        matches!(taken, Err(ConnectorError::Unreachable { .. })),
        "{taken:?}"
    );
}

/// A stand-in for RT whose feed names two tickets the gateway user can no longer read.
async fn vanishing_rt(
    req: actix_web::HttpRequest,
    _state: actix_web::web::Data<()>,
) -> actix_web::HttpResponse {
    let query = urlencoding_decode(req.query_string());
    if req.path() == "/REST/2.0/transactions" && query.contains("id > 0 ") {
        return actix_web::HttpResponse::Ok().json(json!({ "items": [
            { "id": "5", "ObjectId": "1", "Created": "2026-06-01T09:00:00Z" },
            { "id": "6", "ObjectId": "2", "Created": "2026-06-01T09:01:00Z" } ] }));
    }
    if req.path() == "/REST/2.0/transactions" {
        return actix_web::HttpResponse::Ok().json(json!({ "items": [] }));
    }
    let status = if req.path().ends_with("/1") { 404 } else { 403 };
    actix_web::HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status)
            .unwrap_or(actix_web::http::StatusCode::NOT_FOUND),
    )
    .json(json!({ "message": "Not Found" }))
}

fn urlencoding_decode(query: &str) -> String {
    url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| format!("{k}={v} "))
        .collect()
}

async fn tickets_gone_from_sight_are_passed_over(app: TestApp) {
    let port = crate::receiver::serve_on_loopback((), vanishing_rt);
    let mut config = app.config().clone();
    write_connector(
        &mut config,
        &format!("http://127.0.0.1:{port}/REST/2.0"),
        Token::File("rt.token"),
        3_600_000,
    );
    let app = app.restarted().await;
    let report = poll(&app).await;
    assert_eq!(report.rejected, ["1", "2"], "{report:?}");
    assert_eq!(report.ingested, 0);
    // The round went on and moved past them: the next one asks from transaction 6.
    let next = poll(&app).await;
    assert_eq!(next.changes, 0, "{next:?}");
}

on_both_backends!(with unreachable_helpdesk:
    tickets_gone_from_sight_are_passed_over,
    an_unreachable_helpdesk_is_noted_and_moves_nothing,
    a_connection_held_by_another_replica_is_left_alone,
);
