//! Cron schedules as people write them (5-field crontab or `@daily`), turned into the `cron`
//! crate's form (seconds first; weekdays 1 = Sunday … 7 = Saturday).

use std::str::FromStr;

const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// A parsed schedule, remembering what the contract said.
#[derive(Clone, Debug)]
pub struct CronSchedule {
    /// The expression as written.
    pub expression: String,
    /// One schedule, or two when a crontab line restricts both the day of the month and the
    /// day of the week: crontab fires when *either* matches, the `cron` crate only when both do.
    schedules: Vec<cron::Schedule>,
}

impl CronSchedule {
    /// Parses a 5-field crontab line (`min hour dom month dow`, weekday 0 or 7 = Sunday),
    /// a 6/7-field line with seconds (the `cron` crate's own dialect), or an `@` shorthand.
    pub fn parse(expression: &str) -> Result<Self, String> {
        let schedules = to_crate_dialect(expression)?
            .iter()
            .map(|converted| {
                cron::Schedule::from_str(converted).map_err(|e| {
                    // The crate's message repeats the expression over several lines; keep the reason.
                    let text = e.to_string();
                    let reason = text
                        .lines()
                        .map(str::trim)
                        .rfind(|l| !l.is_empty())
                        .unwrap_or("")
                        .to_owned();
                    format!("`{expression}` is not a valid cron expression: {reason}")
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            expression: expression.to_owned(),
            schedules,
        })
    }

    /// The first fire time strictly after `after`.
    pub fn next_after<Z: chrono::TimeZone>(
        &self,
        after: &chrono::DateTime<Z>,
    ) -> Option<chrono::DateTime<Z>> {
        self.schedules
            .iter()
            .filter_map(|s| s.after(after).next())
            .min()
    }
}

/// Rewrites a crontab expression into the `cron` crate's dialect: one expression, or two
/// whose union is the crontab meaning when both day fields are restricted.
pub fn to_crate_dialect(expression: &str) -> Result<Vec<String>, String> {
    let trimmed = expression.trim();
    if trimmed.starts_with('@') {
        return Ok(vec![trimmed.to_owned()]);
    }
    let fields: Vec<&str> = trimmed.split_whitespace().collect();
    match fields.len() {
        5 => {
            let (minute, hour, dom, month) = (fields[0], fields[1], fields[2], fields[3]);
            let dow = crontab_weekdays(fields[4])
                .map_err(|e| format!("`{expression}`: day of week: {e}"))?;
            let any = |f: &str| f == "*" || f == "?";
            if any(dom) || any(&dow) {
                Ok(vec![format!("0 {minute} {hour} {dom} {month} {dow}")])
            } else {
                Ok(vec![
                    format!("0 {minute} {hour} {dom} {month} *"),
                    format!("0 {minute} {hour} * {month} {dow}"),
                ])
            }
        }
        6 | 7 => Ok(vec![trimmed.to_owned()]),
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
            // `friday` and `Fri` both mean FRI; ranges of names pass through.
            let names: Vec<String> = item
                .split('-')
                .map(|n| n.get(..3).unwrap_or(n).to_ascii_uppercase())
                .collect();
            out.push(names.join("-"));
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
    use chrono::{NaiveDateTime, TimeZone, Utc};

    fn converted(expr: &str) -> Vec<String> {
        to_crate_dialect(expr).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn crontab_weekdays_become_names() {
        assert_eq!(converted("0 6 * * 1"), ["0 0 6 * * MON"]);
        assert_eq!(
            converted("30 9 * * 1-5"),
            ["0 30 9 * * MON,TUE,WED,THU,FRI"]
        );
        assert_eq!(converted("0 0 * * 5-7"), ["0 0 0 * * FRI,SAT,SUN"]);
        assert_eq!(converted("0 0 * * 0"), ["0 0 0 * * SUN"]);
        assert_eq!(converted("0 0 * * */2"), ["0 0 0 * * SUN,TUE,THU,SAT"]);
        assert_eq!(converted("0 0 * * mon"), ["0 0 0 * * MON"]);
        assert_eq!(
            converted("0 0 1,15 * 1"),
            ["0 0 0 1,15 * *", "0 0 0 * * MON"]
        );
        assert_eq!(converted("@daily"), ["@daily"]);
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

    fn naive(text: &str) -> chrono::DateTime<Utc> {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
            .map(|t| Utc.from_utc_datetime(&t))
            .unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    /// Independent vectors (tests/data/README.md): standard 5-field crontab as robfig/cron and
    /// gorhill/cronexpr read it, and the `cron` crate's own 6/7-field dialect. Extensions we do
    /// not accept (`L`, `W`, a year field) are left out.
    #[test]
    fn independent_cron_vectors() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/cron_vectors.jsonl");
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut checked = 0;
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}"));
            let (source, kind, expr) = (
                v["source"].as_str().unwrap_or(""),
                v["kind"].as_str().unwrap_or(""),
                v["expr"].as_str().unwrap_or(""),
            );
            let five = expr.split_whitespace().count() == 5 || expr.starts_with('@');
            let ours = match source {
                "robfig/cron" => kind == "is_activation",
                "gorhill/cronexpr" => five && !expr.contains('L') && !expr.contains('W'),
                "zslayton/cron" => v["start_tz"].as_str() == Some("UTC"),
                _ => false,
            };
            if !ours {
                continue;
            }
            let schedule = CronSchedule::parse(expr).unwrap_or_else(|e| panic!("{source}: {e}"));
            if kind == "is_activation" {
                let at = naive(v["time"].as_str().unwrap_or_default());
                let fires = schedule.next_after(&(at - chrono::Duration::seconds(1))) == Some(at);
                assert_eq!(
                    fires,
                    v["expected"].as_bool().unwrap_or_default(),
                    "{expr} at {at}"
                );
            } else {
                let mut from = naive(v["start"].as_str().unwrap_or_default());
                for expected in v["expected_next"].as_array().into_iter().flatten() {
                    let next = schedule
                        .next_after(&from)
                        .unwrap_or_else(|| panic!("{expr}: no next"));
                    assert_eq!(
                        next,
                        naive(expected.as_str().unwrap_or_default()),
                        "{source} {expr} after {from}"
                    );
                    from = next;
                }
            }
            checked += 1;
        }
        assert!(checked >= 60, "only {checked} vectors checked");
    }
}
