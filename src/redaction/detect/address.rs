//! Postal addresses in free text: Russian ones built from markers (`г. Москва, ул. Ленина,
//! д. 5, кв. 12`, `Тверская ул., 7`, a 6-digit postcode next to them) and street addresses as
//! the rest of the world writes them (`12 Baker Street, Apt 4, London`, `350 Fifth Avenue,
//! New York, NY 10118`, `87 Rue Joseph Vernet`, `Hauptstraße 5`, `PO Box 4371`).
//!
//! A street or a unit is the anchor; a settlement or region alone (`г. Москва`, `in London`)
//! names no one and stays. From an anchor the address grows over what sits next to it,
//! separated by spaces, commas or line breaks: other components, house numbers, postcodes,
//! state codes and short capitalised place names. Work is linear: each token is classified
//! once and every span grows by a bounded number of steps.

use std::sync::OnceLock;

use super::lexicon::Lexicon;
use super::words::{WordLists, alphanumeric, lower, upper, with_lowered};

/// Russian markers after which (or before which) a name stands: streets and settlements.
const RU_STREETS: &[&str] = &[
    "ул",
    "улица",
    "улице",
    "улицу",
    "улицы",
    "пр",
    "пр-т",
    "пр-кт",
    "просп",
    "проспект",
    "проспекте",
    "пер",
    "переулок",
    "переулке",
    "б-р",
    "бульвар",
    "бульваре",
    "ш",
    "шоссе",
    "наб",
    "набережная",
    "набережной",
    "пл",
    "площадь",
    "площади",
    "проезд",
    "проезде",
    "туп",
    "тупик",
    "аллея",
    "аллее",
    "мкр",
    "мкр-н",
    "микрорайон",
    "микрорайоне",
    "линия",
    "тракт",
];

/// Russian settlement and region markers: part of an address next to a street, never one
/// alone.
const RU_PLACES: &[&str] = &[
    "г",
    "гор",
    "город",
    "городе",
    "обл",
    "область",
    "области",
    "край",
    "края",
    "р-н",
    "район",
    "районе",
    "пос",
    "поселок",
    "посёлок",
    "пгт",
    "п",
    "с",
    "село",
    "дер",
    "деревня",
    "респ",
    "республика",
    "ст-ца",
    "станица",
    "снт",
];

/// Russian markers a number follows: house, building, flat, office.
const RU_NUMBERED: &[&str] = &[
    "д",
    "дом",
    "доме",
    "корп",
    "корпус",
    "к",
    "стр",
    "строение",
    "кв",
    "квартира",
    "квартире",
    "оф",
    "офис",
    "лит",
    "литер",
    "комн",
    "комната",
    "эт",
    "этаж",
    "под",
    "подъезд",
    "вл",
    "владение",
];

/// Street types written after the street's name (`Baker Street`, `Fifth Ave`).
const STREET_AFTER: &[&str] = &[
    "street",
    "st",
    "avenue",
    "ave",
    "av",
    "road",
    "rd",
    "lane",
    "ln",
    "boulevard",
    "blvd",
    "drive",
    "dr",
    "court",
    "ct",
    "place",
    "pl",
    "way",
    "terrace",
    "ter",
    "parkway",
    "pkwy",
    "circle",
    "cir",
    "highway",
    "hwy",
    "square",
    "sq",
    "crescent",
    "close",
    "grove",
    "gardens",
    "row",
    "trail",
    "alley",
    "loop",
    "pike",
    "plaza",
    "mews",
    "walk",
    "expressway",
    "freeway",
    "str",
    "ulica",
    "út",
];

/// Street types written before the name (`Rue Joseph Vernet`, `Via Roma`, `ul. Asnyka`).
const STREET_BEFORE: &[&str] = &[
    "rue",
    "rua",
    "via",
    "viale",
    "calle",
    "avenida",
    "avda",
    "avenue",
    "ul",
    "ulica",
    "aleja",
    "piazza",
    "plaza",
    "praça",
    "praca",
    "travessa",
    "largo",
    "carrer",
    "camino",
    "paseo",
    "strada",
    "chemin",
    "allée",
    "allee",
    "quai",
    "impasse",
    "rambla",
    "estrada",
    "alameda",
    "corso",
    "vicolo",
    "boulevard",
    "route",
];

/// Endings of one-word street names (`Hauptstraße`, `Västerviksgatan`, `Kaarikatu`).
const STREET_ENDINGS: &[&str] = &[
    "straße", "strasse", "gasse", "weg", "gatan", "vägen", "vagen", "gata", "gate", "veien", "vej",
    "gade", "katu", "tie", "straat", "laan", "plein", "utca", "ulice", "cesta", "dreef", "plaats",
    "steenweg", "vegen", "vegur", "stigen", "gränd", "torget", "platz", "allee", "str",
];

/// Units inside a building (`Apt. 4`, `Suite 741`).
pub(super) const UNITS: &[&str] = &[
    "apt",
    "apartment",
    "suite",
    "ste",
    "unit",
    "flat",
    "room",
    "rm",
    "floor",
    "fl",
    "bldg",
    "building",
];

