//! The single-pass scanner behind [`scan`].

use std::net::{Ipv4Addr, Ipv6Addr};

use super::checksum;
use super::{Finding, FindingKind, MAX_FIELD_BYTES, ScanError, ScanOptions, is_invisible};
use crate::contracts::DetectorKind;

/// Finds the built-in entity kinds `options` enables in `text`, ordered by position and not
/// overlapping.
pub fn scan(text: &str, options: &ScanOptions) -> Result<Vec<Finding>, ScanError> {
    if text.len() > MAX_FIELD_BYTES {
        return Err(ScanError::TooLong(text.len()));
    }
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
        if !word_start(bytes, i) {
            i += 1;
            continue;
        }
        if options.runs(DetectorKind::Iban)
            && b.is_ascii_uppercase()
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
        if b.is_ascii_digit()
            || ((b == b'+' || b == b'(') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            let end = number_run_end(text, i);
            for (start, stop, kind) in classify_run(text, i, end, options) {
                push(&mut found, start, stop, kind);
            }
            i = end.max(i + 1);
            continue;
        }
        i += 1;
    }
    Ok(found)
}

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
            let end = number_run_end(text, i);
            runs.push((i, end));
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    runs
}

/// True when the byte before `i` does not continue a word (ASCII letters, digits, `_`).
fn word_start(bytes: &[u8], i: usize) -> bool {
    i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_')
}

fn word_end(bytes: &[u8], i: usize) -> bool {
    i >= bytes.len() || !(bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_')
}

/// A separator people write inside numbers, with its byte length.
fn number_separator(text: &str, i: usize) -> Option<usize> {
    let b = *text.as_bytes().get(i)?;
    match b {
        b' ' | b'-' | b'.' | b'(' | b')' | b'/' => Some(1),
        b if b >= 0x80 => {
            let c = text[i..].chars().next()?;
            (is_invisible(c)
                || matches!(
                    c,
                    '\u{00A0}' | '\u{2009}' | '\u{202F}' | '\u{2011}' | '\u{2013}'
                ))
            .then(|| c.len_utf8())
        }
        _ => None,
    }
}

/// Where a run of digit groups starting at `start` ends: groups of digits joined by at most
/// two separators in a row (`) ` in `(912) 345`), with no trailing separator.
fn number_run_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = start;
    if bytes[i] == b'+' || bytes[i] == b'(' {
        i += 1;
    }
    let mut end = i;
    loop {
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        end = i.max(end);
        let mut j = i;
        let mut separators = 0;
        while separators < 3 {
            match number_separator(text, j) {
                Some(len) => {
                    j += len;
                    separators += 1;
                }
                None => break,
            }
        }
        if separators == 0 || j >= bytes.len() || !bytes[j].is_ascii_digit() {
            // A closing parenthesis right after digits belongs to the number only if more follow.
            return end;
        }
        i = j;
    }
}

/// A candidate's digits and the shape of its groups.
struct Shape {
    digits: Vec<u8>,
    groups: Vec<usize>,
    plus: bool,
    parens: bool,
    /// Some separator was seen and every one was a dot.
    only_dots: bool,
    only_space_or_dash: bool,
    any_separator: bool,
}

fn shape(text: &str, start: usize, end: usize) -> Shape {
    let mut s = Shape {
        digits: Vec::with_capacity(end - start),
        groups: Vec::new(),
        plus: text.as_bytes()[start] == b'+',
        parens: false,
        only_dots: true,
        only_space_or_dash: true,
        any_separator: false,
    };
    let mut current = 0;
    for c in text[start..end].chars() {
        if c.is_ascii_digit() {
            s.digits.push(c as u8);
            current += 1;
            continue;
        }
        if current > 0 {
            s.groups.push(current);
            current = 0;
        }
        if is_invisible(c) || c == '+' {
            continue;
        }
        s.parens |= c == '(' || c == ')';
        s.any_separator = true;
        s.only_dots &= c == '.';
        s.only_space_or_dash &= matches!(
            c,
            ' ' | '-' | '\u{00A0}' | '\u{2009}' | '\u{202F}' | '\u{2011}' | '\u{2013}'
        );
    }
    if current > 0 {
        s.groups.push(current);
    }
    s.only_dots &= s.any_separator;
    s
}

