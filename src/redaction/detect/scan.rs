//! The single-pass scanner behind [`scan`].

use std::net::Ipv6Addr;

use super::checksum;
use super::numbers::{classify_run, run_end, series_and_number};
use super::{Enabled, Finding, FindingKind, MAX_FIELD_BYTES, ScanError, ScanOptions, is_invisible};
use crate::contracts::DetectorKind;

/// Finds the built-in entity kinds `options` enables in `text`, ordered by position and not
/// overlapping.
pub fn scan(text: &str, options: &ScanOptions) -> Result<Vec<Finding>, ScanError> {
    if text.len() > MAX_FIELD_BYTES {
        return Err(ScanError::TooLong(text.len()));
    }
    let enabled = Enabled::of(options);
    // Fullwidth digits and signs (`４１１１…`, `＠`) are scanned as their ASCII forms and the
    // findings placed back on the original text.
    let mut found = match super::narrowed(text) {
        Some((narrow, origin)) => scan_narrow(&narrow, enabled)
            .into_iter()
            .map(|f| Finding {
                start: origin[f.start],
                end: origin[f.end],
                kind: f.kind,
            })
            .collect(),
        None => scan_narrow(text, enabled),
    };
    // Addresses before names: `ул. Ленина`, `Rue Joseph Vernet` are streets, not people.
    if enabled.runs(DetectorKind::Address) {
        add_words(
            &mut found,
            super::address::find(text),
            DetectorKind::Address,
        );
    }
    if enabled.runs(DetectorKind::Person) {
        add_words(&mut found, super::person::find(text), DetectorKind::Person);
    }
    Ok(found)
}

/// Adds findings made of words (names, addresses) where no number or address already stands,
/// keeping the list ordered.
fn add_words(found: &mut Vec<Finding>, spans: Vec<(usize, usize)>, kind: DetectorKind) {
    if spans.is_empty() {
        return;
    }
    let mut added = false;
    for (start, end) in spans {
        if found.iter().any(|f| f.start < end && start < f.end) {
            continue;
        }
        found.push(Finding {
            start,
            end,
            kind: FindingKind::Builtin(kind),
        });
        added = true;
    }
    if added {
        found.sort_by_key(|f| f.start);
    }
}

fn scan_narrow(text: &str, options: Enabled) -> Vec<Finding> {
    let bytes = text.as_bytes();
    let mut found: Vec<Finding> = Vec::new();
    let push = |found: &mut Vec<Finding>, start: usize, end: usize, kind: DetectorKind| {
        // A later, wider finding (an e-mail whose local part looked like a number) wins.
        while found.last().is_some_and(|f| f.end > start) {
            found.pop();
        }
        found.push(Finding {
            start,
            end,
            kind: FindingKind::Builtin(kind),
        });
    };
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        // Nothing begins at any other byte (letters of other scripts, spaces, punctuation):
        // most of a ticket is passed over here, a table look-up a byte.
        if !CAN_BEGIN[usize::from(b)] {
            i += 1;
            continue;
        }
        if b == b'@' {
            if options.runs(DetectorKind::Email)
                && let Some((start, end)) = email_at(text, i)
            {
                push(&mut found, start, end, DetectorKind::Email);
                i = end;
                continue;
            }
            i += 1;
            continue;
        }
        if (b == b'(' || b == b'[')
            && options.runs(DetectorKind::Email)
            && bytes.get(i + 1).is_some_and(|n| !n.is_ascii_digit())
            && let Some((start, end)) = spelled_email_at(text, i)
        {
            push(&mut found, start, end, DetectorKind::Email);
            i = end;
            continue;
        }
        if !word_start(bytes, i) {
            i += 1;
            continue;
        }
        if options.runs(DetectorKind::Iban)
            && b.is_ascii_alphabetic()
            && let Some(end) = iban_at(text, i, options.aggressive)
        {
            push(&mut found, i, end, DetectorKind::Iban);
            i = end;
            continue;
        }
        if options.runs(DetectorKind::Ip)
            && (b.is_ascii_hexdigit() || b == b':')
            && let Some(end) = ipv6_at(text, i)
        {
            push(&mut found, i, end, DetectorKind::Ip);
            i = end;
            continue;
        }
        if b.is_ascii_digit() && reference_code(bytes, i) {
            // `INV-6111458774`, `SR-9575868977`: an identifier's digits, whatever checksum
            // they happen to pass.
            i = run_end(text, i).max(i + 1);
            continue;
        }
        if b.is_ascii_digit()
            || ((b == b'+' || b == b'(') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            let end = run_end(text, i);
            let classified = classify_run(text, i, end, options);
            if classified.is_empty()
                && options.runs(DetectorKind::RuPassport)
                && let Some(stop) = series_and_number(text, i, end)
            {
                push(&mut found, i, stop, DetectorKind::RuPassport);
                i = stop;
                continue;
            }
            let mut resume = end.max(i + 1);
            for (start, stop, kind) in classified {
                push(&mut found, start, stop, kind);
                resume = resume.max(stop);
            }
            i = resume;
            continue;
        }
        // The rest of a word is no word's start (after a sign such as `+` or `(`, the next
        // letter or digit is one).
        i += 1;
        if b.is_ascii_alphanumeric() {
            while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                i += 1;
            }
        }
    }
    found
}