/// Words joining the parts of a street's name (`Rue de la Liberté`, `Rua Joaquim de Oliveira`).
const NAME_PARTICLES: &[&str] = &[
    "de", "la", "le", "les", "du", "des", "da", "do", "dos", "das", "del", "della", "di", "van",
    "von", "der", "den", "of", "the", "al", "el",
];

/// The longest name a marker takes, in words.
const MAX_NAME_WORDS: usize = 5;
/// How many pieces an address grows by on each side of its anchors.
const MAX_GROWTH: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// Starts with a digit: a house number, a postcode, `12а`, `5/2`.
    Number,
    /// Starts with an upper-case letter.
    Capital,
    /// Starts with a lower-case letter.
    Lower,
}

/// A token of the text: letters and digits, with `-` `/` `'` inside. What the rules ask of
/// its letters is worked out once, when the text is split: tokens are small, and only the
/// few words a marker list may hold are lowered.
#[derive(Clone, Copy, Debug)]
struct Token {
    start: usize,
    end: usize,
    shape: Shape,
    /// The marker lists it is in (`IN_RU_STREETS | IN_UNITS`…).
    lists: u16,
    /// Followed directly by `.`.
    dot: bool,
    /// Its length in chars, counted up to 3.
    chars: u8,
    /// Its ASCII digits, counted up to 255.
    digits: u8,
    /// Made of digits and `-` only (`125009`, `10118-1234`).
    plain_number: bool,
    /// A capitalised word ending like a one-word street's name (`Hauptstraße`).
    street_ending: bool,
}

const IN_RU_STREETS: u16 = 1;
const IN_RU_PLACES: u16 = 2;
const IN_RU_NUMBERED: u16 = 4;
const IN_STREET_AFTER: u16 = 8;
const IN_STREET_BEFORE: u16 = 16;
const IN_UNITS: u16 = 32;
const IN_PARTICLES: u16 = 64;
/// The post office's letters before `Box` (`PO`, `P.O.`).
const IN_POST_OFFICE: u16 = 128;
/// `Box`, `PSC`: a postal box's number follows.
const IN_BOX: u16 = 256;
/// Where people say to go, before a place: `meet me at`, `return to`, `my address is`.
const IN_TO_A_PLACE: u16 = 512;
/// `and`, joining an addressee or a corner to a street.
const IN_AND: u16 = 1024;

/// Every marker word and the lists it is in: one look-up a token.
fn vocabulary() -> &'static WordLists<u16> {
    static VOCABULARY: OnceLock<WordLists<u16>> = OnceLock::new();
    VOCABULARY.get_or_init(|| {
        WordLists::new(&[
            (RU_STREETS, IN_RU_STREETS),
            (RU_PLACES, IN_RU_PLACES),
            (RU_NUMBERED, IN_RU_NUMBERED),
            (STREET_AFTER, IN_STREET_AFTER),
            (STREET_BEFORE, IN_STREET_BEFORE),
            (UNITS, IN_UNITS),
            (NAME_PARTICLES, IN_PARTICLES),
            (&["po", "p", "o"], IN_POST_OFFICE),
            (&["box", "psc"], IN_BOX),
            (&["at", "to", "is"], IN_TO_A_PLACE),
            (&["and"], IN_AND),
        ])
    })
}

fn tokens(text: &str) -> Vec<Token> {
    let mut out = Vec::with_capacity(text.len() / 6 + 1);
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if !alphanumeric(c) {
            continue;
        }
        let mut end = start + c.len_utf8();
        while let Some(&(j, d)) = chars.peek() {
            if alphanumeric(d) {
                end = j + d.len_utf8();
                chars.next();
            } else if matches!(d, '-' | '/' | '\'' | '’')
                && text[j + d.len_utf8()..].starts_with(alphanumeric)
            {
                chars.next();
            } else {
                break;
            }
        }
        let shape = if c.is_ascii_digit() {
            Shape::Number
        } else if upper(c) {
            Shape::Capital
        } else {
            Shape::Lower
        };
        let word = &text[start..end];
        let mut token = Token {
            start,
            end,
            shape,
            lists: 0,
            dot: text[end..].starts_with('.'),
            chars: 0,
            digits: 0,
            plain_number: false,
            street_ending: false,
        };
        if shape == Shape::Number {
            // A number is compared by its digits and no marker word begins with one: it is
            // neither lowered nor looked up (near digits, most tokens are numbers).
            let digits = word.bytes().filter(u8::is_ascii_digit).count();
            token.digits = u8::try_from(digits).unwrap_or(u8::MAX);
            token.plain_number = word.bytes().all(|b| b.is_ascii_digit() || b == b'-');
        } else {
            token.chars = u8::try_from(word.chars().take(3).count()).unwrap_or(3);
            token.lists = vocabulary().get(word);
            token.street_ending = shape == Shape::Capital && one_word_street(word);
        }
        out.push(token);
    }
    out
}

/// What lies between two neighbouring tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Gap {
    /// Spaces only, or an abbreviation's dot and spaces.
    Space,
    /// A comma, semicolon or line break (with spaces): the next part of a list.
    List,
    /// Anything else: a sentence's end, a bracket, a colon.
    Break,
}

