//! End-to-end sync latency: an in-house write (a new ticket) until the contractor's webhook
//! receives it. Runs its own webhook receiver, posts tickets on a fixed schedule (open loop)
//! and reports p50/p99 from each ticket's scheduled send time to its `ticket.shared` arriving.
//! `scripts/synctest` starts a gateway wired to this receiver and runs it. With
//! `--comments N` the probes are the load generator's realistic tickets (2–4 KB of text full of
//! personal data) with N comments each, the full-share case; without, short English e-mails.
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

#[path = "support/tickets.rs"]
mod tickets;

struct Args {
    url: String,
    token: String,
    listen: String,
    rate: u64,
    seconds: u64,
    comments: Option<usize>,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        url: "http://127.0.0.1:18089".into(),
        token: std::env::var("BRIDGE_TOKEN").unwrap_or_default(),
        listen: "127.0.0.1:18090".into(),
        rate: 100,
        seconds: 10,
        comments: None,
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
            "--comments" => args.comments = Some(value.parse().context("--comments")?),
            other => anyhow::bail!("unknown flag {other}"),
        }
    }
    anyhow::ensure!(args.rate > 0, "--rate must be positive");
    Ok(args)
}

/// When each ticket's `ticket.shared` arrived, by gateway ticket id.
type Arrivals = Arc<Mutex<HashMap<i64, Instant>>>;

async fn receive(body: Bytes, arrivals: Data<Arrivals>) -> HttpResponse {
    let at = Instant::now();
    if let Ok(event) = serde_json::from_slice::<Value>(&body)
        && event["type"] == "ticket.shared"
        && let Some(id) = event["ticket"].as_i64()
    {
        arrivals
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(id)
            .or_insert(at);
    }
    HttpResponse::NoContent().finish()
}

/// A short English e-mail ticket, taken by the test contract `acme-en`.
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
    msp_bridge::crypto::tls_provider();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let endpoint = format!("{}/api/v1/tickets", args.url.trim_end_matches('/'));
    let run = std::process::id();
    let total = args.rate * args.seconds;
    let interval = Duration::from_secs_f64(1.0 / args.rate as f64);
    // Bodies are made before the clock starts, so building them cannot delay the schedule.
    let mut rng = tickets::Rng(0x9E37_79B9_7F4A_7C15);
    let bodies: Vec<Vec<u8>> = (0..total)
        .map(|n| match args.comments {
            Some(comments) => serde_json::to_vec(&tickets::ticket(
                &mut rng,
                &format!("sync-{run}"),
                n,
                comments,
            )),
            None => serde_json::to_vec(&probe(run, n)),
        })
        .collect::<Result<_, _>>()?;
    let started = Instant::now();
    let mut writes = Vec::with_capacity(bodies.len());
    for (n, body) in bodies.into_iter().enumerate() {
        let scheduled = started + interval.mul_f64(n as f64);
        tokio::time::sleep_until(scheduled.into()).await;
        let request = client
            .post(&endpoint)
            .bearer_auth(&args.token)
            .header("content-type", "application/json")
            .body(body);
        writes.push(tokio::spawn(async move {
            let id = match request.send().await {
                Ok(r) if r.status().is_success() => {
                    r.json::<Value>().await.ok().and_then(|v| v["id"].as_i64())
                }
                _ => None,
            };
            (id, scheduled, scheduled.elapsed())
        }));
    }
    let mut errors = 0;
    let mut sent = Vec::with_capacity(writes.len());
    let mut answered = Vec::with_capacity(writes.len());
    for w in writes {
        match w.await {
            Ok((Some(id), scheduled, took)) => {
                sent.push((id, scheduled));
                answered.push(took);
            }
            _ => errors += 1,
        }
    }
    answered.sort();
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
        .filter_map(|(id, at)| arrived.get(id).map(|got| got.duration_since(*at)))
        .collect();
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1_000.0;
    println!(
        "{} tickets at {}/s: {} received by the contractor webhook, {} missing, {errors} write errors",
        sent.len() + errors,
        args.rate,
        latencies.len(),
        sent.len() - latencies.len()
    );
    println!(
        "write answered, ms: p50 {:.1}  p99 {:.1}",
        ms(percentile(&answered, 50.0)),
        ms(percentile(&answered, 99.0)),
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