/// The bytes a finding can begin at: ASCII letters and digits, `@`, `(`, `[`, `+`, `:`.
static CAN_BEGIN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        table[b] = byte.is_ascii_alphanumeric() || matches!(byte, b'@' | b'(' | b'[' | b'+' | b':');
        b += 1;
    }
    table
};

/// Every run of digit groups in `text` (candidate numbers), for matching known phone numbers.
pub fn number_runs(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let starts = b.is_ascii_digit()
            || ((b == b'+' || b == b'(') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit));
        if starts && word_start(bytes, i) {
            let end = run_end(text, i);
            runs.push((i, end));
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    runs
}

/// True when the digits at `i` follow a code prefix of one to five capital Latin letters and
/// a hyphen (`INV-`, `SR-`, `ORD-`), the prefix not naming a kind of personal data.
fn reference_code(bytes: &[u8], i: usize) -> bool {
    if i < 2 || bytes[i - 1] != b'-' {
        return false;
    }
    let letters = bytes[..i - 1]
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_uppercase())
        .count();
    let start = i - 1 - letters;
    (1..=5).contains(&letters)
        && word_start(bytes, start)
        && !matches!(
            &bytes[start..i - 1],
            b"SSN" | b"INN" | b"TEL" | b"IBAN" | b"SNILS" | b"PHONE" | b"CARD" | b"IP"
        )
}

/// True when the byte before `i` does not continue a word (ASCII letters, digits, `_`).
fn word_start(bytes: &[u8], i: usize) -> bool {
    i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_')
}

fn word_end(bytes: &[u8], i: usize) -> bool {
    i >= bytes.len() || !(bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_')
}

/// An e-mail around the `@` at `at`: ASCII (or Unicode) local part — or a quoted one,
/// `"john doe"@example.com` — a domain of labels of letters (any script, for IDNs), digits
/// and hyphens, with a top-level label of 2+ letters. No-break spaces right by the `@` are
/// taken as part of it.
fn email_at(text: &str, at: usize) -> Option<(usize, usize)> {
    let local_char = |c: char| {
        c.is_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-' | '\'') || is_invisible(c)
    };
    let mut local_end = at;
    while let Some(c) = text[..local_end].chars().next_back()
        && c == '\u{a0}'
    {
        local_end -= c.len_utf8();
    }
    let mut start = local_end;
    if text[..local_end].ends_with('"') {
        let open = text[..local_end - 1].rfind('"')?;
        let quoted = &text[open + 1..local_end - 1];
        if quoted.is_empty() || quoted.len() > 64 || quoted.contains(['\n', '@']) {
            return None;
        }
        start = open;
    } else {
        for (offset, c) in text[..local_end].char_indices().rev() {
            if !local_char(c) {
                break;
            }
            start = offset;
            if at - start > 64 {
                return None;
            }
        }
    }
    while start < at && matches!(text.as_bytes()[start], b'.' | b'-' | b'\'') {
        start += 1;
    }
    if start == at {
        return None;
    }
    let domain_char = |c: char| c.is_alphanumeric() || c == '-' || c == '.' || is_invisible(c);
    let domain_start =
        at + 1 + text[at + 1..].len() - text[at + 1..].trim_start_matches('\u{a0}').len();
    let mut end = domain_start;
    for (offset, c) in text[domain_start..].char_indices() {
        if !domain_char(c) {
            break;
        }
        end = domain_start + offset + c.len_utf8();
        if end - at > 255 {
            return None;
        }
    }
    while end > domain_start && matches!(text.as_bytes()[end - 1], b'.' | b'-') {
        end -= 1;
    }
    let domain = &text[domain_start..end];
    let tld = domain.rsplit('.').next()?;
    let tld_ok = domain.contains('.')
        && tld.chars().filter(|c| !is_invisible(*c)).count() >= 2
        && tld.chars().all(|c| c.is_alphabetic() || is_invisible(c));
    let labels_ok = domain
        .split('.')
        .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'));
    (tld_ok && labels_ok).then_some((start, end))
}

