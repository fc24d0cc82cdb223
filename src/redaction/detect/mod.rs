//! Personal-data detectors over free text.
//!
//! One pass finds candidates with cheap byte checks — runs of digits and separators, `@`,
//! an IBAN's country code, a colon among hex digits — and each candidate is confirmed by its
//! shape and, where one exists, its checksum. Look-alikes that fail the checksum are reported
//! only in aggressive mode. Work per field is bounded: text longer than [`MAX_FIELD_BYTES`] is
//! refused, so the caller fails closed instead of stalling.

mod address;
pub mod checksum;
mod context;
pub mod lexicon;
mod numbers;
mod person;
mod phone_codes;
mod scan;
mod words;

pub use scan::{number_runs, scan};
pub(crate) use words::alphanumeric;

use crate::contracts::DetectorKind;

/// Longest free text a field may hold for scanning (the ingest limit is larger: a ticket too
/// long to scan safely is kept in-house rather than shared).
pub const MAX_FIELD_BYTES: usize = 128 * 1024;

/// What a finding is.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FindingKind {
    /// A built-in detector.
    Builtin(DetectorKind),
    /// A contract pattern or dictionary, by name.
    Custom(String),
    /// A value the ticket itself gives about the customer (`requester.name`, …).
    Known(String),
}

impl FindingKind {
    /// The name used in receipts and placeholders (`EMAIL`, `CUSTOM_LOYALTY_ACCOUNT`, …).
    pub fn label(&self) -> String {
        match self {
            Self::Builtin(kind) => builtin_label(*kind).to_owned(),
            Self::Custom(name) => name.to_uppercase().replace(['-', '.'], "_"),
            Self::Known(field) => match field.as_str() {
                "requester.email" => "EMAIL".into(),
                "requester.phone" => "PHONE".into(),
                "requester.name" => "NAME".into(),
                other => other.rsplit('.').next().unwrap_or(other).to_uppercase(),
            },
        }
    }
}

/// The placeholder name of a built-in kind.
pub fn builtin_label(kind: DetectorKind) -> &'static str {
    match kind {
        DetectorKind::Email => "EMAIL",
        DetectorKind::Phone => "PHONE",
        DetectorKind::Card => "CARD",
        DetectorKind::Iban => "IBAN",
        DetectorKind::Ip => "IP",
        DetectorKind::RuPassport => "PASSPORT",
        DetectorKind::Snils => "SNILS",
        DetectorKind::Inn => "INN",
        DetectorKind::Ssn => "SSN",
        DetectorKind::BirthDate => "BIRTH_DATE",
        DetectorKind::Person => "PERSON",
        DetectorKind::Address => "ADDRESS",
    }
}

/// One piece of personal data found in a text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset after the last byte.
    pub end: usize,
    /// What it is.
    pub kind: FindingKind,
}

/// Which detectors to run, and how strictly.
#[derive(Clone, Debug, Default)]
pub struct ScanOptions {
    /// Built-in detectors to run.
    pub detectors: Vec<DetectorKind>,
    /// Also flag checksum-failing look-alikes.
    pub aggressive: bool,
}

impl ScanOptions {
    /// True when `kind` is enabled.
    pub fn runs(&self, kind: DetectorKind) -> bool {
        self.detectors.contains(&kind)
    }
}

/// [`ScanOptions`] as the scanner reads them many times a text: a bit per detector.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Enabled {
    kinds: u32,
    /// Also flag checksum-failing look-alikes.
    pub aggressive: bool,
}

impl Enabled {
    pub(crate) fn of(options: &ScanOptions) -> Self {
        Self {
            kinds: options.detectors.iter().fold(0, |m, k| m | 1 << *k as u32),
            aggressive: options.aggressive,
        }
    }

    /// True when `kind` is enabled.
    pub(crate) fn runs(self, kind: DetectorKind) -> bool {
        self.kinds & (1 << kind as u32) != 0
    }
}

/// Why a text could not be scanned safely.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    /// The text is longer than the bound on work per field.
    #[error("text of {0} bytes is longer than the {MAX_FIELD_BYTES}-byte limit")]
    TooLong(usize),
}

/// Characters that people (or attackers) put inside numbers and addresses without changing
/// them: zero-width characters, the soft hyphen, and the bidirectional marks and overrides
/// (`ivan\u{202E}@mail.ru` reads reversed on screen but is the same address).
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
            | '\u{00AD}'
    )
}

/// The ASCII character a fullwidth form stands for (`４` → `4`, `＠` → `@`).
pub fn narrow(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        other => other,
    }
}

/// `text` with fullwidth forms narrowed, and for each of its bytes (plus one past the end) the
/// offset of the original byte it came from; `None` when there is nothing to narrow (almost
/// always: the check is one pass over the bytes).
pub fn narrowed(text: &str) -> Option<(String, Vec<usize>)> {
    // Fullwidth forms and the ideographic space are encoded starting 0xEF or 0xE3: two
    // memchr passes tell almost every text there is nothing to do.
    let bytes = text.as_bytes();
    if !(bytes.contains(&0xEF) || bytes.contains(&0xE3)) || !text.chars().any(|c| narrow(c) != c) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut origin = Vec::with_capacity(text.len() + 1);
    for (at, c) in text.char_indices() {
        let n = narrow(c);
        out.push(n);
        origin.extend(std::iter::repeat_n(at, n.len_utf8()));
    }
    origin.push(text.len());
    Some((out, origin))
}
