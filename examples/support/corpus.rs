//! The redaction corpus, `benches/data/corpus.jsonl` (written by `scripts/gen-corpus.py`): the
//! texts the redaction bench and the detector tools read.

use anyhow::Context;

/// The texts of the corpus, in order.
pub fn corpus() -> anyhow::Result<Vec<String>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/data/corpus.jsonl");
    let lines = std::fs::read_to_string(path)
        .with_context(|| format!("reading {path} (run scripts/gen-corpus.py)"))?;
    lines
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line)?;
            value["text"]
                .as_str()
                .map(str::to_owned)
                .context("a corpus line without text")
        })
        .collect()
}