/// Classifies a run; when the whole run is nothing, tries its space-separated parts, longest
/// first, so that `+7 912 345-67-89 2024` still yields the phone.
fn classify_run(
    text: &str,
    start: usize,
    end: usize,
    options: &ScanOptions,
) -> Vec<(usize, usize, DetectorKind)> {
    if let Some(kind) = classify(text, start, end, options) {
        return vec![(start, end, kind)];
    }
    let bytes = text.as_bytes();
    let mut parts: Vec<(usize, usize)> = Vec::new();
    let mut part_start = start;
    for (offset, c) in text[start..end].char_indices() {
        let at = start + offset;
        if (c == ' ' || c == '\u{00A0}') && at > part_start {
            parts.push((part_start, at));
            part_start = at + c.len_utf8();
        }
    }
    parts.push((part_start, end));
    if parts.len() < 2 {
        return Vec::new();
    }
    const WIDEST: usize = 8;
    let mut out = Vec::new();
    let mut first = 0;
    while first < parts.len() {
        let mut matched = None;
        let widest = (parts.len() - first).min(WIDEST);
        for width in (1..=widest).rev() {
            if width == parts.len() - first && first == 0 {
                continue; // the whole run was already tried
            }
            let (s, e) = (parts[first].0, parts[first + width - 1].1);
            let starts_well = bytes[s].is_ascii_digit() || bytes[s] == b'+' || bytes[s] == b'(';
            if starts_well && let Some(kind) = classify(text, s, e, options) {
                matched = Some((width, s, e, kind));
                break;
            }
        }
        match matched {
            Some((width, s, e, kind)) => {
                out.push((s, e, kind));
                first += width;
            }
            None => first += 1,
        }
    }
    out
}

/// Words before a number that make it a document or an identifier, not a phone.
fn preceded_by(text: &str, start: usize, words: &[&str]) -> bool {
    let from = text.floor_char_boundary(start.saturating_sub(40));
    let before = text[from..start].to_lowercase();
    words.iter().any(|w| before.contains(w))
}

fn classify(text: &str, start: usize, end: usize, options: &ScanOptions) -> Option<DetectorKind> {
    use DetectorKind::*;
    let s = shape(text, start, end);
    let n = s.digits.len();
    if n == 0 {
        return None; // a lone "(" split off a run (found by fuzzing)
    }
    let d = &s.digits[..];
    let compact = s.groups.len() == 1 && !s.plus && !s.parens;
    let aggressive = options.aggressive;
    let labelled = start > 0 && matches!(text.as_bytes()[start - 1], b'#')
        || preceded_by(text, start, &["№", "no.", "order", "заказ"]);

    if options.runs(Ip) && s.only_dots && s.groups.len() == 4 && s.groups.iter().all(|g| *g <= 3) {
        return text[start..end].parse::<Ipv4Addr>().is_ok().then_some(Ip);
    }
    if s.only_dots && !s.plus {
        return None; // dates (12.05.2024), versions, amounts
    }
    let card_groups = s.groups.len() == 1
        || s.groups[..s.groups.len() - 1].iter().all(|g| *g == 4)
        || matches!(s.groups[..], [4, 6, 5] | [4, 6, 4]);
    if options.runs(Card)
        && !s.plus
        && !s.parens
        && (13..=19).contains(&n)
        && s.only_space_or_dash
        && card_groups
        && (checksum::luhn(d) || (aggressive && n == 16 && s.groups.len() == 4))
    {
        return Some(Card);
    }
    if options.runs(Snils)
        && n == 11
        && !s.plus
        && (compact || matches!(s.groups[..], [3, 3, 3, 2]))
        && (checksum::snils(d) || (aggressive && !compact))
    {
        return Some(Snils);
    }
    if options.runs(Inn)
        && compact
        && (n == 10 || n == 12)
        && (checksum::inn(d) || (aggressive && preceded_by(text, start, &["инн", "inn"])))
    {
        return Some(Inn);
    }
    if options.runs(RuPassport) && n == 10 && !s.plus && !s.parens {
        let spaced = matches!(s.groups[..], [2, 2, 6] | [4, 6]) && s.only_space_or_dash;
        if spaced && preceded_by(text, start, &["паспорт", "passport", "серия", "серии"])
            || matches!(s.groups[..], [2, 2, 6])
        {
            return Some(RuPassport);
        }
        if compact && preceded_by(text, start, &["паспорт", "passport"]) {
            return Some(RuPassport);
        }
    }
    if options.runs(Phone) && !labelled && is_phone(&s) {
        return Some(Phone);
    }
    None
}

