//! A bounded hostile-input run over HTTP, the same idea as the `cargo fuzz` targets but
//! against the running gateway: every endpoint, called with valid bodies mutated into
//! malformed, truncated, NUL-laden, control-character, huge and deeply nested ones, odd query
//! strings and path ids, by every role. Seeded, so a failure names a request that can be
//! replayed. Every request must be answered (a panicking handler drops its connection) and
//! never with a 5xx — `503 redaction_failed`, the designed fail-closed answer for a ticket
//! that cannot be shown safely, excepted — and afterwards the gateway still serves and its
//! ledger verifies.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, ticket_en};
use crate::on_both_backends;

/// Requests per backend in CI: enough to reach every endpoint with every kind of mutation
/// many times, few enough to take seconds. `BRIDGE_HOSTILE_REQUESTS` and `BRIDGE_HOSTILE_SEED`
/// run longer or other sequences by hand.
const REQUESTS: usize = 700;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// xorshift64*: deterministic and good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).unwrap_or(0)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn nested(depth: usize) -> Value {
    (0..depth).fold(json!("bottom"), |inner, _| json!([inner]))
}

/// A value no field expects.
fn hostile_value(rng: &mut Rng) -> Value {
    match rng.below(16) {
        0 => json!("a\u{0}b"),
        1 => json!("x\n2026-11-30T00:00:00Z  INFO msp_bridge: FORGED\r\u{1b}[31m"),
        2 => json!("\u{202e}\u{2028}\u{feff}\u{200b}"),
        3 => json!("💥".repeat(1 + rng.below(5_000))),
        4 => json!("a".repeat(1 + rng.below(200_000))),
        5 => json!(i64::MAX),
        6 => json!(-1),
        7 => json!(1e308),
        8 => json!(u64::MAX),
        9 => Value::Null,
        10 => json!([]),
        11 => json!({ "nested": { "deeper": [1, "two", null] } }),
        12 => nested(1 + rng.below(300)),
        13 => json!("' OR 1=1 --; DROP TABLE tickets; <script>alert(1)</script>"),
        14 => json!("[EMAIL_1][PHONE_1][CARD#abc] %00 ../../etc/passwd"),
        _ => json!(true),
    }
}

/// A string no field expects, but a string: it gets past the types, into storage and the
/// redaction engine.
fn hostile_string(rng: &mut Rng) -> String {
    match rng.below(10) {
        0 => "a\u{0}b".into(),
        1 => "x\n2026-11-30T00:00:00Z  INFO msp_bridge: FORGED\r\u{1b}[31m".into(),
        2 => "\u{202e}\u{2028}\u{feff}\u{200b}мария@пример.рф +7 (912) 345-67-89".into(),
        3 => "💥".repeat(1 + rng.below(5_000)),
        4 => "4111 1111 1111 1111 ".repeat(1 + rng.below(10_000)),
        5 => "[EMAIL_1]x[PHONE_1]0[CARD_1][INN#abc]".into(),
        6 => String::new(),
        7 => " ".repeat(1 + rng.below(300)),
        8 => "Иванова Мария Петровна, г. Москва, ул. Ленина, д. 5".into(),
        _ => "' OR 1=1 --; <script>alert(1)</script> {{payload}}".into(),
    }
}

