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

/// The longest period a report may cover, in days (about a hundred years). A report has a row per
/// day; a period of millennia made a single report hundreds of megabytes (found by fuzzing).
pub const MAX_PERIOD_DAYS: i64 = 36_600;

impl Period {
    /// A period, refusing an empty or reversed one, or one longer than [`MAX_PERIOD_DAYS`].
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Self, ReportError> {
        if to <= from {
            return Err(ReportError::Invalid {
                field: "to",
                message: "must be after `from`".into(),
            });
        }
        if to - from > chrono::Duration::days(MAX_PERIOD_DAYS) {
            return Err(ReportError::Invalid {
                field: "to",
                message: format!(
                    "a report covers at most {MAX_PERIOD_DAYS} days (about a hundred years); split a longer period"
                ),
            });
        }
        Ok(Self { from, to })
    }
}

/// One end of a period as people write it: an instant (`2026-11-29T09:00:00+03:00`) or a date
/// (`2026-11-29`), which means 00:00 of that day in the gateway's report time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// An RFC 3339 instant.
    Instant(DateTime<Utc>),
    /// A calendar date.
    Date(chrono::NaiveDate),
}

impl Bound {
    /// What a bound may look like, for problems and help texts.
    pub const EXPECTED: &'static str = "an RFC 3339 instant (2026-11-29T09:00:00Z) or a date (2026-11-29, 00:00 in the report time zone)";

    /// The instant this bound stands for in `zone`. A date whose midnight a clock change
    /// skips (`America/Santiago` in September) starts at the first instant the day has.
    pub fn resolve(self, zone: chrono_tz::Tz) -> DateTime<Utc> {
        use chrono::TimeZone;
        match self {
            Self::Instant(at) => at,
            Self::Date(day) => {
                let midnight = day.and_time(chrono::NaiveTime::MIN);
                // Clock changes move by at most a few hours; the day begins within them.
                (0..=24 * 4)
                    .find_map(|quarter| {
                        zone.from_local_datetime(
                            &(midnight + chrono::Duration::minutes(15 * quarter)),
                        )
                        .earliest()
                    })
                    .map_or_else(|| midnight.and_utc(), |at| at.with_timezone(&Utc))
            }
        }
    }
}

impl std::str::FromStr for Bound {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if let Ok(at) = DateTime::parse_from_rfc3339(text) {
            return Ok(Self::Instant(at.with_timezone(&Utc)));
        }
        text.parse::<chrono::NaiveDate>()
            .map(Self::Date)
            .map_err(|_| format!("expected {}", Self::EXPECTED))
    }
}

impl utoipa::PartialSchema for Bound {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{
            KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type,
        };
        let string = |format| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(format)))
        };
        OneOfBuilder::new()
            .item(string(KnownFormat::DateTime))
            .item(string(KnownFormat::Date))
            .description(Some(format!("One end of a period: {}.", Self::EXPECTED)))
            .examples(["2026-11-29", "2026-11-29T09:00:00+03:00"])
            .into()
    }
}

impl utoipa::ToSchema for Bound {}

impl<'de> serde::Deserialize<'de> for Bound {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        // The value is not repeated: a mistyped field may hold anything.
        text.parse().map_err(|_| {
            serde::de::Error::invalid_value(serde::de::Unexpected::Other("text"), &Self::EXPECTED)
        })
    }
}

impl Period {
    /// The period between two bounds read in `zone`.
    pub fn between(from: Bound, to: Bound, zone: chrono_tz::Tz) -> Result<Self, ReportError> {
        Self::new(from.resolve(zone), to.resolve(zone))
    }
}

