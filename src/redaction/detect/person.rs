//! Person names in free text, Russian and English, with no help from the ticket: full names
//! and ФИО in any case form (Иванов Иван Иванович, Ивану Ивановичу), initials either side
//! (`И. И. Иванов`, `Иванов И.И.`, `J. Smith`), a given name with a patronymic (`Мария
//! Сергеевна`), names after greetings, titles and sign-offs (`Здравствуйте, Ольга!`,
//! `Mr. Brown`, `Regards, Tom`), and a lone surname where a word says it is one (`фамилия:
//! Кузнецова`, `клиент Петров`).
//!
//! Evidence, strongest first: an initial next to a capitalised word; a patronymic; a given
//! name the lexicon knows (names that are more often ordinary words — Вера, Will — need a
//! second piece); a surname the lexicon knows; a word shaped like a surname (-ов, -ская,
//! -enko) or any capitalised word right after a title, greeting or role word. Work is linear
//! in the text: each word is looked at once, and only capitalised ones are looked up.

use std::borrow::Cow;
use std::cell::Cell;
use std::sync::OnceLock;

use foldhash::HashSet;

use super::address;
use super::lexicon::{Known, Lexicon, MAX_NAME_BYTES};
use super::words::{
    WordLists, char_at, cyrillic, ends_with, is_cyrillic, letter, lower, lower_into, strip_suffix,
    upper,
};

/// Words after which the next capitalised word names a person, lower case.
const TRIGGERS: &[&str] = &[
    // English titles, greetings, sign-offs and relations.
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "dr",
    "prof",
    "sir",
    "madam",
    "dear",
    "hi",
    "hello",
    "hey",
    "regards",
    "thanks",
    "thank",
    "cheers",
    "sincerely",
    "yours",
    "best",
    "name",
    "named",
    "called",
    "husband",
    "wife",
    "son",
    "daughter",
    "mother",
    "father",
    "brother",
    "sister",
    "colleague",
    "manager",
    "agent",
    "customer",
    "client",
    "mister",
    "signed",
    // Russian forms of address, greetings, sign-offs, roles and relations.
    "господин",
    "госпожа",
    "господина",
    "госпожи",
    "господину",
    "г-н",
    "г-жа",
    "г-на",
    "уважаемый",
    "уважаемая",
    "уважаемые",
    "здравствуйте",
    "здравствуй",
    "привет",
    "добрый",
    "уважением",
    "спасибо",
    "благодарю",
    "клиент",
    "клиента",
    "клиенту",
    "клиентка",
    "клиентки",
    "клиентке",
    "менеджер",
    "менеджера",
    "менеджеру",
    "оператор",
    "оператора",
    "оператору",
    "специалист",
    "специалиста",
    "сотрудник",
    "сотрудника",
    "сотрудница",
    "фамилия",
    "фамилию",
    "имя",
    "фио",
    "отчество",
    "муж",
    "мужа",
    "мужу",
    "жена",
    "жены",
    "жене",
    "сын",
    "сына",
    "сыну",
    "дочь",
    "дочери",
    "мама",
    "мамы",
    "маме",
    "папа",
    "папы",
    "брат",
    "брата",
    "сестра",
    "сестры",
    "коллега",
    "коллеги",
    "зовут",
    "подпись",
    "получатель",
    "получателя",
    "отправитель",
    "заявитель",
    "абонент",
    "абонента",
    "директор",
    "директора",
    "руководитель",
    "курьер",
    "курьера",
    "врач",
    "доктор",
];

/// Words after which capitalised words name a street or a place, not a person (`ул.
/// Ленина`, `проспект Мира`, `имени Пушкина`).
const PLACES: &[&str] = &[
    "ул",
    "улица",
    "улице",
    "улицу",
    "пр",
    "пр-т",
    "просп",
    "проспект",
    "проспекте",
    "пер",
    "переулок",
    "пл",
    "площадь",
    "площади",
    "б-р",
    "бульвар",
    "ш",
    "шоссе",
    "наб",
    "набережная",
    "им",
    "имени",
    "пос",
    "поселок",
    "село",
    "деревня",
    "станция",
    "метро",
    "ст",
    "street",
    "st",
    "avenue",
    "road",
    "square",
    "памятник",
];

/// Lower-case words between parts of a name (`Donald van der Voet`, `Leonardo da Vinci`).
const PARTICLES: &[&str] = &[
    "van", "von", "der", "den", "de", "del", "della", "da", "di", "du", "la", "le", "dos", "das",
    "bin", "ibn", "al", "ben", "ter", "ten", "op", "st",
];

/// Capitalised words that are never part of a name, whatever precedes them.
const NEVER: &[&str] = &[
    "number",
    // `P.O. Box`: the initials are the post office's.
    "box",
    "in",
    "on",
    "at",
    "for",
    "from",
    "with",
    "who",
    "what",
    "where",
    "when",
    "why",
    "how",
    "is",
    "are",
    "and",
    "or",
    "but",
    "if",
    "so",
    "as",
    "to",
    "of",
    "by",
    "we'll",
    "fax",
    "office",
    "home",
    "mobile",
    "cell",
    "tel",
    "phone",
    "email",
    "web",
    "services",
    "app",
    "princess",
    "prince",
    "royal",
    "king",
    "queen",
    "republic",
    "islands",
    "department",
    "i",
    "the",
    "a",
    "an",
    "this",
    "that",
    "it",
    "we",
    "you",
    "he",
    "she",
    "they",
    "my",
    "our",
    "your",
    "his",
    "her",
    "their",
    "ltd",
    "inc",
    "llc",
    "gmbh",
    "dr",
    "suite",
    "apt",
    "ооо",
    "оао",
    "зао",
    "пао",
    "ип",
    "ул",
    "улица",
    "г",
    "город",
    "дом",
    "кв",
    "россия",
    "москва",
    "москвы",
    "москве",
    "россии",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "я",
    "мы",
    "вы",
    "он",
    "она",
    "они",
    "это",
    "не",
    "но",
    "и",
    "а",
    "в",
    "на",
];

/// A word of the text.
#[derive(Clone, Debug)]
struct Word {
    start: usize,
    end: usize,
    /// Starts with an upper-case letter.
    capital: bool,
    /// Every letter is upper case (and there are two or more): an acronym.
    shouting: bool,
    /// One letter and nothing else: an initial when a dot follows.
    single: bool,
    /// The first word of a sentence.
    opens: bool,
    /// Followed directly by `.`.
    dot: bool,
    /// Only spaces (no line break, no punctuation but an initial's dot) lie between this word
    /// and the next.
    joined: bool,
    /// Followed by `,`, `!`, `:` or the end of its line: called or speaking (`Tom, …`).
    addressed: bool,
    /// The word lists it is in, looked up the first time a rule asks (see [`lists_of`]).
    lists: Cell<u32>,
    /// Has a Cyrillic letter (see [`cyrillic`]).
    cyrillic: bool,
}