fn gap(text: &str, tokens: &[Token], i: usize) -> Gap {
    let Some(next) = tokens.get(i + 1) else {
        return Gap::Break;
    };
    let left = &tokens[i];
    let mut between = &text[left.end..next.start];
    if left.dot && abbreviation(left) {
        between = &between[1..];
    }
    if between.is_empty() {
        // `д.5`: the dot was the whole gap; two tokens never touch otherwise.
        return if left.dot { Gap::Space } else { Gap::Break };
    }
    let mut list = false;
    for c in between.chars() {
        match c {
            c if GAP_SPACES.contains(&c) => {}
            ',' | ';' | '\n' => list = true,
            _ => return Gap::Break,
        }
    }
    if list { Gap::List } else { Gap::Space }
}

/// Marker words that are written with a dot when shortened.
fn abbreviation(t: &Token) -> bool {
    // A one-word street's name shortens too (`Hauptstr.`).
    t.lists & !(IN_PARTICLES | IN_BOX) != 0 || t.street_ending
}

/// A single-letter marker (`д`, `г`, `к`) counts only with its dot: alone it is a word.
fn marker(t: &Token, list: u16) -> bool {
    t.lists & list != 0 && (t.chars > 1 || t.dot)
}

fn house_number(t: &Token) -> bool {
    t.shape == Shape::Number && t.digits <= 6
}

fn postcode(text: &str, tokens: &[Token], i: usize) -> Option<usize> {
    let t = &tokens[i];
    if t.shape == Shape::Number && t.plain_number {
        return (4..=10).contains(&t.digits).then_some(i);
    }
    // British and Canadian: `SW1A 1AA`, `K1A 0B1`.
    let word = &text[t.start..t.end];
    let outward = (2..=4).contains(&word.len())
        && word
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && word.starts_with(|c: char| c.is_ascii_uppercase())
        && word.chars().any(|c| c.is_ascii_digit());
    let next = tokens.get(i + 1)?;
    let inward = &text[next.start..next.end];
    (outward
        && gap(text, tokens, i) == Gap::Space
        && inward.len() == 3
        && inward.starts_with(|c: char| c.is_ascii_digit())
        && inward[1..]
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()))
    .then_some(i + 1)
}

fn capital(t: &Token) -> bool {
    t.shape == Shape::Capital
}

/// The end (inclusive) of a name of capitalised words starting at `i`, particles allowed
/// between them.
fn name_from(text: &str, tokens: &[Token], i: usize) -> Option<usize> {
    if !tokens
        .get(i)
        .is_some_and(|t| capital(t) || t.shape == Shape::Number)
    {
        return None;
    }
    let mut end = i;
    let mut j = i;
    while j + 1 < tokens.len() && j + 1 - i < MAX_NAME_WORDS && gap(text, tokens, j) == Gap::Space {
        let next = &tokens[j + 1];
        if capital(next) && !street_word(next) {
            end = j + 1;
        } else if next.lists & IN_PARTICLES == 0 {
            break;
        }
        j += 1;
    }
    Some(end)
}

fn street_word(t: &Token) -> bool {
    t.lists & (IN_STREET_AFTER | IN_UNITS | IN_RU_NUMBERED) != 0
}

fn one_word_street(word: &str) -> bool {
    // Asked of every capitalised word near a marker: lowered on the stack, compared as bytes
    // (a char is a byte that does not continue one).
    with_lowered(word, |lower| {
        STREET_ENDINGS.iter().any(|e| {
            lower
                .strip_suffix(e.as_bytes())
                .is_some_and(|stem| stem.iter().filter(|b| **b & 0xC0 != 0x80).count() >= 3)
        })
    })
}

/// The kinds of pieces an address is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Piece {
    /// A street with its house number (`12 Baker St`): enough for an address.
    Street,
    /// A street's name without a house number (`ул. Ленина`, `Rue Joseph Vernet`, `Wall
    /// Street`): an address once a number or another piece is next to it; alone it is a
    /// landmark (`на Тверской площади`).
    StreetName,
    /// A flat, office or PO box: enough for an address.
    Unit,
    /// A house or building number after its marker (`д. 5`): an address next to another
    /// piece.
    House,
    /// A settlement or region (`г. Москва`): an address only next to a street or house.
    Place,
}

