//! What the words around a number say it is: an order or tracking number (not personal), a
//! phone, a passport, a date of birth. Context is read within the same sentence only: a label
//! never reaches past `. `, `! `, `? ` or a line break, so "Заказ № 123. Мой телефон …" labels
//! the order number and not the phone after it.

use std::sync::OnceLock;

use super::words::{lower_latin_and_russian, lower_prefix};

/// A label's meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Label {
    /// Order, tracking, invoice, ticket numbers: identifiers of things, not of people.
    Order,
    /// A phone or fax is announced.
    Phone,
    /// A (Russian) passport or identity document.
    Passport,
    /// A date of birth.
    Birth,
    /// A payment card.
    Card,
    /// A US social security number.
    Ssn,
    /// A Russian INN.
    Inn,
    /// A Russian SNILS.
    Snils,
    /// Part of a postal address (flat, suite, house): the number is a house or flat number.
    Address,
}

/// Words (lower case, as they begin) and their meanings. A word matches when it is the last
/// word before the number (ignoring `№`, `#`, `:` and `no.`), or, for the looser labels,
/// within the few words before it in the same sentence.
const LABELS: &[(&str, Label)] = &[
    ("заказ", Label::Order),
    ("order", Label::Order),
    ("трек", Label::Order),
    ("tracking", Label::Order),
    ("track", Label::Order),
    ("накладн", Label::Order),
    ("invoice", Label::Order),
    ("счет-фактур", Label::Order),
    ("обращени", Label::Order),
    ("заявк", Label::Order),
    ("тикет", Label::Order),
    ("ticket", Label::Order),
    ("артикул", Label::Order),
    ("sku", Label::Order),
    ("договор", Label::Order),
    ("contract", Label::Order),
    ("посылк", Label::Order),
    ("отправлени", Label::Order),
    ("parcel", Label::Order),
    ("shipment", Label::Order),
    ("reference", Label::Order),
    ("ref", Label::Order),
    ("id", Label::Order),
    ("version", Label::Order),
    ("версия", Label::Order),
    ("версии", Label::Order),
    ("build", Label::Order),
    ("сборк", Label::Order),
    ("тел", Label::Phone),
    ("телефон", Label::Phone),
    ("моб", Label::Phone),
    ("сотов", Label::Phone),
    ("факс", Label::Phone),
    // Calling, ringing, texting: звонить, звонок, дозвониться, наберите, смс.
    ("звон", Label::Phone),
    ("позвон", Label::Phone),
    ("перезвон", Label::Phone),
    ("дозвон", Label::Phone),
    ("набер", Label::Phone),
    ("смс", Label::Phone),
    ("sms", Label::Phone),
    ("answer", Label::Phone),
    ("reach", Label::Phone),
    ("dial", Label::Phone),
    ("ring", Label::Phone),
    ("text", Label::Phone),
    // The phone words of the other languages whose national formats are read.
    ("telef", Label::Phone),
    ("teléf", Label::Phone),
    ("tél", Label::Phone),
    ("téléphone", Label::Phone),
    ("handy", Label::Phone),
    ("móvil", Label::Phone),
    ("komórk", Label::Phone),
    ("whatsapp", Label::Phone),
    ("viber", Label::Phone),
    ("telegram", Label::Phone),
    ("tel", Label::Phone),
    ("phone", Label::Phone),
    ("mobile", Label::Phone),
    ("cell", Label::Phone),
    ("fax", Label::Phone),
    ("call", Label::Phone),
    ("ph", Label::Phone),
    ("паспорт", Label::Passport),
    ("passport", Label::Passport),
    ("серия", Label::Passport),
    ("серии", Label::Passport),
    ("документ", Label::Passport),
    ("д.р", Label::Birth),
    ("г.р", Label::Birth),
    ("рождени", Label::Birth),
    ("родил", Label::Birth),
    ("dob", Label::Birth),
    ("d.o.b", Label::Birth),
    ("birth", Label::Birth),
    ("born", Label::Birth),
    ("карт", Label::Card),
    ("card", Label::Card),
    ("ssn", Label::Ssn),
    ("social security", Label::Ssn),
    ("инн", Label::Inn),
    ("inn", Label::Inn),
    ("снилс", Label::Snils),
    ("snils", Label::Snils),
    ("apt", Label::Address),
    ("apartment", Label::Address),
    ("suite", Label::Address),
    ("unit", Label::Address),
    ("flat", Label::Address),
    ("floor", Label::Address),
    ("building", Label::Address),
    ("bldg", Label::Address),
    ("кв", Label::Address),
    ("квартир", Label::Address),
    ("дом", Label::Address),
    ("д", Label::Address),
    ("корп", Label::Address),
    ("строени", Label::Address),
    ("стр", Label::Address),
    ("офис", Label::Address),
    ("этаж", Label::Address),
    ("индекс", Label::Address),
    ("zip", Label::Address),
    ("postcode", Label::Address),
];

