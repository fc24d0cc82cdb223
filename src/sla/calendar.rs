//! Business time on a [`Calendar`]: opening hours per weekday in the calendar's timezone,
//! closed holidays, or open around the clock.
//!
//! Opening hours are wall-clock times, so on a daylight-saving change day an 09:00–18:00 window
//! is still 09:00–18:00 on the clock; a local time that does not exist (the spring gap) moves to
//! the first instant after the gap, and an ambiguous one (the autumn repeat) takes the earlier
//! instant. Durations are real elapsed time inside the open windows.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
};
use chrono_tz::Tz;

use crate::contracts::Calendar;

/// How far ahead the arithmetic looks before giving up (a calendar with no open day at all).
const HORIZON_DAYS: i64 = 366 * 3;

/// The UTC instant of a local wall-clock time.
fn instant(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(earlier, _) => earlier.with_timezone(&Utc),
        LocalResult::None => {
            // Inside a spring-forward gap: the first minute after it.
            let mut probe = local;
            for _ in 0..180 {
                probe += Duration::minutes(1);
                if let Some(t) = tz.from_local_datetime(&probe).earliest() {
                    return t.with_timezone(&Utc);
                }
            }
            Utc.from_utc_datetime(&local)
        }
    }
}

/// The open window of a local date, as UTC instants, if the day is open at all.
fn window(cal: &Calendar, date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    if cal.holidays.contains(&date) {
        return None;
    }
    let hours = cal.hours_on(date.weekday())?;
    let open = instant(cal.timezone, date.and_time(hours.open));
    let close = match hours.close {
        Some(close) => instant(cal.timezone, date.and_time(close)),
        None => instant(cal.timezone, date.succ_opt()?.and_time(NaiveTime::MIN)),
    };
    (close > open).then_some((open, close))
}

/// The instant `duration` of business time after `start`. `None` only for a calendar that is
/// never open within the horizon.
pub fn add_business_time(
    cal: &Calendar,
    start: DateTime<Utc>,
    duration: Duration,
) -> Option<DateTime<Utc>> {
    if cal.always_open {
        return Some(start + duration);
    }
    let mut remaining = duration;
    let first_day = start.with_timezone(&cal.timezone).date_naive();
    for offset in -1..HORIZON_DAYS {
        let date = first_day + Duration::days(offset);
        let Some((open, close)) = window(cal, date) else {
            continue;
        };
        let from = open.max(start);
        if from >= close {
            continue;
        }
        let available = close - from;
        if remaining <= available {
            return Some(from + remaining);
        }
        remaining -= available;
    }
    None
}

/// When the calendar is next open at or after `at`: `at` itself while it is open, `None` for a
/// calendar never open within the horizon.
pub fn next_opening(cal: &Calendar, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if cal.always_open {
        return Some(at);
    }
    let first_day = at.with_timezone(&cal.timezone).date_naive();
    (-1..HORIZON_DAYS)
        .filter_map(|offset| window(cal, first_day + Duration::days(offset)))
        .find(|(_, close)| *close > at)
        .map(|(open, _)| open.max(at))
}

/// Business time elapsed between `from` and `to` (zero if `to` is not after `from`).
pub fn business_time_between(cal: &Calendar, from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
    if to <= from {
        return Duration::zero();
    }
    if cal.always_open {
        return to - from;
    }
    let first = from.with_timezone(&cal.timezone).date_naive() - Duration::days(1);
    let last = to.with_timezone(&cal.timezone).date_naive();
    let mut total = Duration::zero();
    let mut date = first;
    while date <= last {
        if let Some((open, close)) = window(cal, date) {
            let (a, b) = (open.max(from), close.min(to));
            if b > a {
                total += b - a;
            }
        }
        let Some(next) = date.succ_opt() else { break };
        date = next;
    }
    total
}

#[cfg(test)]
mod tests;