/// The anchors of addresses: (first token, last token, piece), in order.
fn pieces(text: &str, tokens: &[Token]) -> Vec<(usize, usize, Piece)> {
    let mut out: Vec<(usize, usize, Piece)> = Vec::new();
    let joined = |k: usize| gap(text, tokens, k) == Gap::Space;
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        let found = if marker(t, IN_RU_STREETS) || marker(t, IN_RU_PLACES) {
            let piece = if marker(t, IN_RU_STREETS) {
                Piece::StreetName
            } else {
                Piece::Place
            };
            if joined(i) {
                name_from(text, tokens, i + 1).map(|end| (i, end, piece))
            } else {
                None
            }
        } else if marker(t, IN_RU_NUMBERED)
            && joined(i)
            && tokens.get(i + 1).is_some_and(house_number)
        {
            Some((i, i + 1, Piece::House))
        } else if marker(t, IN_UNITS) && joined(i) && tokens.get(i + 1).is_some_and(house_number) {
            let piece = if capital(t) || out.last().is_some_and(|p| p.1 + 1 == i) {
                Piece::Unit
            } else {
                Piece::House
            };
            Some((i, i + 1, piece))
        } else if t.lists & IN_BOX != 0 && joined(i) {
            // `PO Box`, `P.O. Box`: the post office's letters belong to it.
            let mut first = i;
            while first > 0
                && i - first < 2
                && tokens[first - 1].lists & IN_POST_OFFICE != 0
                && joined(first - 1)
            {
                first -= 1;
            }
            tokens
                .get(i + 1)
                .filter(|n| house_number(n))
                .map(|_| (first, i + 1, Piece::Unit))
        } else if (capital(t) || t.dot)
            && marker(t, IN_STREET_BEFORE)
            && joined(i)
            // `Avenue` opens a name (`Avenue Foch`) or closes one (`Fifth Avenue now`).
            && name_from(text, tokens, i + 1).is_some()
        {
            let first = if i > 0 && joined(i - 1) && house_number(&tokens[i - 1]) {
                i - 1
            } else {
                i
            };
            let piece = if first < i {
                Piece::Street
            } else {
                Piece::StreetName
            };
            name_from(text, tokens, i + 1).map(|end| (first, end, piece))
        } else if t.street_ending {
            // `Lille Vibyvej`, `Untere Donaulände`: words of the name before it.
            let mut first = i;
            while first > 0 && i - first < 2 && joined(first - 1) && capital(&tokens[first - 1]) {
                first -= 1;
            }
            Some((first, i, Piece::StreetName))
        } else if capital(t) && marker(t, IN_STREET_AFTER) && i > 0 && joined(i - 1) {
            // Walk back over the street's name to its house number, if any.
            let mut first = i;
            while first > 0
                && i - first < MAX_NAME_WORDS
                && joined(first - 1)
                && (capital(&tokens[first - 1]) || tokens[first - 1].lists & IN_PARTICLES != 0)
            {
                first -= 1;
            }
            // `The Wall Street Journal`: an article opens a title, not a street.
            while first < i && tokens[first].lists & IN_PARTICLES != 0 {
                first += 1;
            }
            let numbered = first > 0 && joined(first - 1) && house_number(&tokens[first - 1]);
            if first == i {
                None
            } else if numbered {
                // `01 4589 40th Street`: a building's number before the house's.
                let mut from = first - 1;
                if from > 0 && joined(from - 1) && house_number(&tokens[from - 1]) {
                    from -= 1;
                }
                Some((from, i, Piece::Street))
            } else {
                Some((first, i, Piece::StreetName))
            }
        } else {
            None
        };
        let found = found.or_else(|| intersection(text, tokens, i));
        // A name written before its marker: `Тверская ул.`, `Московская обл.`.
        let found = found.or_else(|| {
            let after = i + 1 < tokens.len()
                && joined(i)
                && capital(t)
                && t.chars > 2
                && (marker(&tokens[i + 1], IN_RU_STREETS) || marker(&tokens[i + 1], IN_RU_PLACES))
                && !tokens.get(i + 2).is_some_and(capital);
            after.then(|| {
                let piece = if marker(&tokens[i + 1], IN_RU_STREETS) {
                    Piece::StreetName
                } else {
                    Piece::Place
                };
                (i, i + 1, piece)
            })
        });
        match found {
            Some((first, last, piece)) => {
                // A street named before this one was only its name's first words.
                while out.last().is_some_and(|p| p.1 >= first) {
                    out.pop();
                }
                out.push((first, last, piece));
                i = last + 1;
            }
            None => i += 1,
        }
    }
    out
}

/// A person and a street joined by `and`, with a house number after them, where someone is
/// told to go (`meet me at Spencer and Søndre Havnevej 65`, `return to Neville and
/// Democracia 4183`): the addressee and the street; no marker word needed. The first word
/// is a given name and the second none (`talk to Anna and Maria 2 times` is two people).
fn intersection(text: &str, tokens: &[Token], i: usize) -> Option<(usize, usize, Piece)> {
    let space = |k: usize| gap(text, tokens, k) == Gap::Space;
    let before = tokens.get(i.checked_sub(1)?)?;
    if !(capital(&tokens[i])
        && space(i - 1)
        && before.lists & IN_TO_A_PLACE != 0
        && tokens.get(i + 1)?.lists & IN_AND != 0
        && space(i)
        && space(i + 1))
    {
        return None;
    }
    let end = name_from(text, tokens, i + 2)?;
    let number = end + 1;
    let given = |k: usize| {
        Lexicon::get()
            .known(&lower(&text[tokens[k].start..tokens[k].end]))
            .given
    };
    (capital(&tokens[i + 2])
        && space(end)
        && tokens.get(number).is_some_and(house_number)
        && given(i)
        && !given(i + 2))
    .then_some((i, number, Piece::Street))
}