/// The formats a report on demand is produced in: those asked for, else the contract's, else
/// HTML and JSON for the gateway-wide report.
pub fn formats_for(
    contracts: &ContractSet,
    contract: Option<&str>,
    asked: Option<Vec<ReportFormat>>,
) -> Result<Vec<ReportFormat>, ReportError> {
    match (asked, contract) {
        (Some(asked), _) if asked.is_empty() => Err(ReportError::Invalid {
            field: "formats",
            message: "name at least one format".into(),
        }),
        (Some(asked), _) => Ok(asked),
        (None, Some(id)) => contracts
            .get(id)
            .map(|file| file.contract.reporting.formats.clone())
            .ok_or(ReportError::NotFound),
        (None, None) => Ok(vec![ReportFormat::Html, ReportFormat::Json]),
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

/// Stored reports, as listed and as just produced: `{"items": [...]}`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportList {
    /// The reports.
    pub items: Vec<ReportMeta>,
}

/// A stored report without its content.
#[derive(Debug, Clone, Serialize, Queryable, Selectable, utoipa::ToSchema)]
#[diesel(table_name = reports)]
pub struct ReportMeta {
    /// Id.
    #[diesel(deserialize_as = i64)]
    pub id: crate::ids::ReportId,
    /// Contract id, or `*`.
    pub scope: String,
    /// Period start.
    #[serde(serialize_with = "utc")]
    #[schema(value_type = chrono::DateTime<Utc>)]
    pub period_from: chrono::NaiveDateTime,
    /// Period end (exclusive).
    #[serde(serialize_with = "utc")]
    #[schema(value_type = chrono::DateTime<Utc>)]
    pub period_to: chrono::NaiveDateTime,
    /// `html`, `json`, `csv` or `figures_csv`.
    #[schema(pattern = "^(html|json|csv|figures_csv)$")]
    pub format: String,
    /// `en` or `ru`.
    #[schema(pattern = "^(en|ru)$")]
    pub locale: String,
    /// `schedule` or `demand`.
    #[schema(pattern = "^(schedule|demand)$")]
    pub trigger: String,
    /// Who asked.
    pub requested_by: String,
    /// Hex sha256 of the content.
    pub sha256: String,
    /// When stored.
    #[serde(serialize_with = "utc")]
    #[schema(value_type = chrono::DateTime<Utc>)]
    pub created_at: chrono::NaiveDateTime,
}

fn utc<S: serde::Serializer>(at: &chrono::NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&from_db(*at).to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// A contract's register and its findings: what the contract lets happen, and what happened in
/// the period (replies, downloads), measured against what the register allows.
fn register_entry(
    contract: &crate::contracts::Contract,
    acts: &std::collections::BTreeMap<String, (u64, u64)>,
) -> data::RegisterEntry {
    use crate::contracts::ProcessingAction as Act;
    let mut findings = Vec::new();
    if let Some(register) = &contract.processing {
        let (replies, downloads) = acts.get(&contract.id).copied().unwrap_or_default();
        let allows = |act| register.actions.contains(&act);
        let kept = u64::from(contract.confidentiality.retention_days);
        for (code, count, allowed) in [
            ("replies_not_allowed", replies, allows(Act::Reply)),
            ("downloads_not_allowed", downloads, allows(Act::Download)),
            ("storage_not_allowed", kept, allows(Act::Store)),
        ] {
            if count > 0 && !allowed {
                findings.push(data::Finding { code, count });
            }
        }
        if allows(Act::Store) && kept > u64::from(register.retention_days) {
            findings.push(data::Finding {
                code: "kept_longer_than_register",
                count: kept,
            });
        }
    }
    data::RegisterEntry {
        contract: contract.id.clone(),
        register: contract.processing.clone(),
        findings,
    }
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
    let mut data = data::compute(conn, scope, &ids, request.period, timezone)?;
    data.processing = ids
        .iter()
        .filter_map(|id| contracts.get(id))
        .map(|file| register_entry(&file.contract, &data.acts))
        .collect();
    data.erasures = crate::subjects::notices::notices_for_report(
        conn,
        &ids,
        request.period.from,
        request.period.to,
    )
    .map_err(|e| match e {
        crate::subjects::SubjectError::Db(e) => ReportError::Db(e),
        other => ReportError::Template(other.to_string()),
    })?;
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

/// Produces and stores the report `request` asks for; returns what was stored. Its data are
/// read and rendered in a read transaction and only the result is written, in one short write
/// transaction: rendering a long period takes a while, and holding the single writer meanwhile
/// would make every other write wait (found by fuzzing: a report over all data in a debug
/// build held it four seconds, and ingests timed out behind it).
pub fn produce(
    db: &crate::db::Db,
    contracts: &ContractSet,
    renderer: &Renderer,
    request: &Request,
    now: DateTime<Utc>,
) -> Result<Vec<ReportMeta>, ReportError> {
    crate::ledger::seal_committed(db)?;
    let rendered = db.read(|c| render(c, contracts, renderer, request))?;
    db.write(|c| store(c, request, &rendered, now))
}

/// [`produce`] on a blocking thread: how the API and the console run a report.
pub async fn produce_async(
    db: &crate::db::Db,
    contracts: std::sync::Arc<ContractSet>,
    renderer: std::sync::Arc<Renderer>,
    request: Request,
    now: DateTime<Utc>,
) -> Result<Vec<ReportMeta>, ReportError> {
    db.run_blocking(move |db| produce(db, &contracts, &renderer, &request, now))
        .await
}

/// Stores rendered reports; a scheduled period already stored (by another replica) is skipped.
fn store(
    conn: &mut AnyConnection,
    request: &Request,
    rendered: &[(ReportFormat, Locale, String)],
    now: DateTime<Utc>,
) -> Result<Vec<ReportMeta>, ReportError> {
    let scope = request.contract.clone().unwrap_or_else(|| "*".to_owned());
    let mut stored = Vec::new();
    for (format, locale, content) in rendered {
        let format_name = format_name(*format);
        if request.trigger == "schedule" && exists(conn, &scope, request.period, format_name)? {
            continue;
        }
        let meta = diesel::insert_into(reports::table)
            .values((
                reports::scope.eq(&scope),
                reports::period_from.eq(to_db(request.period.from)),
                reports::period_to.eq(to_db(request.period.to)),
                reports::format.eq(format_name),
                reports::locale.eq(locale.as_str()),
                reports::trigger.eq(request.trigger),
                reports::requested_by.eq(&request.requested_by),
                reports::sha256.eq(sha256_hex(content)),
                reports::content.eq(content),
                reports::created_at.eq(to_db(now)),
            ))
            .returning(reports::id)
            .get_result::<i64>(conn)?;
        let meta = get(conn, meta.into())?.0;
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
        ReportFormat::FiguresCsv => "figures_csv",
    }
}

/// The JSON format of a report (`docs/report-v1.schema.json`), standing for it in the OpenAPI
/// document: the schema file is the one source, its `$defs` become `Report…` components so
/// that every reference resolves inside the document.
pub struct ReportDocument;

impl ReportDocument {
    /// The schema file without its JSON Schema framing, with its definitions apart.
    fn parts() -> (
        serde_json::Value,
        serde_json::Map<String, serde_json::Value>,
    ) {
        let mut schema: serde_json::Value =
            serde_json::from_str(include_str!("../../docs/report-v1.schema.json"))
                .unwrap_or_default();
        point_refs_at_components(&mut schema);
        let defs = schema
            .as_object_mut()
            .and_then(|o| {
                o.remove("$schema");
                o.remove("$id");
                o.remove("$defs")
            })
            .and_then(|d| d.as_object().cloned())
            .unwrap_or_default();
        (schema, defs)
    }
}

/// Rewrites every `"$ref": "#/$defs/x"` below `value` to the component `x` becomes.
fn point_refs_at_components(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(o) => {
            if let Some(serde_json::Value::String(r)) = o.get_mut("$ref")
                && let Some(def) = r.strip_prefix("#/$defs/")
            {
                *r = format!("#/components/schemas/{}", component_name(def));
            }
            o.values_mut().for_each(point_refs_at_components);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(point_refs_at_components),
        _ => {}
    }
}

/// A component name for a `$defs` key: `action_count` → `ReportActionCount`.
fn component_name(def: &str) -> String {
    let mut name = String::from("Report");
    for part in def.split('_') {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            name.extend(first.to_uppercase());
            name.push_str(chars.as_str());
        }
    }
    name
}

impl utoipa::PartialSchema for ReportDocument {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        serde_json::from_value(Self::parts().0).unwrap_or_default()
    }
}

impl utoipa::ToSchema for ReportDocument {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        for (def, schema) in Self::parts().1 {
            schemas.push((
                component_name(&def),
                serde_json::from_value(schema).unwrap_or_default(),
            ));
        }
    }
}

