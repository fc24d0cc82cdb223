//! Cron schedules as people write them (5-field crontab or `@daily`), turned into the `cron`
//! crate's form (seconds first; weekdays 1 = Sunday … 7 = Saturday).

use std::str::FromStr;

const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// A parsed schedule, remembering what the contract said.
#[derive(Clone, Debug)]
pub struct CronSchedule {
    /// The expression as written.
    pub expression: String,
    /// The parsed schedule.
    pub schedule: cron::Schedule,
}

impl CronSchedule {
    /// Parses a 5-field crontab line (`min hour dom month dow`, weekday 0 or 7 = Sunday),
    /// a 6/7-field line with seconds (the `cron` crate's own dialect), or an `@` shorthand.
    pub fn parse(expression: &str) -> Result<Self, String> {
        let converted = to_crate_dialect(expression)?;
        let schedule = cron::Schedule::from_str(&converted).map_err(|e| {
            // The crate's message repeats the expression over several lines; keep the reason.
            let text = e.to_string();
            let reason = text
                .lines()
                .map(str::trim)
                .rfind(|l| !l.is_empty())
                .unwrap_or("")
                .to_owned();
            format!("`{expression}` is not a valid cron expression: {reason}")
        })?;
        Ok(Self {
            expression: expression.to_owned(),
            schedule,
        })
    }
}

/// Rewrites a crontab expression into the `cron` crate's dialect.
pub fn to_crate_dialect(expression: &str) -> Result<String, String> {
    let trimmed = expression.trim();
    if trimmed.starts_with('@') {
        return Ok(trimmed.to_owned());
    }
    let fields: Vec<&str> = trimmed.split_whitespace().collect();
    match fields.len() {
        5 => {
            let weekday = crontab_weekdays(fields[4])
                .map_err(|e| format!("`{expression}`: day of week: {e}"))?;
            Ok(format!(
                "0 {} {} {} {} {weekday}",
                fields[0], fields[1], fields[2], fields[3]
            ))
        }
        6 | 7 => Ok(trimmed.to_owned()),
        n => Err(format!(
            "`{expression}` has {n} fields; write 5 (min hour day month weekday)"
        )),
    }
}

/// Turns crontab weekday numbers (0–7, 0 and 7 = Sunday) into names, expanding ranges and
/// steps so that wrapping ranges such as `5-7` (Friday to Sunday) keep their meaning.
fn crontab_weekdays(field: &str) -> Result<String, String> {
    if field == "*" || field == "?" {
        return Ok(field.to_owned());
    }
    let mut out: Vec<String> = Vec::new();
    for item in field.split(',') {
        if item.chars().any(|c| c.is_ascii_alphabetic()) {
            out.push(item.to_ascii_uppercase());
            continue;
        }
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (
                r,
                s.parse::<u32>()
                    .map_err(|_| format!("bad step in `{item}`"))?,
            ),
            None => (item, 1),
        };
        if step == 0 {
            return Err(format!("zero step in `{item}`"));
        }
        let (lo, hi) = if range == "*" {
            (0, 6)
        } else if let Some((a, b)) = range.split_once('-') {
            (weekday_number(a)?, weekday_number(b)?)
        } else {
            let n = weekday_number(range)?;
            (n, if item.contains('/') { 7 } else { n })
        };
        if lo > hi {
            return Err(format!("range `{range}` runs backwards"));
        }
        out.extend(
            (lo..=hi)
                .step_by(step as usize)
                .map(|d| WEEKDAYS[(d % 7) as usize].to_owned()),
        );
    }
    out.dedup();
    Ok(out.join(","))
}

fn weekday_number(text: &str) -> Result<u32, String> {
    text.parse::<u32>()
        .ok()
        .filter(|n| *n <= 7)
        .ok_or_else(|| format!("`{text}` is not a weekday number (0–7)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crontab_weekdays_become_names() {
        assert_eq!(
            to_crate_dialect("0 6 * * 1").ok(),
            Some("0 0 6 * * MON".into())
        );
        assert_eq!(
            to_crate_dialect("30 9 * * 1-5").ok(),
            Some("0 30 9 * * MON,TUE,WED,THU,FRI".into())
        );
        assert_eq!(
            to_crate_dialect("0 0 * * 5-7").ok(),
            Some("0 0 0 * * FRI,SAT,SUN".into())
        );
        assert_eq!(
            to_crate_dialect("0 0 * * 0").ok(),
            Some("0 0 0 * * SUN".into())
        );
        assert_eq!(
            to_crate_dialect("0 0 * * */2").ok(),
            Some("0 0 0 * * SUN,TUE,THU,SAT".into())
        );
        assert_eq!(
            to_crate_dialect("0 0 * * mon").ok(),
            Some("0 0 0 * * MON".into())
        );
        assert_eq!(to_crate_dialect("@daily").ok(), Some("@daily".into()));
    }

    #[test]
    fn bad_expressions_are_refused() {
        for bad in [
            "",
            "* * *",
            "0 6 * * 8",
            "0 6 * * 5-2",
            "61 * * * *",
            "0 25 * * *",
            "0 6 * * */0",
        ] {
            assert!(CronSchedule::parse(bad).is_err(), "{bad} must be refused");
        }
    }
}