/// Words right after a number that say it is a phone: `2813882583 mobile`, `-Fax`.
const PHONE_AFTER: &[&str] = &[
    "mobile", "cell", "office", "fax", "home", "work", "tel", "phone", "моб", "раб", "факс", "сот",
    "тел",
];

/// How far back labels are looked for, in characters.
const REACH: usize = 40;

/// Words looked at before a number.
const WORDS: usize = 4;

/// What the words before a number say, read once per number: the label right before it and
/// every label among the last few words of its sentence.
#[derive(Clone, Copy, Debug, Default)]
pub struct Before {
    /// The label of the last word (past `№`, `#`, `:`, `no.`, "номер"), or `#` right before.
    pub adjacent: Option<Label>,
    near: u32,
}

impl Before {
    /// Reads the words before `start` in its sentence.
    pub fn at(text: &str, start: usize) -> Self {
        let mut before = Self::default();
        let head = &text[..start];
        let trimmed = head.trim_end();
        if trimmed.ends_with('#') && !trimmed[..trimmed.len() - 1].ends_with(' ') {
            before.adjacent = Some(Label::Order); // `#123`: a reference, whatever precedes it
        }
        let mut words: [&str; WORDS + 2] = [""; WORDS + 2];
        let mut count = 0;
        let mut word_end: Option<usize> = None;
        let mut seen = 0;
        for (i, c) in head.char_indices().rev() {
            seen += 1;
            if seen > REACH || count == words.len() {
                break;
            }
            let in_word = wordish(c) || c == '.' || c == '-';
            if in_word {
                if word_end.is_none() {
                    word_end = Some(i + c.len_utf8());
                }
                continue;
            }
            if let Some(e) = word_end.take() {
                words[count] = trim_dots(&head[i + c.len_utf8()..e]);
                count += 1;
            }
            if c == '\n' || (matches!(c, '!' | '?')) {
                word_end = None;
                break;
            }
            if c.is_whitespace() && head[..i].ends_with('.') {
                // `. ` ends a sentence unless the dot closes a short abbreviation (`тел.`,
                // `д.р.`, `no.`) that the next word back makes.
                let dotted = head[..i]
                    .chars()
                    .rev()
                    .take_while(|c| (wordish(*c) && !c.is_ascii_digit()) || *c == '.')
                    .take(6)
                    .count();
                if dotted > 5 || dotted <= 1 {
                    break;
                }
            }
        }
        if let Some(e) = word_end
            && count < words.len()
        {
            let begin = head[..e]
                .char_indices()
                .rev()
                .take_while(|(_, c)| wordish(*c) || *c == '.' || *c == '-')
                .last()
                .map_or(e, |(i, _)| i);
            words[count] = trim_dots(&head[begin..e]);
            count += 1;
        }
        let words = &words[..count];
        // `ё` reads as `е` here as everywhere words are compared (счёт, счет). Lowered on the
        // stack, and only as far as a label can reach: this runs for every number of a ticket.
        let mut buffers = [[0u8; LOWERED_BYTES]; WORDS + 2];
        let mut lowered: [Lowered; WORDS + 2] = [(b"", true); WORDS + 2];
        for ((slot, buffer), word) in lowered.iter_mut().zip(buffers.iter_mut()).zip(words) {
            *slot = if lower_latin_and_russian(word, buffer).is_some() {
                (&buffer[..word.len()], true)
            } else {
                let (prefix, whole) = lower_prefix(word, buffer);
                (prefix.as_bytes(), whole)
            };
        }
        let lower = &lowered[..words.len()];
        let mut rest = lower.iter().filter(|w| !w.0.is_empty()).peekable();
        while let Some((word, whole)) = rest.peek() {
            let number: [&[u8]; 6] = [b"no", b"nr", b"n", "номер".as_bytes(), b"number", b"num"];
            if *whole && number.contains(word) {
                rest.next();
            } else {
                break;
            }
        }
        if before.adjacent.is_none() {
            before.adjacent = rest.next().and_then(|w| meaning(*w));
        }
        for word in lower.iter().take(WORDS) {
            if let Some(label) = meaning(*word) {
                before.near |= 1 << label as u32;
            }
        }
        if lower.len() >= 2 && lower[0] == (b"security", true) && lower[1] == (b"social", true) {
            before.near |= 1 << Label::Ssn as u32;
        }
        before
    }

