//! Load generator: posts realistic tickets (2–4 KB of Russian and English text full of personal
//! data) to a running gateway and reports throughput and latency percentiles.
//!
//! ```sh
//! cargo run --release --example loadgen -- --url http://127.0.0.1:8080 --token "$INHOUSE" --rate 500 --seconds 20
//! cargo run --release --example loadgen -- --url ... --token ... --rate 0 --concurrency 64 --seconds 20   # as fast as it goes
//! ```
//! `--comments N` gives every ticket N comments (default 1); `--repeat` sends the same 1,000
//! tickets over and over, unchanged after their first push.
//! With `--rate N` requests start on a fixed schedule (open loop) and latency is measured from
//! each request's scheduled start, so a stalled server cannot hide its queueing delay.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::sync::{Semaphore, mpsc};

#[path = "support/tickets.rs"]
mod tickets;
use tickets::{Rng, ticket};

struct Args {
    url: String,
    token: String,
    rate: u64,
    seconds: u64,
    concurrency: usize,
    prefix: String,
    comments: usize,
    repeat: bool,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        url: "http://127.0.0.1:8080".into(),
        token: std::env::var("BRIDGE_TOKEN").unwrap_or_default(),
        rate: 500,
        seconds: 20,
        concurrency: 64,
        prefix: format!("load-{}", std::process::id()),
        comments: 1,
        repeat: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--repeat" {
            args.repeat = true;
            continue;
        }
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--url" => args.url = value,
            "--token" => args.token = value,
            "--rate" => args.rate = value.parse().context("--rate")?,
            "--seconds" => args.seconds = value.parse().context("--seconds")?,
            "--concurrency" => args.concurrency = value.parse().context("--concurrency")?,
            "--prefix" => args.prefix = value,
            "--comments" => args.comments = value.parse().context("--comments")?,
            other => bail!("unknown flag {other}"),
        }
    }
    if args.token.is_empty() {
        bail!("give an in-house token with --token or BRIDGE_TOKEN");
    }
    Ok(args)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    msp_bridge::crypto::tls_provider();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency.max(64))
        .build()?;
    let endpoint = format!("{}/api/v1/tickets", args.url.trim_end_matches('/'));
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let total = if args.rate == 0 {
        u64::MAX
    } else {
        args.rate * args.seconds
    };
    let bodies: Vec<Vec<u8>> = (0..1_000)
        .map(|seq| serde_json::to_vec(&ticket(&mut rng, "tmpl", seq, args.comments)))
        .collect::<Result<_, _>>()?;
    let mean_size = bodies.iter().map(Vec::len).sum::<usize>() / bodies.len();
    let (tx, mut rx) = mpsc::unbounded_channel::<(Duration, bool)>();
    let limit = Arc::new(Semaphore::new(if args.rate == 0 {
        args.concurrency
    } else {
        4_096
    }));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    let interval = if args.rate == 0 {
        Duration::ZERO
    } else {
        Duration::from_secs_f64(1.0 / args.rate as f64)
    };
    let mut seq = 0_u64;
    while seq < total && Instant::now() < deadline {
        let scheduled = started + interval * u32::try_from(seq).unwrap_or(u32::MAX);
        if args.rate > 0 {
            tokio::time::sleep_until(scheduled.into()).await;
        }
        let permit = Arc::clone(&limit).acquire_owned().await?;
        // Re-key a pre-built body: the same ~3 KB text, a new ticket each time; with
        // `--repeat`, the same 1,000 tickets sent again and again unchanged (a helpdesk
        // re-sending whole tickets).
        let template = &bodies[(seq % bodies.len() as u64) as usize];
        let key = if args.repeat {
            "r".to_owned()
        } else {
            seq.to_string()
        };
        let body = String::from_utf8_lossy(template).replacen(
            "\"tmpl-",
            &format!("\"{}-{key}-", args.prefix),
            1,
        );
        let request = client
            .post(&endpoint)
            .bearer_auth(&args.token)
            .header("content-type", "application/json")
            .body(body);
        let tx = tx.clone();
        let from = if args.rate > 0 {
            scheduled
        } else {
            Instant::now()
        };
        tokio::spawn(async move {
            let ok = matches!(request.send().await, Ok(r) if r.status().is_success());
            let _ = tx.send((from.elapsed(), ok));
            drop(permit);
        });
        seq += 1;
    }
    drop(tx);
    let mut latencies = Vec::with_capacity(seq as usize);
    let mut errors = 0_u64;
    while let Some((latency, ok)) = rx.recv().await {
        latencies.push(latency);
        errors += u64::from(!ok);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1_000.0;
    println!(
        "sent {} tickets (mean body {} bytes) in {:.1} s: {:.0} tickets/s, {} errors",
        latencies.len(),
        mean_size,
        elapsed,
        latencies.len() as f64 / elapsed,
        errors
    );
    println!(
        "latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 90.0)),
        ms(percentile(&latencies, 99.0)),
        ms(latencies.last().copied().unwrap_or_default())
    );
    if errors > 0 {
        bail!("{errors} requests failed");
    }
    Ok(())
}
