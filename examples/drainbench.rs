//! Times the backlog drain: a backlog of tickets kept in-house (the one contract's manual
//! overflow switched off), then the switch turned on, and one drain pass until the last
//! share — the case a peak-season switch is for. Every ticket is shared, redacted and
//! tokenised with its comments, as a push would be.
//!
//! ```sh
//! cargo run --release --example drainbench -- --tickets 10000
//! cargo run --release --example drainbench -- --tickets 10000 \
//!     --database postgres://postgres@127.0.0.1:5432/drainbench   # an empty database
//! ```

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use msp_bridge::clock::{Clock, SystemClock};
use msp_bridge::contracts::{ContractSet, Registry};
use msp_bridge::db::{Db, DbError};
use msp_bridge::jobs::BacklogDrain;
use msp_bridge::redaction::VaultKeys;
use msp_bridge::tickets::{NewTicket, TicketInput};
use serde_json::json;

/// The test contract volga-ru, with room for the whole backlog.
fn contracts(tickets: usize) -> anyhow::Result<ContractSet> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/contracts/volga-ru.toml"
    );
    let text = std::fs::read_to_string(path)?
        .replace("max_open = 100", &format!("max_open = {tickets}"))
        // Open around the clock, so the run does not depend on the hour it is made at.
        .replace("[sla.calendar]\n", "[sla.calendar]\nalways_open = true\n")
        .lines()
        .filter(|l| !l.starts_with("hours = "))
        .collect::<Vec<_>>()
        .join("\n");
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("volga-ru.toml"), text)?;
    Ok(ContractSet::new(msp_bridge::contracts::load_dir(
        dir.path(),
    )?))
}

fn ticket(n: usize) -> anyhow::Result<NewTicket> {
    let priority = ["low", "normal", "high"][n % 3];
    let input: TicketInput = serde_json::from_value(json!({
        "source": "bench",
        "external_id": format!("D-{n}"),
        "subject": format!("Возврат за заказ {n}: карта 4111 1111 1111 1111"),
        "description": "Здравствуйте! Меня зовут Мария Иванова, телефон +7 912 345-67-89, \
                        почта maria.ivanova@example.ru. Деньги списали дважды.",
        "requester": { "name": "Мария Иванова", "email": "maria.ivanova@example.ru" },
        "channel": "email",
        "priority": priority,
        "language": "ru",
        "status": "open",
        "comments": [
            { "external_id": "c1", "author": "Мария Иванова", "body": "Жду ответа, ИНН 500100732259", "public": true },
            { "external_id": "c2", "author": "Ольга", "body": "Клиент звонил ещё раз", "public": false }
        ]
    }))?;
    NewTicket::try_from(input).map_err(|e| anyhow::anyhow!("{e}"))
}

fn main() -> anyhow::Result<()> {
    let mut tickets = 10_000usize;
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
    let url = database.unwrap_or_else(|| format!("sqlite://{}/drain.db", dir.path().display()));
    let db = Db::connect(&url)?;
    db.migrate()?;
    let set = contracts(tickets)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let keys = VaultKeys::from_bytes([7; 32]);
    let now = clock.now();
    db.write(|c| {
        msp_bridge::service::recall::apply_contracts(c, &set, "bench", false, now)
            .map_err(|e| DbError::Task(e.to_string()))
    })?;
    let started = Instant::now();
    for n in 0..tickets {
        let t = ticket(n)?;
        db.write(|c| {
            msp_bridge::service::intake::ingest(c, &set, &keys, &t, "bench", now)
                .map_err(|e| DbError::Task(e.to_string()))
        })?;
    }
    println!(
        "{tickets} tickets kept in-house in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    db.write(|c| {
        msp_bridge::contracts::set_manual_overflow(c, "volga-ru", true, "bench", "peak", now)
            .map_err(|e| DbError::Task(e.to_string()))
    })?;
    let drain = BacklogDrain {
        db: db.clone(),
        contracts: Registry::new(set),
        keys,
        clock,
        kept: Default::default(),
    };
    let started = Instant::now();
    let report = drain.run_once().map_err(|e| anyhow::anyhow!("{e}"))?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "drain: {} shared, {} kept, {} skipped in {seconds:.1} s ({:.0} tickets/s)",
        report.shared,
        report.kept,
        report.skipped,
        report.shared as f64 / seconds
    );
    Ok(())
}
