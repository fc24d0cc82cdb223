//! Prints every finding of every detector on a fixed set of texts, one line each, so that two
//! builds can be compared (`diff`): a change meant only to make the detectors faster must
//! leave the output byte for byte the same.
//!
//! ```sh
//! cargo run --release --example findings_dump -- [../shared/testdata/pii] > findings.txt
//! ```
//! The texts: the redaction corpus, each line of the files in the directory given (the
//! labelled development sets, read as plain lines), and every seventh of those again in
//! lower case (chat text written without capitals).

use std::io::Write;

use anyhow::Context;
use msp_bridge::contracts::DetectorKind;
use msp_bridge::redaction::detect::{MAX_FIELD_BYTES, ScanOptions, scan};

#[path = "support/corpus.rs"]
mod corpus;

fn main() -> anyhow::Result<()> {
    let mut texts = corpus::corpus()?;
    if let Some(dir) = std::env::args().nth(1) {
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .with_context(|| format!("reading {dir}"))?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.is_file())
            .collect();
        files.sort();
        for file in files {
            // Licence files and the like are text too; anything not UTF-8 is passed over.
            if let Ok(content) = std::fs::read_to_string(&file) {
                texts.extend(content.lines().map(str::to_owned));
            }
        }
    }
    let lowered: Vec<String> = texts.iter().step_by(7).map(|t| t.to_lowercase()).collect();
    texts.extend(lowered);
    let options = ScanOptions {
        detectors: DetectorKind::ALL.to_vec(),
        aggressive: false,
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (n, text) in texts.iter().enumerate() {
        if text.len() > MAX_FIELD_BYTES {
            continue;
        }
        for finding in scan(text, &options)? {
            let found = &text[finding.start..finding.end];
            writeln!(out, "{n}\t{:?}\t{found:?}", finding.kind)?;
        }
    }
    out.flush()?;
    Ok(())
}
