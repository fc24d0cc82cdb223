//! Measures the free-text detectors on labelled text written by others: recall and precision
//! per kind, and word preservation (the share of ordinary words, outside every labelled span,
//! left untouched — a redactor that deletes everything would catch everything).
//!
//! ```sh
//! cargo run --release --example pii_eval -- ../shared/testdata/pii
//! ```
//! Reads `factrueval2016_devset_mentions.jsonl` (Russian news, person mentions) and
//! `presidio_generated_large.json` (English synthetic sentences), then measures false
//! positives on generated order, invoice and tracking numbers, dates and amounts. Offsets there are Unicode
//! code points; they are turned into byte offsets here.
//!
//! A labelled span counts as caught when every letter and digit of it lies inside some
//! finding (of any kind: it did not leave), and as caught *as itself* when a finding of its
//! own kind covers it. A finding is right when it overlaps a labelled span of its kind, wrong
//! when it overlaps none (spans of kinds the gateway does not look for, such as dates or job
//! titles, make a finding neither).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use msp_bridge::contracts::DetectorKind;
use msp_bridge::redaction::detect::{Finding, FindingKind, ScanOptions, scan};
use serde_json::Value;

/// One labelled span, in bytes.
struct Gold {
    start: usize,
    end: usize,
    /// The gateway's kind it corresponds to; `None` for kinds that are not personal data
    /// (organisations, places) and `Some("")` for neutral ones.
    kind: Option<&'static str>,
}

struct Doc {
    text: String,
    gold: Vec<Gold>,
}

fn byte_offsets(text: &str) -> Vec<usize> {
    let mut offsets: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
    offsets.push(text.len());
    offsets
}

fn presidio_kind(label: &str) -> Option<&'static str> {
    match label {
        "PERSON" => Some("person"),
        "ADDRESS" => Some("address"),
        "CREDIT_CARD" => Some("card"),
        "PHONE_NUMBER" => Some("phone"),
        "EMAIL_ADDRESS" => Some("email"),
        "US_SSN" => Some("ssn"),
        "IBAN_CODE" => Some("iban"),
        "IP_ADDRESS" => Some("ip"),
        "LOCATION" | "ORGANIZATION" => None,
        _ => Some(""),
    }
}

fn load_presidio(path: &Path) -> anyhow::Result<Vec<Doc>> {
    let all: Value =
        serde_json::from_slice(&std::fs::read(path).with_context(|| path.display().to_string())?)?;
    let mut docs = Vec::new();
    for item in all.as_array().into_iter().flatten() {
        let text = item["full_text"].as_str().unwrap_or_default().to_owned();
        let at = byte_offsets(&text);
        let gold = item["spans"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| {
                let start = *at.get(usize::try_from(s["start_position"].as_u64()?).ok()?)?;
                let end = *at.get(usize::try_from(s["end_position"].as_u64()?).ok()?)?;
                Some(Gold {
                    start,
                    end,
                    kind: presidio_kind(s["entity_type"].as_str()?),
                })
            })
            .collect();
        docs.push(Doc { text, gold });
    }
    Ok(docs)
}

fn load_factrueval(path: &Path) -> anyhow::Result<Vec<Doc>> {
    let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    let mut docs = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let item: Value = serde_json::from_str(line)?;
        let body = item["text"].as_str().unwrap_or_default().to_owned();
        let at = byte_offsets(&body);
        let mut gold = Vec::new();
        let span = |v: &Value| -> Option<(usize, usize)> {
            Some((
                *at.get(usize::try_from(v["start"].as_u64()?).ok()?)?,
                *at.get(usize::try_from(v["end"].as_u64()?).ok()?)?,
            ))
        };
        for e in item["entities"].as_array().into_iter().flatten() {
            if e["type"] == "Person" {
                // Each part of a person's mention (given name, surname, patronymic, nickname)
                // is a unit: the whole mention may hold words that are not the name.
                for p in e["parts"].as_array().into_iter().flatten() {
                    if let Some((start, end)) = span(p) {
                        gold.push(Gold {
                            start,
                            end,
                            kind: Some("person"),
                        });
                    }
                }
            } else if let Some((start, end)) = span(e) {
                gold.push(Gold {
                    start,
                    end,
                    kind: None,
                });
            }
        }
        docs.push(Doc { text: body, gold });
    }
    Ok(docs)
}

fn kind_name(f: &Finding) -> String {
    match &f.kind {
        FindingKind::Builtin(k) => serde_json::to_value(k)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        other => other.label().to_lowercase(),
    }
}

/// The gateway's kind names that match a labelled kind (`passport` findings do not count for
/// `card`, but a Russian passport, SNILS or INN is "an id" for nothing in these sets).
fn same_kind(finding: &str, gold: &str) -> bool {
    finding == gold || (gold == "card" && finding == "card")
}

