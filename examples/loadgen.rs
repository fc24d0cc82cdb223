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
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc};

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

/// A small deterministic generator, so runs are repeatable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + (self.next() % 10) as u8))
            .collect()
    }
}

const RU_FIRST: &[&str] = &[
    "Мария",
    "Иван",
    "Ольга",
    "Дмитрий",
    "Анна",
    "Сергей",
    "Екатерина",
    "Алексей",
];
const RU_LAST: &[&str] = &[
    "Иванова",
    "Петров",
    "Смирнова",
    "Кузнецов",
    "Попова",
    "Соколов",
    "Лебедева",
    "Новиков",
];
const EN_FIRST: &[&str] = &[
    "John", "Emily", "Michael", "Sarah", "David", "Laura", "James", "Olivia",
];
const EN_LAST: &[&str] = &[
    "Smith", "Johnson", "Brown", "Taylor", "Wilson", "Davies", "Evans", "Clark",
];
const RU_PARAGRAPHS: &[&str] = &[
    "Здравствуйте! Заказ до сих пор не доставлен, хотя в личном кабинете статус «передан в доставку» уже пятый день. Курьер не звонил, в пункте выдачи посылки нет.",
    "Прошу оформить возврат средств за товар ненадлежащего качества: после первой стирки куртка потеряла цвет, молния разошлась. Фотографии могу прислать дополнительно.",
    "С карты списали деньги дважды за один и тот же заказ. Прошу проверить и вернуть лишнее списание как можно скорее, мне нужно оплатить коммунальные услуги.",
    "Не могу войти в личный кабинет: код подтверждения не приходит на телефон, а восстановление пароля по почте выдаёт ошибку. Раньше всё работало.",
    "Курьер привёз не тот размер. Хочу обменять на размер побольше, но в приложении кнопка обмена неактивна. Подскажите, как быть, подарок нужен к пятнице.",
];
const EN_PARAGRAPHS: &[&str] = &[
    "Hello, my order still has not arrived although the tracking page has said 'out for delivery' for five days now. Nobody called me and the parcel locker is empty.",
    "I would like a refund for a faulty item: the jacket lost its colour after the first wash and the zip came apart. I can send photos if that helps your review.",
    "I was charged twice for the same order. Please check and refund the duplicate payment as soon as possible, I need the money for my rent this week.",
    "I cannot sign in to my account: the verification code never arrives on my phone and the password reset e-mail shows an error page. It used to work fine.",
    "The courier delivered the wrong size. I want to exchange it for a larger one but the exchange button in the app is greyed out. It is a gift needed by Friday.",
];

const PRIORITIES: [&str; 3] = ["low", "normal", "high"];
const CATEGORIES: [&str; 4] = ["delivery", "orders", "returns", "billing"];

fn ticket(rng: &mut Rng, prefix: &str, seq: u64, comments: usize) -> Value {
    let russian = seq.is_multiple_of(2);
    let (first, last, paragraphs, language) = if russian {
        (rng.pick(RU_FIRST), rng.pick(RU_LAST), RU_PARAGRAPHS, "ru")
    } else {
        (rng.pick(EN_FIRST), rng.pick(EN_LAST), EN_PARAGRAPHS, "en")
    };
    let email = format!(
        "{}.{}{}@example.{}",
        first.len(),
        last.len(),
        rng.digits(3),
        if russian { "ru" } else { "com" }
    );
    let phone = if russian {
        format!(
            "+7 (9{}) {}-{}-{}",
            rng.digits(2),
            rng.digits(3),
            rng.digits(2),
            rng.digits(2)
        )
    } else {
        format!("+44 20 {} {}", rng.digits(4), rng.digits(4))
    };
    let card = format!("4111 {} {} {}", rng.digits(4), rng.digits(4), rng.digits(4));
    let target = 2_048 + (rng.next() % 2_048) as usize;
    let mut description = String::new();
    while description.len() < target {
        description.push_str(rng.pick(paragraphs));
        description.push(' ');
        match rng.next() % 4 {
            0 => description.push_str(&format!("Мой телефон {phone}, почта {email}. ")),
            1 => description.push_str(&format!(
                "Card {card}, IBAN GB82WEST1234569876{}. ",
                rng.digits(4)
            )),
            2 => description.push_str(&format!(
                "ИНН 7707083893, СНИЛС 112-233-445 95, IP 192.168.{}.{}. ",
                rng.next() % 255,
                rng.next() % 255
            )),
            _ => description.push_str(&format!("{first} {last}, order #{}. ", rng.digits(7))),
        }
    }
    json!({
        "source": "loadgen",
        "external_id": format!("{prefix}-{seq}"),
        "subject": if russian { format!("Заказ {} — {} {}", rng.digits(7), first, last) } else { format!("Order {} — {} {}", rng.digits(7), first, last) },
        "description": description,
        "requester": { "name": format!("{first} {last}"), "email": email, "phone": phone },
        "channel": if seq.is_multiple_of(3) { "chat" } else { "email" },
        "priority": PRIORITIES[(seq % 3) as usize],
        "category": CATEGORIES[(seq % 4) as usize],
        "language": language,
        "tags": ["loadgen"],
        "custom_fields": { "order_id": rng.digits(7) },
        "status": "open",
        "comments": (0..comments).map(|c| json!({
            "external_id": format!("c{c}"),
            "author": if c % 2 == 0 { format!("{first} {last}") } else { "Support agent".to_owned() },
            "body": rng.pick(paragraphs),
            "public": c % 2 == 0,
        })).collect::<Vec<_>>()
    })
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