/// The words of `text`: letters, with `-` and apostrophes inside them.
fn words(text: &str) -> Vec<Word> {
    // About one word in six bytes of prose: one allocation for most texts.
    let mut out: Vec<Word> = Vec::with_capacity(text.len() / 6 + 1);
    let bytes = text.as_bytes();
    // Past spaces and no-break spaces from `at`.
    let spaces_from = |mut at: usize| {
        loop {
            match bytes.get(at) {
                Some(b' ') => at += 1,
                Some(0xC2) if bytes.get(at + 1) == Some(&0xA0) => at += 2,
                _ => return at,
            }
        }
    };
    let mut sentence_open = true;
    let mut i = 0;
    loop {
        // Spaces, digits and the punctuation that ends no sentence are passed over a byte
        // at a time.
        if bytes.get(i).is_some_and(|b| PASSED_OVER[usize::from(*b)]) {
            i += 1;
            continue;
        }
        let Some((c, width)) = char_at(text, i) else {
            break;
        };
        if !letter(c) {
            if matches!(c, '.' | '!' | '?' | '\n') {
                // A dot right after a one-letter word is an initial's, not a sentence's end.
                let initial = c == '.' && out.last().is_some_and(|w| w.end == i && w.single);
                if !initial {
                    sentence_open = true;
                }
            }
            i += width;
            continue;
        }
        let start = i;
        let capital = upper(c);
        let mut end = i + width;
        let mut all_upper = capital;
        let mut cyrillic_letters = is_cyrillic(c);
        // `end` is past the word's last letter; `at` past what has been read (a `-` or an
        // apostrophe counts only with a letter after it).
        let mut at = end;
        loop {
            // Latin and Russian letters, most of a word, are told from their bytes: lower case
            // first, then capitals (ASCII, and Ѐ–Я: `D0 80`–`D0 AF`).
            match (bytes.get(at), bytes.get(at + 1)) {
                (Some(b'a'..=b'z'), _) => {
                    at += 1;
                    end = at;
                    all_upper = false;
                    continue;
                }
                // а–п (U+0430–U+043F) and р–џ (U+0440–U+045F).
                (Some(0xD0), Some(0xB0..=0xBF)) | (Some(0xD1), Some(0x80..=0x9F)) => {
                    at += 2;
                    end = at;
                    all_upper = false;
                    cyrillic_letters = true;
                    continue;
                }
                (Some(b'A'..=b'Z'), _) => {
                    at += 1;
                    end = at;
                    continue;
                }
                (Some(0xD0), Some(0x80..=0xAF)) => {
                    at += 2;
                    end = at;
                    cyrillic_letters = true;
                    continue;
                }
                // Most words end at a space or a punctuation mark.
                (Some(b), _) if b.is_ascii() && !matches!(b, b'-' | b'\'') => break,
                _ => {}
            }
            let Some((d, w)) = char_at(text, at) else {
                break;
            };
            if letter(d) {
                end = at + w;
                at = end;
                all_upper = all_upper && upper(d);
                cyrillic_letters = cyrillic_letters || is_cyrillic(d);
            } else if matches!(d, '-' | '\'' | '’')
                && char_at(text, at + w).is_some_and(|(e, _)| letter(e))
            {
                at += w;
            } else {
                break;
            }
        }
        i = at;
        let dot = bytes.get(end) == Some(&b'.');
        let after_dot = end + usize::from(dot);
        let spaced = spaces_from(end);
        let next = if dot { spaces_from(after_dot) } else { spaced };
        // Only an initial's dot joins it to the next word: after any other word a dot ends
        // the sentence.
        let single = end - start == width;
        let joined = (next > after_dot || dot)
            && char_at(text, next).is_some_and(|(n, _)| letter(n))
            && (!dot || single);
        let addressed = spaced == bytes.len()
            || matches!(bytes.get(end), Some(b',' | b'!' | b':' | b'\n' | b'?'));
        out.push(Word {
            start,
            end,
            capital,
            shouting: !single && all_upper,
            single,
            opens: sentence_open,
            dot,
            joined,
            addressed,
            lists: Cell::new(NOT_LOOKED_UP),
            cyrillic: cyrillic_letters,
        });
        sentence_open = false;
    }
    out
}

/// The ASCII bytes [`words`] passes over: no letter, and nothing that ends a sentence.
static PASSED_OVER: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 128 {
        let byte = b as u8;
        table[b] = !byte.is_ascii_alphabetic() && !matches!(byte, b'.' | b'!' | b'?' | b'\n');
        b += 1;
    }
    table
};

/// What a word is, as evidence of a name.
#[derive(Clone, Copy, Debug, Default)]
struct Evidence {
    initial: bool,
    known: Known,
    patronymic: bool,
    shaped: bool,
    /// Written in Latin letters.
    latin: bool,
    /// Shaped like a Russian adjective (Нижний, Российского): a place or an organisation.
    adjective: bool,
    /// A capitalised Cyrillic word the lexicon does not know at all, and no adjective: in
    /// mid-sentence most often a foreign name written in Russian (Гецлаф, Цзиньтао).
    unknown: bool,
}

impl Evidence {
    fn any(self) -> bool {
        self.initial || self.known.given || self.known.surname || self.patronymic || self.shaped
    }

    /// A place, an organisation or an adjective rather than a name: Израиль and Марс are
    /// given names too, but far more often the country and the planet.
    fn not_a_name(self) -> bool {
        // Владимир, Ярослав: a city and a given name; prepositions of place decide.
        // Израиль and Марс are more often the country and the planet (ambiguous as names).
        // An English place is never taken for a given name or a surname by itself (Kenya,
        // India, Chad, Spain are in the name lists too); see [`named_after_a_place`].
        (self.known.place
            && (self.latin || (!self.known.surname && (!self.known.given || self.known.ambiguous))))
            || (self.adjective && !self.known.given && !self.known.surname)
    }
}

/// A given name that is also a place, with a surname right after it: `Jordan Smith`,
/// `Chad Miller` are people though `Jordan` and `Chad` alone are countries.
fn named_after_a_place(words: &[Word], evidence: &[Evidence], i: usize) -> bool {
    let first = evidence[i];
    first.latin
        && first.known.given
        && words[i].joined
        && words.get(i + 1).is_some_and(|next| next.capital)
        && evidence
            .get(i + 1)
            .is_some_and(|e| (e.known.surname || e.known.given || e.shaped) && !e.not_a_name())
}

/// Russian patronymics in their case forms: Иванович, Ивановича, Ивановной, Ильинична.
fn patronymic(lower: &str) -> bool {
    const MALE: &[&str] = &["ович", "евич"];
    const FEMALE: &[&str] = &["овн", "евн", "ичн"];
    const MALE_ENDINGS: &[&str] = &["", "а", "у", "ем", "е"];
    const FEMALE_ENDINGS: &[&str] = &["а", "ы", "е", "у", "ой", "ою"];
    let stem_ok = |base: &str, suffix: &str| base.chars().count() >= suffix.chars().count() + 2;
    let with = |endings: &[&str], suffixes: &[&str]| {
        endings.iter().any(|e| {
            strip_suffix(lower, e).is_some_and(|base| {
                suffixes
                    .iter()
                    .any(|s| ends_with(base, s) && stem_ok(base, s))
            })
        })
    };
    with(MALE_ENDINGS, MALE) || with(FEMALE_ENDINGS, FEMALE)
}

/// Shaped like a surname: Russian -ов/-ев/-ин/-ский/-цкий in their case forms, Ukrainian
/// -енко, Georgian -швили/-дзе, Armenian -ян, and their Latin transliterations.
fn surname_shaped(lower: &str) -> bool {
    const RU: &[&str] = &[
        "ов",
        "ова",
        "ову",
        "овым",
        "ове",
        "овой",
        "ев",
        "ева",
        "еву",
        "евым",
        "еве",
        "евой",
        "ин",
        "ина",
        "ину",
        "иным",
        "ине",
        "иной",
        "ский",
        "ского",
        "скому",
        "ским",
        "ском",
        "ская",
        "ской",
        "скую",
        "цкий",
        "цкого",
        "цкому",
        "цким",
        "цкая",
        "цкой",
        "цкую",
        "енко",
        "швили",
        "дзе",
        "ян",
        "яна",
        "яну",
        "яном",
        "янц",
    ];
    const LATIN: &[&str] = &[
        "ov", "ova", "ev", "eva", "sky", "ski", "skiy", "skaya", "enko", "shvili", "dze", "yan",
        "ovich", "evich", "vich",
    ];
    let suffixes = if cyrillic(lower) { RU } else { LATIN };
    suffixes
        .iter()
        .any(|s| ends_with(lower, s) && lower.chars().count() >= s.chars().count() + 3)
}