/// How far past token `last` an address goes: house numbers, postcodes, state codes, units
/// and short place names next to it.
fn grow_right(text: &str, tokens: &[Token], mut last: usize) -> usize {
    for _ in 0..MAX_GROWTH {
        if gap(text, tokens, last) == Gap::Break {
            break;
        }
        let i = last + 1;
        let t = &tokens[i];
        if let Some(end) = postcode(text, tokens, i) {
            last = end;
        } else if house_number(t) {
            last = i;
        } else if capital(t) {
            // A place name: a few capitalised words ending the address or its line.
            let Some(end) = name_from(text, tokens, i) else {
                break;
            };
            let end = end.min(i + 2);
            let closes = gap(text, tokens, last) == Gap::List
                || gap(text, tokens, end) != Gap::Space
                || tokens
                    .get(end + 1)
                    .is_some_and(|n| n.shape == Shape::Number || street_word(n));
            if !closes {
                break;
            }
            last = end;
        } else {
            break;
        }
    }
    last
}

/// How far before token `first` an address goes: a postcode and a place name before it
/// (`125009, Москва, ул. …`).
fn grow_left(text: &str, tokens: &[Token], mut first: usize, unit: bool) -> usize {
    if unit {
        // Before a flat or suite, the street it is in, whatever its language calls streets:
        // `69 Roheline 43 Apt. 305`.
        let mut k = first;
        while k > 0
            && first - k < MAX_NAME_WORDS
            && gap(text, tokens, k - 1) == Gap::Space
            && (capital(&tokens[k - 1]) || house_number(&tokens[k - 1]))
        {
            k -= 1;
        }
        if k < first && house_number(&tokens[first - 1]) {
            first = k;
        }
    }
    for _ in 0..MAX_GROWTH {
        if first == 0 || gap(text, tokens, first - 1) == Gap::Break {
            break;
        }
        let t = &tokens[first - 1];
        if t.shape == Shape::Number && postcode(text, tokens, first - 1).is_some() {
            first -= 1;
        } else if capital(t) && gap(text, tokens, first - 1) == Gap::List {
            // One or two capitalised words, with a list break or the start before them.
            let mut k = first - 1;
            if k > 0 && gap(text, tokens, k - 1) == Gap::Space && capital(&tokens[k - 1]) {
                k -= 1;
            }
            let opens = k == 0 || gap(text, tokens, k - 1) != Gap::Space;
            if !opens {
                break;
            }
            first = k;
        } else {
            break;
        }
    }
    first
}

/// A capitalised word joined to the address at `first` by `and` (`Please return to Eloise
/// and 226 Thomas Avenue`): whether it names the addressee or the first line of the address,
/// it leaves with the address.
fn addressee(text: &str, tokens: &[Token], first: usize) -> usize {
    let space = |k: usize| gap(text, tokens, k) == Gap::Space;
    if first >= 2
        && tokens[first - 1].lists & IN_AND != 0
        && space(first - 1)
        && space(first - 2)
        && capital(&tokens[first - 2])
    {
        first - 2
    } else {
        first
    }
}

/// How far from its marker word an address may reach, in bytes (a marker, its name, the
/// house, flat, postcode and place names next to it): only text this near a marker is split
/// into tokens and judged.
const REACH: usize = 240;

/// Finds postal addresses in `text`; returns their byte spans, in order.
pub fn find(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    // Every address found has a number (a house, a flat, a postcode).
    if !text.bytes().any(|b| b.is_ascii_digit()) {
        return spans;
    }
    let anchors = anchors(text);
    let mut k = 0;
    while k < anchors.len() {
        // A window around this marker and every marker within reach of it.
        let start = text.floor_char_boundary(anchors[k].saturating_sub(REACH));
        let mut end = anchors[k] + REACH;
        while anchors
            .get(k + 1)
            .is_some_and(|next| next.saturating_sub(REACH) <= end)
        {
            k += 1;
            end = anchors[k] + REACH;
        }
        let end = text.ceil_char_boundary(end.min(text.len()));
        let window = &text[start..end];
        if window.bytes().any(|b| b.is_ascii_digit()) {
            spans.extend(
                find_in(window)
                    .into_iter()
                    .map(|(s, e)| (start + s, start + e)),
            );
        }
        k += 1;
    }
    spans
}

/// How a marker word of the automaton is matched in the text: what [`pieces`] asks of it,
/// told from the characters around it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Anchor {
    /// A whole word: no letter or digit on either side.
    Word,
    /// A whole word written with a capital (`Baker Street`) or, opening a name, shortened
    /// with a dot (`ul. Zuchów`).
    Capital,
    /// A whole word with a number after it, past its dot and spaces (`кв. 12`, `Apt 4`,
    /// `Box 4371`).
    Numbered,
    /// A one-letter marker and its dot (`д.`): no letter or digit before it.
    Dotted,
    /// The end of a one-word street's name (`…straße`, `…vej`): no letter or digit after it.
    Ending,
    /// `and`: an anchor only as in `at Spencer and …` (see [`intersection`]).
    And,
}

