//! Webhook delivery against real receivers on 127.0.0.1: signatures checked with an
//! independent implementation of the Standard Webhooks scheme, retries in order, `Retry-After`,
//! timeouts, dead letters and replay, and two gateways sharing one database.

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::Duration as Span;
use msp_bridge::clock::Clock;
use serde_json::{Value, json};

use crate::helpers::{Backend, EN_SECRETS, TestApp, spawn_with, ticket_en};
use crate::receiver::{Received, Receiver, Reply};

const INHOUSE_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// HMAC-SHA256 written out from its definition (RFC 2104) on plain SHA-256, so the check
/// shares nothing with the gateway's signing code.
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    use ring::digest::{SHA256, digest};
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(digest(&SHA256, key).as_ref());
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = digest(&SHA256, &[pad(0x36), message.to_vec()].concat());
    digest(&SHA256, &[pad(0x5c), inner.as_ref().to_vec()].concat())
        .as_ref()
        .to_vec()
}

/// Checks a request as a Standard Webhooks receiver would.
/// Verifies as the Standard Webhooks libraries do: the secret is base64, after an optional
/// `whsec_`.
fn verify(secret: &str, r: &Received) {
    let key = BASE64
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .unwrap_or_else(|e| panic!("the test secret is not base64: {e}"));
    let signed = format!("{}.{}.{}", r.id, r.timestamp, r.body);
    let expected = format!("v1,{}", BASE64.encode(hmac_sha256(&key, signed.as_bytes())));
    assert!(
        r.signature.split(' ').any(|s| s == expected),
        "bad signature on {}: {} (expected {expected})",
        r.id,
        r.signature
    );
    assert_eq!(
        r.envelope()["id"],
        r.id.as_str(),
        "webhook-id is the event id"
    );
}

/// Test contracts: the fixtures, with acme's contractor receiving webhooks at `url`. The
/// secret is `BRIDGE_TEST_WEBHOOK_SECRET`, which `.cargo/config.toml` gives every test
/// process, so no test needs to change its own environment.
fn contracts_with_endpoint(dir: &std::path::Path, url: &str) -> std::path::PathBuf {
    let folder = dir.join("contracts");
    std::fs::create_dir_all(&folder).unwrap_or_else(|e| panic!("{e}"));
    for entry in std::fs::read_dir(crate::helpers::test_contracts_dir())
        .into_iter()
        .flatten()
        .flatten()
    {
        let mut text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        if entry.file_name() == "acme-en.toml" {
            text.push_str(&format!(
                "\n[endpoint]\nurl = \"{url}\"\nsecret_env = \"BRIDGE_TEST_WEBHOOK_SECRET\"\n"
            ));
        }
        std::fs::write(folder.join(entry.file_name()), text).unwrap_or_else(|e| panic!("{e}"));
    }
    folder
}

async fn gateway(
    backend: Backend,
    inhouse_url: &str,
    contracts: Option<std::path::PathBuf>,
    tune: impl FnOnce(&mut msp_bridge::config::Config),
) -> Option<TestApp> {
    let app = spawn_with(backend, |c| {
        c.inhouse_webhook_url = Some(inhouse_url.to_owned());
        c.inhouse_webhook_secret = Some(msp_bridge::sensitive::Sensitive(INHOUSE_SECRET.into()));
        if let Some(folder) = contracts {
            c.contracts_dir = folder;
        }
        tune(c);
    })
    .await;
    if app.is_none() {
        eprintln!("BRIDGE_TEST_POSTGRES_URL unset: PostgreSQL variant not run");
    }
    app
}

async fn reply_and_set_pending(app: &TestApp, id: i64) {
    let acme = app.contractor("acme");
    let base = format!("/api/v1/contractor/tickets/{id}");
    let r = app
        .post(
            &format!("{base}/replies"),
            &acme,
            &json!({ "body": "Sorted, [EMAIL_1].", "public": true }),
        )
        .await;
    assert_eq!(r.status, 201);
    let s = app
        .post(
            &format!("{base}/status"),
            &acme,
            &json!({ "status": "pending" }),
        )
        .await;
    assert_eq!(s.status, 200);
}