/// Shaped like a Russian adjective in any form: Нижний, Российского, Красной.
fn adjective_shaped(lower: &str) -> bool {
    const ENDINGS: &[&str] = &[
        "ый", "ий", "ой", "ая", "яя", "ое", "ее", "ого", "его", "ому", "ему", "ым", "им", "ых",
        "их", "ую", "юю", "ые", "ие",
    ];
    // -ский/-ская are surnames and adjectives alike (Достоевская, Османской): only the
    // -ов/-ев/-ин family is kept apart as surnames.
    const SURNAME: &[&str] = &["овой", "евой", "иной", "ыной", "овым", "евым", "иным"];
    cyrillic(lower)
        && ENDINGS.iter().any(|e| ends_with(lower, e))
        && !SURNAME.iter().any(|e| ends_with(lower, e))
        && lower.chars().count() > 4
}

/// Words that make capitalised words around them an organisation (`Smith Ltd.`, `Boston
/// Consulting Group`, `Castle Biosciences`).
const COMPANY_AFTER: &[&str] = &[
    "corporation",
    "company",
    "systems",
    "technologies",
    "technology",
    "solutions",
    "labs",
    "media",
    "consulting",
    "center",
    "centre",
    "agency",
    "partners",
    "associates",
    "services",
    "movers",
    "biosciences",
    "industries",
    "international",
    "enterprises",
    "network",
    "software",
    "ltd",
    "inc",
    "llc",
    "corp",
    "co",
    "gmbh",
    "plc",
    "ag",
    "sa",
    "group",
    "bank",
    "holdings",
    "university",
    "foundation",
    "institute",
    "sons",
    "brothers",
    "club",
];

const IN_TRIGGERS: u16 = 1;
const IN_PLACES: u16 = 2;
const IN_NEVER: u16 = 4;
const IN_PARTICLES: u16 = 8;
const IN_COMPANY_AFTER: u16 = 16;
const IN_PLACE_BEFORE: u16 = 32;
const IN_CLOSERS: u16 = 64;
const IN_OPENERS: u16 = 128;
/// Units of a building and the Hungarian `u.` (utca) after a street's name: `70 Dora Creek
/// Apt. 604`, `26 Veres Pálné u. 91`.
const IN_UNITS: u16 = 256;

/// True when `lower` is in the word lists `bits` name: one look-up however many lists.
fn listed(lower: &str, bits: u16) -> bool {
    vocabulary().get(lower) & bits != 0
}

/// [`Word::lists`] before the word is looked up (no word is in every list).
const NOT_LOOKED_UP: u32 = u32::MAX;

/// The lists word `w` is in, lowered (the low 16 bits) and without its English clitic (the
/// high 16, see [`bare`]): rules ask about the same word several times, and it is lowered
/// and looked up once.
fn lists_of(text: &str, w: &Word) -> u32 {
    lists_of_lowered(text, w, None)
}

/// [`lists_of`] for a word already lowered (`lowered`), when it is.
fn lists_of_lowered(text: &str, w: &Word, lowered: Option<&str>) -> u32 {
    let known = w.lists.get();
    if known != NOT_LOOKED_UP {
        return known;
    }
    let word = &text[w.start..w.end];
    let vocabulary = vocabulary();
    let lists = match lowered {
        Some(lowered) => vocabulary.get_as(word, lowered),
        None => vocabulary.get(word),
    };
    // Only a word with an apostrophe has a clitic to strip (see [`bare`]).
    let bare_lists = if word.contains(['\'', '’']) {
        let lowered = lowered.map_or_else(|| lower(word), Cow::Borrowed);
        vocabulary.get(bare(&lowered))
    } else {
        lists
    };
    let both = u32::from(lists) | u32::from(bare_lists) << 16;
    w.lists.set(both);
    both
}

/// True when word `w`, lowered, is in the lists `bits` name.
fn word_listed(text: &str, w: &Word, bits: u16) -> bool {
    lists_of(text, w) & u32::from(bits) != 0
}

/// True when word `w`, lowered and without its clitic, is in the lists `bits` name.
fn bare_listed(text: &str, w: &Word, bits: u16) -> bool {
    in_bare(lists_of(text, w), bits)
}

/// True when the lists of a word without its clitic (the high half of `lists`, see
/// [`lists_of`]) include one of `bits`.
fn in_bare(lists: u32, bits: u16) -> bool {
    lists >> 16 & u32::from(bits) != 0
}

/// Every word the rules look up, and the lists it is in.
fn vocabulary() -> &'static WordLists<u16> {
    static VOCABULARY: OnceLock<WordLists<u16>> = OnceLock::new();
    VOCABULARY.get_or_init(|| {
        WordLists::new(&[
            (TRIGGERS, IN_TRIGGERS),
            (PLACES, IN_PLACES),
            (NEVER, IN_NEVER),
            (PARTICLES, IN_PARTICLES),
            (COMPANY_AFTER, IN_COMPANY_AFTER),
            (PLACE_BEFORE, IN_PLACE_BEFORE),
            (STREET_WORDS, IN_NEVER | IN_CLOSERS),
            (STREET_OR_PLACE_CLOSERS, IN_CLOSERS),
            (STREET_OR_PLACE_OPENERS, IN_OPENERS),
            (address::UNITS, IN_UNITS),
            // The Hungarian `u.` (utca) after a street's name.
            (&["u"], IN_UNITS),
        ])
    })
}

/// Whether the rules judge word `w` by what it is (see [`evidence`]): a capitalised word (any
/// word in text written all in lower case) of two letters or more, no acronym, no longer than
/// a name can be (looking a megabyte-long word up would cost its length squared).
fn judged(w: &Word, caseless: bool) -> bool {
    !w.shouting && (w.capital || caseless) && !w.single && w.end - w.start <= MAX_NAME_BYTES
}

/// The words of a text the rules judge, lowered once (see [`lower`]): several rules ask about
/// them, and look them up in several lists.
struct Lowered {
    text: String,
    /// Each word's byte range in `text`, empty when it was not lowered.
    at: Vec<(usize, usize)>,
}

impl Lowered {
    fn of(text: &str, words: &[Word], caseless: bool) -> Self {
        let mut lowered = Self {
            text: String::with_capacity(text.len() / 4),
            at: Vec::with_capacity(words.len()),
        };
        for w in words {
            let from = lowered.text.len();
            if judged(w, caseless) {
                lower_into(&text[w.start..w.end], &mut lowered.text);
            }
            lowered.at.push((from, lowered.text.len()));
        }
        lowered
    }

    /// Word `k` lowered, when it is judged.
    fn get(&self, k: usize) -> Option<&str> {
        let (from, to) = self.at[k];
        (to > from).then(|| &self.text[from..to])
    }

    /// Word `k` of `text` lowered.
    fn of_word<'a>(&'a self, text: &'a str, words: &[Word], k: usize) -> Cow<'a, str> {
        match self.get(k) {
            Some(l) => Cow::Borrowed(l),
            None => lower(&text[words[k].start..words[k].end]),
        }
    }
}

