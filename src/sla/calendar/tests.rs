use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::*;
use crate::contracts::DayHours;

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default()
}

/// Monday–Friday 09:00–18:00 in `tz`, with the given holidays.
fn office(tz: Tz, holidays: &[(i32, u32, u32)]) -> Calendar {
    let mut hours = BTreeMap::new();
    for day in 0..5 {
        hours.insert(
            day,
            DayHours {
                open: hm(9, 0),
                close: Some(hm(18, 0)),
            },
        );
    }
    Calendar {
        timezone: tz,
        always_open: false,
        hours,
        holidays: holidays
            .iter()
            .filter_map(|(y, m, d)| NaiveDate::from_ymd_opt(*y, *m, *d))
            .collect(),
    }
}

fn every_day_all_day(tz: Tz) -> Calendar {
    let hours = (0..7)
        .map(|d| {
            (
                d,
                DayHours {
                    open: NaiveTime::MIN,
                    close: None,
                },
            )
        })
        .collect();
    Calendar {
        timezone: tz,
        always_open: false,
        hours,
        holidays: Vec::new(),
    }
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .unwrap_or_default()
}

fn local(tz: Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    tz.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

const MSK: Tz = chrono_tz::Europe::Moscow;
const BERLIN: Tz = chrono_tz::Europe::Berlin;

#[test]
fn within_one_day() {
    let cal = office(MSK, &[]);
    // Tuesday 2026-06-02 10:00 Moscow + 4h = 14:00.
    let start = local(MSK, 2026, 6, 2, 10, 0);
    assert_eq!(
        add_business_time(&cal, start, Duration::hours(4)),
        Some(local(MSK, 2026, 6, 2, 14, 0))
    );
}

#[test]
fn across_a_weekend() {
    let cal = office(MSK, &[]);
    // Friday 17:00 + 2h: one hour on Friday, one on Monday.
    let start = local(MSK, 2026, 6, 5, 17, 0);
    assert_eq!(
        add_business_time(&cal, start, Duration::hours(2)),
        Some(local(MSK, 2026, 6, 8, 10, 0))
    );
    // Started on Saturday: the clock starts on Monday morning.
    let saturday = local(MSK, 2026, 6, 6, 12, 0);
    assert_eq!(
        add_business_time(&cal, saturday, Duration::minutes(30)),
        Some(local(MSK, 2026, 6, 8, 9, 30))
    );
}

#[test]
fn holidays_are_closed() {
    // 2026-06-12 (Friday) is Russia Day.
    let cal = office(MSK, &[(2026, 6, 12)]);
    let start = local(MSK, 2026, 6, 11, 17, 0);
    assert_eq!(
        add_business_time(&cal, start, Duration::hours(2)),
        Some(local(MSK, 2026, 6, 15, 10, 0))
    );
    assert_eq!(
        business_time_between(
            &cal,
            local(MSK, 2026, 6, 11, 9, 0),
            local(MSK, 2026, 6, 15, 18, 0)
        ),
        Duration::hours(18)
    );
}

#[test]
fn before_opening_and_after_closing() {
    let cal = office(MSK, &[]);
    assert_eq!(
        add_business_time(&cal, local(MSK, 2026, 6, 2, 6, 0), Duration::hours(1)),
        Some(local(MSK, 2026, 6, 2, 10, 0))
    );
    assert_eq!(
        add_business_time(&cal, local(MSK, 2026, 6, 2, 23, 0), Duration::hours(1)),
        Some(local(MSK, 2026, 6, 3, 10, 0))
    );
}

#[test]
fn a_due_time_exactly_at_closing_stays_that_day() {
    let cal = office(MSK, &[]);
    let start = local(MSK, 2026, 6, 2, 9, 0);
    assert_eq!(
        add_business_time(&cal, start, Duration::hours(9)),
        Some(local(MSK, 2026, 6, 2, 18, 0))
    );
    assert_eq!(
        business_time_between(&cal, start, local(MSK, 2026, 6, 2, 18, 0)),
        Duration::hours(9)
    );
}

#[test]
fn midnight_and_timezone_offsets() {
    // Moscow is UTC+3: 23:30 UTC on Monday is already Tuesday 02:30 in Moscow.
    let cal = office(MSK, &[]);
    assert_eq!(
        add_business_time(&cal, utc(2026, 6, 1, 23, 30), Duration::hours(1)),
        Some(utc(2026, 6, 2, 7, 0))
    );
    // A 24:00 close means midnight: open all day, every day, 2h from 23:00 ends at 01:00.
    let all_day = every_day_all_day(MSK);
    assert_eq!(
        add_business_time(&all_day, local(MSK, 2026, 6, 2, 23, 0), Duration::hours(2)),
        Some(local(MSK, 2026, 6, 3, 1, 0))
    );
}

#[test]
fn daylight_saving_changes() {
    // Berlin springs forward on 2026-03-29 (02:00 → 03:00): that day has 23 hours.
    let all_day = every_day_all_day(BERLIN);
    let saturday_noon = local(BERLIN, 2026, 3, 28, 12, 0);
    let due = add_business_time(&all_day, saturday_noon, Duration::hours(24));
    assert_eq!(
        due,
        Some(local(BERLIN, 2026, 3, 29, 13, 0)),
        "24 real hours read 25 on the clock"
    );
    // Office hours keep their wall-clock times across the change.
    let cal = office(BERLIN, &[]);
    let friday = local(BERLIN, 2026, 3, 27, 17, 0);
    assert_eq!(
        add_business_time(&cal, friday, Duration::hours(2)),
        Some(local(BERLIN, 2026, 3, 30, 10, 0))
    );
    // Autumn: 2026-10-25 has 25 hours.
    let autumn = local(BERLIN, 2026, 10, 24, 12, 0);
    assert_eq!(
        add_business_time(&all_day, autumn, Duration::hours(24)),
        Some(local(BERLIN, 2026, 10, 25, 11, 0))
    );
    assert_eq!(
        business_time_between(&all_day, autumn, local(BERLIN, 2026, 10, 25, 12, 0)),
        Duration::hours(25)
    );
}

#[test]
fn always_open_is_plain_time() {
    let cal = Calendar {
        timezone: MSK,
        always_open: true,
        hours: BTreeMap::new(),
        holidays: Vec::new(),
    };
    let start = utc(2026, 6, 6, 12, 0);
    assert_eq!(
        add_business_time(&cal, start, Duration::minutes(5)),
        Some(utc(2026, 6, 6, 12, 5))
    );
    assert_eq!(
        business_time_between(&cal, start, utc(2026, 6, 7, 12, 0)),
        Duration::hours(24)
    );
}

#[test]
fn adding_and_measuring_agree() {
    let cal = office(BERLIN, &[(2026, 12, 25), (2026, 12, 26)]);
    let start = local(BERLIN, 2026, 12, 23, 15, 17);
    for minutes in [1, 59, 180, 540, 541, 2_000, 10_000] {
        let d = Duration::minutes(minutes);
        let due = add_business_time(&cal, start, d).unwrap_or(start);
        assert_eq!(business_time_between(&cal, start, due), d, "{minutes} min");
    }
}

#[test]
fn a_calendar_that_never_opens_gives_no_due_time() {
    let cal = Calendar {
        timezone: MSK,
        always_open: false,
        hours: BTreeMap::new(),
        holidays: Vec::new(),
    };
    assert_eq!(
        add_business_time(&cal, utc(2026, 6, 1, 0, 0), Duration::hours(1)),
        None
    );
}

#[test]
fn a_pause_over_a_weekend_and_a_holiday_keeps_the_time_left() {
    use crate::sla::{elapsed, shifted};
    // Due Friday 17:00 Moscow; paused Friday 16:00 with one business hour left.
    let due = local(MSK, 2026, 6, 5, 17, 0);
    let paused = local(MSK, 2026, 6, 5, 16, 0);
    // Resumed Monday 10:00: still one business hour left, so due at 11:00.
    let cal = office(MSK, &[]);
    let monday = local(MSK, 2026, 6, 8, 10, 0);
    let moved = shifted(&cal, due, paused, monday);
    assert_eq!(moved, Some(local(MSK, 2026, 6, 8, 11, 0)));
    // With Monday a holiday, resuming Tuesday 10:00 leaves the same hour.
    let with_holiday = office(MSK, &[(2026, 6, 8)]);
    let tuesday = local(MSK, 2026, 6, 9, 10, 0);
    assert_eq!(
        shifted(&with_holiday, due, paused, tuesday),
        Some(local(MSK, 2026, 6, 9, 11, 0))
    );
    // A pause entirely outside the hours (Saturday to Sunday) moves nothing.
    let saturday = local(MSK, 2026, 6, 6, 12, 0);
    let sunday = local(MSK, 2026, 6, 7, 12, 0);
    assert_eq!(shifted(&cal, due, saturday, sunday), Some(due));
    // A 4-hour target due Monday 11:00: stopped at 10:30 it ran 3.5 h, at 12:00 it ran 5 h.
    let due = moved.unwrap_or_default();
    assert_eq!(
        elapsed(
            &cal,
            Duration::hours(4),
            due,
            local(MSK, 2026, 6, 8, 10, 30)
        ),
        Duration::minutes(210)
    );
    assert_eq!(
        elapsed(&cal, Duration::hours(4), due, local(MSK, 2026, 6, 8, 12, 0)),
        Duration::hours(5)
    );
    // Stopped over the weekend after a Friday due time: only business hours count as late.
    assert_eq!(
        elapsed(
            &cal,
            Duration::hours(4),
            local(MSK, 2026, 6, 5, 17, 0),
            sunday
        ),
        Duration::hours(5)
    );
}
