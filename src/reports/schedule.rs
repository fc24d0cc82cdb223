//! When reports are due: each contract's `[reporting] schedule` and the gateway-wide one, read
//! in the scope's timezone. A due report covers everything since the previous one (or since
//! the contract came into force), up to the latest fire time that has passed — so a gateway
//! that was down through several fire times catches up with one report, not many.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::Serialize;

use super::{Period, ReportError, Request};
use crate::clock::from_db;
use crate::contracts::schedule::CronSchedule;
use crate::contracts::{ContractSet, Locale, ReportFormat};
use crate::db::AnyConnection;
use crate::db::schema::contract_versions;

/// The gateway-wide report's schedule (from the configuration).
#[derive(Debug, Clone)]
pub struct GatewaySchedule {
    /// When it runs.
    pub schedule: CronSchedule,
    /// The time zone it is read in (the gateway's report time zone).
    pub timezone: Tz,
    /// Its language.
    pub locale: Locale,
}

/// One scheduled report stream.
#[derive(Debug, Clone)]
pub struct Scheduled {
    /// A contract id, or `None` for the gateway-wide report.
    pub contract: Option<String>,
    /// When it runs.
    pub schedule: CronSchedule,
    /// The timezone the schedule is read in.
    pub timezone: Tz,
    /// Formats produced.
    pub formats: Vec<ReportFormat>,
    /// Language.
    pub locale: Locale,
}

impl Scheduled {
    /// The stored scope name.
    pub fn scope(&self) -> &str {
        self.contract.as_deref().unwrap_or("*")
    }
}

/// Every scheduled stream: one per contract in force, plus the gateway's when configured.
pub fn streams(contracts: &ContractSet, gateway: Option<&GatewaySchedule>) -> Vec<Scheduled> {
    let mut out: Vec<Scheduled> = contracts
        .in_rank_order()
        .map(|f| {
            let c = &f.contract;
            Scheduled {
                contract: Some(c.id.clone()),
                schedule: c.reporting.schedule.clone(),
                timezone: c.timezone,
                formats: c.reporting.formats.clone(),
                locale: c.reporting.locale,
            }
        })
        .collect();
    out.sort_by(|a, b| a.contract.cmp(&b.contract));
    if let Some(g) = gateway {
        out.push(Scheduled {
            contract: None,
            schedule: g.schedule.clone(),
            timezone: g.timezone,
            formats: vec![
                ReportFormat::Html,
                ReportFormat::Json,
                ReportFormat::Csv,
                ReportFormat::FiguresCsv,
            ],
            locale: g.locale,
        });
    }
    out
}

/// Fire times walked at most, so a minutely schedule after a year's outage still ends.
const MAX_FIRES: usize = 1_000_000;

/// The period due at `now` for a stream whose last report ended at `since`: up to the latest
/// fire time in `(since, now]`, or nothing when no fire time has passed.
pub fn due_period(
    schedule: &CronSchedule,
    timezone: Tz,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<Period> {
    let mut latest = None;
    let mut cursor = since.with_timezone(&timezone);
    for _ in 0..MAX_FIRES {
        match schedule.next_after(&cursor) {
            Some(fire) if fire.with_timezone(&Utc) <= now => {
                latest = Some(fire.with_timezone(&Utc));
                cursor = fire;
            }
            _ => break,
        }
    }
    latest.map(|to| Period { from: since, to })
}

/// Every scheduled stream: `{"items": [...]}`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScheduleList {
    /// The streams.
    pub items: Vec<StreamStatus>,
}

/// Where a stream stands.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StreamStatus {
    /// Contract id, or `*`.
    pub scope: String,
    /// The schedule as written.
    pub schedule: String,
    /// Its timezone.
    pub timezone: String,
    /// End of the last scheduled report, if any.
    pub last_period_end: Option<DateTime<Utc>>,
    /// Start of the next report's period.
    pub next_period_start: DateTime<Utc>,
    /// The next time it runs (UTC); a period already due runs at the next check.
    pub next_run: Option<DateTime<Utc>>,
}

