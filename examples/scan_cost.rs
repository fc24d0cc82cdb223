//! Runs the free-text detectors over the redaction corpus a given number of times, for counting
//! their work with callgrind (`scripts/scan-cost` runs it and prints instructions a byte).
//!
//! ```sh
//! cargo run --release --example scan_cost -- <all|no-names|no-addresses|numbers> <passes>
//! ```
//! `numbers` leaves out both word detectors (names and addresses). Before the passes every
//! detector has been set up once (the lexicon, the word lists, the marker automaton), so the
//! difference between two pass counts is the scanning alone.

use anyhow::{Context, bail};
use msp_bridge::contracts::DetectorKind;
use msp_bridge::redaction::detect::{ScanOptions, scan};

#[path = "support/corpus.rs"]
mod corpus;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(set), Some(passes)) = (args.next(), args.next()) else {
        bail!("usage: scan_cost <all|no-names|no-addresses|numbers> <passes>");
    };
    let passes: usize = passes.parse().context("passes: a whole number")?;
    let left_out: &[DetectorKind] = match set.as_str() {
        "all" => &[],
        "no-names" => &[DetectorKind::Person],
        "no-addresses" => &[DetectorKind::Address],
        "numbers" => &[DetectorKind::Person, DetectorKind::Address],
        other => bail!("unknown detector set {other}"),
    };
    let options = ScanOptions {
        detectors: DetectorKind::ALL
            .iter()
            .copied()
            .filter(|k| !left_out.contains(k))
            .collect(),
        aggressive: false,
    };
    let texts = corpus::corpus()?;
    // Sets every detector up: names, an address with its marker, numbers.
    scan(
        "Иван Петров, г. Москва, ул. Ленина, д. 5, тел. +7 912 345-67-89",
        &options,
    )?;
    let mut findings = 0;
    for _ in 0..passes {
        for text in &texts {
            findings += scan(std::hint::black_box(text), &options)?.len();
        }
    }
    let bytes: usize = texts.iter().map(String::len).sum();
    println!("{bytes} bytes a pass, {findings} findings in {passes} passes");
    Ok(())
}
