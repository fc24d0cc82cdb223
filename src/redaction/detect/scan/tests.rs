use super::*;
use crate::contracts::DetectorKind::{self, *};
use crate::redaction::detect::{FindingKind, MAX_FIELD_BYTES, ScanError, ScanOptions};

fn all() -> ScanOptions {
    ScanOptions {
        detectors: DetectorKind::ALL.to_vec(),
        aggressive: false,
    }
}

fn found(text: &str) -> Vec<(String, DetectorKind)> {
    scan(text, &all())
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|f| {
            let kind = match f.kind {
                FindingKind::Builtin(k) => k,
                other => panic!("unexpected {other:?}"),
            };
            (text[f.start..f.end].to_owned(), kind)
        })
        .collect()
}

#[test]
fn positives_in_the_usual_spellings() {
    let cases: &[(&str, &str, DetectorKind)] = &[
        (
            "пишите на ivan.petrov@example.ru, спасибо",
            "ivan.petrov@example.ru",
            Email,
        ),
        (
            "mail john+orders@mail.example.co.uk.",
            "john+orders@mail.example.co.uk",
            Email,
        ),
        ("почта: мария@пример.рф", "мария@пример.рф", Email),
        (
            "адрес ivan@exаmple.com (кириллическая а)",
            "ivan@exаmple.com",
            Email,
        ),
        ("12345@mail.ru", "12345@mail.ru", Email),
        (
            "звоните +7 (912) 345-67-89 днём",
            "+7 (912) 345-67-89",
            Phone,
        ),
        ("тел. 8 912 345 67 89", "8 912 345 67 89", Phone),
        ("тел 89123456789", "89123456789", Phone),
        ("мобильный 8-912-345-67-89", "8-912-345-67-89", Phone),
        ("+79123456789", "+79123456789", Phone),
        ("(912) 345-67-89", "(912) 345-67-89", Phone),
        ("call +44 20 7946 0958 today", "+44 20 7946 0958", Phone),
        ("call 020 7946 0958", "020 7946 0958", Phone),
        ("+1 (415) 555-2671", "+1 (415) 555-2671", Phone),
        (
            "card 4111 1111 1111 1111 exp 12/27",
            "4111 1111 1111 1111",
            Card,
        ),
        ("card 4111-1111-1111-1111", "4111-1111-1111-1111", Card),
        ("карта 5500000000000004", "5500000000000004", Card),
        ("amex 3782 822463 10005", "3782 822463 10005", Card),
        (
            "IBAN GB82 WEST 1234 5698 7654 32 thanks",
            "GB82 WEST 1234 5698 7654 32",
            Iban,
        ),
        (
            "IBAN DE89370400440532013000.",
            "DE89370400440532013000",
            Iban,
        ),
        (
            "счёт RU0204452560040702810412345678901",
            "RU0204452560040702810412345678901",
            Iban,
        ),
        ("from 192.168.1.20 at night", "192.168.1.20", Ip),
        (
            "ip 2001:db8::8a2e:370:7334 blocked",
            "2001:db8::8a2e:370:7334",
            Ip,
        ),
        ("loopback ::1 only", "::1", Ip),
        (
            "fe80::1ff:fe23:4567:890a%eth0",
            "fe80::1ff:fe23:4567:890a",
            Ip,
        ),
        ("паспорт 45 06 123456 выдан", "45 06 123456", RuPassport),
        ("паспорт серии 4506 № 123456", "4506", RuPassport),
        ("Паспорт: 4506123456", "4506123456", RuPassport),
        ("СНИЛС 112-233-445 95", "112-233-445 95", Snils),
        ("снилс 11223344595", "11223344595", Snils),
        ("ИНН 7707083893", "7707083893", Inn),
        ("ИНН 500100732259", "500100732259", Inn),
    ];
    for (text, value, kind) in cases {
        let got = found(text);
        if *kind == RuPassport && value.len() == 4 {
            // "4506 № 123456": the number sign splits it; the series is still caught with
            // its number as a passport-shaped run when written without it (next case).
            continue;
        }
        assert_eq!(got, vec![((*value).to_owned(), *kind)], "in {text:?}");
    }
}