fn evidence(text: &str, w: &Word, lowered: Option<&str>, lex: &Lexicon) -> Evidence {
    // The words the rules judge were lowered (see [`judged`]); of the others only an initial
    // says something: a capital letter and its dot.
    let Some(lower) = lowered else {
        return Evidence {
            initial: w.single && w.dot && w.capital,
            ..Evidence::default()
        };
    };
    let bare = bare(lower);
    // A greeting or title is what names follow, never a name itself (`Hi`, `Dear`).
    if in_bare(
        lists_of_lowered(text, w, Some(lower)),
        IN_NEVER | IN_TRIGGERS,
    ) {
        return Evidence::default();
    }
    let known = lex.known(bare);
    if !w.capital {
        // Text written all in lower case: only an unmistakable given name counts.
        return Evidence {
            known: Known {
                given: known.given && !known.ambiguous && !known.place && bare.len() >= 4,
                ..Known::default()
            },
            latin: !w.cyrillic,
            ..Evidence::default()
        };
    }
    // An adjective-shaped word followed by a lower-case word is a place's or an
    // organisation's (Свердловской области, Османской империи).
    let next_lower = text[w.end..]
        .trim_start_matches([' ', '\u{a0}'])
        .starts_with(|c: char| c.is_lowercase());
    let shaped = surname_shaped(bare);
    let ski = [
        "ский",
        "ская",
        "ской",
        "скую",
        "ского",
        "скому",
        "цкий",
        "цкая",
        "цкой",
    ]
    .iter()
    .any(|e| ends_with(bare, e));
    Evidence {
        initial: false,
        known,
        patronymic: w.cyrillic && patronymic(bare),
        shaped: shaped && !(ski && next_lower),
        latin: !w.cyrillic,
        adjective: adjective_shaped(bare) && !(known.given || known.surname && !next_lower),
        unknown: w.cyrillic
            && known == Known::default()
            && !adjective_shaped(bare)
            && bare.chars().count() >= 3,
    }
}

/// Words before a lone capitalised word that make it a place more likely than a person
/// (`from Israel`, `in Georgia`).
const PLACE_BEFORE: &[&str] = &[
    "from",
    "in",
    "of",
    "to",
    "at",
    "near",
    "via",
    "visit",
    "visiting",
    "в",
    "во",
    "из",
    "под",
    "до",
    "город",
    "г",
];

/// Finds person names in `text`; returns their byte spans, in order.
pub fn find(text: &str) -> Vec<(usize, usize)> {
    // Chat text is often all lower case: then casing says nothing, and only unmistakable
    // given names are looked for.
    let caseless = !text.chars().any(upper);
    let lex = Lexicon::get();
    let words = words(text);
    let lowered = Lowered::of(text, &words, caseless);
    let evidence: Vec<Evidence> = words
        .iter()
        .enumerate()
        .map(|(k, w)| evidence(text, w, lowered.get(k), lex))
        .collect();
    let mut person = vec![false; words.len()];
    // Russian text names people in Cyrillic; its Latin words are mostly firms, brands and
    // titles (Philips, Sun Microsystems, New York Times).
    let cyrillic_words = words.iter().filter(|w| w.cyrillic).count();
    let russian_text = cyrillic_words * 2 > words.len();
    let mut i = 0;
    while i < words.len() {
        let first = evidence[i];
        let capital = words[i].capital && !words[i].shouting;
        // A name written in lower case is taken where a title or a phrase introduces it
        // (`mr. martin`, `call me philipp`) and the lexicon knows it. Most words are neither
        // capitalised nor names: the word before is compared first, without a look-up.
        let lower_named = !capital
            && !first.any()
            && i > 0
            && introduces_lower_case(&text[words[i - 1].start..words[i - 1].end])
            && introduced(text, &words, i)
            && lower_case_name(text, &words[i], lex);
        if !capital && !first.any() && !lower_named {
            i += 1;
            continue;
        }
        let triggered = lower_named || introduced(text, &words, i);
        let after_place_word = i > 0 && place(text, &words[i - 1]);
        if after_place_word
            || (first.not_a_name() && !named_after_a_place(&words, &evidence, i))
            || !(first.any()
                || lower_named
                // An unknown word opening a sentence is most often just that (`Передайте`).
                || (first.unknown && !words[i].opens)
                || (triggered && capital && !never(text, &words[i])))
        {
            i += 1;
            continue;
        }
        // A word right after an opening quote names a brand or an organisation
        // («Спартак», “Red Bull”).
        let quoted = text[..words[i].start].ends_with(['«', '"', '“', '„']);
        let mut chain = chain_from(text, &words, &evidence, i);
        if !capital {
            // In lower case the surname after a given name is known by the lexicon alone
            // (`natasha higuchi`, `larry lombardo`).
            let mut last = chain[chain.len() - 1];
            while words[last].joined
                && words
                    .get(last + 1)
                    .is_some_and(|next| !next.capital && lower_case_name(text, next, lex))
            {
                last += 1;
                chain.push(last);
            }
        }
        let placey = i > 0 && word_listed(text, &words[i - 1], IN_PLACE_BEFORE);
        let last = chain[chain.len() - 1];
        let company = chain
            .iter()
            .skip(1)
            .map(|k| &words[*k])
            .chain(words.get(last + 1).filter(|_| words[last].joined))
            .chain(partner_word(text, &words, last))
            .any(|w| word_listed(text, w, IN_COMPANY_AFTER));
        let latin_firm = || {
            russian_text
                && foreign_name_unlikely(&chain, &evidence, triggered)
                && !glossed(text, &words, &person, i)
        };
        if country_or_firm(text, &words, &chain, lex)
            || company
            || street_or_place(text, &words, &chain)
        {
            // Neither the whole (`Costa Rica`) nor its tail (`Rica`) is a person.
            i = chain[chain.len() - 1] + 1;
        } else if !quoted
            && !latin_firm()
            && judge(
                &chain,
                &words,
                &evidence,
                triggered,
                acts(text, &words, chain[chain.len() - 1]),
                placey,
            )
        {
            for marked in &mut person[chain[0]..=chain[chain.len() - 1]] {
                *marked = true;
            }
            i = chain[chain.len() - 1] + 1;
        } else {
            i += 1;
        }
    }
    lists(text, &words, &evidence, &mut person);
    propagate(text, &words, &lowered, &evidence, &mut person);
    spans(text, &words, &person)
}

/// The word after `& ` or `and ` right after word `last`: a firm's partners (`H. J. Wilson &
/// Company`, `Marlin Alter And Associates`, `Smith and Sons`).
fn partner_word<'w>(text: &str, words: &'w [Word], last: usize) -> Option<&'w Word> {
    let next = words.get(last + 1)?;
    let between = &text[words[last].end..next.start];
    if between == " & " {
        return Some(next);
    }
    let and = &text[next.start..next.end];
    (between == " " && and.eq_ignore_ascii_case("and") && next.joined)
        .then(|| words.get(last + 2))
        .flatten()
}

/// Whether a chain of Latin words inside Russian text is a firm, a brand or a title rather
/// than a person: unless a word introduces it, a person written in Latin there opens with a
/// given name or an initial and goes on with a name the lists know (`John Miller`, `J.
/// Smith`; not `Sun Microsystems`). The price: a foreign surname the lists lack is missed
/// there unless glossed or introduced (`Barack Obama` alone in Russian text).
fn foreign_name_unlikely(chain: &[usize], evidence: &[Evidence], triggered: bool) -> bool {
    let first = evidence[chain[0]];
    let named = |e: &Evidence| e.known.given || e.known.surname || e.shaped || e.initial;
    let opens_with_a_name =
        first.initial || (first.known.given && !first.known.ambiguous && !first.known.place);
    let person_like = opens_with_a_name && chain[1..].iter().any(|k| named(&evidence[*k]));
    first.latin && !triggered && !person_like
}

/// Words that open the name of a street or a place named after a person or a saint (`rue
/// Victor Hugo`, `Calle Manuel Iradier`, `San Sebastián`, `Porto Alegre`).
const STREET_OR_PLACE_OPENERS: &[&str] = &[
    "rue", "via", "viale", "calle", "c/", "rua", "avenida", "av", "piazza", "plaza", "paseo",
    "strada", "zona", "san", "santa", "santo", "são", "saint", "sainte", "porto", "villa", "vila",
    "den", "cite", "cité", "cours", "port",
];

/// English street words: never a name themselves, and after a name they make it a street's
/// (`Gordon Street`).
const STREET_WORDS: &[&str] = &[
    "street",
    "st",
    "avenue",
    "ave",
    "road",
    "rd",
    "lane",
    "ln",
    "drive",
    "boulevard",
    "blvd",
];