/// Every word an address can be anchored on — the markers [`pieces`] starts from, in the
/// [`spellings`] that lower to them, a one-letter marker with its dot — and the endings of
/// one-word street names: one pass of the automaton over a text finds them all.
fn anchor_automaton() -> &'static (aho_corasick::AhoCorasick, Vec<Anchor>) {
    static AUTOMATON: OnceLock<(aho_corasick::AhoCorasick, Vec<Anchor>)> = OnceLock::new();
    AUTOMATON.get_or_init(|| {
        let mut patterns: Vec<String> = Vec::new();
        let mut kinds: Vec<Anchor> = Vec::new();
        let markers: [(&[&str], Anchor); 7] = [
            (RU_STREETS, Anchor::Word),
            (RU_PLACES, Anchor::Word),
            (RU_NUMBERED, Anchor::Numbered),
            (STREET_AFTER, Anchor::Capital),
            (STREET_BEFORE, Anchor::Capital),
            (UNITS, Anchor::Numbered),
            (&["box", "psc"], Anchor::Numbered),
        ];
        let words = markers
            .iter()
            .flat_map(|(list, kind)| list.iter().map(|w| (*w, *kind)));
        let endings = STREET_ENDINGS.iter().map(|w| (*w, Anchor::Ending));
        for (word, kind) in words.chain(endings).chain([("and", Anchor::And)]) {
            for spelling in spellings(word) {
                // A one-letter marker counts only with its dot (see [`marker`]).
                if kind != Anchor::Ending && spelling.chars().count() == 1 {
                    patterns.push(spelling + ".");
                    kinds.push(Anchor::Dotted);
                } else {
                    patterns.push(spelling);
                    kinds.push(kind);
                }
            }
        }
        let automaton = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .build(&patterns)
            // The patterns are this file's constants: building them cannot fail.
            .unwrap_or_else(|e| unreachable!("address markers: {e}"));
        (automaton, kinds)
    })
}

/// The ways `word` (lower case, `е` for `ё`) can be written so that [`lower`] gives it back:
/// each `е` also as `ё`; a word of up to three letters (`ул`, `кв`, `обл`) in every mix of
/// cases, a longer one in lower case, capitalised and upper case. (ASCII letters are matched
/// in any case by the automaton itself.)
fn spellings(word: &str) -> Vec<String> {
    if word.is_ascii() {
        // Each case form would be one more pattern reporting the same match.
        return vec![word.to_owned()];
    }
    let short = word.chars().count() <= 3;
    let mut out = vec![String::new()];
    for (k, c) in word.chars().enumerate() {
        let mut forms: Vec<char> = vec![c];
        if c == 'е' {
            forms.push('ё');
        }
        if short || k == 0 {
            let upper: Vec<char> = forms.iter().flat_map(|f| f.to_uppercase()).collect();
            forms.extend(upper);
        }
        out = out
            .iter()
            .flat_map(|prefix| forms.iter().map(move |f| format!("{prefix}{f}")))
            .collect();
    }
    if !short {
        // Upper case throughout (`УЛИЦА`); the forms above are lower case after their first
        // letter.
        let upper: Vec<String> = out.iter().map(|w| w.to_uppercase()).collect();
        out.extend(upper);
    }
    out.sort();
    out.dedup();
    out
}

/// Byte offsets of the marker words of `text` an address could be anchored on, in order.
/// Every token [`pieces`] can anchor an address on has one (it stands between characters that
/// are no letter or digit); a few more are harmless — they only let a window be judged.
fn anchors(text: &str) -> Vec<usize> {
    let (automaton, kinds) = anchor_automaton();
    let alnum_before = |at: usize| text[..at].chars().next_back().is_some_and(alphanumeric);
    let alnum_after = |at: usize| text[at..].chars().next().is_some_and(alphanumeric);
    let mut out: Vec<usize> = automaton
        .find_overlapping_iter(text)
        .filter(|m| {
            let (start, end) = (m.start(), m.end());
            match kinds[m.pattern().as_usize()] {
                Anchor::Ending => !alnum_after(end),
                Anchor::Word => !alnum_before(start) && !alnum_after(end),
                Anchor::Capital => {
                    !alnum_before(start)
                        && !alnum_after(end)
                        && (text[start..].starts_with(upper) || text[end..].starts_with('.'))
                }
                Anchor::Numbered => {
                    !alnum_before(start) && !alnum_after(end) && number_follows(text, end)
                }
                Anchor::Dotted => !alnum_before(start),
                Anchor::And => !alnum_before(start) && !alnum_after(end) && told_to_go(text, start),
            }
        })
        .map(|m| m.start())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Whether a number follows `at`, past a dot and spaces (`. 12`, ` 4`, `.5`).
fn number_follows(text: &str, at: usize) -> bool {
    let rest = text[at..].strip_prefix('.').unwrap_or(&text[at..]);
    rest.trim_start_matches(GAP_SPACES)
        .starts_with(|c: char| c.is_ascii_digit())
}

/// The characters [`gap`] takes for a space between two tokens.
const GAP_SPACES: [char; 4] = [' ', '\t', '\u{a0}', '\r'];

/// Whether the `and` at `at` follows a word after `at`, `to` or `is` (`meet me at Spencer
/// and …`): the only place [`intersection`] takes it.
fn told_to_go(text: &str, at: usize) -> bool {
    let before = text[..at].trim_end_matches(GAP_SPACES);
    let name_start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| alphanumeric(*c) || matches!(c, '-' | '/' | '\'' | '’'))
        .last()
        .map_or(before.len(), |(i, _)| i);
    // `at.` is taken like an abbreviation's dot (see [`gap`]).
    let rest = before[..name_start].trim_end_matches(GAP_SPACES);
    let rest = rest.strip_suffix('.').unwrap_or(rest);
    let word_start = rest
        .char_indices()
        .rev()
        .take_while(|(_, c)| alphanumeric(*c))
        .last()
        .map_or(rest.len(), |(i, _)| i);
    name_start < before.len()
        && matches!(
            rest[word_start..].to_ascii_lowercase().as_str(),
            "at" | "to" | "is"
        )
}