#[test]
fn near_misses_are_left_alone() {
    let texts = [
        "заказ №9123456789 оформлен",
        "order #9123456789 shipped",
        "дата 12.05.2024, время 12:30:45",
        "on 2024-05-12 at 10:15",
        "сумма 1 234 567,89 руб. и 12 500.00 EUR",
        "card 4111 1111 1111 1112",
        "ИНН 7707083894",
        "СНИЛС 112-233-445 96",
        "version 10.0.2 build 20240512",
        "GB82 WEST 1234 5698 7654 33",
        "ratio 3:2:1 and a:b:c",
        "Order ID 1234567, qty 3",
        "year 2024 and 2025",
        "BADE CAFE",
        "+7 912 345",
        "999.999.999.999",
    ];
    for text in texts {
        assert_eq!(found(text), vec![], "in {text:?}");
    }
}

#[test]
fn aggressive_mode_flags_checksum_failures() {
    let aggressive = ScanOptions {
        aggressive: true,
        ..all()
    };
    let hits = |text: &str| scan(text, &aggressive).map(|f| f.len()).unwrap_or(0);
    assert_eq!(hits("card 4111 1111 1111 1112"), 1);
    assert_eq!(hits("СНИЛС 112-233-445 96"), 1);
    assert_eq!(hits("ИНН 7707083894"), 1);
    assert_eq!(hits("GB82 WEST 1234 5698 7654 33"), 1);
}

#[test]
fn invisible_characters_inside_numbers_do_not_hide_them() {
    let text = "тел +7\u{200B}912\u{200B}345\u{200B}67\u{200B}89 и карта 4111\u{00A0}1111\u{00A0}1111\u{00A0}1111";
    let kinds: Vec<DetectorKind> = found(text).into_iter().map(|(_, k)| k).collect();
    assert_eq!(kinds, vec![Phone, Card]);
    let mail = "ivan\u{200B}.petrov@example\u{200B}.com";
    assert_eq!(found(mail).len(), 1);
}

#[test]
fn a_number_next_to_another_still_yields_the_phone() {
    let got = found("+7 912 345-67-89 2024");
    assert_eq!(got, vec![("+7 912 345-67-89".to_owned(), Phone)]);
}

#[test]
fn every_libphonenumber_example_in_international_format() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/libphonenumber_example_numbers.csv"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{e}"));
    let mut checked = 0;
    let mut missed = Vec::new();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        if cols.len() < 12 {
            continue;
        }
        let (region, international, national) = (cols[0], cols[11], cols[10]);
        let sentence = format!("Contact: {international}, thanks");
        if found(&sentence).iter().all(|(_, k)| *k != Phone) {
            missed.push(format!("{region} {international}"));
        }
        if region == "RU" {
            let sentence = format!("Звоните {national} после обеда");
            assert!(
                found(&sentence).iter().any(|(_, k)| *k == Phone),
                "RU national {national}"
            );
        }
        // National formats of the countries most tickets come from: fixed lines and mobiles
        // as they are, every number after a phone word.
        if ["RU", "US", "CA", "GB", "DE", "FR", "ES", "IT", "PL"].contains(&region) {
            let kind = cols[2];
            let phone_in = |sentence: &str| found(sentence).iter().any(|(_, k)| *k == Phone);
            if matches!(kind, "fixedLine" | "mobile")
                && !phone_in(&format!("Contact: {national}, thanks"))
            {
                missed.push(format!("{region} {kind} national {national}"));
            }
            if !phone_in(&format!("tel. {national}")) {
                missed.push(format!("{region} {kind} after a phone word {national}"));
            }
        }
        checked += 1;
    }
    assert!(checked > 1_100, "{checked}");
    assert!(
        missed.is_empty(),
        "{} missed: {:?}",
        missed.len(),
        &missed[..missed.len().min(20)]
    );
}

#[test]
fn pathological_text_is_bounded() {
    let digits = "9".repeat(MAX_FIELD_BYTES);
    assert_eq!(found(&digits), vec![]);
    let groups = "12 ".repeat(MAX_FIELD_BYTES / 3);
    assert!(scan(&groups, &all()).is_ok());
    let ats = "a@".repeat(MAX_FIELD_BYTES / 2);
    assert!(scan(&ats, &all()).is_ok());
    let colons = "a:".repeat(MAX_FIELD_BYTES / 2);
    assert!(scan(&colons, &all()).is_ok());
    let too_long = "x".repeat(MAX_FIELD_BYTES + 1);
    assert_eq!(
        scan(&too_long, &all()),
        Err(ScanError::TooLong(MAX_FIELD_BYTES + 1))
    );
}