/// Words other than [`STREET_WORDS`] that follow the name of a street or a place named after
/// a person (`Marshall Islands`, `Dózsa György út`).
const STREET_OR_PLACE_CLOSERS: &[&str] = &[
    "square", "islands", "island", "county",
    // The same in the other languages of European addresses (`Dózsa György út`, `Nordahl
    // Rolfsens vei`).
    "utca", "út", "útja", "tér", "körút", "vei", "veien", "gate", "gata", "gatan", "vej", "vägen",
    "straße", "strasse", "weg", "allee", "laan",
];

/// Whether the chain of Latin words names a street or a place rather than a person: opened by
/// a street's or a saint's word, followed by a street's or an island's, or held between a house
/// number and another number the way international addresses write a street named after
/// someone (`92 Eusebio Dávila 57`).
fn street_or_place(text: &str, words: &[Word], chain: &[usize]) -> bool {
    let (first, last) = (&words[chain[0]], &words[chain[chain.len() - 1]]);
    if cyrillic(&text[first.start..last.end]) {
        return false;
    }
    let closed = last.joined
        && words
            .get(chain[chain.len() - 1] + 1)
            .is_some_and(|next| word_listed(text, next, IN_CLOSERS));
    // `C/ Manuel Iradier`: the opener's slash is part of it.
    let slash = usize::from(text[first.end..].starts_with('/'));
    let before = text[..first.start].trim_end_matches([' ', '\u{a0}']);
    let after = text[last.end..].trim_start_matches([' ', '\u{a0}']);
    listed(&lower(&text[first.start..first.end + slash]), IN_OPENERS)
        || closed
        || before
            .rsplit([' ', '\u{a0}'])
            .next()
            .is_some_and(|w| listed(&lower(w), IN_OPENERS))
        || (before.ends_with(|c: char| c.is_ascii_digit())
            && (after.starts_with(|c: char| c.is_ascii_digit())
                || (last.joined
                    && words.get(chain[chain.len() - 1] + 1).is_some_and(|unit| {
                        word_listed(text, unit, IN_UNITS) && (unit.dot || !unit.single)
                    }))))
}

/// Whether word `i` opens a bracket right after a person's name: the name as written in its
/// own alphabet (`Билл Герстенмайер (Bill Gerstenmaier)`).
fn glossed(text: &str, words: &[Word], person: &[bool], i: usize) -> bool {
    i > 0
        && person[i - 1]
        && text[words[i - 1].end..words[i].start].trim_matches([' ', '\u{a0}']) == "("
}

/// Well-known firms named after their founders, written as words (`&` and `.` left out): on
/// their own they read as a person's given name and surname.
const FIRMS_NAMED_AFTER_PEOPLE: &[&str] = &[
    "oliver wyman",
    "merrill lynch",
    "rand mcnally",
    "parsons brinckerhoff",
    "rowe price",
    "t rowe price",
    "dun bradstreet",
    "ernst young",
    "johnson johnson",
    "procter gamble",
    "goldman sachs",
    "morgan stanley",
    "lehman brothers",
    "booz allen",
    "booz allen hamilton",
    "marsh mclennan",
    "baker mckenzie",
    "wells fargo",
    "charles schwab",
    "edward jones",
    "harley davidson",
    "rolls royce",
    "louis vuitton",
    "calvin klein",
    "ralph lauren",
    "tommy hilfiger",
    "hugo boss",
    "estee lauder",
    "walt disney",
    "john deere",
    "dow jones",
    "sherwin williams",
    "smith wesson",
    "pratt whitney",
    "hewlett packard",
    "arthur andersen",
    "jones lang lasalle",
    "cushman wakefield",
    "bristol myers squibb",
    "eli lilly",
    "ben jerry's",
    "marks spencer",
    "john lewis",
    "jack daniel's",
];

/// A chain of Latin words that, alone or with the one or two words before it, names a
/// country (`Costa Rica`, `Saudi Arabia`, `cape verde`, `United Arab Emirates`) or a firm
/// named after people (`Merrill Lynch`, `T Rowe Price`).
fn country_or_firm(text: &str, words: &[Word], chain: &[usize], lex: &Lexicon) -> bool {
    let first = chain[0];
    let last = chain[chain.len() - 1];
    // The widest phrase once (up to two joined words before the chain); the narrower ones are
    // its tails.
    let mut from = first;
    while from > 0 && first - from < 2 && words[from - 1].joined {
        from -= 1;
    }
    if last == from {
        return false;
    }
    let mut phrase = String::with_capacity(words[last].end - words[from].start);
    let mut tails = Vec::with_capacity(first + 1 - from);
    for (k, w) in words[from..=last].iter().enumerate() {
        if k > 0 {
            phrase.push(' ');
        }
        if from + k <= first {
            tails.push(phrase.len());
        }
        phrase.push_str(&lower(&text[w.start..w.end]));
    }
    tails.iter().any(|&at| {
        let tail = &phrase[at..];
        // A single word is no phrase (`Chad`, `Jordan` are judged on their own).
        tail.contains(' ')
            && tail.is_ascii()
            && (lex.english_place(tail) || FIRMS_NAMED_AFTER_PEOPLE.contains(&tail))
    })
}

fn never(text: &str, w: &Word) -> bool {
    bare_listed(text, w, IN_NEVER)
}

/// A lower-case word without its English clitic: `john's` → `john`, `i'm` → `i`.
fn bare(lower: &str) -> &str {
    // Most words have no apostrophe: one pass over the bytes tells.
    if !lower.contains(['\'', '’']) {
        return lower;
    }
    ["'s", "'m", "'ll", "'ve", "'d", "'re", "’s", "’m"]
        .iter()
        .find_map(|e| lower.strip_suffix(e))
        .unwrap_or(lower)
}

/// The word indices of the chain of name-like words starting at `i`: capitalised words
/// joined by spaces (or an initial's dot), with particles between them.
fn chain_from(text: &str, words: &[Word], evidence: &[Evidence], i: usize) -> Vec<usize> {
    let mut chain = vec![i];
    let mut j = i;
    while words[j].joined && j + 1 < words.len() && chain.len() < 4 {
        let next = &words[j + 1];
        if !next.capital && word_listed(text, next, IN_PARTICLES) {
            // Particles count only when a capitalised word follows them.
            let mut k = j + 1;
            while k + 1 < words.len()
                && words[k].joined
                && !words[k + 1].capital
                && word_listed(text, &words[k + 1], IN_PARTICLES)
            {
                k += 1;
            }
            if words[k].joined && k + 1 < words.len() && words[k + 1].capital {
                chain.extend(j + 1..=k + 1);
                j = k + 1;
                continue;
            }
            break;
        }
        let e = evidence[j + 1];
        if next.shouting || (!next.capital && !e.known.given) {
            break;
        }
        if (!e.initial && never(text, next)) || e.not_a_name() {
            break;
        }
        chain.push(j + 1);
        j += 1;
    }
    chain
}

/// Whether a chain of words is a person's name.
/// Verbs a person does, in lower case: a given name followed by one is a subject (`James is
/// from …`, `Donald will call`), even at the start of a sentence.
const ACTS: &[&str] = &[
    "is",
    "was",
    "has",
    "had",
    "will",
    "would",
    "can",
    "could",
    "should",
    "said",
    "says",
    "lives",
    "lived",
    "works",
    "worked",
    "wants",
    "wanted",
    "needs",
    "needed",
    "called",
    "calls",
    "asked",
    "asks",
    "wrote",
    "writes",
    "sent",
    "sends",
    "told",
    "tells",
    "paid",
    "pays",
    "ordered",
    "bought",
    "moved",
    "went",
    "came",
    "isn't",
    "doesn't",
    "didn't",
    "won't",
    "wasn't",
    "hasn't",
    "spent",
    "shouted",
    "explained",
    "explains",
    "listed",
    "replied",
    "replies",
    "answered",
    "agreed",
    "added",
    "noted",
    "left",
    "arrived",
    "joined",
    "visited",
    "signed",
    "emailed",
    "phoned",
    "complained",
    "complains",
    "mentioned",
    "reported",
    "requested",
    "returned",
    "received",
    "stated",
    "confirmed",
    "points",
    "pointed",
    "gave",
    "got",
    "made",
    "took",
    "met",
    "lost",
    "forgot",
    "tried",
    "helped",
    "decided",
    "refused",
    "promised",
    "insisted",
];

