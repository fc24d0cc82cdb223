//! Redaction throughput and per-ticket latency over a realistic corpus
//! (`scripts/gen-corpus.py` writes `benches/data/corpus.jsonl`).
//!
//! ```sh
//! cargo bench --bench redaction
//! ```
//! Criterion measures detector throughput (MB/s, one core); afterwards every 4 KB ticket is
//! redacted end to end — detectors, the contract's patterns and word lists, known values, and
//! tokens from a real SQLite vault — and the p50/p99 per ticket are printed.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use msp_bridge::contracts::{DetectorKind, parse_contract};
use msp_bridge::redaction::detect::{ScanOptions, scan};
use msp_bridge::redaction::engine::{EntityCounts, Redactor};
use msp_bridge::redaction::{Vault, VaultKeys};
use serde_json::json;

#[path = "../examples/support/corpus.rs"]
mod corpus;

fn corpus() -> Vec<String> {
    corpus::corpus().unwrap_or_else(|e| panic!("{e:#}"))
}

fn all_detectors() -> ScanOptions {
    ScanOptions {
        detectors: DetectorKind::ALL.to_vec(),
        aggressive: false,
    }
}

fn detectors(c: &mut Criterion, texts: &[String]) {
    let bytes: usize = texts.iter().map(String::len).sum();
    let options = all_detectors();
    let mut group = c.benchmark_group("detectors");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("all_detectors_corpus", |b| {
        b.iter(|| {
            let mut found = 0;
            for t in texts {
                found += scan(std::hint::black_box(t), &options)
                    .map(|f| f.len())
                    .unwrap_or(0);
            }
            found
        })
    });
    group.finish();
}

fn per_ticket_latency(texts: &[String], rounds: usize) {
    let contract = parse_contract(
        "ural-ru.toml",
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/contracts/ural-ru.toml"
        ))
        .unwrap_or_default(),
    )
    .unwrap_or_else(|p| panic!("{p:?}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let db = msp_bridge::db::Db::connect(&format!("sqlite://{}/bench.db", dir.path().display()))
        .unwrap_or_else(|e| panic!("{e}"));
    db.migrate().unwrap_or_else(|e| panic!("{e}"));
    let keys = VaultKeys::from_bytes([7; 32]);
    let mut fields = BTreeMap::new();
    fields.insert("requester.name".to_owned(), json!("Мария Иванова"));
    fields.insert("requester.email".to_owned(), json!("client42@example.ru"));
    fields.insert("requester.phone".to_owned(), json!("+7 912 345-67-89"));
    let redactor = Redactor::new(&contract.confidentiality, &fields);
    let large: Vec<&String> = texts.iter().filter(|t| t.len() >= 4096).collect();
    let mut samples: Vec<Duration> = Vec::with_capacity(large.len() * rounds);
    let now = chrono::Utc::now();
    db.dry_run(|conn| {
        let mut vault = Vault::new(conn, &keys, "ural-ru", now);
        for _ in 0..rounds {
            for text in &large {
                let mut counts = EntityCounts::new();
                let started = Instant::now();
                let out = redactor
                    .text(
                        "description",
                        contract.confidentiality.action_for("description"),
                        text,
                        &mut vault,
                        &mut counts,
                    )
                    .map_err(|e| msp_bridge::db::DbError::Task(e.to_string()))?;
                samples.push(started.elapsed());
                std::hint::black_box(out);
            }
        }
        Ok::<_, msp_bridge::db::DbError>(())
    })
    .unwrap_or_else(|e| panic!("{e}"));
    samples.sort();
    let pick = |p: f64| samples[((samples.len() - 1) as f64 * p) as usize];
    println!(
        "engine, one 4 KB ticket end to end ({} samples): p50 {:?}  p99 {:?}  max {:?}",
        samples.len(),
        pick(0.50),
        pick(0.99),
        samples.last().copied().unwrap_or_default()
    );
}

fn main() {
    let texts = corpus();
    let mut c = Criterion::default().configure_from_args();
    detectors(&mut c, &texts);
    c.final_summary();
    // `cargo test --all-targets` runs benches once as a smoke test: keep that quick.
    let benchmarking = std::env::args().any(|a| a == "--bench");
    per_ticket_latency(&texts, if benchmarking { 20 } else { 1 });
    hostile_fields();
}

/// Fields of the largest size made of what works the word detectors hardest; each must
/// scan at a rate of the same order as ordinary text (linear work), printed in MB/s.
fn hostile_fields() {
    let max = msp_bridge::redaction::detect::MAX_FIELD_BYTES;
    let fill = |unit: &str| unit.repeat(max / unit.len());
    let distinct_names: String = (0..max / 20)
        .map(|n| {
            let word: String = (0..4)
                .map(|k| char::from_u32(0x430 + ((n >> (k * 5)) % 32) as u32).unwrap_or('а'))
                .collect();
            format!("Ив{word}ов ")
        })
        .collect();
    let options = all_detectors();
    for (name, text) in [
        ("distinct capitalised names", distinct_names),
        ("initials", fill("И. ")),
        ("capitalised words", fill("Aa Bb ")),
        ("digits and dots", fill("1.2.")),
        ("one endless word", format!("Я{}", "я".repeat(max / 2 - 1))),
        ("address markers", fill("ул. Ленина, д. 5, ")),
        ("street addresses", fill("12 Baker Street Apt 4 ")),
    ] {
        let started = Instant::now();
        let found = scan(&text, &options).map(|f| f.len()).unwrap_or(0);
        let took = started.elapsed();
        println!(
            "hostile field, {name} ({} KB): {:.1} MB/s, {found} findings",
            text.len() / 1024,
            text.len() as f64 / took.as_secs_f64() / 1e6
        );
    }
}