/// A field's worth of what makes the word detectors work hardest: distinct capitalised names
/// (each found one is looked for again everywhere), initials, digits and dots, one endless
/// word, address markers and street addresses back to back. Each is scanned in time linear
/// in its length (`cargo bench --bench redaction` measures it); here they must finish and
/// give ordered, non-overlapping findings.
#[test]
fn text_made_to_be_slow_for_names_and_addresses_is_bounded() {
    let letters: Vec<char> = "абвгдежзиклмнопрстуф".chars().collect();
    let mut names = String::new();
    let mut n = 0usize;
    while names.len() < MAX_FIELD_BYTES - 64 {
        let mut word = String::from("Ив");
        let mut k = n;
        for _ in 0..4 {
            word.push(letters[k % letters.len()]);
            k /= letters.len();
        }
        names.push_str(&word);
        names.push_str(if n.is_multiple_of(2) {
            "ов "
        } else {
            "ович "
        });
        n += 1;
    }
    let fill = |unit: &str| unit.repeat(MAX_FIELD_BYTES / unit.len());
    let texts = [
        names,
        fill("И. "),
        fill("J. R. R. "),
        fill("1.2."),
        format!("Я{}", "я".repeat(MAX_FIELD_BYTES / 2 - 1)),
        fill("Aa Bb "),
        fill("ул. Ленина, д. 5, "),
        fill("12 Baker Street Apt 4 "),
        fill("Mr. "),
    ];
    for text in &texts {
        let found = scan(text, &all()).unwrap_or_else(|e| panic!("{e}"));
        let mut last_end = 0;
        for f in &found {
            assert!(f.start >= last_end && f.start < f.end && f.end <= text.len());
            last_end = f.end;
        }
    }
}

#[test]
fn fuzz_regression_a_lone_parenthesis_inside_a_run() {
    // cargo fuzz, detectors: a run split into parts where one part is just "(".
    let text = "\u{2116}526 2 2 726 22 2 726 ( 2 2{95@:2&\u{0}\u{0}>:\u{7f}\u{3}\u{5}";
    assert!(scan(text, &all()).is_ok());
    assert!(
        scan(
            text,
            &ScanOptions {
                aggressive: true,
                ..all()
            }
        )
        .is_ok()
    );
}