/// A lone given name that acts: the joined word after `last` is one of [`ACTS`].
fn acts(text: &str, words: &[Word], last: usize) -> bool {
    let w = &words[last];
    w.joined
        && !w.dot
        && words.get(last + 1).is_some_and(|next| {
            let next = &text[next.start..next.end];
            ACTS.contains(&next) || russian_past_tense(next)
        })
}

/// A Russian verb in the past tense (заявил, сообщила, пришли): who did it is named before it.
fn russian_past_tense(word: &str) -> bool {
    const ENDINGS: &[&str] = &[
        "ил",
        "ила",
        "или",
        "ал",
        "ала",
        "али",
        "ел",
        "ела",
        "ели",
        "ял",
        "яла",
        "яли",
        "ыл",
        "ыла",
        "ыли",
        "ул",
        "ула",
        "ули",
        "ился",
        "илась",
        "ался",
        "алась",
    ];
    word.chars().next().is_some_and(char::is_lowercase)
        && word.chars().count() >= 4
        && ENDINGS.iter().any(|e| ends_with(word, e))
}

fn judge(
    chain: &[usize],
    words: &[Word],
    evidence: &[Evidence],
    triggered: bool,
    acts: bool,
    placey: bool,
) -> bool {
    let ev: Vec<Evidence> = chain.iter().map(|k| evidence[*k]).collect();
    let n = chain.len();
    let initials = ev.iter().filter(|e| e.initial).count();
    if initials == n {
        return false; // initials alone are not a name
    }
    let opens = words[chain[0]].opens;
    let latin = ev.iter().all(|e| e.latin);
    let solid_given = ev.iter().any(|e| e.known.given && !e.known.ambiguous);
    let any_given = ev.iter().any(|e| e.known.given);
    let patronymic = ev.iter().any(|e| e.patronymic);
    let known_surname = ev.iter().any(|e| e.known.surname && !e.known.ambiguous);
    let surnameish = ev.iter().any(|e| e.known.surname || e.shaped);
    if n == 1 {
        let e = ev[0];
        if triggered {
            return true;
        }
        // A lone word before a verb is its subject: a person when it is a given name
        // (`James is`), or a surname or an unknown Russian-written name in mid-sentence
        // (`… победил Лужков`, `… сказал Тифензее`), never a common word opening a sentence.
        if acts
            && ((e.known.given && !e.known.ambiguous)
                || (!opens && !placey && (e.unknown || (e.known.surname && !e.known.ambiguous))))
        {
            return true;
        }
        // `from Israel`, `in Georgia`; but `to Amanda`: a given name that is no place and no
        // ordinary word is a person after these words too.
        if placey && !e.patronymic && !(e.known.given && !e.known.ambiguous && !e.known.place) {
            return false;
        }
        // An English given name opening a sentence is often just a word there (`Ring 0044 …`,
        // `Will you …`): it counts when it is addressed or speaks (`Tom, …`, `Kalman: …`).
        let addressed = words[chain[0]].addressed;
        return (e.known.given && !opens)
            || (e.known.given && !e.known.ambiguous && (!latin || addressed))
            || e.patronymic
            // A lone surname: in Russian text a known one anywhere, one shaped like a
            // surname in mid-sentence; English surnames alone are too often ordinary words
            // (Brown, Young, King).
            || (!latin && e.known.surname && !e.known.ambiguous)
            || (!latin && e.shaped && !opens);
    }
    (initials > 0)
        || patronymic
        || solid_given
        || (any_given && (surnameish || !opens))
        || (known_surname && n >= 2)
        || triggered
        // Two or more capitalised Cyrillic words in mid-sentence, none a place or an
        // adjective: Джаред Лофнер, Кими Райкконена.
        || (!latin && !opens)
}

/// `Kovalev, Lee and Phillips`, `Малон, Марк и Кейли`: capitalised words listed with one
/// that is a person are people too.
fn lists(text: &str, words: &[Word], evidence: &[Evidence], person: &mut [bool]) {
    // Compared as bytes: this runs for every word, and nearly every gap is one space.
    let bytes = text.as_bytes();
    // The next item of a list after word `j`: past `, ` or `&`, or past `and`, `и`, `or`.
    let next_item = |j: usize| -> Option<usize> {
        let [this, next] = words.get(j..j + 2)? else {
            return None;
        };
        match &bytes[this.end..next.start] {
            [b','] | [b',', b' '] | [b' ', b'&', b' '] => Some(j + 1),
            [b' '] => {
                let after = words.get(j + 2)?;
                (matches!(
                    &bytes[next.start..next.end],
                    b"and" | b"or" | [0xD0, 0xB8] | [0xD0, 0xB8, 0xD0, 0xBB, 0xD0, 0xB8]
                ) && bytes[next.end..after.start] == *b" ")
                    .then_some(j + 2)
            }
            _ => None,
        }
    };
    let mut k = 0;
    while k < words.len() {
        // Most words stand alone: no list to judge.
        let Some(second) = next_item(k) else {
            k += 1;
            continue;
        };
        let mut group = vec![k, second];
        while let Some(next) = next_item(group[group.len() - 1]) {
            group.push(next);
        }
        let j = group[group.len() - 1];
        let items = group
            .iter()
            .filter(|g| {
                let w = &words[**g];
                w.capital && !w.shouting && !trigger(text, w) && !never(text, w)
            })
            .count();
        let persons = group.iter().filter(|g| person[**g]).count();
        let with_evidence = group.iter().filter(|g| evidence[**g].any()).count();
        let enough = if items == 2 {
            with_evidence == 2
        } else {
            persons >= 1 || with_evidence >= 2
        };
        if items == group.len() && firm_shaped(text, words, &group) {
            // `Davis, Reynolds and Williamson`: a firm, whatever its first word looked like.
            for g in &group {
                person[*g] = false;
            }
        } else if items == group.len() && items >= 2 && enough {
            for g in &group {
                if !evidence[*g].not_a_name() && !never(text, &words[*g]) {
                    person[*g] = true;
                }
            }
        }
        k = j + 1;
    }
}

/// Whether a list of capitalised words is a firm's name the way law, audit and consulting
/// firms are named, `A, B and C` after the article (`The Jones, Mitchell and Williams
/// office`): people are listed without it. (A single name after `the` is still a person's:
/// `The Peter Pham version`.)
fn firm_shaped(text: &str, words: &[Word], group: &[usize]) -> bool {
    let [first, second, third] = group else {
        return false;
    };
    let article = first.checked_sub(1).is_some_and(|a| {
        words[a].joined && text[words[a].start..words[a].end].eq_ignore_ascii_case("the")
    });
    article
        && *second == first + 1
        && text[words[*first].end..words[*second].start] == *", "
        && third - second == 2
        && text[words[second + 1].start..words[second + 1].end] == *"and"
}

