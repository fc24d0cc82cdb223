//! What the word detectors (names, addresses) share: telling letters and capitals apart fast,
//! lower-casing only what needs it, and looking a word up in many word lists at once.

use std::borrow::Cow;

use foldhash::HashMap;

/// True for Cyrillic letters of Russian (`а`–`я`, `А`–`Я`, `ё`, `Ё`).
fn russian(c: char) -> bool {
    ('\u{0410}'..='\u{044F}').contains(&c) || c == 'ё' || c == 'Ё'
}

/// True when `word` has a Cyrillic letter: the Russian lists and rules apply to it, the Latin
/// ones (diacritics included: Söderberg, Wiśniewska) to every other word.
pub(super) fn cyrillic(word: &str) -> bool {
    !word.is_ascii() && word.chars().any(is_cyrillic)
}

/// A letter of the Cyrillic block (Russian, Ukrainian, Serbian, …).
pub(super) fn is_cyrillic(c: char) -> bool {
    ('\u{0400}'..='\u{04FF}').contains(&c)
}

/// Whether `word` ends with `suffix`. The last bytes are compared first: rules try dozens of
/// endings on a word, most end otherwise, and a whole comparison is a call.
pub(super) fn ends_with(word: &str, suffix: &str) -> bool {
    let (word, suffix) = (word.as_bytes(), suffix.as_bytes());
    suffix.is_empty()
        || (word.len() >= suffix.len() && word.last() == suffix.last() && word.ends_with(suffix))
}

/// `word` without `suffix` when it ends with it (see [`ends_with`]).
pub(super) fn strip_suffix<'a>(word: &'a str, suffix: &str) -> Option<&'a str> {
    ends_with(word, suffix).then(|| &word[..word.len() - suffix.len()])
}

/// The char at byte `at` of `text` and its width; `None` at the end. ASCII is read without
/// decoding.
pub(super) fn char_at(text: &str, at: usize) -> Option<(char, usize)> {
    let byte = *text.as_bytes().get(at)?;
    if byte.is_ascii() {
        return Some((char::from(byte), 1));
    }
    // Cyrillic (two bytes from D0–D3) is decoded by hand: it is most of Russian text.
    if (0xD0..=0xD3).contains(&byte)
        && let Some(&next) = text.as_bytes().get(at + 1)
        && next & 0xC0 == 0x80
    {
        let code = (u32::from(byte & 0x1F) << 6) | u32::from(next & 0x3F);
        return char::from_u32(code).map(|c| (c, 2));
    }
    let c = text.get(at..)?.chars().next()?;
    Some((c, c.len_utf8()))
}

/// A letter. Latin and Russian letters are told without the Unicode tables, which are slow.
pub(super) fn letter(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphabetic()
    } else {
        russian(c) || c.is_alphabetic()
    }
}

/// An upper-case letter, told without the Unicode tables for Latin and Russian.
pub(super) fn upper(c: char) -> bool {
    match c {
        'A'..='Z' | 'А'..='Я' | 'Ё' => true,
        c if c.is_ascii() || russian(c) => false,
        c => c.is_uppercase(),
    }
}

/// A letter or a digit, told as fast as [`letter`].
pub(crate) fn alphanumeric(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else {
        russian(c) || c.is_alphanumeric()
    }
}

/// `word` in lower case with `ё` written `е`; borrowed when it already is (most words).
/// Latin and Russian letters are lowered by hand: the Unicode tables are slow and these are
/// nearly every letter tickets hold.
pub(super) fn lower(word: &str) -> Cow<'_, str> {
    if !needs_lowering(word) {
        return Cow::Borrowed(word);
    }
    let mut out = String::with_capacity(word.len());
    lower_into(word, &mut out);
    Cow::Owned(out)
}

/// Appends `word` lowered as [`lower`] does to `out`.
pub(super) fn lower_into(word: &str, out: &mut String) {
    if needs_lowering(word) {
        each_lowered(word, |c| {
            out.push(c);
            true
        });
    } else {
        out.push_str(word);
    }
}

/// `word` lowered as [`lower`] does, as far as whole chars fit in `buffer` (without allocating),
/// and whether that is all of it.
pub(super) fn lower_prefix<'a>(word: &'a str, buffer: &'a mut [u8]) -> (&'a str, bool) {
    if !needs_lowering(word) {
        let cut = word.floor_char_boundary(buffer.len());
        return (&word[..cut], cut == word.len());
    }
    let mut len = 0;
    let whole = each_lowered(word, |c| {
        let width = c.len_utf8();
        if len + width > buffer.len() {
            return false;
        }
        c.encode_utf8(&mut buffer[len..]);
        len += width;
        true
    });
    // Whole chars were encoded: always UTF-8.
    (
        std::str::from_utf8(&buffer[..len]).unwrap_or_default(),
        whole,
    )
}