async fn both_sides_receive_signed_events(backend: Backend) {
    let (inhouse, inhouse_url) = Receiver::start(&[]);
    let (contractor, contractor_url) = Receiver::start(&[]);
    let scratch = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let folder = contracts_with_endpoint(scratch.path(), &contractor_url);
    let Some(app) = gateway(backend, &inhouse_url, Some(folder), |_| {}).await else {
        return;
    };
    let id = app.ingest(&ticket_en("D-1")).await.body["id"]
        .as_i64()
        .unwrap_or_default();
    reply_and_set_pending(&app, id).await;
    inhouse
        .wait_until(|r| r.delivered().len() == 3, || {})
        .await;
    contractor
        .wait_until(|r| r.delivered().len() == 1, || {})
        .await;
    let secret = std::env::var("BRIDGE_TEST_WEBHOOK_SECRET").unwrap_or_default();
    for r in contractor.log() {
        verify(&secret, &r);
    }
    for r in inhouse.log() {
        verify(INHOUSE_SECRET, &r);
        assert_eq!(r.timestamp, app.clock.now().timestamp().to_string());
    }
    // The contractor got the redacted projection; the in-house side the re-hydrated reply.
    let shared = contractor.delivered()[0].envelope();
    assert_eq!(shared["type"], "ticket.shared");
    assert_eq!(shared["data"]["requester"]["email"], "[EMAIL_1]");
    for secret in EN_SECRETS {
        assert!(
            !contractor.log()[0].body.contains(secret),
            "{secret} sent to the contractor"
        );
    }
    let types: Vec<Value> = inhouse
        .delivered()
        .iter()
        .map(|r| r.envelope()["type"].clone())
        .collect();
    assert_eq!(
        types,
        [
            json!("ticket.shared"),
            json!("share.replied"),
            json!("share.status")
        ]
    );
    assert_eq!(
        inhouse.delivered()[1].envelope()["data"]["body"],
        "Sorted, john.smith@example.com."
    );
    // What the feed says was delivered.
    let delivered = deliveries_once(&app, "delivered", |items| {
        items.as_array().is_some_and(|i| i.len() >= 4)
    })
    .await;
    assert_eq!(delivered.as_array().map(Vec::len), Some(4));
}

async fn a_failing_receiver_gets_each_event_once_in_order(backend: Backend) {
    let failures = vec![Reply::Status(500); 5];
    let (inhouse, url) = Receiver::start(&failures);
    // The clock moves two hours on every 25 ms poll: on a loaded machine the worker may take
    // several polls between attempts, and with the default give-up time the first event would
    // be dead-lettered (and the next one go ahead, as it should then) before its fifth try.
    let Some(app) = gateway(backend, &url, None, |c| {
        c.delivery_give_up_secs = 365 * 24 * 3_600;
    })
    .await
    else {
        return;
    };
    let id = app.ingest(&ticket_en("D-2")).await.body["id"]
        .as_i64()
        .unwrap_or_default();
    reply_and_set_pending(&app, id).await;
    // Each failure schedules a retry; moving the clock makes it due.
    let clock = app.clock.clone();
    inhouse
        .wait_until(
            |r| r.delivered().len() == 3,
            || clock.advance(Span::hours(2)),
        )
        .await;
    let log = inhouse.log();
    let first = log[0].id.clone();
    // The first event failed five times and nothing overtook it.
    assert!(log[..6].iter().all(|r| r.id == first), "{log:?}");
    assert_eq!(
        log.len(),
        8,
        "five failures, then three deliveries, none twice"
    );
    let feed = app.get("/api/v1/events", &app.inhouse()).await;
    let feed_ids: Vec<Value> = feed.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["id"].clone())
        .collect();
    let delivered_ids: Vec<Value> = inhouse.delivered().iter().map(|r| json!(r.id)).collect();
    assert_eq!(delivered_ids, feed_ids);
    // acme has no endpoint here: its contractor's events were settled as skipped in the
    // rounds that claimed the in-house ones, never claimed themselves (no attempt counted).
    let contractor = app.count("outbox_events WHERE audience = 'contractor'");
    assert!(contractor > 0);
    assert_eq!(
        app.count(
            "outbox_events WHERE audience = 'contractor' AND state = 'skipped' AND attempts = 0"
        ),
        contractor
    );
}