    /// Whether one of the last few words before the number means `label`.
    pub fn near(&self, label: Label) -> bool {
        self.near & (1 << label as u32) != 0 || self.adjacent == Some(label)
    }
}

/// Whether `word` begins with `lower` (which is lower case), ignoring case.
fn starts_ignore_case(word: &str, lower: &str) -> bool {
    let mut chars = word.chars().flat_map(char::to_lowercase);
    lower.chars().all(|l| chars.next() == Some(l))
}

/// A word's bytes lowered as far as [`LOWERED_BYTES`] allow, and whether that is all of it (see
/// [`lower_prefix`]).
type Lowered<'a> = (&'a [u8], bool);

/// Room for a word before a number, lowered: every label fits with room for a char to spare,
/// so a longer word's prefix still tells whether it begins with one.
const LOWERED_BYTES: usize = 32;

/// The label a word, lowered (see [`Lowered`]), stands for.
fn meaning((lower, whole): Lowered) -> Option<Label> {
    // The stems grouped by their first letter, so that a word is compared only with the few
    // that could match (this runs for every number in a ticket).
    static BY_FIRST_LETTER: OnceLock<Vec<Vec<(&'static str, Label)>>> = OnceLock::new();
    BY_FIRST_LETTER
        .get_or_init(|| {
            let mut buckets: Vec<Vec<(&'static str, Label)>> = vec![Vec::new(); BUCKETS];
            for (stem, label) in LABELS {
                if let Some(bucket) = bucket(stem.as_bytes()) {
                    buckets[bucket].push((stem, *label));
                }
            }
            buckets
        })
        .get(bucket(lower)?)?
        .iter()
        .find(|(stem, _)| {
            let stem = stem.as_bytes();
            // Stems of one or two letters (`д`, `id`, `ph`) name only themselves.
            if stem.len() <= 2 || (stem.len() == 4 && !stem.is_ascii()) {
                whole && lower == stem
            } else {
                lower.starts_with(stem)
            }
        })
        .map(|(_, label)| *label)
}

/// Buckets of [`meaning`]: the Latin letters, then the Russian ones (every label begins with one).
const BUCKETS: usize = 26 + 32;

/// The bucket of the labels beginning with the first letter of `word` (lowered bytes).
fn bucket(word: &[u8]) -> Option<usize> {
    match word {
        [first @ b'a'..=b'z', ..] => Some(usize::from(first - b'a')),
        // а–п are D0 B0–BF, р–я D1 80–8F.
        [0xD0, second @ 0xB0..=0xBF, ..] => Some(26 + usize::from(second - 0xB0)),
        [0xD1, second @ 0x80..=0x8F, ..] => Some(42 + usize::from(second - 0x80)),
        _ => None,
    }
}

/// `word` without the dots and hyphens around it (`тел.`, `-Fax`).
fn trim_dots(word: &str) -> &str {
    let bytes = word.as_bytes();
    let dot = |b: &u8| matches!(b, b'.' | b'-');
    let start = bytes.iter().position(|b| !dot(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !dot(b))
        .map_or(start, |last| last + 1);
    &word[start..end]
}

/// Letters and digits, with a fast path for ASCII and Cyrillic (most of what tickets hold).
fn wordish(c: char) -> bool {
    match c {
        'a'..='z' | 'A'..='Z' | '0'..='9' | '\u{0400}'..='\u{04FF}' => true,
        c if c.is_ascii() => false,
        c => c.is_alphanumeric(),
    }
}

/// Whether the word right after the number that ends at `end` (past a space, `-`, `(` or
/// `,`) says it is a phone.
pub fn phone_after(text: &str, end: usize) -> bool {
    let after = text[end..].trim_start_matches([' ', '-', '(', ',', '\\', '\u{a0}']);
    let word = after
        .char_indices()
        .take_while(|(_, c)| c.is_alphabetic())
        .last()
        .map_or("", |(i, c)| &after[..i + c.len_utf8()]);
    !word.is_empty() && PHONE_AFTER.iter().any(|p| starts_ignore_case(word, p))
}

/// Whether the number that ends at `end` is an amount of money: a currency sign or word right
/// after it (past decimals), or a sign right before `start`.
pub fn money(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].trim_end();
    if before.ends_with(['$', '€', '£', '₽', '¥']) {
        return true;
    }
    let mut after = &text[end..];
    if let Some(rest) = after.strip_prefix([',', '.'])
        && rest.starts_with(|c: char| c.is_ascii_digit())
    {
        after = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    // The next eight characters in lower case, on the stack: this runs for many numbers of a
    // ticket. (A char lowers to at most three chars of at most four bytes.)
    let mut lowered = [0u8; 8 * 3 * 4];
    let mut len = 0;
    for c in after
        .trim_start()
        .chars()
        .take(8)
        .flat_map(char::to_lowercase)
    {
        len += c.encode_utf8(&mut lowered[len..]).len();
    }
    let after = &lowered[..len];
    const CURRENCY: &[&str] = &[
        "руб", "р.", "₽", "$", "€", "£", "usd", "eur", "rub", "gbp", "долл", "евро", "тыс", "млн",
        "млрд", "коп", "dollars", "euros", "pounds",
    ];
    CURRENCY.iter().any(|c| after.starts_with(c.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, number: &str) -> usize {
        text.find(number).unwrap_or(0)
    }

    #[test]
    fn labels_stay_inside_their_sentence() {
        let before = |t: &str, n: &str| Before::at(t, at(t, n));
        let t = "Заказ № 794401547123. Мой телефон 8 987 033 11 71.";
        assert_eq!(before(t, "7944").adjacent, Some(Label::Order));
        assert_eq!(before(t, "8 987").adjacent, Some(Label::Phone));
        assert!(!before(t, "8 987").near(Label::Order));
        let t = "Order #794401547123. Please call me at +44 20 7946 0958.";
        assert_eq!(before(t, "7944").adjacent, Some(Label::Order));
        assert!(before(t, "+44").near(Label::Phone));
        assert_eq!(before(t, "+44").adjacent, None);
        let t = "тел. 8 912 345 67 89";
        assert_eq!(before(t, "8 912").adjacent, Some(Label::Phone));
        let t = "Д.Р. 12.03.1985";
        assert!(before(t, "12.03").near(Label::Birth));
        let t = "паспорт серии 4511 номер 987654";
        assert_eq!(before(t, "4511").adjacent, Some(Label::Passport));
        let t = "Social Security 460-89-9847";
        assert!(before(t, "460").near(Label::Ssn));
    }

    #[test]
    fn long_words_are_read_as_far_as_a_label_reaches() {
        // Every label fits in the lowered prefix with room for the widest char.
        assert!(
            LABELS
                .iter()
                .all(|(stem, _)| stem.len() + 4 <= LOWERED_BYTES)
        );
        let before = |t: &str, n: &str| Before::at(t, at(t, n));
        let long = "Телефоннообслуживающему 8 912 345 67 89";
        assert!(long.find(' ').unwrap_or(0) > LOWERED_BYTES);
        assert_eq!(before(long, "8 912").adjacent, Some(Label::Phone));
        // A one-letter label names only itself, however the longer word begins.
        let t = "Дддддддддддддддддддддддддддддд 12";
        assert_eq!(before(t, "12").adjacent, None);
        assert_eq!(before("Д. 12", "12").adjacent, Some(Label::Address));
        assert_eq!(
            before("..тел.-- 8 912 345 67 89", "8 912").adjacent,
            Some(Label::Phone)
        );
        assert_eq!(trim_dots(".-"), "");
        assert_eq!(trim_dots("-д.р."), "д.р");
    }

    #[test]
    fn money_is_told_by_its_currency() {
        let t = "сумма 1 234 567,89 руб. и $ 699 956 915";
        assert!(money(t, at(t, "1 234"), at(t, "1 234") + "1 234 567".len()));
        assert!(money(t, at(t, "699"), t.len()));
        let t = "call 699 956 915 now";
        assert!(!money(t, at(t, "699"), at(t, "699") + 11));
    }
}
