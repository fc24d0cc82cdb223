//! Numbers in free text: where a run of digit groups begins and ends, what its shape says it
//! is (card, IBAN-less bank ids, Russian documents, SSN, IP, phone, date of birth), and what the
//! words around it add. Every rule errs on the side of what people really write; the
//! exemptions (order and tracking numbers, dates, amounts) are bounded to the number they
//! label.

use super::checksum;
use super::context::{self, Before, Label};
use super::phone_codes::CALLING_CODES;
use super::{Enabled, is_invisible};
use crate::contracts::DetectorKind;

/// A separator people write inside numbers, with its byte length. A dot counts only between
/// digits: `1111. 8 908` is the end of a sentence, not one number.
fn separator(text: &str, i: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let b = *bytes.get(i)?;
    match b {
        b' ' | b'-' | b'(' | b')' | b'/' => Some(1),
        b'.' => bytes
            .get(i + 1)
            .is_some_and(u8::is_ascii_digit)
            .then_some(1),
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
/// three separators in a row (`) ` in `(912) 345`), with no trailing separator.
pub fn run_end(text: &str, start: usize) -> usize {
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
            match separator(text, j) {
                Some(len) => {
                    j += len;
                    separators += 1;
                }
                None => break,
            }
        }
        if separators == 0 || j >= bytes.len() || !bytes[j].is_ascii_digit() {
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
    /// Separators seen (parentheses and invisible characters aside).
    dots: bool,
    slashes: bool,
    spaces_or_dashes: bool,
}

impl Shape {
    fn of(text: &str, start: usize, end: usize) -> Self {
        let mut s = Self {
            digits: Vec::with_capacity(end - start),
            groups: Vec::new(),
            plus: text.as_bytes()[start] == b'+',
            parens: false,
            dots: false,
            slashes: false,
            spaces_or_dashes: false,
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
            match c {
                '(' | ')' => s.parens = true,
                '.' => s.dots = true,
                '/' => s.slashes = true,
                c if is_invisible(c) || c == '+' => {}
                _ => s.spaces_or_dashes = true,
            }
        }
        if current > 0 {
            s.groups.push(current);
        }
        s
    }

    /// One kind of separator throughout (or none): `4111.1111.1111.1111`, `4111 1111-1111`.
    fn uniform(&self) -> bool {
        u8::from(self.dots) + u8::from(self.slashes) + u8::from(self.spaces_or_dashes) <= 1
            && !self.parens
    }

    fn compact(&self) -> bool {
        self.groups.len() == 1 && !self.plus && !self.parens
    }

    fn value(&self, from: usize, to: usize) -> u32 {
        self.digits[from..to]
            .iter()
            .fold(0, |acc, d| acc * 10 + u32::from(d - b'0'))
    }
}

/// Classifies a run; when the whole run is nothing, tries its space-separated parts, longest
/// first, so that `+7 912 345-67-89 2024` still yields the phone.
pub fn classify_run(
    text: &str,
    start: usize,
    end: usize,
    options: Enabled,
) -> Vec<(usize, usize, DetectorKind)> {
    // Nothing the scanner looks for has fewer than four digits (an IPv4 address has four).
    if text[start..end].bytes().filter(u8::is_ascii_digit).count() < 4 {
        return Vec::new();
    }
    // The words before the run are read once, for the run and for its parts.
    let before = Before::at(text, start);
    if let Some(found) = classify(text, start, end, options, &before) {
        return vec![found];
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
            if starts_well && let Some(found) = classify(text, s, e, options, &before) {
                matched = Some((width, found));
                break;
            }
        }
        match matched {
            Some((width, found)) => {
                out.push(found);
                first += width;
            }
            None => first += 1,
        }
    }
    out
}

/// What a candidate number is, and where it ends (a phone takes its extension along).
fn classify(
    text: &str,
    start: usize,
    end: usize,
    options: Enabled,
    before: &Before,
) -> Option<(usize, usize, DetectorKind)> {
    use DetectorKind::*;
    let s = Shape::of(text, start, end);
    let n = s.digits.len();
    if n == 0 {
        return None; // a lone "(" split off a run (found by fuzzing)
    }
    let d = &s.digits[..];
    let label = before.adjacent;
    let hash_before = start > 0 && text.as_bytes()[start - 1] == b'#';
    // Order, tracking and ticket numbers identify things, not people, whatever checksum
    // they happen to pass — unless the label is the kind's own (`card #…`).
    let order = label == Some(Label::Order) || hash_before;
    let aggressive = options.aggressive;
    let found = |kind| Some((start, end, kind));

    let only_dots = s.dots && !s.plus && !s.parens && !s.spaces_or_dashes && !s.slashes;
    if only_dots && s.groups.len() == 4 && s.groups.iter().all(|g| *g <= 3) {
        let ip = options.runs(Ip) && !order && ipv4(&text[start..end]);
        return ip.then_some((start, end, Ip));
    }
    if date_of(&s) == Some(true) {
        return (options.runs(BirthDate) && before.near(Label::Birth))
            .then_some((start, end, BirthDate));
    }
    if options.runs(Card)
        && !order
        && !s.plus
        && s.uniform()
        && card_groups(&s.groups)
        && card_issuer(d)
        && (checksum::luhn(d) || (aggressive && n == 16 && s.groups.len() == 4))
    {
        return found(Card);
    }
    if options.runs(Snils)
        && n == 11
        && !s.plus
        && !s.parens
        && (!order || label == Some(Label::Snils))
        && (s.compact() || matches!(s.groups[..], [3, 3, 3, 2] | [3, 3, 5]))
        && (checksum::snils(d) || (aggressive && !s.compact()))
    {
        return found(Snils);
    }
    if options.runs(Inn)
        && s.compact()
        && (n == 10 || n == 12)
        && !order
        && !context::phone_after(text, end)
        && (checksum::inn(d) || (aggressive && before.near(Label::Inn)))
    {
        return found(Inn);
    }
    let other_label = label.is_some_and(|l| l != Label::Ssn);
    if options.runs(Ssn) && n == 9 && !order && !other_label && ssn(&s, d, before.near(Label::Ssn))
    {
        return found(Ssn);
    }
    if options.runs(RuPassport) && n == 10 && !s.plus && !s.parens && !order {
        let keyword = before.near(Label::Passport);
        let spaced = s.spaces_or_dashes && matches!(s.groups[..], [2, 2, 6] | [4, 6]);
        if matches!(s.groups[..], [2, 2, 6]) || (keyword && (spaced || s.compact())) {
            return found(RuPassport);
        }
    }
    // A number labelled as another kind (`СНИЛС 112-233-445 96` with a bad checksum) is not
    // a phone either.
    let other_label = label.is_some_and(|l| l != Label::Phone);
    // `40th Street`: a number glued to letters is part of a word, not a phone.
    let after = &text[end..];
    let extension =
        after.starts_with(['x', 'X']) && after[1..].starts_with(|c: char| c.is_ascii_digit());
    let glued = after.starts_with(char::is_alphabetic) && !extension;
    if options.runs(Phone) && !order && !other_label && !glued && !context::money(text, start, end)
    {
        let announced = label == Some(Label::Phone)
            || (n >= 7 && before.near(Label::Phone))
            || context::phone_after(text, end);
        if is_phone(&s, announced) {
            return Some((start, with_extension(text, end), Phone));
        }
    }
    None
}

/// `dd.mm.yyyy`, `dd/mm/yy`, `yyyy-mm-dd` and the like: `Some(true)` for a plausible calendar
/// date, `Some(false)` for something only shaped like one (`61 51 81` may well be a phone),
/// `None` for no date shape at all. Dates are never phones; next to "born" or "дата
/// рождения" they are dates of birth.
fn date_of(s: &Shape) -> Option<bool> {
    if s.plus || s.parens || !s.uniform() || s.groups.len() != 3 {
        return None;
    }
    let g = &s.groups;
    let a = s.value(0, g[0]);
    let b = s.value(g[0], g[0] + g[1]);
    let c = s.value(g[0] + g[1], s.digits.len());
    let calendar = |day: u32, month: u32| (1..=31).contains(&day) && (1..=12).contains(&month);
    let year = |y: u32, digits: usize| digits == 2 || (1900..=2100).contains(&y);
    match g[..] {
        // Day and month either way round (12/31/1999 is American).
        [1 | 2, 1 | 2, 2 | 4] => Some((calendar(a, b) || calendar(b, a)) && year(c, g[2])),
        [4, 1 | 2, 1 | 2] => Some(year(a, 4) && calendar(c, b)),
        _ => None,
    }
}

/// A dotted IPv4 address; leading zeros (`192.168.010.015`) are still an address to the
/// people who write them.
fn ipv4(text: &str) -> bool {
    let octets: Vec<&str> = text.split('.').collect();
    octets.len() == 4
        && octets
            .iter()
            .all(|o| (1..=3).contains(&o.len()) && o.parse::<u16>().is_ok_and(|v| v <= 255))
}

/// Card groupings: one block, blocks of four (the last may be shorter), Amex `4 6 5`,
/// Diners `4 6 4`, and `6 6 4`.
fn card_groups(groups: &[usize]) -> bool {
    groups.len() == 1
        || groups[..groups.len() - 1].iter().all(|g| *g == 4)
        || matches!(groups, [4, 6, 5] | [4, 6, 4] | [6, 6, 4])
}

/// Whether the number's length fits its issuer's range (ISO/IEC 7812 prefixes): 12-digit
/// Maestro, 13-digit Visa, 14-digit Diners, 15-digit Amex (and UATP), 16–19 digits for the
/// schemes that start with 2 to 6. A 14-digit tracking number that happens to pass Luhn is
/// not a card.
fn card_issuer(d: &[u8]) -> bool {
    let prefix = |p: &[u8]| d.starts_with(p);
    match d.len() {
        12 => [&b"50"[..], b"56", b"57", b"58", b"60", b"63", b"67"]
            .iter()
            .any(|p| prefix(p)),
        13 => prefix(b"4"),
        14 => [&b"30"[..], b"36", b"38", b"39"].iter().any(|p| prefix(p)),
        15 => prefix(b"34") || prefix(b"37") || prefix(b"1"),
        16..=19 => matches!(d[0], b'2'..=b'6'),
        _ => false,
    }
}

/// A US social security number: `ddd-dd-dddd` (or spaced), or nine digits after "SSN". Area
/// 000, 666 and 900–999, group 00 and serial 0000 are never issued.
fn ssn(s: &Shape, d: &[u8], keyword: bool) -> bool {
    let grouped = matches!(s.groups[..], [3, 2, 4]) && s.spaces_or_dashes && s.uniform() && !s.plus;
    if !(grouped || (keyword && s.compact())) {
        return false;
    }
    let area = s.value(0, 3);
    area != 0 && area != 666 && area < 900 && &d[3..5] != b"00" && &d[5..] != b"0000"
}

/// Whether `digits` (after a `+` or an international prefix) is a country calling code and a
/// national number of a length that country uses.
fn e164(digits: &[u8]) -> bool {
    (1..=3).any(|len| {
        if digits.len() <= len || digits[0] == b'0' {
            return false;
        }
        let code = digits[..len]
            .iter()
            .fold(0_u16, |acc, d| acc * 10 + u16::from(d - b'0'));
        let national = digits.len() - len;
        CALLING_CODES
            .binary_search_by_key(&code, |(c, _)| *c)
            .ok()
            .is_some_and(|i| national < 32 && CALLING_CODES[i].1 & (1 << national) != 0)
    })
}

fn is_phone(s: &Shape, announced: bool) -> bool {
    let d = &s.digits[..];
    let n = d.len();
    let grouped = s.groups.len() >= 2;
    if s.slashes || !(5..=17).contains(&n) {
        return false;
    }
    if s.plus {
        // +7 (Russia, Kazakhstan) always has 11 digits.
        return if d[0] == b'7' { n == 11 } else { e164(d) };
    }
    // International prefixes: 00 (most of the world), 011 (North America), 810 (Russia).
    for prefix in [&b"00"[..], b"011", b"810"] {
        if d.starts_with(prefix) && n >= prefix.len() + 8 && e164(&d[prefix.len()..]) {
            return true;
        }
    }
    // Dotted phones come in groups of one kind (01.84.17.61.18, 930.167.3943); dots mixed
    // with spaces are a date and a time, dots alone in other groups versions and amounts.
    if s.dots
        && (s.spaces_or_dashes
            || !(s.groups.iter().all(|g| (2..=4).contains(g)) && s.groups.len() >= 3))
    {
        return false; // versions, amounts, dates: dotted phones come in groups (01.84.17.61.18)
    }
    let all_small = s.groups.iter().all(|g| (2..=3).contains(g));
    match n {
        // Russian: 8 912 345-67-89, 89123456789, 7 (912) 345 67 89 — the trunk prefix, then an
        // area code starting 3, 4, 8 or 9; (912) 345-67-89, 9123456789 without it.
        11 if (d[0] == b'8' || d[0] == b'7') && matches!(d[1], b'3' | b'4' | b'8' | b'9') => {
            return true;
        }
        10 if d[0] == b'9' && (grouped || announced || s.compact()) => return true,
        // North American: 1 415 555 2671, 1-800-…
        11 if d[0] == b'1' && matches!(s.groups[..], [1, 3, 3, 4]) => return true,
        _ => {}
    }
    if announced {
        return n >= 5;
    }
    if s.parens && n >= 7 {
        return true; // (930) 167-3943, (88) 684-334
    }
    if !grouped {
        return false; // a bare number is a phone only when announced
    }
    // National numbers with a trunk 0 (UK, DE, FR, IT, NL, …): 020 7946 0958, 06-10446904.
    if d[0] == b'0' && d[1] != b'0' && (8..=12).contains(&n) {
        return true;
    }
    match s.groups[..] {
        // North America: 780-999-2181, 930.167.3943; Italian mobiles 312 345 6789; a local
        // 555-0123.
        [3, 3, 4] => true,
        [3, 4] if s.spaces_or_dashes => true,
        // Spanish, Polish, Italian, Nordic groupings: 699 956 915, 612 34 56 78, 60-56-85-91.
        _ if (8..=10).contains(&n) && s.groups.len() >= 3 && all_small => true,
        _ => false,
    }
}

/// The end of a phone number with its extension, if one follows: `x769`, `ext. 12`,
/// `доб. 123`.
fn with_extension(text: &str, end: usize) -> usize {
    let rest = &text[end..];
    let trimmed = rest.trim_start();
    let lower = trimmed.chars().take(12).collect::<String>().to_lowercase();
    let marker = ["extension", "ext.", "ext", "доб.", "доб", "x", "#"]
        .into_iter()
        .find(|m| lower.starts_with(m));
    let Some(marker) = marker else {
        return end;
    };
    let after_marker = trimmed
        .char_indices()
        .nth(marker.chars().count())
        .map_or(trimmed.len(), |(i, _)| i);
    let digits_from = trimmed[after_marker..].trim_start();
    let digits = digits_from.bytes().take_while(u8::is_ascii_digit).count();
    if !(1..=6).contains(&digits) {
        return end;
    }
    let consumed = rest.len() - digits_from.len() + digits;
    end + consumed
}

/// `4511 номер 987654`, `45 11 № 987654`: a passport's series and number with a word between
/// them, after a passport word. Returns where the number ends.
pub fn series_and_number(text: &str, start: usize, end: usize) -> Option<usize> {
    let series: Vec<u8> = text[start..end]
        .bytes()
        .filter(u8::is_ascii_digit)
        .collect();
    if series.len() != 4 || !Before::at(text, start).near(Label::Passport) {
        return None;
    }
    let rest = &text[end..];
    let after = rest.trim_start();
    let lower: String = after.chars().take(8).collect::<String>().to_lowercase();
    let marker = ["номер", "№", "no.", "n"]
        .into_iter()
        .find(|m| lower.starts_with(m))?;
    let after_marker = after
        .char_indices()
        .nth(marker.chars().count())
        .map_or(after.len(), |(i, _)| i);
    let number = after[after_marker..].trim_start();
    let digits = number.bytes().take_while(u8::is_ascii_digit).count();
    let next = number.as_bytes().get(digits);
    if digits != 6 || next.is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    Some(end + (rest.len() - number.len()) + digits)
}
