//! Name knowledge shipped with the gateway (`assets/names/`, see its README for sources and
//! licences): Russian given names and surnames in all their case forms (OpenCorpora), US given
//! names and surnames (Census 1990), and those of 50 more countries written in Latin letters
//! (Faker). Compiled into the binary and read once, on first use.

use foldhash::{HashMap, HashSet};
use std::sync::OnceLock;

use super::words::cyrillic;

// The lists as `build.rs` packs them (comments dropped, each line front-coded).
const RU_NAMES: &str = include_str!(concat!(env!("OUT_DIR"), "/ru-names.packed"));
const RU_AMBIGUOUS: &str = include_str!(concat!(env!("OUT_DIR"), "/ru-ambiguous.packed"));
const EN_GIVEN: &str = include_str!(concat!(env!("OUT_DIR"), "/en-given.packed"));
const EN_SURNAMES: &str = include_str!(concat!(env!("OUT_DIR"), "/en-surnames.packed"));
const EN_ORDINARY: &str = include_str!(concat!(env!("OUT_DIR"), "/en-ordinary.packed"));
const WORLD_GIVEN: &str = include_str!(concat!(env!("OUT_DIR"), "/world-given.packed"));
const WORLD_SURNAMES: &str = include_str!(concat!(env!("OUT_DIR"), "/world-surnames.packed"));
const EN_PLACES: &str = include_str!(concat!(env!("OUT_DIR"), "/places-en.packed"));
/// The longest word looked up as a name, in bytes (40 Cyrillic letters): no name is longer,
/// and every cut of a longer word would be looked up.
pub const MAX_NAME_BYTES: usize = 80;

/// English given names that are more often ordinary words: found only with other evidence.
const EN_AMBIGUOUS: &[&str] = &[
    "april", "art", "august", "autumn", "bill", "bob", "buck", "bud", "carol", "chance", "chase",
    "cliff", "clay", "colt", "dale", "dawn", "dean", "destiny", "dick", "dollie", "don", "drew",
    "earl", "ernest", "faith", "frank", "gay", "gene", "glen", "grace", "grant", "guy", "hope",
    "iris", "ivy", "jack", "jean", "jewel", "joy", "june", "lane", "le", "lou", "love", "lucky",
    "major", "mark", "mary", "max", "may", "miles", "misty", "neil", "nick", "norm", "olive",
    "pat", "page", "pearl", "penny", "price", "ray", "reed", "rich", "rob", "robin", "rocky",
    "rose", "ruby", "rusty", "sandy", "sky", "son", "stone", "summer", "sunny", "sue", "tad",
    "ward", "wade", "will", "winter", "young", "an", "in", "so", "ok", "de", "van", "see", "do",
    "go", "ha", "la", "my", "no", "on", "to", "un",
];

/// The name knowledge, parsed.
pub struct Lexicon {
    /// Russian stem → (what it names, paradigm) for each lemma with that stem.
    ru: HashMap<&'static str, Vec<(Names, u16)>>,
    /// Endings of each paradigm.
    paradigms: Vec<Vec<&'static str>>,
    /// Every paradigm's endings together: where a word can be cut into a stem and one.
    endings: Endings,
    ru_ambiguous: HashSet<&'static str>,
    /// Every English (and world) word the lists hold, with the lists it is in (`EN_GIVEN`…):
    /// a word is looked up once. Places are countries and regions, some of several words
    /// (`costa rica`).
    en: HashMap<&'static str, u8>,
}

const EN_GIVEN_BIT: u8 = 1;
const EN_SURNAME_BIT: u8 = 2;
const EN_AMBIGUOUS_BIT: u8 = 4;
const EN_PLACE_BIT: u8 = 8;

/// What a Russian lemma names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Names {
    Given,
    Surname,
    Place,
}

/// What the lexicon knows of a word.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Known {
    /// A given name.
    pub given: bool,
    /// A surname.
    pub surname: bool,
    /// More often an ordinary word.
    pub ambiguous: bool,
    /// A place or an organisation (Москва, Рим, Газпром).
    pub place: bool,
}

/// The endings of the paradigms as a trie read from a word's last letter back.
struct Endings {
    nodes: Vec<EndingNode>,
}

