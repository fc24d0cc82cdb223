//! Case forms of personal names, so that a name the ticket gives is found however the text
//! declines it: Иванов → Иванова, Иванову, Ивановым, Иванове; Мария → Марии, Марию, Марией —
//! and the other ways people write the same name: the everyday short form (Маша for Мария) and
//! the Latin spellings (Maria, Mariya, Mariia for Мария).

/// Everyday short forms of Russian given names, in the nominative (their case forms come from
/// [`forms`]). Short forms that are also common words are left out: Света (света, "of light"),
/// Поля ("fields"), Слава ("glory"), Мила ("dear").
const DIMINUTIVES: &[(&str, &[&str])] = &[
    ("александр", &["саша", "шура", "саня"]),
    ("александра", &["саша", "шура"]),
    ("алексей", &["леша", "алеша", "леха"]),
    ("анастасия", &["настя"]),
    ("анатолий", &["толя"]),
    ("андрей", &["андрюша"]),
    ("анна", &["аня", "анечка"]),
    ("борис", &["боря"]),
    ("валентина", &["валя"]),
    ("валерий", &["валера"]),
    ("василий", &["вася"]),
    ("виктор", &["витя"]),
    ("виктория", &["вика"]),
    ("владимир", &["володя", "вова"]),
    ("галина", &["галя"]),
    ("григорий", &["гриша"]),
    ("дарья", &["даша"]),
    ("дмитрий", &["дима", "митя"]),
    ("евгений", &["женя"]),
    ("евгения", &["женя"]),
    ("екатерина", &["катя"]),
    ("елена", &["лена"]),
    ("елизавета", &["лиза"]),
    ("иван", &["ваня"]),
    ("ирина", &["ира"]),
    ("константин", &["костя"]),
    ("ксения", &["ксюша"]),
    ("людмила", &["люда"]),
    ("максим", &["макс"]),
    ("маргарита", &["рита"]),
    ("мария", &["маша", "машенька", "маруся"]),
    ("михаил", &["миша"]),
    ("надежда", &["надя"]),
    ("наталья", &["наташа"]),
    ("наталия", &["наташа"]),
    ("николай", &["коля"]),
    ("ольга", &["оля"]),
    ("павел", &["паша"]),
    ("петр", &["петя"]),
    ("сергей", &["сережа"]),
    ("софья", &["соня"]),
    ("софия", &["соня"]),
    ("станислав", &["стас"]),
    ("татьяна", &["таня"]),
    ("юлия", &["юля"]),
    ("юрий", &["юра"]),
];

/// Every lower-case spelling of one name word the text may use for it: its case forms, its
/// short forms and theirs, and its Latin spellings (`Мария` → `марии`, `маша`, `маше`,
/// `maria`, `mariya`, `mariia`).
pub fn spellings(word: &str) -> Vec<String> {
    let mut out = forms(word);
    let lower = word.to_lowercase().replace('ё', "е");
    if let Some((_, short)) = DIMINUTIVES.iter().find(|(full, _)| *full == lower) {
        for s in *short {
            out.extend(forms(s));
        }
    }
    out.extend(latin_spellings(&lower));
    out.sort();
    out.dedup();
    out
}

/// Latin spellings of a lower-case Cyrillic word: the passport (ICAO) transliteration, the
/// everyday one, and the everyday one with `-ия` written `-ia` (Мария → mariia, mariya,
/// maria). Empty for words with letters outside Russian's.
fn latin_spellings(lower: &str) -> Vec<String> {
    // Passport (ICAO 9303) and everyday spellings, which differ in й, ю, я, ъ.
    let letter = |c: char, everyday: bool| -> Option<&'static str> {
        Some(match c {
            'а' => "a",
            'б' => "b",
            'в' => "v",
            'г' => "g",
            'д' => "d",
            'е' | 'ё' | 'э' => "e",
            'ж' => "zh",
            'з' => "z",
            'и' => "i",
            'й' => {
                if everyday {
                    "y"
                } else {
                    "i"
                }
            }
            'к' => "k",
            'л' => "l",
            'м' => "m",
            'н' => "n",
            'о' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' => "u",
            'ф' => "f",
            'х' => "kh",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' => "shch",
            'ъ' => {
                if everyday {
                    ""
                } else {
                    "ie"
                }
            }
            'ы' => "y",
            'ь' => "",
            'ю' => {
                if everyday {
                    "yu"
                } else {
                    "iu"
                }
            }
            'я' => {
                if everyday {
                    "ya"
                } else {
                    "ia"
                }
            }
            _ => return None,
        })
    };
    let spell =
        |everyday: bool| -> Option<String> { lower.chars().map(|c| letter(c, everyday)).collect() };
    if !lower.chars().any(is_cyrillic) {
        return Vec::new();
    }
    let mut out: Vec<String> = [spell(false), spell(true)].into_iter().flatten().collect();
    if let Some(stem) = lower.strip_suffix("ия")
        && let Some(base) = stem
            .chars()
            .map(|c| letter(c, true))
            .collect::<Option<String>>()
    {
        out.push(format!("{base}ia"));
    }
    out
}