/// Lowers `word` as [`lower`] does into the start of `buffer`, in one pass over its bytes, when
/// it is written in ASCII and Russian letters (`А`–`я`, `Ё`, `ё`) and fits: each of these
/// lowers to as many bytes as it has, so the lowered word is `buffer[..word.len()]`. `None` for
/// any other word, which [`lower`] then handles.
pub(super) fn lower_latin_and_russian(word: &str, buffer: &mut [u8]) -> Option<()> {
    let bytes = word.as_bytes();
    let out = buffer.get_mut(..bytes.len())?;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b.is_ascii() {
            out[i] = b.to_ascii_lowercase();
            i += 1;
            continue;
        }
        let next = *bytes.get(i + 1)?;
        let (lead, trail) = match (b, next) {
            // А–П, Р–Я, а–п.
            (0xD0, 0x90..=0x9F) => (0xD0, next + 0x20),
            (0xD0, 0xA0..=0xAF) => (0xD1, next - 0x20),
            (0xD0, 0xB0..=0xBF) | (0xD1, 0x80..=0x8F) => (b, next),
            // Ё and ё are written е.
            (0xD0, 0x81) | (0xD1, 0x91) => (0xD0, 0xB5),
            _ => return None,
        };
        out[i] = lead;
        out[i + 1] = trail;
        i += 2;
    }
    Some(())
}

/// Calls `f` with `word` lowered as [`lower`] does, as bytes: on the stack for Latin and
/// Russian words that fit (see [`lower_latin_and_russian`]), so that most calls allocate
/// nothing.
pub(super) fn with_lowered<R>(word: &str, f: impl FnOnce(&[u8]) -> R) -> R {
    let mut buffer = [0u8; LOWERED_ON_STACK];
    if lower_latin_and_russian(word, &mut buffer).is_some() {
        return f(&buffer[..word.len()]);
    }
    f(lower(word).as_bytes())
}

/// Whether [`lower`] changes `word`, told from its bytes: A–Z, the Cyrillic capitals and `ё`
/// (two bytes from `D0`/`D1`), or an upper-case letter of another script (rare; judged by the
/// Unicode tables).
fn needs_lowering(word: &str) -> bool {
    let bytes = word.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            if b.is_ascii_uppercase() {
                return true;
            }
            i += 1;
            continue;
        }
        let next = bytes.get(i + 1).copied().unwrap_or(0);
        match b {
            // Ё is D0 81, А–Я are D0 90..AF, ё is D1 91.
            0xD0 if next == 0x81 || (0x90..=0xAF).contains(&next) => return true,
            0xD1 if next == 0x91 => return true,
            0xD0 | 0xD1 => i += 2,
            _ => {
                let Some(c) = word[i..].chars().next() else {
                    return false;
                };
                if c.is_uppercase() {
                    return true;
                }
                i += c.len_utf8();
            }
        }
    }
    false
}

/// Hands the chars of `word`, lowered as [`lower`] does, to `put` until it returns false;
/// true when it took them all.
fn each_lowered(word: &str, mut put: impl FnMut(char) -> bool) -> bool {
    word.chars().all(|c| match c {
        'A'..='Z' => put(c.to_ascii_lowercase()),
        // А–Я are а–я 32 code points on; the shift keeps every result a valid char.
        'А'..='Я' => put(char::from_u32(c as u32 + 32).unwrap_or(c)),
        'Ё' | 'ё' => put('е'),
        c if c.is_ascii() || russian(c) => put(c),
        c => c.to_lowercase().all(&mut put),
    })
}

/// Room for a word lowered for a look-up: more than any listed word holds.
const LOWERED_ON_STACK: usize = 128;

/// Word lists joined into one map, word → the bits of the lists that hold it, so that a word
/// is looked up once however many lists ask about it, in any case.
pub(super) struct WordLists<B> {
    /// Keyed by the words' bytes: a word lowered on the stack is looked up without checking
    /// again that its bytes are UTF-8.
    map: HashMap<&'static [u8], B>,
    /// The longest listed word, in bytes: longer words are not lowered.
    longest: usize,
}

