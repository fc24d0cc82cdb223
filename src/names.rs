//! Case forms of personal names, so that a name the ticket gives is found however the text
//! declines it: Иванов → Иванова, Иванову, Ивановым, Иванове; Мария → Марии, Марию, Марией.

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
        let instrumental = if soft { "ей" } else { "ой" };
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
}