/// Lower-case forms of one name word (the word itself included). Latin-script words and
/// words the rules do not cover yield only themselves.
pub fn forms(word: &str) -> Vec<String> {
    let w = word.to_lowercase();
    let mut out = vec![w.clone()];
    if w.chars().count() < 3 || !w.chars().any(is_cyrillic) {
        return out;
    }
    let stem = |n: usize| w.chars().take(w.chars().count() - n).collect::<String>();
    let add = |out: &mut Vec<String>, base: &str, endings: &[&str]| {
        out.extend(endings.iter().map(|e| format!("{base}{e}")));
    };
    let ends = |s: &str| w.ends_with(s);
    if ends("ова") || ends("ева") || ends("ёва") || ends("ина") || ends("ына") {
        // Feminine surnames: Иванова → Ивановой, Иванову.
        add(&mut out, &stem(1), &["ой", "у"]);
    } else if ends("ов") || ends("ев") || ends("ёв") || ends("ин") || ends("ын") {
        // Masculine surnames: Иванов → Иванова, Иванову, Ивановым, Иванове; plural Ивановы, Ивановых.
        add(&mut out, &w, &["а", "у", "ым", "е", "ы", "ых", "ыми"]);
    } else if ends("ский") || ends("цкий") {
        add(&mut out, &stem(2), &["ого", "ому", "им", "ом"]);
    } else if ends("ская") || ends("цкая") {
        add(&mut out, &stem(2), &["ой", "ую"]);
    } else if ends("ия") {
        // Мария → Марии, Марию, Марией.
        add(&mut out, &stem(1), &["и", "ю", "ей", "е"]);
    } else if ends("а") || ends("я") {
        // Анна → Анны, Анне, Анну, Анной; Ольга → Ольги; Наталья → Натальи, Наталью, Натальей.
        let base = stem(1);
        let soft = ends("я");
        let after_hushing = base.ends_with(['г', 'к', 'х', 'ж', 'ш', 'щ', 'ч']);
        let genitive = if soft || after_hushing { "и" } else { "ы" };
        let accusative = if soft { "ю" } else { "у" };
        // Маша → Машей, Саша → Сашей: after ж ш щ ч ц the ending is written -ей.
        let instrumental = if soft || base.ends_with(['ж', 'ш', 'щ', 'ч', 'ц']) {
            "ей"
        } else {
            "ой"
        };
        add(&mut out, &base, &[genitive, "е", accusative, instrumental]);
    } else if ends("й") || ends("ь") {
        // Сергей → Сергея, Сергею, Сергеем, Сергее; Игорь → Игоря, Игорю, Игорем, Игоре.
        add(&mut out, &stem(1), &["я", "ю", "ем", "е"]);
    } else if w
        .chars()
        .last()
        .is_some_and(|c| is_cyrillic(c) && !"аеёиоуыэюя".contains(c))
    {
        // Иван → Ивана, Ивану, Иваном, Иване.
        add(&mut out, &w, &["а", "у", "ом", "е"]);
    }
    out.sort();
    out.dedup();
    out
}

fn is_cyrillic(c: char) -> bool {
    ('\u{0400}'..='\u{04FF}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::forms;

    #[test]
    fn russian_case_forms() {
        let has = |word: &str, form: &str| forms(word).contains(&form.to_owned());
        for form in ["иванов", "иванова", "иванову", "ивановым", "иванове"]
        {
            assert!(has("Иванов", form), "{form}");
        }
        for form in ["иванова", "ивановой", "иванову"] {
            assert!(has("Иванова", form), "{form}");
        }
        for form in ["мария", "марии", "марию", "марией"] {
            assert!(has("Мария", form), "{form}");
        }
        for form in ["анны", "анне", "анну", "анной"] {
            assert!(has("Анна", form), "{form}");
        }
        assert!(
            has("Ольга", "ольги")
                && has("Сергей", "сергея")
                && has("Игорь", "игорем")
                && has("Иван", "иваном")
        );
        assert!(has("Достоевский", "достоевского") && has("Вишневская", "вишневской"));
        assert_eq!(forms("Smith"), vec!["smith".to_owned()]);
    }

    #[test]
    fn short_forms_and_latin_spellings() {
        let all = super::spellings("Мария");
        for s in [
            "марии",
            "маша",
            "маше",
            "машу",
            "машей",
            "maria",
            "mariya",
            "mariia",
        ] {
            assert!(all.contains(&s.to_owned()), "{s} in {all:?}");
        }
        let all = super::spellings("Иванова");
        assert!(all.contains(&"ivanova".to_owned()) && all.contains(&"ивановой".to_owned()));
        let all = super::spellings("Юлия");
        assert!(all.contains(&"yuliya".to_owned()) && all.contains(&"iuliia".to_owned()));
        assert!(super::spellings("Сергей").contains(&"sergey".to_owned()));
        assert_eq!(super::spellings("Smith"), vec!["smith".to_owned()]);
    }
}