/// Where the next report of `stream` starts: the end of its last scheduled report, or when its
/// contract (any contract, for the gateway) first came into force, or `now` if none did.
pub fn next_start(
    conn: &mut AnyConnection,
    stream: &Scheduled,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, ReportError> {
    if let Some(end) = super::last_scheduled_end(conn, stream.scope())? {
        return Ok(end);
    }
    let mut query = contract_versions::table
        .select(diesel::dsl::min(contract_versions::applied_at))
        .into_boxed();
    if let Some(id) = &stream.contract {
        query = query.filter(contract_versions::contract_id.eq(id.clone()));
    }
    let first: Option<chrono::NaiveDateTime> = query.first(conn)?;
    Ok(first.map_or(now, from_db))
}

/// The status of every stream at `now`.
pub fn status(
    conn: &mut AnyConnection,
    streams: &[Scheduled],
    now: DateTime<Utc>,
) -> Result<Vec<StreamStatus>, ReportError> {
    streams
        .iter()
        .map(|s| {
            let start = next_start(conn, s, now)?;
            let next_run = match due_period(&s.schedule, s.timezone, start, now) {
                Some(_) => Some(now),
                None => s
                    .schedule
                    .next_after(&now.with_timezone(&s.timezone))
                    .map(|t| t.with_timezone(&Utc)),
            };
            Ok(StreamStatus {
                scope: s.scope().to_owned(),
                schedule: s.schedule.expression.clone(),
                timezone: s.timezone.name().to_owned(),
                last_period_end: super::last_scheduled_end(conn, s.scope())?,
                next_period_start: start,
                next_run,
            })
        })
        .collect()
}

/// The request a due stream makes at `now`, if one is due.
pub fn due_request(
    conn: &mut AnyConnection,
    stream: &Scheduled,
    now: DateTime<Utc>,
) -> Result<Option<Request>, ReportError> {
    let start = next_start(conn, stream, now)?;
    Ok(
        due_period(&stream.schedule, stream.timezone, start, now).map(|period| Request {
            contract: stream.contract.clone(),
            period,
            formats: stream.formats.clone(),
            locale: Some(stream.locale),
            trigger: "schedule",
            requested_by: "system:schedule".into(),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn weekly() -> CronSchedule {
        // Mondays at 06:00.
        CronSchedule::parse("0 6 * * 1").unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn nothing_is_due_before_the_first_fire_time() {
        // Tuesday 2026-06-02 10:00 to Sunday 2026-06-07 23:00.
        assert_eq!(
            due_period(&weekly(), Tz::UTC, at(2026, 6, 2, 10), at(2026, 6, 7, 23)),
            None
        );
    }

    #[test]
    fn missed_fire_times_make_one_period_up_to_the_latest() {
        // Down from Tuesday 2 June until Wednesday 24 June: Mondays 8, 15 and 22 passed.
        let period = due_period(&weekly(), Tz::UTC, at(2026, 6, 2, 10), at(2026, 6, 24, 9));
        assert_eq!(
            period,
            Some(Period {
                from: at(2026, 6, 2, 10),
                to: at(2026, 6, 22, 6)
            })
        );
    }

    #[test]
    fn the_schedule_is_read_in_the_scope_timezone() {
        // 06:00 in Moscow is 03:00 UTC.
        let period = due_period(
            &weekly(),
            chrono_tz::Europe::Moscow,
            at(2026, 6, 2, 10),
            at(2026, 6, 8, 4),
        );
        assert_eq!(period.map(|p| p.to), Some(at(2026, 6, 8, 3)));
        // And an instant before it is not due yet.
        assert_eq!(
            due_period(
                &weekly(),
                chrono_tz::Europe::Moscow,
                at(2026, 6, 2, 10),
                at(2026, 6, 8, 2)
            ),
            None
        );
    }
}
