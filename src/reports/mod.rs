//! Compliance reports: for a contract (or the whole gateway) and a period, what personal data
//! went to whom, what was withheld, who looked, and how the SLA was met — computed from the
//! ledger, rendered from templates, stored with its sha256.

pub mod data;
pub mod render;
pub mod schedule;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use crate::clock::{from_db, to_db};
use crate::contracts::{ContractSet, Locale, ReportFormat, sha256_hex};
use crate::db::schema::reports;
use crate::db::{AnyConnection, DbError};
pub use data::ReportData;
pub use render::Renderer;

/// What can go wrong with a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A request field is not acceptable.
    #[error("{field}: {message}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// No such report or contract.
    #[error("not found")]
    NotFound,
    /// A template does not load or render.
    #[error("report template: {0}")]
    Template(String),
    /// The SLA figures could not be computed.
    #[error(transparent)]
    Sla(#[from] crate::tickets::TicketError),
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for ReportError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(DbError::Query(e))
    }
}

/// A half-open period `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    /// First instant covered.
    pub from: DateTime<Utc>,
    /// First instant not covered.
    pub to: DateTime<Utc>,
}

impl Period {
    /// A period, refusing an empty or reversed one.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Self, ReportError> {
        if to <= from {
            return Err(ReportError::Invalid {
                field: "to",
                message: "must be after `from`".into(),
            });
        }
        Ok(Self { from, to })
    }
}

/// What to report on.
#[derive(Debug, Clone)]
pub struct Request {
    /// A contract id, or `None` for the whole gateway.
    pub contract: Option<String>,
    /// The period.
    pub period: Period,
    /// Formats to produce.
    pub formats: Vec<ReportFormat>,
    /// Language; the contract's when not given.
    pub locale: Option<Locale>,
    /// `schedule` or `demand`.
    pub trigger: &'static str,
    /// Who asked (`system:schedule` for the scheduler).
    pub requested_by: String,
}

/// A stored report without its content.
#[derive(Debug, Clone, Serialize, Queryable, Selectable)]
#[diesel(table_name = reports)]
pub struct ReportMeta {
    /// Id.
    pub id: i64,
    /// Contract id, or `*`.
    pub scope: String,
    /// Period start.
    #[serde(serialize_with = "utc")]
    pub period_from: chrono::NaiveDateTime,
    /// Period end (exclusive).
    #[serde(serialize_with = "utc")]
    pub period_to: chrono::NaiveDateTime,
    /// `html`, `json` or `csv`.
    pub format: String,
    /// `en` or `ru`.
    pub locale: String,
    /// `schedule` or `demand`.
    pub trigger: String,
    /// Who asked.
    pub requested_by: String,
    /// Hex sha256 of the content.
    pub sha256: String,
    /// When stored.
    #[serde(serialize_with = "utc")]
    pub created_at: chrono::NaiveDateTime,
}