/// Once a name is found, its words elsewhere in the text are the same person: `Джаред
/// Лофнер … Лофнеру`, `Ivan Petrov … Petrov`. Linear: names and their Russian stems are
/// looked up, a word at a time.
fn propagate(
    text: &str,
    words: &[Word],
    lowered: &Lowered,
    evidence: &[Evidence],
    person: &mut [bool],
) {
    let mut names: HashSet<String> = HashSet::default();
    let mut stems: HashSet<String> = HashSet::default();
    for k in 0..words.len() {
        if person[k] && !evidence[k].initial {
            let l = lowered.of_word(text, words, k);
            let l = bare(&l);
            if l.chars().count() >= 3 {
                if let Some(stem) = russian_stem(l) {
                    stems.insert(stem);
                }
                names.insert(l.to_owned());
            }
        }
    }
    if names.is_empty() {
        return;
    }
    // A word that is a name, or a case form of one, begins with the same four bytes (names have
    // three letters or more, stems four): most capitalised words begin otherwise and are passed
    // over without hashing.
    let mut heads: Vec<u32> = names.iter().chain(&stems).map(|n| head(n)).collect();
    heads.sort_unstable();
    heads.dedup();
    for (k, w) in words.iter().enumerate() {
        // A one-letter word (`I`, an initial) is too short to be either.
        if person[k] || !w.capital || w.shouting || w.single || evidence[k].not_a_name() {
            continue;
        }
        let l = lowered.of_word(text, words, k);
        let l = bare(&l);
        person[k] =
            heads.binary_search(&head(l)).is_ok() && (names.contains(l) || inflected(l, &stems));
    }
}

/// The first four bytes of `word` (fewer, padded with zeros, when it is shorter).
fn head(word: &str) -> u32 {
    let mut bytes = [0u8; 4];
    for (to, from) in bytes.iter_mut().zip(word.bytes()) {
        *to = from;
    }
    u32::from_le_bytes(bytes)
}

/// The stem a Russian name keeps in its case forms: Лофнер → лофнер, Гиффордса → гиффордс.
fn russian_stem(name: &str) -> Option<String> {
    if !cyrillic(name) || name.chars().count() < 5 {
        return None;
    }
    let mut chars: Vec<char> = name.chars().collect();
    if matches!(
        chars.last(),
        Some('а' | 'у' | 'е' | 'ы' | 'я' | 'ю' | 'и' | 'о')
    ) {
        chars.pop();
    }
    Some(chars.into_iter().collect())
}

/// A case form of a name whose stem is in `stems`: the stem and at most three letters.
fn inflected(word: &str, stems: &HashSet<String>) -> bool {
    if stems.is_empty() || !cyrillic(word) {
        return false;
    }
    std::iter::once(word.len())
        .chain(word.char_indices().rev().map(|(i, _)| i))
        .take(4)
        .any(|end| stems.contains(&word[..end]))
}

/// Byte spans of the runs of person words, joined across spaces, particles and initials.
fn spans(text: &str, words: &[Word], person: &[bool]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut k = 0;
    while k < words.len() {
        if !person[k] {
            k += 1;
            continue;
        }
        // A title before a name is part of the mention (`Dr. Brenda Eldarkhanov`).
        let start = match k.checked_sub(1).map(|t| &words[t]) {
            Some(t)
                if matches!(
                    lower(&text[t.start..t.end]).as_ref(),
                    "mr" | "mrs" | "ms" | "miss" | "mx" | "dr" | "prof"
                ) && text[t.end..words[k].start]
                    .trim_start_matches('.')
                    .chars()
                    .all(|c| c == ' ' || c == '\u{a0}') =>
            {
                t.start
            }
            _ => words[k].start,
        };
        let mut last = k;
        while last + 1 < words.len() && person[last + 1] && words[last].joined {
            last += 1;
        }
        // Letters after a name belong to it: `Joshua Okamoto MD`, `Matthew Gavrilov II`.
        if words[last].joined
            && words.get(last + 1).is_some_and(|next| {
                matches!(
                    lower(&text[next.start..next.end]).as_ref(),
                    "md" | "dds" | "dvm" | "phd" | "jr" | "sr" | "ii" | "iii" | "iv" | "esq"
                ) && next.capital
            })
        {
            last += 1;
        }
        let w = &words[last];
        let end = if w.dot && w.single {
            w.end + 1 // an initial keeps its dot
        } else {
            w.end
        };
        out.push((start, end));
        k = last + 1;
    }
    out
}

fn place(text: &str, w: &Word) -> bool {
    word_listed(text, w, IN_PLACES)
}

/// A trigger word speaks of the word after it only within its sentence: `Здравствуйте,
/// Ольга`, `Mr. Brown`, but not `Здравствуйте! Передайте …`.
fn leads_to(text: &str, trigger: &Word, next: &Word) -> bool {
    let between = &text[trigger.end..next.start];
    let abbreviated =
        between.starts_with('.') && one_of(text, trigger, &["mr", "mrs", "ms", "dr", "prof", "mx"]);
    let between = if abbreviated { &between[1..] } else { between };
    !between.contains(['.', '!', '?'])
}

/// The words right before a name written in lower case that [`introduced`] can take: titles
/// and the ends of `my name is`, `call me`.
const INTRODUCE_LOWER_CASE: &[&str] = &[
    "mr", "mrs", "ms", "miss", "dr", "prof", "me", "is", "was", "name", "named", "called",
];

/// The longest word of [`INTRODUCE_LOWER_CASE`], in bytes: longer words are not compared.
const INTRODUCE_LOWER_CASE_BYTES: usize = 6;

/// Whether `word` is one of [`INTRODUCE_LOWER_CASE`], in any case. Told first by its length and
/// first letter: this is asked of the word before every lower-case word.
fn introduces_lower_case(word: &str) -> bool {
    let bytes = word.as_bytes();
    (2..=INTRODUCE_LOWER_CASE_BYTES).contains(&bytes.len())
        && INTRODUCE_FIRST_LETTERS.contains(&bytes[0].to_ascii_lowercase())
        && INTRODUCE_LOWER_CASE
            .iter()
            .any(|w| word.eq_ignore_ascii_case(w))
}

/// The first letters of [`INTRODUCE_LOWER_CASE`].
const INTRODUCE_FIRST_LETTERS: &[u8] = b"mdpinwc";

/// Whether the words before word `i` introduce a name: a trigger word in its sentence
/// (`Mr. Brown`, `Здравствуйте, Ольга`) or a phrase (`my name is …`, `call me …`).
fn introduced(text: &str, words: &[Word], i: usize) -> bool {
    if i == 0 {
        return false;
    }
    let before = &words[i - 1];
    if trigger(text, before) && leads_to(text, before, &words[i]) {
        return true;
    }
    i >= 2
        && words[i - 2].joined
        && before.joined
        && !before.dot
        && one_of(text, before, &["is", "was", "me"])
        && one_of(
            text,
            &words[i - 2],
            &["name", "names", "call", "calls", "called"],
        )
}

/// True when word `w` is one of the English words `lower_words`, in any case.
fn one_of(text: &str, w: &Word, lower_words: &[&str]) -> bool {
    let word = &text[w.start..w.end];
    lower_words.iter().any(|l| word.eq_ignore_ascii_case(l))
}

/// A lower-case word the lexicon knows as a given name or a surname, and no ordinary word.
fn lower_case_name(text: &str, w: &Word, lex: &Lexicon) -> bool {
    let word = &text[w.start..w.end];
    if word.len() > MAX_NAME_BYTES || word.chars().count() < 3 {
        return false;
    }
    let lower = lower(word);
    let bare = bare(&lower);
    let known = lex.known(bare);
    (known.given || known.surname)
        && !known.ambiguous
        && !known.place
        && !bare_listed(text, w, IN_NEVER | IN_TRIGGERS | IN_PARTICLES)
}

fn trigger(text: &str, w: &Word) -> bool {
    word_listed(text, w, IN_TRIGGERS)
}

#[cfg(test)]
mod tests {
    use super::find;

    fn names(text: &str) -> Vec<&str> {
        find(text).into_iter().map(|(s, e)| &text[s..e]).collect()
    }