#[derive(Default)]
struct Tally {
    gold: usize,
    caught: usize,
    caught_as_itself: usize,
    findings: usize,
    right: usize,
    wrong: usize,
    missed: Vec<String>,
    false_hits: Vec<String>,
}

struct Report {
    kinds: BTreeMap<String, Tally>,
    words: usize,
    words_kept: usize,
}

fn covered(
    findings: &[Finding],
    text: &str,
    start: usize,
    end: usize,
    of_kind: Option<&str>,
) -> bool {
    text[start..end].char_indices().all(|(i, c)| {
        let at = start + i;
        !c.is_alphanumeric()
            || findings.iter().any(|f| {
                f.start <= at && at < f.end && of_kind.is_none_or(|k| same_kind(&kind_name(f), k))
            })
    })
}

fn measure(docs: &[Doc], options: &ScanOptions) -> anyhow::Result<Report> {
    let mut report = Report {
        kinds: BTreeMap::new(),
        words: 0,
        words_kept: 0,
    };
    for doc in docs {
        let findings = scan(&doc.text, options).map_err(|e| anyhow::anyhow!("{e}"))?;
        for g in &doc.gold {
            let Some(kind) = g.kind.filter(|k| !k.is_empty()) else {
                continue;
            };
            let t = report.kinds.entry(kind.to_owned()).or_default();
            t.gold += 1;
            if covered(&findings, &doc.text, g.start, g.end, None) {
                t.caught += 1;
            } else if t.missed.len() < 400 {
                t.missed.push(in_context(&doc.text, g.start, g.end));
            }
            if covered(&findings, &doc.text, g.start, g.end, Some(kind)) {
                t.caught_as_itself += 1;
            }
        }
        for f in &findings {
            let name = kind_name(f);
            let overlapping: Vec<&Gold> = doc
                .gold
                .iter()
                .filter(|g| g.start < f.end && f.start < g.end)
                .collect();
            let t = report.kinds.entry(name.clone()).or_default();
            t.findings += 1;
            if overlapping
                .iter()
                .any(|g| g.kind.is_some_and(|k| same_kind(&name, k)))
            {
                t.right += 1;
            } else if overlapping
                .iter()
                .all(|g| g.kind.is_none() || g.kind.is_some_and(|k| !k.is_empty()))
            {
                t.wrong += 1;
                if t.false_hits.len() < 400 {
                    t.false_hits.push(in_context(&doc.text, f.start, f.end));
                }
            }
        }
        // Ordinary words: outside every labelled span.
        let mut word_start = None;
        for (i, c) in doc
            .text
            .char_indices()
            .chain(std::iter::once((doc.text.len(), ' ')))
        {
            match (c.is_alphanumeric(), word_start) {
                (true, None) => word_start = Some(i),
                (false, Some(s)) => {
                    word_start = None;
                    if doc.gold.iter().any(|g| g.start < i && s < g.end) {
                        continue;
                    }
                    report.words += 1;
                    if !findings.iter().any(|f| f.start < i && s < f.end) {
                        report.words_kept += 1;
                    }
                }
                _ => {}
            }
        }
    }
    Ok(report)
}

fn percent(part: usize, whole: usize) -> String {
    if whole == 0 {
        "—".into()
    } else {
        format!("{:.1}%", 100.0 * part as f64 / whole as f64)
    }
}

fn print(name: &str, report: &Report, verbose: bool) {
    println!("\n## {name}");
    println!("| kind | labelled | caught | caught as itself | findings | precision |");
    println!("|---|---|---|---|---|---|");
    for (kind, t) in &report.kinds {
        println!(
            "| {kind} | {} | {} | {} | {} | {} |",
            t.gold,
            percent(t.caught, t.gold),
            percent(t.caught_as_itself, t.gold),
            t.findings,
            percent(t.right, t.right + t.wrong)
        );
    }
    println!(
        "\nword preservation: {} of {} ordinary words kept ({})",
        report.words_kept,
        report.words,
        percent(report.words_kept, report.words)
    );
    if verbose {
        for (kind, t) in &report.kinds {
            for m in &t.missed {
                println!("  missed {kind}: {m}");
            }
            for h in &t.false_hits {
                println!("  wrong {kind}: {h}");
            }
        }
    }
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "../shared/testdata/pii".into()),
    );
    let verbose = args.any(|a| a == "--verbose");
    let options = ScanOptions {
        detectors: DetectorKind::ALL.to_vec(),
        aggressive: false,
    };
    let ru = load_factrueval(&dir.join("factrueval2016_devset_mentions.jsonl"))?;
    let en = load_presidio(&dir.join("presidio_generated_large.json"))?;
    print(
        "Russian news (factRuEval-2016 devset)",
        &measure(&ru, &options)?,
        verbose,
    );
    print(
        "English synthetic (presidio-research)",
        &measure(&en, &options)?,
        verbose,
    );
    references(&options, verbose)?;
    Ok(())
}

