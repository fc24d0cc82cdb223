//! Counts the SQL statements one full-share ingest runs: every ticket shared, scanned and
//! tokenised with its comments under a contract that shares everything
//! (`benches/fixtures/full-share.toml`), through the same function `POST /api/v1/tickets`
//! calls. Prints statements per ticket, how many of them were prepared from SQL text again
//! (not found in diesel's prepared-statement cache), and the slowest statement shapes by count,
//! for a new ticket and for a re-push of the same ticket that changes nothing.
//!
//! ```sh
//! cargo run --release --example ingeststats -- --tickets 500
//! cargo run --release --example ingeststats -- --tickets 500 --database postgres://…/empty-db
//! ```

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use diesel::connection::{Instrumentation, InstrumentationEvent};
use msp_bridge::clock::{Clock, SystemClock};
use msp_bridge::contracts::ContractSet;
use msp_bridge::db::{Db, DbError};
use msp_bridge::model::RoutingOutcome;
use msp_bridge::redaction::VaultKeys;
use msp_bridge::tickets::{NewTicket, TicketInput};
use serde_json::json;

/// What the instrumentation saw since the last reset.
#[derive(Default)]
struct Seen {
    /// Statements run, by SQL text (binds left out).
    run: BTreeMap<String, usize>,
    /// SQL texts diesel put in its statement cache.
    cached: HashSet<String>,
    /// Statements run whose text had not been cached: prepared from text each time.
    prepared: usize,
}

static SEEN: std::sync::LazyLock<Arc<Mutex<Seen>>> = std::sync::LazyLock::new(Default::default);

/// The SQL text of a statement as diesel shows it, without its binds.
fn text(query: &dyn std::fmt::Display) -> String {
    let shown = query.to_string();
    shown
        .split(" -- binds:")
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

fn counting() -> Option<Box<dyn Instrumentation>> {
    Some(Box::new(|event: InstrumentationEvent<'_>| {
        let Ok(mut seen) = SEEN.lock() else { return };
        match event {
            InstrumentationEvent::CacheQuery { sql, .. } => {
                seen.cached.insert(sql.trim().to_owned());
            }
            InstrumentationEvent::StartQuery { query, .. } => {
                let sql = text(query);
                if !seen.cached.contains(&sql) {
                    seen.prepared += 1;
                }
                *seen.run.entry(sql).or_default() += 1;
            }
            _ => {}
        }
    }))
}

fn ticket(n: usize) -> anyhow::Result<NewTicket> {
    let priority = ["low", "normal", "high"][n % 3];
    let input: TicketInput = serde_json::from_value(json!({
        "source": "bench",
        "external_id": format!("S-{n}"),
        "subject": format!("Возврат за заказ {n}: карта 4111 1111 1111 1111"),
        "description": "Здравствуйте! Меня зовут Мария Иванова, телефон +7 912 345-67-89, \
                        почта maria.ivanova@example.ru, IP 192.168.10.15. Деньги списали дважды.",
        "requester": { "name": "Мария Иванова", "email": "maria.ivanova@example.ru", "phone": "+7 912 345-67-89" },
        "channel": "email",
        "priority": priority,
        "category": "refund",
        "language": "ru",
        "status": "open",
        "comments": (0..6).map(|c| json!({
            "external_id": format!("c{c}"),
            "author": "Мария Иванова",
            "body": format!("Комментарий {c}: жду ответа, ИНН 500100732259, телефон 8 (912) 345-67-{:02}", c + 10),
            "public": c % 2 == 0,
        })).collect::<Vec<_>>()
    }))?;
    NewTicket::try_from(input).map_err(|e| anyhow::anyhow!("{e}"))
}

fn report(label: &str, tickets: usize) {
    let Ok(mut seen) = SEEN.lock() else { return };
    let total: usize = seen.run.values().sum();
    println!(
        "{label}: {:.1} statements a ticket, {:.1} of them prepared from SQL text",
        total as f64 / tickets as f64,
        seen.prepared as f64 / tickets as f64
    );
    let mut shapes: Vec<(&String, &usize)> = seen.run.iter().collect();
    shapes.sort_by(|a, b| b.1.cmp(a.1));
    for (sql, n) in shapes.into_iter().take(40) {
        let cached = if seen.cached.contains(sql) { ' ' } else { '*' };
        let short: String = sql.chars().take(110).collect();
        println!("  {:6.2} {cached} {short}", *n as f64 / tickets as f64);
    }
    if std::env::var_os("INGESTSTATS_CACHED").is_some() {
        for sql in &seen.cached {
            println!("  cached: {}", sql.chars().take(110).collect::<String>());
        }
    }
    seen.run.clear();
    seen.prepared = 0;
}

fn main() -> anyhow::Result<()> {
    let mut tickets = 500usize;
    let mut database = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--tickets" => tickets = value.parse().context("--tickets")?,
            "--database" => database = Some(value),
            other => anyhow::bail!("unknown flag {other}"),
        }
    }
    let dir = tempfile::tempdir()?;
    let url = database.unwrap_or_else(|| format!("sqlite://{}/stats.db", dir.path().display()));
    let db = Db::connect(&url)?;
    db.migrate()?;
    let contracts = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/fixtures");
    let set = ContractSet::new(msp_bridge::contracts::load_dir(std::path::Path::new(
        contracts,
    ))?);
    let clock = SystemClock;
    let keys = VaultKeys::from_bytes([7; 32]);
    db.write(|c| {
        msp_bridge::service::recall::apply_contracts(c, &set, "bench", false, clock.now())
            .map_err(|e| DbError::Task(e.to_string()))
    })?;
    diesel::connection::set_default_instrumentation(counting)?;
    let new_db = Db::connect(&url)?;
    let push = |n: usize, expected: RoutingOutcome| -> anyhow::Result<()> {
        let t = ticket(n)?;
        let outcome = new_db.write(|c| {
            msp_bridge::service::intake::ingest(c, &set, &keys, &t, "bench", clock.now())
                .map_err(|e| DbError::Task(e.to_string()))
        })?;
        anyhow::ensure!(
            outcome.routing.outcome == expected,
            "ticket {n}: {}",
            outcome.routing.reason
        );
        Ok(())
    };
    // Warm the statement cache, then count.
    for n in 0..20 {
        push(tickets + n, RoutingOutcome::Shared)?;
    }
    report("warm-up", 20);
    for n in 0..tickets {
        push(n, RoutingOutcome::Shared)?;
    }
    report("new ticket, shared", tickets);
    // Answered from the stored decision: the outcome it got when it was shared.
    for n in 0..tickets {
        push(n, RoutingOutcome::Shared)?;
    }
    report("re-push, nothing changed", tickets);
    Ok(())
}