/// Every string in `value`, by JSON pointer.
fn string_pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::String(_) => out.push(at),
        Value::Object(map) => {
            for (k, v) in map {
                string_pointers(v, format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                string_pointers(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Every object in `value`, by JSON pointer.
fn object_pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            out.push(at.clone());
            for (k, v) in map {
                object_pointers(v, format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                object_pointers(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// `valid`, mutated: a field replaced or removed, a key added, or the bytes themselves broken.
fn mutated(valid: &Value, rng: &mut Rng) -> Vec<u8> {
    let mut value = valid.clone();
    let mut objects = Vec::new();
    object_pointers(&value, String::new(), &mut objects);
    let target = rng.pick(&objects).clone();
    match rng.below(11) {
        0..=2 => {
            if let Some(map) = value.pointer_mut(&target).and_then(Value::as_object_mut) {
                let keys: Vec<String> = map.keys().cloned().collect();
                if !keys.is_empty() {
                    let key = rng.pick(&keys).clone();
                    map.insert(key, hostile_value(rng));
                }
            }
        }
        3 => {
            if let Some(map) = value.pointer_mut(&target).and_then(Value::as_object_mut) {
                let keys: Vec<String> = map.keys().cloned().collect();
                if !keys.is_empty() {
                    let key = rng.pick(&keys).clone();
                    map.remove(&key);
                }
            }
        }
        4 => {
            if let Some(map) = value.pointer_mut(&target).and_then(Value::as_object_mut) {
                let key = rng
                    .pick(&["x\n2026 FORGED", "\u{0}", "\u{1b}[0m", "__proto__", ""])
                    .to_string();
                map.insert(key, hostile_value(rng));
            }
        }
        5 => {
            let text = value.to_string();
            let cut = rng.below(text.len());
            return text.as_bytes()[..cut].to_vec();
        }
        6 => {
            let mut bytes = value.to_string().into_bytes();
            let at = rng.below(bytes.len());
            let junks: [&[u8]; 7] = [
                b"\x00",
                b"\xff\xfe",
                b"\xc3",
                b"\"",
                b"}}}",
                b"\\u0000",
                b"\\ud800",
            ];
            let junk = *rng.pick(&junks);
            bytes.splice(at..at, junk.iter().copied());
            return bytes;
        }
        7 => {
            return match rng.below(4) {
                0 => "[".repeat(1 + rng.below(100_000)).into_bytes(),
                1 => b"1e99999999".to_vec(),
                2 => vec![0xff; 1 + rng.below(1_000)],
                _ => format!("{} {}", value, value).into_bytes(),
            };
        }
        _ => {
            let mut strings = Vec::new();
            string_pointers(&value, String::new(), &mut strings);
            if !strings.is_empty() {
                let at = rng.pick(&strings).clone();
                if let Some(slot) = value.pointer_mut(&at) {
                    *slot = Value::String(hostile_string(rng));
                }
            }
        }
    }
    value.to_string().into_bytes()
}

/// What bodies claim to be: mostly JSON.
const CONTENT_TYPES: [&str; 5] = [
    "application/json",
    "application/json",
    "application/merge-patch+json",
    "text/plain",
    "application/json; charset=latin1",
];

fn odd_id(rng: &mut Rng) -> String {
    rng.pick(&[
        "1",
        "2",
        "3",
        "0",
        "-1",
        "9223372036854775807",
        "9223372036854775808",
        "%F0%9F%92%A5",
        "1e3",
        "%201",
        "%0A1",
        "%00",
        "evt_%00",
        "..%2F..%2Fetc",
    ])
    .to_string()
}

fn odd_query(rng: &mut Rng) -> String {
    rng.pick(&[
        "",
        "?after=-1",
        "?after=9223372036854775808",
        "?limit=0",
        "?limit=100000",
        "?limit=abc",
        "?scope=%00",
        "?scope=%0A2026%20FORGED",
        "?format=pdf",
        "?format=zendesk&after=%FF",
        "?before=ivan%40mail.ru",
        "?from=2026-11-29&to=x",
        "?state=dead%00",
        "?q=%E2%80%AE",
        "?unknown=1&unknown=2",
    ])
    .to_string()
}

/// One call: method, path, caller, and body (bytes, or none).
struct Call {
    method: Method,
    path: String,
    token: Option<String>,
    body: Option<Vec<u8>>,
    content_type: &'static str,
}

fn next_call(app: &TestApp, rng: &mut Rng) -> Call {
    let id = odd_id(rng);
    let query = odd_query(rng);
    let roles = [
        Some(app.inhouse()),
        Some(app.contractor("acme")),
        Some(app.admin()),
        Some(app.token(msp_bridge::auth::Role::Compliance, None)),
        None,
        Some("x\n.y.z".replace('\n', "")),
    ];
    let any_role = rng.pick(&roles).clone();
    // Mostly the role the endpoint is for, so that the call gets past authorisation.
    let role_for = |path: &str| -> Option<String> {
        if path.starts_with("/api/v1/contractor/") {
            Some(app.contractor("acme"))
        } else if path.contains("/preview") && path.contains("redaction")
            || path.starts_with("/api/v1/reports")
            || path.starts_with("/api/v1/audit")
            || path.starts_with("/api/v1/subjects")
        {
            Some(app.admin())
        } else {
            Some(app.inhouse())
        }
    };
    let token_for = |path: &str, rng: &mut Rng| {
        if rng.below(4) == 0 {
            any_role.clone()
        } else {
            role_for(path)
        }
    };
    let ticket = ticket_en(&format!("F-{}", rng.below(6)));
    let posts: Vec<(String, Value)> = vec![
        ("/api/v1/tickets".into(), ticket.clone()),
        ("/api/v1/inbound/generic".into(), ticket.clone()),
        (
            "/api/v1/inbound/zendesk".into(),
            json!({ "ticket": { "id": 1, "subject": "s", "status": "open", "requester": { "name": "n", "email": "e@x.io" }, "custom_fields": [{ "id": 1, "value": "v" }] } }),
        ),
        ("/api/v1/routing/preview".into(), ticket.clone()),
        (
            "/api/v1/redaction/preview".into(),
            json!({ "contract": "acme-en", "ticket": ticket }),
        ),
        (
            format!("/api/v1/tickets/{id}/comments"),
            json!({ "author": "a", "body": "b", "public": true }),
        ),
        (
            format!("/api/v1/tickets/{id}/recall"),
            json!({ "reason": "r" }),
        ),
        (
            format!("/api/v1/tickets/{id}/satisfaction"),
            json!({ "score": 4 }),
        ),
        (
            "/api/v1/contracts/acme-en/overflow".into(),
            json!({ "on": true, "reason": "r" }),
        ),
        (
            format!("/api/v1/contractor/tickets/{id}/replies"),
            json!({ "body": "b [EMAIL_1]", "public": true }),
        ),
        (
            format!("/api/v1/contractor/tickets/{id}/status"),
            json!({ "status": "pending" }),
        ),
        (
            format!("/api/v1/contractor/tickets/{id}/handback"),
            json!({ "reason": "r" }),
        ),
        (
            "/api/v1/reports".into(),
            json!({ "contract": "acme-en", "from": "2026-06-01T00:00:00Z", "to": "2026-06-02T00:00:00Z", "formats": ["json"] }),
        ),
        (format!("/api/v1/deliveries/{id}/replay"), json!({})),
        (
            "/api/v1/subjects/erase".into(),
            json!({ "email": "john.smith@example.com", "name": "John Smith", "reason": "r" }),
        ),
        (format!("/api/v1/contractor/erasures/{id}/ack"), json!({})),
    ];
    let gets = [
        format!("/api/v1/tickets/{id}{query}"),
        format!("/api/v1/contractor/tickets{query}"),
        format!("/api/v1/contractor/tickets/{id}{query}"),
        format!("/api/v1/events{query}"),
        format!("/api/v1/reports{query}"),
        format!("/api/v1/reports/{id}{query}"),
        format!("/api/v1/deliveries{query}"),
        format!("/api/v1/contracts{query}"),
        format!("/api/v1/contracts/acme-en/sla{query}"),
        format!("/api/v1/audit/verify{query}"),
        format!("/api/v1/subjects/disclosures{query}"),
        format!(
            "/api/v1/subjects/disclosures?email=john.smith%40example.com&phone=%2B44%2020%207946%200958{}",
            query.replacen('?', "&", 1)
        ),
        format!("/api/v1/subjects/erasures{query}"),
        format!("/api/v1/contractor/erasures{query}"),
        format!("/console/reports/{id}{query}"),
        format!("/metrics{query}"),
    ];
    match rng.below(10) {
        0..=5 => {
            let (path, valid) = rng.pick(&posts).clone();
            let token = token_for(&path, rng);
            Call {
                method: Method::POST,
                path: format!(
                    "{path}{}",
                    if rng.below(4) == 0 {
                        query
                    } else {
                        String::new()
                    }
                ),
                token,
                body: Some(mutated(&valid, rng)),
                content_type: CONTENT_TYPES[rng.below(CONTENT_TYPES.len())],
            }
        }
        6 => Call {
            method: Method::PUT,
            path: "/api/v1/queue".into(),
            token: token_for("/api/v1/queue", rng),
            body: Some(mutated(&json!({ "depth": 12 }), rng)),
            content_type: "application/json",
        },
        7 => Call {
            method: Method::POST,
            path: rng
                .pick(&["/console/sign-in", "/console/reports", "/console/sign-out"])
                .to_string(),
            token: None,
            body: Some(
                rng.pick(&[
                    &b"token=%00&csrf=%00"[..],
                    b"contract=%0A&from=2026-13-45&to=&locale=xx&csrf=",
                    b"\xff\xfe",
                    b"a=b&a=c&&&=",
                ])
                .to_vec(),
            ),
            content_type: "application/x-www-form-urlencoded",
        },
        _ => {
            let path = rng.pick(&gets).clone();
            Call {
                method: Method::GET,
                token: token_for(&path, rng),
                path,
                body: None,
                content_type: "application/json",
            }
        }
    }
}

async fn hostile_requests_get_no_5xx_and_leave_the_gateway_whole(app: TestApp) {
    // Something to aim at: shared tickets with ids 1–3.
    for n in 0..3 {
        assert_eq!(app.ingest(&ticket_en(&format!("T-{n}"))).await.status, 201);
    }
    let seed = setting("BRIDGE_HOSTILE_SEED", 0x005e_ed0f_b41d_6e7a);
    let requests =
        usize::try_from(setting("BRIDGE_HOSTILE_REQUESTS", REQUESTS as u64)).unwrap_or(REQUESTS);
    let mut rng = Rng(seed.max(1));
    let mut statuses = std::collections::BTreeMap::new();
    for n in 0..requests {
        let call = next_call(&app, &mut rng);
        let mut req = app
            .client
            .request(call.method.clone(), format!("{}{}", app.base, call.path))
            .header("content-type", call.content_type);
        if let Some(t) = &call.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = call.body.clone() {
            req = req.body(b);
        }
        let what = || {
            let body = call
                .body
                .as_ref()
                .map(|b| String::from_utf8_lossy(&b[..b.len().min(200)]).into_owned());
            format!(
                "request {n} (seed {seed}): {} {} {:?}",
                call.method, call.path, body
            )
        };
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("no answer (a panic?) to {}: {e}", what()));
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        let designed = status == 503 && text.contains("redaction_failed");
        assert!(status < 500 || designed, "{status} to {}: {text}", what());
        *statuses.entry(status).or_insert(0_usize) += 1;
    }
    eprintln!("hostile run (seed {seed}): {requests} requests, answers by status {statuses:?}");
    assert!(
        statuses.len() > 5,
        "the run reached many outcomes: {statuses:?}"
    );
    let health = app.send(Method::GET, "/healthz", None, None).await;
    assert_eq!(health.status, 200);
    let verify = app.get("/api/v1/audit/verify", &app.admin()).await;
    assert_eq!(
        verify.body["first_broken"],
        Value::Null,
        "{:?}",
        verify.body
    );
}

on_both_backends!(hostile_requests_get_no_5xx_and_leave_the_gateway_whole);