fn find_in(text: &str) -> Vec<(usize, usize)> {
    let tokens = tokens(text);
    let pieces = pieces(text, &tokens);
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut k = 0;
    while k < pieces.len() {
        // Pieces next to each other, with house numbers and place names between them, make
        // one address.
        let (first, mut last, piece) = pieces[k];
        let mut kinds = vec![piece];
        let mut end = grow_right(text, &tokens, last);
        while k + 1 < pieces.len()
            && (pieces[k + 1].0 <= end
                || (pieces[k + 1].0 == end + 1 && gap(text, &tokens, end) != Gap::Break))
        {
            k += 1;
            kinds.push(pieces[k].2);
            if pieces[k].1 > end {
                last = pieces[k].1;
                end = grow_right(text, &tokens, last);
            }
        }
        let numbered = end > last;
        let complete = kinds
            .iter()
            .any(|p| matches!(p, Piece::Street | Piece::Unit));
        let several = kinds.len() >= 2 && kinds.iter().any(|p| *p != Piece::Place);
        let street_numbered = kinds.contains(&Piece::StreetName) && numbered;
        let has_number = tokens[first..=end].iter().any(|t| t.shape == Shape::Number);
        if has_number && (complete || several || street_numbered) {
            let unit = kinds.contains(&Piece::Unit);
            let start = addressee(text, &tokens, grow_left(text, &tokens, first, unit));
            spans.push((tokens[start].start, tokens[end].end));
        }
        k += 1;
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addresses(text: &str) -> Vec<&str> {
        find(text).into_iter().map(|(s, e)| &text[s..e]).collect()
    }

    #[test]
    fn no_marker_word_begins_with_a_digit() {
        // Number tokens are never looked up in the vocabulary.
        assert!(
            vocabulary()
                .words()
                .all(|w| !w.starts_with(|c: char| c.is_ascii_digit()))
        );
    }

    /// Every token [`pieces`] could anchor an address on that [`anchors`] reports nothing in
    /// (it must report them all, or the window is never split).
    fn unanchored(text: &str) -> Vec<&str> {
        let anchors = anchors(text);
        let tokens = tokens(text);
        let anchoring = |i: usize| {
            let t = &tokens[i];
            let numbered =
                gap(text, &tokens, i) == Gap::Space && tokens.get(i + 1).is_some_and(house_number);
            marker(t, IN_RU_STREETS | IN_RU_PLACES)
                || (marker(t, IN_RU_NUMBERED | IN_UNITS | IN_BOX) && numbered)
                || (marker(t, IN_STREET_AFTER | IN_STREET_BEFORE) && (capital(t) || t.dot))
                || t.street_ending
        };
        (0..tokens.len())
            .filter(|i| anchoring(*i))
            .map(|i| &tokens[i])
            .filter(|t| !anchors.iter().any(|a| (t.start..t.end).contains(a)))
            .map(|t| &text[t.start..t.end])
            .collect()
    }

    #[test]
    fn every_marker_word_is_an_anchor() {
        for text in [
            "г. Москва, УЛ. ЛЕНИНА, Д. 5, Кв. 12; Московская Обл., ПОСЁЛОК Сходня, посёлок 3",
            "уЛ. Ленина, дОм 5, кВ. 12, оБЛ. Московская, Ё-бург, пЕр. Тихий 1",
            "Тверская ул.,д.7,корп.2 — пр-т Мира, 1; мкр-н Южный 4; б-р Гагарина, 9",
            "12 BAKER ST, Apt 4; 350 fifth avenue; PO BOX 4371; psc 4296",
            "Hedemannstrasse 15, Michaelkirchstr. 15, HAUPTSTRASSE 7, Hauptstraße 7, Kaarikatu 3",
            "87 Rue Joseph Vernet; 34 ul. Zuchów 65; Praça da Sé 1; Allée des Roses 3; Út 5",
            "street-level? no: streets, ulicas and straßen; д.5; к.1; ст-ца Южная 2",
        ] {
            assert_eq!(unanchored(text), Vec::<&str>::new(), "{text}");
        }
        assert!(told_to_go("Meet me at Spencer and", 19));
        assert!(told_to_go("Talk to Anna\u{a0}and", 14));
        assert!(told_to_go("meet at. Spencer and", 17));
        assert!(!told_to_go("bread and", 6));
    }

    #[test]
    fn a_number_far_before_an_address_does_not_cut_it() {
        // The text is judged in windows; wherever a window would begin, the address is whole.
        for filler in 180..300 {
            let text = format!(
                "Заказ 1 {} Адрес: Московская обл., г. Химки, мкр. Сходня, д. 3",
                "а".repeat(filler / 2)
            );
            assert_eq!(
                addresses(&text),
                ["Московская обл., г. Химки, мкр. Сходня, д. 3"],
                "{filler}"
            );
        }
    }

    #[test]
    fn russian_addresses() {
        assert_eq!(
            addresses("Доставьте по адресу: г. Москва, ул. Ленина, д. 5, кв. 12, спасибо"),
            ["г. Москва, ул. Ленина, д. 5, кв. 12"]
        );
        assert_eq!(
            addresses("Адрес: 125009, Москва, ул. Тверская, д. 7 — позвоните"),
            ["125009, Москва, ул. Тверская, д. 7"]
        );
        assert_eq!(
            addresses("живу на ул. Малая Бронная 12, кв 4"),
            ["ул. Малая Бронная 12, кв 4"]
        );
        assert_eq!(
            addresses("Тверская ул., д.7, корп. 2 и всё"),
            ["Тверская ул., д.7, корп. 2"]
        );
        assert_eq!(
            addresses("Московская обл., г. Химки, мкр. Сходня, д. 3"),
            ["Московская обл., г. Химки, мкр. Сходня, д. 3"]
        );
    }

    #[test]
    fn english_and_international_addresses() {
        assert_eq!(
            addresses("Ship it to 350 Fifth Avenue, New York, NY 10118 please."),
            ["350 Fifth Avenue, New York, NY 10118"]
        );
        assert_eq!(
            addresses("I moved to 12 Baker St, Apt 4, London NW1 6XE. Thanks"),
            ["12 Baker St, Apt 4, London NW1 6XE"]
        );
        assert_eq!(
            addresses("office is at 87 Rue Joseph Vernet, Bar-le-Duc today"),
            ["87 Rue Joseph Vernet, Bar-le-Duc"]
        );
        assert_eq!(
            addresses("Pedestrians must enter on Hedemannstrasse 15 now"),
            ["Hedemannstrasse 15"]
        );
        assert_eq!(addresses("send to PO Box 4371 instead"), ["PO Box 4371"]);
        // Polish `ul.` is written in lower case; German `-str.` shortens `-straße`.
        assert_eq!(
            addresses("machine operator 34 ul. Zuchów 65 Apt. 2"),
            ["34 ul. Zuchów 65 Apt. 2"]
        );
        assert_eq!(
            addresses("office is at Michaelkirchstr. 15 now"),
            ["Michaelkirchstr. 15"]
        );
        assert_eq!(
            addresses("Please return to Eloise and 226 Thomas Avenue in case of an issue"),
            ["Eloise and 226 Thomas Avenue"]
        );
        // `Avenue` can open a street's name too (`Avenue Foch`); here it closes one.
        assert_eq!(
            addresses("I live at 226 Thomas Avenue now"),
            ["226 Thomas Avenue"]
        );
        assert_eq!(
            addresses("Meet me at Spencer and Søndre Havnevej 65 at noon"),
            ["Spencer and Søndre Havnevej 65"]
        );
        assert_eq!(
            addresses("Please return to Neville and Democracia 4183 in case of an issue."),
            ["Neville and Democracia 4183"]
        );
        assert_eq!(
            addresses("here: 69 Roheline 43 Apt. 305\nLepassaare"),
            ["69 Roheline 43 Apt. 305\nLepassaare"]
        );
        assert_eq!(
            addresses("PSC 4296, Box 4371\nAPO AA 03140"),
            ["PSC 4296, Box 4371\nAPO AA 03140"]
        );
    }

    #[test]
    fn places_and_numbers_alone_stay() {
        for text in [
            "Я живу в г. Москва и работаю там",
            "Встреча в 2020 г. прошла в доме 5 минут",
            "We met in London on 12 May",
            "Call me at 5 if the road is clear",
            "The Way Forward, 3rd edition",
            "Заказ № 12345 от 05.10.2026, сумма 1500 руб.",
            "И т. д. 5 раз подряд",
            "митинг на Тверской площади и на Кронштадтском бульваре",
            "as The Wall Street Journal reported",
            "Talk to Anna and Maria 2 times a week",
            "I switched to Windows and Office 365 last year",
        ] {
            assert!(addresses(text).is_empty(), "{text}: {:?}", addresses(text));
        }
    }

    #[test]
    fn bounded_on_text_made_to_be_slow() {
        let text = "ул. Ленина 5, ".repeat(20_000);
        let found = find(&text);
        assert!(!found.is_empty());
        let text = "Aa Bb ".repeat(50_000) + "Street";
        assert!(find(&text).len() <= 1);
    }
}