fn is_phone(s: &Shape) -> bool {
    let d = &s.digits[..];
    let n = d.len();
    if s.plus {
        // E.164: country code and subscriber number, 6 to 15 digits (short national numbers exist); +7 (Russia, Kazakhstan) has 11.
        return (6..=15).contains(&n) && (d[0] != b'7' || n == 11) && d[0] != b'0';
    }
    let grouped = s.groups.len() >= 2;
    match n {
        // 8 912 345-67-89, 89123456789, 7 (912) 345 67 89: the trunk prefix, then an area code
        // starting 3, 4, 8 or 9.
        11 if (d[0] == b'8' || d[0] == b'7') && matches!(d[1], b'3' | b'4' | b'8' | b'9') => true,
        // (912) 345-67-89, 912 345 67 89, 9123456789: a Russian mobile without the prefix.
        10 if d[0] == b'9' => true,
        10 if s.parens => true,
        // National formats with a leading 0, e.g. 020 7946 0958.
        10 | 11 if d[0] == b'0' && grouped => true,
        _ => false,
    }
}

/// An e-mail around the `@` at `at`: ASCII (or Unicode) local part, a domain of labels of
/// letters (any script, for IDNs), digits and hyphens, with a top-level label of 2+ letters.
fn email_at(text: &str, at: usize) -> Option<(usize, usize)> {
    let local_char = |c: char| {
        c.is_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-' | '\'') || is_invisible(c)
    };
    let mut start = at;
    for (offset, c) in text[..at].char_indices().rev() {
        if !local_char(c) {
            break;
        }
        start = offset;
        if at - start > 64 {
            return None;
        }
    }
    while start < at && matches!(text.as_bytes()[start], b'.' | b'-' | b'\'') {
        start += 1;
    }
    if start == at {
        return None;
    }
    let domain_char = |c: char| c.is_alphanumeric() || c == '-' || c == '.' || is_invisible(c);
    let mut end = at + 1;
    for (offset, c) in text[at + 1..].char_indices() {
        if !domain_char(c) {
            break;
        }
        end = at + 1 + offset + c.len_utf8();
        if end - at > 255 {
            return None;
        }
    }
    while end > at + 1 && matches!(text.as_bytes()[end - 1], b'.' | b'-') {
        end -= 1;
    }
    let domain = &text[at + 1..end];
    let tld = domain.rsplit('.').next()?;
    let tld_ok = domain.contains('.')
        && tld.chars().filter(|c| !is_invisible(*c)).count() >= 2
        && tld.chars().all(|c| c.is_alphabetic() || is_invisible(c));
    let labels_ok = domain
        .split('.')
        .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'));
    (tld_ok && labels_ok).then_some((start, end))
}

/// An IBAN starting at `start`: country, check digits, then the registered number of letters
/// and digits, compact or in groups separated by single spaces.
fn iban_at(text: &str, start: usize, aggressive: bool) -> Option<usize> {
    let bytes = text.as_bytes();
    if bytes.len() < start + 4
        || !bytes[start + 1].is_ascii_uppercase()
        || !bytes[start + 2].is_ascii_digit()
        || !bytes[start + 3].is_ascii_digit()
    {
        return None;
    }
    let length = checksum::iban_length(&bytes[start..start + 2])?;
    let mut compact = Vec::with_capacity(length);
    let mut i = start;
    while compact.len() < length && i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_uppercase() || b.is_ascii_digit() {
            compact.push(b);
            i += 1;
        } else if b == b' '
            && i + 1 < bytes.len()
            && (bytes[i + 1].is_ascii_uppercase() || bytes[i + 1].is_ascii_digit())
            && i > start
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
