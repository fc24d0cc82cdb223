//! Durations as people write them in contracts: `90s`, `15m`, `4h`, `1h30m`, `2d`.

use std::time::Duration;

/// Parses a duration of one or more `<number><unit>` parts, units `d`, `h`, `m`, `s`, in that
/// order, each at most once. Zero is refused: no contract means "due immediately".
pub fn parse(text: &str) -> Result<Duration, String> {
    const UNITS: [(char, u64); 4] = [('d', 86_400), ('h', 3_600), ('m', 60), ('s', 1)];
    let bad = || format!("`{text}` is not a duration (write e.g. `30m`, `4h`, `1h30m`, `2d`)");
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total: u64 = 0;
    let mut next_unit = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return Err(bad());
        }
        let value: u64 = rest[..digits].parse().map_err(|_| bad())?;
        let unit = rest[digits..].chars().next().ok_or_else(bad)?;
        let pos = UNITS[next_unit..]
            .iter()
            .position(|(u, _)| *u == unit)
            .ok_or_else(bad)?;
        total += value * UNITS[next_unit + pos].1;
        next_unit += pos + 1;
        rest = &rest[digits + unit.len_utf8()..];
    }
    if total == 0 {
        return Err(format!("`{text}` is zero; a duration must be positive"));
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_people_write() {
        let cases = [
            ("90s", 90),
            ("15m", 900),
            ("4h", 14_400),
            ("1h30m", 5_400),
            ("2d", 172_800),
            ("1d2h3m4s", 93_784),
            (" 8h ", 28_800),
        ];
        for (text, secs) in cases {
            assert_eq!(parse(text), Ok(Duration::from_secs(secs)), "{text}");
        }
    }

    #[test]
    fn refuses_the_rest() {
        for text in [
            "",
            "4",
            "h",
            "4x",
            "4 h",
            "30m1h",
            "1h1h",
            "-4h",
            "0m",
            "1.5h",
            "9999999999h",
        ] {
            assert!(parse(text).is_err(), "{text} must be refused");
        }
    }
}