async fn retry_after_is_honoured(backend: Backend) {
    let (inhouse, url) = Receiver::start(&[Reply::RetryAfter(429, "120")]);
    let Some(app) = gateway(backend, &url, None, |_| {}).await else {
        return;
    };
    app.ingest(&ticket_en("D-3")).await;
    inhouse.wait_until(|r| r.log().len() == 1, || {}).await;
    let waiting = deliveries_once(&app, "pending", |items| !items[0]["last_error"].is_null()).await
        [0]
    .clone();
    assert_eq!(
        waiting["last_error"],
        "receiver answered 429 Too Many Requests"
    );
    let due =
        (app.clock.now() + Span::seconds(120)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(waiting["next_attempt_at"], due);
    app.clock.advance(Span::seconds(121));
    inhouse
        .wait_until(|r| r.delivered().len() == 1, || {})
        .await;
}

/// The deliveries in `state` once `done` holds for them (polled: delivery runs on its own
/// task, and a receiver has an event a moment before the worker records the outcome).
async fn deliveries_once(app: &TestApp, state: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let items = app
            .get(&format!("/api/v1/deliveries?state={state}"), &app.admin())
            .await
            .body["items"]
            .clone();
        if done(&items) {
            return items;
        }
        assert!(Instant::now() < deadline, "{state}: {items:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn a_slow_receiver_times_out_and_is_retried(backend: Backend) {
    let (inhouse, url) = Receiver::start(&[Reply::Slow(Duration::from_secs(3))]);
    let Some(app) = gateway(backend, &url, None, |c| c.delivery_timeout_ms = 300).await else {
        return;
    };
    app.ingest(&ticket_en("D-4")).await;
    deliveries_once(&app, "pending", |items| {
        items[0]["last_error"] == "timed out"
    })
    .await;
    let clock = app.clock.clone();
    inhouse
        .wait_until(
            |r| !r.delivered().is_empty(),
            || clock.advance(Span::minutes(5)),
        )
        .await;
    let delivered =
        deliveries_once(&app, "delivered", |items| !items[0]["attempts"].is_null()).await;
    // At least the attempt that timed out and the one that got through (on a loaded machine
    // the second may time out too before the receiver answers in time).
    let attempts = delivered[0]["attempts"].as_i64().unwrap_or_default();
    assert!(attempts >= 2, "{delivered:?}");
}

async fn dead_letters_are_listed_and_replayed(backend: Backend) {
    let (inhouse, url) = Receiver::start(&vec![Reply::Status(503); 3]);
    let Some(app) = gateway(backend, &url, None, |c| c.delivery_give_up_secs = 3_600).await else {
        return;
    };
    app.ingest(&ticket_en("D-5")).await;
    inhouse.wait_until(|r| r.log().len() == 1, || {}).await;
    // Two hours later the next failure is past the give-up time.
    let clock = app.clock.clone();
    let dead = loop {
        let dead = app.get("/api/v1/deliveries?state=dead", &app.admin()).await;
        if dead.body["items"].as_array().is_some_and(|i| !i.is_empty()) {
            break dead;
        }
        clock.advance(Span::hours(2));
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    let event_id = dead.body["items"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        dead.body["items"][0]["last_error"],
        "receiver answered 503 Service Unavailable"
    );
    assert!(inhouse.delivered().is_empty());
    // Bad requests; then the replay delivers it.
    let unknown = app
        .post(
            "/api/v1/deliveries/evt_nothing/replay",
            &app.admin(),
            &json!({}),
        )
        .await;
    assert_eq!(unknown.status, 404);
    let contractor = app
        .post(
            &format!("/api/v1/deliveries/{event_id}/replay"),
            &app.contractor("acme"),
            &json!({}),
        )
        .await;
    assert_eq!(contractor.status, 403);
    assert_eq!(
        app.get("/api/v1/deliveries?state=lost", &app.admin())
            .await
            .status,
        400
    );
    // The receiver's script still holds a failure: the replayed event retries once, then lands.
    let replay = app
        .post(
            &format!("/api/v1/deliveries/{event_id}/replay"),
            &app.admin(),
            &json!({}),
        )
        .await;
    assert_eq!(replay.status, 200, "{:?}", replay.body);
    inhouse
        .wait_until(
            |r| r.delivered().len() == 1,
            || clock.advance(Span::minutes(1)),
        )
        .await;
    assert_eq!(inhouse.delivered()[0].id, event_id);
    assert_eq!(
        app.ledger()
            .iter()
            .filter(|e| e.action == "delivery.replay")
            .count(),
        1
    );
}

/// A data subject's erasure reaches the contractor as a signed webhook naming only ids and
/// tokens; the in-house side is told to erase in the helpdesk too.
async fn an_erasure_reaches_the_contractor_signed(backend: Backend) {
    let (inhouse, inhouse_url) = Receiver::start(&[]);
    let (contractor, contractor_url) = Receiver::start(&[]);
    let scratch = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let folder = contracts_with_endpoint(scratch.path(), &contractor_url);
    let Some(app) = gateway(backend, &inhouse_url, Some(folder), |_| {}).await else {
        return;
    };
    let id = app.ingest(&ticket_en("D-ERASE")).await.body["id"]
        .as_i64()
        .unwrap_or_default();
    let erased = app
        .post(
            "/api/v1/subjects/erase",
            &app.token(msp_bridge::auth::Role::Compliance, None),
            &json!({ "email": "john.smith@example.com", "reason": "DSR-1" }),
        )
        .await;
    assert_eq!(erased.status, 200, "{:?}", erased.body);
    let of_type = |r: &Receiver, kind: &str| {
        r.delivered()
            .into_iter()
            .filter(|d| d.envelope()["type"] == kind)
            .collect::<Vec<_>>()
    };
    contractor
        .wait_until(|r| !of_type(r, "subject.erase_requested").is_empty(), || {})
        .await;
    inhouse
        .wait_until(|r| !of_type(r, "subject.erased").is_empty(), || {})
        .await;
    let secret = std::env::var("BRIDGE_TEST_WEBHOOK_SECRET").unwrap_or_default();
    let told = of_type(&contractor, "subject.erase_requested");
    assert_eq!(told.len(), 1);
    verify(&secret, &told[0]);
    let data = &told[0].envelope()["data"];
    assert_eq!(data["tickets"], json!([id]));
    assert!(
        data["tokens"].as_array().is_some_and(|t| !t.is_empty()),
        "{data}"
    );
    for secret in EN_SECRETS {
        assert!(
            !told[0].body.contains(secret),
            "{secret} in {}",
            told[0].body
        );
    }
    let home = of_type(&inhouse, "subject.erased");
    verify(INHOUSE_SECRET, &home[0]);
    assert_eq!(
        home[0].envelope()["data"]["tickets"][0]["external_id"],
        "D-ERASE"
    );
}

macro_rules! delivery_scenarios {
    ($($scenario:ident),+ $(,)?) => {$(
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$scenario($crate::helpers::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$scenario($crate::helpers::Backend::Postgres).await;
            }
        }
    )+};
}

delivery_scenarios!(
    both_sides_receive_signed_events,
    a_failing_receiver_gets_each_event_once_in_order,
    retry_after_is_honoured,
    a_slow_receiver_times_out_and_is_retried,
    dead_letters_are_listed_and_replayed,
    an_erasure_reaches_the_contractor_signed,
);

async fn two_gateways_deliver_each_event_once(backend: Backend) {
    let (inhouse, url) = Receiver::start(&[]);
    let Some(first) = gateway(backend, &url, None, |_| {}).await else {
        return;
    };
    let second = first.replica();
    let mut tickets = Vec::new();
    for n in 0..3 {
        let id = first.ingest(&ticket_en(&format!("R-{n}"))).await.body["id"]
            .as_i64()
            .unwrap_or_default();
        tickets.push(id);
    }
    // A burst of replies through both gateways, each delivering what it can claim.
    let mut burst = Vec::new();
    for round in 0..10 {
        for (n, id) in tickets.iter().enumerate() {
            let gateway = if (round + n) % 2 == 0 {
                &first
            } else {
                &second
            };
            let (path, token) = (
                format!("/api/v1/contractor/tickets/{id}/replies"),
                gateway.contractor("acme"),
            );
            let body = json!({ "body": format!("update {round}"), "public": true });
            burst.push(async move { gateway.post(&path, &token, &body).await });
        }
    }
    for answer in futures_util::future::join_all(burst).await {
        assert_eq!(answer.status, 201, "{:?}", answer.body);
    }
    let expected = 3 + 30;
    inhouse
        .wait_until(|r| r.delivered().len() >= expected, || {})
        .await;
    // Nothing is left to send (a second send could only follow an expired claim, and the
    // injected clock has not moved). The receiver answers before the gateway commits the
    // delivery, so the last few may still be marked pending for a moment.
    deliveries_once(&first, "pending", |items| *items == json!([])).await;
    let delivered = inhouse.delivered();
    let mut ids: Vec<&str> = delivered.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        (ids.len(), delivered.len()),
        (expected, expected),
        "each event once"
    );
    // Per ticket, events arrived in commit order.
    for id in &tickets {
        let seqs: Vec<i64> = delivered
            .iter()
            .map(Received::envelope)
            .filter(|e| e["ticket"] == *id)
            .filter_map(|e| e["seq"].as_i64())
            .collect();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "ticket {id}: {seqs:?}"
        );
    }
}