/// The file a stored report is written to: `report-<id>.<html|json|csv>`, and
/// `report-<id>.figures.csv` for the figures.
pub fn file_name(id: i64, format: &str) -> String {
    match format {
        "figures_csv" => format!("report-{id}.figures.csv"),
        other => format!("report-{id}.{other}"),
    }
}

/// The media type a stored report is served with.
pub fn media_type(format: &str) -> &'static str {
    match format {
        "html" => "text/html; charset=utf-8",
        "csv" | "figures_csv" => "text/csv; charset=utf-8",
        _ => "application/json",
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
pub fn get(
    conn: &mut AnyConnection,
    id: crate::ids::ReportId,
) -> Result<(ReportMeta, String), ReportError> {
    reports::table
        .find(id.get())
        .select((ReportMeta::as_select(), reports::content))
        .first(conn)
        .optional()?
        .ok_or(ReportError::NotFound)
}

/// Report `id`, or — when `format` names another — the same report (scope, period, trigger,
/// time stored) in that format.
pub fn get_as(
    conn: &mut AnyConnection,
    id: crate::ids::ReportId,
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
    get(conn, sibling.into())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The OpenAPI document carries the report's schema file without losing a keyword (utoipa
    /// drops what it does not model, such as `const`), and names every definition.
    #[test]
    fn the_report_schema_reaches_the_api_document_whole() {
        use utoipa::{PartialSchema, ToSchema};
        let (schema, defs) = ReportDocument::parts();
        assert_eq!(
            serde_json::to_value(ReportDocument::schema()).ok(),
            Some(schema.clone())
        );
        let mut components = Vec::new();
        ReportDocument::schemas(&mut components);
        assert_eq!(components.len(), defs.len());
        assert!(!defs.is_empty());
        for (name, component) in components {
            let def = defs
                .iter()
                .find(|(def, _)| component_name(def) == name)
                .map(|(_, d)| d.clone());
            assert_eq!(serde_json::to_value(component).ok(), def, "{name}");
        }
        assert_eq!(component_name("action_count"), "ReportActionCount");
        assert!(!schema.to_string().contains("#/$defs/"));
    }
    use chrono::TimeZone;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|at| at.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn a_bound_is_an_instant_or_a_day_in_the_report_time_zone() {
        let moscow = chrono_tz::Europe::Moscow;
        let instant: Bound = "2026-11-29T09:00:00+03:00"
            .parse()
            .unwrap_or(Bound::Instant(Utc::now()));
        assert_eq!(instant.resolve(moscow), utc("2026-11-29T06:00:00Z"));
        let day: Result<Bound, _> = "2026-11-29".parse();
        assert_eq!(
            day,
            Ok(Bound::Date(
                chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap_or_default()
            ))
        );
        let day = day.unwrap_or(Bound::Instant(Utc::now()));
        assert_eq!(day.resolve(chrono_tz::UTC), utc("2026-11-29T00:00:00Z"));
        assert_eq!(day.resolve(moscow), utc("2026-11-28T21:00:00Z"));
        assert_eq!(
            day.resolve(chrono_tz::America::New_York),
            utc("2026-11-29T05:00:00Z")
        );
        // Chile moves its clocks from 00:00 to 01:00 on 2026-09-06: that day starts at 01:00.
        let santiago = chrono_tz::America::Santiago;
        let skipped: Bound = "2026-09-06".parse().unwrap_or(Bound::Instant(Utc::now()));
        let start = skipped.resolve(santiago);
        assert_eq!(
            start,
            santiago
                .with_ymd_and_hms(2026, 9, 6, 1, 0, 0)
                .single()
                .map(|at| at.with_timezone(&Utc))
                .unwrap_or_default()
        );
        assert_eq!(start, utc("2026-09-06T04:00:00Z"));
    }

    #[test]
    fn formats_on_demand_are_those_asked_then_the_contracts_then_html_and_json() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/contracts");
        let set = ContractSet::new(
            crate::contracts::load_dir(std::path::Path::new(dir)).unwrap_or_default(),
        );
        let acme = set
            .get("acme-en")
            .map(|f| f.contract.reporting.formats.clone())
            .unwrap_or_default();
        assert!(!acme.is_empty());
        assert_eq!(formats_for(&set, Some("acme-en"), None).ok(), Some(acme));
        assert_eq!(
            formats_for(&set, Some("acme-en"), Some(vec![ReportFormat::Csv])).ok(),
            Some(vec![ReportFormat::Csv])
        );
        assert_eq!(
            formats_for(&set, None, None).ok(),
            Some(vec![ReportFormat::Html, ReportFormat::Json])
        );
        assert!(matches!(
            formats_for(&set, Some("nope"), None),
            Err(ReportError::NotFound)
        ));
        assert!(matches!(
            formats_for(&set, None, Some(Vec::new())),
            Err(ReportError::Invalid {
                field: "formats",
                ..
            })
        ));
    }

    #[test]
    fn a_bad_bound_says_which_forms_are_expected_without_repeating_itself() {
        for bad in ["29.11.2026", "2026-02-30", "", "2026-11-29 10:00", "now"] {
            let refused = bad.parse::<Bound>();
            assert_eq!(
                refused,
                Err(format!("expected {}", Bound::EXPECTED)),
                "{bad}"
            );
            let from_json = serde_json::from_value::<Bound>(serde_json::json!(bad))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(from_json.contains(Bound::EXPECTED), "{from_json}");
            assert!(bad.is_empty() || !from_json.contains(bad), "{from_json}");
        }
        let period = Period::between(
            Bound::Date(chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap_or_default()),
            Bound::Date(chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap_or_default()),
            chrono_tz::UTC,
        );
        assert!(matches!(
            period,
            Err(ReportError::Invalid { field: "to", .. })
        ));
        let day =
            |y, m, d| Bound::Date(chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default());
        let ten_years = Period::between(day(2016, 1, 1), day(2026, 1, 8), chrono_tz::UTC);
        assert!(ten_years.is_ok(), "{ten_years:?}");
        let millennia = Period::between(day(533, 9, 25), day(6765, 11, 13), chrono_tz::UTC);
        assert!(
            matches!(&millennia, Err(ReportError::Invalid { field: "to", message }) if message.contains("36600 days")),
            "{millennia:?}"
        );
    }
}
