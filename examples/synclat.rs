//! End-to-end sync latency: an in-house write (a new ticket) until the contractor's webhook
//! receives it. Runs its own webhook receiver, posts tickets on a fixed schedule (open loop)
//! and reports p50/p99 from each ticket's scheduled send time to its `ticket.shared` arriving.
//! `scripts/synctest` starts a gateway wired to this receiver and runs it.
//!
//! ```sh
//! cargo run --release --example synclat -- --url http://127.0.0.1:18089 --token "$INHOUSE" \
//!     --listen 127.0.0.1:18090 --rate 1000 --seconds 10
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::web::{self, Bytes, Data};
use actix_web::{App, HttpResponse, HttpServer};
use anyhow::Context;
use serde_json::{Value, json};

struct Args {
    url: String,
    token: String,
    listen: String,
    rate: u64,
    seconds: u64,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        url: "http://127.0.0.1:18089".into(),
        token: std::env::var("BRIDGE_TOKEN").unwrap_or_default(),
        listen: "127.0.0.1:18090".into(),
        rate: 100,
        seconds: 10,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--url" => args.url = value,
            "--token" => args.token = value,
            "--listen" => args.listen = value,
            "--rate" => args.rate = value.parse().context("--rate")?,
            "--seconds" => args.seconds = value.parse().context("--seconds")?,
            other => anyhow::bail!("unknown flag {other}"),
        }
    }
    anyhow::ensure!(args.rate > 0, "--rate must be positive");
    Ok(args)
}

/// When each probe's `ticket.shared` arrived, by subject.
type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

async fn receive(body: Bytes, arrivals: Data<Arrivals>) -> HttpResponse {
    let at = Instant::now();
    if let Ok(event) = serde_json::from_slice::<Value>(&body)
        && event["type"] == "ticket.shared"
        && let Some(subject) = event["data"]["subject"].as_str()
    {
        arrivals
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(subject.to_owned())
            .or_insert(at);
    }
    HttpResponse::NoContent().finish()
}

fn probe(run: u32, n: u64) -> Value {
    json!({
        "source": "synclat",
        "external_id": format!("{run}-{n}"),
        "subject": format!("sync probe {run} {n}"),
        "description": "Where is my parcel?",
        "requester": { "name": "Ivan Petrov", "email": format!("ivan{run}x{n}@example.com") },
        "channel": "email",
        "priority": "normal",
        "language": "en",
        "status": "open",
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * (sorted.len().max(1) - 1) as f64).round() as usize;
    sorted.get(rank).copied().unwrap_or_default()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let arrivals: Arrivals = Arc::default();
    let shared = arrivals.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(Data::new(shared.clone()))
            .default_service(web::to(receive))
    })
    .workers(2)
    .disable_signals()
    .bind(&args.listen)?
    .run();
    tokio::spawn(server);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let endpoint = format!("{}/api/v1/tickets", args.url.trim_end_matches('/'));
    let run = std::process::id();
    let total = args.rate * args.seconds;
    let interval = Duration::from_secs_f64(1.0 / args.rate as f64);
    let started = Instant::now();
    let mut sent = Vec::with_capacity(total as usize);
    let mut failures = Vec::new();
    for n in 0..total {
        let scheduled = started + interval.mul_f64(n as f64);
        tokio::time::sleep_until(scheduled.into()).await;
        let request = client
            .post(&endpoint)
            .bearer_auth(&args.token)
            .json(&probe(run, n));
        failures.push(tokio::spawn(async move {
            let ok = matches!(request.send().await, Ok(r) if r.status().is_success());
            (ok, scheduled.elapsed())
        }));
        sent.push((format!("sync probe {run} {n}"), scheduled));
    }
    let mut errors = 0;
    let mut writes = Vec::with_capacity(failures.len());
    for f in failures {
        let (ok, took) = f.await.unwrap_or((false, Duration::ZERO));
        errors += usize::from(!ok);
        writes.push(took);
    }
    writes.sort();
    // Wait for the stragglers, at most 10 s.
    let deadline = Instant::now() + Duration::from_secs(10);
    while arrivals.lock().unwrap_or_else(|p| p.into_inner()).len() < sent.len()
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let arrived = arrivals.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let mut latencies: Vec<Duration> = sent
        .iter()
        .filter_map(|(subject, at)| arrived.get(subject).map(|got| got.duration_since(*at)))
        .collect();
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1_000.0;
    println!(
        "{} tickets at {}/s: {} received by the contractor webhook, {} missing, {errors} write errors",
        sent.len(),
        args.rate,
        latencies.len(),
        sent.len() - latencies.len()
    );
    println!(
        "write answered, ms: p50 {:.1}  p99 {:.1}",
        ms(percentile(&writes, 50.0)),
        ms(percentile(&writes, 99.0)),
    );
    println!(
        "write -> contractor webhook, ms: p50 {:.1}  p90 {:.1}  p99 {:.1}  max {:.1}",
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 90.0)),
        ms(percentile(&latencies, 99.0)),
        ms(latencies.last().copied().unwrap_or_default())
    );
    anyhow::ensure!(
        latencies.len() == sent.len() && errors == 0,
        "not every ticket synced"
    );
    Ok(())
}