// Replicas share a PostgreSQL database; SQLite is the single-process embedded default.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_deliver_each_event_once_postgres() {
    two_gateways_deliver_each_event_once(Backend::Postgres).await;
}

/// The process is killed (SIGKILL) in the middle of a burst and started again: every event
/// that was committed reaches the receiver, and de-duplicating by `webhook-id` leaves each
/// exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_gateway_loses_no_event() {
    use msp_bridge::auth::{Role, TokenKeys};
    let (inhouse, url) = Receiver::start(&[]);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let env = [
        ("BRIDGE_JWT_SECRET", crate::helpers::SECRET),
        ("BRIDGE_INHOUSE_WEBHOOK_URL", url.as_str()),
        ("BRIDGE_INHOUSE_WEBHOOK_SECRET", INHOUSE_SECRET),
        ("BRIDGE_DELIVERY_TIMEOUT_MS", "500"),
        ("RUST_LOG", "warn,msp_bridge::app=info"),
    ];
    let first = crate::cli::ServerProcess::listening(dir.path(), &env);
    let keys =
        TokenKeys::from_secret(crate::helpers::SECRET.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let hour = Duration::from_secs(3600);
    let now = chrono::Utc::now();
    let token = |role, contractor| {
        keys.issue("crash", role, contractor, hour, now)
            .unwrap_or_else(|e| panic!("{e}"))
            .0
    };
    let (inhouse_token, acme) = (
        token(Role::Inhouse, None),
        token(Role::Contractor, Some("acme")),
    );
    let base = format!("http://127.0.0.1:{}", first.port);
    msp_bridge::crypto::tls_provider();
    let client = reqwest::Client::new();
    let mut tickets = Vec::new();
    for n in 0..3 {
        let created: Value = client
            .post(format!("{base}/api/v1/tickets"))
            .bearer_auth(&inhouse_token)
            .json(&ticket_en(&format!("K-{n}")))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .json()
            .await
            .unwrap_or_default();
        tickets.push(created["id"].as_i64().unwrap_or_default());
    }
    // A burst of 90 replies; the process is killed once 30 have been answered.
    let mut burst = futures_util::stream::FuturesUnordered::new();
    for n in 0..90 {
        let request = client
            .post(format!(
                "{base}/api/v1/contractor/tickets/{}/replies",
                tickets[n % 3]
            ))
            .bearer_auth(&acme)
            .json(&json!({ "body": format!("reply {n}"), "public": true }));
        burst.push(async move { request.send().await });
    }
    let mut server = first.server;
    let mut acknowledged = Vec::new();
    while let Some(answer) = futures_util::StreamExt::next(&mut burst).await {
        if let Ok(response) = answer
            && response.status().as_u16() == 201
            && let Ok(body) = response.json::<Value>().await
        {
            acknowledged.push(body["id"].clone());
        }
        if acknowledged.len() == 30 && server.0.try_wait().ok().flatten().is_none() {
            server.0.kill().unwrap_or_else(|e| panic!("{e}"));
            server.0.wait().unwrap_or_else(|e| panic!("{e}"));
        }
    }
    assert!(acknowledged.len() >= 30);
    // Started again on the same database: it finishes what the first one left.
    let _second = crate::cli::ServerProcess::listening(dir.path(), &env);
    let db = msp_bridge::db::Db::connect(&format!("sqlite://{}/bridge.db", dir.path().display()))
        .unwrap_or_else(|e| panic!("{e}"));
    // Read-only, straight from the table: the second gateway is writing to this file.
    let committed: Vec<String> = db
        .read(|c| {
            use diesel::prelude::*;
            use msp_bridge::db::schema::outbox_events;
            outbox_events::table
                .filter(outbox_events::audience.eq("inhouse"))
                .select(outbox_events::event_id)
                .load(c)
                .map_err(msp_bridge::db::DbError::from)
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let unique = |r: &Receiver| {
        let mut ids: Vec<String> = r.delivered().into_iter().map(|d| d.id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let mut expected = committed.clone();
    expected.sort_unstable();
    inhouse.wait_until(|r| unique(r) == expected, || {}).await;
    // Every acknowledged reply is among the delivered events.
    let replied: Vec<Value> = inhouse
        .delivered()
        .iter()
        .map(|d| d.envelope()["data"]["comment_id"].clone())
        .collect();
    for id in &acknowledged {
        assert!(
            replied.contains(id),
            "reply {id} was acknowledged but never delivered"
        );
    }
}

/// Two transactions writing events for one ticket take turns on PostgreSQL: the second waits
/// for the first to commit before drawing its `seq`. Without that, the second could draw a
/// later seq, commit first and be delivered before the first (seen as a rare out-of-order
/// delivery in `two_gateways_deliver_each_event_once`).
#[test]
fn writers_of_one_ticket_take_turns_on_postgres() {
    use msp_bridge::model::EventType;
    use msp_bridge::outbox::{self, NewEvent};
    use std::sync::mpsc;

    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let Some((url, _pg)) = crate::helpers::database(Backend::Postgres, dir.path()) else {
        return;
    };
    let db = msp_bridge::db::Db::connect(&url).unwrap_or_else(|e| panic!("{e}"));
    db.migrate().unwrap_or_else(|e| panic!("{e}"));
    let now = crate::helpers::start_time();
    let input: msp_bridge::tickets::TicketInput =
        serde_json::from_value(ticket_en("L-1")).unwrap_or_else(|e| panic!("{e}"));
    let ticket = msp_bridge::tickets::NewTicket::try_from(input).unwrap_or_else(|e| panic!("{e}"));
    let id = db
        .write(|c| {
            msp_bridge::tickets::store::upsert(c, &ticket, None, "", now).map_err(DbErr::from)
        })
        .unwrap_or_else(|e| panic!("{e}"))
        .0
        .id;
    let event = move || vec![NewEvent::inhouse(id, EventType::TicketUpdated, json!({}))];

    let (enqueued, first_holds) = mpsc::channel();
    let (release, released) = mpsc::channel::<()>();
    let first = {
        let db = db.clone();
        std::thread::spawn(move || {
            db.write(|c| {
                outbox::enqueue(c, now, event())?;
                let _ = enqueued.send(());
                let _ = released.recv();
                Ok::<_, DbErr>(())
            })
        })
    };
    first_holds.recv().unwrap_or_else(|e| panic!("{e}"));
    let second = {
        let db = db.clone();
        std::thread::spawn(move || {
            db.write(|c| outbox::enqueue(c, now, event()).map_err(DbErr::from))
        })
    };
    // The second writer is seen waiting for a lock (not finished) while the first holds on.
    let waiting = (0..500).any(|_| {
        let lock_waits: i64 = db
            .read(|c| {
                use diesel::prelude::*;
                diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                    "(SELECT count(*) FROM pg_stat_activity \
                      WHERE datname = current_database() AND wait_event_type = 'Lock')",
                ))
                .get_result(c)
                .map_err(DbErr::from)
            })
            .unwrap_or_else(|e| panic!("{e}"));
        let found = lock_waits > 0 || second.is_finished();
        if !found {
            std::thread::sleep(Duration::from_millis(10));
        }
        found
    });
    assert!(waiting, "the second writer neither waited nor finished");
    assert!(
        !second.is_finished(),
        "the second writer committed while the first still held the ticket"
    );
    let _ = release.send(());
    for writer in [first, second] {
        writer
            .join()
            .unwrap_or_else(|_| panic!("a writer panicked"))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let seqs: Vec<i64> = db
        .read(|c| {
            use diesel::prelude::*;
            use msp_bridge::db::schema::outbox_events;
            outbox_events::table
                .order(outbox_events::id)
                .select(outbox_events::seq)
                .load(c)
                .map_err(DbErr::from)
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(seqs.len(), 2);
    assert!(seqs[0] < seqs[1], "{seqs:?}");
}

type DbErr = msp_bridge::db::DbError;