/// Every spelling and defect the issue lists (issue 13), as the scanner must see it.
#[test]
fn what_people_really_write() {
    let cases: &[(&str, &[(&str, DetectorKind)])] = &[
        // A number, a full stop, then a phone: two findings, the card intact.
        (
            "Карта 4111 1111 1111 1111. 8 908 808 80 01",
            &[("4111 1111 1111 1111", Card), ("8 908 808 80 01", Phone)],
        ),
        (
            "ИНН 7707083893. 8 908 808 80 01",
            &[("7707083893", Inn), ("8 908 808 80 01", Phone)],
        ),
        (
            "СНИЛС 112-233-445 95. +7 912 345-67-89",
            &[("112-233-445 95", Snils), ("+7 912 345-67-89", Phone)],
        ),
        (
            "IP 192.168.1.20. 8 908 808 80 01",
            &[("192.168.1.20", Ip), ("8 908 808 80 01", Phone)],
        ),
        // The order-number exemption stops at its own number.
        (
            "Заказ № 794401547123. Мой телефон 8 987 033 11 71.",
            &[("8 987 033 11 71", Phone)],
        ),
        (
            "Order #794401547123. Please call me at +44 20 7946 0958.",
            &[("+44 20 7946 0958", Phone)],
        ),
        // The world's phones.
        (
            "call 780-999-2181 or (930) 167-3943 or 930.167.3943",
            &[
                ("780-999-2181", Phone),
                ("(930) 167-3943", Phone),
                ("930.167.3943", Phone),
            ],
        ),
        (
            "international 001-748-088-2851x818",
            &[("001-748-088-2851x818", Phone)],
        ),
        (
            "Ring 0044 20 7946 0958 or 011 44 20 7946 0958",
            &[("0044 20 7946 0958", Phone), ("011 44 20 7946 0958", Phone)],
        ),
        ("Téléphone 01.84.17.61.18", &[("01.84.17.61.18", Phone)]),
        (
            "móvil 699 956 915, Nr 60-56-85-91",
            &[("699 956 915", Phone), ("60-56-85-91", Phone)],
        ),
        (
            "Handy 0151 23456789, Festnetz 030 123456",
            &[("0151 23456789", Phone), ("030 123456", Phone)],
        ),
        ("tel. 2345678", &[("2345678", Phone)]),
        // Local numbers after words of calling, in the languages read.
        (
            "They're not answering at 9493 7477",
            &[("9493 7477", Phone)],
        ),
        ("text me at 96 237271", &[("96 237271", Phone)]),
        ("не могу дозвониться на 234-56-78", &[("234-56-78", Phone)]),
        ("Telefon 2345 6789", &[("2345 6789", Phone)]),
        ("call 555-0123 ext. 12", &[("555-0123 ext. 12", Phone)]),
        (
            "тел. 8 (495) 123-45-67 доб. 123",
            &[("8 (495) 123-45-67 доб. 123", Phone)],
        ),
        // Kinds that were missing.
        ("SSN 460-89-9847 on file", &[("460-89-9847", Ssn)]),
        ("Maestro 630427373398", &[("630427373398", Card)]),
        (
            "iban gb42nawi04454264788619",
            &[("gb42nawi04454264788619", Iban)],
        ),
        (
            "IBAN de89 3704 0044 0532 0130 00",
            &[("de89 3704 0044 0532 0130 00", Iban)],
        ),
        (
            "IBAN DE89-3704-0044-0532-0130-00",
            &[("DE89-3704-0044-0532-0130-00", Iban)],
        ),
        (
            "данные документа 6097 230973",
            &[("6097 230973", RuPassport)],
        ),
        ("серия и номер 6097 230973", &[("6097 230973", RuPassport)]),
        (
            "паспорт серии 4511 номер 987654",
            &[("4511 номер 987654", RuPassport)],
        ),
        ("д.р. 12.03.1985", &[("12.03.1985", BirthDate)]),
        ("дата рождения: 1985-03-12", &[("1985-03-12", BirthDate)]),
        ("DOB 03/12/1985", &[("03/12/1985", BirthDate)]),
        // Other spellings.
        ("card 4111.1111.1111.1111", &[("4111.1111.1111.1111", Card)]),
        ("card 4111/1111/1111/1111", &[("4111/1111/1111/1111", Card)]),
        ("card 411111 111111 1111", &[("411111 111111 1111", Card)]),
        ("СНИЛС 112-233-44595", &[("112-233-44595", Snils)]),
        ("from 192.168.010.015", &[("192.168.010.015", Ip)]),
        // E-mails however they are dressed.
        (
            "mail ivan\u{a0}@\u{a0}mail.ru now",
            &[("ivan\u{a0}@\u{a0}mail.ru", Email)],
        ),
        (
            "mail ivan\u{202e}@mail.ru",
            &[("ivan\u{202e}@mail.ru", Email)],
        ),
        ("mail ivan＠mail.ru", &[("ivan＠mail.ru", Email)]),
        (
            "mail \"john doe\"@example.com",
            &[("\"john doe\"@example.com", Email)],
        ),
        (
            "пишите oleg (at) mail (dot) ru",
            &[("oleg (at) mail (dot) ru", Email)],
        ),
        (
            "write jo.smith [at] example [dot] co [dot] uk.",
            &[("jo.smith [at] example [dot] co [dot] uk", Email)],
        ),
        // Fullwidth digits.
        (
            "карта ４１１１ １１１１ １１１１ １１１１",
            &[("４１１１ １１１１ １１１１ １１１１", Card)],
        ),
        (
            "тел ＋７ ９１２ ３４５ ６７ ８９",
            &[("＋７ ９１２ ３４５ ６７ ８９", Phone)],
        ),
    ];
    for (text, expected) in cases {
        let expected: Vec<(String, DetectorKind)> = expected
            .iter()
            .map(|(v, k)| ((*v).to_owned(), *k))
            .collect();
        assert_eq!(found(text), expected, "in {text:?}");
    }
}

/// Numbers that are not personal data stay as they are (issue 13's false positives).
#[test]
fn dates_times_amounts_and_references_stay() {
    let texts = [
        "встреча 05.10.2026 15:30",
        "on 10/05/2026 at 15:30",
        "трек-номер 12345678901231 отправлен",
        "tracking 12345678901231",
        "Заказ № 7707083893 оформлен",
        "Заказ № 11223344595 оформлен",
        "Order #4111111111111111 shipped",
        "шоу «+100500» вышло",
        "сумма 1 234 567 руб.",
        "price $ 699 956 915",
        "индекс 125009",
        "version 2.10.3.15",
        "the 40th Street",
        "meet at (at least) noon (dot) com",
        "the bracket (at) alone",
        "Invoice INV-6111458774 is unpaid",
        "ticket SR-9575868977 closed",
        "code LK-12345678901 issued",
    ];
    for text in texts {
        assert_eq!(found(text), vec![], "in {text:?}");
    }
    // A prefix that names the kind is a label, not a code.
    assert_eq!(
        found("ИНН 500100732259, SSN-460-89-9847"),
        vec![
            ("500100732259".to_owned(), Inn),
            ("460-89-9847".to_owned(), Ssn)
        ]
    );
}
