//! A monthly compliance report over a million ledger entries: is it under 5 s?
//!
//! ```sh
//! cargo bench --bench reports
//! BRIDGE_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test cargo bench --bench reports
//! ```
//! Seeds June 2026 with 1,000,000 chained ledger entries (shares with receipts, contractor
//! reads, replies with re-hydration, status changes, SLA warnings) spread over two contracts,
//! into a real SQLite file and, when `BRIDGE_BENCH_POSTGRES_URL` names a server, a scratch
//! PostgreSQL database; then produces and stores acme-en's monthly report (HTML, JSON and CSV)
//! three times and prints each duration. The whole chain of the month is verified each time.

#[path = "common/mod.rs"]
mod common;

use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use msp_bridge::contracts::{self, ContractSet, ReportFormat, parse_contract};
use msp_bridge::db::{Db, DbError};
use msp_bridge::ledger::{self, Action, NewEntry};
use msp_bridge::reports::{self, Period, Renderer, Request};
use serde_json::json;

fn contract_files() -> Vec<contracts::ContractFile> {
    ["acme-en.toml", "volga-ru.toml"]
        .iter()
        .map(|name| {
            let path = format!(
                "{}/tests/fixtures/contracts/{name}",
                env!("CARGO_MANIFEST_DIR")
            );
            let body = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            let contract = parse_contract(name, &body).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            contracts::ContractFile {
                file_name: (*name).to_owned(),
                sha256: contracts::sha256_hex(&body),
                body,
                contract: std::sync::Arc::new(contract),
            }
        })
        .collect()
}

fn june() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

/// `n` entries over June, in transactions of 1,000 (one `at` per transaction).
fn seed(db: &Db, files: &[contracts::ContractFile], n: u64) {
    let started = Instant::now();
    db.write(|c| {
        contracts::apply(c, files, "bench", june() - Duration::days(1)).map_err(DbError::from)
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let receipt = json!({
        "fields_sent": ["subject", "description", "requester.email", "priority"],
        "fields_withheld": { "requester.phone": "drop", "custom_fields.passport": "drop" },
        "comments_sent": 2,
        "comments_withheld": 1,
        "entities": { "email": { "tokenize": 2 }, "phone": { "mask": 1 }, "card": { "redact": 1 } },
    });
    let batches = n.div_ceil(1_000);
    let step = Duration::seconds(30 * 24 * 3600 / i64::try_from(batches).unwrap_or(1));
    let mut written = 0_u64;
    for b in 0..batches {
        let at = june() + step * i32::try_from(b).unwrap_or(0);
        let count = (n - written).min(1_000);
        let entries: Vec<NewEntry<'_>> = (0..count)
            .map(|i| {
                let k = written + i;
                let ticket = i64::try_from(k / 4).unwrap_or(0);
                let contract = if k % 8 < 6 { "acme-en" } else { "volga-ru" };
                let (action, actor, details) = match k % 4 {
                    0 => (
                        Action::TicketShare,
                        "inhouse:helpdesk",
                        json!({ "share_id": ticket, "contract_version": 1, "receipt": receipt }),
                    ),
                    1 => (
                        Action::ShareRead,
                        "contractor:acme/agent-7",
                        json!({ "share_id": ticket, "receipt": receipt }),
                    ),
                    2 => (
                        Action::ShareReply,
                        "contractor:acme/agent-7",
                        json!({ "share_id": ticket, "comment_id": k, "public": true, "characters": 240,
                                "rehydration": { "replaced": 1, "unknown": 0 } }),
                    ),
                    _ => (
                        Action::ShareStatus,
                        "contractor:acme/agent-7",
                        json!({ "share_id": ticket, "from": "open", "to": "solved" }),
                    ),
                };
                NewEntry {
                    actor,
                    action,
                    contract_id: Some(contract),
                    ticket_id: Some(ticket),
                    details,
                }
            })
            .collect();
        db.write(|c| {
            ledger::append_all(c, at, entries)?;
            ledger::seal(c).map_err(DbError::from)
        })
        .unwrap_or_else(|e| panic!("{e}"));
        written += count;
    }
    println!("seeded {n} ledger entries in {:?}", started.elapsed());
}

fn monthly_report(label: &str, url: &str, n: u64) {
    let db = Db::connect(url).unwrap_or_else(|e| panic!("{e}"));
    db.migrate().unwrap_or_else(|e| panic!("{e}"));
    let files = contract_files();
    seed(&db, &files, n);
    if !db.is_sqlite() {
        // A month's entries arrive over a month and autovacuum visits them; read straight
        // after a bulk load, PostgreSQL would first write every row's hint bits.
        let started = Instant::now();
        let mut conn = PgConnection::establish(url).unwrap_or_else(|e| panic!("{e}"));
        conn.batch_execute("VACUUM ANALYZE audit_log")
            .unwrap_or_else(|e| panic!("{e}"));
        println!(
            "{label}: VACUUM ANALYZE after the bulk load: {:?}",
            started.elapsed()
        );
    }
    let set = ContractSet::new(files);
    let renderer = Renderer::load(None).unwrap_or_else(|e| panic!("{e}"));
    let request = Request {
        contract: Some("acme-en".into()),
        period: Period::new(june(), june() + Duration::days(30)).unwrap_or_else(|e| panic!("{e}")),
        formats: vec![ReportFormat::Html, ReportFormat::Json, ReportFormat::Csv],
        locale: None,
        trigger: "demand",
        requested_by: "bench".into(),
    };
    let mut hashes = Vec::new();
    for run in 1..=3 {
        let started = Instant::now();
        let stored = reports::produce(&db, &set, &renderer, &request, june() + Duration::days(31))
            .unwrap_or_else(|e| panic!("{e}"));
        let elapsed = started.elapsed();
        let (_, json) = db
            .read(|c| reports::get(c, stored[1].id))
            .unwrap_or_else(|e| panic!("{e}"));
        let json: serde_json::Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(json["ledger"]["intact"], true);
        assert_eq!(json["ledger"]["entries"], n);
        println!(
            "{label}: monthly report over {n} entries, run {run}: {elapsed:?} \
             ({} disclosure rows, CSV {} KiB)",
            json["disclosure_rows"],
            db.read(|c| reports::get(c, stored[2].id))
                .map(|(_, csv)| csv.len() / 1024)
                .unwrap_or_default()
        );
        hashes.push(stored.iter().map(|m| m.sha256.clone()).collect::<Vec<_>>());
    }
    assert!(
        hashes.windows(2).all(|w| w[0] == w[1]),
        "regenerated reports differ"
    );
}

fn main() {
    // `cargo test --all-targets` runs benches once as a smoke test: keep that quick.
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let n = if benchmarking {
        std::env::var("N")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1_000_000)
    } else {
        4_000
    };
    common::on_each_backend(|label, url| monthly_report(label, url, n));
}