/// Words that stand for `@` and `.` in addresses people write to dodge harvesters:
/// `oleg (at) mail (dot) ru`, `oleg [собака] mail [точка] ru`.
const SPELLED_AT: &[&str] = &["at", "собака"];
const SPELLED_DOT: &[&str] = &["dot", "точка"];

/// `(word)` or `[word]` at `i` naming one of `words`; returns where the bracket closes.
fn bracketed(text: &str, i: usize, words: &[&str]) -> Option<usize> {
    let open = text[i..].chars().next()?;
    let close = match open {
        '(' => ')',
        '[' => ']',
        _ => return None,
    };
    let inner_start = i + 1;
    // The words are short: look no further than a few characters for the bracket's end.
    let window = &text[inner_start..text.floor_char_boundary((inner_start + 16).min(text.len()))];
    let inner_end = inner_start + window.find(close)?;
    let word = text[inner_start..inner_end].trim().to_lowercase();
    words.contains(&word.as_str()).then_some(inner_end + 1)
}

/// A spelled-out e-mail whose `(at)` starts at `at`: a local part before it, then domain
/// labels joined by `(dot)` (or a real dot), ending in a top-level label of 2+ letters.
fn spelled_email_at(text: &str, at: usize) -> Option<(usize, usize)> {
    let after_at = bracketed(text, at, SPELLED_AT)?;
    let before = text[..at].trim_end();
    let local: String = before
        .chars()
        .rev()
        .take_while(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'))
        .collect();
    if local.is_empty() {
        return None;
    }
    let start = before.len() - local.len();
    let mut end = after_at;
    let mut labels: Vec<String> = Vec::new();
    let mut label_end = after_at;
    loop {
        let rest = &text[end..];
        let label_start = end + (rest.len() - rest.trim_start().len());
        let label: String = text[label_start..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '-')
            .collect();
        if label.is_empty() {
            break;
        }
        label_end = label_start + label.len();
        labels.push(label);
        let rest = &text[label_end..];
        let gap = rest.len() - rest.trim_start().len();
        if let Some(after_dot) = bracketed(text, label_end + gap, SPELLED_DOT) {
            end = after_dot;
        } else if rest.starts_with('.') && rest[1..].starts_with(char::is_alphanumeric) {
            end = label_end + 1;
        } else {
            break;
        }
    }
    let tld_ok = labels
        .last()
        .is_some_and(|t| t.chars().count() >= 2 && t.chars().all(char::is_alphabetic));
    (labels.len() >= 2 && tld_ok).then_some((start, label_end))
}

/// An IBAN starting at `start`: country, check digits, then the registered number of letters
/// and digits, compact or in groups separated by single spaces or dashes, in either case
/// (`gb42nawi04454264788619`, `DE89-3704-0044-…`).
fn iban_at(text: &str, start: usize, aggressive: bool) -> Option<usize> {
    let bytes = text.as_bytes();
    if bytes.len() < start + 4
        || !bytes[start + 1].is_ascii_alphabetic()
        || !bytes[start + 2].is_ascii_digit()
        || !bytes[start + 3].is_ascii_digit()
    {
        return None;
    }
    let country = [
        bytes[start].to_ascii_uppercase(),
        bytes[start + 1].to_ascii_uppercase(),
    ];
    let length = checksum::iban_length(&country)?;
    let mut compact = Vec::with_capacity(length);
    let mut i = start;
    while compact.len() < length && i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_alphanumeric() {
            compact.push(b.to_ascii_uppercase());
            i += 1;
        } else if matches!(b, b' ' | b'-')
            && i > start
            && bytes.get(i + 1).is_some_and(u8::is_ascii_alphanumeric)
        {
            i += 1;
        } else {
            return None;
        }
    }
    if compact.len() != length || !word_end(bytes, i) {
        return None;
    }
    (checksum::iban(&compact) || aggressive).then_some(i)
}

/// An IPv6 address starting at `start` (hex groups and colons, optionally a dotted IPv4 tail).
fn ipv6_at(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    // Cheap rejection: real addresses have a colon within their first five characters.
    if !bytes[start..bytes.len().min(start + 5)].contains(&b':') {
        return None;
    }
    let mut end = start;
    let mut colons = 0;
    while end < bytes.len()
        && end - start < 45
        && (bytes[end].is_ascii_hexdigit() || bytes[end] == b':' || bytes[end] == b'.')
    {
        colons += usize::from(bytes[end] == b':');
        end += 1;
    }
    while end > start && matches!(bytes[end - 1], b'.' | b':') && !text[start..end].ends_with("::")
    {
        end -= 1;
    }
    if colons < 2 || !word_end(bytes, end) {
        return None;
    }
    text[start..end].parse::<Ipv6Addr>().is_ok().then_some(end)
}

#[cfg(test)]
mod tests;