impl<B: Copy + Default + std::ops::BitOrAssign> WordLists<B> {
    /// Joins `lists`, each with its bits; words must be in lower case with `ё` as `е`.
    pub(super) fn new(lists: &[(&[&'static str], B)]) -> Self {
        let mut map: HashMap<&'static [u8], B> = HashMap::default();
        let mut longest = 0;
        for (list, bit) in lists {
            for word in *list {
                *map.entry(word.as_bytes()).or_default() |= *bit;
                longest = longest.max(word.len());
            }
        }
        Self { map, longest }
    }

    /// Every listed word.
    #[cfg(test)]
    pub(super) fn words(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.map
            .keys()
            .map(|word| std::str::from_utf8(word).unwrap_or_default())
    }

    /// The bits of the lists holding `word`, in any case.
    pub(super) fn get(&self, word: &str) -> B {
        if word.len() > self.longest {
            return B::default();
        }
        // Lowered on the stack: a look-up allocates nothing (but for a word too long for it).
        let mut buffer = [0u8; LOWERED_ON_STACK];
        if lower_latin_and_russian(word, &mut buffer).is_some() {
            let lowered = &buffer[..word.len()];
            return self.map.get(lowered).copied().unwrap_or_default();
        }
        match lower_prefix(word, &mut buffer) {
            (lowered, true) => self.get_lowered(lowered),
            _ => self.get_lowered(&lower(word)),
        }
    }

    /// [`Self::get`] for `word` when it is already lowered, as `lowered`.
    pub(super) fn get_as(&self, word: &str, lowered: &str) -> B {
        if word.len() > self.longest {
            return B::default();
        }
        self.get_lowered(lowered)
    }

    /// The bits of the lists holding `lowered`, a word already in lower case (see [`lower`]).
    pub(super) fn get_lowered(&self, lowered: &str) -> B {
        self.map
            .get(lowered.as_bytes())
            .copied()
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_capitals_and_lists() {
        for c in ['a', 'Z', 'ж', 'Ё', 'é', 'ß', 'Ω'] {
            assert!(letter(c) && alphanumeric(c), "{c}");
        }
        for c in ['1', '.', ' ', '-', '４'] {
            assert!(!letter(c), "{c}");
        }
        assert!(alphanumeric('7') && alphanumeric('٣'));
        assert!(
            cyrillic("Ёлкин") && cyrillic("Kovalёv") && !cyrillic("Söderberg") && !cyrillic("Ann")
        );
        assert_eq!(lower("Ёлкин"), "елкин");
        assert_eq!(lower("ÉCOLE"), "école");
        assert_eq!(
            lower("АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ"),
            "абвгдежзийклмнопрстуфхцчшщъыьэюя"
        );
        assert_eq!(lower("ЁЖИК Δ İ"), "ежик δ i̇");
        assert!(matches!(lower("улица"), Cow::Borrowed(_)));
        let mixed = "aЖёӿԯΩé€𝄞";
        let mut at = 0;
        for c in mixed.chars() {
            assert_eq!(char_at(mixed, at), Some((c, c.len_utf8())));
            at += c.len_utf8();
        }
        assert_eq!(char_at(mixed, at), None);
        let lists = WordLists::new(&[(&["ул", "st", "straße"], 1u8), (&["st"], 2)]);
        assert_eq!(lists.get("st"), 3);
        assert_eq!(lists.get("ST"), 3);
        assert_eq!(lists.get("Ул"), 1);
        assert_eq!(lists.get("STRASSE"), 0);
        assert_eq!(lists.get("Straße"), 1);
        assert_eq!(lists.get("stop"), 0);
        assert_eq!(lists.get("streets-and-more-words-than-any-list-has"), 0);
        assert_eq!(lists.get_as("Ул", "ул"), 1);
        assert_eq!(
            lists.get_as("STRASSE-LONGER", "st"),
            0,
            "longer than any listed word"
        );
        // A word whose lower case does not fit on the stack is still lowered and looked up.
        let long = "Ж".repeat(100);
        let lists =
            WordLists::new(&[(&[Box::leak("ж".repeat(100).into_boxed_str()) as &str], 1u8)]);
        assert_eq!(lists.get(&long), 1);
        // The one-pass lowering of Latin and Russian words agrees with `lower`.
        for word in [
            "Иванов",
            "ЁЛКА-ёлка",
            "ПРСТУФХЦЧШЩЪЫЬЭЮЯ",
            "Smith's",
            "aбв",
            "",
        ] {
            let mut buffer = [0u8; LOWERED_ON_STACK];
            assert_eq!(
                lower_latin_and_russian(word, &mut buffer),
                Some(()),
                "{word}"
            );
            assert_eq!(&buffer[..word.len()], lower(word).as_bytes(), "{word}");
        }
        for word in ["Ђорђе", "École", "Ωmega"] {
            let mut buffer = [0u8; LOWERED_ON_STACK];
            assert_eq!(lower_latin_and_russian(word, &mut buffer), None, "{word}");
        }
        let mut out = String::from("x ");
        lower_into("ЁЛКА", &mut out);
        lower_into("ёлка", &mut out);
        assert_eq!(out, "x елкаелка");
    }

    #[test]
    fn endings_compare_whole() {
        assert!(ends_with("иванович", "ович") && ends_with("ович", "ович") && ends_with("ab", ""));
        assert!(!ends_with("вич", "ович") && !ends_with("иванова", "ович"));
        // Same last byte, different ending.
        assert!(!ends_with("иванов", "ев"));
        assert_eq!(strip_suffix("ивановна", "на"), Some("иванов"));
        assert_eq!(strip_suffix("ивановна", ""), Some("ивановна"));
        assert_eq!(strip_suffix("на", "ивановна"), None);
    }
}
