//! Times the backlog drain: a backlog of tickets kept in-house (the one contract's manual
//! overflow switched off), then the switch turned on, and one drain pass until the last
//! share — the case a peak-season switch is for — while new tickets keep being pushed
//! (`--ingest-per-second`, default 100; 0 for none), each shared at once as they now can be.
//! Every ticket is shared, redacted and tokenised with its comments, as a push would be.
//!
//! ```sh
//! cargo run --release --example drainbench -- --tickets 10000
//! cargo run --release --example drainbench -- --tickets 10000 \
//!     --database postgres://postgres@127.0.0.1:5432/drainbench   # an empty database
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
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

fn ticket(prefix: &str, n: usize) -> anyhow::Result<NewTicket> {
    let priority = ["low", "normal", "high"][n % 3];
    let input: TicketInput = serde_json::from_value(json!({
        "source": "bench",
        "external_id": format!("{prefix}-{n}"),
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
    let mut ingest_per_second = 100u64;
    let mut database = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--tickets" => tickets = value.parse().context("--tickets")?,
            "--database" => database = Some(value),
            "--ingest-per-second" => {
                ingest_per_second = value.parse().context("--ingest-per-second")?;
            }
            other => anyhow::bail!("unknown flag {other}"),
        }
    }
    let dir = tempfile::tempdir()?;
    let url = database.unwrap_or_else(|| format!("sqlite://{}/drain.db", dir.path().display()));
    let db = Db::connect(&url)?;
    db.migrate()?;
    // Room for the backlog and for everything pushed while it drains.
    let set = contracts(tickets * 2)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let keys = VaultKeys::from_bytes([7; 32]);
    let now = clock.now();
    db.write(|c| {
        msp_bridge::service::recall::apply_contracts(c, &set, "bench", false, now)
            .map_err(|e| DbError::Task(e.to_string()))
    })?;
    let started = Instant::now();
    for n in 0..tickets {
        let t = ticket("D", n)?;
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
        contracts: Registry::new(set.clone()),
        keys: keys.clone(),
        clock: clock.clone(),
        metrics: Default::default(),
        kept: Default::default(),
        wake: Default::default(),
    };
    let draining = Arc::new(AtomicBool::new(true));
    let pusher = (ingest_per_second > 0).then(|| {
        let (db, draining, clock) = (db.clone(), draining.clone(), clock.clone());
        std::thread::spawn(move || {
            push_while(&db, &set, &keys, &*clock, &draining, ingest_per_second)
        })
    });
    let started = Instant::now();
    let report = drain.run_once().map_err(|e| anyhow::anyhow!("{e}"))?;
    let seconds = started.elapsed().as_secs_f64();
    draining.store(false, Ordering::Relaxed);
    println!(
        "drain: {} shared, {} kept, {} skipped in {seconds:.1} s ({:.0} tickets/s)",
        report.shared,
        report.kept,
        report.skipped,
        report.shared as f64 / seconds
    );
    if let Some(pusher) = pusher {
        let (pushed, shared) = pusher
            .join()
            .map_err(|_| anyhow::anyhow!("the pusher panicked"))??;
        println!(
            "pushed meanwhile: {pushed} tickets ({:.0}/s), {shared} of them shared at once",
            pushed as f64 / seconds
        );
    }
    Ok(())
}

/// Pushes new tickets at about `per_second` until the drain is done; how many were pushed
/// and how many of them were shared.
fn push_while(
    db: &Db,
    set: &ContractSet,
    keys: &VaultKeys,
    clock: &dyn Clock,
    draining: &AtomicBool,
    per_second: u64,
) -> anyhow::Result<(usize, usize)> {
    let gap = std::time::Duration::from_micros(1_000_000 / per_second);
    let started = Instant::now();
    let (mut pushed, mut shared) = (0usize, 0usize);
    while draining.load(Ordering::Relaxed) {
        let t = ticket("I", pushed)?;
        let outcome = db.write(|c| {
            msp_bridge::service::intake::ingest(c, set, keys, &t, "bench", clock.now())
                .map_err(|e| DbError::Task(e.to_string()))
        })?;
        pushed += 1;
        if outcome.routing.outcome == msp_bridge::model::RoutingOutcome::Shared {
            shared += 1;
        }
        // Paced from the start, so a slow push is caught up rather than the rate lowered.
        let next = gap * u32::try_from(pushed).unwrap_or(u32::MAX);
        if let Some(wait) = next.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
    }
    Ok((pushed, shared))
}
