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
    !word.is_ascii() && word.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c))
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
pub(super) fn alphanumeric(c: char) -> bool {
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
    let needs = word.chars().any(|c| {
        c.is_ascii_uppercase()
            || ('\u{0410}'..='\u{042F}').contains(&c)
            || matches!(c, 'Ё' | 'ё')
            || (!c.is_ascii() && !russian(c) && c.is_uppercase())
    });
    if !needs {
        return Cow::Borrowed(word);
    }
    let mut out = String::with_capacity(word.len());
    for c in word.chars() {
        match c {
            'A'..='Z' => out.push(c.to_ascii_lowercase()),
            // А–Я are а–я 32 code points on; the shift keeps every result a valid char.
            'А'..='Я' => out.push(char::from_u32(c as u32 + 32).unwrap_or(c)),
            'Ё' | 'ё' => out.push('е'),
            c if c.is_ascii() || russian(c) => out.push(c),
            c => out.extend(c.to_lowercase()),
        }
    }
    Cow::Owned(out)
}

/// Word lists joined into one map, word → the bits of the lists that hold it, so that a word
/// is looked up once however many lists ask about it.
pub(super) fn word_lists<B>(lists: &[(&[&'static str], B)]) -> HashMap<&'static str, B>
where
    B: Copy + Default + std::ops::BitOrAssign,
{
    let mut map: HashMap<&'static str, B> = HashMap::default();
    for (list, bit) in lists {
        for word in *list {
            *map.entry(word).or_default() |= *bit;
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
        let map = word_lists(&[(&["ул", "st"], 1), (&["st"], 2)]);
        assert_eq!(map.get("st"), Some(&3));
        assert_eq!(map.get("ул"), Some(&1));
    }
}