/// A fixed-seed generator (64-bit LCG): the same references every run, no dependency.
struct Seeded(u64);

impl Seeded {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }

    fn digits(&mut self, len: usize) -> String {
        (0..len)
            .map(|i| {
                let d = if i == 0 {
                    1 + self.below(9)
                } else {
                    self.below(10)
                };
                char::from(b'0' + d as u8)
            })
            .collect()
    }
}

/// False positives on what is not personal data: order and invoice numbers, tracking numbers,
/// dates and times, amounts — generated in the ways tickets write them, each in a sentence.
/// Any finding that touches the reference counts against it.
fn references(options: &ScanOptions, verbose: bool) -> anyhow::Result<()> {
    let mut rng = Seeded(13);
    let mut kinds: BTreeMap<&str, (usize, usize, Vec<String>)> = BTreeMap::new();
    for _ in 0..2_000 {
        let order = {
            let len = 6 + rng.below(9) as usize;
            rng.digits(len)
        };
        let track = {
            let len = 10 + rng.below(13) as usize;
            rng.digits(len)
        };
        let s10 = format!(
            "{}{}RU",
            ["RA", "RB", "EE", "CP", "LP"][rng.below(5) as usize],
            rng.digits(9)
        );
        let (d, m, y) = (1 + rng.below(28), 1 + rng.below(12), 2000 + rng.below(30));
        let (h, min) = (rng.below(24), rng.below(60));
        let rub = rng.below(200_000);
        let cents = rng.below(100);
        let cases: [(&str, String, String); 12] = [
            (
                "order",
                format!("Заказ № {order}. Когда доставка?"),
                order.clone(),
            ),
            (
                "order",
                format!("Order #{order}. Please call me back."),
                order.clone(),
            ),
            ("order", format!("Номер заказа: {order}"), order.clone()),
            (
                "order",
                format!("Invoice INV-{order} is unpaid"),
                format!("INV-{order}"),
            ),
            (
                "tracking",
                format!("Трек-номер {track}, посылка стоит"),
                track.clone(),
            ),
            (
                "tracking",
                format!("tracking number {track} shows no movement"),
                track.clone(),
            ),
            (
                "tracking",
                format!("Отправление {s10} не пришло"),
                s10.clone(),
            ),
            (
                "date",
                format!("Звонили {d:02}.{m:02}.{y} {h:02}:{min:02}"),
                format!("{d:02}.{m:02}.{y} {h:02}:{min:02}"),
            ),
            (
                "date",
                format!("Delivered on {m:02}/{d:02}/{y} at {h:02}:{min:02}"),
                format!("{m:02}/{d:02}/{y} at {h:02}:{min:02}"),
            ),
            (
                "date",
                format!("Срок до {y}-{m:02}-{d:02}"),
                format!("{y}-{m:02}-{d:02}"),
            ),
            (
                "amount",
                format!("Списали {rub} {cents:02} руб., верните"),
                format!("{rub} {cents:02} руб."),
            ),
            (
                "amount",
                format!("You charged me ${rub}.{cents:02} twice"),
                format!("${rub}.{cents:02}"),
            ),
        ];
        for (kind, text, value) in cases {
            let Some(at) = text.find(&value) else {
                continue;
            };
            let found = scan(&text, options).map_err(|e| anyhow::anyhow!("{e}"))?;
            let hit = found
                .iter()
                .any(|f| f.start < at + value.len() && at < f.end);
            let tally = kinds.entry(kind).or_default();
            tally.0 += 1;
            if hit {
                tally.1 += 1;
                if tally.2.len() < 20 {
                    tally.2.push(text);
                }
            }
        }
    }
    println!("\n## References that are not personal data (generated, fixed seed)");
    println!("| kind | references | redacted |");
    println!("|---|---|---|");
    let (mut all, mut hit) = (0, 0);
    for (kind, (n, h, _)) in &kinds {
        println!("| {kind} | {n} | {} |", percent(*h, *n));
        all += n;
        hit += h;
    }
    println!("| all | {all} | {} |", percent(hit, all));
    if verbose {
        for (kind, (_, _, examples)) in &kinds {
            for e in examples {
                println!("  redacted {kind}: {e}");
            }
        }
    }
    Ok(())
}

/// `text[start..end]` in brackets with a little of the text either side, on one line.
fn in_context(text: &str, start: usize, end: usize) -> String {
    let from = text.floor_char_boundary(start.saturating_sub(25));
    let to = text.ceil_char_boundary((end + 25).min(text.len()));
    format!(
        "…{}[{}]{}…",
        &text[from..start],
        &text[start..end],
        &text[end..to]
    )
    .replace('\n', " ")
}