fn utc<S: serde::Serializer>(at: &chrono::NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&from_db(*at).to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// Computes a report's data and renders each requested format; nothing is stored.
pub fn render(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    renderer: &Renderer,
    request: &Request,
) -> Result<Vec<(ReportFormat, Locale, String)>, ReportError> {
    let (scope, ids, timezone, locale, template) = match &request.contract {
        Some(id) => {
            let file = contracts.get(id).ok_or(ReportError::NotFound)?;
            let c = &file.contract;
            (
                Some((c.id.as_str(), c.contractor.as_str())),
                vec![c.id.clone()],
                c.timezone,
                request.locale.unwrap_or(c.reporting.locale),
                c.reporting.template.clone(),
            )
        }
        None => (
            None,
            contracts
                .in_rank_order()
                .map(|f| f.contract.id.clone())
                .collect::<Vec<_>>(),
            chrono_tz::Tz::UTC,
            request.locale.unwrap_or(Locale::En),
            "default".to_owned(),
        ),
    };
    let mut ids = ids;
    ids.sort();
    let data = data::compute(conn, scope, &ids, request.period, timezone)?;
    request
        .formats
        .iter()
        .map(|&format| {
            renderer
                .render(&data, format, locale, &template)
                .map(|content| (format, locale, content))
        })
        .collect()
}

/// Computes, renders and stores a report in every requested format; returns what was stored.
/// A scheduled period already stored (by this or another replica) is not stored again.
pub fn produce(
    conn: &mut AnyConnection,
    contracts: &ContractSet,
    renderer: &Renderer,
    request: &Request,
    now: DateTime<Utc>,
) -> Result<Vec<ReportMeta>, ReportError> {
    let scope = request.contract.clone().unwrap_or_else(|| "*".to_owned());
    let mut stored = Vec::new();
    for (format, locale, content) in render(conn, contracts, renderer, request)? {
        let format_name = format_name(format);
        if request.trigger == "schedule" && exists(conn, &scope, request.period, format_name)? {
            continue;
        }
        let meta = diesel::insert_into(reports::table)
            .values((
                reports::scope.eq(&scope),
                reports::period_from.eq(to_db(request.period.from)),
                reports::period_to.eq(to_db(request.period.to)),
                reports::format.eq(format_name),
                reports::locale.eq(locale_name(locale)),
                reports::trigger.eq(request.trigger),
                reports::requested_by.eq(&request.requested_by),
                reports::sha256.eq(sha256_hex(&content)),
                reports::content.eq(&content),
                reports::created_at.eq(to_db(now)),
            ))
            .returning(reports::id)
            .get_result::<i64>(conn)?;
        let meta = get(conn, meta)?.0;
        stored.push(meta);
    }
    Ok(stored)
}

fn exists(
    conn: &mut AnyConnection,
    scope: &str,
    period: Period,
    format: &str,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        reports::table
            .filter(reports::scope.eq(scope))
            .filter(reports::period_from.eq(to_db(period.from)))
            .filter(reports::period_to.eq(to_db(period.to)))
            .filter(reports::format.eq(format))
            .filter(reports::trigger.eq("schedule")),
    ))
    .get_result(conn)
}

/// The lower-case name of a format.
pub fn format_name(format: ReportFormat) -> &'static str {
    match format {
        ReportFormat::Html => "html",
        ReportFormat::Json => "json",
        ReportFormat::Csv => "csv",
    }
}

/// The media type a stored report is served with.
pub fn media_type(format: &str) -> &'static str {
    match format {
        "html" => "text/html; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        _ => "application/json",
    }
}

fn locale_name(locale: Locale) -> &'static str {
    match locale {
        Locale::En => "en",
        Locale::Ru => "ru",
    }
}

/// Stored reports, newest first, optionally of one scope; at most `limit`, before id `before`.
pub fn list(
    conn: &mut AnyConnection,
    scope: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<ReportMeta>> {
    let mut query = reports::table
        .order(reports::id.desc())
        .limit(limit)
        .select(ReportMeta::as_select())
        .into_boxed();
    if let Some(scope) = scope {
        query = query.filter(reports::scope.eq(scope.to_owned()));
    }
    if let Some(before) = before {
        query = query.filter(reports::id.lt(before));
    }
    query.load(conn)
}

/// One stored report and its content.
pub fn get(conn: &mut AnyConnection, id: i64) -> Result<(ReportMeta, String), ReportError> {
    reports::table
        .find(id)
        .select((ReportMeta::as_select(), reports::content))
        .first(conn)
        .optional()?
        .ok_or(ReportError::NotFound)
}

/// Report `id`, or — when `format` names another — the same report (scope, period, trigger,
/// time stored) in that format.
pub fn get_as(
    conn: &mut AnyConnection,
    id: i64,
    format: Option<&str>,
) -> Result<(ReportMeta, String), ReportError> {
    let (meta, content) = get(conn, id)?;
    let Some(format) = format.filter(|f| *f != meta.format) else {
        return Ok((meta, content));
    };
    let sibling: i64 = reports::table
        .filter(reports::scope.eq(&meta.scope))
        .filter(reports::period_from.eq(meta.period_from))
        .filter(reports::period_to.eq(meta.period_to))
        .filter(reports::trigger.eq(&meta.trigger))
        .filter(reports::created_at.eq(meta.created_at))
        .filter(reports::format.eq(format))
        .select(reports::id)
        .first(conn)
        .optional()?
        .ok_or(ReportError::NotFound)?;
    get(conn, sibling)
}

/// The end of the last scheduled period stored for `scope`.
pub fn last_scheduled_end(
    conn: &mut AnyConnection,
    scope: &str,
) -> QueryResult<Option<DateTime<Utc>>> {
    let end: Option<chrono::NaiveDateTime> = reports::table
        .filter(reports::scope.eq(scope))
        .filter(reports::trigger.eq("schedule"))
        .select(diesel::dsl::max(reports::period_to))
        .first(conn)?;
    Ok(end.map(from_db))
}
