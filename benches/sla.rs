//! Routing and SLA: is either ever the bottleneck?
//!
//! ```sh
//! cargo bench --bench sla
//! BRIDGE_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test cargo bench --bench sla
//! ```
//! Criterion measures one routing decision over 50 contracts (the matching one ranked last,
//! so every contract is checked) and the due times of a new share on an office-hours calendar.
//! Then 100,000 open shares (200,000 clocks) are seeded into a real SQLite file, and into a
//! scratch PostgreSQL database when `BRIDGE_BENCH_POSTGRES_URL` names a server, and timed:
//! an idle sweep (nothing due), the sweep that records 100,000 warnings and 100,000 breaches,
//! and the floor check with the live gauges.

#[path = "common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};
use criterion::Criterion;
use diesel::connection::SimpleConnection;
use msp_bridge::clock::ManualClock;
use msp_bridge::contracts::{self, Contract, ContractFile, ContractSet, Registry, parse_contract};
use msp_bridge::db::Db;
use msp_bridge::jobs::SlaSweeper;
use msp_bridge::model::{Channel, ClockKind, Priority};
use msp_bridge::routing::{self, LiveState, RoutableTicket};
use msp_bridge::sla;

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/contracts/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// 50 contracts: 49 that refuse an English e-mail ticket for assorted reasons (language,
/// channel, excluded tag, manual switch off), then the one that takes it.
fn fifty_contracts() -> Vec<Contract> {
    let base = fixture("acme-en.toml");
    (0..50)
        .map(|n| {
            let mut text = base
                .replace("id = \"acme-en\"", &format!("id = \"c{n:02}\""))
                .replace("rank = 10", &format!("rank = {n}"));
            if n < 49 {
                text = match n % 4 {
                    0 => text.replace("languages = [\"en\"]", "languages = [\"de\"]"),
                    1 => text.replace("channels = [\"email\", \"chat\"]", "channels = [\"chat\"]"),
                    2 => text.replace("exclude_tags = [\"vip\"]", "exclude_tags = [\"refund\"]"),
                    _ => text.replace("mode = \"always\"", "mode = \"manual\""),
                };
            }
            parse_contract(&format!("c{n:02}.toml"), &text).unwrap_or_else(|p| panic!("{p:?}"))
        })
        .collect()
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 10, 0, 0)
        .single()
        .unwrap_or_default()
}

fn routing_decision(c: &mut Criterion) {
    let contracts = fifty_contracts();
    let tags = vec!["refund".to_owned()];
    let custom_fields = serde_json::Map::new();
    let ticket = RoutableTicket {
        channel: Channel::Email,
        priority: Priority::Normal,
        category: Some("billing"),
        language: Some("en"),
        tags: &tags,
        custom_fields: &custom_fields,
        key: "zendesk/T-1",
    };
    let now = start();
    let decided = routing::evaluate(
        &ticket,
        routing::in_routing_order(contracts.iter().map(|c| (c, LiveState::default()))),
        now,
    );
    assert_eq!(decided.iter().filter(|v| v.eligible).count(), 1);
    c.bench_function("routing_decision_50_contracts", |b| {
        b.iter(|| {
            let order =
                routing::in_routing_order(contracts.iter().map(|c| (c, LiveState::default())));
            routing::evaluate(std::hint::black_box(&ticket), order, now)
        })
    });
    // Due times of a new share on a Moscow office-hours calendar (2 d resolution spans days).
    let volga = parse_contract("volga-ru.toml", &fixture("volga-ru.toml"))
        .unwrap_or_else(|p| panic!("{p:?}"));
    let target = volga
        .sla
        .targets
        .first()
        .unwrap_or_else(|| panic!("volga-ru has targets"));
    assert!(volga.sla.calendar.hours.len() == 5 && !volga.sla.calendar.always_open);
    assert!(sla::plan(&volga.sla, target, ClockKind::Resolution, now).is_some());
    c.bench_function("due_times_office_calendar", |b| {
        b.iter(|| {
            [ClockKind::FirstResponse, ClockKind::Resolution]
                .map(|k| sla::plan(&volga.sla, target, k, std::hint::black_box(now)))
        })
    });
}