#[derive(Default)]
struct EndingNode {
    /// The letter before, and the node it leads to.
    before: Vec<(char, usize)>,
    /// Some ending is read in full at this node.
    whole: bool,
}

impl Endings {
    fn of<'a>(endings: impl Iterator<Item = &'a str>) -> Self {
        let mut nodes = vec![EndingNode::default()];
        for ending in endings {
            let mut at = 0;
            for c in ending.chars().rev() {
                at = match nodes[at].before.iter().find(|(k, _)| *k == c) {
                    Some((_, next)) => *next,
                    None => {
                        nodes.push(EndingNode::default());
                        let next = nodes.len() - 1;
                        nodes[at].before.push((c, next));
                        next
                    }
                };
            }
            nodes[at].whole = true;
        }
        Self { nodes }
    }

    /// Hands `cut` every byte offset where `word` splits into a stem of one letter or more
    /// and an ending of some paradigm.
    fn cuts(&self, word: &str, mut cut: impl FnMut(usize)) {
        let mut at = 0;
        if self.nodes[0].whole && !word.is_empty() {
            cut(word.len());
        }
        for (i, c) in word.char_indices().rev() {
            if i == 0 {
                return;
            }
            match self.nodes[at].before.iter().find(|(k, _)| *k == c) {
                Some((_, next)) => at = *next,
                None => return,
            }
            if self.nodes[at].whole {
                cut(i);
            }
        }
    }
}

/// The lines of a list packed by `build.rs`: each entry opens with a control character whose
/// code is how many leading characters it shares with the entry before, then the rest of it.
/// Expanded once into text that lives as long as the lexicon (the whole process).
fn data_lines(packed: &str) -> impl Iterator<Item = &'static str> {
    let mut text = String::with_capacity(packed.len() * 2);
    let mut line = String::new();
    let mut entries = packed.match_indices(|c: char| c < ' ').peekable();
    while let Some((at, count)) = entries.next() {
        let end = entries.peek().map_or(packed.len(), |&(next, _)| next);
        let shared = count.bytes().next().map_or(0, usize::from);
        let keep = line
            .char_indices()
            .nth(shared)
            .map_or(line.len(), |(i, _)| i);
        line.truncate(keep);
        line.push_str(packed.get(at + 1..end).unwrap_or_default());
        text.push_str(&line);
        text.push('\n');
    }
    let text: &'static str = Box::leak(text.into_boxed_str());
    text.lines()
}

impl Lexicon {
    fn load() -> Self {
        let mut ru: HashMap<&'static str, Vec<(Names, u16)>> = HashMap::default();
        let mut paradigms: Vec<Vec<&'static str>> = Vec::new();
        for line in data_lines(RU_NAMES) {
            if let Some(rest) = line.strip_prefix('@') {
                let (_, endings) = rest.split_once(' ').unwrap_or((rest, ""));
                paradigms.push(endings.split(',').collect());
                continue;
            }
            let Some((stem, tag)) = line.split_once(' ') else {
                continue;
            };
            let names = match tag.as_bytes().first() {
                Some(b'g') => Names::Given,
                Some(b's') => Names::Surname,
                _ => Names::Place,
            };
            let Ok(paradigm) = tag[1..].parse::<u16>() else {
                continue;
            };
            ru.entry(stem).or_default().push((names, paradigm));
        }
        let endings = Endings::of(paradigms.iter().flatten().copied());
        let mut en: HashMap<&'static str, u8> = HashMap::default();
        let lists = data_lines(EN_GIVEN)
            .chain(data_lines(WORLD_GIVEN))
            .map(|w| (w, EN_GIVEN_BIT))
            .chain(
                data_lines(EN_SURNAMES)
                    .chain(data_lines(WORLD_SURNAMES))
                    .map(|w| (w, EN_SURNAME_BIT)),
            )
            .chain(
                EN_AMBIGUOUS
                    .iter()
                    .copied()
                    .chain(data_lines(EN_ORDINARY))
                    .map(|w| (w, EN_AMBIGUOUS_BIT)),
            )
            .chain(data_lines(EN_PLACES).map(|w| (w, EN_PLACE_BIT)));
        for (word, bit) in lists {
            *en.entry(word).or_default() |= bit;
        }
        Self {
            ru,
            paradigms,
            endings,
            ru_ambiguous: data_lines(RU_AMBIGUOUS).collect(),
            en,
        }
    }

