//! What the word detectors (names, addresses) share: telling letters and capitals apart fast,
//! lower-casing only what needs it, and looking a word up in many word lists at once.

use std::borrow::Cow;

use foldhash::HashMap;

/// True for Cyrillic letters of Russian (`а`–`я`, `А`–`Я`, `ё`, `Ё`).
fn russian(c: char) -> bool {
    ('\u{0410}'..='\u{044F}').contains(&c) || c == 'ё' || c == 'Ё'
}

/// A letter. Latin and Russian letters are told without the Unicode tables, which are slow.
pub(super) fn letter(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphabetic()
    } else {
        russian(c) || c.is_alphabetic()
    }
}

/// A letter or a digit, told as fast as [`letter`].
pub(super) fn alphanumeric(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else {
        russian(c) || c.is_alphanumeric()
    }
}

/// `word` in lower case with `ё` written `е`; borrowed when it already is (most words).
pub(super) fn lower(word: &str) -> Cow<'_, str> {
    let needs = word.chars().any(|c| {
        c.is_ascii_uppercase()
            || ('\u{0410}'..='\u{042F}').contains(&c)
            || matches!(c, 'Ё' | 'ё')
            || (!c.is_ascii() && !russian(c) && c.is_uppercase())
    });
    if needs {
        Cow::Owned(word.to_lowercase().replace('ё', "е"))
    } else {
        Cow::Borrowed(word)
    }
}

/// Word lists joined into one map, word → the bits of the lists that hold it, so that a word
/// is looked up once however many lists ask about it.
pub(super) fn word_lists(lists: &[(&[&'static str], u8)]) -> HashMap<&'static str, u8> {
    let mut map: HashMap<&'static str, u8> = HashMap::default();
    for (list, bit) in lists {
        for word in *list {
            *map.entry(word).or_default() |= bit;
        }
    }
    map
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
        assert_eq!(lower("Ёлкин"), "елкин");
        assert_eq!(lower("ÉCOLE"), "école");
        assert!(matches!(lower("улица"), Cow::Borrowed(_)));
        let map = word_lists(&[(&["ул", "st"], 1), (&["st"], 2)]);
        assert_eq!(map.get("st"), Some(&3));
        assert_eq!(map.get("ул"), Some(&1));
    }
}