/// Seeds `n` open shares of `contract` shared at 10:00, each with a first-response clock
/// (warning 10:30, due 11:00) and a resolution clock (warning 14:00, due 18:00).
fn seed(db: &Db, contract: &str, n: u64) {
    let numbers = if db.is_sqlite() {
        format!("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) ")
    } else {
        String::new()
    };
    let from = if db.is_sqlite() {
        "FROM n".to_owned()
    } else {
        format!("FROM generate_series(1, {n}) AS n(i)")
    };
    let at = "'2026-06-01 10:00:00'";
    let sql = [
        format!(
            "{numbers}INSERT INTO tickets (id, source, external_id, subject, description, channel, \
             priority, tags, custom_fields, status, routing, created_at, updated_at) \
             SELECT i, 'bench', 'T-' || i, 's', 'd', 'email', 'normal', '[]', '{{}}', 'open', '{{}}', \
             {at}, {at} {from}"
        ),
        format!(
            "{numbers}INSERT INTO shares (id, ticket_id, contract_id, contract_version, contractor, \
             state, created_at, updated_at) \
             SELECT i, i, '{contract}', 1, 'acme', 'open', {at}, {at} {from}"
        ),
        format!(
            "{numbers}INSERT INTO sla_clocks (id, share_id, ticket_id, contract_id, kind, target_secs, \
             started_at, warn_at, due_at) \
             SELECT 2 * i - 1, i, i, '{contract}', 'first_response', 3600, {at}, \
             '2026-06-01 10:30:00', '2026-06-01 11:00:00' {from}"
        ),
        format!(
            "{numbers}INSERT INTO sla_clocks (id, share_id, ticket_id, contract_id, kind, target_secs, \
             started_at, warn_at, due_at) \
             SELECT 2 * i, i, i, '{contract}', 'resolution', 28800, {at}, \
             '2026-06-01 14:00:00', '2026-06-01 18:00:00' {from}"
        ),
    ];
    db.write(|c| {
        for statement in &sql {
            c.batch_execute(statement)
                .map_err(msp_bridge::db::DbError::from)?;
        }
        Ok::<_, msp_bridge::db::DbError>(())
    })
    .unwrap_or_else(|e| panic!("seed: {e}"));
}

fn sweep_backlog(label: &str, url: &str, n: u64) {
    let db = Db::connect(url).unwrap_or_else(|e| panic!("{e}"));
    db.migrate().unwrap_or_else(|e| panic!("{e}"));
    let text = fixture("acme-en.toml").replace("max_open = 3", "max_open = 1000000");
    let file = ContractFile {
        file_name: "acme-en.toml".into(),
        sha256: contracts::sha256_hex(&text),
        contract: Arc::new(
            parse_contract("acme-en.toml", &text).unwrap_or_else(|p| panic!("{p:?}")),
        ),
        body: text,
    };
    let files = vec![file];
    db.write(|c| {
        contracts::apply(c, &files, "bench", start()).map_err(contracts::ContractError::from)
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let seeding = Instant::now();
    seed(&db, "acme-en", n);
    let seeded = seeding.elapsed();
    let clock = ManualClock::new(start() + Duration::minutes(5));
    let sweeper = SlaSweeper {
        db,
        contracts: Registry::new(ContractSet::new(files)),
        clock: Arc::new(clock.clone()),
        metrics: Arc::new(msp_bridge::telemetry::Metrics::default()),
        wake: Arc::new(tokio::sync::Notify::new()),
        outbox_wake: Arc::new(tokio::sync::Notify::new()),
        drain_wake: Arc::new(tokio::sync::Notify::new()),
    };
    let timed = |what: &str| {
        let started = Instant::now();
        let report = sweeper.sweep().unwrap_or_else(|e| panic!("{e}"));
        let took = started.elapsed();
        println!(
            "{label}: {what}: {took:?} ({} warnings, {} breaches{})",
            report.warnings.len(),
            report.breaches.len(),
            if report.claimed > 0 {
                format!(
                    ", {:.0} clocks/s",
                    report.claimed as f64 / took.as_secs_f64()
                )
            } else {
                String::new()
            }
        );
        report
    };
    println!(
        "{label}: seeded {n} open shares ({} clocks) in {seeded:?}",
        2 * n
    );
    let idle = timed("idle sweep, nothing due");
    assert_eq!(idle.claimed, 0);
    // 11:00:01: every first-response clock is past its warning and its due time.
    clock.set(start() + Duration::hours(1) + Duration::seconds(1));
    let busy = timed("sweep recording every warning and breach");
    assert_eq!(busy.breaches.len() as u64, n);
    timed("idle sweep afterwards");
    let started = Instant::now();
    let floors = sweeper.check_floors().unwrap_or_else(|e| panic!("{e}"));
    println!(
        "{label}: floor check and live gauges: {:?} (attainment {:?})",
        started.elapsed(),
        floors.first().and_then(|f| f.percent)
    );
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    routing_decision(&mut c);
    c.final_summary();
    // `cargo test --all-targets` runs benches once as a smoke test: keep that quick.
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let n = if benchmarking { 100_000 } else { 1_000 };
    common::on_each_backend(|label, url| sweep_backlog(label, url, n));
}