    #[test]
    fn latin_words_in_russian_text_are_firms_unless_a_name_opens_them() {
        assert!(names("Корпорация Philips подала заявку на регистрацию, как сообщает газета New York Times.")
                .is_empty());
        assert_eq!(
            names("Сделка Oracle и Sun Microsystems одобрена Еврокомиссией."),
            Vec::<&str>::new()
        );
        assert_eq!(
            names("Вчера John Miller встретился с J. Smith в головном офисе."),
            ["John Miller", "J. Smith"]
        );
        assert_eq!(
            names("Как заявил Билл Герстенмайер (Bill Gerstenmaier), запуск перенесён."),
            ["Билл Герстенмайер", "Bill Gerstenmaier"]
        );
        // In English text a lone firm-like surname is judged as before.
        assert_eq!(
            names("Please ask Philips Anderson to call back."),
            ["Philips Anderson"]
        );
    }

    #[test]
    fn streets_and_places_named_after_people_are_not_people() {
        for text in [
            "Please change my address to 92 Eusebio Dávila 57, Madrid.",
            "The letter went to 20 rue Victor Hugo in Conflans.",
            "It arrived at 92 C/ Manuel Iradier 77 last week.",
            "I will be in San Sebastián for a business trip.",
            "She moved to Porto Alegre in May.",
            "The early shows on Gordon Street were the important ones.",
            "He flew in from the Marshall Islands yesterday.",
            "who's coming to texas with me next week?",
            "The office moved to Dózsa György út 78 in Eger.",
        ] {
            assert_eq!(names(text), Vec::<&str>::new(), "{text}");
        }
        assert_eq!(
            names("I just read what Victor Hugo wrote."),
            ["Victor Hugo"]
        );
        assert_eq!(
            names("Please call Peter Smith at 555 1234 tomorrow."),
            ["Peter Smith"]
        );
    }

    #[test]
    fn the_introducing_words_fit_their_bound() {
        let longest = super::INTRODUCE_LOWER_CASE.iter().map(|w| w.len()).max();
        assert_eq!(longest, Some(super::INTRODUCE_LOWER_CASE_BYTES));
        for word in super::INTRODUCE_LOWER_CASE {
            assert!(word.len() >= 2, "{word}");
            assert!(super::introduces_lower_case(word), "{word}");
            assert!(super::introduces_lower_case(&word.to_uppercase()), "{word}");
        }
        assert!(!super::introduces_lower_case("the") && !super::introduces_lower_case("м"));
    }

    #[test]
    fn russian_names_in_their_forms() {
        let cases: &[(&str, &[&str])] = &[
            (
                "Передайте Марии Сергеевне, что заказ готов.",
                &["Марии Сергеевне"],
            ),
            ("С уважением, Ольга Кузнецова", &["Ольга Кузнецова"]),
            ("Здравствуйте, Ольга!", &["Ольга"]),
            ("мой муж Иван Петров звонил вчера", &["Иван Петров"]),
            (
                "Иванов Иван Иванович и Ивану Ивановичу",
                &["Иванов Иван Иванович", "Ивану Ивановичу"],
            ),
            (
                "подписал И. И. Иванов, согласовал Иванов И.И.",
                &["И. И. Иванов", "Иванов И.И."],
            ),
            ("фамилия: Кузнецова", &["Кузнецова"]),
            ("клиент Петров недоволен", &["Петров"]),
            ("мэр Москвы Юрия Лужкова", &["Юрия Лужкова"]),
            ("Вера в лучшее. Встретил Веру вчера", &["Веру"]),
        ];
        for (text, expected) in cases {
            assert_eq!(names(text), *expected, "in {text:?}");
        }
    }

    #[test]
    fn english_names() {
        let cases: &[(&str, &[&str])] = &[
            ("my husband Ivan Petrov called", &["Ivan Petrov"]),
            ("Regards, Tom", &["Tom"]),
            ("Please ask Mr. Brown to call.", &["Mr. Brown"]),
            ("James is from Leeds.", &["James"]),
            (
                "Вместе с президентом приехали Дмитрий Медведев, Юрий Лужков и ряд директоров",
                &["Дмитрий Медведев", "Юрий Лужков"],
            ),
            ("В споре победил мэр города Лужков, узнавший", &["Лужков"]),
            ("Вчера Гецлаф заявил, что уходит", &["Гецлаф"]),
            ("Please return it to Amanda tomorrow", &["Amanda"]),
            ("Joshua Okamoto MD called back", &["Joshua Okamoto MD"]),
            (
                "Dr. Brenda Eldarkhanov will see you",
                &["Dr. Brenda Eldarkhanov"],
            ),
            ("signed J. Smith yesterday", &["J. Smith"]),
            (
                "under my partner's name Donald van der Voet",
                &["Donald van der Voet"],
            ),
            ("Don't go to town, Judy!", &["Judy"]),
            // Lists joined by `and`, `и`: the second of two surnames is one too.
            (
                "Our founders: Kovalev, Lee and Phillips. The idea",
                &["Kovalev", "Lee", "Phillips"],
            ),
            (
                "Sousa and Ball were precision engineers",
                &["Sousa", "Ball"],
            ),
            // Introduced by a phrase; names of other countries, diacritics included.
            ("My name is Kenjirou", &["Kenjirou"]),
            ("Her maiden name is McCathie", &["McCathie"]),
            ("Sometimes people call me Snežana", &["Snežana"]),
            ("Albert shouted at Katie", &["Albert", "Katie"]),
            ("written by Mark Söderberg and", &["Mark Söderberg"]),
            // Written in lower case: known names after a title or phrase, or in chat.
            ("mr. martin is a 50 year old man", &["mr. martin"]),
            ("sometimes people call me philipp", &["philipp"]),
            ("natasha higuchi, department of sales", &["natasha higuchi"]),
            (
                "i'm so jealous! said william to christina",
                &["william", "christina"],
            ),
            (
                "I spoke to Anna, Maria and Olga yesterday",
                &["Anna", "Maria", "Olga"],
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(names(text), *expected, "in {text:?}");
        }
    }

    #[test]
    fn ordinary_capitalised_words_stay() {
        for text in [
            "Москва, ул. Ленина",
            "The Order will ship in May.",
            "Надежда есть. Роман прочитан.",
            "ООО Ромашка, ИНН",
            "I will call you on Monday",
            "Kenya was super fun to visit!",
            // A firm named the way law and audit firms are, or by its partners.
            "The Jones, Mitchell and Williams office is at the corner",
            "Science technician at H. J. Wilson & Company since May",
            "We hired Marlin Alter And Associates to audit us",
            // Countries completed by the word before the name.
            "i'm glad to hear that el salvador is moving in that direction",
            "She flew in this morning from United Arab Emirates.",
            // Firms named after their founders, and places opened by `Port`.
            "She spent a year at Merrill Lynch as an assistant",
            "The fund is run by T. Rowe Price in Baltimore",
            "It was on this street in Port Edward that we met.",
            // A street between a house number and a flat or suite.
            "the billing address: 70 Dora Creek Apt. 604, Channon",
            "office is at 78 Victor Hugo u. 97. Sečovlje",
            "I'm glad to hear that Spain is moving in that direction",
            "from around the world to Texas to share, who's coming to Chad with me?",
            "The address of Boston Consulting Group is 12 Main St",
            "Please charge my credit card. Number is 5307962233613678",
            "Who's coming to Costa Rica with me?",
            "Здравствуйте! Передайте, пожалуйста, документы.",
            "Премьер-министр Израиля заявил, что в Израиле праздник",
            "Я живу во Владимире",
            "Кризис одолел моду. Сегодня президент заявил о мерах.",
            "Передайте, пожалуйста, документы.",
            // Names that are more often ordinary words, in text written in lower case.
            "i'm glad to hear that the song was awarded",
            "in case of an issue, can i withdraw cash early?",
        ] {
            assert_eq!(names(text), Vec::<&str>::new(), "in {text:?}");
        }
    }
}