    /// The lexicon, loaded on first use.
    pub fn get() -> &'static Self {
        static LEXICON: OnceLock<Lexicon> = OnceLock::new();
        LEXICON.get_or_init(Self::load)
    }

    /// True when `lower` (words in lower case, one space between) names a country or a
    /// region in English: `costa rica`, `saudi arabia`.
    pub fn english_place(&self, lower: &str) -> bool {
        self.en
            .get(lower)
            .is_some_and(|bits| bits & EN_PLACE_BIT != 0)
    }

    /// What is known of `lower` (a lower-case word, `ё` written `е`).
    pub fn known(&self, lower: &str) -> Known {
        // No name is longer; every cut of a longer word would be looked up.
        if lower.len() > MAX_NAME_BYTES {
            return Known::default();
        }
        if !cyrillic(lower) {
            let bits = self.en.get(lower).copied().unwrap_or(0);
            return Known {
                given: bits & EN_GIVEN_BIT != 0,
                surname: bits & EN_SURNAME_BIT != 0,
                ambiguous: bits & EN_AMBIGUOUS_BIT != 0,
                place: bits & EN_PLACE_BIT != 0,
            };
        }
        let mut known = Known {
            ambiguous: self.ru_ambiguous.contains(lower),
            ..Known::default()
        };
        self.forms(lower, |_, names, _| match names {
            Names::Given => known.given = true,
            Names::Surname => known.surname = true,
            Names::Place => known.place = true,
        });
        known
    }

    /// The dictionary lemmas a lower-case word can be a form of, as given names or surnames:
    /// `stem#paradigm`, the same for every case form (`марии` and `мария` give `мари#47`).
    /// A word the dictionary does not hold as a name is its own lemma.
    pub fn lemmas(&self, lower: &str) -> Vec<String> {
        let lower = lower.replace('ё', "е");
        let mut out = Vec::new();
        if lower.len() <= MAX_NAME_BYTES && cyrillic(&lower) {
            self.forms(&lower, |stem, names, paradigm| {
                if names != Names::Place {
                    out.push(format!("{stem}#{paradigm}"));
                }
            });
        }
        if out.is_empty() {
            out.push(lower);
        }
        out.sort();
        out.dedup();
        out
    }

    /// Hands `found` each dictionary lemma the Russian word `lower` can be a form of: its stem,
    /// what it names and its paradigm. A form is a stem and one of its paradigm's endings;
    /// only the cuts where some paradigm's ending begins are looked up (two or three a word
    /// rather than one a letter).
    fn forms(&self, lower: &str, mut found: impl FnMut(&str, Names, u16)) {
        self.endings.cuts(lower, |cut| {
            let (stem, ending) = lower.split_at(cut);
            for (names, paradigm) in self.ru.get(stem).into_iter().flatten() {
                let fits = self
                    .paradigms
                    .get(usize::from(*paradigm))
                    .is_some_and(|e| e.contains(&ending));
                if fits {
                    found(stem, *names, *paradigm);
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every data line of every list, in order, as the repository's files hold it.
    fn source_lines(text: &str) -> Vec<&str> {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    }

    #[test]
    fn packed_lists_expand_to_the_repositorys_lists() {
        let lists = [
            (RU_NAMES, "ru-names"),
            (RU_AMBIGUOUS, "ru-ambiguous"),
            (EN_GIVEN, "en-given"),
            (EN_SURNAMES, "en-surnames"),
            (EN_ORDINARY, "en-ordinary"),
            (WORLD_GIVEN, "world-given"),
            (WORLD_SURNAMES, "world-surnames"),
            (EN_PLACES, "places-en"),
        ];
        for (packed, name) in lists {
            let path = format!("{}/assets/names/{name}.txt", env!("CARGO_MANIFEST_DIR"));
            let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            let expected = source_lines(&source);
            assert!(expected.len() > 300, "a list of {} lines", expected.len());
            assert!(packed.len() < source.len(), "packing saves nothing");
            assert_eq!(data_lines(packed).collect::<Vec<_>>(), expected);
        }
    }

    #[test]
    fn a_line_shorter_than_the_one_before_expands_whole() {
        // "ab" after "abc" shares two characters and adds nothing; "x" shares none.
        let packed = "\u{0}abc\u{2}\u{0}x\u{1}yz";
        assert_eq!(
            data_lines(packed).collect::<Vec<_>>(),
            ["abc", "ab", "x", "xyz"]
        );
    }

    #[test]
    fn names_are_known_in_their_forms() {
        let lex = Lexicon::get();
        for given in [
            "мария",
            "марии",
            "марию",
            "ольга",
            "ольге",
            "иван",
            "ивану",
            "павла",
        ] {
            assert!(lex.known(given).given, "{given}");
        }
        for surname in [
            "иванов",
            "иванова",
            "ивановым",
            "лужкова",
            "кузнецовой",
            "обама",
        ] {
            assert!(lex.known(surname).surname, "{surname}");
        }
        assert!(lex.known("вера").ambiguous && lex.known("вера").given);
        assert!(!lex.known("стол").given && !lex.known("стол").surname);
        assert!(lex.known("john").given && lex.known("smith").surname);
        assert!(lex.known("will").ambiguous);
        assert!(lex.known("москвы").place && lex.known("риме").place);
        assert!(lex.known("argentina").place && lex.english_place("costa rica"));
    }

    #[test]
    fn every_case_form_of_a_name_shares_a_lemma() {
        let lex = Lexicon::get();
        let shared = |a: &str, b: &str| {
            let of_b = lex.lemmas(b);
            lex.lemmas(a).iter().any(|l| of_b.contains(l))
        };
        for (a, b) in [
            ("мария", "марии"),
            ("мария", "марией"),
            ("иванова", "ивановой"),
            ("иванов", "ивановым"),
            ("ольга", "ольге"),
        ] {
            assert!(shared(a, b), "{a} / {b}");
        }
        assert!(!shared("мария", "ольга"));
        assert!(!shared("иванова", "петрова"));
        assert_eq!(lex.lemmas("smith"), vec!["smith".to_owned()]);
        assert_eq!(lex.lemmas("зюзюкин"), vec!["зюзюкин".to_owned()]);
    }

    #[test]
    fn only_cuts_where_an_ending_begins_are_looked_up() {
        let endings = Endings::of(["", "а", "ами", "ой"].into_iter());
        let cuts = |word: &str| {
            let mut at = Vec::new();
            endings.cuts(word, |cut| at.push(cut));
            at.sort_unstable();
            at
        };
        // `петр|ами` and `петрами|`; `петрам|и` is no ending.
        assert_eq!(cuts("петрами"), vec![8, 14]);
        // A stem has a letter at least.
        assert_eq!(cuts("а"), vec![2]);
        assert_eq!(cuts("ой"), vec![4]);
        assert!(cuts("").is_empty());
        assert_eq!(cuts("стол"), vec![8]);
    }

    #[test]
    fn cutting_at_endings_knows_what_cutting_everywhere_knows() {
        let lex = Lexicon::get();
        let everywhere = |lower: &str| {
            let mut known = Known::default();
            for (cut, _) in lower.char_indices().skip(1).chain([(lower.len(), ' ')]) {
                let (stem, ending) = lower.split_at(cut);
                for (names, paradigm) in lex.ru.get(stem).into_iter().flatten() {
                    if lex.paradigms[usize::from(*paradigm)].contains(&ending) {
                        match names {
                            Names::Given => known.given = true,
                            Names::Surname => known.surname = true,
                            Names::Place => known.place = true,
                        }
                    }
                }
            }
            known.ambiguous = lex.ru_ambiguous.contains(lower);
            known
        };
        for word in [
            "мария",
            "марией",
            "ивановой",
            "иванов",
            "александровичем",
            "сергеевна",
            "москвы",
            "риме",
            "петрами",
            "стол",
            "зюзюкин",
            "ольге",
            "вера",
            "ёлкин",
            "кузнецовой",
            "а",
            "дом",
            "яковлевичу",
        ] {
            assert_eq!(lex.known(word), everywhere(word), "{word}");
        }
    }
}
